//! `GET /stream`: server-sent events, an `execution` event for each of the newest
//! executions that started or changed (status, attempts), whichever process
//! wrote it. One look at the store every 250 ms serves every open stream (a
//! watch channel), and none is taken while no stream is open.

use super::State;
use crate::store::{Activity, Store};
use axum::extract::State as Shared;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the store is looked at.
const LOOK: Duration = Duration::from_millis(250);
/// The executions watched: the newest this many.
const WINDOW: usize = 50;

/// The latest look, shared by the streams; `None` until a fresh one.
pub struct Looks {
    latest: watch::Sender<Option<Arc<Vec<Activity>>>>,
    polling: AtomicBool,
}

impl Default for Looks {
    fn default() -> Self {
        Looks {
            latest: watch::channel(None).0,
            polling: AtomicBool::new(false),
        }
    }
}

/// Starts the one poller of the server (once), which looks while a stream is open.
fn poll(state: &Arc<State>) {
    if state.looks.polling.swap(true, Ordering::SeqCst) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            let latest = &state.looks.latest;
            if latest.receiver_count() == 0 {
                // A stream opened later waits for a fresh look, not this one.
                latest.send_replace(None);
            } else {
                let db = state.db.clone();
                let read = tokio::task::spawn_blocking(move || {
                    Store::open_read_only(&db)?.activity(WINDOW)
                })
                .await;
                // A look that fails (the database busy past its timeout) is skipped.
                if let Ok(Ok(rows)) = read {
                    latest.send_if_modified(|now| {
                        let changed = now.as_deref() != Some(&rows);
                        if changed {
                            *now = Some(Arc::new(rows));
                        }
                        changed
                    });
                }
            }
            tokio::time::sleep(LOOK).await;
        }
    });
}

/// The first event sends every watched execution; later ones what changed.
pub async fn stream(
    Shared(state): Shared<Arc<State>>,
) -> Sse<impl futures::Stream<Item = Result<Event, axum::Error>>> {
    use futures::StreamExt;
    let receiver = state.looks.latest.subscribe();
    poll(&state);
    let looks = futures::stream::unfold(
        (receiver, Arc::new(Vec::new()), true),
        |(mut receiver, seen, first)| async move {
            if !first {
                receiver.changed().await.ok()?;
            }
            let now = loop {
                if let Some(now) = receiver.borrow_and_update().clone() {
                    break now;
                }
                receiver.changed().await.ok()?;
            };
            let changed: Vec<_> = now
                .iter()
                .filter(|row| !seen.contains(*row))
                .rev()
                .map(|row| Event::default().event("execution").json_data(row))
                .collect();
            Some((changed, (receiver, now, false)))
        },
    );
    let events = looks.flat_map(futures::stream::iter);
    Sse::new(events).keep_alive(KeepAlive::default())
}
