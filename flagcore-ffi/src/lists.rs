//! Lists C reads by index: the runtime kills and the evaluation counts (the guardrails'
//! list is in `guardrail.rs`).

use std::time::UNIX_EPOCH;

use flagcore_engine::Kill;

use crate::error::{fc_result, Failure};
use crate::panic::{ffi_boundary, ffi_result};
use crate::ptr::{fc_str, opaque_handle, out_arg, write_out, Handle};
use crate::reentry::outside_callbacks;
use crate::store::fc_store;

/// The runtime kills in force when `fc_store_kills` was called (a copy: later kills do
/// not change it), by flag name. Free with `fc_kills_free`.
#[allow(non_camel_case_types)]
pub struct fc_kills {
    _private: [u8; 0],
}

opaque_handle!(fc_kills => Vec<Kill>, "kills");

/// One runtime kill, lent by an `fc_kills` list until it is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_kill {
    /// The flag killed (it need not exist in the snapshot).
    pub flag: fc_str,
    /// Why, as the operator said; a guardrail's kill says `guardrail <id>: ` and its
    /// evidence.
    pub reason: fc_str,
    /// When, in nanoseconds since the Unix epoch (negative before it).
    pub at_unix_nanos: i64,
}

impl fc_kill {
    /// Lends `kill`'s strings for as long as `kill` lives.
    pub(crate) fn lend(kill: &Kill) -> fc_kill {
        let at = match kill.at.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
        };
        fc_kill {
            flag: fc_str::new(&kill.flag),
            reason: fc_str::new(&kill.reason),
            at_unix_nanos: at,
        }
    }
}

/// Copies the runtime kills in force into a new list `*out_kills`.
///
/// # Safety
///
/// `store` NULL or live; `out_kills` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_kills(
    store: *const fc_store,
    out_kills: *mut *mut fc_kills,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_kills")?;
        let out_kills = out_arg(out_kills, "out_kills")?;
        // SAFETY: `out_kills` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_kills, fc_kills::into_raw(store.kills())) };
        Ok(())
    }
}

/// The number of kills in `kills`; 0 for NULL.
///
/// # Safety
///
/// `kills` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fc_kills_len(kills: *const fc_kills) -> usize {
    ffi_boundary! {
        // SAFETY: `kills` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_kills` returned that `fc_kills_free` has not freed, so the `Vec<Kill>`
        // box it points at stays alive for this call.
        unsafe { fc_kills::borrow(kills) }.map_or(0, Vec::len)
    }
}

/// Lends kill `index` into `*out`; `FC_RESULT_OUT_OF_RANGE` past the last one.
///
/// # Safety
///
/// `kills` NULL or live; `out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_kills_get(
    kills: *const fc_kills,
    index: usize,
    out: *mut fc_kill,
) -> fc_result {
    ffi_result! {
        // SAFETY: `kills` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_kills` returned that `fc_kills_free` has not freed, so the `Vec<Kill>`
        // box it points at stays alive for this call.
        let kills = unsafe { fc_kills::borrow(kills)? };
        let out = out_arg(out, "out")?;
        let kill = kills.get(index).ok_or_else(|| out_of_range(index, kills.len()))?;
        // SAFETY: `out` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, aligned and valid for a write of what it points to; `write_out` neither reads
        // nor drops the old value.
        unsafe { write_out(out, fc_kill::lend(kill)) };
        Ok(())
    }
}

/// Frees a kill list; NULL is a no-op.
///
/// # Safety
///
/// `kills` NULL or live, in use on no other thread; invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn fc_kills_free(kills: *mut fc_kills) {
    ffi_boundary! {
        // SAFETY: as the `# Safety` section requires, `kills` is NULL (a no-op) or a handle
        // `fc_store_kills` returned, not freed yet and used by no other thread now or later, so
        // `free` may take the `Vec<Kill>` box back and drop it.
        unsafe { fc_kills::free(kills) }
    }
}

/// One row of a metrics list: `flag` served `variant` `count` times.
#[derive(Debug)]
pub struct MetricRow {
    flag: String,
    variant: Option<String>,
    count: u64,
}

/// Evaluation counts taken by `fc_store_take_metrics`, one row per flag and variant
/// served, by flag then variant name, each flag's caller's-default row last. Free with
/// `fc_metrics_free`.
#[allow(non_camel_case_types)]
pub struct fc_metrics {
    _private: [u8; 0],
}

opaque_handle!(fc_metrics => Vec<MetricRow>, "metrics");

/// One row of an `fc_metrics` list, lent until the list is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_metric {
    /// The flag evaluated.
    pub flag: fc_str,
    /// The variant served; NULL for evaluations that served the caller's default.
    pub variant: fc_str,
    /// How many top-level evaluations (prerequisites are not counted).
    pub count: u64,
}

/// Moves the evaluation counts since the last call into a new list `*out_metrics`,
/// resetting them.
///
/// # Safety
///
/// `store` NULL or live; `out_metrics` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_take_metrics(
    store: *const fc_store,
    out_metrics: *mut *mut fc_metrics,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_take_metrics")?;
        let out_metrics = out_arg(out_metrics, "out_metrics")?;
        let mut rows = Vec::new();
        for (flag, counts) in store.take_metrics().flags {
            for (variant, count) in counts.variants {
                rows.push(MetricRow { flag: flag.clone(), variant: Some(variant), count });
            }
            if counts.defaults > 0 {
                rows.push(MetricRow { flag, variant: None, count: counts.defaults });
            }
        }
        // SAFETY: `out_metrics` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_metrics, fc_metrics::into_raw(rows)) };
        Ok(())
    }
}

/// The number of rows in `metrics`; 0 for NULL.
///
/// # Safety
///
/// `metrics` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fc_metrics_len(metrics: *const fc_metrics) -> usize {
    ffi_boundary! {
        // SAFETY: `metrics` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_take_metrics` returned that `fc_metrics_free` has not freed,
        // so the `Vec<MetricRow>` box it points at stays alive for this call.
        unsafe { fc_metrics::borrow(metrics) }.map_or(0, Vec::len)
    }
}

/// Lends row `index` into `*out`; `FC_RESULT_OUT_OF_RANGE` past the last one.
///
/// # Safety
///
/// `metrics` NULL or live; `out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_metrics_get(
    metrics: *const fc_metrics,
    index: usize,
    out: *mut fc_metric,
) -> fc_result {
    ffi_result! {
        // SAFETY: `metrics` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_take_metrics` returned that `fc_metrics_free` has not freed,
        // so the `Vec<MetricRow>` box it points at stays alive for this call.
        let metrics = unsafe { fc_metrics::borrow(metrics)? };
        let out = out_arg(out, "out")?;
        let row = metrics.get(index).ok_or_else(|| out_of_range(index, metrics.len()))?;
        let lent = fc_metric {
            flag: fc_str::new(&row.flag),
            variant: fc_str::from_option(row.variant.as_deref()),
            count: row.count,
        };
        // SAFETY: `out` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, aligned and valid for a write of what it points to; `write_out` neither reads
        // nor drops the old value.
        unsafe { write_out(out, lent) };
        Ok(())
    }
}

/// Frees a metrics list; NULL is a no-op.
///
/// # Safety
///
/// `metrics` NULL or live, in use on no other thread; invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn fc_metrics_free(metrics: *mut fc_metrics) {
    ffi_boundary! {
        // SAFETY: as the `# Safety` section requires, `metrics` is NULL (a no-op) or a handle
        // `fc_store_take_metrics` returned, not freed yet and used by no other thread now or later,
        // so `free` may take the `Vec<MetricRow>` box back and drop it.
        unsafe { fc_metrics::free(metrics) }
    }
}

pub(crate) fn out_of_range(index: usize, len: usize) -> Failure {
    Failure::new(
        fc_result::OutOfRange,
        format!("index {index} is past the end of a list of {len}"),
    )
}
