//! Thread-safety promises, checked by the compiler: the types an application shares
//! between threads (a `Store` in an `Arc` or a `static`, a `FlagHandle` in a `static`, a
//! `Snapshot` or `Details` handed to another thread, errors boxed as
//! `Box<dyn Error + Send + Sync>`) are `Send + Sync`. This file fails to build if one stops
//! being so. No public type is promised *not* to be `Send` or `Sync`, so there are no
//! compile_fail counterparts. The sources' types, behind features, are in
//! `send_sync_sources.rs`.

use flagcore::{
    Change, Counts, Details, Error, ErrorCode, EvaluationContext, Explanation, FlagCounts,
    FlagHandle, GuardrailStatus, InvalidSnapshot, Kill, KillListenerId, Limits, MetadataValue,
    Metrics, MetricsExporter, Observation, Plan, Reason, Snapshot, Store, SubscriptionId,
    ValidationError, ValidationErrorKind, Value, ValueKind,
};

fn send_sync<T: Send + Sync>() {}

/// What `?` into `Box<dyn Error + Send + Sync>` (or anyhow) needs.
fn shareable_error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn the_store_and_what_it_lends_are_send_and_sync() {
    send_sync::<Store>();
    send_sync::<Snapshot>();
    send_sync::<Plan>();
    send_sync::<FlagHandle>();
    send_sync::<Explanation>();
    send_sync::<MetricsExporter>();
}

#[test]
fn contexts_and_answers_are_send_and_sync() {
    send_sync::<EvaluationContext<'static>>();
    send_sync::<Value<'static>>();
    send_sync::<Details<'static, bool>>();
    send_sync::<Details<'static, i64>>();
    send_sync::<Details<'static, f64>>();
    send_sync::<Details<'static, &'static str>>();
    send_sync::<Details<'static, &'static serde_json::Value>>();
    send_sync::<Reason>();
    send_sync::<ErrorCode>();
    send_sync::<ValueKind>();
    send_sync::<MetadataValue>();
}

#[test]
fn kills_changes_guardrails_metrics_and_limits_are_send_and_sync() {
    send_sync::<Kill>();
    send_sync::<KillListenerId>();
    send_sync::<Change>();
    send_sync::<SubscriptionId>();
    send_sync::<Observation>();
    send_sync::<GuardrailStatus>();
    send_sync::<Counts>();
    send_sync::<Metrics>();
    send_sync::<FlagCounts>();
    send_sync::<Limits>();
}

#[test]
fn errors_are_send_sync_and_static() {
    shareable_error::<Error>();
    shareable_error::<InvalidSnapshot>();
    send_sync::<ValidationError>();
    send_sync::<ValidationErrorKind>();
}
