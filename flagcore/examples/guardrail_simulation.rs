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
}
