//! Scaling and latency under concurrency: `contention/threads-1` vs `contention/threads-2`
//! (wall time for every thread to do the same number of evaluations; 2 threads scale
//! perfectly when the two take the same time), and reader latency percentiles while a
//! writer swaps snapshots up to 1,000 times a second (printed, as criterion reports means,
//! with the swap rate measured during the reads). Before timing, the bench stops unless
//! its flags evaluate; after the swaps, unless every read got the right answer and
//! snapshots were swapped in while the reads ran (`tests/contention.rs` checks the same in
//! CI).

// A bench with a broken fixture should stop at once; criterion's macros generate
// undocumented items.
#![allow(clippy::expect_used, missing_docs)]

#[path = "../support/contention.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use flagcore::Store;
use flagcore_benches::shapes_snapshot;
use support::{assert_evaluates, clock_overhead, newer_snapshots, read_while_swapping, FLAGS};

fn evaluate_many(store: &Store, n: u64) {
    let ctx = support::context();
    for _ in 0..n {
        black_box(store.bool(black_box(FLAGS[0]), &ctx, false));
        black_box(store.bool(black_box(FLAGS[1]), &ctx, false));
    }
}

fn scaling(c: &mut Criterion) {
    let store = Store::from_bytes(shapes_snapshot().as_bytes()).expect("valid snapshot");
    assert_evaluates(&store);
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
    assert_evaluates(&store);
    let snapshots = newer_snapshots(3998);
    let clock = clock_overhead();
    let mut samples = Vec::with_capacity(2_000_000);
    let run = read_while_swapping(
        &store,
        &snapshots,
        Duration::from_millis(1),
        Duration::from_secs(2),
        |latency| samples.push(latency.as_nanos() as u64),
    );
    run.assert_reads_saw_swaps();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    eprintln!(
        "swap-latency: {} reads while swapping {:.0}/s: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns (each read includes {} ns of clock reads, a median)",
        samples.len(),
        run.swap_rate(),
        at(0.5),
        at(0.99),
        at(0.999),
        samples.last().copied().unwrap_or(0),
        clock.as_nanos(),
    );
}

criterion_group!(benches, scaling, swap_latency);
criterion_main!(benches);
