//! `fc_source`: a background source feeding a store, a snapshot file reloaded on change
//! or an http(s) URL polled with `ETag`, and its status.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flagcore_engine::source::{
    DiskCache, FileOptions, FileSource, HttpOptions, HttpSource, SourceErrorKind, Status,
};

use crate::buffer::Buffer;
use crate::error::{fc_result, Failure};
use crate::panic::{ffi_boundary, ffi_result};
use crate::ptr::{fc_str, opaque_handle, out_arg, str_arg, write_out, Handle};
use crate::reentry::outside_callbacks;
use crate::store::{fc_store, path_arg};

/// A source feeding a store from its own background thread: a snapshot file
/// (`fc_file_source_start`) or an http(s) URL (`fc_http_source_start`). It holds a
/// reference to its store, which therefore stays alive (and fed) even after
/// `fc_store_free`, until the source is freed. `fc_source_status` and
/// `fc_source_last_error_message` may be called from any number of threads at once, also
/// concurrently with `fc_source_stop`. Free it with `fc_source_free`.
#[allow(non_camel_case_types)]
pub struct fc_source {
    _private: [u8; 0],
}

/// What an `fc_source` points at. The core sources stop through `&self`, idempotently,
/// and keep their last status readable, also while another thread stops them.
pub(crate) enum Source {
    File(FileSource),
    Http(HttpSource),
}

impl Source {
    fn status(&self) -> Status {
        match self {
            Source::File(source) => source.status(),
            Source::Http(source) => source.status(),
        }
    }

    /// Stops the thread and waits for it; a stopped source keeps its last status.
    fn stop(&self) {
        match self {
            Source::File(source) => source.stop(),
            Source::Http(source) => source.stop(),
        }
    }
}

opaque_handle!(fc_source => Source, "source");

/// Options of `fc_file_source_start`. Zero-initialise it (`{0}`) for the defaults.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_file_source_options {
    /// How long the file must be quiet after a change before it is read, in milliseconds;
    /// 0 for the default (50 ms).
    pub debounce_ms: u32,
    /// Poll the file's metadata every this many milliseconds instead of using the
    /// platform's watcher (for NFS and mounts that send no events); 0 to watch.
    pub poll_ms: u32,
    /// A directory for the disk cache (the last good snapshot and the runtime kills), any
    /// bytes on Unix; `ptr` NULL for none.
    pub cache_dir: fc_str,
}

/// One extra header sent with every request of an HTTP source.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_http_header {
    /// The header's name, UTF-8 (`Authorization`).
    pub name: fc_str,
    /// Its value, UTF-8.
    pub value: fc_str,
}

/// Options of `fc_http_source_start`. Zero-initialise it (`{0}`) for the defaults; every
/// 0 (or NULL) field means the default.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_http_source_options {
    /// The longest wait to resolve and connect, in milliseconds (default 2000).
    pub connect_timeout_ms: u32,
    /// The longest wait for the response's head, and again for its body (default 5000).
    pub read_timeout_ms: u32,
    /// The first retry delay after a failure, doubling per consecutive failure (default
    /// 1000), each delay jittered to between half and all of it.
    pub backoff_initial_ms: u32,
    /// The longest retry delay (default 60000).
    pub backoff_max_ms: u32,
    /// The largest body accepted, in bytes (default 64 MiB).
    pub max_body_bytes: u64,
    /// Sends `Authorization: Bearer TOKEN` with every request (UTF-8); `ptr` NULL for none.
    pub bearer_token: fc_str,
    /// `headers_len` extra headers sent with every request; may be NULL when
    /// `headers_len` is 0.
    pub headers: *const fc_http_header,
    /// The number of `headers`.
    pub headers_len: usize,
    /// A directory for the disk cache, as in `fc_file_source_options`; `ptr` NULL for
    /// none.
    pub cache_dir: fc_str,
}

/// What kind of problem a source last met, with a stable name (`fc_source_error_name`),
/// the same as the Rust core's `SourceErrorKind::code`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum fc_source_error {
    /// No failure yet (`none`).
    None = 0,
    /// A file could not be read, or the watcher could not start (`io`).
    Io = 1,
    /// The document is not a valid snapshot (`invalid_snapshot`).
    InvalidSnapshot = 2,
    /// A kills file is not a list of kills (`invalid_kills`).
    InvalidKills = 3,
    /// The server answered with a status other than 200 or 304; see
    /// `last_error_http_status` (`http_status`).
    HttpStatus = 4,
    /// The server did not connect, answer or finish in time (`timeout`).
    Timeout = 5,
    /// The connection could not be made: refused, unreachable, DNS, TLS (`connect`).
    Connect = 6,
    /// The connection broke, or the server spoke broken HTTP (`transport`).
    Transport = 7,
    /// The body was larger than the limit (`too_large`).
    TooLarge = 8,
    /// The disk cache could not be read or written (`cache`).
    Cache = 9,
    /// A kind this version of the C ABI has no code for (`other`).
    Other = 99,
}

impl fc_source_error {
    const ALL: [fc_source_error; 11] = [
        fc_source_error::None,
        fc_source_error::Io,
        fc_source_error::InvalidSnapshot,
        fc_source_error::InvalidKills,
        fc_source_error::HttpStatus,
        fc_source_error::Timeout,
        fc_source_error::Connect,
        fc_source_error::Transport,
        fc_source_error::TooLarge,
        fc_source_error::Cache,
        fc_source_error::Other,
    ];

    fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            fc_source_error::None => c"none",
            fc_source_error::Io => c"io",
            fc_source_error::InvalidSnapshot => c"invalid_snapshot",
            fc_source_error::InvalidKills => c"invalid_kills",
            fc_source_error::HttpStatus => c"http_status",
            fc_source_error::Timeout => c"timeout",
            fc_source_error::Connect => c"connect",
            fc_source_error::Transport => c"transport",
            fc_source_error::TooLarge => c"too_large",
            fc_source_error::Cache => c"cache",
            fc_source_error::Other => c"other",
        }
    }

    fn of(kind: SourceErrorKind) -> (fc_source_error, u16) {
        match kind {
            SourceErrorKind::Io => (fc_source_error::Io, 0),
            SourceErrorKind::InvalidSnapshot => (fc_source_error::InvalidSnapshot, 0),
            SourceErrorKind::InvalidKills => (fc_source_error::InvalidKills, 0),
            SourceErrorKind::HttpStatus(status) => (fc_source_error::HttpStatus, status),
            SourceErrorKind::Timeout => (fc_source_error::Timeout, 0),
            SourceErrorKind::Connect => (fc_source_error::Connect, 0),
            SourceErrorKind::Transport => (fc_source_error::Transport, 0),
            SourceErrorKind::TooLarge => (fc_source_error::TooLarge, 0),
            SourceErrorKind::Cache => (fc_source_error::Cache, 0),
            _ => (fc_source_error::Other, 0),
        }
    }
}

/// The state of a source, written by `fc_source_status` (named `_state` because C cannot
/// have a type and a function of one name). Times are milliseconds since
/// the Unix epoch, 0 for never.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct fc_source_state {
    /// True when the last attempt did not fail (and there was one).
    pub healthy: bool,
    /// Whether `version` is set: false before the source delivered a snapshot.
    pub has_version: bool,
    /// The snapshot version this source last delivered (loaded, or from the cache).
    pub version: u64,
    /// When the source last answered well (loaded, unchanged or skipped); 0 for never.
    pub last_success_unix_ms: u64,
    /// Failures since the last good answer: 0 when healthy.
    pub consecutive_failures: u32,
    /// True while the snapshot serving came from the disk cache, not from the source.
    pub serving_cache: bool,
    /// The kind of the last failure (kept after a recovery: compare `last_error_unix_ms`
    /// with `last_success_unix_ms`); `FC_SOURCE_ERROR_NONE` if none.
    pub last_error: fc_source_error,
    /// The HTTP status of the last failure when it is `FC_SOURCE_ERROR_HTTP_STATUS`, else 0.
    pub last_error_http_status: u16,
    /// When the last failure happened; 0 for none.
    pub last_error_unix_ms: u64,
    /// Attempts that applied a new snapshot.
    pub loads: u64,
    /// Attempts that found nothing new (an HTTP 304, the same file content).
    pub unchanged: u64,
    /// Attempts whose snapshot was not newer than the serving one.
    pub skipped: u64,
    /// Attempts that failed.
    pub failures: u64,
}

fn unix_ms(at: Option<SystemTime>) -> u64 {
    at.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl From<&Status> for fc_source_state {
    fn from(status: &Status) -> fc_source_state {
        let (last_error, http_status) = status
            .last_error
            .as_ref()
            .map_or((fc_source_error::None, 0), |e| {
                fc_source_error::of(e.kind())
            });
        fc_source_state {
            healthy: status.is_healthy(),
            has_version: status.version.is_some(),
            version: status.version.unwrap_or(0),
            last_success_unix_ms: unix_ms(status.last_success),
            consecutive_failures: status.consecutive_failures,
            serving_cache: status.serving_cache,
            last_error,
            last_error_http_status: http_status,
            last_error_unix_ms: unix_ms(status.last_error.as_ref().map(|e| e.at())),
            loads: status.loads,
            unchanged: status.unchanged,
            skipped: status.skipped,
            failures: status.failures,
        }
    }
}

fn millis(ms: u32) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(u64::from(ms)))
}

/// An optional cache directory.
///
/// # Safety
///
/// Unless `dir.ptr` is NULL, it must be valid for `dir.len` bytes.
unsafe fn cache_arg(dir: fc_str) -> Result<Option<DiskCache>, Failure> {
    if dir.ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `dir.ptr` is non-NULL (checked just above), so by this function's contract it
    // is valid for reads of `dir.len` bytes during the call; `path_arg` copies them into a
    // `PathBuf`.
    let path = unsafe { path_arg(dir.ptr, dir.len, "cache_dir")? };
    Ok(Some(DiskCache::new(path)))
}

/// An optional UTF-8 string.
///
/// # Safety
///
/// Unless `s.ptr` is NULL, it must be valid for `s.len` bytes.
unsafe fn opt_str_arg<'a>(s: fc_str, what: &str) -> Result<Option<&'a str>, Failure> {
    if s.ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `s.ptr` is non-NULL (checked just above), so by this function's contract it is
    // valid for reads of `s.len` bytes, which do not change for 'a, as long as the caller
    // keeps the returned `&str`.
    unsafe { str_arg(s.ptr, s.len, what).map(Some) }
}

/// Hands a new source to C.
///
/// # Safety
///
/// `out_source` must be non-NULL and valid for a write.
unsafe fn give(source: Source, out_source: *mut *mut fc_source) {
    // SAFETY: this function's contract: `out_source` is non-NULL and valid for a write of
    // one `*mut fc_source`.
    unsafe { write_out(out_source, fc_source::into_raw(source)) }
}

fn start_failure(e: &std::io::Error) -> Failure {
    Failure::new(
        fc_result::Io,
        format!("cannot start the source's thread: {e}"),
    )
}

/// Starts a source that loads the snapshot file at `path` (`path_len` bytes, any bytes on
/// Unix) into `store` and reloads it whenever it changes (the platform's watcher through
/// the file's directory, so files replaced by a rename are followed; a debounce; polling
/// when no watcher can start). `options` may be NULL for the defaults.
///
/// The first read happens before this returns, so the store serves the file (or, with a
/// cache, the cached snapshot) if it could be read. A missing or invalid file is not a
/// failure of this call: the store keeps what it serves, `fc_source_status` says why, and
/// the next change of the file is read again. Fails with `FC_RESULT_IO` only when the
/// thread cannot start, `FC_RESULT_INVALID_ARGUMENT` for an empty path.
///
/// # Safety
///
/// `store` NULL or live; `path` valid for `path_len` bytes; `options` NULL or valid (its
/// strings valid for their lengths); `out_source` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_file_source_start(
    store: *const fc_store,
    path: *const c_char,
    path_len: usize,
    options: *const fc_file_source_options,
    out_source: *mut *mut fc_source,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_file_source_start")?;
        let out_source = out_arg(out_source, "out_source")?;
        // SAFETY: as the `# Safety` section requires, `path` is valid for reads of `path_len` bytes
        // during this call (NULL is refused unless `path_len` is 0); `path_arg` copies them into a
        // `PathBuf`.
        let path = unsafe { path_arg(path, path_len, "path")? };
        let mut file_options = FileOptions::new();
        // SAFETY: as the `# Safety` section requires, `options` is NULL (`as_ref` gives
        // `None`: the defaults) or points at an aligned, initialised
        // `fc_file_source_options` that stays valid during this call.
        if let Some(options) = unsafe { options.as_ref() } {
            if let Some(debounce) = millis(options.debounce_ms) {
                file_options = file_options.debounce(debounce);
            }
            if let Some(poll) = millis(options.poll_ms) {
                file_options = file_options.poll_every(poll);
            }
            // SAFETY: as the `# Safety` section requires of `options`' strings,
            // `cache_dir.ptr` is NULL (no cache) or valid for reads of `cache_dir.len` bytes
            // during this call: `cache_arg`'s contract.
            if let Some(cache) = unsafe { cache_arg(options.cache_dir)? } {
                file_options = file_options.cache(cache);
            }
        }
        let source = FileSource::start(Arc::clone(store), path, file_options)
            .map_err(|e| start_failure(&e))?;
        // SAFETY: `out_source` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(Source::File(source), out_source) };
        Ok(())
    }
}

/// Starts a source that polls the http(s) URL `url` (`url_len` bytes, UTF-8) every
/// `interval_ms` milliseconds (0 for the default, 10 s) and loads each new snapshot into
/// `store`. Each poll sends `If-None-Match` with the last `ETag` (a 304 parses nothing);
/// a failure (refused, timeout, 5xx, truncated or oversized body, invalid snapshot) keeps
/// the serving snapshot, shows in `fc_source_status`, and is retried after an exponential
/// backoff with jitter. `options` may be NULL for the defaults.
///
/// The first poll happens before this returns (waiting at most the timeouts). As for files,
/// an unreachable URL is not a failure of this call. Fails with `FC_RESULT_INVALID_UTF8`
/// (the URL, a header or the token), `FC_RESULT_INVALID_ARGUMENT` (an empty URL) or
/// `FC_RESULT_IO` (the thread cannot start).
///
/// # Safety
///
/// `store` NULL or live; `url` valid for `url_len` bytes; `options` NULL or valid (its
/// strings and header array valid for their lengths); `out_source` NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn fc_http_source_start(
    store: *const fc_store,
    url: *const c_char,
    url_len: usize,
    interval_ms: u32,
    options: *const fc_http_source_options,
    out_source: *mut *mut fc_source,
) -> fc_result {
    ffi_result! {
        // SAFETY: `store` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_store_new*` returned that `fc_store_free` has not freed, so the
        // `StoreHandle` box it points at stays alive for this call.
        let store = unsafe { fc_store::borrow(store)? };
        outside_callbacks(store, "fc_http_source_start")?;
        let out_source = out_arg(out_source, "out_source")?;
        // SAFETY: as the `# Safety` section requires, `url` is valid for reads of `url_len` bytes
        // that do not change during this call (NULL is refused unless `url_len` is 0); the `&str`
        // is not kept past the call.
        let url = unsafe { str_arg(url, url_len, "url")? };
        if url.is_empty() {
            return Err(Failure::new(fc_result::InvalidArgument, "`url` is empty"));
        }
        let mut http = HttpOptions::new();
        if let Some(interval) = millis(interval_ms) {
            http = http.interval(interval);
        }
        // SAFETY: as the `# Safety` section requires, `options` is NULL (`as_ref` gives
        // `None`: the defaults) or points at an aligned, initialised
        // `fc_http_source_options` that stays valid during this call.
        if let Some(o) = unsafe { options.as_ref() } {
            if let Some(timeout) = millis(o.connect_timeout_ms) {
                http = http.connect_timeout(timeout);
            }
            if let Some(timeout) = millis(o.read_timeout_ms) {
                http = http.read_timeout(timeout);
            }
            if o.backoff_initial_ms > 0 || o.backoff_max_ms > 0 {
                let initial = millis(o.backoff_initial_ms).unwrap_or(Duration::from_secs(1));
                let max = millis(o.backoff_max_ms).unwrap_or(Duration::from_secs(60));
                http = http.backoff(initial, max);
            }
            if o.max_body_bytes > 0 {
                http = http.max_body_bytes(o.max_body_bytes);
            }
            // SAFETY: as the `# Safety` section requires of `options`' strings,
            // `bearer_token.ptr` is NULL (no token) or valid for reads of `bearer_token.len`
            // bytes during this call: `opt_str_arg`'s contract.
            if let Some(token) = unsafe { opt_str_arg(o.bearer_token, "bearer_token")? } {
                http = http.bearer_token(token);
            }
            if o.headers.is_null() && o.headers_len != 0 {
                return Err(Failure::null("headers"));
            }
            if o.headers_len > 0 {
                if o.headers_len > isize::MAX as usize / std::mem::size_of::<fc_http_header>() {
                    return Err(Failure::new(fc_result::InvalidArgument, "`headers_len` is too large"));
                }
                // SAFETY: `o.headers` is non-NULL (checked above, as `headers_len > 0`) and, as
                // the `# Safety` section requires, points at `headers_len` aligned, initialised
                // `fc_http_header`s valid during this call; their total size fits in `isize`
                // (checked just above).
                let headers = unsafe { std::slice::from_raw_parts(o.headers, o.headers_len) };
                for header in headers {
                    // SAFETY: as the `# Safety` section requires, `header.name.ptr` is valid for
                    // reads of `header.name.len` bytes that do not change during this call (NULL is
                    // refused unless `header.name.len` is 0); the `&str` is not kept past the call.
                    let name = unsafe { str_arg(header.name.ptr, header.name.len, "header name")? };
                    // SAFETY: as the `# Safety` section requires, `header.value.ptr` is valid for
                    // reads of `header.value.len` bytes that do not change during this call (NULL
                    // is refused unless `header.value.len` is 0); the `&str` is not kept past the
                    // call.
                    let value = unsafe { str_arg(header.value.ptr, header.value.len, "header value")? };
                    if name.is_empty() {
                        return Err(Failure::new(fc_result::InvalidArgument, "a header name is empty"));
                    }
                    http = http.header(name, value);
                }
            }
            // SAFETY: as the `# Safety` section requires of `options`' strings,
            // `cache_dir.ptr` is NULL (no cache) or valid for reads of `cache_dir.len` bytes
            // during this call: `cache_arg`'s contract.
            if let Some(cache) = unsafe { cache_arg(o.cache_dir)? } {
                http = http.cache(cache);
            }
        }
        let source = HttpSource::start(Arc::clone(store), url, http)
            .map_err(|e| start_failure(&e))?;
        // SAFETY: `out_source` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, valid for a write of one pointer: `give`'s contract.
        unsafe { give(Source::Http(source), out_source) };
        Ok(())
    }
}

/// Writes the source's state into `*out_status`. A stopped source reports its state when
/// it stopped.
///
/// # Safety
///
/// `source` NULL or live; `out_status` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_source_status(
    source: *const fc_source,
    out_status: *mut fc_source_state,
) -> fc_result {
    ffi_result! {
        // SAFETY: `source` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_file_source_start` or `fc_http_source_start` returned that `fc_source_free`
        // has not freed, so the `Source` box it points at stays alive for this call.
        let source = unsafe { fc_source::borrow(source)? };
        let out_status = out_arg(out_status, "out_status")?;
        let status = fc_source_state::from(&source.status());
        // SAFETY: `out_status` is non-NULL (`out_arg` checked it above) and, as the `# Safety`
        // section requires, aligned and valid for a write of what it points to; `write_out` neither
        // reads nor drops the old value.
        unsafe { write_out(out_status, status) };
        Ok(())
    }
}

/// Copies the message of the source's last failure (UTF-8, not NUL-terminated; empty when
/// it never failed) into `buf`, `*out_len` receiving its length. When it does not fit,
/// returns `FC_RESULT_INSUFFICIENT_SIZE` with the length needed in `*out_len`; pass
/// `buf = NULL, buf_len = 0` to ask for it. The message can change between two calls (a
/// new failure): retry until it fits.
///
/// # Safety
///
/// `source` NULL or live; `buf` NULL (with `buf_len` 0) or valid for `buf_len` bytes;
/// `out_len` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn fc_source_last_error_message(
    source: *const fc_source,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> fc_result {
    ffi_result! {
        // SAFETY: `source` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_file_source_start` or `fc_http_source_start` returned that `fc_source_free`
        // has not freed, so the `Source` box it points at stays alive for this call.
        let source = unsafe { fc_source::borrow(source)? };
        let out_len = out_arg(out_len, "out_len")?;
        // SAFETY: as the `# Safety` section requires, `buf` is NULL (refused unless `buf_len` is 0)
        // or valid for writes of `buf_len` bytes, overlapping no input, until this call returns,
        // which outlives the `Buffer`: `Buffer::new`'s contract.
        let mut buffer = unsafe { Buffer::new(buf, buf_len, "buf")? };
        let status = source.status();
        if let Some(error) = &status.last_error {
            buffer.push(error.message().as_bytes());
        }
        // SAFETY: `out_len` is non-NULL (`out_arg` checked it above) and, as the `# Safety` section
        // requires, valid for a write of a `size_t`: `finish`'s contract.
        unsafe { buffer.finish(out_len) }
    }
}

/// Stops the source's thread and waits for it (for an HTTP source, at most one request's
/// timeouts). The store keeps serving what it has; the status stays readable. Stopping a
/// stopped source does nothing.
///
/// # Safety
///
/// `source` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn fc_source_stop(source: *const fc_source) -> fc_result {
    ffi_result! {
        // SAFETY: `source` is NULL, which `borrow` refuses, or, as the `# Safety` section requires,
        // a handle `fc_file_source_start` or `fc_http_source_start` returned that `fc_source_free`
        // has not freed, so the `Source` box it points at stays alive for this call.
        let source = unsafe { fc_source::borrow(source)? };
        source.stop();
        Ok(())
    }
}

/// Stops the source (as `fc_source_stop`) and frees it; NULL is a no-op. The store stays
/// usable through its own handle.
///
/// # Safety
///
/// `source` must be NULL or a live handle, used by no other thread now or later.
#[no_mangle]
pub unsafe extern "C" fn fc_source_free(source: *mut fc_source) {
    ffi_boundary! {
        // SAFETY: as the `# Safety` section requires, `source` is NULL (a no-op) or a handle
        // `fc_file_source_start` or `fc_http_source_start` returned, not freed yet and used by no
        // other thread now or later, so `free` may take the `Source` box back and drop it.
        unsafe { fc_source::free(source) }
    }
}

/// The stable name of source error kind `kind` (e.g. `"http_status"`), as a static
/// NUL-terminated string; `"unknown"` for a number that is no `fc_source_error`.
#[no_mangle]
pub extern "C" fn fc_source_error_name(kind: u32) -> *const c_char {
    ffi_boundary! {
        let name = match fc_source_error::ALL.iter().find(|k| **k as u32 == kind) {
            Some(k) => k.c_name(),
            None => c"unknown",
        };
        name.as_ptr().cast::<c_char>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flagcore_engine::source::SourceErrorKind;

    #[test]
    fn error_names_match_the_core_codes() {
        let kinds = [
            SourceErrorKind::Io,
            SourceErrorKind::InvalidSnapshot,
            SourceErrorKind::InvalidKills,
            SourceErrorKind::HttpStatus(503),
            SourceErrorKind::Timeout,
            SourceErrorKind::Connect,
            SourceErrorKind::Transport,
            SourceErrorKind::TooLarge,
            SourceErrorKind::Cache,
        ];
        for kind in kinds {
            let (code, _) = fc_source_error::of(kind);
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(fc_source_error_name(code as u32)) };
            assert_eq!(name.to_str(), Ok(kind.code()));
        }
        assert_eq!(
            fc_source_error::of(SourceErrorKind::HttpStatus(503)),
            (fc_source_error::HttpStatus, 503)
        );
    }
}
