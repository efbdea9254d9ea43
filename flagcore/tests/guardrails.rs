//! Guardrails (docs/format.md §2.13): the seeded simulation (a smaller run than the
//! figures in benches/README.md), trips that kill like an operator and survive reloads and
//! restarts, evidence kept across reloads while the definition stays, reset by a revive,
//! the bounds on latency and absolute error rates, bad input, and validation.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/guardrail_simulation.rs"]
mod simulation;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use flagcore::{EvaluationContext, MetricsExporter, Observation, Reason, Store};

/// A flag `checkout` at 50% with one guardrail written as `guardrail` (JSON), at `version`.
fn snapshot(version: u64, guardrail: &str) -> String {
    format!(
        r#"{{"version": {version}, "flags": {{"checkout": {{
          "variants": {{"on": true, "off": false, "dark": false}}, "enabled": true,
          "off_variant": "off",
          "fallthrough": {{"rollout": {{"split": [{{"variant": "on", "weight": 50}},
                                                {{"variant": "off", "weight": 50}}]}}}},
          "guardrails": [{guardrail}]}}}}}}"#
    )
}

const ERRORS: &str =
    r#"{"id": "errors", "watch": ["on"], "baseline": "off", "max_increase": 0.01}"#;

/// Feeds `n` observations to each of `on` and `off`, every `on_every`-th of `on` an
/// error and every 100th of `off`.
fn feed(store: &Store, n: u32, on_every: u32) {
    for i in 0..n {
        let on = if i % on_every == 0 {
            Observation::error()
        } else {
            Observation::success()
        };
        store.observe("checkout", "on", on);
        let off = if i % 100 == 0 {
            Observation::error()
        } else {
            Observation::success()
        };
        store.observe("checkout", "off", off);
    }
}

fn served(store: &Store) -> Reason {
    store
        .snapshot()
        .bool_details("checkout", &EvaluationContext::new("u-1"), true)
        .reason
}

#[test]
fn simulation_meets_the_error_rates_and_the_detection_time() {
    let runs = 40;
    let healthy = simulation::simulate(runs, 200_000, 0.01, 7);
    let at_bound = simulation::simulate(runs, 200_000, 0.02, 8);
    let bad = simulation::simulate(runs, 200_000, 0.05, 9);
    assert!(healthy.trips <= 1, "healthy: {healthy:?}");
    assert!(at_bound.trips <= 1, "at the bound: {at_bound:?}");
    assert!(bad.trips >= runs - 1, "bad: {bad:?}");
    assert!(bad.quantile(0.5).unwrap() <= 3_000, "bad: {bad:?}");
}

#[test]
fn a_trip_kills_the_flag_at_once_with_the_evidence_and_tells_the_callback() {
    let store = Store::from_bytes(snapshot(1, ERRORS).as_bytes()).unwrap();
    let told = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&told);
    store.on_guardrail_trip(move |kill| log.lock().unwrap().push(kill.clone()));
    assert_eq!(served(&store), Reason::Split);
    for i in 0..10_000u32 {
        let before = store.guardrail_trips();
        store.observe(
            "checkout",
            "on",
            if i % 10 == 0 {
                Observation::error()
            } else {
                Observation::success()
            },
        );
        store.observe("checkout", "off", Observation::success());
        if before == 0 && store.guardrail_trips() == 1 {
            // The observation that tripped it has returned: the kill is in force.
            assert_eq!(served(&store), Reason::Disabled);
        }
    }
    assert_eq!(store.guardrail_trips(), 1);
    let kills = store.kills();
    assert_eq!(kills.len(), 1);
    let reason = &kills[0].reason;
    assert!(reason.starts_with("guardrail errors: 10."), "{reason}");
    assert!(reason.contains("% vs 0.0% errors, "), "{reason}");
    assert!(
        reason.ends_with("observations (max_increase 0.01)"),
        "{reason}"
    );
    assert_eq!(*told.lock().unwrap(), kills);
    let status = &store.guardrails()[0];
    assert!(status.tripped);
    assert_eq!(status.bound, "max_increase 0.01 over off");
    // A killed flag gathers no evidence: the counts stopped at the trip.
    let (_, baseline) = status.baseline.clone().unwrap();
    assert!(baseline.observations < 10_000, "{status:?}");
}

#[test]
fn a_trip_survives_reloads_and_a_revive_resets_the_evidence() {
    let store = Store::from_bytes(snapshot(1, ERRORS).as_bytes()).unwrap();
    feed(&store, 5_000, 10);
    assert_eq!(served(&store), Reason::Disabled);
    store.update(snapshot(2, ERRORS).as_bytes()).unwrap();
    assert_eq!(
        served(&store),
        Reason::Disabled,
        "the kill outlives a reload"
    );
    assert!(store.guardrails()[0].tripped, "and so does the evidence");

    assert!(store.revive("checkout"));
    assert_eq!(served(&store), Reason::Split);
    let status = &store.guardrails()[0];
    assert!(!status.tripped);
    assert_eq!(status.watched[0].1, flagcore::Counts::default());
    assert_eq!(
        status.baseline.as_ref().unwrap().1,
        flagcore::Counts::default()
    );
}

#[test]
fn evidence_survives_a_reload_while_the_definition_stays_and_restarts_when_it_changes() {
    let store = Store::from_bytes(snapshot(1, ERRORS).as_bytes()).unwrap();
    feed(&store, 1_000, 100);
    let counts = |store: &Store| store.guardrails()[0].watched[0].1.observations;
    assert_eq!(counts(&store), 1_000);
    store.update(snapshot(2, ERRORS).as_bytes()).unwrap();
    assert_eq!(counts(&store), 1_000);
    let changed = ERRORS.replace("0.01", "0.02");
    store.update(snapshot(3, &changed).as_bytes()).unwrap();
    assert_eq!(counts(&store), 0);
}

#[cfg(feature = "cache")]
#[test]
fn a_trip_survives_a_restart_with_the_disk_cache() {
    let dir = std::env::temp_dir().join(format!("flagcore-guardrail-{}", std::process::id()));
    let cache = flagcore::source::DiskCache::new(&dir);
    let store = Arc::new(Store::from_bytes(snapshot(1, ERRORS).as_bytes()).unwrap());
    let persistence = cache.persist_kills(&store);
    feed(&store, 5_000, 10);
    assert_eq!(served(&store), Reason::Disabled);
    drop(persistence);
    drop(store);

    let restarted = Store::from_bytes(snapshot(1, ERRORS).as_bytes()).unwrap();
    cache.restore_kills(&restarted).unwrap();
    assert_eq!(served(&restarted), Reason::Disabled);
    assert!(restarted.kills()[0].reason.starts_with("guardrail errors"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_latency_guardrail_trips_on_slow_requests_only() {
    let p99 = r#"{"id": "p99", "watch": ["on"], "latency_percentile": 99, "max_latency_ms": 250}"#;
    let store = Store::from_bytes(snapshot(1, p99).as_bytes()).unwrap();
    let fast = Observation::success().with_latency(Duration::from_millis(80));
    let slow = Observation::success().with_latency(Duration::from_millis(400));
    for i in 0..5_000 {
        // Errors and observations without a latency say nothing about latency.
        store.observe("checkout", "on", Observation::error());
        store.observe("checkout", "on", if i % 200 == 0 { slow } else { fast });
    }
    assert_eq!(served(&store), Reason::Split, "0.5% slow is within p99");
    assert_eq!(store.guardrails()[0].watched[0].1.observations, 5_000);
    for i in 0..5_000 {
        store.observe("checkout", "on", if i % 20 == 0 { slow } else { fast });
    }
    assert_eq!(served(&store), Reason::Disabled);
    let reason = &store.kills()[0].reason;
    assert!(reason.starts_with("guardrail p99: "), "{reason}");
    assert!(reason.contains("slower than 250 ms"), "{reason}");
}

#[test]
fn an_absolute_error_rate_guardrail_watches_several_variants() {
    let rate = r#"{"id": "budget", "watch": ["on", "dark"], "max_error_rate": 0.05}"#;
    let store = Store::from_bytes(snapshot(1, rate).as_bytes()).unwrap();
    for i in 0..2_000 {
        let ok = Observation::success();
        store.observe(
            "checkout",
            "on",
            if i % 50 == 0 {
                Observation::error()
            } else {
                ok
            },
        );
        store.observe("checkout", "dark", ok);
        store.observe("checkout", "off", Observation::error()); // not watched
    }
    assert_eq!(served(&store), Reason::Split);
    let status = &store.guardrails()[0];
    assert_eq!(
        status
            .watched
            .iter()
            .map(|(v, c)| (v.as_str(), c.events))
            .collect::<Vec<_>>(),
        [("on", 40), ("dark", 0)]
    );
    for _ in 0..600 {
        store.observe("checkout", "dark", Observation::error());
    }
    assert_eq!(served(&store), Reason::Disabled);
}

#[test]
fn unknown_flags_and_variants_are_ignored_and_counted() {
    let store = Store::new();
    store.observe("checkout", "on", Observation::error());
    store.update(snapshot(1, ERRORS).as_bytes()).unwrap();
    store.observe("nope", "on", Observation::error());
    store.observe("checkout", "maybe", Observation::error());
    store.observe("checkout", "dark", Observation::error()); // known, unwatched: no evidence
    assert_eq!(store.observations_ignored(), 3);
    assert_eq!(store.guardrails()[0].watched[0].1.observations, 0);
    store.kill("checkout", "operator");
    store.observe("checkout", "on", Observation::error());
    assert_eq!(store.guardrails()[0].watched[0].1.observations, 0);
    assert_eq!(store.observations_ignored(), 3);
}

#[test]
fn a_tripped_guardrail_stops_a_scheduled_ramp() {
    let doc = snapshot(1, ERRORS).replace(
        r#""variant": "off", "weight": 50}]}}"#,
        r#""variant": "off", "weight": 50}],
           "schedule": [{"at": "2000-01-01T00:00:00Z", "split": [{"variant": "on", "weight": 100}]}]}}"#,
    );
    let store = Store::from_bytes(doc.as_bytes()).unwrap();
    feed(&store, 5_000, 10);
    let snapshot = store.snapshot();
    let d = snapshot.bool_details("checkout", &EvaluationContext::new("u-1"), true);
    assert_eq!((d.value, d.reason, d.step), (false, Reason::Disabled, None));
}

#[test]
fn the_prometheus_page_counts_trips_and_evidence() {
    let store = Store::from_bytes(snapshot(1, ERRORS).as_bytes()).unwrap();
    feed(&store, 5_000, 10);
    store.observe("nope", "on", Observation::success());
    let page = MetricsExporter::new().scrape(&store);
    for line in [
        "flagcore_guardrail_trips_total 1\n",
        "flagcore_guardrail_observations_ignored_total 1\n",
        "flagcore_guardrail_tripped{flag=\"checkout\",guardrail=\"errors\"} 1\n",
    ] {
        assert!(page.contains(line), "{line} missing from\n{page}");
    }
    let status = &store.guardrails()[0];
    let (_, on) = &status.watched[0];
    let expected = format!(
        "flagcore_guardrail_observations_total{{flag=\"checkout\",guardrail=\"errors\",variant=\"on\"}} {}\n",
        on.observations
    );
    assert!(page.contains(&expected), "{expected} missing from\n{page}");
    let errors = format!(
        "flagcore_guardrail_errors_total{{flag=\"checkout\",guardrail=\"errors\",variant=\"on\"}} {}\n",
        on.events
    );
    assert!(page.contains(&errors), "{errors} missing from\n{page}");
}

#[test]
fn validation_reports_every_bad_guardrail_with_its_path() {
    let doc = snapshot(
        1,
        r#"{"id": "a", "watch": ["on"], "baseline": "off", "max_increase": 0.01},
           {"id": "a", "watch": ["on"], "max_error_rate": 0.5},
           {"id": "b", "watch": [], "max_error_rate": 0.5},
           {"id": "c", "watch": ["on", "on"], "baseline": "on", "max_increase": 0.01},
           {"id": "d", "watch": ["nope"], "max_error_rate": 1.5},
           {"id": "e", "watch": ["on"]},
           {"id": "f", "watch": ["on"], "max_error_rate": 0.1, "latency_percentile": 99, "max_latency_ms": 5},
           {"id": "g", "watch": ["on"], "latency_percentile": 100, "max_latency_ms": 0},
           {"id": "h", "watch": ["on"], "baseline": "off"},
           {"id": "i", "watch": ["on"], "max_error_rate": "5%", "owner": "me"}"#,
    );
    let err = flagcore::validate(doc.as_bytes()).unwrap_err();
    let got: Vec<(String, &str)> = err
        .errors()
        .iter()
        .map(|e| (e.path().to_owned(), e.kind().code()))
        .collect();
    let at = |i: usize, rest: &str| format!("flags.checkout.guardrails[{i}]{rest}");
    assert_eq!(
        got,
        [
            (at(1, ".id"), "duplicate_key"),
            (at(2, ".watch"), "invalid_value"),
            (at(3, ".watch[1]"), "invalid_value"),
            (at(3, ".baseline"), "invalid_value"),
            (at(4, ".watch[0]"), "unknown_variant"),
            (at(4, ".max_error_rate"), "invalid_value"),
            (at(5, ""), "missing_field"),
            (at(6, ""), "invalid_value"),
            (at(7, ".latency_percentile"), "invalid_value"),
            (at(7, ".max_latency_ms"), "invalid_value"),
            (at(8, ".max_increase"), "missing_field"),
            (at(9, ".owner"), "unknown_field"),
            (at(9, ".max_error_rate"), "wrong_type"),
        ]
    );
}
