//! Evaluation cost per flag shape, through the store by name and through a snapshot view.

// A bench with a broken fixture should stop at once; criterion's macros generate
// undocumented items.
#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use flagcore::{EvaluationContext, FlagHandle, Store};
use flagcore_benches::shapes_snapshot;

fn store() -> Store {
    let store = Store::from_bytes(shapes_snapshot().as_bytes()).expect("valid bench snapshot");
    store.kill("killed", "bench");
    store
}

/// The bench snapshot with exposures tracked into a sink that keeps nothing.
fn store_with_exposures() -> Store {
    let store = store();
    store
        .track_exposures(
            |_: &[flagcore::Exposure]| {},
            flagcore::ExposureOptions::new()
                .capacity(1 << 20)
                .dedup(0, std::time::Duration::ZERO)
                .flush_interval(std::time::Duration::from_millis(10)),
        )
        .expect("the tracking thread starts");
    store
}

fn evaluate(c: &mut Criterion) {
    let store = store();
    let ctx = EvaluationContext::new("user-17").with_attributes(&flagcore_benches::ATTRIBUTES);
    let mut group = c.benchmark_group("evaluate");

    for flag in [
        "static",
        "killed",
        "targets",
        "three-rules",
        "long-in",
        "matches",
        "semver",
        "chain-3",
        "rollout",
        "scheduled",
    ] {
        group.bench_function(format!("{flag}/bool"), |b| {
            b.iter(|| store.bool(black_box(flag), black_box(&ctx), false))
        });
        group.bench_function(format!("{flag}/bool_details"), |b| {
            b.iter(|| {
                let view = store.snapshot();
                black_box(
                    view.bool_details(black_box(flag), black_box(&ctx), false)
                        .reason,
                )
            })
        });
    }
    let view = store.snapshot();
    group.bench_function("static/bool/held-snapshot", |b| {
        b.iter(|| view.bool(black_box("static"), black_box(&ctx), false))
    });
    group.bench_function("static-string/string/held-snapshot", |b| {
        b.iter(|| black_box(view.string(black_box("static-string"), black_box(&ctx), "x")).len())
    });
    let default = serde_json::Value::Null;
    group.bench_function("static-json/json/held-snapshot", |b| {
        b.iter(|| {
            black_box(view.json(black_box("static-json"), black_box(&ctx), &default)).is_object()
        })
    });
    static STATIC: FlagHandle = FlagHandle::new("static");
    static KILLED: FlagHandle = FlagHandle::new("killed");
    group.bench_function("static/bool/handle-held-snapshot", |b| {
        b.iter(|| view.bool(black_box(&STATIC), black_box(&ctx), false))
    });
    group.bench_function("killed/bool/handle-held-snapshot", |b| {
        b.iter(|| view.bool(black_box(&KILLED), black_box(&ctx), false))
    });
    group.bench_function("static/bool/handle", |b| {
        b.iter(|| store.bool(black_box(&STATIC), black_box(&ctx), false))
    });
    group.bench_function("three-rules/bool/held-snapshot", |b| {
        b.iter(|| view.bool(black_box("three-rules"), black_box(&ctx), false))
    });
    // A scheduled rollout evaluated as of a given instant reads no clock.
    let as_of = ctx.at(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30));
    group.bench_function("scheduled/bool/as-of", |b| {
        b.iter(|| store.bool(black_box("scheduled"), black_box(&as_of), false))
    });
    group.finish();

    // Guardrail evidence: an observation of a watched variant, of the baseline, and of a
    // flag the snapshot lacks (ignored and counted). Successes only, so nothing trips.
    let mut guardrails = c.benchmark_group("guardrails");
    // Enough evidence on both sides that every observation runs the whole test.
    for _ in 0..1_000 {
        store.observe("guarded", "on", flagcore::Observation::success());
        store.observe("guarded", "off", flagcore::Observation::success());
    }
    for (label, flag, variant) in [
        ("observe/watched", "guarded", "on"),
        ("observe/baseline", "guarded", "off"),
        ("observe/unknown-flag", "nope", "on"),
    ] {
        guardrails.bench_function(label, |b| {
            b.iter(|| {
                store.observe(
                    black_box(flag),
                    black_box(variant),
                    flagcore::Observation::success(),
                )
            })
        });
    }
    guardrails.finish();

    // An exposure-tracked flag next to the same rollout untracked: the record and the
    // queue are the difference. Deduplication is off, so every evaluation is queued.
    let tracked = store_with_exposures();
    let mut exposures = c.benchmark_group("exposures");
    exposures.bench_function("tracked/bool", |b| {
        b.iter(|| tracked.bool(black_box("tracked"), black_box(&ctx), false))
    });
    exposures.bench_function("untracked/bool", |b| {
        b.iter(|| tracked.bool(black_box("rollout"), black_box(&ctx), false))
    });
    exposures.finish();
    tracked.flush_exposures();
    // A tight loop queues faster than any sink takes exposures: report how many the
    // tracking thread kept up with (the rest were dropped and counted, as designed).
    let stats = tracked.exposure_stats();
    println!(
        "exposures: {} accepted, {} delivered, {} dropped",
        stats.accepted, stats.delivered, stats.dropped
    );

    let mut metrics = c.benchmark_group("metrics");
    for enabled in [true, false] {
        store.set_metrics_enabled(enabled);
        let label = if enabled { "on" } else { "off" };
        metrics.bench_function(format!("static/{label}"), |b| {
            b.iter(|| store.bool(black_box("static"), black_box(&ctx), false))
        });
        metrics.bench_function(format!("three-rules/{label}"), |b| {
            b.iter(|| store.bool(black_box("three-rules"), black_box(&ctx), false))
        });
    }
    metrics.finish();
}

fn load(c: &mut Criterion) {
    let big = flagcore_benches::generated_snapshot(10_000, 1_000);
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("10k-flags-1k-segments", |b| {
        // Freeing the store is not part of loading it.
        b.iter_with_large_drop(|| Store::from_bytes(black_box(big.as_bytes())).expect("valid"))
    });
    group.finish();
}

criterion_group!(benches, evaluate, load);
criterion_main!(benches);
