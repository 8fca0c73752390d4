//! Events posted over HTTP share commits, as steps do: one thread holds a
//! store connection, takes every event waiting when it is free (up to
//! [`BATCH`]), writes them in one transaction and answers each request once it
//! committed. An answered event is durable; a batch that fails answers every
//! request in it with the error, and none of its events was written.

use crate::store::{Location, Store, StoreError};
use serde_json::Value;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Events written per commit at most.
const BATCH: usize = 256;

struct Job {
    name: String,
    payload: Value,
    reply: oneshot::Sender<Result<i64, String>>,
}

/// The sender side; the writer thread ends when it is dropped.
pub struct Ingest {
    jobs: mpsc::Sender<Job>,
}

impl Ingest {
    pub fn start(db: Location) -> Ingest {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("wfc-ingest".into())
            .spawn(move || write_batches(&db, &receiver));
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the event writer; posted events will fail");
        }
        Ingest { jobs }
    }

    /// Records an event and gives its id once committed.
    pub async fn record(&self, name: String, payload: Value) -> Result<i64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Shared("the event writer stopped".into());
        self.jobs
            .send(Job {
                name,
                payload,
                reply,
            })
            .map_err(|_| gone())?;
        answer
            .await
            .map_err(|_| gone())?
            .map_err(StoreError::Shared)
    }
}

fn write_batches(db: &Location, jobs: &mpsc::Receiver<Job>) {
    let mut store: Option<Store> = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let written = match &mut store {
            Some(store) => write(store, &batch),
            None => Store::open(db).and_then(|opened| {
                let written = write(&opened, &batch);
                store = Some(opened);
                written
            }),
        };
        match written {
            Ok(ids) => {
                for (job, id) in batch.into_iter().zip(ids) {
                    let _ = job.reply.send(Ok(id));
                }
            }
            Err(error) => {
                // A broken connection is opened afresh for the next batch.
                store = None;
                let message = error.to_string();
                for job in batch {
                    let _ = job.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

fn write(store: &Store, batch: &[Job]) -> Result<Vec<i64>, StoreError> {
    let events: Vec<(&str, &Value)> = batch
        .iter()
        .map(|j| (j.name.as_str(), &j.payload))
        .collect();
    store.record_events(&events)
}
