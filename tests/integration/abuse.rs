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
    let events: Vec<Value> = serde_json::from_str(
        &project
            .wfc(["events", "--format", "json"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
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
    let run = Wfc::new(["check", "flow.wf"])
        .dir(&project.dir)
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
    wait_for(Duration::from_secs(5), || {
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("not applied"))
    });
    project.wfc(["emit", "go"]).expect_code(0);
    wait_for(Duration::from_secs(5), || {
        executions(&store, "w").len() == 1
    });
    std::fs::write(
        project.dir.join("flow.wf"),
        format!("{valid}\nworkflow v {{ on go chain noop }}\n"),
    )
    .unwrap();
    wait_for(Duration::from_secs(5), || {
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("reloaded"))
    });
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
}

/// `wfc run` in the background, its output piped.
fn spawn_run(project: &Project, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_wfc"))
        .args(args)
        .current_dir(&project.dir)
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
