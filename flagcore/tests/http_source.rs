//! The HTTP source against a real HTTP server on 127.0.0.1: ETags, faults (server down,
//! 500s, a slow answer past the timeout, a truncated body, an oversized body, an invalid
//! snapshot, a stale version), recovery, kills across reloads and restarts.

#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/common.rs"]
mod common;
#[path = "support/http_server.rs"]
mod http_server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{f, snapshot, temp_dir, wait_until};
use flagcore::source::{DiskCache, HttpOptions, HttpSource, Outcome, SourceErrorKind, Status};
use flagcore::{Reason, Store};
use http_server::{Fault, TestServer};

const LIMIT: Duration = Duration::from_secs(5);

/// Fast polls, short timeouts and backoffs, so that each fault shows within milliseconds.
fn fast() -> HttpOptions {
    HttpOptions::new()
        .interval(Duration::from_millis(30))
        .connect_timeout(Duration::from_millis(300))
        .read_timeout(Duration::from_millis(300))
        .backoff(Duration::from_millis(10), Duration::from_millis(60))
}

#[test]
fn polls_with_if_none_match_and_a_304_parses_nothing() {
    let server = TestServer::start(&snapshot(1, true, 10));
    let store = Arc::new(Store::new());
    let source = HttpSource::start(Arc::clone(&store), server.url(), fast()).unwrap();
    assert_eq!(f(&store), 10, "start() makes the first poll");
    let status = source.status();
    assert_eq!(status.version, Some(1));
    assert_eq!(
        status.last_outcome,
        Some(Outcome::Loaded { version: Some(1) })
    );
    wait_until(LIMIT, "three 304s", || source.status().unchanged >= 3);

    let requests = server.requests();
    assert_eq!(requests[0].if_none_match, None);
    assert!(requests[1..]
        .iter()
        .all(|r| r.if_none_match.as_deref() == Some("\"g1\"") && r.status == 304));
    assert_eq!(source.status().loads, 1, "a 304 loads nothing");

    server.set_body(&snapshot(2, true, 20));
    // The store swaps first, then the status records it.
    wait_until(LIMIT, "version 2", || source.status().version == Some(2));
    assert_eq!(f(&store), 20);
}

#[test]
fn an_auth_header_is_sent_and_the_password_of_a_url_is_not_shown() {
    let server = TestServer::start(&snapshot(1, true, 10));
    let url = server.url().replace("http://", "http://ops:hunter2@");
    let store = Arc::new(Store::new());
    let source = HttpSource::start(Arc::clone(&store), url, fast().bearer_token("t0ken")).unwrap();
    assert_eq!(
        server.requests()[0].authorization.as_deref(),
        Some("Bearer t0ken")
    );
    assert!(!source.status().source.contains("hunter2"));
    assert!(!format!("{source:?}").contains("hunter2"));
}

/// Puts the server in `fault`, waits until the source reports a failure of `kind` while
/// the store keeps serving `serving`, then lifts the fault with version `next` and waits
/// for the recovery.
fn fault_then_recover(
    server: &mut TestServer,
    store: &Store,
    source: &HttpSource,
    fault: impl FnOnce(&mut TestServer),
    kind: SourceErrorKind,
    next: u64,
) {
    let failures_before = source.status().failures;
    fault(server);
    wait_until(LIMIT, &format!("a {kind:?} failure"), || {
        let status = source.status();
        status.failures > failures_before
            && status.consecutive_failures > 0
            && status.last_error.as_ref().map(|e| e.kind()) == Some(kind)
    });
    let serving = store.version();
    assert_eq!(
        f(store),
        serving.unwrap() as i64 * 10,
        "{kind:?}: the last good snapshot serves"
    );
    assert_eq!(source.status().last_outcome, Some(Outcome::Failed));

    server.up();
    server.set_fault(Fault::None);
    server.set_body(&snapshot(next, true, next as i64 * 10));
    wait_until(LIMIT, &format!("recovery from {kind:?}"), || {
        source.status().version == Some(next)
    });
    assert_eq!(store.version(), Some(next));
    let status = source.status();
    assert_eq!(status.consecutive_failures, 0);
    assert_eq!(status.version, Some(next));
    assert!(status.last_success.unwrap() > status.last_error.as_ref().unwrap().at());
}

#[test]
fn every_fault_keeps_the_last_good_snapshot_and_the_source_recovers() {
    let mut server = TestServer::start(&snapshot(1, true, 10));
    let store = Arc::new(Store::new());
    let heard = Arc::new(Mutex::new(Vec::<Status>::new()));
    let log = Arc::clone(&heard);
    let source = HttpSource::start(
        Arc::clone(&store),
        server.url(),
        fast()
            .max_body_bytes(4096)
            .on_status(move |s| log.lock().unwrap().push(s.clone())),
    )
    .unwrap();
    assert_eq!(f(&store), 10);

    type Break = Box<dyn FnOnce(&mut TestServer)>;
    let cases: Vec<(Break, SourceErrorKind)> = vec![
        (
            Box::new(|s| s.set_fault(Fault::Status(500))),
            SourceErrorKind::HttpStatus(500),
        ),
        (
            Box::new(|s| s.set_fault(Fault::Status(404))),
            SourceErrorKind::HttpStatus(404),
        ),
        (
            Box::new(|s| s.set_fault(Fault::Slow(Duration::from_millis(1500)))),
            SourceErrorKind::Timeout,
        ),
        (
            // A new document, so that the answer is a 200, cut short.
            Box::new(|s| {
                s.set_fault(Fault::Truncated);
                s.set_body(&snapshot(50, true, 500));
            }),
            SourceErrorKind::Transport,
        ),
        (Box::new(|s| s.down()), SourceErrorKind::Connect),
        (
            Box::new(|s| s.set_body(br#"{"version": 99, "flags": {"f": {}}}"#)),
            SourceErrorKind::InvalidSnapshot,
        ),
        (
            Box::new(|s| s.set_body(&vec![b' '; 5000])),
            SourceErrorKind::TooLarge,
        ),
    ];
    for (i, (fault, kind)) in cases.into_iter().enumerate() {
        fault_then_recover(&mut server, &store, &source, fault, kind, i as u64 + 2);
    }

    // The callback heard each failure and each recovery.
    let heard = heard.lock().unwrap();
    let failed = heard
        .iter()
        .filter(|s| s.last_outcome == Some(Outcome::Failed))
        .count();
    assert!(failed >= 7, "{failed}");
    let codes: Vec<&str> = heard
        .iter()
        .filter_map(|s| s.last_error.as_ref().map(|e| e.code()))
        .collect();
    for code in [
        "http_status",
        "timeout",
        "transport",
        "connect",
        "invalid_snapshot",
        "too_large",
    ] {
        assert!(codes.contains(&code), "{code} not in {codes:?}");
    }
}

#[test]
fn a_stale_version_is_skipped_not_a_failure() {
    let server = TestServer::start(&snapshot(5, true, 50));
    let store = Arc::new(Store::new());
    let source = HttpSource::start(Arc::clone(&store), server.url(), fast()).unwrap();
    server.set_body(&snapshot(4, true, 40));
    wait_until(LIMIT, "the stale version skipped", || {
        source.status().skipped > 0
    });
    let status = source.status();
    assert_eq!(
        status.last_outcome,
        Some(Outcome::Skipped {
            offered: 4,
            current: 5
        })
    );
    assert_eq!((status.failures, status.consecutive_failures), (0, 0));
    assert!(status.last_error.is_none());
    assert_eq!(f(&store), 50);
    // The stale document's ETag is remembered: it is not fetched and parsed again.
    wait_until(LIMIT, "a 304 for the stale document", || {
        server.requests().last().unwrap().status == 304
    });
    server.set_body(&snapshot(6, true, 60));
    wait_until(LIMIT, "version 6", || f(&store) == 60);
}

#[test]
fn a_cold_start_with_the_server_down_waits_and_then_loads() {
    let mut server = TestServer::start(&snapshot(1, true, 10));
    server.down();
    let store = Arc::new(Store::new());
    let source = HttpSource::start(Arc::clone(&store), server.url(), fast()).unwrap();
    assert_eq!(store.version(), None);
    let status = source.status();
    assert_eq!(status.last_error.unwrap().kind(), SourceErrorKind::Connect);
    assert!(!status.serving_cache);
    server.up();
    wait_until(LIMIT, "the first load", || f(&store) == 10);
}

#[test]
fn a_kill_survives_reloads_and_a_restart_with_the_disk_cache() {
    let dir = temp_dir("http-kill");
    let cache = DiskCache::new(&dir);
    let mut server = TestServer::start(&snapshot(1, true, 10));
    {
        let store = Arc::new(Store::new());
        let _source = HttpSource::start(
            Arc::clone(&store),
            server.url(),
            fast().cache(cache.clone()),
        )
        .unwrap();
        assert_eq!(f(&store), 10);
        store.kill("f", "INC-1: errors");
        assert_eq!(f(&store), 0);
        server.set_body(&snapshot(2, true, 20));
        wait_until(LIMIT, "version 2", || store.version() == Some(2));
        let view = store.snapshot();
        let details = view.int_details("f", &common::CTX, -1);
        assert_eq!((details.value, details.reason), (0, Reason::Disabled));
        // The process dies here (the source and the store are dropped).
    }
    assert_eq!(
        std::fs::read(cache.snapshot_path()).unwrap(),
        snapshot(2, true, 20)
    );

    // Restart while the server is down: the cached snapshot serves, the kill holds.
    server.down();
    let store = Arc::new(Store::new());
    let source = HttpSource::start(
        Arc::clone(&store),
        server.url(),
        fast().cache(cache.clone()),
    )
    .unwrap();
    assert_eq!(store.version(), Some(2));
    assert_eq!(f(&store), 0, "the kill came back with the cache");
    assert_eq!(store.kills()[0].reason, "INC-1: errors");
    let status = source.status();
    assert!(status.serving_cache);
    assert_eq!(status.version, Some(2));
    assert_eq!(status.last_error.unwrap().kind(), SourceErrorKind::Connect);

    // The server comes back with news: loaded, still killed; reviving is persisted too.
    server.set_body(&snapshot(3, true, 30));
    server.up();
    wait_until(LIMIT, "version 3", || source.status().version == Some(3));
    assert!(!source.status().serving_cache);
    assert_eq!(f(&store), 0);
    store.revive("f");
    assert_eq!(f(&store), 30);
    assert!(cache.load_kills().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dropping_the_source_stops_polling() {
    let server = TestServer::start(&snapshot(1, true, 10));
    let store = Arc::new(Store::new());
    let source = HttpSource::start(Arc::clone(&store), server.url(), fast()).unwrap();
    wait_until(LIMIT, "a few polls", || server.requests().len() >= 3);
    drop(source);
    let after = server.requests().len();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.requests().len(), after);
}

#[test]
fn poll_now_does_not_wait_for_the_interval() {
    let server = TestServer::start(&snapshot(1, true, 10));
    let store = Arc::new(Store::new());
    let source = HttpSource::start(
        Arc::clone(&store),
        server.url(),
        fast().interval(Duration::from_secs(3600)),
    )
    .unwrap();
    server.set_body(&snapshot(2, true, 20));
    source.poll_now();
    wait_until(LIMIT, "version 2", || f(&store) == 20);
}
