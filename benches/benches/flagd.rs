//! flagd flags beside their native equivalents: `fractional`, `sem_ver`, an `if` chain of
//! `and`/`or` comparisons, and a static flag, each evaluated from a flagd document and from
//! the native snapshot `flagcore import flagd` writes for it (and, for `fractional`, a
//! native rollout with flagcore's own bucketing).

// A bench with a broken fixture should stop at once; criterion's macros generate
// undocumented items.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use flagcore::{EvaluationContext, Store, Value};

/// The flagd document: the shapes flagd's own benchmark matrix names (a fractional A/B
/// test, a `sem_ver` gate, complex targeting with nested `and`/`or`, a static flag).
const FLAGD: &str = include_str!("../support/flagd.json");

/// `fractional`'s native equivalent with flagcore's own bucketing (other buckets).
const NATIVE_ROLLOUT: &str = r#"{"version": 1, "flags": {"fractional": {
  "variants": {"clubs": "clubs", "diamonds": "diamonds", "hearts": "hearts", "spades": "spades"},
  "enabled": true, "off_variant": "clubs",
  "fallthrough": {"rollout": {"by": "user.name", "split": [
    {"variant": "clubs", "weight": 25}, {"variant": "diamonds", "weight": 25},
    {"variant": "hearts", "weight": 25}, {"variant": "spades", "weight": 25}]}}}}}"#;

const ATTRIBUTES: [(&str, Value<'static>); 4] = [
    ("user.name", Value::String("jack")),
    ("app_version", Value::String("2.5.1")),
    ("tier", Value::String("premium")),
    ("score", Value::Int(95)),
];

fn flagd(c: &mut Criterion) {
    let flagd = Store::from_bytes(FLAGD.as_bytes()).expect("valid flagd bench document");
    let conversion = flagcore::flagd::to_native(&[FLAGD.as_bytes()], 1).expect("converts");
    assert!(conversion.skipped.is_empty(), "{:?}", conversion.skipped);
    let native = Store::from_bytes(conversion.snapshot.as_bytes()).expect("valid conversion");
    let rollout = Store::from_bytes(NATIVE_ROLLOUT.as_bytes()).expect("valid native rollout");
    let ctx = EvaluationContext::new("user-17").with_attributes(&ATTRIBUTES);
    // Same answers from the flagd document and its conversion, before any timing.
    for flag in ["fractional", "sem_ver", "if-chain", "static"] {
        let (a, b) = (flagd.snapshot(), native.snapshot());
        let answer = |s: &flagcore::Snapshot| match s.flag_kind(flag) {
            Some(flagcore::ValueKind::Bool) => s.bool(flag, &ctx, false).to_string(),
            _ => s.string(flag, &ctx, "?").to_owned(),
        };
        assert_eq!(answer(&a), answer(&b), "{flag}");
    }

    let mut group = c.benchmark_group("flagd");
    for flag in ["fractional", "sem_ver", "if-chain", "static"] {
        let boolean = flagd.snapshot().flag_kind(flag) == Some(flagcore::ValueKind::Bool);
        for (name, store) in [("flagd", &flagd), ("native", &native)] {
            group.bench_function(format!("{flag}/{name}"), |b| {
                let view = store.snapshot();
                if boolean {
                    b.iter(|| {
                        black_box(
                            view.bool_details(black_box(flag), black_box(&ctx), false)
                                .variant,
                        )
                    })
                } else {
                    b.iter(|| {
                        black_box(
                            view.string_details(black_box(flag), black_box(&ctx), "?")
                                .variant,
                        )
                    })
                }
            });
        }
    }
    group.bench_function("fractional/native-flagcore-bucketing", |b| {
        let view = rollout.snapshot();
        b.iter(|| {
            black_box(
                view.string_details(black_box("fractional"), black_box(&ctx), "?")
                    .variant,
            )
        })
    });
    group.bench_function("load/flagd-document", |b| {
        b.iter(|| Store::from_bytes(black_box(FLAGD.as_bytes())).expect("loads"))
    });
    group.finish();
}

criterion_group!(benches, flagd);
criterion_main!(benches);
