//! `flagcore.diff`: [`flagcore::diff::diff`] with Python arguments, returning a `dict`
//! shaped like `flagcore diff --json` (docs/format.md §7.7).

use flagcore::diff::{AttributeValue, Context, Contexts, DiffError, DiffReport, Options};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple, PyType,
};

static INVALID_SNAPSHOT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Compares snapshots `old` and `new`: what changed, and which contexts move from which
/// variant to which, evaluated on every core with the GIL released.
#[pyfunction]
#[pyo3(signature = (old, new, *, contexts = None, users = 100_000, now = None))]
pub(crate) fn diff<'py>(
    py: Python<'py>,
    old: &Bound<'py, PyAny>,
    new: &Bound<'py, PyAny>,
    contexts: Option<&Bound<'py, PyAny>>,
    users: u64,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let (old, new) = (snapshot_bytes(old)?, snapshot_bytes(new)?);
    let listed = contexts.map(read_contexts).transpose()?;
    if listed.is_none() && users == 0 {
        return Err(PyValueError::new_err("users must be at least 1"));
    }
    let mut options = Options::new();
    if let Some(now) = now {
        options = options.now(instant(now)?);
    }
    let population = match &listed {
        Some(contexts) => Contexts::Listed(contexts),
        None => Contexts::Synthetic(users),
    };
    let report = py
        .detach(|| flagcore::diff::diff(old, new, population, &options))
        .map_err(|e| invalid(py, e))?;
    report_to_py(py, &report)
}

/// `bytes` or `str` (its UTF-8), borrowed: both are immutable and the caller holds them.
fn snapshot_bytes<'a>(data: &'a Bound<'_, PyAny>) -> PyResult<&'a [u8]> {
    if let Ok(bytes) = data.cast::<PyBytes>() {
        Ok(bytes.as_bytes())
    } else if let Ok(text) = data.cast::<PyString>() {
        Ok(text.to_str()?.as_bytes())
    } else {
        Err(PyTypeError::new_err(format!(
            "snapshot data must be bytes or str, not {}",
            data.get_type().name()?
        )))
    }
}

/// `now`: an RFC 3339 `str`, or an aware `datetime` (through its `isoformat()`).
fn instant(now: &Bound<'_, PyAny>) -> PyResult<std::time::SystemTime> {
    let text: String = if let Ok(text) = now.cast::<PyString>() {
        text.to_str()?.to_owned()
    } else if now.hasattr("isoformat")? && now.hasattr("tzinfo")? {
        if now.getattr("tzinfo")?.is_none() {
            return Err(PyValueError::new_err(
                "now: a datetime needs a timezone (e.g. datetime.now(timezone.utc))",
            ));
        }
        now.call_method0("isoformat")?.extract()?
    } else {
        return Err(PyTypeError::new_err(format!(
            "now must be an RFC 3339 str or a datetime, not {}",
            now.get_type().name()?
        )));
    };
    flagcore::parse_rfc3339(&text).ok_or_else(|| {
        PyValueError::new_err(format!(
            "now: `{text}` is not an RFC 3339 timestamp with an offset (e.g. 2026-12-02T06:00:00Z)"
        ))
    })
}

/// An iterable of `{"key": str | None, "attrs": {name: value}}` as owned contexts.
fn read_contexts(contexts: &Bound<'_, PyAny>) -> PyResult<Vec<Context>> {
    contexts
        .try_iter()?
        .enumerate()
        .map(|(i, item)| {
            let item = item?;
            context(&item).map_err(|e| {
                let message = format!("contexts[{i}]: {}", e.value(item.py()));
                if e.is_instance_of::<PyOverflowError>(item.py()) {
                    PyOverflowError::new_err(message)
                } else if e.is_instance_of::<PyTypeError>(item.py()) {
                    PyTypeError::new_err(message)
                } else {
                    PyValueError::new_err(message)
                }
            })
        })
        .collect()
}

fn context(item: &Bound<'_, PyAny>) -> PyResult<Context> {
    let mapping = item.cast::<PyMapping>().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected a mapping {{\"key\": ..., \"attrs\": {{...}}}}, not {}",
            type_name(item)
        ))
    })?;
    let mut context = Context::default();
    for member in mapping.items()?.iter() {
        let (name, value): (String, Bound<'_, PyAny>) = member.extract()?;
        match name.as_str() {
            "key" if value.is_none() => {}
            "key" => {
                let key = value.cast::<PyString>().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "key must be str or None, not {}",
                        type_name(&value)
                    ))
                })?;
                context.key = Some(key.to_str()?.to_owned());
            }
            "attrs" => {
                let attrs = value.cast::<PyMapping>().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "attrs must be a mapping, not {}",
                        type_name(&value)
                    ))
                })?;
                for attr in attrs.items()?.iter() {
                    let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = attr.extract()?;
                    let name = name.cast::<PyString>().map_err(|_| {
                        PyTypeError::new_err(format!(
                            "attribute names must be str, not {}",
                            type_name(&name)
                        ))
                    })?;
                    let name = name.to_str()?.to_owned();
                    let value = attribute(&name, &value)?;
                    context.attributes.push((name, value));
                }
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown member {other:?}; expected \"key\" and \"attrs\""
                )))
            }
        }
    }
    Ok(context)
}

/// `bool` is tested before `int`, of which it is a subclass.
fn attribute(name: &str, value: &Bound<'_, PyAny>) -> PyResult<AttributeValue> {
    if let Ok(s) = value.cast::<PyString>() {
        Ok(AttributeValue::String(s.to_str()?.to_owned()))
    } else if let Ok(b) = value.cast::<PyBool>() {
        Ok(AttributeValue::Bool(b.is_true()))
    } else if value.is_instance_of::<PyInt>() {
        value
            .extract::<i64>()
            .map(AttributeValue::Int)
            .map_err(|_| {
                PyOverflowError::new_err(format!(
                    "attribute {name:?}: integer does not fit in 64 bits"
                ))
            })
    } else if let Ok(f) = value.cast::<PyFloat>() {
        Ok(AttributeValue::Float(f.value()))
    } else {
        Err(PyTypeError::new_err(format!(
            "attribute {name:?} must be str, int, float or bool, not {}",
            type_name(value)
        )))
    }
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// An invalid snapshot as `InvalidSnapshotError`, naming which one: OLD's errors when it
/// is invalid, else NEW's.
fn invalid(py: Python<'_>, error: DiffError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let (side, invalid) = match &error {
            DiffError::Invalid {
                old: Some(invalid), ..
            } => ("old", invalid),
            DiffError::Invalid {
                new: Some(invalid), ..
            } => ("new", invalid),
            other => return Ok(PyValueError::new_err(other.to_string())),
        };
        let issues = invalid
            .errors()
            .iter()
            .map(|e| PyTuple::new(py, [e.path(), e.message(), e.kind().code()]))
            .collect::<PyResult<Vec<_>>>()?;
        let class =
            INVALID_SNAPSHOT_ERROR.import(py, "flagcore._errors", "InvalidSnapshotError")?;
        let message = format!("{side} snapshot: {invalid}");
        Ok(PyErr::from_value(
            class.call1((message, PyList::new(py, issues)?))?,
        ))
    };
    match build() {
        Ok(err) | Err(err) => err,
    }
}

fn report_to_py<'py>(py: Python<'py>, report: &DiffReport) -> PyResult<Bound<'py, PyDict>> {
    let flags = PyList::empty(py);
    for flag in &report.flags {
        let transitions = PyList::empty(py);
        for t in &flag.transitions {
            let item = PyDict::new(py);
            item.set_item("from", t.from.as_deref())?;
            item.set_item("to", t.to.as_deref())?;
            item.set_item("count", t.count)?;
            transitions.append(item)?;
        }
        let structural = PyList::empty(py);
        for change in &flag.structural {
            let item = PyDict::new(py);
            item.set_item("path", &change.path)?;
            item.set_item("what", &change.what)?;
            structural.append(item)?;
        }
        let item = PyDict::new(py);
        item.set_item("flag", &flag.flag)?;
        item.set_item("change", flag.change.as_str())?;
        item.set_item("evaluated", flag.evaluated)?;
        item.set_item("changed", flag.changed)?;
        item.set_item("transitions", transitions)?;
        item.set_item("structural", structural)?;
        flags.append(item)?;
    }
    let segments = PyList::empty(py);
    for segment in &report.segments {
        let item = PyDict::new(py);
        item.set_item("segment", &segment.segment)?;
        item.set_item("contexts", segment.contexts)?;
        item.set_item("changed", segment.changed)?;
        segments.append(item)?;
    }
    let dict = PyDict::new(py);
    dict.set_item("old_version", report.old_version)?;
    dict.set_item("new_version", report.new_version)?;
    dict.set_item("flags", flags)?;
    dict.set_item("segments", segments)?;
    Ok(dict)
}
