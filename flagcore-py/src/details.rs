//! The `Details` class, and reasons and error codes as (interned) Python strings.

use flagcore::{ErrorCode, Reason};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::metadata_to_py;

/// What an evaluation served and why: the fields of `flagcore explain --json` but `flag`.
#[pyclass(frozen, get_all, module = "flagcore", name = "Details")]
pub(crate) struct Details {
    /// The value served (the caller's default, the very object passed, on an error).
    value: Py<PyAny>,
    /// The variant served, `None` when the caller's default was.
    variant: Option<Py<PyString>>,
    /// OpenFeature reason: `"STATIC"`, `"TARGETING_MATCH"`, `"ERROR"`, ...
    reason: Py<PyString>,
    /// OpenFeature error code (`"FLAG_NOT_FOUND"`, ...), `None` unless `reason` is `ERROR`.
    error_code: Option<Py<PyString>>,
    /// The index of the rule that decided, if one did.
    rule_index: Option<usize>,
    /// That rule's `id`, if it has one.
    rule_id: Option<Py<PyString>>,
    /// True when an individual target decided.
    target: bool,
    /// The bucket (0..=99999) when a rollout decided.
    bucket: Option<u32>,
    /// The index of the schedule step in force when a scheduled rollout decided; `None`
    /// before its first step, without a schedule, or when no rollout decided.
    step: Option<usize>,
    /// The flag's metadata, as OpenFeature's flag metadata: empty when it has none or
    /// the flag does not exist (for a flagd flag, its file's `metadata` overlaid with its
    /// own).
    flag_metadata: Py<PyDict>,
}

impl Details {
    /// Details for a core result whose value the caller already converted.
    pub(crate) fn new<T>(
        py: Python<'_>,
        details: &flagcore::Details<'_, T>,
        value: Bound<'_, PyAny>,
        metadata: &[(Box<str>, flagcore::MetadataValue)],
    ) -> PyResult<Details> {
        Ok(Details {
            flag_metadata: metadata_to_py(py, metadata)?.unbind(),
            value: value.unbind(),
            variant: details.variant.map(|v| PyString::new(py, v).unbind()),
            reason: reason_str(py, details.reason).unbind(),
            error_code: details.error_code.map(|c| error_code_str(py, c).unbind()),
            rule_index: details.rule_index,
            rule_id: details.rule_id.map(|id| PyString::new(py, id).unbind()),
            target: details.target,
            bucket: details.bucket,
            step: details.step,
        })
    }
}

#[pymethods]
impl Details {
    /// The fields as a `dict` (what `flagcore explain --json` prints, less `flag`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item(intern!(py, "value"), &self.value)?;
        dict.set_item(intern!(py, "variant"), &self.variant)?;
        dict.set_item(intern!(py, "reason"), &self.reason)?;
        dict.set_item(intern!(py, "error_code"), &self.error_code)?;
        dict.set_item(intern!(py, "rule_index"), self.rule_index)?;
        dict.set_item(intern!(py, "rule_id"), &self.rule_id)?;
        dict.set_item(intern!(py, "target"), self.target)?;
        dict.set_item(intern!(py, "bucket"), self.bucket)?;
        dict.set_item(intern!(py, "step"), self.step)?;
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        fn show(py: Python<'_>, object: Option<&Py<PyString>>) -> PyResult<String> {
            match object {
                Some(o) => Ok(o.bind(py).repr()?.to_string()),
                None => Ok("None".to_owned()),
            }
        }
        fn number<T: ToString>(n: Option<T>) -> String {
            n.map_or_else(|| "None".to_owned(), |n| n.to_string())
        }
        Ok(format!(
            "Details(value={}, variant={}, reason={}, error_code={}, rule_index={}, \
             rule_id={}, target={}, bucket={}, step={})",
            self.value.bind(py).repr()?,
            show(py, self.variant.as_ref())?,
            self.reason.bind(py).repr()?,
            show(py, self.error_code.as_ref())?,
            number(self.rule_index),
            show(py, self.rule_id.as_ref())?,
            if self.target { "True" } else { "False" },
            number(self.bucket),
            number(self.step),
        ))
    }
}

/// The OpenFeature name of `reason`, interned once per process.
pub(crate) fn reason_str(py: Python<'_>, reason: Reason) -> Bound<'_, PyString> {
    static_name(py, reason.as_str())
}

/// The OpenFeature name of `code`, interned once per process.
pub(crate) fn error_code_str(py: Python<'_>, code: ErrorCode) -> Bound<'_, PyString> {
    static_name(py, code.as_str())
}

/// One cached Python string per name the core can return; a name added to the core
/// later works too (as a fresh string each time) until it is listed here.
fn static_name<'py>(py: Python<'py>, name: &'static str) -> Bound<'py, PyString> {
    let cached = match name {
        "STATIC" => intern!(py, "STATIC"),
        "DEFAULT" => intern!(py, "DEFAULT"),
        "TARGETING_MATCH" => intern!(py, "TARGETING_MATCH"),
        "SPLIT" => intern!(py, "SPLIT"),
        "DISABLED" => intern!(py, "DISABLED"),
        "PREREQUISITE_FAILED" => intern!(py, "PREREQUISITE_FAILED"),
        "ERROR" => intern!(py, "ERROR"),
        "PROVIDER_NOT_READY" => intern!(py, "PROVIDER_NOT_READY"),
        "FLAG_NOT_FOUND" => intern!(py, "FLAG_NOT_FOUND"),
        "TYPE_MISMATCH" => intern!(py, "TYPE_MISMATCH"),
        "TARGETING_KEY_MISSING" => intern!(py, "TARGETING_KEY_MISSING"),
        "PARSE_ERROR" => intern!(py, "PARSE_ERROR"),
        "GENERAL" => intern!(py, "GENERAL"),
        other => return PyString::new(py, other),
    };
    cached.clone()
}
