//! Whether this server reaches its store, as its dispatcher last saw it (a
//! trivial query each tick): `/health` answers 503 with the reason while it does
//! not, and the log says so once when it is lost and once when it is back, not
//! at every failed query.

use std::sync::Mutex;

#[derive(Default)]
pub struct Reachability {
    /// Why the store cannot be reached, while it cannot.
    lost: Mutex<Option<String>>,
}

impl Reachability {
    /// Takes the result of a look at the store; whether it answered.
    pub fn observe<T, E: std::fmt::Display>(&self, looked: &Result<T, E>) -> bool {
        let mut lost = self.lost.lock().unwrap_or_else(|e| e.into_inner());
        match (looked, lost.is_some()) {
            (Ok(_), true) => {
                *lost = None;
                tracing::info!("the database answers again; resuming what stopped");
                true
            }
            (Ok(_), false) => true,
            (Err(error), was_lost) => {
                if !was_lost {
                    tracing::error!(%error, "the database cannot be reached; retrying every tick");
                }
                *lost = Some(error.to_string());
                false
            }
        }
    }

    /// Why the store cannot be reached, if it cannot.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::Reachability;

    #[test]
    fn the_state_follows_the_last_look() {
        let reach = Reachability::default();
        assert!(reach.observe(&Ok::<(), &str>(())));
        assert!(!reach.observe(&Err::<(), _>("connection refused")));
        assert!(!reach.observe(&Err::<(), _>("connection closed")));
        assert_eq!(reach.lost().as_deref(), Some("connection closed"));
        assert!(reach.observe(&Ok::<(), &str>(())));
        assert_eq!(reach.lost(), None);
    }
}
