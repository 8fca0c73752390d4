//! The built-in functions of expressions: one list that the checker (arity,
//! types, did-you-mean) and the evaluator both read.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Len,
    Sum,
    Min,
    Max,
    Round,
    Now,
    Concat,
    Range,
    /// `secret("NAME")`: an environment variable, only in an HTTP agent's
    /// headers, a subprocess agent's `env` or a language model's `key`.
    Secret,
}

/// The most numbers one `range` makes: a loop over more is a mistake, and the list
/// is held in memory.
pub const MAX_RANGE: usize = 1_000_000;

impl Builtin {
    pub const ALL: [Builtin; 9] = [
        Builtin::Len,
        Builtin::Sum,
        Builtin::Min,
        Builtin::Max,
        Builtin::Round,
        Builtin::Now,
        Builtin::Concat,
        Builtin::Range,
        Builtin::Secret,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Len => "len",
            Builtin::Sum => "sum",
            Builtin::Min => "min",
            Builtin::Max => "max",
            Builtin::Round => "round",
            Builtin::Now => "now",
            Builtin::Concat => "concat",
            Builtin::Range => "range",
            Builtin::Secret => "secret",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The fewest and most arguments it takes.
    pub fn arity(self) -> (usize, usize) {
        match self {
            Builtin::Len | Builtin::Sum | Builtin::Secret => (1, 1),
            Builtin::Round | Builtin::Range => (1, 2),
            Builtin::Now => (0, 0),
            Builtin::Min | Builtin::Max | Builtin::Concat => (1, usize::MAX),
        }
    }

    /// "len, sum, … and concat", for help text.
    pub fn listed() -> String {
        let names: Vec<&str> = Builtin::ALL.map(Builtin::name).to_vec();
        match names.split_last() {
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Builtin;

    #[test]
    fn names_round_trip_and_list_in_english() {
        for builtin in Builtin::ALL {
            assert_eq!(Builtin::from_name(builtin.name()), Some(builtin));
        }
        assert_eq!(
            Builtin::listed(),
            "len, sum, min, max, round, now, concat, range and secret"
        );
    }
}
