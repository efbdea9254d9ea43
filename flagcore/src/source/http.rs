//! [`HttpSource`]: a snapshot polled from an http(s) URL.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::cache::{DiskCache, KillPersistence};
use super::status::{Outcome, Reporter, SourceError, SourceErrorKind, Status, StatusCallback};
use super::{lock, SnapshotLoader, Wake, Worker};
use crate::Store;

/// How an [`HttpSource`] is configured.
///
/// ```
/// use std::time::Duration;
/// use flagcore::source::HttpOptions;
///
/// let options = HttpOptions::new()
///     .interval(Duration::from_secs(1))
///     .connect_timeout(Duration::from_millis(500))
///     .read_timeout(Duration::from_secs(2))
///     .backoff(Duration::from_millis(500), Duration::from_secs(30))
///     .header("Authorization", "Bearer s3cret")
///     .max_body_bytes(8 << 20);
/// ```
#[derive(Clone)]
pub struct HttpOptions {
    interval: Duration,
    connect_timeout: Duration,
    read_timeout: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
    max_body_bytes: u64,
    headers: Vec<(String, String)>,
    cache: Option<DiskCache>,
    on_status: Option<StatusCallback>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions::new()
    }
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpOptions")
            .field("interval", &self.interval)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("backoff_initial", &self.backoff_initial)
            .field("backoff_max", &self.backoff_max)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("headers", &header_names)
            .field("cache", &self.cache)
            .field("on_status", &self.on_status.is_some())
            .finish()
    }
}

impl HttpOptions {
    /// The defaults: poll every 10 s, connect timeout 2 s, read timeout 5 s, backoff from
    /// 1 s doubling to 60 s, bodies up to 64 MiB, no extra headers, no cache, no callback.
    pub fn new() -> HttpOptions {
        HttpOptions {
            interval: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(5),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            max_body_bytes: 64 << 20,
            headers: Vec::new(),
            cache: None,
            on_status: None,
        }
    }

    /// How often to poll while the server answers (default 10 s). A poll whose
    /// `If-None-Match` matches costs the server a 304 and the client no parse.
    pub fn interval(mut self, interval: Duration) -> HttpOptions {
        self.interval = interval;
        self
    }

    /// The longest wait to resolve the host and connect (default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> HttpOptions {
        self.connect_timeout = timeout;
        self
    }

    /// The longest wait for the response's head, and again for its whole body (default
    /// 5 s each).
    pub fn read_timeout(mut self, timeout: Duration) -> HttpOptions {
        self.read_timeout = timeout;
        self
    }

    /// After a failure, retry after `initial`, doubling per consecutive failure up to
    /// `max`; each delay is jittered to between half and all of it, so a fleet does not
    /// retry in step (defaults 1 s and 60 s).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> HttpOptions {
        self.backoff_initial = initial;
        self.backoff_max = max.max(initial);
        self
    }

    /// The largest body accepted (default 64 MiB, the store's default document limit).
    pub fn max_body_bytes(mut self, limit: u64) -> HttpOptions {
        self.max_body_bytes = limit;
        self
    }

    /// Sends a header with every request (`Authorization`, say).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpOptions {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends `Authorization: Bearer TOKEN` with every request.
    pub fn bearer_token(self, token: &str) -> HttpOptions {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// Keeps the last good snapshot and the runtime kills in `cache`; a cold start with
    /// the server unreachable serves from it.
    pub fn cache(mut self, cache: DiskCache) -> HttpOptions {
        self.cache = Some(cache);
        self
    }

    /// Calls `callback` with the source's [`Status`] after each poll that changed
    /// something (a load, a skip, a failure, a recovery), on the source's thread.
    pub fn on_status(mut self, callback: impl Fn(&Status) + Send + Sync + 'static) -> HttpOptions {
        self.on_status = Some(Arc::new(callback));
        self
    }
}

/// Polls an http(s) URL for snapshots on a background thread that stops when the source
/// is dropped.
///
/// Each poll sends `If-None-Match` with the last loaded `ETag`; a 304 parses nothing. A
/// 200 body (up to the size limit) is validated and swapped in; anything else — a refused
/// connection, a timeout, a 5xx, a truncated or oversized body, an invalid snapshot — is
/// reported in the [`status`](HttpSource::status), logged, and retried after an
/// exponential backoff with jitter, while the store keeps serving its last good snapshot.
/// A stale version is [skipped](Outcome::Skipped). TLS uses rustls with the Mozilla roots
/// (`webpki-roots`); `HTTP(S)_PROXY`/`NO_PROXY` are honoured.
///
/// ```no_run
/// use std::sync::Arc;
/// use flagcore::source::{DiskCache, HttpOptions, HttpSource};
///
/// let store = Arc::new(flagcore::Store::new());
/// let source = HttpSource::start(
///     Arc::clone(&store),
///     "https://flags.internal.example/v1/snapshot.json",
///     HttpOptions::new().cache(DiskCache::new("/var/cache/my-service/flags")),
/// )?;
/// if !source.status().is_healthy() {
///     eprintln!("flags: {:?}", source.status().last_error);
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct HttpSource {
    url: String,
    reporter: Arc<Reporter>,
    worker: Worker,
    /// Persists the store's kills to the cache until the source stops.
    kills: Mutex<Option<KillPersistence>>,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource")
            .field("url", &redact(&self.url))
            .finish_non_exhaustive()
    }
}

impl HttpSource {
    /// Restores the cached kills (with a cache), polls once (waiting at most the
    /// timeouts), falls back to the cached snapshot if that failed and nothing serves
    /// yet, then polls on. Fails only when the thread cannot be started.
    pub fn start(
        store: Arc<Store>,
        url: impl Into<String>,
        options: HttpOptions,
    ) -> io::Result<HttpSource> {
        let url = url.into();
        let reporter = Arc::new(Reporter::new(redact(&url), options.on_status.clone()));
        super::status::register(&store, &reporter);
        let loader = SnapshotLoader {
            store,
            cache: options.cache.clone(),
            reporter: Arc::clone(&reporter),
        };
        let kills = loader.start_persisting_kills();
        let mut poller = Poller::new(url.clone(), &options, loader);
        if !poller.attempt() {
            poller.loader.fall_back_to_cache();
        }
        let (wake_tx, wake_rx) = mpsc::channel();
        let worker = Worker::spawn("flagcore-http", wake_tx, move || poller.run(&wake_rx))?;
        Ok(HttpSource {
            url,
            reporter,
            worker,
            kills: Mutex::new(kills),
        })
    }

    /// The source's state: last success, last error, version, consecutive failures.
    pub fn status(&self) -> Status {
        self.reporter.status()
    }

    /// The URL polled.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Polls now rather than at the end of the current interval or backoff (after a
    /// deployment that changed the snapshot, say). Returns at once.
    pub fn poll_now(&self) {
        self.worker.wake();
    }

    /// Stops polling and waits for the thread to finish (at most one request's timeouts),
    /// and stops persisting kills to the cache; dropping does the same.
    ///
    /// Takes `&self`, so a binding or a service can stop a source it shares and still read
    /// its last [`status`](Self::status); stopping again does nothing.
    pub fn stop(&self) {
        self.worker.stop();
        drop(lock(&self.kills).take());
    }
}

struct Poller {
    url: String,
    agent: ureq::Agent,
    headers: Vec<(String, String)>,
    max_body_bytes: u64,
    interval: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
    loader: SnapshotLoader,
    /// The `ETag` of the last document loaded or skipped as stale.
    etag: Option<String>,
    consecutive_failures: u32,
    random: RandomState,
}

impl Poller {
    fn new(url: String, options: &HttpOptions, loader: SnapshotLoader) -> Poller {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_resolve(Some(options.connect_timeout))
            .timeout_connect(Some(options.connect_timeout))
            .timeout_send_request(Some(options.read_timeout))
            .timeout_recv_response(Some(options.read_timeout))
            .timeout_recv_body(Some(options.read_timeout))
            .user_agent(concat!("flagcore/", env!("CARGO_PKG_VERSION")))
            .build();
        Poller {
            url,
            agent: config.into(),
            headers: options.headers.clone(),
            max_body_bytes: options.max_body_bytes,
            interval: options.interval,
            backoff_initial: options.backoff_initial,
            backoff_max: options.backoff_max,
            loader,
            etag: None,
            consecutive_failures: 0,
            random: RandomState::new(),
        }
    }

    fn run(&mut self, wake: &Receiver<Wake>) {
        loop {
            let wait = if self.consecutive_failures == 0 {
                self.interval
            } else {
                self.backoff_delay()
            };
            match wake.recv_timeout(wait) {
                Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Wake::Changed) | Err(RecvTimeoutError::Timeout) => {
                    self.attempt();
                }
            }
        }
    }

    /// `initial × 2^(failures − 1)`, at most `max`, jittered to between half and all of it.
    fn backoff_delay(&self) -> Duration {
        let doublings = self.consecutive_failures.saturating_sub(1).min(31);
        let full = self
            .backoff_initial
            .saturating_mul(1 << doublings)
            .min(self.backoff_max);
        let mut hasher = self.random.build_hasher();
        hasher.write_u32(self.consecutive_failures);
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let unit = (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64;
        full.mul_f64(0.5 + 0.5 * unit)
    }

    /// Polls once and records the outcome; false when it failed.
    fn attempt(&mut self) -> bool {
        let result = self.poll();
        let ok = result.is_ok();
        if ok {
            self.consecutive_failures = 0;
        } else {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        }
        self.loader.reporter.record(result);
        ok
    }

    fn poll(&mut self) -> Result<Outcome, SourceError> {
        let mut request = self
            .agent
            .get(&self.url)
            .header("Accept", "application/json");
        if let Some(etag) = &self.etag {
            request = request.header("If-None-Match", etag);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut response = request.call().map_err(|e| transport_error(&e))?;
        match response.status().as_u16() {
            304 => Ok(Outcome::Unchanged),
            200 => {
                let etag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(self.max_body_bytes)
                    .read_to_vec()
                    .map_err(|e| match e {
                        ureq::Error::BodyExceedsLimit(limit) => SourceError::new(
                            SourceErrorKind::TooLarge,
                            format!("the body is larger than the limit of {limit} bytes"),
                        ),
                        e => {
                            let error = transport_error(&e);
                            SourceError::new(
                                error.kind(),
                                format!("reading the body: {}", error.message()),
                            )
                        }
                    })?;
                let outcome = self.loader.apply(&body)?;
                self.etag = etag;
                Ok(outcome)
            }
            status => Err(SourceError::new(
                SourceErrorKind::HttpStatus(status),
                format!(
                    "HTTP {status}{}",
                    response
                        .status()
                        .canonical_reason()
                        .map_or_else(String::new, |r| format!(" {r}"))
                ),
            )),
        }
    }
}

fn transport_error(error: &ureq::Error) -> SourceError {
    let kind = match error {
        ureq::Error::Timeout(_) => SourceErrorKind::Timeout,
        ureq::Error::Io(e) => match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => SourceErrorKind::Timeout,
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::NotFound => SourceErrorKind::Connect,
            _ => SourceErrorKind::Transport,
        },
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Tls(_)
        | ureq::Error::BadUri(_) => SourceErrorKind::Connect,
        ureq::Error::BodyExceedsLimit(_) => SourceErrorKind::TooLarge,
        ureq::Error::StatusCode(status) => SourceErrorKind::HttpStatus(*status),
        _ => SourceErrorKind::Transport,
    };
    SourceError::new(kind, error.to_string())
}

/// The URL without the password of its user information, for logs and status.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_status() {
        assert_eq!(
            redact("https://ops:hunter2@flags.example/s.json?x=@"),
            "https://ops:***@flags.example/s.json?x=@"
        );
        assert_eq!(
            redact("http://flags.example/s.json"),
            "http://flags.example/s.json"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_max_with_jitter_between_half_and_all() {
        let store = Arc::new(Store::new());
        let loader = SnapshotLoader {
            store,
            cache: None,
            reporter: Arc::new(Reporter::new("test".into(), None)),
        };
        let options =
            HttpOptions::new().backoff(Duration::from_millis(100), Duration::from_millis(1000));
        let mut poller = Poller::new("http://127.0.0.1:9/".into(), &options, loader);
        for (failures, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            poller.consecutive_failures = failures;
            for _ in 0..20 {
                let delay = poller.backoff_delay().as_millis();
                assert!(
                    delay >= full / 2 && delay <= full,
                    "{failures}: {delay} not in [{}, {full}]",
                    full / 2
                );
            }
        }
    }
}
