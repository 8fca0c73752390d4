//! wfc's benchmarks, each figure beside a baseline measured in the same run:
//!
//!     cargo bench --bench wfc                  # the full suite (a few minutes)
//!     WFC_BENCH_SMOKE=1 cargo bench --bench wfc   # seconds: small sizes
//!     WFC_BENCH_ONLY=2,3 WFC_BENCH_CONCURRENCY=1,8 cargo bench --bench wfc
//!
//! 1. check throughput against a bare pest parse of the same bytes;
//! 2. durable steps (compute chain, every step persisted) against raw rusqlite
//!    inserts, one row per transaction, same pragmas;
//! 3. subprocess steps against raw tokio::process spawn-and-wait of the same program;
//! 4. 10,000 executions waiting at once: time and peak memory (in a fresh process);
//! 5. `wfc check examples/enterprise.wf` as a process, against starting `true`;
//! 6. peak memory of `wfc check` on large files, against the file's size;
//! 7. scale-out: events and durable steps per second through 1, 2 and 4 `wfc
//!    serve` workers on PostgreSQL, against one on SQLite (needs
//!    `WFC_BENCH_POSTGRES`, a URL whose user may create databases);
//! 8. event to start: an event recorded by another process and one posted over
//!    HTTP, on SQLite (and PostgreSQL with `WFC_BENCH_POSTGRES`);
//! 9. `parallel for` over 1,000 and 10,000 sub-workflows: time and peak memory,
//!    against as many executions started at once (fresh processes).

use futures::stream::{self, StreamExt};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wfc::runtime::{Engine, Origin, Silent};
use wfc::store::{Outcome, Store};

fn smoke() -> bool {
    std::env::var_os("WFC_BENCH_SMOKE").is_some()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--many-executions") {
        let count: usize = args[i + 1].parse().unwrap();
        many_executions(count, args.iter().any(|a| a == "--row-label"));
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--fan-out") {
        fan_out(args[i + 1].parse().unwrap());
        return;
    }
    let scratch = std::env::temp_dir().join(format!("wfc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    println!("# wfc benchmarks");
    println!(
        "machine: {} cores, {}, {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::env::consts::ARCH,
        cpu_model()
    );
    let only = std::env::var("WFC_BENCH_ONLY").ok();
    let wanted = |n: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == n));
    if wanted("1") {
        check_throughput();
    }
    if wanted("2") {
        durable_steps(&scratch);
    }
    if wanted("3") {
        subprocess_steps(&scratch);
    }
    if wanted("4") {
        many_executions_in_child();
    }
    if wanted("5") {
        check_as_a_process();
    }
    if wanted("6") {
        check_memory(&scratch);
    }
    if wanted("7") {
        scale_out(&scratch);
    }
    if wanted("8") {
        event_to_start(&scratch);
    }
    if wanted("9") {
        fan_out_in_child();
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// The best of `runs` timings of `work`.
fn best<T>(runs: usize, mut work: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let result = work();
        best = best.min(started.elapsed());
        last = Some(result);
    }
    (best, last.unwrap())
}

/// About `bytes` of `.wf` text: renamed copies of the enterprise example and its
/// policies (agents, chains, parallel blocks, sub-workflows, goals), one namespace.
fn generate(bytes: usize) -> String {
    let policies = std::fs::read_to_string(examples().join("lib/policies.wf")).unwrap();
    let body = std::fs::read_to_string(examples().join("enterprise.wf")).unwrap();
    let body: String = body
        .lines()
        .filter(|l| !l.starts_with("import") && !l.starts_with("timezone"))
        .map(|l| format!("{l}\n"))
        .collect();
    let unit = policies + &body;
    let loaded = wfc::loader::load_text("unit.wf", &unit);
    let mut names: HashSet<String> = HashSet::new();
    for (_, file) in &loaded.files {
        for item in &file.items {
            use wfc::ast::Item;
            match item {
                Item::Agent(a) => {
                    names.insert(a.name.name.clone());
                    names.extend(a.skills.iter().map(|s| s.name.clone()));
                }
                Item::Trigger(t) => drop(names.insert(t.name.name.clone())),
                Item::Workflow(w) => {
                    names.insert(w.name.name.clone());
                    names.extend(w.records.iter().map(|r| r.metric.value.clone()));
                }
                Item::Retry(r) => drop(names.insert(r.name.name.clone())),
                Item::Breaker(b) => drop(names.insert(b.name.name.clone())),
                Item::Goal(_) => {}
                _ => {}
            }
        }
    }
    for goal in ["annual_revenue", "monthly_revenue", "lead_pipeline_value"] {
        names.insert(goal.to_string());
    }
    let mut out = String::from("timezone \"UTC\"\n");
    let mut copy = 0;
    while out.len() < bytes {
        rename(&unit, &names, copy, &mut out);
        copy += 1;
    }
    out
}

/// Appends `text` with every identifier in `names` suffixed by `_{copy}`.
fn rename(text: &str, names: &HashSet<String>, copy: usize, out: &mut String) {
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if names.contains(word.as_str()) {
            out.push_str(&format!("{word}_{copy}"));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, out);
            out.push(c);
        }
    }
    flush(&mut word, out);
}

fn check_throughput() {
    println!("\n## 1. check throughput (parse + lower + check) vs bare pest parse");
    println!("| size | bare pest parse | wfc check | ratio (check time / parse time) |");
    println!("|---|---|---|---|");
    let sizes: &[usize] = if smoke() { &[1] } else { &[1, 2, 4, 8] };
    for mb in sizes {
        let text = generate(mb * 1024 * 1024);
        let megabytes = text.len() as f64 / (1024.0 * 1024.0);
        let (parse, pairs) = best(3, || wfc::syntax::walk_pairs(&text));
        assert!(pairs.is_some(), "the generated file parses");
        let (check, errors) = best(3, || wfc::check_text("big.wf", &text).1.has_errors());
        assert!(!errors, "the generated file checks clean");
        println!(
            "| {megabytes:.1} MB | {:.1} MB/s | {:.1} MB/s | {:.2}× |",
            megabytes / parse.as_secs_f64(),
            megabytes / check.as_secs_f64(),
            check.as_secs_f64() / parse.as_secs_f64()
        );
    }
}

/// Peak RSS of `wfc check` processes on generated files, as a multiple of the size.
fn check_memory(scratch: &Path) {
    println!("\n## 6. peak memory of `wfc check` (a process) against the file size");
    println!("| size | peak RSS | ratio (RSS / size) |");
    println!("|---|---|---|");
    let sizes: &[usize] = if smoke() { &[1] } else { &[2, 4, 8, 15] };
    for mb in sizes {
        let text = generate(mb * 1024 * 1024);
        let path = scratch.join(format!("big-{mb}.wf"));
        std::fs::write(&path, &text).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wfc"))
            .arg("check")
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // The child's own high-water mark, read until it exits. (getrusage would
        // count this process's peak too: a spawned child inherits it at exec.)
        let status_file = format!("/proc/{}/status", child.id());
        let mut peak_kib = 0.0;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if let Ok(text) = std::fs::read_to_string(&status_file) {
                if let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:")) {
                    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
                    peak_kib = f64::max(peak_kib, kib);
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        assert!(status.success(), "the generated file checks clean");
        let megabytes = text.len() as f64 / (1024.0 * 1024.0);
        println!(
            "| {megabytes:.1} MB | {:.0} MiB | {:.1}× |",
            peak_kib / 1024.0,
            peak_kib / 1024.0 / megabytes
        );
    }
}

/// Mean µs per row: ~200-byte rows, one autocommit insert each, the store's pragmas.
fn raw_inserts(path: &Path, rows: usize) -> f64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")
        .unwrap();
    let payload = "x".repeat(200);
    let mut insert = conn.prepare("INSERT INTO t (payload) VALUES (?1)").unwrap();
    let started = Instant::now();
    for _ in 0..rows {
        insert.execute([&payload]).unwrap();
    }
    started.elapsed().as_secs_f64() * 1e6 / rows as f64
}

fn engine_for(text: &str, db: &Path) -> Engine {
    let (loaded, checked) = wfc::check_text("bench.wf", text);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    Engine::new(
        checked.program.expect("the text checks"),
        loaded.sources,
        Path::new("bench.wf"),
        Store::open(db).unwrap(),
        Arc::new(Silent),
        wfc::clock::Clock::system(),
    )
}

/// Runs `executions` of `workflow` `concurrency` at a time; returns the wall time.
fn run_many(engine: &Engine, workflow: &str, executions: usize, concurrency: usize) -> Duration {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        let runs = stream::iter(0..executions).map(|_| {
            let origin = Origin {
                trigger: Some(wfc::store::StartedBy::Trigger("bench")),
                ..Origin::default()
            };
            engine.run(workflow, serde_json::json!({ "n": 0 }), origin)
        });
        let results: Vec<_> = runs.buffer_unordered(concurrency).collect().await;
        for result in results {
            let execution = result.unwrap();
            assert!(
                matches!(execution.outcome, Outcome::Completed(_)),
                "{execution:?}"
            );
        }
    });
    started.elapsed()
}

fn durable_steps(scratch: &Path) {
    println!("\n## 2. durable steps: a chain of compute agents, every step persisted");
    let steps = 50;
    let mut text = String::from("trigger go { manual }\n");
    for i in 0..steps {
        text.push_str(&format!(
            "agent a{i} {{ input {{ n: number }} output {{ n: number }} compute {{ n: input.n + 1 }} }}\n"
        ));
    }
    let chain: Vec<String> = (0..steps).map(|i| format!("a{i}")).collect();
    text.push_str(&format!(
        "workflow w {{ on go chain {} }}\n",
        chain.join(" -> ")
    ));
    let executions = if smoke() { 8 } else { 128 };
    let total = steps * executions;
    let raw = raw_inserts(&scratch.join("raw.db"), total);
    println!(
        "raw rusqlite, one ~200-byte row per transaction: {:.0} rows/s ({raw:.1} µs/row)",
        1e6 / raw
    );
    println!("| concurrency | steps/s | µs/step | ratio to raw rows/s | commits shared by several writes |");
    println!("|---|---|---|---|---|");
    for concurrency in concurrencies() {
        let db = scratch.join(format!("steps-{concurrency}.db"));
        let engine = engine_for(&text, &db);
        let elapsed = run_many(&engine, "w", executions, concurrency);
        let per_step = elapsed.as_secs_f64() * 1e6 / total as f64;
        println!(
            "| {concurrency} | {:.0} | {per_step:.1} | {:.2}× | {} |",
            1e6 / per_step,
            raw / per_step,
            engine.shared_commits()
        );
    }
}

fn subprocess_steps(scratch: &Path) {
    println!("\n## 3. subprocess steps: `cat` as an agent vs raw tokio::process");
    let calls = if smoke() { 20 } else { 300 };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let input = serde_json::json!({ "n": 0 }).to_string();
    let raw = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let started = Instant::now();
        for _ in 0..calls {
            let mut child = tokio::process::Command::new("cat")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).await.unwrap();
            drop(stdin);
            let mut out = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .await
                .unwrap();
            child.wait().await.unwrap();
        }
        started.elapsed()
    });
    let text = "agent echo { input { n: number } output { n: number } run [\"cat\"] }\n\
                trigger go { manual }\nworkflow w { on go chain echo }\n";
    let engine = engine_for(text, &scratch.join("subprocess.db"));
    let elapsed = run_many(&engine, "w", calls, 1);
    let (raw_rate, wfc_rate) = (
        calls as f64 / raw.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64(),
    );
    println!("| | calls/s | ms/call |");
    println!("|---|---|---|");
    println!(
        "| raw spawn, write, read, wait | {raw_rate:.0} | {:.2} |",
        1000.0 / raw_rate
    );
    println!(
        "| wfc step (one execution each) | {wfc_rate:.0} | {:.2} |",
        1000.0 / wfc_rate
    );
    println!("ratio: {:.2}× of raw", wfc_rate / raw_rate);
}

fn many_executions_in_child() {
    println!("\n## 4. many executions waiting at once (fresh process)");
    let count = if smoke() { 500 } else { 10_000 };
    println!("| executions | wall time (each waits 200 ms) | peak RSS | RSS before |");
    println!("|---|---|---|---|");
    print!("{}", in_child(&["--many-executions", &count.to_string()]));
}

/// What this benchmark prints when run again with `args`, in a fresh process
/// (so that its peak memory is its own).
fn in_child(args: &[&str]) -> String {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
        .output()
        .unwrap();
    let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        printed += &format!("failed: {}\n", String::from_utf8_lossy(&output.stderr));
    }
    printed
}

fn fan_out_in_child() {
    println!("\n## 9. `parallel for` over sub-workflows (fresh processes)");
    println!("one parent whose `parallel for` over its input's N items starts N child executions, against N executions started at once; each waits 200 ms, then one compute step");
    println!("| N | started as | wall time | peak RSS | RSS before |");
    println!("|---|---|---|---|---|");
    let sizes: &[usize] = if smoke() {
        &[200, 1000]
    } else {
        &[1000, 10_000]
    };
    for count in sizes {
        let count = count.to_string();
        print!("{}", in_child(&["--fan-out", &count]));
        print!(
            "{}",
            in_child(&["--many-executions", &count, "--row-label"])
        );
    }
}

const FAN_OUT: &str =
    "agent done { input { n: number } output { n: number } compute { n: input.n + 1 } }\n\
     workflow child { input { n: number } steps { wait 200ms  r = done(input) } output r }\n\
     workflow fan { input { items: [number] }\n\
       steps { all = parallel for i in input.items { r = workflow child({ n: i }) } } }\n";

/// One execution fanning out to `count` sub-workflows.
fn fan_out(count: usize) {
    let scratch = std::env::temp_dir().join(format!("wfc-bench-fan-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let engine = engine_for(FAN_OUT, &scratch.join("fan.db"));
    let before = peak_rss_mib();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let input = serde_json::json!({ "items": (0..count).collect::<Vec<_>>() });
    let execution = runtime
        .block_on(engine.run("fan", input, Origin::default()))
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        matches!(execution.outcome, Outcome::Completed(_)),
        "{execution:?}"
    );
    let after = peak_rss_mib();
    println!(
        "| {count} | children of one `parallel for` | {:.2} s | {after:.0} MiB | {before:.0} MiB |",
        elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// `count` executions at once, each waiting 200ms then computing one step; a
/// row of §4's table, or with `row_label` of §9's.
fn many_executions(count: usize, row_label: bool) {
    let scratch = std::env::temp_dir().join(format!("wfc-bench-many-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let text =
        "agent done { input { n: number } output { n: number } compute { n: input.n + 1 } }\n\
                trigger go { manual }\n\
                workflow w { on go input { n: number } steps { wait 200ms  r = done(input) } }\n";
    let engine = engine_for(text, &scratch.join("many.db"));
    let before = peak_rss_mib();
    let elapsed = run_many(&engine, "w", count, count);
    let after = peak_rss_mib();
    let label = if row_label {
        " executions started at once |"
    } else {
        ""
    };
    println!(
        "| {count} |{label} {:.2} s | {after:.0} MiB | {before:.0} MiB |",
        elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

fn check_as_a_process() {
    println!("\n## 5. `wfc check examples/enterprise.wf` as a process");
    let runs = if smoke() { 3 } else { 30 };
    let wfc = env!("CARGO_BIN_EXE_wfc");
    let example = examples().join("enterprise.wf");
    let time = |program: &str, args: &[&Path]| {
        let started = Instant::now();
        for _ in 0..runs {
            let status = std::process::Command::new(program)
                .args(args)
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        }
        started.elapsed().as_secs_f64() * 1000.0 / runs as f64
    };
    let baseline = time("true", &[]);
    let check = time(wfc, &[Path::new("check"), &example]);
    println!("| | ms per run |");
    println!("|---|---|");
    println!("| `true` (process start) | {baseline:.2} |");
    println!("| `wfc check examples/enterprise.wf` | {check:.2} |");
}

fn concurrencies() -> Vec<usize> {
    match std::env::var("WFC_BENCH_CONCURRENCY") {
        Ok(list) => list.split(',').filter_map(|n| n.parse().ok()).collect(),
        Err(_) => vec![1, 8, 64],
    }
}

/// A chain of 10 compute steps started by each `lead.created` event.
const SCALE_FLOW: &str = "trigger leads { on event \"lead.created\" }\n\
agent inc { input { n: number } output { n: number } compute { n: input.n + 1 } }\n\
workflow w { on leads chain inc -> inc -> inc -> inc -> inc -> inc -> inc -> inc -> inc -> inc }\n";

fn scale_out(scratch: &Path) {
    println!("\n## 7. scale-out: `wfc serve` workers sharing one store");
    let Some(server) = std::env::var("WFC_BENCH_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!(
            "skipped: set WFC_BENCH_POSTGRES to a PostgreSQL URL whose user may create databases"
        );
        return;
    };
    std::fs::write(scratch.join("flow.wf"), SCALE_FLOW).unwrap();
    let events = if smoke() { 200 } else { 2000 };
    println!("{events} events, each starting a chain of 10 compute steps (11 attempts rows, 2 execution writes)");
    println!("| store | workers | events/s | durable steps/s | ratio to 1 SQLite process |");
    println!("|---|---|---|---|---|");
    let sqlite = scratch.join("scale.db");
    let baseline = scale_run(scratch, &wfc::store::Location::File(sqlite), 1, events);
    println!(
        "| SQLite | 1 | {baseline:.0} | {:.0} | 1.00× |",
        baseline * 10.0
    );
    for workers in [1, 2, 4] {
        let db = create_database(&server, &format!("wfc_bench_{workers}"));
        let rate = scale_run(
            scratch,
            &wfc::store::Location::Postgres(db),
            workers,
            events,
        );
        println!(
            "| PostgreSQL | {workers} | {rate:.0} | {:.0} | {:.2}× |",
            rate * 10.0,
            rate / baseline
        );
    }
}

/// How an event reaches the workers in [`latency`].
#[derive(Clone, Copy, PartialEq)]
enum Sent {
    /// Recorded in the store by another process (as `wfc emit` does).
    Store,
    /// Posted to a worker's own HTTP API.
    Http,
}

fn event_to_start(scratch: &Path) {
    println!("\n## 8. event to start");
    println!("one event at a time to idle workers, spread over the 200 ms tick; from the event's row to its execution's");
    println!("| store | event | workers | p50 | p95 |");
    println!("|---|---|---|---|---|");
    std::fs::write(scratch.join("flow.wf"), SCALE_FLOW).unwrap();
    for (sent, label) in [(Sent::Store, "another process"), (Sent::Http, "HTTP")] {
        let sqlite = scratch.join(format!("latency-{label}.db").replace(' ', "-"));
        let (p50, p95) = latency(scratch, &wfc::store::Location::File(sqlite), 1, sent);
        println!("| SQLite | {label} | 1 | {p50:.0} ms | {p95:.0} ms |");
    }
    let Some(server) = std::env::var("WFC_BENCH_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("(PostgreSQL rows skipped: set WFC_BENCH_POSTGRES)");
        return;
    };
    for (sent, label) in [(Sent::Store, "another process"), (Sent::Http, "HTTP")] {
        let db = create_database(&server, "wfc_bench_latency");
        let (p50, p95) = latency(scratch, &wfc::store::Location::Postgres(db), 2, sent);
        println!("| PostgreSQL | {label} | 2 | {p50:.0} ms | {p95:.0} ms |");
    }
}

/// A fresh, empty database on `server`; its URL.
fn create_database(server: &str, name: &str) -> String {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
    });
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(name);
    url.to_string()
}

/// `count` workers serving the scale flow on `db`, stopped when dropped.
struct Workers(Vec<std::process::Child>);

impl Workers {
    fn start(scratch: &Path, db: &wfc::store::Location, count: usize) -> Workers {
        Workers::start_listening(scratch, db, count, None)
    }

    /// `count` workers; the first serves HTTP on `port` when one is given.
    fn start_listening(
        scratch: &Path,
        db: &wfc::store::Location,
        count: usize,
        port: Option<u16>,
    ) -> Workers {
        let db_arg = match db {
            wfc::store::Location::File(path) => path.to_string_lossy().into_owned(),
            wfc::store::Location::Postgres(url) => url.clone(),
        };
        // Migrated before the workers race to it.
        drop(Store::open(db).unwrap());
        let children = (0..count)
            .map(|n| {
                let role = match port {
                    Some(port) if n == 0 => {
                        vec!["--listen".to_string(), format!("127.0.0.1:{port}")]
                    }
                    _ => vec!["--worker-only".to_string()],
                };
                std::process::Command::new(env!("CARGO_BIN_EXE_wfc"))
                    .args(["serve", "flow.wf", "--db", &db_arg])
                    .args(&role)
                    .current_dir(scratch)
                    .env("WFC_HOST", format!("bench-{n}"))
                    .env("WFC_LOG", "error")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let store = Store::open(db).unwrap();
        let started = Instant::now();
        while store.workers().unwrap().len() < count {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "workers did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Workers(children)
    }
}

/// A loopback port free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// POSTs `body` to `path` on a local server, retrying while it starts listening.
fn post(port: u16, path: &str, body: &str) {
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut stream = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(error) => panic!("the server does not listen: {error}"),
        }
    };
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");
}

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn completed(store: &Store) -> usize {
    let filter = wfc::store::HistoryFilter {
        status: Some(wfc::store::ExecutionStatus::Completed),
        summary: true,
        ..Default::default()
    };
    store.executions(&filter).unwrap().len()
}

/// Events per second from the first event recorded to the last execution done.
fn scale_run(scratch: &Path, db: &wfc::store::Location, workers: usize, events: usize) -> f64 {
    let _workers = Workers::start(scratch, db, workers);
    let store = Store::open(db).unwrap();
    let started = Instant::now();
    for n in 0..events {
        store
            .record_event("lead.created", &serde_json::json!({ "n": n }), None)
            .unwrap();
    }
    while completed(&store) < events {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the workers stalled"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    events as f64 / started.elapsed().as_secs_f64()
}

/// p50 and p95 milliseconds from an event's row to its execution's start.
fn latency(scratch: &Path, db: &wfc::store::Location, workers: usize, sent: Sent) -> (f64, f64) {
    let port = (sent == Sent::Http).then(free_port);
    let _workers = Workers::start_listening(scratch, db, workers, port);
    let store = Store::open(db).unwrap();
    let samples = if smoke() { 20 } else { 100 };
    for n in 0..samples {
        let payload = serde_json::json!({ "n": n });
        match port {
            None => {
                store.record_event("lead.created", &payload, None).unwrap();
            }
            Some(port) => post(port, "/events/lead.created", &payload.to_string()),
        }
        let started = Instant::now();
        while completed(&store) <= n {
            assert!(started.elapsed() < Duration::from_secs(30), "no start");
            std::thread::sleep(Duration::from_millis(2));
        }
        // Spread the events over the polling interval (37 is prime to 200).
        std::thread::sleep(Duration::from_millis((n as u64 * 37) % 200));
    }
    let emitted: std::collections::HashMap<i64, String> = store
        .events(None)
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.emitted_at))
        .collect();
    let mut waits: Vec<f64> = store
        .executions(&wfc::store::HistoryFilter::default())
        .unwrap()
        .iter()
        .filter_map(|e| {
            let event: i64 = e.input["n"].as_i64()? + 1;
            let at = wfc::store::parse_timestamp(emitted.get(&event)?)?;
            let start = wfc::store::parse_timestamp(&e.started_at)?;
            Some((start - at).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    waits.sort_by(f64::total_cmp);
    let at = |q: f64| waits[((waits.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95))
}
