//! `Store.track_exposures`, `flush_exposures` and `exposure_stats`: exposure events
//! (docs/format.md §2.14, §5.7) handed to a Python function on the store's tracking
//! thread, appended to a JSON Lines file, or sent to an OpenTelemetry collector over
//! OTLP/HTTP (the core's `otel::OtelSink`).
//!
//! Evaluations only queue a compact record (the core's work: no lock, no allocation for
//! keys up to 47 bytes). The Python function runs on the tracking thread with the GIL
//! taken, so nothing may wait for that thread, or for the sink it holds, with the GIL held:
//!
//! - `track_exposures` and `flush_exposures` release the GIL while they wait;
//! - a `Store` dropped with the interpreter attached first flushes with the GIL released,
//!   then empties the function's cell, so the core store's own last flush (when it goes)
//!   calls nothing;
//! - inside the function, the methods that would wait for its thread, or for the writer
//!   lock a concurrent `track_exposures` holds while it waits for the sink, raise
//!   `FlagcoreError` (code `reentrant_call`) ([`crate::reentry`]).
//!
//! At interpreter exit every tracking store is flushed (before callbacks stop running). A
//! forked child has no tracking thread: there the methods that would wait for it raise,
//! and a store dropped there is leaked rather than waited for forever.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use flagcore::otel::{OtelConfig, OtelSink};
use flagcore::{Exposure, ExposureOptions, ExposureSink, JsonLinesSink};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use pyo3::PyTraverseError;

use crate::callback::Callback;
use crate::convert::json_to_py;
use crate::errors::io_error;
use crate::reentry::{address, outside_exposure_sink, Inside, Running};

/// What the log says when the exposure sink raises.
const SINK_RAISED: &str = "exposure sink %r raised; the batch is counted as a sink error";

/// The fields of an exposure, in the order the JSON Lines file writes them.
const FIELDS: [&str; 11] = [
    "time",
    "flag",
    "variant",
    "reason",
    "rule_index",
    "rule_id",
    "key",
    "unit",
    "bucket",
    "step",
    "version",
];

/// The stores tracking exposures, with the process that started them, flushed at
/// interpreter exit.
static TRACKING: Mutex<Vec<(u32, Weak<flagcore::Store>)>> = Mutex::new(Vec::new());

/// Why `track_exposures` failed.
enum Failed {
    Open(PathBuf, io::Error),
    Endpoint(io::Error),
    Thread(io::Error),
}

/// The options of `Store.track_exposures`, checked.
pub(crate) struct Options {
    pub(crate) capacity: usize,
    pub(crate) dedup_size: usize,
    pub(crate) dedup_window_s: f64,
    pub(crate) flush_interval_s: f64,
}

impl Options {
    fn to_core(&self) -> PyResult<ExposureOptions> {
        let seconds = |s: f64, name: &str, zero: bool| {
            let valid = s.is_finite() && (s > 0.0 || (zero && s == 0.0));
            Duration::try_from_secs_f64(s)
                .ok()
                .filter(|_| valid)
                .ok_or_else(|| {
                    let least = if zero {
                        "zero or more"
                    } else {
                        "more than zero"
                    };
                    PyValueError::new_err(format!("{name} must be seconds, {least}; got {s}"))
                })
        };
        if self.capacity == 0 {
            return Err(PyValueError::new_err("capacity must be at least 1"));
        }
        Ok(ExposureOptions::new()
            .capacity(self.capacity)
            .dedup(
                self.dedup_size,
                seconds(self.dedup_window_s, "dedup_window_s", true)?,
            )
            .flush_interval(seconds(self.flush_interval_s, "flush_interval_s", false)?))
    }
}

/// Where exposures go: a Python function, a file or an OpenTelemetry collector.
pub(crate) enum Target<'py> {
    Function(Bound<'py, PyAny>),
    File {
        path: PathBuf,
        max_bytes: Option<u64>,
        keep: usize,
    },
    Otlp(OtelConfig),
}

/// The collector of `track_exposures(otlp_endpoint=..., otlp_headers=..., service_name=...)`.
pub(crate) struct Otlp {
    pub(crate) endpoint: Option<String>,
    pub(crate) headers: Option<HashMap<String, String>>,
    pub(crate) service_name: Option<String>,
}

impl Otlp {
    /// The core's configuration; `None` without an endpoint (the other two need one).
    fn config(self) -> PyResult<Option<OtelConfig>> {
        let Some(endpoint) = self.endpoint else {
            if self.headers.is_some() || self.service_name.is_some() {
                return Err(PyTypeError::new_err(
                    "track_exposures: otlp_headers and service_name need otlp_endpoint",
                ));
            }
            return Ok(None);
        };
        let mut config = OtelConfig::new(endpoint);
        // Sorted: the same requests for the same arguments, whatever the dict's order.
        let mut headers: Vec<_> = self.headers.unwrap_or_default().into_iter().collect();
        headers.sort();
        for (name, value) in headers {
            config = config.header(name, value);
        }
        if let Some(name) = self.service_name {
            config = config.service_name(name);
        }
        Ok(Some(config))
    }
}

impl<'py> Target<'py> {
    /// The sink of `track_exposures(sink, *, path=..., otlp_endpoint=...)`: exactly one.
    pub(crate) fn new(
        sink: Option<Bound<'py, PyAny>>,
        path: Option<PathBuf>,
        otlp: Otlp,
        max_bytes: Option<u64>,
        keep: usize,
    ) -> PyResult<Target<'py>> {
        const ONE_OF: &str = "a callable sink, path= or otlp_endpoint=";
        match (sink.filter(|s| !s.is_none()), path, otlp.config()?) {
            (Some(function), None, None) if function.is_callable() => {
                Ok(Target::Function(function))
            }
            (Some(other), None, None) => {
                let type_name = other.get_type().name()?;
                Err(PyTypeError::new_err(format!(
                    "track_exposures needs {ONE_OF}, not {type_name}"
                )))
            }
            (None, Some(path), None) => Ok(Target::File {
                path,
                max_bytes,
                keep,
            }),
            (None, None, Some(config)) => Ok(Target::Otlp(config)),
            (None, None, None) => Err(PyTypeError::new_err(format!(
                "track_exposures needs {ONE_OF}"
            ))),
            _ => Err(PyTypeError::new_err(format!(
                "track_exposures needs one of {ONE_OF}, not both"
            ))),
        }
    }
}

/// A store's exposure tracking, as far as Python is concerned.
pub(crate) struct Exposures {
    /// The Python function the core's sink calls; empty when exposures go to a file, or
    /// none are tracked. The store's `__traverse__` reports it and `__clear__` empties it.
    function: Arc<Callback>,
    /// The process that started tracking; 0 before. In a forked child the tracking thread
    /// is gone.
    pid: AtomicU32,
    /// Serializes `track_exposures`; never held while the GIL is waited for.
    track: Mutex<()>,
}

impl Default for Exposures {
    fn default() -> Self {
        Exposures {
            function: Arc::new(Callback::new(None, SINK_RAISED)),
            pid: AtomicU32::new(0),
            track: Mutex::new(()),
        }
    }
}

/// The core's sink for a Python function.
struct FunctionSink {
    function: Arc<Callback>,
    /// The core store's address, for [`Running`].
    store: usize,
}

impl ExposureSink for FunctionSink {
    fn deliver(&mut self, batch: &[Exposure]) -> io::Result<()> {
        if !self.function.is_set() {
            // The store is gone (or cleared): nothing to call, and no GIL to take.
            return Ok(());
        }
        let _running = Running::enter(self.store, Inside::ExposureSink);
        if self
            .function
            .call(|py| Ok(batch_to_py(py, batch)?.into_any()))
        {
            Ok(())
        } else {
            Err(io::Error::other("the exposure sink raised"))
        }
    }
}

/// A batch as a list of `dict`s: the objects of the JSON Lines file.
fn batch_to_py<'py>(py: Python<'py>, batch: &[Exposure]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for exposure in batch {
        // The line is the format's one definition (the time in RFC 3339 among it).
        let line: serde_json::Value = serde_json::from_str(&exposure.to_json_line())
            .map_err(|e| PyRuntimeError::new_err(format!("an exposure's line: {e}")))?;
        let dict = PyDict::new(py);
        for field in FIELDS {
            dict.set_item(field, json_to_py(py, &line[field])?)?;
        }
        list.append(dict)?;
    }
    Ok(list)
}

impl Exposures {
    /// Whether tracking started in another process: this is a forked child.
    fn forked(&self) -> bool {
        let pid = self.pid.load(Ordering::SeqCst);
        pid != 0 && pid != std::process::id()
    }

    fn refuse_after_fork(&self, what: &str) -> PyResult<()> {
        if self.forked() {
            return Err(PyRuntimeError::new_err(format!(
                "{what}(): exposure tracking started before a fork, and this child process \
                 has no tracking thread; track exposures with a new Store"
            )));
        }
        Ok(())
    }

    /// Starts tracking into `target`, or replaces the sink; the one replaced gets
    /// everything accepted before. The caller checked this is not inside a callback.
    pub(crate) fn track(
        &self,
        py: Python<'_>,
        store: &Arc<flagcore::Store>,
        target: Target<'_>,
        options: &Options,
    ) -> PyResult<()> {
        self.refuse_after_fork("Store.track_exposures")?;
        let options = options.to_core()?;
        /// The sink, outside the GIL: the function stays a Python object until then.
        enum Sink {
            Function(Py<PyAny>),
            File(PathBuf, u64, usize),
            Otlp(OtelConfig),
        }
        let sink = match target {
            Target::Function(function) => Sink::Function(function.unbind()),
            Target::File {
                path,
                max_bytes,
                keep,
            } => Sink::File(path, max_bytes.unwrap_or(u64::MAX), keep),
            Target::Otlp(config) => Sink::Otlp(config),
        };
        // All of it with the GIL released: the sink being replaced may be waiting for it.
        let started = py.detach(|| {
            let _track = self.track.lock().unwrap_or_else(PoisonError::into_inner);
            // The core hands what is still queued at the swap to the new sink: flush first.
            store.flush_exposures();
            match sink {
                Sink::Function(function) => {
                    self.function.replace(Some(function));
                    let sink = FunctionSink {
                        function: Arc::clone(&self.function),
                        store: address(store),
                    };
                    store.track_exposures(sink, options).map_err(Failed::Thread)
                }
                Sink::File(path, max_bytes, keep) => {
                    let file = JsonLinesSink::open(&path, max_bytes, keep)
                        .map_err(|e| Failed::Open(path, e))?;
                    store
                        .track_exposures(file, options)
                        .map_err(Failed::Thread)?;
                    self.function.replace(None);
                    Ok(())
                }
                Sink::Otlp(config) => {
                    let otlp = OtelSink::new(&config).map_err(Failed::Endpoint)?;
                    store
                        .track_exposures(otlp, options)
                        .map_err(Failed::Thread)?;
                    self.function.replace(None);
                    Ok(())
                }
            }
        });
        match started {
            Ok(()) => {}
            Err(Failed::Open(path, e)) => return Err(io_error(py, path.display().to_string(), e)),
            Err(Failed::Endpoint(e)) => {
                return Err(PyValueError::new_err(format!("otlp_endpoint: {e}")))
            }
            Err(Failed::Thread(e)) => {
                return Err(PyRuntimeError::new_err(format!(
                    "cannot start the exposure tracking thread: {e}"
                )))
            }
        }
        let pid = std::process::id();
        if self.pid.swap(pid, Ordering::SeqCst) != pid {
            let mut tracking = TRACKING.lock().unwrap_or_else(PoisonError::into_inner);
            tracking.retain(|(_, s)| s.strong_count() > 0);
            tracking.push((pid, Arc::downgrade(store)));
        }
        Ok(())
    }

    /// `Store.flush_exposures`, with the GIL released.
    pub(crate) fn flush(&self, py: Python<'_>, store: &Arc<flagcore::Store>) -> PyResult<()> {
        outside_exposure_sink(py, store, "Store.flush_exposures")?;
        self.refuse_after_fork("Store.flush_exposures")?;
        py.detach(|| store.flush_exposures());
        Ok(())
    }

    /// For the `Store`'s drop, attached to the interpreter: delivers what is queued with the
    /// GIL released, then empties the function's cell.
    pub(crate) fn close(&self, store: &Arc<flagcore::Store>) {
        if self.forked() {
            // Dropping the core store would wait for the missing thread forever.
            std::mem::forget(Arc::clone(store));
        } else if self.function.is_set() {
            Python::attach(|py| py.detach(|| store.flush_exposures()));
        }
        self.function.clear();
    }

    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.function.traverse(visit)
    }

    pub(crate) fn clear(&self) {
        self.function.clear();
    }
}

/// `Store.exposure_stats()` as a `dict`.
pub(crate) fn stats_to_py<'py>(
    py: Python<'py>,
    store: &flagcore::Store,
) -> PyResult<Bound<'py, PyDict>> {
    let stats = store.exposure_stats();
    let dict = PyDict::new(py);
    dict.set_item("accepted", stats.accepted)?;
    dict.set_item("delivered", stats.delivered)?;
    dict.set_item("deduplicated", stats.deduplicated)?;
    dict.set_item("dropped", stats.dropped)?;
    dict.set_item("sink_errors", stats.sink_errors)?;
    Ok(dict)
}

/// Registered with `atexit` (to run before the sources stop and callbacks end): delivers
/// what every tracking store has queued.
#[pyfunction]
pub(crate) fn flush_exposures_at_exit(py: Python<'_>) {
    let pid = std::process::id();
    // A forked child's stores have no tracking thread to wait for.
    let stores: Vec<Arc<flagcore::Store>> = TRACKING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|(started, _)| *started == pid)
        .filter_map(|(_, store)| store.upgrade())
        .collect();
    py.detach(|| stores.iter().for_each(|store| store.flush_exposures()));
}
