//! The contention bench measures what it says: its flags evaluate (a missing one would
//! serve the default and time nothing), every snapshot it swaps in is accepted, and reads
//! during the swaps get the right answer while snapshots change under them. The bench
//! stops on the same checks; CI only compiles benches, so they run here too. Nothing here
//! checks a time.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/contention.rs"]
mod support;

use std::time::Duration;

use flagcore::Store;
use flagcore_benches::shapes_snapshot;
use support::{assert_evaluates, context, newer_snapshots, read_while_swapping, FLAGS};

fn store() -> Store {
    Store::from_bytes(shapes_snapshot().as_bytes()).unwrap()
}

#[test]
fn the_bench_flags_evaluate() {
    assert_evaluates(&store());
}

#[test]
#[should_panic(expected = "does not evaluate")]
fn a_missing_bench_flag_stops_the_bench() {
    let renamed = shapes_snapshot().replacen("\"three-rules\"", "\"three-rules-renamed\"", 1);
    assert_evaluates(&Store::from_bytes(renamed.as_bytes()).unwrap());
}

#[test]
fn every_swapped_snapshot_is_newer_and_gives_the_same_answers() {
    let store = store();
    let ctx = context();
    let first = FLAGS.map(|flag| store.snapshot().bool_details(flag, &ctx, false).value);
    for (version, doc) in (2..).zip(newer_snapshots(20)) {
        assert_eq!(store.update(doc.as_bytes()).unwrap(), version);
        let answers = FLAGS.map(|flag| store.snapshot().bool_details(flag, &ctx, false).value);
        assert_eq!(answers, first, "version {version}");
    }
}

#[test]
fn reads_during_swaps_get_the_right_answer_and_see_the_swaps() {
    let store = store();
    let snapshots = newer_snapshots(50);
    // No time limit that matters: the reads run until the writer has swapped in all.
    let run = read_while_swapping(
        &store,
        &snapshots,
        Duration::from_millis(1),
        Duration::from_secs(600),
        |_| {},
    );
    run.assert_reads_saw_swaps();
    assert_eq!(run.swaps, 50, "{run:?}");
}
