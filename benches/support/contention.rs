//! The contention bench's setup and its swap-latency run, shared by
//! `benches/contention.rs` (which times it) and `tests/contention.rs` (which CI runs): the
//! flags the threads evaluate, the snapshots the writer swaps in, and the checks that the
//! bench measures what it says it does.

// A bench or test with a broken fixture should stop at once. The bench and the test each
// use part of this module.
#![allow(clippy::expect_used, dead_code)]

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use flagcore::{EvaluationContext, Reason, Store, Value};
use flagcore_benches::shapes_snapshot;

pub const ATTRS: [(&str, Value<'static>); 3] = [
    ("email", Value::String("dana@example.com")),
    ("beta_opt_in", Value::Bool(true)),
    ("account_id", Value::String("acct-1027")),
];

/// The flags the scaling bench evaluates; the swap-latency run reads the first.
pub const FLAGS: [&str; 2] = ["three-rules", "static"];

pub fn context() -> EvaluationContext<'static> {
    EvaluationContext::new("user-17").with_attributes(&ATTRS)
}

/// Panics unless each of [`FLAGS`] is found and evaluated with the bench's context: a
/// missing flag would serve the caller's default at once and time nothing.
pub fn assert_evaluates(store: &Store) {
    let snapshot = store.snapshot();
    for flag in FLAGS {
        let details = snapshot.bool_details(flag, &context(), false);
        assert!(
            !matches!(details.reason, Reason::Error),
            "the contention bench's flag `{flag}` does not evaluate: {details:?}"
        );
    }
}

/// The snapshots the writer swaps in: the bench's snapshot with versions `2..=count + 1`.
pub fn newer_snapshots(count: u64) -> Vec<String> {
    let first = shapes_snapshot();
    (2..count + 2)
        .map(|v| {
            let newer = first.replacen("\"version\": 1", &format!("\"version\": {v}"), 1);
            assert_ne!(
                newer, first,
                "the snapshot's version is not written `\"version\": 1`"
            );
            newer
        })
        .collect()
}

/// What happened during [`read_while_swapping`].
#[derive(Debug)]
pub struct SwapRun {
    /// Reads timed.
    pub reads: u64,
    /// Reads whose answer was not the one every snapshot gives.
    pub wrong_answers: u64,
    /// Snapshots swapped in by the writer, all of which the store accepted.
    pub swaps: u64,
    /// Of those, the swaps made between the first and the last read.
    pub swaps_while_reading: u64,
    /// From the first read to the last.
    pub reading: Duration,
}

impl SwapRun {
    /// Swaps per second while the readers read.
    pub fn swap_rate(&self) -> f64 {
        self.swaps_while_reading as f64 / self.reading.as_secs_f64()
    }

    /// Panics unless every read got the right answer and the writer swapped while they
    /// ran: otherwise the latencies measured are not those of reads during swaps.
    pub fn assert_reads_saw_swaps(&self) {
        assert_eq!(
            self.wrong_answers, 0,
            "reads during swaps got the wrong answer: {self:?}"
        );
        assert!(
            self.reads > 0 && self.swaps_while_reading > 0,
            "no snapshot was swapped in while the reads ran: {self:?}"
        );
    }
}

/// Reads [`FLAGS`]`[0]` on this thread, passing each read's latency to `sample`, while
/// another thread swaps in `snapshots`, one per `interval` (fewer when an update takes
/// longer); stops when the writer is done or `limit` has passed. The store must serve
/// [`shapes_snapshot`], version 1.
pub fn read_while_swapping(
    store: &Store,
    snapshots: &[String],
    interval: Duration,
    limit: Duration,
    mut sample: impl FnMut(Duration),
) -> SwapRun {
    assert_eq!(
        store.version(),
        Some(1),
        "the store must start at version 1"
    );
    let ctx = context();
    let expected = store.bool(FLAGS[0], &ctx, false);
    let stop = AtomicBool::new(false);
    let swaps = AtomicU64::new(0);
    let mut run = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Paced by the clock, not by a pause after each update: an update takes about
            // as long as the interval, and a pause would halve the rate.
            let mut next = Instant::now();
            for doc in snapshots {
                store.update(doc.as_bytes()).expect("newer version");
                swaps.fetch_add(1, Ordering::Relaxed);
                next += interval;
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        let (mut reads, mut wrong_answers) = (0, 0);
        let began = Instant::now();
        let swaps_before = swaps.load(Ordering::Relaxed);
        while began.elapsed() < limit && !stop.load(Ordering::Relaxed) {
            let start = Instant::now();
            let answer = black_box(store.bool(black_box(FLAGS[0]), &ctx, false));
            sample(start.elapsed());
            reads += 1;
            wrong_answers += u64::from(answer != expected);
        }
        let swaps_while_reading = swaps.load(Ordering::Relaxed) - swaps_before;
        let reading = began.elapsed();
        stop.store(true, Ordering::Relaxed);
        SwapRun {
            reads,
            wrong_answers,
            swaps: 0,
            swaps_while_reading,
            reading,
        }
    });
    run.swaps = swaps.load(Ordering::Relaxed);
    assert_eq!(
        store.version(),
        Some(1 + run.swaps),
        "the store does not serve the last snapshot swapped in"
    );
    run
}

/// The median cost of the clock reads around one timed read: each latency includes it.
pub fn clock_overhead() -> Duration {
    let mut samples: Vec<Duration> = (0..10_001)
        .map(|_| {
            let start = Instant::now();
            start.elapsed()
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}
