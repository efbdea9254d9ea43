//! `GET /metrics`: the core's Prometheus page (evaluations, kills, version, the file
//! source's attempts) plus the server's own counters: requests by route and status, edits
//! over HTTP, reload failures and flags disabled in the serving document.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{App, ROUTES};

/// Status codes counted per route: 100 ..= 599.
const STATUSES: usize = 500;

/// The server's counters. Counting a request is one relaxed atomic addition: the counters
/// are independent totals, read only to render the page.
pub(crate) struct Metrics {
    /// `ROUTES.len() + 1` rows (the last for requests no route matched) of `STATUSES`.
    requests: Box<[AtomicU64]>,
    reload_failures: AtomicU64,
    kills: AtomicU64,
    revives: AtomicU64,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        Metrics {
            requests: (0..(ROUTES.len() + 1) * STATUSES)
                .map(|_| AtomicU64::new(0))
                .collect(),
            reload_failures: AtomicU64::new(0),
            kills: AtomicU64::new(0),
            revives: AtomicU64::new(0),
        }
    }

    /// The row of `route`, a route template or none.
    fn row(route: Option<&str>) -> usize {
        route
            .and_then(|r| ROUTES.iter().position(|known| *known == r))
            .unwrap_or(ROUTES.len())
    }

    fn count(&self, row: usize, status: u16) {
        let Some(column) = usize::from(status).checked_sub(100) else {
            return;
        };
        if column < STATUSES {
            self.requests[row * STATUSES + column].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn reload_failed(&self) {
        self.reload_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn edited(&self, kill: bool) {
        let counter = if kill { &self.kills } else { &self.revives };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, disabled: Option<usize>) {
        out.push_str(
            "# HELP flagcore_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE flagcore_http_requests_total counter\n");
        for (row, counts) in self.requests.chunks(STATUSES).enumerate() {
            let route = ROUTES.get(row).copied().unwrap_or("unmatched");
            for (column, count) in counts.iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let _ = writeln!(
                        out,
                        "flagcore_http_requests_total{{route=\"{route}\",status=\"{}\"}} {count}",
                        column + 100
                    );
                }
            }
        }
        out.push_str(
            "# HELP flagcore_serve_edits_total Kills and revives of FILE over HTTP that landed.\n",
        );
        out.push_str("# TYPE flagcore_serve_edits_total counter\n");
        let _ = writeln!(
            out,
            "flagcore_serve_edits_total{{action=\"kill\"}} {}",
            self.kills.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "flagcore_serve_edits_total{{action=\"revive\"}} {}",
            self.revives.load(Ordering::Relaxed)
        );
        out.push_str("# HELP flagcore_serve_reload_failures_total Reads of FILE that failed (missing, unreadable or invalid); the last good snapshot kept serving.\n");
        out.push_str("# TYPE flagcore_serve_reload_failures_total counter\n");
        let _ = writeln!(
            out,
            "flagcore_serve_reload_failures_total {}",
            self.reload_failures.load(Ordering::Relaxed)
        );
        out.push_str("# HELP flagcore_serve_flags_disabled Flags of the serving snapshot with enabled false (killed or disabled in FILE).\n");
        out.push_str("# TYPE flagcore_serve_flags_disabled gauge\n");
        if let Some(disabled) = disabled {
            let _ = writeln!(out, "flagcore_serve_flags_disabled {disabled}");
        }
    }
}

/// Middleware: counts each response under the route that answered it.
pub(crate) async fn count(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let row = Metrics::row(
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let response = next.run(request).await;
    app.metrics.count(row, response.status().as_u16());
    response
}

/// `GET /metrics`.
pub(crate) async fn page(State(app): State<Arc<App>>) -> Response {
    let mut out = app.exporter.scrape(&app.store);
    out.push_str(&flagcore::source::statuses_to_prometheus(
        &flagcore::source::statuses(&app.store),
    ));
    let disabled = app.served.get().map(|d| d.disabled());
    app.metrics.write(&mut out, disabled);
    let mut response = out.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
