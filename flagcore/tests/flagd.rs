//! flagd documents loaded as they are: the conformance cases of `tests/flagd/` (expected
//! values from flagd's published conformance tables), and what the tables do not cover:
//! merging, metadata, broken flags beside good ones, format detection.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use flagcore::flagd::Format;
use flagcore::{Details, EvaluationContext, MetadataValue, Reason, Snapshot, Store, Value};
use serde_json::{json, Value as Json};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/flagd")
        .join(name)
}

fn attribute(value: &Json) -> Value<'_> {
    match value {
        Json::String(s) => Value::String(s),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap()),
        Json::Number(n) => Value::Float(n.as_f64().unwrap()),
        other => panic!("unsupported attribute value {other}"),
    }
}

/// The outcome as the cases write it: value, reason, error code.
fn outcome<T: Into<Json>>(d: Details<'_, T>) -> (Json, Reason, Option<&'static str>) {
    (d.value.into(), d.reason, d.error_code.map(|c| c.as_str()))
}

fn evaluate(
    snapshot: &Snapshot,
    case: &Json,
    ctx: &EvaluationContext<'_>,
) -> (Json, Reason, Option<&'static str>) {
    let flag = case["flag"].as_str().unwrap();
    let default = &case["default"];
    match case["type"].as_str().unwrap() {
        "bool" => outcome(snapshot.bool_details(flag, ctx, default.as_bool().unwrap())),
        "string" => outcome(snapshot.string_details(flag, ctx, default.as_str().unwrap())),
        "int" => outcome(snapshot.int_details(flag, ctx, default.as_i64().unwrap())),
        "float" => outcome(snapshot.float_details(flag, ctx, default.as_f64().unwrap())),
        "object" => {
            let d = snapshot.json_details(flag, ctx, default);
            (d.value.clone(), d.reason, d.error_code.map(|c| c.as_str()))
        }
        other => panic!("unknown type {other}"),
    }
}

#[test]
fn every_conformance_case_answers_as_flagd() {
    let store = Store::from_file(data("flags.json")).unwrap();
    let snapshot = store.snapshot();
    let cases: Json = serde_json::from_slice(&std::fs::read(data("cases.json")).unwrap()).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let attrs: Vec<(&str, Value<'_>)> = case["attributes"]
            .as_object()
            .map(|a| a.iter().map(|(k, v)| (k.as_str(), attribute(v))).collect())
            .unwrap_or_default();
        let ctx = match case["key"].as_str() {
            Some(key) => EvaluationContext::new(key),
            None => EvaluationContext::anonymous(),
        }
        .with_attributes(&attrs);
        let (value, reason, error_code) = evaluate(&snapshot, case, &ctx);
        let value_ok = match (&value, &case["value"]) {
            (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
        let reason_ok = case["reason"].as_str().is_none_or(|r| r == reason.as_str());
        let code_ok = error_code == case["error_code"].as_str();
        if !(value_ok && reason_ok && code_ok) {
            failures.push(format!("{case}\n  got {value} {reason} {error_code:?}"));
        }
    }
    assert!(cases.len() > 100);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_conformance_file_is_detected_and_validates_with_its_broken_flags_listed() {
    let bytes = std::fs::read(data("flags.json")).unwrap();
    assert_eq!(Format::detect(&bytes), Format::Flagd);
    let errors = flagcore::validate(&bytes).unwrap_err();
    let listed: Vec<String> = errors.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        listed,
        [
            "flags.ref-to-nonexistent-evaluator-flag.targeting: `$ref` to undefined evaluator `nonexistent_evaluator`",
            "flags.error-targeting-flag.targeting: unknown operator `invalid`",
        ]
    );
}

fn ctx() -> EvaluationContext<'static> {
    EvaluationContext::anonymous()
}

#[test]
fn flag_metadata_overlays_its_files_metadata() {
    let store = Store::from_file(data("flags.json")).unwrap();
    let snapshot = store.snapshot();
    let metadata: Vec<(&str, &MetadataValue)> = snapshot
        .flag_metadata("metadata-flag")
        .iter()
        .map(|(k, v)| (&**k, v))
        .collect();
    assert_eq!(
        metadata,
        [
            ("flagSetId", &MetadataValue::String("conformance".into())),
            ("version", &MetadataValue::String("v2".into())),
            ("string", &MetadataValue::String("1.0.2".into())),
            ("integer", &MetadataValue::Number(2.0)),
            ("boolean", &MetadataValue::Bool(true)),
            ("float", &MetadataValue::Number(0.1)),
        ]
    );
    assert_eq!(snapshot.flag_metadata("boolean-flag").len(), 2);
    assert!(snapshot.flag_metadata("no-such-flag").is_empty());
}

#[test]
fn merged_files_take_the_later_flag_and_share_evaluators() {
    let first = br#"{"flags": {
        "a": {"state": "ENABLED", "variants": {"x": "x", "y": "y"}, "defaultVariant": "x"},
        "b": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off",
              "targeting": {"if": [{"$ref": "is-staff"}, "on"]}}},
        "metadata": {"team": "one"}}"#;
    let second = br#"{"flags": {
        "a": {"state": "ENABLED", "variants": {"x": "x", "y": "y"}, "defaultVariant": "y"}},
        "$evaluators": {"is-staff": {"ends_with": [{"var": "email"}, "@corp.example"]}},
        "metadata": {"team": "two"}}"#;
    let store = Store::new();
    assert_eq!(store.update_merged(&[first, second]).unwrap(), 1);
    let snapshot = store.snapshot();
    assert_eq!(snapshot.string("a", &ctx(), "?"), "y");
    let attrs = [("email", Value::from("ana@corp.example"))];
    assert!(snapshot.bool("b", &ctx().with_attributes(&attrs), false));
    let team = |flag| snapshot.flag_metadata(flag)[0].1.clone();
    assert_eq!(team("a"), MetadataValue::String("two".into()));
    assert_eq!(team("b"), MetadataValue::String("one".into()));
    assert_eq!(snapshot.flag_names().collect::<Vec<_>>(), ["a", "b"]);
}

#[test]
fn a_broken_flag_answers_with_its_error_and_the_rest_serve() {
    let store = Store::from_bytes(br#"{"flags": {
        "good": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on"},
        "unknown-op": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "on",
                       "targeting": {"regex_match": [{"var": "email"}, ".*"]}},
        "bad-state": {"state": "MAYBE", "variants": {"on": true}, "defaultVariant": "on"},
        "bad-default": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "of"},
        "mixed": {"state": "ENABLED", "variants": {"a": true, "b": "x"}, "defaultVariant": "a"},
        "cycle": {"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on",
                  "targeting": {"if": [{"$ref": "loop"}, "on"]}}},
      "$evaluators": {"loop": {"!": {"$ref": "loop"}}}}"#)
    .unwrap();
    let snapshot = store.snapshot();
    let code = |flag| {
        snapshot
            .bool_details(flag, &ctx(), false)
            .error_code
            .map(|c| c.as_str())
    };
    assert_eq!(code("good"), None);
    assert!(snapshot.bool("good", &ctx(), false));
    assert_eq!(code("unknown-op"), Some("PARSE_ERROR"));
    assert_eq!(code("bad-state"), Some("PARSE_ERROR"));
    assert_eq!(code("bad-default"), Some("GENERAL"));
    assert_eq!(code("mixed"), Some("PARSE_ERROR"));
    assert_eq!(code("cycle"), Some("PARSE_ERROR"));
}

#[test]
fn flagd_documents_take_the_next_version_and_native_ones_still_need_a_newer_one() {
    let flagd =
        br#"{"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a"}}}"#;
    let store = Store::from_bytes(flagd).unwrap();
    assert_eq!(store.version(), Some(1));
    assert_eq!(store.update(flagd).unwrap(), 2);
    let native = br#"{"version": 2, "flags": {}}"#;
    assert!(matches!(
        store.update(native),
        Err(flagcore::Error::Stale { .. })
    ));
    assert_eq!(store.update(br#"{"version": 7, "flags": {}}"#).unwrap(), 7);
    assert_eq!(store.update(flagd).unwrap(), 8);
}

#[test]
fn a_document_that_is_not_flagd_keeps_its_native_errors() {
    let err = Store::from_bytes(br#"{"version": 1, "flags": {"f": {"variants": {"a": 1}}}}"#)
        .unwrap_err();
    assert!(err.to_string().contains("flags.f"), "{err}");
    let not_json = Store::from_bytes(b"{").unwrap_err();
    assert!(not_json.to_string().contains("line 1"), "{not_json}");
    let no_flags = Store::new()
        .update_as(br#"{"$evaluators": {}}"#, Format::Flagd)
        .unwrap_err();
    assert!(
        no_flags.to_string().contains("`flags` object"),
        "{no_flags}"
    );
}

#[test]
fn runtime_kills_disable_flagd_flags_with_the_callers_default() {
    let store = Store::from_file(data("flags.json")).unwrap();
    store.kill("string-flag", "incident");
    let snapshot = store.snapshot();
    let d = snapshot.string_details("string-flag", &ctx(), "safe");
    assert_eq!(
        (d.value, d.reason, d.variant),
        ("safe", Reason::Disabled, None)
    );
    assert!(store.revive("string-flag"));
    assert_eq!(store.snapshot().string("string-flag", &ctx(), "safe"), "hi");
}

#[test]
fn jsonlogic_follows_javascript_comparisons() {
    let check = |rule: Json, attrs: &[(&str, Value<'_>)], expected: bool| {
        let doc = json!({"flags": {"f": {"state": "ENABLED", "variants": {"true": true, "false": false},
            "defaultVariant": "false", "targeting": rule.clone()}}});
        let store = Store::from_bytes(doc.to_string().as_bytes()).unwrap();
        let ctx = EvaluationContext::new("k").with_attributes(attrs);
        let snapshot = store.snapshot();
        let d = snapshot.bool_details("f", &ctx, !expected);
        assert_eq!((d.value, d.error_code), (expected, None), "{rule}");
    };
    check(json!({"==": [1, "1"]}), &[], true);
    check(json!({"==": [true, 1]}), &[], true);
    check(json!({"==": [null, 0]}), &[], false);
    check(json!({"===": [1, "1"]}), &[], false);
    check(json!({"!=": ["a", "b"]}), &[], true);
    check(json!({"<": ["10", "9"]}), &[], true);
    check(
        json!({"<": [{"var": "n"}, "10"]}),
        &[("n", Value::Int(9))],
        true,
    );
    check(
        json!({"<": [1, {"var": "n"}, 3]}),
        &[("n", Value::Int(2))],
        true,
    );
    check(
        json!({"<=": [1, {"var": "n"}, 1]}),
        &[("n", Value::Int(2))],
        false,
    );
    check(
        json!({">=": [{"var": "n"}, 2.5]}),
        &[("n", Value::Float(2.5))],
        true,
    );
    check(json!({"in": ["b", "abc"]}), &[], true);
    check(
        json!({"in": [{"var": "c"}, ["DE", "FR"]]}),
        &[("c", Value::from("FR"))],
        true,
    );
    check(json!({"in": [1, ["1"]]}), &[], false);
    check(json!({"!": [[]]}), &[], true);
    check(json!({"!!": ["0"]}), &[], true);
    check(json!({"and": [true, {"var": "missing"}]}), &[], false);
    check(
        json!({"or": [0, "", {"var": "b"}]}),
        &[("b", Value::Bool(true))],
        true,
    );
    check(
        json!({"==": [{"cat": ["a", 1, null, true, 2.5]}, "a1true2.5"]}),
        &[],
        true,
    );
    check(
        json!({"==": [{"+": [1, "2", {"var": "n"}]}, 6]}),
        &[("n", Value::Int(3))],
        true,
    );
    check(json!({"==": [{"-": [5]}, -5]}), &[], true);
    check(json!({"==": [{"%": [7, 4]}, 3]}), &[], true);
    check(
        json!({"==": [{"max": [1, 9, 3]}, {"*": [3, 3]}]}),
        &[],
        true,
    );
    check(
        json!({"==": [{"var": ["missing", "fallback"]}, "fallback"]}),
        &[],
        true,
    );
    check(json!({"==": [{"var": "$flagd.flagKey"}, "f"]}), &[], true);
    check(
        json!({">": [{"var": "$flagd.timestamp"}, 1_700_000_000]}),
        &[],
        true,
    );
    check(
        json!({"==": [{"var": {"cat": ["us", "er.id"]}}, 7]}),
        &[("user.id", Value::Int(7))],
        true,
    );
    check(json!({"if": [false, "x"]}), &[], false);
}

#[test]
fn a_scheduled_instant_sets_the_flagd_timestamp() {
    let doc = br#"{"flags": {"late": {"state": "ENABLED", "variants": {"on": true, "off": false},
        "defaultVariant": "off", "targeting": {"if": [{">=": [{"var": "$flagd.timestamp"}, 2000000000]}, "on"]}}}}"#;
    let store = Store::from_bytes(doc).unwrap();
    let at = |secs: u64| {
        EvaluationContext::anonymous()
            .at(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    };
    assert!(!store.snapshot().bool("late", &at(1_999_999_999), true));
    assert!(store.snapshot().bool("late", &at(2_000_000_000), false));
}

#[test]
fn a_cat_longer_than_the_scratch_space_fails_like_an_operator_error() {
    let long = "x".repeat(700);
    let doc = json!({"flags": {"f": {"state": "ENABLED", "variants": {"hit": "hit", "base": "base"},
        "defaultVariant": "base", "targeting": {"if": [{"==": [{"cat": [long, long]}, "y"]}, "hit", "hit"]}}}});
    let store = Store::from_bytes(doc.to_string().as_bytes()).unwrap();
    let snapshot = store.snapshot();
    let d = snapshot.string_details("f", &ctx(), "?");
    assert_eq!((d.value, d.reason), ("base", Reason::Default));
}

/// flagd's newer (CBOR) bucketing, against the answers flagd's conformance tables give
/// for it (the `@fractional-v3` examples).
#[test]
fn cbor_bucketing_places_users_as_flagds_v3_tables() {
    let store = Store::new();
    store.set_flagd_fractional(flagcore::flagd::FractionalVersion::V3);
    store
        .update(&std::fs::read(data("flags.json")).unwrap())
        .unwrap();
    let snapshot = store.snapshot();
    let by_name = |flag: &str, name: &str| {
        let attrs = [("user.name", Value::from(name))];
        let ctx = EvaluationContext::anonymous().with_attributes(&attrs);
        snapshot.string(flag, &ctx, "?").to_owned()
    };
    for (name, expected) in [
        ("jack", "diamonds"),
        ("queen", "diamonds"),
        ("ten", "clubs"),
        ("nine", "clubs"),
        ("3", "spades"),
    ] {
        assert_eq!(by_name("fractional-flag", name), expected, "{name}");
    }
    for (name, a, b) in [
        ("seven", "hearts", "ace-of-hearts"),
        ("eight", "hearts", "ace-of-hearts"),
        ("nine", "diamonds", "ace-of-diamonds"),
        ("two", "diamonds", "ace-of-diamonds"),
    ] {
        assert_eq!(by_name("fractional-flag-A-shared-seed", name), a, "{name}");
        assert_eq!(by_name("fractional-flag-B-shared-seed", name), b, "{name}");
    }
    for key in ["jon@company.com", "jane@company.com"] {
        let d = snapshot.string_details(
            "fractional-flag-shorthand",
            &EvaluationContext::new(key),
            "?",
        );
        assert_eq!(d.value, "tails", "{key}");
    }
    // The CBOR default key needs a targeting key; without one the default variant serves.
    let d = snapshot.string_details("fractional-flag-shorthand", &ctx(), "?");
    assert_eq!((d.value, d.reason), ("draw", Reason::Default));
    // Stores that did not ask keep flagd's current bucketing.
    let default = Store::from_file(data("flags.json")).unwrap();
    let attrs = [("user.name", Value::from("jack"))];
    let jack = EvaluationContext::anonymous().with_attributes(&attrs);
    assert_eq!(
        default.snapshot().string("fractional-flag", &jack, "?"),
        "hearts"
    );
}

#[test]
fn cbor_bucketing_hashes_numbers_and_booleans_by_value_and_takes_whole_weights() {
    let doc = |weights: &str| {
        format!(
            r#"{{"flags": {{"f": {{"state": "ENABLED", "defaultVariant": "none",
                "variants": {{"a": "a", "b": "b", "c": "c", "none": "none"}},
                "targeting": {{"fractional": [{{"var": "k"}}, {weights}]}}}}}}}}"#
        )
    };
    let store = Store::new();
    store.set_flagd_fractional(flagcore::flagd::FractionalVersion::V3);
    store
        .update(doc(r#"["a", 1], ["b", 3], ["c", 5]"#).as_bytes())
        .unwrap();
    let snapshot = store.snapshot();
    let serve = |value: Value<'_>| {
        let attrs = [("k", value)];
        snapshot
            .string(
                "f",
                &EvaluationContext::anonymous().with_attributes(&attrs),
                "?",
            )
            .to_owned()
    };
    // An integral float is the integer: both encode as the same CBOR integer.
    for i in [0i64, 1, 23, 24, 255, 256, 65_536, -1, -25, 4_294_967_296] {
        assert_eq!(serve(Value::Int(i)), serve(Value::Float(i as f64)), "{i}");
    }
    assert_eq!(serve(Value::Float(-0.0)), serve(Value::Int(0)));
    // A string is hashed with its CBOR head, so "1" and 1 bucket independently, and true
    // is not "true".
    let spread: std::collections::HashSet<String> =
        (0..200).map(|i| serve(Value::Int(i))).collect();
    assert_eq!(spread.len(), 3, "integers reach every bucket");
    assert!(["a", "b", "c"].contains(&serve(Value::Bool(true)).as_str()));
    let store = Store::new();
    store.set_flagd_fractional(flagcore::flagd::FractionalVersion::V3);
    store
        .update(doc(r#"["a", 1.5], ["b", 3]"#).as_bytes())
        .unwrap();
    let attrs = [("k", Value::from("x"))];
    let d = store
        .snapshot()
        .string_details(
            "f",
            &EvaluationContext::anonymous().with_attributes(&attrs),
            "?",
        )
        .reason;
    assert_eq!(
        d,
        Reason::Default,
        "a fractional weight is an operator error with CBOR keys"
    );
}

#[test]
fn a_merge_names_the_document_without_flags() {
    let good = br#"{"flags": {}}"#;
    let err = Store::new()
        .update_merged(&[good, br#"{"$evaluators": {}}"#])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("document 2 of 2: a flagd document needs a `flags` object"),
        "{err}"
    );
}

#[test]
fn diff_of_flagd_documents_shows_flagd_members_and_numbers_versions_as_a_store_does() {
    use flagcore::diff::{diff, Contexts, Options};
    let old = br#"{"flags": {"f": {"state": "ENABLED", "variants": {"on": true, "off": false},
        "defaultVariant": "off", "targeting": {"fractional": [["on", 10], ["off", 90]]}}}}"#;
    let new = br#"{"flags": {"f": {"state": "ENABLED", "variants": {"on": true, "off": false},
        "defaultVariant": "off", "targeting": {"fractional": [["on", 50], ["off", 50]]}}}}"#;
    let report = diff(old, new, Contexts::Synthetic(2_000), &Options::new()).unwrap();
    assert_eq!((report.old_version, report.new_version), (1, 2));
    assert!(report.version_increases());
    let flag = &report.flags[0];
    assert_eq!(
        flag.structural[0].path,
        "flags.f.targeting.fractional[0][1]"
    );
    // Growing the first bucket moves users only into it, as in flagd.
    assert!(
        flag.changed > 600 && flag.changed < 1_000,
        "{}",
        flag.changed
    );
    assert!(flag
        .transitions
        .iter()
        .all(|t| t.to.as_deref() == Some("on")));
}

#[test]
fn an_operator_kills_a_flagd_flag_in_the_file_even_beside_broken_flags() {
    let document = std::fs::read(data("flags.json")).unwrap();
    let now = std::time::SystemTime::now();
    let killed = flagcore::edit::set_enabled(&document, "string-flag", Some("INC-1"), now).unwrap();
    assert_eq!(
        (killed.from_version, killed.to_version),
        (0, 0),
        "flagd files have no version"
    );
    let store = Store::from_bytes(&killed.document).unwrap();
    let snapshot = store.snapshot();
    let d = snapshot.string_details("string-flag", &ctx(), "safe");
    assert_eq!((d.value, d.reason), ("safe", Reason::Disabled));
    let note = snapshot
        .flag_metadata("string-flag")
        .iter()
        .any(|(k, v)| &**k == "kill_reason" && *v == MetadataValue::String("INC-1".into()));
    assert!(note);
    let revived = flagcore::edit::set_enabled(&killed.document, "string-flag", None, now).unwrap();
    let store = Store::from_bytes(&revived.document).unwrap();
    assert_eq!(store.snapshot().string("string-flag", &ctx(), "safe"), "hi");
}

#[test]
fn flagd_documents_obey_the_loaders_limits() {
    let limits = flagcore::Limits {
        max_flags: 1,
        max_json_depth: 8,
        ..flagcore::Limits::default()
    };
    let two = br#"{"flags": {"a": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x"},
                            "b": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x"}}}"#;
    let err = Store::with_limits(limits).update(two).unwrap_err();
    assert!(
        err.to_string()
            .contains("2 flags, above the limit of 1 (max_flags)"),
        "{err}"
    );
    let deep = r#"{"flags": {"a": {"state": "ENABLED", "variants": {"x": 1}, "defaultVariant": "x",
        "targeting": {"if": [{"!": {"!": {"!": {"!": {"!": true}}}}}, "x"]}}}}"#;
    let err = Store::with_limits(limits)
        .update(deep.as_bytes())
        .unwrap_err();
    assert!(err.to_string().contains("(max_json_depth)"), "{err}");
    let big = flagcore::Limits {
        max_document_bytes: 10,
        ..flagcore::Limits::default()
    };
    let err = Store::with_limits(big)
        .update_as(two, Format::Flagd)
        .unwrap_err();
    assert!(err.to_string().contains("(max_document_bytes)"), "{err}");
}
