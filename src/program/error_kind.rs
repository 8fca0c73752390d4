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
    /// An HTTP agent's service answered 4xx (other than 429): the request is wrong.
    Http4xx,
    /// An HTTP agent's service answered 5xx.
    Http5xx,
    /// An HTTP agent's service answered 429 Too Many Requests.
    RateLimited,
    /// An HTTP agent's service could not be reached (DNS, refused, TLS, reset).
    Connect,
    /// A `fail` statement ended the execution.
    Fail,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Failed,
        ErrorKind::Timeout,
        ErrorKind::InvalidOutput,
        ErrorKind::InvalidInput,
        ErrorKind::CircuitOpen,
        ErrorKind::Expression,
        ErrorKind::Fail,
        ErrorKind::Http4xx,
        ErrorKind::Http5xx,
        ErrorKind::RateLimited,
        ErrorKind::Connect,
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
            ErrorKind::Http4xx => "http_4xx",
            ErrorKind::Http5xx => "http_5xx",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Connect => "connect",
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
                | ErrorKind::Http4xx
                | ErrorKind::Http5xx
                | ErrorKind::RateLimited
                | ErrorKind::Connect
        )
    }

    /// The kinds `retry_on` can name.
    pub fn retriable_kinds() -> impl Iterator<Item = ErrorKind> {
        ErrorKind::ALL.into_iter().filter(|k| k.retriable())
    }

    /// The kinds retried when a policy has no `retry_on`: all it could name but
    /// `http_4xx`, a request the service refused, which would be refused again.
    pub fn retried_by_default() -> impl Iterator<Item = ErrorKind> {
        ErrorKind::retriable_kinds().filter(|k| *k != ErrorKind::Http4xx)
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
            ErrorKind::Failed
                | ErrorKind::Timeout
                | ErrorKind::InvalidOutput
                | ErrorKind::Http5xx
                | ErrorKind::Connect
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
            [
                "failed",
                "timeout",
                "invalid_output",
                "circuit_open",
                "http_4xx",
                "http_5xx",
                "rate_limited",
                "connect"
            ]
        );
        let by_default: Vec<&str> = ErrorKind::retried_by_default()
            .map(ErrorKind::name)
            .collect();
        assert!(!by_default.contains(&"http_4xx") && by_default.contains(&"http_5xx"));
    }
}
