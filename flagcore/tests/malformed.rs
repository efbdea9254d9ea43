//! The malformed corpus of `tests/malformed/`: every case is refused with exactly the
//! expected errors (path and code), and the serving snapshot survives it.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use flagcore::{EvaluationContext, Store};
use serde_json::Value as Json;

const SERVING: &[u8] =
    br#"{"version": 1, "flags": {"alive": {"variants": {"on": true, "off": false},
    "enabled": true, "off_variant": "off", "fallthrough": {"variant": "on"}}}}"#;

#[test]
fn every_malformed_snapshot_is_refused_precisely_and_loses_nothing() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/malformed/cases.json");
    let corpus: Json = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(corpus["format_version"], 1);
    let cases = corpus["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for case in cases {
        let store = Store::from_bytes(SERVING).unwrap();
        let document = case["document"].as_str().unwrap();
        let err = match store.update(document.as_bytes()) {
            Ok(_) => {
                failures.push(format!("{}: accepted", case["name"]));
                continue;
            }
            Err(err) => err,
        };
        assert_eq!(err.code(), "invalid_snapshot", "{}", case["name"]);
        let got: Vec<(String, String)> = err
            .validation_errors()
            .iter()
            .map(|e| (e.path().to_owned(), e.kind().code().to_owned()))
            .collect();
        let want: Vec<(String, String)> = case["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["path"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if got != want {
            let messages: Vec<String> = err
                .validation_errors()
                .iter()
                .map(|e| e.to_string())
                .collect();
            failures.push(format!(
                "{}: want {want:?}\n   got {messages:?}",
                case["name"]
            ));
        }
        assert_eq!(store.version(), Some(1), "{}", case["name"]);
        assert!(store.bool("alive", &EvaluationContext::new("u"), false));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_stale_version_is_refused_and_the_serving_snapshot_stays() {
    let store = Store::from_bytes(SERVING).unwrap();
    let err = store.update(SERVING).unwrap_err();
    assert_eq!(err.code(), "stale_snapshot");
    assert_eq!(
        err.to_string(),
        "stale snapshot: version 1 is not newer than the serving version 1"
    );
    assert_eq!(store.version(), Some(1));
}

#[test]
fn messages_name_the_place_and_the_numbers() {
    let doc = br#"{"version": 1, "flags": {"checkout": {"variants": {"on": true, "off": false},
        "enabled": true, "off_variant": "off", "rules": [
          {"conditions": [], "serve": {"variant": "on"}},
          {"conditions": [], "serve": {"variant": "on"}},
          {"conditions": [], "serve": {"rollout": {"split": [
              {"variant": "on", "weight": 49.5}, {"variant": "off", "weight": 50}]}}}],
        "fallthrough": {"variant": "off"}}}}"#;
    let err = flagcore::validate(doc).unwrap_err();
    assert_eq!(
        err.errors()[0].to_string(),
        "flags.checkout.rules[2].serve.rollout: weights sum to 99.5, not 100"
    );
    let syntax = flagcore::validate(b"{\n  \"version\": 1,\n  \"flags\": {,\n}").unwrap_err();
    let message = syntax.errors()[0].to_string();
    assert!(message.contains("line 3 column"), "{message}");
}

#[test]
fn a_leading_byte_order_mark_is_ignored_and_bad_utf8_is_located() {
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(SERVING);
    assert_eq!(flagcore::validate(&with_bom), Ok(1));
    let err = flagcore::validate(b"{\"version\": 1, \"flags\": {\"\xff\": {}}}").unwrap_err();
    let message = err.errors()[0].to_string();
    assert!(message.contains("line 1 column"), "{message}");
}
