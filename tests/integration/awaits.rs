//! `await` through the built binary: early, late and misfit events, `wfc
//! decide` and its refusals, kill -9 during a wait, resume, cancel, timeouts
//! caught, and one event deciding one step.

use crate::support::{wait_for, Project};
use serde_json::{json, Value};
use std::process::{Child, Stdio};
use std::time::Duration;
use wfc::store::{HistoryFilter, Store};

const FLOW: &str = r#"trigger by_hand { manual }
workflow approve {
  on by_hand
  input { id: string, pause: number }
  steps {
    when input.pause > 0 { wait 2s }
    decision = await "invoice.approved" { approved: bool, by: string, note: string? }
        where event.invoice == input.id
        timeout 10s
  }
  output decision
}

workflow escalate {
  on by_hand
  steps {
    try {
      decision = await "invoice.approved" { approved: bool } timeout 200ms
    } catch timeout as late {
      let escalated = late.kind
    }
  }
  output { escalated: escalated }
}

workflow quick {
  on by_hand
  steps {
    decision = await "invoice.approved" { approved: bool } timeout 300ms
  }
  output decision
}

workflow twice {
  on by_hand
  steps {
    first = await "vote" { yes: bool } timeout 10s
    second = await "vote" { yes: bool } timeout 10s
  }
  output { first: first, second: second }
}

workflow both {
  on by_hand
  steps {
    parallel {
      finance = await "approved.finance" { ok: bool } timeout 10s
      legal = await "approved.legal" { ok: bool } timeout 10s
    }
  }
  output { finance: finance.ok, legal: legal.ok }
}
"#;

fn project(name: &str) -> Project {
    let project = Project::new(name).file("flow.wf", FLOW);
    project.wfc(["check", "flow.wf"]).expect_code(0);
    project
}

fn spawn(project: &Project, workflow: &str, input: &str) -> Child {
    project
        .command()
        .args(["run", "flow.wf", "--workflow", workflow, "--input", input])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The only execution's id, once it is recorded.
fn the_execution(store: &Store) -> String {
    let mut id = None;
    wait_for(Duration::from_secs(20), || {
        id = store
            .executions(&HistoryFilter::default())
            .unwrap()
            .first()
            .map(|e| e.id.clone());
        id.is_some()
    });
    id.unwrap()
}

/// Waits until `step` of `id` is waiting: its wait row and its attempt are written.
fn waiting(store: &Store, id: &str, step: &str) {
    wait_for(Duration::from_secs(20), || {
        store.wait(id, step).unwrap().is_some()
            && store.attempts(id).unwrap().iter().any(|a| a.step == step)
    });
}

fn emit(project: &Project, name: &str, data: Value) {
    project
        .wfc(["emit", name, "--data", &data.to_string()])
        .expect_code(0);
}

fn finished(child: Child) -> (Option<i32>, Value, String) {
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let result = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        output.status.code(),
        result,
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[test]
fn an_event_sent_before_the_wait_is_reached_decides_it_and_misfits_are_refused() {
    let project = project("await_early");
    let store = project.store();
    let child = spawn(&project, "approve", r#"{"id": "A1", "pause": 1}"#);
    let id = the_execution(&store);
    // During the 2 s pause, before the await: another invoice's approval,
    // one whose payload does not fit, then the one that decides.
    emit(
        &project,
        "invoice.approved",
        json!({"invoice": "B2", "approved": true, "by": "bo"}),
    );
    emit(
        &project,
        "invoice.approved",
        json!({"invoice": "A1", "approved": "yes", "by": "al"}),
    );
    emit(
        &project,
        "invoice.approved",
        json!({"invoice": "A1", "approved": true, "by": "ann"}),
    );
    assert!(
        store.wait(&id, "decision").unwrap().is_none(),
        "reached the await too soon"
    );
    let (code, result, stderr) = finished(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        result,
        json!({"invoice": "A1", "approved": true, "by": "ann"})
    );
    let wait = store.wait(&id, "decision").unwrap().unwrap();
    assert_eq!(wait.source.unwrap(), "event");
    assert_eq!(wait.event_id, Some(3));
    let refused = store.refused_deliveries(&id).unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].event_id, 2);
    assert!(
        refused[0]
            .reason
            .contains("field `approved` should be a bool"),
        "{refused:?}"
    );
    let shown = project.wfc(["show", &id]).expect_code(0).stdout;
    assert!(
        shown.contains("resolved at") && shown.contains("by event 3"),
        "{shown}"
    );
    assert!(shown.contains("refused event 2"), "{shown}");
}

#[test]
fn the_deadline_fails_the_step_with_timeout_and_a_later_event_changes_nothing() {
    let project = project("await_late");
    let store = project.store();
    let child = spawn(&project, "quick", "{}");
    let (code, _, stderr) = finished(child);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no decision for `decision`"), "{stderr}");
    let id = the_execution(&store);
    emit(&project, "invoice.approved", json!({"approved": true}));
    let execution = store.execution(&id).unwrap();
    assert_eq!(execution.status, "failed");
    let wait = store.wait(&id, "decision").unwrap().unwrap();
    assert_eq!(wait.outcome.unwrap(), "timed_out");
    let refused = project
        .wfc(["decide", &id, "decision", "--data", r#"{"approved": true}"#])
        .expect_code(2);
    assert!(
        refused.stderr.contains("is not waiting: it timed out at"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_timeout_is_caught_by_catch_timeout() {
    let project = project("await_catch");
    let (code, result, stderr) = finished(spawn(&project, "escalate", "{}"));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(result, json!({"escalated": "timeout"}));
}

#[test]
fn decide_answers_a_waiting_step_once_and_refuses_what_does_not_fit() {
    let project = project("await_decide");
    let store = project.store();
    let child = spawn(&project, "approve", r#"{"id": "A1", "pause": 0}"#);
    let id = the_execution(&store);
    waiting(&store, &id, "decision");
    let listed: Value = project.json(["waits", "--format", "json"]);
    assert_eq!(listed[0]["step"], "decision");
    assert!(listed[0]["left_ms"].as_i64().unwrap() > 0, "{listed}");
    assert_eq!(listed[0]["condition"], "event.invoice == input.id");
    assert_eq!(
        listed[0]["shape"],
        "{ approved: bool, by: string, note: string? }"
    );
    let text = project.wfc(["waits"]).expect_code(0).stdout;
    assert!(
        text.contains("\"invoice.approved\" where event.invoice == input.id"),
        "{text}"
    );
    for (args, says) in [
        (
            vec!["decision", "--data", r#"{"approved": 1}"#],
            "field `approved` should be a bool",
        ),
        (vec!["decision", "--data", "not json"], "--data is not JSON"),
        (
            vec!["nope", "--data", "{}"],
            "has no step `nope` waiting for a decision; it waits at `decision`",
        ),
    ] {
        let mut full = vec!["decide", id.as_str()];
        full.extend(args);
        let run = project.wfc(&full).expect_code(2);
        assert!(run.stderr.contains(says), "{}", run.stderr);
    }
    assert!(store
        .wait(&id, "decision")
        .unwrap()
        .unwrap()
        .outcome
        .is_none());
    let decided = project
        .wfc([
            "decide",
            &id,
            "decision",
            "--data",
            r#"{"approved": false, "by": "ann", "note": "too high"}"#,
            "--by",
            "Ann Example",
        ])
        .expect_code(0);
    assert!(
        decided.stdout.contains("decided `decision`"),
        "{}",
        decided.stdout
    );
    let again = project
        .wfc([
            "decide",
            &id,
            "decision",
            "--data",
            r#"{"approved": true, "by": "bo"}"#,
        ])
        .expect_code(2);
    assert!(
        again.stderr.contains("is not waiting: it was decided at"),
        "{}",
        again.stderr
    );
    let (code, result, stderr) = finished(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(result["note"], "too high");
    let wait = store.wait(&id, "decision").unwrap().unwrap();
    assert_eq!(wait.source.unwrap(), "cli");
    assert_eq!(wait.decided_by.as_deref(), Some("Ann Example"));
    assert!(wait.os_user.is_some());
    let shown = project.wfc(["show", &id]).expect_code(0).stdout;
    assert!(
        shown.contains("from cli, by \"Ann Example\" as they said"),
        "{shown}"
    );
    assert!(project.wfc(["waits"]).expect_code(0).stdout.is_empty());
}

#[test]
fn killed_during_a_wait_the_event_sent_meanwhile_decides_it_on_resume() {
    let project = project("await_kill");
    let store = project.store();
    let mut child = spawn(&project, "approve", r#"{"id": "A1", "pause": 0}"#);
    let id = the_execution(&store);
    waiting(&store, &id, "decision");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = store.wait(&id, "decision").unwrap().unwrap();
    // Listed while nothing runs it: a person may still answer.
    assert!(project
        .wfc(["waits"])
        .expect_code(0)
        .stdout
        .contains("decision"));
    emit(
        &project,
        "invoice.approved",
        json!({"invoice": "A1", "approved": true, "by": "ann"}),
    );
    let resumed = project.wfc(["resume"]).expect_code(0);
    assert!(
        resumed.stdout.contains(r#""approved":true"#),
        "{}",
        resumed.stdout
    );
    let after = store.wait(&id, "decision").unwrap().unwrap();
    // The deadline is the one set when the step was first reached.
    assert_eq!(after.until, before.until);
    assert_eq!(after.source.unwrap(), "event");
    let attempts: Vec<String> = store
        .attempts(&id)
        .unwrap()
        .into_iter()
        .map(|a| format!("{} #{} {}", a.step, a.attempt, a.status))
        .collect();
    assert_eq!(
        attempts,
        ["decision #1 interrupted", "decision #2 completed"]
    );
}

#[test]
fn a_resumed_wait_keeps_its_first_deadline() {
    let project = project("await_resume_deadline");
    let store = project.store();
    let mut child = spawn(&project, "quick", "{}");
    let id = the_execution(&store);
    waiting(&store, &id, "decision");
    child.kill().unwrap();
    child.wait().unwrap();
    let until = store.wait(&id, "decision").unwrap().unwrap().until;
    // Past the first deadline, a resume does not wait another 300 ms from now:
    // it times out at once, at the deadline already set. An event and a
    // decision that came after the deadline (while nothing ran) are too late.
    std::thread::sleep(Duration::from_millis(400));
    emit(&project, "invoice.approved", json!({"approved": true}));
    let late = project
        .wfc(["decide", &id, "decision", "--data", r#"{"approved": true}"#])
        .expect_code(2);
    assert!(
        late.stderr.contains("its deadline passed at"),
        "{}",
        late.stderr
    );
    let resumed = project.wfc(["resume"]).expect_code(1);
    assert!(
        resumed.stderr.contains("no decision for `decision`"),
        "{}",
        resumed.stderr
    );
    let wait = store.wait(&id, "decision").unwrap().unwrap();
    assert_eq!(wait.until, until);
    assert_eq!(wait.outcome.unwrap(), "timed_out");
}

#[test]
fn cancel_ends_a_waiting_execution_and_its_wait_is_no_longer_listed() {
    let project = project("await_cancel");
    let store = project.store();
    let child = spawn(&project, "approve", r#"{"id": "A1", "pause": 0}"#);
    let id = the_execution(&store);
    waiting(&store, &id, "decision");
    project.wfc(["cancel", &id]).expect_code(0);
    let (code, _, stderr) = finished(child);
    assert_ne!(code, Some(0), "{stderr}");
    assert_eq!(store.execution(&id).unwrap().status, "cancelled");
    assert!(project.wfc(["waits"]).expect_code(0).stdout.is_empty());
    let refused = project
        .wfc([
            "decide",
            &id,
            "decision",
            "--data",
            r#"{"approved": true, "by": "a"}"#,
        ])
        .expect_code(2);
    assert!(
        refused.stderr.contains("is cancelled"),
        "{}",
        refused.stderr
    );
}

#[test]
fn one_event_decides_one_step_and_parallel_waits_each_take_their_own() {
    let project = project("await_once");
    let store = project.store();
    let child = spawn(&project, "twice", "{}");
    let id = the_execution(&store);
    waiting(&store, &id, "first");
    emit(&project, "vote", json!({"yes": true}));
    waiting(&store, &id, "second");
    // The first vote decided `first` only; `second` waits for its own.
    std::thread::sleep(Duration::from_millis(300));
    assert!(store
        .wait(&id, "second")
        .unwrap()
        .unwrap()
        .outcome
        .is_none());
    emit(&project, "vote", json!({"yes": false}));
    let (code, result, stderr) = finished(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        result,
        json!({"first": {"yes": true}, "second": {"yes": false}})
    );

    let child = spawn(&project, "both", "{}");
    let mut both = None;
    wait_for(Duration::from_secs(20), || {
        both = crate::support::execution_ids(&store)
            .into_iter()
            .find(|e| *e != id);
        both.is_some()
    });
    let both = both.unwrap();
    waiting(&store, &both, "legal");
    emit(&project, "approved.legal", json!({"ok": true}));
    emit(&project, "approved.finance", json!({"ok": false}));
    let (code, result, stderr) = finished(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(result, json!({"finance": false, "legal": true}));
}

#[test]
fn the_http_api_lists_waits_and_answers_one_with_its_refusals() {
    let project = project("await_http").file(
        "loop.wf",
        "trigger go { manual }\nworkflow batch {\n  on go\n  input { ids: [string] }\n  steps {\n    approvals = for inv in input.ids {\n      decision = await \"batch.approved\" { ok: bool } where event.id == inv timeout 10s\n    }\n  }\n  output approvals\n}\n",
    );
    let server = crate::server::Server::start(&project, &[]);
    let (status, started) = server.http(
        "POST",
        "/workflows/approve/runs",
        Some(r#"{"id": "A1", "pause": 0}"#),
        None,
    );
    assert_eq!(status, 202, "{started}");
    let id = started["execution"].as_str().unwrap().to_string();
    let store = project.store();
    waiting(&store, &id, "decision");
    let (status, listed) = server.http("GET", "/waits", None, None);
    assert_eq!(status, 200);
    assert_eq!(listed["waits"][0]["step"], "decision");
    assert!(
        listed["waits"][0]["left_ms"].as_i64().unwrap() > 0,
        "{listed}"
    );
    let path = format!("/executions/{id}/waits/decision");
    for (body, code, says) in [
        (
            r#"{"decision": {"approved": "yes", "by": "a"}}"#,
            400,
            "field `approved` should be a bool",
        ),
        (
            r#"{"approved": true}"#,
            400,
            "the body needs the `decision`",
        ),
        (
            r#"{"decision": {"approved": true, "by": "a"}, "from": "cli"}"#,
            400,
            "`from` is `dashboard`",
        ),
        ("not json", 400, "not JSON"),
    ] {
        let (status, answer) = server.http("POST", &path, Some(body), None);
        assert_eq!(status, code, "{body}: {answer}");
        assert!(
            answer["error"].as_str().unwrap_or_default().contains(says),
            "{answer}"
        );
    }
    let (status, answer) = server.http(
        "POST",
        &format!("/executions/{id}/waits/nope"),
        Some(r#"{"decision": {}}"#),
        None,
    );
    assert_eq!(status, 404, "{answer}");
    let good = r#"{"decision": {"approved": true, "by": "ann"}, "by": "Ann", "from": "dashboard"}"#;
    let (status, answer) = server.http("POST", &path, Some(good), None);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["source"], "dashboard");
    assert_eq!(answer["decided_by"], "Ann");
    let (status, answer) = server.http("POST", &path, Some(good), None);
    assert_eq!(status, 409, "{answer}");
    wait_for(Duration::from_secs(10), || {
        store.execution(&id).unwrap().status == "completed"
    });
    drop(server);

    // A wait inside a loop is named by its path, percent-encoded in the URL; an
    // event posted to the server decides another iteration's.
    let server = crate::server::Server::spawn(project.command(), "loop.wf", &[]);
    let (status, started) = server.http(
        "POST",
        "/workflows/batch/runs",
        Some(r#"{"ids": ["x", "y"]}"#),
        None,
    );
    assert_eq!(status, 202, "{started}");
    let id = started["execution"].as_str().unwrap().to_string();
    waiting(&store, &id, "approvals[0].decision");
    let (status, answer) = server.http(
        "POST",
        &format!("/executions/{id}/waits/approvals%5B0%5D.decision"),
        Some(r#"{"decision": {"ok": true}}"#),
        None,
    );
    assert_eq!(status, 200, "{answer}");
    waiting(&store, &id, "approvals[1].decision");
    let (status, _) = server.http(
        "POST",
        "/events/batch.approved",
        Some(r#"{"id": "y", "ok": false}"#),
        None,
    );
    assert_eq!(status, 202);
    wait_for(Duration::from_secs(10), || {
        store.execution(&id).unwrap().status == "completed"
    });
    let result = store.execution(&id).unwrap().result.unwrap();
    assert_eq!(result, json!([{"ok": true}, {"id": "y", "ok": false}]));
}

/// Ten invoices waiting on two workers; one worker is killed while they wait;
/// their approvals arrive before, during and after the takeover. Each execution
/// goes on once: one completed decision attempt and one `done` event each.
#[test]
fn two_workers_and_a_killed_one_continue_each_decision_once() {
    const FLOW: &str = r#"trigger received { on event "invoice.received" }
workflow approve {
  on received
  input { id: string }
  steps {
    decision = await "invoice.approved" { approved: bool } where event.invoice == input.id timeout 60s
    emit "invoice.done" { id: input.id }
  }
  output decision
}
"#;
    let project = Project::new("await_workers").file("flow.wf", FLOW);
    let worker = |host: &str| {
        let mut command = project.command();
        command.env("WFC_HOST", host);
        crate::server::Server::spawn(command, "flow.wf", &["--lease", "1s"])
    };
    let mut first = worker("machine-1");
    let _second = worker("machine-2");
    for n in 0..10 {
        emit(
            &project,
            "invoice.received",
            json!({ "id": format!("i{n}") }),
        );
    }
    let store = project.store();
    wait_for(Duration::from_secs(20), || {
        store.open_waits().unwrap().len() == 10
    });
    for n in 0..3 {
        emit(
            &project,
            "invoice.approved",
            json!({ "invoice": format!("i{n}"), "approved": true }),
        );
    }
    first.child.kill().unwrap(); // SIGKILL: its waits go on in the other worker
    first.child.wait().unwrap();
    for n in 3..10 {
        emit(
            &project,
            "invoice.approved",
            json!({ "invoice": format!("i{n}"), "approved": n % 2 == 0 }),
        );
    }
    wait_for(Duration::from_secs(30), || {
        store
            .executions(&HistoryFilter::default())
            .unwrap()
            .iter()
            .filter(|e| e.status == "completed")
            .count()
            == 10
    });
    let events: Vec<Value> = project.json(["events", "--format", "json"]);
    let done = events
        .iter()
        .filter(|e| e["name"] == "invoice.done")
        .count();
    assert_eq!(done, 10);
    for execution in store.executions(&HistoryFilter::default()).unwrap() {
        let decided = store
            .attempts(&execution.id)
            .unwrap()
            .into_iter()
            .filter(|a| a.step == "decision" && a.status == "completed")
            .count();
        assert_eq!(decided, 1, "{}", execution.id);
        let wait = store.wait(&execution.id, "decision").unwrap().unwrap();
        assert_eq!(wait.source.unwrap(), "event");
    }
}

/// `wfc test`: events sent at virtual times decide an `await` or come too late
/// for a two-day deadline, which passes without real time; `expect step` says
/// how it ended, and a wrong expectation says what happened instead.
#[test]
fn wfc_test_sends_events_at_virtual_times_and_expects_how_a_wait_ended() {
    let project = project("await_wfc_test").file(
        "flow.test.wf",
        r#"import "flow.wf"

test "approved after a day" {
  run approve with { id: "A1", pause: 0 }
  send event "invoice.approved" { invoice: "B2", approved: true, by: "bo" } after 1h
  send event "invoice.approved" { invoice: "A1", approved: "no", by: "al" } after 2h
  send event "invoice.approved" { invoice: "A1", approved: true, by: "ann" } after 1d
  expect status completed
  expect step decision resolved with { invoice: "A1", approved: true, by: "ann" }
}

test "too late" {
  run approve with { id: "A1", pause: 0 }
  send event "invoice.approved" { invoice: "A1", approved: true, by: "ann" } after 3d
  expect status failed
  expect step decision timed_out
}

test "says what happened" {
  run approve with { id: "A1", pause: 0 }
  expect step decision resolved
}
"#,
    );
    let flow = FLOW.replace("timeout 10s", "timeout 2d");
    let project = project.file("flow.wf", &flow);
    let run = project.wfc(["test", "flow.test.wf"]).expect_code(1);
    assert!(
        run.stdout
            .contains("ok     flow.test.wf: approved after a day"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ok     flow.test.wf: too late"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("2 passed, 1 failed"), "{}", run.stdout);
    let report = format!("{}{}", run.stdout, run.stderr);
    assert!(
        report.contains("expected step `decision` resolved, found it timed out"),
        "{report}"
    );
}

/// `wfc explain` counts an await's deadline in the worst case and says what it
/// waits for; `wfc graph` draws it.
#[test]
fn explain_and_graph_show_an_await() {
    let explained =
        crate::support::Wfc::new(["explain", "examples/enterprise.wf", "large_lead_approval"])
            .run()
            .expect_code(0)
            .stdout;
    assert!(
        explained.contains("decision: waits for a decision: event \"lead.approved\" { approved: bool, by: string, note: string? } where event.lead == input.lead, or `wfc decide`; at most 2d"),
        "{explained}"
    );
    assert!(explained.contains("worst-case time: 2d"), "{explained}");
    let graph = crate::support::Wfc::new([
        "graph",
        "examples/enterprise.wf",
        "--workflow",
        "large_lead_approval",
    ])
    .run()
    .expect_code(0)
    .stdout;
    assert!(
        graph.contains("decision = await lead.approved<br/>timeout 2d"),
        "{graph}"
    );
}
