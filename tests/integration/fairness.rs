//! Connections are shared fairly: a flood of held streams and half-sent requests
//! from one address, or from several, does not lock out another client, and
//! `/health` always answers. Over real sockets; the other clients connect from
//! other addresses of the loopback range.

use crate::server::Server;
use crate::support::Project;
use std::io::Write;
use std::net::{Ipv4Addr, TcpStream};

const FLOW: &str = "agent double { input { n: number } output { n: number } compute { n: input.n * 2 } }\n\
                    trigger go { manual }\nworkflow twice { on go input { n: number } chain double }\n";
const USER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

fn status(response: &str) -> &str {
    response.split_whitespace().nth(1).unwrap_or("")
}

/// `count` connections from `source`, each holding `/stream` or half a request.
fn flood(server: &Server, source: Ipv4Addr, count: usize, token: Option<&str>) -> Vec<TcpStream> {
    (0..count)
        .map(|i| {
            let mut stream = server.connect_from(source);
            let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
            let request = match i % 2 {
                0 => format!("GET /stream HTTP/1.1\r\nHost: localhost\r\n{auth}\r\n"),
                _ => "GET /executions HTTP/1.1\r\nHost: loc".to_string(),
            };
            let _ = stream.write_all(request.as_bytes());
            stream
        })
        .collect()
}

/// What another client sees meanwhile: the dashboard, the API and a run started.
fn another_client_is_served(server: &Server, auth: &str) {
    let get = |path: &str| {
        server.raw_text_from(
            USER,
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"),
        )
    };
    for path in ["/health", "/", "/dashboard.js", "/executions", "/workflows"] {
        let answer = get(path);
        assert_eq!(status(&answer), "200", "{path}: {answer}");
    }
    let body = r#"{"n": 1}"#;
    let started = server.raw_text_from(
        USER,
        &format!(
            "POST /workflows/twice/runs HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status(&started), "202", "{started}");
}

#[test]
fn a_flood_from_one_address_leaves_room_for_others() {
    let project = Project::new("fairness_one_address").file("flow.wf", FLOW);
    let server = Server::start(&project, &["--idle-timeout", "60s"]);
    let flooding = Ipv4Addr::new(127, 0, 0, 1);
    let held = flood(&server, flooding, 600, None);
    another_client_is_served(&server, "");
    // The flooding address is told why, and its /health still answers.
    let refused = server.raw_text_from(
        flooding,
        "GET /executions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status(&refused), "503", "{refused}");
    assert!(
        refused.contains("too many connections from your address"),
        "{refused}"
    );
    let health = server.raw_text_from(
        flooding,
        "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status(&health), "200", "{health}");
    drop(held);
    server.stop();
}

#[test]
fn a_full_server_closes_connections_without_credentials_first() {
    let project = Project::new("fairness_full").file("flow.wf", FLOW);
    let token = "fair-t0k";
    let server = Server::start(&project, &["--token", token, "--idle-timeout", "60s"]);
    let auth = format!("Authorization: Bearer {token}\r\n");
    // A signed-in client holds its stream from the start.
    let mut user_stream = server.connect_from(USER);
    write!(
        user_stream,
        "GET /stream HTTP/1.1\r\nHost: localhost\r\n{auth}\r\n"
    )
    .unwrap();
    user_stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut first = [0u8; 64];
    let n = std::io::Read::read(&mut user_stream, &mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    // Five addresses, 64 connections each without any credential: more than the
    // server holds.
    let mut held = Vec::new();
    for last in 3..8 {
        held.extend(flood(&server, Ipv4Addr::new(127, 0, 0, last), 64, None));
    }
    another_client_is_served(&server, &auth);
    // The signed-in stream was never the one closed: it still reads.
    let mut more = [0u8; 256];
    let open = std::io::Read::read(&mut user_stream, &mut more);
    assert!(open.is_ok_and(|n| n > 0), "the signed-in stream was closed");
    drop(held);
    server.stop();
}
