//! The file source and the kills file on a real file system: reloads on change (watcher
//! and polling), half-written files, kills across reloads and restarts, and how fast a
//! kill reaches evaluations.

#![cfg(feature = "file")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/common.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{f, replace, snapshot, temp_dir, wait_until};
use flagcore::source::{
    DiskCache, FileOptions, FileSource, KillsFileSource, Outcome, SourceErrorKind, Status,
    WatchMode,
};
use flagcore::Store;

const LIMIT: Duration = Duration::from_secs(5);

#[test]
fn the_watcher_reloads_a_file_replaced_by_rename_or_rewritten_in_place() {
    let dir = temp_dir("reload");
    let path = dir.join("flags.json");
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    let store = Arc::new(Store::new());
    let source = FileSource::start(Arc::clone(&store), &path, FileOptions::new()).unwrap();
    assert_eq!(source.watch_mode(), WatchMode::Native);
    assert_eq!(f(&store), 10, "start() loads the file");

    replace(&path, &snapshot(2, true, 20));
    wait_until(LIMIT, "the renamed file", || f(&store) == 20);
    std::fs::write(&path, snapshot(3, true, 30)).unwrap();
    wait_until(LIMIT, "the rewritten file", || f(&store) == 30);
    wait_until(LIMIT, "the status", || source.status().version == Some(3));
    let status = source.status();
    assert_eq!((status.loads, status.failures), (3, 0));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_half_written_file_never_replaces_the_serving_snapshot() {
    let dir = temp_dir("half-written");
    let path = dir.join("flags.json");
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    let store = Arc::new(Store::new());
    let heard = Arc::new(Mutex::new(Vec::<Status>::new()));
    let log = Arc::clone(&heard);
    let source = FileSource::start(
        Arc::clone(&store),
        &path,
        FileOptions::new().on_status(move |s| log.lock().unwrap().push(s.clone())),
    )
    .unwrap();

    // A writer that stops half-way (the operator's editor crashed, a copy was cut short).
    let full = snapshot(2, true, 20);
    let mut out = std::fs::File::create(&path).unwrap();
    out.write_all(&full[..full.len() / 2]).unwrap();
    out.sync_all().unwrap();
    wait_until(LIMIT, "the invalid snapshot reported", || {
        source.status().consecutive_failures > 0
    });
    let error = source.status().last_error.unwrap();
    assert_eq!(error.kind(), SourceErrorKind::InvalidSnapshot);
    assert!(error.message().contains("line"), "{error}");
    assert_eq!(f(&store), 10, "the last good snapshot serves");

    // The writer finishes: the next change loads.
    out.write_all(&full[full.len() / 2..]).unwrap();
    out.sync_all().unwrap();
    wait_until(LIMIT, "the complete file", || f(&store) == 20);
    wait_until(LIMIT, "the recovery reported", || {
        heard.lock().unwrap().last().unwrap().last_outcome
            == Some(Outcome::Loaded { version: Some(2) })
    });
    assert_eq!(source.status().consecutive_failures, 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn polling_follows_changes_too() {
    let dir = temp_dir("polling");
    let path = dir.join("flags.json");
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    let store = Arc::new(Store::new());
    let source = FileSource::start(
        Arc::clone(&store),
        &path,
        FileOptions::new().poll_every(Duration::from_millis(20)),
    )
    .unwrap();
    assert_eq!(
        source.watch_mode(),
        WatchMode::Polling {
            every: Duration::from_millis(20)
        }
    );
    replace(&path, &snapshot(2, true, 20));
    wait_until(LIMIT, "the polled change", || f(&store) == 20);
    // Nothing changes: nothing is read again.
    std::thread::sleep(Duration::from_millis(100));
    let status = source.status();
    assert_eq!((status.loads, status.unchanged, status.failures), (2, 0, 0));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_missing_file_then_created_loads() {
    let dir = temp_dir("missing");
    let path = dir.join("flags.json");
    let store = Arc::new(Store::new());
    let source = FileSource::start(Arc::clone(&store), &path, FileOptions::new()).unwrap();
    assert_eq!(store.version(), None);
    assert_eq!(
        source.status().last_error.unwrap().kind(),
        SourceErrorKind::Io
    );
    replace(&path, &snapshot(1, true, 10));
    wait_until(LIMIT, "the created file", || f(&store) == 10);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_stale_file_is_skipped_not_a_failure() {
    let dir = temp_dir("stale");
    let path = dir.join("flags.json");
    std::fs::write(&path, snapshot(5, true, 50)).unwrap();
    let store = Arc::new(Store::new());
    let source = FileSource::start(Arc::clone(&store), &path, FileOptions::new()).unwrap();
    replace(&path, &snapshot(4, true, 40));
    wait_until(LIMIT, "the skip", || source.status().skipped == 1);
    let status = source.status();
    assert_eq!((status.failures, status.consecutive_failures), (0, 0));
    assert_eq!(f(&store), 50);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_kill_survives_a_file_reload_and_a_restart_with_the_disk_cache() {
    let dir = temp_dir("file-kill");
    let path = dir.join("flags.json");
    let cache = DiskCache::new(dir.join("cache"));
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    {
        let store = Arc::new(Store::new());
        let _source = FileSource::start(
            Arc::clone(&store),
            &path,
            FileOptions::new().cache(cache.clone()),
        )
        .unwrap();
        store.kill("f", "INC-2");
        replace(&path, &snapshot(2, true, 20));
        wait_until(LIMIT, "version 2", || store.version() == Some(2));
        assert_eq!(f(&store), 0, "killed across the reload");
    }
    // The file is broken while the process restarts: the cache serves, with the kill.
    std::fs::write(&path, b"{\"version\": 3, \"fl").unwrap();
    let store = Arc::new(Store::new());
    let source = FileSource::start(
        Arc::clone(&store),
        &path,
        FileOptions::new().cache(cache.clone()),
    )
    .unwrap();
    assert_eq!(store.version(), Some(2));
    assert_eq!(f(&store), 0);
    assert_eq!(store.kills()[0].reason, "INC-2");
    assert!(source.status().serving_cache);
    replace(&path, &snapshot(3, true, 30));
    wait_until(LIMIT, "version 3", || source.status().version == Some(3));
    assert!(!source.status().serving_cache);
    assert_eq!(f(&store), 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_kills_file_kills_revives_only_its_own_and_survives_reloads() {
    let dir = temp_dir("kills-file");
    let path = dir.join("flags.json");
    let kills_path = dir.join("kills.json");
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    let store = Arc::new(Store::new());
    let _source = FileSource::start(Arc::clone(&store), &path, FileOptions::new()).unwrap();

    // A missing kills file kills nothing and is no error.
    let kills =
        KillsFileSource::start(Arc::clone(&store), &kills_path, FileOptions::new()).unwrap();
    assert!(kills.status().last_error.is_none());
    assert!(store.kills().is_empty());

    store.kill("g", "killed through the API");
    replace(
        &kills_path,
        br#"[{"flag": "f", "reason": "INC-3"}, {"flag": "g", "reason": "also"}]"#,
    );
    wait_until(LIMIT, "f killed", || f(&store) == 0);
    let reasons: Vec<String> = store.kills().into_iter().map(|k| k.reason).collect();
    assert_eq!(
        reasons,
        [
            format!("INC-3 [kills file {}]", kills_path.display()),
            "killed through the API".to_owned()
        ]
    );

    replace(&path, &snapshot(2, true, 20));
    wait_until(LIMIT, "version 2", || store.version() == Some(2));
    assert_eq!(f(&store), 0, "a host kill survives a snapshot reload");

    // An invalid kills file changes nothing.
    replace(&kills_path, br#"[{"flag": "f"}]"#);
    wait_until(LIMIT, "the invalid kills file", || {
        kills.status().consecutive_failures > 0
    });
    assert_eq!(
        kills.status().last_error.unwrap().kind(),
        SourceErrorKind::InvalidKills
    );
    assert_eq!(store.kills().len(), 2);

    // Emptied: its own kill is revived, the API's stays.
    replace(&kills_path, b"[]");
    wait_until(LIMIT, "f revived", || f(&store) == 20);
    let kills_left: Vec<String> = store.kills().into_iter().map(|k| k.flag).collect();
    assert_eq!(kills_left, ["g"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// The time from a change on disk to every evaluation serving the off_variant. The
/// figures for the README come from `cargo run --example kill_propagation`; this test
/// keeps them honest with loose bounds.
#[test]
fn kill_propagation_is_fast_with_the_watcher_and_bounded_by_the_poll() {
    let dir = temp_dir("propagation");
    let path = dir.join("flags.json");
    let kills_path = dir.join("kills.json");
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    let store = Arc::new(Store::new());
    let source = FileSource::start(Arc::clone(&store), &path, FileOptions::new()).unwrap();
    let kills =
        KillsFileSource::start(Arc::clone(&store), &kills_path, FileOptions::new()).unwrap();

    // Fleet path: the snapshot says enabled: false.
    let start = Instant::now();
    replace(&path, &snapshot(2, false, 10));
    wait_until(LIMIT, "the fleet kill", || f(&store) == 0);
    let fleet = start.elapsed();
    // Host path: the kills file.
    replace(&path, &snapshot(3, true, 10));
    wait_until(LIMIT, "revived", || f(&store) == 10);
    let start = Instant::now();
    replace(&kills_path, br#"[{"flag": "f", "reason": "now"}]"#);
    wait_until(LIMIT, "the host kill", || f(&store) == 0);
    let host = start.elapsed();
    drop((source, kills));
    eprintln!("kill propagation with the watcher: fleet {fleet:?}, host {host:?}");
    assert!(fleet < Duration::from_millis(1000), "{fleet:?}");
    assert!(host < Duration::from_millis(1000), "{host:?}");

    // Polling every 200 ms: at most a poll interval (and a read) late.
    replace(&kills_path, b"[]");
    let store = Arc::new(Store::new());
    let _source = FileSource::start(
        Arc::clone(&store),
        &path,
        FileOptions::new().poll_every(Duration::from_millis(200)),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    replace(&path, &snapshot(4, false, 10));
    wait_until(LIMIT, "the polled kill", || f(&store) == 0);
    let polled = start.elapsed();
    eprintln!("kill propagation polling every 200 ms: {polled:?}");
    assert!(polled < Duration::from_millis(1200), "{polled:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dropping_a_source_stops_its_thread_and_its_kill_persistence() {
    let dir = temp_dir("drop");
    let path = dir.join("flags.json");
    let cache = DiskCache::new(dir.join("cache"));
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    let store = Arc::new(Store::new());
    let source = FileSource::start(
        Arc::clone(&store),
        &path,
        FileOptions::new().cache(cache.clone()),
    )
    .unwrap();
    source.stop();
    replace(&path, &snapshot(2, true, 20));
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(f(&store), 10);
    store.kill("f", "after the source stopped");
    assert!(cache.load_kills().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_store_reports_the_status_of_every_live_source() {
    let dir = temp_dir("store-status");
    let path = dir.join("flags.json");
    let kills = dir.join("kills.json");
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    std::fs::write(&kills, "[]").unwrap();
    let store = Arc::new(Store::new());
    assert!(flagcore::source::statuses(&store).is_empty());
    let file = FileSource::start(Arc::clone(&store), &path, FileOptions::new()).unwrap();
    let killer = KillsFileSource::start(Arc::clone(&store), &kills, FileOptions::new()).unwrap();
    let statuses = flagcore::source::statuses(&store);
    assert_eq!(statuses.len(), 2);
    assert_eq!(statuses[0], file.status());
    assert_eq!(statuses[0].version, Some(1));
    assert_eq!(statuses[1], killer.status());
    drop(file);
    assert_eq!(
        flagcore::source::statuses(&store),
        vec![killer.status()],
        "a dropped source drops out"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_stopped_source_keeps_its_last_status_and_stops_twice_harmlessly() {
    let dir = temp_dir("stop");
    let path = dir.join("flags.json");
    std::fs::write(&path, snapshot(1, true, 10)).unwrap();
    let store = Arc::new(Store::new());
    let source = FileSource::start(Arc::clone(&store), &path, FileOptions::new()).unwrap();
    source.stop();
    source.stop();
    std::fs::write(&path, snapshot(2, true, 20)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(f(&store), 10, "a stopped source reads nothing more");
    let status = source.status();
    assert_eq!((status.version, status.loads), (Some(1), 1));
}
