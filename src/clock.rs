//! Workflow time: what time it is and how to wait for a later one. Everything that
//! runs or records a workflow asks a [`Clock`] instead of the system, so a test can
//! run retries, waits, breaker cool-downs and cron slots on a [`ManualClock`]
//! without sleeping. Only this module reads the system's wall clock.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The time source of an engine, a dispatcher or a store. Cloning is cheap and
/// clones share their source.
#[derive(Clone, Default)]
pub struct Clock(Source);

#[derive(Clone, Default)]
enum Source {
    #[default]
    System,
    Manual(Arc<Manual>),
    File(Arc<FileTime>),
}

/// A manual clock other processes share: the time is what a file says, so a
/// test moves the time of several `wfc serve` processes at once by rewriting it
/// (`WFC_CLOCK_FILE`). Never earlier than it last read.
struct FileTime {
    path: std::path::PathBuf,
    last: std::sync::Mutex<DateTime<Utc>>,
}

/// The environment variable naming a time file for [`Clock::from_env`].
pub const CLOCK_FILE: &str = "WFC_CLOCK_FILE";

/// How often a sleeper on a time file reads it again.
const FILE_POLL: Duration = Duration::from_millis(5);

/// Why a time file cannot be the clock.
#[derive(Debug, thiserror::Error)]
#[error("{CLOCK_FILE}={path}: {problem} (the file holds one RFC 3339 time)")]
pub struct ClockFileError {
    path: String,
    problem: String,
}

impl FileTime {
    fn read(path: &std::path::Path) -> Result<DateTime<Utc>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.to_utc())
            .map_err(|e| format!("`{}` is not a time: {e}", text.trim()))
    }

    fn now(&self) -> DateTime<Utc> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // A file caught mid-rewrite keeps the time it last said.
        if let Ok(read) = FileTime::read(&self.path) {
            *last = (*last).max(read);
        }
        *last
    }
}

/// A manual clock's time, and the deadlines of the tasks sleeping on it.
struct Manual {
    time: watch::Sender<DateTime<Utc>>,
    deadlines: std::sync::Mutex<Vec<DateTime<Utc>>>,
}

/// A clock that moves only when told to: sleepers wake when it is advanced past
/// their deadline.
#[derive(Clone)]
pub struct ManualClock(Arc<Manual>);

/// A point to measure elapsed time from, on the clock that made it.
#[derive(Debug, Clone, Copy)]
pub enum Timer {
    /// Monotonic, so a wall-clock step does not bend a measured duration.
    System(Instant),
    Manual(DateTime<Utc>),
}

impl Clock {
    /// The system's clock and tokio's timers.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// The clock of a process tests drive from outside: the time file named by
    /// `WFC_CLOCK_FILE` when it is set, else the system's.
    pub fn from_env() -> Result<Clock, ClockFileError> {
        let Some(path) = std::env::var_os(CLOCK_FILE).filter(|p| !p.is_empty()) else {
            return Ok(Clock::system());
        };
        let path = std::path::PathBuf::from(path);
        let start = FileTime::read(&path).map_err(|problem| ClockFileError {
            path: path.display().to_string(),
            problem,
        })?;
        Ok(Clock(Source::File(Arc::new(FileTime {
            path,
            last: std::sync::Mutex::new(start),
        }))))
    }

    /// Whether only its owner moves it (`wfc test`): nothing outside the
    /// process happens in its time, so nothing needs looking for.
    pub fn is_manual(&self) -> bool {
        matches!(self.0, Source::Manual(_))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now(),
            Source::Manual(manual) => *manual.time.borrow(),
            Source::File(file) => file.now(),
        }
    }

    /// Waits for `duration` of this clock's time.
    pub async fn sleep(&self, duration: Duration) {
        match &self.0 {
            Source::System => tokio::time::sleep(duration).await,
            Source::Manual(_) | Source::File(_) => {
                self.sleep_until(later(self.now(), duration)).await
            }
        }
    }

    /// Waits until this clock reads `deadline` or later.
    pub async fn sleep_until(&self, deadline: DateTime<Utc>) {
        match &self.0 {
            Source::System => {
                let left = (deadline - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(left).await;
            }
            Source::Manual(manual) => {
                let mut reader = manual.time.subscribe();
                let _waiting = Waiting::new(manual, deadline);
                // The sender lives as long as this clock, so the wait cannot fail.
                let _ = reader.wait_for(|now| *now >= deadline).await;
            }
            Source::File(file) => {
                while file.now() < deadline {
                    tokio::time::sleep(FILE_POLL).await;
                }
            }
        }
    }

    pub fn timer(&self) -> Timer {
        match &self.0 {
            Source::System => Timer::System(Instant::now()),
            Source::Manual(manual) => Timer::Manual(*manual.time.borrow()),
            Source::File(file) => Timer::Manual(file.now()),
        }
    }

    /// The time since `timer` was made (zero for a timer of another clock).
    pub fn elapsed(&self, timer: Timer) -> Duration {
        match (timer, &self.0) {
            (Timer::System(start), _) => start.elapsed(),
            (Timer::Manual(start), Source::Manual(_) | Source::File(_)) => {
                (self.now() - start).to_std().unwrap_or_default()
            }
            (Timer::Manual(_), Source::System) => Duration::ZERO,
        }
    }
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(Manual {
            time: watch::Sender::new(start),
            deadlines: std::sync::Mutex::new(Vec::new()),
        }))
    }

    /// The clock to hand to an engine, dispatcher or store.
    pub fn clock(&self) -> Clock {
        Clock(Source::Manual(self.0.clone()))
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.0.time.borrow()
    }

    /// How many tasks are waiting on this clock for a time still to come: a test
    /// moves time once the tasks it drives are asleep, so that none computes its
    /// deadline after the move (one woken but not yet run is not counted).
    pub fn sleepers(&self) -> usize {
        let now = self.now();
        let deadlines = self.0.deadlines.lock().unwrap_or_else(|e| e.into_inner());
        deadlines.iter().filter(|deadline| **deadline > now).count()
    }

    /// The earliest time a sleeper waits for that is still to come.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        let now = self.now();
        let deadlines = self.0.deadlines.lock().unwrap_or_else(|e| e.into_inner());
        deadlines
            .iter()
            .filter(|deadline| **deadline > now)
            .min()
            .copied()
    }

    /// Moves time forward by `duration`, waking every sleeper now due.
    pub fn advance(&self, duration: Duration) {
        self.0.time.send_modify(|now| *now = later(*now, duration));
    }

    /// Moves time to `at` (never backwards).
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.time.send_modify(|now| *now = (*now).max(at));
    }
}

/// A sleeper's deadline, registered with its manual clock while it sleeps.
struct Waiting<'a> {
    manual: &'a Manual,
    deadline: DateTime<Utc>,
}

impl<'a> Waiting<'a> {
    fn new(manual: &'a Manual, deadline: DateTime<Utc>) -> Self {
        let mut deadlines = manual.deadlines.lock().unwrap_or_else(|e| e.into_inner());
        deadlines.push(deadline);
        Waiting { manual, deadline }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut deadlines = self
            .manual
            .deadlines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(i) = deadlines.iter().position(|d| *d == self.deadline) {
            deadlines.swap_remove(i);
        }
    }
}

/// `at + duration`, saturating at the latest representable time.
fn later(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[tokio::test]
    async fn a_manual_sleeper_wakes_only_when_time_passes_its_deadline() {
        let manual = ManualClock::new(at("2026-11-25T12:00:00Z"));
        let clock = manual.clock();
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(Duration::from_secs(3600)).await }
        });
        while manual.sleepers() == 0 {
            tokio::task::yield_now().await;
        }
        manual.advance(Duration::from_secs(3599));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "one second early");
        manual.advance(Duration::from_secs(1));
        sleeper.await.unwrap();
        assert_eq!(clock.now(), at("2026-11-25T13:00:00Z"));
        let timer = clock.timer();
        manual.advance(Duration::from_millis(250));
        assert_eq!(clock.elapsed(timer), Duration::from_millis(250));
        manual.set(at("2026-01-01T00:00:00Z"));
        assert_eq!(
            clock.now(),
            at("2026-11-25T13:00:00.250Z"),
            "never backwards"
        );
    }

    #[tokio::test]
    async fn huge_durations_saturate_instead_of_overflowing() {
        let manual = ManualClock::new(at("2026-11-25T12:00:00Z"));
        manual.advance(Duration::MAX);
        assert_eq!(manual.now(), DateTime::<Utc>::MAX_UTC);
        // A deadline already passed does not wait.
        manual.clock().sleep(Duration::from_secs(1)).await;
    }
}
