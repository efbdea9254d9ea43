//! `GET /`: the operator console. The page is rendered here (every flag, its state, who
//! killed it, when and why, its metadata; the audit trail); `console.js` adds search, kill
//! and revive through the HTTP API, and refreshes by fetching the page again. No build
//! step: the three assets are compiled into the binary.

use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::snapshot::FlagRow;
use super::App;
use crate::html::escape;

const PAGE: &str = include_str!("console/console.html");
const SCRIPT: &str = include_str!("console/console.js");
const STYLE: &str = include_str!("console/console.css");

/// The metadata members a kill writes (`flagcore::edit`), shown as the flag's state.
const KILL_REASON: &str = "kill_reason";
const KILLED_AT: &str = "killed_at";

/// `GET /`.
pub(crate) async fn page(State(app): State<Arc<App>>) -> Response {
    let audit = app.audit.recent();
    let document = app.served.get();
    let status = match &document {
        Some(d) => format!(
            "snapshot version {} · {} flags · {} killed or disabled · {}",
            d.version,
            d.flags.len(),
            d.disabled(),
            app.file.display()
        ),
        None => format!(
            "no snapshot is serving: {} is missing or invalid",
            app.file.display()
        ),
    };
    let writes = if app.tokens.is_none() {
        "<p class=\"note\">Kills and revives are off: the server was started without --tokens.</p>"
    } else {
        ""
    };
    let mut rows = String::new();
    for flag in document.iter().flat_map(|d| d.flags.iter()) {
        row(&mut rows, flag, &audit);
    }
    let mut trail = String::new();
    for entry in &audit {
        audit_line(&mut trail, entry);
    }
    if audit.is_empty() {
        trail.push_str("<li class=\"meta\">No kill or revive yet.</li>");
    }
    let html = fill(
        PAGE,
        &[
            ("STATUS", &escape(&status)),
            ("WRITES", writes),
            ("ROWS", &rows),
            ("AUDIT", &trail),
        ],
    );
    asset(html, "text/html; charset=utf-8")
}

pub(crate) async fn script() -> Response {
    asset(SCRIPT.to_owned(), "text/javascript; charset=utf-8")
}

pub(crate) async fn style() -> Response {
    asset(STYLE.to_owned(), "text/css; charset=utf-8")
}

/// A console asset: never cached (the page is live state), scripts from this origin only.
fn asset(body: String, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn row(out: &mut String, flag: &FlagRow, audit: &[serde_json::Value]) {
    let name = escape(&flag.name);
    let description = flag.description.as_deref().unwrap_or("");
    let metadata: Vec<(&String, String)> = flag
        .metadata
        .iter()
        .filter(|(k, _)| *k != KILL_REASON && *k != KILLED_AT)
        .map(|(k, v)| (k, plain(v)))
        .collect();
    let mut search = format!("{} {description}", flag.name);
    for (k, v) in &metadata {
        let _ = write!(search, " {k}:{v}");
    }
    let _ = write!(
        out,
        "<tr class=\"flag\" data-flag=\"{name}\" data-search=\"{}\"><td><div class=\"name\">{name}</div>",
        escape(&search.to_lowercase())
    );
    if !description.is_empty() {
        let _ = write!(out, "<div class=\"desc\">{}</div>", escape(description));
    }
    out.push_str("</td><td>");
    let kill_reason = flag.metadata.get(KILL_REASON).map(plain);
    if flag.enabled {
        out.push_str("<span class=\"badge serving\">serving</span>");
    } else {
        let state = if kill_reason.is_some() {
            "killed"
        } else {
            "disabled"
        };
        let _ = write!(out, "<span class=\"badge {state}\">{state}</span>");
        let mut why = Vec::new();
        // Who: the newest audit entry of this flag, when it is the kill in force.
        let last = audit
            .iter()
            .find(|e| e.get("flag").and_then(|f| f.as_str()) == Some(flag.name.as_str()));
        if let Some(operator) = last
            .filter(|e| e.get("action").and_then(|a| a.as_str()) == Some("kill"))
            .and_then(|e| e.get("operator"))
            .and_then(|o| o.as_str())
        {
            why.push(format!("by {}", escape(operator)));
        }
        if let Some(seconds) = flag.metadata.get(KILLED_AT).and_then(|v| v.as_u64()) {
            let at = flagcore::format_rfc3339(UNIX_EPOCH + Duration::from_secs(seconds));
            why.push(format!("at <time>{}</time>", escape(&at)));
        }
        if let Some(reason) = &kill_reason {
            why.push(format!("because: {}", escape(reason)));
        } else {
            why.push("enabled is false in the snapshot".to_owned());
        }
        let _ = write!(out, "<div class=\"why\">{}</div>", why.join(", "));
    }
    out.push_str("</td><td class=\"meta\">");
    for (k, v) in &metadata {
        let _ = write!(out, "<div>{}: {}</div>", escape(k), escape(v));
    }
    let (action, label) = if flag.enabled {
        ("kill", "Kill")
    } else {
        ("revive", "Revive")
    };
    let _ = write!(
        out,
        "</td><td><button type=\"button\" class=\"act {action}\" data-action=\"{action}\">{label}</button></td></tr>"
    );
}

fn audit_line(out: &mut String, entry: &serde_json::Value) {
    let text = |name: &str| entry.get(name).map(plain).unwrap_or_default();
    let action = match entry.get("action").and_then(|a| a.as_str()) {
        Some("kill") => "killed",
        Some("revive") => "revived",
        _ => "changed",
    };
    let _ = write!(
        out,
        "<li><time>{}</time> <b>{}</b> {action} <code>{}</code> (version {})",
        escape(&text("time")),
        escape(&text("operator")),
        escape(&text("flag")),
        escape(&text("version")),
    );
    match entry.get("reason").and_then(|r| r.as_str()) {
        Some(reason) => {
            let _ = write!(out, ": {}</li>", escape(reason));
        }
        None => out.push_str("</li>"),
    }
}

/// The template with each `{{NAME}}` replaced, in one pass: text put in is never read again
/// as a placeholder.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            rest = &rest[start..];
            break;
        };
        match values.iter().find(|(name, _)| *name == &after[..end]) {
            Some((_, value)) => out.push_str(value),
            None => out.push_str(&rest[start..start + 4 + end]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A metadata or audit value as text: strings without quotes.
fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once() {
        let page = fill(
            "<p>{{A}}</p><p>{{B}}</p>{{C}}",
            &[("A", "{{B}}"), ("B", "b")],
        );
        assert_eq!(page, "<p>{{B}}</p><p>b</p>{{C}}");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn a_killed_flag_says_who_when_and_why() {
        let metadata = serde_json::json!({"owner": "payments", "kill_reason": "p99 <2s>", "killed_at": 1_796_191_200u64});
        let flag = FlagRow {
            name: "checkout".into(),
            enabled: false,
            description: Some("New checkout".into()),
            metadata: metadata.as_object().cloned().unwrap_or_default(),
        };
        let audit = [
            serde_json::json!({"time": "t", "operator": "ana", "action": "kill", "flag": "checkout", "reason": "p99 <2s>", "version": 8}),
        ];
        let mut out = String::new();
        row(&mut out, &flag, &audit);
        assert!(out.contains("badge killed"), "{out}");
        assert!(out.contains("by ana"), "{out}");
        assert!(out.contains("2026-12-02T06:00:00.000Z"), "{out}");
        assert!(out.contains("because: p99 &lt;2s&gt;"), "{out}");
        assert!(out.contains("owner: payments"), "{out}");
        assert!(out.contains(">Revive</button>"), "{out}");
    }
}
