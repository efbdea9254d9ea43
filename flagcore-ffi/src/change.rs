//! Subscriptions: `fc_store_subscribe` tells a C callback which flags each change of a
//! store changed (an update, a kill, a revive, a guardrail trip), whoever made it (the
//! caller, a source's thread), and `fc_store_unsubscribe` ends it.
//!
//! The core calls subscribers under the store's writer lock, so that they hear of changes
//! in order. A callback that called back into a function taking that lock would wait for
//! itself forever: on the callback's thread those functions fail with
//! `FC_RESULT_REENTRANT_CALL` instead ([`crate::reentry`]).

use std::ffi::c_void;

use flagcore_engine::Change;

use crate::error::{fc_result, Failure};
use crate::panic::ffi_result;
use crate::ptr::{fc_str, out_arg, write_out, Handle, UserData};
use crate::reentry::{address, outside_callbacks, Inside, Running};
use crate::store::fc_store;

/// What changed in a store, lent to an `fc_change_callback` for the length of the call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_change {
    /// Whether `version` is set: false while the store has no snapshot (a kill before the
    /// first update).
    pub has_version: bool,
    /// The serving snapshot's version after the change.
    pub version: u64,
    /// The names of the flags whose definition or kill changed, sorted, `flags_len` of
    /// them: added and removed flags, flags defined differently, flags using a segment or
    /// prerequisite that changed, and the flag a kill, revive or guardrail trip concerns.
    /// May be empty (an update that changed no flag). NULL when `flags_len` is 0.
    pub flags: *const fc_str,
    /// The number of names at `flags`.
    pub flags_len: usize,
}

/// Called after each change of a store: `user_data` as given to `fc_store_subscribe`, and
/// the change, lent for the call.
#[allow(non_camel_case_types)]
pub type fc_change_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, change: *const fc_change)>;

/// Calls `callback(user_data, change)` after each change of what the store serves, with the
/// version then serving and the flags that changed: an update (`fc_store_update`, a
/// source's reload), a kill or revive that changes a flag's kill, a guardrail trip, kills a
/// source restores from its disk cache. `*out_id` receives the subscription's id (never
/// 0), for `fc_store_unsubscribe`.
///
/// The callback runs on the thread that made the change, inside the call that made it
/// (`fc_store_update`, `fc_store_kill`, `fc_store_revive`, `fc_store_observe`,
/// `fc_file_source_start`, ...) or on a source's thread, while the store's writer lock is
/// held, so that every subscriber hears of the changes in the order they happened. So:
///
/// - it may evaluate (`fc_store_bool`, `fc_store_snapshot`, ...) and read the version,
///   which never wait for that lock; the functions that take it (`fc_store_update`,
///   `fc_store_update_file`, `fc_store_kill`, `fc_store_revive`, `fc_store_kills`,
///   `fc_store_take_metrics`, `fc_store_set_metrics_enabled`, `fc_store_observe`,
///   `fc_store_guardrail_trips`, `fc_store_on_guardrail_trip`, `fc_store_subscribe`,
///   `fc_store_unsubscribe`, `fc_file_source_start`, `fc_http_source_start`) fail on its
///   thread with `FC_RESULT_REENTRANT_CALL` when given this store. It must not free the
///   store, nor stop or free a source feeding it, nor wait for another thread that calls
///   any of those functions with this store;
/// - it must be safe to call from any thread (one call at a time per store), must not
///   unwind (a C++ exception), and should be quick: every writer of the store waits for
///   it (evaluations never do). The change it is lent is valid for the call only.
///
/// `user_data` must stay valid until `fc_store_unsubscribe` of this id, or `fc_store_free`
/// of the handle it was made through, has returned: neither returns while the callback
/// runs, and the callback is never called afterwards.
///
/// Fails with `FC_RESULT_NULL_POINTER` for a NULL store, callback or `out_id`.
///
/// # Safety
///
/// `store` NULL or live; `callback` NULL or a function that honours the above, with
/// `user_data`; `out_id` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_subscribe(
    store: *const fc_store,
    callback: fc_change_callback,
    user_data: *mut c_void,
    out_id: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let handle = unsafe { fc_store::borrow(store)? };
        outside_callbacks(handle, "fc_store_subscribe")?;
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        let out_id = out_arg(out_id, "out_id")?;
        let user_data = UserData::new(user_data);
        let store = address(handle);
        let id = handle.subscribe(move |change: &Change| {
            let names: Vec<fc_str> = change.flags.iter().map(|f| fc_str::new(f)).collect();
            let lent = fc_change {
                has_version: change.version.is_some(),
                version: change.version.unwrap_or(0),
                flags: if names.is_empty() { std::ptr::null() } else { names.as_ptr() },
                flags_len: names.len(),
            };
            let _running = Running::enter(store, Inside::Subscriber);
            // SAFETY: by `fc_store_subscribe`'s `# Safety` section, `callback` is a function
            // safe to call on any thread with `user_data`, which stays valid until the
            // subscription ends; it cannot end during this call, since ending it takes the
            // store's writer lock, held here. `lent` points into `names` and `change`, which
            // outlive the call.
            unsafe { callback(user_data.get(), &lent) };
        });
        let number = handle.add_subscription(id);
        // SAFETY: `out_id` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, aligned and valid for a write of what it points to; `write_out` neither reads
        // nor drops the old value.
        unsafe { write_out(out_id, number) };
        Ok(())
    }
}

/// Ends subscription `id` made through this handle with `fc_store_subscribe`;
/// `*out_removed` (unless NULL) receives whether there was one (an unknown or already
/// ended id is not a failure). Once this returns, the callback is not running and is never
/// called again, so its `user_data` may be freed.
///
/// # Safety
///
/// `store` NULL or live; `out_removed` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_unsubscribe(
    store: *const fc_store,
    id: u64,
    out_removed: *mut bool,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let handle = unsafe { fc_store::borrow(store)? };
        outside_callbacks(handle, "fc_store_unsubscribe")?;
        let removed = handle.remove_subscription(id);
        if !out_removed.is_null() {
            // SAFETY: `out_removed` is non-NULL (checked just above) and, as the `# Safety` section
            // requires, aligned and valid for a write of what it points to; `write_out` neither
            // reads nor drops the old value.
            unsafe { write_out(out_removed, removed) };
        }
        Ok(())
    }
}
