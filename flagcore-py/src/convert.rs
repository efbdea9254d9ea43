//! Core values as Python objects: JSON, metadata, metrics, kills, guardrails, explanations.

use std::time::{SystemTime, UNIX_EPOCH};

use flagcore::{Change, Counts, Explanation, GuardrailStatus, Kill, MetadataValue, Metrics};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::details::{error_code_str, reason_str};

/// A JSON value as fresh Python objects (`dict`, `list`, `str`, `int`, `float`, `bool`,
/// `None`), so a caller may mutate what it gets without touching the snapshot.
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    value: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => py.None().into_bound(py),
        J::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        J::String(s) => s.into_pyobject(py)?.into_any(),
        J::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        J::Object(members) => {
            let dict = PyDict::new(py);
            for (name, member) in members {
                dict.set_item(name, json_to_py(py, member)?)?;
            }
            dict.into_any()
        }
    })
}

/// A flag's metadata as a `dict`. The core keeps numbers as `f64`; one that is a whole
/// number within ±2^53 (so exact) comes back as an `int`, as the JSON most likely
/// wrote it (`"ticket": 1234`).
pub(crate) fn metadata_to_py<'py>(
    py: Python<'py>,
    metadata: &[(Box<str>, MetadataValue)],
) -> PyResult<Bound<'py, PyDict>> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    let dict = PyDict::new(py);
    for (name, value) in metadata {
        match value {
            MetadataValue::String(s) => dict.set_item(&**name, s)?,
            MetadataValue::Bool(b) => dict.set_item(&**name, *b)?,
            MetadataValue::Number(n) if n.fract() == 0.0 && n.abs() <= EXACT => {
                dict.set_item(&**name, *n as i64)?
            }
            MetadataValue::Number(n) => dict.set_item(&**name, *n)?,
        }
    }
    Ok(dict)
}

/// `{flag: {"variants": {name: count}, "defaults": count}}`.
pub(crate) fn metrics_to_py<'py>(
    py: Python<'py>,
    metrics: &Metrics,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for (flag, counts) in &metrics.flags {
        let variants = PyDict::new(py);
        for (variant, n) in &counts.variants {
            variants.set_item(variant, n)?;
        }
        let entry = PyDict::new(py);
        entry.set_item("variants", variants)?;
        entry.set_item("defaults", counts.defaults)?;
        out.set_item(flag, entry)?;
    }
    Ok(out)
}

/// A time as Unix seconds (negative before 1970), as `time.time()` gives it.
pub(crate) fn unix_seconds(time: SystemTime) -> f64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

/// `{"flag": str, "reason": str, "at": float}` with `at` in Unix seconds.
pub(crate) fn kill_to_py<'py>(py: Python<'py>, kill: &Kill) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("flag", &kill.flag)?;
    dict.set_item("reason", &kill.reason)?;
    dict.set_item("at", unix_seconds(kill.at))?;
    Ok(dict)
}

/// `{"version": int | None, "flags": [str, ...]}`: a store's change, for its subscribers.
pub(crate) fn change_to_py<'py>(py: Python<'py>, change: &Change) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("version", change.version)?;
    dict.set_item("flags", PyList::new(py, &change.flags)?)?;
    Ok(dict)
}

/// `{"variant": str, "observations": int, "events": int}`.
fn variant_counts_to_py<'py>(
    py: Python<'py>,
    (variant, counts): &(String, Counts),
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("variant", variant)?;
    dict.set_item("observations", counts.observations)?;
    dict.set_item("events", counts.events)?;
    Ok(dict)
}

/// `{"flag", "id", "bound", "watched": [counts], "baseline": counts | None,
/// "likelihood_ratio", "tripped"}`, counts as [`variant_counts_to_py`] makes them.
pub(crate) fn guardrail_to_py<'py>(
    py: Python<'py>,
    g: &GuardrailStatus,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("flag", &g.flag)?;
    dict.set_item("id", &g.id)?;
    dict.set_item("bound", &g.bound)?;
    let watched = g
        .watched
        .iter()
        .map(|w| variant_counts_to_py(py, w))
        .collect::<PyResult<Vec<_>>>()?;
    dict.set_item("watched", PyList::new(py, watched)?)?;
    let baseline = g
        .baseline
        .as_ref()
        .map(|b| variant_counts_to_py(py, b))
        .transpose()?;
    dict.set_item("baseline", baseline)?;
    dict.set_item("likelihood_ratio", g.likelihood_ratio)?;
    dict.set_item("tripped", g.tripped)?;
    Ok(dict)
}

/// The fields of `flagcore explain --json`, plus `steps`.
pub(crate) fn explanation_to_py<'py>(
    py: Python<'py>,
    e: &Explanation,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("flag", &e.flag)?;
    dict.set_item("value", json_to_py(py, &e.value)?)?;
    dict.set_item("variant", e.variant.as_deref())?;
    dict.set_item("reason", reason_str(py, e.reason))?;
    dict.set_item("error_code", e.error_code.map(|c| error_code_str(py, c)))?;
    dict.set_item("rule_index", e.rule_index)?;
    dict.set_item("rule_id", e.rule_id.as_deref())?;
    dict.set_item("target", e.target)?;
    dict.set_item("bucket", e.bucket)?;
    dict.set_item("step", e.step)?;
    dict.set_item("steps", PyList::new(py, &e.steps)?)?;
    Ok(dict)
}
