//! Python bindings for flagcore: the private native module `flagcore._flagcore`.
//!
//! Everything here is glue. Evaluation, validation, kills and metrics live in the
//! `flagcore` crate; this crate turns Python arguments into borrowed Rust values (no copy
//! of a `str` on the evaluation path), calls the core, and turns results into Python
//! objects. The public Python API is the `flagcore` package in `python/flagcore/`,
//! which re-exports this module; its types are written by hand in `_flagcore.pyi`.
//!
//! - `store`: the `Store` class (loading, typed getters, kills, metrics, explain).
//! - `context`: `key=` and `attrs=` into a [`flagcore::EvaluationContext`].
//! - `details`: the `Details` class and the reason/error-code strings.
//! - `convert`: JSON values, metadata, metrics and kills as Python objects.
//! - `errors`: [`flagcore::Error`] as the exceptions of `flagcore._errors`.

mod context;
mod convert;
mod details;
mod errors;
mod store;

use pyo3::prelude::*;

/// The native module. Its classes are re-exported by `flagcore/__init__.py`.
#[pymodule]
fn _flagcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<store::Store>()?;
    m.add_class::<details::Details>()?;
    Ok(())
}
