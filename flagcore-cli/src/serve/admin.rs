//! `POST /v1/flags/{key}/kill` and `/revive`: what `flagcore kill` and `revive` do to FILE,
//! over HTTP, for an operator with a token. Each edit reads FILE, edits it
//! (`flagcore::edit`), writes it atomically, serves it at once and records it in the audit,
//! all under one lock, so concurrent edits land one after the other, each with its own
//! version, in the order the audit shows.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use flagcore::edit::{self, EditError};
use flagcore::source::write_atomically;
use serde_json::json;

use super::audit::Entry;
use super::{http, App};

/// The longest kill reason accepted, in characters.
const MAX_REASON: usize = 1000;

/// Serializes the read-edit-write of FILE.
#[derive(Default)]
pub(crate) struct Editor {
    lock: Mutex<()>,
}

pub(crate) async fn kill(
    State(app): State<Arc<App>>,
    key: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    edit_request(app, key, &headers, body, true).await
}

pub(crate) async fn revive(
    State(app): State<Arc<App>>,
    key: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    edit_request(app, key, &headers, body, false).await
}

/// Checks, in this order: writes are on, the token, the flag, the body; then edits.
async fn edit_request(
    app: Arc<App>,
    key: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    kill: bool,
) -> Response {
    let Some(tokens) = &app.tokens else {
        return http::error(
            StatusCode::FORBIDDEN,
            "kills and revives are off: the server was started without --tokens",
        );
    };
    let Some(operator) = tokens.operator(headers).map(str::to_owned) else {
        let mut response = http::error(
            StatusCode::UNAUTHORIZED,
            "a valid operator token is required: Authorization: Bearer TOKEN",
        );
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    let flag = match key {
        Ok(Path(flag)) => flag,
        Err(rejection) => return http::error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    if !app.store.with_plan(|plan| plan.flag_kind(&flag).is_some()) {
        return http::error(
            StatusCode::NOT_FOUND,
            format!("no flag `{flag}` in the serving snapshot"),
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let (status, text) = http::body_error(&rejection);
            return http::error(status, text);
        }
    };
    let reason = match parse_body(&body, kill) {
        Ok(reason) => reason,
        Err(message) => return http::error(StatusCode::BAD_REQUEST, message),
    };
    let editing = Arc::clone(&app);
    let edited = tokio::task::spawn_blocking(move || {
        editing.edit(&flag, reason.as_deref(), &operator, kill)
    })
    .await;
    match edited {
        Ok(Ok(done)) => http::json(StatusCode::OK, &done),
        Ok(Err((status, message))) => http::error(status, message),
        Err(join) => http::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the edit did not finish: {join}"),
        ),
    }
}

/// A kill's body is `{"reason": TEXT}`; a revive's is `{}` or nothing.
fn parse_body(body: &[u8], kill: bool) -> Result<Option<String>, String> {
    let empty = body.iter().all(u8::is_ascii_whitespace);
    if empty && !kill {
        return Ok(None);
    }
    let value: serde_json::Value = if empty {
        return Err("a kill needs a body: {\"reason\": \"why\"}".into());
    } else {
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?
    };
    let serde_json::Value::Object(members) = value else {
        return Err("the body must be a JSON object".into());
    };
    if !kill {
        return match members.keys().find(|k| *k != "reason") {
            Some(unknown) => Err(format!("unknown field `{unknown}`")),
            None => Ok(None),
        };
    }
    if let Some(unknown) = members.keys().find(|k| *k != "reason") {
        return Err(format!(
            "unknown field `{unknown}`; a kill takes only `reason`"
        ));
    }
    match members.get("reason") {
        Some(serde_json::Value::String(reason)) if !reason.trim().is_empty() => {
            if reason.chars().count() > MAX_REASON {
                Err(format!("the reason is longer than {MAX_REASON} characters"))
            } else {
                Ok(Some(reason.trim().to_owned()))
            }
        }
        Some(serde_json::Value::String(_)) => Err("the reason must not be empty".into()),
        Some(_) => Err("`reason` must be a string".into()),
        None => Err("a kill needs a reason: {\"reason\": \"why\"}".into()),
    }
}

impl App {
    /// Reads FILE, sets the flag's `enabled`, writes FILE, serves it and audits it, under
    /// the editor's lock. The error is the status and message to answer with.
    fn edit(
        &self,
        flag: &str,
        reason: Option<&str>,
        operator: &str,
        kill: bool,
    ) -> Result<serde_json::Value, (StatusCode, String)> {
        let _one_edit_at_a_time = self
            .editor
            .lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let shown = self.file.display();
        let internal = |message: String| (StatusCode::INTERNAL_SERVER_ERROR, message);
        let bytes = std::fs::read(&self.file).map_err(|e| internal(format!("{shown}: {e}")))?;
        let now = SystemTime::now();
        // A kill always has its reason (checked with the body); a revive has none.
        let edited = match edit::set_enabled(&bytes, flag, reason.filter(|_| kill), now) {
            Ok(edited) => edited,
            Err(EditError::UnknownFlag(_)) => {
                return Err((
                    StatusCode::NOT_FOUND,
                    format!("no flag `{flag}` in {shown}"),
                ))
            }
            Err(EditError::Invalid(invalid)) => {
                let first = invalid
                    .errors()
                    .first()
                    .map_or_else(String::new, |e| format!(": {e}"));
                return Err((
                    StatusCode::CONFLICT,
                    format!("{shown} is invalid on disk{first}; fix it, then retry (the last good snapshot keeps serving)"),
                ));
            }
            Err(other) => return Err((StatusCode::CONFLICT, format!("{shown}: {other}"))),
        };
        // A flagd file has no version (the edit leaves it at 0): the store numbers it.
        let versioned = edited.to_version != edited.from_version;
        if let (Some(serving), true) = (self.store.version(), versioned) {
            if edited.to_version <= serving {
                return Err((
                    StatusCode::CONFLICT,
                    format!(
                        "{shown} holds version {}, older than the serving {serving}; an edit of it would not serve",
                        edited.from_version
                    ),
                ));
            }
        }
        write_atomically(&self.file, &edited.document)
            .map_err(|e| internal(format!("{shown}: {e}")))?;
        // Serve it now rather than when the file watcher notices (it then skips it).
        let version = match self.store.update(&edited.document) {
            Ok(version) => version,
            // The watcher saw the written file first and serves this very edit already.
            Err(flagcore::Error::Stale { current, .. })
                if versioned && current >= edited.to_version =>
            {
                current
            }
            Err(e) => {
                return Err(internal(format!(
                    "{shown} is written (version {}), but it does not serve: {e}",
                    edited.to_version
                )))
            }
        };
        self.served.offer(version, edited.document);
        self.metrics.edited(kill);
        let action = if kill { "killed" } else { "revived" };
        eprintln!(
            "flagcore serve: {operator} {action} {flag} (version {}){}",
            version,
            reason.map_or_else(String::new, |r| format!(": {r}"))
        );
        self.audit
            .record(&Entry {
                time: now,
                operator,
                kill,
                flag,
                reason,
                version,
            })
            .map_err(|e| {
                eprintln!("flagcore serve: the audit line was not written: {e}");
                internal(format!(
                    "{flag} is {action} (version {}), but the audit line was not written: {e}",
                    version
                ))
            })?;
        Ok(json!({
            "flag": flag,
            "action": if kill { "kill" } else { "revive" },
            "operator": operator,
            "reason": reason,
            "version": version,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies() {
        assert_eq!(
            parse_body(br#"{"reason": " p99 > 2s "}"#, true),
            Ok(Some("p99 > 2s".into()))
        );
        assert!(parse_body(b"", true).is_err());
        assert!(parse_body(br#"{"reason": "  "}"#, true).is_err());
        assert!(parse_body(br#"{"reason": 5}"#, true).is_err());
        assert!(parse_body(br#"{"reason": "x", "by": "me"}"#, true).is_err());
        assert!(parse_body(br#"["reason"]"#, true).is_err());
        assert!(parse_body(b"{", true).is_err());
        assert_eq!(parse_body(b"", false), Ok(None));
        assert_eq!(parse_body(b" {} ", false), Ok(None));
        assert!(parse_body(b"[]", false).is_err());
        assert!(parse_body(br#"{"x": 1}"#, false).is_err());
    }
}
