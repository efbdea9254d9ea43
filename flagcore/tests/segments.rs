//! Segments as rules name them: nested, negated, with listed keys, with several rules.
//! Plain evaluations inline small segments into the rules that name them, while `explain`
//! evaluates the segments as written; both must give the answer the segments' definitions
//! give, which this test computes on its own from the context for every combination.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flagcore::{EvaluationContext, Store, Value};

const SNAPSHOT: &str = r#"{"version": 1,
  "segments": {
    "opted": {"rules": [{"conditions": [{"attribute": "beta", "op": "eq", "values": [true]}]}]},
    "dach": {"rules": [{"conditions": [{"attribute": "country", "op": "in", "values": ["DE", "AT", "CH"]}]}]},
    "opted-dach": {"rules": [{"conditions": [{"in_segment": "opted"}, {"in_segment": "dach"}]}]},
    "staff": {"include": ["alice"], "exclude": ["mallory"],
              "rules": [{"conditions": [{"attribute": "email", "op": "ends_with", "values": ["@corp.example"]}]}]},
    "outsider": {"rules": [{"conditions": [{"not_in_segment": "staff"}]}]},
    "nested": {"rules": [{"conditions": [{"in_segment": "opted-dach"}, {"in_segment": "outsider"}]}]},
    "either": {"rules": [{"conditions": [{"in_segment": "opted"}]}, {"conditions": [{"in_segment": "dach"}]}]},
    "never": {},
    "keyed-nested": {"exclude": ["bob"], "rules": [{"conditions": [{"in_segment": "nested"}]}]}
  },
  "flags": {
    "nested": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "rules": [{"conditions": [{"in_segment": "nested"}, {"attribute": "plan", "op": "eq", "values": ["pro"]}],
                 "serve": {"variant": "on"}}],
      "fallthrough": {"variant": "off"}},
    "either": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "rules": [{"conditions": [{"in_segment": "either"}, {"not_in_segment": "opted-dach"}],
                 "serve": {"variant": "on"}}],
      "fallthrough": {"variant": "off"}},
    "never": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "rules": [{"conditions": [{"in_segment": "never"}], "serve": {"variant": "on"}}],
      "fallthrough": {"variant": "off"}},
    "keyed": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "rules": [{"conditions": [{"in_segment": "keyed-nested"}], "serve": {"variant": "on"}}],
      "fallthrough": {"variant": "off"}}
  }
}"#;

/// The segments' definitions, written out by hand.
struct Person<'a> {
    key: &'a str,
    beta: Option<Value<'a>>,
    country: Option<&'a str>,
    email: Option<&'a str>,
    plan: Option<&'a str>,
}

impl Person<'_> {
    fn opted(&self) -> bool {
        self.beta == Some(Value::Bool(true))
    }
    fn dach(&self) -> bool {
        matches!(self.country, Some("DE" | "AT" | "CH"))
    }
    fn staff(&self) -> bool {
        self.key != "mallory"
            && (self.key == "alice" || self.email.is_some_and(|e| e.ends_with("@corp.example")))
    }
    fn nested(&self) -> bool {
        self.opted() && self.dach() && !self.staff()
    }
    fn expected(&self, flag: &str) -> bool {
        match flag {
            "nested" => self.nested() && self.plan == Some("pro"),
            "either" => (self.opted() || self.dach()) && !(self.opted() && self.dach()),
            "never" => false,
            "keyed" => self.key != "bob" && self.nested(),
            _ => unreachable!("no flag {flag}"),
        }
    }
}

#[test]
fn inlined_and_traced_segments_answer_as_their_definitions() {
    let store = Store::from_bytes(SNAPSHOT.as_bytes()).unwrap();
    let snapshot = store.snapshot();
    let mut checked = 0;
    for key in ["alice", "bob", "mallory", "carol"] {
        for beta in [
            None,
            Some(Value::Bool(true)),
            Some(Value::Bool(false)),
            Some(Value::Int(1)),
        ] {
            for country in [None, Some("DE"), Some("CH"), Some("US")] {
                for email in [None, Some("x@corp.example"), Some("x@example.com")] {
                    for plan in [None, Some("pro"), Some("free")] {
                        let person = Person {
                            key,
                            beta,
                            country,
                            email,
                            plan,
                        };
                        let mut attributes = Vec::new();
                        if let Some(beta) = beta {
                            attributes.push(("beta", beta));
                        }
                        for (name, value) in
                            [("country", country), ("email", email), ("plan", plan)]
                        {
                            if let Some(value) = value {
                                attributes.push((name, Value::String(value)));
                            }
                        }
                        let ctx = EvaluationContext::new(key).with_attributes(&attributes);
                        for flag in ["nested", "either", "never", "keyed"] {
                            let expected = person.expected(flag);
                            let context = format!("{flag} for {key} {attributes:?}");
                            assert_eq!(store.bool(flag, &ctx, !expected), expected, "{context}");
                            assert_eq!(
                                snapshot.bool_details(flag, &ctx, !expected).value,
                                expected,
                                "details of {context}"
                            );
                            let explained = snapshot.explain(flag, &ctx);
                            assert_eq!(explained.value, expected, "explain of {context}");
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 4 * 4 * 4 * 3 * 3 * 4);
}

#[test]
fn explain_still_names_every_nested_segment() {
    let store = Store::from_bytes(SNAPSHOT.as_bytes()).unwrap();
    let attributes = [
        ("beta", Value::Bool(true)),
        ("country", Value::String("DE")),
        ("plan", Value::String("pro")),
    ];
    let ctx = EvaluationContext::new("carol").with_attributes(&attributes);
    let explained = store.snapshot().explain("nested", &ctx);
    let steps = explained.steps.join("\n");
    for segment in ["opted", "dach", "opted-dach", "staff", "outsider", "nested"] {
        assert!(
            steps.contains(&format!("segment {segment}: ")),
            "no verdict for segment {segment} in:\n{steps}"
        );
    }
}
