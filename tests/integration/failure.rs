//! Failure handling with real processes: retries and their delays, timeouts that
//! kill whole process groups, breakers shared across processes, the dead-letter
//! queue, cancellation from another process, and crash-and-resume with SIGKILL.

use crate::support::{alive, wait_for, Project};
use serde_json::{json, Value};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use wfc::store::{AttemptRow, HistoryFilter, Store};

/// Fails until it has been called `$1` times (counted in a file), then succeeds.
const FLAKY: &str = r#"cat >/dev/null
n=$(cat "count.$WFC_AGENT" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "count.$WFC_AGENT"
if [ "$n" -le "$1" ]; then echo "failure $n" >&2; exit 1; fi
echo '{"ok": true}'
"#;

fn attempts(store: &Store) -> Vec<AttemptRow> {
    let execution = &store.executions(&HistoryFilter::default()).unwrap()[0];
    store.attempts(&execution.id).unwrap()
}

fn millis(stamp: &str) -> f64 {
    wfc::store::parse_timestamp(stamp)
        .unwrap()
        .timestamp_micros() as f64
        / 1000.0
}

fn flaky_project(name: &str, policy: &str, failures: u32) -> Project {
    Project::new(name).file("agents/flaky.sh", FLAKY).file(
        "flow.wf",
        &format!(
            r#"
retry policy {{ {policy} }}
agent flaky {{ output {{ ok: bool }} run ["sh", "agents/flaky.sh", "{failures}"] retry policy }}
trigger go {{ manual }}
workflow w {{ on go steps {{ x = flaky({{}}) }} }}
"#
        ),
    )
}

#[test]
fn a_flaky_agent_completes_on_its_third_attempt_with_the_policy_delays() {
    let policies = [
        ("attempts 5 backoff constant 30ms", [30.0, 30.0]),
        ("attempts 5 backoff linear 20ms", [20.0, 40.0]),
        ("attempts 5 backoff exponential 10ms factor 3", [10.0, 30.0]),
    ];
    for (i, (policy, delays)) in policies.iter().enumerate() {
        let project = flaky_project(&format!("retry_delays_{i}"), policy, 2);
        project
            .wfc(["run", "flow.wf", "--workflow", "w"])
            .expect_code(0);
        let rows = attempts(&project.store());
        let statuses: Vec<_> = rows.iter().map(|a| a.status.as_str()).collect();
        assert_eq!(statuses, ["failed", "failed", "completed"], "{policy}");
        assert_eq!(
            rows.iter().map(|a| a.attempt).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(rows[0].delay_ms, None);
        for (row, expected) in rows[1..].iter().zip(delays) {
            assert_eq!(row.delay_ms, Some(*expected), "{policy}");
        }
        for pair in rows.windows(2) {
            let gap = millis(&pair[1].started_at) - millis(pair[0].finished_at.as_deref().unwrap());
            let delay = pair[1].delay_ms.unwrap();
            assert!(
                gap >= delay - 2.0,
                "{policy}: slept {gap}ms, policy says {delay}ms"
            );
        }
        assert_eq!(
            rows[0].error.as_deref(),
            Some("`sh` exited with status 1: failure 1")
        );
    }
}

#[test]
fn jittered_delays_stay_within_bounds() {
    for (name, policy, low) in [
        ("full", "jitter full", 0.0),
        ("equal", "jitter equal", 20.0),
    ] {
        let project = flaky_project(
            &format!("retry_jitter_{name}"),
            &format!("attempts 6 backoff constant 40ms {policy}"),
            4,
        );
        project
            .wfc(["run", "flow.wf", "--workflow", "w"])
            .expect_code(0);
        let rows = attempts(&project.store());
        assert_eq!(rows.len(), 5);
        for row in &rows[1..] {
            let delay = row.delay_ms.unwrap();
            assert!((low..=40.0).contains(&delay), "{policy}: {delay}");
        }
    }
}

#[test]
fn retry_on_excludes_other_kinds_and_attempts_run_out() {
    let project = flaky_project("retry_on", "attempts 5 retry_on [timeout]", 2);
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert_eq!(
        attempts(&project.store()).len(),
        1,
        "a `failed` attempt is not retried"
    );

    let project = flaky_project("retry_exhausted", "attempts 2", 5);
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert!(run.stderr.contains("failure 2"), "{}", run.stderr);
    let store = project.store();
    assert_eq!(attempts(&store).len(), 2);
    let execution = &store.executions(&HistoryFilter::default()).unwrap()[0];
    assert_eq!(execution.error.as_ref().unwrap()["attempts"], 2);
}

#[test]
fn a_timeout_kills_the_agent_and_its_grandchildren() {
    let project = Project::new("timeout_group")
        .file(
            "agents/hang.sh",
            "cat >/dev/null\nsleep 30 &\necho $! > grandchild.pid\necho $$ > child.pid\nsleep 30\n",
        )
        .file(
            "flow.wf",
            r#"
agent hang { run ["sh", "agents/hang.sh"] timeout 300ms }
trigger go { manual }
workflow w { on go steps { x = hang({}) } }
"#,
        );
    let started = Instant::now();
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout did not stop the call"
    );
    assert!(
        run.stderr.contains("no answer within 300ms"),
        "{}",
        run.stderr
    );
    assert_eq!(attempts(&project.store())[0].status, "timeout");
    for file in ["child.pid", "grandchild.pid"] {
        let pid: u32 = std::fs::read_to_string(project.dir.join(file))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(pid), "{file} ({pid}) is still running");
    }
}

#[test]
fn a_breaker_opens_fails_fast_and_closes_after_a_good_trial() {
    let project = Project::new("breaker")
        .file(
            "agents/svc.sh",
            "cat >/dev/null\necho call >> calls.log\nif [ -f healthy ]; then echo '{\"ok\": true}'; else exit 1; fi\n",
        )
        .file(
            "flow.wf",
            r#"
breaker fragile { open_after 2 failures within 1m cool_down 400ms }
agent svc { run ["sh", "agents/svc.sh"] breaker fragile }
trigger go { manual }
workflow w { on go steps { x = svc({}) } }
"#,
        );
    let calls =
        || std::fs::read_to_string(project.dir.join("calls.log")).map_or(0, |t| t.lines().count());
    // Each run is its own process: the breaker's state is shared through the store.
    for _ in 0..2 {
        project
            .wfc(["run", "flow.wf", "--workflow", "w"])
            .expect_code(1);
    }
    assert_eq!(project.store().breaker_state("svc").unwrap(), "open");
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert!(
        run.stderr.contains("circuit breaker of `svc` is open"),
        "{}",
        run.stderr
    );
    assert_eq!(
        calls(),
        2,
        "an open breaker fails fast without calling the agent"
    );
    let store = project.store();
    let latest = &store.executions(&HistoryFilter::default()).unwrap()[0];
    assert_eq!(
        store.attempts(&latest.id).unwrap()[0].status,
        "circuit_open"
    );

    std::fs::write(project.dir.join("healthy"), "").unwrap();
    std::thread::sleep(Duration::from_millis(450));
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(0);
    assert_eq!(calls(), 3, "the call after the cool-down is the trial");
    assert_eq!(project.store().breaker_state("svc").unwrap(), "closed");
}

/// The breaker's state machine (`runtime/breaker.rs`, tested there as pure
/// functions) over rows the store loads and saves in one transaction.
#[test]
fn a_failed_trial_reopens_the_breaker() {
    use wfc::runtime::{admit, record, Admission, BreakerPolicy};
    let mut store = Store::in_memory().unwrap();
    let now = chrono::Utc::now();
    let one = BreakerPolicy {
        name: "one".into(),
        open_after: 1,
        window: chrono::Duration::minutes(1),
        cool_down: chrono::Duration::milliseconds(100),
    };
    let two = BreakerPolicy {
        open_after: 2,
        ..one.clone()
    };
    let mut update = |agent: &str, change: &mut dyn FnMut(&mut _) -> Option<Admission>| {
        store.breaker_update(agent, |row| change(row)).unwrap()
    };
    update("a", &mut |row| {
        record(row, false, &one, now);
        None
    });
    let rejected = |a: Option<Admission>| matches!(a, Some(Admission::Rejected { .. }));
    assert!(rejected(update("a", &mut |row| Some(admit(
        row, &one, now
    )))));
    let later = now + chrono::Duration::milliseconds(150);
    assert_eq!(
        update("a", &mut |row| Some(admit(row, &one, later))),
        Some(Admission::Trial)
    );
    // While the trial runs, everyone else is still refused.
    assert!(rejected(update("a", &mut |row| Some(admit(
        row, &one, later
    )))));
    update("a", &mut |row| {
        record(row, false, &one, later);
        None
    });
    // Failures outside the window do not add up.
    update("b", &mut |row| {
        record(row, false, &two, now);
        None
    });
    update("b", &mut |row| {
        record(row, false, &two, now + chrono::Duration::minutes(2));
        None
    });
    assert_eq!(store.breaker_state("a").unwrap(), "open");
    assert_eq!(store.breaker_state("b").unwrap(), "closed");
}

#[test]
fn an_exhausted_execution_lands_in_the_dlq_and_replays_after_a_fix() {
    let project = Project::new("dlq")
        .file("agents/svc.sh", "cat >/dev/null\nif [ -f fixed ]; then echo '{\"ok\": true}'; else echo broken >&2; exit 2; fi\n")
        .file(
            "flow.wf",
            r#"
retry twice { attempts 2 }
agent svc { run ["sh", "agents/svc.sh"] retry twice }
trigger go { manual }
workflow w { on go input { order: number } steps { x = svc(input) } on_failure dead_letter }
"#,
        );
    project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "w",
            "--input",
            r#"{"order": 7}"#,
        ])
        .expect_code(1);
    let listed: Vec<Value> = serde_json::from_str(
        &project
            .wfc(["dlq", "list", "--format", "json"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["input"], json!({ "order": 7 }));
    assert_eq!(listed[0]["error"]["attempts"], 2);
    let id = listed[0]["id"].to_string();
    let shown: Value = serde_json::from_str(
        &project
            .wfc(["dlq", "show", &id, "--format", "json"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(shown["workflow"], "w");

    std::fs::write(project.dir.join("fixed"), "").unwrap();
    project.wfc(["dlq", "replay", &id]).expect_code(0);
    let store = project.store();
    let letter = store
        .dead_letter(listed[0]["id"].as_i64().unwrap())
        .unwrap()
        .unwrap();
    let replay = store
        .execution(letter.replayed_by.as_deref().unwrap())
        .unwrap();
    assert_eq!(replay.status, "completed");
    assert_eq!(replay.replay_of, Some(letter.id));
    assert_eq!(replay.input, json!({ "order": 7 }));
    project.wfc(["dlq", "drop", &id]).expect_code(0);
    project.wfc(["dlq", "drop", &id]).expect_code(2);
    assert!(store.dead_letters().unwrap().is_empty());
}

pub fn spawn_run(project: &Project, workflow: &str) -> Child {
    project
        .command()
        .args(["run", "flow.wf", "--workflow", workflow])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn cancel_from_another_process_stops_a_running_execution_within_a_second() {
    let project = Project::new("cancel")
        .file(
            "agents/slow.sh",
            "cat >/dev/null\necho $$ > slow.pid\nsleep 30\necho '{}'\n",
        )
        .file(
            "flow.wf",
            r#"
agent slow { run ["sh", "agents/slow.sh"] }
trigger go { manual }
workflow w { on go steps { x = slow({}) } }
"#,
        );
    let mut running = spawn_run(&project, "w");
    let store = project.store();
    wait_for(Duration::from_secs(5), || {
        project.dir.join("slow.pid").exists()
            && store
                .executions(&HistoryFilter::default())
                .is_ok_and(|e| !e.is_empty())
    });
    let id = store.executions(&HistoryFilter::default()).unwrap()[0]
        .id
        .clone();
    let started = Instant::now();
    project.wfc(["cancel", &id]).expect_code(0);
    let status = running.wait().unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "stopped after {elapsed:?}"
    );
    assert_eq!(status.code(), Some(1));
    assert_eq!(store.execution(&id).unwrap().status, "cancelled");
    assert_eq!(attempts(&store)[0].status, "cancelled");
    let pid: u32 = std::fs::read_to_string(project.dir.join("slow.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for(Duration::from_secs(2), || !alive(pid));
    let resumed = project.wfc(["resume"]).expect_code(0);
    assert!(
        resumed.stderr.contains("nothing to resume"),
        "{}",
        resumed.stderr
    );
    project.wfc(["cancel", &id]).expect_code(2);
}

/// The three-step chain of the crash test: each step logs that it ran, then works
/// for a few milliseconds.
fn crash_project(name: &str) -> Project {
    let step = |n: u32| {
        format!("cat >/dev/null\necho \"s{n} $WFC_EXECUTION_ID\" >> side-effects.log\nsleep 0.04\necho '{{\"s{n}\": {n}}}'\n")
    };
    Project::new(name)
        .file("agents/s1.sh", &step(1))
        .file("agents/s2.sh", &step(2))
        .file("agents/s3.sh", &step(3))
        .file(
            "flow.wf",
            r#"
agent s1 { run ["sh", "agents/s1.sh"] }
agent s2 { run ["sh", "agents/s2.sh"] }
agent s3 { run ["sh", "agents/s3.sh"] }
trigger go { manual }
workflow w { on go chain s1 -> s2 -> s3 }
"#,
        )
}

#[test]
fn killed_runs_resume_without_rerunning_completed_steps() {
    const RUNS: u64 = 24;
    let mut reruns = 0;
    let mut phases = [0u32; 5]; // killed with 0, 1, 2, 3 steps done, or after finishing
    let mut not_started = 0;
    // Spread the kills over the whole run: before, between and after the steps,
    // as long as a run takes here with this store (measured, not guessed).
    let whole = {
        let project = crash_project("crash_measure");
        let started = std::time::Instant::now();
        project
            .wfc(["run", "flow.wf", "--workflow", "w"])
            .expect_code(0);
        started.elapsed()
    };
    for run in 0..RUNS {
        let project = crash_project(&format!("crash_{run}"));
        let mut child = spawn_run(&project, "w");
        std::thread::sleep(whole.mul_f64(1.2) * (run as u32 + 1) / (RUNS as u32 + 1));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let store = project.store();
        let executions = store.executions(&HistoryFilter::default()).unwrap();
        let Some(execution) = executions.first() else {
            not_started += 1;
            continue;
        };
        let done_before: Vec<String> = store
            .attempts(&execution.id)
            .unwrap()
            .into_iter()
            .filter(|a| a.status == "completed")
            .map(|a| a.step)
            .collect();
        let finished = execution.status == "completed";
        phases[if finished { 4 } else { done_before.len() }] += 1;
        // The agent killed mid-step may still be finishing; let it, so its log line
        // is written before we count.
        std::thread::sleep(Duration::from_millis(60));
        let resumed = project.wfc(["resume"]);
        assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
        let execution = store.execution(&execution.id).unwrap();
        assert_eq!(execution.status, "completed", "run {run}");
        assert_eq!(execution.result, Some(json!({ "s3": 3 })), "run {run}");
        let log = std::fs::read_to_string(project.dir.join("side-effects.log")).unwrap();
        for step in ["s1", "s2", "s3"] {
            let count = log
                .lines()
                .filter(|l| l.starts_with(&format!("{step} ")))
                .count();
            assert!(count >= 1, "run {run}: {step} never ran");
            if done_before.iter().any(|d| d == step) && count > 1 {
                reruns += 1;
            }
        }
        let seed = store.seed_rows().unwrap();
        assert_eq!(seed[0]["execution_status"], "completed");
    }
    println!(
        "crash loop: {RUNS} runs; killed before the execution started {not_started}, \
         with 0/1/2/3 steps done {:?}, after it finished {}; reruns of completed steps: {reruns}",
        &phases[..4],
        phases[4]
    );
    assert_eq!(reruns, 0);
    assert!(
        phases[1] + phases[2] > 0,
        "no kill landed between steps: {phases:?}"
    );
}

#[test]
fn a_resumed_execution_uses_its_stored_source_when_the_file_changed() {
    let project = crash_project("resume_changed");
    let mut child = spawn_run(&project, "w");
    let store = project.store();
    wait_for(Duration::from_secs(5), || {
        store
            .executions(&HistoryFilter::default())
            .is_ok_and(|e| !e.is_empty())
            && attempts(&store).iter().any(|a| a.status == "completed")
    });
    child.kill().unwrap();
    child.wait().unwrap();
    // Someone edits the workflow meanwhile: the resumed run must not pick that up.
    let text = std::fs::read_to_string(project.dir.join("flow.wf")).unwrap();
    std::fs::write(
        project.dir.join("flow.wf"),
        text.replace("chain s1 -> s2 -> s3", "chain s1 -> s3"),
    )
    .unwrap();
    let resumed = project.wfc(["resume"]).expect_code(0);
    assert!(
        resumed
            .stderr
            .contains("resuming it with the stored version"),
        "{}",
        resumed.stderr
    );
    let steps: Vec<String> = attempts(&store)
        .into_iter()
        .filter(|a| a.status == "completed")
        .map(|a| a.step)
        .collect();
    assert_eq!(steps, ["s1", "s2", "s3"]);
}

#[test]
fn a_flooding_agent_is_invalid_output_and_its_stderr_is_bounded() {
    let project = Project::new("flood")
        .file(
            "agents/flood.sh",
            "cat >/dev/null\nhead -c 3000000 /dev/zero | tr '\\0' 'e' >&2\nhead -c 20000000 /dev/zero | tr '\\0' 'x'\n",
        )
        .file(
            "flow.wf",
            r#"
agent flood { run ["sh", "agents/flood.sh"] timeout 20s }
trigger go { manual }
workflow w { on go steps { x = flood({}) } }
"#,
        );
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert!(
        run.stderr
            .contains("the output is larger than 16777216 bytes"),
        "{}",
        &run.stderr[..run.stderr.len().min(500)]
    );
    let attempt = &attempts(&project.store())[0];
    assert_eq!(attempt.status, "invalid_output");
    let tail = attempt.stderr_tail.as_deref().unwrap();
    assert_eq!(tail.len(), 4096, "only the end of stderr is kept");
    assert!(tail.chars().all(|c| c == 'e'));
}

#[test]
fn a_changed_source_that_imports_files_is_refused_with_a_reason() {
    let project = Project::new("resume_refused")
        .file("agents/slow.sh", "cat >/dev/null\necho started >> started.log\nsleep 5\necho '{}'\n")
        .file("lib.wf", "agent slow { run [\"sh\", \"agents/slow.sh\"] }\n")
        .file(
            "flow.wf",
            "import \"lib.wf\"\ntrigger go { manual }\nworkflow w { on go steps { x = slow({}) } }\n",
        );
    let mut child = spawn_run(&project, "w");
    wait_for(Duration::from_secs(5), || {
        project.dir.join("started.log").exists()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::write(
        project.dir.join("flow.wf"),
        "import \"lib.wf\"\ntrigger go { manual }\nworkflow w { on go steps { x = slow({}) y = slow({}) } }\n",
    )
    .unwrap();
    let resumed = project.wfc(["resume"]).expect_code(1);
    assert!(
        resumed.stderr.contains("changed since it started"),
        "{}",
        resumed.stderr
    );
    assert!(
        resumed
            .stderr
            .contains("imports files from the working tree"),
        "{}",
        resumed.stderr
    );
    let store = project.store();
    let execution = &store.executions(&HistoryFilter::default()).unwrap()[0];
    assert_eq!(
        execution.status, "running",
        "never silently resumed with a mix of versions"
    );
}

/// A dead letter recorded only the last error (a breaker's `circuit_open`, say)
/// and `wfc dlq show` printed JSON: the text now leads with the root cause, the
/// first failed attempt, then the chain; JSON and the HTTP API carry it too.
#[test]
fn a_dead_letter_shows_its_root_cause_first() {
    let project = Project::new("dlq_root_cause")
        .file(
            "numbered.sh",
            "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count\n\
             echo \"failure number $n\" >&2; exit 1\n",
        )
        .file(
            "flow.wf",
            "retry thrice { attempts 3 backoff constant 1ms }\n\
             agent erp { output { ok: bool } run [\"sh\", \"numbered.sh\"] retry thrice }\n\
             trigger go { manual }\n\
             workflow w { on go steps { r = erp({}) } output r on_failure dead_letter }\n",
        );
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    let shown = project.wfc(["dlq", "show", "1"]).expect_code(0).stdout;
    let root = shown
        .find("root cause: attempt 1 of step `r`")
        .unwrap_or_else(|| panic!("{shown}"));
    let first = shown.find("failure number 1").unwrap();
    let last = shown.find("failure number 3").unwrap();
    assert!(root < first && first < last, "{shown}");
    assert!(shown.contains("recorded as:"), "{shown}");
    assert!(
        !shown.trim_start().starts_with('{'),
        "text, not JSON: {shown}"
    );
    let json: Value = project.json(["dlq", "show", "1", "--format", "json"]);
    assert_eq!(
        json["failed_attempts"].as_array().map(Vec::len),
        Some(3),
        "{json}"
    );
}
