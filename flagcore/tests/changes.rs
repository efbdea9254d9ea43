//! Change notices (`Store::subscribe`): which flags an update, a kill, a revive or a
//! guardrail trip changed, whatever fed the store.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use flagcore::{Change, Observation, Store};

/// A snapshot of `version` with the flags given as `(name, JSON)` and one segment `beta`
/// whose rule reads `beta_rule` (a JSON condition).
fn snapshot(version: u64, beta_rule: &str, flags: &[(&str, String)]) -> Vec<u8> {
    let flags: Vec<String> = flags
        .iter()
        .map(|(name, body)| format!("\"{name}\": {body}"))
        .collect();
    format!(
        r#"{{"version": {version},
            "segments": {{"beta": {{"rules": [{{"conditions": [{beta_rule}]}}]}},
                          "staff": {{"include": ["ann"]}}}},
            "flags": {{{}}}}}"#,
        flags.join(", ")
    )
    .into_bytes()
}

fn flag(weight: u32, extra: &str) -> String {
    format!(
        r#"{{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
            {extra}
            "fallthrough": {{"rollout": {{"split": [{{"variant": "on", "weight": {weight}}},
                                                   {{"variant": "off", "weight": {}}}]}}}}}}"#,
        100 - weight
    )
}

const BETA: &str = r#"{"attribute": "beta", "op": "eq", "values": [true]}"#;
const IN_BETA: &str =
    r#""rules": [{"conditions": [{"in_segment": "beta"}], "serve": {"variant": "on"}}],"#;
const IN_STAFF: &str =
    r#""rules": [{"conditions": [{"in_segment": "staff"}], "serve": {"variant": "on"}}],"#;
const NEEDS_A: &str = r#""prerequisites": [{"flag": "a", "variant": "on"}],"#;

fn recording(store: &Store) -> Arc<Mutex<Vec<Change>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    store.subscribe(move |change| log.lock().unwrap().push(change.clone()));
    seen
}

fn last(seen: &Mutex<Vec<Change>>) -> (Option<u64>, Vec<String>) {
    let seen = seen.lock().unwrap();
    let change = seen.last().expect("a change was reported");
    (change.version, change.flags.clone())
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn an_update_reports_exactly_the_flags_that_changed() {
    let base = [
        ("a", flag(5, "")),
        ("gone", flag(5, "")),
        ("same", flag(5, "")),
        ("uses-beta", flag(5, IN_BETA)),
        ("uses-staff", flag(5, IN_STAFF)),
        ("needs-a", flag(5, NEEDS_A)),
    ];
    let store = Store::from_bytes(&snapshot(1, BETA, &base)).unwrap();
    let seen = recording(&store);

    // Same definitions, new version: nothing changed but the version.
    store.update(&snapshot(2, BETA, &base)).unwrap();
    assert_eq!(last(&seen), (Some(2), vec![]));

    // `a` grows 5 -> 50, `gone` goes, `new` comes; `needs-a` depends on `a`.
    let next = [
        ("a", flag(50, "")),
        ("new", flag(5, "")),
        ("same", flag(5, "")),
        ("uses-beta", flag(5, IN_BETA)),
        ("uses-staff", flag(5, IN_STAFF)),
        ("needs-a", flag(5, NEEDS_A)),
    ];
    store.update(&snapshot(3, BETA, &next)).unwrap();
    assert_eq!(
        last(&seen),
        (Some(3), names(&["a", "gone", "needs-a", "new"]))
    );

    // The segment `beta` changes: the flag using it changes, the others do not.
    let other_beta = r#"{"attribute": "beta", "op": "eq", "values": [false]}"#;
    store.update(&snapshot(4, other_beta, &next)).unwrap();
    assert_eq!(last(&seen), (Some(4), names(&["uses-beta"])));
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn kills_revives_restores_and_trips_report_the_flag() {
    let guarded = flag(
        50,
        r#""guardrails": [{"id": "errors", "watch": ["on"], "max_error_rate": 0.01}],"#,
    );
    let store =
        Store::from_bytes(&snapshot(7, BETA, &[("a", flag(5, "")), ("g", guarded)])).unwrap();
    let seen = recording(&store);
    store.kill("a", "incident");
    assert_eq!(last(&seen), (Some(7), names(&["a"])));
    store.kill("a", "still the incident");
    assert_eq!(seen.lock().unwrap().len(), 1, "no change: already killed");
    assert!(store.revive("a"));
    assert_eq!(last(&seen), (Some(7), names(&["a"])));
    assert!(!store.revive("a"));
    assert_eq!(seen.lock().unwrap().len(), 2, "no change: not killed");
    store.restore_kills([flagcore::Kill {
        flag: "a".into(),
        reason: "from the cache".into(),
        at: std::time::SystemTime::now(),
    }]);
    assert_eq!(last(&seen), (Some(7), names(&["a"])));
    for _ in 0..1_000 {
        store.observe("g", "on", Observation::error());
    }
    assert_eq!(last(&seen), (Some(7), names(&["g"])));
}

#[test]
fn an_unsubscribed_listener_hears_nothing_more() {
    let store = Store::from_bytes(&snapshot(1, BETA, &[("a", flag(5, ""))])).unwrap();
    let seen = Arc::new(Mutex::new(0));
    let count = Arc::clone(&seen);
    let id = store.subscribe(move |_| *count.lock().unwrap() += 1);
    store.kill("a", "x");
    assert!(store.unsubscribe(id));
    assert!(!store.unsubscribe(id));
    store.revive("a");
    assert_eq!(*seen.lock().unwrap(), 1);
}

#[test]
fn a_kill_reports_the_flags_that_depend_on_the_killed_one() {
    let flags = [
        ("a", flag(5, "")),
        ("needs-a", flag(5, NEEDS_A)),
        (
            "needs-needs-a",
            flag(
                5,
                r#""prerequisites": [{"flag": "needs-a", "variant": "on"}],"#,
            ),
        ),
        ("other", flag(5, "")),
    ];
    let store = Store::from_bytes(&snapshot(1, BETA, &flags)).unwrap();
    let seen = recording(&store);
    store.kill("a", "incident");
    assert_eq!(
        last(&seen),
        (Some(1), names(&["a", "needs-a", "needs-needs-a"]))
    );
    store.revive("a");
    assert_eq!(
        last(&seen),
        (Some(1), names(&["a", "needs-a", "needs-needs-a"]))
    );
    store.kill("not-in-the-snapshot", "early");
    assert_eq!(last(&seen), (Some(1), names(&["not-in-the-snapshot"])));
}

/// A flag of one rule of one clause keeps that clause apart in the plan; its changes, and
/// those of a segment its rule names, are reported all the same.
#[test]
fn single_rule_flags_report_a_changed_clause_or_segment() {
    let single = |condition: &str| {
        format!(
            r#"{{"variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
                "rules": [{{"conditions": [{condition}], "serve": {{"variant": "on"}}}}],
                "fallthrough": {{"variant": "off"}}}}"#
        )
    };
    let country = |values: &str| {
        single(&format!(
            r#"{{"attribute": "country", "op": "in", "values": [{values}]}}"#
        ))
    };
    let flags = |countries: &str| {
        [
            ("by-country", country(countries)),
            ("steady", country(r#""DE""#)),
            ("by-beta", single(r#"{"in_segment": "beta"}"#)),
        ]
    };
    let store = Store::from_bytes(&snapshot(1, BETA, &flags(r#""DE""#))).unwrap();
    let seen = recording(&store);

    store.update(&snapshot(2, BETA, &flags(r#""DE""#))).unwrap();
    assert_eq!(last(&seen), (Some(2), vec![]));
    store
        .update(&snapshot(3, BETA, &flags(r#""DE", "AT""#)))
        .unwrap();
    assert_eq!(last(&seen), (Some(3), names(&["by-country"])));
    let other_beta = r#"{"attribute": "beta", "op": "eq", "values": [false]}"#;
    store
        .update(&snapshot(4, other_beta, &flags(r#""DE", "AT""#)))
        .unwrap();
    assert_eq!(last(&seen), (Some(4), names(&["by-beta"])));
}
