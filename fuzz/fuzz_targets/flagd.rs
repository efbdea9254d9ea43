//! Any bytes as a flagd flag's `targeting` (and as an evaluator it may `$ref`), evaluated
//! with a fuzzed context: no panic, no hang, and the details agree with the reason.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

use flagcore::{EvaluationContext, Reason, Store, Value};

#[derive(Arbitrary, Debug)]
enum AttrValue {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Arbitrary, Debug)]
struct Input {
    targeting: String,
    key: Option<String>,
    attributes: Vec<(String, AttrValue)>,
}

fuzz_target!(|input: Input| {
    let document = format!(
        r#"{{"flags": {{"f": {{"state": "ENABLED", "defaultVariant": "a",
            "variants": {{"a": "A", "b": "B", "true": "T", "false": "F", "1": "one"}},
            "targeting": {0}}}}}, "$evaluators": {{"e": {0}}}}}"#,
        input.targeting
    );
    let Ok(store) = Store::from_bytes(document.as_bytes()) else {
        return;
    };
    let attrs: Vec<(&str, Value<'_>)> = input
        .attributes
        .iter()
        .map(|(name, value)| {
            let value = match value {
                AttrValue::String(s) => Value::String(s),
                AttrValue::Int(i) => Value::Int(*i),
                AttrValue::Float(f) => Value::Float(*f),
                AttrValue::Bool(b) => Value::Bool(*b),
            };
            (name.as_str(), value)
        })
        .collect();
    let ctx = match &input.key {
        Some(key) => EvaluationContext::new(key),
        None => EvaluationContext::anonymous(),
    }
    .with_attributes(&attrs);
    let snapshot = store.snapshot();
    let details = snapshot.string_details("f", &ctx, "caller");
    assert_eq!(details.variant.is_none(), details.value == "caller");
    assert_eq!(details.error_code.is_some(), details.reason == Reason::Error);
    let _ = snapshot.explain("f", &ctx);
    let _ = flagcore::flagd::to_native(&[document.as_bytes()], 1);
});
