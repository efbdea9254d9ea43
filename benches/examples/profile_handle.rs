//! As `profile`, through a `FlagHandle` instead of the flag's name: `profile_handle FLAG
//! [N]` with a flag of the evaluate bench. A binary of its own, so that neither loop
//! changes how the other is compiled.

use flagcore::{EvaluationContext, FlagHandle, Store};

fn main() {
    let mut args = std::env::args().skip(1);
    let flag = args.next().unwrap_or_else(|| "static".to_owned());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let store = match Store::from_bytes(flagcore_benches::shapes_snapshot().as_bytes()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let handle = FlagHandle::new(Box::leak(flag.into_boxed_str()));
    let ctx = EvaluationContext::new("user-17").with_attributes(&flagcore_benches::ATTRIBUTES);
    let mut on = 0u64;
    for _ in 0..n {
        on += u64::from(store.bool(std::hint::black_box(&handle), &ctx, false));
    }
    println!("{}: {on} of {n} on", handle.name());
}
