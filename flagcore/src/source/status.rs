//! What a source is doing: its [`Status`], the errors it meets, and the callback that hears
//! about each change.

// With `cache` alone no source records anything.
#![cfg_attr(not(any(feature = "file", feature = "http")), allow(dead_code))]

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::store::Store;

/// A function told the source's [`Status`] after each attempt that changed something
/// (a load, a skip, a failure, a recovery). It runs on the source's thread: keep it quick.
pub type StatusCallback = Arc<dyn Fn(&Status) + Send + Sync>;

/// What kind of problem a [`SourceError`] reports. Each kind has one stable code string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// A file could not be read (or the watcher could not start).
    Io,
    /// The document is not a valid snapshot; the message lists every problem.
    InvalidSnapshot,
    /// A kills file is not a JSON list of `{"flag", "reason"}` objects.
    InvalidKills,
    /// The server answered with an HTTP status other than 200 or 304.
    HttpStatus(u16),
    /// The server did not connect, answer or finish the body in time.
    Timeout,
    /// The connection could not be made (refused, unreachable, DNS, TLS).
    Connect,
    /// The connection broke, or the server spoke broken HTTP (a truncated body, say).
    Transport,
    /// The body was larger than the configured limit.
    TooLarge,
    /// The disk cache could not be read or written.
    Cache,
}

impl SourceErrorKind {
    /// The stable code of this kind, e.g. `"timeout"` or `"http_status"`.
    pub fn code(self) -> &'static str {
        match self {
            SourceErrorKind::Io => "io",
            SourceErrorKind::InvalidSnapshot => "invalid_snapshot",
            SourceErrorKind::InvalidKills => "invalid_kills",
            SourceErrorKind::HttpStatus(_) => "http_status",
            SourceErrorKind::Timeout => "timeout",
            SourceErrorKind::Connect => "connect",
            SourceErrorKind::Transport => "transport",
            SourceErrorKind::TooLarge => "too_large",
            SourceErrorKind::Cache => "cache",
        }
    }
}

/// One failure of a source, kept in its [`Status`]: what kind, what happened, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    kind: SourceErrorKind,
    message: String,
    at: SystemTime,
}

impl SourceError {
    pub(crate) fn new(kind: SourceErrorKind, message: impl Into<String>) -> SourceError {
        SourceError {
            kind,
            message: message.into(),
            at: SystemTime::now(),
        }
    }

    /// From a store's refusal of a document (a stale version is not an error; callers
    /// report it as skipped before getting here).
    pub(crate) fn from_store(error: &crate::Error) -> SourceError {
        let kind = match error {
            crate::Error::Io { .. } => SourceErrorKind::Io,
            _ => SourceErrorKind::InvalidSnapshot,
        };
        SourceError::new(kind, error.to_string())
    }

    /// The kind, with its stable code.
    pub fn kind(&self) -> SourceErrorKind {
        self.kind
    }

    /// The stable code of the kind, e.g. `"timeout"`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// What happened, for a person.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// When.
    pub fn at(&self) -> SystemTime {
        self.at
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code())
    }
}

impl std::error::Error for SourceError {}

/// The result of one attempt to read a source.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A new snapshot (or kills list) was applied; its version, for snapshots.
    Loaded {
        /// The snapshot's version (`None` for a kills file).
        version: Option<u64>,
    },
    /// Nothing changed: an HTTP 304, or a file with the same content. Nothing was parsed.
    Unchanged,
    /// The document's version is not newer than the serving one; the store kept serving.
    /// Not an error: another source or a cold start from the cache may be ahead.
    Skipped {
        /// The version offered.
        offered: u64,
        /// The version serving.
        current: u64,
    },
    /// The source was unreachable at start; the snapshot came from the disk cache.
    FromCache {
        /// The cached snapshot's version.
        version: u64,
    },
    /// The attempt failed; [`Status::last_error`] says why.
    Failed,
}

/// The state of one source, from its [`status`](super::FileSource::status) method or its
/// status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// What the source reads: a path or a URL.
    pub source: String,
    /// The snapshot version this source last delivered (loaded, or restored from the
    /// cache); `None` before the first and for kills files.
    pub version: Option<u64>,
    /// The last attempt's outcome.
    pub last_outcome: Option<Outcome>,
    /// When the source last answered well (loaded, unchanged or skipped).
    pub last_success: Option<SystemTime>,
    /// The last failure, kept after a recovery (compare its time with `last_success`).
    pub last_error: Option<SourceError>,
    /// Failures since the last good answer: 0 when healthy.
    pub consecutive_failures: u32,
    /// True while the snapshot serving came from the disk cache, not from the source.
    pub serving_cache: bool,
    /// The last failure to write the disk cache, cleared by the next good write.
    pub cache_error: Option<SourceError>,
    /// Attempts that applied a new document.
    pub loads: u64,
    /// Attempts that found nothing new (HTTP 304, same file content).
    pub unchanged: u64,
    /// Attempts whose document was stale.
    pub skipped: u64,
    /// Attempts that failed.
    pub failures: u64,
}

impl Status {
    /// A status with nothing recorded yet, for `source` (a path or URL).
    pub fn new(source: impl Into<String>) -> Status {
        Status {
            source: source.into(),
            version: None,
            last_outcome: None,
            last_success: None,
            last_error: None,
            consecutive_failures: 0,
            serving_cache: false,
            cache_error: None,
            loads: 0,
            unchanged: 0,
            skipped: 0,
            failures: 0,
        }
    }

    /// True when the last attempt did not fail.
    pub fn is_healthy(&self) -> bool {
        self.consecutive_failures == 0 && self.last_outcome.is_some()
    }
}

/// Keeps a source's status, logs each change through the `log` facade and tells the
/// callback.
pub(crate) struct Reporter {
    status: Mutex<Status>,
    callback: Option<StatusCallback>,
}

impl Reporter {
    pub(crate) fn new(source: String, callback: Option<StatusCallback>) -> Reporter {
        Reporter {
            status: Mutex::new(Status::new(source)),
            callback,
        }
    }

    pub(crate) fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records one attempt's result.
    pub(crate) fn record(&self, result: Result<Outcome, SourceError>) {
        let snapshot = {
            let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
            let was_failing = status.consecutive_failures > 0;
            let now = SystemTime::now();
            let outcome = match result {
                Ok(outcome) => {
                    match &outcome {
                        Outcome::Loaded { version } => {
                            status.loads += 1;
                            status.version = *version;
                            status.serving_cache = false;
                            log::info!("{}: loaded{}", status.source, version_text(*version));
                        }
                        Outcome::Unchanged => {
                            status.unchanged += 1;
                            log::trace!("{}: unchanged", status.source);
                        }
                        Outcome::Skipped { offered, current } => {
                            status.skipped += 1;
                            if offered < current {
                                log::warn!(
                                    "{}: skipped version {offered}, older than the serving {current}",
                                    status.source
                                );
                            } else {
                                log::debug!(
                                    "{}: skipped version {offered}, already serving {current}",
                                    status.source
                                );
                            }
                        }
                        Outcome::FromCache { version } => {
                            status.version = Some(*version);
                            status.serving_cache = true;
                            log::warn!(
                                "{}: unreachable at start; serving version {version} from the disk cache",
                                status.source
                            );
                        }
                        Outcome::Failed => {}
                    }
                    if !matches!(outcome, Outcome::FromCache { .. }) {
                        if was_failing {
                            log::info!(
                                "{}: recovered after {} failure(s)",
                                status.source,
                                status.consecutive_failures
                            );
                        }
                        status.consecutive_failures = 0;
                        status.last_success = Some(now);
                    }
                    outcome
                }
                Err(error) => {
                    status.failures += 1;
                    status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                    log::error!(
                        "{}: {error} (failure {} in a row; the last good snapshot keeps serving)",
                        status.source,
                        status.consecutive_failures
                    );
                    status.last_error = Some(error);
                    Outcome::Failed
                }
            };
            let quiet = outcome == Outcome::Unchanged && !was_failing;
            status.last_outcome = Some(outcome);
            (!quiet).then(|| status.clone())
        };
        if let (Some(status), Some(callback)) = (snapshot, &self.callback) {
            callback(&status);
        }
    }

    /// Records the result of writing the disk cache (not a source failure).
    pub(crate) fn record_cache(&self, result: Result<(), SourceError>) {
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(()) => status.cache_error = None,
            Err(error) => {
                log::warn!("{}: {error}", status.source);
                status.cache_error = Some(error);
            }
        }
    }
}

fn version_text(version: Option<u64>) -> String {
    version.map_or_else(String::new, |v| format!(" version {v}"))
}

/// The sources that feed each store, by store id; a source that is dropped drops out.
static FEEDING: Mutex<Vec<(u64, Weak<Reporter>)>> = Mutex::new(Vec::new());

/// Records that the source reporting to `reporter` feeds `store`, for [`statuses`].
pub(crate) fn register(store: &Store, reporter: &Arc<Reporter>) {
    let mut feeding = FEEDING.lock().unwrap_or_else(PoisonError::into_inner);
    feeding.retain(|(_, r)| r.strong_count() > 0);
    feeding.push((store.id(), Arc::downgrade(reporter)));
}

/// The state of every live source feeding `store` (file, HTTP, kills file), in the order
/// they started: last success, last error, version, consecutive failures.
///
/// ```
/// let store = flagcore::Store::new();
/// assert!(flagcore::source::statuses(&store).is_empty());
/// ```
pub fn statuses(store: &Store) -> Vec<Status> {
    let mut feeding = FEEDING.lock().unwrap_or_else(PoisonError::into_inner);
    feeding.retain(|(_, r)| r.strong_count() > 0);
    feeding
        .iter()
        .filter(|(id, _)| *id == store.id())
        .filter_map(|(_, r)| r.upgrade())
        .map(|reporter| reporter.status())
        .collect()
}

/// Renders the statuses of some sources in the Prometheus text exposition format:
/// attempts by outcome (`flagcore_source_attempts_total`), consecutive failures, the
/// version each last delivered, the time of its last good answer, and whether it serves
/// from the disk cache. Append it to [`MetricsExporter::scrape`](crate::MetricsExporter::scrape)'s
/// output to serve one page.
///
/// ```
/// let status = flagcore::source::Status::new("snapshot.json");
/// let text = flagcore::source::statuses_to_prometheus(&[status]);
/// assert!(text.contains(r#"flagcore_source_attempts_total{source="snapshot.json",outcome="failed"} 0"#));
/// ```
pub fn statuses_to_prometheus(statuses: &[Status]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let label = |s: &Status| crate::export::escape_label(&s.source);
    out.push_str("# HELP flagcore_source_attempts_total Attempts to read a source, by outcome.\n");
    out.push_str("# TYPE flagcore_source_attempts_total counter\n");
    for s in statuses {
        let source = label(s);
        for (outcome, n) in [
            ("loaded", s.loads),
            ("unchanged", s.unchanged),
            ("skipped", s.skipped),
            ("failed", s.failures),
        ] {
            let _ = writeln!(
                out,
                "flagcore_source_attempts_total{{source=\"{source}\",outcome=\"{outcome}\"}} {n}"
            );
        }
    }
    out.push_str("# HELP flagcore_source_consecutive_failures Failures since the source last answered well.\n");
    out.push_str("# TYPE flagcore_source_consecutive_failures gauge\n");
    for s in statuses {
        let _ = writeln!(
            out,
            "flagcore_source_consecutive_failures{{source=\"{}\"}} {}",
            label(s),
            s.consecutive_failures
        );
    }
    out.push_str(
        "# HELP flagcore_source_serving_cache 1 while the snapshot serving came from the disk cache.\n",
    );
    out.push_str("# TYPE flagcore_source_serving_cache gauge\n");
    for s in statuses {
        let _ = writeln!(
            out,
            "flagcore_source_serving_cache{{source=\"{}\"}} {}",
            label(s),
            u8::from(s.serving_cache)
        );
    }
    out.push_str(
        "# HELP flagcore_source_version The snapshot version the source last delivered.\n",
    );
    out.push_str("# TYPE flagcore_source_version gauge\n");
    for s in statuses {
        if let Some(version) = s.version {
            let _ = writeln!(
                out,
                "flagcore_source_version{{source=\"{}\"}} {version}",
                label(s)
            );
        }
    }
    out.push_str("# HELP flagcore_source_last_success_timestamp_seconds When the source last answered well.\n");
    out.push_str("# TYPE flagcore_source_last_success_timestamp_seconds gauge\n");
    for s in statuses {
        if let Some(at) = s.last_success {
            let seconds = at
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let _ = writeln!(
                out,
                "flagcore_source_last_success_timestamp_seconds{{source=\"{}\"}} {seconds:.3}",
                label(s)
            );
        }
    }
    out
}
