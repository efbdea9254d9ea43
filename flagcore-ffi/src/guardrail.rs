//! Guardrails: `fc_store_observe` (the outcomes the application reports), the
//! `fc_guardrails` list of their state, the store's counters and the trip callback.

use std::ffi::{c_char, c_void};
use std::time::Duration;

use flagcore_engine::{GuardrailStatus, Kill, Observation};

use crate::error::fc_result;
use crate::lists::{fc_kill, out_of_range};
use crate::panic::{ffi_boundary, ffi_result};
use crate::ptr::{fc_str, opaque_handle, out_arg, str_arg, write_out, Handle, UserData};
use crate::reentry::outside_callbacks;
use crate::store::fc_store;

/// Reports what the application saw after serving variant `variant` of flag `flag`: a
/// failed request (`error`), and how long it took (`latency_us` microseconds; negative
/// when not measured). This is the evidence of the flag's guardrails; the observation
/// that trips one kills the flag (its kill's reason starts with `guardrail`), calls the
/// trip callback (`fc_store_on_guardrail_trip`) and returns `FC_RESULT_OK` like any other.
///
/// An unknown flag or variant is not a failure: `FC_RESULT_OK`, nothing recorded, counted
/// by `fc_store_observations_ignored`. Neither is a flag that is killed or disabled, nor
/// a variant no guardrail compares: they gather no evidence. Fails only on a NULL store
/// (`FC_RESULT_NULL_POINTER`) or a name that is not UTF-8 (`FC_RESULT_INVALID_UTF8`).
/// Lock-free and allocation-free, but for the one observation that trips a guardrail.
///
/// # Safety
///
/// `store` NULL or live; `flag` and `variant` valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn fc_store_observe(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    variant: *const c_char,
    variant_len: usize,
    error: bool,
    latency_us: i64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_observe")?;
        // SAFETY: as the `# Safety` section requires, `flag` is valid for reads of `flag_len` bytes
        // that do not change during this call (NULL is refused unless `flag_len` is 0); the `&str`
        // is not kept past the call.
        let flag = unsafe { str_arg(flag, flag_len, "flag")? };
        // SAFETY: as the `# Safety` section requires, `variant` is valid for reads of `variant_len`
        // bytes that do not change during this call (NULL is refused unless `variant_len` is 0);
        // the `&str` is not kept past the call.
        let variant = unsafe { str_arg(variant, variant_len, "variant")? };
        let latency = u64::try_from(latency_us).ok().map(Duration::from_micros);
        store.observe(flag, variant, Observation { error, latency });
        Ok(())
    }
}

/// How many guardrails have tripped since the store was created, into `*out_trips`.
///
/// # Safety
///
/// `store` NULL or live; `out_trips` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_guardrail_trips(
    store: *const fc_store,
    out_trips: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_guardrail_trips")?;
        let out_trips = out_arg(out_trips, "out_trips")?;
        // SAFETY: `out_trips` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_trips, store.guardrail_trips()) };
        Ok(())
    }
}

/// How many `fc_store_observe` calls named an unknown flag or variant, into `*out_ignored`.
///
/// # Safety
///
/// `store` NULL or live; `out_ignored` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_observations_ignored(
    store: *const fc_store,
    out_ignored: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        let out_ignored = out_arg(out_ignored, "out_ignored")?;
        // SAFETY: `out_ignored` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_ignored, store.observations_ignored()) };
        Ok(())
    }
}

/// Called with the kill each time a guardrail trips (to tell the rest of a fleet, say):
/// `user_data` as given to `fc_store_on_guardrail_trip`, and the kill, lent for the call.
#[allow(non_camel_case_types)]
pub type fc_guardrail_trip_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, kill: *const fc_kill)>;

/// Calls `callback(user_data, kill)` each time a guardrail of the store trips, replacing
/// any earlier callback; a NULL `callback` stops the calls.
///
/// The callback runs on the thread whose `fc_store_observe` tripped the guardrail, inside
/// that call, after the kill took effect (`fc_store_kills` lists it) and with no lock of
/// the store held: it may call any function of the store but `fc_store_free`. It must
/// be safe to call from any thread, concurrently when guardrails of several flags trip
/// at once, must not unwind (a C++ exception), and should be quick: it delays the
/// observation that tripped. The kill it is lent is valid for the call only.
///
/// `user_data` must stay valid as long as the callback may run: until the store is freed,
/// or until a later `fc_store_on_guardrail_trip` returned and every `fc_store_observe`
/// running at that moment has returned too.
///
/// # Safety
///
/// `store` NULL or live; `callback` NULL or a function that honours the above.
#[no_mangle]
pub unsafe extern "C" fn fc_store_on_guardrail_trip(
    store: *const fc_store,
    callback: fc_guardrail_trip_callback,
    user_data: *mut c_void,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_on_guardrail_trip")?;
        let user_data = UserData::new(user_data);
        store.on_guardrail_trip(move |kill: &Kill| {
            if let Some(callback) = callback {
                let lent = fc_kill::lend(kill);
                // SAFETY: by `fc_store_on_guardrail_trip`'s `# Safety` section, `callback` is
                // a function safe to call on any thread with `user_data`, which stays valid
                // until the store is freed or a later call replaced this callback (and the
                // observations running then returned); `lent` borrows `kill`, which outlives
                // the call.
                unsafe { callback(user_data.get(), &lent) };
            }
        });
        Ok(())
    }
}

/// One variant a guardrail compares and its evidence, lent by an `fc_guardrails` list.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_variant_counts {
    /// The variant; NULL in an `fc_guardrail` without a baseline.
    pub variant: fc_str,
    /// Observations reported since the evidence started (or was reset by a revive).
    pub observations: u64,
    /// Of them, errors (for a latency bound: requests slower than it).
    pub events: u64,
}

impl fc_variant_counts {
    fn lend((variant, counts): &(String, flagcore_engine::Counts)) -> fc_variant_counts {
        fc_variant_counts {
            variant: fc_str::new(variant),
            observations: counts.observations,
            events: counts.events,
        }
    }
}

/// One guardrail of a list, and its watched variants lent as an array.
#[derive(Debug)]
pub struct GuardrailRow {
    status: GuardrailStatus,
    /// Lends the names in `status.watched`, whose heap buffers never move while the row
    /// lives (the row is never changed after it is made).
    watched: Box<[fc_variant_counts]>,
}

/// The guardrails of the serving snapshot and their state when `fc_store_guardrails` was
/// called (a copy: later observations do not change it), in document order of their
/// flags. Free with `fc_guardrails_free`.
#[allow(non_camel_case_types)]
pub struct fc_guardrails {
    _private: [u8; 0],
}

opaque_handle!(fc_guardrails => Vec<GuardrailRow>, "guardrails");

/// One guardrail's state, lent by an `fc_guardrails` list until it is freed.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_guardrail {
    /// The flag it guards.
    pub flag: fc_str,
    /// Its `id`.
    pub id: fc_str,
    /// What it bounds, for people: `max_increase 0.01 over off`, `max_error_rate 0.05` or
    /// `p99 at most 250 ms`.
    pub bound: fc_str,
    /// Each watched variant and its evidence, `watched_len` of them, in `watch` order.
    pub watched: *const fc_variant_counts,
    /// The number of entries at `watched`.
    pub watched_len: usize,
    /// The baseline variant and its evidence; `baseline.variant` is NULL (and the counts
    /// 0) for a bound without a baseline.
    pub baseline: fc_variant_counts,
    /// The sequential test's likelihood ratio that the bound is exceeded; it trips at 100.
    pub likelihood_ratio: f64,
    /// Whether it has tripped (and killed its flag) since the flag was last revived.
    pub tripped: bool,
}

/// Copies the state of every guardrail of the serving snapshot into a new list
/// `*out_guardrails`; empty before the first snapshot.
///
/// # Safety
///
/// `store` NULL or live; `out_guardrails` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_guardrails(
    store: *const fc_store,
    out_guardrails: *mut *mut fc_guardrails,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        let out_guardrails = out_arg(out_guardrails, "out_guardrails")?;
        let rows = store
            .guardrails()
            .into_iter()
            .map(|status| GuardrailRow {
                watched: status.watched.iter().map(fc_variant_counts::lend).collect(),
                status,
            })
            .collect();
        // SAFETY: `out_guardrails` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_guardrails, fc_guardrails::into_raw(rows)) };
        Ok(())
    }
}

/// The number of guardrails in `guardrails`; 0 for NULL.
///
/// # Safety
///
/// `guardrails` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fc_guardrails_len(guardrails: *const fc_guardrails) -> usize {
    ffi_boundary! {
        // SAFETY: `guardrails` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_guardrails` returned that `fc_guardrails_free` has not
        // freed, so the `Vec<GuardrailRow>` box it points at stays alive for this call.
        unsafe { fc_guardrails::borrow(guardrails) }.map_or(0, Vec::len)
    }
}

/// Lends guardrail `index` into `*out`; `FC_RESULT_OUT_OF_RANGE` past the last one.
///
/// # Safety
///
/// `guardrails` NULL or live; `out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_guardrails_get(
    guardrails: *const fc_guardrails,
    index: usize,
    out: *mut fc_guardrail,
) -> fc_result {
    ffi_result! {
        // SAFETY: `guardrails` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_guardrails` returned that `fc_guardrails_free` has not
        // freed, so the `Vec<GuardrailRow>` box it points at stays alive for this call.
        let rows = unsafe { fc_guardrails::borrow(guardrails)? };
        let out = out_arg(out, "out")?;
        let row = rows.get(index).ok_or_else(|| out_of_range(index, rows.len()))?;
        let status = &row.status;
        let lent = fc_guardrail {
            flag: fc_str::new(&status.flag),
            id: fc_str::new(&status.id),
            bound: fc_str::new(&status.bound),
            watched: row.watched.as_ptr(),
            watched_len: row.watched.len(),
            baseline: status.baseline.as_ref().map_or(
                fc_variant_counts { variant: fc_str::NONE, observations: 0, events: 0 },
                fc_variant_counts::lend,
            ),
            likelihood_ratio: status.likelihood_ratio,
            tripped: status.tripped,
        };
        // SAFETY: `out` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, aligned and valid for a write of what it points to; `write_out` neither reads
        // nor drops the old value.
        unsafe { write_out(out, lent) };
        Ok(())
    }
}

/// Frees a guardrail list; NULL is a no-op.
///
/// # Safety
///
/// `guardrails` NULL or live, in use on no other thread; invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn fc_guardrails_free(guardrails: *mut fc_guardrails) {
    ffi_boundary! {
        // SAFETY: as the `# Safety` section requires, `guardrails` is NULL (a no-op) or a handle
        // `fc_store_guardrails` returned, not freed yet and used by no other thread now or later,
        // so `free` may take the `Vec<GuardrailRow>` box back and drop it.
        unsafe { fc_guardrails::free(guardrails) }
    }
}
