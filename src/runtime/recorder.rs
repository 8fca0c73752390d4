//! The engine's one door to its store. An execution's write ([`Recorder::write`])
//! waits one scheduler turn, so that the writes other executions ask for meanwhile
//! join it, and returns once the commit that holds it is done: steps of concurrent
//! executions share a commit (group commit), and each is durable before its
//! successor starts. Everything else (reads, claims, the CLI's calls) uses the
//! store directly through [`Recorder::with`], after the writes asked for before it.

use crate::store::{Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use tokio::runtime::RuntimeFlavor;
use tokio::sync::oneshot;

/// A write waiting for the store: run with `true` inside a transaction shared
/// with other writes, it returns how to answer its caller once that commits.
type Job = Box<dyn FnOnce(&mut Store, bool) -> Answer + Send>;

/// Sends a write's result, or the failure of the commit that held it.
type Answer = Box<dyn FnOnce(Option<&StoreError>) + Send>;

pub(super) struct Recorder {
    store: Mutex<Store>,
    waiting: Mutex<Vec<Job>>,
    /// Transactions that committed more than one write.
    shared_commits: AtomicU64,
}

impl Recorder {
    pub(super) fn new(store: Store) -> Recorder {
        Recorder {
            store: Mutex::new(store),
            waiting: Mutex::new(Vec::new()),
            shared_commits: AtomicU64::new(0),
        }
    }

    /// How many commits so far held the writes of more than one caller.
    pub(super) fn shared_commits(&self) -> u64 {
        self.shared_commits.load(Ordering::Relaxed)
    }

    /// Runs `work` on the store once the writes already waiting are committed.
    pub(super) fn with<T>(&self, work: impl FnOnce(&mut Store) -> T) -> T {
        let result = {
            let mut store = self.lock();
            self.commit_waiting(&mut store);
            work(&mut store)
        };
        self.serve();
        result
    }

    /// Writes with `work` and returns once that is committed, possibly in one
    /// transaction with the writes of other executions. When `work` fails, what it
    /// wrote is undone alone. Dropping the future does not take the write back:
    /// it is done all the same, as a synchronous call's would be.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (reply, mut answer) = oneshot::channel();
        let job: Job = Box::new(move |store, together| {
            let result = if together {
                store
                    .write_alone(work, Result::is_err)
                    .and_then(|done| done)
            } else {
                work(store)
            };
            Box::new(move |commit: Option<&StoreError>| {
                let result = match (commit, result) {
                    (Some(failed), Ok(_)) => Err(StoreError::Shared(failed.to_string())),
                    (_, result) => result,
                };
                // A caller that stopped waiting (a cancelled execution) needs no answer.
                let _ = reply.send(result);
            })
        });
        self.queue().push(job);
        tokio::task::yield_now().await;
        // Another caller committed it meanwhile: committing what others queued
        // since would take their writes before their own turn came, one by one.
        if let Ok(answered) = answer.try_recv() {
            return answered;
        }
        self.serve();
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Shared(
                "the write was lost: the thread committing it stopped".into(),
            ))
        })
    }

    /// Commits the waiting writes unless another caller holds the store: that
    /// one does when it lets go. (A write queued after this looked finds the
    /// store free, or is seen by its holder's own look after letting go.)
    fn serve(&self) {
        loop {
            if self.queue().is_empty() {
                return;
            }
            let Some(mut store) = self.try_lock() else {
                return;
            };
            self.commit_waiting(&mut store);
        }
    }

    /// Runs every waiting write, one alone or several in one transaction, then
    /// answers each.
    fn commit_waiting(&self, store: &mut Store) {
        let jobs = std::mem::take(&mut *self.queue());
        if jobs.is_empty() {
            return;
        }
        // When the shared transaction cannot begin (another process holds the
        // write lock too long), each write tries alone and reports its own error.
        let together = jobs.len() > 1 && store.begin_together().unwrap_or(false);
        let answers: Vec<Answer> = jobs.into_iter().map(|job| job(store, together)).collect();
        let committed = if together {
            self.shared_commits.fetch_add(1, Ordering::Relaxed);
            store.commit_together()
        } else {
            Ok(())
        };
        for answer in answers {
            answer(committed.as_ref().err());
        }
    }

    fn queue(&self) -> MutexGuard<'_, Vec<Job>> {
        // Jobs are pushed and taken whole: a poisoned queue is still consistent.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn try_lock(&self) -> Option<MutexGuard<'_, Store>> {
        match self.store.try_lock() {
            Ok(store) => Some(store),
            Err(TryLockError::Poisoned(poisoned)) => Some(recovered(poisoned.into_inner())),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// The store, at once when it is free (a write takes tens of microseconds).
    /// When another caller holds it, waiting would block this worker thread, so
    /// on a multi-threaded runtime the thread first hands its other tasks to
    /// another thread: a slow write never stalls unrelated executions.
    fn lock(&self) -> MutexGuard<'_, Store> {
        if let Some(store) = self.try_lock() {
            return store;
        }
        let wait = || {
            self.store
                .lock()
                .unwrap_or_else(|poisoned| recovered(poisoned.into_inner()))
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    }
}

/// The store after a panic while it was held: statements are atomic, so it is
/// consistent once a transaction the panic left open is rolled back.
fn recovered(store: MutexGuard<'_, Store>) -> MutexGuard<'_, Store> {
    store.roll_back_unfinished();
    store
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    #[tokio::test(flavor = "current_thread")]
    async fn writes_asked_for_together_share_a_commit_and_a_failed_one_is_undone_alone() {
        let recorder = Arc::new(Recorder::new(Store::in_memory().unwrap()));
        let writes: Vec<_> = (0..10)
            .map(|i| {
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    recorder
                        .write(move |store| {
                            let id = store.record_event("tick", &json!({ "i": i }), None)?;
                            if i == 3 {
                                return Err(StoreError::Shared("refused".into()));
                            }
                            Ok(id)
                        })
                        .await
                })
            })
            .collect();
        let mut refused = Vec::new();
        for (i, write) in writes.into_iter().enumerate() {
            if write.await.unwrap().is_err() {
                refused.push(i);
            }
        }
        assert_eq!(refused, [3]);
        // Each write waited one turn for the others, so one commit held them all.
        assert_eq!(recorder.shared_commits(), 1);
        let mut stored: Vec<i64> = recorder
            .with(|store| store.events(None))
            .unwrap()
            .into_iter()
            .map(|event| event.payload["i"].as_i64().unwrap())
            .collect();
        stored.sort_unstable();
        assert_eq!(stored, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_lone_write_commits_by_itself() {
        let recorder = Recorder::new(Store::in_memory().unwrap());
        let id = recorder
            .write(|store| store.record_event("tick", &json!({}), None))
            .await
            .unwrap();
        assert!(id.is_some());
        assert_eq!(recorder.shared_commits(), 0);
        assert_eq!(recorder.with(|store| store.events(None)).unwrap().len(), 1);
    }
}
