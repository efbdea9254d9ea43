//! Store behaviour: updates, kills that survive reloads, metrics across swaps, and
//! readers racing a writer.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use flagcore::{EvaluationContext, Reason, Store};

fn snapshot(version: u64, enabled: bool) -> Vec<u8> {
    format!(
        r#"{{"version": {version}, "flags": {{
            "a": {{"variants": {{"v": {version}, "zero": 0}}, "enabled": {enabled},
                  "off_variant": "zero", "fallthrough": {{"variant": "v"}}}},
            "b": {{"variants": {{"v": {version}, "zero": 0}}, "enabled": true,
                  "off_variant": "zero", "fallthrough": {{"variant": "v"}}}}}}}}"#
    )
    .into_bytes()
}

const CTX: EvaluationContext<'static> = EvaluationContext::new("user");

#[test]
fn before_the_first_snapshot_the_default_is_served_as_not_ready() {
    let store = Store::new();
    let view = store.snapshot();
    let details = view.int_details("a", &CTX, 7);
    assert_eq!(details.value, 7);
    assert_eq!(details.reason, Reason::Error);
    assert_eq!(
        details.error_code.map(|c| c.as_str()),
        Some("PROVIDER_NOT_READY")
    );
    assert_eq!(store.version(), None);
}

#[test]
fn a_kill_survives_reloads_until_revived() {
    let store = Store::from_bytes(&snapshot(1, true)).unwrap();
    store.kill("a", "incident 42");
    assert_eq!(store.int("a", &CTX, -1), 0);
    store.update(&snapshot(2, true)).unwrap();
    let view = store.snapshot();
    let details = view.int_details("a", &CTX, -1);
    assert_eq!((details.value, details.reason), (0, Reason::Disabled));
    let kills = store.kills();
    assert_eq!(kills.len(), 1);
    assert_eq!(
        (kills[0].flag.as_str(), kills[0].reason.as_str()),
        ("a", "incident 42")
    );
    assert!(store.revive("a"));
    assert!(!store.revive("a"));
    assert_eq!(store.int("a", &CTX, -1), 2);
    assert!(store.kills().is_empty());
}

#[test]
fn a_flag_killed_before_it_exists_is_served_killed_when_it_appears() {
    let store = Store::new();
    store.kill("a", "pre-emptive");
    store.update(&snapshot(1, true)).unwrap();
    assert_eq!(
        store.snapshot().int_details("a", &CTX, -1).reason,
        Reason::Disabled
    );
    assert_eq!(store.int("b", &CTX, -1), 1);
}

#[test]
fn a_kill_reaches_a_snapshot_view_taken_before_it() {
    let store = Store::from_bytes(&snapshot(1, true)).unwrap();
    let view = store.snapshot();
    store.kill("a", "now");
    assert_eq!(view.int("a", &CTX, -1), 0);
}

#[test]
fn metrics_count_per_variant_across_swaps_and_reset_when_taken() {
    let store = Store::from_bytes(&snapshot(1, true)).unwrap();
    for _ in 0..3 {
        store.int("a", &CTX, 0);
    }
    store.bool("a", &CTX, false); // type mismatch: the caller's default
    store.update(&snapshot(2, false)).unwrap();
    store.int("a", &CTX, 0);
    let metrics = store.take_metrics();
    let a = &metrics.flags["a"];
    assert_eq!(a.variants["v"], 3);
    assert_eq!(a.variants["zero"], 1);
    assert_eq!(a.defaults, 1);
    assert_eq!(a.total(), 5);
    assert!(store.take_metrics().flags.is_empty());
    store.set_metrics_enabled(false);
    store.int("a", &CTX, 0);
    assert!(store.take_metrics().flags.is_empty());
}

#[test]
fn readers_see_exactly_one_version_while_a_writer_swaps() {
    let store = Arc::new(Store::from_bytes(&snapshot(1, true)).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let store = Arc::clone(&store);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut evaluations = 0u64;
                let mut last = 0;
                while !stop.load(Ordering::Relaxed) {
                    let view = store.snapshot();
                    let version = view.version().unwrap() as i64;
                    let a = view.int("a", &CTX, -1);
                    let b = view.int("b", &CTX, -1);
                    // Both flags serve the snapshot's version: a mix would differ.
                    assert_eq!((a, b), (version, version));
                    assert!(version >= last, "versions went backwards");
                    last = version;
                    evaluations += 1;
                }
                evaluations
            })
        })
        .collect();
    for version in 2..=2000 {
        store.update(&snapshot(version, true)).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let evaluations: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(evaluations > 0);
    assert_eq!(store.version(), Some(2000));
}

#[test]
fn a_flag_handle_follows_its_flag_across_updates() {
    static B: flagcore::FlagHandle = flagcore::FlagHandle::new("b");
    let store = Store::from_bytes(&snapshot(1, true)).unwrap();
    assert_eq!(store.int(&B, &CTX, -1), 1);
    assert_eq!(store.int(&B, &CTX, -1), 1);
    // A snapshot where `b` moves to another index, then one without it.
    store
        .update(
            br#"{"version": 2, "flags": {"z": {"variants": {"v": 9}, "enabled": true,
                "off_variant": "v", "fallthrough": {"variant": "v"}},
                "b": {"variants": {"v": 2}, "enabled": true, "off_variant": "v",
                "fallthrough": {"variant": "v"}}}}"#,
        )
        .unwrap();
    assert_eq!(store.int(&B, &CTX, -1), 2);
    store.update(br#"{"version": 3, "flags": {}}"#).unwrap();
    let view = store.snapshot();
    assert_eq!(
        view.int_details(&B, &CTX, -1)
            .error_code
            .map(|c| c.as_str()),
        Some("FLAG_NOT_FOUND")
    );
}

#[test]
fn details_name_the_target_that_decided() {
    let store = Store::from_bytes(
        br#"{"version": 1, "flags": {"t": {"variants": {"on": true, "off": false},
            "enabled": true, "off_variant": "off",
            "targets": [{"variant": "on", "keys": ["ann"]}, {"variant": "off", "keys": ["bob"]}],
            "fallthrough": {"variant": "on"}}}}"#,
    )
    .unwrap();
    let view = store.snapshot();
    let bob = view.bool_details("t", &EvaluationContext::new("bob"), true);
    assert_eq!(
        (bob.value, bob.target, bob.target_index),
        (false, true, Some(1))
    );
    assert_eq!(bob.reason, Reason::TargetingMatch);
    let carl = view.bool_details("t", &EvaluationContext::new("carl"), false);
    assert_eq!((carl.target, carl.target_index), (false, None));
}

#[test]
fn each_store_serves_its_own_snapshot_to_a_thread_reading_many_stores() {
    // More stores than a thread caches plans for, read in turn and updated in between.
    let stores: Vec<Store> = (1..=9)
        .map(|v| Store::from_bytes(&snapshot(v, true)).unwrap())
        .collect();
    for round in 0..3u64 {
        for (i, store) in stores.iter().enumerate() {
            let version = i as u64 + 1 + 10 * round;
            assert_eq!(store.int("a", &CTX, -1), version as i64);
            store.update(&snapshot(version + 10, true)).unwrap();
            assert_eq!(store.int("b", &CTX, -1), version as i64 + 10);
        }
    }
    let store = &stores[0];
    store.kill("a", "cached plans still see kills");
    assert_eq!(store.int("a", &CTX, -1), 0);
}

#[test]
fn a_read_inside_a_read_sees_the_latest_snapshot() {
    let store = Store::from_bytes(&snapshot(1, true)).unwrap();
    let (outer, inner) = store.with_plan(|plan| {
        store.update(&snapshot(2, true)).unwrap();
        (plan.version(), store.int("a", &CTX, -1))
    });
    assert_eq!((outer, inner), (Some(1), 2));
    assert_eq!(store.int("a", &CTX, -1), 2);
}

#[test]
fn counts_are_exact_with_more_threads_than_counter_shards() {
    const THREADS: usize = 12;
    const EVALUATIONS: usize = 10_000;
    let store = Arc::new(Store::from_bytes(&snapshot(1, true)).unwrap());
    let taker = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || (0..50).map(|_| store.take_metrics()).collect::<Vec<_>>())
    };
    let readers: Vec<_> = (0..THREADS)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for _ in 0..EVALUATIONS {
                    assert_eq!(store.int("a", &CTX, -1), 1);
                }
            })
        })
        .collect();
    for reader in readers {
        reader.join().unwrap();
    }
    let mut total: u64 = taker
        .join()
        .unwrap()
        .iter()
        .filter_map(|m| m.flags.get("a"))
        .map(|counts| counts.total())
        .sum();
    total += store.take_metrics().flags.get("a").map_or(0, |c| c.total());
    assert_eq!(total, (THREADS * EVALUATIONS) as u64);
}

#[test]
fn counts_made_through_a_thread_cached_snapshot_survive_its_replacement() {
    let store = Arc::new(Store::from_bytes(&snapshot(1, true)).unwrap());
    // A reader thread counts on version 1 and exits; this thread caches version 1 too.
    let reader = Arc::clone(&store);
    std::thread::spawn(move || reader.int("a", &CTX, -1))
        .join()
        .unwrap();
    assert_eq!(store.int("a", &CTX, -1), 1);
    store.update(&snapshot(2, true)).unwrap();
    assert_eq!(store.int("a", &CTX, -1), 2);
    store.update(&snapshot(3, true)).unwrap();
    let counts = store.take_metrics();
    assert_eq!(counts.flags["a"].total(), 3);
    assert!(store.take_metrics().flags.is_empty());
}
