//! The ways a step or an execution fails: one list that the checker (`retry_on`),
//! the runtime (retries, `catch` values) and the store (attempt statuses) all read.

/// Why a step failed. The names are stable: they appear in `retry_on`, in `catch`
/// variables and in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The agent ran and reported failure (non-zero exit, or could not start).
    Failed,
    /// The agent took longer than its timeout; its process group was killed.
    Timeout,
    /// The agent's output was not JSON or did not fit its declared `output`.
    InvalidOutput,
    /// The value passed to the agent did not fit its declared `input`.
    InvalidInput,
    /// The agent's circuit breaker is open.
    CircuitOpen,
    /// An expression could not be evaluated (a type mismatch at run time).
    Expression,
    /// A `fail` statement ended the execution.
    Fail,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Failed,
        ErrorKind::Timeout,
        ErrorKind::InvalidOutput,
        ErrorKind::InvalidInput,
        ErrorKind::CircuitOpen,
        ErrorKind::Expression,
        ErrorKind::Fail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Failed => "failed",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidOutput => "invalid_output",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::Expression => "expression",
            ErrorKind::Fail => "fail",
        }
    }

    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether a retry policy can name this kind in `retry_on`: the agent's own
    /// failures. Bad input, expressions and `fail` would fail the same way again.
    pub fn retriable(self) -> bool {
        matches!(
            self,
            ErrorKind::Failed
                | ErrorKind::Timeout
                | ErrorKind::InvalidOutput
                | ErrorKind::CircuitOpen
        )
    }

    /// The kinds `retry_on` can name, which are also those retried when a policy
    /// has no `retry_on`.
    pub fn retriable_kinds() -> impl Iterator<Item = ErrorKind> {
        ErrorKind::ALL.into_iter().filter(|k| k.retriable())
    }

    /// The kinds a `catch` can take: every kind but `fail`, which ends the
    /// execution.
    pub fn catchable_kinds() -> impl Iterator<Item = ErrorKind> {
        ErrorKind::ALL.into_iter().filter(|k| *k != ErrorKind::Fail)
    }

    /// Whether a failure of this kind counts against an agent's circuit breaker:
    /// only the agent's own failures do (bad input is the caller's).
    pub fn counts_against_breaker(self) -> bool {
        matches!(
            self,
            ErrorKind::Failed | ErrorKind::Timeout | ErrorKind::InvalidOutput
        )
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn names_round_trip() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(ErrorKind::from_name("Failed"), None);
        let retriable: Vec<&str> = ErrorKind::retriable_kinds().map(ErrorKind::name).collect();
        assert_eq!(
            retriable,
            ["failed", "timeout", "invalid_output", "circuit_open"]
        );
    }
}
