//! Sources: where a [`Store`](crate::Store)'s snapshots come from in production, and what keeps serving
//! when they fail.
//!
//! | type | feature | what |
//! | --- | --- | --- |
//! | [`FileSource`] | `file` | a snapshot file, reloaded on change (native watcher, polling fallback), debounced |
//! | [`KillsFileSource`] | `file` | a host's kills file, `[{"flag": F, "reason": R}]`, applied as runtime kills |
//! | [`HttpSource`] | `http` | an http(s) URL polled with `ETag`/`If-None-Match`, timeouts, backoff with jitter |
//! | [`DiskCache`] | `cache` | the last good snapshot and the runtime kills, for cold starts and restarts |
//!
//! Each source runs one background thread that stops when the source is dropped (or
//! [`stop`](FileSource::stop)ped). The first read happens in `start`, so a store is
//! serving when `start` returns, if the source or the cache could provide.
//!
//! What a failing source does: the store keeps serving the last good snapshot (an invalid
//! document, a half-written file, a 500, a timeout, a truncated body never replace it),
//! the error is logged through the [`log`](https://docs.rs/log) facade (never printed) and
//! kept in the source's [`Status`] (last success, last error, version, consecutive
//! failures), which an optional callback hears about too; the source retries (on the next
//! change of a file; after a backoff for a URL). A document whose version is not newer
//! than the serving one is [skipped](Outcome::Skipped), not a failure.
//!
//! With a [`DiskCache`], every loaded snapshot and every change of the runtime kills is
//! written to disk; a cold start restores the kills, and serves the cached snapshot when
//! the source cannot be read. So neither a reload nor a restart undoes an operator's kill.
//!
//! ```no_run
//! # #[cfg(all(feature = "file", feature = "http"))] fn main() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use flagcore::source::{DiskCache, FileOptions, FileSource, HttpOptions, HttpSource, KillsFileSource};
//! use flagcore::Store;
//!
//! let store = Arc::new(Store::new());
//! let cache = DiskCache::new("/var/cache/my-service/flags");
//!
//! // The fleet's snapshot, from a URL polled every 5 s:
//! let http = HttpSource::start(
//!     Arc::clone(&store),
//!     "https://flags.internal.example/v1/snapshot.json",
//!     HttpOptions::new()
//!         .interval(Duration::from_secs(5))
//!         .bearer_token("s3cret")
//!         .cache(cache)
//!         .on_status(|status| {
//!             if status.consecutive_failures == 3 {
//!                 eprintln!("flags: {:?}", status.last_error);
//!             }
//!         }),
//! )?;
//!
//! // This host's kill switches, applied within milliseconds of a change:
//! let kills = KillsFileSource::start(Arc::clone(&store), "/etc/my-service/kills.json", FileOptions::new())?;
//!
//! println!("{:?} {:?}", http.status().version, kills.status().last_error);
//! # Ok(()) }
//! # #[cfg(not(all(feature = "file", feature = "http")))] fn main() {}
//! ```
//!
//! A local file instead (a config-management tool or a sidecar writes it):
//!
//! ```no_run
//! # #[cfg(feature = "file")] fn main() -> std::io::Result<()> {
//! # use std::sync::Arc;
//! use flagcore::source::{FileOptions, FileSource};
//! let store = Arc::new(flagcore::Store::new());
//! let source = FileSource::start(Arc::clone(&store), "/etc/my-service/flags.json", FileOptions::new())?;
//! assert!(source.status().is_healthy());
//! # Ok(()) }
//! # #[cfg(not(feature = "file"))] fn main() {}
//! ```

mod cache;
#[cfg(feature = "file")]
mod file;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "file")]
mod kills;
mod status;
#[cfg(feature = "file")]
mod watch;

pub use cache::{write_atomically, DiskCache, KillPersistence};
#[cfg(feature = "file")]
pub use file::{FileOptions, FileSource, WatchMode};
#[cfg(feature = "http")]
pub use http::{HttpOptions, HttpSource};
#[cfg(feature = "file")]
pub use kills::KillsFileSource;
pub use status::{
    statuses, statuses_to_prometheus, Outcome, SourceError, SourceErrorKind, Status, StatusCallback,
};

/// Locks `mutex`; a panic while it was held left its data usable (each change is one
/// step), so poisoning is ignored.
#[cfg(any(feature = "file", feature = "http"))]
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(any(feature = "file", feature = "http"))]
pub(crate) use worker::{SnapshotLoader, Wake, Worker};

#[cfg(any(feature = "file", feature = "http"))]
mod worker {
    use std::sync::mpsc::Sender;
    use std::sync::{Arc, Mutex, PoisonError};
    use std::thread::JoinHandle;

    use super::cache::{DiskCache, KillPersistence};
    use super::status::{Outcome, Reporter, SourceError, SourceErrorKind};
    use crate::{Error, Store};

    /// What a source's thread waits for.
    pub(crate) enum Wake {
        /// Something may have changed: read now (after the debounce, for files).
        Changed,
        /// The source is dropped.
        Stop,
    }

    /// A source's background thread, stopped and joined on drop.
    pub(crate) struct Worker {
        wake: Sender<Wake>,
        /// Taken by the first `stop`, so stopping twice (or stopping, then dropping) is
        /// harmless.
        thread: Mutex<Option<JoinHandle<()>>>,
    }

    impl Worker {
        pub(crate) fn spawn(
            name: &str,
            wake: Sender<Wake>,
            body: impl FnOnce() + Send + 'static,
        ) -> std::io::Result<Worker> {
            let thread = std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(body)?;
            Ok(Worker {
                wake,
                thread: Mutex::new(Some(thread)),
            })
        }

        /// Asks the thread to read now.
        #[cfg(feature = "http")]
        pub(crate) fn wake(&self) {
            let _ = self.wake.send(Wake::Changed);
        }

        /// Stops the thread and waits for it (at most one attempt's timeout).
        pub(crate) fn stop(&self) {
            let _ = self.wake.send(Wake::Stop);
            let thread = self
                .thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(thread) = thread {
                // A status callback that drops its own source must not wait for itself.
                if thread.thread().id() != std::thread::current().id() {
                    let _ = thread.join();
                }
            }
        }
    }

    impl Drop for Worker {
        fn drop(&mut self) {
            self.stop();
        }
    }

    /// Applies snapshot documents to a store, keeps the cache, reports to the status.
    pub(crate) struct SnapshotLoader {
        pub(crate) store: Arc<Store>,
        pub(crate) cache: Option<DiskCache>,
        pub(crate) reporter: Arc<Reporter>,
    }

    impl SnapshotLoader {
        /// Restores cached kills and keeps persisting them (before the first load, so a
        /// restart never serves a killed flag, even for a moment).
        pub(crate) fn start_persisting_kills(&self) -> Option<KillPersistence> {
            let cache = self.cache.as_ref()?;
            if let Err(e) = cache.restore_kills(&self.store) {
                self.reporter.record_cache(Err(SourceError::new(
                    SourceErrorKind::Cache,
                    format!("cannot restore the cached kills: {e}"),
                )));
            }
            Some(cache.persist_kills(&self.store))
        }

        /// Validates and swaps in `document`; saves it to the cache when it loaded.
        pub(crate) fn apply(&self, document: &[u8]) -> Result<Outcome, SourceError> {
            match self.store.update(document) {
                Ok(version) => {
                    if let Some(cache) = &self.cache {
                        self.reporter
                            .record_cache(cache.save_snapshot(document).map_err(|e| {
                                SourceError::new(
                                    SourceErrorKind::Cache,
                                    format!(
                                        "cannot write {}: {e}",
                                        cache.snapshot_path().display()
                                    ),
                                )
                            }));
                    }
                    Ok(Outcome::Loaded {
                        version: Some(version),
                    })
                }
                Err(Error::Stale { offered, current }) => Ok(Outcome::Skipped { offered, current }),
                Err(e) => Err(SourceError::from_store(&e)),
            }
        }

        /// After a failed first read: serve the cached snapshot if nothing serves yet.
        pub(crate) fn fall_back_to_cache(&self) {
            let Some(cache) = &self.cache else { return };
            if self.store.version().is_some() {
                return;
            }
            match cache.restore_snapshot(&self.store) {
                Ok(Some(version)) => self.reporter.record(Ok(Outcome::FromCache { version })),
                Ok(None) => log::warn!(
                    "{}: no cached snapshot to serve while the source is unreachable",
                    cache.dir().display()
                ),
                Err(e) => self.reporter.record_cache(Err(SourceError::new(
                    SourceErrorKind::Cache,
                    format!("cannot serve the cached snapshot: {e}"),
                ))),
            }
        }
    }
}
