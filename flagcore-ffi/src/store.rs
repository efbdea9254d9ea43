//! `fc_store`: the serving snapshot, updates, kills, metrics, and evaluation without details.

use std::ffi::c_char;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use flagcore_engine::{EvaluationContext, Store, SubscriptionId};

use crate::buffer::{write_json, Buffer};
use crate::context::{fc_context, with_context};
use crate::error::{fc_result, Failure};
use crate::exposure::Tracking;
use crate::panic::{ffi_boundary, ffi_result};
use crate::ptr::{bytes_arg, opaque_handle, out_arg, str_arg, write_out, Handle};
use crate::reentry::outside_callbacks;
use crate::snapshot::fc_snapshot;

/// Holds the serving snapshot (a boxed `flagcore::Store`). Every function taking a
/// `const fc_store *` may be called from any number of threads at once; readers never
/// block. Free it with `fc_store_free` once no thread uses it.
#[allow(non_camel_case_types)]
pub struct fc_store {
    _private: [u8; 0],
}

opaque_handle!(fc_store => StoreHandle, "store");

/// What an `fc_store` points at: the store, and the subscriptions and exposure tracking
/// started through the handle.
pub(crate) struct StoreHandle {
    /// An `Arc`, so that a source (`fc_source`) can keep feeding the store from its thread
    /// after the caller freed its handle.
    store: Arc<Store>,
    /// The subscriptions made with `fc_store_subscribe`, by the id C was given. Freeing the
    /// handle ends them, so that no callback runs after `fc_store_free`, even while a
    /// source keeps the store itself alive.
    subscriptions: Mutex<Subscriptions>,
    /// Whether exposures go to a C callback, whose calls freeing the handle ends.
    exposures: Tracking,
}

/// The ids handed to C for the core's subscriptions: the core's `SubscriptionId` has no
/// number a binding can read or rebuild.
#[derive(Default)]
struct Subscriptions {
    /// The last id given out; ids start at 1, so that 0 is never one.
    last: u64,
    ids: Vec<(u64, SubscriptionId)>,
}

impl StoreHandle {
    fn new(store: Store) -> StoreHandle {
        StoreHandle {
            store: Arc::new(store),
            subscriptions: Mutex::new(Subscriptions::default()),
            exposures: Tracking::default(),
        }
    }

    pub(crate) fn exposures(&self) -> &Tracking {
        &self.exposures
    }

    fn subscriptions(&self) -> std::sync::MutexGuard<'_, Subscriptions> {
        // Each change of the table is one step: a panic cannot leave it half-changed.
        self.subscriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a subscription of the core store; returns the id C will name it by.
    pub(crate) fn add_subscription(&self, id: SubscriptionId) -> u64 {
        let mut subscriptions = self.subscriptions();
        subscriptions.last += 1;
        let number = subscriptions.last;
        subscriptions.ids.push((number, id));
        number
    }

    /// Ends subscription `number` made through this handle; returns whether there was one.
    /// Once this returns, its callback is not running and will not run again.
    pub(crate) fn remove_subscription(&self, number: u64) -> bool {
        let id = {
            let mut subscriptions = self.subscriptions();
            let Some(at) = subscriptions.ids.iter().position(|(n, _)| *n == number) else {
                return false;
            };
            subscriptions.ids.swap_remove(at).1
        };
        // Outside the table's lock: this waits for the store's writer lock, under which
        // the callbacks run.
        self.store.unsubscribe(id)
    }
}

impl Deref for StoreHandle {
    type Target = Arc<Store>;

    fn deref(&self) -> &Arc<Store> {
        &self.store
    }
}

impl Drop for StoreHandle {
    fn drop(&mut self) {
        let ids = std::mem::take(&mut self.subscriptions().ids);
        for (_, id) in ids {
            self.store.unsubscribe(id);
        }
        self.exposures.end(&self.store);
    }
}

/// Hands a new store to C.
///
/// # Safety
///
/// `out_store` must be non-NULL and valid for a write.
pub(crate) unsafe fn give(store: Store, out_store: *mut *mut fc_store) {
    // SAFETY: this function's contract: `out_store` is non-NULL and valid for a write of
    // one `*mut fc_store`.
    unsafe { write_out(out_store, fc_store::into_raw(StoreHandle::new(store))) }
}

/// Creates an empty store into `*out_store`: until the first update every evaluation
/// serves the caller's default with `FC_ERROR_CODE_PROVIDER_NOT_READY`.
///
/// # Safety
///
/// `out_store` must be NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_new(out_store: *mut *mut fc_store) -> fc_result {
    ffi_result! {
        let out_store = out_arg(out_store, "out_store")?;
        // SAFETY: `out_store` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(Store::new(), out_store) };
        Ok(())
    }
}

/// Creates a store serving the snapshot document in `len` bytes at `bytes` (JSON, docs/format.md §2).
/// On failure nothing is created: `FC_RESULT_INVALID_SNAPSHOT` with every problem in the
/// last error.
///
/// # Safety
///
/// `bytes` must be valid for `len` bytes; `out_store` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_new_from_bytes(
    bytes: *const u8,
    len: usize,
    out_store: *mut *mut fc_store,
) -> fc_result {
    ffi_result! {
        let out_store = out_arg(out_store, "out_store")?;
        // SAFETY: as the `# Safety` section requires, `bytes` is valid for reads of `len` bytes
        // that do not change during this call (NULL is refused unless `len` is 0); the slice is not
        // kept past the call.
        let bytes = unsafe { bytes_arg(bytes, len, "bytes")? };
        let store = Store::from_bytes(bytes)?;
        // SAFETY: `out_store` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(store, out_store) };
        Ok(())
    }
}

/// Creates a store serving the snapshot in the file at `path` (`path_len` bytes, not
/// NUL-terminated). Fails with `FC_RESULT_IO` or `FC_RESULT_INVALID_SNAPSHOT`.
///
/// # Safety
///
/// `path` must be valid for `path_len` bytes; `out_store` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_new_from_file(
    path: *const c_char,
    path_len: usize,
    out_store: *mut *mut fc_store,
) -> fc_result {
    ffi_result! {
        let out_store = out_arg(out_store, "out_store")?;
        // SAFETY: as the `# Safety` section requires, `path` is valid for reads of `path_len` bytes
        // during this call (NULL is refused unless `path_len` is 0); `path_arg` copies them into a
        // `PathBuf`.
        let path = unsafe { path_arg(path, path_len, "path")? };
        let store = Store::from_file(path)?;
        // SAFETY: `out_store` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(store, out_store) };
        Ok(())
    }
}

/// Frees a store; NULL is a no-op. Snapshot views taken from it stay valid, and so do
/// sources feeding it (`fc_source`), which keep it alive until they are freed. The
/// subscriptions made through it end (`fc_store_unsubscribe`): once this returns, their
/// callbacks are not running and are never called again. Exposures accepted before it
/// are delivered first (`fc_store_flush_exposures`), and an exposure callback is never
/// called again either.
///
/// # Safety
///
/// `store` must be NULL or a live handle, used by no other thread now or later, and not
/// called from one of its own callbacks.
#[no_mangle]
pub unsafe extern "C" fn fc_store_free(store: *mut fc_store) {
    ffi_boundary! {
        // SAFETY: as the `# Safety` section requires, `store` is NULL (a no-op) or a handle
        // `fc_store_new*` returned, not freed yet and used by no other thread now or later, so
        // `free` may take the `StoreHandle` box back and drop it.
        unsafe { fc_store::free(store) }
    }
}

/// A file path: any bytes on Unix, UTF-8 elsewhere.
///
/// # Safety
///
/// `path` must be valid for `len` bytes.
pub(crate) unsafe fn path_arg(
    path: *const c_char,
    len: usize,
    what: &str,
) -> Result<PathBuf, Failure> {
    // SAFETY: as this function's `# Safety` contract requires, `path` is valid for reads of `len`
    // bytes that do not change during this call (NULL is refused unless `len` is 0); the slice is
    // not kept past the call.
    let bytes = unsafe { bytes_arg(path.cast(), len, what)? };
    if bytes.is_empty() {
        return Err(Failure::new(
            fc_result::InvalidArgument,
            format!("`{what}` is empty"),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: as this function's `# Safety` contract requires, `path` is valid for reads of
        // `len` bytes that do not change during this call (NULL is refused unless `len` is 0); the
        // `&str` is not kept past the call.
        Ok(PathBuf::from(unsafe { str_arg(path, len, what)? }))
    }
}

/// Validates and compiles the snapshot in `len` bytes at `bytes` off to the side, then
/// swaps it in; `*out_version` (unless NULL) receives the new version. On failure the
/// serving snapshot stays: `FC_RESULT_INVALID_SNAPSHOT` (every problem in the last error,
/// also one by one through `fc_last_error_validation`) or `FC_RESULT_STALE_SNAPSHOT` (the
/// `version` is not newer than the serving one).
///
/// # Safety
///
/// `store` NULL or live; `bytes` valid for `len` bytes; `out_version` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_store_update(
    store: *const fc_store,
    bytes: *const u8,
    len: usize,
    out_version: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_update")?;
        // SAFETY: as the `# Safety` section requires, `bytes` is valid for reads of `len` bytes
        // that do not change during this call (NULL is refused unless `len` is 0); the slice is not
        // kept past the call.
        let bytes = unsafe { bytes_arg(bytes, len, "bytes")? };
        let version = store.update(bytes)?;
        if !out_version.is_null() {
            // SAFETY: `out_version` is non-NULL (checked just above) and, as the `# Safety` section
            // requires, aligned and valid for a write of what it points to; `write_out` neither
            // reads nor drops the old value.
            unsafe { write_out(out_version, version) };
        }
        Ok(())
    }
}

/// Like `fc_store_update`, reading the snapshot from the file at `path` (`path_len` bytes,
/// not NUL-terminated); may also fail with `FC_RESULT_IO`.
///
/// # Safety
///
/// `store` NULL or live; `path` valid for `path_len` bytes; `out_version` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_store_update_file(
    store: *const fc_store,
    path: *const c_char,
    path_len: usize,
    out_version: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_update_file")?;
        // SAFETY: as the `# Safety` section requires, `path` is valid for reads of `path_len` bytes
        // during this call (NULL is refused unless `path_len` is 0); `path_arg` copies them into a
        // `PathBuf`.
        let path = unsafe { path_arg(path, path_len, "path")? };
        let version = store.update_file(path)?;
        if !out_version.is_null() {
            // SAFETY: `out_version` is non-NULL (checked just above) and, as the `# Safety` section
            // requires, aligned and valid for a write of what it points to; `write_out` neither
            // reads nor drops the old value.
            unsafe { write_out(out_version, version) };
        }
        Ok(())
    }
}

/// The serving snapshot's version into `*out_version`; `FC_RESULT_NOT_READY` before the
/// first snapshot.
///
/// # Safety
///
/// `store` NULL or live; `out_version` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_version(
    store: *const fc_store,
    out_version: *mut u64,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        let out_version = out_arg(out_version, "out_version")?;
        let version = store
            .version()
            .ok_or_else(|| Failure::new(fc_result::NotReady, "no snapshot is loaded"))?;
        // SAFETY: `out_version` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_version, version) };
        Ok(())
    }
}

/// Takes a consistent view of the serving snapshot into `*out_snapshot`, for evaluations
/// with details (`fc_snapshot_bool`, ...). Free it with `fc_snapshot_free`. Taking one
/// allocates a small box; evaluations through it allocate nothing.
///
/// # Safety
///
/// `store` NULL or live; `out_snapshot` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_snapshot(
    store: *const fc_store,
    out_snapshot: *mut *mut fc_snapshot,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        let out_snapshot = out_arg(out_snapshot, "out_snapshot")?;
        // SAFETY: `out_snapshot` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_snapshot, fc_snapshot::into_raw(store.snapshot())) };
        Ok(())
    }
}

/// Kills flag `flag` for every thread's next evaluation: it serves its `off_variant` with
/// `FC_REASON_DISABLED` until revived, across snapshot updates. A flag the snapshot lacks
/// can be killed too. `reason` (UTF-8, NULL allowed when `reason_len` is 0) is kept for
/// `fc_store_kills`.
///
/// # Safety
///
/// `store` NULL or live; `flag` and `reason` valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn fc_store_kill(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    reason: *const c_char,
    reason_len: usize,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_kill")?;
        // SAFETY: as the `# Safety` section requires, `flag` is valid for reads of `flag_len` bytes
        // that do not change during this call (NULL is refused unless `flag_len` is 0); the `&str`
        // is not kept past the call.
        let flag = unsafe { str_arg(flag, flag_len, "flag")? };
        // SAFETY: as the `# Safety` section requires, `reason` is valid for reads of `reason_len`
        // bytes that do not change during this call (NULL is refused unless `reason_len` is 0); the
        // `&str` is not kept past the call.
        let reason = unsafe { str_arg(reason, reason_len, "reason")? };
        store.kill(flag, reason);
        Ok(())
    }
}

/// Lifts a runtime kill of `flag`; `*out_was_killed` (unless NULL) receives whether it was
/// killed.
///
/// # Safety
///
/// `store` NULL or live; `flag` valid for `flag_len` bytes; `out_was_killed` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_store_revive(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    out_was_killed: *mut bool,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_revive")?;
        // SAFETY: as the `# Safety` section requires, `flag` is valid for reads of `flag_len` bytes
        // that do not change during this call (NULL is refused unless `flag_len` is 0); the `&str`
        // is not kept past the call.
        let flag = unsafe { str_arg(flag, flag_len, "flag")? };
        let was_killed = store.revive(flag);
        if !out_was_killed.is_null() {
            // SAFETY: `out_was_killed` is non-NULL (checked just above) and, as the `# Safety`
            // section requires, aligned and valid for a write of what it points to; `write_out`
            // neither reads nor drops the old value.
            unsafe { write_out(out_was_killed, was_killed) };
        }
        Ok(())
    }
}

/// Turns evaluation counting on (the default) or off.
///
/// # Safety
///
/// `store` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fc_store_set_metrics_enabled(
    store: *const fc_store,
    enabled: bool,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_store_set_metrics_enabled")?;
        store.set_metrics_enabled(enabled);
        Ok(())
    }
}

/// Checks the common arguments and evaluates through `get` on the serving plan.
///
/// # Safety
///
/// `store` NULL or live; `flag` valid for `flag_len` bytes; `ctx` as `with_context` needs.
#[inline]
unsafe fn evaluate<R>(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    get: impl FnOnce(&flagcore_engine::Plan, &str, &EvaluationContext<'_>) -> R,
) -> Result<R, Failure> {
    // SAFETY: `store` is NULL, which `borrow` refuses, or, as this function's `# Safety` contract
    // requires, a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
    // `StoreHandle` box it points at stays alive for this call.
    let store = unsafe { fc_store::borrow(store)? };
    // SAFETY: as this function's `# Safety` contract requires, `flag` is valid for reads of
    // `flag_len` bytes that do not change during this call (NULL is refused unless `flag_len` is
    // 0); the `&str` is not kept past the call.
    let flag = unsafe { str_arg(flag, flag_len, "flag")? };
    // SAFETY: this function's contract includes `with_context`'s: `ctx` is NULL or a valid
    // `fc_context` whose pointers are valid for their lengths during this call.
    unsafe { with_context(ctx, |ctx| store.with_plan(|plan| get(plan, flag, ctx))) }
}

/// Evaluates boolean flag `flag` for `ctx`.
///
/// On success `*out_value` receives the value, or `default_value` on an evaluation error
/// (unknown flag, wrong type, no snapshot yet: the `fc_snapshot_*` functions tell which).
/// Does not allocate.
///
/// # Safety
///
/// `store` NULL or live; `flag` valid for `flag_len` bytes; `ctx` NULL or a valid
/// `fc_context`; `out_value` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_bool(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_value: bool,
    out_value: *mut bool,
) -> fc_result {
    ffi_result! {
        let out_value = out_arg(out_value, "out_value")?;
        // SAFETY: `evaluate`'s contract is what the `# Safety` section promises for this
        // call: `store` NULL or a live `fc_store`, `flag` valid for reads of `flag_len`
        // bytes, `ctx` NULL or a valid `fc_context`.
        let value = unsafe {
            evaluate(store, flag, flag_len, ctx, |s, flag, ctx| {
                s.bool(flag, ctx, default_value)
            })?
        };
        // SAFETY: `out_value` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_value, value) };
        Ok(())
    }
}

/// Evaluates integer flag `flag` for `ctx`.
///
/// On success `*out_value` receives the value, or `default_value` on an evaluation error
/// (unknown flag, wrong type, no snapshot yet: the `fc_snapshot_*` functions tell which).
/// Does not allocate.
///
/// # Safety
///
/// `store` NULL or live; `flag` valid for `flag_len` bytes; `ctx` NULL or a valid
/// `fc_context`; `out_value` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_int(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_value: i64,
    out_value: *mut i64,
) -> fc_result {
    ffi_result! {
        let out_value = out_arg(out_value, "out_value")?;
        // SAFETY: `evaluate`'s contract is what the `# Safety` section promises for this
        // call: `store` NULL or a live `fc_store`, `flag` valid for reads of `flag_len`
        // bytes, `ctx` NULL or a valid `fc_context`.
        let value = unsafe {
            evaluate(store, flag, flag_len, ctx, |s, flag, ctx| {
                s.int(flag, ctx, default_value)
            })?
        };
        // SAFETY: `out_value` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_value, value) };
        Ok(())
    }
}

/// Evaluates number flag `flag` (an integer flag too) for `ctx`.
///
/// On success `*out_value` receives the value, or `default_value` on an evaluation error
/// (unknown flag, wrong type, no snapshot yet: the `fc_snapshot_*` functions tell which).
/// Does not allocate.
///
/// # Safety
///
/// `store` NULL or live; `flag` valid for `flag_len` bytes; `ctx` NULL or a valid
/// `fc_context`; `out_value` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_float(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_value: f64,
    out_value: *mut f64,
) -> fc_result {
    ffi_result! {
        let out_value = out_arg(out_value, "out_value")?;
        // SAFETY: `evaluate`'s contract is what the `# Safety` section promises for this
        // call: `store` NULL or a live `fc_store`, `flag` valid for reads of `flag_len`
        // bytes, `ctx` NULL or a valid `fc_context`.
        let value = unsafe {
            evaluate(store, flag, flag_len, ctx, |s, flag, ctx| {
                s.float(flag, ctx, default_value)
            })?
        };
        // SAFETY: `out_value` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_value, value) };
        Ok(())
    }
}

/// Evaluates string flag `flag` for `ctx`, copying the value (or, on an evaluation error,
/// `default_value`) into `buf`, with `fc_snapshot_json`'s buffer rules: `*out_len` receives
/// the length, also on `FC_RESULT_INSUFFICIENT_SIZE`; no NUL is written. Does not allocate.
///
/// # Safety
///
/// `store` NULL or live; `flag`, `default_value` valid for their lengths; `ctx` NULL or a
/// valid `fc_context`; `buf` NULL or valid for `buf_len` bytes, overlapping no input;
/// `out_len` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_string(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_value: *const c_char,
    default_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> fc_result {
    ffi_result! {
        let out_len = out_arg(out_len, "out_len")?;
        // SAFETY: as the `# Safety` section requires, `default_value` is valid for reads of
        // `default_len` bytes that do not change during this call (NULL is refused unless
        // `default_len` is 0); the `&str` is not kept past the call.
        let default = unsafe { str_arg(default_value, default_len, "default_value")? };
        // SAFETY: as the `# Safety` section requires, `buf` is NULL (refused unless `buf_len` is 0)
        // or valid for writes of `buf_len` bytes, overlapping no input, until this call returns,
        // which outlives the `Buffer`: `Buffer::new`'s contract.
        let mut buffer = unsafe { Buffer::new(buf, buf_len, "buf")? };
        // SAFETY: `evaluate`'s contract is what the `# Safety` section promises for this
        // call: `store` NULL or a live `fc_store`, `flag` valid for reads of `flag_len`
        // bytes, `ctx` NULL or a valid `fc_context`.
        unsafe {
            evaluate(store, flag, flag_len, ctx, |s, flag, ctx| {
                buffer.push(s.string(flag, ctx, default).as_bytes())
            })?
        };
        // SAFETY: `out_len` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, valid for a write of a `size_t`: `finish`'s contract.
        unsafe { buffer.finish(out_len) }
    }
}

/// Evaluates JSON flag `flag` for `ctx`, as `fc_snapshot_json` does, without details.
///
/// # Safety
///
/// As for `fc_store_string`; `default_json` valid for `default_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fc_store_json(
    store: *const fc_store,
    flag: *const c_char,
    flag_len: usize,
    ctx: *const fc_context,
    default_json: *const c_char,
    default_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> fc_result {
    ffi_result! {
        let out_len = out_arg(out_len, "out_len")?;
        // SAFETY: as the `# Safety` section requires, `default_json` is valid for reads of
        // `default_len` bytes that do not change during this call (NULL is refused unless
        // `default_len` is 0); the slice is not kept past the call.
        let default = unsafe { bytes_arg(default_json.cast(), default_len, "default_json")? };
        // SAFETY: as the `# Safety` section requires, `buf` is NULL (refused unless `buf_len` is 0)
        // or valid for writes of `buf_len` bytes, overlapping no input, until this call returns,
        // which outlives the `Buffer`: `Buffer::new`'s contract.
        let mut buffer = unsafe { Buffer::new(buf, buf_len, "buf")? };
        static NO_DEFAULT: serde_json::Value = serde_json::Value::Null;
        // SAFETY: `evaluate`'s contract is what the `# Safety` section promises for this
        // call: `store` NULL or a live `fc_store`, `flag` valid for reads of `flag_len`
        // bytes, `ctx` NULL or a valid `fc_context`.
        unsafe {
            evaluate(store, flag, flag_len, ctx, |s, flag, ctx| {
                let details = s.json_details(flag, ctx, &NO_DEFAULT);
                match details.variant {
                    Some(_) => write_json(&mut buffer, details.value),
                    None => {
                        buffer.push(default);
                        Ok(())
                    }
                }
            })??
        };
        // SAFETY: `out_len` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, valid for a write of a `size_t`: `finish`'s contract.
        unsafe { buffer.finish(out_len) }
    }
}
