//! Evaluation counts per flag and variant, kept in atomics by the plan and gathered here.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::PoisonError;

use crate::plan::{Plan, COUNTER_SHARDS};

/// Evaluation counts since the last [`Store::take_metrics`](crate::Store::take_metrics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Per flag name.
    pub flags: BTreeMap<String, FlagCounts>,
}

/// The evaluations of one flag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagCounts {
    /// Per variant name served.
    pub variants: BTreeMap<String, u64>,
    /// Evaluations that served the caller's default (type mismatch, missing key).
    pub defaults: u64,
}

impl FlagCounts {
    /// All evaluations of the flag.
    pub fn total(&self) -> u64 {
        self.defaults + self.variants.values().sum::<u64>()
    }
}

impl Metrics {
    /// Adds a plan's counts since its last drain to these metrics.
    pub(crate) fn drain(&mut self, plan: &Plan) {
        let mut taken = plan.taken.lock().unwrap_or_else(PoisonError::into_inner);
        for flag in plan.flags.iter() {
            let base = flag.counter_base as usize;
            let drained: Vec<u64> = (base..=base + flag.variant_names.len())
                .map(|at| {
                    let total = (0..COUNTER_SHARDS)
                        .map(|shard| {
                            plan.counters[shard * plan.counter_stride + at].load(Ordering::Relaxed)
                        })
                        .fold(0u64, u64::wrapping_add);
                    let new = total.wrapping_sub(taken[at]);
                    taken[at] = total;
                    new
                })
                .collect();
            if drained.iter().all(|n| *n == 0) {
                continue;
            }
            let entry = self.flags.entry(flag.name.to_string()).or_default();
            for (slot, n) in drained.into_iter().enumerate() {
                match flag.variant_names.get(slot) {
                    Some(variant) if n > 0 => {
                        *entry.variants.entry(variant.to_string()).or_default() += n;
                    }
                    Some(_) => {}
                    None => entry.defaults += n,
                }
            }
        }
    }
}
