//! Properties of bucketing and evaluation that must hold for every input, checked with
//! proptest, plus a chi-square test of bucket uniformity.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flagcore::{bucket, Error, EvaluationContext, Reason, Store, ValidationErrorKind, Value};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

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

    /// Random bytes are refused, as a syntax error when they are not JSON, and the store
    /// they are offered to keeps serving what it served.
    #[test]
    fn arbitrary_bytes_are_refused_and_change_nothing(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let accepted = offer(&bytes)?;
        prop_assert!(accepted.is_none(), "random bytes were served as version {accepted:?}");
    }

    /// A snapshot with a byte changed, inserted or removed, or cut short, is either refused
    /// and changes nothing, or still valid and served whole: a damaged byte in a name or a
    /// salt can leave a valid document.
    #[test]
    fn damaged_snapshots_are_refused_or_served_whole(
        damage in damaged_snapshot(),
    ) {
        offer(&damage)?;
    }
}

/// The snapshot a store serves before it is offered other bytes.
const SERVING_VERSION: u64 = 5;

/// What a store answers, as text: value, variant, reason, rule and bucket, for a few keys.
fn answers(store: &Store) -> Vec<String> {
    let view = store.snapshot();
    ["", "alice", "bob", "user-17", "\u{e9}"]
        .iter()
        .flat_map(|key| {
            let ctx = EvaluationContext::new(key);
            [
                format!("{:?}", view.bool_details("canary", &ctx, false)),
                format!("{:?}", view.string_details("twin", &ctx, "none")),
            ]
        })
        .collect()
}

/// Offers `bytes` to a store serving [`SERVING_VERSION`] and checks that it is refused,
/// with the store unchanged, or accepted and served whole. `validate` must give the
/// same verdict as the store, and bytes that are not JSON must be refused as a syntax
/// error. The version served when accepted.
fn offer(bytes: &[u8]) -> Result<Option<u64>, TestCaseError> {
    let store =
        Store::from_bytes(rollout_snapshot(SERVING_VERSION, "s", 30_000).as_bytes()).unwrap();
    let before = answers(&store);
    let verdict = flagcore::validate(bytes);
    let unchanged = |store: &Store| -> Result<(), TestCaseError> {
        prop_assert_eq!(store.version(), Some(SERVING_VERSION));
        prop_assert_eq!(answers(store), before.clone());
        Ok(())
    };
    match store.update(bytes) {
        Err(Error::Invalid(invalid)) => {
            unchanged(&store)?;
            prop_assert_eq!(verdict, Err(invalid.clone()));
            prop_assert!(!invalid.errors().is_empty());
            let syntax = invalid
                .errors()
                .iter()
                .any(|e| e.kind() == ValidationErrorKind::Syntax);
            prop_assert_eq!(
                syntax,
                !is_json(bytes),
                "syntax errors exactly when the bytes are not JSON: {}",
                invalid
            );
            Ok(None)
        }
        Err(Error::Stale { offered, current }) => {
            unchanged(&store)?;
            prop_assert_eq!(verdict, Ok(offered));
            prop_assert_eq!(current, SERVING_VERSION);
            prop_assert!(offered <= SERVING_VERSION);
            Ok(None)
        }
        Ok(version) => {
            prop_assert_eq!(verdict, Ok(version));
            prop_assert!(version > SERVING_VERSION);
            prop_assert_eq!(store.version(), Some(version));
            // Served whole: the same answers as a store that loaded only these bytes.
            prop_assert_eq!(answers(&store), answers(&Store::from_bytes(bytes).unwrap()));
            Ok(Some(version))
        }
        Err(other) => Err(TestCaseError::fail(format!("unexpected error: {other}"))),
    }
}

/// Whether `bytes` are one JSON document (after the byte-order mark the loader ignores),
/// by serde_json, not by flagcore's reader.
fn is_json(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice::<serde_json::Value>(text).is_ok()
}

/// A valid snapshot, newer than [`SERVING_VERSION`] or not, with one byte changed, one
/// inserted, one removed, or the end cut off.
fn damaged_snapshot() -> impl Strategy<Value = Vec<u8>> {
    (
        3u64..9,
        0u32..=100_000,
        any::<prop::sample::Index>(),
        any::<u8>(),
        0..4u8,
    )
        .prop_map(|(version, units, at, byte, how)| {
            let mut doc = rollout_snapshot(version, "salt", units).into_bytes();
            let i = at.index(doc.len());
            match how {
                0 => doc[i] = byte,
                1 => doc.insert(i, byte),
                2 => {
                    doc.remove(i);
                }
                _ => doc.truncate(i),
            }
            doc
        })
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
