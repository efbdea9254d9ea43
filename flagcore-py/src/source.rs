//! The sources: `FileSource`, `KillsFileSource` and `HttpSource`, each one of
//! [`flagcore::source`]'s, running its own Rust thread.
//!
//! What the GIL asks of them:
//!
//! - Starting makes the first read (a file, or a request waiting up to its timeouts): the
//!   GIL is released meanwhile.
//! - Stopping joins the source's thread, which may be waiting for the GIL to call
//!   `on_status`: the GIL is released meanwhile, in `stop()`, `__exit__` and when the
//!   object is garbage-collected alike.
//! - `on_status` attaches to the interpreter on the source's thread; an exception it
//!   raises is logged (logger `flagcore`) and the source goes on (see [`Callback`]).
//! - At interpreter exit (`atexit`) every source still running is stopped, so that no
//!   source thread calls into an interpreter that is finalizing.
//! - In the child of an `os.fork()` the parent's sources have no thread: they are marked
//!   stopped, and never stopped nor dropped there (either would wait for the thread
//!   forever).
//!
//! A source holds its callback in a [`Callback`] cell that the garbage collector can see
//! (`__traverse__`) and clear (`__clear__`).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use flagcore::source::{self as core, DiskCache, FileOptions, HttpOptions, Status, WatchMode};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::PyString;
use pyo3::PyTraverseError;

use crate::callback::{Callback, EXITING};
use crate::status::SourceStatus;
use crate::store::Store;

/// The core source behind a Python source object.
enum Core {
    File(core::FileSource),
    KillsFile(core::KillsFileSource),
    Http(core::HttpSource),
}

/// A core source shared between its Python object and the registry of running sources.
struct Handle {
    core: Core,
    /// False once stopped, or in the child of a `fork()`, where the source's thread does
    /// not exist.
    running: AtomicBool,
}

impl Handle {
    /// The source's state now; after `stop`, as it was when it stopped.
    fn status(&self) -> Status {
        match &self.core {
            Core::File(source) => source.status(),
            Core::KillsFile(source) => source.status(),
            Core::Http(source) => source.status(),
        }
    }

    fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Stops the source and waits for its thread; call it with the GIL released (the
    /// thread may be waiting for it, to call `on_status`). Stopping a stopped or orphaned
    /// source does nothing.
    fn stop(&self) {
        if !self.running.swap(false, Ordering::SeqCst) {
            return;
        }
        match &self.core {
            Core::File(source) => source.stop(),
            Core::KillsFile(source) => source.stop(),
            Core::Http(source) => source.stop(),
        }
    }
}

/// The running sources, for stopping them at exit.
static RUNNING: Mutex<Vec<Weak<Handle>>> = Mutex::new(Vec::new());

fn register(handle: Weak<Handle>) {
    let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    running.retain(|h| h.strong_count() > 0);
    running.push(handle);
}

/// Registered with `atexit` when the module is imported: stops every source still
/// running, with the GIL released, before the interpreter finalizes.
#[pyfunction]
pub(crate) fn stop_all_sources(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    let handles: Vec<Arc<Handle>> = RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .drain(..)
        .filter_map(|h| h.upgrade())
        .collect();
    py.detach(|| {
        for handle in handles {
            handle.stop();
        }
    });
}

/// Registered with `os.register_at_fork(after_in_child=...)`: the sources of the parent
/// have no thread in the child; they show as stopped there (start new ones after a fork).
/// Each is leaked, so that it is never stopped or dropped in the child: either would wait
/// for the missing thread forever.
#[pyfunction]
pub(crate) fn orphan_sources_after_fork() {
    // A lock held at the fork by another thread stays held in the child: skip.
    let Ok(mut running) = RUNNING.try_lock() else {
        return;
    };
    for handle in running.drain(..).filter_map(|h| h.upgrade()) {
        handle.running.store(false, Ordering::SeqCst);
        std::mem::forget(handle);
    }
}

/// Starts a source with the GIL released (the first read happens in `start`), and
/// registers it for stopping at exit.
fn start<S: Send>(
    py: Python<'_>,
    start: impl FnOnce() -> io::Result<S> + Send,
    wrap: impl FnOnce(S) -> Core,
) -> PyResult<Arc<Handle>> {
    if EXITING.load(Ordering::SeqCst) {
        return Err(PyRuntimeError::new_err(
            "cannot start a source: the interpreter is exiting",
        ));
    }
    let source = py.detach(start)?;
    let handle = Arc::new(Handle {
        core: wrap(source),
        running: AtomicBool::new(true),
    });
    register(Arc::downgrade(&handle));
    Ok(handle)
}

/// Stops with the GIL released: the source's thread may be waiting for it. A stopped
/// source is left alone without releasing the GIL (it may be finalizing time).
fn stop_detached(py: Python<'_>, handle: &Handle) {
    if handle.is_running() {
        py.detach(|| handle.stop());
    }
}

/// Stops a source whose Python object is being dropped (with the GIL held, by
/// `tp_dealloc`), releasing the GIL while its thread is joined.
fn stop_on_drop(handle: &Handle) {
    Python::attach(|py| stop_detached(py, handle));
}

/// What the log says when an `on_status` function raises.
const ON_STATUS_RAISED: &str = "on_status callback %r raised; the source goes on";

/// A source's `on_status` function, in a cell its Python object can clear.
fn status_callback(function: Option<Bound<'_, PyAny>>) -> Option<Arc<Callback>> {
    let callback = Callback::new(function, ON_STATUS_RAISED);
    callback.is_set().then(|| Arc::new(callback))
}

/// The core callback: calls the function with a `SourceStatus`, on whatever thread the
/// source reports from.
fn core_callback(callback: &Arc<Callback>) -> impl Fn(&Status) + Send + Sync + 'static {
    let cell = Arc::clone(callback);
    move |status| {
        cell.call(|py| Ok(Bound::new(py, SourceStatus::new(status.clone()))?.into_any()));
    }
}

/// A duration in seconds: finite and positive (or zero, with `zero_ok`).
fn seconds(name: &str, value: f64, zero_ok: bool) -> PyResult<Duration> {
    let valid = value.is_finite() && (value > 0.0 || (zero_ok && value == 0.0));
    let duration = Duration::try_from_secs_f64(value).ok().filter(|_| valid);
    duration.ok_or_else(|| {
        let expected = if zero_ok {
            "zero or more"
        } else {
            "more than zero"
        };
        PyValueError::new_err(format!(
            "{name} must be a number of seconds, {expected}; got {value}"
        ))
    })
}

/// The options shared by the two file sources.
fn file_options(
    poll_interval: Option<f64>,
    debounce: f64,
    recheck_interval: f64,
    callback: Option<&Arc<Callback>>,
) -> PyResult<FileOptions> {
    let mut options = FileOptions::new()
        .debounce(seconds("debounce", debounce, true)?)
        .recheck_every(seconds("recheck_interval", recheck_interval, false)?);
    if let Some(interval) = poll_interval {
        options = options.poll_every(seconds("poll_interval", interval, false)?);
    }
    if let Some(callback) = callback {
        options = options.on_status(core_callback(callback));
    }
    Ok(options)
}

fn watch_mode_name(mode: WatchMode) -> &'static str {
    match mode {
        WatchMode::Native => "native",
        WatchMode::Polling { .. } => "polling",
        _ => "other",
    }
}

fn repr(py: Python<'_>, class: &str, what: &str, running: bool, status: &Status) -> String {
    let what = PyString::new(py, what)
        .repr()
        .map_or_else(|_| what.to_owned(), |r| r.to_string());
    let state = if !running {
        "stopped".to_owned()
    } else if status.consecutive_failures > 0 {
        format!("failing ({} in a row)", status.consecutive_failures)
    } else {
        "running".to_owned()
    };
    match status.version {
        Some(version) => format!("<flagcore.{class} {what} {state}, version={version}>"),
        None => format!("<flagcore.{class} {what} {state}>"),
    }
}

/// The `#[pymethods]` of a source class: its own (given) and those every source has.
macro_rules! source_pymethods {
    ($class:ident { $($own:tt)* }) => {
        #[pymethods]
        impl $class {
            $($own)*

            /// The source's state now (after `stop()`: as it was when stopped).
            fn status(&self) -> SourceStatus {
                SourceStatus::new(self.handle.status())
            }

            /// Stops the source's thread and waits for it; the store keeps serving what
            /// it has. Stopping a stopped source does nothing.
            fn stop(&self, py: Python<'_>) {
                stop_detached(py, &self.handle);
            }

            /// False once stopped.
            #[getter]
            fn running(&self) -> bool {
                self.handle.is_running()
            }

            fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
                slf
            }

            fn __exit__(
                &self,
                py: Python<'_>,
                exc_type: &Bound<'_, PyAny>,
                exc_value: &Bound<'_, PyAny>,
                traceback: &Bound<'_, PyAny>,
            ) {
                let _ = (exc_type, exc_value, traceback);
                stop_detached(py, &self.handle);
            }

            fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
                match &self.callback {
                    Some(callback) => callback.traverse(&visit),
                    None => Ok(()),
                }
            }

            fn __clear__(&self) {
                if let Some(callback) = &self.callback {
                    callback.clear();
                }
            }
        }
    };
}

/// Keeps a store serving a snapshot file, reloading it when it changes.
#[pyclass(frozen, module = "flagcore", name = "FileSource")]
pub(crate) struct FileSource {
    handle: Arc<Handle>,
    callback: Option<Arc<Callback>>,
    path: PathBuf,
    watch_mode: WatchMode,
}

impl Drop for FileSource {
    fn drop(&mut self) {
        stop_on_drop(&self.handle);
    }
}

source_pymethods!(FileSource {
    #[new]
    #[pyo3(signature = (
        store, path, *, poll_interval=None, debounce=0.05, recheck_interval=10.0,
        cache_dir=None, on_status=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, Store>,
        path: PathBuf,
        poll_interval: Option<f64>,
        debounce: f64,
        recheck_interval: f64,
        cache_dir: Option<PathBuf>,
        on_status: Option<Bound<'_, PyAny>>,
    ) -> PyResult<FileSource> {
        let callback = status_callback(on_status);
        let mut options = file_options(
            poll_interval,
            debounce,
            recheck_interval,
            callback.as_ref(),
        )?;
        if let Some(dir) = cache_dir {
            options = options.cache(DiskCache::new(dir));
        }
        let store = Arc::clone(store.get().writer(py, "FileSource")?);
        let start_path = path.clone();
        let mut watch_mode = WatchMode::Native;
        let handle = start(
            py,
            move || core::FileSource::start(store, start_path, options),
            |source| {
                watch_mode = source.watch_mode();
                Core::File(source)
            },
        )?;
        Ok(FileSource {
            handle,
            callback,
            path,
            watch_mode,
        })
    }

    /// The file, as given.
    #[getter]
    fn path(&self) -> &Path {
        &self.path
    }

    /// `"native"` (the platform's watcher) or `"polling"`.
    #[getter]
    fn watch_mode(&self) -> &'static str {
        watch_mode_name(self.watch_mode)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let what = self.path.display().to_string();
        repr(
            py,
            "FileSource",
            &what,
            self.handle.is_running(),
            &self.handle.status(),
        )
    }

});

/// Applies a host's kills file to a store as runtime kills, following its changes.
#[pyclass(frozen, module = "flagcore", name = "KillsFileSource")]
pub(crate) struct KillsFileSource {
    handle: Arc<Handle>,
    callback: Option<Arc<Callback>>,
    path: PathBuf,
    watch_mode: WatchMode,
}

impl Drop for KillsFileSource {
    fn drop(&mut self) {
        stop_on_drop(&self.handle);
    }
}

source_pymethods!(KillsFileSource {
    #[new]
    #[pyo3(signature = (
        store, path, *, poll_interval=None, debounce=0.05, recheck_interval=10.0,
        on_status=None,
    ))]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, Store>,
        path: PathBuf,
        poll_interval: Option<f64>,
        debounce: f64,
        recheck_interval: f64,
        on_status: Option<Bound<'_, PyAny>>,
    ) -> PyResult<KillsFileSource> {
        let callback = status_callback(on_status);
        let options = file_options(
            poll_interval,
            debounce,
            recheck_interval,
            callback.as_ref(),
        )?;
        let store = Arc::clone(store.get().writer(py, "KillsFileSource")?);
        let start_path = path.clone();
        let mut watch_mode = WatchMode::Native;
        let handle = start(
            py,
            move || core::KillsFileSource::start(store, start_path, options),
            |source| {
                watch_mode = source.watch_mode();
                Core::KillsFile(source)
            },
        )?;
        Ok(KillsFileSource {
            handle,
            callback,
            path,
            watch_mode,
        })
    }

    /// The file, as given.
    #[getter]
    fn path(&self) -> &Path {
        &self.path
    }

    /// `"native"` (the platform's watcher) or `"polling"`.
    #[getter]
    fn watch_mode(&self) -> &'static str {
        watch_mode_name(self.watch_mode)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let what = self.path.display().to_string();
        repr(
            py,
            "KillsFileSource",
            &what,
            self.handle.is_running(),
            &self.handle.status(),
        )
    }

});

/// Keeps a store serving the snapshot at an http(s) URL, polled with `ETag`.
#[pyclass(frozen, module = "flagcore", name = "HttpSource")]
pub(crate) struct HttpSource {
    handle: Arc<Handle>,
    callback: Option<Arc<Callback>>,
    url: String,
}

impl Drop for HttpSource {
    fn drop(&mut self) {
        stop_on_drop(&self.handle);
    }
}

/// `headers` (a mapping of `str` to `str`) as pairs.
fn header_pairs(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    headers
        .call_method0("items")?
        .try_iter()?
        .map(|item| item?.extract::<(String, String)>())
        .collect()
}

source_pymethods!(HttpSource {
    #[new]
    #[pyo3(signature = (
        store, url, *, interval=10.0, connect_timeout=2.0, read_timeout=5.0,
        backoff_initial=1.0, backoff_max=60.0, max_body_bytes=67108864, headers=None,
        bearer_token=None, cache_dir=None, on_status=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, Store>,
        url: String,
        interval: f64,
        connect_timeout: f64,
        read_timeout: f64,
        backoff_initial: f64,
        backoff_max: f64,
        max_body_bytes: u64,
        headers: Option<&Bound<'_, PyAny>>,
        bearer_token: Option<&str>,
        cache_dir: Option<PathBuf>,
        on_status: Option<Bound<'_, PyAny>>,
    ) -> PyResult<HttpSource> {
        let backoff_initial = seconds("backoff_initial", backoff_initial, false)?;
        let backoff_max = seconds("backoff_max", backoff_max, false)?;
        if backoff_max < backoff_initial {
            return Err(PyValueError::new_err(format!(
                "backoff_max ({}) must not be less than backoff_initial ({})",
                backoff_max.as_secs_f64(),
                backoff_initial.as_secs_f64()
            )));
        }
        let mut options = HttpOptions::new()
            .interval(seconds("interval", interval, false)?)
            .connect_timeout(seconds("connect_timeout", connect_timeout, false)?)
            .read_timeout(seconds("read_timeout", read_timeout, false)?)
            .backoff(backoff_initial, backoff_max)
            .max_body_bytes(max_body_bytes);
        if let Some(headers) = headers {
            for (name, value) in header_pairs(headers)? {
                options = options.header(name, value);
            }
        }
        if let Some(token) = bearer_token {
            options = options.bearer_token(token);
        }
        if let Some(dir) = cache_dir {
            options = options.cache(DiskCache::new(dir));
        }
        let callback = status_callback(on_status);
        if let Some(callback) = &callback {
            options = options.on_status(core_callback(callback));
        }
        let store = Arc::clone(store.get().writer(py, "HttpSource")?);
        let start_url = url.clone();
        let handle = start(
            py,
            move || core::HttpSource::start(store, start_url, options),
            Core::Http,
        )?;
        Ok(HttpSource {
            handle,
            callback,
            url,
        })
    }

    /// The URL, as given.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// Polls now rather than at the end of the current interval or backoff; returns at
    /// once. Does nothing once stopped.
    fn poll_now(&self) {
        if let Core::Http(source) = &self.handle.core {
            source.poll_now();
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        // The status names the URL with its password hidden.
        let status = self.handle.status();
        repr(
            py,
            "HttpSource",
            &status.source,
            self.handle.is_running(),
            &status,
        )
    }

});
