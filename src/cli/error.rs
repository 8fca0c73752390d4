//! Why a command failed, and the one place that decides its exit status.

use crate::loader::LoadError;
use crate::resume::Refusal;
use crate::runtime::RunError;
use crate::serve::ServeError;
use crate::store::StoreError;
use std::fmt::Display;

/// Exit statuses shared by every command.
pub mod exit {
    /// A diagnostic error (or a denied warning) was found, or an execution failed.
    pub const PROBLEMS: u8 = 1;
    /// Bad usage or unreadable input.
    pub const USAGE: u8 = 2;
    /// The database failed while the command ran (locked past the busy timeout,
    /// corrupt, out of space): the command may succeed when run again.
    pub const STORE: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments, unknown names, unreadable or unsuitable input.
    #[error("{0}")]
    Usage(String),
    /// The command ran into problems it has reported (diagnostics, a failed
    /// execution); the message sums them up.
    #[error("{0}")]
    Problems(String),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Resume(#[from] Refusal),
}

/// A message is a usage error: the commands' own checks of what they were given.
impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::Usage(message)
    }
}

impl Error {
    pub fn usage(message: impl Display) -> Error {
        Error::Usage(message.to_string())
    }

    /// Prints the error for the user: for a command that goes on with other work,
    /// and for the one that ends.
    pub fn report(&self) {
        eprintln!("error: {self}");
    }

    /// The exit status this error ends the command with.
    pub fn code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Load(_) => exit::USAGE,
            Error::Problems(_) => exit::PROBLEMS,
            Error::Store(error) => store_code(error),
            Error::Run(error) => match error {
                RunError::UnknownWorkflow { .. }
                | RunError::UnknownTrigger { .. }
                | RunError::IdleTrigger(_)
                | RunError::MissingSecrets { .. } => exit::USAGE,
                RunError::Store(error) => store_code(error),
                // Input that does not fit is a usage problem, like input that is
                // not JSON: nothing ran.
                RunError::InvalidInput { .. } => exit::USAGE,
                RunError::AlreadyFired { .. } => exit::PROBLEMS,
            },
            Error::Resume(Refusal::Store(error)) => store_code(error),
            Error::Resume(_) => exit::USAGE,
            Error::Serve(error) => match error {
                ServeError::Store(error) => store_code(error),
                // A dispatcher that failed mid-run: restarting may help.
                ServeError::Dispatcher(_) => exit::PROBLEMS,
                ServeError::TokenRequired(_)
                | ServeError::EditWithoutToken
                | ServeError::Listen { .. }
                | ServeError::Invalid { .. }
                | ServeError::MissingSecrets { .. }
                | ServeError::Unreadable(_)
                | ServeError::Signals(_)
                | ServeError::Clock(_) => exit::USAGE,
            },
        }
    }
}

/// A database that cannot be used as asked (someone else's, too new, read-only)
/// or an id that names no execution is the user's to fix; a failing database is not.
fn store_code(error: &StoreError) -> u8 {
    match error {
        StoreError::Sql(_)
        | StoreError::Postgres(_)
        | StoreError::Shared(_)
        | StoreError::Decode { .. }
        | StoreError::LeaseLost
        | StoreError::Backup { .. } => exit::STORE,
        StoreError::Open { .. }
        | StoreError::Connect { .. }
        | StoreError::TooNew { .. }
        | StoreError::Foreign(_)
        | StoreError::Outdated { .. }
        | StoreError::OlderWorkers { .. }
        | StoreError::ReadOnly(_)
        | StoreError::NotEmpty { .. }
        | StoreError::NoSuchExecution(_)
        | StoreError::AmbiguousExecution { .. }
        | StoreError::ShortId(_)
        | StoreError::BackupExists(_) => exit::USAGE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_database_is_not_a_usage_error() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert_eq!(Error::from(StoreError::Sql(busy)).code(), exit::STORE);
        let unknown = StoreError::NoSuchExecution("abcd".into());
        assert_eq!(Error::from(unknown).code(), exit::USAGE);
        let unknown = RunError::IdleTrigger("t".into());
        assert_eq!(Error::from(unknown).code(), exit::USAGE);
    }
}
