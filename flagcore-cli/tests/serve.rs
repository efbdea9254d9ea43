//! `flagcore serve` end to end: the real binary on an ephemeral loopback port, spoken to
//! over plain TCP, so every status code, header and body is the one a client gets.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);

/// The operator token of the tests, and its SHA-256.
const TOKEN: &str = "correct-horse-battery-staple";

const SNAPSHOT: &str = r##"{
  "version": 1,
  "flags": {
    "bool-flag": {
      "description": "<script>alert(1)</script> a boolean",
      "metadata": {"owner": "team-a", "weight": 3, "ratio": 0.5, "beta": true},
      "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "targets": [{"variant": "on", "keys": ["vip"]}],
      "fallthrough": {"variant": "off"}
    },
    "string-flag": {
      "variants": {"red": "#f00", "blue": "#00f"}, "enabled": true, "off_variant": "red",
      "fallthrough": {"variant": "blue"}
    },
    "int-flag": {
      "variants": {"small": 10, "large": 50}, "enabled": true, "off_variant": "small",
      "rules": [{"id": "de", "conditions": [{"attribute": "country", "op": "eq", "values": ["DE"]}],
                 "serve": {"variant": "large"}}],
      "fallthrough": {"variant": "small"}
    },
    "float-flag": {
      "variants": {"none": 0.0, "full": 1.0, "half": 0.5}, "enabled": true, "off_variant": "none",
      "rules": [{"conditions": [{"attribute": "plan", "op": "eq", "values": ["pro"]}], "serve": {"variant": "half"}}],
      "fallthrough": {"variant": "full"}
    },
    "json-flag": {
      "variants": {"a": {"x": 1}, "b": [1, 2]}, "enabled": true, "off_variant": "b",
      "fallthrough": {"variant": "a"}
    },
    "needs-key": {
      "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}
    },
    "gated": {
      "variants": {"on": true, "off": false}, "enabled": true, "off_variant": "off",
      "prerequisites": [{"flag": "bool-flag", "variant": "on"}],
      "fallthrough": {"variant": "on"}
    },
    "odd name/with slash": {
      "variants": {"only": "yes"}, "enabled": true, "off_variant": "only",
      "fallthrough": {"variant": "only"}
    }
  }
}
"##;

fn sha256_hex(text: &str) -> String {
    // The tests need an independent SHA-256; `sha256sum` is on every machine CI runs on.
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// A temporary directory, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!(
            "flagcore-serve-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `name` as a deployment tool does: a temporary file, then a rename.
    fn replace(&self, name: &str, text: &str) {
        let temporary = self.file(&format!(".{name}.tmp"));
        std::fs::write(&temporary, text).unwrap();
        std::fs::rename(&temporary, self.file(name)).unwrap();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `flagcore serve`, killed however the test ends.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: Receiver<String>,
    dir: Dir,
}

impl Server {
    /// Serves SNAPSHOT with tokens and an audit file.
    fn start(name: &str) -> Server {
        Server::start_with(
            name,
            Some(SNAPSHOT),
            &["--tokens", "{tokens}", "--audit", "{audit}"],
        )
    }

    /// Serves `snapshot` (none: no file) with `args`, where `{tokens}` and `{audit}` name
    /// files in the test's directory.
    fn start_with(name: &str, snapshot: Option<&str>, args: &[&str]) -> Server {
        let dir = Dir::new(name);
        if let Some(snapshot) = snapshot {
            std::fs::write(dir.file("flags.json"), snapshot).unwrap();
        }
        std::fs::write(
            dir.file("tokens.jsonl"),
            format!(
                "{{\"name\": \"ana\", \"token_sha256\": \"{}\"}}\n\n{{\"name\": \"bo\", \"token_sha256\": \"{}\"}}\n",
                sha256_hex(TOKEN),
                sha256_hex("another-token")
            ),
        )
        .unwrap();
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                a.replace("{tokens}", dir.file("tokens.jsonl").to_str().unwrap())
                    .replace("{audit}", dir.file("audit.jsonl").to_str().unwrap())
            })
            .collect();
        let mut child = Command::new(env!("CARGO_BIN_EXE_flagcore"))
            .arg("serve")
            .arg(dir.file("flags.json"))
            .args(["--listen", "127.0.0.1:0"])
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        let first = stdout
            .recv_timeout(WAIT)
            .expect("flagcore serve printed no address");
        let addr = first
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .parse()
            .unwrap();
        Server {
            child,
            addr,
            stderr,
            dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn get(&self, path: &str) -> Response {
        send(self.addr, "GET", path, &[], b"")
    }

    fn post(&self, path: &str, body: &str) -> Response {
        send(
            self.addr,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
    }

    fn ofrep(&self, flag_path: &str, context: Value) -> Response {
        self.post(
            &format!("/ofrep/v1/evaluate/flags/{flag_path}"),
            &json!({ "context": context }).to_string(),
        )
    }

    fn edit(&self, flag: &str, action: &str, token: Option<&str>, body: &str) -> Response {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(bearer) = &bearer {
            headers.push(("Authorization", bearer.as_str()));
        }
        send(
            self.addr,
            "POST",
            &format!("/v1/flags/{flag}/{action}"),
            &headers,
            body.as_bytes(),
        )
    }

    fn kill(&self, flag: &str, reason: &str) -> Response {
        self.edit(
            flag,
            "kill",
            Some(TOKEN),
            &json!({ "reason": reason }).to_string(),
        )
    }

    fn file_json(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.dir.file("flags.json")).unwrap()).unwrap()
    }

    fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.file("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits for a line on stderr that contains `text`.
    fn expect_stderr(&self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(_) => panic!("no line with {text:?} on stderr"),
            }
        }
    }

    fn metric(&self, line_start: &str) -> Option<f64> {
        let page = self.get("/metrics").text();
        page.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// What the server answered.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`), read to the end.
fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

// ---------------------------------------------------------------------------------------
// OFREP

#[test]
fn ofrep_serves_every_type_with_value_variant_reason_and_metadata() {
    let server = Server::start("ofrep-types");
    let r = server.ofrep("bool-flag", json!({"targetingKey": "vip"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"key": "bool-flag", "value": true, "variant": "on", "reason": "TARGETING_MATCH",
               "metadata": {"owner": "team-a", "weight": 3, "ratio": 0.5, "beta": true}})
    );
    // Metadata numbers keep their form: 3 is an integer, 0.5 a float.
    assert!(r.text().contains("\"weight\":3,") || r.text().contains("\"weight\":3}"));

    let r = server.ofrep("string-flag", json!({}));
    assert_eq!(r.json()["value"], "#00f");
    assert_eq!(r.json()["reason"], "STATIC");

    let r = server.ofrep("int-flag", json!({"targetingKey": "u1", "country": "DE"}));
    assert_eq!(r.json()["value"], 50);
    assert_eq!(r.json()["reason"], "TARGETING_MATCH");
    assert!(r.text().contains("\"value\":50"), "{}", r.text());
    let r = server.ofrep("int-flag", json!({"targetingKey": "u1"}));
    assert_eq!(
        (r.json()["value"].clone(), r.json()["reason"].clone()),
        (json!(10), json!("DEFAULT"))
    );

    // Float flags are JSON floats, even for a whole value.
    let r = server.ofrep("float-flag", json!({"targetingKey": "u1"}));
    assert!(r.text().contains("\"value\":1.0"), "{}", r.text());
    let r = server.ofrep("float-flag", json!({"targetingKey": "u1", "plan": "pro"}));
    assert!(r.text().contains("\"value\":0.5"), "{}", r.text());

    let r = server.ofrep("json-flag", json!({}));
    assert_eq!(r.json()["value"], json!({"x": 1}));
    assert_eq!(r.json()["variant"], "a");

    // Every 200 carries value, variant and reason.
    for flag in [
        "bool-flag",
        "string-flag",
        "int-flag",
        "float-flag",
        "json-flag",
        "gated",
    ] {
        let body = server
            .ofrep(flag, json!({"targetingKey": "someone"}))
            .json();
        for member in ["key", "value", "variant", "reason", "metadata"] {
            assert!(body.get(member).is_some(), "{flag}: no {member} in {body}");
        }
    }
}

#[test]
fn ofrep_reports_a_failed_prerequisite_as_disabled_with_the_exact_reason_in_metadata() {
    let server = Server::start("ofrep-prerequisite");
    let r = server.ofrep("gated", json!({"targetingKey": "not-vip"}));
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["reason"], "DISABLED");
    assert_eq!(body["value"], false);
    assert_eq!(body["variant"], "off");
    assert_eq!(body["metadata"]["flagcore_reason"], "PREREQUISITE_FAILED");
    // When the prerequisite holds, the flag serves normally.
    let body = server.ofrep("gated", json!({"targetingKey": "vip"})).json();
    assert_eq!(
        (body["reason"].clone(), body["value"].clone()),
        (json!("STATIC"), json!(true))
    );
    assert!(body["metadata"].get("flagcore_reason").is_none());
}

#[test]
fn ofrep_errors_have_their_status_and_body() {
    let server = Server::start("ofrep-errors");
    let r = server.ofrep("no-such-flag", json!({"targetingKey": "u1"}));
    assert_eq!(r.status, 404);
    let body = r.json();
    assert_eq!(body["key"], "no-such-flag");
    assert_eq!(body["errorCode"], "FLAG_NOT_FOUND");
    assert!(body["errorDetails"]
        .as_str()
        .unwrap()
        .contains("no-such-flag"));

    // No targeting key: an error only where a rollout needs one.
    let r = server.ofrep("needs-key", json!({"country": "DE"}));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["key"], "needs-key");
    assert_eq!(r.json()["errorCode"], "TARGETING_KEY_MISSING");
    assert!(r.json()["errorDetails"].is_string());
    let r = server.ofrep("string-flag", json!({"country": "DE"}));
    assert_eq!(r.status, 200);
    let r = server.ofrep("needs-key", json!({"targetingKey": "u1"}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["reason"], "SPLIT");

    for bad in [
        "{",
        "not json",
        "[1, 2]",
        "\"context\"",
        "{\"context\": {\"a\": }",
    ] {
        let r = server.post("/ofrep/v1/evaluate/flags/bool-flag", bad);
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["errorCode"], "PARSE_ERROR", "{bad}");
        assert_eq!(r.json()["key"], "bool-flag");
        assert!(r.json()["errorDetails"].is_string());
    }
    for context in ["5", "\"u1\"", "[]", "null", "true"] {
        let r = server.post(
            "/ofrep/v1/evaluate/flags/bool-flag",
            &format!("{{\"context\": {context}}}"),
        );
        assert_eq!(r.status, 400, "{context}");
        assert_eq!(r.json()["errorCode"], "INVALID_CONTEXT", "{context}");
    }
    let r = server.ofrep("bool-flag", json!({"targetingKey": 42}));
    assert_eq!(
        (r.status, r.json()["errorCode"].clone()),
        (400, json!("INVALID_CONTEXT"))
    );

    // No body, an empty object, no context: a context without a key.
    for body in ["", "{}", "{\"context\": {}}"] {
        let r = server.post("/ofrep/v1/evaluate/flags/bool-flag", body);
        assert_eq!(r.status, 200, "{body:?}");
        assert_eq!(r.json()["reason"], "DEFAULT");
    }
    // Attributes flagcore cannot evaluate (objects, lists, null) are left out.
    let r = server.ofrep(
        "int-flag",
        json!({"targetingKey": "u1", "country": "DE", "user": {"id": 1}, "tags": ["a"], "x": null}),
    );
    assert_eq!((r.status, r.json()["value"].clone()), (200, json!(50)));
}

#[test]
fn ofrep_flag_keys_in_the_path_are_percent_decoded() {
    let server = Server::start("ofrep-keys");
    let r = server.ofrep("odd%20name%2Fwith%20slash", json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["key"], "odd name/with slash");
    assert_eq!(r.json()["value"], "yes");
    let r = server.ofrep("bool%2Dflag", json!({"targetingKey": "vip"}));
    assert_eq!((r.status, r.json()["value"].clone()), (200, json!(true)));
}

#[test]
fn ofrep_bulk_evaluates_every_flag_with_an_etag_over_snapshot_and_context() {
    let server = Server::start("ofrep-bulk");
    let bulk = |context: Value, etag: Option<&str>| {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(etag) = etag {
            headers.push(("If-None-Match", etag));
        }
        send(
            server.addr,
            "POST",
            "/ofrep/v1/evaluate/flags",
            &headers,
            json!({ "context": context }).to_string().as_bytes(),
        )
    };
    let r = bulk(json!({"country": "DE"}), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let flags = r.json()["flags"].as_array().unwrap().clone();
    assert_eq!(flags.len(), 8);
    let by_key = |key: &str| flags.iter().find(|f| f["key"] == key).unwrap().clone();
    assert_eq!(by_key("int-flag")["value"], 50);
    assert_eq!(by_key("gated")["reason"], "DISABLED");
    // One flag's error is that flag's entry, not the request's.
    assert_eq!(by_key("needs-key")["errorCode"], "TARGETING_KEY_MISSING");
    assert!(by_key("needs-key")["errorDetails"].is_string());
    let etag = r.header("etag").unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    // Same snapshot, same context: 304 without a body.
    let again = bulk(json!({"country": "DE"}), Some(&etag));
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let listed = format!("\"other\", {etag}");
    assert_eq!(bulk(json!({"country": "DE"}), Some(&listed)).status, 304);

    // Another context: a new answer and tag, even where the values do not differ.
    let other = bulk(json!({"country": "FR"}), Some(&etag));
    assert_eq!(other.status, 200);
    assert_ne!(other.header("etag"), Some(etag.as_str()));
    let same_values = bulk(json!({"country": "DE", "unused": 1}), Some(&etag));
    assert_eq!(same_values.status, 200);

    // A new snapshot (here a kill): a new tag.
    assert_eq!(server.kill("string-flag", "test").status, 200);
    let after = bulk(json!({"country": "DE"}), Some(&etag));
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(etag.as_str()));

    // Request-level errors of the bulk endpoint have no key.
    let r = server.post("/ofrep/v1/evaluate/flags", "{nope");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], "PARSE_ERROR");
    assert!(r.json().get("key").is_none());
    let r = server.post("/ofrep/v1/evaluate/flags", "{\"context\": 1}");
    assert_eq!(
        (r.status, r.json()["errorCode"].clone()),
        (400, json!("INVALID_CONTEXT"))
    );
}

// ---------------------------------------------------------------------------------------
// Snapshot distribution

#[test]
fn the_snapshot_is_served_with_a_strong_etag_and_304s() {
    let server = Server::start("snapshot");
    let r = server.get("/v1/snapshot");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, SNAPSHOT.as_bytes(), "the file's bytes, as they are");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let etag = r.header("etag").unwrap().to_owned();
    assert!(
        etag.starts_with("\"1-"),
        "strong, and names the version: {etag}"
    );

    for validator in [
        etag.clone(),
        format!("W/{etag}"),
        "*".into(),
        format!("\"x\", {etag}"),
    ] {
        let r = send(
            server.addr,
            "GET",
            "/v1/snapshot",
            &[("If-None-Match", &validator)],
            b"",
        );
        assert_eq!(r.status, 304, "{validator}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), Some(etag.as_str()));
    }
    let r = send(
        server.addr,
        "GET",
        "/v1/snapshot",
        &[("If-None-Match", "\"1-other\"")],
        b"",
    );
    assert_eq!(r.status, 200);
    let head = send(server.addr, "HEAD", "/v1/snapshot", &[], b"");
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(head.header("etag"), Some(etag.as_str()));

    // After a kill: the new version and a new tag.
    assert_eq!(server.kill("bool-flag", "test").status, 200);
    let r = send(
        server.addr,
        "GET",
        "/v1/snapshot",
        &[("If-None-Match", &etag)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["version"], 2);
    assert_eq!(r.json()["flags"]["bool-flag"]["enabled"], false);
    assert!(r.header("etag").unwrap().starts_with("\"2-"));
}

#[test]
fn flagcores_own_http_source_polls_the_snapshot_and_sees_a_kill() {
    use flagcore::source::{HttpOptions, HttpSource};
    use flagcore::{EvaluationContext, Reason, Store};

    let server = Server::start("http-source");
    let store = Arc::new(Store::new());
    let source = HttpSource::start(
        Arc::clone(&store),
        server.url("/v1/snapshot"),
        HttpOptions::new().interval(Duration::from_millis(100)),
    )
    .unwrap();
    assert_eq!(store.version(), Some(1));
    let vip = EvaluationContext::new("vip");
    assert!(store.bool("bool-flag", &vip, false));
    until("a few polls answered 304", || {
        source.status().unchanged >= 2
    });

    assert_eq!(server.kill("bool-flag", "INC-1").status, 200);
    until("the source to load version 2", || {
        store.version() == Some(2)
    });
    let details = store
        .snapshot()
        .bool_details("bool-flag", &vip, true)
        .reason;
    assert_eq!(details, Reason::Disabled);
    assert!(source.status().is_healthy());
}

// ---------------------------------------------------------------------------------------
// Kills, revives, tokens and the audit

#[test]
fn kills_and_revives_are_off_without_tokens() {
    let server = Server::start_with("no-tokens", Some(SNAPSHOT), &[]);
    for action in ["kill", "revive"] {
        let r = server.edit("bool-flag", action, Some(TOKEN), "{\"reason\": \"x\"}");
        assert_eq!(r.status, 403, "{action}");
        assert!(r.json()["error"].as_str().unwrap().contains("--tokens"));
    }
    assert_eq!(server.file_json()["version"], 1);
}

#[test]
fn a_token_is_required_and_checked_before_the_flag() {
    let server = Server::start("tokens");
    let body = "{\"reason\": \"x\"}";
    for token in [
        None,
        Some("wrong"),
        Some(""),
        Some("correct-horse-battery-stapl"),
    ] {
        for flag in ["bool-flag", "no-such-flag"] {
            let r = server.edit(flag, "kill", token, body);
            assert_eq!(r.status, 401, "{token:?} {flag}");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
            assert!(r.json()["error"].is_string());
        }
    }
    let basic = send(
        server.addr,
        "POST",
        "/v1/flags/bool-flag/kill",
        &[("Authorization", &format!("Basic {TOKEN}"))],
        body.as_bytes(),
    );
    assert_eq!(basic.status, 401);
    let r = server.edit("no-such-flag", "kill", Some(TOKEN), body);
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].as_str().unwrap().contains("no-such-flag"));
    let r = server.edit("no-such-flag", "revive", Some("another-token"), "");
    assert_eq!(r.status, 404);
    // Nothing changed.
    assert_eq!(server.file_json()["version"], 1);
    assert!(server.audit_lines().is_empty());
}

#[test]
fn bad_kill_bodies_are_400_and_change_nothing() {
    let server = Server::start("kill-bodies");
    for body in [
        "",
        "{",
        "[]",
        "{}",
        "{\"reason\": \"\"}",
        "{\"reason\": \"  \"}",
        "{\"reason\": 5}",
        "{\"reason\": \"x\", \"by\": \"me\"}",
    ] {
        let r = server.edit("bool-flag", "kill", Some(TOKEN), body);
        assert_eq!(r.status, 400, "{body:?}: {}", r.text());
        assert!(r.json()["error"].is_string());
    }
    let r = server.edit("bool-flag", "revive", Some(TOKEN), "[1]");
    assert_eq!(r.status, 400);
    assert_eq!(server.file_json()["version"], 1);
}

#[test]
fn a_kill_edits_the_file_serves_at_once_and_is_audited() {
    let server = Server::start("kill");
    let r = server.kill("bool-flag", "p99 > 2s (INC-4711)");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"flag": "bool-flag", "action": "kill", "operator": "ana", "reason": "p99 > 2s (INC-4711)", "version": 2})
    );
    // FILE: enabled false, version + 1, the reason and time in the metadata.
    let file = server.file_json();
    assert_eq!(file["version"], 2);
    assert_eq!(file["flags"]["bool-flag"]["enabled"], false);
    assert_eq!(
        file["flags"]["bool-flag"]["metadata"]["kill_reason"],
        "p99 > 2s (INC-4711)"
    );
    assert!(file["flags"]["bool-flag"]["metadata"]["killed_at"].is_u64());
    // OFREP changes at once: no waiting for the file watcher.
    let body = server
        .ofrep("bool-flag", json!({"targetingKey": "vip"}))
        .json();
    assert_eq!(
        (body["reason"].clone(), body["value"].clone()),
        (json!("DISABLED"), json!(false))
    );
    assert_eq!(body["metadata"]["kill_reason"], "p99 > 2s (INC-4711)");
    // The audit line.
    let audit = server.audit_lines();
    assert_eq!(audit.len(), 1);
    let line = &audit[0];
    assert_eq!(line["operator"], "ana");
    assert_eq!(line["action"], "kill");
    assert_eq!(line["flag"], "bool-flag");
    assert_eq!(line["reason"], "p99 > 2s (INC-4711)");
    assert_eq!(line["version"], 2);
    let time = line["time"].as_str().unwrap();
    assert!(flagcore::parse_rfc3339(time).is_some(), "{time}");
    let raw = std::fs::read_to_string(server.dir.file("audit.jsonl")).unwrap();
    assert!(raw.starts_with("{\"time\":"), "{raw}");

    // Revive: no body, or {}, by another operator; the reason is null.
    let r = server.edit("bool-flag", "revive", Some("another-token"), "");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["version"], 3);
    assert_eq!(r.json()["operator"], "bo");
    let r = server.edit("string-flag", "revive", Some(TOKEN), "{}");
    assert_eq!(r.status, 200);
    assert_eq!(server.file_json()["version"], 4);
    assert_eq!(server.file_json()["flags"]["bool-flag"]["enabled"], true);
    assert!(server.file_json()["flags"]["bool-flag"]["metadata"]
        .get("kill_reason")
        .is_none());
    let body = server
        .ofrep("bool-flag", json!({"targetingKey": "vip"}))
        .json();
    assert_eq!(body["value"], true);
    let audit = server.audit_lines();
    assert_eq!(audit.len(), 3);
    assert_eq!(audit[1]["action"], "revive");
    assert_eq!(audit[1]["operator"], "bo");
    assert!(audit[1]["reason"].is_null());
    assert_eq!(audit[2]["version"], 4);
    assert_eq!(
        server.metric("flagcore_serve_edits_total{action=\"kill\"}"),
        Some(1.0)
    );
    assert_eq!(
        server.metric("flagcore_serve_edits_total{action=\"revive\"}"),
        Some(2.0)
    );
    server.expect_stderr("ana killed bool-flag (version 2)");
}

#[test]
fn concurrent_kills_all_land_in_order_each_with_its_own_version() {
    let server = Server::start("concurrent");
    let addr = server.addr;
    let flags = [
        "bool-flag",
        "string-flag",
        "int-flag",
        "float-flag",
        "json-flag",
        "needs-key",
        "gated",
        "odd%20name%2Fwith%20slash",
    ];
    let threads: Vec<_> = (0..24)
        .map(|i| {
            let flag = flags[i % flags.len()];
            std::thread::spawn(move || {
                let body = json!({ "reason": format!("kill {i}") }).to_string();
                let bearer = format!("Bearer {TOKEN}");
                let path = format!("/v1/flags/{flag}/kill");
                let r = send(
                    addr,
                    "POST",
                    &path,
                    &[("Authorization", &bearer)],
                    body.as_bytes(),
                );
                assert_eq!(r.status, 200, "{}", r.text());
                r.json()["version"].as_u64().unwrap()
            })
        })
        .collect();
    let mut versions: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    versions.sort_unstable();
    assert_eq!(
        versions,
        (2..=25).collect::<Vec<_>>(),
        "one version each, none lost"
    );
    let file = server.file_json();
    assert_eq!(file["version"], 25);
    for (name, flag) in file["flags"].as_object().unwrap() {
        assert_eq!(flag["enabled"], false, "{name}");
    }
    flagcore::validate(&std::fs::read(server.dir.file("flags.json")).unwrap()).unwrap();
    let audit = server.audit_lines();
    let audited: Vec<u64> = audit
        .iter()
        .map(|l| l["version"].as_u64().unwrap())
        .collect();
    assert_eq!(
        audited,
        (2..=25).collect::<Vec<_>>(),
        "the audit in version order"
    );
    assert_eq!(server.get("/v1/snapshot").json()["version"], 25);
}

// ---------------------------------------------------------------------------------------
// FILE on disk

#[test]
fn an_edit_of_the_file_serves_and_an_invalid_file_keeps_the_last_good_one() {
    let server = Server::start("reload");
    let v2 = SNAPSHOT
        .replace("\"version\": 1", "\"version\": 2")
        .replace("\"#00f\"", "\"#0f0\"");
    server.dir.replace("flags.json", &v2);
    until("version 2 to serve", || {
        server.ofrep("string-flag", json!({})).json()["value"] == "#0f0"
    });
    assert_eq!(server.get("/v1/snapshot").body, v2.as_bytes());
    assert!(server.get("/readyz").text().contains("version 2"));

    // Invalid: reported, counted, and version 2 keeps serving.
    server
        .dir
        .replace("flags.json", "{\"version\": 3, \"flags\": {\"x\": {}}}");
    server.expect_stderr("the last good snapshot keeps serving");
    until("the failure to be counted", || {
        server
            .metric("flagcore_serve_reload_failures_total")
            .unwrap_or(0.0)
            >= 1.0
    });
    assert_eq!(
        server.ofrep("string-flag", json!({})).json()["value"],
        "#0f0"
    );
    assert_eq!(server.get("/v1/snapshot").json()["version"], 2);
    assert_eq!(server.get("/readyz").status, 200);
    // A kill now cannot edit the invalid file: 409, and nothing changes.
    let r = server.kill("bool-flag", "x");
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.json()["error"].as_str().unwrap().contains("invalid"));

    // Fixed: served again.
    server.dir.replace(
        "flags.json",
        &v2.replace("\"version\": 2", "\"version\": 3"),
    );
    until("version 3 to serve", || {
        server.get("/v1/snapshot").json()["version"] == 3
    });
}

#[test]
fn not_ready_until_a_snapshot_serves() {
    let server = Server::start_with("not-ready", None, &["--tokens", "{tokens}"]);
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(server.get("/readyz").status, 503);
    let r = server.ofrep("bool-flag", json!({}));
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["errorCode"], "PROVIDER_NOT_READY");
    assert!(r.json()["errorDetails"].is_string());
    let r = server.post("/ofrep/v1/evaluate/flags", "{}");
    assert_eq!(r.status, 500);
    assert_eq!(server.get("/v1/snapshot").status, 503);
    assert_eq!(server.kill("bool-flag", "x").status, 404);
    assert_eq!(server.get("/").status, 200);

    server.dir.replace("flags.json", SNAPSHOT);
    until("ready", || server.get("/readyz").status == 200);
    assert_eq!(server.ofrep("string-flag", json!({})).status, 200);
}

// ---------------------------------------------------------------------------------------
// Operations: metrics, health, console, CORS

#[test]
fn metrics_count_requests_by_route_and_status_and_evaluations() {
    let server = Server::start("metrics");
    server.ofrep("bool-flag", json!({"targetingKey": "vip"}));
    server.ofrep("no-such-flag", json!({}));
    server.get("/nowhere");
    let page = server.get("/metrics");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = page.text();
    for line in [
        "flagcore_http_requests_total{route=\"/ofrep/v1/evaluate/flags/{key}\",status=\"200\"} 1",
        "flagcore_http_requests_total{route=\"/ofrep/v1/evaluate/flags/{key}\",status=\"404\"} 1",
        "flagcore_http_requests_total{route=\"unmatched\",status=\"404\"} 1",
        "flagcore_evaluations_total{flag=\"bool-flag\",variant=\"on\"} 1",
        "flagcore_snapshot_version 1",
        "flagcore_serve_reload_failures_total 0",
        "flagcore_serve_flags_disabled 0",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
    assert!(text.contains("flagcore_source_attempts_total{"));
}

#[test]
fn the_console_lists_flags_escaped_with_kill_controls() {
    let server = Server::start("console");
    assert_eq!(server.kill("string-flag", "colour <clash>").status, 200);
    let r = server.get("/");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    let html = r.text();
    assert!(html.contains("data-flag=\"bool-flag\""));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains(">Kill</button>"));
    assert!(html.contains(">Revive</button>"));
    assert!(html.contains("because: colour &lt;clash&gt;"));
    assert!(html.contains("by ana"));
    assert!(html.contains("id=\"token\""));
    assert!(html.contains("id=\"reason\""));
    assert!(html.contains("snapshot version 2"));
    assert_eq!(server.get("/console.js").status, 200);
    assert_eq!(server.get("/console.css").status, 200);
}

#[test]
fn cors_is_off_by_default_and_allows_the_configured_origins() {
    let origin = [("Origin", "https://app.example.com")];
    let server = Server::start("cors-off");
    let r = send(
        server.addr,
        "POST",
        "/ofrep/v1/evaluate/flags/bool-flag",
        &origin,
        b"{}",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    drop(server);

    let server = Server::start_with(
        "cors-on",
        Some(SNAPSHOT),
        &[
            "--tokens",
            "{tokens}",
            "--cors-origin",
            "https://app.example.com",
        ],
    );
    let preflight = send(
        server.addr,
        "OPTIONS",
        "/ofrep/v1/evaluate/flags",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "content-type,if-none-match",
            ),
        ],
        b"",
    );
    assert!(
        preflight.status == 200 || preflight.status == 204,
        "{preflight:?}"
    );
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(preflight
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    let r = send(
        server.addr,
        "POST",
        "/ofrep/v1/evaluate/flags",
        &origin,
        b"{}",
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(r
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase()
        .contains("etag"));
    let r = send(server.addr, "GET", "/v1/snapshot", &origin, b"");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let elsewhere = [("Origin", "https://evil.example")];
    let r = send(
        server.addr,
        "POST",
        "/ofrep/v1/evaluate/flags",
        &elsewhere,
        b"{}",
    );
    assert_eq!(r.header("access-control-allow-origin"), None);
    // The writes are never open to other origins.
    let r = send(
        server.addr,
        "POST",
        "/v1/flags/bool-flag/kill",
        &origin,
        b"",
    );
    assert_eq!(r.header("access-control-allow-origin"), None);
}

// ---------------------------------------------------------------------------------------
// Hostile input

#[test]
fn hostile_bodies_get_a_clear_4xx_and_the_server_keeps_serving() {
    let server = Server::start("hostile");
    let big = vec![b' '; 2 << 20];
    let r = send(
        server.addr,
        "POST",
        "/ofrep/v1/evaluate/flags/bool-flag",
        &[],
        &big,
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["errorCode"], "PARSE_ERROR");
    let r = send(
        server.addr,
        "POST",
        "/v1/flags/bool-flag/kill",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        &big,
    );
    assert_eq!(r.status, 413);

    let deep = format!(
        "{{\"context\": {{\"a\": {}{}}}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let r = server.post("/ofrep/v1/evaluate/flags/bool-flag", &deep);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errorCode"], "PARSE_ERROR");
    let r = server.post("/ofrep/v1/evaluate/flags", &deep);
    assert_eq!(r.status, 400);

    let r = server.get("/etc/passwd");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let r = server.get("/ofrep/v1/evaluate/flags/bool-flag");
    assert_eq!(r.status, 405);
    let r = send(server.addr, "GET", "/%ff%fe", &[], b"");
    assert_eq!(r.status, 404);
    let r = server.post("/ofrep/v1/evaluate/flags/%ff", "{}");
    assert_eq!(r.status, 400);

    // Garbage instead of HTTP: the connection is refused with a 400, not the server.
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(b"\x16\x03\x01 hello\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    assert_eq!(
        server
            .ofrep("bool-flag", json!({"targetingKey": "vip"}))
            .status,
        200
    );
}

#[test]
fn slow_clients_are_timed_out() {
    let server = Server::start_with("slow", Some(SNAPSHOT), &["--request-timeout", "1"]);
    // Headers that never end.
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(WAIT)).unwrap();
    slow.write_all(b"POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // A body that never arrives.
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled.set_read_timeout(Some(WAIT)).unwrap();
    stalled
        .write_all(b"POST /ofrep/v1/evaluate/flags HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"context\"")
        .unwrap();
    // An idle keep-alive connection.
    let mut idle = TcpStream::connect(server.addr).unwrap();
    idle.set_read_timeout(Some(WAIT)).unwrap();

    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed after {:?}",
        started.elapsed()
    );
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );

    let r = read_response(&mut stalled);
    assert_eq!(r.status, 408);
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn thousands_of_concurrent_connections_are_held_and_served() {
    let server = Server::start("connections");
    // Leave descriptors for the rest of the process (and for the server, which has its own
    // limit of the same size).
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    let count = 2000.min(limit.saturating_sub(200) / 2).max(200);
    let mut open: Vec<TcpStream> = (0..count)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    // Every one of them gets an answer, on its own keep-alive connection.
    let request = b"POST /ofrep/v1/evaluate/flags/bool-flag HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    for stream in &mut open {
        stream.write_all(request).unwrap();
    }
    for stream in &mut open {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
    }
    // And a newcomer is served while they are all open.
    assert_eq!(
        server
            .ofrep("bool-flag", json!({"targetingKey": "vip"}))
            .status,
        200
    );
    drop(open);
    assert_eq!(server.get("/healthz").status, 200);
    eprintln!("held {count} connections");
}

// ---------------------------------------------------------------------------------------
// The command line

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start("sigterm");
    // An idle keep-alive connection does not hold the stop up.
    let _idle = TcpStream::connect(server.addr).unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + WAIT;
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(25));
    };
    assert!(exit.success(), "{exit:?}");
    server.expect_stderr("flagcore serve: stopped");
}

#[test]
fn bad_options_are_usage_errors() {
    let dir = Dir::new("usage");
    std::fs::write(dir.file("flags.json"), SNAPSHOT).unwrap();
    std::fs::write(
        dir.file("tokens.jsonl"),
        "{\"name\": \"ana\", \"token\": \"plain\"}\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_flagcore"))
            .arg("serve")
            .arg(dir.file("flags.json"))
            .args(args)
            .output()
            .unwrap()
    };
    let tokens = dir.file("tokens.jsonl");
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--tokens",
        tokens.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 1"), "{stderr}");
    assert!(
        !stderr.contains("plain"),
        "a token is never echoed: {stderr}"
    );
    let out = run(&["--listen", "not-an-address"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--listen", "127.0.0.1:0", "--cors-origin", "bad\norigin"]);
    assert_eq!(out.status.code(), Some(2));
    let missing = dir.file("missing/tokens.jsonl");
    let out = run(&[
        "--listen",
        "127.0.0.1:0",
        "--tokens",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_kill_of_a_flagd_file_sets_its_state_and_serves_at_once() {
    let flagd = r#"{"flags": {"bool-flag": {"state": "ENABLED", "variants": {"on": true, "off": false},
        "defaultVariant": "on"}}}"#;
    let server = Server::start_with(
        "kill-flagd",
        Some(flagd),
        &["--tokens", "{tokens}", "--audit", "{audit}"],
    );
    let r = server.kill("bool-flag", "INC-9");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        server.file_json()["flags"]["bool-flag"]["state"],
        "DISABLED"
    );
    let body = server
        .ofrep("bool-flag", json!({"targetingKey": "k"}))
        .json();
    assert_eq!(body["reason"], "DISABLED", "{body}");
    let r = server.edit("bool-flag", "revive", Some(TOKEN), "{}");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(server.file_json()["flags"]["bool-flag"]["state"], "ENABLED");
    let body = server
        .ofrep("bool-flag", json!({"targetingKey": "k"}))
        .json();
    assert_eq!(body["value"], true, "{body}");
}
