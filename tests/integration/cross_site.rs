//! The API refuses other sites, over real sockets: a request naming another host
//! (DNS rebinding), a state-changing request from another origin or another port
//! of this host, with or without the sign-in cookie; the cookie holds a session,
//! never the token; sign-in is rationed; every answer forbids framing. Browsers
//! drive the same scenarios in tests/browser.

use crate::server::Server;
use crate::support::Project;

const FLOW: &str = "agent double { input { n: number } output { n: number } compute { n: input.n * 2 } }\n\
                    trigger go { manual }\nworkflow twice { on go input { n: number } chain double }\n";

/// A raw request to `server` with `headers` (each ending in `\r\n`) and `body`.
fn send(server: &Server, method: &str, path: &str, headers: &str, body: &str) -> String {
    server.raw_text(&format!(
        "{method} {path} HTTP/1.1\r\n{headers}Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ))
}

fn status(response: &str) -> &str {
    response.split_whitespace().nth(1).unwrap_or("")
}

#[test]
fn without_a_token_only_this_servers_own_pages_change_anything() {
    let project = Project::new("cross_site_tokenless").file("flow.wf", FLOW);
    let server = Server::start(&project, &["--allowed-host", "wfc.internal"]);
    let host = format!("Host: 127.0.0.1:{}\r\n", server.port);
    let run = |headers: &str| {
        send(
            &server,
            "POST",
            "/workflows/twice/runs",
            headers,
            r#"{"n": 1}"#,
        )
    };
    // curl and scripts: no Origin, judged as before (no token: accepted).
    assert_eq!(status(&run(&host)), "202");
    // This server's own page.
    let own = format!(
        "{host}Origin: http://127.0.0.1:{}\r\nSec-Fetch-Site: same-origin\r\n",
        server.port
    );
    assert_eq!(status(&run(&own)), "202");
    // A page on another port of the same host, a form or a no-cors fetch.
    for headers in [
        format!("{host}Origin: http://127.0.0.1:8000\r\nContent-Type: text/plain\r\n"),
        format!("{host}Origin: http://localhost:{}\r\n", server.port),
        format!("{host}Origin: null\r\n"),
        format!("{host}Sec-Fetch-Site: same-site\r\n"),
        format!("{host}Sec-Fetch-Site: cross-site\r\n"),
    ] {
        let refused = run(&headers);
        assert_eq!(status(&refused), "403", "{headers}\n{refused}");
        assert!(
            refused.contains("only this server's own pages"),
            "{refused}"
        );
    }
    // DNS rebinding: a page whose name now resolves here, even reading.
    for path in ["/executions", "/health", "/"] {
        let rebound = send(&server, "GET", path, "Host: attacker.example\r\n", "");
        assert_eq!(status(&rebound), "400", "{rebound}");
        assert!(
            rebound.contains("--allowed-host attacker.example"),
            "{rebound}"
        );
    }
    let named = send(&server, "GET", "/health", "Host: wfc.internal\r\n", "");
    assert_eq!(status(&named), "200", "{named}");
    // Only the accepted starts ran.
    let (_, listed) = server.http("GET", "/executions", None, None);
    assert_eq!(
        listed["executions"].as_array().unwrap().len(),
        2,
        "{listed}"
    );
    // Every answer forbids framing and inline code; the page allows a style
    // element only by a nonce made for that answer, which its script carries.
    let page = send(&server, "GET", "/", &host, "");
    for header in [
        "x-frame-options: DENY",
        "content-security-policy: default-src 'none'; script-src 'self'; style-src 'self' 'nonce-",
        "frame-ancestors 'none'",
        "x-content-type-options: nosniff",
    ] {
        assert!(page.contains(header), "{header} missing:\n{page}");
    }
    assert!(
        !page.contains("<script>") && !page.contains("<style") && !page.contains("unsafe-inline"),
        "{page}"
    );
    let nonce = |page: &str| {
        let policy = page.split("'nonce-").nth(1).expect("a nonce in the policy");
        let nonce = policy.split('\'').next().unwrap().to_string();
        assert!(nonce.len() >= 32, "{nonce}");
        assert!(
            page.contains(&format!("<script src=\"/editor.js\" nonce=\"{nonce}\">")),
            "the editor's script carries the policy's nonce:\n{page}"
        );
        nonce
    };
    let again = send(&server, "GET", "/", &host, "");
    assert_ne!(nonce(&page), nonce(&again), "a fresh nonce each answer");
    let api = send(&server, "GET", "/health", &host, "");
    assert!(
        api.contains("style-src 'self';") && !api.contains("nonce-"),
        "{api}"
    );
    // The embedded files: typed, with a strong ETag that a browser's copy matches.
    let script = send(&server, "GET", "/editor.js", &host, "");
    assert_eq!(status(&script), "200");
    assert!(script.contains("content-type: text/javascript; charset=utf-8"));
    let etag = script
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap_or_else(|| panic!("no etag: {}", &script[..500]))
        .to_string();
    let cached = send(
        &server,
        "GET",
        "/editor.js",
        &format!("{host}If-None-Match: {etag}\r\n"),
        "",
    );
    assert_eq!(status(&cached), "304", "{cached}");
    let stale = send(
        &server,
        "GET",
        "/editor.js",
        &format!("{host}If-None-Match: \"0000\"\r\n"),
        "",
    );
    assert_eq!(status(&stale), "200");
    let notices = send(&server, "GET", "/editor-licenses.txt", &host, "");
    assert!(notices.contains("@codemirror/view 6.") && notices.contains("(MIT)"));
    server.stop();
}

#[test]
fn the_sign_in_cookie_holds_a_session_not_the_token_and_sign_in_is_rationed() {
    let project = Project::new("cross_site_token").file("flow.wf", FLOW);
    let token = "t0k-secret-value";
    let server = Server::start(&project, &["--token", token]);
    let host = format!("Host: 127.0.0.1:{}\r\n", server.port);
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let login = |value: &str| {
        send(
            &server,
            "POST",
            "/login",
            &format!("{host}{form}"),
            &format!("token={value}"),
        )
    };
    let signed_in = login(token);
    assert_eq!(status(&signed_in), "303", "{signed_in}");
    let cookie = signed_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("{signed_in}"));
    assert!(
        !cookie.contains(token),
        "the cookie holds the token: {cookie}"
    );
    for part in [
        "wfc_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(cookie.contains(part), "{part}: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let session = format!("Cookie: {}\r\n", cookie.split(';').next().unwrap());
    let read = send(
        &server,
        "GET",
        "/executions",
        &format!("{host}{session}"),
        "",
    );
    assert_eq!(status(&read), "200", "{read}");
    // The cookie goes to every port of the host: a page elsewhere still cannot
    // use it to change anything.
    let forged = format!("{host}{session}Origin: http://127.0.0.1:8000\r\n");
    let refused = send(
        &server,
        "POST",
        "/workflows/twice/runs",
        &forged,
        r#"{"n": 1}"#,
    );
    assert_eq!(status(&refused), "403", "{refused}");
    let own = format!(
        "{host}{session}Origin: http://127.0.0.1:{}\r\n",
        server.port
    );
    let started = send(
        &server,
        "POST",
        "/workflows/twice/runs",
        &own,
        r#"{"n": 1}"#,
    );
    assert_eq!(status(&started), "202", "{started}");
    // Behind a TLS proxy the cookie is Secure.
    let proxied = send(
        &server,
        "POST",
        "/login",
        &format!("{host}{form}X-Forwarded-Proto: https\r\n"),
        &format!("token={token}"),
    );
    assert!(proxied.contains("; Secure"), "{proxied}");
    // Sign-out ends the session.
    let out = send(&server, "POST", "/logout", &format!("{host}{session}"), "");
    assert_eq!(status(&out), "303", "{out}");
    assert!(out.contains("Max-Age=0"), "{out}");
    let after = send(
        &server,
        "GET",
        "/executions",
        &format!("{host}{session}"),
        "",
    );
    assert_eq!(status(&after), "401", "{after}");
    // Guessing: ten attempts a client, then 429 with Retry-After (two were used).
    let mut answers = Vec::new();
    for _ in 0..9 {
        answers.push(login("guess"));
    }
    assert!(
        answers[..8].iter().all(|a| status(a) == "401"),
        "{answers:?}"
    );
    let throttled = &answers[8];
    assert_eq!(status(throttled), "429", "{throttled}");
    assert!(throttled.contains("retry-after: "), "{throttled}");
    assert!(
        throttled.contains("Too many sign-in attempts"),
        "{throttled}"
    );
    // Even the right token waits its turn.
    assert_eq!(status(&login(token)), "429");
    server.stop();
}
