//! The C ABI against the Rust API, on the same store, flags and context (the shapes of
//! `benches/`): plain getters through the store, and details through a held snapshot.
//! The C ABI's target: within 10% of Rust.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::ffi::c_char;
use std::hint::black_box;
use std::ptr;

use criterion::{criterion_group, criterion_main, Criterion};
use flagcore::{
    fc_attribute, fc_context, fc_details, fc_prepared_context_free, fc_prepared_context_new,
    fc_result, fc_snapshot_bool, fc_snapshot_free, fc_store_bool, fc_store_free, fc_store_kill,
    fc_store_new_from_bytes, fc_store_snapshot, fc_value_kind,
};
use flagcore_benches::shapes_snapshot;
use flagcore_engine::{EvaluationContext, Store, Value};

const ATTRIBUTES: [(&str, &str); 5] = [
    ("email", "dana@example.com"),
    ("country", "c999"),
    ("account_id", "acct-1027"),
    ("user_agent", "Mozilla/5.0 (Linux; Android 14) Mobile"),
    ("app_version", "2.5.1"),
];

fn c_attribute(name: &'static str, value: &'static str) -> fc_attribute {
    fc_attribute {
        name: name.as_ptr().cast(),
        name_len: name.len(),
        kind: fc_value_kind::String as u32,
        string_value: value.as_ptr().cast(),
        string_len: value.len(),
        int_value: 0,
        float_value: 0.0,
        bool_value: false,
    }
}

fn bench(c: &mut Criterion) {
    let doc = shapes_snapshot();
    let store = Store::from_bytes(doc.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    store.kill("killed", "bench");
    let mut rust_attrs: Vec<(&str, Value<'_>)> = ATTRIBUTES
        .iter()
        .map(|(n, v)| (*n, Value::from(*v)))
        .collect();
    rust_attrs.insert(1, ("beta_opt_in", Value::Bool(true)));
    let rust_ctx = EvaluationContext::new("user-17").with_attributes(&rust_attrs);

    let mut c_store = ptr::null_mut();
    let mut c_attrs: Vec<fc_attribute> =
        ATTRIBUTES.iter().map(|(n, v)| c_attribute(n, v)).collect();
    let mut beta = c_attribute("beta_opt_in", "");
    beta.kind = fc_value_kind::Bool as u32;
    beta.bool_value = true;
    c_attrs.insert(1, beta);
    let key = "user-17";
    let c_ctx = fc_context {
        key: key.as_ptr().cast(),
        key_len: key.len(),
        attributes: c_attrs.as_ptr(),
        attributes_len: c_attrs.len(),
        prepared: ptr::null(),
    };
    let mut prepared = ptr::null_mut();
    // SAFETY: a valid context and out-pointer.
    unsafe {
        assert_eq!(
            fc_prepared_context_new(&c_ctx, &mut prepared),
            fc_result::Ok
        )
    };
    let c_prepared = fc_context {
        key: ptr::null(),
        key_len: 0,
        attributes: ptr::null(),
        attributes_len: 0,
        prepared,
    };
    // SAFETY: valid pointers and lengths; the store is freed once, at the end.
    unsafe {
        assert_eq!(
            fc_store_new_from_bytes(doc.as_ptr(), doc.len(), &mut c_store),
            fc_result::Ok
        );
        let (flag, len) = ("killed", 6);
        assert_eq!(
            fc_store_kill(c_store, flag.as_ptr().cast(), len, ptr::null(), 0),
            fc_result::Ok
        );
    }

    let mut group = c.benchmark_group("ffi");
    for flag in ["static", "killed", "three-rules", "matches", "chain-3"] {
        let name: (*const c_char, usize) = (flag.as_ptr().cast(), flag.len());
        group.bench_function(format!("{flag}/rust/store.bool"), |b| {
            b.iter(|| store.bool(black_box(flag), black_box(&rust_ctx), false))
        });
        group.bench_function(format!("{flag}/c/fc_store_bool"), |b| {
            b.iter(|| {
                let mut out = false;
                // SAFETY: a live store, a valid name and context, a valid out-pointer.
                let r = unsafe {
                    fc_store_bool(
                        c_store,
                        black_box(name.0),
                        name.1,
                        black_box(&c_ctx),
                        false,
                        &mut out,
                    )
                };
                (r, out)
            })
        });
        group.bench_function(format!("{flag}/c/fc_store_bool+prepared"), |b| {
            b.iter(|| {
                let mut out = false;
                // SAFETY: a live store, a valid name and prepared context, a valid out-pointer.
                let r = unsafe {
                    fc_store_bool(
                        c_store,
                        black_box(name.0),
                        name.1,
                        black_box(&c_prepared),
                        false,
                        &mut out,
                    )
                };
                (r, out)
            })
        });
    }
    let view = store.snapshot();
    let mut c_view = ptr::null_mut();
    // SAFETY: a live store and a valid out-pointer.
    unsafe { assert_eq!(fc_store_snapshot(c_store, &mut c_view), fc_result::Ok) };
    for flag in ["static", "three-rules"] {
        let name: (*const c_char, usize) = (flag.as_ptr().cast(), flag.len());
        group.bench_function(format!("{flag}/rust/snapshot.bool_details"), |b| {
            b.iter(|| {
                view.bool_details(black_box(flag), black_box(&rust_ctx), false)
                    .bucket
            })
        });
        group.bench_function(format!("{flag}/c/fc_snapshot_bool+details"), |b| {
            b.iter(|| {
                let mut out = false;
                let mut details = std::mem::MaybeUninit::<fc_details>::uninit();
                // SAFETY: a live snapshot, a valid name and context, valid out-pointers.
                let r = unsafe {
                    fc_snapshot_bool(
                        c_view,
                        black_box(name.0),
                        name.1,
                        black_box(&c_ctx),
                        false,
                        &mut out,
                        details.as_mut_ptr(),
                    )
                };
                // SAFETY: written in full on success.
                (r, unsafe { details.assume_init() }.bucket)
            })
        });
        group.bench_function(format!("{flag}/c/fc_snapshot_bool+details+prepared"), |b| {
            b.iter(|| {
                let mut out = false;
                let mut details = std::mem::MaybeUninit::<fc_details>::uninit();
                // SAFETY: a live snapshot, a valid name and prepared context, valid
                // out-pointers.
                let r = unsafe {
                    fc_snapshot_bool(
                        c_view,
                        black_box(name.0),
                        name.1,
                        black_box(&c_prepared),
                        false,
                        &mut out,
                        details.as_mut_ptr(),
                    )
                };
                // SAFETY: written in full on success.
                (r, unsafe { details.assume_init() }.bucket)
            })
        });
    }
    group.finish();
    // SAFETY: both handles are live and freed once.
    unsafe {
        fc_snapshot_free(c_view);
        fc_store_free(c_store);
        fc_prepared_context_free(prepared);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
