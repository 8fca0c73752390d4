//! Alerts evaluated by real `wfc serve` processes: once per episode whichever of
//! two servers sees the condition, closed when it stops holding, fired again on
//! the next episode; a webhook that fails first is called again; a goal's
//! status fires too.

use crate::http_agents::Hits;
use crate::server::Server;
use crate::support::{wait_for, Project};
use serde_json::{json, Value};
use std::time::Duration;

fn hits(hits: &Hits, key: &str) -> u32 {
    hits.lock().unwrap().get(key).copied().unwrap_or(0)
}

fn events(project: &Project, name: &str) -> Vec<wfc::store::EventRow> {
    let store = project.store();
    let all = store.events(None).unwrap();
    all.into_iter().filter(|e| e.name == name).collect()
}

fn alerts(server: &Server) -> Value {
    let (status, body) = server.http("GET", "/alerts", None, None);
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn an_alert_fires_once_per_episode_across_two_servers_and_again_after_it_resolves() {
    let (base, hook_hits) = crate::http_agents::serve();
    let flow = format!(
        r#"
agent broken {{ output {{ ok: bool }} run ["sh", "-c", "exit 3"] }}
trigger go {{ manual }}
trigger failing {{ on event "alert.failing" }}
agent noop {{ compute {{ ok: true }} }}
workflow fails {{ on go steps {{ r = broken({{}}) }} output r }}
workflow page {{ on failing chain noop }}
alert failing {{
  when failures(fails) >= 2 within 5s
  notify webhook "{base}/hook/failing"
  emit "alert.failing"
}}
"#
    );
    let project = Project::new("alerts_episode").file("flow.wf", &flow);
    let first = Server::start(&project, &[]);
    let second = Server::start(&project, &[]);
    first.run_to_end("fails", &json!({}));
    // One failure is not yet two: nothing fires.
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(hits(&hook_hits, "hook/failing"), 0);
    assert_eq!(alerts(&first)["alerts"][0]["holds"], false);
    second.run_to_end("fails", &json!({}));
    wait_for(Duration::from_secs(5), || {
        hits(&hook_hits, "hook/failing") == 1
    });
    // Both servers evaluate every second while it holds; neither fires again.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(hits(&hook_hits, "hook/failing"), 1);
    let listed = alerts(&second);
    let alert = &listed["alerts"][0];
    assert_eq!(alert["condition"], "failures(fails) >= 2 within 5s");
    assert_eq!(alert["value"], 2.0, "{listed}");
    assert_eq!(
        alert["firing"]["delivery"], "delivered (HTTP 200)",
        "{listed}"
    );
    // Only the webhook's origin is shown: its path may hold a secret.
    assert_eq!(alert["webhook"], base.as_str());
    // The event was emitted once and started its workflow once.
    let emitted = events(&project, "alert.failing");
    assert_eq!(emitted.len(), 1, "{emitted:?}");
    assert_eq!(emitted[0].payload["value"], 2.0);
    wait_for(Duration::from_secs(3), || {
        events(&project, "alert.failing")[0].started.len() == 1
    });
    // The failures leave the 5 s window: the episode closes by itself.
    wait_for(Duration::from_secs(8), || {
        alerts(&first)["alerts"][0]["firing"].is_null()
    });
    let listed = alerts(&first);
    assert!(listed["episodes"][0]["ended_at"].is_string(), "{listed}");
    // A new episode fires again, once.
    first.run_to_end("fails", &json!({}));
    first.run_to_end("fails", &json!({}));
    wait_for(Duration::from_secs(5), || {
        hits(&hook_hits, "hook/failing") == 2
    });
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(hits(&hook_hits, "hook/failing"), 2);
    assert_eq!(alerts(&first)["episodes"].as_array().unwrap().len(), 2);
    assert_eq!(events(&project, "alert.failing").len(), 2);
}

#[test]
fn a_failing_webhook_is_called_again_and_a_goal_status_fires_an_alert() {
    let (base, hook_hits) = crate::http_agents::serve();
    let flow = format!(
        r#"
metric sales {{ unit "EUR" }}
goal revenue {{ kpi sum(sales) >= 10 }}
alert revenue_reached {{ when goal revenue is achieved notify webhook "{base}/flaky/goal" }}
"#
    );
    let project = Project::new("alerts_goal").file("flow.wf", &flow);
    let server = Server::start(&project, &[]);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(alerts(&server)["alerts"][0]["holds"], false);
    let (status, body) = server.http(
        "POST",
        "/metrics/sales",
        Some(&json!({ "value": 12 }).to_string()),
        None,
    );
    assert_eq!(status, 201, "{body}");
    // The first call answers 500; the second, half a second later, is taken.
    wait_for(Duration::from_secs(6), || {
        alerts(&server)["alerts"][0]["firing"]["delivery"] == "delivered (HTTP 200)"
    });
    assert_eq!(hits(&hook_hits, "flaky/goal"), 2);
}
