//! The Python functions that run while their store holds a lock, and the `Store` methods
//! refused inside them because they would wait for that lock on the function's own thread.
//!
//! - A subscriber (`Store.subscribe`) runs under the core store's writer lock (the core
//!   calls subscribers there, so that they hear of changes in order): the methods that
//!   take that lock would wait for themselves.
//! - An exposure sink (`Store.track_exposures`) runs on the store's tracking thread while
//!   the core holds its sink: `Store.flush_exposures` would wait for that thread (this
//!   one), and a new sink for the sink to be free. Installing a sink takes the writer lock
//!   before the sink, so a sink that waited for the writer lock could deadlock against it
//!   on another thread: the writer lock's methods are refused there too.
//!
//! Such a call raises `FlagcoreError` (code `reentrant_call`) instead of hanging.

use std::cell::RefCell;
use std::sync::Arc;

use pyo3::prelude::*;

use crate::errors::reentrant_call;

/// Which kind of function a thread is running for a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inside {
    /// A subscriber, under the writer lock.
    Subscriber,
    /// The exposure sink, on the tracking thread, holding the sink.
    ExposureSink,
}

thread_local! {
    /// The stores (by the core store's address) whose functions this thread is running
    /// now, innermost last: a subscriber may change another store, whose own subscribers
    /// then run inside it.
    static RUNNING: RefCell<Vec<(usize, Inside)>> = const { RefCell::new(Vec::new()) };
}

/// A core store's identity while it lives: its address. A function the store calls keeps
/// this, not an `Arc` (the store owns its functions, and an `Arc` would keep it alive
/// forever).
pub(crate) fn address(store: &Arc<flagcore::Store>) -> usize {
    Arc::as_ptr(store) as usize
}

/// Marks the current thread as running a function of one store, until dropped.
pub(crate) struct Running(usize, Inside);

impl Running {
    /// `store` is the store's [`address`].
    pub(crate) fn enter(store: usize, kind: Inside) -> Running {
        let _ = RUNNING.try_with(|running| running.borrow_mut().push((store, kind)));
        Running(store, kind)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = RUNNING.try_with(|running| {
            let mut running = running.borrow_mut();
            if let Some(at) = running.iter().rposition(|r| *r == (self.0, self.1)) {
                running.remove(at);
            }
        });
    }
}

/// The kind of function of `store` among `kinds` the current thread is running, if any
/// (the innermost when several).
fn running(store: &Arc<flagcore::Store>, kinds: &[Inside]) -> Option<Inside> {
    let address = address(store);
    RUNNING
        .try_with(|running| {
            running
                .borrow()
                .iter()
                .rev()
                .find(|(s, kind)| *s == address && kinds.contains(kind))
                .map(|(_, kind)| *kind)
        })
        .ok()
        .flatten()
}

fn refuse(py: Python<'_>, what: &str, kind: Option<Inside>) -> PyResult<()> {
    let Some(kind) = kind else { return Ok(()) };
    let inside = match kind {
        Inside::Subscriber => {
            "a subscriber of the same store, which runs while the store's writer lock is held"
        }
        Inside::ExposureSink => {
            "the exposure sink of the same store, which runs on its tracking thread while \
             the store holds the sink"
        }
    };
    Err(reentrant_call(py, what, inside))
}

/// Raises `FlagcoreError` (code `reentrant_call`) when the current thread is running a
/// subscriber or the exposure sink of `store`: `what` (`Store.kill`, ...) waits for the
/// store's writer lock.
#[inline]
pub(crate) fn outside_callbacks(
    py: Python<'_>,
    store: &Arc<flagcore::Store>,
    what: &str,
) -> PyResult<()> {
    let kind = running(store, &[Inside::Subscriber, Inside::ExposureSink]);
    refuse(py, what, kind)
}

/// Raises `FlagcoreError` (code `reentrant_call`) when the current thread is running the
/// exposure sink of `store`: `what` waits for the tracking thread.
#[inline]
pub(crate) fn outside_exposure_sink(
    py: Python<'_>,
    store: &Arc<flagcore::Store>,
    what: &str,
) -> PyResult<()> {
    let kind = running(store, &[Inside::ExposureSink]);
    refuse(py, what, kind)
}
