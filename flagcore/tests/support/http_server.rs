//! A small real HTTP/1.1 server on 127.0.0.1 for the HTTP source's tests and the kill
//! propagation example: it serves one document with an `ETag`, answers `If-None-Match`
//! with 304, and can be told to misbehave (a status, a slow answer, a truncated body) or
//! to go down and come back on the same port.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How the server answers the next requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 200 with the document, or 304 when `If-None-Match` matches.
    None,
    /// This status, with an empty body.
    Status(u16),
    /// Waits this long before answering normally.
    Slow(Duration),
    /// Announces the whole document's length, sends half of it, and closes.
    Truncated,
}

/// What a request carried.
#[derive(Debug, Clone)]
pub struct Request {
    pub if_none_match: Option<String>,
    pub authorization: Option<String>,
    /// The status answered.
    pub status: u16,
}

struct State {
    body: Vec<u8>,
    etag: String,
    generation: u64,
    fault: Fault,
    requests: Vec<Request>,
}

pub struct TestServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl TestServer {
    pub fn start(body: &[u8]) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            body: body.to_vec(),
            etag: "\"g1\"".into(),
            generation: 1,
            fault: Fault::None,
            requests: Vec::new(),
        }));
        let mut server = TestServer {
            addr,
            state,
            running: None,
        };
        server.serve(listener);
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}/snapshot.json", self.addr)
    }

    /// Serves `body` from now on, under a new `ETag`.
    pub fn set_body(&self, body: &[u8]) {
        let mut state = self.state.lock().unwrap();
        state.generation += 1;
        state.etag = format!("\"g{}\"", state.generation);
        state.body = body.to_vec();
    }

    pub fn set_fault(&self, fault: Fault) {
        self.state.lock().unwrap().fault = fault;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Closes the listening socket: connections are refused until [`up`](Self::up).
    pub fn down(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::SeqCst);
            // Wake the blocking accept.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
            thread.join().unwrap();
        }
    }

    /// Listens again on the same port.
    pub fn up(&mut self) {
        if self.running.is_none() {
            let listener = TcpListener::bind(self.addr).unwrap();
            self.serve(listener);
        }
    }

    fn serve(&mut self, listener: TcpListener) {
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::clone(&self.state);
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&state);
                std::thread::spawn(move || {
                    let _ = handle(stream, &state);
                });
            }
        });
        self.running = Some((stop, thread));
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.down();
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut if_none_match = None;
    let mut authorization = None;
    let mut line = String::new();
    reader.read_line(&mut line)?; // the request line
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            let value = value.trim().to_owned();
            match name.to_ascii_lowercase().as_str() {
                "if-none-match" => if_none_match = Some(value),
                "authorization" => authorization = Some(value),
                _ => {}
            }
        }
    }
    let (fault, body, etag) = {
        let state = state.lock().unwrap();
        (state.fault.clone(), state.body.clone(), state.etag.clone())
    };
    if let Fault::Slow(delay) = fault {
        std::thread::sleep(delay);
    }
    let status = match fault {
        Fault::Status(status) => status,
        _ if if_none_match.as_deref() == Some(etag.as_str()) => 304,
        _ => 200,
    };
    state.lock().unwrap().requests.push(Request {
        if_none_match,
        authorization,
        status,
    });
    let mut out = stream;
    match (status, &fault) {
        (200, Fault::Truncated) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {etag}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body[..body.len() / 2])?;
        }
        (200, _) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nETag: {etag}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body)?;
        }
        (304, _) => write!(
            out,
            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
        )?,
        (status, _) => write!(
            out,
            "HTTP/1.1 {status} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    out.flush()?;
    out.shutdown(std::net::Shutdown::Both)
}
