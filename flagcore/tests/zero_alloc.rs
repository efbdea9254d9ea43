//! Evaluation allocates nothing: a counting global allocator watches every getter, with
//! and without details, over the shared vectors (every operator, flag type, reason, nested
//! segments, prerequisites, targets, rollouts, kills) plus long hashed `in` lists, with
//! metrics counting on; and over the flagd conformance cases (every JsonLogic and flagd
//! operation, `fractional`, operator errors), loaded as flagd and converted to native
//! rollouts with flagd bucketing.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;
use std::time::SystemTime;

use flagcore::{EvaluationContext, Store, Value};
use serde_json::Value as Json;

struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator may run while thread-locals are being torn down.
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every method forwards to the system allocator unchanged; the bookkeeping
// touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Counts the heap allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(|n| n.get())
}

struct Case {
    flag: String,
    kind: String,
    key: Option<String>,
    attrs: Vec<(String, Json)>,
    default: Json,
}

fn attribute(value: &Json) -> Value<'_> {
    match value {
        Json::String(s) => Value::String(s),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap()),
        },
        other => panic!("unsupported attribute {other}"),
    }
}

/// Every getter and its details variant, for one case.
fn evaluate_all(store: &Store, case: &Case, attrs: &[(&str, Value<'_>)]) {
    let ctx = match &case.key {
        Some(key) => EvaluationContext::new(key),
        None => EvaluationContext::anonymous(),
    }
    .with_attributes(attrs);
    let snapshot = store.snapshot();
    let f = case.flag.as_str();
    match case.kind.as_str() {
        "bool" => {
            std::hint::black_box(snapshot.bool_details(f, &ctx, false));
            // Scheduled rollouts as of a given instant, not the clock's.
            std::hint::black_box(snapshot.bool_details(f, &ctx.at(SystemTime::UNIX_EPOCH), false));
            std::hint::black_box(store.bool(f, &ctx, false));
        }
        "string" => {
            std::hint::black_box(snapshot.string_details(f, &ctx, "default"));
            std::hint::black_box(snapshot.string(f, &ctx.at(SystemTime::UNIX_EPOCH), "default"));
            std::hint::black_box(snapshot.string(f, &ctx, "default"));
            store.with_plan(|plan| std::hint::black_box(plan.string(f, &ctx, "default").len()));
        }
        "int" => {
            std::hint::black_box(snapshot.int_details(f, &ctx, 0));
            std::hint::black_box(store.int(f, &ctx, 0));
        }
        "float" => {
            std::hint::black_box(snapshot.float_details(f, &ctx, 0.0));
            std::hint::black_box(store.float(f, &ctx, 0.0));
        }
        _ => {
            std::hint::black_box(snapshot.json_details(f, &ctx, &case.default));
            std::hint::black_box(snapshot.json(f, &ctx, &case.default));
            store.with_plan(|plan| {
                std::hint::black_box(plan.json_details(f, &ctx, &case.default).reason)
            });
        }
    }
}

fn load_vectors() -> Vec<(Store, Vec<Case>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let doc: Json = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let store = Store::new();
        if !doc["snapshot"].is_null() {
            store
                .update(&serde_json::to_vec(&doc["snapshot"]).unwrap())
                .unwrap();
        }
        for kill in doc["kills"].as_array().unwrap() {
            store.kill(kill.as_str().unwrap(), "test");
        }
        let cases = doc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| Case {
                flag: c["flag"].as_str().unwrap().to_owned(),
                kind: c["type"].as_str().unwrap().to_owned(),
                key: c["context"]["key"].as_str().map(str::to_owned),
                attrs: c["context"]["attributes"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                default: c["default"].clone(),
            })
            .collect();
        out.push((store, cases));
    }
    out
}

/// The flagd conformance file with its cases, and the same cases on its native conversion.
fn load_flagd() -> Vec<(Store, Vec<Case>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/flagd");
    let bytes = std::fs::read(dir.join("flags.json")).unwrap();
    let doc: Json =
        serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
    let cases = || -> Vec<Case> {
        doc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| Case {
                flag: c["flag"].as_str().unwrap().to_owned(),
                kind: c["type"].as_str().unwrap().to_owned(),
                key: c["key"].as_str().map(str::to_owned),
                attrs: c["attributes"]
                    .as_object()
                    .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                default: c["default"].clone(),
            })
            .collect()
    };
    let native = flagcore::flagd::to_native(&[&bytes], 1).unwrap().snapshot;
    vec![
        (Store::from_bytes(&bytes).unwrap(), cases()),
        (Store::from_bytes(native.as_bytes()).unwrap(), cases()),
    ]
}

fn long_list_store() -> Store {
    let countries: Vec<String> = (0..1000).map(|i| format!("\"c{i}\"")).collect();
    let numbers: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let doc = format!(
        r#"{{"version": 1, "flags": {{"long-in": {{
            "variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
            "rules": [
              {{"conditions": [{{"attribute": "country", "op": "in", "values": [{}]}}],
                "serve": {{"variant": "on"}}}},
              {{"conditions": [{{"attribute": "n", "op": "not_in", "values": [{}]}}],
                "serve": {{"variant": "on"}}}}],
            "fallthrough": {{"variant": "off"}}}}}}}}"#,
        countries.join(","),
        numbers.join(",")
    );
    Store::from_bytes(doc.as_bytes()).unwrap()
}

#[test]
fn evaluation_never_allocates() {
    // The counter itself must see an allocation, or a zero below would prove nothing.
    assert_eq!(allocations_in(|| drop(std::hint::black_box(vec![1u8]))), 1);
    let mut stores = load_vectors();
    let long = long_list_store();
    stores.push((
        long,
        ["c999", "zz"]
            .iter()
            .map(|country| Case {
                flag: "long-in".into(),
                kind: "bool".into(),
                key: Some("k".into()),
                attrs: vec![
                    ("country".into(), Json::from(*country)),
                    ("n".into(), Json::from(5000)),
                ],
                default: Json::Null,
            })
            .collect(),
    ));
    stores.extend(load_flagd());
    let total: usize = stores.iter().map(|(_, c)| c.len()).sum();
    assert!(total >= 400, "only {total} cases");

    for (store, cases) in &stores {
        for case in cases {
            let attrs: Vec<(&str, Value<'_>)> = case
                .attrs
                .iter()
                .map(|(k, v)| (k.as_str(), attribute(v)))
                .collect();
            // Warm-up: the regex engine builds its per-thread cache on first use.
            evaluate_all(store, case, &attrs);
            let n = allocations_in(|| {
                for _ in 0..3 {
                    evaluate_all(store, case, &attrs);
                }
            });
            assert_eq!(n, 0, "{} ({}) allocated {n} times", case.flag, case.kind);
        }
    }
}

#[test]
fn killed_flags_and_metrics_do_not_allocate() {
    let store = Store::from_bytes(
        br#"{"version": 3, "flags": {"f": {"variants": {"on": true, "off": false},
            "enabled": true, "off_variant": "off", "fallthrough": {"variant": "on"}}}}"#,
    )
    .unwrap();
    store.kill("f", "incident");
    let ctx = EvaluationContext::new("u");
    store.bool("f", &ctx, true);
    let n = allocations_in(|| {
        for _ in 0..100 {
            assert!(!store.bool("f", &ctx, true));
            std::hint::black_box(store.snapshot().bool_details("missing", &ctx, true));
        }
    });
    assert_eq!(n, 0);
    let metrics = store.take_metrics();
    assert_eq!(metrics.flags["f"].variants["off"], 101);
}

#[test]
fn guardrail_observations_do_not_allocate() {
    let store = Store::from_bytes(
        br#"{"version": 1, "flags": {"f": {"variants": {"on": true, "off": false},
            "enabled": true, "off_variant": "off", "fallthrough": {"variant": "on"},
            "guardrails": [
              {"id": "errors", "watch": ["on"], "baseline": "off", "max_increase": 0.5},
              {"id": "p99", "watch": ["on"], "latency_percentile": 99, "max_latency_ms": 900}]}}}"#,
    )
    .unwrap();
    let fast = flagcore::Observation::success().with_latency(std::time::Duration::from_millis(3));
    store.observe("f", "on", fast);
    let n = allocations_in(|| {
        for i in 0..1_000 {
            store.observe("f", "on", fast);
            store.observe("f", "off", flagcore::Observation::error());
            store.observe("f", if i % 2 == 0 { "nope" } else { "on" }, fast);
            store.observe("missing", "on", fast);
        }
    });
    assert_eq!(n, 0);
    assert_eq!(
        store.guardrail_trips(),
        0,
        "no trip: its kill would allocate"
    );
    assert_eq!(store.guardrails()[0].watched[0].1.observations, 1_501);
}

#[test]
fn exposure_tracked_evaluations_do_not_allocate() {
    let store = Store::from_bytes(
        br#"{"version": 1, "flags": {"f": {"variants": {"on": true, "off": false},
            "enabled": true, "off_variant": "off", "exposures": true,
            "fallthrough": {"rollout": {"by": "account", "split": [
              {"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}}}}"#,
    )
    .unwrap();
    store
        .track_exposures(
            |_: &[flagcore::Exposure]| {},
            flagcore::ExposureOptions::new().capacity(4_096),
        )
        .unwrap();
    let attrs = [("account", Value::Int(4711))];
    let ctx = EvaluationContext::new("user-with-a-key-of-forty-seven-bytes-exactly-xy")
        .with_attributes(&attrs);
    store.bool("f", &ctx, false);
    let n = allocations_in(|| {
        for _ in 0..1_000 {
            std::hint::black_box(store.bool("f", &ctx, false));
        }
    });
    assert_eq!(n, 0);
    store.flush_exposures();
    let stats = store.exposure_stats();
    assert_eq!(
        stats.accepted + stats.dropped,
        1_001,
        "every evaluation was queued or counted"
    );
}
