//! `Store.subscribe`: Python functions told each change of a store (the core's
//! [`flagcore::Store::subscribe`]), and what keeps them from deadlocking on it.
//!
//! The core calls subscribers on the thread that made the change, while the store's writer
//! lock is held (so that they hear of changes in order). Two rules follow:
//!
//! - Lock order: a subscriber takes the GIL under the writer lock, so no thread may wait
//!   for the writer lock while it holds the GIL. Every `Store` method that takes that lock
//!   releases the GIL first; `observe`, which takes it only for the one observation that
//!   trips a guardrail, keeps the GIL while the store has no subscriber (no Python code
//!   then runs under the lock, and none can be subscribed while this thread holds the
//!   GIL) and releases it otherwise.
//! - Reentrancy: a subscriber that called such a method of its own store would wait for
//!   the lock its own thread holds. It gets `FlagcoreError` (code `reentrant_call`)
//!   instead, logged like any exception of a subscriber ([`crate::reentry`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use flagcore::{Change, SubscriptionId};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::PyTraverseError;

use crate::callback::Callback;
use crate::convert::change_to_py;
use crate::reentry::{address, Inside, Running};

/// What the log says when a subscriber raises.
const SUBSCRIBER_RAISED: &str = "subscriber %r raised; the change stands";

/// A store's subscriptions, by the id Python was given.
///
/// Each function lives in a [`Callback`] cell the core's subscriber shares, which the
/// store's `__traverse__` reports and `__clear__` empties (a provider subscribing its own
/// bound method makes a cycle through the store).
#[derive(Default)]
pub(crate) struct Subscriptions {
    /// Held briefly, never while waiting for the GIL or the store.
    table: Mutex<Table>,
    /// How many subscriptions exist. Changed only with the GIL held: incremented before
    /// the core subscription is made, decremented after it ended.
    active: AtomicUsize,
}

#[derive(Default)]
struct Table {
    /// The last id given out; ids start at 1.
    last: u64,
    entries: Vec<Entry>,
}

struct Entry {
    id: u64,
    core: SubscriptionId,
    function: Arc<Callback>,
}

impl Subscriptions {
    fn table(&self) -> MutexGuard<'_, Table> {
        // Each change of the table is one step: a panic cannot leave it half-changed.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether Python code may run under the store's writer lock. Read with the GIL held,
    /// it stays true for as long as the GIL is (see the module docs).
    pub(crate) fn any(&self) -> bool {
        self.active.load(Ordering::SeqCst) > 0
    }

    /// Subscribes `function` to `store`'s changes; returns the subscription's id.
    pub(crate) fn subscribe(
        &self,
        py: Python<'_>,
        store: &Arc<flagcore::Store>,
        function: Bound<'_, PyAny>,
    ) -> PyResult<u64> {
        let function = Arc::new(Callback::new(Some(function), SUBSCRIBER_RAISED));
        let cell = Arc::clone(&function);
        let store_address = address(store);
        let subscriber = move |change: &Change| {
            let _running = Running::enter(store_address, Inside::Subscriber);
            cell.call(|py| Ok(change_to_py(py, change)?.into_any()));
        };
        // Before the core calls it (the module docs say why).
        self.active.fetch_add(1, Ordering::SeqCst);
        // The GIL released: subscribing waits for the writer lock.
        let core = py.detach(|| store.subscribe(subscriber));
        let mut table = self.table();
        table.last += 1;
        let id = table.last;
        table.entries.push(Entry { id, core, function });
        Ok(id)
    }

    /// Ends subscription `id`; returns whether there was one. Once this returns, the
    /// function is not running and is never called again.
    pub(crate) fn unsubscribe(
        &self,
        py: Python<'_>,
        store: &Arc<flagcore::Store>,
        id: u64,
    ) -> bool {
        let entry = {
            let mut table = self.table();
            let Some(at) = table.entries.iter().position(|e| e.id == id) else {
                return false;
            };
            table.entries.swap_remove(at)
        };
        // The GIL released: this waits for the writer lock, under which subscribers run.
        py.detach(|| store.unsubscribe(entry.core));
        self.active.fetch_sub(1, Ordering::SeqCst);
        entry.function.clear();
        true
    }

    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Never blocks: the table's lock is only held briefly by threads holding the GIL,
        // so it is free whenever the collector runs.
        if let Ok(table) = self.table.try_lock() {
            for entry in &table.entries {
                entry.function.traverse(visit)?;
            }
        }
        Ok(())
    }

    /// Empties every function's cell; the subscriptions stay, calling nothing.
    pub(crate) fn clear(&self) {
        let functions: Vec<Arc<Callback>> = self
            .table()
            .entries
            .iter()
            .map(|e| Arc::clone(&e.function))
            .collect();
        for function in functions {
            function.clear();
        }
    }
}
