//! A fixed loop over one flag of the flagd bench document (`benches/support/flagd.json`),
//! for `valgrind --tool=callgrind`: `profile_flagd FLAG [N] [native]`, the flag evaluated
//! from the flagd document, or with `native` from its conversion by `flagcore import flagd`.

use flagcore::{EvaluationContext, Store, Value};

const FLAGD: &str = include_str!("../support/flagd.json");

const ATTRIBUTES: [(&str, Value<'static>); 4] = [
    ("user.name", Value::String("jack")),
    ("app_version", Value::String("2.5.1")),
    ("tier", Value::String("premium")),
    ("score", Value::Int(95)),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let flag = args.next().unwrap_or_else(|| "if-chain".to_owned());
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let document = match args.next().as_deref() {
        Some("native") => match flagcore::flagd::to_native(&[FLAGD.as_bytes()], 1) {
            Ok(conversion) => conversion.snapshot,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        },
        _ => FLAGD.to_owned(),
    };
    let store = match Store::from_bytes(document.as_bytes()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let ctx = EvaluationContext::new("user-17").with_attributes(&ATTRIBUTES);
    let snapshot = store.snapshot();
    let mut served = 0u64;
    for _ in 0..n {
        let details = snapshot.string_details(std::hint::black_box(&flag), &ctx, "?");
        served += u64::from(details.variant.is_some());
        let details = snapshot.bool_details(std::hint::black_box(&flag), &ctx, false);
        served += u64::from(details.variant.is_some());
    }
    println!("{flag}: {served} of {} served a variant", 2 * n);
}
