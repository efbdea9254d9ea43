//! Scaling and latency under concurrency: `contention/threads-1` vs `contention/threads-2`
//! (wall time for every thread to do the same number of evaluations; 2 threads scale
//! perfectly when the two take the same time), and reader latency percentiles while a
//! writer swaps snapshots 1,000 times a second (printed, as criterion reports means).

// A bench with a broken fixture should stop at once; criterion's macros generate
// undocumented items.
#![allow(clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use flagcore::{EvaluationContext, Store, Value};
use flagcore_benches::shapes_snapshot;

const ATTRS: [(&str, Value<'static>); 3] = [
    ("email", Value::String("dana@example.com")),
    ("beta_opt_in", Value::Bool(true)),
    ("account_id", Value::String("acct-1027")),
];

fn evaluate_many(store: &Store, n: u64) {
    let ctx = EvaluationContext::new("user-17").with_attributes(&ATTRS);
    for _ in 0..n {
        black_box(store.bool(black_box("three-rules"), &ctx, false));
        black_box(store.bool(black_box("static"), &ctx, false));
    }
}

fn scaling(c: &mut Criterion) {
    let store = Store::from_bytes(shapes_snapshot().as_bytes()).expect("valid snapshot");
    let mut group = c.benchmark_group("contention");
    for threads in [1usize, 2] {
        group.bench_function(format!("threads-{threads}"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|| evaluate_many(&store, iters));
                    }
                });
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn swap_latency(_: &mut Criterion) {
    let store = Store::from_bytes(shapes_snapshot().as_bytes()).expect("valid snapshot");
    let snapshots: Vec<String> = (2..4000u64)
        .map(|v| shapes_snapshot().replacen("\"version\": 1", &format!("\"version\": {v}"), 1))
        .collect();
    let stop = AtomicBool::new(false);
    let mut samples = Vec::with_capacity(2_000_000);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for doc in &snapshots {
                store.update(doc.as_bytes()).expect("newer version");
                std::thread::sleep(Duration::from_millis(1));
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        let ctx = EvaluationContext::new("user-17").with_attributes(&ATTRS);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
            let start = Instant::now();
            black_box(store.bool(black_box("three-rules"), &ctx, false));
            samples.push(start.elapsed().as_nanos() as u64);
        }
        stop.store(true, Ordering::Relaxed);
    });
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    eprintln!(
        "swap-latency: {} reads while swapping ~1,000/s: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns (each read includes ~20 ns of clock reads)",
        samples.len(),
        at(0.5),
        at(0.99),
        at(0.999),
        samples.last().copied().unwrap_or(0)
    );
}

criterion_group!(benches, scaling, swap_latency);
criterion_main!(benches);
