//! Runs the shared test vectors of `tests/vectors/` (expected values computed by the
//! independent Python reference) through the Rust API.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use flagcore::{Details, EvaluationContext, Store, Value};
use serde_json::{json, Value as Json};

fn vector_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    files
}

fn details_json<T: Into<Json>>(d: Details<'_, T>) -> Json {
    json!({
        "value": d.value.into(),
        "variant": d.variant,
        "reason": d.reason.as_str(),
        "error_code": d.error_code.map(|c| c.as_str()),
        "rule_index": d.rule_index,
        "rule_id": d.rule_id,
        "target": d.target,
        "bucket": d.bucket,
        "step": d.step,
    })
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

#[test]
fn every_vector_agrees_with_the_reference() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in vector_files() {
        let doc: Json = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(doc["format"], "flagcore-vectors");
        assert_eq!(doc["format_version"], 2, "{}", file.display());
        let store = Store::new();
        if !doc["snapshot"].is_null() {
            let text = serde_json::to_vec(&doc["snapshot"]).unwrap();
            store
                .update(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        }
        for kill in doc["kills"].as_array().unwrap() {
            store.kill(kill.as_str().unwrap(), "vector");
        }
        let snapshot = store.snapshot();
        for case in doc["cases"].as_array().unwrap() {
            let context = &case["context"];
            let attrs: Vec<(&str, Value<'_>)> = context["attributes"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), attribute(v)))
                .collect();
            let ctx = match context["key"].as_str() {
                Some(key) => EvaluationContext::new(key),
                None => EvaluationContext::anonymous(),
            }
            .with_attributes(&attrs);
            let flag = case["flag"].as_str().unwrap();
            let default = &case["default"];
            let got = match case["type"].as_str().unwrap() {
                "bool" => {
                    details_json(snapshot.bool_details(flag, &ctx, default.as_bool().unwrap()))
                }
                "string" => {
                    details_json(snapshot.string_details(flag, &ctx, default.as_str().unwrap()))
                }
                "int" => details_json(snapshot.int_details(flag, &ctx, default.as_i64().unwrap())),
                "float" => {
                    details_json(snapshot.float_details(flag, &ctx, default.as_f64().unwrap()))
                }
                "json" => details_json(
                    snapshot
                        .json_details(flag, &ctx, default)
                        .map_value(Json::clone),
                ),
                other => panic!("unknown type {other}"),
            };
            checked += 1;
            if got != case["expected"] {
                failures.push(format!(
                    "{} / {}:\n  expected {}\n  got      {}",
                    file.file_name().unwrap().to_string_lossy(),
                    case["name"],
                    case["expected"],
                    got
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 150, "only {checked} cases");
}

trait MapValue<'s, T> {
    fn map_value<U>(self, f: impl FnOnce(T) -> U) -> Details<'s, U>;
}

impl<'s, T> MapValue<'s, T> for Details<'s, T> {
    fn map_value<U>(self, f: impl FnOnce(T) -> U) -> Details<'s, U> {
        Details {
            value: f(self.value),
            variant: self.variant,
            reason: self.reason,
            error_code: self.error_code,
            rule_index: self.rule_index,
            rule_id: self.rule_id,
            target: self.target,
            target_index: self.target_index,
            bucket: self.bucket,
            step: self.step,
        }
    }
}
