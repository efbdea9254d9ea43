//! `key=` and `attrs=` into a borrowed [`EvaluationContext`].
//!
//! Attribute names and string values are borrowed from the Python `str` objects (their
//! UTF-8 form, which CPython caches on the object), so building a context copies no
//! string. Up to [`INLINE`] attributes live on the stack; more take one `Vec`.

use flagcore::{EvaluationContext, Value};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyMapping, PyString};

/// Attributes handled without a heap allocation.
const INLINE: usize = 16;

/// Contexts this small (most are) get arrays of this length: every slot of the arrays is
/// written before use, so a shorter array is cheaper to set up and to drop.
const SMALL: usize = 4;

type Item<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>);

/// Calls `f` with the context for `key` and `attrs`.
///
/// `attrs` is a `dict` (or any mapping, copied into one) of `str` names to `str`, `int`
/// (64-bit signed), `float` or `bool` values; anything else raises `TypeError`, and an
/// `int` out of range `OverflowError`, naming the attribute.
#[inline]
pub(crate) fn with_context<'py, R>(
    key: Option<&str>,
    attrs: Option<&Bound<'py, PyAny>>,
    f: impl FnOnce(&EvaluationContext<'_>) -> R,
) -> PyResult<R> {
    let base = match key {
        Some(key) => EvaluationContext::new(key),
        None => EvaluationContext::anonymous(),
    };
    let Some(attrs) = attrs else {
        return Ok(f(&base));
    };
    let copied;
    let dict = match attrs.cast::<PyDict>() {
        Ok(dict) => dict,
        Err(_) => {
            copied = as_dict(attrs)?;
            &copied
        }
    };
    let len = dict.len();
    if len == 0 {
        Ok(f(&base))
    } else if len <= SMALL {
        on_stack::<SMALL, R>(base, dict, f)
    } else if len <= INLINE {
        on_stack::<INLINE, R>(base, dict, f)
    } else {
        on_heap(base, dict, f)
    }
}

/// The context of a dict of at most `N` attributes, in arrays on the stack.
///
/// The names and values are held (one reference each) for as long as the context
/// borrows their UTF-8. Nothing here runs Python code, so the dict cannot change while it
/// is read; `zip` stops at `N` whatever it holds.
#[inline]
fn on_stack<'py, const N: usize, R>(
    base: EvaluationContext<'_>,
    dict: &Bound<'py, PyDict>,
    f: impl FnOnce(&EvaluationContext<'_>) -> R,
) -> PyResult<R> {
    let mut items: [Option<Item<'py>>; N] = [const { None }; N];
    let mut count = 0;
    for (slot, item) in items.iter_mut().zip(dict.iter()) {
        *slot = Some(item);
        count += 1;
    }
    let mut values: [(&str, Value<'_>); N] = [("", Value::Bool(false)); N];
    for (value, (name, object)) in values.iter_mut().zip(items.iter().flatten()) {
        *value = attribute(name, object)?;
    }
    Ok(f(&base.with_attributes(&values[..count])))
}

/// The context of a larger dict, in two `Vec`s. Out of line: it would bloat every getter.
#[inline(never)]
fn on_heap<'py, R>(
    base: EvaluationContext<'_>,
    dict: &Bound<'py, PyDict>,
    f: impl FnOnce(&EvaluationContext<'_>) -> R,
) -> PyResult<R> {
    let items: Vec<Item<'py>> = dict.iter().collect();
    let values = items
        .iter()
        .map(|(name, object)| attribute(name, object))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(f(&base.with_attributes(&values)))
}

#[cold]
fn as_dict<'py>(attrs: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let mapping = attrs.cast::<PyMapping>().map_err(|_| {
        PyTypeError::new_err(format!(
            "attrs must be a mapping of attribute names to values, not {}",
            type_name(attrs)
        ))
    })?;
    let dict = PyDict::new(attrs.py());
    dict.update(mapping)?;
    Ok(dict)
}

/// One attribute. `bool` is tested before `int`, of which it is a subclass.
#[inline]
fn attribute<'a>(
    name: &'a Bound<'_, PyAny>,
    object: &'a Bound<'_, PyAny>,
) -> PyResult<(&'a str, Value<'a>)> {
    let Ok(name_str) = name.cast::<PyString>() else {
        return Err(PyTypeError::new_err(format!(
            "attribute names must be str, not {} ({})",
            type_name(name),
            repr(name)
        )));
    };
    let name = name_str.to_str()?;
    let value = if let Ok(s) = object.cast::<PyString>() {
        Value::String(s.to_str()?)
    } else if let Ok(b) = object.cast::<PyBool>() {
        Value::Bool(b.is_true())
    } else if object.is_instance_of::<PyInt>() {
        match object.extract::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => {
                return Err(PyOverflowError::new_err(format!(
                    "attribute {name:?}: integer {} does not fit in 64 bits",
                    repr(object)
                )))
            }
        }
    } else if let Ok(f) = object.cast::<PyFloat>() {
        Value::Float(f.value())
    } else {
        return Err(PyTypeError::new_err(format!(
            "attribute {name:?} must be str, int, float or bool, not {}",
            type_name(object)
        )));
    };
    Ok((name, value))
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

fn repr(object: &Bound<'_, PyAny>) -> String {
    object
        .repr()
        .map_or_else(|_| "?".to_owned(), |r| r.to_string())
}
