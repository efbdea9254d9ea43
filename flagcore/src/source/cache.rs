//! The last-good disk cache: the last snapshot a source loaded and the runtime kills in
//! force, so that a cold start with the source unreachable still serves, and a restart
//! never undoes a kill.
//!
//! A cache directory holds two files, each replaced atomically (write a temporary file
//! beside it, fsync, rename, fsync the directory), so a crash leaves the old copy or the
//! new one, never half of one:
//!
//! - `snapshot.json`: the document exactly as the source served it;
//! - `kills.json`: `[{"flag": "checkout", "reason": "incident 7", "at_unix_ms": 1767225600000}]`.
//!
//! One process per cache directory.
//!
//! ```no_run
//! use std::sync::Arc;
//! use flagcore::source::DiskCache;
//! use flagcore::Store;
//!
//! let store = Arc::new(Store::new());
//! let cache = DiskCache::new("/var/cache/my-service/flags");
//! cache.restore_kills(&store)?;           // kills made before the last restart
//! let _persisting = cache.persist_kills(&store); // and every kill from now on
//! if store.version().is_none() {
//!     cache.restore_snapshot(&store)?;    // the source is down: serve the last good copy
//! }
//! store.kill("checkout", "incident 7");   // written to kills.json before kill() returns
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! [`FileSource`](super::FileSource) and [`HttpSource`](super::HttpSource) do all of this
//! when given a cache.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::kill::{Kill, KillListenerId};
use crate::store::Store;

const SNAPSHOT_FILE: &str = "snapshot.json";
const KILLS_FILE: &str = "kills.json";

/// A cache directory for one store: its last good snapshot and its runtime kills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredKill {
    flag: String,
    reason: String,
    at_unix_ms: u64,
}

impl DiskCache {
    /// A cache in `dir`, created on the first write.
    pub fn new(dir: impl Into<PathBuf>) -> DiskCache {
        DiskCache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of the cached snapshot.
    pub fn snapshot_path(&self) -> PathBuf {
        self.dir.join(SNAPSHOT_FILE)
    }

    /// The path of the cached kills.
    pub fn kills_path(&self) -> PathBuf {
        self.dir.join(KILLS_FILE)
    }

    /// Replaces the cached snapshot with `document`, atomically.
    pub fn save_snapshot(&self, document: &[u8]) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        write_atomically(&self.snapshot_path(), document)
    }

    /// The cached snapshot, or `None` when there is none.
    pub fn load_snapshot(&self) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.snapshot_path()) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Loads the cached snapshot into `store`; returns its version, or `None` when there
    /// is no cached snapshot. An invalid or stale cached copy is an `InvalidData` error.
    pub fn restore_snapshot(&self, store: &Store) -> io::Result<Option<u64>> {
        let Some(bytes) = self.load_snapshot()? else {
            return Ok(None);
        };
        store.update(&bytes).map(Some).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", self.snapshot_path().display()),
            )
        })
    }

    /// Replaces the cached kills with `kills`, atomically.
    pub fn save_kills(&self, kills: &[Kill]) -> io::Result<()> {
        let stored: Vec<StoredKill> = kills
            .iter()
            .map(|k| StoredKill {
                flag: k.flag.clone(),
                reason: k.reason.clone(),
                at_unix_ms: unix_ms(k.at),
            })
            .collect();
        let mut text = serde_json::to_vec_pretty(&stored).map_err(io::Error::other)?;
        text.push(b'\n');
        std::fs::create_dir_all(&self.dir)?;
        write_atomically(&self.kills_path(), &text)
    }

    /// The cached kills (none when the file is absent). Times are kept to the millisecond.
    pub fn load_kills(&self) -> io::Result<Vec<Kill>> {
        let bytes = match std::fs::read(self.kills_path()) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let stored: Vec<StoredKill> = serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", self.kills_path().display()),
            )
        })?;
        Ok(stored
            .into_iter()
            .map(|k| Kill {
                flag: k.flag,
                reason: k.reason,
                at: UNIX_EPOCH + Duration::from_millis(k.at_unix_ms),
            })
            .collect())
    }

    /// Restores the cached kills into `store`, with their reasons and times; returns how
    /// many.
    pub fn restore_kills(&self, store: &Store) -> io::Result<usize> {
        let kills = self.load_kills()?;
        let count = kills.len();
        if count > 0 {
            store.restore_kills(kills);
        }
        Ok(count)
    }

    /// Writes `store`'s kills now and after every change (kill, revive, restore), until
    /// the returned guard is dropped. A write error is logged (`log` facade) and the next
    /// change tries again.
    pub fn persist_kills(&self, store: &Arc<Store>) -> KillPersistence {
        let cache = self.clone();
        let id = store.add_kill_listener(move |kills| {
            if let Err(e) = cache.save_kills(kills) {
                log::error!(
                    "{}: cannot persist runtime kills: {e}",
                    cache.kills_path().display()
                );
            }
        });
        // Restoring nothing tells the listeners the kills in force, under the store's
        // lock: the file is written now, in order with any kill racing this call.
        store.restore_kills(std::iter::empty());
        KillPersistence {
            store: Arc::downgrade(store),
            id,
        }
    }
}

/// Keeps a store's kills written to a [`DiskCache`] while it lives
/// (from [`DiskCache::persist_kills`]).
#[derive(Debug)]
#[must_use = "kills are persisted only while the guard lives"]
pub struct KillPersistence {
    store: Weak<Store>,
    id: KillListenerId,
}

impl Drop for KillPersistence {
    fn drop(&mut self) {
        if let Some(store) = self.store.upgrade() {
            store.remove_kill_listener(self.id);
        }
    }
}

/// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and
/// fsyncs the directory: readers (and a crash) see the old file or the new one, whole.
/// The cache writes this way, and so does `flagcore kill` when it edits a snapshot file
/// that watchers are reading.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or("cache".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut out = std::fs::File::create(&tmp)?;
        out.write_all(bytes)?;
        out.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Milliseconds since the Unix epoch (0 before it).
fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("flagcore-cache-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn kills_round_trip_to_the_millisecond() {
        let cache = DiskCache::new(temp_dir("round-trip"));
        assert!(cache.load_kills().unwrap().is_empty());
        let at = UNIX_EPOCH + Duration::from_millis(1_767_225_600_123);
        let kills = [Kill {
            flag: "checkout".into(),
            reason: "incident \"7\"".into(),
            at,
        }];
        cache.save_kills(&kills).unwrap();
        assert_eq!(cache.load_kills().unwrap(), kills);
        let _ = std::fs::remove_dir_all(cache.dir());
    }

    #[test]
    fn persisted_kills_follow_every_change_until_the_guard_drops() {
        let cache = DiskCache::new(temp_dir("persist"));
        let store = Arc::new(Store::new());
        store.kill("before", "made before the cache was attached");
        let guard = cache.persist_kills(&store);
        let flags = || -> Vec<String> {
            cache
                .load_kills()
                .unwrap()
                .into_iter()
                .map(|k| k.flag)
                .collect()
        };
        assert_eq!(flags(), ["before"]);
        store.kill("checkout", "incident 7");
        assert_eq!(flags(), ["before", "checkout"]);
        store.revive("before");
        assert_eq!(flags(), ["checkout"]);
        drop(guard);
        store.kill("later", "not persisted");
        assert_eq!(flags(), ["checkout"]);

        let restarted = Store::new();
        assert_eq!(cache.restore_kills(&restarted).unwrap(), 1);
        assert_eq!(restarted.kills()[0].reason, "incident 7");
        let _ = std::fs::remove_dir_all(cache.dir());
    }

    #[test]
    fn an_invalid_cached_snapshot_is_an_error_not_a_panic() {
        let cache = DiskCache::new(temp_dir("invalid"));
        let store = Store::new();
        assert_eq!(cache.restore_snapshot(&store).unwrap(), None);
        cache.save_snapshot(b"{\"version\": 1, \"fla").unwrap();
        let err = cache.restore_snapshot(&store).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(store.version(), None);
        let _ = std::fs::remove_dir_all(cache.dir());
    }
}
