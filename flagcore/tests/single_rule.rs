//! Flags one clause away from their answer (one rule of one clause, a fixed fallthrough)
//! are read by the plain getters without the evaluator. Their answers, kills, type
//! mismatches and counts must be the evaluator's; the expected values here are worked
//! out by hand from the flags' definitions.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flagcore::{EvaluationContext, Reason, Store, Value};

const SNAPSHOT: &str = r#"{"version": 1,
  "segments": {
    "beta": {"rules": [{"conditions": [{"attribute": "beta", "op": "eq", "values": [true]}]}]}
  },
  "flags": {
    "by-country": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "rules": [{"conditions": [{"attribute": "country", "op": "in", "values": ["DE", "AT"]}],
                 "serve": {"variant": "on"}}],
      "fallthrough": {"variant": "off"}},
    "by-segment": {"variants": {"a": "alpha", "b": "beta", "c": "gamma"}, "enabled": true, "off_variant": "a",
      "rules": [{"conditions": [{"in_segment": "beta"}], "serve": {"variant": "b"}}],
      "fallthrough": {"variant": "c"}},
    "by-key": {"variants": {"low": 1, "high": 2}, "enabled": true, "off_variant": "low",
      "rules": [{"conditions": [{"attribute": "key", "op": "starts_with", "values": ["vip-"]}],
                 "serve": {"variant": "high"}}],
      "fallthrough": {"variant": "low"}},
    "disabled": {"variants": {"on": true, "off": false}, "enabled": false, "off_variant": "off",
      "rules": [{"conditions": [{"attribute": "country", "op": "in", "values": ["DE"]}],
                 "serve": {"variant": "on"}}],
      "fallthrough": {"variant": "on"}}
  }
}"#;

#[test]
fn single_rule_flags_answer_as_the_evaluator_does() {
    let store = Store::from_bytes(SNAPSHOT.as_bytes()).unwrap();
    let snapshot = store.snapshot();
    let mut checked = 0;
    for key in ["alice", "vip-bob"] {
        for country in [None, Some("DE"), Some("US")] {
            for beta in [None, Some(true), Some(false)] {
                let mut attributes = Vec::new();
                if let Some(country) = country {
                    attributes.push(("country", Value::String(country)));
                }
                if let Some(beta) = beta {
                    attributes.push(("beta", Value::Bool(beta)));
                }
                let ctx = EvaluationContext::new(key).with_attributes(&attributes);
                let at = format!("{key} {attributes:?}");

                let in_dach = matches!(country, Some("DE" | "AT"));
                assert_eq!(store.bool("by-country", &ctx, !in_dach), in_dach, "{at}");
                let details = snapshot.bool_details("by-country", &ctx, !in_dach);
                assert_eq!(details.value, in_dach, "{at}");
                let reason = if in_dach {
                    Reason::TargetingMatch
                } else {
                    Reason::Default
                };
                assert_eq!(details.reason, reason, "{at}");

                let segment = if beta == Some(true) { "beta" } else { "gamma" };
                assert_eq!(
                    store.snapshot().string("by-segment", &ctx, "x"),
                    segment,
                    "{at}"
                );

                let level = if key.starts_with("vip-") { 2 } else { 1 };
                assert_eq!(store.int("by-key", &ctx, 0), level, "{at}");
                assert_eq!(
                    store.float("by-key", &ctx, 0.0),
                    f64::from(level as i32),
                    "{at}"
                );

                assert!(!store.bool("disabled", &ctx, true), "{at}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 18);
}

#[test]
fn a_single_rule_flag_is_killed_mismatched_and_counted_as_any_flag() {
    let store = Store::from_bytes(SNAPSHOT.as_bytes()).unwrap();
    let attributes = [("country", Value::String("DE"))];
    let ctx = EvaluationContext::new("alice").with_attributes(&attributes);
    store.take_metrics();

    assert!(store.bool("by-country", &ctx, false));
    store.kill("by-country", "incident");
    assert!(!store.bool("by-country", &ctx, true), "killed: off_variant");
    assert!(store.revive("by-country"));
    assert!(store.bool("by-country", &ctx, false), "revived");
    // Asked as a string: the caller's default, counted as a default.
    assert_eq!(store.snapshot().string("by-country", &ctx, "dflt"), "dflt");

    let metrics = store.take_metrics();
    let counts = &metrics.flags["by-country"];
    assert_eq!(counts.variants.get("on"), Some(&2));
    assert_eq!(counts.variants.get("off"), Some(&1));
    assert_eq!(counts.defaults, 1);
}

/// Details and `explain` go through the evaluator, which finds a single-rule flag's clause
/// where the plan keeps it; `explain` still walks the rule as written (a segment, here).
#[test]
fn details_and_explain_of_a_single_rule_flag_name_its_rule_and_segment() {
    let store = Store::from_bytes(SNAPSHOT.as_bytes()).unwrap();
    let snapshot = store.snapshot();
    for (beta, expected, reason, rule) in [
        (true, "beta", Reason::TargetingMatch, Some(0)),
        (false, "gamma", Reason::Default, None),
    ] {
        let attributes = [("beta", Value::Bool(beta))];
        let ctx = EvaluationContext::new("carol").with_attributes(&attributes);
        let details = snapshot.string_details("by-segment", &ctx, "x");
        assert_eq!(
            (details.value, details.reason, details.rule_index),
            (expected, reason, rule),
            "beta {beta}"
        );
        let explained = snapshot.explain("by-segment", &ctx);
        assert_eq!(explained.value, serde_json::json!(expected), "beta {beta}");
        assert_eq!(explained.rule_index, rule, "beta {beta}");
        let steps = explained.steps.join("\n");
        assert!(steps.contains("segment beta: "), "beta {beta}:\n{steps}");
        assert!(steps.contains("in_segment beta"), "beta {beta}:\n{steps}");
    }
    let ctx = EvaluationContext::new("vip-dana");
    let explained = snapshot.explain("by-key", &ctx);
    assert_eq!(explained.rule_index, Some(0));
    let steps = explained.steps.join("\n");
    assert!(steps.contains("key starts_with"), "{steps}");
}
