//! Per-step overhead of the interpreter, against a baseline measured in the same run:
//! a bare SQLite insert per row into a file database with the store's pragmas.
//!
//!     cargo bench --bench run_overhead
//!
//! A chain of compute agents does no work of its own, so its time per step is what wfc
//! adds: evaluating the input, validating shapes, scheduling, and recording the attempt
//! (two writes) in the store.

use std::sync::Arc;
use std::time::Instant;
use wfc::runtime::{Engine, Origin, Silent};
use wfc::store::Store;

const STEPS: usize = 50;
const RUNS: usize = 40;

fn main() {
    let dir = std::env::temp_dir().join(format!("wfc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let baseline = bare_inserts(&dir.join("baseline.db"), STEPS * RUNS);
    let per_step = chain_steps(&dir.join("wfc.db"));
    let _ = std::fs::remove_dir_all(&dir);

    println!("machine: {} cores; {}", cores(), std::env::consts::ARCH);
    println!(
        "bare SQLite insert (WAL, synchronous=NORMAL, one autocommit row): {:>8.1} µs",
        baseline
    );
    println!(
        "wfc step in a chain of {STEPS} compute agents ({RUNS} runs):           {:>8.1} µs",
        per_step
    );
    println!(
        "ratio: one wfc step costs {:.1} bare inserts",
        per_step / baseline
    );
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Mean µs per autocommit insert.
fn bare_inserts(path: &std::path::Path, rows: usize) -> f64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, step TEXT, input TEXT, started_at TEXT)",
    )
    .unwrap();
    let started = Instant::now();
    for i in 0..rows {
        conn.execute(
            "INSERT INTO t (step, input, started_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![format!("a{i}"), r#"{"n": 1}"#, "2026-11-25T00:00:00.000Z"],
        )
        .unwrap();
    }
    started.elapsed().as_secs_f64() * 1e6 / rows as f64
}

/// Mean µs per step of a chain of compute agents, end to end through the engine.
fn chain_steps(db: &std::path::Path) -> f64 {
    let mut text = String::from("trigger go { manual }\n");
    for i in 0..STEPS {
        text.push_str(&format!(
            "agent a{i} {{ input {{ n: number }} output {{ n: number }} compute {{ n: input.n + 1 }} }}\n"
        ));
    }
    let chain: Vec<String> = (0..STEPS).map(|i| format!("a{i}")).collect();
    text.push_str(&format!(
        "workflow w {{ on go chain {} }}\n",
        chain.join(" -> ")
    ));
    let (loaded, checked) = wfc::check_text("bench.wf", &text);
    assert!(!checked.has_errors());
    let engine = Engine::new(
        checked.program,
        loaded.sources,
        std::path::Path::new("bench.wf"),
        Store::open(db).unwrap(),
        Arc::new(Silent),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        for _ in 0..RUNS {
            let origin = Origin {
                trigger: Some("bench"),
                ..Origin::default()
            };
            let execution = engine
                .run("w", serde_json::json!({ "n": 0 }), origin)
                .await
                .unwrap();
            assert!(matches!(
                execution.outcome,
                wfc::store::Outcome::Completed(_)
            ));
        }
    });
    started.elapsed().as_secs_f64() * 1e6 / (STEPS * RUNS) as f64
}
