//! `wfc serve FILE...` and `wfc emit NAME`.

use super::Error;
use super::{open_store, DbArgs};
use crate::serve::{self, Config};
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    /// The .wf files whose triggers to serve; a directory serves every `.wf`
    /// file in it (not `.test.wf`, not below it), so a workflow the dashboard
    /// creates there is served again after a restart.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Where the HTTP API listens. Beyond loopback a token is required.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// The token every HTTP request but /health must carry, as `Authorization:
    /// Bearer <token>` or the dashboard's sign-in (default: $WFC_TOKEN).
    #[arg(long, env = "WFC_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A host name requests may give as `Host`, besides this server's addresses
    /// and `localhost` (repeat for more): the name a proxy or DNS gives it.
    /// Requests naming any other host are refused (DNS rebinding).
    #[arg(long = "allowed-host", value_name = "NAME[:PORT]")]
    allowed_hosts: Vec<String>,
    /// Re-check files when they change and apply them when they are valid.
    #[arg(long)]
    watch: bool,
    /// Let the dashboard's editor save the served files (a saved file is
    /// checked, written atomically and served at once). Needs --token: a file
    /// can declare `run [...]` agents, so editing is running code.
    #[arg(long)]
    edit: bool,
    /// Prune what finished longer ago than this (e.g. 90d) at the start and
    /// once a day, as `wfc db prune --older-than` does (never what resume,
    /// exactly-once or alerts still need).
    #[arg(long, value_name = "DURATION", value_parser = positive)]
    retain: Option<Duration>,
    /// Let a Prometheus scraper read `GET /metrics` without the token (the
    /// JSON of business-metric samples there still needs it).
    #[arg(long)]
    metrics_public: bool,
    /// On SIGINT/SIGTERM, how long running steps may take to finish (e.g. 10s).
    #[arg(long, default_value = "10s", value_parser = crate::duration::parse_std)]
    grace: Duration,
    /// How long an HTTP client may take to send a request's headers, or leave a
    /// kept-alive connection idle, before it is closed.
    #[arg(long, default_value = "10s", value_parser = positive)]
    idle_timeout: Duration,
    /// How long this worker counts as alive after its last heartbeat (one goes out
    /// every third of it): when it dies, other workers on other machines take its
    /// executions over once this has passed (on the same machine, at once).
    #[arg(long, default_value = "10s", value_parser = positive)]
    lease: Duration,
    /// Take work (triggers, takeovers) but serve no HTTP API or dashboard.
    #[arg(long, conflicts_with = "no_worker")]
    worker_only: bool,
    /// Serve the HTTP API and dashboard but take no work: no trigger fires here
    /// and no execution runs here (events posted are fired by the workers).
    #[arg(long)]
    no_worker: bool,
    #[command(flatten)]
    otlp: super::OtlpArgs,
    /// Log lines as `text` or `json`.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// A duration longer than zero: a zero idle timeout would close every connection
/// before its request.
fn positive(text: &str) -> Result<Duration, String> {
    match crate::duration::parse_std(text) {
        Ok(duration) if duration.is_zero() => Err("must be longer than 0".into()),
        other => other.map_err(|e| e.to_string()),
    }
}

pub fn serve(args: ServeArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WFC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(super::color_stderr()).try_init(),
    };
    args.otlp.start()?;
    let config = Config {
        files: served_files(args.files)?,
        db: super::db_location(db),
        listen: args.listen,
        token: args.token.filter(|t| !t.is_empty()),
        allowed_hosts: args.allowed_hosts,
        watch: args.watch,
        edit: args.edit,
        retain: args.retain,
        metrics_public: args.metrics_public,
        grace: args.grace,
        idle_timeout: args.idle_timeout,
        lease: args.lease,
        role: match (args.worker_only, args.no_worker) {
            (true, _) => serve::Role::WorkerOnly,
            (_, true) => serve::Role::NoWorker,
            _ => serve::Role::Both,
        },
    };
    super::run::runtime()?.block_on(serve::serve(config))?;
    Ok(ExitCode::SUCCESS)
}

/// The files named, each directory replaced by its `.wf` files in name order.
fn served_files(named: Vec<PathBuf>) -> Result<Vec<PathBuf>, Error> {
    let mut files = Vec::new();
    for path in named {
        if !path.is_dir() {
            files.push(path);
            continue;
        }
        let listing = std::fs::read_dir(&path).map_err(|error| {
            Error::usage(format!(
                "cannot read the directory {}: {error}",
                path.display()
            ))
        })?;
        let mut found: Vec<PathBuf> = listing
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|file| {
                let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
                file.is_file() && name.ends_with(".wf") && !name.ends_with(".test.wf")
            })
            .collect();
        if found.is_empty() {
            return Err(Error::usage(format!(
                "the directory {} holds no .wf file to serve",
                path.display()
            )));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

#[derive(Args)]
pub struct EmitArgs {
    /// The event name, e.g. lead.created.
    name: String,
    /// The event's payload as JSON (default `{}`).
    // A negative number is JSON too.
    #[arg(long, allow_hyphen_values = true)]
    data: Option<String>,
    /// `json` prints what was recorded, with its id, on stdout.
    #[arg(long, value_enum, default_value_t = super::Format::Text)]
    format: super::Format,
}

/// Appends an event; a running `wfc serve` on the same database picks it up.
pub fn emit(args: EmitArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    if let Some(message) = crate::program::invalid_event_name(&args.name) {
        return Err(Error::from(message));
    }
    let payload = match args.data.as_deref().map(serde_json::from_str).transpose() {
        Ok(payload) => payload.unwrap_or_else(|| serde_json::json!({})),
        Err(error) => return Err(Error::from(format!("--data is not JSON: {error}"))),
    };
    let store = open_store(db)?;
    if let Some(id) = store.record_event(&args.name, &payload, None)? {
        match args.format {
            super::Format::Json => super::print_json(&serde_json::json!({
                "event": id, "name": args.name, "payload": payload,
            })),
            super::Format::Text => eprintln!("recorded event {} (event {id})", args.name),
        }
    }
    Ok(ExitCode::SUCCESS)
}
