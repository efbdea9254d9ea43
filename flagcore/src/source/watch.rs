//! Noticing that a file changed: a native watcher (inotify, FSEvents, ...) on its
//! directory, or polling its metadata; then a debounce, so that a file written in several
//! steps is read once it is quiet.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::Wake;

/// The longest a stream of changes can put a read off: a writer that never pauses is
/// still read about once a second.
const MAX_DEBOUNCE_WAIT: Duration = Duration::from_secs(1);

/// Watches `path`'s directory and sends [`Wake::Changed`] on every event that may concern
/// the file. An error when the platform watcher cannot start (no inotify instances left,
/// a missing directory, ...): poll instead.
pub(crate) fn native_watcher(
    path: &Path,
    wake: Sender<Wake>,
) -> Result<RecommendedWatcher, String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = path.file_name().map(ToOwned::to_owned);
    // Behind a symlink (a Kubernetes ConfigMap swaps `..data`), the file's own name never
    // shows up in the events: any change in the directory counts.
    let any_change = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let relevant = match event {
            // Lost events (a queue overflow): read to be sure.
            Err(_) => true,
            Ok(event) => {
                !is_read_only_access(event.kind)
                    && (any_change
                        || event
                            .paths
                            .iter()
                            .any(|p| p.file_name().map(ToOwned::to_owned) == name))
            }
        };
        if relevant {
            let _ = wake.send(Wake::Changed);
        }
    })
    .map_err(|e| e.to_string())?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(watcher)
}

/// Opening or reading a file (our own reads among them) changes nothing.
fn is_read_only_access(kind: EventKind) -> bool {
    matches!(kind, EventKind::Access(access) if access != AccessKind::Close(AccessMode::Write))
}

/// What polling compares: a change of any of these means the file may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    identity: (u64, u64, i64, i64),
}

/// The file's fingerprint (following symlinks), or `None` when it cannot be read.
pub(crate) fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Fingerprint {
        modified: meta.modified().ok(),
        len: meta.len(),
        #[cfg(unix)]
        identity: {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
        },
    })
}

/// The loop of a file source's thread: reads (through `attempt`) after each change, once
/// the file has been quiet for `debounce`, and on every `tick` when its fingerprint
/// changed since `seen`. Returns when told to stop.
pub(crate) fn run(
    path: &Path,
    mut seen: Option<Fingerprint>,
    wake: &Receiver<Wake>,
    tick: Duration,
    debounce: Duration,
    mut attempt: impl FnMut(),
) {
    loop {
        match wake.recv_timeout(tick) {
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Wake::Changed) => {
                if !settle(wake, debounce) {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if fingerprint(path) == seen {
                    continue;
                }
            }
        }
        // Taken before the read: a change during the read is seen on the next tick.
        seen = fingerprint(path);
        attempt();
    }
}

/// Waits until no change came for `debounce` (or [`MAX_DEBOUNCE_WAIT`] passed); false when
/// told to stop meanwhile.
fn settle(wake: &Receiver<Wake>, debounce: Duration) -> bool {
    let deadline = Instant::now() + MAX_DEBOUNCE_WAIT;
    loop {
        let wait = debounce.min(deadline.saturating_duration_since(Instant::now()));
        if wait.is_zero() {
            return true;
        }
        match wake.recv_timeout(wait) {
            Ok(Wake::Changed) => continue,
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return false,
            Err(RecvTimeoutError::Timeout) => return true,
        }
    }
}
