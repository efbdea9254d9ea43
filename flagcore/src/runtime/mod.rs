//! Runtime state: what changes while a compiled plan serves, beside its immutable rules.
//! Runtime kills and evaluation counts are per plan ([`Runtime`]); guardrail evidence
//! outlives plans ([`evidence`]); exposures wait in the store's queue ([`exposures`]).
//! Evaluating threads only touch atomics and that bounded queue here: they never lock.

pub(crate) mod counters;
pub(crate) mod evidence;
pub(crate) mod exposures;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use counters::Counters;
use exposures::ExposureQueue;

/// The runtime state of one plan.
#[derive(Debug)]
pub(crate) struct Runtime {
    /// One per flag, set by the store before and after publication.
    killed: Box<[AtomicBool]>,
    pub(crate) counters: Counters,
    /// The store's exposure queue, shared by all its plans (set before publication).
    pub(crate) exposures: Arc<ExposureQueue>,
}

impl Runtime {
    /// State for `flags` flags and `counter_slots` evaluation counters, nothing killed.
    pub(crate) fn new(flags: usize, counter_slots: usize) -> Runtime {
        Runtime {
            killed: (0..flags).map(|_| AtomicBool::new(false)).collect(),
            counters: Counters::new(counter_slots),
            exposures: Arc::default(),
        }
    }

    /// Whether flag `flag` is killed at runtime.
    #[inline]
    pub(crate) fn is_killed(&self, flag: u32) -> bool {
        // Acquire pairs with the Release in `set_killed`, so a kill is seen by the next
        // evaluation on every thread.
        self.killed
            .get(flag as usize)
            .is_some_and(|k| k.load(Ordering::Acquire))
    }

    /// Kills or revives flag `flag`.
    pub(crate) fn set_killed(&self, flag: u32, killed: bool) {
        if let Some(k) = self.killed.get(flag as usize) {
            k.store(killed, Ordering::Release);
        }
    }
}
