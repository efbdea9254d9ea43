//! Exposure events (docs/format.md §2.14, §5.7): `fc_store_track_exposures` hands batches
//! to a C callback on the store's tracking thread, `fc_store_track_exposures_json_lines`
//! appends them to a file, `fc_store_track_exposures_otlp` sends them to an OpenTelemetry
//! collector (the core's `otel::OtelSink`); `fc_store_flush_exposures` and
//! `fc_store_exposure_stats`.
//!
//! The evaluating side is the core's: an evaluation of a flag with `"exposures": true`
//! queues a compact record without a lock or (for keys and units up to 47 bytes) an
//! allocation, so the evaluation functions stay allocation-free (`tests/no_alloc.rs`).

use std::ffi::{c_char, c_void};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, UNIX_EPOCH};

use flagcore_engine::otel::{OtelConfig, OtelSink};
use flagcore_engine::{Exposure, ExposureOptions, ExposureSink, JsonLinesSink, Store};

use crate::details::{fc_reason, reason};
use crate::error::{fc_result, Failure};
use crate::panic::ffi_result;
use crate::ptr::{fc_str, out_arg, str_arg, write_out, Handle, UserData};
use crate::reentry::{address, outside_callbacks, outside_exposure_callbacks, Inside, Running};
use crate::store::{fc_store, path_arg};

/// One exposure, lent to an `fc_exposure_callback` for the length of the call: a top-level
/// evaluation of a flag with `"exposures": true` that served a variant.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_exposure {
    /// When, in milliseconds since the Unix epoch (from a coarse clock: a few ms).
    pub time_unix_ms: i64,
    /// The flag.
    pub flag: fc_str,
    /// The variant served.
    pub variant: fc_str,
    /// Why it was served.
    pub reason: fc_reason,
    /// The index (0-based) of the rule that decided, or -1 (a target or the fallthrough).
    pub rule_index: i64,
    /// That rule's `id`; NULL when no rule decided or it has none.
    pub rule_id: fc_str,
    /// The targeting key; NULL for a context without one.
    pub key: fc_str,
    /// The experiment's randomisation unit: the value of the rollout's `by` attribute that
    /// was bucketed (an integer as its decimal string) when a rollout decided, else the
    /// targeting key; NULL when neither.
    pub unit: fc_str,
    /// The bucket (0..=99999) when a rollout decided, or -1.
    pub bucket: i32,
    /// The schedule step in force when a scheduled rollout decided, or -1.
    pub step: i32,
    /// The snapshot version that served it.
    pub version: u64,
}

impl fc_exposure {
    /// Lends `exposure`'s strings for as long as `exposure` lives.
    fn lend(exposure: &Exposure) -> fc_exposure {
        let time_unix_ms = match exposure.time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |n| -n),
        };
        fc_exposure {
            time_unix_ms,
            flag: fc_str::new(&exposure.flag),
            variant: fc_str::new(&exposure.variant),
            reason: reason(exposure.reason),
            rule_index: exposure
                .rule_index
                .and_then(|i| i64::try_from(i).ok())
                .unwrap_or(-1),
            rule_id: fc_str::from_option(exposure.rule_id.as_deref()),
            key: fc_str::from_option(exposure.key.as_deref()),
            unit: fc_str::from_option(exposure.unit.as_deref()),
            bucket: exposure
                .bucket
                .and_then(|b| i32::try_from(b).ok())
                .unwrap_or(-1),
            step: exposure
                .step
                .and_then(|s| i32::try_from(s).ok())
                .unwrap_or(-1),
            version: exposure.version,
        }
    }
}

/// Called with each batch of exposures, in order, on the store's tracking thread:
/// `user_data` as given to `fc_store_track_exposures`, and `len` exposures at `batch`,
/// lent for the call.
#[allow(non_camel_case_types)]
pub type fc_exposure_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, batch: *const fc_exposure, len: usize)>;

/// How exposures are queued and deduplicated. Zero-initialise it (`{0}`) for the
/// defaults; each 0 field means its default.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(non_camel_case_types)]
pub struct fc_exposure_options {
    /// Exposures the queue holds before evaluations drop new ones (and count them);
    /// default 16384. Fixed by the store's first tracking: later calls keep it.
    pub capacity: usize,
    /// Units remembered for deduplication, the least recently seen forgotten first;
    /// default 100000.
    pub dedup_size: usize,
    /// A repeat of one unit, flag and variant within this many milliseconds is dropped as
    /// a duplicate (a repeat does not renew the window); default 600000 (10 minutes).
    pub dedup_window_ms: u64,
    /// How often the tracking thread drains the queue, in milliseconds; default 100.
    pub flush_interval_ms: u64,
    /// True to deliver every exposure, repeats included.
    pub no_dedup: bool,
}

impl fc_exposure_options {
    fn to_core(self) -> ExposureOptions {
        let defaults = ExposureOptions::default();
        let or = |value: usize, default: usize| if value == 0 { default } else { value };
        let or_ms = |ms: u64, default: Duration| {
            if ms == 0 {
                default
            } else {
                Duration::from_millis(ms)
            }
        };
        let dedup_size = if self.no_dedup {
            0
        } else {
            or(self.dedup_size, defaults.dedup_size)
        };
        ExposureOptions::new()
            .capacity(or(self.capacity, defaults.capacity))
            .dedup(
                dedup_size,
                or_ms(self.dedup_window_ms, defaults.dedup_window),
            )
            .flush_interval(or_ms(self.flush_interval_ms, defaults.flush_interval))
    }
}

/// What exposure tracking has done since the store was created.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_exposure_stats {
    /// Exposures taken from the queue.
    pub accepted: u64,
    /// Of them, handed to the sink.
    pub delivered: u64,
    /// Of them, repeats within the deduplication window, not delivered.
    pub deduplicated: u64,
    /// Exposures lost: the queue was full (the sink fell behind), or the snapshot that
    /// made them was gone before they were named.
    pub dropped: u64,
    /// Batches the sink refused (a file that could not be written).
    pub sink_errors: u64,
}

/// Where the exposures of a store handle's tracking go, so that `fc_store_free` can end
/// the calls of a C callback (the core store may outlive the handle, fed by a source).
#[derive(Default)]
pub(crate) struct Tracking(Mutex<bool>);

impl Tracking {
    /// Installs `sink` (after everything queued so far went to the one it replaces).
    fn start(
        &self,
        store: &Store,
        sink: impl ExposureSink,
        calls_c: bool,
        options: ExposureOptions,
    ) -> Result<(), Failure> {
        let mut calls = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // The core hands what is still queued at the swap to the new sink: flush first,
        // so that the replaced callback gets everything accepted before this call.
        store.flush_exposures();
        store
            .track_exposures(sink, options)
            .map_err(|e| Failure::new(fc_result::Io, format!("cannot track exposures: {e}")))?;
        *calls = calls_c;
        Ok(())
    }

    /// For `fc_store_free`: delivers everything queued, and ends the calls of a C
    /// callback (its `user_data` may be freed once this returns).
    pub(crate) fn end(&self, store: &Store) {
        let mut calls = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        store.flush_exposures();
        if *calls {
            // Replacing the sink waits for a batch being delivered: the callback is not
            // running once this returns. What a snapshot view still evaluates goes nowhere.
            let _ = store.track_exposures(|_: &[Exposure]| {}, ExposureOptions::default());
            *calls = false;
        }
    }
}

/// The options, NULL for the defaults.
///
/// # Safety
///
/// `options` NULL or valid for a read.
unsafe fn options_arg(options: *const fc_exposure_options) -> ExposureOptions {
    // SAFETY: this function's contract: `options` is NULL (`as_ref` gives `None`: the
    // defaults) or points at an aligned, initialised `fc_exposure_options`.
    unsafe { options.as_ref() }
        .copied()
        .unwrap_or_default()
        .to_core()
}

/// Records an exposure for every top-level evaluation of a flag with `"exposures": true`
/// that serves a variant, through any function of the store or of its snapshot views, and
/// calls `callback(user_data, batch, len)` with them in batches, repeats of one unit, flag
/// and variant within the deduplication window left out. `options` may be NULL for the
/// defaults. Calling it again (or `fc_store_track_exposures_json_lines`) replaces the
/// sink: everything accepted before the call goes to the old one first.
///
/// Evaluations pay for a compact record handed to a bounded queue: no lock, no I/O, no
/// allocation for keys and units up to 47 bytes, never a wait; when the queue is full (the
/// callback fell behind) the exposure is dropped and counted (`fc_store_exposure_stats`).
///
/// The callback runs on the store's tracking thread (one flagcore starts), one batch at a
/// time, every `flush_interval_ms` and on `fc_store_flush_exposures`. The batch is lent
/// for the call only: copy what you keep. The callback must not unwind (a C++ exception),
/// and should be quick: while it runs, new exposures wait in the queue. It may evaluate;
/// the functions that would wait for the tracking thread or for the store's writer lock
/// (`fc_store_flush_exposures`, `fc_store_track_exposures*`, and those `fc_store_subscribe`
/// lists) fail on its thread with `FC_RESULT_REENTRANT_CALL` when given this store. It
/// must not free the store, nor wait for a thread calling those functions with it.
///
/// `user_data` must stay valid until `fc_store_free` of the store, or a later
/// `fc_store_track_exposures*` with it, has returned: either delivers everything accepted
/// before it to this callback first, neither returns while the callback runs, and the
/// callback is never called afterwards.
///
/// Fails with `FC_RESULT_NULL_POINTER` for a NULL store or callback, `FC_RESULT_IO` when
/// the tracking thread cannot start.
///
/// # Safety
///
/// `store` NULL or live; `callback` NULL or a function that honours the above, with
/// `user_data`; `options` NULL or valid for a read.
#[no_mangle]
pub unsafe extern "C" fn fc_store_track_exposures(
    store: *const fc_store,
    callback: fc_exposure_callback,
    user_data: *mut c_void,
    options: *const fc_exposure_options,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_new*` returned that `fc_store_free` has not freed,
        // so the `StoreHandle` box it points at stays alive for this call.
        let handle = unsafe { fc_store::borrow(store)? };
        outside_callbacks(handle, "fc_store_track_exposures")?;
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        // SAFETY: as the `# Safety` section requires, `options` is NULL or valid for a
        // read: `options_arg`'s contract.
        let options = unsafe { options_arg(options) };
        let user_data = UserData::new(user_data);
        let store = address(handle);
        let sink = move |batch: &[Exposure]| {
            let lent: Vec<fc_exposure> = batch.iter().map(fc_exposure::lend).collect();
            let _running = Running::enter(store, Inside::ExposureSink);
            // SAFETY: by `fc_store_track_exposures`' `# Safety` section, `callback` is a
            // function safe to call on the tracking thread with `user_data`, which stays
            // valid until the sink is replaced or the handle freed; both wait for this
            // call to return (the core holds the sink meanwhile). `lent` points into
            // `batch`, which outlives the call.
            unsafe { callback(user_data.get(), lent.as_ptr(), lent.len()) };
        };
        handle.exposures().start(handle, sink, true, options)
    }
}

/// Like `fc_store_track_exposures`, appending the exposures to the file at `path`
/// (`path_len` bytes, any bytes on Unix; created if missing) as JSON Lines, one exposure
/// per line (docs/format.md §5.7: `time`, `flag`, `variant`, `reason`, `rule_index`,
/// `rule_id`, `key`, `unit`, `bucket`, `step`, `version`). When a line would take the
/// file past `max_bytes` (0: never), it is renamed `PATH.1` (older ones `PATH.2`, ... up
/// to `keep` of them; 0 keeps none) and a new one begins. Each batch is written through
/// to the file; `fc_store_flush_exposures` and `fc_store_free` also sync it.
///
/// Fails with `FC_RESULT_NULL_POINTER` for a NULL store, `FC_RESULT_INVALID_ARGUMENT` for
/// an empty path, `FC_RESULT_IO` when the file cannot be opened or the thread not started.
///
/// # Safety
///
/// `store` NULL or live; `path` valid for `path_len` bytes; `options` NULL or valid for a
/// read.
#[no_mangle]
pub unsafe extern "C" fn fc_store_track_exposures_json_lines(
    store: *const fc_store,
    path: *const c_char,
    path_len: usize,
    max_bytes: u64,
    keep: usize,
    options: *const fc_exposure_options,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_new*` returned that `fc_store_free` has not freed,
        // so the `StoreHandle` box it points at stays alive for this call.
        let handle = unsafe { fc_store::borrow(store)? };
        outside_callbacks(handle, "fc_store_track_exposures_json_lines")?;
        // SAFETY: as the `# Safety` section requires, `path` is valid for reads of
        // `path_len` bytes during this call (NULL is refused unless `path_len` is 0);
        // `path_arg` copies them into a `PathBuf`.
        let path = unsafe { path_arg(path, path_len, "path")? };
        // SAFETY: as the `# Safety` section requires, `options` is NULL or valid for a
        // read: `options_arg`'s contract.
        let options = unsafe { options_arg(options) };
        let max_bytes = if max_bytes == 0 { u64::MAX } else { max_bytes };
        let sink = JsonLinesSink::open(&path, max_bytes, keep).map_err(|e| {
            Failure::new(fc_result::Io, format!("{}: {e}", path.display()))
        })?;
        handle.exposures().start(handle, sink, false, options)
    }
}

/// How exposures are sent to an OpenTelemetry collector. Zero-initialise it (`{0}`) for
/// the defaults: no headers, the SDK's `service.name`, a 10 s timeout.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_otlp_options {
    /// Extra request headers, `headers_len` bytes of UTF-8 in the format of
    /// `OTEL_EXPORTER_OTLP_HEADERS`: `name=value` pairs separated by commas, values
    /// percent-encoded (`authorization=Bearer%20abc,x-tenant=7`); NULL for none.
    pub headers: *const c_char,
    /// The length of `headers` in bytes.
    pub headers_len: usize,
    /// The resource's `service.name`, `service_name_len` bytes of UTF-8; NULL for the
    /// SDK's (`OTEL_SERVICE_NAME`, else `unknown_service`).
    pub service_name: *const c_char,
    /// The length of `service_name` in bytes.
    pub service_name_len: usize,
    /// How long one request may take, in milliseconds; 0 for 10000.
    pub timeout_ms: u64,
}

/// `name=value,name=value` with percent-encoded values, as `OTEL_EXPORTER_OTLP_HEADERS`.
fn parse_headers(text: &str) -> Result<Vec<(String, String)>, Failure> {
    let invalid =
        |why: String| Failure::new(fc_result::InvalidArgument, format!("`headers`: {why}"));
    let mut headers = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| invalid(format!("`{pair}` is not name=value")))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(invalid(format!("`{pair}` has no name")));
        }
        let value = percent_decode(value.trim())
            .ok_or_else(|| invalid(format!("`{pair}`: a bad percent-encoding")))?;
        headers.push((name.to_owned(), value));
    }
    Ok(headers)
}

/// `%XX` sequences to their bytes; `None` for a bad sequence or a result not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'%' {
            let hex = std::str::from_utf8(after.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &after[2..];
        } else {
            bytes.push(byte);
            rest = after;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The collector's configuration from `endpoint` and `otlp`.
///
/// # Safety
///
/// `otlp` NULL or valid for a read, and its strings valid for their lengths.
unsafe fn otlp_config(endpoint: &str, otlp: *const fc_otlp_options) -> Result<OtelConfig, Failure> {
    let mut config = OtelConfig::new(endpoint);
    // SAFETY: this function's contract: `otlp` is NULL (`as_ref` gives `None`: the
    // defaults) or points at an aligned, initialised `fc_otlp_options`.
    let Some(otlp) = (unsafe { otlp.as_ref() }) else {
        return Ok(config);
    };
    // SAFETY: this function's contract makes `otlp.headers` valid for reads of
    // `otlp.headers_len` bytes during this call (NULL is taken for none when the length
    // is 0); the `&str` is not kept past it.
    let headers = unsafe { str_arg(otlp.headers, otlp.headers_len, "headers")? };
    for (name, value) in parse_headers(headers)? {
        config = config.header(name, value);
    }
    if !otlp.service_name.is_null() {
        // SAFETY: as for `headers` above, for `service_name` and `service_name_len`.
        let name = unsafe { str_arg(otlp.service_name, otlp.service_name_len, "service_name")? };
        config = config.service_name(name);
    }
    if otlp.timeout_ms != 0 {
        config = config.timeout(Duration::from_millis(otlp.timeout_ms));
    }
    Ok(config)
}

/// Like `fc_store_track_exposures`, sending the exposures to the OpenTelemetry collector
/// whose OTLP/HTTP base URL is `endpoint` (`endpoint_len` bytes of UTF-8, e.g.
/// `http://localhost:4318`): each is a `feature_flag.evaluation` event (a log record
/// posted to `{endpoint}/v1/logs` as protobuf) with the attributes of the semantic
/// conventions for feature flags: `feature_flag.key`, `feature_flag.result.variant`,
/// `feature_flag.result.reason` (lower case), `feature_flag.context.id`,
/// `feature_flag.version`, `feature_flag.provider.name` and flagcore's own (the core's
/// `flagcore::otel::OtelSink`). `otlp` may be NULL for no headers, the default service
/// name and timeout; `options` NULL for the defaults.
///
/// Each batch is exported on the tracking thread before the next is taken (failures
/// retried by the exporter): `delivered` in `fc_store_exposure_stats` counts what the
/// collector accepted, and a batch it refused or that could not be sent counts as a sink
/// error, its exposures lost. `fc_store_flush_exposures` returns once the collector
/// answered.
///
/// Fails with `FC_RESULT_NULL_POINTER` for a NULL store, `FC_RESULT_INVALID_ARGUMENT` for
/// an empty or invalid endpoint or malformed headers, `FC_RESULT_IO` when the thread
/// cannot start.
///
/// # Safety
///
/// `store` NULL or live; `endpoint` valid for `endpoint_len` bytes; `otlp` NULL or valid
/// for a read, with its strings valid for their lengths; `options` NULL or valid for a
/// read.
#[no_mangle]
pub unsafe extern "C" fn fc_store_track_exposures_otlp(
    store: *const fc_store,
    endpoint: *const c_char,
    endpoint_len: usize,
    otlp: *const fc_otlp_options,
    options: *const fc_exposure_options,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_new*` returned that `fc_store_free` has not freed,
        // so the `StoreHandle` box it points at stays alive for this call.
        let handle = unsafe { fc_store::borrow(store)? };
        outside_callbacks(handle, "fc_store_track_exposures_otlp")?;
        // SAFETY: as the `# Safety` section requires, `endpoint` is valid for reads of
        // `endpoint_len` bytes during this call; the `&str` is not kept past it.
        let endpoint = unsafe { str_arg(endpoint, endpoint_len, "endpoint")? };
        if endpoint.is_empty() {
            return Err(Failure::new(fc_result::InvalidArgument, "`endpoint` is empty"));
        }
        // SAFETY: as the `# Safety` section requires, `otlp` is NULL or valid for a read
        // with its strings valid for their lengths: `otlp_config`'s contract.
        let config = unsafe { otlp_config(endpoint, otlp)? };
        // SAFETY: as the `# Safety` section requires, `options` is NULL or valid for a
        // read: `options_arg`'s contract.
        let options = unsafe { options_arg(options) };
        let sink = OtelSink::new(&config).map_err(|e| {
            Failure::new(fc_result::InvalidArgument, format!("`endpoint` {endpoint}: {e}"))
        })?;
        handle.exposures().start(handle, sink, false, options)
    }
}

/// Delivers every exposure queued before this call to the sink and flushes it (a file is
/// synced), waiting for the tracking thread; returns at once when the store tracks none.
/// Fails with `FC_RESULT_REENTRANT_CALL` inside the store's own exposure callback.
///
/// # Safety
///
/// `store` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fc_store_flush_exposures(store: *const fc_store) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_new*` returned that `fc_store_free` has not freed,
        // so the `StoreHandle` box it points at stays alive for this call.
        let handle = unsafe { fc_store::borrow(store)? };
        outside_exposure_callbacks(handle, "fc_store_flush_exposures")?;
        handle.flush_exposures();
        Ok(())
    }
}

/// What exposure tracking has done since the store was created, into `*out_stats`
/// (all 0 before tracking starts).
///
/// # Safety
///
/// `store` NULL or live; `out_stats` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_store_exposure_stats(
    store: *const fc_store,
    out_stats: *mut fc_exposure_stats,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section
        // requires, a handle `fc_store_new*` returned that `fc_store_free` has not freed,
        // so the `StoreHandle` box it points at stays alive for this call.
        let handle = unsafe { fc_store::borrow(store)? };
        let out_stats = out_arg(out_stats, "out_stats")?;
        let stats = handle.exposure_stats();
        let stats = fc_exposure_stats {
            accepted: stats.accepted,
            delivered: stats.delivered,
            deduplicated: stats.deduplicated,
            dropped: stats.dropped,
            sink_errors: stats.sink_errors,
        };
        // SAFETY: `out_stats` is non-NULL (`out_arg` checked it above) and, as the
        // `# Safety` section requires, aligned and valid for a write of what it points
        // to; `write_out` neither reads nor drops the old value.
        unsafe { write_out(out_stats, stats) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_options_are_the_core_defaults() {
        let ours = fc_exposure_options::default().to_core();
        let core = ExposureOptions::default();
        assert_eq!(
            (
                ours.capacity,
                ours.dedup_size,
                ours.dedup_window,
                ours.flush_interval
            ),
            (
                core.capacity,
                core.dedup_size,
                core.dedup_window,
                core.flush_interval
            )
        );
        let off = fc_exposure_options {
            no_dedup: true,
            dedup_size: 7,
            ..Default::default()
        };
        assert_eq!(off.to_core().dedup_size, 0);
    }

    #[test]
    fn headers_are_the_otlp_environment_format() {
        let headers = parse_headers(" authorization = Bearer%20abc , x-tenant=7,,").unwrap();
        assert_eq!(
            headers,
            [
                ("authorization".to_owned(), "Bearer abc".to_owned()),
                ("x-tenant".to_owned(), "7".to_owned())
            ]
        );
        assert!(parse_headers("").unwrap().is_empty());
        for bad in ["novalue", "=x", "a=%2", "a=%zz", "a=%ff"] {
            assert!(parse_headers(bad).is_err(), "{bad}");
        }
    }
}
