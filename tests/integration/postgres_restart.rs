//! Workers on a PostgreSQL store that restarts under them, on a throwaway cluster
//! of this test's own (the suite's shared one must not go away): `pg_ctl restart
//! -m fast`, then the postmaster killed with SIGKILL and started again, each
//! while events stream in, across two workers, with executions in flight (each
//! waits 400 ms before its step). While the database is gone `/health` says so;
//! once it is back, every event accepted runs exactly once, what was in flight
//! is finished, and nothing stays running. Runs where the suite runs on PostgreSQL
//! (`WFC_TEST_POSTGRES`, as CI's PostgreSQL stage does).

use crate::server::Server;
use crate::support::{postgres_server, root, wait_for, Project};
use std::process::Command;
use std::time::Duration;
use wfc::store::{ExecutionStatus, HistoryFilter, Location, Store};

const FLOW: &str = "agent note { input { n: number } output { n: number } compute { n: input.n } }\n\
                    trigger tick { on event \"tick\" }\n\
                    workflow noted { on tick input { n: number } steps { wait 400ms r = note(input) } output r }\n";

/// A cluster made by `.ci/postgres` in a directory of its own; stopped when dropped.
struct Cluster {
    dir: std::path::PathBuf,
    url: String,
}

impl Cluster {
    fn start(dir: std::path::PathBuf) -> Cluster {
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new(root().join(".ci/postgres"))
            .arg("start")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Cluster { dir, url }
    }

    fn port(&self) -> String {
        self.url
            .rsplit(':')
            .next()
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string()
    }

    /// `pg_ctl` as the cluster's owner.
    fn pg_ctl(&self, args: &[&str]) -> bool {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .unwrap()
            .map(|e| e.unwrap().path().join("bin/pg_ctl"))
            .max()
            .unwrap();
        let data = self.dir.join("data");
        let mut command = if unsafe { libc::geteuid() } == 0 {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        command
            .arg("-D")
            .arg(&data)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=400",
            self.port(),
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        // A killed postmaster's backends take a moment to go.
        wait_for(Duration::from_secs(20), || {
            self.pg_ctl(&["-l", log.to_str().unwrap(), "-w", "-o", &options, "start"])
        });
    }

    fn postmaster(&self) -> i32 {
        let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid")).unwrap();
        pid.lines().next().unwrap().trim().parse().unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }
}

fn health(server: &Server) -> Option<u16> {
    server.try_http("GET", "/health").map(|(status, _)| status)
}

/// Emits events `range` through the servers in turn, each until one accepts it.
fn emit(servers: &[Server], range: std::ops::Range<i64>) {
    for n in range {
        let body = format!(r#"{{"n": {n}}}"#);
        wait_for(Duration::from_secs(30), || {
            let server = &servers[n as usize % servers.len()];
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                server.http("POST", "/events/tick", Some(&body), None).0
            }));
            matches!(answer, Ok(202))
        });
    }
}

/// Waits until events `0..count` each ran exactly once and nothing is running.
fn each_ran_once(url: &str, count: i64) {
    let filter = HistoryFilter {
        limit: Some(10_000),
        ..HistoryFilter::default()
    };
    let look = || {
        let store = Store::open_read_only(Location::Postgres(url.to_string())).ok()?;
        store.executions(&filter).ok()
    };
    let done = |executions: &[wfc::store::ExecutionRow]| {
        executions.len() as i64 >= count
            && executions
                .iter()
                .all(|e| e.status == ExecutionStatus::Completed)
    };
    let started = std::time::Instant::now();
    while !look().is_some_and(|executions| done(&executions)) {
        if started.elapsed() > Duration::from_secs(60) {
            // Say what was left, so a failure here can be told apart from a slow machine.
            let seen: Vec<String> = look()
                .unwrap_or_default()
                .iter()
                .filter(|e| e.status != ExecutionStatus::Completed)
                .map(|e| format!("{} {} owner {:?}", e.input, e.status, e.owner))
                .collect();
            let total = look().map_or(0, |e| e.len());
            panic!("after 60s, {total} of {count} executions recorded; not completed: {seen:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut inputs: Vec<i64> = look()
        .unwrap()
        .iter()
        .map(|e| e.input["n"].as_i64().unwrap())
        .collect();
    inputs.sort_unstable();
    assert_eq!(
        inputs,
        (0..count).collect::<Vec<_>>(),
        "each event exactly once"
    );
}

#[test]
fn workers_survive_a_restart_and_a_killed_postmaster() {
    if postgres_server().is_none() {
        eprintln!("skipped: runs where the suite runs on PostgreSQL (WFC_TEST_POSTGRES)");
        return;
    }
    let project = Project::sqlite("pg_restart").file("flow.wf", FLOW);
    let cluster = Cluster::start(project.dir.join("cluster"));
    let worker = || {
        let mut command = project.command();
        command.env("WFC_DB", &cluster.url);
        Server::spawn(command, "flow.wf", &["--lease", "2s"])
    };
    let servers = [worker(), worker()];
    // A fast restart while the first ten are in their wait, then more events.
    emit(&servers, 0..10);
    assert!(cluster.pg_ctl(&["-m", "fast", "-w", "restart"]));
    emit(&servers, 10..20);
    each_ran_once(&cluster.url, 20);
    wait_for(Duration::from_secs(10), || {
        servers.iter().all(|s| health(s) == Some(200))
    });

    // The postmaster killed with five in flight: the servers say the database
    // is gone, for longer than their lease.
    emit(&servers, 20..25);
    unsafe {
        libc::kill(cluster.postmaster(), libc::SIGKILL);
    }
    wait_for(Duration::from_secs(20), || {
        servers.iter().all(|s| health(s) == Some(503))
    });
    let (_, said) = servers[0].try_http("GET", "/health").unwrap();
    assert!(
        said["error"]
            .as_str()
            .unwrap()
            .contains("the database cannot be reached"),
        "{said}"
    );
    std::thread::sleep(Duration::from_millis(3000));
    // Gone for longer than the lease: each worker let its executions go.
    for server in &servers {
        assert!(
            server.logged("the lease ran out"),
            "{:?}",
            server.log.lock().unwrap()
        );
    }
    cluster.start_again();
    emit(&servers, 25..30);
    each_ran_once(&cluster.url, 30);
    wait_for(Duration::from_secs(10), || {
        servers.iter().all(|s| health(s) == Some(200))
    });
    // Said once per change, not at every failed query.
    for server in &servers {
        let lines = server.log.lock().unwrap();
        let lost = lines
            .iter()
            .filter(|l| l.contains("the database cannot be reached"))
            .count();
        assert!((1..=4).contains(&lost), "{lost} lines: {lines:?}");
    }
    for server in servers {
        server.stop();
    }
}
