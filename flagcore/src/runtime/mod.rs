//! Runtime state: what changes while a compiled plan serves, beside its immutable rules.
//! Runtime kills and evaluation counts are per plan ([`Runtime`]); guardrail evidence
//! outlives plans ([`evidence`]); exposures wait in the store's queue ([`exposures`]).
//! Evaluating threads only touch atomics and that bounded queue here: they never lock.

pub(crate) mod counters;
pub(crate) mod direct;
pub(crate) mod evidence;
pub(crate) mod exposures;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use counters::Counters;
use direct::Direct;
use exposures::ExposureQueue;

/// The runtime state of one plan.
#[derive(Debug)]
pub(crate) struct Runtime {
    /// One word per flag: its [`Direct`] answer, which also holds whether it is killed at
    /// runtime, so that a getter reads both in one load. Kills are set by the store before
    /// and after publication.
    flags: Box<[AtomicU64]>,
    pub(crate) counters: Counters,
    /// The store's exposure queue, shared by all its plans (set before publication).
    pub(crate) exposures: Arc<ExposureQueue>,
}

impl Runtime {
    /// State for flags whose direct answers are `direct` and `counter_slots` evaluation
    /// counters, nothing killed.
    pub(crate) fn new(direct: impl Iterator<Item = Direct>, counter_slots: usize) -> Runtime {
        Runtime {
            flags: direct.map(|d| AtomicU64::new(d.word())).collect(),
            counters: Counters::new(counter_slots),
            exposures: Arc::default(),
        }
    }

    /// Flag `flag`'s direct answer, killed or not (an unknown flag's serves no getter).
    #[inline(always)]
    pub(crate) fn direct(&self, flag: u32) -> Direct {
        // Acquire pairs with the Release in `set_killed`, so a kill is seen by the next
        // evaluation on every thread.
        Direct::from_word(
            self.flags
                .get(flag as usize)
                .map_or(0, |w| w.load(Ordering::Acquire)),
        )
    }

    /// Whether flag `flag` is killed at runtime.
    #[inline]
    pub(crate) fn is_killed(&self, flag: u32) -> bool {
        self.direct(flag).killed()
    }

    /// Kills or revives flag `flag`. The store's writers call it one at a time, so the
    /// load and store cannot interleave with another kill of the same flag.
    pub(crate) fn set_killed(&self, flag: u32, killed: bool) {
        if let Some(w) = self.flags.get(flag as usize) {
            let word = Direct::from_word(w.load(Ordering::Relaxed)).with_killed(killed);
            w.store(word.word(), Ordering::Release);
        }
    }
}
