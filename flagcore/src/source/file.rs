//! [`FileSource`]: a snapshot file, reloaded when it changes.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xxhash_rust::xxh3::xxh3_64;

use super::cache::{DiskCache, KillPersistence};
use super::status::{Outcome, Reporter, SourceError, SourceErrorKind, Status, StatusCallback};
use super::{lock, watch, SnapshotLoader, Worker};
use crate::Store;

/// How often a file is polled when the platform's watcher cannot start.
const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// How a [`FileSource`] or [`KillsFileSource`](super::KillsFileSource) is configured.
///
/// ```
/// use std::time::Duration;
/// use flagcore::source::{DiskCache, FileOptions};
///
/// let options = FileOptions::new()
///     .debounce(Duration::from_millis(20))
///     .cache(DiskCache::new("/var/cache/my-service/flags"))
///     .on_status(|status| eprintln!("flags: {status:?}"));
/// ```
#[derive(Clone)]
pub struct FileOptions {
    debounce: Duration,
    poll: Option<Duration>,
    recheck: Duration,
    cache: Option<DiskCache>,
    on_status: Option<StatusCallback>,
}

impl Default for FileOptions {
    fn default() -> Self {
        FileOptions::new()
    }
}

impl std::fmt::Debug for FileOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileOptions")
            .field("debounce", &self.debounce)
            .field("poll", &self.poll)
            .field("recheck", &self.recheck)
            .field("cache", &self.cache)
            .field("on_status", &self.on_status.is_some())
            .finish()
    }
}

impl FileOptions {
    /// The defaults: the platform's watcher (polling every second if it cannot start), a
    /// 50 ms debounce, a re-check of the file's metadata every 10 s, no cache, no callback.
    pub fn new() -> FileOptions {
        FileOptions {
            debounce: Duration::from_millis(50),
            poll: None,
            recheck: Duration::from_secs(10),
            cache: None,
            on_status: None,
        }
    }

    /// How long the file must be quiet after a change before it is read (default 50 ms),
    /// so that a file written in several steps is read once. A change that is still
    /// half-written when read is refused (the serving snapshot stays) and read again on
    /// the next change.
    pub fn debounce(mut self, debounce: Duration) -> FileOptions {
        self.debounce = debounce;
        self
    }

    /// Polls the file's metadata (modification time, size, inode) every `interval`
    /// instead of using the platform's watcher: for file systems that send no events
    /// (NFS, some container mounts).
    pub fn poll_every(mut self, interval: Duration) -> FileOptions {
        self.poll = Some(interval);
        self
    }

    /// With the platform's watcher, how often the file's metadata is also compared, in
    /// case an event was lost (default 10 s).
    pub fn recheck_every(mut self, interval: Duration) -> FileOptions {
        self.recheck = interval;
        self
    }

    /// Keeps the last good snapshot and the runtime kills in `cache` (snapshot sources
    /// only; a kills file is its own record).
    pub fn cache(mut self, cache: DiskCache) -> FileOptions {
        self.cache = Some(cache);
        self
    }

    /// Calls `callback` with the source's [`Status`] after each attempt that changed
    /// something (a load, a skip, a failure, a recovery), on the source's thread.
    pub fn on_status(mut self, callback: impl Fn(&Status) + Send + Sync + 'static) -> FileOptions {
        self.on_status = Some(Arc::new(callback));
        self
    }

    pub(crate) fn status_callback(&self) -> Option<StatusCallback> {
        self.on_status.clone()
    }
}

/// How a file source notices changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchMode {
    /// The platform's watcher (inotify, FSEvents, ReadDirectoryChangesW).
    Native,
    /// Comparing the file's metadata every so often.
    Polling {
        /// How often.
        every: Duration,
    },
}

/// Loads a snapshot file into a store and reloads it whenever it changes, on a background
/// thread that stops when the source is dropped.
///
/// The file is watched through its directory, so a file replaced by a rename (as
/// `flagcore kill` and most deployment tools write) is followed. A read that finds the
/// same bytes as the last load parses nothing.
///
/// ```no_run
/// use std::sync::Arc;
/// use flagcore::source::{FileOptions, FileSource};
/// use flagcore::{EvaluationContext, Store};
///
/// let store = Arc::new(Store::new());
/// let source = FileSource::start(Arc::clone(&store), "/etc/my-service/flags.json", FileOptions::new())?;
/// let on = store.bool("new-checkout", &EvaluationContext::new("user-17"), false);
/// println!("version {:?}, last error {:?}", source.status().version, source.status().last_error);
/// drop(source); // stops watching; the store keeps serving what it has
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FileSource {
    path: PathBuf,
    reporter: Arc<Reporter>,
    mode: WatchMode,
    worker: Worker,
    /// Persists the store's kills to the cache until the source stops.
    kills: Mutex<Option<KillPersistence>>,
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSource")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl FileSource {
    /// Restores the cached kills (with a cache), reads the file, falls back to the cached
    /// snapshot if it cannot be loaded and nothing serves yet, then watches. Fails only
    /// when the thread cannot be started: a missing or invalid file is reported in the
    /// [`status`](FileSource::status) and retried when the file changes.
    pub fn start(
        store: Arc<Store>,
        path: impl Into<PathBuf>,
        options: FileOptions,
    ) -> io::Result<FileSource> {
        let path = path.into();
        let reporter = Arc::new(Reporter::new(
            path.display().to_string(),
            options.status_callback(),
        ));
        super::status::register(&store, &reporter);
        let loader = SnapshotLoader {
            store,
            cache: options.cache.clone(),
            reporter: Arc::clone(&reporter),
        };
        let kills = loader.start_persisting_kills();
        let mut reader = SnapshotFile {
            path: path.clone(),
            loader,
            last_loaded: None,
        };
        let (worker, mode) = spawn_watching(&path, &options, "flagcore-file", move |first| {
            let ok = reader.attempt();
            if first && !ok {
                reader.loader.fall_back_to_cache();
            }
        })?;
        Ok(FileSource {
            path,
            reporter,
            mode,
            worker,
            kills: Mutex::new(kills),
        })
    }

    /// The source's state: last success, last error, version, consecutive failures.
    pub fn status(&self) -> Status {
        self.reporter.status()
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether changes are noticed by the platform's watcher or by polling.
    pub fn watch_mode(&self) -> WatchMode {
        self.mode
    }

    /// Stops watching and waits for the thread to finish, and stops persisting kills to
    /// the cache (dropping does the same).
    ///
    /// Takes `&self`, so a binding or a service can stop a source it shares and still read
    /// its last [`status`](Self::status); stopping again does nothing.
    pub fn stop(&self) {
        self.worker.stop();
        drop(lock(&self.kills).take());
    }
}

/// The reading side of a snapshot file source.
struct SnapshotFile {
    path: PathBuf,
    loader: SnapshotLoader,
    /// A hash of the bytes last loaded (or skipped as stale): the same bytes again parse
    /// nothing.
    last_loaded: Option<u64>,
}

impl SnapshotFile {
    /// Reads and applies the file once, recording the outcome; false when it failed.
    fn attempt(&mut self) -> bool {
        let result = self.read_and_apply();
        let ok = result.is_ok();
        self.loader.reporter.record(result);
        ok
    }

    fn read_and_apply(&mut self) -> Result<Outcome, SourceError> {
        let bytes = std::fs::read(&self.path).map_err(|e| {
            SourceError::new(SourceErrorKind::Io, format!("{}: {e}", self.path.display()))
        })?;
        let hash = xxh3_64(&bytes);
        if self.last_loaded == Some(hash) {
            return Ok(Outcome::Unchanged);
        }
        let outcome = self.loader.apply(&bytes)?;
        self.last_loaded = Some(hash);
        Ok(outcome)
    }
}

/// Starts noticing changes of `path` (the platform's watcher, or polling), makes the first
/// read (`attempt(true)`) and spawns the thread that reads again on each change
/// (`attempt(false)`). The watcher starts before the first read, so no change is missed.
pub(crate) fn spawn_watching(
    path: &Path,
    options: &FileOptions,
    thread_name: &str,
    mut attempt: impl FnMut(bool) + Send + 'static,
) -> io::Result<(Worker, WatchMode)> {
    let (wake_tx, wake_rx) = mpsc::channel();
    let (watcher, mode) = match options.poll {
        Some(every) => (None, WatchMode::Polling { every }),
        None => match watch::native_watcher(path, wake_tx.clone()) {
            Ok(watcher) => (Some(watcher), WatchMode::Native),
            Err(e) => {
                log::warn!(
                    "{}: cannot watch for changes ({e}); polling every {FALLBACK_POLL:?}",
                    path.display()
                );
                (
                    None,
                    WatchMode::Polling {
                        every: FALLBACK_POLL,
                    },
                )
            }
        },
    };
    let tick = match mode {
        WatchMode::Polling { every } => every,
        WatchMode::Native => options.recheck,
    };
    let seen = watch::fingerprint(path);
    attempt(true);
    let debounce = options.debounce;
    let path = path.to_path_buf();
    let worker = Worker::spawn(thread_name, wake_tx, move || {
        let _watcher = watcher;
        watch::run(&path, seen, &wake_rx, tick, debounce, || attempt(false));
    })?;
    Ok((worker, mode))
}
