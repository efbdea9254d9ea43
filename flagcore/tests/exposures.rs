//! Exposure events (docs/format.md §2.14, §5.7): what each records, which evaluations
//! count, deduplication, drops when the sink falls behind, flush on demand and on drop,
//! the JSON Lines sink with rotation, and concurrent evaluating threads.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime};

use flagcore::{EvaluationContext, Exposure, ExposureOptions, JsonLinesSink, Reason, Store, Value};

const SNAPSHOT: &str = r#"{"version": 9, "flags": {
  "checkout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "exposures": true, "prerequisites": [{"flag": "payments", "variant": "on"}],
    "targets": [{"variant": "on", "keys": ["vip"]}],
    "rules": [{"id": "by-account", "conditions": [{"attribute": "plan", "op": "eq", "values": ["pro"]}],
               "serve": {"rollout": {"by": "account", "split": [{"variant": "on", "weight": 50},
                                                              {"variant": "off", "weight": 50}]}}}],
    "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}],
                                "schedule": [{"at": "2000-01-01T00:00:00Z",
                                  "split": [{"variant": "on", "weight": 20}, {"variant": "off", "weight": 80}]}]}}},
  "payments": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "exposures": true, "fallthrough": {"variant": "on"}},
  "untracked": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"variant": "on"}}}}"#;

type Seen = Arc<Mutex<Vec<Exposure>>>;

fn tracked(options: ExposureOptions) -> (Store, Seen) {
    let store = Store::from_bytes(SNAPSHOT.as_bytes()).unwrap();
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    store
        .track_exposures(
            move |batch: &[Exposure]| sink.lock().unwrap().extend_from_slice(batch),
            options,
        )
        .unwrap();
    (store, seen)
}

#[test]
fn an_exposure_records_who_got_what_and_why() {
    let (store, seen) = tracked(ExposureOptions::new());
    let before = SystemTime::now() - Duration::from_millis(20);
    let pro = [("plan", Value::from("pro")), ("account", Value::from(4711))];
    let ctx = EvaluationContext::new("u-1").with_attributes(&pro);
    let view = store.snapshot();
    let by_rule = view.bool_details("checkout", &ctx, false);
    let plain = EvaluationContext::new("u-2");
    let by_fallthrough = view.bool_details("checkout", &plain, false);
    let vip = view.bool_details("checkout", &EvaluationContext::new("vip"), false);
    store.flush_exposures();
    let seen = seen.lock().unwrap();
    // `payments` is evaluated as a prerequisite only: not an exposure.
    assert_eq!(seen.len(), 3, "{seen:#?}");

    let rule = &seen[0];
    assert_eq!(
        (
            rule.flag.as_str(),
            rule.reason,
            rule.rule_index,
            rule.rule_id.as_deref()
        ),
        ("checkout", Reason::Split, Some(0), Some("by-account"))
    );
    assert_eq!(rule.variant, by_rule.variant.unwrap());
    assert_eq!(
        (rule.key.as_deref(), rule.unit.as_deref()),
        (Some("u-1"), Some("4711"))
    );
    assert_eq!(
        (rule.bucket, rule.step, rule.version),
        (by_rule.bucket, None, 9)
    );
    assert!(rule.time >= before && rule.time <= SystemTime::now());

    let fallthrough = &seen[1];
    assert_eq!(fallthrough.unit.as_deref(), Some("u-2"), "no `by`: the key");
    assert_eq!((fallthrough.rule_index, fallthrough.step), (None, Some(0)));
    assert_eq!(fallthrough.bucket, by_fallthrough.bucket);

    assert_eq!(
        (seen[2].reason, seen[2].variant.as_str(), seen[2].bucket),
        (Reason::TargetingMatch, "on", None)
    );
    assert_eq!(vip.reason, Reason::TargetingMatch);
}

#[test]
fn only_opted_in_flags_serving_a_variant_are_exposures() {
    let (store, seen) = tracked(ExposureOptions::new());
    let ctx = EvaluationContext::new("u-1");
    store.bool("untracked", &ctx, false);
    store.int("checkout", &ctx, 0); // type mismatch: the caller's default
    store.bool("checkout", &EvaluationContext::anonymous(), false); // no key to bucket
    store.bool("missing", &ctx, false);
    store.flush_exposures();
    assert!(seen.lock().unwrap().is_empty());
    let stats = store.exposure_stats();
    assert_eq!((stats.accepted, stats.dropped), (0, 0));
}

#[test]
fn repeats_within_the_window_are_deduplicated_and_counted() {
    let window = Duration::from_millis(300);
    let (store, seen) = tracked(ExposureOptions::new().dedup(1_000, window));
    let one = EvaluationContext::new("u-1");
    for _ in 0..50 {
        store.bool("checkout", &one, false);
    }
    store.bool("checkout", &EvaluationContext::new("u-2"), false);
    store.flush_exposures();
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(store.exposure_stats().deduplicated, 49);
    let page = flagcore::MetricsExporter::new().scrape(&store);
    assert!(
        page.contains("flagcore_exposures_deduplicated_total 49\n"),
        "{page}"
    );
    assert!(
        page.contains("flagcore_exposures_delivered_total 2\n"),
        "{page}"
    );
    std::thread::sleep(window + Duration::from_millis(50));
    store.bool("checkout", &one, false);
    store.flush_exposures();
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "a new window, a new exposure"
    );
}

#[test]
fn a_sink_that_falls_behind_costs_dropped_exposures_not_waiting() {
    let gate = Arc::new(Barrier::new(2));
    let store = Store::from_bytes(SNAPSHOT.as_bytes()).unwrap();
    let delivered = Arc::new(Mutex::new(0usize));
    let (count, wait) = (Arc::clone(&delivered), Arc::clone(&gate));
    let mut first = true;
    store
        .track_exposures(
            move |batch: &[Exposure]| {
                if std::mem::take(&mut first) {
                    wait.wait(); // hold the tracking thread until the test lets go
                }
                *count.lock().unwrap() += batch.len();
            },
            ExposureOptions::new()
                .capacity(64)
                .dedup(0, Duration::ZERO)
                .flush_interval(Duration::from_millis(5)),
        )
        .unwrap();
    let keys: Vec<String> = (0..5_000).map(|i| format!("u-{i}")).collect();
    store.bool("checkout", &EvaluationContext::new(&keys[0]), false);
    std::thread::sleep(Duration::from_millis(50)); // the sink now holds the thread
    let started = Instant::now();
    for key in &keys[1..] {
        store.bool("checkout", &EvaluationContext::new(key), false);
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "evaluations never wait"
    );
    gate.wait();
    store.flush_exposures();
    let stats = store.exposure_stats();
    assert!(stats.dropped > 0, "{stats:?}");
    assert_eq!(stats.accepted + stats.dropped, 5_000, "{stats:?}");
    assert_eq!(
        *delivered.lock().unwrap() as u64,
        stats.accepted,
        "nothing accepted is lost"
    );
}

#[test]
fn threads_evaluating_at_once_lose_nothing_that_fits() {
    let (store, seen) = tracked(
        ExposureOptions::new()
            .capacity(100_000)
            .dedup(0, Duration::ZERO),
    );
    let store = Arc::new(store);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in 0..10_000 {
                    let key = format!("t{t}-{i}");
                    store.bool("checkout", &EvaluationContext::new(&key), false);
                    if i % 2_500 == 0 {
                        store.flush_exposures();
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    store.flush_exposures();
    let stats = store.exposure_stats();
    assert_eq!(
        (stats.accepted, stats.delivered, stats.dropped),
        (40_000, 40_000, 0)
    );
    let seen = seen.lock().unwrap();
    let mut units: Vec<&str> = seen.iter().filter_map(|e| e.unit.as_deref()).collect();
    units.sort_unstable();
    units.dedup();
    assert_eq!(units.len(), 40_000);
}

#[test]
fn dropping_the_store_delivers_what_was_queued() {
    let (store, seen) = tracked(ExposureOptions::new().flush_interval(Duration::from_secs(60)));
    for i in 0..100 {
        store.bool(
            "checkout",
            &EvaluationContext::new(&format!("u-{i}")),
            false,
        );
    }
    drop(store);
    assert_eq!(seen.lock().unwrap().len(), 100);
}

#[test]
fn the_json_lines_sink_appends_one_exposure_per_line_and_rotates_by_size() {
    let dir = std::env::temp_dir().join(format!("flagcore-exposures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("exposures.jsonl");
    let store = Store::from_bytes(SNAPSHOT.as_bytes()).unwrap();
    store
        .track_exposures(
            JsonLinesSink::open(&path, 4_096, 3).unwrap(),
            ExposureOptions::new(),
        )
        .unwrap();
    for i in 0..200 {
        store.bool(
            "checkout",
            &EvaluationContext::new(&format!("u-{i}")),
            false,
        );
    }
    store.flush_exposures();
    let mut lines = Vec::new();
    for file in [
        path.clone(),
        dir.join("exposures.jsonl.1"),
        dir.join("exposures.jsonl.2"),
    ] {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.len() <= 4_096,
            "{} is {} bytes",
            file.display(),
            text.len()
        );
        lines.extend(text.lines().map(str::to_owned));
    }
    assert!(
        !dir.join("exposures.jsonl.4").exists(),
        "keeps 3 rotated files"
    );
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let fields: Vec<&str> = parsed[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "bucket",
            "flag",
            "key",
            "reason",
            "rule_id",
            "rule_index",
            "step",
            "time",
            "unit",
            "variant",
            "version"
        ]
    );
    assert!(parsed
        .iter()
        .all(|e| e["flag"] == "checkout" && e["version"] == 9));
    let time = parsed[0]["time"].as_str().unwrap();
    assert!(
        flagcore::parse_rfc3339(time).is_some() && time.ends_with('Z') && time.len() == 24,
        "{time}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_new_sink_starts_where_the_old_one_stopped_and_tracking_can_stop_and_resume() {
    let (store, old) = tracked(ExposureOptions::new().flush_interval(Duration::from_secs(60)));
    let ctx = |i: usize| format!("u-{i}");
    for i in 0..10 {
        store.bool("checkout", &EvaluationContext::new(&ctx(i)), false);
    }
    let new: Seen = Arc::default();
    let sink = Arc::clone(&new);
    store
        .track_exposures(
            move |batch: &[Exposure]| sink.lock().unwrap().extend_from_slice(batch),
            ExposureOptions::new().dedup(0, Duration::ZERO),
        )
        .unwrap();
    assert_eq!(
        old.lock().unwrap().len(),
        10,
        "queued before the swap: the old sink's"
    );
    store.bool("checkout", &EvaluationContext::new(&ctx(0)), false);
    store.bool("checkout", &EvaluationContext::new(&ctx(0)), false);
    store.flush_exposures();
    assert_eq!(
        new.lock().unwrap().len(),
        2,
        "the new options apply: no dedup"
    );

    store.stop_exposures();
    store.bool("checkout", &EvaluationContext::new(&ctx(1)), false);
    store.flush_exposures();
    assert_eq!(new.lock().unwrap().len(), 2, "stopped: nothing recorded");
    let again: Seen = Arc::default();
    let sink = Arc::clone(&again);
    store
        .track_exposures(
            move |batch: &[Exposure]| sink.lock().unwrap().extend_from_slice(batch),
            ExposureOptions::new(),
        )
        .unwrap();
    store.bool("checkout", &EvaluationContext::new(&ctx(20)), false);
    store.flush_exposures();
    assert_eq!(again.lock().unwrap().len(), 1, "resumed");
}
