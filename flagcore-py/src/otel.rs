//! `OtelMetrics`: a store's evaluation counts as the OpenTelemetry counter
//! `feature_flag.evaluations`, exported over OTLP/HTTP by the core's `otel::OtelMetrics`
//! on a thread of the OpenTelemetry SDK's. That thread never calls Python.

use std::collections::HashMap;
use std::io;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use flagcore::otel::OtelConfig;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::export_error;
use crate::store::Store;

/// Exports a store's evaluation counts to an OpenTelemetry collector every
/// `export_interval_s`, on `flush()`, and a last time on `shutdown()` (or when collected).
///
/// `frozen`: the core exporter sits behind a mutex, taken only to flush or shut down.
#[pyclass(frozen, module = "flagcore", name = "OtelMetrics")]
pub(crate) struct OtelMetrics {
    inner: Mutex<Option<flagcore::otel::OtelMetrics>>,
}

#[pymethods]
impl OtelMetrics {
    /// Starts exporting `store`'s counts to the collector at `endpoint` (its base URL:
    /// counts go to `{endpoint}/v1/metrics`).
    #[new]
    #[pyo3(signature = (store, endpoint, *, headers=None, service_name=None, export_interval_s=60.0))]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, Store>,
        endpoint: String,
        headers: Option<HashMap<String, String>>,
        service_name: Option<String>,
        export_interval_s: f64,
    ) -> PyResult<OtelMetrics> {
        let interval = Duration::try_from_secs_f64(export_interval_s)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "export_interval_s must be seconds, more than zero; got {export_interval_s}"
                ))
            })?;
        let store = store.get().writer(py, "OtelMetrics")?.clone();
        let mut config = OtelConfig::new(endpoint).export_interval(interval);
        let mut headers: Vec<_> = headers.unwrap_or_default().into_iter().collect();
        headers.sort();
        for (name, value) in headers {
            config = config.header(name, value);
        }
        if let Some(name) = service_name {
            config = config.service_name(name);
        }
        let inner = py
            .detach(|| flagcore::otel::OtelMetrics::start(store, &config))
            .map_err(|e| PyValueError::new_err(format!("endpoint: {e}")))?;
        Ok(OtelMetrics {
            inner: Mutex::new(Some(inner)),
        })
    }

    /// Takes the store's new counts and exports the totals now; returns when the
    /// collector answered, with the GIL released. Raises `FlagcoreError` (code `io`)
    /// when the export failed (the next one carries the counts).
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let result = py.detach(|| match &*self.lock() {
            Some(metrics) => metrics.flush().map(|()| true),
            None => Ok(false),
        });
        match result {
            Ok(true) => Ok(()),
            Ok(false) => Err(PyRuntimeError::new_err("OtelMetrics.flush(): shut down")),
            Err(e) => Err(export_error(py, e)),
        }
    }

    /// Exports the counts a last time and stops; again, does nothing.
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        let metrics = self.lock().take();
        match metrics {
            Some(metrics) => py
                .detach(|| metrics.shutdown())
                .map_err(|e| export_error(py, e)),
            None => Ok(()),
        }
    }

    fn __repr__(&self) -> String {
        "<flagcore.OtelMetrics>".to_owned()
    }
}

impl OtelMetrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<flagcore::otel::OtelMetrics>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for OtelMetrics {
    fn drop(&mut self) {
        let metrics = self.lock().take();
        if let Some(metrics) = metrics {
            // The last export is an HTTP request: not with the GIL held.
            Python::attach(|py| py.detach(move || drop::<io::Result<()>>(metrics.shutdown())));
        }
    }
}
