//! Declared metrics: fed from outside by `wfc metrics record` and `POST /metrics/NAME`,
//! known to the checker, refused when a name is neither declared nor recorded.

use crate::server::Server;
use crate::support::{wait_for, Project};
use serde_json::Value;
use std::time::Duration;
use wfc::store::HistoryFilter;

const DECLARED: &str = r#"
metric revenue { unit "USD" description "Invoiced revenue, from the billing system" }
metric nps { unit "points" }
agent noop { compute { ok: true } }
trigger unhappy { when metric latest(nps) < 30 }
trigger go { manual }
workflow survey { on unhappy chain noop }
workflow sale { on go chain noop record deals = 1 }
goal growth { title "Grow" kpi sum(revenue) per month >= 1000 }
"#;

#[test]
fn a_declared_metric_is_not_unrecorded_and_passes_deny_warnings() {
    let project = Project::new("metrics_declared")
        .file("flow.wf", DECLARED)
        .file(
            "undeclared.wf",
            &DECLARED.replace("metric revenue", "// metric revenue"),
        );
    project
        .wfc(["check", "--deny", "warnings", "flow.wf"])
        .expect_code(0);
    let run = project
        .wfc(["check", "--deny", "warnings", "undeclared.wf"])
        .expect_code(1);
    assert!(
        run.stderr.contains("wf::unrecorded_metric"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("metric revenue"), "{}", run.stderr);
}

#[test]
fn metrics_record_refuses_a_name_the_file_does_not_know() {
    let project = Project::new("metrics_record").file("flow.wf", DECLARED);
    let run = project
        .wfc(["metrics", "record", "revenu", "12.5", "--file", "flow.wf"])
        .expect_code(2);
    assert!(
        run.stderr.contains("did you mean `revenue`?"),
        "{}",
        run.stderr
    );
    let run = project
        .wfc(["metrics", "record", "churn", "1", "--file", "flow.wf"])
        .expect_code(2);
    assert!(run.stderr.contains("metric churn { unit"), "{}", run.stderr);
    // Declared, and recorded by a workflow: both are known.
    project
        .wfc(["metrics", "record", "revenue", "600", "--file", "flow.wf"])
        .expect_code(0);
    project
        .wfc(["metrics", "record", "deals", "2", "--file", "flow.wf"])
        .expect_code(0);
    // Without a file nothing is known, so nothing is refused but a name no
    // file could read.
    project
        .wfc(["metrics", "record", "churn", "1"])
        .expect_code(0);
    for (name, problem) in [
        ("", "`` is not a metric name"),
        ("net revenue", "`net revenue` is not a metric name"),
        ("revenue.", "`revenue.` is not a metric name"),
        ("revenue.monthly", "`.monthly` is a period suffix"),
    ] {
        let run = project.wfc(["metrics", "record", name, "1"]).expect_code(2);
        assert!(run.stderr.contains(problem), "{name}: {}", run.stderr);
    }
    project
        .wfc(["metrics", "record", "support.tickets", "3"])
        .expect_code(0);
    let listed: Vec<Value> = project.json(["metrics", "--file", "flow.wf", "--format", "json"]);
    let row = |name: &str| listed.iter().find(|r| r["name"] == name).cloned().unwrap();
    assert_eq!(row("revenue")["unit"], "USD");
    assert_eq!(row("revenue")["samples"], 1);
    assert_eq!(row("revenue")["recorded_by"], serde_json::json!([]));
    assert_eq!(row("deals")["recorded_by"], serde_json::json!(["sale"]));
    assert_eq!(row("nps")["samples"], 0);
    // A stored series the file does not know is listed too, without a unit.
    assert_eq!(row("churn")["samples"], 1);
    assert_eq!(row("support.tickets")["samples"], 1);
    assert_eq!(listed.len(), 5, "{listed:#?}");
    assert!(row("churn").get("unit").is_none());
}

#[test]
fn post_metrics_feeds_a_declared_metric_and_its_trigger_fires() {
    let project = Project::new("metrics_http").file("flow.wf", DECLARED);
    let server = Server::start(&project, &[]);
    let (status, body) = server.http("POST", "/metrics/nsp", Some(r#"{"value": 10}"#), None);
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("did you mean `nps`?"),
        "{body}"
    );
    for bad in [
        r#"{"value": "ten"}"#,
        r#"{}"#,
        r#"{"value": 1, "at": "yesterday"}"#,
        "[1",
    ] {
        let (status, body) = server.http("POST", "/metrics/nps", Some(bad), None);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string());
    }
    let (status, body) = server.http(
        "POST",
        "/metrics/nps",
        Some(r#"{"value": 12, "at": "2026-11-26T09:00:00Z"}"#),
        None,
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["recorded_at"], "2026-11-26T09:00:00.000Z");
    let store = project.store();
    let surveys = || {
        store
            .executions(&HistoryFilter {
                workflow: Some("survey".into()),
                ..HistoryFilter::default()
            })
            .unwrap()
            .len()
    };
    wait_for(Duration::from_secs(5), || surveys() == 1);
    assert_eq!(store.metric_samples("nps").unwrap().len(), 1);
    server.stop();
}

/// `wfc metrics NAME` printed a JSON object above its table; text is for
/// people: one line of rounded figures (JSON keeps them whole).
#[test]
fn metric_figures_in_text_are_rounded_lines_not_json() {
    let project = crate::support::Project::new("metrics_text");
    for value in ["0.5122197624190065", "2"] {
        project
            .wfc(["metrics", "record", "m", value])
            .expect_code(0);
    }
    let shown = project.wfc(["metrics", "m"]).expect_code(0);
    let first = shown.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        first, "m: 2 samples; latest 2, sum 2.51, min 0.51, max 2",
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains('{'), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("0.51") && !shown.stdout.contains("0.5122"),
        "{}",
        shown.stdout
    );
    let json = project
        .wfc(["metrics", "m", "--format", "json"])
        .expect_code(0);
    assert!(
        json.stdout.contains("0.5122197624190065"),
        "{}",
        json.stdout
    );
}
