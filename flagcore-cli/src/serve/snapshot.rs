//! The snapshot FILE: watched with the core's `FileSource`, its serving bytes kept with a
//! strong `ETag` for `GET /v1/snapshot`, which every binding's `HttpSource` polls.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwapOption;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use flagcore::source::{FileOptions, FileSource, Outcome, Status};
use flagcore::Store;
use sha2::{Digest, Sha256};

use super::http;
use super::metrics::Metrics;
use super::App;

/// One serving snapshot document, as the file held it.
pub(crate) struct Document {
    pub(crate) version: u64,
    pub(crate) bytes: Bytes,
    /// A strong validator: the version and a SHA-256 of the bytes, quoted.
    pub(crate) etag: String,
    /// The flags, for the console, by name.
    pub(crate) flags: Vec<FlagRow>,
}

/// What the console shows of a flag, read from the document.
pub(crate) struct FlagRow {
    pub(crate) name: String,
    pub(crate) enabled: bool,
    pub(crate) description: Option<String>,
    pub(crate) metadata: serde_json::Map<String, serde_json::Value>,
}

impl Document {
    fn new(version: u64, bytes: Vec<u8>) -> Document {
        let digest = Sha256::digest(&bytes);
        let etag = format!("\"{version}-{}\"", http::hex(&digest[..16]));
        let flags = flag_rows(&bytes);
        Document {
            version,
            bytes: Bytes::from(bytes),
            etag,
            flags,
        }
    }

    /// Flags whose `enabled` is false: killed or disabled in the document.
    pub(crate) fn disabled(&self) -> usize {
        self.flags.iter().filter(|f| !f.enabled).count()
    }
}

/// Reads the flags of a valid snapshot document, sorted by name.
fn flag_rows(bytes: &[u8]) -> Vec<FlagRow> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(serde_json::Value::Object(mut document)) = serde_json::from_slice(text) else {
        return Vec::new();
    };
    let Some(serde_json::Value::Object(flags)) = document.remove("flags") else {
        return Vec::new();
    };
    let mut rows: Vec<FlagRow> = flags
        .into_iter()
        .map(|(name, flag)| FlagRow {
            name,
            enabled: flag
                .get("enabled")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true),
            description: flag
                .get("description")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            metadata: flag
                .get("metadata")
                .and_then(serde_json::Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// The document serving now. Versions only grow: a reload and an edit over HTTP may race
/// to offer theirs, and the newer wins whichever comes second.
#[derive(Default)]
pub(crate) struct Served {
    current: ArcSwapOption<Document>,
    offering: Mutex<()>,
}

impl Served {
    pub(crate) fn get(&self) -> Option<Arc<Document>> {
        self.current.load_full()
    }

    /// Serves `bytes` (a valid snapshot of `version`) unless a newer one already serves.
    pub(crate) fn offer(&self, version: u64, bytes: Vec<u8>) {
        let _one_at_a_time = self.offering.lock().unwrap_or_else(PoisonError::into_inner);
        if self
            .current
            .load()
            .as_ref()
            .is_some_and(|d| d.version >= version)
        {
            return;
        }
        self.current
            .store(Some(Arc::new(Document::new(version, bytes))));
    }
}

/// Starts watching FILE: the store loads each valid version; the bytes it loaded are kept
/// for `/v1/snapshot`; failures are reported on stderr and counted.
pub(crate) fn watch(
    store: &Arc<Store>,
    file: &Path,
    served: &Arc<Served>,
    metrics: &Arc<Metrics>,
) -> std::io::Result<FileSource> {
    let path = file.to_path_buf();
    let served = Arc::clone(served);
    let metrics = Arc::clone(metrics);
    let report = move |status: &Status| match &status.last_outcome {
        Some(Outcome::Loaded {
            version: Some(version),
        }) => {
            // The source does not hand out the bytes it loaded, so read them again. If the
            // file changed in between, its next change event brings the next version.
            match std::fs::read(&path) {
                Ok(bytes) if flagcore::validate(&bytes).ok() == Some(*version) => {
                    served.offer(*version, bytes);
                    eprintln!(
                        "flagcore serve: {}: serving version {version}",
                        path.display()
                    );
                }
                _ => {}
            }
        }
        Some(Outcome::Failed) => {
            metrics.reload_failed();
            if let Some(error) = &status.last_error {
                eprintln!(
                    "flagcore serve: {}: {} (the last good snapshot keeps serving)",
                    status.source,
                    error.message()
                );
            }
        }
        Some(Outcome::Skipped { offered, current }) if offered < current => eprintln!(
            "flagcore serve: {}: version {offered} is older than the serving {current}; not loaded",
            status.source
        ),
        Some(Outcome::Skipped { offered, current }) if offered == current => {
            // The file an edit over HTTP just wrote, or the same version rewritten.
        }
        _ => {}
    };
    FileSource::start(
        Arc::clone(store),
        file,
        FileOptions::new().on_status(report),
    )
}

/// `GET /v1/snapshot`: the serving document with its `ETag`; 304 when the client has it.
pub(crate) async fn get(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let Some(document) = app.served.get() else {
        return http::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no snapshot is serving yet: FILE is missing or invalid (see the server's log)",
        );
    };
    if http::if_none_match(&headers, &document.etag) {
        return http::not_modified(&document.etag);
    }
    let mut response = http::json_bytes(StatusCode::OK, document.bytes.clone());
    // Clients must revalidate (a 304 is cheap) rather than serve a stale kill.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    http::with_etag(response, &document.etag)
}
