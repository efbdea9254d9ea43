//! The full guardrail simulation: 1,000 seeded runs per scenario, printed for
//! `benches/README.md`. `cargo run --release -p flagcore --example guardrail_simulation [RUNS]`.

#[path = "../tests/support/guardrail_simulation.rs"]
mod simulation;

fn main() {
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000);
    println!(
        "{runs} runs per scenario; {:.0}% of traffic watched, baseline errors {:.0}%, max_increase 0.01",
        simulation::WATCHED_SHARE * 100.0,
        simulation::BASELINE_ERRORS * 100.0
    );
    for (name, watched_errors, observations) in [
        ("healthy (watched 1%)", 0.01, 200_000),
        ("at the bound (watched 2%)", 0.02, 200_000),
        ("bad (watched 5%)", 0.05, 200_000),
    ] {
        let started = std::time::Instant::now();
        let outcome = simulation::simulate(runs, observations, watched_errors, 2026);
        let share = f64::from(outcome.trips) * 100.0 / f64::from(runs);
        print!(
            "{name}: tripped in {} of {runs} runs ({share:.1}%)",
            outcome.trips
        );
        if let (Some(p10), Some(p50), Some(p90), Some(max)) = (
            outcome.quantile(0.1),
            outcome.quantile(0.5),
            outcome.quantile(0.9),
            outcome.quantile(1.0),
        ) {
            print!("; watched observations to trip: p10 {p10}, median {p50}, p90 {p90}, max {max}");
        }
        println!(" [{:.1} s]", started.elapsed().as_secs_f64());
    }
    // For comparison: a fixed-sample one-sided z-test at the same 1% level, re-checked
    // after every observation, on the same streams at the bound.
    let naive = (0..runs)
        .filter(|run| naive_test_trips(200_000, 0.02, 2026 + u64::from(*run)))
        .count();
    println!(
        "at the bound, a z-test (one-sided, 1%) re-checked after every observation: tripped in {naive} of {runs} runs ({:.1}%)",
        naive as f64 * 100.0 / f64::from(runs)
    );
}

/// Whether a two-proportion z-test of `watched − baseline > 0.01`, checked after every
/// observation once each side has 100, ever rejects within `observations`.
fn naive_test_trips(observations: u64, watched_errors: f64, seed: u64) -> bool {
    let mut random = simulation::Random(seed);
    let mut uniform = move || random.next_f64();
    let (mut n_w, mut e_w, mut n_b, mut e_b) = (0f64, 0f64, 0f64, 0f64);
    for _ in 0..observations {
        let watched = uniform() < simulation::WATCHED_SHARE;
        let rate = if watched {
            watched_errors
        } else {
            simulation::BASELINE_ERRORS
        };
        let error = f64::from(u8::from(uniform() < rate));
        if watched {
            n_w += 1.0;
            e_w += error;
        } else {
            n_b += 1.0;
            e_b += error;
        }
        if n_w < 100.0 || n_b < 100.0 {
            continue;
        }
        let (p_w, p_b) = (e_w / n_w, e_b / n_b);
        let se = (p_w * (1.0 - p_w) / n_w + p_b * (1.0 - p_b) / n_b).sqrt();
        if se > 0.0 && (p_w - p_b - 0.01) / se > 2.326 {
            return true;
        }
    }
    false
}
