//! The guardrail simulation of the progressive-delivery design: 5% of traffic on the
//! watched variant `on`, 95% on the baseline `off` at a 1% error rate, a guardrail with
//! `max_increase` 0.01, observations fed to `Store::observe` one by one. Seeded, so every
//! run is repeatable. Shared by the test (`tests/guardrails.rs`, a smaller run) and the
//! example that prints the full figures (`examples/guardrail_simulation.rs`).

// A broken fixture should stop the simulation at once.
#![allow(clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use flagcore::{Observation, Store};

/// The snapshot every run loads.
pub const SNAPSHOT: &str = r#"{"version": 1, "flags": {"checkout": {
  "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
  "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 5}, {"variant": "off", "weight": 95}]}},
  "guardrails": [{"id": "errors", "watch": ["on"], "baseline": "off", "max_increase": 0.01}]}}}"#;

/// Share of observations on the watched variant.
pub const WATCHED_SHARE: f64 = 0.05;
/// The baseline's error rate.
pub const BASELINE_ERRORS: f64 = 0.01;

/// What one scenario gave over its runs.
#[derive(Debug)]
pub struct Outcome {
    pub trips: u32,
    /// For each run that tripped, the watched observations it took, sorted.
    pub watched_to_trip: Vec<u64>,
}

impl Outcome {
    /// The `q`-quantile (0..=1) of the watched observations to a trip, if any run tripped.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.watched_to_trip.len();
        (n > 0).then(|| self.watched_to_trip[((n - 1) as f64 * q).round() as usize])
    }
}

/// SplitMix64: small, seedable, and good enough to draw Bernoulli trials.
pub struct Random(pub u64);

impl Random {
    /// A uniform draw from [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `runs` runs of up to `observations` observations each, with the watched variant's
/// error rate `watched_errors`; a run stops when the guardrail trips.
pub fn simulate(runs: u32, observations: u64, watched_errors: f64, seed: u64) -> Outcome {
    let mut outcome = Outcome {
        trips: 0,
        watched_to_trip: Vec::new(),
    };
    for run in 0..runs {
        let store =
            Store::from_bytes(SNAPSHOT.as_bytes()).expect("the simulation snapshot is valid");
        let tripped = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&tripped);
        store.on_guardrail_trip(move |_| seen.store(true, Ordering::Relaxed));
        let mut random = Random(seed ^ u64::from(run).wrapping_mul(0xA24B_AED4_963E_E407));
        let mut watched = 0u64;
        for _ in 0..observations {
            let (variant, error_rate) = if random.next_f64() < WATCHED_SHARE {
                watched += 1;
                ("on", watched_errors)
            } else {
                ("off", BASELINE_ERRORS)
            };
            let observation = if random.next_f64() < error_rate {
                Observation::error()
            } else {
                Observation::success()
            };
            store.observe("checkout", variant, observation);
            if tripped.load(Ordering::Relaxed) {
                outcome.trips += 1;
                outcome.watched_to_trip.push(watched);
                break;
            }
        }
    }
    outcome.watched_to_trip.sort_unstable();
    outcome
}
