//! The peers bench compares like with like: the three engines give the same answer to
//! every case it times, by the same path, and flagcore allocates nothing per evaluation.
//! The bench stops on the same checks before timing; CI only compiles benches, so they
//! run here too.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/peers.rs"]
mod support;

use flagcore::{Reason, Value};
use launchdarkly_server_sdk_evaluation as ld;
use support::{allocations_per_call, Engines, PeerContext, CASES};

#[test]
fn every_engine_gives_the_measured_answers_by_the_measured_path() {
    let engines = Engines::new();
    let ctx = PeerContext::measured();
    engines.assert_agree(&ctx);
    // `true` from a rollout case means the rule matched and the rollout served `on`; the
    // reasons say so where the engine reports one (yggdrasil's `is_enabled` does not).
    for case in CASES {
        let answers = engines.answers(case, &ctx);
        assert!(answers.flagcore, "{case}: {answers}");
        let rule_match = ld::Reason::RuleMatch {
            rule_index: 0,
            rule_id: "r0".to_owned(),
            in_experiment: false,
        };
        let (flagcore_reason, ld_reason) = match case {
            "static" => (
                Reason::Static,
                ld::Reason::Fallthrough {
                    in_experiment: false,
                },
            ),
            // The rule serves `on` itself.
            "regex" | "long-list" => (Reason::TargetingMatch, rule_match),
            _ => (Reason::Split, rule_match),
        };
        assert_eq!(
            answers.flagcore_reason, flagcore_reason,
            "{case}: {answers}"
        );
        assert_eq!(answers.launchdarkly_reason, ld_reason, "{case}: {answers}");
    }
}

/// Contexts that differ from the measured one in one attribute, each with the answers to
/// [`CASES`] the rules call for: the engines read the rule shapes alike, not only on the
/// measured path.
fn other_contexts() -> Vec<(PeerContext, [bool; 5])> {
    let with = |country, beta, app_version| {
        PeerContext::new(
            flagcore_benches::PEERS_KEY,
            [
                ("country", Value::String(country)),
                ("beta", Value::Bool(beta)),
                ("app_version", Value::String(app_version)),
            ],
        )
    };
    vec![
        // The country is not in either list (names compare case-sensitively).
        (with("FR", true, "2.4.1"), [true, false, true, true, false]),
        (with("de", true, "2.4.1"), [true, false, true, true, false]),
        // Not in the beta segment.
        (with("US", false, "2.4.1"), [true, true, false, true, false]),
        // Not after 2.3.9; build metadata does not count; the pattern wants 2.4.
        (with("CA", true, "2.3.9"), [true, true, false, false, false]),
        (
            with("CA", true, "2.3.9+build.7"),
            [true, true, false, false, false],
        ),
        // After 2.3.9 by number, though before it by text.
        (with("DE", true, "2.3.10"), [true, true, true, false, true]),
        (with("DE", true, "10.0.0"), [true, true, true, false, true]),
        // The pattern is anchored at both ends.
        (
            with("DE", true, "2.4.1-rc.1"),
            [true, true, true, false, true],
        ),
    ]
}

#[test]
fn the_engines_agree_where_the_rules_decide_otherwise() {
    let engines = Engines::new();
    for (ctx, expected) in other_contexts() {
        engines.assert_agree(&ctx);
        let answers = CASES.map(|case| engines.answers(case, &ctx).flagcore);
        assert_eq!(answers, expected, "{ctx}");
    }
}

#[test]
fn flagcore_allocates_nothing_per_evaluation() {
    let engines = Engines::new();
    engines.assert_flagcore_allocates_nothing(&PeerContext::measured());
    for (ctx, _) in other_contexts() {
        engines.assert_flagcore_allocates_nothing(&ctx);
    }
}

/// The counter that finds flagcore's allocations sees one when there is one.
#[test]
fn the_allocation_counter_counts() {
    let per_call = allocations_per_call(|| {
        std::hint::black_box(Vec::<u8>::with_capacity(std::hint::black_box(8)));
    });
    assert_eq!(per_call, 1.0);
}
