//! A fixed loop over one flag, for `valgrind --tool=callgrind` (instruction counts are
//! repeatable on a noisy machine): `profile FLAG [N]`.

use flagcore::{EvaluationContext, Store};

fn main() {
    let mut args = std::env::args().skip(1);
    let flag = args.next().unwrap_or_else(|| "three-rules".to_owned());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let store = match Store::from_bytes(flagcore_benches::shapes_snapshot().as_bytes()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let ctx = EvaluationContext::new("user-17").with_attributes(&flagcore_benches::ATTRIBUTES);
    let mut on = 0u64;
    for _ in 0..n {
        on += u64::from(store.bool(std::hint::black_box(&flag), &ctx, false));
    }
    println!("{flag}: {on} of {n} on");
}
