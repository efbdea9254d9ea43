//! Stress: readers evaluating while a writer swaps thousands of snapshots and an operator
//! kills and revives. Every evaluation sees exactly one version, no kill is lost to a
//! swap, and replaced snapshots are freed (live heap bytes return to their baseline).

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering};
use std::sync::Arc;

use flagcore::{EvaluationContext, Reason, Store};

struct LiveBytes;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LiveBytes = LiveBytes;

/// Every flag serves the snapshot's version, so a read mixing two snapshots is visible.
fn snapshot(version: u64) -> Vec<u8> {
    let flags: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#""f{i}": {{"variants": {{"v": {version}, "zero": 0}}, "enabled": true,
                    "off_variant": "zero", "fallthrough": {{"variant": "v"}}}}"#
            )
        })
        .collect();
    format!(
        r#"{{"version": {version}, "flags": {{{}}}}}"#,
        flags.join(",")
    )
    .into_bytes()
}

const SWAPS: u64 = 5_000;

#[test]
fn swaps_under_readers_are_consistent_lose_no_kill_and_free_old_snapshots() {
    let store = Arc::new(Store::from_bytes(&snapshot(1)).unwrap());
    store.update(&snapshot(2)).unwrap();
    let baseline = LIVE.load(Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    let evaluations = Arc::new(AtomicU64::new(0));

    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop, evaluations) = (store.clone(), stop.clone(), evaluations.clone());
            std::thread::spawn(move || {
                let ctx = EvaluationContext::new("reader");
                while !stop.load(Ordering::Relaxed) {
                    let view = store.snapshot();
                    let version = view.version().unwrap() as i64;
                    for i in 1..20 {
                        let value = view.int(format!("f{i}").as_str(), &ctx, -1);
                        assert_eq!(value, version, "f{i} mixed snapshots");
                    }
                    evaluations.fetch_add(19, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let operator = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let ctx = EvaluationContext::new("operator");
            let mut rounds = 0u64;
            while !stop.load(Ordering::Relaxed) {
                store.kill("f0", "drill");
                // The kill must hold on whatever snapshot is serving now, mid-swap or not.
                let view = store.snapshot();
                assert_eq!(view.int_details("f0", &ctx, -1).reason, Reason::Disabled);
                drop(view);
                assert!(store.revive("f0"));
                rounds += 1;
            }
            rounds
        })
    };

    for version in 3..3 + SWAPS {
        store.update(&snapshot(version)).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    let rounds = operator.join().unwrap();
    // One more update reaps what the readers held at the end.
    store.update(&snapshot(3 + SWAPS)).unwrap();
    store.take_metrics();

    let live = LIVE.load(Ordering::Relaxed);
    let grown = live - baseline;
    let one_snapshot = snapshot(1).len() as isize * 20;
    println!(
        "{SWAPS} swaps, {} evaluations, {rounds} kill/revive rounds, live heap {} KiB -> {} KiB",
        evaluations.load(Ordering::Relaxed),
        baseline / 1024,
        live / 1024
    );
    assert!(evaluations.load(Ordering::Relaxed) > 0 && rounds > 0);
    assert!(
        grown < one_snapshot,
        "live heap grew by {grown} bytes over {SWAPS} swaps"
    );
}
