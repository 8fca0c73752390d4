//! Durations as people write them, in `.wf` files and on the command line: digits
//! and one unit. One table of units and one parser with checked arithmetic, so
//! `--grace 1h` means what `timeout 1h` means and no number overflows.

/// A duration in milliseconds.
pub type Millis = u64;

/// Every unit, with its length in milliseconds.
pub const UNITS: [(&str, Millis); 5] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// Ten years: longer durations are almost certainly a slip of the unit.
pub const MAX: Millis = 10 * 365 * 86_400_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DurationError {
    #[error("`{0}` is not a duration: write digits and a unit (ms, s, m, h or d), like 250ms, 30s or 1h")]
    Malformed(String),
    #[error("`{0}` is too long: a duration must be at most 10 years")]
    TooLong(String),
}

/// Parses `250ms`, `30s`, `10m`, `1h` or `1d`; at most [`MAX`].
pub fn parse(text: &str) -> Result<Millis, DurationError> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let Some(&(_, length)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(DurationError::Malformed(text.to_string()));
    };
    if digits.is_empty() {
        return Err(DurationError::Malformed(text.to_string()));
    }
    // Digits that overflow u64 are too long, not malformed.
    digits
        .parse::<Millis>()
        .ok()
        .and_then(|n| n.checked_mul(length))
        .filter(|&ms| ms <= MAX)
        .ok_or_else(|| DurationError::TooLong(text.to_string()))
}

/// Writes a duration as it would be parsed: in the largest unit that divides it.
pub fn format(duration: std::time::Duration) -> String {
    let ms = duration.as_millis().min(Millis::MAX as u128) as Millis;
    let (name, length) = UNITS
        .iter()
        .rev()
        .find(|(_, length)| ms % length == 0 && ms > 0)
        .unwrap_or(&UNITS[0]);
    format!("{}{name}", ms / length)
}

/// A duration for people to read: `850ms`, `12.3s`, `1h 0m 20s`, `3d 0h 1m`.
pub fn human(duration: std::time::Duration) -> String {
    let ms = duration.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = duration.as_secs();
    if secs < 60 {
        return match ms % 1000 {
            0 => format!("{secs}s"),
            _ => format!("{:.1}s", duration.as_secs_f64()),
        };
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match h {
        0 => format!("{m}m {s}s"),
        h if h < 48 => format!("{h}h {m}m {s}s"),
        h => format!("{}d {}h {m}m", h / 24, h % 24),
    }
}

/// Parses a duration for the standard library.
pub fn parse_std(text: &str) -> Result<std::time::Duration, DurationError> {
    parse(text).map(std::time::Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_short() {
        use std::time::Duration;
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(human(Duration::from_secs(20)), "20s");
        assert_eq!(human(Duration::from_secs(3620)), "1h 0m 20s");
        assert_eq!(human(Duration::from_secs(3 * 86_400 + 60)), "3d 0h 1m");
    }

    #[test]
    fn units_and_limits() {
        assert_eq!(parse("250ms"), Ok(250));
        assert_eq!(parse("30s"), Ok(30_000));
        assert_eq!(parse("10m"), Ok(600_000));
        assert_eq!(parse("1h"), Ok(3_600_000));
        assert_eq!(parse("2d"), Ok(172_800_000));
        assert_eq!(parse("0s"), Ok(0));
        for malformed in ["", "s", "10", "10x", "1.5s", "-1s", "10 s", "1hh"] {
            assert!(
                matches!(parse(malformed), Err(DurationError::Malformed(_))),
                "{malformed}"
            );
        }
        for long in [
            "18446744073709551615s",
            "307445734561825861m",
            "99999999999999999999999ms",
            "3651d",
        ] {
            assert!(
                matches!(parse(long), Err(DurationError::TooLong(_))),
                "{long}"
            );
        }
        assert_eq!(parse("3650d"), Ok(MAX));
        for text in ["0ms", "250ms", "1500ms", "30s", "90s", "10m", "1h", "2d"] {
            assert_eq!(format(parse_std(text).unwrap()), text);
        }
    }
}
