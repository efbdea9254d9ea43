//! Evaluation counts per flag and variant, kept in atomics by the plan and gathered here.

use std::collections::BTreeMap;

use crate::plan::Plan;

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
        for flag in plan.flags.iter() {
            let base = flag.counter_base as usize;
            let drained = plan
                .runtime
                .counters
                .drain(base..=base + flag.variant_names.len());
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
