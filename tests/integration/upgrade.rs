//! Upgrading wfc over a store an older wfc wrote: reading commands say how to
//! upgrade it, `wfc db upgrade` says what it migrated and loses nothing, an
//! execution the older wfc left interrupted resumes, and an upgrade is refused
//! while a worker of the older wfc holds a lease.

use crate::support::{root, Project};

/// A copy of `tests/fixtures/schema1`: the store wfc at schema 1 wrote (see its
/// make.sh), beside the file and agents it ran.
fn schema1_project(name: &str) -> Project {
    let project = Project::sqlite(name);
    let fixture = root().join("tests/fixtures/schema1");
    for file in ["flow.wf", "stamp.sh", "slow.sh", "wfc.db"] {
        std::fs::copy(fixture.join(file), project.dir.join(file)).unwrap();
    }
    project
}

#[test]
fn reading_commands_name_the_upgrade_and_explain_reads_the_program_alone() {
    let project = schema1_project("upgrade-reading");
    for args in [
        vec!["history"],
        vec!["events"],
        vec!["dlq", "list"],
        vec!["show", "3f4c26df"],
        vec!["stats"],
    ] {
        let run = project.wfc(&args).expect_code(2);
        assert!(
            run.stderr
                .contains("schema version 1, older than this wfc's")
                && run.stderr.contains("`wfc db upgrade` upgrades it"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let explained = project.wfc(["explain", "flow.wf", "flow"]).expect_code(0);
    assert!(
        explained.stdout.contains("workflow flow"),
        "{}",
        explained.stdout
    );
    assert!(
        explained
            .stderr
            .contains("what the store recorded is left out")
            && explained.stderr.contains("wfc db upgrade"),
        "{}",
        explained.stderr
    );
    // Reading changed nothing: still schema 1.
    let conn = rusqlite::Connection::open(project.dir.join("wfc.db")).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 1);
}

#[test]
fn an_upgrade_says_what_it_migrated_keeps_everything_and_the_killed_run_resumes() {
    let project = schema1_project("upgrade-resume");
    let upgraded = project.wfc(["db", "upgrade"]).expect_code(0);
    let latest = wfc::store::Store::in_memory()
        .unwrap()
        .schema_version()
        .unwrap();
    assert!(
        upgraded
            .stdout
            .starts_with(&format!("upgraded wfc.db from schema 1 to {latest}:\n")),
        "{}",
        upgraded.stdout
    );
    assert!(upgraded.stdout.contains("   8  workers with leases"));
    assert!(upgraded
        .stdout
        .ends_with("kept 6 executions, 0 dead letters and 1 event\n"));

    let history = project.wfc(["history"]).expect_code(0).stdout;
    assert_eq!(history.lines().count(), 7, "{history}");
    assert!(history.contains("interrupted (wfc resume)"), "{history}");
    assert_eq!(history.matches("failed").count(), 1, "{history}");
    let events = project.wfc(["events"]).expect_code(0).stdout;
    assert!(events.contains("number.seen") && events.contains(r#"{"n":7}"#));

    let resumed = project.wfc(["resume"]).expect_code(0);
    assert!(
        resumed.stdout.contains(r#""result":{"doubled":42}"#),
        "{}",
        resumed.stdout
    );
    // Same file, same version: no note that it changed.
    assert!(!resumed.stderr.contains("changed"), "{}", resumed.stderr);
    // `stamp` completed before the kill and is not run again.
    let ran = std::fs::read_to_string(project.dir.join("ran.log")).unwrap();
    assert_eq!(ran, "slow 21\n");
    let shown = project.wfc(["show", "3f4c26df"]).expect_code(0).stdout;
    assert!(shown.contains("slow  slow  #1  -  interrupted"), "{shown}");
    assert!(shown.contains("slow  slow  #2"), "{shown}");

    let again = project.wfc(["db", "upgrade"]).expect_code(0).stdout;
    assert_eq!(
        again,
        format!("wfc.db is at schema {latest}, this wfc's: nothing to upgrade\n")
    );
}

#[test]
fn an_upgrade_waits_for_the_older_wfcs_workers_to_stop() {
    let project = Project::new("upgrade-older-workers").file(
        "a.wf",
        "trigger t { manual }\nworkflow a { on t steps { } }\n",
    );
    drop(project.store());
    // As a wfc at schema 9 leaves a store while one of its workers runs (the
    // tables of later migrations not there yet).
    let worker =
        "INSERT INTO workers (id, host, pid, kind, started_at, heartbeat_at, lease_until, running)
                  VALUES ('w1', 'ops-2', 4242, 'serve', '2026-01-01T00:00:00.000Z',
                          '2026-01-01T00:00:00.000Z', '2999-01-01T00:00:00.000Z', 3);
                  DROP TABLE capacity_slots; DROP TABLE waits; DROP TABLE refused_deliveries;
                  ALTER TABLE executions DROP COLUMN template;
                  ALTER TABLE executions DROP COLUMN template_blob;
                  ALTER TABLE executions DROP COLUMN template_rev;
                  ALTER TABLE executions DROP COLUMN template_commit;
                  DROP TABLE template_sources;
                  DROP TABLE agent_assignments; DROP TABLE assignment_changes;
                  DROP INDEX executions_by_start; DROP INDEX executions_by_end;";
    project.tamper(
        &format!("{worker} PRAGMA user_version = 9;"),
        &format!("{worker} UPDATE wfc_schema SET version = 9;"),
    );
    let refused = project.wfc(["db", "upgrade"]).expect_code(2);
    assert!(
        refused.stderr.contains("schema version 9")
            && refused.stderr.contains("pid 4242 on ops-2")
            && refused.stderr.contains("stop those workers"),
        "{}",
        refused.stderr
    );
    // A command that records would upgrade it too: refused alike, and nothing ran.
    let run = project
        .wfc(["run", "a.wf", "--workflow", "a"])
        .expect_code(2);
    assert!(run.stderr.contains("pid 4242 on ops-2"), "{}", run.stderr);
    // Once its lease has run out (the worker stopped), the upgrade goes on.
    project.tamper(
        "UPDATE workers SET lease_until = '2026-01-01T00:00:00.000Z';",
        "UPDATE workers SET lease_until = '2026-01-01T00:00:00.000Z';",
    );
    let upgraded = project.wfc(["db", "upgrade"]).expect_code(0).stdout;
    assert!(
        upgraded.contains("from schema 9 to ") && upgraded.contains(":\n  10  agent capacity"),
        "{upgraded}"
    );
    project.wfc(["history"]).expect_code(0);
}

#[test]
fn upgrading_a_file_that_is_not_there_creates_nothing() {
    let project = Project::sqlite("upgrade-missing");
    let run = project
        .wfc(["db", "upgrade", "--db", "typo.db"])
        .expect_code(2);
    assert!(
        run.stderr.contains("there is no database file typo.db"),
        "{}",
        run.stderr
    );
    assert!(!project.dir.join("typo.db").exists());
}
