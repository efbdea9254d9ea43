//! A fixed loop over one flag, for `valgrind --tool=callgrind` (instruction counts are
//! repeatable on a noisy machine): `profile FLAG [N]`.

use flagcore::{EvaluationContext, Store, Value};

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
    let attrs = [
        ("email", Value::from("dana@example.com")),
        ("beta_opt_in", Value::Bool(true)),
        ("country", Value::from("c999")),
        ("account_id", Value::from("acct-1027")),
        (
            "user_agent",
            Value::from("Mozilla/5.0 (Linux; Android 14) Mobile"),
        ),
        ("app_version", Value::from("2.5.1")),
    ];
    let ctx = EvaluationContext::new("user-17").with_attributes(&attrs);
    let mut on = 0u64;
    for _ in 0..n {
        on += u64::from(store.bool(std::hint::black_box(&flag), &ctx, false));
    }
    println!("{flag}: {on} of {n} on");
}
