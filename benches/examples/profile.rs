//! A fixed loop over one flag, for `valgrind --tool=callgrind` (instruction counts are
//! repeatable on a noisy machine): `profile FLAG [N]`. The flags of the evaluate bench, or
//! with `FLAG` prefixed `peers:` (`peers:country-rollout`), those of the peers bench.

use flagcore::{EvaluationContext, Store};

fn main() {
    let mut args = std::env::args().skip(1);
    let flag = args.next().unwrap_or_else(|| "three-rules".to_owned());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let (snapshot, key, attributes) = match flag.strip_prefix("peers:") {
        Some(_) => (
            flagcore_benches::peers_snapshot(),
            flagcore_benches::PEERS_KEY,
            &flagcore_benches::PEERS_ATTRIBUTES[..],
        ),
        None => (
            flagcore_benches::shapes_snapshot(),
            "user-17",
            &flagcore_benches::ATTRIBUTES[..],
        ),
    };
    let flag = flag.strip_prefix("peers:").unwrap_or(&flag).to_owned();
    let store = match Store::from_bytes(snapshot.as_bytes()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let ctx = EvaluationContext::new(key).with_attributes(attributes);
    let mut on = 0u64;
    for _ in 0..n {
        on += u64::from(store.bool(std::hint::black_box(&flag), &ctx, false));
    }
    println!("{flag}: {on} of {n} on");
}
