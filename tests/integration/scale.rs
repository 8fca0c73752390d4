//! Scaling out: moving a history between stores (`wfc db copy`), and many
//! workers on one PostgreSQL store.

use crate::support::{fresh_database, postgres_server, Project};
use serde_json::Value;
use wfc::store::Location;

/// A history with every kind of row: versions, a parent and its sub-workflow,
/// attempts, events, metric samples, a dead letter and its replay.
fn busy_project(name: &str) -> Project {
    let project = Project::sqlite(name)
        .file(
            "agents/svc.sh",
            "cat >/dev/null\nif [ -f fixed ]; then echo '{\"ok\": true}'; else echo broken >&2; exit 2; fi\n",
        )
        .file(
            "flow.wf",
            r#"
agent inc { input { n: number } output { n: number } compute { n: input.n + 1 } }
agent svc { run ["sh", "agents/svc.sh"] }
trigger go { manual }
workflow child { on go input { n: number } steps { r = inc(input) emit "child.done" { n: r.n } } output r record done = r.n }
workflow parent { on go steps { r = workflow child({ n: 5 }) } output r }
workflow fragile { on go input { order: number } steps { x = svc(input) } on_failure dead_letter }
"#,
        );
    project
        .wfc(["run", "flow.wf", "--workflow", "parent"])
        .expect_code(0);
    project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "fragile",
            "--input",
            r#"{"order": 7}"#,
        ])
        .expect_code(1);
    std::fs::write(project.dir.join("fixed"), "").unwrap();
    project.wfc(["dlq", "replay", "1"]).expect_code(0);
    project
}

/// What the commands that look show of a store.
fn seen(project: &Project, db: &str) -> Vec<Value> {
    let look = |args: &[&str]| -> Value {
        let mut args = args.to_vec();
        args.extend(["--db", db]);
        serde_json::from_str(&project.wfc(&args).expect_code(0).stdout).unwrap()
    };
    let history = look(&["history", "--format", "json"]);
    let mut views = vec![
        history.clone(),
        look(&["events", "--format", "json"]),
        look(&["dlq", "list", "--format", "json"]),
    ];
    for execution in history.as_array().unwrap() {
        views.push(look(&[
            "show",
            execution["id"].as_str().unwrap(),
            "--format",
            "json",
        ]));
    }
    views
}

#[test]
fn db_copy_moves_a_whole_history_and_refuses_a_store_that_is_not_empty() {
    let project = busy_project("scale_copy");
    let source = project.dir.join("wfc.db").to_string_lossy().into_owned();
    // Into PostgreSQL when the suite has a server, else into another file; and back.
    let middle = match postgres_server() {
        Some(server) => fresh_database(&server, "scale_copy_middle"),
        None => project.dir.join("middle.db").to_string_lossy().into_owned(),
    };
    let back = project.dir.join("back.db").to_string_lossy().into_owned();
    let copied = project
        .wfc(["db", "copy", "--from", &source, "--to", &middle])
        .expect_code(0);
    assert!(
        copied.stdout.contains("executions             4"),
        "{}",
        copied.stdout
    );
    assert!(
        copied.stdout.contains("step_attempts          4"),
        "{}",
        copied.stdout
    );
    project
        .wfc(["db", "copy", "--from", &middle, "--to", &back])
        .expect_code(0);
    let original = seen(&project, &source);
    assert_eq!(original[0].as_array().unwrap().len(), 4);
    assert_eq!(seen(&project, &middle), original);
    assert_eq!(seen(&project, &back), original);
    let replayed = project
        .wfc(["dlq", "list", "--format", "json", "--db", &middle])
        .stdout;
    assert!(replayed.contains("\"replayed_by\": \"0"), "{replayed}");

    // New rows continue after the copied ones.
    project
        .wfc(["run", "flow.wf", "--workflow", "parent", "--db", &middle])
        .expect_code(0);
    let events: Value = serde_json::from_str(
        &project
            .wfc(["events", "--format", "json", "--db", &middle])
            .stdout,
    )
    .unwrap();
    assert_eq!(events[0]["id"], 2, "{events}");

    // A store with rows is not a destination; nor is a missing file a source.
    let again = project
        .wfc(["db", "copy", "--from", &source, "--to", &middle])
        .expect_code(2);
    assert!(
        again.stderr.contains("copy into an empty store"),
        "{}",
        again.stderr
    );
    let missing = project
        .wfc(["db", "copy", "--from", "nope.db", "--to", "x.db"])
        .expect_code(2);
    assert!(
        missing.stderr.contains("no database file nope.db"),
        "{}",
        missing.stderr
    );
    assert!(!project.dir.join("x.db").exists());
}

#[test]
fn every_table_of_the_schema_is_copied() {
    let store = wfc::store::Store::in_memory().unwrap();
    let mut tables: Vec<String> = store.tables().unwrap();
    tables.sort();
    let mut copied: Vec<&str> = wfc::store::TABLES.to_vec();
    copied.sort();
    assert_eq!(tables, copied);
}

#[test]
fn a_postgres_url_that_does_not_answer_is_a_clear_error() {
    let project = Project::sqlite("scale_no_server").file(
        "flow.wf",
        "trigger go { manual }\nagent a { input { n: number } output { n: number } compute { n: input.n } }\nworkflow w { on go steps { r = a({ n: 1 }) } output r }\n",
    );
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://wfc:hunter2@127.0.0.1:{port}/wfc");
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w", "--db", &url])
        .expect_code(2);
    assert!(
        run.stderr
            .contains("cannot connect to the PostgreSQL database"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("hunter2"),
        "the password is never shown: {}",
        run.stderr
    );
    assert!(!Location::parse(url.as_ref())
        .to_string()
        .contains("hunter2"));
}
