//! Regression tests for defects found by trying wfc as a new user and as an attacker
//! would: misbehaving agents, repeated emits, bursts of samples, pathological lines,
//! hostile requests and edge values. Each failed before its fix.

use crate::server::Server;
use crate::support::{alive, wait_for, Project, Wfc};
use serde_json::Value;
use std::time::{Duration, Instant};
use wfc::store::{HistoryFilter, Store};

fn executions(store: &Store, workflow: &str) -> Vec<wfc::store::ExecutionRow> {
    let filter = HistoryFilter {
        workflow: Some(workflow.into()),
        ..HistoryFilter::default()
    };
    store.executions(&filter).unwrap()
}

/// Agents that exit without reading their input: one answers, one fails fast.
const FAST_EXITS: &str = r#"
retry twice { attempts 2 backoff constant 1ms }
agent quick { run ["sh", "-c", "echo '{}'"] }
agent fails { run ["false"] retry twice }
trigger go { on event "go" }
workflow answer { input { blob: string } steps { x = quick({ blob: input.blob }) } }
workflow fail_fast {
  on go
  input { blob: string }
  steps { x = fails({ blob: input.blob }) }
  on_failure dead_letter
}
"#;

#[test]
fn agents_that_exit_without_reading_their_input_never_kill_wfc() {
    let project = Project::new("abuse_stdin").file("flow.wf", FAST_EXITS);
    // Larger than a pipe's buffer, so a write into a closed pipe cannot be missed.
    let input = format!(r#"{{"blob": "{}"}}"#, "x".repeat(100_000));
    for _ in 0..50 {
        for (workflow, code) in [("answer", 0), ("fail_fast", 1)] {
            let run = project.wfc(["run", "flow.wf", "--workflow", workflow, "--input", &input]);
            assert_eq!(run.code, Some(code), "{workflow}: {}", run.stderr);
        }
    }
    let store = project.store();
    let failed = executions(&store, "fail_fast");
    assert_eq!(failed.len(), 50);
    assert!(failed.iter().all(|e| e.status == "failed"));
    assert_eq!(store.attempts(&failed[0].id).unwrap().len(), 2, "retried");
    assert_eq!(store.dead_letters().unwrap().len(), 50);
    assert!(executions(&store, "answer")
        .iter()
        .all(|e| e.status == "completed"));

    // A server survives 50 events for the failing agent.
    let server = Server::start(&project, &[]);
    for _ in 0..50 {
        project.wfc(["emit", "go", "--data", &input]).expect_code(0);
    }
    wait_for(Duration::from_secs(30), || {
        executions(&store, "fail_fast")
            .iter()
            .filter(|e| e.status == "failed")
            .count()
            == 100
    });
    assert_eq!(store.dead_letters().unwrap().len(), 100);
    server.stop();
}

/// The arguments that run `FAST_EXITS`'s `answer` workflow once.
const ANSWER: [&str; 6] = [
    "run",
    "flow.wf",
    "--workflow",
    "answer",
    "--input",
    r#"{"blob": ""}"#,
];

fn run_answer(project: &Project) {
    project.wfc(ANSWER).expect_code(0);
}

#[test]
fn every_emit_that_runs_stores_its_event() {
    let project = Project::new("abuse_emit").file(
        "flow.wf",
        r#"
agent boom { run ["false"] }
workflow w {
  steps {
    emit "order.created" { id: 1 }
    emit "order.created" { id: 2 }
    parallel {
      emit "branch" { b: 1 }
      emit "branch" { b: 2 }
    }
    when 1 > 0 {
      emit "arm" { n: 1 }
      emit "arm" { n: 2 }
    } else {
      emit "arm" { n: 3 }
    }
    try {
      emit "tried" { n: 1 }
      x = boom({})
    } catch err {
      emit "tried" { n: 2 }
    }
  }
}
"#,
    );
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(0);
    let events: Vec<Value> = project.json(["events", "--format", "json"]);
    let mut seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["payload"].to_string(),
            )
        })
        .collect();
    seen.sort();
    let expected = [
        ("arm", r#"{"n":1}"#),
        ("arm", r#"{"n":2}"#),
        ("branch", r#"{"b":1}"#),
        ("branch", r#"{"b":2}"#),
        ("order.created", r#"{"id":1}"#),
        ("order.created", r#"{"id":2}"#),
        ("tried", r#"{"n":1}"#),
        ("tried", r#"{"n":2}"#),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(n, p)| (n.to_string(), p.to_string()))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn fail_inside_try_ends_the_execution() {
    let project = Project::new("abuse_fail_in_try").file(
        "flow.wf",
        r#"
workflow w {
  steps {
    try { fail "stop here" } catch err { emit "caught" {} }
    emit "after" {}
  }
}
"#,
    );
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert!(run.stderr.contains("stop here"), "{}", run.stderr);
    let store = project.store();
    assert_eq!(executions(&store, "w")[0].status, "failed");
    assert!(
        store.events(None).unwrap().is_empty(),
        "neither handler nor later steps ran"
    );
}

#[test]
fn a_burst_of_samples_fires_on_each_crossing() {
    let project = Project::new("abuse_metric_burst").file(
        "flow.wf",
        r#"
agent noop { compute { ok: true } }
trigger high { when metric latest(score) >= 4167 }
workflow alert { on high chain noop }
"#,
    );
    let server = Server::start(&project, &[]);
    let store = project.store();
    // Let the dispatcher take its first look, then record five samples at once:
    // well inside one tick.
    std::thread::sleep(Duration::from_millis(500));
    for value in [4000.0, 4200.0, 4300.0, 4100.0, 4500.0] {
        store
            .record_metric("score", value, chrono::Utc::now())
            .unwrap();
    }
    wait_for(Duration::from_secs(5), || {
        executions(&store, "alert").len() == 2
    });
    std::thread::sleep(Duration::from_millis(500));
    server.stop();
    let values: Vec<f64> = executions(&store, "alert")
        .iter()
        .map(|e| e.input["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values.len(), 2, "{values:?}");
    assert!(
        values.contains(&4200.0) && values.contains(&4500.0),
        "{values:?}"
    );
}

/// A file whose only error is a name at column 70,001 of one line.
fn long_line_error() -> String {
    format!(
        "agent a {{ compute {{ x: {}nope }} }}\nworkflow w {{ chain a }}\n",
        " ".repeat(70_000)
    )
}

#[test]
fn a_diagnostic_far_along_a_line_is_rendered_around_its_span() {
    let project = Project::new("abuse_long_line").file("flow.wf", &long_line_error());
    let run = project
        .cli(["check", "flow.wf"])
        .env("NO_COLOR", "1")
        .run()
        .expect_code(1);
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
    assert!(run.stderr.contains("flow.wf:1:"), "{}", run.stderr);
    assert!(run.stderr.contains('…'), "the line is cut: {}", run.stderr);
    assert!(run.stderr.len() < 5_000, "{} bytes", run.stderr.len());
}

#[test]
fn a_reload_that_cannot_apply_leaves_the_server_firing() {
    let valid = r#"
agent noop { compute { ok: true } }
trigger go { on event "go" }
workflow w { on go chain noop }
"#;
    let project = Project::new("abuse_watch").file("flow.wf", valid);
    let server = Server::start(&project, &["--watch"]);
    let store = project.store();
    // Modification times have a coarse grain on some file systems.
    std::thread::sleep(Duration::from_millis(50));
    std::fs::write(project.dir.join("flow.wf"), long_line_error()).unwrap();
    wait_for(Duration::from_secs(5), || server.logged("not applied"));
    project.wfc(["emit", "go"]).expect_code(0);
    wait_for(Duration::from_secs(5), || {
        executions(&store, "w").len() == 1
    });
    std::fs::write(
        project.dir.join("flow.wf"),
        format!("{valid}\nworkflow v {{ on go chain noop }}\n"),
    )
    .unwrap();
    wait_for(Duration::from_secs(5), || server.logged("reloaded"));
    project.wfc(["emit", "go"]).expect_code(0);
    wait_for(Duration::from_secs(5), || {
        executions(&store, "v").len() == 1
    });
    server.stop();
}

#[test]
fn a_background_child_holding_stdout_does_not_hold_the_step() {
    let project = Project::new("abuse_background")
        .file(
            "agents/bg.sh",
            "cat >/dev/null\nsleep 20 &\necho $! > bg.pid\necho '{\"ok\": true}'\n",
        )
        .file(
            "flow.wf",
            r#"
agent bg { output { ok: bool } run ["sh", "agents/bg.sh"] timeout 10s }
workflow w { steps { x = bg({}) } }
"#,
        );
    let started = Instant::now();
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(0);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the step took {took:?}");
    let pid: u32 = std::fs::read_to_string(project.dir.join("bg.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for(Duration::from_secs(2), || !alive(pid));
}

#[test]
fn durations_on_the_command_line_are_checked() {
    for (grace, problem) in [
        ("18446744073709551615s", "too long"),
        ("307445734561825861m", "too long"),
        ("10x", "not a duration"),
    ] {
        let run = Wfc::new(["serve", "examples/hello.wf", "--grace", grace]).run();
        assert_eq!(run.code, Some(2), "{grace}: {}", run.stderr);
        assert!(run.stderr.contains(problem), "{grace}: {}", run.stderr);
    }
    let run = Wfc::new(["serve", "examples/hello.wf", "--idle-timeout", "0s"]).run();
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("longer than 0"), "{}", run.stderr);
}

/// `wfc run` in the background, its output piped.
fn spawn_run(project: &Project, args: &[&str]) -> std::process::Child {
    project
        .command()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &std::process::Child, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

#[test]
fn a_signalled_run_lets_its_step_finish_starts_no_other_and_is_resumable() {
    let project = Project::new("abuse_run_sigterm")
        .file(
            "agents/step.sh",
            "cat >/dev/null\necho \"$1\" >> ran.log\necho $$ > \"$1.pid\"\nsleep 0.3\necho '{}'\n",
        )
        .file(
            "flow.wf",
            r#"
agent one { run ["sh", "agents/step.sh", "one"] }
agent two { run ["sh", "agents/step.sh", "two"] }
workflow w { chain one -> two }
"#,
        );
    let run = spawn_run(
        &project,
        &["run", "flow.wf", "--workflow", "w", "--grace", "5s"],
    );
    wait_for(Duration::from_secs(5), || {
        project.dir.join("one.pid").exists()
    });
    signal(&run, libc::SIGTERM);
    let started = Instant::now();
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "waited for the whole grace"
    );
    assert!(stderr.contains("is resumable: `wfc resume"), "{stderr}");
    let ran = || std::fs::read_to_string(project.dir.join("ran.log")).unwrap();
    assert_eq!(
        ran(),
        "one\n",
        "the running step finished; the next never started"
    );
    let store = project.store();
    let execution = &executions(&store, "w")[0];
    assert_eq!(execution.status, "running");
    let attempts = store.attempts(&execution.id).unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status, "completed");
    project.wfc(["resume", &execution.id]).expect_code(0);
    assert_eq!(ran(), "one\ntwo\n", "resume ran only what was left");
    assert_eq!(store.execution(&execution.id).unwrap().status, "completed");
}

#[test]
fn a_second_signal_kills_the_running_agents_at_once() {
    let project = Project::new("abuse_run_sigint")
        .file(
            "agents/hang.sh",
            "cat >/dev/null\necho $$ > hang.pid\nsleep 30\n",
        )
        .file(
            "flow.wf",
            r#"
agent hang { run ["sh", "agents/hang.sh"] }
workflow w { steps { x = hang({}) } }
"#,
        );
    let mut run = spawn_run(
        &project,
        &["run", "flow.wf", "--workflow", "w", "--grace", "1h"],
    );
    wait_for(Duration::from_secs(5), || {
        project.dir.join("hang.pid").exists()
    });
    signal(&run, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        run.try_wait().unwrap().is_none(),
        "the grace lets the step run"
    );
    signal(&run, libc::SIGINT);
    let status = run.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let pid: u32 = std::fs::read_to_string(project.dir.join("hang.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for(Duration::from_secs(2), || !alive(pid));
    let store = project.store();
    let execution = &executions(&store, "w")[0];
    assert_eq!(execution.status, "running", "left for resume");
    assert_eq!(
        store.attempts(&execution.id).unwrap()[0].status,
        "interrupted"
    );
}

#[test]
fn execution_lists_are_capped_paged_and_leave_large_fields_out() {
    let project = Project::new("abuse_list").file(
        "flow.wf",
        r#"
agent echo { compute { size: 1 } }
workflow w { input { blob: string } chain echo }
"#,
    );
    let blob = "x".repeat(100_000);
    let input = format!(r#"{{"blob": "{blob}"}}"#);
    for _ in 0..5 {
        project
            .wfc(["run", "flow.wf", "--workflow", "w", "--input", &input])
            .expect_code(0);
    }
    let server = Server::start(&project, &[]);
    let (status, error) = server.http("GET", "/executions?limit=1001", None, None);
    assert_eq!(status, 400, "{error}");
    assert!(error["error"].as_str().unwrap().contains("from 1 to 1000"));
    let mut seen = Vec::new();
    let mut path = "/executions?limit=2".to_string();
    loop {
        let (status, page) = server.http("GET", &path, None, None);
        assert_eq!(status, 200, "{page}");
        let executions = page["executions"].as_array().unwrap();
        assert!(executions.len() <= 2);
        for execution in executions {
            assert!(execution.get("input").is_none(), "{execution}");
            assert!(execution["id"].is_string());
            seen.push(execution["id"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/executions?limit=2&before={next}"),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (5, 5), "{seen:?}");
    let (status, full) = server.http("GET", &format!("/executions/{}", seen[0]), None, None);
    assert_eq!(status, 200);
    assert_eq!(
        full["execution"]["input"]["blob"].as_str().map(str::len),
        Some(100_000)
    );
    let (status, _) = server.http("GET", "/executions?before=nonexistent", None, None);
    assert_eq!(status, 404);
    server.stop();
}

#[test]
fn every_http_error_is_json() {
    let project = Project::new("abuse_http_errors").file("flow.wf", FAST_EXITS);
    let server = Server::start(&project, &[]);
    let long = format!("/executions?workflow={}", "w".repeat(10_000));
    let cases = [
        (
            "DELETE",
            "/executions".to_string(),
            405,
            "method not allowed",
        ),
        ("GET", "/events/x".to_string(), 405, "method not allowed"),
        ("GET", long, 414, "request target"),
    ];
    for (method, path, code, message) in cases {
        let (status, error) = server.http(method, &path, None, None);
        assert_eq!(status, code, "{method} {}", &path[..20]);
        assert!(
            error["error"].as_str().is_some_and(|e| e.contains(message)),
            "{method}: {error}"
        );
    }
    let (status, error) = server.raw(&format!(
        "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
        "h".repeat(20_000)
    ));
    assert_eq!(status, 431, "{error}");
    assert!(
        error["error"].as_str().unwrap().contains("headers"),
        "{error}"
    );
    server.stop();
}

#[test]
fn slow_clients_cannot_starve_the_server() {
    let project = Project::new("abuse_slow_clients").file("flow.wf", FAST_EXITS);
    let server = Server::start(&project, &[]);
    // The server raised its soft open-files limit to the hard one.
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id())).unwrap();
    let files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<&str> = files.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers[0], numbers[1], "{files}");
    // More idle connections than the server serves at once, each sending half a
    // request line and then nothing.
    let mut idle = Vec::new();
    for _ in 0..400 {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        let _ = std::io::Write::write_all(&mut stream, b"GET /hea");
        idle.push(stream);
    }
    // Over the limit, a connection is told so at once instead of hanging; a
    // health check still answers.
    let (status, error) = server.raw("GET /executions HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(status, 503, "{error}");
    assert!(error["error"]
        .as_str()
        .unwrap()
        .contains("too many connections"));
    let (status, health) = server.raw("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(status, 200, "{health}");
    // The server still does its work: an event emitted now starts its workflow.
    project
        .wfc(["emit", "go", "--data", r#"{"blob": "b"}"#])
        .expect_code(0);
    let store = project.store();
    wait_for(Duration::from_secs(10), || {
        !executions(&store, "fail_fast").is_empty()
    });
    drop(idle);
    wait_for(Duration::from_secs(5), || {
        server
            .try_http("GET", "/health")
            .is_some_and(|(status, _)| status == 200)
    });
    server.stop();
}

#[test]
fn half_sent_and_idle_connections_are_closed_after_the_idle_timeout() {
    let project = Project::new("abuse_idle").file("flow.wf", FAST_EXITS);
    let server = Server::start(&project, &["--idle-timeout", "300ms"]);
    let connect = || {
        let stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
    };
    let closed = |mut stream: std::net::TcpStream| {
        let started = Instant::now();
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stream, &mut rest);
        started.elapsed()
    };
    let mut half = connect();
    std::io::Write::write_all(&mut half, b"GET /hea").unwrap();
    assert!(
        closed(half) < Duration::from_secs(3),
        "a half-sent request is dropped"
    );
    // A kept-alive connection is served, then closed once idle.
    let mut kept = connect();
    std::io::Write::write_all(
        &mut kept,
        b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .unwrap();
    let mut buffer = [0u8; 4096];
    let n = std::io::Read::read(&mut kept, &mut buffer).unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
    assert!(
        closed(kept) < Duration::from_secs(3),
        "an idle connection is closed"
    );
    server.stop();
}

#[test]
fn an_execution_id_needs_a_few_characters_and_ambiguity_lists_candidates() {
    let project = Project::new("abuse_short_ids").file("flow.wf", FAST_EXITS);
    for _ in 0..3 {
        run_answer(&project);
    }
    for id in ["", "0", "01a"] {
        let run = project.wfc(["cancel", id]).expect_code(2);
        assert!(run.stderr.contains("too short"), "{id:?}: {}", run.stderr);
        let run = project.wfc(["show", id]).expect_code(2);
        assert!(run.stderr.contains("too short"), "{id:?}: {}", run.stderr);
    }
    let store = project.store();
    let ids: Vec<String> = executions(&store, "answer")
        .into_iter()
        .map(|e| e.id)
        .collect();
    // UUIDv7 ids made within a second share their first characters (the top of a
    // millisecond clock): four change once in years, eight every 65 seconds.
    let common = (0..ids[0].len())
        .take_while(|&i| {
            ids.iter()
                .all(|id| id.as_bytes()[i] == ids[0].as_bytes()[i])
        })
        .count();
    assert!(common >= 4, "{ids:?}");
    let shared = &ids[0][..common];
    let run = project.wfc(["show", shared]).expect_code(2);
    assert!(
        run.stderr.contains("matches several executions"),
        "{}",
        run.stderr
    );
    assert!(
        ids.iter().all(|id| run.stderr.contains(id.as_str())),
        "{}",
        run.stderr
    );
    let server = Server::start(&project, &[]);
    let (status, error) = server.http("POST", "/executions//cancel", None, None);
    assert!(status == 400 || status == 404, "{status}: {error}");
    assert!(error["error"].is_string(), "{error}");
    let (status, error) = server.http("POST", "/executions/0/cancel", None, None);
    assert_eq!(status, 400, "{error}");
    server.stop();
    assert!(executions(&store, "answer")
        .iter()
        .all(|e| e.status == "completed"));
}

#[test]
fn escape_sequences_from_agents_never_reach_the_terminal_raw() {
    let project = Project::new("abuse_escapes")
        .file(
            "agents/rude.sh",
            "cat >/dev/null\nprintf '\\033[2J\\033]0;owned\\007\\233H boom\\r\\n' >&2\nexit 1\n",
        )
        .file(
            "flow.wf",
            r#"
agent rude { run ["sh", "agents/rude.sh"] }
workflow w { steps { x = rude({}) } on_failure dead_letter }
"#,
        );
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    let store = project.store();
    let id = executions(&store, "w")[0].id.clone();
    let show = project.wfc(["show", &id]).expect_code(0);
    let dlq = project.wfc(["dlq", "list"]).expect_code(0);
    for (what, text) in [
        ("run", &run.stderr),
        ("show", &show.stdout),
        ("dlq", &dlq.stdout),
    ] {
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']),
            "{what}: {text:?}"
        );
        assert!(text.contains("\\x1b[2J"), "{what}: {text}");
    }
}

#[test]
fn the_checker_reads_only_regular_files_of_bounded_size() {
    let project = Project::new("abuse_reads").file(
        "flow.wf",
        "import \"/dev/zero\"\nimport \"pipe.wf\"\nworkflow w { steps { let x = 1 } }\n",
    );
    let fifo = std::ffi::CString::new(project.dir.join("pipe.wf").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the path only.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let started = Instant::now();
    let run = project.wfc(["check", "flow.wf"]).expect_code(1);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        run.stderr.matches("not a regular file").count(),
        2,
        "{}",
        run.stderr
    );
    let run = Wfc::new(["check", "/dev/zero"]).run().expect_code(2);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    let big = project.dir.join("big.wf");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(17 * 1024 * 1024).unwrap();
    let run = project.wfc(["check", "big.wf"]).expect_code(2);
    assert!(run.stderr.contains("larger than 16 MiB"), "{}", run.stderr);
}

#[test]
fn a_database_the_user_may_only_read_is_read() {
    if !crate::support::tool_or_skip("setpriv", "util-linux", "reading as another user") {
        return;
    }
    let project = Project::sqlite("abuse_read_only").file("flow.wf", FAST_EXITS);
    run_answer(&project);
    let id = executions(&project.store(), "answer")[0].id.clone();
    use std::os::unix::fs::PermissionsExt;
    let readable = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    readable(&project.dir, 0o755);
    readable(&project.dir.join("wfc.db"), 0o644);
    // As `nobody`, who may read the file but write neither it nor its directory.
    let as_nobody = |args: &[&str]| {
        let output = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_wfc"))
            .args(args)
            .current_dir(&project.dir)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    if as_nobody(&["--version"]).0 != Some(0) {
        // Not root, or the binary is not reachable by `nobody`: nothing to test here.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "setpriv cannot run wfc as nobody"
        );
        return;
    }
    let (code, stdout, stderr) = as_nobody(&["history"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("answer"), "{stdout}");
    let (code, stdout, stderr) = as_nobody(&["show", &id, "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("completed"), "{stdout}");
    let (code, _, stderr) = as_nobody(&["stats"]);
    assert_eq!(code, Some(0), "{stderr}");
    // A command that writes says why it cannot.
    let (code, _, stderr) = as_nobody(&ANSWER);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("wfc.db"), "{stderr}");
}

#[test]
fn a_foreign_sqlite_file_is_refused_untouched() {
    let project = Project::sqlite("abuse_foreign_db").file("flow.wf", FAST_EXITS);
    let path = project.dir.join("theirs.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
        .unwrap();
    drop(conn);
    let before = std::fs::read(&path).unwrap();
    for args in [
        vec!["history", "--db", "theirs.db"],
        [&ANSWER[..], &["--db", "theirs.db"]].concat(),
    ] {
        let run = project.wfc(args).expect_code(2);
        assert!(run.stderr.contains("did not create"), "{}", run.stderr);
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "not switched to WAL, not migrated"
    );
    assert!(!project.dir.join("theirs.db-wal").exists());
}

#[test]
fn goals_at_a_date_read_that_day_in_the_files_timezone_and_its_team_load_then() {
    let project = Project::new("abuse_goals_at").file(
        "flow.wf",
        r#"
timezone "America/New_York"
agent worker { skills [sales] compute { ok: true } }
trigger go { manual }
workflow busy { on go steps { x = worker({}) } record rev = 1 }
goal monthly {
  kpi sum(rev) per month >= 100
  team { skills [sales] size 1 }
}
"#,
    );
    // 20:00 on 30 November in New York is 01:00 on 1 December in UTC.
    for (value, at) in [
        ("30", "2026-11-10T15:00:00Z"),
        ("40", "2026-12-01T01:00:00Z"),
    ] {
        project
            .wfc(["metrics", "record", "rev", value, "--at", at])
            .expect_code(0);
    }
    let goals = |extra: &[&str]| -> Value {
        let mut args = vec!["goals", "flow.wf", "--format", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&project.wfc(args).expect_code(0).stdout).unwrap()
    };
    let november = goals(&["--at", "2026-11-30"]);
    let goal = &november["goals"][0];
    assert_eq!(goal["kpi"]["period"], "2026-11", "{goal}");
    assert_eq!(goal["kpi"]["current"], 70.0, "{goal}");
    // A call made now is in the last hour now, not at the end of a past day.
    project
        .wfc(["run", "flow.wf", "--workflow", "busy"])
        .expect_code(0);
    let reason = |report: &Value| report["goals"][0]["team"]["members"][0]["reason"].clone();
    assert!(reason(&goals(&[]))
        .as_str()
        .unwrap()
        .contains("1 call in the last hour"));
    let before = goals(&["--at", "2020-01-01"]);
    assert!(
        reason(&before)
            .as_str()
            .unwrap()
            .contains("0 calls in the last hour"),
        "{before}"
    );
}

#[test]
fn emits_are_stored_once_each_across_a_kill_and_resume() {
    let project = Project::new("abuse_emit_resume")
        .file(
            "agents/slow.sh",
            "cat >/dev/null\nif [ -e fast ]; then echo '{}'; exit 0; fi\necho $$ > slow.pid\nsleep 30\n",
        )
        .file(
            "flow.wf",
            r#"
agent slow { run ["sh", "agents/slow.sh"] }
workflow w {
  steps {
    emit "order.created" { id: 1 }
    emit "order.created" { id: 2 }
    x = slow({})
    emit "order.created" { id: 3 }
  }
}
"#,
        );
    let mut run = spawn_run(&project, &["run", "flow.wf", "--workflow", "w"]);
    wait_for(Duration::from_secs(5), || {
        project.dir.join("slow.pid").exists()
    });
    run.kill().unwrap();
    run.wait().unwrap();
    std::fs::write(project.dir.join("fast"), "").unwrap();
    project.wfc(["resume"]).expect_code(0);
    let store = project.store();
    let ids: Vec<i64> = store
        .events(None)
        .unwrap()
        .iter()
        .map(|e| e.payload["id"].as_i64().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 2, 3], "{ids:?}");
}

#[test]
fn lists_say_when_they_stop_and_recorders_say_what_they_recorded() {
    let project = Project::new("abuse_list_limits").file("flow.wf", FAST_EXITS);
    for _ in 0..22 {
        run_answer(&project);
    }
    let all: Vec<Value> = project.json(["history", "--format", "json"]);
    assert_eq!(all.len(), 22, "JSON lists everything unless told otherwise");
    let text = project.wfc(["history"]).expect_code(0);
    assert_eq!(text.stdout.lines().count(), 21, "a header and 20 rows");
    assert!(
        text.stderr.contains("--limit N shows more"),
        "{}",
        text.stderr
    );
    let some: Vec<Value> = project.json(["history", "--format", "json", "--limit", "3"]);
    assert_eq!(some.len(), 3);
    let emitted: Value = project.json(["emit", "order.created", "--format", "json"]);
    assert_eq!(emitted["name"], "order.created");
    assert!(emitted["event"].as_i64().is_some(), "{emitted}");
    let plain = project.wfc(["emit", "order.created"]).expect_code(0);
    assert!(plain.stdout.is_empty() && plain.stderr.contains("recorded event order.created"));
    let sample: Value = project.json(["metrics", "record", "rev", "12.5", "--format", "json"]);
    assert_eq!(
        (sample["name"].clone(), sample["value"].clone()),
        ("rev".into(), 12.5.into())
    );
}

/// A database that fails while a command runs is not a usage error: it exits 3,
/// which a script can tell from a mistake of its own (2) and retry.
#[test]
fn a_database_that_fails_mid_command_exits_3() {
    let project = Project::sqlite("abuse_failing_db").file("flow.wf", FAST_EXITS);
    project.wfc(["emit", "lead.created"]).expect_code(0);
    project.wfc(ANSWER).expect_code(0);
    // Damage the store behind wfc's back: its schema version says all is well.
    let conn = rusqlite::Connection::open(project.dir.join("wfc.db")).unwrap();
    conn.execute_batch("DROP TABLE events; DROP TABLE step_attempts;")
        .unwrap();
    drop(conn);
    for args in [vec!["emit", "lead.created"], vec!["events"]] {
        let run = project.wfc(args).expect_code(3);
        assert!(run.stderr.contains("no such table"), "{}", run.stderr);
    }
    let id = project
        .store()
        .executions(&HistoryFilter::default())
        .unwrap()[0]
        .id
        .clone();
    let run = project.wfc(["show", &id]).expect_code(3);
    assert!(run.stderr.contains("database error"), "{}", run.stderr);
    // An id that names nothing is still the user's mistake.
    project.wfc(["show", "ffffffff"]).expect_code(2);
}

/// `wfc serve` on a file it cannot read says so once, with exit status 2.
#[test]
fn serve_on_a_missing_file_says_why_once() {
    let project = Project::new("abuse_serve_missing");
    let run = project.wfc(["serve", "missing.wf"]).expect_code(2);
    assert_eq!(
        run.stderr.matches("cannot read").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("missing.wf"), "{}", run.stderr);
}
