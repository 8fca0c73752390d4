//! The JSON endpoints the dashboard's charts read, over a real `wfc serve`:
//! `/stats` with its course over a window, `/goals`, `/metrics` and a workflow's
//! graph with the steps its nodes run as.

use crate::server::Server;
use crate::support::Project;
use serde_json::{json, Value};

const FLOW: &str = r#"
agent double { input { n: number } output { n: number } compute { n: input.n * 2 } capacity 4 }
agent broken { output { ok: bool } run ["sh", "-c", "exit 3"] }
metric sales { unit "EUR" }
goal revenue { kpi sum(sales) >= 100 }
trigger go { manual }
workflow twice { on go input { n: number } steps {
  a = double({ n: input.n })
  xs = for i in [1, 2] { b = double({ n: i }) yield b.n }
} output a }
workflow fails { on go steps { r = broken({}) } output r }
"#;

#[test]
fn stats_give_the_kpis_and_their_course_over_the_window_asked() {
    let project = Project::new("dashboard_stats").file("flow.wf", FLOW);
    let server = Server::start(&project, &[]);
    server.run_to_end("twice", &json!({ "n": 1 }));
    server.run_to_end("twice", &json!({ "n": 2 }));
    server.run_to_end("fails", &json!({}));
    let (status, stats) = server.http("GET", "/stats?since=10m", None, None);
    assert_eq!(status, 200, "{stats}");
    let workflow = |name: &str| {
        stats["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["workflow"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {stats}"))
    };
    assert_eq!(workflow("twice")["completed"], 2);
    assert_eq!(workflow("twice")["success_rate"], 1.0);
    assert!(workflow("twice")["p95_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(workflow("fails")["failed"], 1);
    assert_eq!(workflow("fails")["success_rate"], 0.0);
    // The course: twelve stretches, the three runs in them, all recent ones last.
    let over_time = stats["over_time"].as_array().unwrap();
    assert_eq!(over_time.len(), 12);
    let sum = |field: &str| {
        over_time
            .iter()
            .map(|b| b[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!((sum("completed"), sum("failed")), (2, 1), "{stats}");
    assert_eq!(over_time[11]["completed"], 2, "{stats}");
    assert_eq!(over_time[0]["success_rate"], Value::Null);
    let agent = stats["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent"] == "double")
        .cloned()
        .unwrap();
    assert_eq!(agent["calls"], 6, "{agent}");
    assert_eq!(agent["capacity"], 4, "{agent}");
    // One workflow only.
    let (_, only) = server.http("GET", "/stats?since=1h&workflow=fails", None, None);
    assert_eq!(only["workflows"].as_array().unwrap().len(), 1, "{only}");
    for bad in [
        "/stats?since=0s",
        "/stats?since=soon",
        "/stats?since=100000d",
    ] {
        let (status, body) = server.http("GET", bad, None, None);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("`since`"),
            "{body}"
        );
    }
}

#[test]
fn goals_and_metrics_are_served_with_the_newest_samples() {
    let project = Project::new("dashboard_goals").file("flow.wf", FLOW);
    let server = Server::start(&project, &[]);
    let (_, goals) = server.http("GET", "/goals", None, None);
    assert_eq!(goals["goals"][0]["name"], "revenue", "{goals}");
    assert_eq!(goals["goals"][0]["status"], "no_data", "{goals}");
    for value in 1..=205 {
        let (status, body) = server.http(
            "POST",
            "/metrics/sales",
            Some(&json!({ "value": value }).to_string()),
            None,
        );
        assert_eq!(status, 201, "{body}");
    }
    let (_, goals) = server.http("GET", "/goals", None, None);
    assert_eq!(goals["goals"][0]["status"], "achieved", "{goals}");
    assert_eq!(
        goals["goals"][0]["kpi"]["current"],
        205.0 * 206.0 / 2.0,
        "{goals}"
    );
    let (status, metrics) = server.http("GET", "/metrics", None, None);
    assert_eq!(status, 200, "{metrics}");
    let sales = &metrics["metrics"][0];
    assert_eq!(sales["name"], "sales");
    assert_eq!(sales["count"], 205);
    // The newest 200, oldest first.
    let samples = sales["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 200);
    assert_eq!(samples[0]["value"], 6.0);
    assert_eq!(samples[199]["value"], 205.0);
}

#[test]
fn a_workflow_graph_names_the_step_each_node_runs_as() {
    let project = Project::new("dashboard_graph").file("flow.wf", FLOW);
    let server = Server::start(&project, &[]);
    let (status, graph) = server.http("GET", "/workflows/twice/graph", None, None);
    assert_eq!(status, 200, "{graph}");
    let nodes = graph["nodes"].as_array().unwrap();
    let step_of = |label: &str| {
        nodes
            .iter()
            .find(|n| n["label"] == label)
            .map(|n| n["step"].clone())
            .unwrap_or_else(|| panic!("no node {label} in {graph}"))
    };
    assert_eq!(step_of("a = double"), "a");
    // Inside the loop, as the runtime records `xs[0].b` with the index left out.
    assert_eq!(step_of("b = double"), "xs[].b");
    assert_eq!(step_of("go\nmanual"), Value::Null);
    let edges = graph["edges"].as_array().unwrap();
    assert!(
        edges
            .iter()
            .any(|e| e["label"] == "next" && e["dashed"] == true),
        "{graph}"
    );
    let (status, body) = server.http("GET", "/workflows/nope/graph", None, None);
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("`nope`"), "{body}");
}
