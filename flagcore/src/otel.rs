//! OpenTelemetry export (cargo feature `otel`, docs/format.md §5.7): exposures as
//! `feature_flag.evaluation` events and evaluation counts as the `feature_flag.evaluations`
//! counter, sent to a collector over OTLP/HTTP with protobuf.
//!
//! Both go through the official SDK and OTLP exporter. Their HTTP requests are made with
//! ureq, a blocking client (the one `HttpSource` uses), so nothing here needs an async
//! runtime: [`OtelSink`] exports on the exposure tracking thread, and [`OtelMetrics`] on
//! the SDK's periodic reader thread.
//!
//! ```no_run
//! use std::sync::Arc;
//! use flagcore::otel::{OtelConfig, OtelMetrics, OtelSink};
//! use flagcore::{ExposureOptions, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(Store::new());
//! let config = OtelConfig::new("http://localhost:4318").service_name("checkout-api");
//! store.track_exposures(OtelSink::new(&config)?, ExposureOptions::new())?;
//! let metrics = OtelMetrics::start(Arc::clone(&store), &config)?;
//! // ... evaluate ...
//! store.flush_exposures(); // every exposure so far is at the collector
//! metrics.flush()?; // and the counts
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::{MeterProvider as _, ObservableCounter};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{
    LogBatch, LogExporter, LogProcessor, SdkLogRecord, SdkLogger, SdkLoggerProvider,
};
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::Resource;

use crate::eval::details::Reason;
use crate::exposure::{Exposure, ExposureSink};
use crate::metrics::Metrics;
use crate::store::Store;

/// `feature_flag.provider.name` on every exposure.
pub const PROVIDER_NAME: &str = "flagcore";
/// The event name of an exposure, as the semantic conventions for feature flags name it.
pub const EVENT_NAME: &str = "feature_flag.evaluation";
/// The name of the evaluation counter (the conventions define no metric).
pub const COUNTER_NAME: &str = "feature_flag.evaluations";

/// Log records per OTLP request.
const MAX_EXPORT_BATCH: usize = 512;
/// The largest collector answer read (the built-in clients' limit).
const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// Where and how to export: the collector's OTLP/HTTP endpoint and the exporters' settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OtelConfig {
    /// The collector's base URL, e.g. `http://localhost:4318`: exposures are posted to
    /// `{endpoint}/v1/logs`, counts to `{endpoint}/v1/metrics`.
    pub endpoint: String,
    /// Extra request headers (authentication, say). `OTEL_EXPORTER_OTLP_HEADERS` adds to
    /// them, as in every OTLP exporter.
    pub headers: Vec<(String, String)>,
    /// How long one request may take. Default 10 s.
    pub timeout: Duration,
    /// The resource's `service.name`; without it, the SDK's (`OTEL_SERVICE_NAME`, else
    /// `unknown_service`).
    pub service_name: Option<String>,
    /// How often [`OtelMetrics`] exports the counts. Default 60 s.
    pub export_interval: Duration,
}

impl OtelConfig {
    /// Exports to the collector at `endpoint` (its base URL, e.g. `http://localhost:4318`).
    pub fn new(endpoint: impl Into<String>) -> OtelConfig {
        OtelConfig {
            endpoint: endpoint.into(),
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            service_name: None,
            export_interval: Duration::from_secs(60),
        }
    }

    /// With a request header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// With a request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// With the resource's `service.name`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Exporting the counts every `interval`.
    pub fn export_interval(mut self, interval: Duration) -> Self {
        self.export_interval = interval;
        self
    }

    fn url(&self, signal: &str) -> String {
        format!("{}/v1/{signal}", self.endpoint.trim_end_matches('/'))
    }

    fn headers(&self) -> HashMap<String, String> {
        // The OTLP exporter percent-decodes header values (as it reads
        // OTEL_EXPORTER_OTLP_HEADERS); escaping `%` keeps a value such as `a%20b` as given.
        self.headers
            .iter()
            .map(|(name, value)| (name.clone(), value.replace('%', "%25")))
            .collect()
    }

    fn resource(&self) -> Resource {
        let builder = Resource::builder();
        match &self.service_name {
            Some(name) => builder.with_service_name(name.clone()).build(),
            None => builder.build(),
        }
    }

    fn http_client(&self) -> UreqClient {
        let agent = ureq::Agent::config_builder()
            // The exporter reads the status: it retries 429 and 5xx, and reports the rest.
            .http_status_as_error(false)
            .timeout_global(Some(self.timeout))
            .user_agent(concat!("flagcore/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        UreqClient { agent }
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("flagcore")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

fn build_error(error: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error.to_string())
}

fn export_error(error: OTelSdkError) -> io::Error {
    io::Error::other(error.to_string())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An [`ExposureSink`] that sends each exposure to the collector as an OpenTelemetry
/// event (a log record named `feature_flag.evaluation`) following the semantic
/// conventions for feature flags:
///
/// | attribute | value |
/// | --- | --- |
/// | `feature_flag.key` | the flag |
/// | `feature_flag.result.variant` | the variant served |
/// | `feature_flag.result.reason` | the reason in lower case: `static`, `default`, `targeting_match`, `split`, `disabled`, `error` as the conventions define them; `prerequisite_failed` |
/// | `feature_flag.context.id` | the randomisation unit (the bucketed `by` value, else the targeting key); absent when neither exists |
/// | `feature_flag.version` | the snapshot version, as a string |
/// | `feature_flag.provider.name` | `flagcore` |
/// | `flagcore.targeting_key` | the targeting key, when the context had one |
/// | `flagcore.rule_index`, `flagcore.rule_id` | the rule that decided, when one did |
/// | `flagcore.bucket`, `flagcore.step` | the bucket and schedule step, when a rollout decided |
///
/// The record's timestamp is the exposure's time. Each batch the tracking thread hands
/// over is exported before [`deliver`](ExposureSink::deliver) returns (512 records per
/// request, transient failures retried by the exporter): an exposure counted as delivered
/// in [`Store::exposure_stats`] is one the collector accepted, and a refused batch counts
/// as a sink error. Nothing is left queued, so flushing and stopping lose nothing.
pub struct OtelSink {
    provider: SdkLoggerProvider,
    logger: SdkLogger,
}

impl fmt::Debug for OtelSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelSink").finish_non_exhaustive()
    }
}

impl OtelSink {
    /// A sink exporting to `config`'s collector. Fails on an invalid endpoint.
    pub fn new(config: &OtelConfig) -> io::Result<OtelSink> {
        let exporter = opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(config.url("logs"))
            .with_timeout(config.timeout)
            .with_headers(config.headers())
            .with_http_client(config.http_client())
            .build()
            .map_err(build_error)?;
        let provider = SdkLoggerProvider::builder()
            .with_resource(config.resource())
            .with_log_processor(ExportOnFlush {
                exporter,
                pending: Mutex::new(Vec::new()),
            })
            .build();
        let logger = provider.logger_with_scope(scope());
        Ok(OtelSink { provider, logger })
    }

    fn emit(&self, exposure: &Exposure) {
        let mut record = self.logger.create_log_record();
        record.set_event_name(EVENT_NAME);
        record.set_timestamp(exposure.time);
        record.add_attribute("feature_flag.key", exposure.flag.clone());
        record.add_attribute("feature_flag.result.variant", exposure.variant.clone());
        record.add_attribute("feature_flag.result.reason", reason_value(exposure.reason));
        if let Some(unit) = &exposure.unit {
            record.add_attribute("feature_flag.context.id", unit.clone());
        }
        record.add_attribute("feature_flag.version", exposure.version.to_string());
        record.add_attribute("feature_flag.provider.name", PROVIDER_NAME);
        if let Some(key) = &exposure.key {
            record.add_attribute("flagcore.targeting_key", key.clone());
        }
        if let Some(index) = exposure.rule_index {
            record.add_attribute("flagcore.rule_index", index as i64);
        }
        if let Some(id) = &exposure.rule_id {
            record.add_attribute("flagcore.rule_id", id.clone());
        }
        if let Some(bucket) = exposure.bucket {
            record.add_attribute("flagcore.bucket", i64::from(bucket));
        }
        if let Some(step) = exposure.step {
            record.add_attribute("flagcore.step", step as i64);
        }
        self.logger.emit(record);
    }
}

impl ExposureSink for OtelSink {
    fn deliver(&mut self, batch: &[Exposure]) -> io::Result<()> {
        for exposure in batch {
            self.emit(exposure);
        }
        self.provider.force_flush().map_err(export_error)
    }
}

impl Drop for OtelSink {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// `feature_flag.result.reason`: the conventions' lower-case values; flagcore's
/// `PREREQUISITE_FAILED`, which they do not define, the same way.
fn reason_value(reason: Reason) -> &'static str {
    match reason {
        Reason::Static => "static",
        Reason::Default => "default",
        Reason::TargetingMatch => "targeting_match",
        Reason::Split => "split",
        Reason::Disabled => "disabled",
        Reason::PrerequisiteFailed => "prerequisite_failed",
        Reason::Error => "error",
    }
}

/// A log processor that keeps what is emitted until a flush, then exports it on the
/// flushing thread and reports the outcome. The tracking thread already batches
/// exposures, so the SDK's batch processor would only add a second queue, one that drops
/// records when full, and a flush that reports the last export only.
#[derive(Debug)]
struct ExportOnFlush<E> {
    exporter: E,
    pending: Mutex<Vec<(SdkLogRecord, InstrumentationScope)>>,
}

impl<E: LogExporter> LogProcessor for ExportOnFlush<E> {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        lock(&self.pending).push((record.clone(), scope.clone()));
    }

    /// Exports everything emitted so far; stops at the first batch the collector refuses
    /// (the exporter has retried it already), dropping the rest.
    fn force_flush(&self) -> OTelSdkResult {
        let pending = std::mem::take(&mut *lock(&self.pending));
        for chunk in pending.chunks(MAX_EXPORT_BATCH) {
            let records: Vec<_> = chunk
                .iter()
                .map(|(record, scope)| (record, scope))
                .collect();
            futures_executor::block_on(self.exporter.export(LogBatch::new(&records)))?;
        }
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let flushed = self.force_flush();
        let shut = self.exporter.shutdown_with_timeout(timeout);
        flushed.and(shut)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.exporter.set_resource(resource);
    }
}

/// Exports a store's evaluation counts as the OpenTelemetry counter
/// `feature_flag.evaluations` (unit `{evaluation}`, monotonic, cumulative): one series
/// per flag and variant served (`feature_flag.key`, `feature_flag.result.variant`), and
/// per flag one for the evaluations that served the caller's default
/// (`feature_flag.key`, `feature_flag.result.reason` = `error`).
///
/// Every export (each [`OtelConfig::export_interval`], on [`flush`](OtelMetrics::flush),
/// and a last one on [`shutdown`](OtelMetrics::shutdown) or drop) takes the store's new
/// counts with [`Store::take_metrics`] into running totals and reports the totals, so a
/// failed export loses nothing: the next one carries it. Let it be the store's only
/// taker of metrics: a [`MetricsExporter`](crate::MetricsExporter) on the same store would
/// see only what this one left, and this one only what it left.
pub struct OtelMetrics {
    provider: SdkMeterProvider,
    _counter: ObservableCounter<u64>,
}

impl fmt::Debug for OtelMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelMetrics").finish_non_exhaustive()
    }
}

impl OtelMetrics {
    /// Starts exporting `store`'s counts to `config`'s collector every
    /// `config.export_interval` (on a thread of the SDK's). Keeps the store alive until
    /// shut down or dropped. Fails on an invalid endpoint.
    pub fn start(store: Arc<Store>, config: &OtelConfig) -> io::Result<OtelMetrics> {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(config.url("metrics"))
            .with_timeout(config.timeout)
            .with_headers(config.headers())
            .with_http_client(config.http_client())
            .with_temporality(Temporality::Cumulative)
            .build()
            .map_err(build_error)?;
        let reader = PeriodicReader::builder(exporter)
            .with_interval(config.export_interval)
            .build();
        let provider = SdkMeterProvider::builder()
            .with_resource(config.resource())
            .with_reader(reader)
            .build();
        let totals = Mutex::new(Metrics::default());
        let counter = provider
            .meter_with_scope(scope())
            .u64_observable_counter(COUNTER_NAME)
            .with_unit("{evaluation}")
            .with_description("Flag evaluations, by flag and the variant served.")
            .with_callback(move |observer| {
                let mut totals = lock(&totals);
                totals.merge(&store.take_metrics());
                for (flag, counts) in &totals.flags {
                    for (variant, n) in &counts.variants {
                        observer.observe(
                            *n,
                            &[
                                KeyValue::new("feature_flag.key", flag.clone()),
                                KeyValue::new("feature_flag.result.variant", variant.clone()),
                            ],
                        );
                    }
                    if counts.defaults > 0 {
                        observer.observe(
                            counts.defaults,
                            &[
                                KeyValue::new("feature_flag.key", flag.clone()),
                                KeyValue::new("feature_flag.result.reason", "error"),
                            ],
                        );
                    }
                }
            })
            .build();
        Ok(OtelMetrics {
            provider,
            _counter: counter,
        })
    }

    /// Takes the counts and exports them now; returns when the collector answered.
    pub fn flush(&self) -> io::Result<()> {
        self.provider.force_flush().map_err(export_error)
    }

    /// Exports the counts a last time and stops (dropping does the same, ignoring errors).
    pub fn shutdown(self) -> io::Result<()> {
        self.provider.shutdown().map_err(export_error)
    }
}

impl Drop for OtelMetrics {
    fn drop(&mut self) {
        // A second shutdown after `shutdown` only says it was already done.
        let _ = self.provider.shutdown();
    }
}

/// The exporters' HTTP client: ureq, blocking, on the exporting thread. The exporter's
/// future completes without ever waiting on a reactor, so `block_on` suffices to drive it.
#[derive(Debug)]
struct UreqClient {
    agent: ureq::Agent,
}

#[async_trait::async_trait]
impl HttpClient for UreqClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let mut response = self.agent.run(Request::from_parts(parts, &body[..]))?;
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()?;
        let (parts, _) = response.into_parts();
        Ok(Response::from_parts(parts, Bytes::from(answer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_the_conventions_lower_case_values() {
        for reason in Reason::ALL {
            assert_eq!(reason_value(reason), reason.as_str().to_ascii_lowercase());
        }
    }

    #[test]
    fn signal_urls_append_the_otlp_paths() {
        let config = OtelConfig::new("http://127.0.0.1:4318/");
        assert_eq!(config.url("logs"), "http://127.0.0.1:4318/v1/logs");
        assert_eq!(config.url("metrics"), "http://127.0.0.1:4318/v1/metrics");
    }

    #[test]
    fn an_invalid_endpoint_is_refused() {
        let err = OtelSink::new(&OtelConfig::new("not a url")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
