//! Loads the generated 10,000-flag, 1,000-segment snapshot once, for profiling the loader
//! with `valgrind --tool=callgrind`.

fn main() {
    let doc = flagcore_benches::generated_snapshot(10_000, 1_000);
    let started = std::time::Instant::now();
    match flagcore::Store::from_bytes(doc.as_bytes()) {
        Ok(store) => println!(
            "version {:?} loaded in {:?} ({} bytes)",
            store.version(),
            started.elapsed(),
            doc.len()
        ),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
