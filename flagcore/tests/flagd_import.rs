//! `flagcore::flagd::to_native` and the native format's flagd-compatible parts: converted
//! flags serve what flagd serves, bucket for bucket; what cannot convert is listed.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use flagcore::flagd::to_native;
use flagcore::{EvaluationContext, Reason, Store, Value};
use serde_json::{json, Value as Json};

fn conformance_file() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/flagd/flags.json");
    std::fs::read(path).unwrap()
}

/// Attribute values drawn from what the conformance flags compare against, and others.
const POOL: &[(&str, &[&str])] = &[
    (
        "email",
        &[
            "ballmer@macrosoft.com",
            "jobs@orange.com",
            "wozniak@orange.com",
            "ana@example.com",
        ],
    ),
    ("role", &["admin", "user"]),
    (
        "version",
        &[
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "1.9.0",
            "2.0.0-alpha",
            "3.0.1",
            "3.1.0",
            "3.0.0-rc.1",
            "4.0.0",
            "1.5.0",
            "0.9.0",
        ],
    ),
    ("id", &["abcdef", "uvwxyz", "abcxyz", "lmnopq"]),
    ("tier", &["premium", "basic"]),
    ("color", &["red", "green", "blue"]),
    (
        "user.name",
        &["jack", "queen", "ten", "nine", "3", "seven", "eight", "two"],
    ),
    ("fn", &["Sulisław", "Jan"]),
    ("ln", &["Świętopełk", "Kowalski"]),
    ("num", &["abc123", "123xyz", "5"]),
];

/// Contexts that have every attribute (flagd and the native format treat a missing one
/// differently; docs/format.md §9.7), with many keys for the bucketing.
fn contexts(n: usize) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    (0..n)
        .map(|i| {
            let attrs = POOL
                .iter()
                .enumerate()
                .map(|(j, (name, values))| (*name, values[(i / (j + 1) + j) % values.len()]))
                .collect();
            (format!("user-{i}"), attrs)
        })
        .collect()
}

fn converted_names(snapshot: &str) -> Vec<String> {
    let doc: Json = serde_json::from_str(snapshot).unwrap();
    doc["flags"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn converted_flags_serve_what_flagd_serves_bucket_for_bucket() {
    let bytes = conformance_file();
    let flagd = Store::from_bytes(&bytes).unwrap();
    let conversion = to_native(&[&bytes], 1).unwrap();
    let native = Store::from_bytes(conversion.snapshot.as_bytes()).unwrap();
    let names = converted_names(&conversion.snapshot);
    assert!(names.len() >= 40, "only {} flags converted", names.len());
    let (f, n) = (flagd.snapshot(), native.snapshot());
    let none = json!(null);
    let mut compared = 0;
    for (key, attrs) in contexts(3_000) {
        let attrs: Vec<(&str, Value<'_>)> =
            attrs.iter().map(|(k, v)| (*k, Value::from(*v))).collect();
        for ctx in [EvaluationContext::new(&key).with_attributes(&attrs)] {
            for name in &names {
                let kind = f.flag_kind(name).unwrap();
                let (a, b) = match kind {
                    flagcore::ValueKind::Bool => {
                        let (a, b) = (
                            f.bool_details(name, &ctx, false),
                            n.bool_details(name, &ctx, false),
                        );
                        ((json!(a.value), a.variant), (json!(b.value), b.variant))
                    }
                    flagcore::ValueKind::String => {
                        let (a, b) = (
                            f.string_details(name, &ctx, "?"),
                            n.string_details(name, &ctx, "?"),
                        );
                        ((json!(a.value), a.variant), (json!(b.value), b.variant))
                    }
                    flagcore::ValueKind::Int => {
                        let (a, b) = (f.int_details(name, &ctx, -7), n.int_details(name, &ctx, -7));
                        ((json!(a.value), a.variant), (json!(b.value), b.variant))
                    }
                    flagcore::ValueKind::Float => {
                        let (a, b) = (
                            f.float_details(name, &ctx, -7.5),
                            n.float_details(name, &ctx, -7.5),
                        );
                        ((json!(a.value), a.variant), (json!(b.value), b.variant))
                    }
                    _ => {
                        let (a, b) = (
                            f.json_details(name, &ctx, &none),
                            n.json_details(name, &ctx, &none),
                        );
                        ((a.value.clone(), a.variant), (b.value.clone(), b.variant))
                    }
                };
                assert_eq!(a, b, "flag {name}, key {key}, attributes {attrs:?}");
                compared += 1;
            }
        }
    }
    assert!(compared > 100_000);
}

#[test]
fn what_does_not_convert_is_listed_with_why() {
    let conversion = to_native(&[&conformance_file()], 1).unwrap();
    let skipped: Vec<String> = conversion
        .skipped
        .iter()
        .map(|(_, e)| e.to_string())
        .collect();
    let find = |flag: &str| {
        skipped
            .iter()
            .find(|s| s.starts_with(&format!("flags.{flag}.")))
            .cloned()
            .unwrap_or_else(|| panic!("{flag} not listed in {skipped:#?}"))
    };
    assert!(find("timestamp-flag").contains("$flagd.timestamp"));
    assert!(find("fractional-nested-var-flag").contains("bucket's variant is computed"));
    assert!(find("error-targeting-flag").contains("unknown operator `invalid`"));
    assert!(find("missing-variant-targeting-flag").contains("`three`"));
    assert!(find("fractional-as-condition-flag").contains("`fractional` has no native condition"));
    assert!(find("semver-invalid-operator-flag").contains("`===`"));
    let names = converted_names(&conversion.snapshot);
    for (file, listed) in &conversion.skipped {
        assert_eq!(*file, 0);
        let flag = listed.path().split('.').nth(1).unwrap();
        assert!(
            !names.iter().any(|n| n == flag),
            "{flag} both converted and listed"
        );
    }
}

#[test]
fn conversion_keeps_order_metadata_and_the_shape_of_the_native_format() {
    let flagd = br#"{"flags": {
        "b-flag": {"state": "DISABLED", "variants": {"z": "Z", "a": "A"}, "defaultVariant": "a",
                   "metadata": {"owner": "growth", "ticket": 42}},
        "a-flag": {"state": "ENABLED", "variants": {"on": true, "off": false},
                   "targeting": {"if": [{"or": [{"in": [{"var": "country"}, ["DE", "FR"]]},
                                                 {"sem_ver": [{"var": "app"}, "^", "v2"]}]}, "on"]}}},
      "metadata": {"team": "web"}}"#;
    let conversion = to_native(&[flagd], 5).unwrap();
    assert!(conversion.skipped.is_empty(), "{:?}", conversion.skipped);
    let expected = json!({"version": 5, "flags": {
        "b-flag": {"variants": {"z": "Z", "a": "A"}, "enabled": false, "off_variant": null,
                   "metadata": {"team": "web", "owner": "growth", "ticket": 42},
                   "fallthrough": {"variant": "a"}},
        "a-flag": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": null,
                   "metadata": {"team": "web"},
                   "rules": [
                       {"conditions": [{"attribute": "country", "op": "in", "values": ["DE", "FR"]}],
                        "serve": {"variant": "on"}},
                       {"conditions": [{"attribute": "app", "op": "semver_gte", "values": ["2.0.0-0"]},
                                       {"attribute": "app", "op": "semver_lt", "values": ["3.0.0-0"]}],
                        "serve": {"variant": "on"}}],
                   "fallthrough": {"variant": null}}}});
    let produced: Json = serde_json::from_str(&conversion.snapshot).unwrap();
    assert_eq!(produced, expected);
    let order: Vec<&str> = conversion
        .snapshot
        .match_indices("-flag\"")
        .map(|(i, _)| &conversion.snapshot[i - 1..i])
        .collect();
    assert_eq!(order, ["b", "a"], "flags keep document order");
    assert!(
        conversion.snapshot.find("\"z\"").unwrap()
            < conversion.snapshot.find("\"a\": \"A\"").unwrap()
    );
    let store = Store::from_bytes(conversion.snapshot.as_bytes()).unwrap();
    let snapshot = store.snapshot();
    let ctx = EvaluationContext::new("k");
    let off = snapshot.string_details("b-flag", &ctx, "caller");
    assert_eq!(
        (off.value, off.reason, off.variant),
        ("caller", Reason::Disabled, None)
    );
    let unmatched = snapshot.bool_details("a-flag", &ctx, true);
    assert_eq!(
        (unmatched.value, unmatched.reason, unmatched.variant),
        (true, Reason::Default, None)
    );
}

#[test]
fn flagd_bucketing_places_flagds_published_keys() {
    // The keys and answers of flagd's conformance tables, for these two flags.
    let doc = br#"{"version": 1, "flags": {
      "fractional-flag-shorthand": {"variants": {"heads": "heads", "tails": "tails", "draw": "draw"},
        "enabled": true, "off_variant": "draw",
        "fallthrough": {"rollout": {"bucketing": "flagd", "split": [
          {"variant": "heads", "weight": 1}, {"variant": "tails", "weight": 1}]}}},
      "edges": {"variants": {"lower": "lower", "upper": "upper"}, "enabled": true,
        "off_variant": "lower", "salt": "",
        "fallthrough": {"rollout": {"bucketing": "flagd", "split": [
          {"variant": "lower", "weight": 50}, {"variant": "upper", "weight": 50}]}}}}}"#;
    let store = Store::from_bytes(doc).unwrap();
    let serve = |flag: &str, key: &str| {
        store
            .snapshot()
            .string(flag, &EvaluationContext::new(key), "?")
            .to_owned()
    };
    assert_eq!(
        serve("fractional-flag-shorthand", "jon@company.com"),
        "heads"
    );
    assert_eq!(
        serve("fractional-flag-shorthand", "jane@company.com"),
        "tails"
    );
    for (key, side) in [
        ("ejOoVL", "lower"),
        ("bY9fO-", "lower"),
        ("SI7p-", "lower"),
        ("6LvT0", "upper"),
        ("ceQdGm", "upper"),
    ] {
        assert_eq!(serve("edges", key), side, "{key}");
    }
    let snapshot = store.snapshot();
    let details = snapshot.string_details("edges", &EvaluationContext::new("ceQdGm"), "?");
    assert_eq!((details.reason, details.bucket), (Reason::Split, None));
    let anonymous = snapshot.string_details("edges", &EvaluationContext::anonymous(), "?");
    assert_eq!(
        anonymous.error_code,
        Some(flagcore::ErrorCode::TargetingKeyMissing)
    );
}

#[test]
fn flagd_bucketing_and_null_serves_are_validated() {
    let rollout = |extra: Json| {
        json!({"version": 1, "flags": {"f": {"variants": {"a": 1, "b": 2}, "enabled": true, "off_variant": null,
            "fallthrough": {"rollout": extra}}}})
        .to_string()
    };
    let errors = |doc: String| -> Vec<String> {
        flagcore::validate(doc.as_bytes())
            .unwrap_err()
            .errors()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        errors(rollout(json!({"bucketing": "flagd", "split": [{"variant": "a", "weight": 0.5}]}))),
        ["flags.f.fallthrough.rollout.split[0].weight: with flagd bucketing a weight is a whole number from 0 to 2147483647, not a number"]
    );
    assert_eq!(
        errors(rollout(
            json!({"bucketing": "flagd", "split": [{"variant": "a", "weight": 0}]})
        )),
        ["flags.f.fallthrough.rollout: flagd weights sum to 0, not between 1 and 2147483647"]
    );
    assert_eq!(
        errors(rollout(
            json!({"bucketing": "flagd", "split": [{"variant": "a", "weight": 1}],
                              "schedule": [{"at": "2030-01-01T00:00:00Z", "split": [{"variant": "a", "weight": 100}]}]})
        )),
        ["flags.f.fallthrough.rollout.schedule: a rollout with flagd bucketing has no schedule"]
    );
    assert_eq!(
        errors(rollout(json!({"bucketing": "md5", "split": [{"variant": "a", "weight": 100}]}))),
        ["flags.f.fallthrough.rollout.bucketing: unknown bucketing `md5`: expected `flagcore` or `flagd`"]
    );
    let weights = rollout(
        json!({"bucketing": "flagd", "split": [{"variant": "a", "weight": 3}, {"variant": "b", "weight": 1000}]}),
    );
    assert!(flagcore::validate(weights.as_bytes()).is_ok());
}

#[test]
fn a_null_variant_serves_the_callers_default() {
    let doc = json!({"version": 1, "flags": {
        "f": {"variants": {"a": "A", "b": "B"}, "enabled": true, "off_variant": "a",
              "rules": [{"conditions": [{"attribute": "plan", "op": "eq", "values": ["free"]}],
                         "serve": {"variant": null}}],
              "fallthrough": {"variant": "b"}},
        "g": {"variants": {"a": "A"}, "enabled": true, "off_variant": null,
              "prerequisites": [{"flag": "f", "variant": "a"}], "fallthrough": {"variant": "a"}}}});
    let store = Store::from_bytes(doc.to_string().as_bytes()).unwrap();
    let snapshot = store.snapshot();
    let free = [("plan", Value::from("free"))];
    let d = snapshot.string_details(
        "f",
        &EvaluationContext::new("k").with_attributes(&free),
        "caller",
    );
    assert_eq!(
        (d.value, d.variant, d.reason, d.error_code),
        ("caller", None, Reason::Default, None)
    );
    let d = snapshot.string_details("f", &EvaluationContext::new("k"), "caller");
    assert_eq!(d.value, "B");
    let g = snapshot.string_details("g", &EvaluationContext::new("k"), "caller");
    assert_eq!((g.value, g.reason), ("caller", Reason::PrerequisiteFailed));
}
