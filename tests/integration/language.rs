//! Language constructs end to end through the built binary: field names that are
//! any JSON key, typed catch, loop indexes and results, stable step names.

use crate::support::{root, Project};
use serde_json::{json, Value};

/// The reserved words, read from the grammar's one list.
fn keywords() -> Vec<String> {
    let grammar = std::fs::read_to_string(root().join("grammar/wf.pest")).unwrap();
    let start = grammar.find("keyword = @{").expect("the keyword rule");
    let rule = &grammar[start..start + grammar[start..].find("~ !ident_char").unwrap()];
    let words: Vec<String> = rule
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(words.len() > 30, "read the keyword list: {words:?}");
    words
}

#[test]
fn every_keyword_is_a_field_name_in_shapes_access_and_literals() {
    let keywords = keywords();
    let shape: Vec<String> = keywords.iter().map(|k| format!("{k}: number")).collect();
    // Half the literal's keys quoted, half bare.
    let literal: Vec<String> = keywords
        .iter()
        .enumerate()
        .map(|(i, k)| match i % 2 {
            0 => format!("{k}: {i}"),
            _ => format!("\"{k}\": {i}"),
        })
        .collect();
    let sum: Vec<String> = keywords.iter().map(|k| format!("r.{k}")).collect();
    let echo: Vec<String> = keywords.iter().map(|k| format!("{k}: input.{k}")).collect();
    let program = format!(
        "trigger go {{ manual }}\n\
         agent echo {{\n  input {{ {shape} }}\n  output {{ {shape} }}\n  compute {{ {echo} }}\n}}\n\
         workflow w {{\n  on go\n  steps {{\n    r = echo({{ {literal} }})\n    let total = {sum}\n  }}\n  \
         output {{ total: total, \"the input\": r.input, agent: r.agent - 1 }}\n}}\n",
        shape = shape.join(", "),
        echo = echo.join(", "),
        literal = literal.join(", "),
        sum = sum.join(" + "),
    );
    let project = Project::new("language_keys").file("keys.wf", &program);
    project.wfc(["check", "keys.wf"]).expect_code(0);
    project.wfc(["fmt", "keys.wf"]).expect_code(0);
    project.wfc(["fmt", "--check", "keys.wf"]).expect_code(0);
    let formatted = std::fs::read_to_string(project.dir.join("keys.wf")).unwrap();
    assert!(
        formatted.contains("r.agent - 1") && formatted.contains("input.any,"),
        "a keyword after `.` formats as a name:\n{formatted}"
    );
    let out: Value = project.json(["run", "keys.wf", "--workflow", "w"]);
    let n = keywords.len() as u64;
    let index = |word: &str| keywords.iter().position(|k| k == word).unwrap() as u64;
    assert_eq!(
        out,
        json!({
            "total": n * (n - 1) / 2,
            "the input": index("input"),
            "agent": index("agent") - 1,
        })
    );
}

#[test]
fn a_cron_workflow_reads_its_trigger_and_slot() {
    let project = Project::new("language_cron_input").file(
        "cron.wf",
        "trigger nightly { cron \"0 2 * * *\" }\n\
         workflow report {\n  on nightly\n  input { trigger: string, slot: string }\n  \
         steps { let which = input.trigger }\n  output { which: which, at: input.slot }\n}\n",
    );
    project.wfc(["check", "cron.wf"]).expect_code(0);
    let out: Value = project.json([
        "run",
        "cron.wf",
        "--workflow",
        "report",
        "--input",
        r#"{"trigger": "nightly", "slot": "2026-11-26T02:00:00.000Z"}"#,
    ]);
    assert_eq!(
        out,
        json!({ "which": "nightly", "at": "2026-11-26T02:00:00.000Z" })
    );
}

/// The step names of the last execution's attempts, in order, and its error's step.
fn steps_of(project: &Project) -> (Vec<String>, Option<String>) {
    let store = project.store();
    let execution = store
        .executions(&wfc::store::HistoryFilter::default())
        .unwrap()
        .remove(0);
    let attempts = store.attempts(&execution.id).unwrap();
    let error = execution
        .error
        .as_ref()
        .and_then(|e| e["step"].as_str().map(String::from));
    (attempts.into_iter().map(|a| a.step).collect(), error)
}

#[test]
fn step_names_count_constructs_and_survive_comments_and_blank_lines() {
    let plain = "trigger go { manual }\n\
                 workflow w {\n  on go\n  steps {\n    wait 1ms\n    emit \"a.done\"\n    \
                 when true { wait 1ms }\n    parallel { wait 1ms }\n    emit \"a.done\"\n    \
                 fail \"stop\"\n  }\n}\n";
    let commented = plain
        .replace(
            "  steps {\n",
            "  steps {\n    // a comment\n\n    /* and a block\n       one */\n",
        )
        .replace("    when", "\n\n    // why we branch\n    when")
        .replace("    fail", "    // the end\n    fail");
    let project = Project::new("language_step_names").file("w.wf", plain);
    project
        .wfc(["run", "w.wf", "--workflow", "w"])
        .expect_code(1);
    let before = steps_of(&project);
    assert_eq!(
        before,
        (
            vec!["wait#1".into(), "wait#2".into(), "wait#3".into()],
            Some("fail#1".into())
        )
    );
    let project = project.file("w.wf", &commented);
    project.wfc(["fmt", "w.wf"]).expect_code(0);
    project
        .wfc(["run", "w.wf", "--workflow", "w"])
        .expect_code(1);
    assert_eq!(steps_of(&project), before);
    let emitted: Vec<_> = project
        .store()
        .events(None)
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    // Two emits of one name in one scope are two events in each run.
    assert_eq!(emitted.len(), 4, "{emitted:?}");
}

const FAILING_AGENTS: &str = r#"
trigger go { manual }
agent broken { run ["sh", "-c", "cat >/dev/null; echo nope >&2; exit 3"] }
agent slow { run ["sh", "-c", "sleep 5"] timeout 50ms }
"#;

/// Runs workflow `w` of `steps`, returning its exit code and printed output or error.
fn run_steps(name: &str, steps: &str) -> (Option<i32>, Value) {
    let project = Project::new(name).file(
        "t.wf",
        &format!("{FAILING_AGENTS}\nworkflow w {{\n  on go\n  steps {{\n{steps}\n  }}\n}}\n"),
    );
    project.wfc(["check", "t.wf"]).expect_code(0);
    let run = project.wfc(["run", "t.wf", "--workflow", "w"]);
    let value = match run.code {
        Some(0) => serde_json::from_str(&run.stdout).unwrap(),
        _ => {
            let store = project.store();
            let execution = store
                .executions(&wfc::store::HistoryFilter::default())
                .unwrap()
                .remove(0);
            execution
                .error
                .expect("a failed execution stores its error")
        }
    };
    (run.code, value)
}

#[test]
fn a_typed_catch_takes_only_its_kinds_and_lets_others_through_unchanged() {
    // `failed` is not `timeout`: it goes through with its own kind, step and agent.
    let (code, error) = run_steps(
        "language_catch_through",
        "try { a = broken({}) } catch timeout as e { let k = e.kind }",
    );
    assert_eq!(code, Some(1));
    assert_eq!(error["kind"], "failed");
    assert_eq!(error["step"], "a");
    assert_eq!(error["agent"], "broken");

    // The first clause taking the kind runs.
    let (code, out) = run_steps(
        "language_catch_first",
        "try { a = slow({}) }\n\
         catch failed as e { let k = \"first\" }\n\
         catch timeout, invalid_output as e { let k = concat(\"second \", e.kind) }\n\
         catch e { let k = \"last\" }",
    );
    assert_eq!(code, Some(0));
    assert_eq!(out["k"], "second timeout");
}

#[test]
fn fail_re_raises_a_caught_error_with_its_kind() {
    // Re-raised, an outer `try` sees the original error, not a `fail`.
    let (code, out) = run_steps(
        "language_reraise_caught",
        "try {\n  try { a = slow({}) } catch e { fail e }\n} catch timeout as outer {\n  \
         let seen = outer\n}",
    );
    assert_eq!(code, Some(0));
    assert_eq!(out["seen"]["kind"], "timeout");
    assert_eq!(out["seen"]["step"], "a");
    assert_eq!(out["seen"]["agent"], "slow");

    // Uncaught, the execution fails with that kind; `fail "…"` would say `fail`.
    let (code, error) = run_steps(
        "language_reraise_uncaught",
        "try { a = broken({}) } catch e { fail e }",
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        (error["kind"].as_str(), error["step"].as_str()),
        (Some("failed"), Some("a"))
    );
    let (_, error) = run_steps(
        "language_fail_message",
        "try { a = broken({}) } catch e { fail concat(\"gave up: \", e.message) }",
    );
    assert_eq!(error["kind"], "fail");
}

#[test]
fn a_loop_yields_items_with_their_indexes() {
    let project = Project::new("language_loops").file(
        "loops.wf",
        "trigger go { manual }\n\
         agent label {\n  input { name: string, at: number }\n  output { text: string, at: number }\n  \
         compute { text: input.name, at: input.at * 10 }\n}\n\
         workflow w {\n  on go\n  input { names: [string] }\n  steps {\n    \
         labels = for name, i in input.names {\n      l = label({ name: name, at: i })\n      yield [l.text, l.at]\n    }\n    \
         squares = parallel for n, i in range(4) limit 2 { yield { n: n * n, i: i } }\n    \
         between = for n in range(2, 5) { yield n }\n  }\n  \
         output { labels: labels, squares: squares, between: between }\n}\n",
    );
    project.wfc(["check", "loops.wf"]).expect_code(0);
    project.wfc(["fmt", "--check", "loops.wf"]).expect_code(0);
    let out: Value = project.json([
        "run",
        "loops.wf",
        "--workflow",
        "w",
        "--input",
        r#"{"names": ["ada", "bo", "cy"]}"#,
    ]);
    assert_eq!(
        out,
        json!({
            "labels": [["ada", 0], ["bo", 10], ["cy", 20]],
            "squares": [{"n": 0, "i": 0}, {"n": 1, "i": 1}, {"n": 4, "i": 2}, {"n": 9, "i": 3}],
            "between": [2, 3, 4],
        })
    );
}
