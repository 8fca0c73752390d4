//! `wfc serve` as a real process: events from other processes, metric crossings,
//! the HTTP API with and without a token, and shutdown that leaves work resumable.

use crate::server::Server;
use crate::support::{wait_for, Project};
use serde_json::{json, Value};
use std::time::Duration;
use wfc::store::{HistoryFilter, Store};

fn count(store: &Store, workflow: &str) -> usize {
    let filter = HistoryFilter {
        workflow: Some(workflow.into()),
        ..HistoryFilter::default()
    };
    store.executions(&filter).unwrap().len()
}

const EVENTS: &str = r#"
agent noop { compute { ok: true } }
trigger leads { on event "lead.created" }
trigger compliance { on event "compliance.*" }
workflow on_lead { on leads chain noop }
workflow on_compliance { on compliance chain noop }
"#;

#[test]
fn emitted_events_start_each_matching_workflow_once_across_restarts() {
    let project = Project::new("serve_events").file("flow.wf", EVENTS);
    let server = Server::start(&project, &[]);
    let store = project.store();
    project
        .wfc(["emit", "lead.created", "--data", r#"{"name": "Ada"}"#])
        .expect_code(0);
    let latency = wait_for(Duration::from_secs(1), || count(&store, "on_lead") == 1);
    println!("event picked up after {latency:?}");
    project.wfc(["emit", "compliance.alert"]).expect_code(0);
    project
        .wfc(["emit", "compliance.alert.high"])
        .expect_code(0); // two segments: no match
    wait_for(Duration::from_secs(1), || {
        count(&store, "on_compliance") == 1
    });
    server.stop();

    // Emitted while no server runs: picked up at the next start, and nothing refires.
    project.wfc(["emit", "lead.created"]).expect_code(0);
    let server = Server::start(&project, &[]);
    wait_for(Duration::from_secs(2), || count(&store, "on_lead") == 2);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(count(&store, "on_lead"), 2);
    assert_eq!(count(&store, "on_compliance"), 1);
    server.stop();
    let fires = store.fires("event:1").unwrap();
    assert_eq!(fires.len(), 1);
    assert_eq!(fires[0].0, "on_lead");
    let execution = store.execution(&fires[0].1).unwrap();
    assert_eq!(execution.input, json!({ "name": "Ada" }));
    assert_eq!(execution.trigger.as_deref(), Some("leads"));
    let events: Vec<Value> = project.json(["events", "--format", "json"]);
    let first = events.iter().find(|e| e["id"] == 1).unwrap();
    assert_eq!(
        first["started"],
        json!([["on_lead", execution.id]]),
        "an event records what it started"
    );
    let unmatched = events
        .iter()
        .find(|e| e["name"] == "compliance.alert.high")
        .unwrap();
    assert_eq!(unmatched["started"], json!([]));
}

#[test]
fn a_metric_trigger_fires_once_per_crossing() {
    let project = Project::new("serve_metric").file(
        "flow.wf",
        r#"
agent noop { compute { ok: true } }
trigger sample { on event "sample" }
trigger high { when metric latest(level) >= 10 }
workflow record_level { on sample input { v: number } chain noop record level = input.v }
workflow alarm { on high chain noop }
"#,
    );
    let server = Server::start(&project, &[]);
    let store = project.store();
    let sample = |v: u32| {
        let before = count(&store, "record_level");
        project
            .wfc(["emit", "sample", "--data", &format!(r#"{{"v": {v}}}"#)])
            .expect_code(0);
        wait_for(Duration::from_secs(2), || {
            store
                .executions(&HistoryFilter {
                    workflow: Some("record_level".into()),
                    ..Default::default()
                })
                .unwrap()
                .iter()
                .filter(|e| e.status == "completed")
                .count()
                == before + 1
        });
    };
    // The dispatcher's view, as it persists it: (above the threshold, crossings).
    let state = || store.metric_trigger_state("high", "").unwrap();
    let settle = |wanted: (bool, u32)| wait_for(Duration::from_secs(5), || state() == wanted);
    sample(12);
    settle((true, 1));
    wait_for(Duration::from_secs(3), || count(&store, "alarm") == 1);
    sample(15);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(state(), (true, 1), "staying above is not a new crossing");
    assert_eq!(count(&store, "alarm"), 1, "staying above does not refire");
    sample(5);
    settle((false, 1));
    sample(11);
    settle((true, 2));
    wait_for(Duration::from_secs(3), || count(&store, "alarm") == 2);
    server.stop();
    let server = Server::start(&project, &[]);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(count(&store, "alarm"), 2, "a restart does not refire");
    server.stop();
}

#[test]
fn the_http_api_answers_every_endpoint_and_refuses_bad_input_with_4xx() {
    let project = Project::new("serve_http").file(
        "flow.wf",
        r#"
agent double { input { n: number } output { n: number } compute { n: input.n * 2 } }
trigger go { manual }
workflow twice { on go input { n: number } chain double }
"#,
    );
    let server = Server::start(&project, &[]);
    let (status, health) = server.http("GET", "/health", None, None);
    assert_eq!((status, health["status"].clone()), (200, json!("ok")));
    assert_eq!(health["workflows"], json!(["twice"]));

    let (status, started) =
        server.http("POST", "/workflows/twice/runs", Some(r#"{"n": 21}"#), None);
    assert_eq!(status, 202, "{started}");
    let id = started["execution"].as_str().unwrap().to_string();
    let mut timeline = Value::Null;
    wait_for(Duration::from_secs(2), || {
        timeline = server
            .http("GET", &format!("/executions/{id}"), None, None)
            .1;
        timeline["execution"]["status"] == "completed"
    });
    assert_eq!(timeline["execution"]["result"], json!({ "n": 42 }));
    let (status, list) = server.http("GET", "/executions?workflow=twice&limit=5", None, None);
    assert_eq!(
        (status, list["executions"].as_array().unwrap().len()),
        (200, 1)
    );

    // The workflow catalogue: the form schema of its input and the version that ran.
    let (status, catalogue) = server.http("GET", "/workflows", None, None);
    assert_eq!(status, 200, "{catalogue}");
    let twice = &catalogue["workflows"][0];
    assert_eq!(twice["name"], "twice");
    assert_eq!(
        twice["input"]["properties"]["n"],
        json!({ "type": "number" })
    );
    assert_eq!(twice["triggers"][0]["kind"], "manual");
    let version = &twice["versions"][0];
    assert_eq!(version["runs"], json!(1));
    let blob = version["source_blob"].as_str().unwrap();
    let (status, source) = server.http(
        "GET",
        &format!("/workflows/twice/versions/{blob}"),
        None,
        None,
    );
    assert_eq!(status, 200, "{source}");
    assert_eq!(
        source["source"].as_str().unwrap(),
        std::fs::read_to_string(project.dir.join("flow.wf")).unwrap()
    );
    let (status, missing) = server.http("GET", "/workflows/twice/versions/0123abcd", None, None);
    assert_eq!(status, 404, "{missing}");
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("no recorded version"),
        "{missing}"
    );

    let (status, event) = server.http("POST", "/events/lead.created", Some(r#"{"a": 1}"#), None);
    assert_eq!((status, event["event"].clone()), (202, json!(1)));

    let cases: &[(&str, &str, Option<&str>, u16, &str)] = &[
        (
            "POST",
            "/events/lead.*",
            None,
            400,
            "not a valid event name",
        ),
        (
            "POST",
            "/events/lead.created",
            Some("{not json"),
            400,
            "the body is not JSON",
        ),
        (
            "POST",
            "/workflows/twise/runs",
            Some("{}"),
            404,
            "did you mean `twice`?",
        ),
        (
            "POST",
            "/workflows/twice/runs",
            Some(r#"{"n": "x"}"#),
            400,
            "field `n` should be a number",
        ),
        (
            "GET",
            "/executions?limit=lots",
            None,
            400,
            "`limit` must be a whole number",
        ),
        (
            "GET",
            "/executions?status=lost",
            None,
            400,
            "`status` must be",
        ),
        (
            "GET",
            "/executions/nope",
            None,
            404,
            "no execution matches `nope`",
        ),
        (
            "POST",
            "/executions/nope/cancel",
            None,
            404,
            "no execution matches",
        ),
        ("GET", "/nowhere", None, 404, "no such endpoint"),
    ];
    for (method, path, body, code, message) in cases {
        let (status, error) = server.http(method, path, *body, None);
        assert_eq!(status, *code, "{method} {path}: {error}");
        assert!(
            error["error"].as_str().unwrap().contains(message),
            "{method} {path}: {error}"
        );
    }
    let (status, error) = server.http("POST", &format!("/executions/{id}/cancel"), None, None);
    assert_eq!(status, 409, "{error}");
    let huge = format!("{{\"blob\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let (status, _) = server.http("POST", "/events/big", Some(&huge), None);
    assert_eq!(status, 413);
    server.stop();
}

#[test]
fn a_token_guards_mutations_and_is_required_beyond_loopback() {
    let project = Project::new("serve_token").file("flow.wf", EVENTS);
    let refused = project
        .wfc(["serve", "flow.wf", "--listen", "0.0.0.0:0"])
        .expect_code(2);
    assert!(
        refused.stderr.contains("without a token"),
        "{}",
        refused.stderr
    );
    let server = Server::start(&project, &["--token", "s3cret"]);
    let (status, error) = server.http("POST", "/events/lead.created", None, None);
    assert_eq!(status, 401, "{error}");
    assert!(error["error"].as_str().unwrap().contains("Bearer"));
    assert_eq!(
        server
            .http("POST", "/events/lead.created", None, Some("wrong"))
            .0,
        401
    );
    assert_eq!(
        server
            .http("POST", "/events/lead.created", None, Some("s3cret"))
            .0,
        202
    );
    assert_eq!(
        server.http("GET", "/health", None, None).0,
        200,
        "health needs no token"
    );
    // Recorded data is not public: every other route, reads too, needs the token.
    for (method, path) in [
        ("GET", "/executions"),
        ("GET", "/executions/0000"),
        ("POST", "/executions/0000/cancel"),
        ("POST", "/workflows/on_lead/runs"),
        ("GET", "/workflows"),
        ("GET", "/workflows/on_lead/versions/0000"),
        ("GET", "/agents"),
        ("GET", "/failures"),
        ("GET", "/dead-letters"),
        ("POST", "/dead-letters/1/replay"),
        ("POST", "/dead-letters/1/drop"),
        ("GET", "/stream"),
        ("GET", "/nowhere"),
    ] {
        let (status, error) = server.http(method, path, None, None);
        assert_eq!(status, 401, "{method} {path}: {error}");
        assert_eq!(server.http(method, path, None, Some("s3cre")).0, 401);
    }
    let (status, list) = server.http("GET", "/executions", None, Some("s3cret"));
    assert_eq!(status, 200, "{list}");
    server.stop();
}

#[test]
fn sigterm_during_a_step_leaves_it_resumable_and_the_next_server_finishes_it() {
    let project = Project::new("serve_shutdown")
        .file(
            "agents/slow.sh",
            "cat >/dev/null\necho $$ > slow.pid\nsleep 2\necho '{\"done\": true}'\n",
        )
        .file(
            "flow.wf",
            r#"
agent slow { run ["sh", "agents/slow.sh"] }
trigger go { on event "go" }
workflow w { on go steps { x = slow({}) } }
"#,
        );
    let server = Server::start(&project, &[]);
    let store = project.store();
    project.wfc(["emit", "go"]).expect_code(0);
    wait_for(Duration::from_secs(3), || {
        project.dir.join("slow.pid").exists()
    });
    let took = server.stop();
    assert!(
        took < Duration::from_secs(2),
        "shutdown waited {took:?} for a 300ms grace"
    );
    let execution = &store.executions(&HistoryFilter::default()).unwrap()[0];
    assert_eq!(execution.status, "running", "left resumable");
    let server = Server::start(&project, &[]);
    wait_for(Duration::from_secs(6), || {
        store
            .execution(&execution.id)
            .is_ok_and(|e| e.status == "completed")
    });
    server.stop();
    let attempts = store.attempts(&execution.id).unwrap();
    let statuses: Vec<_> = attempts.iter().map(|a| a.status.as_str()).collect();
    assert_eq!(statuses, ["interrupted", "completed"]);
    assert_eq!(
        count(&store, "w"),
        1,
        "the event did not start a second execution"
    );
}

#[test]
fn watch_applies_valid_changes_and_keeps_running_the_old_version_otherwise() {
    let project = Project::new("serve_watch").file("flow.wf", EVENTS);
    let server = Server::start(&project, &["--watch"]);
    let workflows =
        |server: &Server| server.http("GET", "/health", None, None).1["workflows"].clone();
    assert_eq!(workflows(&server), json!(["on_compliance", "on_lead"]));
    // A broken edit is reported and not applied. (mtime granularity: wait a little.)
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        project.dir.join("flow.wf"),
        format!("{EVENTS}\nworkflow broken {{ chain nobody }}"),
    )
    .unwrap();
    wait_for(Duration::from_secs(3), || server.logged("not applied"));
    assert_eq!(workflows(&server), json!(["on_compliance", "on_lead"]));
    std::fs::write(
        project.dir.join("flow.wf"),
        format!("{EVENTS}\nworkflow extra {{ on leads chain noop }}"),
    )
    .unwrap();
    wait_for(Duration::from_secs(3), || {
        workflows(&server).as_array().unwrap().len() == 3
    });
    server.stop();
}

#[test]
fn the_enterprise_example_runs_its_event_and_metric_triggers_for_real() {
    let project = Project::new("serve_enterprise");
    let examples = crate::support::root().join("examples");
    for file in ["enterprise.wf", "lib/policies.wf", "library/approvals.wf"] {
        let text = std::fs::read_to_string(examples.join(file)).unwrap();
        let project_file = project.dir.join(file);
        std::fs::create_dir_all(project_file.parent().unwrap()).unwrap();
        std::fs::write(project_file, text).unwrap();
    }
    let agents = project.dir.join("agents");
    std::fs::create_dir_all(&agents).unwrap();
    for entry in std::fs::read_dir(examples.join("agents")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), agents.join(entry.file_name())).unwrap();
    }
    std::fs::rename(
        project.dir.join("enterprise.wf"),
        project.dir.join("flow.wf"),
    )
    .unwrap();
    let server = Server::start(&project, &[]);
    let store = project.store();
    project
        .wfc([
            "emit",
            "lead.created",
            "--data",
            r#"{"name": "Ada", "source": "referral"}"#,
        ])
        .expect_code(0);
    project
        .wfc([
            "emit",
            "compliance.audit_requested",
            "--data",
            r#"{"status": "red"}"#,
        ])
        .expect_code(0);
    project
        .wfc([
            "emit",
            "sale.closed",
            "--data",
            r#"{"amount": 3000, "customer": "Acme"}"#,
        ])
        .expect_code(0);
    project
        .wfc([
            "emit",
            "sale.closed",
            "--data",
            r#"{"amount": 2000, "customer": "Initech"}"#,
        ])
        .expect_code(0);
    wait_for(Duration::from_secs(5), || {
        count(&store, "revenue_review") == 1
    });
    for workflow in ["lead_pipeline", "compliance_sweep", "book_sale"] {
        assert!(count(&store, workflow) >= 1, "{workflow} did not run");
    }
    let review = &store
        .executions(&HistoryFilter {
            workflow: Some("revenue_review".into()),
            ..Default::default()
        })
        .unwrap()[0];
    assert_eq!(review.trigger.as_deref(), Some("revenue_milestone"));
    assert_eq!(review.input["value"], 5000.0);
    // The model's variants start only by hand, so the server runs without their
    // key; a start over HTTP is refused before anything is written.
    let (status, refused) = server.http(
        "POST",
        "/workflows/revenue_review_llm/runs",
        Some(r#"{"value": 5200, "period": "2026-11"}"#),
        None,
    );
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused.to_string().contains("secret `OPENAI_API_KEY`"),
        "{refused}"
    );
    assert_eq!(count(&store, "revenue_review_llm"), 0);
    server.stop();
}

/// Reads `GET /stream` until `done` holds for the `execution` events seen so far
/// (or `limit` passes); returns them.
fn stream_until(server: &Server, limit: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    use std::io::{BufRead, BufReader, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_read_timeout(Some(limit)).unwrap();
    write!(stream, "GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let started = std::time::Instant::now();
    let mut events = Vec::new();
    let mut lines = BufReader::new(stream).lines();
    while started.elapsed() < limit && !done(&events) {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(data) = line.strip_prefix("data: ") {
            events.push(serde_json::from_str(data).unwrap());
        }
    }
    events
}

#[test]
fn the_stream_shows_executions_change_whichever_process_runs_them() {
    let project = Project::new("serve_stream").file(
        "flow.wf",
        r#"
agent double { input { n: number } output { n: number } compute { n: input.n * 2 } }
trigger go { manual }
workflow slow { on go input { n: number } steps { wait 400ms r = double(input) } output r }
"#,
    );
    let server = Server::start(&project, &[]);
    let (status, started) = server.http("POST", "/workflows/slow/runs", Some(r#"{"n": 1}"#), None);
    assert_eq!(status, 202, "{started}");
    let id = started["execution"].as_str().unwrap().to_string();
    // Another process writes the same database meanwhile.
    project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "slow",
            "--input",
            r#"{"n": 2}"#,
        ])
        .expect_code(0);
    let events = stream_until(&server, Duration::from_secs(5), |events| {
        let done = |status: &str| events.iter().filter(|e| e["status"] == status).count();
        done("completed") >= 2
    });
    let of_served: Vec<&str> = events
        .iter()
        .filter(|e| e["id"] == id.as_str())
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(of_served.last(), Some(&"completed"), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| e["id"] != id.as_str() && e["status"] == "completed"),
        "the execution `wfc run` wrote is streamed too: {events:?}"
    );
    let completed = events.iter().rfind(|e| e["id"] == id.as_str()).unwrap();
    assert_eq!(completed["workflow"], "slow");
    assert_eq!(completed["running"], json!(0));
    assert!(completed["attempts"].as_u64().unwrap() >= 2, "{completed}");
    server.stop();
}

#[test]
fn streams_opened_together_and_later_each_see_every_change() {
    let project = Project::new("serve_streams").file(
        "flow.wf",
        r#"
agent double { input { n: number } output { n: number } compute { n: input.n * 2 } }
trigger go { manual }
workflow slow { on go input { n: number } steps { wait 300ms r = double(input) } output r }
"#,
    );
    let server = std::sync::Arc::new(Server::start(&project, &[]));
    let (status, started) = server.http("POST", "/workflows/slow/runs", Some(r#"{"n": 1}"#), None);
    assert_eq!(status, 202, "{started}");
    let id = started["execution"].as_str().unwrap().to_string();
    // Four streams at once share the server's looks; each sees the run end.
    let watchers: Vec<_> = (0..4)
        .map(|_| {
            let (server, id) = (server.clone(), id.clone());
            std::thread::spawn(move || {
                stream_until(&server, Duration::from_secs(5), |events| {
                    events
                        .iter()
                        .any(|e| e["id"] == id.as_str() && e["status"] == "completed")
                })
            })
        })
        .collect();
    for watcher in watchers {
        let events = watcher.join().unwrap();
        let last = events.iter().rfind(|e| e["id"] == id.as_str());
        assert_eq!(
            last.map(|e| e["status"].clone()),
            Some(json!("completed")),
            "{events:?}"
        );
    }
    // A stream opened after every other closed starts from the current state.
    let events = stream_until(&server, Duration::from_secs(5), |events| !events.is_empty());
    assert_eq!(events[0]["id"], id.as_str());
    assert_eq!(events[0]["status"], "completed", "{events:?}");
}

#[test]
fn the_dashboard_page_its_sign_in_and_the_version_diff_are_served() {
    let flow =
        "agent double { input { n: number } output { n: number } compute { n: input.n * 2 } }\n\
                trigger go { manual }\nworkflow twice { on go input { n: number } chain double }\n";
    let project = Project::new("serve_dashboard").file("flow.wf", flow);
    // Two versions of the file run.
    let run = |project: &Project| {
        project
            .wfc([
                "run",
                "flow.wf",
                "--workflow",
                "twice",
                "--input",
                r#"{"n": 1}"#,
            ])
            .expect_code(0);
    };
    run(&project);
    std::fs::write(project.dir.join("flow.wf"), format!("// second\n{flow}")).unwrap();
    run(&project);
    let server = Server::start(&project, &["--token", "t0k"]);
    let get = |path: &str, extra: &str| {
        server.raw_text(&format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n"
        ))
    };
    // Without the token: the sign-in page, as HTML.
    let page = get("/", "");
    assert!(page.starts_with("HTTP/1.1 401"), "{page}");
    assert!(
        page.contains("text/html") && page.contains("name=\"token\""),
        "{page}"
    );
    // A wrong token is refused; the right one sets the cookie the API accepts.
    let login = |token: &str| {
        let body = format!("token={token}");
        server.raw_text(&format!(
            "POST /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    };
    let refused = login("nope");
    assert!(
        refused.starts_with("HTTP/1.1 401") && refused.contains("not the token"),
        "{refused}"
    );
    let signed_in = login("t0k");
    assert!(signed_in.starts_with("HTTP/1.1 303"), "{signed_in}");
    let cookie = signed_in
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap_or_else(|| panic!("{signed_in}"));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie_header = format!("Cookie: {}\r\n", cookie.split(';').next().unwrap());
    let dashboard = get("/", &cookie_header);
    assert!(
        dashboard.starts_with("HTTP/1.1 200") && dashboard.contains("src=\"/dashboard.js\""),
        "{dashboard}"
    );
    let script = get("/dashboard.js", "");
    assert!(script.contains("EventSource(\"/stream\")"), "{script}");
    let catalogue = get("/workflows", &cookie_header);
    assert!(catalogue.starts_with("HTTP/1.1 200"), "{catalogue}");
    let (_, workflows) = server.http("GET", "/workflows", None, Some("t0k"));
    let versions = workflows["workflows"][0]["versions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(versions.len(), 2, "{workflows}");
    // Newest first: the diff from the older to the newer adds the comment.
    let (new, old) = (
        versions[0]["source_blob"].as_str().unwrap(),
        versions[1]["source_blob"].as_str().unwrap(),
    );
    let (status, diff) = server.http(
        "GET",
        &format!("/workflows/twice/diff?from={old}&to={new}"),
        None,
        Some("t0k"),
    );
    assert_eq!(status, 200, "{diff}");
    assert!(
        diff["diff"].as_str().unwrap().contains("+// second"),
        "{diff}"
    );
    let (status, missing) = server.http("GET", "/workflows/twice/diff?from=abc", None, Some("t0k"));
    assert_eq!(status, 400, "{missing}");
    let (status, unknown) = server.http(
        "GET",
        &format!("/workflows/twice/diff?from={old}&to=0000"),
        None,
        Some("t0k"),
    );
    assert_eq!(status, 404, "{unknown}");
    server.stop();
}

#[test]
fn dead_letters_are_listed_replayed_and_dropped_over_http() {
    let project = Project::new("serve_dead_letters").file(
        "flow.wf",
        r#"
agent once { output { ok: bool } run ["sh", "-c", "if [ -e marker ]; then echo '{\"ok\": true}'; else touch marker; exit 3; fi"] }
trigger go { manual }
workflow fragile { on go input { n: number } steps { r = once({}) } output r on_failure dead_letter }
"#,
    );
    project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "fragile",
            "--input",
            r#"{"n": 7}"#,
        ])
        .expect_code(1);
    let server = Server::start(&project, &[]);
    let (status, listed) = server.http("GET", "/dead-letters", None, None);
    assert_eq!(status, 200, "{listed}");
    let letter = &listed["dead_letters"][0];
    assert_eq!(letter["workflow"], "fragile");
    assert_eq!(letter["input"], json!({ "n": 7 }));
    let id = letter["id"].as_i64().unwrap();
    // The failure analysis groups the failed attempt with it as the example.
    let (status, failures) = server.http("GET", "/failures", None, None);
    assert_eq!(status, 200, "{failures}");
    assert_eq!(
        failures["failures"].as_array().unwrap().len(),
        1,
        "{failures}"
    );
    let group = &failures["failures"][0];
    assert_eq!(
        (
            &group["workflow"],
            &group["agent"],
            &group["kind"],
            &group["count"]
        ),
        (
            &json!("fragile"),
            &json!("once"),
            &json!("failed"),
            &json!(1)
        )
    );
    assert_eq!(group["example_execution"], letter["execution_id"]);
    assert!(
        group["example_error"]
            .as_str()
            .unwrap()
            .contains("status 3"),
        "{group}"
    );

    let (status, replayed) = server.http("POST", &format!("/dead-letters/{id}/replay"), None, None);
    assert_eq!(status, 202, "{replayed}");
    let execution = replayed["execution"].as_str().unwrap().to_string();
    let mut timeline = Value::Null;
    wait_for(Duration::from_secs(5), || {
        timeline = server
            .http("GET", &format!("/executions/{execution}"), None, None)
            .1;
        timeline["execution"]["status"] == "completed"
    });
    assert_eq!(timeline["execution"]["input"], json!({ "n": 7 }));
    assert_eq!(timeline["execution"]["trigger"], "replay");
    assert_eq!(timeline["execution"]["replay_of"], json!(id));
    let (_, listed) = server.http("GET", "/dead-letters", None, None);
    assert_eq!(listed["dead_letters"][0]["replayed_by"], json!(execution));

    for (path, status, says) in [
        (
            "/dead-letters/x/replay".to_string(),
            400,
            "not a dead letter's id",
        ),
        (
            "/dead-letters/999/replay".to_string(),
            404,
            "no dead letter 999",
        ),
        (format!("/dead-letters/{id}/drop"), 200, ""),
        (format!("/dead-letters/{id}/drop"), 404, "no dead letter"),
    ] {
        let (got, body) = server.http("POST", &path, None, None);
        assert_eq!(got, status, "{path}: {body}");
        if !says.is_empty() {
            assert!(
                body["error"].as_str().unwrap().contains(says),
                "{path}: {body}"
            );
        }
    }
    let (_, listed) = server.http("GET", "/dead-letters", None, None);
    assert_eq!(listed["dead_letters"], json!([]));
    server.stop();
}

/// Regression: the signal handlers were installed after the server said it was
/// serving, so a SIGTERM right then killed it (signal 15, not a clean stop).
#[test]
fn a_sigterm_as_soon_as_the_server_serves_stops_it_cleanly() {
    let project = Project::new("serve_early_term").file(
        "flow.wf",
        "trigger go { manual }\nagent a { compute { ok: true } }\nworkflow w { on go chain a }\n",
    );
    for _ in 0..20 {
        let server = Server::start(&project, &[]);
        server.stop();
    }
}

#[test]
fn agents_are_listed_with_their_capacity_and_breaker() {
    let project = Project::new("serve_agents").file(
        "flow.wf",
        r#"
breaker fragile { open_after 1 failures within 1m cool_down 10m }
agent broken { output { ok: bool } run ["sh", "-c", "exit 3"] breaker fragile capacity 2 }
agent fine { output { ok: bool } compute { ok: true } }
trigger go { manual }
workflow w { on go steps { a = fine({}) b = broken({}) } }
"#,
    );
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    let server = Server::start(&project, &[]);
    let (status, listed) = server.http("GET", "/agents", None, None);
    assert_eq!(status, 200, "{listed}");
    let agents = listed["agents"].as_array().unwrap();
    let broken = agents.iter().find(|a| a["name"] == "broken").unwrap();
    assert_eq!(broken["capacity"], json!(2));
    assert_eq!(broken["in_flight"], json!(0));
    assert_eq!(broken["breaker"]["state"], "open", "{broken}");
    let opened =
        chrono::DateTime::parse_from_rfc3339(broken["breaker"]["opened_at"].as_str().unwrap())
            .unwrap();
    let trial =
        chrono::DateTime::parse_from_rfc3339(broken["breaker"]["trial_at"].as_str().unwrap())
            .unwrap();
    assert_eq!(trial - opened, chrono::Duration::minutes(10));
    let fine = agents.iter().find(|a| a["name"] == "fine").unwrap();
    assert_eq!(fine["breaker"], Value::Null);
    server.stop();
}

/// Events posted at once by many clients share commits: each answer carries
/// its own id, every one answered is recorded, and each starts its workflow once.
#[test]
fn events_posted_at_once_are_each_recorded_once_and_start_once() {
    let project = Project::new("serve_ingest").file(
        "flow.wf",
        "agent a { compute { ok: true } }\ntrigger arrived { on event \"order.placed\" }\n\
         workflow w { on arrived steps { r = a({}) } output r }\n",
    );
    let server = Server::start(&project, &[]);
    let ids: Vec<i64> = std::thread::scope(|scope| {
        let posting: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    (0..25)
                        .map(|n| {
                            let (status, answer) = server.http(
                                "POST",
                                "/events/order.placed",
                                Some(&format!("{{\"n\": {n}}}")),
                                None,
                            );
                            assert_eq!(status, 202, "{answer}");
                            answer["event"].as_i64().unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        posting
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 200, "each answer its own event");
    crate::support::wait_for(Duration::from_secs(20), || {
        count(&project.store(), "w") == 200
    });
    server.stop();
    assert_eq!(project.store().count("events").unwrap(), 200);
    assert_eq!(count(&project.store(), "w"), 200, "each started once");
}

/// A served directory serves its `.wf` files (not tests, drafts, or a file
/// another one imports, which runs through it), so a file the editor creates
/// there is served again after a restart.
#[test]
fn a_served_directory_serves_its_files_and_what_the_editor_adds_to_it() {
    let project = Project::new("serve_directory")
        .file(
            "flows/a.wf",
            "import \"lib.wf\"\ntrigger go { manual }\nworkflow a { on go steps { r = helper({}) } output r }\n",
        )
        .file("flows/lib.wf", "agent helper { compute { ok: true } }\n")
        .file(
            "flows/b.wf",
            "agent b_agent { compute { ok: true } }\ntrigger go { manual }\nworkflow b { on go steps { r = b_agent({}) } output r }\n",
        )
        .file("flows/b.test.wf", "test \"nothing\" { }\n")
        .file("flows/old.wf.draft", "this does not parse\n")
        .file("empty/readme.txt", "no workflows here\n");
    let token = Some("t");
    let served = |server: &Server| {
        let (_, health) = server.http("GET", "/health", None, token);
        let mut files: Vec<String> = health["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().rsplit('/').next().unwrap().to_string())
            .collect();
        files.sort();
        files
    };
    let server = Server::spawn(project.command(), "flows", &["--edit", "--token", "t"]);
    assert_eq!(served(&server), ["a.wf", "b.wf"]);
    let text = "agent c_agent { compute { ok: true } }\ntrigger go { manual }\nworkflow c { on go steps { r = c_agent({}) } output r }\n";
    let (status, saved) = server.http(
        "PUT",
        "/files/flows/c.wf",
        Some(&json!({ "text": text, "blob": null }).to_string()),
        token,
    );
    assert_eq!(status, 200, "{saved}");
    // The scratch directory lies inside wfc's own checkout (target/), whose
    // git tracks nothing there: the new file is not committed into it.
    assert_eq!(saved["commit"], Value::Null, "{saved}");
    server.stop();
    let again = Server::spawn(project.command(), "flows", &["--token", "t"]);
    assert_eq!(served(&again), ["a.wf", "b.wf", "c.wf"]);
    let (status, _) = again.http("POST", "/workflows/c/runs", Some("{}"), token);
    assert_eq!(status, 202);
    again.stop();
    let out = project
        .wfc(["serve", "empty", "--listen", "127.0.0.1:0"])
        .expect_code(2);
    assert!(out.stderr.contains("holds no .wf file"), "{}", out.stderr);
}
