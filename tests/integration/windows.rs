//! Figures over a window read only that window (and what still runs), so a
//! year's history never makes them slow: old executions drop out of `wfc
//! stats` and `GET /failures`, running ones stay in.

use crate::server::Server;
use crate::support::Project;
use serde_json::Value;

const FLOW: &str = r#"
agent ok { output { n: number } compute { n: 1 } }
agent bad { output { n: number } run ["sh", "-c", "exit 3"] }
trigger go { manual }
workflow good { on go steps { r = ok({}) } output r }
workflow broken { on go steps { r = bad({}) } output r }
"#;

#[test]
fn stats_and_failures_cover_their_window_and_what_still_runs() {
    let project = Project::new("windows").file("flow.wf", FLOW);
    for (workflow, code) in [("good", 0), ("good", 0), ("broken", 1), ("broken", 1)] {
        project
            .wfc(["run", "flow.wf", "--workflow", workflow])
            .expect_code(code);
    }
    // One of each is a month old; one old `good` is still running (a crashed server's).
    let old = "2026-01-01T00:00:00.000Z";
    let sql = format!(
        "UPDATE executions SET started_at = '{old}', finished_at = '{old}'
           WHERE id IN (SELECT MIN(id) FROM executions GROUP BY workflow);
         UPDATE step_attempts SET started_at = '{old}'
           WHERE execution_id IN (SELECT id FROM executions WHERE started_at = '{old}');
         UPDATE executions SET status = 'running', finished_at = NULL
           WHERE workflow = 'good' AND started_at = '{old}';"
    );
    project.tamper(&sql, &sql);
    let stats: Value = project.json(["stats", "--since", "1d", "--format", "json"]);
    let runs = |workflow: &str| {
        stats["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["workflow"] == workflow)
            .map(|w| {
                (
                    w["executions"].as_u64().unwrap(),
                    w["running"].as_u64().unwrap(),
                )
            })
    };
    assert_eq!(
        runs("good"),
        Some((2, 1)),
        "the recent one and the running one: {stats}"
    );
    assert_eq!(runs("broken"), Some((1, 0)), "only the recent one: {stats}");
    let server = Server::start(&project, &[]);
    let (status, failures) = server.http("GET", "/failures?since=1d", None, None);
    assert_eq!(status, 200);
    assert_eq!(failures["failures"][0]["count"], 1, "{failures}");
    let (_, all) = server.http("GET", "/failures?since=3650d", None, None);
    assert_eq!(all["failures"][0]["count"], 2, "{all}");
    let (status, refused) = server.http("GET", "/failures?since=soon", None, None);
    assert_eq!(status, 400, "{refused}");
    server.stop();
}
