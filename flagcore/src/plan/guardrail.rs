//! A flag's compiled guardrails: what each watches and bounds, how an observation
//! becomes evidence, and the kill reason that carries it.

use std::fmt::Write;
use std::sync::Arc;

use crate::document::Bound;
use crate::runtime::evidence::{sequential_test, Counts, Evidence, Observation, Verdict};

impl Bound {
    /// Whether `observation` counts as a bad event under this bound, or `None` when it
    /// says nothing about it (no latency for a latency bound).
    #[inline]
    fn event(&self, observation: &Observation) -> Option<bool> {
        match self {
            Bound::ErrorIncrease { .. } | Bound::ErrorRate { .. } => Some(observation.error),
            Bound::Latency { max_ms, .. } => observation
                .latency
                .map(|latency| latency.as_secs_f64() * 1000.0 > *max_ms),
        }
    }

    /// The largest acceptable event rate of the watched variants (beyond the baseline's,
    /// for [`Bound::ErrorIncrease`]).
    fn margin(&self) -> f64 {
        match self {
            Bound::ErrorIncrease { max_increase, .. } => *max_increase,
            Bound::ErrorRate { max } => *max,
            Bound::Latency { percentile, .. } => 1.0 - percentile / 100.0,
        }
    }
}

/// A compiled guardrail of a flag.
#[derive(Debug)]
pub(crate) struct GuardrailPlan {
    pub id: Box<str>,
    /// Watched variants, by index in the flag.
    pub watch: Box<[u32]>,
    pub bound: Bound,
    /// The definition as text (id, variant names, bound), to tell whether a new snapshot
    /// keeps the guardrail as it was and may keep its evidence.
    pub definition: Box<str>,
    pub evidence: Arc<Evidence>,
}

impl GuardrailPlan {
    pub(crate) fn new(id: String, watch: Vec<u32>, bound: Bound, names: &[Box<str>]) -> Self {
        let name = |v: u32| names.get(v as usize).map_or("?", |n| &**n);
        let mut definition = format!("{id}\nwatch");
        for v in &watch {
            definition.push(' ');
            definition.push_str(name(*v));
        }
        let _ = match bound {
            Bound::ErrorIncrease {
                baseline,
                max_increase,
            } => write!(definition, "\nbaseline {} +{max_increase}", name(baseline)),
            Bound::ErrorRate { max } => write!(definition, "\nerrors {max}"),
            Bound::Latency { percentile, max_ms } => {
                write!(definition, "\nlatency p{percentile} {max_ms}")
            }
        };
        let arms = watch.len() + usize::from(matches!(bound, Bound::ErrorIncrease { .. }));
        GuardrailPlan {
            id: id.into_boxed_str(),
            watch: watch.into_boxed_slice(),
            bound,
            definition: definition.into_boxed_str(),
            evidence: Evidence::new(arms),
        }
    }

    pub(crate) fn baseline(&self) -> Option<u32> {
        match self.bound {
            Bound::ErrorIncrease { baseline, .. } => Some(baseline),
            _ => None,
        }
    }

    /// Adds an observation of `variant`; returns true when it makes the guardrail trip
    /// (once: later calls return false).
    #[inline]
    pub(crate) fn observe(&self, variant: u32, observation: &Observation) -> bool {
        let arm = match self.watch.iter().position(|w| *w == variant) {
            Some(i) => i,
            None if self.baseline() == Some(variant) => self.watch.len(),
            None => return false,
        };
        let Some(event) = self.bound.event(observation) else {
            return false;
        };
        self.evidence.record(arm, event);
        if self.evidence.tripped() || !self.test().trips {
            return false;
        }
        // Only the observation that flips the flag reports the trip.
        self.evidence.trip()
    }

    /// The watched variants' counts together, and the baseline's.
    pub(crate) fn counts(&self) -> (Counts, Option<Counts>) {
        let watched = self.evidence.counts(0..self.watch.len());
        (watched, self.evidence.arm(self.watch.len()))
    }

    /// Each watched variant's counts, in `watch` order.
    pub(crate) fn watched_counts(&self) -> impl Iterator<Item = (u32, Counts)> + '_ {
        self.watch
            .iter()
            .enumerate()
            .map(|(i, v)| (*v, self.evidence.arm(i).unwrap_or_default()))
    }

    pub(crate) fn tripped(&self) -> bool {
        self.evidence.tripped()
    }

    /// The sequential test on the evidence so far.
    pub(crate) fn test(&self) -> Verdict {
        let (watched, baseline) = self.counts();
        sequential_test(self.bound.margin(), watched, baseline)
    }

    /// The kill reason that carries the evidence, e.g.
    /// `guardrail errors: 5.3% vs 1.0% errors, 1,840 vs 34,960 observations (max_increase 0.01)`.
    pub(crate) fn reason(&self) -> String {
        let (watched, baseline) = self.counts();
        let percent = |c: Counts| c.rate() * 100.0;
        match (self.bound, baseline) {
            (Bound::ErrorIncrease { max_increase, .. }, Some(baseline)) => format!(
                "guardrail {}: {:.1}% vs {:.1}% errors, {} vs {} observations (max_increase {max_increase})",
                self.id,
                percent(watched),
                percent(baseline),
                thousands(watched.observations),
                thousands(baseline.observations)
            ),
            (Bound::Latency { percentile, max_ms }, _) => format!(
                "guardrail {}: {:.1}% slower than {max_ms} ms, {} observations (p{percentile} allows {:.1}%)",
                self.id,
                percent(watched),
                thousands(watched.observations),
                100.0 - percentile
            ),
            (bound, _) => format!(
                "guardrail {}: {:.1}% errors, {} observations (max_error_rate {})",
                self.id,
                percent(watched),
                thousands(watched.observations),
                bound.margin()
            ),
        }
    }
}

/// `34960` as `34,960`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1840), "1,840");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
