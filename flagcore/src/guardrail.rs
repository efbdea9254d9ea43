//! The store's view of its guardrails: each one's state and evidence, and the evidence a
//! new snapshot keeps (docs/format.md §2.13, §5.6).

use std::sync::Arc;

use crate::document::Bound;
use crate::plan::guardrail::GuardrailPlan;
use crate::plan::{FlagPlan, Plan};
use crate::runtime::evidence::Counts;

/// One guardrail's state, as [`Store::guardrails`](crate::Store::guardrails) lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailStatus {
    /// The flag it guards.
    pub flag: String,
    /// Its `id`.
    pub id: String,
    /// What it bounds, as written: `max_increase 0.01 over off`, `max_error_rate 0.05`
    /// or `p99 at most 250 ms`.
    pub bound: String,
    /// Each watched variant and its evidence (events are errors, or requests slower than
    /// a latency bound).
    pub watched: Vec<(String, Counts)>,
    /// The baseline variant and its evidence, for a bound against a baseline.
    pub baseline: Option<(String, Counts)>,
    /// The test's likelihood ratio that the bound is exceeded; it trips at `1 / 0.01`.
    pub likelihood_ratio: f64,
    /// Whether it has tripped (and killed its flag) since the flag was last revived.
    pub tripped: bool,
}

impl GuardrailStatus {
    pub(crate) fn new(flag: &FlagPlan, guardrail: &GuardrailPlan) -> GuardrailStatus {
        let name = |v: u32| {
            flag.variant_names
                .get(v as usize)
                .map_or_else(String::new, |n| n.to_string())
        };
        let bound = match guardrail.bound {
            Bound::ErrorIncrease {
                baseline,
                max_increase,
            } => format!("max_increase {max_increase} over {}", name(baseline)),
            Bound::ErrorRate { max } => format!("max_error_rate {max}"),
            Bound::Latency { percentile, max_ms } => format!("p{percentile} at most {max_ms} ms"),
        };
        let (_, baseline) = guardrail.counts();
        GuardrailStatus {
            flag: flag.name.to_string(),
            id: guardrail.id.to_string(),
            bound,
            watched: guardrail
                .watched_counts()
                .map(|(v, counts)| (name(v), counts))
                .collect(),
            baseline: guardrail
                .baseline()
                .zip(baseline)
                .map(|(v, c)| (name(v), c)),
            likelihood_ratio: guardrail.test().likelihood_ratio,
            tripped: guardrail.tripped(),
        }
    }
}

/// Gives each guardrail of `new` that `old` defines the same way (same flag, id, watched
/// and baseline variant names, bound) the evidence gathered under `old`.
pub(crate) fn carry_evidence(new: &mut Plan, old: &Plan) {
    for flag in new.flags.iter_mut().filter(|f| !f.guardrails.is_empty()) {
        let Some(before) = old
            .index
            .get(&flag.name)
            .and_then(|i| old.flags.get(i as usize))
        else {
            continue;
        };
        for guardrail in flag.guardrails.iter_mut() {
            if let Some(kept) = before
                .guardrails
                .iter()
                .find(|g| g.definition == guardrail.definition)
            {
                guardrail.evidence = Arc::clone(&kept.evidence);
            }
        }
    }
}
