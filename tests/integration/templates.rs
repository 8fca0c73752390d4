//! Templates through the built binary: two departments' workflows made from one
//! template run with their own agents and thresholds; an error inside a
//! template is reported once however many instances use it; a template's own
//! workflow parameter bound to its instance is a cycle.

use crate::support::Project;
use serde_json::json;

const FLOW: &str = r#"agent finance_controller {
  input { amount: number, id: string }
  output { approved: bool, by: string }
  compute { approved: input.amount < 9000, by: "controller" }
}
agent ops_lead {
  input { amount: number, id: string, note: string? }
  output { approved: bool, by: string, team: string }
  compute { approved: true, by: "ops", team: "platform" }
}
retry patient { attempts 3 }
trigger invoice_received { manual }

template approval(
  reviewer: agent { amount: number, id: string } -> { approved: bool, by: string },
  threshold: number = 1000,
  policy: retry = patient,
) {
  input { amount: number, id: string }
  steps {
    when input.amount >= threshold { d = reviewer(input) retry policy }
  }
  output { approved: if d != null then d.approved else true }
}

workflow invoice_approval = approval(reviewer: finance_controller, threshold: 5000) {
  version "1.0.0"
  on invoice_received
  on_failure dead_letter
}

workflow ops_approval = approval(reviewer: ops_lead) {
  version "2.0.0"
  on invoice_received
}
"#;

#[test]
fn two_instances_run_with_their_own_agents_and_thresholds() {
    let project = Project::new("templates_run").file("flow.wf", FLOW);
    project.wfc(["check", "flow.wf"]).expect_code(0);
    for (workflow, amount, approved, agent) in [
        ("invoice_approval", 9500, false, Some("finance_controller")),
        ("invoice_approval", 4000, true, None),
        ("ops_approval", 4000, true, Some("ops_lead")),
    ] {
        let input = json!({ "amount": amount, "id": "i1" }).to_string();
        let run = project
            .wfc(["run", "flow.wf", "--workflow", workflow, "--input", &input])
            .expect_code(0);
        let result: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(
            result,
            json!({ "approved": approved }),
            "{workflow} {amount}"
        );
        match agent {
            Some(agent) => assert!(
                run.stderr.contains(&format!("{workflow}/d  {agent}")),
                "{}",
                run.stderr
            ),
            None => assert!(!run.stderr.contains("/d "), "{}", run.stderr),
        }
    }
    let executions: serde_json::Value = project.json(["history", "--format", "json"]);
    let id = executions[0]["id"].as_str().unwrap().to_string();
    assert_eq!(executions[0]["template"], "approval");
    let shown = project.wfc(["show", &id]).expect_code(0).stdout;
    assert!(
        shown.contains("  template  approval (source blob "),
        "{shown}"
    );
    let history = project.wfc(["history"]).expect_code(0).stdout;
    assert!(history.contains("ops_approval      2.0.0"), "{history}");
    assert!(history.contains("invoice_approval  1.0.0"), "{history}");
}

#[test]
fn an_error_inside_a_template_is_reported_once_at_the_template() {
    let text = FLOW.replace(
        "output { approved: if d != null then d.approved else true }",
        "output { approved: if d != null then d.nope else true }",
    );
    let project = Project::new("templates_once").file("flow.wf", &text);
    let run = project.wfc(["check", "flow.wf"]).expect_code(1);
    assert_eq!(
        run.stderr.matches("no field `nope`").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("flow.wf:23:"), "{}", run.stderr);
    assert!(run.stderr.contains("1 error"), "{}", run.stderr);
}

#[test]
fn a_template_that_would_run_itself_is_a_cycle() {
    let text = r#"trigger go { manual }
template repeat(again: workflow {} -> {}) {
  steps { r = workflow again({}) }
}
workflow looped = repeat(again: looped) { on go }
"#;
    let project = Project::new("templates_cycle").file("flow.wf", text);
    let run = project.wfc(["check", "flow.wf"]).expect_code(1);
    assert!(run.stderr.contains("wf::workflow_cycle"), "{}", run.stderr);
}

#[test]
fn explain_and_graph_say_what_a_workflow_is_made_from() {
    let project = Project::new("templates_explain").file("flow.wf", FLOW);
    let template = project
        .wfc(["explain", "flow.wf", "approval"])
        .expect_code(0)
        .stdout;
    assert!(template.starts_with("template approval\n  parameters:\n    reviewer: agent { amount: number, id: string } -> { approved: bool, by: string }\n    threshold: number = 1000\n"), "{template}");
    assert!(template.contains("workflows made from it (`wfc explain` each for its steps): invoice_approval, ops_approval"), "{template}");
    let workflow = project
        .wfc(["explain", "flow.wf", "invoice_approval"])
        .expect_code(0)
        .stdout;
    assert!(
        workflow
            .contains("made from template approval(reviewer: finance_controller, threshold: 5000)"),
        "{workflow}"
    );
    assert!(workflow.contains("d: finance_controller"), "{workflow}");
    let graph = project
        .wfc(["graph", "flow.wf", "--workflow", "ops_approval"])
        .expect_code(0)
        .stdout;
    assert!(
        graph.contains("workflow ops_approval 2.0.0<br/>from template approval"),
        "{graph}"
    );
    assert!(graph.contains("d = ops_lead"), "{graph}");
}

/// `wfc templates`: each template of the example library with its doc comment,
/// parameters and the workflows made from it; `--format json` alike. `///`
/// doc comments show in `wfc explain` too.
#[test]
fn wfc_templates_lists_the_library_with_docs_parameters_and_uses() {
    let listed = crate::support::Wfc::new(["templates", "examples/enterprise.wf"])
        .run()
        .expect_code(0)
        .stdout;
    assert!(
        listed.starts_with("template approval (examples/library/approvals.wf)\n  Ask a reviewer when the amount is at or over a threshold; smaller amounts pass.\n  parameters:\n    reviewer: agent { amount: number, id: string } -> { approved: bool, by: string }\n    threshold: number = 1000\n  made into: invoice_approval\n"),
        "{listed}"
    );
    assert!(listed.contains("made into: purchase_approval"), "{listed}");
    let json: serde_json::Value = serde_json::from_str(
        &crate::support::Wfc::new([
            "templates",
            "examples/library/approvals.wf",
            "--format",
            "json",
        ])
        .run()
        .expect_code(0)
        .stdout,
    )
    .unwrap();
    assert_eq!(json[1]["name"], "second_opinion");
    assert_eq!(json[1]["instances"], json!([]));
    assert_eq!(json[0]["parameters"][1], "threshold: number = 1000");
    let explained =
        crate::support::Wfc::new(["explain", "examples/enterprise.wf", "invoice_approval"])
            .run()
            .expect_code(0)
            .stdout;
    assert!(
        explained.starts_with(
            "workflow invoice_approval\n  Finance reviews every invoice of $5,000 or more.\n"
        ),
        "{explained}"
    );
}

/// A `duration` parameter stands wherever a step takes a duration written out:
/// `wait`, a call's `timeout`, an `await`'s deadline; a value where a duration
/// is wanted is refused at the argument.
#[test]
fn duration_parameters_set_waits_timeouts_and_deadlines() {
    let text = r#"agent check { input { id: string } output { ok: bool } compute { ok: true } }
trigger go { manual }
template reminder(checker: agent { id: string } -> { ok: bool }, pause: duration = 100ms, deadline: duration) {
  input { id: string }
  steps {
    wait pause
    r = checker(input) timeout deadline
    decision = await "x.done" { ok: bool } timeout deadline
  }
  output { ok: r.ok }
}
workflow quick = reminder(checker: check, deadline: 200ms) { on go }
"#;
    let project = Project::new("templates_durations").file("flow.wf", text);
    let explained = project
        .wfc(["explain", "flow.wf", "quick"])
        .expect_code(0)
        .stdout;
    assert!(explained.contains("wait#1: waits 100ms"), "{explained}");
    assert!(
        explained.contains("at most 200ms, then fails with kind `timeout`"),
        "{explained}"
    );
    let run = project
        .wfc([
            "run",
            "flow.wf",
            "--workflow",
            "quick",
            "--input",
            r#"{"id": "a"}"#,
        ])
        .expect_code(1);
    assert!(run.stderr.contains("within 200ms"), "{}", run.stderr);
    let wrong = project
        .file(
            "flow.wf",
            &text.replace("deadline: 200ms", "deadline: \"soon\""),
        )
        .wfc(["check", "flow.wf"])
        .expect_code(1);
    assert!(
        wrong.stderr.contains("wf::argument_mismatch")
            && wrong.stderr.contains("`deadline` takes a duration"),
        "{}",
        wrong.stderr
    );
}

/// A version of a workflow made from a template is its file and the
/// template's together: a template edited under an unchanged instance is a
/// new version, and the diff between them shows the template's change.
#[test]
fn a_template_edit_is_a_new_version_with_its_diff() {
    let template = |says: &str| {
        format!(
            "template greeting(greeter: agent {{}} -> {{ hi: string }}) {{\n  steps {{ g = greeter({{}}) }}\n  output {{ hi: g.hi, says: \"{says}\" }}\n}}\n"
        )
    };
    let project = Project::new("template_versions")
        .file("lib.wf", &template("first"))
        .file(
            "flow.wf",
            "import \"lib.wf\"\nagent hello { compute { hi: \"hi\" } }\ntrigger go { manual }\nworkflow greet = greeting(greeter: hello) { on go }\n",
        );
    let server = crate::server::Server::start(&project, &["--watch"]);
    let versions = || {
        let (_, workflows) = server.http("GET", "/workflows", None, None);
        workflows["workflows"][0]["versions"].clone()
    };
    let run = || {
        let (status, _) = server.http("POST", "/workflows/greet/runs", Some("{}"), None);
        assert_eq!(status, 202);
    };
    run();
    crate::support::wait_for(std::time::Duration::from_secs(10), || {
        versions().as_array().is_some_and(|v| v.len() == 1)
    });
    std::fs::write(project.dir.join("lib.wf"), template("second")).unwrap();
    // Once the edit is served, a run of it is a second version.
    crate::support::wait_for(std::time::Duration::from_secs(10), || {
        run();
        versions().as_array().is_some_and(|v| v.len() == 2)
    });
    let listed = versions();
    let (new, old) = (&listed[0], &listed[1]);
    assert_eq!(
        new["source_blob"], old["source_blob"],
        "the instance's file did not change"
    );
    assert_ne!(new["template_blob"], old["template_blob"]);
    let path = format!(
        "/workflows/greet/diff?from={}&to={}&from_template={}&to_template={}",
        old["source_blob"].as_str().unwrap(),
        new["source_blob"].as_str().unwrap(),
        old["template_blob"].as_str().unwrap(),
        new["template_blob"].as_str().unwrap()
    );
    let (status, diff) = server.http("GET", &path, None, None);
    assert_eq!(status, 200, "{diff}");
    let diff = diff["diff"].as_str().unwrap();
    assert!(
        diff.contains("-  output { hi: g.hi, says: \"first\" }")
            && diff.contains("+  output { hi: g.hi, says: \"second\" }"),
        "{diff}"
    );
    server.stop();
}
