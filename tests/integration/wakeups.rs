//! What starts executions without waiting for the dispatcher's tick: every
//! server here reads a frozen time file, so no tick ever passes, and only a
//! wake-up (or a cron slot coming due) can start anything.

use crate::server::Server;
use crate::support::{wait_for, Project};
use std::time::Duration;
use wfc::store::HistoryFilter;

const FLOW: &str = r#"
agent inc { input { n: number } output { n: number } compute { n: input.n + 1 } }
metric backlog { unit "tickets" }
trigger leads { on event "lead.created" }
trigger overloaded { when metric latest(backlog) > 100 }
trigger minutely { cron "* * * * *" timezone "UTC" }
workflow on_lead { on leads steps { r = inc({ n: 1 }) } output r }
workflow escalate { on overloaded steps { r = inc({ n: 2 }) } output r }
workflow tick { on minutely steps { r = inc({ n: 3 }) } output r }
"#;

/// A server on `project` whose workflow time is what the file `now` says.
fn frozen(project: &Project, at: &str) -> Server {
    set_time(project, at);
    let mut command = project.command();
    command.env("WFC_CLOCK_FILE", project.dir.join("now"));
    Server::spawn(command, "flow.wf", &[])
}

fn set_time(project: &Project, at: &str) {
    let next = project.dir.join("now.next");
    std::fs::write(&next, at).unwrap();
    std::fs::rename(&next, project.dir.join("now")).unwrap();
}

fn started(project: &Project, workflow: &str) -> usize {
    project
        .store()
        .executions(&HistoryFilter::default())
        .unwrap()
        .iter()
        .filter(|e| e.workflow == workflow)
        .count()
}

#[test]
fn events_and_samples_start_their_workflows_without_a_tick() {
    let project = Project::new("wake_events").file("flow.wf", FLOW);
    let server = frozen(&project, "2026-01-05T09:00:30Z");
    // Posted to the server's own API: it wakes at once.
    let (status, _) = server.http("POST", "/events/lead.created", Some("{}"), None);
    assert_eq!(status, 202);
    wait_for(Duration::from_secs(10), || {
        started(&project, "on_lead") == 1
    });
    // Recorded by other processes: the store tells the server (SQLite's
    // data_version, PostgreSQL's NOTIFY).
    project.wfc(["emit", "lead.created"]).expect_code(0);
    wait_for(Duration::from_secs(10), || {
        started(&project, "on_lead") == 2
    });
    project
        .wfc(["metrics", "record", "backlog", "150", "--file", "flow.wf"])
        .expect_code(0);
    wait_for(Duration::from_secs(10), || {
        started(&project, "escalate") == 1
    });
    // Many wake-ups, each event still once.
    for _ in 0..20 {
        project.wfc(["emit", "lead.created"]).expect_code(0);
    }
    wait_for(Duration::from_secs(10), || {
        started(&project, "on_lead") == 22
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(started(&project, "on_lead"), 22);
    assert_eq!(started(&project, "tick"), 0, "no slot came due");
    drop(server);
}

#[test]
fn a_cron_slot_fires_at_its_time_not_at_the_next_tick() {
    let project = Project::new("wake_cron").file("flow.wf", FLOW);
    let server = frozen(&project, "2026-01-05T09:00:59Z");
    // Ticks pass (each step is more than a tick), the last one 150 ms before
    // the slot; the first notes where the schedule starts.
    for at in ["59.3", "59.6", "59.85"] {
        set_time(&project, &format!("2026-01-05T09:00:{at}Z"));
        std::thread::sleep(Duration::from_millis(150));
    }
    let store = project.store();
    assert!(store.cron_last_slot("minutely").unwrap().is_some());
    assert_eq!(started(&project, "tick"), 0);
    // Before the next tick is due: the slot itself wakes the dispatcher.
    set_time(&project, "2026-01-05T09:01:00Z");
    wait_for(Duration::from_secs(10), || started(&project, "tick") == 1);
    let execution = &store.executions(&HistoryFilter::default()).unwrap()[0];
    assert_eq!(execution.input["slot"], "2026-01-05T09:01:00.000Z");
    drop(server);
}

#[test]
fn two_woken_servers_start_each_of_200_events_once() {
    // Both servers are woken by every event (their own HTTP API, or the
    // store's news of another process's write) and race for it.
    let project = Project::new("wake_twice").file("flow.wf", FLOW);
    let servers = [
        frozen(&project, "2026-01-05T09:00:30Z"),
        frozen(&project, "2026-01-05T09:00:30Z"),
    ];
    let emitter = {
        let (dir, db) = (project.dir.clone(), project.db.clone());
        std::thread::spawn(move || {
            let project = Project { dir, db };
            for n in 150..200 {
                let data = format!(r#"{{"n": {n}}}"#);
                project
                    .wfc(["emit", "lead.created", "--data", &data])
                    .expect_code(0);
            }
        })
    };
    for n in 0..150 {
        let body = format!(r#"{{"n": {n}}}"#);
        let server = &servers[n % 2];
        let (status, _) = server.http("POST", "/events/lead.created", Some(&body), None);
        assert_eq!(status, 202);
    }
    emitter.join().unwrap();
    wait_for(Duration::from_secs(30), || {
        started(&project, "on_lead") >= 200
    });
    std::thread::sleep(Duration::from_millis(300));
    let mut inputs: Vec<i64> = project
        .store()
        .executions(&HistoryFilter::default())
        .unwrap()
        .iter()
        .filter(|e| e.workflow == "on_lead")
        .map(|e| e.input["n"].as_i64().unwrap())
        .collect();
    inputs.sort_unstable();
    assert_eq!(inputs, (0..200).collect::<Vec<_>>(), "each event once");
    drop(servers);
}
