//! flagcore next to the engines a Rust team would otherwise link, on the same rule shapes,
//! in one run: `peers/<case>/<engine>`.
//!
//! - `static`: a flag that is simply on.
//! - `country-rollout`: `country in [US, CA, DE]`, then a 50% rollout on the user key.
//! - `segment-semver-rollout`: a `beta` segment check, `app_version > 2.3.9`, a 5% rollout.
//! - `regex`: `app_version` matches `^2[.]4[.][0-9]+$`.
//! - `long-list`: `country` in a list of 1,000 values, the matching one last.
//!
//! Each engine gets its fairest setup: contexts built once outside the timed loop, the
//! engine's own store, the flag passed pre-fetched where its API allows. Before timing,
//! the bench stops unless the three engines give the same answer to every case and
//! flagcore allocates nothing per evaluation (`tests/peers.rs` checks the same in CI).
//! After timing, it prints each engine's heap allocations per evaluation.

// A bench with a broken fixture should stop at once; criterion's macros generate
// undocumented items.
#![allow(clippy::expect_used, missing_docs)]

#[path = "../support/peers.rs"]
mod support;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use launchdarkly_server_sdk_evaluation as ld;
use support::{allocations_per_call, Engines, PeerContext, CASES};

fn peers(c: &mut Criterion) {
    let engines = Engines::new();
    let ctx = PeerContext::measured();
    engines.assert_agree(&ctx);
    engines.assert_flagcore_allocates_nothing(&ctx);

    let Engines {
        flagcore,
        yggdrasil,
        launchdarkly: ld_store,
    } = &engines;
    let fc_ctx = ctx.flagcore();
    let ygg_ctx = &ctx.yggdrasil;
    let ld_ctx = &ctx.launchdarkly;

    let mut allocations = Vec::new();
    for case in CASES {
        eprintln!("{case}: {}", engines.answers(case, &ctx));

        let mut group = c.benchmark_group(format!("peers/{case}"));
        group.bench_function("flagcore", |b| {
            b.iter(|| flagcore.bool(black_box(case), black_box(&fc_ctx), false))
        });
        group.bench_function("yggdrasil", |b| {
            b.iter(|| yggdrasil.is_enabled(black_box(case), black_box(ygg_ctx), &None))
        });
        group.bench_function("launchdarkly", |b| {
            b.iter(|| {
                let flag = ld_store.flags.get(black_box(case)).expect("flag");
                ld::evaluate(ld_store, flag, black_box(ld_ctx), None)
                    .value
                    .is_some()
            })
        });
        group.finish();

        let ld_flag = engines.ld_flag(case);
        allocations.push((
            case,
            allocations_per_call(|| {
                black_box(flagcore.bool(case, &fc_ctx, false));
            }),
            allocations_per_call(|| {
                black_box(yggdrasil.is_enabled(case, ygg_ctx, &None));
            }),
            allocations_per_call(|| {
                black_box(
                    ld::evaluate(ld_store, ld_flag, ld_ctx, None)
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
