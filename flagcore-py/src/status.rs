//! The `SourceStatus` class: a source's [`Status`] as a read-only Python object.

use flagcore::source::{Outcome, Status};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::unix_seconds;
use crate::errors::{http_status, source_error};

/// What a source is doing, as of one moment: from `status()` or given to `on_status`.
///
/// `frozen`: a copy of the core's status, never updated; call `status()` again for news.
#[pyclass(frozen, module = "flagcore", name = "SourceStatus")]
pub(crate) struct SourceStatus {
    inner: Status,
}

impl SourceStatus {
    pub(crate) fn new(inner: Status) -> SourceStatus {
        SourceStatus { inner }
    }

    /// The core status, for `statuses_to_prometheus`.
    pub(crate) fn core(&self) -> &Status {
        &self.inner
    }
}

/// The stable name of an outcome.
fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Loaded { .. } => "loaded",
        Outcome::Unchanged => "unchanged",
        Outcome::Skipped { .. } => "skipped",
        Outcome::FromCache { .. } => "from_cache",
        Outcome::Failed => "failed",
        // A later outcome of the core, until it is named here.
        _ => "other",
    }
}

/// A source error as a `dict`, for `to_dict`.
fn error_dict<'py>(
    py: Python<'py>,
    error: Option<&flagcore::source::SourceError>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Some(error) = error else { return Ok(None) };
    let dict = PyDict::new(py);
    dict.set_item("code", error.code())?;
    dict.set_item("message", error.message())?;
    dict.set_item("at", unix_seconds(error.at()))?;
    dict.set_item("http_status", http_status(error))?;
    Ok(Some(dict))
}

#[pymethods]
impl SourceStatus {
    /// What the source reads: a path, or a URL (its password hidden).
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }

    /// The snapshot version this source last delivered; `None` before the first, and
    /// for a kills file.
    #[getter]
    fn version(&self) -> Option<u64> {
        self.inner.version
    }

    /// The last attempt's outcome: `"loaded"`, `"unchanged"`, `"skipped"`,
    /// `"from_cache"` or `"failed"`; `None` before the first.
    #[getter]
    fn last_outcome(&self) -> Option<&'static str> {
        self.inner.last_outcome.as_ref().map(outcome_name)
    }

    /// When the source last answered well (loaded, unchanged or skipped), in Unix seconds.
    #[getter]
    fn last_success(&self) -> Option<f64> {
        self.inner.last_success.map(unix_seconds)
    }

    /// The last failure as a `SourceError`, kept after a recovery (compare its `at` with
    /// `last_success`).
    #[getter]
    fn last_error<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .last_error
            .as_ref()
            .map(|e| source_error(py, e))
            .transpose()
    }

    /// Failures since the last good answer: 0 when healthy.
    #[getter]
    fn consecutive_failures(&self) -> u32 {
        self.inner.consecutive_failures
    }

    /// True while the snapshot serving came from the disk cache, not from the source.
    #[getter]
    fn serving_cache(&self) -> bool {
        self.inner.serving_cache
    }

    /// The last failure to write the disk cache, cleared by the next good write.
    #[getter]
    fn cache_error<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .cache_error
            .as_ref()
            .map(|e| source_error(py, e))
            .transpose()
    }

    /// Attempts that applied a new document.
    #[getter]
    fn loads(&self) -> u64 {
        self.inner.loads
    }

    /// Attempts that found nothing new (HTTP 304, same file content).
    #[getter]
    fn unchanged(&self) -> u64 {
        self.inner.unchanged
    }

    /// Attempts whose document was not newer than the serving one.
    #[getter]
    fn skipped(&self) -> u64 {
        self.inner.skipped
    }

    /// Attempts that failed.
    #[getter]
    fn failures(&self) -> u64 {
        self.inner.failures
    }

    /// True when the last attempt did not fail.
    #[getter]
    fn healthy(&self) -> bool {
        self.inner.is_healthy()
    }

    /// The fields as a `dict`, errors as `dict`s (`code`, `message`, `at`,
    /// `http_status`): ready for `json.dumps`, for a health endpoint.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("source", self.source())?;
        dict.set_item("version", self.version())?;
        dict.set_item("last_outcome", self.last_outcome())?;
        dict.set_item("last_success", self.last_success())?;
        dict.set_item(
            "last_error",
            error_dict(py, self.inner.last_error.as_ref())?,
        )?;
        dict.set_item("consecutive_failures", self.consecutive_failures())?;
        dict.set_item("serving_cache", self.serving_cache())?;
        dict.set_item(
            "cache_error",
            error_dict(py, self.inner.cache_error.as_ref())?,
        )?;
        dict.set_item("loads", self.loads())?;
        dict.set_item("unchanged", self.unchanged())?;
        dict.set_item("skipped", self.skipped())?;
        dict.set_item("failures", self.failures())?;
        dict.set_item("healthy", self.healthy())?;
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = &self.inner;
        let last_error = match &s.last_error {
            Some(e) => source_error(py, e)?.repr()?.to_string(),
            None => "None".to_owned(),
        };
        Ok(format!(
            "SourceStatus(source={}, version={}, last_outcome={}, consecutive_failures={}, \
             serving_cache={}, last_error={})",
            pyo3::types::PyString::new(py, &s.source).repr()?,
            s.version
                .map_or_else(|| "None".to_owned(), |v| v.to_string()),
            self.last_outcome()
                .map_or_else(|| "None".to_owned(), |o| format!("'{o}'")),
            s.consecutive_failures,
            if s.serving_cache { "True" } else { "False" },
            last_error,
        ))
    }
}
