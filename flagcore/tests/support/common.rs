//! Snapshots and waiting, shared by the source tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use flagcore::{EvaluationContext, Store};

pub const CTX: EvaluationContext<'static> = EvaluationContext::new("user-1");

/// A snapshot with one integer flag `f`, serving `value` (its off_variant serves 0), and a
/// flag `g` serving `version`.
pub fn snapshot(version: u64, enabled: bool, value: i64) -> Vec<u8> {
    format!(
        r#"{{"version": {version}, "flags": {{
            "f": {{"variants": {{"v": {value}, "zero": 0}}, "enabled": {enabled},
                  "off_variant": "zero", "fallthrough": {{"variant": "v"}}}},
            "g": {{"variants": {{"v": {version}}}, "enabled": true,
                  "off_variant": "v", "fallthrough": {{"variant": "v"}}}}}}}}"#
    )
    .into_bytes()
}

/// The value `f` serves (−1 = nothing loaded).
pub fn f(store: &Store) -> i64 {
    store.int("f", &CTX, -1)
}

/// Polls `condition` every millisecond until it holds; panics with `what` after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    start.elapsed()
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flagcore-src-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replaces `path` the way deployment tools do: a temporary file renamed over it.
pub fn replace(path: &std::path::Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
