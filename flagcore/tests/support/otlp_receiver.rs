//! A real OTLP/HTTP receiver on 127.0.0.1 for the OpenTelemetry tests: HTTP/1.1 with
//! keep-alive, `POST /v1/logs` and `POST /v1/metrics` with `application/x-protobuf`
//! bodies decoded into the protocol's own messages (`ExportLogsServiceRequest`,
//! `ExportMetricsServiceRequest`). Anything else is answered 404, 415 or 400 and kept in
//! [`OtlpReceiver::problems`], so a test can say nothing odd arrived. It can be told to
//! answer the next requests with an error status.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message;
use serde_json::Value;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    /// The status answered.
    pub status: u16,
}

/// One log record, flattened: attribute values as JSON (strings, integers, ...).
#[derive(Debug, Clone)]
pub struct LogRecord {
    pub resource: BTreeMap<String, Value>,
    pub scope_name: String,
    pub scope_version: String,
    pub event_name: String,
    pub time_unix_nano: u64,
    pub observed_time_unix_nano: u64,
    pub severity_number: i32,
    pub attributes: BTreeMap<String, Value>,
}

/// One data point of a sum, flattened.
#[derive(Debug, Clone)]
pub struct SumPoint {
    pub name: String,
    pub unit: String,
    pub monotonic: bool,
    /// `AggregationTemporality`: 1 delta, 2 cumulative.
    pub temporality: i32,
    pub attributes: BTreeMap<String, Value>,
    pub value: i64,
}

#[derive(Default)]
struct State {
    logs: Vec<ExportLogsServiceRequest>,
    metrics: Vec<ExportMetricsServiceRequest>,
    seen: Vec<Seen>,
    problems: Vec<String>,
    /// Answer the next `.1` export requests with status `.0`.
    refuse: Option<(u16, usize)>,
}

pub struct OtlpReceiver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl OtlpReceiver {
    pub fn start() -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || serve(stream, &state));
                }
            })
        };
        OtlpReceiver {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The base URL to configure an exporter with.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next `count` export requests with `status` (and decodes nothing).
    pub fn refuse_next(&self, status: u16, count: usize) {
        self.state.lock().unwrap().refuse = Some((status, count));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Requests that were not well-formed OTLP/HTTP protobuf exports.
    pub fn problems(&self) -> Vec<String> {
        self.state.lock().unwrap().problems.clone()
    }

    /// Every log record received, in order.
    pub fn log_records(&self) -> Vec<LogRecord> {
        let state = self.state.lock().unwrap();
        let mut out = Vec::new();
        for request in &state.logs {
            for resource_logs in &request.resource_logs {
                let resource = resource_logs
                    .resource
                    .as_ref()
                    .map(|r| attributes(&r.attributes))
                    .unwrap_or_default();
                for scope_logs in &resource_logs.scope_logs {
                    let (scope_name, scope_version) = scope_logs
                        .scope
                        .as_ref()
                        .map(|s| (s.name.clone(), s.version.clone()))
                        .unwrap_or_default();
                    for record in &scope_logs.log_records {
                        out.push(LogRecord {
                            resource: resource.clone(),
                            scope_name: scope_name.clone(),
                            scope_version: scope_version.clone(),
                            event_name: record.event_name.clone(),
                            time_unix_nano: record.time_unix_nano,
                            observed_time_unix_nano: record.observed_time_unix_nano,
                            severity_number: record.severity_number,
                            attributes: attributes(&record.attributes),
                        });
                    }
                }
            }
        }
        out
    }

    /// The sum points of each metrics export, in order of arrival.
    pub fn metric_exports(&self) -> Vec<Vec<SumPoint>> {
        let state = self.state.lock().unwrap();
        let mut exports = Vec::new();
        for request in &state.metrics {
            let mut points = Vec::new();
            for resource_metrics in &request.resource_metrics {
                for scope_metrics in &resource_metrics.scope_metrics {
                    for metric in &scope_metrics.metrics {
                        let Some(metric::Data::Sum(sum)) = &metric.data else {
                            continue;
                        };
                        for point in &sum.data_points {
                            let value = match point.value {
                                Some(number_data_point::Value::AsInt(v)) => v,
                                other => panic!("{}: not an integer: {other:?}", metric.name),
                            };
                            points.push(SumPoint {
                                name: metric.name.clone(),
                                unit: metric.unit.clone(),
                                monotonic: sum.is_monotonic,
                                temporality: sum.aggregation_temporality,
                                attributes: attributes(&point.attributes),
                                value,
                            });
                        }
                    }
                }
            }
            exports.push(points);
        }
        exports
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, Value> {
    list.iter()
        .map(|kv| (kv.key.clone(), any_value_json(kv.value.as_ref())))
        .collect()
}

fn any_value_json(value: Option<&AnyValue>) -> Value {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => Value::from(s.clone()),
        Some(any_value::Value::IntValue(i)) => Value::from(*i),
        Some(any_value::Value::BoolValue(b)) => Value::from(*b),
        Some(any_value::Value::DoubleValue(d)) => Value::from(*d),
        other => Value::from(format!("unexpected {other:?}")),
    }
}

/// Serves one connection's requests until the client closes it.
fn serve(stream: TcpStream, state: &Mutex<State>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let mut request_line = String::new();
        match reader.read_line(&mut request_line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.trim_end().split_once(':') {
                headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let body = match read_body(&mut reader, &headers) {
            Ok(body) => body,
            Err(e) => {
                state
                    .lock()
                    .unwrap()
                    .problems
                    .push(format!("{path}: body: {e}"));
                return;
            }
        };
        let status = receive(state, &method, &path, &headers, &body);
        let reason = if status == 200 { "OK" } else { "Refused" };
        // An empty Export*ServiceResponse: full success.
        let written = write!(
            out,
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"
        )
        .and_then(|()| out.flush());
        if written.is_err() {
            return;
        }
    }
}

fn read_body(
    reader: &mut BufReader<TcpStream>,
    headers: &BTreeMap<String, String>,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let mut chunk = vec![0; size + 2]; // with its CRLF
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    body.resize(length, 0);
    reader.read_exact(&mut body)?;
    Ok(body)
}

/// Records and decodes one request; returns the status to answer.
fn receive(
    state: &Mutex<State>,
    method: &str,
    path: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
) -> u16 {
    let mut state = state.lock().unwrap();
    let status = if method != "POST" || !matches!(path, "/v1/logs" | "/v1/metrics") {
        state
            .problems
            .push(format!("{method} {path}: not an export"));
        404
    } else if headers.get("content-type").map(String::as_str) != Some("application/x-protobuf") {
        state.problems.push(format!(
            "{path}: content type {:?}",
            headers.get("content-type")
        ));
        415
    } else if let Some((status, left)) = state.refuse {
        state.refuse = (left > 1).then_some((status, left - 1));
        status
    } else if path == "/v1/logs" {
        match ExportLogsServiceRequest::decode(body) {
            Ok(request) => {
                state.logs.push(request);
                200
            }
            Err(e) => {
                state.problems.push(format!("{path}: {e}"));
                400
            }
        }
    } else {
        match ExportMetricsServiceRequest::decode(body) {
            Ok(request) => {
                state.metrics.push(request);
                200
            }
            Err(e) => {
                state.problems.push(format!("{path}: {e}"));
                400
            }
        }
    };
    state.seen.push(Seen {
        path: path.to_owned(),
        headers: headers.clone(),
        status,
    });
    status
}
