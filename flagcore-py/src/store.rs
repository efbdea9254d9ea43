//! The `Store` class: a [`flagcore::Store`] behind a frozen (lock-free) Python object.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use flagcore::flagd::Format;
use flagcore::{Kill, Observation};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyList, PyString};
use pyo3::PyTraverseError;

use crate::callback::Callback;
use crate::context::with_context;
use crate::convert::{
    explanation_to_py, guardrail_to_py, json_to_py, kill_to_py, metadata_to_py, metrics_to_py,
};
use crate::details::Details;
use crate::errors::to_py_err;
use crate::exposure::{stats_to_py, Exposures, Options, Otlp, Target};
use crate::reentry::outside_callbacks;
use crate::subscription::Subscriptions;

/// Holds the serving snapshot; see the `flagcore` package docs.
///
/// `frozen`: Python threads share it without a borrow flag; the core store is
/// `Send + Sync`, its readers never block and its writers lock only among themselves.
/// The core store is shared (`Arc`) with the sources that feed it.
///
/// The `on_guardrail_trip` function, the subscribers and the exposure sink live in
/// [`Callback`] cells the core store shares, which `__traverse__` reports and `__clear__`
/// empties.
///
/// Subscribers run under the core store's writer lock (see [`crate::subscription`]): every
/// method that takes that lock releases the GIL first, and refuses to run inside a
/// subscriber or the exposure sink of the same store (see [`crate::exposure`]).
#[pyclass(frozen, module = "flagcore", name = "Store")]
pub(crate) struct Store {
    inner: Arc<flagcore::Store>,
    trip: Arc<Callback>,
    subscriptions: Subscriptions,
    exposures: Exposures,
}

impl Drop for Store {
    fn drop(&mut self) {
        // Dropped with the interpreter attached (`tp_dealloc`): the functions go now, not
        // whenever a source thread drops the last reference to the core store. The
        // subscriptions stay in the core store (ending them would wait for its writer lock
        // with the GIL held), calling nothing.
        self.trip.clear();
        self.subscriptions.clear();
        // The exposure sink's last batches are delivered now, with the GIL released.
        self.exposures.close(&self.inner);
    }
}

/// What the log says when an `on_guardrail_trip` function raises.
const ON_TRIP_RAISED: &str = "on_guardrail_trip callback %r raised; the flag stays killed";

/// A latency in milliseconds: finite, zero or more.
fn latency(ms: f64) -> PyResult<Duration> {
    let valid = ms.is_finite() && ms >= 0.0;
    let duration = Duration::try_from_secs_f64(ms / 1000.0)
        .ok()
        .filter(|_| valid);
    duration.ok_or_else(|| {
        PyValueError::new_err(format!(
            "latency_ms must be a number of milliseconds, zero or more; got {ms}"
        ))
    })
}

/// The bytes of a snapshot given as `bytes` or `str` (its UTF-8), borrowed.
fn snapshot_bytes<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<&'a [u8]> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        Ok(bytes.as_bytes())
    } else if let Ok(text) = data.cast::<PyString>() {
        Ok(text.to_str()?.as_bytes())
    } else {
        let type_name = data.get_type().name()?;
        Err(PyTypeError::new_err(format!(
            "snapshot data must be bytes or str, not {type_name}"
        )))
    }
}

impl Store {
    /// The core store, for `what` (`Store.kill`, a source to feed it, an exporter to take
    /// its counts), which waits for its writer lock (with the GIL released): refused inside
    /// one of its subscribers and its exposure sink.
    pub(crate) fn writer(&self, py: Python<'_>, what: &str) -> PyResult<&Arc<flagcore::Store>> {
        outside_callbacks(py, &self.inner, what)?;
        Ok(&self.inner)
    }

    /// Validates and swaps in a snapshot with the GIL released: other Python threads go
    /// on evaluating the serving snapshot meanwhile. The bytes stay valid: `bytes` and
    /// `str` are immutable and the caller holds a reference.
    /// `format` `None` detects the format from the document.
    fn load(&self, py: Python<'_>, data: &Bound<'_, PyAny>, format: Option<&str>) -> PyResult<u64> {
        let store = self.writer(py, "Store.update")?;
        let format = parse_format(format)?;
        let bytes = snapshot_bytes(data)?;
        py.detach(|| match format {
            Some(format) => store.update_as(bytes, format),
            None => store.update(bytes),
        })
        .map_err(|e| to_py_err(py, e))
    }

    fn load_file(&self, py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<u64> {
        let store = self.writer(py, "Store.update_file")?;
        let format = parse_format(format)?;
        py.detach(|| match format {
            Some(format) => store.update_as(&read(&path)?, format),
            None => store.update_file(&path),
        })
        .map_err(|e| to_py_err(py, e))
    }

    /// Reads every file before loading any, so that one that cannot be read leaves the
    /// serving snapshot as it was.
    fn load_files(&self, py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<u64> {
        let store = self.writer(py, "Store.update_files")?;
        // Merging nothing would serve an empty flag set: every flag FLAG_NOT_FOUND.
        if paths.is_empty() {
            return Err(PyValueError::new_err(
                "no flagd files given: pass at least one path",
            ));
        }
        py.detach(|| {
            let documents = paths
                .iter()
                .map(|path| read(path))
                .collect::<Result<Vec<_>, _>>()?;
            let documents: Vec<&[u8]> = documents.iter().map(Vec::as_slice).collect();
            store.update_merged(&documents)
        })
        .map_err(|e| to_py_err(py, e))
    }
}

/// The format a `format=` argument names: `"native"`, `"flagd"`, or `None` to detect it.
fn parse_format(name: Option<&str>) -> PyResult<Option<Format>> {
    name.map(|name| name.parse::<Format>().map_err(PyValueError::new_err))
        .transpose()
}

/// The file at `path`, failing as the core's `update_file` does (an `io` error naming the
/// file), which reaches Python as `FlagcoreError` with the `OSError` as its cause.
fn read(path: &Path) -> Result<Vec<u8>, flagcore::Error> {
    std::fs::read(path).map_err(|source| flagcore::Error::Io {
        path: path.display().to_string(),
        source,
    })
}

#[pymethods]
impl Store {
    /// An empty store: every getter serves its default (`PROVIDER_NOT_READY`) until the
    /// first `update`.
    #[new]
    fn new() -> Store {
        let inner = Arc::new(flagcore::Store::new());
        let trip = Arc::new(Callback::new(None, ON_TRIP_RAISED));
        let cell = Arc::clone(&trip);
        inner.on_guardrail_trip(move |kill: &Kill| {
            cell.call(|py| Ok(kill_to_py(py, kill)?.into_any()));
        });
        Store {
            inner,
            trip,
            subscriptions: Subscriptions::default(),
            exposures: Exposures::default(),
        }
    }

    /// A store serving the snapshot file at `path`: a flagcore snapshot or a flagd flag
    /// file, told apart by its content unless `format` (`"native"` or `"flagd"`) says.
    #[staticmethod]
    #[pyo3(signature = (path, *, format=None))]
    fn from_file(py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<Store> {
        let store = Store::new();
        store.load_file(py, path, format)?;
        Ok(store)
    }

    /// A store serving the snapshot in `data` (`bytes` or `str`), in the format `update`
    /// reads.
    #[staticmethod]
    #[pyo3(signature = (data, *, format=None))]
    fn from_bytes(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        format: Option<&str>,
    ) -> PyResult<Store> {
        let store = Store::new();
        store.load(py, data, format)?;
        Ok(store)
    }

    /// A store serving the flagd flag files at `paths` merged in order, as flagd merges
    /// its sources: a later file's definition of a flag replaces an earlier one, and
    /// `$evaluators` are shared. No paths raises `ValueError`.
    #[staticmethod]
    fn from_files(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<Store> {
        let store = Store::new();
        store.load_files(py, paths)?;
        Ok(store)
    }

    /// Validates `data` and swaps it in; returns the new version. On any error the
    /// serving snapshot stays. `data` is a flagcore snapshot or a flagd flag file, told
    /// apart by its content unless `format` (`"native"` or `"flagd"`; anything else raises
    /// `ValueError`) says; a flagd file takes the next version.
    #[pyo3(signature = (data, *, format=None))]
    fn update(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        format: Option<&str>,
    ) -> PyResult<u64> {
        self.load(py, data, format)
    }

    /// Reads the file at `path` and `update`s from it.
    #[pyo3(signature = (path, *, format=None))]
    fn update_file(&self, py: Python<'_>, path: PathBuf, format: Option<&str>) -> PyResult<u64> {
        self.load_file(py, path, format)
    }

    /// Reads the flagd flag files at `paths` and swaps them in merged, as `from_files`
    /// does; returns the new version. On any error, an unreadable file included, the
    /// serving snapshot stays.
    fn update_files(&self, py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<u64> {
        self.load_files(py, paths)
    }

    /// How flagd documents loaded from now on bucket `fractional`: `"v2"`, flagd's current
    /// bucketing (the default), or `"v3"`, by the CBOR encoding of the key, as flagd's
    /// Python core 2.x does. Anything else raises `ValueError`.
    fn set_flagd_fractional(&self, version: &str) -> PyResult<()> {
        let version = version
            .parse::<flagcore::flagd::FractionalVersion>()
            .map_err(PyValueError::new_err)?;
        self.inner.set_flagd_fractional(version);
        Ok(())
    }

    /// The serving snapshot's version, `None` before the first.
    #[getter]
    fn version(&self) -> Option<u64> {
        self.inner.version()
    }

    /// The value of boolean flag `flag`, or `default`.
    #[pyo3(name = "bool", signature = (flag, default, *, key=None, attrs=None))]
    fn get_bool(
        &self,
        flag: &str,
        default: bool,
        key: Option<&str>,
        attrs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        with_context(key, attrs, |ctx| self.inner.bool(flag, ctx, default))
    }

    /// The value of string flag `flag`, or `default` (the same object).
    #[pyo3(name = "string", signature = (flag, default, *, key=None, attrs=None))]
    fn get_string<'py>(
        &self,
        flag: &str,
        default: &Bound<'py, PyString>,
        key: Option<&str>,
        attrs: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyString>> {
        let py = default.py();
        with_context(key, attrs, |ctx| {
            self.inner.with_plan(|plan| {
                let details = plan.string_details(flag, ctx, "");
                match details.variant {
                    Some(_) => PyString::new(py, details.value),
                    None => default.clone(),
                }
            })
        })
    }

    /// The value of integer flag `flag`, or `default`.
    #[pyo3(name = "int", signature = (flag, default, *, key=None, attrs=None))]
    fn get_int(
        &self,
        flag: &str,
        default: i64,
        key: Option<&str>,
        attrs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<i64> {
        with_context(key, attrs, |ctx| self.inner.int(flag, ctx, default))
    }

    /// The value of number flag `flag` (integer flags too), or `default`.
    #[pyo3(name = "float", signature = (flag, default, *, key=None, attrs=None))]
    fn get_float(
        &self,
        flag: &str,
        default: f64,
        key: Option<&str>,
        attrs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<f64> {
        with_context(key, attrs, |ctx| self.inner.float(flag, ctx, default))
    }

    /// The value of JSON flag `flag` as new Python objects, or `default` (any object,
    /// returned as it is).
    #[pyo3(name = "json", signature = (flag, default, *, key=None, attrs=None))]
    fn get_json<'py>(
        &self,
        flag: &str,
        default: Bound<'py, PyAny>,
        key: Option<&str>,
        attrs: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = default.py();
        with_context(key, attrs, |ctx| {
            self.inner.with_plan(|plan| {
                let details = plan.json_details(flag, ctx, &serde_json::Value::Null);
                match details.variant {
                    Some(_) => json_to_py(py, details.value),
                    None => Ok(default),
                }
            })
        })?
    }

    /// `bool` with the details of the evaluation.
    #[pyo3(signature = (flag, default, *, key=None, attrs=None))]
    fn bool_details(
        &self,
        py: Python<'_>,
        flag: &str,
        default: bool,
        key: Option<&str>,
        attrs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Details> {
        with_context(key, attrs, |ctx| {
            self.inner.with_plan(|plan| {
                let d = plan.bool_details(flag, ctx, default);
                let value = PyBool::new(py, d.value).to_owned().into_any();
                Details::new(py, &d, value, plan.flag_metadata(flag))
            })
        })?
    }

    /// `string` with the details of the evaluation.
    #[pyo3(signature = (flag, default, *, key=None, attrs=None))]
    fn string_details(
        &self,
        flag: &str,
        default: &Bound<'_, PyString>,
        key: Option<&str>,
        attrs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Details> {
        let py = default.py();
        with_context(key, attrs, |ctx| {
            self.inner.with_plan(|plan| {
                let d = plan.string_details(flag, ctx, "");
                let value = match d.variant {
                    Some(_) => PyString::new(py, d.value),
                    None => default.clone(),
                };
                Details::new(py, &d, value.into_any(), plan.flag_metadata(flag))
            })
        })?
    }

    /// `int` with the details of the evaluation.
    #[pyo3(signature = (flag, default, *, key=None, attrs=None))]
    fn int_details(
        &self,
        py: Python<'_>,
        flag: &str,
        default: i64,
        key: Option<&str>,
        attrs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Details> {
        with_context(key, attrs, |ctx| {
            self.inner.with_plan(|plan| {
                let d = plan.int_details(flag, ctx, default);
                let value = d.value.into_pyobject(py)?.into_any();
                Details::new(py, &d, value, plan.flag_metadata(flag))
            })
        })?
    }

    /// `float` with the details of the evaluation.
    #[pyo3(signature = (flag, default, *, key=None, attrs=None))]
    fn float_details(
        &self,
        py: Python<'_>,
        flag: &str,
        default: f64,
        key: Option<&str>,
        attrs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Details> {
        with_context(key, attrs, |ctx| {
            self.inner.with_plan(|plan| {
                let d = plan.float_details(flag, ctx, default);
                let value = d.value.into_pyobject(py)?.into_any();
                Details::new(py, &d, value, plan.flag_metadata(flag))
            })
        })?
    }

    /// `json` with the details of the evaluation.
    #[pyo3(signature = (flag, default, *, key=None, attrs=None))]
    fn json_details(
        &self,
        flag: &str,
        default: Bound<'_, PyAny>,
        key: Option<&str>,
        attrs: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Details> {
        let py = default.py();
        with_context(key, attrs, |ctx| {
            self.inner.with_plan(|plan| {
                let d = plan.json_details(flag, ctx, &serde_json::Value::Null);
                let value = match d.variant {
                    Some(_) => json_to_py(py, d.value)?,
                    None => default,
                };
                Details::new(py, &d, value, plan.flag_metadata(flag))
            })
        })?
    }

    /// Evaluates `flag` whatever its type and records the path the evaluation took.
    #[pyo3(signature = (flag, *, key=None, attrs=None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        flag: &str,
        key: Option<&str>,
        attrs: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        with_context(key, attrs, |ctx| {
            explanation_to_py(py, &self.inner.snapshot().explain(flag, ctx))
        })?
    }

    /// Kills `flag` (it serves its `off_variant`) until revived, across updates. The GIL
    /// is released: a source's disk cache writes the kills (and fsyncs) before this returns.
    fn kill(&self, py: Python<'_>, flag: &str, reason: &str) -> PyResult<()> {
        let store = self.writer(py, "Store.kill")?;
        py.detach(|| store.kill(flag, reason));
        Ok(())
    }

    /// Lifts a kill; returns whether `flag` was killed. The GIL is released, as for `kill`.
    fn revive(&self, py: Python<'_>, flag: &str) -> PyResult<bool> {
        let store = self.writer(py, "Store.revive")?;
        Ok(py.detach(|| store.revive(flag)))
    }

    /// The kills in force, by flag name.
    fn kills<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let store = self.writer(py, "Store.kills")?;
        let kills = py
            .detach(|| store.kills())
            .iter()
            .map(|k| kill_to_py(py, k))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, kills)
    }

    /// Reports what the application saw after serving `variant` of `flag`, as evidence for
    /// the flag's guardrails: a failed request (`error`) and how long it took
    /// (`latency_ms`, when measured). A guardrail that finds the watched variants worse
    /// than its bound kills the flag and calls the `on_guardrail_trip` function.
    ///
    /// An unknown flag or variant is a counted no-op (`observations_ignored`), never an
    /// exception, and so is `variant=None` (the caller's default was served: what
    /// `Details.variant` then says); a killed or disabled flag gathers no evidence,
    /// uncounted. No lock, no allocation; the one observation that trips records the
    /// kill (and, with a disk cache, writes it) before returning. The GIL stays held
    /// while the store has no subscriber (see [`crate::subscription`]).
    #[pyo3(signature = (flag, variant, *, error, latency_ms=None))]
    fn observe(
        &self,
        py: Python<'_>,
        flag: &str,
        variant: Option<&str>,
        error: bool,
        latency_ms: Option<f64>,
    ) -> PyResult<()> {
        let store = self.writer(py, "Store.observe")?;
        let latency = latency_ms.map(latency).transpose()?;
        // No flag has a variant named "": the core ignores and counts it.
        let variant = variant.unwrap_or("");
        let observation = Observation { error, latency };
        if self.subscriptions.any() {
            // A trip would call the subscribers, which take the GIL, under the writer lock.
            py.detach(|| store.observe(flag, variant, observation));
        } else {
            store.observe(flag, variant, observation);
        }
        Ok(())
    }

    /// Every guardrail of the serving snapshot with its evidence and state, as `dict`s.
    fn guardrails<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let guardrails = self
            .inner
            .guardrails()
            .iter()
            .map(|g| guardrail_to_py(py, g))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, guardrails)
    }

    /// How many guardrails have tripped since the store was created.
    #[getter]
    fn guardrail_trips(&self, py: Python<'_>) -> PyResult<u64> {
        let store = self.writer(py, "Store.guardrail_trips")?;
        Ok(py.detach(|| store.guardrail_trips()))
    }

    /// How many `observe` calls named an unknown flag or variant.
    #[getter]
    fn observations_ignored(&self) -> u64 {
        self.inner.observations_ignored()
    }

    /// Calls `callback` with the kill (a `dict` as `kills()` lists them) each time a
    /// guardrail trips, on the thread whose `observe` tripped it, after the kill took
    /// effect; replaces any earlier callback, `None` removes it. An exception it raises is
    /// logged to the `flagcore` logger and never reaches `observe`.
    fn on_guardrail_trip(&self, callback: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        if let Some(function) = callback.as_ref().filter(|f| !f.is_none()) {
            if !function.is_callable() {
                let type_name = function.get_type().name()?;
                return Err(PyTypeError::new_err(format!(
                    "on_guardrail_trip needs a callable or None, not {type_name}"
                )));
            }
        }
        self.trip.set(callback);
        Ok(())
    }

    /// Calls `callback` with each change of what the store serves, as a `dict`
    /// (`{"version": int | None, "flags": [str, ...]}`: the version then serving and the
    /// flags whose definition or kill changed), whatever made it: `update`, `kill`,
    /// `revive`, a source, a guardrail trip. Returns the subscription's id.
    ///
    /// The callback runs on the thread that made the change, with the GIL taken, while the
    /// store's writer lock is held (so that it hears of changes in order): it should be
    /// quick, and the store's methods that take that lock raise `FlagcoreError` (code
    /// `reentrant_call`) inside it. An exception it raises is logged to the `flagcore`
    /// logger and never reaches the code that made the change.
    fn subscribe(&self, py: Python<'_>, callback: Bound<'_, PyAny>) -> PyResult<u64> {
        outside_callbacks(py, &self.inner, "Store.subscribe")?;
        if !callback.is_callable() {
            let type_name = callback.get_type().name()?;
            return Err(PyTypeError::new_err(format!(
                "subscribe needs a callable, not {type_name}"
            )));
        }
        self.subscriptions.subscribe(py, &self.inner, callback)
    }

    /// Ends subscription `id`; returns whether there was one. Once this returns, its
    /// callback is not running and is never called again.
    fn unsubscribe(&self, py: Python<'_>, id: u64) -> PyResult<bool> {
        outside_callbacks(py, &self.inner, "Store.unsubscribe")?;
        Ok(self.subscriptions.unsubscribe(py, &self.inner, id))
    }

    /// Records an exposure for every top-level evaluation of a flag with
    /// `"exposures": true` that serves a variant, and hands them in batches (lists of
    /// `dict`s) to `sink` on the store's tracking thread with the GIL taken, appends
    /// them to the JSON Lines file `path` (rotated past `max_bytes`, keeping `keep`
    /// rotated files), or sends them to the OpenTelemetry collector at `otlp_endpoint`
    /// (OTLP/HTTP, protobuf, as `feature_flag.evaluation` events): exactly one of the three. Repeats of one unit, flag and variant within `dedup_window_s` are
    /// left out (`dedup_size` units remembered; 0 keeps every repeat). Calling it again
    /// replaces the sink (which first gets everything accepted before) and the options
    /// but `capacity`. An exception the sink raises is logged to the `flagcore` logger and
    /// counted as a sink error.
    #[pyo3(signature = (
        sink=None, *, path=None, max_bytes=None, keep=5, capacity=16_384, dedup_size=100_000,
        dedup_window_s=600.0, flush_interval_s=0.1, otlp_endpoint=None, otlp_headers=None,
        service_name=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn track_exposures(
        &self,
        py: Python<'_>,
        sink: Option<Bound<'_, PyAny>>,
        path: Option<PathBuf>,
        max_bytes: Option<u64>,
        keep: usize,
        capacity: usize,
        dedup_size: usize,
        dedup_window_s: f64,
        flush_interval_s: f64,
        otlp_endpoint: Option<String>,
        otlp_headers: Option<HashMap<String, String>>,
        service_name: Option<String>,
    ) -> PyResult<()> {
        let store = self.writer(py, "Store.track_exposures")?;
        let otlp = Otlp {
            endpoint: otlp_endpoint,
            headers: otlp_headers,
            service_name,
        };
        let target = Target::new(sink, path, otlp, max_bytes, keep)?;
        let options = Options {
            capacity,
            dedup_size,
            dedup_window_s,
            flush_interval_s,
        };
        self.exposures.track(py, store, target, &options)
    }

    /// Delivers every exposure queued before the call to the sink and waits until it has
    /// them (a file is written and synced), with the GIL released.
    fn flush_exposures(&self, py: Python<'_>) -> PyResult<()> {
        self.exposures.flush(py, &self.inner)
    }

    /// What exposure tracking has done since the store was created.
    fn exposure_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        stats_to_py(py, &self.inner)
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.trip.traverse(&visit)?;
        self.subscriptions.traverse(&visit)?;
        self.exposures.traverse(&visit)
    }

    fn __clear__(&self) {
        self.trip.clear();
        self.subscriptions.clear();
        self.exposures.clear();
    }

    /// Evaluation counts since the last call, per flag and variant; resets them.
    fn take_metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let store = self.writer(py, "Store.take_metrics")?;
        metrics_to_py(py, &py.detach(|| store.take_metrics()))
    }

    /// Turns evaluation counting on (the default) or off.
    fn set_metrics_enabled(&self, py: Python<'_>, enabled: bool) -> PyResult<()> {
        let store = self.writer(py, "Store.set_metrics_enabled")?;
        py.detach(|| store.set_metrics_enabled(enabled));
        Ok(())
    }

    /// A flag's `metadata`; empty when the flag has none or does not exist.
    fn flag_metadata<'py>(&self, py: Python<'py>, flag: &str) -> PyResult<Bound<'py, PyDict>> {
        metadata_to_py(py, self.inner.snapshot().flag_metadata(flag))
    }

    /// The names of the serving snapshot's flags, in document order.
    fn flag_names(&self) -> Vec<String> {
        self.inner
            .snapshot()
            .flag_names()
            .map(str::to_owned)
            .collect()
    }

    fn __repr__(&self) -> String {
        match self.inner.version() {
            Some(version) => format!("<flagcore.Store version={version}>"),
            None => "<flagcore.Store (no snapshot)>".to_owned(),
        }
    }
}
