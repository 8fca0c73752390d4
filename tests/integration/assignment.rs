//! Agent assignment through the built binary and a real server: a paused
//! agent gets no new call (a direct call waits until it is resumed; an
//! `any [skills]` call goes to its peer), an agent excluded from a skill's pool
//! is not chosen for it, every change is kept with who and when, and bad
//! names are refused with what would fit.

use crate::server::Server;
use crate::support::{wait_for, Project};
use std::process::Stdio;
use std::time::Duration;

const FLOW: &str = r#"agent alice { skills [review] output { by: string } run ["sh", "-c", "cat >/dev/null; echo '{\"by\": \"alice\"}'"] }
agent bob { skills [review, audit] output { by: string } run ["sh", "-c", "cat >/dev/null; echo '{\"by\": \"bob\"}'"] }
trigger go { manual }
workflow review { on go steps { r = any [review]({}) } output r }
workflow direct { on go steps { r = alice({}) } output r }
"#;

fn by(project: &Project, workflow: &str) -> String {
    let out = project
        .wfc(["run", "flow.wf", "--workflow", workflow])
        .expect_code(0);
    let answer: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    answer["by"].as_str().unwrap().to_string()
}

#[test]
fn a_paused_agent_gets_no_call_until_resumed_and_its_peer_takes_the_pool() {
    let project = Project::new("assignment_pause").file("flow.wf", FLOW);
    let said = project
        .wfc(["agents", "pause", "flow.wf", "alice", "--by", "Ann Ops"])
        .expect_code(0)
        .stdout;
    assert_eq!(said, "paused `alice`: it gets no new calls\n");
    // Said twice: nothing changes, nothing more is kept.
    project
        .wfc(["agents", "pause", "flow.wf", "alice"])
        .expect_code(0);
    for _ in 0..3 {
        assert_eq!(by(&project, "review"), "bob");
    }
    // A direct call waits while it is paused...
    let mut child = project
        .command()
        .args(["run", "flow.wf", "--workflow", "direct"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(child.try_wait().unwrap().is_none(), "the call did not wait");
    // ...and goes on once it is resumed.
    project
        .wfc(["agents", "resume", "flow.wf", "alice", "--by", "Ann Ops"])
        .expect_code(0);
    wait_for(Duration::from_secs(10), || {
        child.try_wait().unwrap().is_some()
    });
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("alice"));

    let listed = project
        .wfc(["agents", "list", "flow.wf"])
        .expect_code(0)
        .stdout;
    assert!(
        listed.contains("alice") && !listed.contains("paused"),
        "{listed}"
    );
    let history: serde_json::Value = project.json(["agents", "history", "--format", "json"]);
    let changes: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["change"].as_str().unwrap(), c["by"].as_str().unwrap()))
        .collect();
    assert_eq!(changes, [("resume", "Ann Ops"), ("pause", "Ann Ops")]);
}

#[test]
fn an_excluded_agent_leaves_a_pool_and_bad_names_are_refused() {
    let project = Project::new("assignment_exclude").file("flow.wf", FLOW);
    project
        .wfc(["agents", "exclude", "flow.wf", "bob", "--skill", "review"])
        .expect_code(0);
    for _ in 0..2 {
        assert_eq!(by(&project, "review"), "alice");
    }
    let listed: serde_json::Value = project.json(["agents", "list", "flow.wf", "--format", "json"]);
    assert_eq!(listed[1]["name"], "bob");
    assert_eq!(listed[1]["excluded"][0][0], "review");
    project
        .wfc(["agents", "include", "flow.wf", "bob", "--skill", "review"])
        .expect_code(0);

    let refused = project
        .wfc(["agents", "pause", "flow.wf", "alcie"])
        .expect_code(2);
    assert!(
        refused
            .stderr
            .contains("no agent named `alcie`; did you mean `alice`?"),
        "{}",
        refused.stderr
    );
    let refused = project
        .wfc(["agents", "exclude", "flow.wf", "alice", "--skill", "audit"])
        .expect_code(2);
    assert!(
        refused
            .stderr
            .contains("agent `alice` has no skill `audit` (its skills: review)"),
        "{}",
        refused.stderr
    );
    let refused = project
        .wfc(["agents", "pause", "flow.wf", "alice", "--by", " "])
        .expect_code(2);
    assert!(
        refused.stderr.contains("must be named"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_api_changes_assignment_and_shows_waiting_calls_behind_the_token() {
    let project = Project::new("assignment_api").file("flow.wf", FLOW);
    let server = Server::start(&project, &["--token", "t0ken"]);
    let token = Some("t0ken");
    let (status, _) = server.http(
        "POST",
        "/agents/alice/pause",
        Some(r#"{"by": "Ann"}"#),
        None,
    );
    assert_eq!(status, 401, "a change needs the token");
    let (status, said) = server.http("POST", "/agents/alice/pause", Some("{}"), token);
    assert_eq!(status, 400, "{said}");
    let (status, said) = server.http(
        "POST",
        "/agents/alice/sleep",
        Some(r#"{"by": "Ann"}"#),
        token,
    );
    assert_eq!(status, 404, "{said}");
    let (status, said) = server.http(
        "POST",
        "/agents/alcie/pause",
        Some(r#"{"by": "Ann"}"#),
        token,
    );
    assert_eq!(status, 404, "{said}");
    assert!(
        said["error"]
            .as_str()
            .unwrap()
            .contains("did you mean `alice`"),
        "{said}"
    );
    let (status, said) = server.http(
        "POST",
        "/agents/alice/pause",
        Some(r#"{"by": "Ann"}"#),
        token,
    );
    assert_eq!(
        (status, &said["changed"]),
        (200, &serde_json::json!(true)),
        "{said}"
    );
    // A run of the paused agent waits, counted where GET /agents shows it.
    let (status, _) = server.http("POST", "/workflows/direct/runs", Some("{}"), token);
    assert_eq!(status, 202);
    let alice = || {
        let (_, agents) = server.http("GET", "/agents", None, token);
        agents["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "alice")
            .cloned()
            .unwrap()
    };
    wait_for(Duration::from_secs(10), || alice()["waiting"] == 1);
    assert_eq!(alice()["paused"]["by"], "Ann");
    let (status, _) = server.http(
        "POST",
        "/agents/alice/resume",
        Some(r#"{"by": "Ann"}"#),
        token,
    );
    assert_eq!(status, 200);
    wait_for(Duration::from_secs(10), || alice()["waiting"] == 0);
    let store = project.store();
    wait_for(Duration::from_secs(10), || {
        store
            .executions(&wfc::store::HistoryFilter::default())
            .is_ok_and(|e| {
                e.iter()
                    .any(|e| e.status == wfc::store::ExecutionStatus::Completed)
            })
    });
    server.stop();
}
