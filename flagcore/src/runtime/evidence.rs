//! Guardrail evidence: observations and bad events per compared variant, in atomics, and
//! the sequential test that decides on them (docs/format.md §2.13).
//!
//! The test is a mixture sequential probability ratio test (mSPRT) on the normal
//! approximation of the difference of two event rates (or of one rate and its bound): its
//! statistic is a martingale under the null hypothesis at its boundary, so checking it
//! after every observation keeps the chance of a false trip below [`ALPHA`], unlike a
//! fixed-sample test checked again and again.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    pub(crate) fn rate(self) -> f64 {
        if self.observations == 0 {
            0.0
        } else {
            self.events as f64 / self.observations as f64
        }
    }

    pub(crate) fn add(self, other: Counts) -> Counts {
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
    pub(crate) fn new(arms: usize) -> Arc<Evidence> {
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

    /// Adds an observation to arm `arm`: a bad `event`, or not.
    #[inline]
    pub(crate) fn record(&self, arm: usize, event: bool) {
        if let Some(arm) = self.arms.get(arm) {
            arm.observations.fetch_add(1, Ordering::Relaxed);
            if event {
                arm.events.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counts of the arms in `arms`, added up.
    pub(crate) fn counts(&self, arms: std::ops::Range<usize>) -> Counts {
        self.arms
            .get(arms)
            .unwrap_or_default()
            .iter()
            .fold(Counts::default(), |sum, arm| sum.add(arm.counts()))
    }

    /// The counts of arm `arm`, if there is one.
    pub(crate) fn arm(&self, arm: usize) -> Option<Counts> {
        self.arms.get(arm).map(Arm::counts)
    }

    /// Whether the guardrail has tripped since the evidence was last reset.
    pub(crate) fn tripped(&self) -> bool {
        self.tripped.load(Ordering::Acquire)
    }

    /// Marks the guardrail tripped; true for the one caller that changed it.
    pub(crate) fn trip(&self) -> bool {
        !self.tripped.swap(true, Ordering::AcqRel)
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
pub(crate) fn sequential_test(margin: f64, watched: Counts, baseline: Option<Counts>) -> Verdict {
    let not_yet = Verdict {
        trips: false,
        likelihood_ratio: 0.0,
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_excess_trips_and_a_healthy_variant_does_not() {
        let margin = 0.01;
        let counts = |observations, events| Counts {
            observations,
            events,
        };
        let bad = sequential_test(margin, counts(3_000, 150), Some(counts(57_000, 570)));
        assert!(bad.trips, "{bad:?}");
        let healthy = sequential_test(margin, counts(3_000, 30), Some(counts(57_000, 570)));
        assert!(!healthy.trips, "{healthy:?}");
        let early = sequential_test(margin, counts(99, 99), Some(counts(57_000, 570)));
        assert!(!early.trips, "too few observations");
    }

    #[test]
    fn every_request_failing_trips_though_its_rate_has_no_variance() {
        let counts = |observations, events| Counts {
            observations,
            events,
        };
        assert!(sequential_test(0.01, counts(200, 200), None).trips);
        assert!(sequential_test(0.01, counts(200, 200), Some(counts(200, 0))).trips);
    }
}
