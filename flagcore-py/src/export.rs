//! Prometheus text pages: the `MetricsExporter` class and `statuses_to_prometheus`.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::metrics_to_py;
use crate::status::SourceStatus;
use crate::store::Store;

/// Keeps running totals of a store's evaluation counts and renders them, with the kills
/// in force and the serving version, as a Prometheus text page.
///
/// `frozen`: the core exporter locks its totals itself.
#[pyclass(frozen, module = "flagcore", name = "MetricsExporter")]
pub(crate) struct MetricsExporter {
    inner: flagcore::MetricsExporter,
}

#[pymethods]
impl MetricsExporter {
    /// An exporter with every total at zero.
    #[new]
    fn new() -> MetricsExporter {
        MetricsExporter {
            inner: flagcore::MetricsExporter::new(),
        }
    }

    /// Takes `store`'s new counts (`Store.take_metrics`) into the running totals and
    /// renders the page.
    fn scrape(&self, py: Python<'_>, store: &Bound<'_, Store>) -> PyResult<String> {
        let store = store.get().writer(py, "MetricsExporter.scrape")?;
        Ok(py.detach(|| self.inner.scrape(store)))
    }

    /// The running evaluation totals so far, shaped as `Store.take_metrics` gives them.
    fn totals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        metrics_to_py(py, &self.inner.totals())
    }

    fn __repr__(&self) -> String {
        "<flagcore.MetricsExporter>".to_owned()
    }
}

/// Renders sources' statuses as a Prometheus text page: attempts by outcome,
/// consecutive failures, the version each last delivered, the time of its last good
/// answer, and whether it serves from the disk cache.
#[pyfunction]
pub(crate) fn statuses_to_prometheus(statuses: &Bound<'_, PyAny>) -> PyResult<String> {
    let statuses = statuses
        .try_iter()?
        .map(|status| Ok(status?.cast::<SourceStatus>()?.get().core().clone()))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(flagcore::source::statuses_to_prometheus(&statuses))
}
