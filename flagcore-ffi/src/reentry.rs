//! The C callbacks that run while their store holds a lock, and the functions refused
//! inside them because they would wait for that lock on the callback's own thread.
//!
//! - A subscription callback (`fc_store_subscribe`) runs under the store's writer lock
//!   (the core calls subscribers there, so that they hear of changes in order): the
//!   functions that take that lock would wait for themselves.
//! - An exposure callback (`fc_store_track_exposures`) runs on the store's tracking thread
//!   while the core holds its sink: `fc_store_flush_exposures` would wait for that thread
//!   (this one), and a new sink for the sink to be free. `fc_store_track_exposures` takes
//!   the writer lock before the sink, so a callback that waited for the writer lock
//!   could deadlock against it on another thread: the writer lock's functions are refused
//!   there too.
//!
//! Such a call fails with `FC_RESULT_REENTRANT_CALL` instead of hanging.

use std::cell::RefCell;
use std::sync::Arc;

use flagcore_engine::Store;

use crate::error::{fc_result, Failure};

/// Which kind of callback a thread is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inside {
    /// A subscription callback, under the writer lock.
    Subscriber,
    /// An exposure callback, on the tracking thread, holding the sink.
    ExposureSink,
}

thread_local! {
    /// The stores (by address) whose callbacks this thread is running now, innermost
    /// last: a callback may change another store, whose own callbacks then run inside it.
    static RUNNING: RefCell<Vec<(usize, Inside)>> = const { RefCell::new(Vec::new()) };
}

/// A store's identity while it lives: its address. A callback keeps this, not an `Arc`
/// (the store owns its callbacks, and an `Arc` would keep it alive forever).
pub(crate) fn address(store: &Arc<Store>) -> usize {
    Arc::as_ptr(store) as usize
}

/// Marks the current thread as running a callback of one store, until dropped.
pub(crate) struct Running(usize, Inside);

impl Running {
    /// `store` is the store's [`address`].
    pub(crate) fn enter(store: usize, kind: Inside) -> Running {
        // During thread teardown the slot may be gone: then nothing can be asked of it
        // either.
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

/// The kind of callback of `store` the current thread is running, if any (the innermost
/// when several).
fn running(store: &Arc<Store>, kinds: &[Inside]) -> Option<Inside> {
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

/// Fails with `FC_RESULT_REENTRANT_CALL` when the current thread is running a callback of
/// `store` of either kind: `function` takes the store's writer lock.
#[inline]
pub(crate) fn outside_callbacks(store: &Arc<Store>, function: &str) -> Result<(), Failure> {
    match running(store, &[Inside::Subscriber, Inside::ExposureSink]) {
        None => Ok(()),
        Some(kind) => Err(reentrant(function, kind)),
    }
}

/// Fails with `FC_RESULT_REENTRANT_CALL` when the current thread is running an exposure
/// callback of `store`: `function` waits for the tracking thread.
#[inline]
pub(crate) fn outside_exposure_callbacks(
    store: &Arc<Store>,
    function: &str,
) -> Result<(), Failure> {
    match running(store, &[Inside::ExposureSink]) {
        None => Ok(()),
        Some(kind) => Err(reentrant(function, kind)),
    }
}

#[cold]
fn reentrant(function: &str, kind: Inside) -> Failure {
    let inside = match kind {
        Inside::Subscriber => {
            "a subscription callback of the same store, which runs under the store's writer lock"
        }
        Inside::ExposureSink => {
            "an exposure callback of the same store, which runs on its tracking thread \
             holding the sink"
        }
    };
    Failure::new(
        fc_result::ReentrantCall,
        format!("{function} was called from {inside}: it would deadlock"),
    )
}
