//! Event names and the patterns triggers listen with: dot-separated segments of
//! letters, digits, `_` and `-`, where a pattern's `*` matches one whole segment.

/// Why `name` cannot be emitted as an event, as a message for `wfc emit` and the
/// HTTP API; `None` when it is a valid event name.
pub fn invalid_event_name(name: &str) -> Option<String> {
    event_problem(name, false)
        .map(|problem| format!("`{name}` is not a valid event name: {problem}"))
}

/// What is wrong with `name` as an event name (`glob`: as a trigger's pattern).
pub fn event_problem(name: &str, glob: bool) -> Option<String> {
    if name.is_empty() {
        return Some("empty name".into());
    }
    for segment in name.split('.') {
        if segment.is_empty() {
            return Some("empty segment between dots".into());
        }
        if segment == "*" {
            if glob {
                continue;
            }
            return Some("an emitted event is concrete: no `*`".into());
        }
        if let Some(bad) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        {
            return Some(if bad == '*' {
                "`*` must be a whole segment".into()
            } else {
                format!("`{bad}` is not allowed; use letters, digits, `_` and `-`")
            });
        }
    }
    None
}

/// Whether an event name matches a trigger's pattern: dot-separated segments, where
/// `*` matches exactly one segment.
pub fn matches(pattern: &str, name: &str) -> bool {
    let mut pattern = pattern.split('.');
    let mut name = name.split('.');
    loop {
        match (pattern.next(), name.next()) {
            (None, None) => return true,
            (Some(p), Some(n)) if p == "*" || p == n => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_segments() {
        assert!(matches("compliance.*", "compliance.alert"));
        assert!(!matches("compliance.*", "compliance"));
        assert!(!matches("compliance.*", "compliance.alert.high"));
        assert!(matches("*.created", "lead.created"));
        assert!(matches("lead.created", "lead.created"));
        assert!(!matches("lead.created", "lead.createdx"));
        assert!(matches("a.*.c", "a.b.c"));
    }
}
