//! flagcore next to the engines a Rust team would otherwise link, on the same three rule
//! shapes, in one run: `peers/<case>/<engine>`.
//!
//! - `static`: a flag that is simply on.
//! - `country-rollout`: `country in [US, CA, DE]`, then a 50% rollout on the user key.
//! - `segment-semver-rollout`: a `beta` segment check, `app_version > 2.3.9`, a 5% rollout.
//!
//! Each engine gets its fairest setup: contexts built once outside the timed loop, the
//! engine's own store, the flag passed pre-fetched where its API allows. After timing,
//! each case also counts heap allocations per evaluation with a counting allocator.

// A bench with a broken fixture should stop at once; criterion's macros generate
// undocumented items.
#![allow(clippy::expect_used, missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use launchdarkly_server_sdk_evaluation as ld;
use unleash_yggdrasil as ygg;

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap allocations per call of `f`, averaged over many calls.
fn allocations_per_call(mut f: impl FnMut()) -> f64 {
    const CALLS: u64 = 10_000;
    f();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..CALLS {
        f();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / CALLS as f64
}

const UNLEASH: &str = r#"{"version": 2, "features": [
  {"name": "static", "enabled": true, "strategies": [{"name": "default", "parameters": {}}]},
  {"name": "country-rollout", "enabled": true, "strategies": [{"name": "flexibleRollout",
     "parameters": {"rollout": "50", "stickiness": "userId", "groupId": "country-rollout"},
     "constraints": [{"contextName": "country", "operator": "IN", "values": ["US", "CA", "DE"]}]}]},
  {"name": "segment-semver-rollout", "enabled": true, "strategies": [{"name": "flexibleRollout",
     "parameters": {"rollout": "5", "stickiness": "userId", "groupId": "segment-semver-rollout"},
     "segments": [1],
     "constraints": [{"contextName": "appVersion", "operator": "SEMVER_GT", "value": "2.3.9"}]}]}],
  "segments": [{"id": 1, "constraints": [{"contextName": "beta", "operator": "IN", "values": ["true"]}]}]}"#;

fn ld_flag(key: &str, rules: &str, fallthrough: u32) -> ld::Flag {
    let json = format!(
        r#"{{"key": "{key}", "version": 1, "on": true, "targets": [], "contextTargets": [],
            "rules": [{rules}], "prerequisites": [], "fallthrough": {{"variation": {fallthrough}}},
            "offVariation": 1, "variations": [true, false], "salt": "{key}",
            "clientSide": false, "trackEvents": false, "trackEventsFallthrough": false}}"#
    );
    serde_json::from_str(&json).expect("valid LaunchDarkly flag")
}

fn ld_rollout(on_weight: u32) -> String {
    format!(
        r#"{{"variations": [{{"variation": 0, "weight": {on_weight}}}, {{"variation": 1, "weight": {}}}]}}"#,
        100_000 - on_weight
    )
}

/// LaunchDarkly's store trait hands out owned flags and segments; a map is its simplest
/// fair implementation.
struct LdStore {
    flags: HashMap<String, ld::Flag>,
    segments: HashMap<String, ld::Segment>,
}

impl ld::Store for LdStore {
    fn flag(&self, key: &str) -> Option<ld::Flag> {
        self.flags.get(key).cloned()
    }

    fn segment(&self, key: &str) -> Option<ld::Segment> {
        self.segments.get(key).cloned()
    }
}

fn ld_store() -> LdStore {
    let static_flag = ld_flag("static", "", 0);
    let country = ld_flag(
        "country-rollout",
        &format!(
            r#"{{"id": "r0", "trackEvents": false, "clauses": [{{"attribute": "country", "op": "in",
                "values": ["US", "CA", "DE"], "negate": false}}], "rollout": {}}}"#,
            ld_rollout(50_000)
        ),
        1,
    );
    let segment = ld_flag(
        "segment-semver-rollout",
        &format!(
            r#"{{"id": "r0", "trackEvents": false, "clauses": [
                {{"attribute": "key", "op": "segmentMatch", "values": ["beta"], "negate": false}},
                {{"attribute": "app_version", "op": "semVerGreaterThan", "values": ["2.3.9"], "negate": false}}],
                "rollout": {}}}"#,
            ld_rollout(5_000)
        ),
        1,
    );
    let beta: ld::Segment = serde_json::from_str(
        r#"{"key": "beta", "included": [], "excluded": [], "includedContexts": [],
            "excludedContexts": [], "rules": [{"clauses": [{"attribute": "beta", "op": "in",
            "values": [true], "negate": false}]}], "salt": "beta", "version": 1}"#,
    )
    .expect("valid LaunchDarkly segment");
    LdStore {
        flags: [static_flag, country, segment]
            .into_iter()
            .map(|f| (f.key.clone(), f))
            .collect(),
        segments: [("beta".to_owned(), beta)].into_iter().collect(),
    }
}

const CASES: [&str; 3] = ["static", "country-rollout", "segment-semver-rollout"];

fn peers(c: &mut Criterion) {
    let flagcore = flagcore::Store::from_bytes(flagcore_benches::PEERS_SNAPSHOT.as_bytes())
        .expect("valid snapshot");
    let fc_ctx = flagcore::EvaluationContext::new("user-17")
        .with_attributes(&flagcore_benches::PEERS_ATTRIBUTES);

    let yggdrasil = ygg::EngineState::default();
    let features: ygg::ClientFeatures =
        serde_json::from_str(UNLEASH).expect("valid Unleash features");
    yggdrasil.take_state(ygg::UpdateMessage::FullResponse(features));
    let ygg_ctx = ygg::Context {
        user_id: Some("user-17".into()),
        properties: Some(HashMap::from([
            ("country".to_owned(), "DE".to_owned()),
            ("beta".to_owned(), "true".to_owned()),
            ("appVersion".to_owned(), "2.4.1".to_owned()),
        ])),
        ..ygg::Context::default()
    };

    let ld_store = ld_store();
    let ld_ctx = ld::ContextBuilder::new("user-17")
        .set_string("country", "DE")
        .set_value("beta", ld::AttributeValue::Bool(true))
        .set_string("app_version", "2.4.1")
        .build()
        .expect("valid LaunchDarkly context");

    let mut allocations = Vec::new();
    for case in CASES {
        let fc = flagcore.bool(case, &fc_ctx, false);
        let yg = yggdrasil.is_enabled(case, &ygg_ctx, &None);
        let ld_flag = ld_store.flags.get(case).expect("flag");
        let ldv = ld::evaluate(&ld_store, ld_flag, &ld_ctx, None);
        assert!(
            ldv.value.is_some(),
            "{case}: LaunchDarkly could not evaluate: {:?}",
            ldv.reason
        );
        eprintln!(
            "{case}: flagcore={fc} yggdrasil={yg} launchdarkly={:?} ({:?})",
            ldv.value, ldv.reason
        );

        let mut group = c.benchmark_group(format!("peers/{case}"));
        group.bench_function("flagcore", |b| {
            b.iter(|| flagcore.bool(black_box(case), black_box(&fc_ctx), false))
        });
        group.bench_function("yggdrasil", |b| {
            b.iter(|| yggdrasil.is_enabled(black_box(case), black_box(&ygg_ctx), &None))
        });
        group.bench_function("launchdarkly", |b| {
            b.iter(|| {
                let flag = ld_store.flags.get(black_box(case)).expect("flag");
                ld::evaluate(&ld_store, flag, black_box(&ld_ctx), None)
                    .value
                    .is_some()
            })
        });
        group.finish();

        allocations.push((
            case,
            allocations_per_call(|| {
                black_box(flagcore.bool(case, &fc_ctx, false));
            }),
            allocations_per_call(|| {
                black_box(yggdrasil.is_enabled(case, &ygg_ctx, &None));
            }),
            allocations_per_call(|| {
                black_box(
                    ld::evaluate(&ld_store, ld_flag, &ld_ctx, None)
                        .value
                        .is_some(),
                );
            }),
        ));
    }
    eprintln!("\nheap allocations per evaluation (flagcore / yggdrasil / launchdarkly):");
    for (case, fc, yg, ldv) in allocations {
        eprintln!("  {case:<24} {fc:>6.2} {yg:>6.2} {ldv:>6.2}");
    }
}

criterion_group!(benches, peers);
criterion_main!(benches);
