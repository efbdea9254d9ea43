//! Guardrails: outcomes the application reports per served variant, a sequential test on
//! them, and the evidence a tripped guardrail's kill carries (docs/format.md §2.13, §5.6).
//!
//! Each guardrail keeps its evidence (observations and errors per variant it compares) in
//! atomics shared by every plan whose guardrail has the same definition, so evidence
//! survives snapshot reloads and a revive can reset it wherever it is read.
//!
//! The test is a mixture sequential probability ratio test (mSPRT) on the normal
//! approximation of the difference of two error rates (or of one rate and its bound): its
//! statistic is a martingale under the null hypothesis at its boundary, so checking it
//! after every observation keeps the chance of a false trip below [`ALPHA`], unlike a
//! fixed-sample test checked again and again.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::plan::{FlagPlan, Plan};
use crate::snapshot::Bound;

/// The chance of a false trip that a guardrail accepts over its whole life.
pub(crate) const ALPHA: f64 = 0.01;
/// Observations of each compared side before a guardrail may trip: the normal
/// approximation is poor on fewer.
pub(crate) const MIN_OBSERVATIONS: u64 = 100;

/// What the application saw after serving a variant, for [`Store::observe`](crate::Store::observe).
///
/// ```
/// use std::time::Duration;
/// use flagcore::Observation;
///
/// let failed = Observation::error();
/// let served = Observation::success().with_latency(Duration::from_millis(42));
/// assert!(failed.error && !served.error);
/// assert_eq!(served.latency, Some(Duration::from_millis(42)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// The request failed.
    pub error: bool,
    /// How long it took, when the application measures it (latency guardrails need it).
    pub latency: Option<Duration>,
}

impl Observation {
    /// A request that succeeded.
    pub const fn success() -> Observation {
        Observation {
            error: false,
            latency: None,
        }
    }

    /// A request that failed.
    pub const fn error() -> Observation {
        Observation {
            error: true,
            latency: None,
        }
    }

    /// The same observation with its latency.
    pub const fn with_latency(self, latency: Duration) -> Observation {
        Observation {
            latency: Some(latency),
            ..self
        }
    }
}

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

/// Observations and bad events (errors, or slow requests) of one variant.
#[derive(Debug, Default)]
struct Arm {
    observations: AtomicU64,
    events: AtomicU64,
}

impl Arm {
    fn counts(&self) -> Counts {
        Counts {
            observations: self.observations.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
        }
    }
}

/// Observations and bad events, as read at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Observations reported.
    pub observations: u64,
    /// Of them, errors (or, for a latency guardrail, requests slower than its bound).
    pub events: u64,
}

impl Counts {
    fn rate(self) -> f64 {
        if self.observations == 0 {
            0.0
        } else {
            self.events as f64 / self.observations as f64
        }
    }

    fn add(self, other: Counts) -> Counts {
        Counts {
            observations: self.observations + other.observations,
            events: self.events + other.events,
        }
    }
}

/// A guardrail's evidence: one arm per watched variant, then the baseline's, and whether
/// it has tripped. Shared by the plans that carry the same definition.
#[derive(Debug)]
pub(crate) struct Evidence {
    arms: Box<[Arm]>,
    tripped: AtomicBool,
}

impl Evidence {
    fn new(arms: usize) -> Arc<Evidence> {
        Arc::new(Evidence {
            arms: (0..arms).map(|_| Arm::default()).collect(),
            tripped: AtomicBool::new(false),
        })
    }

    /// Forgets every observation (an operator revived the flag).
    pub(crate) fn reset(&self) {
        for arm in self.arms.iter() {
            arm.observations.store(0, Ordering::Relaxed);
            arm.events.store(0, Ordering::Relaxed);
        }
        self.tripped.store(false, Ordering::Release);
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
        let (Some(event), Some(arm)) = (self.bound.event(observation), self.evidence.arms.get(arm))
        else {
            return false;
        };
        arm.observations.fetch_add(1, Ordering::Relaxed);
        if event {
            arm.events.fetch_add(1, Ordering::Relaxed);
        }
        if self.evidence.tripped.load(Ordering::Relaxed) || !self.test().trips {
            return false;
        }
        // Only the observation that flips the flag reports the trip.
        !self.evidence.tripped.swap(true, Ordering::AcqRel)
    }

    /// The watched variants' counts together, and the baseline's.
    pub(crate) fn counts(&self) -> (Counts, Option<Counts>) {
        let arms = &self.evidence.arms;
        let watched = arms[..self.watch.len()]
            .iter()
            .fold(Counts::default(), |sum, arm| sum.add(arm.counts()));
        (watched, arms.get(self.watch.len()).map(Arm::counts))
    }

    /// Each watched variant's counts, in `watch` order.
    pub(crate) fn watched_counts(&self) -> impl Iterator<Item = (u32, Counts)> + '_ {
        self.watch
            .iter()
            .zip(self.evidence.arms.iter())
            .map(|(v, arm)| (*v, arm.counts()))
    }

    pub(crate) fn tripped(&self) -> bool {
        self.evidence.tripped.load(Ordering::Acquire)
    }

    /// The sequential test on the evidence so far.
    pub(crate) fn test(&self) -> Verdict {
        let (watched, baseline) = self.counts();
        sequential_test(&self.bound, watched, baseline)
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

/// The outcome of the sequential test at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Verdict {
    /// The evidence that the bound is exceeded is strong enough to act on.
    pub trips: bool,
    /// The mixture likelihood ratio (trips at `1 / ALPHA`); 0 before enough observations.
    pub likelihood_ratio: f64,
}

/// The mSPRT of Johari et al. ("Always valid inference", 2017) with a normal mixing
/// distribution centred on the boundary of the null hypothesis `θ ≤ margin`, where θ is
/// the watched event rate minus the baseline's (or minus nothing without a baseline).
/// Variances are taken where the null is hardest to reject (the watched rate at its
/// bound), so few events early on cannot make the statistic jump.
pub(crate) fn sequential_test(bound: &Bound, watched: Counts, baseline: Option<Counts>) -> Verdict {
    let not_yet = Verdict {
        trips: false,
        likelihood_ratio: 0.0,
    };
    let margin = bound.margin();
    let (estimate, variance) = match baseline {
        Some(baseline) => {
            if watched.observations < MIN_OBSERVATIONS || baseline.observations < MIN_OBSERVATIONS {
                return not_yet;
            }
            // Half an event each way keeps a rate of 0 from claiming zero variance.
            let smoothed = (baseline.events as f64 + 0.5) / (baseline.observations as f64 + 1.0);
            let at_bound = (smoothed + margin).min(1.0);
            (
                watched.rate() - baseline.rate() - 0.5 / watched.observations as f64,
                bernoulli(within(at_bound.max(watched.rate()), watched.observations))
                    / watched.observations as f64
                    + bernoulli(smoothed) / baseline.observations as f64,
            )
        }
        None => {
            if watched.observations < MIN_OBSERVATIONS {
                return not_yet;
            }
            (
                watched.rate() - 0.5 / watched.observations as f64,
                bernoulli(within(margin.max(watched.rate()), watched.observations))
                    / watched.observations as f64,
            )
        }
    };
    let excess = estimate - margin;
    let tau2 = mixing_variance(margin);
    let log_ratio = 0.5 * (variance / (variance + tau2)).ln()
        + tau2 * excess * excess / (2.0 * variance * (variance + tau2));
    Verdict {
        // One-sided: only evidence of a rate above the bound counts.
        trips: excess > 0.0 && log_ratio >= (1.0 / ALPHA).ln(),
        likelihood_ratio: if excess > 0.0 { log_ratio.exp() } else { 0.0 },
    }
}

fn bernoulli(p: f64) -> f64 {
    p * (1.0 - p)
}

/// `p` kept half an event away from 0 and 1 among `n`, so that a rate of 100% (every
/// request failing) still has a variance and the test a finite statistic.
fn within(p: f64, n: u64) -> f64 {
    let half = 0.5 / n as f64;
    p.clamp(half, 1.0 - half)
}

/// The spread of excesses the test is tuned to find quickly: twice the margin, and at
/// least a percentage point.
fn mixing_variance(margin: f64) -> f64 {
    let tau = (2.0 * margin).max(0.01);
    tau * tau
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

    #[test]
    fn a_clear_excess_trips_and_a_healthy_variant_does_not() {
        let bound = Bound::ErrorIncrease {
            baseline: 1,
            max_increase: 0.01,
        };
        let counts = |observations, events| Counts {
            observations,
            events,
        };
        let bad = sequential_test(&bound, counts(3_000, 150), Some(counts(57_000, 570)));
        assert!(bad.trips, "{bad:?}");
        let healthy = sequential_test(&bound, counts(3_000, 30), Some(counts(57_000, 570)));
        assert!(!healthy.trips, "{healthy:?}");
        let early = sequential_test(&bound, counts(99, 99), Some(counts(57_000, 570)));
        assert!(!early.trips, "too few observations");
    }

    #[test]
    fn every_request_failing_trips_though_its_rate_has_no_variance() {
        let counts = |observations, events| Counts {
            observations,
            events,
        };
        let rate = Bound::ErrorRate { max: 0.01 };
        assert!(sequential_test(&rate, counts(200, 200), None).trips);
        let increase = Bound::ErrorIncrease {
            baseline: 1,
            max_increase: 0.01,
        };
        assert!(sequential_test(&increase, counts(200, 200), Some(counts(200, 0))).trips);
    }
}
