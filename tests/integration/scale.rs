//! Scaling out: moving a history between stores (`wfc db copy`), and many
//! workers on one PostgreSQL store.

use crate::server::Server;
use crate::support::{fan_out, fresh_database, postgres_server, wait_for, Project};
use serde_json::Value;
use std::time::Duration;
use wfc::store::{HistoryFilter, Location};

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
    let mut copied: Vec<&str> = [wfc::store::TABLES, wfc::store::NOT_COPIED].concat();
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

const LEADS: &str = r#"
agent inc { input { n: number } output { n: number } compute { n: input.n + 1 } }
trigger leads { on event "lead.created" }
workflow on_lead { on leads steps { wait 20ms a = inc({ n: 1 }) wait 20ms b = inc(a) } output b }
"#;

/// A `wfc serve` on the project's store as if on machine `host`, with a 3 s lease.
fn worker(project: &Project, host: &str, extra: &[&str]) -> Server {
    let mut command = project.command();
    command.env("WFC_HOST", host);
    let mut args = vec!["--lease", "3s"];
    args.extend_from_slice(extra);
    Server::spawn(command, "flow.wf", &args)
}

fn workers(project: &Project) -> Vec<Value> {
    project.json(["workers", "--format", "json"])
}

/// How many executions in `store` `keep` keeps.
fn count(store: &wfc::store::Store, keep: impl Fn(&wfc::store::ExecutionRow) -> bool) -> usize {
    store
        .executions(&HistoryFilter::default())
        .unwrap()
        .iter()
        .filter(|e| keep(e))
        .count()
}

#[test]
fn three_workers_start_a_thousand_events_once_each_and_take_over_from_a_killed_one() {
    let project = Project::new("scale_workers").file("flow.wf", LEADS);
    let first = worker(&project, "machine-1", &[]);
    let mut second = worker(&project, "machine-2", &[]);
    // The third takes work but serves no HTTP.
    let mut third = project
        .command()
        .env("WFC_HOST", "machine-3")
        .args(["serve", "flow.wf", "--lease", "3s", "--worker-only"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(10), || workers(&project).len() == 3);
    let listed = workers(&project);
    let kinds: Vec<&str> = listed.iter().map(|w| w["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["serve"; 3]);

    // 1,000 events from 4 processes at once.
    let emitters: Vec<_> = (0..4)
        .map(|e| {
            let (dir, db) = (project.dir.clone(), project.db.clone());
            std::thread::spawn(move || {
                let project = Project { dir, db };
                for n in 0..250 {
                    let data = format!(r#"{{"n": {}}}"#, e * 250 + n);
                    project
                        .wfc(["emit", "lead.created", "--data", &data])
                        .expect_code(0);
                }
            })
        })
        .collect();
    // Kill machine-2 while it runs executions: they are left `running`, owned by it.
    let second_id = workers(&project)
        .into_iter()
        .find(|w| w["host"] == "machine-2")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let store = project.store();
    let owned_by_second = |store: &wfc::store::Store| -> Vec<String> {
        store
            .running_executions()
            .unwrap()
            .into_iter()
            .filter(|e| e.owner.as_deref() == Some(&second_id))
            .map(|e| e.id)
            .collect()
    };
    wait_for(Duration::from_secs(60), || {
        !owned_by_second(&store).is_empty()
    });
    second.child.kill().unwrap(); // SIGKILL: no goodbye, its row and lease stay
    second.child.wait().unwrap();
    let orphaned = owned_by_second(&store);
    for emitter in emitters {
        emitter.join().unwrap();
    }
    let done = |store: &wfc::store::Store| count(store, |e| e.status == "completed");
    wait_for(Duration::from_secs(120), || done(&store) >= 1000);
    std::thread::sleep(Duration::from_millis(300));

    let executions = store.executions(&HistoryFilter::default()).unwrap();
    assert_eq!(executions.len(), 1000, "one execution per event");
    assert!(executions.iter().all(|e| e.status == "completed"));
    let mut inputs: Vec<i64> = executions
        .iter()
        .map(|e| e.input["n"].as_i64().unwrap())
        .collect();
    inputs.sort();
    assert_eq!(
        inputs,
        (0..1000).collect::<Vec<_>>(),
        "each event exactly once"
    );
    let mut reruns = 0;
    let mut interrupted = 0;
    for execution in &executions {
        let attempts = store.attempts(&execution.id).unwrap();
        for step in ["wait#1", "a", "wait#2", "b"] {
            let completed = attempts
                .iter()
                .filter(|a| a.step == step && a.status == "completed")
                .count();
            assert!(completed >= 1, "{} never completed {step}", execution.id);
            reruns += completed - 1;
        }
        interrupted += attempts
            .iter()
            .filter(|a| a.status == "interrupted")
            .count();
    }
    assert_eq!(reruns, 0, "no completed step ran again");
    // What machine-2 left running was finished by the others.
    assert!(!orphaned.is_empty());
    for id in &orphaned {
        let execution = store.execution(id).unwrap();
        assert_eq!(execution.status, "completed");
        assert_ne!(execution.owner.as_deref(), Some(second_id.as_str()));
    }
    println!(
        "1,000 events on 3 workers, one killed with {} executions running: {interrupted} attempts interrupted and resumed elsewhere",
        orphaned.len()
    );
    let listed = workers(&project);
    let dead = listed
        .iter()
        .find(|w| w["id"] == second_id.as_str())
        .unwrap();
    let table = project.wfc(["workers"]).expect_code(0).stdout;
    assert!(table.contains("ran out"), "{table}");
    assert!(table.contains("machine-2"), "{table}");
    assert_eq!(dead["host"], "machine-2");
    third.kill().unwrap();
    third.wait().unwrap();
    drop(first);
}

#[test]
fn a_missed_cron_slot_fires_once_across_workers_started_together() {
    let project = Project::new("scale_cron").file(
        "flow.wf",
        r#"
trigger minutely { cron "* * * * *" timezone "UTC" }
workflow tick { on minutely steps { wait 1ms } }
"#,
    );
    let store = project.store();
    let three_minutes_ago = chrono::Utc::now() - chrono::Duration::minutes(3);
    store
        .set_cron_last_slot("minutely", &wfc::store::timestamp(three_minutes_ago))
        .unwrap();
    let servers: Vec<Server> = (1..=3)
        .map(|n| worker(&project, &format!("machine-{n}"), &[]))
        .collect();
    wait_for(Duration::from_secs(10), || {
        !store
            .executions(&HistoryFilter::default())
            .unwrap()
            .is_empty()
    });
    // Every worker has had several ticks to fire it too.
    std::thread::sleep(Duration::from_millis(1000));
    let executions = store.executions(&HistoryFilter::default()).unwrap();
    let mut slots: Vec<String> = executions
        .iter()
        .map(|e| e.input["slot"].as_str().unwrap().to_string())
        .collect();
    slots.sort();
    slots.dedup();
    assert_eq!(
        slots.len(),
        executions.len(),
        "one execution per slot: {executions:?}"
    );
    assert!(!executions.is_empty());
    drop(servers);
}

#[test]
fn a_metric_crossing_recorded_while_every_worker_is_busy_fires_once() {
    let project = Project::new("scale_metric").file(
        "flow.wf",
        r#"
metric backlog { unit "tickets" }
trigger busy { on event "work" }
trigger overloaded { when metric latest(backlog) > 100 }
workflow grind { on busy steps { wait 400ms } }
workflow escalate { on overloaded steps { wait 1ms } }
"#,
    );
    let servers: Vec<Server> = (1..=2)
        .map(|n| worker(&project, &format!("machine-{n}"), &[]))
        .collect();
    for _ in 0..20 {
        project.wfc(["emit", "work"]).expect_code(0);
    }
    let store = project.store();
    let count = |workflow: &str| count(&store, |e| e.workflow == workflow);
    wait_for(Duration::from_secs(10), || count("grind") == 20);
    project
        .wfc(["metrics", "record", "backlog", "150", "--file", "flow.wf"])
        .expect_code(0);
    wait_for(Duration::from_secs(10), || count("escalate") == 1);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(count("escalate"), 1, "fired once between the workers");
    drop(servers);
}

#[test]
fn workers_opening_a_new_store_together_migrate_it_once() {
    for round in 0..5 {
        let name = format!("scale_migrate_{round}");
        let project = Project::new(&name);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let openers: Vec<_> = (0..6)
            .map(|_| {
                let (db, barrier) = (project.db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    wfc::store::Store::open(&db).and_then(|store| store.schema_version())
                })
            })
            .collect();
        let versions: Vec<i64> = openers
            .into_iter()
            .map(|opener| opener.join().unwrap().expect("every opener opens it"))
            .collect();
        assert!(versions.windows(2).all(|v| v[0] == v[1]), "{versions:?}");
        assert!(versions[0] >= 9);
        let mut tables = project.store().tables().unwrap();
        tables.sort();
        tables.dedup();
        assert_eq!(
            tables.len(),
            wfc::store::TABLES.len() + wfc::store::NOT_COPIED.len()
        );
    }
}

#[test]
fn an_api_server_that_takes_no_work_queues_starts_for_the_workers() {
    let project = Project::new("scale_queue").file(
        "flow.wf",
        r#"
agent inc { input { n: number } output { n: number } compute { n: input.n + 1 } }
trigger by_hand { manual }
workflow job { on by_hand input { n: number } steps { wait 20ms a = inc(input) } output a }
"#,
    );
    let api = worker(&project, "api", &["--no-worker"]);
    // Bad input is refused before anything is queued.
    let (status, error) = api.http("POST", "/workflows/job/runs", Some(r#"{"n": "x"}"#), None);
    assert_eq!(status, 400, "{error}");
    let mut ids = Vec::new();
    for n in 0..30 {
        let body = format!(r#"{{"n": {n}}}"#);
        let (status, started) = api.http("POST", "/workflows/job/runs", Some(&body), None);
        assert_eq!(status, 202, "{started}");
        ids.push(started["execution"].as_str().unwrap().to_string());
    }
    // No worker yet: all of them wait, as `wfc history` shows.
    let queued: Vec<Value> = project.json(["history", "--status", "queued", "--format", "json"]);
    assert_eq!(queued.len(), 30);
    let (_, shown) = api.http("GET", &format!("/executions/{}", ids[0]), None, None);
    assert_eq!(shown["execution"]["status"], "queued", "{shown}");
    // A queued execution is cancelled before any worker starts it.
    let cancelled = project.wfc(["cancel", &ids[29]]).expect_code(0).stderr;
    assert!(cancelled.contains("cancelled"), "{cancelled}");

    let workers: Vec<Server> = (1..=2)
        .map(|n| worker(&project, &format!("machine-{n}"), &[]))
        .collect();
    let store = project.store();
    let count = |status: &str| count(&store, |e| e.status == status);
    wait_for(Duration::from_secs(20), || count("completed") == 29);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count("completed"), 29);
    assert_eq!(count("cancelled"), 1);
    assert_eq!(count("queued"), 0);
    for (n, id) in ids.iter().enumerate() {
        let execution = store.execution(id).unwrap();
        let attempts = store.attempts(id).unwrap();
        if n == 29 {
            assert_eq!(execution.status, "cancelled");
            assert!(
                attempts.is_empty(),
                "a cancelled queued execution never ran"
            );
            continue;
        }
        assert_eq!(execution.result.as_ref().unwrap()["n"], n as i64 + 1);
        let runs = attempts.iter().filter(|a| a.step == "a").count();
        assert_eq!(runs, 1, "{id} ran its step once: {attempts:?}");
        assert!(execution.owner.is_some(), "claimed by a worker");
    }
    // The seed's table follows: no row is left queued or running.
    let seed: Vec<Value> = project.json(["history", "--status", "running", "--format", "json"]);
    assert!(seed.is_empty());
    drop(workers);
    drop(api);
}

#[test]
fn an_agents_capacity_holds_across_workers_and_a_dead_workers_slots_come_free() {
    let project = Project::new("scale_capacity")
        // Counts the calls running at once (a file each), and waits while
        // `hang` is there.
        .file(
            "agents/slow.sh",
            "cat >/dev/null\nmkdir -p running\ntouch running/$$\nls running | wc -l >> seen.log\n\
             while [ -f hang ]; do sleep 0.05; done\nsleep 0.1\nrm -f running/$$\necho '{\"ok\": true}'\n",
        )
        .file(
            "flow.wf",
            r#"
agent slow { run ["sh", "agents/slow.sh"] capacity 2 }
trigger by_hand { manual }
workflow job { on by_hand input { n: number } steps { r = slow(input) } output r }
"#,
        );
    // Same host: a killed worker is seen dead at once by its pid.
    let mut first = worker(&project, "box", &[]);
    let second = worker(&project, "box", &[]);
    let store = project.store();
    let count = |status: &str| count(&store, |e| e.status == status);
    for n in 0..12 {
        let server = if n % 2 == 0 { &first } else { &second };
        let body = format!(r#"{{"n": {n}}}"#);
        let (status, started) = server.http("POST", "/workflows/job/runs", Some(&body), None);
        assert_eq!(status, 202, "{started}");
    }
    wait_for(Duration::from_secs(20), || count("completed") == 12);
    let seen = std::fs::read_to_string(project.dir.join("seen.log")).unwrap();
    let most = seen.lines().map(|l| l.trim().parse::<u32>().unwrap()).max();
    assert_eq!(
        most,
        Some(2),
        "at most 2 calls at once over both workers: {seen}"
    );

    // The first worker dies holding both slots.
    std::fs::write(project.dir.join("hang"), "").unwrap();
    for n in 0..2 {
        let body = format!(r#"{{"n": {n}}}"#);
        let (status, _) = first.http("POST", "/workflows/job/runs", Some(&body), None);
        assert_eq!(status, 202);
    }
    wait_for(Duration::from_secs(10), || {
        std::fs::read_dir(project.dir.join("running"))
            .unwrap()
            .count()
            == 2
    });
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    std::fs::remove_file(project.dir.join("hang")).unwrap();
    // Its orphaned agents end by themselves now; their files are not slots.
    for entry in std::fs::read_dir(project.dir.join("running")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let (status, _) = second.http("POST", "/workflows/job/runs", Some(r#"{"n": 99}"#), None);
    assert_eq!(status, 202);
    // The new call and the two taken over all get slots the dead worker held.
    wait_for(Duration::from_secs(20), || count("completed") == 15);
    let holders = store.capacity_holders("slow").unwrap();
    assert!(holders.is_empty(), "every slot given back: {holders:?}");
    drop(second);
}

#[test]
fn two_workers_and_a_minutely_cron_over_three_minutes_start_one_execution_per_slot() {
    let project = Project::new("scale_cron_minutes").file(
        "flow.wf",
        r#"
agent inc { input { n: number } output { n: number } compute { n: input.n + 1 } }
trigger minutely { cron "* * * * *" timezone "UTC" }
workflow tick { on minutely steps { r = inc({ n: 1 }) } output r }
"#,
    );
    // Both workers read the time from one file, which the test moves.
    let clock = project.dir.join("now");
    let set_time = |at: &str| {
        let next = project.dir.join("now.next");
        std::fs::write(&next, at).unwrap();
        std::fs::rename(&next, &clock).unwrap();
    };
    set_time("2026-01-05T09:00:30Z");
    let workers: Vec<Server> = ["machine-1", "machine-2"]
        .iter()
        .map(|host| {
            let mut command = project.command();
            command.env("WFC_HOST", host).env("WFC_CLOCK_FILE", &clock);
            Server::spawn(command, "flow.wf", &["--lease", "3s"])
        })
        .collect();
    // A dispatcher looks once a tick of its clock has passed since it started
    // (which may be after its server said it serves): the time moves on in
    // ticks, within the minute, until a first look notes where the schedule
    // starts. (Moved once, a dispatcher that started after the move waited
    // for a tick that never came, on a loaded machine.)
    let store = project.store();
    let mut tenths = 305;
    wait_for(Duration::from_secs(10), || {
        tenths = (tenths + 1).min(595);
        set_time(&format!(
            "2026-01-05T09:00:{:02}.{}Z",
            tenths / 10,
            tenths % 10
        ));
        store.cron_last_slot("minutely").unwrap().is_some()
    });
    let slots = |store: &wfc::store::Store| -> Vec<String> {
        let mut slots: Vec<String> = store
            .executions(&HistoryFilter::default())
            .unwrap()
            .iter()
            .map(|e| e.input["slot"].as_str().unwrap().to_string())
            .collect();
        slots.sort();
        slots
    };
    for minute in 1..=3 {
        set_time(&format!("2026-01-05T09:0{minute}:00.2Z"));
        wait_for(Duration::from_secs(10), || slots(&store).len() >= minute);
        // Both workers look at every move of the time; give the slower one its look.
        std::thread::sleep(Duration::from_millis(300));
    }
    let fired = slots(&store);
    assert_eq!(fired.len(), 3, "one execution per slot: {fired:?}");
    for (n, slot) in fired.iter().enumerate() {
        assert!(
            slot.starts_with(&format!("2026-01-05T09:0{}:00", n + 1)),
            "{slot}"
        );
    }
    drop(workers);
}

#[test]
fn a_time_file_that_is_not_a_time_is_refused_at_start() {
    let project = Project::new("scale_clock_file").file("flow.wf", LEADS);
    std::fs::write(project.dir.join("now"), "soon").unwrap();
    let out = project
        .command()
        .env("WFC_CLOCK_FILE", project.dir.join("now"))
        .args(["serve", "flow.wf", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("WFC_CLOCK_FILE") && stderr.contains("`soon` is not a time"),
        "{stderr}"
    );
}

/// Sub-workflows whose second step waits while the file `hold` exists, after
/// saying it started (its input in a file under `seen/`).
const HELD: &str = r#"
agent hold { run ["sh", "agents/hold.sh"] input { n: number } output { n: number } }
workflow child { input { n: number } steps { r = inc(input) h = hold(r) } output h }
"#;

#[test]
fn a_step_that_shared_its_commit_is_durable_before_its_successor_starts() {
    // 64 children run at once, so their first steps finish together and share
    // commits (SQLite). The process is killed while every second step runs:
    // each first step must be in the store, and resuming must not run it again.
    const CHILDREN: usize = 64;
    let project = Project::new("group_commit_kill")
        .file(
            "agents/hold.sh",
            "input=$(cat)\necho \"$input\" > seen/$$\nwhile [ -f hold ]; do sleep 0.01; done\necho \"$input\"\n",
        )
        .file("hold", "")
        .file("fan.wf", &fan_out(HELD));
    std::fs::create_dir(project.dir.join("seen")).unwrap();
    let input = serde_json::json!({ "items": (0..CHILDREN).collect::<Vec<_>>() }).to_string();
    let mut run = project
        .command()
        .args(["run", "fan.wf", "--workflow", "fan", "--input", &input])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let seen = || std::fs::read_dir(project.dir.join("seen")).unwrap().count();
    wait_for(Duration::from_secs(20), || seen() == CHILDREN);
    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();

    let store = project.store();
    let children: Vec<_> = store
        .executions(&HistoryFilter::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.workflow == "child")
        .collect();
    assert_eq!(children.len(), CHILDREN);
    for child in &children {
        let n = child.input["n"].as_i64().unwrap();
        let first: Vec<_> = store
            .attempts(&child.id)
            .unwrap()
            .into_iter()
            .filter(|a| a.step == "r")
            .collect();
        assert_eq!(first.len(), 1, "child {n}: {first:?}");
        assert_eq!(first[0].status, "completed", "child {n}");
        assert_eq!(first[0].output, Some(serde_json::json!({ "n": n + 1 })));
    }

    std::fs::remove_file(project.dir.join("hold")).unwrap();
    let resumed = project.wfc(["resume"]);
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    for child in &children {
        let attempts = store.attempts(&child.id).unwrap();
        let first = attempts.iter().filter(|a| a.step == "r").count();
        assert_eq!(first, 1, "a completed first step ran again: {attempts:?}");
        assert_eq!(store.execution(&child.id).unwrap().status, "completed");
    }
    let fan = store
        .executions(&HistoryFilter::default())
        .unwrap()
        .into_iter()
        .find(|e| e.workflow == "fan")
        .unwrap();
    assert_eq!(fan.status, "completed");
    assert_eq!(fan.result, Some(serde_json::json!({ "count": CHILDREN })));
}
