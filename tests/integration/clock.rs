//! The engine on a manual clock: durable waits and retry delays take the clock's
//! time, not the machine's, and the rows record the clock's time.

use crate::support::scratch;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use wfc::clock::ManualClock;
use wfc::runtime::{Engine, Origin, Silent};
use wfc::store::{Outcome, Store};

const FLOW: &str = r#"
retry hourly { attempts 3 backoff constant 1h }
agent flaky {
  run ["sh", "-c", "if [ \"$WFC_ATTEMPT\" -ge 3 ]; then echo '{\"ok\": true}'; else exit 1; fi"]
  retry hourly
}
workflow w {
  steps {
    wait 2h
    r = flaky({})
  }
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_and_retry_delays_pass_on_the_engine_clock() {
    let dir = scratch("manual-clock");
    let (loaded, checked) = wfc::check_text("flow.wf", FLOW);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let start = wfc::store::parse_timestamp("2026-11-25T08:00:00Z").unwrap();
    let manual = ManualClock::new(start);
    let db = dir.join("wfc.db");
    let engine = Arc::new(Engine::new(
        checked.program.expect("the text checks"),
        loaded.sources,
        &dir.join("flow.wf"),
        Store::open(&db).unwrap(),
        Arc::new(Silent),
        manual.clock(),
    ));
    let run = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run("w", json!({}), Origin::default()).await }
    });
    // Time moves only while the execution sleeps on the clock, half an hour a
    // step: a sleeper wakes exactly at its deadline.
    for _ in 0..10_000 {
        if run.is_finished() {
            break;
        }
        if manual.sleepers() > 0 {
            manual.advance(Duration::from_secs(30 * 60));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(run.is_finished(), "the execution did not end");
    let execution = run.await.unwrap().unwrap();
    assert_eq!(
        execution.outcome,
        Outcome::Completed(json!({ "r": { "ok": true } }))
    );
    // Two hours of waiting and two one-hour delays, on the clock.
    assert_eq!(manual.now(), start + chrono::Duration::hours(4));
    let store = Store::open_read_only(&db).unwrap();
    let row = store.execution(&execution.id).unwrap();
    assert_eq!(row.started_at, "2026-11-25T08:00:00.000Z");
    assert_eq!(row.finished_at.as_deref(), Some("2026-11-25T12:00:00.000Z"));
    let attempts = store.attempts(&execution.id).unwrap();
    let wait = &attempts[0];
    assert_eq!(
        wait.input,
        Some(json!({ "until": "2026-11-25T10:00:00.000Z" }))
    );
    assert_eq!(wait.duration_ms, Some(2.0 * 3_600_000.0));
    let delays: Vec<Option<f64>> = attempts[1..].iter().map(|a| a.delay_ms).collect();
    assert_eq!(delays, [None, Some(3_600_000.0), Some(3_600_000.0)]);
    let statuses: Vec<String> = attempts[1..].iter().map(|a| a.status.to_string()).collect();
    assert_eq!(statuses, ["failed", "failed", "completed"]);
}
