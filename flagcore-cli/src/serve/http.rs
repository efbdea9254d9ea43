//! What every route shares: JSON bodies, conditional requests, and the connection loop
//! (HTTP/1.1 on hyper, with a header read timeout so a slow client cannot hold a
//! connection open for nothing).

use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;

/// How long connections still serving a request get to finish after a stop signal.
const DRAIN: Duration = Duration::from_secs(5);

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    json_bytes(status, body.to_string().into_bytes())
}

/// A response whose body is already JSON text.
pub(crate) fn json_bytes(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `{"error": message}` with `status`: the error body of every route but OFREP's.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json(status, &serde_json::json!({ "error": message.into() }))
}

/// A 304 for `etag`: no body, the validator repeated (RFC 9110 §15.4.5).
pub(crate) fn not_modified(etag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// Sets the `ETag` header.
pub(crate) fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

/// Whether the request's `If-None-Match` names `etag`: `*`, or a list of tags compared
/// weakly, as RFC 9110 §13.1.2 says for this header (`W/"x"` matches `"x"`).
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let current = etag.trim_start_matches("W/");
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == current)
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// Pending connections the kernel may queue before the server accepts them (capped by
/// `net.core.somaxconn`): a burst of thousands of clients must not be dropped at the door.
const BACKLOG: u32 = 4096;

/// Listens on `listen` (HOST:PORT; the first of its addresses that binds).
pub(crate) async fn bind(listen: &str) -> io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for address in tokio::net::lookup_host(listen).await? {
        let socket = if address.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // A restart may bind while the last run's connections linger in TIME_WAIT.
        socket.set_reuseaddr(true)?;
        match socket.bind(address).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address")))
}

/// Accepts connections on `listener` and serves `app` on each until `stop` (SIGINT or
/// SIGTERM), then lets requests in progress finish (at most [`DRAIN`]).
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
    stop: StopSignal,
) -> io::Result<()> {
    let mut http1 = hyper::server::conn::http1::Builder::new();
    // hyper applies the header timeout only with a timer; it also closes keep-alive
    // connections that start no new request in that time.
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let stop = stop.received();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let service = TowerToHyperService::new(app.clone());
                    let connection = graceful.watch(http1.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        // A client that goes away or times out ends its own connection only.
                        let _ = connection.await;
                    });
                }
                Err(e) if is_per_connection(&e) => {}
                Err(e) => {
                    // Out of file descriptors, most likely: the connections being served go
                    // on; accepting resumes once some close.
                    eprintln!("flagcore serve: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut stop => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {}
    }
    Ok(())
}

/// Errors of one incoming connection, not of the listener.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment it is made: made before the
/// address is printed, so a signal sent as soon as a script reads the address stops the
/// server cleanly instead of killing it (the handlers were installed lazily before).
pub(crate) struct StopSignal {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignal {
    /// Installs the handlers; call within the server's runtime.
    pub(crate) fn install() -> io::Result<StopSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignal {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    /// Resolves when either signal arrives.
    async fn received(self) {
        #[cfg(unix)]
        {
            let StopSignal {
                mut interrupt,
                mut terminate,
            } = self;
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The body of a request that could not be read: too large, or cut off.
pub(crate) fn body_error(
    rejection: &axum::extract::rejection::BytesRejection,
) -> (StatusCode, String) {
    (rejection.status(), rejection.body_text())
}
