//! `wfc db prune` and `wfc serve --retain` through the binary, on SQLite and
//! PostgreSQL: old finished trees go with their rows; each thing resume,
//! exactly-once and alerts need survives, and says why.

use crate::server::Server;
use crate::support::Project;
use serde_json::Value;

const FLOW: &str = r#"
metric done_count { unit "runs" }
agent ok { output { n: number } compute { n: 1 } }
agent bad { output { n: number } run ["sh", "-c", "exit 3"] }
workflow child { steps { r = ok({}) } output r }
workflow parent { steps { c = workflow child({}) } output c record done_count = c.n }
workflow fails { steps { r = bad({}) } output r on_failure dead_letter }
"#;

const OLD: &str = "2020-01-01T00:00:00.000Z";

fn ids(project: &Project, workflow: &str) -> Vec<String> {
    let listed: Value = project.json(["history", "--workflow", workflow, "--format", "json"]);
    listed
        .as_array()
        .or_else(|| listed["executions"].as_array())
        .expect("a list")
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// A store with old trees of each kind, and one recent execution.
fn old_store(name: &str) -> (Project, Vec<String>, Vec<String>) {
    let project = Project::new(name).file("flow.wf", FLOW);
    for _ in 0..4 {
        project
            .wfc(["run", "flow.wf", "--workflow", "parent"])
            .expect_code(0);
    }
    for _ in 0..2 {
        project
            .wfc(["run", "flow.wf", "--workflow", "fails"])
            .expect_code(1);
    }
    project
        .wfc(["emit", "undispatched.event", "--data", "{}"])
        .expect_code(0);
    project
        .wfc(["emit", "dispatched.event", "--data", "{}"])
        .expect_code(0);
    let parents = ids(&project, "parent");
    let failed = ids(&project, "fails");
    assert_eq!((parents.len(), failed.len()), (4, 2));
    // Everything so far is old; one dead letter was replayed; parents[0]'s
    // child is marked running (a crashed server's), and a running execution
    // may await events since it started (the dispatched event is older
    // still); two parents hold cron fires, of
    // which parents[2]'s is its trigger's newest; one closed and one open
    // alert episode.
    let sql = format!(
        "UPDATE executions SET started_at = '{OLD}', finished_at = '2020-01-01T00:00:01.000Z';
         UPDATE events SET emitted_at = '{OLD}';
         UPDATE events SET dispatched_at = '{OLD}', emitted_at = '2019-06-01T00:00:00.000Z'
           WHERE name = 'dispatched.event';
         UPDATE dead_letters SET replayed_by = 'someone' WHERE execution_id = '{f1}';
         UPDATE executions SET status = 'running', finished_at = NULL WHERE parent_id = '{p0}';
         INSERT INTO trigger_fires (trigger, occurrence, workflow, execution_id, fired_at)
           VALUES ('tick', 'slot:a', 'parent', '{p1}', '2020-01-01T00:00:00.000Z'),
                  ('tick', 'slot:b', 'parent', '{p2}', '2020-01-02T00:00:00.000Z');
         INSERT INTO alert_episodes (alert, condition, started_at, ended_at)
           VALUES ('closed_one', 'x', '{OLD}', '{OLD}'), ('open_one', 'x', '{OLD}', NULL);",
        p0 = parents[0],
        p1 = parents[1],
        p2 = parents[2],
        f1 = failed[1],
    );
    project.tamper(&sql, &sql);
    project
        .wfc(["run", "flow.wf", "--workflow", "parent"])
        .expect_code(0);
    (project, parents, failed)
}

fn count(project: &Project, table: &str) -> u64 {
    project.store().count(table).unwrap()
}

#[test]
fn prune_removes_old_finished_trees_and_keeps_what_is_still_needed() {
    let (project, parents, failed) = old_store("retention_prune");
    let (executions, attempts) = (
        count(&project, "executions"),
        count(&project, "step_attempts"),
    );
    assert_eq!(executions, 5 * 2 + 2);

    // A dry run counts and removes nothing.
    let dry: Value = project.json([
        "db",
        "prune",
        "--older-than",
        "30d",
        "--dry-run",
        "--format",
        "json",
    ]);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(count(&project, "executions"), executions);
    assert_eq!(count(&project, "step_attempts"), attempts);

    let pruned: Value = project.json(["db", "prune", "--older-than", "30d", "--format", "json"]);
    for key in [
        "executions",
        "attempts",
        "events",
        "dead_letters",
        "alert_episodes",
    ] {
        assert_eq!(
            pruned[key], dry[key],
            "{key}: the dry run said what was done"
        );
    }
    // parents[1] and parents[3] (each with its child) and failed[1]
    // (replayed) go; the running tree, the newest fire and the dead letter
    // not replayed stay.
    assert_eq!(pruned["executions"], 2 + 2 + 1, "{pruned}");
    assert_eq!(pruned["kept_unfinished"], 1, "{pruned}");
    assert_eq!(pruned["kept_newest_fire"], 1, "{pruned}");
    assert_eq!(pruned["kept_dead_letters"], 1, "{pruned}");
    assert_eq!(pruned["dead_letters"], 1);
    assert_eq!(pruned["events"], 1, "only the dispatched one: {pruned}");
    assert_eq!(pruned["alert_episodes"], 1, "only the closed one");
    // parents[1]'s fire was not its trigger's newest: it went with its tree.
    let remaining: Vec<String> = ids(&project, "parent");
    for kept in [&parents[0], &parents[2]] {
        assert!(remaining.contains(kept), "{kept} stays");
    }
    for gone in [&parents[1], &parents[3]] {
        assert!(!remaining.contains(gone), "{gone} is removed");
        project.wfc(["show", gone]).expect_code(2);
    }
    assert_eq!(remaining.len(), 3, "the recent one too: {remaining:?}");
    assert_eq!(ids(&project, "fails"), [failed[0].clone()]);
    assert_eq!(count(&project, "executions"), executions - 5);
    assert_eq!(count(&project, "events"), 1);
    assert_eq!(count(&project, "alert_episodes"), 1);
    assert_eq!(count(&project, "trigger_fires"), 1);
    // The metric samples stay (goals read them all).
    assert_eq!(count(&project, "metrics"), 5);
    if project.db.to_string().ends_with(".db") {
        assert!(pruned["reusable_bytes"].as_u64().is_some(), "{pruned}");
        assert!(pruned["reclaimed_bytes"].is_null(), "{pruned}");
    }

    // Asked, the dead-lettered tree goes too.
    let all: Value = project.json([
        "db",
        "prune",
        "--older-than",
        "30d",
        "--dead-letters",
        "--vacuum",
        "--format",
        "json",
    ]);
    assert_eq!(all["dead_letters"], 1, "{all}");
    if project.db.to_string().ends_with(".db") {
        assert!(all["reclaimed_bytes"].as_u64().is_some(), "{all}");
    }
    assert!(ids(&project, "fails").is_empty());
}

#[test]
fn prune_refuses_unfinished_statuses_and_a_missing_file() {
    let project = Project::sqlite("retention_usage").file("flow.wf", FLOW);
    project
        .wfc(["run", "flow.wf", "--workflow", "parent"])
        .expect_code(0);
    let out = project
        .wfc([
            "db",
            "prune",
            "--older-than",
            "1d",
            "--status",
            "completed,running",
        ])
        .expect_code(2);
    assert!(
        out.stderr.contains("running executions are never pruned"),
        "{}",
        out.stderr
    );
    let out = project
        .wfc(["db", "prune", "--older-than", "1d", "--status", "complete"])
        .expect_code(2);
    assert!(out.stderr.contains("completed"), "{}", out.stderr);
    let out = project
        .wfc(["db", "prune", "--older-than", "1d", "--db", "missing.db"])
        .expect_code(2);
    assert!(out.stderr.contains("no database file"), "{}", out.stderr);
    // Recent executions are not old enough.
    let out = project
        .wfc(["db", "prune", "--older-than", "1d"])
        .expect_code(0);
    assert!(
        out.stdout.starts_with("removed 0 executions"),
        "{}",
        out.stdout
    );
}

#[test]
fn serve_with_retain_prunes_at_start() {
    let (project, parents, _) = old_store("retention_serve");
    let server = Server::start(&project, &["--retain", "30d"]);
    crate::support::wait_for(std::time::Duration::from_secs(20), || {
        !ids(&project, "parent").contains(&parents[3])
    });
    assert!(
        ids(&project, "parent").contains(&parents[2]),
        "the newest fire stays"
    );
    server.stop();
}
