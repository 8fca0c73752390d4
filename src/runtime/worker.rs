//! This process as a worker: its id, host and pid, how many executions it runs,
//! and the lease it renews in the store while it lives (`store/workers.rs`), so
//! processes on other machines can tell its executions from orphans.

use crate::clock::Clock;
use crate::store::{Heartbeat, Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a worker counts as alive after its last heartbeat, unless `wfc serve
/// --lease` says otherwise. A heartbeat goes out every third of it.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

pub struct Worker {
    pub id: String,
    /// `$WFC_HOST`, else the machine's host name: processes on one host judge
    /// each other by their pids at once, others by their leases.
    pub host: String,
    pub pid: u32,
    running: AtomicU64,
    settings: Mutex<Settings>,
}

struct Settings {
    lease: Duration,
    kind: &'static str,
    last_beat: Option<Instant>,
}

/// This process's worker.
pub fn me() -> &'static Worker {
    static ME: OnceLock<Worker> = OnceLock::new();
    ME.get_or_init(|| Worker {
        id: uuid::Uuid::now_v7().to_string(),
        host: host(),
        pid: std::process::id(),
        running: AtomicU64::new(0),
        settings: Mutex::new(Settings {
            lease: DEFAULT_LEASE,
            kind: "run",
            last_beat: None,
        }),
    })
}

fn host() -> String {
    if let Some(host) = std::env::var("WFC_HOST").ok().filter(|h| !h.is_empty()) {
        return host;
    }
    let mut name = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // what fits.
    let ok = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) } == 0;
    let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
    match std::str::from_utf8(&name[..end]) {
        Ok(text) if ok && !text.is_empty() => text.to_string(),
        _ => "localhost".to_string(),
    }
}

/// Whether worker `id` lives: on this host its pid says so at once (a process
/// killed a moment ago is gone now); on another, its lease (a machine lost
/// stops renewing it).
pub fn alive(store: &Store, id: &str) -> Result<bool, StoreError> {
    Ok(match store.worker(id)? {
        Some(worker) if worker.host == me().host => super::process_alive(worker.pid),
        Some(worker) => worker.leased(Clock::system().now()),
        // A worker's row goes only when it ends, or long after its lease ran out.
        None => false,
    })
}

/// Counts an execution as running until dropped.
pub struct Running(());

impl Drop for Running {
    fn drop(&mut self) {
        me().running.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Worker {
    fn settings(&self) -> std::sync::MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A server: leases of `lease`, listed as `serve`.
    pub fn serve(&self, lease: Duration) {
        let mut settings = self.settings();
        settings.lease = lease;
        settings.kind = "serve";
    }

    pub fn lease(&self) -> Duration {
        self.settings().lease
    }

    pub fn running(&self) -> Running {
        self.running.fetch_add(1, Ordering::Relaxed);
        Running(())
    }

    /// Whether this process has a row in the store.
    pub fn registered(&self) -> bool {
        self.settings().last_beat.is_some()
    }

    /// Removes this worker's row as the process ends: whatever it leaves
    /// running counts as orphaned at once, here and on other machines.
    pub fn retire(&self, store: &Store) -> Result<(), StoreError> {
        store.retire_worker(&self.id)?;
        self.settings().last_beat = None;
        Ok(())
    }

    /// Renews the lease when a third of it has passed since the last heartbeat
    /// (or there was none).
    pub fn beat_if_due(&self, store: &Store) -> Result<(), StoreError> {
        let due = {
            let settings = self.settings();
            settings
                .last_beat
                .is_none_or(|at| at.elapsed() >= settings.lease / 3)
        };
        if due {
            self.beat(store)?;
        }
        Ok(())
    }

    /// Renews the lease now.
    pub fn beat(&self, store: &Store) -> Result<(), StoreError> {
        let (lease, kind) = {
            let settings = self.settings();
            (settings.lease, settings.kind)
        };
        store.heartbeat(
            &Heartbeat {
                id: &self.id,
                host: &self.host,
                pid: self.pid,
                kind,
                lease: chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX),
                running: self.running.load(Ordering::Relaxed),
            },
            Clock::system().now(),
        )?;
        self.settings().last_beat = Some(Instant::now());
        Ok(())
    }
}
