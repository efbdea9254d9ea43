//! Arbitrary flag names and contexts against the example snapshot (every feature): no
//! panic, and the details are consistent with the reason.
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
    flag: String,
    pick_known_flag: Option<u8>,
    key: Option<String>,
    attributes: Vec<(String, AttrValue)>,
}

fuzz_target!(|input: Input| {
    thread_local! {
        static STORE: Store = Store::from_bytes(include_bytes!("../../examples/snapshot.json"))
            .unwrap_or_else(|e| panic!("the example snapshot must load: {e}"));
    }
    STORE.with(|store| {
        let snapshot = store.snapshot();
        let names: Vec<&str> = snapshot.flag_names().collect();
        let flag = match input.pick_known_flag {
            Some(i) if !names.is_empty() => names[usize::from(i) % names.len()],
            _ => input.flag.as_str(),
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
        let details = snapshot.bool_details(flag, &ctx, false);
        assert_eq!(details.variant.is_none(), details.reason == Reason::Error);
        assert_eq!(details.bucket.is_some(), details.reason == Reason::Split);
        if let Some(bucket) = details.bucket {
            assert!(bucket < flagcore::BUCKETS);
        }
        let _ = snapshot.string_details(flag, &ctx, "");
        let _ = snapshot.float_details(flag, &ctx, 0.0);
        let _ = snapshot.explain(flag, &ctx);
    });
});
