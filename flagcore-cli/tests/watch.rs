//! `flagcore watch` end to end: a real child process following a file and a URL as they
//! change.

// A test fails loudly on the first surprise; that is what unwrap is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

/// The child, killed however the test ends.
struct Watch {
    child: Child,
    lines: Receiver<String>,
    stderr: Receiver<String>,
}

impl Watch {
    fn start(args: &[&str]) -> Watch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flagcore"))
            .arg("watch")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Watch {
            lines: lines_of(child.stdout.take().unwrap()),
            stderr: lines_of(child.stderr.take().unwrap()),
            child,
        }
    }

    fn next_line(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(WAIT)
            .expect("flagcore watch printed no line in time");
        serde_json::from_str(&line).unwrap()
    }

    fn next_error(&self) -> String {
        self.stderr
            .recv_timeout(WAIT)
            .expect("flagcore watch reported no error in time")
    }
}

impl Drop for Watch {
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

fn snapshot(version: u64, fallthrough: &str) -> String {
    format!(
        r#"{{"version": {version}, "flags": {{"checkout": {{
            "variants": {{"on": true, "off": false}}, "enabled": true, "off_variant": "off",
            "rules": [{{"id": "beta", "conditions": [{{"attribute": "beta", "op": "eq", "values": [true]}}],
                        "serve": {{"variant": "on"}}}}],
            "fallthrough": {{"variant": "{fallthrough}"}}}}}}}}"#
    )
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flagcore-watch-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("snapshot.json");
    replace(&path, text);
    path
}

fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn watch_prints_a_line_at_start_and_on_each_change_of_version_or_answer() {
    let path = temp_file("file", &snapshot(1, "off"));
    let file = path.to_str().unwrap();
    let watch = Watch::start(&["--key", "u-1", "--attr", "beta=false", file, "checkout"]);

    let first = watch.next_line();
    let fields: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "bucket",
            "error_code",
            "flag",
            "reason",
            "rule_id",
            "rule_index",
            "step",
            "target",
            "value",
            "variant",
            "version"
        ]
    );
    assert_eq!(first["version"], 1);
    assert_eq!(first["value"], false);
    assert_eq!(first["reason"], "DEFAULT");

    // A rollout step: the answer changes.
    replace(&path, &snapshot(2, "on"));
    let line = watch.next_line();
    assert_eq!(
        (line["version"].clone(), line["value"].clone()),
        (2.into(), true.into())
    );

    // The fleet kill, as an operator makes it.
    let out = Command::new(env!("CARGO_BIN_EXE_flagcore"))
        .args(["kill", file, "checkout", "--reason", "INC-9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line = watch.next_line();
    assert_eq!(line["version"], 3);
    assert_eq!(line["reason"], "DISABLED");
    assert_eq!(line["variant"], "off");

    // A broken file: an error on stderr, no new line, the last snapshot keeps serving.
    replace(&path, "{\"version\": 4, ");
    let error = watch.next_error();
    assert!(error.contains("invalid snapshot"), "{error}");
    replace(&path, &snapshot(5, "off"));
    let line = watch.next_line();
    assert_eq!(
        (line["version"].clone(), line["reason"].clone()),
        (5.into(), "DEFAULT".into())
    );
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn watch_polls_a_url() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/snapshot.json", listener.local_addr().unwrap());
    let (serve, bodies) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut body = bodies.recv().unwrap();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            while let Ok(next) = bodies.try_recv() {
                body = next;
            }
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    serve.send(snapshot(1, "off")).unwrap();
    let watch = Watch::start(&[&url, "checkout", "--key", "u-1", "--interval-ms", "50"]);
    assert_eq!(watch.next_line()["version"], 1);
    serve.send(snapshot(2, "on")).unwrap();
    let line = watch.next_line();
    assert_eq!(
        (line["version"].clone(), line["value"].clone()),
        (2.into(), true.into())
    );
}
