//! `flagcore serve FILE`: one small server for a fleet (docs/format.md §7.8). It serves
//! FILE, reloaded when it changes, as OFREP evaluations for the languages that cannot link
//! flagcore, as a snapshot with an `ETag` for every binding's `HttpSource`, and takes kills
//! and revives over HTTP from operators with a token, each written to FILE and to an audit
//! file; with `/metrics`, `/healthz`, `/readyz` and an operator console at `/`.
//!
//! One concern per file: `ofrep`, `snapshot` (FILE and `/v1/snapshot`), `admin` (kill and
//! revive), `tokens`, `audit`, `console`, `metrics`, and `http` (shared helpers and the
//! connection loop). The async stack (tokio, hyper, axum, tower-http) lives in this crate
//! only; the core answers every evaluation synchronously from its plan.

mod admin;
mod audit;
mod console;
mod http;
mod metrics;
mod ofrep;
mod snapshot;
mod tokens;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use flagcore::source::FileSource;
use flagcore::{MetricsExporter, Store};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use crate::Failure;

/// The largest request body read, in bytes.
const BODY_LIMIT: usize = 1 << 20;

const OFREP_FLAG: &str = "/ofrep/v1/evaluate/flags/{key}";
const OFREP_FLAGS: &str = "/ofrep/v1/evaluate/flags";
const SNAPSHOT: &str = "/v1/snapshot";
const KILL: &str = "/v1/flags/{key}/kill";
const REVIVE: &str = "/v1/flags/{key}/revive";
const METRICS: &str = "/metrics";
const HEALTHZ: &str = "/healthz";
const READYZ: &str = "/readyz";
const CONSOLE: &str = "/";
const CONSOLE_JS: &str = "/console.js";
const CONSOLE_CSS: &str = "/console.css";

/// Every route, as `/metrics` labels requests.
pub(crate) const ROUTES: &[&str] = &[
    OFREP_FLAG,
    OFREP_FLAGS,
    SNAPSHOT,
    KILL,
    REVIVE,
    METRICS,
    HEALTHZ,
    READYZ,
    CONSOLE,
    CONSOLE_JS,
    CONSOLE_CSS,
];

/// The command line of `flagcore serve`.
pub(crate) struct Options {
    pub(crate) file: PathBuf,
    pub(crate) listen: String,
    pub(crate) tokens: Option<PathBuf>,
    pub(crate) audit: Option<PathBuf>,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) request_timeout: Duration,
}

/// What the handlers share.
pub(crate) struct App {
    store: Arc<Store>,
    file: PathBuf,
    served: Arc<snapshot::Served>,
    editor: admin::Editor,
    tokens: Option<tokens::Tokens>,
    audit: audit::Audit,
    metrics: Arc<metrics::Metrics>,
    exporter: MetricsExporter,
    /// Held while serving: dropping it stops watching FILE.
    _source: FileSource,
}

pub(crate) fn run(options: Options) -> Result<(), Failure> {
    if options.request_timeout.is_zero() {
        return Err(Failure::Usage(
            "--request-timeout must be at least 1".into(),
        ));
    }
    let cors = cors(&options.cors_origins)?;
    let tokens = options
        .tokens
        .as_deref()
        .map(tokens::Tokens::load)
        .transpose()?;
    let audit = audit::Audit::open(options.audit.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("flagcore-serve")
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the server: {e}")))?;
    let listen_failed =
        |e: std::io::Error| Failure::Usage(format!("--listen {}: {e}", options.listen));
    let listener = runtime
        .block_on(http::bind(&options.listen))
        .map_err(listen_failed)?;
    let address = listener.local_addr().map_err(listen_failed)?;

    let store = Arc::new(crate::new_store());
    let served = Arc::new(snapshot::Served::default());
    let metrics = Arc::new(metrics::Metrics::new());
    let source = snapshot::watch(&store, &options.file, &served, &metrics)
        .map_err(|e| Failure::Usage(format!("{}: {e}", options.file.display())))?;
    if tokens.is_none() {
        eprintln!("flagcore serve: no --tokens: kills and revives over HTTP are off (403)");
    }
    let app = Arc::new(App {
        store,
        file: options.file,
        served,
        editor: admin::Editor::default(),
        tokens,
        audit,
        metrics,
        exporter: MetricsExporter::new(),
        _source: source,
    });
    let router = router(app, cors, options.request_timeout);

    let stop = {
        let _runtime = runtime.enter();
        http::StopSignal::install()
            .map_err(|e| Failure::Usage(format!("cannot catch SIGINT/SIGTERM: {e}")))?
    };
    // The address on stdout, so that a script (or a test) listening on port 0 learns it.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on http://{address}");
    let _ = stdout.flush();
    drop(stdout);
    runtime
        .block_on(http::serve(listener, router, options.request_timeout, stop))
        .map_err(|e| Failure::Usage(format!("serving on {address}: {e}")))?;
    eprintln!("flagcore serve: stopped");
    Ok(())
}

/// `--cors-origin`: none (the default) sends no CORS headers; `*` allows any origin.
fn cors(origins: &[String]) -> Result<Option<CorsLayer>, Failure> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| {
                HeaderValue::from_str(o.trim_end_matches('/'))
                    .map_err(|_| Failure::Usage(format!("--cors-origin {o:?}: not an origin")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([CONTENT_TYPE, AUTHORIZATION, IF_NONE_MATCH])
            .expose_headers([ETAG])
            .max_age(Duration::from_secs(600)),
    ))
}

fn router(app: Arc<App>, cors: Option<CorsLayer>, timeout: Duration) -> Router {
    // What browsers may call across origins: OFREP and the snapshot, never the writes.
    let mut public = Router::new()
        .route(OFREP_FLAG, post(ofrep::evaluate_flag))
        .route(OFREP_FLAGS, post(ofrep::evaluate_all))
        .route(SNAPSHOT, get(snapshot::get));
    if let Some(cors) = cors {
        public = public.layer(cors);
    }
    Router::new()
        .merge(public)
        .route(KILL, post(admin::kill))
        .route(REVIVE, post(admin::revive))
        .route(METRICS, get(metrics::page))
        .route(HEALTHZ, get(healthz))
        .route(READYZ, get(readyz))
        .route(CONSOLE, get(console::page))
        .route(CONSOLE_JS, get(console::script))
        .route(CONSOLE_CSS, get(console::style))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            metrics::count,
        ))
        .with_state(app)
}

/// 200 while the process runs.
async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// 200 once a snapshot serves, with its version; 503 before.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    match app.store.version() {
        Some(version) => (StatusCode::OK, format!("ready: version {version}\n")).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no snapshot is serving yet\n",
        )
            .into_response(),
    }
}

async fn not_found() -> Response {
    http::error(StatusCode::NOT_FOUND, "no such route")
}
