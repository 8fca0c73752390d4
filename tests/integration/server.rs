//! A running `wfc serve` for tests: its log lines, its port, raw HTTP over a socket.

use crate::support::Project;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `wfc serve`, its log lines, and the port it listens on.
pub struct Server {
    pub child: Child,
    pub log: Arc<Mutex<Vec<String>>>,
    pub port: u16,
}

impl Server {
    /// Serves the project's `flow.wf` on a free loopback port.
    pub fn start(project: &Project, extra: &[&str]) -> Server {
        Server::spawn(project.command(), "flow.wf", extra)
    }

    /// Serves `file` with `command`'s directory and environment.
    pub fn spawn(mut command: Command, file: &str, extra: &[&str]) -> Server {
        let mut args = vec!["serve", file, "--listen", "127.0.0.1:0", "--grace", "300ms"];
        args.extend_from_slice(extra);
        let mut child = command
            .args(&args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (sender, receiver) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.split("address=").nth(1) {
                    let port = address
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .rsplit(':')
                        .next()
                        .unwrap();
                    let _ = sender.send(port.parse::<u16>().unwrap());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let port = receiver
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("serve did not start: {:?}", log.lock().unwrap()));
        Server { child, log, port }
    }

    /// SIGTERM, then wait for the process to exit.
    pub fn stop(mut self) -> Duration {
        let started = Instant::now();
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "serve exited with {status}: {:?}",
            self.log.lock().unwrap()
        );
        started.elapsed()
    }

    /// Whether a log line so far contains `text`.
    pub fn logged(&self, text: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(text))
    }

    /// Sends raw request bytes; the whole answer as text, headers included.
    pub fn raw_text(&self, request: &str) -> String {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        exchange(stream, request)
    }

    /// A connection to the server from `source`, an address of the loopback
    /// range (127.0.0.0/8 is all this machine's): another client, as the server
    /// sees it.
    pub fn connect_from(&self, source: std::net::Ipv4Addr) -> TcpStream {
        let port = self.port;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let stream = runtime.block_on(async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind((source, 0).into()).unwrap();
            socket.connect(([127, 0, 0, 1], port).into()).await.unwrap()
        });
        let stream = stream.into_std().unwrap();
        stream.set_nonblocking(false).unwrap();
        stream
    }

    /// Like [`Server::raw_text`], from `source`.
    pub fn raw_text_from(&self, source: std::net::Ipv4Addr, request: &str) -> String {
        exchange(self.connect_from(source), request)
    }

    /// Sends raw request bytes; the status and the JSON body of the answer.
    pub fn raw(&self, request: &str) -> (u16, Value) {
        let response = self.raw_text(request);
        let status = response
            .split_whitespace()
            .nth(1)
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        let payload = response_body(&response);
        (
            status,
            serde_json::from_str(&payload).unwrap_or(Value::Null),
        )
    }

    /// A GET that may fail to connect (a busy server): `None` then.
    pub fn try_http(&self, method: &str, path: &str) -> Option<(u16, Value)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split_whitespace().nth(1)?.parse().ok()?;
        let payload = response_body(&response);
        Some((
            status,
            serde_json::from_str(&payload).unwrap_or(Value::Null),
        ))
    }

    /// Starts `workflow` with `input` over HTTP and waits until its execution ends.
    pub fn run_to_end(&self, workflow: &str, input: &Value) {
        let path = format!("/workflows/{workflow}/runs");
        let (status, started) = self.http("POST", &path, Some(&input.to_string()), None);
        assert_eq!(status, 202, "{started}");
        let id = started["execution"].as_str().unwrap().to_string();
        crate::support::wait_for(Duration::from_secs(5), || {
            let (_, e) = self.http("GET", &format!("/executions/{id}"), None, None);
            e["execution"]["status"] != "running"
        });
    }

    pub fn http(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let body = body.unwrap_or("");
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
        let payload = response_body(&response);
        (
            status,
            serde_json::from_str(&payload).unwrap_or(Value::Null),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a raw HTTP/1.1 response, its chunks joined when it is chunked.
fn response_body(response: &str) -> String {
    let Some((head, rest)) = response.split_once("\r\n\r\n") else {
        return String::new();
    };
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return rest.to_string();
    }
    let mut out = String::new();
    let mut rest = rest;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// Writes `request` and reads the answer until the server closes.
fn exchange(mut stream: TcpStream, request: &str) -> String {
    // A server that never answers fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}
