//! OFREP, the OpenFeature Remote Evaluation Protocol (`open-feature/protocol`,
//! `service/openapi.yaml`): `POST /ofrep/v1/evaluate/flags/{key}` and the bulk
//! `POST /ofrep/v1/evaluate/flags`, answered from the serving plan with the typed getters.
//!
//! OFREP carries no flag type, so each flag is read with the getter of its own type: a
//! type mismatch cannot happen, and integer flags go out as JSON integers, float flags as
//! JSON floats. Reasons are OpenFeature's; `PREREQUISITE_FAILED`, which OpenFeature's
//! clients do not know, goes out as `DISABLED` (the flag serves its `off_variant`) with the
//! exact reason in `metadata.flagcore_reason`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use flagcore::{Details, ErrorCode, EvaluationContext, Plan, Reason, ValueKind};
use serde_json::{json, Map, Value};
use xxhash_rust::xxh3::Xxh3;

use super::{http, App};
use crate::attrs::Owned;

/// An evaluation request's context, owned: the targeting key and the attributes flagcore
/// can evaluate.
struct Context {
    key: Option<String>,
    attributes: Vec<(String, Owned)>,
    /// The `context` object as received, for the bulk `ETag`.
    raw: Value,
}

/// Why a request could not be evaluated at all: OFREP's request-level errors.
struct BadRequest {
    code: &'static str,
    details: String,
}

/// Reads `{"context": {"targetingKey": KEY, NAME: VALUE, ...}}`. An empty body is an empty
/// context. Attribute values that are not strings, numbers or booleans (objects, lists,
/// null) cannot be evaluated by flagcore and are left out: clauses on them are false.
fn parse_request(body: &[u8]) -> Result<Context, BadRequest> {
    let parse_error = |details: String| BadRequest {
        code: "PARSE_ERROR",
        details,
    };
    let invalid = |details: String| BadRequest {
        code: "INVALID_CONTEXT",
        details,
    };
    let mut context = Context {
        key: None,
        attributes: Vec::new(),
        raw: Value::Null,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(context);
    }
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| parse_error(format!("the body is not JSON: {e}")))?;
    let Value::Object(mut request) = request else {
        return Err(parse_error(
            "the body must be a JSON object: {\"context\": {...}}".into(),
        ));
    };
    let members = match request.remove("context") {
        None => return Ok(context),
        Some(Value::Object(members)) => members,
        Some(other) => {
            return Err(invalid(format!(
                "`context` must be an object, not {}",
                json_type(&other)
            )))
        }
    };
    for (name, value) in &members {
        if name == "targetingKey" {
            match value {
                Value::String(key) => context.key = Some(key.clone()),
                Value::Null => {}
                other => {
                    return Err(invalid(format!(
                        "`targetingKey` must be a string, not {}",
                        json_type(other)
                    )))
                }
            }
            continue;
        }
        let owned = match value {
            Value::String(s) => Owned::String(s.clone()),
            Value::Bool(b) => Owned::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Owned::Int(i),
                None => Owned::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::Null | Value::Array(_) | Value::Object(_) => continue,
        };
        context.attributes.push((name.clone(), owned));
    }
    context.raw = Value::Object(members);
    Ok(context)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One flag's evaluation: the OFREP success object, or its error code.
enum Evaluated {
    Success(Value),
    Failure(ErrorCode),
}

/// Evaluates `flag` with the getter of its type and writes OFREP's success object.
fn evaluate(plan: &Plan, flag: &str, ctx: &EvaluationContext<'_>) -> Evaluated {
    let Some(kind) = plan.flag_kind(flag) else {
        return Evaluated::Failure(ErrorCode::FlagNotFound);
    };
    let (value, variant, reason, error) = match kind {
        ValueKind::Bool => parts(plan.bool_details(flag, ctx, false), Value::Bool),
        ValueKind::String => parts(plan.string_details(flag, ctx, ""), |s| {
            Value::String(s.to_owned())
        }),
        ValueKind::Int => parts(plan.int_details(flag, ctx, 0), Value::from),
        ValueKind::Float => parts(plan.float_details(flag, ctx, 0.0), Value::from),
        ValueKind::Json => parts(plan.json_details(flag, ctx, &Value::Null), Value::clone),
    };
    if let Some(error) = error {
        return Evaluated::Failure(error);
    }
    let mut metadata = Map::new();
    for (name, value) in plan.flag_metadata(flag) {
        metadata.insert(name.to_string(), value.to_json());
    }
    // The caller's default without an error (a disabled flagd flag, a `null` serve):
    // OFREP's success without `value`, which tells the client to use its code default.
    let Some(variant) = variant else {
        return Evaluated::Success(json!({
            "key": flag,
            "reason": reason.as_str(),
            "metadata": metadata,
        }));
    };
    let reason = match reason {
        Reason::PrerequisiteFailed => {
            metadata.insert("flagcore_reason".into(), reason.as_str().into());
            Reason::Disabled
        }
        other => other,
    };
    Evaluated::Success(json!({
        "key": flag,
        "value": value,
        "variant": variant,
        "reason": reason.as_str(),
        "metadata": metadata,
    }))
}

type Parts<'s> = (Value, Option<&'s str>, Reason, Option<ErrorCode>);

fn parts<'s, T>(details: Details<'s, T>, to_json: impl FnOnce(T) -> Value) -> Parts<'s> {
    (
        to_json(details.value),
        details.variant,
        details.reason,
        details.error_code,
    )
}

fn failure_details(flag: &str, code: ErrorCode, version: u64) -> String {
    match code {
        ErrorCode::FlagNotFound => format!("no flag `{flag}` in snapshot version {version}"),
        ErrorCode::TargetingKeyMissing => format!(
            "flag `{flag}` serves a rollout by an attribute the context lacks, or that is neither a string nor an integer (the targeting key, unless the rollout names another attribute)"
        ),
        other => format!("flag `{flag}`: {other}"),
    }
}

/// The status of an evaluation error of one flag.
fn failure_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::FlagNotFound => StatusCode::NOT_FOUND,
        ErrorCode::ProviderNotReady => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// OFREP's answer while no snapshot serves: a 500 with the general error body.
fn not_ready(key: Option<&str>) -> Response {
    let mut body = json!({
        "errorCode": ErrorCode::ProviderNotReady.as_str(),
        "errorDetails": "no snapshot is serving yet: FILE is missing or invalid (see the server's log)",
    });
    if let Some(key) = key {
        body["key"] = key.into();
    }
    http::json(StatusCode::INTERNAL_SERVER_ERROR, &body)
}

fn borrow(context: &Context) -> Vec<(&str, flagcore::Value<'_>)> {
    context
        .attributes
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_value()))
        .collect()
}

/// `POST /ofrep/v1/evaluate/flags/{key}`.
pub(crate) async fn evaluate_flag(
    State(app): State<Arc<App>>,
    key: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let key = match key {
        Ok(Path(key)) => key,
        Err(rejection) => {
            return http::json(
                StatusCode::BAD_REQUEST,
                &json!({"key": "", "errorCode": "PARSE_ERROR", "errorDetails": rejection.body_text()}),
            )
        }
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let (status, text) = http::body_error(&rejection);
            return http::json(
                status,
                &json!({"key": key, "errorCode": "PARSE_ERROR", "errorDetails": text}),
            );
        }
    };
    let context = match parse_request(&body) {
        Ok(context) => context,
        Err(bad) => {
            return http::json(
                StatusCode::BAD_REQUEST,
                &json!({"key": key, "errorCode": bad.code, "errorDetails": bad.details}),
            )
        }
    };
    let attributes = borrow(&context);
    let ctx = match &context.key {
        Some(k) => EvaluationContext::new(k),
        None => EvaluationContext::anonymous(),
    }
    .with_attributes(&attributes);
    app.store.with_plan(|plan| {
        let Some(version) = plan.version() else {
            return not_ready(Some(&key));
        };
        match evaluate(plan, &key, &ctx) {
            Evaluated::Success(body) => http::json(StatusCode::OK, &body),
            Evaluated::Failure(code) => http::json(
                failure_status(code),
                &json!({
                    "key": key,
                    "errorCode": code.as_str(),
                    "errorDetails": failure_details(&key, code, version),
                }),
            ),
        }
    })
}

/// `POST /ofrep/v1/evaluate/flags`: every flag for one context, with an `ETag` that
/// covers the snapshot, the context and the answer (a scheduled step that takes effect
/// changes the answer without a new snapshot), and a 304 when the client has it.
pub(crate) async fn evaluate_all(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let (status, text) = http::body_error(&rejection);
            return http::json(
                status,
                &json!({"errorCode": "PARSE_ERROR", "errorDetails": text}),
            );
        }
    };
    let context = match parse_request(&body) {
        Ok(context) => context,
        Err(bad) => {
            return http::json(
                StatusCode::BAD_REQUEST,
                &json!({"errorCode": bad.code, "errorDetails": bad.details}),
            )
        }
    };
    let attributes = borrow(&context);
    let ctx = match &context.key {
        Some(k) => EvaluationContext::new(k),
        None => EvaluationContext::anonymous(),
    }
    .with_attributes(&attributes);
    let answer = app.store.with_plan(|plan| {
        let version = plan.version()?;
        let flags: Vec<Value> = plan
            .flag_names()
            .map(|flag| match evaluate(plan, flag, &ctx) {
                Evaluated::Success(body) => body,
                Evaluated::Failure(code) => json!({
                    "key": flag,
                    "errorCode": code.as_str(),
                    "errorDetails": failure_details(flag, code, version),
                }),
            })
            .collect();
        Some((version, json!({ "flags": flags }).to_string()))
    });
    let Some((version, answer)) = answer else {
        return not_ready(None);
    };
    let mut hash = Xxh3::new();
    hash.update(&version.to_le_bytes());
    hash.update(context.raw.to_string().as_bytes());
    hash.update(&[0]);
    hash.update(answer.as_bytes());
    let etag = format!("\"{version}-{:032x}\"", hash.digest128());
    if http::if_none_match(&headers, &etag) {
        return http::not_modified(&etag);
    }
    http::with_etag(http::json_bytes(StatusCode::OK, answer), &etag)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parsed(body: &str) -> Result<Context, &'static str> {
        parse_request(body.as_bytes()).map_err(|bad| bad.code)
    }

    #[test]
    fn contexts() {
        let c = parsed(r#"{"context": {"targetingKey": "u1", "country": "DE", "age": 42, "score": 1.5, "beta": true, "tags": ["a"], "none": null}}"#).unwrap();
        assert_eq!(c.key.as_deref(), Some("u1"));
        let mut names: Vec<&str> = c.attributes.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["age", "beta", "country", "score"]);
        assert!(matches!(
            c.attributes.iter().find(|(n, _)| n == "age"),
            Some((_, Owned::Int(42)))
        ));
        assert!(parsed("").unwrap().key.is_none());
        assert!(parsed("{}").unwrap().key.is_none());
        assert!(parsed(r#"{"context": {}}"#).unwrap().key.is_none());
        assert_eq!(parsed("{").err(), Some("PARSE_ERROR"));
        assert_eq!(parsed("[1]").err(), Some("PARSE_ERROR"));
        assert_eq!(parsed(r#"{"context": 5}"#).err(), Some("INVALID_CONTEXT"));
        assert_eq!(
            parsed(r#"{"context": null}"#).err(),
            Some("INVALID_CONTEXT")
        );
        assert_eq!(
            parsed(r#"{"context": {"targetingKey": 7}}"#).err(),
            Some("INVALID_CONTEXT")
        );
    }
}
