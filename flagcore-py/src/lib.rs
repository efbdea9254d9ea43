//! Python bindings for flagcore: the private native module `flagcore._flagcore`.
//!
//! Everything here is glue. Evaluation, validation, kills and metrics live in the
//! `flagcore` crate; this crate turns Python arguments into borrowed Rust values (no copy
//! of a `str` on the evaluation path), calls the core, and turns results into Python
//! objects. The public Python API is the `flagcore` package in `python/flagcore/`,
//! which re-exports this module; its types are written by hand in `_flagcore.pyi`.
//!
//! - `store`: the `Store` class (loading, typed getters, kills, guardrails, metrics,
//!   explain).
//! - `source`: `FileSource`, `KillsFileSource` and `HttpSource`, the core's sources, each
//!   running a Rust thread; `status`: their `SourceStatus`.
//! - `export`: `MetricsExporter` and `statuses_to_prometheus` (Prometheus text pages).
//! - `callback`: Python functions Rust calls from any thread (`on_status`,
//!   `on_guardrail_trip`, subscribers, the exposure sink); `subscription`:
//!   `Store.subscribe`; `exposure`: `Store.track_exposures`; `reentry`: the store methods
//!   refused inside subscribers and the exposure sink, which would deadlock there.
//! - `context`: `key=` and `attrs=` into a [`flagcore::EvaluationContext`].
//! - `details`: the `Details` class and the reason/error-code strings.
//! - `diff`: `diff`, two snapshots compared by structure and by evaluation.
//! - `convert`: JSON values, metadata, metrics, kills and guardrails as Python objects.
//! - `errors`: [`flagcore::Error`] as the exceptions of `flagcore._errors`.

mod callback;
mod context;
mod convert;
mod details;
mod diff;
mod errors;
mod export;
mod exposure;
mod otel;
mod reentry;
mod source;
mod status;
mod store;
mod subscription;

use pyo3::prelude::*;

/// The native module. Its classes are re-exported by `flagcore/__init__.py`.
#[pymodule]
fn _flagcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<store::Store>()?;
    m.add_class::<details::Details>()?;
    m.add_class::<source::FileSource>()?;
    m.add_class::<source::KillsFileSource>()?;
    m.add_class::<source::HttpSource>()?;
    m.add_class::<status::SourceStatus>()?;
    m.add_class::<export::MetricsExporter>()?;
    m.add_class::<otel::OtelMetrics>()?;
    m.add_function(wrap_pyfunction!(export::statuses_to_prometheus, m)?)?;
    m.add_function(wrap_pyfunction!(diff::diff, m)?)?;
    // Sources run Rust threads that call into Python (`on_status`): stop them all before
    // the interpreter finalizes.
    let stop_all = wrap_pyfunction!(source::stop_all_sources, m)?;
    let atexit = m.py().import("atexit")?;
    atexit.call_method1("register", (stop_all,))?;
    // Registered after, so run before (atexit is last in, first out): the exposure sinks
    // get what is queued while callbacks still run.
    let flush = wrap_pyfunction!(exposure::flush_exposures_at_exit, m)?;
    atexit.call_method1("register", (flush,))?;
    // A forked child does not have the parent's source threads.
    let orphan = wrap_pyfunction!(source::orphan_sources_after_fork, m)?;
    let kwargs = pyo3::types::PyDict::new(m.py());
    kwargs.set_item("after_in_child", orphan)?;
    m.py()
        .import("os")?
        .call_method("register_at_fork", (), Some(&kwargs))?;
    Ok(())
}
