//! How long a kill takes to reach evaluations: from the moment a file is replaced (or a
//! server starts serving the new document) to the first evaluation serving the
//! off_variant, for each path an operator has.
//!
//! ```text
//! cargo run --release -p flagcore --features file,http --example kill_propagation [TRIALS]
//! ```
//!
//! Each change is made at a random moment of the poll cycle, so the polling figures
//! spread over the whole interval (expect about half an interval on average).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/common.rs"]
mod common;
#[path = "../tests/support/http_server.rs"]
mod http_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{f, replace, snapshot, temp_dir};
use flagcore::source::{FileOptions, FileSource, HttpOptions, HttpSource, KillsFileSource};
use flagcore::Store;

const POLL: Duration = Duration::from_secs(1);

fn main() {
    let trials: usize = std::env::args()
        .nth(1)
        .map_or(10, |n| n.parse().expect("TRIALS is a number"));
    println!("{trials} trials each; time from the change to evaluations serving off_variant");
    println!("{:<52} {:>9} {:>9} {:>9}", "path", "min", "median", "max");
    report(
        "fleet: snapshot file, watcher (debounce 50 ms)",
        fleet_file(trials, FileOptions::new(), false),
    );
    report(
        "fleet: snapshot file, watcher (debounce 5 ms)",
        fleet_file(
            trials,
            FileOptions::new().debounce(Duration::from_millis(5)),
            false,
        ),
    );
    report(
        "fleet: snapshot file, polled every 1 s",
        fleet_file(trials, FileOptions::new().poll_every(POLL), true),
    );
    report(
        "fleet: snapshot over HTTP, polled every 1 s",
        fleet_http(trials),
    );
    report(
        "host: kills file, watcher (debounce 50 ms)",
        host_file(trials, FileOptions::new(), false),
    );
    report(
        "host: kills file, polled every 1 s",
        host_file(trials, FileOptions::new().poll_every(POLL), true),
    );
}

fn report(path: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    println!(
        "{path:<52} {:>9} {:>9} {:>9}",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

/// Waits a random part of a poll interval, so that changes land anywhere in the cycle.
fn random_phase(polled: bool) {
    if polled {
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        std::thread::sleep(Duration::from_millis(random % 1000));
    }
}

fn time_until_killed(store: &Store) -> Duration {
    let start = Instant::now();
    while f(store) != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the kill never landed"
        );
        std::thread::sleep(Duration::from_micros(50));
    }
    start.elapsed()
}

fn fleet_file(trials: usize, options: FileOptions, polled: bool) -> Vec<Duration> {
    let dir = temp_dir("propagation-file");
    let path = dir.join("flags.json");
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    let store = Arc::new(Store::new());
    let source = FileSource::start(Arc::clone(&store), &path, options).unwrap();
    let mut version = 1;
    let times = (0..trials)
        .map(|_| {
            version += 1;
            replace(&path, &snapshot(version, true, 10));
            while f(&store) != 10 {
                std::thread::sleep(Duration::from_millis(1));
            }
            random_phase(polled);
            version += 1;
            replace(&path, &snapshot(version, false, 10));
            time_until_killed(&store)
        })
        .collect();
    drop(source);
    let _ = std::fs::remove_dir_all(dir);
    times
}

fn fleet_http(trials: usize) -> Vec<Duration> {
    let server = http_server::TestServer::start(&snapshot(1, true, 10));
    let store = Arc::new(Store::new());
    let source = HttpSource::start(
        Arc::clone(&store),
        server.url(),
        HttpOptions::new().interval(POLL),
    )
    .unwrap();
    let mut version = 1;
    let times = (0..trials)
        .map(|_| {
            version += 1;
            server.set_body(&snapshot(version, true, 10));
            while f(&store) != 10 {
                std::thread::sleep(Duration::from_millis(1));
            }
            random_phase(true);
            version += 1;
            server.set_body(&snapshot(version, false, 10));
            time_until_killed(&store)
        })
        .collect();
    drop(source);
    times
}

fn host_file(trials: usize, options: FileOptions, polled: bool) -> Vec<Duration> {
    let dir = temp_dir("propagation-kills");
    let kills_path = dir.join("kills.json");
    let store = Arc::new(Store::from_bytes(&snapshot(1, true, 10)).unwrap());
    let source = KillsFileSource::start(Arc::clone(&store), &kills_path, options).unwrap();
    let times = (0..trials)
        .map(|i| {
            replace(&kills_path, b"[]");
            while f(&store) != 10 {
                std::thread::sleep(Duration::from_millis(1));
            }
            random_phase(polled);
            let list = format!(r#"[{{"flag": "f", "reason": "trial {i}"}}]"#);
            replace(&kills_path, list.as_bytes());
            time_until_killed(&store)
        })
        .collect();
    drop(source);
    let _ = std::fs::remove_dir_all(dir);
    times
}
