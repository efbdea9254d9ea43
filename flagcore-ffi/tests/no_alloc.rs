//! docs/format.md §6: an evaluation through the C ABI does not allocate, for any flag type, with or
//! without details, once the store is warm, nor when it records an exposure (§5.7); nor does
//! an observation for the guardrails (§5.6) that trips none. A counting global allocator
//! proves it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

use flagcore::*;
use flagcore_engine as _;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counters are const-initialised
// thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

const SNAPSHOT: &str = r##"{"version": 1,
  "segments": {"beta": {"rules": [{"conditions": [
      {"attribute": "beta", "op": "eq", "values": [true]}]}]}},
  "flags": {
    "rollout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "rules": [{"id": "beta", "conditions": [{"in_segment": "beta"},
                 {"attribute": "app_version", "op": "semver_gte", "values": ["2.4.0"]}],
                 "serve": {"rollout": {"by": "account", "split": [
                   {"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}}],
      "fallthrough": {"variant": "off"}},
    "color": {"variants": {"red": "#f00", "blue": "#00f"}, "enabled": true,
      "off_variant": "red", "fallthrough": {"variant": "blue"}},
    "limit": {"variants": {"low": 10, "high": 1000}, "enabled": true,
      "off_variant": "low", "fallthrough": {"variant": "high"}},
    "ratio": {"variants": {"low": 0.25, "high": 0.75}, "enabled": true,
      "off_variant": "low", "fallthrough": {"variant": "high"}},
    "config": {"variants": {"a": {"retries": 3, "hosts": ["x", "y"], "ratio": 0.5}},
      "enabled": true, "off_variant": "a", "fallthrough": {"variant": "a"}}
  }}"##;

fn attribute(name: &'static str, kind: fc_value_kind) -> fc_attribute {
    fc_attribute {
        name: name.as_ptr().cast(),
        name_len: name.len(),
        kind: kind as u32,
        string_value: ptr::null(),
        string_len: 0,
        int_value: 0,
        float_value: 0.0,
        bool_value: false,
    }
}

fn text(s: &str) -> (*const c_char, usize) {
    (s.as_ptr().cast(), s.len())
}

#[test]
fn evaluations_do_not_allocate() {
    let mut store = ptr::null_mut();
    // SAFETY: valid pointers and lengths throughout; every handle is freed once.
    unsafe {
        assert_eq!(
            fc_store_new_from_bytes(SNAPSHOT.as_ptr(), SNAPSHOT.len(), &mut store),
            fc_result::Ok
        );
        let mut attributes = [
            attribute("beta", fc_value_kind::Bool),
            attribute("app_version", fc_value_kind::String),
            attribute("account", fc_value_kind::Int),
            attribute("score", fc_value_kind::Float),
        ];
        attributes[0].bool_value = true;
        (attributes[1].string_value, attributes[1].string_len) = text("2.5.0");
        attributes[2].int_value = 1027;
        attributes[3].float_value = 0.5;
        let key = "user-17";
        let ctx = fc_context {
            key: key.as_ptr().cast(),
            key_len: key.len(),
            attributes: attributes.as_ptr(),
            attributes_len: attributes.len(),
            prepared: ptr::null(),
        };
        let mut prepared = ptr::null_mut();
        assert_eq!(fc_prepared_context_new(&ctx, &mut prepared), fc_result::Ok);
        let prepared_ctx = fc_context {
            key: ptr::null(),
            key_len: 0,
            attributes: ptr::null(),
            attributes_len: 0,
            prepared,
        };
        let mut snapshot = ptr::null_mut();
        assert_eq!(fc_store_snapshot(store, &mut snapshot), fc_result::Ok);

        let evaluate_all = |ctx: &fc_context| {
            let mut details = std::mem::MaybeUninit::<fc_details>::uninit();
            let mut b = false;
            let (flag, len) = text("rollout");
            assert_eq!(
                fc_store_bool(store, flag, len, ctx, false, &mut b),
                fc_result::Ok
            );
            let r = fc_snapshot_bool(
                snapshot,
                flag,
                len,
                ctx,
                false,
                &mut b,
                details.as_mut_ptr(),
            );
            assert_eq!(r, fc_result::Ok);
            assert_eq!(details.assume_init().reason, fc_reason::Split);
            let (flag, len) = text("limit");
            let mut i = 0;
            assert_eq!(
                fc_store_int(store, flag, len, ctx, 0, &mut i),
                fc_result::Ok
            );
            let r = fc_snapshot_int(snapshot, flag, len, ctx, 0, &mut i, details.as_mut_ptr());
            assert_eq!((r, i), (fc_result::Ok, 1000));
            let (flag, len) = text("ratio");
            let mut f = 0.0;
            assert_eq!(
                fc_store_float(store, flag, len, ctx, 0.0, &mut f),
                fc_result::Ok
            );
            let r = fc_snapshot_float(snapshot, flag, len, ctx, 0.0, &mut f, details.as_mut_ptr());
            assert_eq!((r, f), (fc_result::Ok, 0.75));
            let (flag, len) = text("color");
            let (default, default_len) = text("#000");
            let mut s = fc_str::NONE;
            let r = fc_snapshot_string(
                snapshot,
                flag,
                len,
                ctx,
                default,
                default_len,
                &mut s,
                details.as_mut_ptr(),
            );
            assert_eq!((r, s.len), (fc_result::Ok, 4));
            let mut buf = [0 as c_char; 64];
            let mut n = 0;
            let r = fc_store_string(
                store,
                flag,
                len,
                ctx,
                default,
                default_len,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            );
            assert_eq!((r, n), (fc_result::Ok, 4));
            let (flag, len) = text("config");
            let r = fc_snapshot_json(
                snapshot,
                flag,
                len,
                ctx,
                ptr::null(),
                0,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
                details.as_mut_ptr(),
            );
            assert_eq!(r, fc_result::Ok);
            let r = fc_store_json(
                store,
                flag,
                len,
                ctx,
                ptr::null(),
                0,
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            );
            assert_eq!(r, fc_result::Ok);
            let json = std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n);
            assert_eq!(json, br#"{"hosts":["x","y"],"ratio":0.5,"retries":3}"#);
            // Unknown flags and type mismatches serve the default without allocating too.
            let (flag, len) = text("no-such-flag");
            assert_eq!(
                fc_store_bool(store, flag, len, ctx, true, &mut b),
                fc_result::Ok
            );
            let (flag, len) = text("color");
            assert_eq!(
                fc_store_bool(store, flag, len, ctx, true, &mut b),
                fc_result::Ok
            );
        };
        evaluate_all(&ctx); // warm-up: thread-locals and arc-swap's debt slots
        evaluate_all(&prepared_ctx);
        assert_eq!(
            allocations_in(|| {
                for _ in 0..100 {
                    evaluate_all(&ctx);
                    evaluate_all(&prepared_ctx);
                }
            }),
            0
        );
        fc_prepared_context_free(prepared);
        fc_snapshot_free(snapshot);
        fc_store_free(store);
    }
}

const GUARDED: &str = r#"{"version": 1, "flags": {
    "checkout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 10},
                                            {"variant": "off", "weight": 90}]}},
      "guardrails": [
        {"id": "errors", "watch": ["on"], "baseline": "off", "max_increase": 0.01},
        {"id": "p99", "watch": ["on"], "latency_percentile": 99, "max_latency_ms": 250}]},
    "plain": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "fallthrough": {"variant": "on"}}
  }}"#;

/// docs/format.md §5.6: `fc_store_observe` is as cheap as an evaluation. Healthy
/// observations (the same error rate on both sides, fast) never trip, so none of them may
/// allocate; nor may those the store ignores.
#[test]
fn observations_do_not_allocate() {
    let mut store = ptr::null_mut();
    // SAFETY: valid pointers and lengths throughout; the store is freed once.
    unsafe {
        assert_eq!(
            fc_store_new_from_bytes(GUARDED.as_ptr(), GUARDED.len(), &mut store),
            fc_result::Ok
        );
        let observe = |flag: &str, variant: &str, error: bool, latency_us: i64| {
            let (flag, flag_len) = text(flag);
            let (variant, variant_len) = text(variant);
            let r = fc_store_observe(
                store,
                flag,
                flag_len,
                variant,
                variant_len,
                error,
                latency_us,
            );
            assert_eq!(r, fc_result::Ok);
        };
        let observe_all = |round: u32| {
            for i in 0..100 {
                let error = (round * 100 + i) % 100 == 7;
                let variant = if i % 10 == 0 { "on" } else { "off" };
                observe("checkout", variant, error, i64::from(i) * 1000);
            }
            observe("checkout", "on", false, -1);
            observe("no-such-flag", "on", true, -1);
            observe("checkout", "no-such-variant", true, -1);
            observe("plain", "on", true, 5);
        };
        observe_all(0); // warm-up: the thread's plan cache
        assert_eq!(
            allocations_in(|| {
                for round in 1..200 {
                    observe_all(round);
                }
            }),
            0
        );
        let mut n = u64::MAX;
        assert_eq!(fc_store_guardrail_trips(store, &mut n), fc_result::Ok);
        assert_eq!(
            n, 0,
            "a healthy variant tripped: the check above measured less"
        );
        assert_eq!(fc_store_observations_ignored(store, &mut n), fc_result::Ok);
        assert_eq!(n, 2 * 200);
        fc_store_free(store);
    }
}

const EXPERIMENT: &str = r#"{"version": 1, "flags": {
    "experiment": {"variants": {"a": true, "b": false}, "enabled": true, "off_variant": "b",
      "exposures": true,
      "fallthrough": {"rollout": {"by": "account", "split": [{"variant": "a", "weight": 50},
                                                            {"variant": "b", "weight": 50}]}}}
  }}"#;

static EXPOSED: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" fn count_exposures(
    _user_data: *mut c_void,
    _batch: *const fc_exposure,
    len: usize,
) {
    EXPOSED.fetch_add(len as u64, Ordering::Relaxed);
}

/// docs/format.md §5.7: an evaluation that records an exposure hands a compact record to
/// a bounded queue, with no allocation for keys and units up to 47 bytes; naming and
/// delivering them is the tracking thread's work (which the counting allocator, counting
/// per thread, leaves out).
// Miri has no CLOCK_REALTIME_COARSE, which times an exposure.
#[cfg_attr(miri, ignore)]
#[test]
fn exposure_tracked_evaluations_do_not_allocate() {
    const ROUNDS: usize = 1_000;
    let mut store = ptr::null_mut();
    // SAFETY: valid pointers and lengths throughout; every handle is freed once, and the
    // callback's user_data (NULL) is never read.
    unsafe {
        assert_eq!(
            fc_store_new_from_bytes(EXPERIMENT.as_ptr(), EXPERIMENT.len(), &mut store),
            fc_result::Ok
        );
        let options = fc_exposure_options {
            capacity: 4 * ROUNDS,
            ..Default::default()
        };
        let r = fc_store_track_exposures(store, Some(count_exposures), ptr::null_mut(), &options);
        assert_eq!(r, fc_result::Ok);
        let mut snapshot = ptr::null_mut();
        assert_eq!(fc_store_snapshot(store, &mut snapshot), fc_result::Ok);
        // The longest keys and units kept inline; made before anything is counted.
        let keys: Vec<String> = (0..=ROUNDS).map(|i| format!("{i:0>47}")).collect();
        let units: Vec<String> = (0..=ROUNDS).map(|i| format!("acct-{i:0>42}")).collect();
        let evaluate = |i: usize, by_string: bool| {
            let mut account = attribute("account", fc_value_kind::Int);
            account.int_value = i as i64;
            if by_string {
                account.kind = fc_value_kind::String as u32;
                (account.string_value, account.string_len) = text(&units[i]);
            }
            let ctx = fc_context {
                key: keys[i].as_ptr().cast(),
                key_len: keys[i].len(),
                attributes: &account,
                attributes_len: 1,
                prepared: ptr::null(),
            };
            let (flag, len) = text("experiment");
            let mut b = false;
            assert_eq!(
                fc_store_bool(store, flag, len, &ctx, false, &mut b),
                fc_result::Ok
            );
            let mut details = std::mem::MaybeUninit::<fc_details>::uninit();
            let r = fc_snapshot_bool(
                snapshot,
                flag,
                len,
                &ctx,
                false,
                &mut b,
                details.as_mut_ptr(),
            );
            assert_eq!(r, fc_result::Ok);
            assert_eq!(details.assume_init().reason, fc_reason::Split);
        };
        evaluate(ROUNDS, false); // warm-up: thread-locals and arc-swap's debt slots
        assert_eq!(
            allocations_in(|| {
                for i in 0..ROUNDS {
                    evaluate(i, i % 2 == 0);
                }
            }),
            0
        );
        assert_eq!(fc_store_flush_exposures(store), fc_result::Ok);
        let mut stats = std::mem::MaybeUninit::<fc_exposure_stats>::uninit();
        assert_eq!(
            fc_store_exposure_stats(store, stats.as_mut_ptr()),
            fc_result::Ok
        );
        let stats = stats.assume_init();
        let evaluations = 2 * (ROUNDS as u64 + 1);
        assert_eq!((stats.accepted, stats.dropped), (evaluations, 0));
        // Each unit's second evaluation (through the snapshot view) repeats its first.
        assert_eq!(stats.deduplicated, ROUNDS as u64 + 1);
        assert_eq!(stats.delivered, ROUNDS as u64 + 1);
        assert_eq!(EXPOSED.load(Ordering::Relaxed), stats.delivered);
        fc_snapshot_free(snapshot);
        fc_store_free(store);
    }
}
