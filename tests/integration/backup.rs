//! `wfc db backup` while a server writes: the copy is consistent as of one
//! moment, and `wfc resume` on it finishes what was running when it was taken.

use crate::server::Server;
use crate::support::{wait_for, Project};
use serde_json::Value;
use std::time::Duration;

const FLOW: &str = r#"
agent quick { output { ok: bool } run ["sh", "-c", "echo '{\"ok\": true}'"] }
agent nap { output { ok: bool } run ["sh", "-c", "sleep 0.4; echo '{\"ok\": true}'"] }
trigger go { manual }
workflow slow { on go steps { a = quick({}) b = nap({}) c = quick({}) } output c }
"#;

fn statuses(project: &Project, db: &str) -> Vec<String> {
    let listed: Value = project.json(["history", "--db", db, "--format", "json"]);
    listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_backup_taken_while_a_server_writes_resumes_to_the_end() {
    let project = Project::sqlite("backup_online").file("flow.wf", FLOW);
    let server = Server::start(&project, &[]);
    for _ in 0..6 {
        let (status, _) = server.http("POST", "/workflows/slow/runs", Some("{}"), None);
        assert_eq!(status, 202);
    }
    // Taken while steps run and the server keeps writing.
    wait_for(Duration::from_secs(10), || {
        let (_, listed) = server.http("GET", "/executions?status=running", None, None);
        listed["executions"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    });
    let out = project.wfc(["db", "backup", "copy.db"]).expect_code(0);
    assert!(out.stdout.contains("integrity ok"), "{}", out.stdout);
    assert!(out.stdout.contains("6 executions"), "{}", out.stdout);
    server.stop();
    let copy = project.dir.join("copy.db");
    assert!(
        !project.dir.join("copy.db-wal").exists(),
        "one file to carry away"
    );
    let before = statuses(&project, "copy.db");
    assert_eq!(before.len(), 6);
    assert!(before.iter().any(|s| s == "running"), "{before:?}");
    // Restored: the copy resumes what was running when it was taken.
    project.wfc(["resume", "--db", "copy.db"]).expect_code(0);
    assert_eq!(statuses(&project, "copy.db"), vec!["completed"; 6]);
    // Never over a file.
    let out = project.wfc(["db", "backup", "copy.db"]).expect_code(2);
    assert!(out.stderr.contains("exists already"), "{}", out.stderr);
    assert!(copy.is_file());
}

#[test]
fn a_postgres_store_or_a_missing_file_is_refused_with_what_to_use() {
    let project = Project::sqlite("backup_refused");
    let out = project
        .wfc([
            "db",
            "backup",
            "x.db",
            "--db",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .expect_code(2);
    assert!(out.stderr.contains("pg_dump"), "{}", out.stderr);
    let out = project
        .wfc(["db", "backup", "x.db", "--db", "missing.db"])
        .expect_code(2);
    assert!(out.stderr.contains("no database file"), "{}", out.stderr);
    assert!(!project.dir.join("x.db").exists());
}
