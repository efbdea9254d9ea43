//! OpenTelemetry export (feature `otel`, docs/format.md §5.7) against a real OTLP/HTTP
//! receiver on 127.0.0.1 that decodes the protobuf payloads: exposures arrive as
//! `feature_flag.evaluation` events with the conventions' attributes, evaluation counts
//! as a cumulative counter counted once, refusals and retries are accounted for, and
//! dropping the store delivers everything accepted.

#![cfg(feature = "otel")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/otlp_receiver.rs"]
mod otlp_receiver;

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flagcore::otel::{OtelConfig, OtelMetrics, OtelSink};
use flagcore::{EvaluationContext, Exposure, ExposureOptions, ExposureSink, Store, Value};
use otlp_receiver::{LogRecord, OtlpReceiver, SumPoint};
use serde_json::json;

const SNAPSHOT: &str = r#"{"version": 9, "flags": {
  "checkout": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "exposures": true, "prerequisites": [{"flag": "payments", "variant": "on"}],
    "targets": [{"variant": "on", "keys": ["vip"]}],
    "rules": [{"id": "by-account", "conditions": [{"attribute": "plan", "op": "eq", "values": ["pro"]}],
               "serve": {"rollout": {"by": "account", "split": [{"variant": "on", "weight": 50},
                                                              {"variant": "off", "weight": 50}]}}}],
    "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}],
                                "schedule": [{"at": "2000-01-01T00:00:00Z",
                                  "split": [{"variant": "on", "weight": 20}, {"variant": "off", "weight": 80}]}]}}},
  "theme": {"variants": {"light": "light", "dark": "dark"}, "enabled": true, "off_variant": "light",
    "exposures": true,
    "rules": [{"id": "pro-dark", "conditions": [{"attribute": "plan", "op": "eq", "values": ["pro"]}],
               "serve": {"variant": "dark"}}],
    "fallthrough": {"variant": "light"}},
  "banner": {"variants": {"a": 1, "b": 2}, "enabled": true, "off_variant": "a",
    "exposures": true, "fallthrough": {"variant": "b"}},
  "payments": {"variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
    "fallthrough": {"variant": "on"}}}}"#;

fn store() -> Store {
    Store::from_bytes(SNAPSHOT.as_bytes()).unwrap()
}

fn config(receiver: &OtlpReceiver) -> OtelConfig {
    OtelConfig::new(receiver.endpoint())
        .service_name("otel-test")
        .header("x-collector-token", "t0ken")
        .header("x-escaped", "a%20b")
        .timeout(Duration::from_secs(5))
}

/// Hands each batch to the OTel sink and keeps a copy: what the collector must show.
struct Tee {
    otel: OtelSink,
    copy: Arc<Mutex<Vec<Exposure>>>,
}

impl ExposureSink for Tee {
    fn deliver(&mut self, batch: &[Exposure]) -> io::Result<()> {
        self.copy.lock().unwrap().extend_from_slice(batch);
        self.otel.deliver(batch)
    }
}

/// The attributes an exposure must arrive with, written out from its fields.
fn expected_attributes(exposure: &Exposure) -> BTreeMap<String, serde_json::Value> {
    let reason = exposure.reason.as_str().to_ascii_lowercase();
    let mut attributes = BTreeMap::from([
        ("feature_flag.key".to_owned(), json!(exposure.flag)),
        (
            "feature_flag.result.variant".to_owned(),
            json!(exposure.variant),
        ),
        ("feature_flag.result.reason".to_owned(), json!(reason)),
        (
            "feature_flag.version".to_owned(),
            json!(exposure.version.to_string()),
        ),
        ("feature_flag.provider.name".to_owned(), json!("flagcore")),
    ]);
    let optional = [
        (
            "feature_flag.context.id",
            exposure.unit.as_ref().map(|u| json!(u)),
        ),
        (
            "flagcore.targeting_key",
            exposure.key.as_ref().map(|k| json!(k)),
        ),
        ("flagcore.rule_index", exposure.rule_index.map(|i| json!(i))),
        (
            "flagcore.rule_id",
            exposure.rule_id.as_ref().map(|r| json!(r)),
        ),
        ("flagcore.bucket", exposure.bucket.map(|b| json!(b))),
        ("flagcore.step", exposure.step.map(|s| json!(s))),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            attributes.insert(name.to_owned(), value);
        }
    }
    attributes
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn by_reason<'r>(records: &'r [LogRecord], reason: &str) -> Vec<&'r LogRecord> {
    records
        .iter()
        .filter(|r| r.attributes["feature_flag.result.reason"] == json!(reason))
        .collect()
}

#[test]
fn exposures_arrive_as_feature_flag_evaluation_events_with_the_conventions_attributes() {
    let receiver = OtlpReceiver::start();
    let store = store();
    let copy = Arc::new(Mutex::new(Vec::new()));
    let sink = Tee {
        otel: OtelSink::new(&config(&receiver)).unwrap(),
        copy: Arc::clone(&copy),
    };
    store.track_exposures(sink, ExposureOptions::new()).unwrap();
    let before = SystemTime::now() - Duration::from_millis(50);

    let pro = [("plan", Value::from("pro")), ("account", Value::from(4711))];
    let view = store.snapshot();
    let split_by_rule = view.bool_details(
        "checkout",
        &EvaluationContext::new("u-1").with_attributes(&pro),
        false,
    );
    let (rule_variant, bucket) = (
        split_by_rule.variant.unwrap().to_owned(),
        split_by_rule.bucket.unwrap(),
    );
    view.bool_details("checkout", &EvaluationContext::new("u-2"), false); // split, scheduled
    view.bool_details("checkout", &EvaluationContext::new("vip"), false); // a target
    view.string_details("theme", &EvaluationContext::new("u-2"), "?"); // default
    view.string_details(
        "theme",
        &EvaluationContext::new("u-1").with_attributes(&pro),
        "?",
    ); // a rule's variant
    view.int_details("banner", &EvaluationContext::new("u-2"), 0); // static
    drop(view);
    store.kill("payments", "test");
    store.bool("checkout", &EvaluationContext::new("u-3"), false); // prerequisite failed
    store.revive("payments");
    store.kill("checkout", "test");
    store.bool("checkout", &EvaluationContext::new("u-4"), false); // disabled
    store.flush_exposures();
    let after = SystemTime::now();

    let records = receiver.log_records();
    let copy = copy.lock().unwrap();
    assert_eq!(receiver.problems(), Vec::<String>::new());
    assert_eq!(records.len(), 8, "{records:#?}");
    assert_eq!(copy.len(), 8);
    for (record, exposure) in records.iter().zip(copy.iter()) {
        assert_eq!(record.event_name, "feature_flag.evaluation");
        assert_eq!(
            record.attributes,
            expected_attributes(exposure),
            "{exposure:?}"
        );
        assert_eq!(record.time_unix_nano, nanos(exposure.time));
        assert!(record.time_unix_nano >= nanos(before) && record.time_unix_nano <= nanos(after));
        assert!(record.observed_time_unix_nano >= record.time_unix_nano.saturating_sub(50_000_000));
        assert_eq!(record.resource["service.name"], json!("otel-test"));
        assert_eq!(
            (record.scope_name.as_str(), record.scope_version.as_str()),
            ("flagcore", env!("CARGO_PKG_VERSION"))
        );
    }

    // Written out once in full: the rule's split, bucketed by account for user u-1.
    assert_eq!(
        records[0].attributes,
        BTreeMap::from([
            ("feature_flag.key".to_owned(), json!("checkout")),
            (
                "feature_flag.result.variant".to_owned(),
                json!(rule_variant)
            ),
            ("feature_flag.result.reason".to_owned(), json!("split")),
            ("feature_flag.context.id".to_owned(), json!("4711")),
            ("feature_flag.version".to_owned(), json!("9")),
            ("feature_flag.provider.name".to_owned(), json!("flagcore")),
            ("flagcore.targeting_key".to_owned(), json!("u-1")),
            ("flagcore.rule_index".to_owned(), json!(0)),
            ("flagcore.rule_id".to_owned(), json!("by-account")),
            ("flagcore.bucket".to_owned(), json!(bucket)),
        ])
    );
    // Every reason flagcore has, by the conventions' lower-case names.
    for (reason, flag, context_id) in [
        ("split", "checkout", "u-2"),
        ("targeting_match", "checkout", "vip"),
        ("default", "theme", "u-2"),
        ("targeting_match", "theme", "u-1"),
        ("static", "banner", "u-2"),
        ("prerequisite_failed", "checkout", "u-3"),
        ("disabled", "checkout", "u-4"),
    ] {
        assert!(
            by_reason(&records, reason).iter().any(|r| {
                r.attributes["feature_flag.key"] == json!(flag)
                    && r.attributes["feature_flag.context.id"] == json!(context_id)
            }),
            "no {reason} exposure of {flag} for {context_id}: {records:#?}"
        );
    }
    let scheduled = by_reason(&records, "split")
        .into_iter()
        .find(|r| r.attributes["feature_flag.context.id"] == json!("u-2"))
        .unwrap();
    assert_eq!(scheduled.attributes["flagcore.step"], json!(0));
    assert!(!scheduled.attributes.contains_key("flagcore.rule_index"));

    let seen = receiver.seen();
    assert!(seen.iter().all(|s| s.path == "/v1/logs" && s.status == 200));
    assert!(seen
        .iter()
        .all(
            |s| s.headers.get("x-collector-token").map(String::as_str) == Some("t0ken")
                && s.headers.get("x-escaped").map(String::as_str) == Some("a%20b")
        ));
    let stats = store.exposure_stats();
    assert_eq!((stats.delivered, stats.sink_errors), (8, 0));
}

#[test]
fn dropping_the_store_delivers_every_exposure_accepted_in_requests_of_512() {
    let receiver = OtlpReceiver::start();
    let store = store();
    // Drained only on drop: a flush interval longer than the test.
    let options = ExposureOptions::new().flush_interval(Duration::from_secs(3600));
    store
        .track_exposures(OtelSink::new(&config(&receiver)).unwrap(), options)
        .unwrap();
    for unit in 0..1300 {
        store.int(
            "banner",
            &EvaluationContext::new(&format!("unit-{unit}")),
            0,
        );
    }
    assert!(receiver.log_records().is_empty());
    drop(store);

    let records = receiver.log_records();
    assert_eq!(receiver.problems(), Vec::<String>::new());
    let units: std::collections::BTreeSet<_> = records
        .iter()
        .map(|r| {
            r.attributes["feature_flag.context.id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!((records.len(), units.len()), (1300, 1300));
    assert_eq!(receiver.seen().len(), 3, "512 + 512 + 276 records");
}

#[test]
fn a_batch_the_collector_refuses_is_a_sink_error_and_a_503_is_retried() {
    let receiver = OtlpReceiver::start();
    let store = store();
    store
        .track_exposures(
            OtelSink::new(&config(&receiver)).unwrap(),
            ExposureOptions::new(),
        )
        .unwrap();

    receiver.refuse_next(400, 1); // not retryable
    store.int("banner", &EvaluationContext::new("refused"), 0);
    store.flush_exposures();
    let stats = store.exposure_stats();
    assert_eq!((stats.delivered, stats.sink_errors), (0, 1));

    receiver.refuse_next(503, 1); // the exporter retries it
    store.int("banner", &EvaluationContext::new("retried"), 0);
    store.flush_exposures();
    let stats = store.exposure_stats();
    assert_eq!((stats.delivered, stats.sink_errors), (1, 1));

    let statuses: Vec<u16> = receiver.seen().iter().map(|s| s.status).collect();
    assert_eq!(statuses, [400, 503, 200]);
    let records = receiver.log_records();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].attributes["feature_flag.context.id"],
        json!("retried")
    );
}

/// The `feature_flag.evaluations` points of the latest metrics export, by attributes.
fn counts(receiver: &OtlpReceiver) -> BTreeMap<Vec<(String, String)>, i64> {
    let exports = receiver.metric_exports();
    let last: Vec<SumPoint> = exports.last().cloned().unwrap_or_default();
    last.into_iter()
        .filter(|p| p.name == "feature_flag.evaluations")
        .map(|p| {
            assert_eq!(
                (p.unit.as_str(), p.monotonic, p.temporality),
                ("{evaluation}", true, 2)
            );
            let key = p
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            (key, p.value)
        })
        .collect()
}

fn series(flag: &str, name: &str, value: &str) -> Vec<(String, String)> {
    vec![
        ("feature_flag.key".to_owned(), flag.to_owned()),
        (name.to_owned(), value.to_owned()),
    ]
}

#[test]
fn evaluation_counts_arrive_as_a_cumulative_counter_counted_once() {
    let receiver = OtlpReceiver::start();
    let store = Arc::new(store());
    let config = config(&receiver).export_interval(Duration::from_secs(3600));
    let metrics = OtelMetrics::start(Arc::clone(&store), &config).unwrap();
    let ctx = EvaluationContext::new("u-1");
    for _ in 0..3 {
        store.bool("payments", &ctx, false);
    }
    store.int("payments", &ctx, 0); // a type mismatch: the caller's default
    let theme = store
        .snapshot()
        .string_details("theme", &ctx, "?")
        .value
        .to_owned();
    assert_eq!(theme, "light");
    metrics.flush().unwrap();
    let on = series("payments", "feature_flag.result.variant", "on");
    let error = series("payments", "feature_flag.result.reason", "error");
    let light = series("theme", "feature_flag.result.variant", "light");
    assert_eq!(
        counts(&receiver),
        BTreeMap::from([(on.clone(), 3), (error.clone(), 1), (light.clone(), 1)])
    );

    // Cumulative: the next export carries the totals, not the totals plus what was sent.
    store.bool("payments", &ctx, false);
    store.bool("payments", &ctx, false);
    metrics.flush().unwrap();
    assert_eq!(counts(&receiver)[&on], 5);
    assert_eq!(
        store.take_metrics(),
        flagcore::Metrics::default(),
        "all taken"
    );

    // Shutting down exports what came since.
    store.bool("payments", &ctx, false);
    metrics.shutdown().unwrap();
    assert_eq!(
        counts(&receiver),
        BTreeMap::from([(on, 6), (error, 1), (light, 1)])
    );
    assert_eq!(receiver.problems(), Vec::<String>::new());
    assert!(receiver
        .seen()
        .iter()
        .all(|s| s.path == "/v1/metrics" && s.status == 200));
}
