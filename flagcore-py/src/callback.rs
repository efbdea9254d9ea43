//! [`Callback`]: a Python function that Rust calls from any thread (a source's
//! `on_status`, a store's `on_guardrail_trip`, subscribers and exposure sink), in a cell
//! the garbage collector can see.
//!
//! - The function is called attached to the interpreter (the GIL taken if the thread does
//!   not hold it); an exception it raises is logged (logger `flagcore`, or
//!   `sys.unraisablehook` if logging fails too) and never reaches the Rust caller.
//! - The object owning the cell reports it in `__traverse__` and empties it in
//!   `__clear__`: a function that refers back to its owner (a bound method of the object
//!   holding it) does not keep both alive forever.
//! - After interpreter exit began ([`EXITING`]), callbacks no longer run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::PyTraverseError;

/// Set at interpreter exit (`atexit`): callbacks no longer run, new sources no longer start.
pub(crate) static EXITING: AtomicBool = AtomicBool::new(false);

/// A Python function, or none, called by Rust code on any thread.
pub(crate) struct Callback {
    /// The lock is only ever taken briefly, never while waiting for anything.
    function: Mutex<Option<Py<PyAny>>>,
    /// What the log says when the function raises: `on_status callback %r raised; ...`.
    on_error: &'static str,
}

impl Callback {
    /// A cell holding `function` (`None` and Python's `None` alike: no function).
    pub(crate) fn new(function: Option<Bound<'_, PyAny>>, on_error: &'static str) -> Callback {
        Callback {
            function: Mutex::new(function.filter(|f| !f.is_none()).map(Bound::unbind)),
            on_error,
        }
    }

    /// Whether the cell holds a function.
    pub(crate) fn is_set(&self) -> bool {
        self.lock().is_some()
    }

    /// Replaces the function (`None`: no function). The one replaced is dropped after
    /// the lock is released: dropping it may run Python code.
    pub(crate) fn set(&self, function: Option<Bound<'_, PyAny>>) {
        let function = function.filter(|f| !f.is_none()).map(Bound::unbind);
        let replaced = std::mem::replace(&mut *self.lock(), function);
        drop(replaced);
    }

    /// [`set`](Callback::set) for a function already taken out of the interpreter: callable
    /// without it (what it replaces is dropped after the lock is released, its reference
    /// released whenever a thread is next attached).
    pub(crate) fn replace(&self, function: Option<Py<PyAny>>) {
        let replaced = std::mem::replace(&mut *self.lock(), function);
        drop(replaced);
    }

    /// Calls the function, if any, with the one argument `argument` makes, attached to the
    /// interpreter. An exception is logged, not returned; the result says whether one was
    /// raised (false) or not (true, also when no function ran).
    pub(crate) fn call(
        &self,
        argument: impl for<'a> FnOnce(Python<'a>) -> PyResult<Bound<'a, PyAny>>,
    ) -> bool {
        if EXITING.load(Ordering::SeqCst) {
            return true;
        }
        Python::try_attach(|py| {
            let function = self.lock().as_ref().map(|f| f.clone_ref(py));
            let Some(function) = function else {
                return true;
            };
            let function = function.into_bound(py);
            let result = argument(py).and_then(|argument| function.call1((argument,)));
            match result {
                Ok(_) => true,
                Err(error) => {
                    self.report(py, &function, error);
                    false
                }
            }
        })
        .unwrap_or(true)
    }

    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        // Never blocks (no interpreter access is allowed here); the lock is only taken
        // briefly by threads attached to the interpreter, so it is free whenever the
        // collector runs.
        if let Ok(function) = self.function.try_lock() {
            visit.call(function.as_ref())?;
        }
        Ok(())
    }

    pub(crate) fn clear(&self) {
        let function = self.lock().take();
        drop(function);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Py<PyAny>>> {
        self.function.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Logs an exception the function raised to the `flagcore` logger (through
    /// `sys.unraisablehook` if logging fails too).
    fn report(&self, py: Python<'_>, function: &Bound<'_, PyAny>, error: PyErr) {
        let logged = (|| -> PyResult<()> {
            let logger = py
                .import("logging")?
                .call_method1("getLogger", ("flagcore",))?;
            let kwargs = PyDict::new(py);
            let exc_info = (error.get_type(py), error.value(py), error.traceback(py));
            kwargs.set_item("exc_info", exc_info)?;
            logger.call_method("error", (self.on_error, function), Some(&kwargs))?;
            Ok(())
        })();
        if logged.is_err() {
            error.write_unraisable(py, Some(function));
        }
    }
}
