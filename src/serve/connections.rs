//! The open connections, shared fairly among clients. A client address may hold
//! at most [`MAX_PER_CLIENT`] of the [`MAX_CONNECTIONS`]; when all are taken, a
//! new connection closes one that has never shown a credential, of the client
//! holding the most, instead of being refused: a flood of held streams or
//! half-sent requests from one place does not lock out another. A connection
//! that cannot be taken is answered at once, `/health` with 200 and anything
//! else with 503, and closed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// Connections served at once, so slow or idle clients cannot use up the
/// process's file descriptors.
pub const MAX_CONNECTIONS: usize = 256;
/// Connections one client address may hold.
pub const MAX_PER_CLIENT: usize = 64;

#[derive(Default)]
pub struct Connections {
    open: Mutex<HashMap<u64, Open>>,
    next: AtomicU64,
}

struct Open {
    client: IpAddr,
    since: Instant,
    trusted: Arc<AtomicBool>,
    close: Arc<Notify>,
}

/// A connection being served: its place among the open ones, given back when
/// dropped.
pub struct Slot {
    id: u64,
    owner: Arc<Connections>,
    /// Set once a request on it carried the token or a signed-in session.
    pub trusted: Arc<AtomicBool>,
    /// Notified when a newer connection needs its place.
    pub close: Arc<Notify>,
}

/// Why a connection is not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its client already holds [`MAX_PER_CLIENT`].
    Client,
    /// Every place is held by a connection that showed a credential.
    Full,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Client => "too many connections from your address; close some and try again",
            Refusal::Full => "too many connections; try again later",
        }
    }
}

impl Connections {
    /// A place for a new connection from `client`, closing another if need be.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Slot, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mut held: HashMap<IpAddr, usize> = HashMap::new();
        for connection in open.values() {
            *held.entry(connection.client).or_default() += 1;
        }
        if held.get(&client).copied().unwrap_or(0) >= MAX_PER_CLIENT {
            return Err(Refusal::Client);
        }
        if open.len() >= MAX_CONNECTIONS {
            let victim = open
                .iter()
                .filter(|(_, c)| !c.trusted.load(Ordering::Relaxed))
                .max_by_key(|(id, c)| (held[&c.client], std::cmp::Reverse((c.since, **id))))
                .map(|(id, _)| *id)
                .ok_or(Refusal::Full)?;
            if let Some(closed) = open.remove(&victim) {
                // `notify_one` keeps the wake-up for a task not yet waiting.
                closed.close.notify_one();
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Slot {
            id,
            owner: self.clone(),
            trusted: Arc::default(),
            close: Arc::default(),
        };
        open.insert(
            id,
            Open {
                client,
                since: Instant::now(),
                trusted: slot.trusted.clone(),
                close: slot.close.clone(),
            },
        );
        Ok(slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_server_closes_the_biggest_untrusted_holders_oldest() {
        let connections = Arc::new(Connections::default());
        let address = |last: u8| IpAddr::from([127, 0, 0, last]);
        let mut slots = Vec::new();
        // Four addresses, 64 each: the first two without credentials.
        for last in 1..=4 {
            for _ in 0..MAX_PER_CLIENT {
                let slot = connections.admit(address(last)).unwrap();
                slot.trusted.store(last > 2, Ordering::Relaxed);
                slots.push(slot);
            }
        }
        assert_eq!(connections.admit(address(1)).err(), Some(Refusal::Client));
        // Full: a newcomer takes the oldest place without a credential.
        let first = slots[0].close.clone();
        let second = slots[1].close.clone();
        let newcomer = connections.admit(address(9)).unwrap();
        assert!(futures::FutureExt::now_or_never(first.notified()).is_some());
        assert!(futures::FutureExt::now_or_never(second.notified()).is_none());
        assert_eq!(connections.open.lock().unwrap().len(), MAX_CONNECTIONS);
        drop(newcomer);
        // Once only connections with credentials are left, nothing is taken.
        for slot in &slots {
            slot.trusted.store(true, Ordering::Relaxed);
        }
        let again = connections.admit(address(9)).unwrap();
        again.trusted.store(true, Ordering::Relaxed);
        assert_eq!(connections.admit(address(9)).err(), Some(Refusal::Full));
        drop(slots);
        assert_eq!(connections.open.lock().unwrap().len(), 1);
    }
}
