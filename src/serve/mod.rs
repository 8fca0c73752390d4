//! `wfc serve`: a long-running process that fires triggers by itself (cron slots,
//! events, metric crossings), resumes what a previous process left, answers an
//! HTTP API, and shuts down without losing work.

mod alerts;
mod analysis;
mod assignment;
mod connections;
pub mod dashboard;
mod dispatch;
mod editor;
mod guard;
mod http;
mod ingest;
pub mod prometheus;
mod reachability;
mod sessions;
mod stream;
mod waits;
mod workflows;

use crate::clock::Clock;
use crate::resume;
use crate::runtime::{Engine, RunError};
use crate::store::{Location, Store, StoreError};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How often the dispatcher looks for due slots, new events and new metric samples.
pub const TICK: Duration = Duration::from_millis(200);

pub struct Config {
    pub files: Vec<PathBuf>,
    pub db: Location,
    pub listen: SocketAddr,
    /// Required on every request but `/health` when set (a header or the
    /// dashboard's session); required to listen beyond loopback.
    pub token: Option<String>,
    /// Names besides addresses and `localhost` that requests may give as `Host`.
    pub allowed_hosts: Vec<String>,
    /// Re-check changed files and apply them when they are valid.
    pub watch: bool,
    /// How long running steps may take to finish on shutdown.
    pub grace: Duration,
    /// How long an HTTP client may take to send a request's headers, or leave a
    /// kept-alive connection idle.
    pub idle_timeout: Duration,
    /// How long this worker counts as alive after a heartbeat.
    pub lease: Duration,
    pub role: Role,
    /// Whether the dashboard may write the served files (`--edit`; a token
    /// is required then).
    pub edit: bool,
    /// Prune finished executions older than this once a day (`--retain`).
    pub retain: Option<Duration>,
    /// Whether a scraper may read `GET /metrics` without the token.
    pub metrics_public: bool,
}

/// What a server does: take work (fire triggers, take over the executions of
/// dead workers), serve the HTTP API and dashboard, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Both,
    WorkerOnly,
    NoWorker,
}

impl Role {
    pub fn works(self) -> bool {
        self != Role::NoWorker
    }

    pub fn serves_http(self) -> bool {
        self != Role::WorkerOnly
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to listen on {0} without a token: pass --token or set WFC_TOKEN")]
    TokenRequired(SocketAddr),
    #[error(
        "--edit lets the dashboard write .wf files, which can declare `run [...]` agents: \
         it needs a token too (--token or WFC_TOKEN)"
    )]
    EditWithoutToken,
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("`{path}` does not check:\n{diagnostics}")]
    Invalid { path: PathBuf, diagnostics: String },
    #[error("`{path}` cannot run here:\n{}", missing.join("\n"))]
    MissingSecrets { path: PathBuf, missing: Vec<String> },
    /// The load error names the file and why.
    #[error(transparent)]
    Unreadable(#[from] crate::loader::LoadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Clock(#[from] crate::clock::ClockFileError),
    #[error("cannot wait for signals: {0}")]
    Signals(std::io::Error),
    #[error("the trigger dispatcher failed ({0}); the server stopped so that it can be restarted")]
    Dispatcher(String),
}

/// One served file: its engine and the modification times it was loaded at.
pub struct Served {
    pub path: PathBuf,
    pub engine: Arc<Engine>,
    stamps: Vec<(PathBuf, Option<SystemTime>)>,
}

/// What the dispatcher and the HTTP handlers share.
pub struct State {
    pub served: RwLock<Vec<Served>>,
    pub db: Location,
    pub token: Option<String>,
    /// The time every engine and the dispatcher run on.
    pub clock: Clock,
    /// What `/stream` last saw of the store, shared by every open stream.
    pub looks: stream::Looks,
    pub role: Role,
    /// Wakes the dispatcher before its tick: an event or sample posted to this
    /// server, or announced by another process on PostgreSQL.
    pub wake: Arc<tokio::sync::Notify>,
    /// The dashboard's signed-in browsers and their sign-in attempts.
    pub sessions: sessions::Sessions,
    /// Whether the store answers, as the dispatcher last saw it.
    pub reachability: reachability::Reachability,
    /// Whether `PUT /files/…` may write the served files (`--edit`).
    pub edit: bool,
    /// Whether `GET /metrics` answers a scraper without the token.
    pub metrics_public: bool,
    /// Where posted events go: written in shared commits.
    pub ingest: ingest::Ingest,
}

impl State {
    /// Something that may decide an `await` happened here (an event posted, a
    /// decision given, another process's work announced): the dispatcher and
    /// every waiting step look now.
    pub fn announce(&self) {
        self.wake.notify_one();
        for engine in self.engines() {
            engine.announce();
        }
    }

    /// The engines now being served (a reload swaps them; runs hold their own).
    pub fn engines(&self) -> Vec<Arc<Engine>> {
        self.served
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|s| s.engine.clone())
            .collect()
    }
}

/// Loads, checks and builds an engine for one file.
pub fn load(path: &Path, db: &Location, clock: &Clock) -> Result<Served, ServeError> {
    let (loaded, checked) = crate::check_file(path)?;
    let Some(program) = checked.program else {
        let diagnostics = checked
            .diagnostics
            .iter()
            .map(|d| crate::diagnostic::render::report(d, &loaded.sources, false, 100))
            .collect();
        return Err(ServeError::Invalid {
            path: path.to_path_buf(),
            diagnostics,
        });
    };
    // What starts by itself must be able to run; a workflow only started by
    // hand or over HTTP is refused then, with the same message.
    let automatic = program
        .workflows()
        .iter()
        .filter(|w| {
            w.triggers.iter().any(|t| {
                !matches!(
                    program.trigger(*t).kind,
                    crate::program::TriggerKind::Manual
                )
            })
        })
        .map(|w| w.id);
    let missing = program.missing_secrets(automatic, |_| false, crate::secrets::is_set);
    if !missing.is_empty() {
        return Err(ServeError::MissingSecrets {
            path: path.to_path_buf(),
            missing,
        });
    }
    let store = Store::open(db)?;
    let engine = Engine::new(
        program,
        loaded.sources,
        path,
        store,
        prometheus::observed(),
        clock.clone(),
    )
    // The dispatcher announces what the store's watch hears (`State::announce`).
    .told_of_news();
    let stamps = stamps(&engine.source_paths());
    Ok(Served {
        path: path.to_path_buf(),
        engine: Arc::new(engine),
        stamps,
    })
}

fn stamps(paths: &[PathBuf]) -> Vec<(PathBuf, Option<SystemTime>)> {
    paths
        .iter()
        .map(|p| {
            (
                p.clone(),
                std::fs::metadata(p).and_then(|m| m.modified()).ok(),
            )
        })
        .collect()
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    if !config.listen.ip().is_loopback() && config.token.is_none() {
        return Err(ServeError::TokenRequired(config.listen));
    }
    if config.edit && config.token.is_none() {
        return Err(ServeError::EditWithoutToken);
    }
    raise_open_files_limit();
    // Before anything is announced: a SIGTERM from then on is a clean stop, not
    // the default action's kill.
    let signals = Signals::install()?;
    let clock = Clock::from_env()?;
    let mut served = Vec::new();
    for path in &config.files {
        served.push(load(path, &config.db, &clock)?);
    }
    // A file another served file imports runs through that one: served on its
    // own as well (a directory holding both), its triggers would fire twice.
    let imported: std::collections::HashSet<PathBuf> = served
        .iter()
        .flat_map(|entry| entry.engine.source_paths().into_iter().skip(1))
        .collect();
    served.retain(|entry| {
        let path = crate::loader::canonical(&entry.path);
        let through = imported.contains(&path);
        if through {
            tracing::info!(file = %entry.path.display(), "served through the file that imports it");
        }
        !through
    });
    let state = Arc::new(State {
        served: RwLock::new(served),
        db: config.db.clone(),
        token: config.token.clone(),
        clock,
        looks: stream::Looks::default(),
        role: config.role,
        wake: Arc::new(tokio::sync::Notify::new()),
        sessions: sessions::Sessions::default(),
        reachability: Default::default(),
        edit: config.edit,
        metrics_public: config.metrics_public,
        ingest: ingest::Ingest::start(config.db.clone()),
    });
    let me = crate::runtime::worker::me();
    me.serve(config.lease);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let http = if config.role.serves_http() {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServeError::Listen {
                address: config.listen,
                source,
            })?;
        let address = listener.local_addr().unwrap_or(config.listen);
        tracing::info!(%address, files = ?config.files, role = ?config.role, "serving");
        Some(tokio::spawn(http::serve(
            listener,
            state.clone(),
            guard::Hosts::new(&config.allowed_hosts),
            config.idle_timeout,
            stop_rx.clone(),
        )))
    } else {
        tracing::info!(worker = %me.id, files = ?config.files, "working, without HTTP");
        None
    };
    if config.role.works() {
        let store = Store::open(&state.db)?;
        me.beat(&store)?;
        tokio::spawn(heartbeats(state.clone(), store, stop_rx.clone()));
        let wake = state.wake.clone();
        crate::store::listen_for_work(&state.db, move || wake.notify_one())?;
        resume_interrupted(&state, &mut Default::default())?;
    }
    if let (Some(retain), true) = (config.retain, config.role.works()) {
        tokio::spawn(retention(state.clone(), retain, stop_rx.clone()));
    }
    let mut dispatcher = tokio::spawn(dispatch::run(state.clone(), config.watch, stop_rx));

    let failure = until_signal_or_end(&mut dispatcher, signals.wait()).await?;
    match &failure {
        None => {
            tracing::info!(grace = ?config.grace, "shutting down: no new work; running steps may finish")
        }
        Some(reason) => {
            tracing::error!(%reason, grace = ?config.grace, "the trigger dispatcher failed; shutting down")
        }
    }
    let _ = stop_tx.send(true);
    let engines = state.engines();
    for engine in &engines {
        engine.drain();
    }
    let deadline = tokio::time::Instant::now() + config.grace;
    while engines.iter().any(|e| e.busy() > 0) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if failure.is_none() {
        let _ = dispatcher.await;
    }
    if let Some(http) = http {
        let _ = http.await;
    }
    // Whatever still runs here is left for other workers (or the next start):
    // without its row this worker counts as gone at once.
    if config.role.works() {
        if let Err(error) = Store::open(&state.db).and_then(|store| me.retire(&store)) {
            tracing::warn!(%error, "cannot retire this worker's row; its lease runs out");
        }
    }
    tracing::info!("stopped; unfinished executions resume at the next start");
    match failure {
        None => Ok(()),
        Some(reason) => Err(ServeError::Dispatcher(reason)),
    }
}

/// How often `--retain` prunes.
const RETENTION_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// `--retain`: prunes what finished longer ago than `retain` at the start and
/// then once a day, on a store connection of its own, as `wfc db prune` does.
async fn retention(
    state: Arc<State>,
    retain: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (db, clock) = (state.db.clone(), state.clock.clone());
        let pruned = tokio::task::spawn_blocking(move || {
            let cutoff =
                clock.now() - chrono::Duration::from_std(retain).unwrap_or(chrono::Duration::MAX);
            Store::open(&db)?.prune(&crate::store::Retention {
                cutoff,
                statuses: crate::store::ExecutionStatus::ALL.to_vec(),
                dead_letters: false,
                dry_run: false,
                // Freed pages are reused; a daily rewrite would hold the write lock.
                vacuum: false,
            })
        })
        .await;
        match pruned {
            Ok(Ok(pruned)) => tracing::info!(
                executions = pruned.executions,
                attempts = pruned.attempts,
                events = pruned.events,
                dead_letters = pruned.dead_letters,
                alert_episodes = pruned.alert_episodes,
                kept_unfinished = pruned.kept_unfinished,
                kept_dead_letters = pruned.kept_dead_letters,
                kept_newest_fire = pruned.kept_newest_fire,
                reclaimed_bytes = pruned.reclaimed_bytes,
                "pruned what finished before the retention window"
            ),
            Ok(Err(error)) => tracing::error!(%error, "pruning failed; trying again in a day"),
            Err(error) => tracing::error!(%error, "pruning failed; trying again in a day"),
        }
        tokio::select! {
            _ = tokio::time::sleep(RETENTION_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Raises the soft limit on open files to the hard one: every connection and every
/// agent's pipes take descriptors, and the soft default (often 1,024) is low.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                tracing::warn!("cannot raise the open-files limit");
            }
        }
    }
}

/// Waits for a stop signal, or for the dispatcher to end by itself: `Some(why)`
/// then. A dispatcher that ended (it could not open the database, or a bug made it
/// panic) would leave a server that answers /health but fires nothing, so the
/// caller ends the whole server, with an error a supervisor sees.
async fn until_signal_or_end(
    dispatcher: &mut tokio::task::JoinHandle<()>,
    signal: impl std::future::Future<Output = Result<(), ServeError>>,
) -> Result<Option<String>, ServeError> {
    tokio::select! {
        signal = signal => { signal?; Ok(None) }
        ended = dispatcher => Ok(Some(match ended {
            Ok(()) => "it stopped".to_string(),
            Err(error) => error.to_string(),
        })),
    }
}

/// SIGTERM and SIGINT, caught from when they are installed.
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Signals, ServeError> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            terminate: signal(SignalKind::terminate()).map_err(ServeError::Signals)?,
            interrupt: signal(SignalKind::interrupt()).map_err(ServeError::Signals)?,
        })
    }

    async fn wait(mut self) -> Result<(), ServeError> {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        Ok(())
    }
}

/// Renews this worker's lease every third of it, on a connection of its own, so
/// no other work of the server (a busy tick, a long query) delays it. Once it
/// could not for longer than the lease, other workers may have taken its
/// executions over: it lets them go (without a write: none could be made) and
/// takes them back, if no one else did, when the store answers again.
async fn heartbeats(state: Arc<State>, store: Store, mut stop: tokio::sync::watch::Receiver<bool>) {
    let me = crate::runtime::worker::me();
    let store = Arc::new(std::sync::Mutex::new(store));
    let mut renewed = std::time::Instant::now();
    let mut failing = false;
    let mut given_up = false;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(me.lease() / 3) => {}
        }
        let store = store.clone();
        let beat = tokio::task::spawn_blocking(move || {
            me.beat(&store.lock().unwrap_or_else(|e| e.into_inner()))
        })
        .await;
        if matches!(beat, Ok(Ok(()))) {
            if failing {
                tracing::info!("this worker's lease is renewed again");
            }
            (renewed, failing, given_up) = (std::time::Instant::now(), false, false);
            continue;
        }
        if !failing {
            tracing::error!(
                "cannot renew this worker's lease; others may take its executions over"
            );
            failing = true;
        }
        if !given_up && renewed.elapsed() > me.lease() {
            tracing::warn!(
                "the lease ran out: this worker lets its executions go until the store answers"
            );
            for engine in state.engines() {
                engine.let_go();
            }
            given_up = true;
        }
    }
}

/// Resumes the interrupted executions of the served files whose source is the one
/// they started with (whichever worker left them); others are left for `wfc
/// resume`, which explains why, said once per execution (`told`).
fn resume_interrupted(
    state: &State,
    told: &mut std::collections::HashSet<String>,
) -> Result<(), StoreError> {
    let store = Store::open(&state.db)?;
    for execution in resume::orphans(&store)? {
        let engine = state
            .engines()
            .into_iter()
            .find(|engine| resume::runs_version_of(engine, &execution));
        let Some(engine) = engine else {
            if told.insert(execution.id.clone()) {
                tracing::warn!(execution = %execution.id, workflow = %execution.workflow,
                    "interrupted execution is not of a served file version; use `wfc resume`");
            }
            continue;
        };
        tracing::info!(execution = %execution.id, workflow = %execution.workflow, "resuming");
        spawn_resume(engine, execution);
    }
    Ok(())
}

/// Resumes `execution` on `engine` in a task of its own; one the store stops
/// again is noted to be tried again (`Engine::strand`).
fn spawn_resume(engine: Arc<Engine>, execution: crate::store::ExecutionRow) {
    tokio::spawn(async move {
        match engine.resume(&execution).await {
            Ok(Some(done)) => {
                tracing::info!(execution = %done.id, status = %done.outcome.status(), "resumed execution ended")
            }
            Ok(None) => {
                tracing::info!(execution = %execution.id, "taken over by another process")
            }
            Err(RunError::Store(_)) => engine.strand(&execution.id),
            Err(error) => tracing::error!(execution = %execution.id, %error, "cannot resume"),
        }
    });
}

/// Resumes the executions this process stopped because the store could not be
/// written (a full disk, a database restart), now that it may be again; those
/// that still cannot be are kept for the next look.
fn resume_stranded(state: &State) {
    for engine in state.engines() {
        let stranded = engine.take_stranded();
        if stranded.is_empty() {
            continue;
        }
        let store = match Store::open(&state.db) {
            Ok(store) => store,
            Err(_) => {
                for id in &stranded {
                    engine.strand(id);
                }
                continue;
            }
        };
        for id in stranded {
            let execution = match store.execution(&id) {
                Ok(execution) => execution,
                // A start that never committed: its occurrence fires again.
                Err(StoreError::NoSuchExecution(_)) => continue,
                Err(_) => {
                    engine.strand(&id);
                    continue;
                }
            };
            if execution.status != crate::store::ExecutionStatus::Running {
                continue;
            }
            // Quietly: while the store still fails, this is tried every second.
            tracing::debug!(execution = %execution.id, "resuming after the store failed");
            spawn_resume(engine.clone(), execution);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dispatcher_that_dies_ends_the_wait_with_its_reason() {
        let never = std::future::pending::<Result<(), ServeError>>();
        let mut panicked = tokio::spawn(async { panic!("a bug in a tick") });
        let reason = until_signal_or_end(&mut panicked, never).await.unwrap();
        assert!(reason.is_some_and(|r| r.contains("panicked")));
        let never = std::future::pending::<Result<(), ServeError>>();
        let mut returned = tokio::spawn(async {});
        let reason = until_signal_or_end(&mut returned, never).await.unwrap();
        assert_eq!(reason.as_deref(), Some("it stopped"));
        // A signal first: no failure.
        let mut running = tokio::spawn(std::future::pending::<()>());
        let reason = until_signal_or_end(&mut running, async { Ok(()) })
            .await
            .unwrap();
        assert_eq!(reason, None);
    }
}
