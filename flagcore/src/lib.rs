//! flagcore: embeddable feature-flag and cohort evaluation.
//!
//! A service loads a *snapshot* of flag rules (a JSON document, see `docs/format.md` §2 and
//! `schema/snapshot.schema.json`) into a [`Store`] and asks, on every request, which
//! variant of a flag a user gets. Evaluation reads an immutable compiled plan: no network
//! call, no lock, no heap allocation. Updates validate off to the side and swap in
//! atomically; an invalid or stale snapshot never replaces the serving one. Runtime
//! [kills](Store::kill) survive reloads.
//!
//! ```
//! use flagcore::{EvaluationContext, Reason, Store, Value};
//!
//! let store = Store::from_bytes(br#"{
//!   "version": 1,
//!   "segments": {"beta": {"rules": [{"conditions": [
//!       {"attribute": "beta_opt_in", "op": "eq", "values": [true]}]}]}},
//!   "flags": {"new-checkout": {
//!     "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
//!     "rules": [{"id": "beta-half", "conditions": [{"in_segment": "beta"}],
//!                "serve": {"rollout": {"split": [{"variant": "on", "weight": 50},
//!                                                {"variant": "off", "weight": 50}]}}}],
//!     "fallthrough": {"variant": "off"}}}
//! }"#)?;
//!
//! let attrs = [("beta_opt_in", Value::Bool(true))];
//! let ctx = EvaluationContext::new("user-17").with_attributes(&attrs);
//! let snapshot = store.snapshot();
//! let details = snapshot.bool_details("new-checkout", &ctx, false);
//! assert_eq!(details.reason, Reason::Split);
//! assert_eq!(details.rule_id, Some("beta-half"));
//! assert_eq!(details.value, details.bucket.unwrap() < 50_000);
//! # Ok::<(), flagcore::Error>(())
//! ```
//!
//! On the hot path, [`Store::bool`], [`Store::int`] and [`Store::float`] return plain
//! values, and [`Store::with_plan`] lends the serving [`Plan`] (typed getters, details,
//! string and JSON values borrowed from it) for the length of a closure; both read a plan
//! each thread caches while it stays the serving one. A [`FlagHandle`] in place of a flag
//! name skips the name lookup. A [`Snapshot`] is a view to hold across several calls.
//!
//! Evaluation order, bucketing and the snapshot format are normative and shared by the
//! Python, C and Go bindings; `docs/format.md` records how flagcore reads the places
//! where the specification leaves a choice.
//!
//! # Features
//!
//! None is on by default; each adds to the `source` module, which exists only with one of
//! them:
//!
//! - `cache`: `source::DiskCache`, the last good snapshot and the runtime kills on disk
//!   (std only);
//! - `file`: `source::FileSource` (a snapshot file reloaded on change) and
//!   `source::KillsFileSource` (a host's kill switches), with `notify`; implies `cache`;
//! - `http`: `source::HttpSource`, an http(s) URL polled with `ETag`s, with `ureq`
//!   (rustls); implies `cache`.
//! - `otel` (its own module, not `source`): exposures as OpenTelemetry
//!   `feature_flag.evaluation` events (`otel::OtelSink`) and evaluation counts as the
//!   `feature_flag.evaluations` counter (`otel::OtelMetrics`), sent over OTLP/HTTP with the
//!   official crates; no async runtime.
//!
//! [`MetricsExporter`] renders the evaluation counts, kills and version in the Prometheus
//! text format, with or without sources.

#![deny(missing_docs)]

mod change;
pub mod diff;
mod document;
pub mod edit;
mod error;
mod eval;
mod export;
mod exposure;
pub mod flagd;
mod guardrail;
mod kill;
mod limits;
mod metrics;
#[cfg(feature = "otel")]
pub mod otel;
mod plan;
mod primitives;
mod runtime;
#[cfg(feature = "cache")]
pub mod source;
mod store;
mod validate;

pub use change::{Change, SubscriptionId};
pub use document::{MetadataValue, ValueKind};
pub use error::{Error, InvalidSnapshot, ValidationError, ValidationErrorKind};
pub use eval::bucket::{bucket, BUCKETS};
pub use eval::context::{EvaluationContext, Value};
pub use eval::details::{Details, ErrorCode, Reason};
pub use eval::explain::Explanation;
pub use eval::getters::Snapshot;
pub use eval::handle::{FlagHandle, FlagKey};
pub use export::MetricsExporter;
pub use exposure::{Exposure, ExposureOptions, ExposureSink, ExposureStats, JsonLinesSink};
pub use guardrail::GuardrailStatus;
pub use kill::{Kill, KillListenerId};
pub use limits::Limits;
pub use metrics::{FlagCounts, Metrics};
pub use plan::Plan;
pub use runtime::evidence::{Counts, Observation};
pub use store::Store;

/// Parses an RFC 3339 timestamp (`2026-12-02T06:00:00Z`, fractional seconds allowed, an
/// offset `Z` or `±HH:MM` required) as the snapshot format reads schedule steps, e.g. to
/// evaluate as of an instant with [`EvaluationContext::at`].
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// let instant = flagcore::parse_rfc3339("2026-12-02T07:00:00.5+01:00").unwrap();
/// assert_eq!(instant, SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_191_200_500));
/// assert_eq!(flagcore::parse_rfc3339("2026-12-02T06:00:00"), None); // no offset
/// ```
pub fn parse_rfc3339(text: &str) -> Option<std::time::SystemTime> {
    let nanos = primitives::time::parse_rfc3339(text)?;
    let magnitude = std::time::Duration::new(
        u64::try_from(nanos.unsigned_abs() / 1_000_000_000).ok()?,
        (nanos.unsigned_abs() % 1_000_000_000) as u32,
    );
    if nanos < 0 {
        std::time::SystemTime::UNIX_EPOCH.checked_sub(magnitude)
    } else {
        std::time::SystemTime::UNIX_EPOCH.checked_add(magnitude)
    }
}

/// Writes `time` as RFC 3339 in UTC with milliseconds, `2026-12-02T06:00:00.250Z`, as
/// exposure lines do; [`parse_rfc3339`] reads it back.
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_191_200_250);
/// assert_eq!(flagcore::format_rfc3339(time), "2026-12-02T06:00:00.250Z");
/// assert_eq!(flagcore::parse_rfc3339("2026-12-02T06:00:00.250Z"), Some(time));
/// ```
pub fn format_rfc3339(time: std::time::SystemTime) -> String {
    let millis = match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => after.as_millis() as i64,
        Err(before) => -(before.duration().as_millis() as i64),
    };
    primitives::time::format_millis_utc(millis)
}

/// Validates a snapshot document without loading it: every problem, each with its path.
///
/// ```
/// let err = flagcore::validate(br#"{"version": 1, "flags": {"f": {
///   "variants": {"on": true}, "enabled": true, "off_variant": "of",
///   "fallthrough": {"variant": "on"}}}}"#).unwrap_err();
/// assert_eq!(err.errors()[0].to_string(),
///            "flags.f.off_variant: unknown variant `of`; flag `f` has: on");
/// ```
///
/// A flagd document ([`flagd`]) is valid when every flag in it serves without an error;
/// each flag that would answer with one is reported with its path, and its version is 0.
pub fn validate(bytes: &[u8]) -> Result<u64, InvalidSnapshot> {
    let limits = Limits::default();
    match validate::validate_document(bytes, &limits) {
        Ok(document) => Ok(document.version),
        Err(_) if flagd::Format::detect(bytes) == flagd::Format::Flagd => {
            let loaded = flagd::load(&[bytes], &limits, flagd::FractionalVersion::default())?;
            if loaded.problems.is_empty() {
                Ok(0)
            } else {
                Err(InvalidSnapshot {
                    errors: loaded.problems,
                })
            }
        }
        Err(native) => Err(native),
    }
}
