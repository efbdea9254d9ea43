//! [`flagcore::Error`] as Python exceptions.
//!
//! The exception classes are written in Python (`python/flagcore/_errors.py`), so that
//! they carry ordinary attributes (`code`, `errors`, ...), pickle, and need no stub of
//! their own; this module imports them on first use and fills them in.

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyTuple, PyType};

use crate::convert::unix_seconds;

const ERRORS_MODULE: &str = "flagcore._errors";

static FLAGCORE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static INVALID_SNAPSHOT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static STALE_SNAPSHOT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static SOURCE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The Python exception for a core error, with its stable `code` and details:
///
/// - invalid snapshot: `InvalidSnapshotError(message, errors)`, `errors` a list of
///   `(path, message, code)` tuples in document order;
/// - stale snapshot: `StaleSnapshotError(message, offered, current)`;
/// - I/O: `FlagcoreError(message, "io")` whose `__cause__` is the `OSError`
///   (`FileNotFoundError`, `PermissionError`, ...) the operating system reported.
pub(crate) fn to_py_err(py: Python<'_>, error: flagcore::Error) -> PyErr {
    match build(py, error) {
        Ok(err) | Err(err) => err,
    }
}

fn build(py: Python<'_>, error: flagcore::Error) -> PyResult<PyErr> {
    let message = error.to_string();
    match error {
        flagcore::Error::Invalid(invalid) => {
            let issues = invalid
                .errors()
                .iter()
                .map(|e| PyTuple::new(py, [e.path(), e.message(), e.kind().code()]));
            let issues = issues.collect::<PyResult<Vec<_>>>()?;
            let class = INVALID_SNAPSHOT_ERROR.import(py, ERRORS_MODULE, "InvalidSnapshotError")?;
            Ok(PyErr::from_value(
                class.call1((message, PyList::new(py, issues)?))?,
            ))
        }
        flagcore::Error::Stale { offered, current } => {
            let class = STALE_SNAPSHOT_ERROR.import(py, ERRORS_MODULE, "StaleSnapshotError")?;
            Ok(PyErr::from_value(class.call1((message, offered, current))?))
        }
        flagcore::Error::Io { path, source } => {
            let err = flagcore_error(py, message, "io")?;
            err.set_cause(py, Some(os_error(path, source)));
            Ok(err)
        }
        other => flagcore_error(py, message, other.code()),
    }
}

/// `FlagcoreError(message, "io")` for an I/O failure of flagcore's own (opening an exposure
/// file), its `__cause__` the `OSError`, as [`to_py_err`] makes for the core's I/O errors.
pub(crate) fn io_error(py: Python<'_>, path: String, error: std::io::Error) -> PyErr {
    let message = format!("{path}: {error}");
    match flagcore_error(py, message, "io") {
        Ok(err) => {
            err.set_cause(py, Some(os_error(path, error)));
            err
        }
        Err(err) => err,
    }
}

/// `FlagcoreError(message, "io")` for an export to an OpenTelemetry collector that failed.
pub(crate) fn export_error(py: Python<'_>, error: std::io::Error) -> PyErr {
    match flagcore_error(py, format!("OTLP export failed: {error}"), "io") {
        Ok(err) => err,
        Err(err) => err,
    }
}

/// `OSError(errno, strerror, filename)`, which Python turns into the subclass for the
/// errno (`FileNotFoundError`, `PermissionError`, `IsADirectoryError`, ...).
fn os_error(path: String, source: std::io::Error) -> PyErr {
    match source.raw_os_error() {
        Some(errno) => {
            let strerror = source.to_string();
            let strerror = match strerror.find(" (os error") {
                Some(end) => strerror[..end].to_owned(),
                None => strerror,
            };
            PyOSError::new_err((errno, strerror, path))
        }
        None => PyErr::from(source),
    }
}

/// A source's failure as a `SourceError(message, code, at, http_status)` object: an
/// exception instance given as a value (as `concurrent.futures.Future.exception()` does),
/// never raised by flagcore.
pub(crate) fn source_error<'py>(
    py: Python<'py>,
    error: &flagcore::source::SourceError,
) -> PyResult<Bound<'py, PyAny>> {
    let class = SOURCE_ERROR.import(py, ERRORS_MODULE, "SourceError")?;
    class.call1((
        error.message(),
        error.code(),
        unix_seconds(error.at()),
        http_status(error),
    ))
}

/// The HTTP status code of an `http_status` error.
pub(crate) fn http_status(error: &flagcore::source::SourceError) -> Option<u16> {
    match error.kind() {
        flagcore::source::SourceErrorKind::HttpStatus(status) => Some(status),
        _ => None,
    }
}

fn flagcore_error(py: Python<'_>, message: String, code: &str) -> PyResult<PyErr> {
    let class = FLAGCORE_ERROR.import(py, ERRORS_MODULE, "FlagcoreError")?;
    Ok(PyErr::from_value(class.call1((message, code))?))
}

/// `FlagcoreError(message, "reentrant_call")`: `what` (`Store.kill`, ...) was called from
/// `inside` (a subscriber or the exposure sink of the same store), which holds what `what`
/// would wait for.
pub(crate) fn reentrant_call(py: Python<'_>, what: &str, inside: &str) -> PyErr {
    let message = format!("{what}() was called from {inside}: it would deadlock");
    match flagcore_error(py, message, "reentrant_call") {
        Ok(err) | Err(err) => err,
    }
}
