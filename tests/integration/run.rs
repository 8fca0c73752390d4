//! `wfc run`, `history`, `show` and `stats` end to end, through the built binary with
//! real `sh` agents doing millisecond work. Assertions read the store's rows.

use crate::support::{fan_out, Project, Wfc};
use serde_json::{json, Value};
use wfc::store::{AttemptRow, ExecutionRow, HistoryFilter, Store};

/// The newest execution of `workflow`.
fn execution_of(store: &Store, workflow: &str) -> ExecutionRow {
    let filter = HistoryFilter {
        workflow: Some(workflow.into()),
        ..HistoryFilter::default()
    };
    store.executions(&filter).unwrap().remove(0)
}

fn attempts_of(store: &Store, workflow: &str) -> Vec<AttemptRow> {
    store.attempts(&execution_of(store, workflow).id).unwrap()
}

fn overlap(a: &AttemptRow, b: &AttemptRow) -> bool {
    let (a0, a1) = (a.started_at.as_str(), a.finished_at.as_deref().unwrap());
    let (b0, b1) = (b.started_at.as_str(), b.finished_at.as_deref().unwrap());
    a0 < b1 && b0 < a1
}

const ECHO_AGENTS: &str = r#"
agent double {
  input  { n: number }
  output { n: number }
  compute { n: input.n * 2 }
}
agent shout {
  input  { n: number }
  output { n: number, text: string }
  run ["sh", "agents/shout.sh"]
}
trigger go { manual }
"#;

const SHOUT: &str = r#"read -r line
n=$(printf '%s' "$line" | sed 's/.*"n":\([0-9]*\).*/\1/')
printf '{"n": %s, "text": "N%s"}\n' "$n" "$n"
"#;

#[test]
fn a_chain_passes_each_output_on_as_the_next_input() {
    let project = Project::new("run_chain")
        .file("agents/shout.sh", SHOUT)
        .file("flow.wf", &format!("{ECHO_AGENTS}\nworkflow w {{ on go input {{ n: number }} chain double -> shout -> double }}"));
    let run = project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "w",
            "--input",
            r#"{"n": 3}"#,
        ])
        .expect_code(0);
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap(),
        json!({ "n": 12 })
    );
    let attempts = attempts_of(&project.store(), "w");
    let steps: Vec<_> = attempts.iter().map(|a| a.step.as_str()).collect();
    assert_eq!(steps, ["double", "shout", "double"]);
    assert_eq!(attempts[0].input, Some(json!({ "n": 3 })));
    for pair in attempts.windows(2) {
        assert_eq!(
            pair[1].input, pair[0].output,
            "each input is the previous output"
        );
    }
    assert_eq!(attempts[1].output, Some(json!({ "n": 6, "text": "N6" })));
}

#[test]
fn parallel_branches_overlap_in_time() {
    let project = Project::new("run_parallel")
        .file(
            "agents/nap.sh",
            "cat >/dev/null; sleep 0.2; echo '{\"ok\": true}'\n",
        )
        .file(
            "flow.wf",
            r#"
agent nap { output { ok: bool } run ["sh", "agents/nap.sh"] }
trigger go { manual }
workflow w { on go steps { parallel { a = nap({}) b = nap({}) } } }
"#,
        );
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(0);
    let attempts = attempts_of(&project.store(), "w");
    assert_eq!(attempts.len(), 2);
    assert!(overlap(&attempts[0], &attempts[1]), "{attempts:#?}");
}

#[test]
fn a_sub_workflow_gets_its_own_linked_execution() {
    let project = Project::new("run_sub").file("agents/shout.sh", SHOUT).file(
        "flow.wf",
        &format!(
            "{ECHO_AGENTS}
workflow child {{ input {{ n: number }} chain shout }}
workflow parent {{ on go steps {{ r = workflow child({{ n: 5 }}) }} output r.text }}"
        ),
    );
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "parent"])
        .expect_code(0);
    assert_eq!(run.stdout.trim(), "\"N5\"");
    let store = project.store();
    let parent = &execution_of(&store, "parent");
    let children = store.children(&parent.id).unwrap();
    assert_eq!(children.len(), 1);
    let child = &children[0];
    assert_eq!(child.workflow, "child");
    assert_eq!(child.parent_step.as_deref(), Some("r"));
    assert_eq!(child.status, "completed");
    assert_eq!(child.agents, ["shout"]);
    let attempt = &store.attempts(&parent.id).unwrap()[0];
    assert_eq!(
        attempt.child_execution_id.as_deref(),
        Some(child.id.as_str())
    );
    // The step's attempt ends with its child's result (in the child's last write).
    assert_eq!(attempt.status.as_str(), "completed");
    assert_eq!(attempt.output, Some(json!({ "n": 5, "text": "N5" })));
    assert!(attempt.finished_at.is_some() && attempt.duration_ms.is_some());
    let suffix = &parent.id[parent.id.len() - 8..];
    let shown = project.wfc(["show", suffix]).expect_code(0);
    assert!(shown.stdout.contains(&child.id), "{}", shown.stdout);
}

#[test]
fn a_failed_sub_workflow_fails_the_step_that_ran_it() {
    let project = Project::new("run_sub_failed").file(
        "flow.wf",
        "agent broken { input { n: number } output { n: number } run [\"sh\", \"-c\", \"exit 3\"] }
trigger go { manual }
workflow child { input { n: number } chain broken }
workflow parent { on go steps { r = workflow child({ n: 5 }) } output r }",
    );
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "parent"])
        .expect_code(1);
    assert!(
        run.stderr.contains("sub-workflow `child` failed"),
        "{}",
        run.stderr
    );
    let store = project.store();
    let parent = &execution_of(&store, "parent");
    let child = &store.children(&parent.id).unwrap()[0];
    assert_eq!(
        (parent.status.as_str(), child.status.as_str()),
        ("failed", "failed")
    );
    let attempts = store.attempts(&parent.id).unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!(attempts[0].status.as_str(), "failed");
    let error = attempts[0].error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("sub-workflow `child` failed: "),
        "{error}"
    );
    assert!(attempts[0].finished_at.is_some());
}

#[test]
fn any_skill_spreads_calls_over_equal_agents() {
    let agent = |name: &str| {
        format!(
            r#"agent {name} {{ skills [scoring] output {{ ok: bool }} run ["sh", "agents/nap.sh"] }}"#
        )
    };
    let project = Project::new("run_any")
        .file(
            "agents/nap.sh",
            "cat >/dev/null; sleep 0.05; echo '{\"ok\": true}'\n",
        )
        .file(
            "flow.wf",
            &format!(
                "{}\n{}\ntrigger go {{ manual }}
workflow w {{
  on go
  input {{ items: [number] }}
  steps {{ all = parallel for i in input.items limit 20 {{ s = any [scoring]({{ i: i }}) }} }}
}}",
                agent("scorer_a"),
                agent("scorer_b")
            ),
        );
    let items: Vec<u32> = (0..20).collect();
    let input = json!({ "items": items }).to_string();
    project
        .wfc(["run", "flow.wf", "--workflow", "w", "--input", &input])
        .expect_code(0);
    let attempts = attempts_of(&project.store(), "w");
    assert_eq!(attempts.len(), 20);
    let on_a = attempts
        .iter()
        .filter(|a| a.agent.as_deref() == Some("scorer_a"))
        .count();
    assert_eq!((on_a, 20 - on_a), (10, 10), "calls were not spread evenly");
}

#[test]
fn capacity_one_serialises_calls() {
    let project = Project::new("run_capacity")
        .file(
            "agents/nap.sh",
            "cat >/dev/null; sleep 0.05; echo '{\"ok\": true}'\n",
        )
        .file(
            "flow.wf",
            r#"
agent solo { output { ok: bool } run ["sh", "agents/nap.sh"] capacity 1 }
trigger go { manual }
workflow w { on go steps { all = parallel for i in [1, 2, 3, 4] { s = solo({}) } } }
"#,
        );
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(0);
    let attempts = attempts_of(&project.store(), "w");
    assert_eq!(attempts.len(), 4);
    for (i, a) in attempts.iter().enumerate() {
        for b in &attempts[i + 1..] {
            assert!(
                !overlap(a, b),
                "capacity 1 calls overlapped:\n{a:#?}\n{b:#?}"
            );
        }
    }
}

#[test]
fn an_output_that_does_not_fit_is_invalid_output() {
    let project = Project::new("run_invalid_output")
        .file(
            "agents/liar.sh",
            "cat >/dev/null; echo '{\"amount\": \"lots\"}'\n",
        )
        .file("agents/garbage.sh", "cat >/dev/null; echo 'not json'\n")
        .file(
            "flow.wf",
            r#"
agent liar { output { amount: number } run ["sh", "agents/liar.sh"] }
agent garbage { output { amount: number } run ["sh", "agents/garbage.sh"] }
trigger go { manual }
workflow w { on go steps { x = liar({}) } }
workflow v { on go steps { x = garbage({}) } }
"#,
        );
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert!(
        run.stderr.contains("field `amount` should be a number"),
        "{}",
        run.stderr
    );
    project
        .wfc(["run", "flow.wf", "--workflow", "v"])
        .expect_code(1);
    let store = project.store();
    for workflow in ["w", "v"] {
        let attempts = attempts_of(&store, workflow);
        assert_eq!(attempts[0].status, "invalid_output");
        let execution = &store
            .executions(&HistoryFilter {
                workflow: Some(workflow.into()),
                ..Default::default()
            })
            .unwrap()[0];
        assert_eq!(execution.status, "failed");
        assert_eq!(execution.error.as_ref().unwrap()["kind"], "invalid_output");
    }
}

#[test]
fn a_failing_agent_keeps_its_stderr_and_exit_status() {
    let project = Project::new("run_failing")
        .file(
            "agents/boom.sh",
            "cat >/dev/null; echo 'disk on fire' >&2; exit 3\n",
        )
        .file(
            "flow.wf",
            r#"
agent boom { run ["sh", "agents/boom.sh"] }
trigger go { manual }
workflow w { on go steps { x = boom({}) } on_failure dead_letter }
"#,
        );
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert!(
        run.stderr.contains("exited with status 3: disk on fire"),
        "{}",
        run.stderr
    );
    let store = project.store();
    let attempt = &attempts_of(&store, "w")[0];
    assert_eq!(attempt.status, "failed");
    assert_eq!(attempt.stderr_tail.as_deref(), Some("disk on fire\n"));
    let dead = store.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].workflow, "w");
    assert_eq!(dead[0].error["kind"], "failed");
}

#[test]
fn the_seed_table_has_exactly_the_seed_columns_and_values() {
    let project = Project::new("run_seed")
        .file("agents/shout.sh", SHOUT)
        .file("flow.wf", &format!("{ECHO_AGENTS}\ntrigger milestone {{ manual }}\nworkflow w {{ on milestone input {{ n: number }} chain double -> shout }}"));
    project
        .wfc([
            "run",
            "flow.wf",
            "--trigger",
            "milestone",
            "--input",
            r#"{"n": 1}"#,
        ])
        .expect_code(0);
    let store = project.store();
    assert_eq!(
        store.columns("workflow_executions").unwrap(),
        [
            "id",
            "workflow_id",
            "trigger_id",
            "agents_involved",
            "execution_status",
            "result",
            "timestamp"
        ]
    );
    let rows = store.seed_rows().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let execution = &store.executions(&HistoryFilter::default()).unwrap()[0];
    assert_eq!(row["id"], 1);
    assert_eq!(row["workflow_id"], execution.id.as_str());
    assert_eq!(row["trigger_id"], "milestone");
    assert_eq!(row["agents_involved"], r#"["double","shout"]"#);
    assert_eq!(row["execution_status"], "completed");
    let result: Value = serde_json::from_str(row["result"].as_str().unwrap()).unwrap();
    assert_eq!(result, json!({ "n": 2, "text": "N2" }));
    let stamp = row["timestamp"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{stamp}"
    );
}

#[test]
fn two_processes_can_write_one_database_at_once() {
    let project = Project::new("run_concurrent")
        .file(
            "agents/nap.sh",
            "cat >/dev/null; sleep 0.02; echo '{\"ok\": true}'\n",
        )
        .file(
            "flow.wf",
            r#"
agent nap { output { ok: bool } run ["sh", "agents/nap.sh"] }
trigger go { manual }
workflow w { on go steps { all = for i in [1, 2, 3, 4, 5] { s = nap({}) } } }
"#,
        );
    let spawn = || {
        project
            .command()
            .args(["run", "flow.wf", "--workflow", "w"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let store = project.store();
    let executions = store.executions(&HistoryFilter::default()).unwrap();
    assert_eq!(executions.len(), 2);
    for e in &executions {
        assert_eq!(e.status, "completed");
        assert_eq!(store.attempts(&e.id).unwrap().len(), 5);
    }
}

#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let project = Project::new("run_bad_input")
        .file("agents/shout.sh", SHOUT)
        .file(
            "flow.wf",
            &format!("{ECHO_AGENTS}\nworkflow w {{ on go input {{ n: number }} chain double }}"),
        );
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["--workflow", "w", "--input", "{not json"],
            2,
            "the input in --input is not JSON",
        ),
        (
            &["--workflow", "w", "--input", r#"{"n": "three"}"#],
            2,
            "field `n` should be a number, found a string",
        ),
        (
            &["--workflow", "w", "--input", "{}"],
            2,
            "field `n` is missing",
        ),
        (
            &["--workflow", "ww"],
            2,
            "no workflow named `ww`; did you mean `w`?",
        ),
        (
            &["--trigger", "goo"],
            2,
            "no trigger named `goo`; did you mean `go`?",
        ),
        (
            &["--workflow", "w", "--input-file", "missing.json"],
            2,
            "cannot read `missing.json`",
        ),
    ];
    for (args, code, message) in cases {
        let mut all = vec!["run", "flow.wf"];
        all.extend_from_slice(args);
        let run = project.wfc(&all).expect_code(code);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let store = project.store();
    assert!(store
        .executions(&HistoryFilter::default())
        .unwrap()
        .is_empty());
    assert!(store.seed_rows().unwrap().is_empty());
}

#[test]
fn a_file_with_errors_never_runs() {
    let project = Project::sqlite("run_invalid_file").file(
        "flow.wf",
        "trigger go { manual }\nworkflow w { on go chain nobody }\n",
    );
    let run = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(1);
    assert!(run.stderr.contains("wf::unknown_agent"));
    assert!(
        !project.dir.join("wfc.db").exists(),
        "no database is created for a file that does not check"
    );
}

#[test]
fn history_filters_and_json() {
    let project = Project::new("run_history")
        .file("agents/shout.sh", SHOUT)
        .file("flow.wf", &format!("{ECHO_AGENTS}\nworkflow a {{ version \"1.0.0\" on go chain double }}\nworkflow b {{ on go input {{ n: number }} steps {{ x = shout(input) fail \"no\" }} }}"));
    project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "a",
            "--input",
            r#"{"n": 1}"#,
        ])
        .expect_code(0);
    project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "b",
            "--input",
            r#"{"n": 1}"#,
        ])
        .expect_code(1);
    let text = project.wfc(["history"]).expect_code(0).stdout;
    assert!(text.starts_with("ID "), "{text}");
    assert_eq!(text.lines().count(), 3);
    let json_of = |args: &[&str]| -> Vec<Value> {
        serde_json::from_str(&project.wfc(args).expect_code(0).stdout).unwrap()
    };
    let failed = json_of(&["history", "--status", "failed", "--format", "json"]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["workflow"], "b");
    assert_eq!(failed[0]["error"]["message"], "no");
    let versioned = json_of(&["history", "--version", "1.0.0", "--format", "json"]);
    assert_eq!(versioned.len(), 1);
    assert_eq!(versioned[0]["workflow"], "a");
    assert_eq!(
        json_of(&["history", "--limit", "1", "--format", "json"]).len(),
        1
    );
    let stats: Value = serde_json::from_str(
        &project
            .wfc(["stats", "--format", "json"])
            .expect_code(0)
            .stdout,
    )
    .unwrap();
    assert_eq!(stats["workflows"][0]["workflow"], "a");
    assert_eq!(stats["workflows"][0]["success_rate"], 1.0);
    assert_eq!(stats["workflows"][1]["success_rate"], 0.0);
    let shout = stats["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "shout")
        .unwrap();
    assert_eq!(shout["calls"], 1);
}

#[test]
fn runs_the_same_from_any_directory() {
    let project = Project::new("run_elsewhere")
        .file("deep/agents/shout.sh", SHOUT)
        .file(
            "deep/flow.wf",
            &format!("{ECHO_AGENTS}\nworkflow w {{ on go input {{ n: number }} chain shout }}"),
        );
    let db = project.dir.join("elsewhere.db");
    let run = Wfc::new([
        "run",
        project.dir.join("deep/flow.wf").to_str().unwrap(),
        "--workflow",
        "w",
        "--input",
        r#"{"n": 2}"#,
        "--db",
        db.to_str().unwrap(),
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout.contains("N2"), "{}", run.stderr);
    let show = project.wfc([
        "show",
        "--db",
        db.to_str().unwrap(),
        "--format",
        "json",
        &Store::open(&db)
            .unwrap()
            .executions(&HistoryFilter::default())
            .unwrap()[0]
            .id,
    ]);
    let shown: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(shown["attempts"][0]["agent"], "shout");
}

#[test]
fn every_example_workflow_runs() {
    let project = Project::new("run_examples");
    let examples = crate::support::root().join("examples");
    let runs: [(&str, &str, &str); 7] = [
        ("hello.wf", "hello", r#"{"name": "Ada"}"#),
        (
            "enterprise.wf",
            "revenue_review",
            r#"{"value": 5000, "period": "2026-11"}"#,
        ),
        (
            "enterprise.wf",
            "book_sale",
            r#"{"amount": 5000, "customer": "Acme"}"#,
        ),
        (
            "enterprise.wf",
            "lead_pipeline",
            r#"{"name": "Ada", "source": "referral"}"#,
        ),
        ("enterprise.wf", "daily_operations", "{}"),
        ("enterprise.wf", "compliance_sweep", r#"{"status": "red"}"#),
        (
            "lead_scoring.wf",
            "score_batch",
            r#"{"leads": [{"name": "Ada", "source": "referral"}, {"name": "Bob", "source": "event"}]}"#,
        ),
    ];
    for (file, workflow, input) in runs {
        let path = examples.join(file);
        project
            .wfc([
                "run",
                path.to_str().unwrap(),
                "--workflow",
                workflow,
                "--input",
                input,
            ])
            .expect_code(0);
    }
    let store = project.store();
    let executions = store.executions(&HistoryFilter::default()).unwrap();
    // daily_operations also runs compliance_sweep as a sub-workflow.
    assert_eq!(executions.len(), 8);
    assert!(
        executions.iter().all(|e| e.status == "completed"),
        "{executions:#?}"
    );
    let revenue = store.metric_samples("revenue").unwrap();
    assert_eq!(revenue.len(), 1);
    assert_eq!(revenue[0].value, 5000.0);
    let events: Vec<String> = store
        .events(None)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(events.contains(&"lead.qualified".to_string()), "{events:?}");
    assert!(
        events.contains(&"audit.escalated".to_string()),
        "{events:?}"
    );
    for args in [&["history"][..], &["stats"], &["events"]] {
        project.wfc(args).expect_code(0);
    }
}

#[test]
fn a_terminal_gets_a_spinner_line_and_a_pipe_does_not() {
    let project = Project::new("run_spinner")
        .file("agents/slow.sh", "cat >/dev/null; sleep 0.5; echo '{}'\n")
        .file(
            "flow.wf",
            "agent slow { run [\"sh\", \"agents/slow.sh\"] }\ntrigger go { manual }\nworkflow w { on go steps { a = slow({}) } }\n",
        );
    let piped = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(0);
    assert!(piped.stderr.contains("✓ w/a  slow  #1"), "{}", piped.stderr);
    assert!(!piped.stderr.contains('\r') && !piped.stderr.contains('\u{1b}'));
    // `script` runs wfc on a pseudo-terminal.
    let command = format!("{} run flow.wf --workflow w", env!("CARGO_BIN_EXE_wfc"));
    let tty = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(&project.dir)
        .output()
        .expect("`script` (util-linux) runs");
    let screen = String::from_utf8_lossy(&tty.stdout);
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    assert!(
        frames
            .iter()
            .any(|f| screen.contains(&format!("\r\u{1b}[2K{f} w/a  slow"))),
        "{screen:?}"
    );
    assert!(screen.contains("✓ w/a  slow  #1"), "{screen:?}");
}

#[test]
fn utilisation_is_a_share_of_the_window_and_of_capacity_when_the_file_is_given() {
    let project = Project::new("run_utilisation")
        .file("agents/nap.sh", "cat >/dev/null; sleep 0.1; echo '{}'\n")
        .file(
            "flow.wf",
            "agent pool { run [\"sh\", \"agents/nap.sh\"] capacity 2 }\ntrigger go { manual }\n\
             workflow w { on go steps { all = parallel for i in [1, 2, 3, 4] { x = pool({}) } } }\n",
        );
    project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(0);
    let stats = |args: &[&str]| -> Value {
        let out = project.wfc(args).expect_code(0).stdout;
        serde_json::from_str::<Value>(&out).unwrap()["agents"][0].clone()
    };
    let raw = stats(&["stats", "--since", "1h", "--format", "json"]);
    let shared = stats(&["stats", "flow.wf", "--since", "1h", "--format", "json"]);
    assert_eq!(raw["capacity"], Value::Null);
    assert_eq!(shared["capacity"], 2);
    let (raw, shared) = (
        raw["utilisation"].as_f64().unwrap(),
        shared["utilisation"].as_f64().unwrap(),
    );
    // Over the last hour: without a capacity, the time at least one call ran
    // (about 200 ms); with capacity 2, call time (about 400 ms) over two slots.
    assert!(raw > 0.0 && raw <= 1.0 && shared > 0.0 && shared <= 1.0);
    assert!((shared / raw - 1.0).abs() < 0.3, "{shared} vs {raw}");
    let hour_ms = 3_600_000.0;
    assert!(raw * hour_ms > 150.0 && raw * hour_ms < 2_000.0, "{raw}");
}

#[test]
fn a_fan_out_of_two_thousand_sub_workflows_over_its_input_completes() {
    // The suite's size of BENCHMARKS.md §9 (10,000 children, time and peak
    // memory measured there): every child once, each result in order.
    let project = Project::new("fan_out_over_input").file(
        "fan.wf",
        &fan_out(
            "workflow child { input { n: number } steps { wait 1ms r = inc(input) } output r }",
        ),
    );
    let items: Vec<u32> = (0..2000).collect();
    let input = json!({ "items": items }).to_string();
    let out = project
        .wfc(["run", "fan.wf", "--workflow", "fan", "--input", &input])
        .expect_code(0);
    let result: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(result, json!({ "count": 2000 }));
    let store = project.store();
    let mut children: Vec<i64> = store
        .executions(&HistoryFilter::default())
        .unwrap()
        .iter()
        .filter(|e| e.workflow == "child" && e.status == "completed")
        .map(|e| e.input["n"].as_i64().unwrap())
        .collect();
    children.sort();
    assert_eq!(children, (0..2000).collect::<Vec<_>>());
}

#[test]
fn bare_numbers_recorded_as_json_read_back_as_numbers() {
    // SQLite stores a JSON column's bare number as a number (the column type
    // `JSON` has numeric affinity): reading it back as text failed, so
    // `wfc events`, `wfc show` and resuming such an execution broke.
    let project = Project::new("bare_numbers").file(
        "flow.wf",
        r#"
agent seven { output number run ["sh", "-c", "cat >/dev/null; echo 7"] }
agent half { input number output number run ["sh", "-c", "cat >/dev/null; echo 3.5"] }
workflow w { chain seven -> half }
"#,
    );
    let out = project
        .wfc(["run", "flow.wf", "--workflow", "w"])
        .expect_code(0);
    assert_eq!(out.stdout.trim(), "3.5");
    // `-3` is a value, not an option: a negative number is JSON too.
    for data in ["5", "12.5", "-3"] {
        project.wfc(["emit", "tick", "--data", data]).expect_code(0);
    }
    let events: Value = project.json(["events", "--format", "json"]);
    let payloads: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["payload"])
        .collect();
    assert_eq!(payloads, [&json!(-3), &json!(12.5), &json!(5)]);

    let store = project.store();
    let execution = store
        .executions(&HistoryFilter::default())
        .unwrap()
        .remove(0);
    assert_eq!(execution.result, Some(json!(3.5)));
    let outputs: Vec<Option<Value>> = store
        .attempts(&execution.id)
        .unwrap()
        .into_iter()
        .map(|a| a.output)
        .collect();
    assert_eq!(outputs, [Some(json!(7)), Some(json!(3.5))]);
    let shown: Value = project.json(["show", &execution.id, "--format", "json"]);
    assert_eq!(shown["execution"]["result"], json!(3.5), "{shown}");
    assert_eq!(store.seed_rows().unwrap()[0]["result"], "3.5");
}

/// Input that does not fit is a usage problem (exit 2, like input that is not
/// JSON), and every mismatch is listed at once.
#[test]
fn input_that_does_not_fit_exits_2_listing_every_mismatch() {
    let project = Project::new("run_input_mismatches").file(
        "flow.wf",
        "agent echo { input { n: number } output { n: number } compute { n: input.n } }\n\
         trigger go { manual }\n\
         workflow w { on go input { n: number, name: string, tags: [string] } steps { r = echo({ n: input.n }) } output r }\n",
    );
    let run = project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "w",
            "--input",
            r#"{"n": "x", "tags": [1, "a", 2]}"#,
        ])
        .expect_code(2);
    for part in ["`n`", "`name`", "`tags[0]`", "`tags[2]`"] {
        assert!(run.stderr.contains(part), "{part} missing: {}", run.stderr);
    }
    assert!(!run.stderr.contains("tags[1]"), "{}", run.stderr);
}
