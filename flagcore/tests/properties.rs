//! Properties of bucketing and evaluation that must hold for every input, checked with
//! proptest, plus a chi-square test of bucket uniformity.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flagcore::{bucket, EvaluationContext, Reason, Store, Value};
use proptest::prelude::*;

fn rollout_snapshot(version: u64, salt: &str, on_units: u32) -> String {
    let on = f64::from(on_units) / 1000.0;
    let off = f64::from(100_000 - on_units) / 1000.0;
    format!(
        r#"{{"version": {version}, "flags": {{
            "canary": {{"variants": {{"on": true, "off": false}}, "enabled": true,
                "off_variant": "off", "salt": "{salt}",
                "fallthrough": {{"rollout": {{"split": [
                    {{"variant": "on", "weight": {on}}}, {{"variant": "off", "weight": {off}}}]}}}}}},
            "twin": {{"variants": {{"a": "a", "b": "b"}}, "enabled": true,
                "off_variant": "a", "salt": "{salt}",
                "fallthrough": {{"rollout": {{"split": [
                    {{"variant": "a", "weight": 50}}, {{"variant": "b", "weight": 50}}]}}}}}}}}}}"#
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A canary only grows: raising the first variant's weight never turns a user off.
    #[test]
    fn growing_a_rollout_never_moves_a_user_out(
        salt in "[a-z-]{1,12}",
        small in 0u32..=100_000,
        extra in 0u32..=100_000,
        keys in prop::collection::vec("[a-zA-Z0-9@.-]{0,24}", 1..40),
    ) {
        let large = (small + extra).min(100_000);
        let before = Store::from_bytes(rollout_snapshot(1, &salt, small).as_bytes()).unwrap();
        let after = Store::from_bytes(rollout_snapshot(1, &salt, large).as_bytes()).unwrap();
        for key in &keys {
            let ctx = EvaluationContext::new(key);
            if before.bool("canary", &ctx, false) {
                prop_assert!(after.bool("canary", &ctx, false), "{key} left the canary");
            }
        }
    }

    /// Two flags that share a salt put every key in the same bucket.
    #[test]
    fn a_shared_salt_buckets_identically(
        salt in "[a-z-]{1,12}",
        key in "\\PC{0,30}",
        units in 0u32..=100_000,
    ) {
        let store = Store::from_bytes(rollout_snapshot(1, &salt, units).as_bytes()).unwrap();
        let ctx = EvaluationContext::new(&key);
        let view = store.snapshot();
        let canary = view.bool_details("canary", &ctx, false);
        let twin = view.string_details("twin", &ctx, "");
        prop_assert_eq!(canary.bucket, twin.bucket);
        prop_assert_eq!(canary.bucket, Some(bucket(&salt, &key)));
        prop_assert_eq!(canary.reason, Reason::Split);
    }

    /// The same question always gets the same answer.
    #[test]
    fn evaluation_is_deterministic(
        key in "\\PC{0,20}",
        plan in "[a-z]{0,6}",
        age in any::<i64>(),
    ) {
        let store = Store::from_bytes(rollout_snapshot(1, "s", 50_000).as_bytes()).unwrap();
        let attrs = [("plan", Value::from(plan.as_str())), ("age", Value::Int(age))];
        let ctx = EvaluationContext::new(&key).with_attributes(&attrs);
        let view = store.snapshot();
        let first = view.bool_details("canary", &ctx, false);
        for _ in 0..3 {
            prop_assert_eq!(view.bool_details("canary", &ctx, false), first);
        }
    }

    /// Whatever the document, validation answers (accepts or lists errors) without panicking.
    #[test]
    fn validation_never_panics(doc in snapshot_like()) {
        let _ = flagcore::validate(doc.as_bytes());
    }

    /// Random bytes are refused as a syntax error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = flagcore::validate(&bytes);
    }
}

/// JSON documents shaped like snapshots, with wrong types and names mixed in.
fn snapshot_like() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        (-200i64..200).prop_map(|i| i.to_string()),
        (-200.0f64..200.0).prop_map(|f| format!("{f}")),
        prop::sample::select(vec![
            "\"on\"",
            "\"off\"",
            "\"key\"",
            "\"eq\"",
            "\"in_segment\"",
            "\"s\"",
            "\"f\"",
            "\"1.2.3\"",
            "\"2024-01-01T00:00:00Z\"",
            "\"(a\"",
            "\"matches\"",
            "\"semver_gte\"",
        ])
        .prop_map(str::to_owned),
    ];
    let names = prop::sample::select(vec![
        "version",
        "flags",
        "segments",
        "variants",
        "enabled",
        "off_variant",
        "fallthrough",
        "rules",
        "conditions",
        "serve",
        "variant",
        "rollout",
        "split",
        "weight",
        "attribute",
        "op",
        "values",
        "in_segment",
        "not_in_segment",
        "in_bucket",
        "salt",
        "by",
        "from",
        "to",
        "targets",
        "keys",
        "include",
        "exclude",
        "prerequisites",
        "flag",
        "f",
        "s",
        "on",
        "off",
    ]);
    leaf.prop_recursive(6, 120, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((names.clone(), inner), 0..8).prop_map(|members| {
                let body: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

/// Buckets are uniform: a chi-square test over 200,000 keys in 100 bins. The critical value
/// for 99 degrees of freedom at p = 0.001 is 148.2.
#[test]
fn buckets_are_uniform() {
    const KEYS: u32 = 200_000;
    const BINS: usize = 100;
    let mut counts = [0u32; BINS];
    for i in 0..KEYS {
        let b = bucket("uniformity", &format!("user-{i}"));
        counts[(b as usize) * BINS / 100_000] += 1;
    }
    let expected = f64::from(KEYS) / BINS as f64;
    let chi_square: f64 = counts
        .iter()
        .map(|&c| (f64::from(c) - expected).powi(2) / expected)
        .sum();
    assert!(
        chi_square < 148.2,
        "chi-square {chi_square:.1} over 99 degrees of freedom"
    );
}
