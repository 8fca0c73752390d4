//! When a cron trigger is due, as a pure function of the last slot handled and the
//! current time, so it can be tested with any clock (DST changes, month ends,
//! restarts in the middle of a slot).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::CronParser;
use croner::Cron;

/// A slot more than this late counts as missed rather than on time.
pub const ON_TIME: chrono::Duration = chrono::Duration::seconds(5);
/// The most missed slots counted after a long outage.
const MAX_COUNTED: usize = 100_000;

#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    tz: Tz,
}

/// What is due at `now` for a trigger whose last handled slot is `last`.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The latest slot in `(last, now]`, if any.
    pub latest: Option<DateTime<Utc>>,
    /// Whether that slot is on time (at most [`ON_TIME`] ago) rather than missed.
    pub on_time: bool,
    /// How many slots in `(last, now]` there are.
    pub slots: usize,
    /// The first slot after `now`.
    pub next: Option<DateTime<Utc>>,
}

/// The five fields of a cron expression: name and the numbers it allows.
const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];

/// The first number of a five-field expression outside its field's range, as a
/// message naming the field (`hour must be 0–23, found 25`). Steps (`*/15`) are not
/// values; names and the cron crate's extensions are left to the crate.
pub fn out_of_range(expression: &str) -> Option<String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return None;
    }
    for (field, (name, low, high)) in fields.iter().zip(FIELDS) {
        for part in field.split(',') {
            let values = part.split('/').next().unwrap_or("");
            for number in values.split('-') {
                let Ok(value) = number.parse::<u64>() else {
                    continue;
                };
                if value < u64::from(low) || value > u64::from(high) {
                    return Some(format!("{name} must be {low}–{high}, found {value}"));
                }
            }
        }
    }
    None
}

impl Schedule {
    pub fn new(expression: &str, tz: Tz) -> Result<Schedule, String> {
        let cron = CronParser::new()
            .parse(expression)
            .map_err(|e| e.to_string())?;
        Ok(Schedule { cron, tz })
    }

    /// The timezone its fields are read in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first slot strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    pub fn due(&self, last: DateTime<Utc>, now: DateTime<Utc>) -> Due {
        let mut latest = None;
        let mut slots = 0;
        let mut cursor = last;
        let next = loop {
            match self.next_after(cursor) {
                Some(slot) if slot <= now && slots < MAX_COUNTED => {
                    slots += 1;
                    latest = Some(slot);
                    cursor = slot;
                }
                Some(slot) if slot <= now => cursor = slot,
                other => break other,
            }
        };
        Due {
            latest,
            on_time: latest.is_some_and(|slot| now - slot <= ON_TIME),
            slots,
            next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        crate::store::parse_timestamp(text).unwrap()
    }

    fn schedule(expression: &str, tz: &str) -> Schedule {
        Schedule::new(expression, tz.parse().unwrap()).unwrap()
    }

    #[test]
    fn a_number_out_of_range_names_its_field() {
        assert_eq!(
            out_of_range("0 25 * * *").as_deref(),
            Some("hour must be 0–23, found 25")
        );
        assert_eq!(
            out_of_range("*/15 9-17 1,32 * *").as_deref(),
            Some("day of month must be 1–31, found 32")
        );
        assert_eq!(
            out_of_range("0 9 * 0 MON").as_deref(),
            Some("month must be 1–12, found 0")
        );
        assert_eq!(out_of_range("*/90 * * * 7"), None, "a step is not a value");
        assert_eq!(out_of_range("0 9 * * *"), None);
    }

    #[test]
    fn daily_at_nine_in_a_timezone_across_dst() {
        let paris = schedule("0 9 * * *", "Europe/Paris");
        // Winter: 09:00 Paris is 08:00 UTC; after the March change it is 07:00 UTC.
        assert_eq!(
            paris.next_after(at("2026-03-28T08:00:00Z")),
            Some(at("2026-03-29T07:00:00Z"))
        );
        assert_eq!(
            paris.next_after(at("2026-03-27T09:00:00Z")),
            Some(at("2026-03-28T08:00:00Z"))
        );
        // And back in October.
        assert_eq!(
            paris.next_after(at("2026-10-24T08:00:00Z")),
            Some(at("2026-10-25T08:00:00Z"))
        );
    }

    #[test]
    fn a_slot_inside_a_dst_gap_or_overlap_fires_once() {
        let paris = schedule("30 2 * * *", "Europe/Paris");
        // 02:30 does not exist on 2026-03-29 in Paris: the slot moves to 03:00 local
        // (01:00 UTC), once, and the next day is back to 02:30 (00:30 UTC).
        let in_gap = paris.next_after(at("2026-03-28T02:00:00Z")).unwrap();
        assert_eq!(in_gap, at("2026-03-29T01:00:00Z"));
        assert_eq!(paris.next_after(in_gap), Some(at("2026-03-30T00:30:00Z")));
        // 02:30 happens twice on 2026-10-25; count the slots that day.
        let due = paris.due(at("2026-10-24T12:00:00Z"), at("2026-10-25T12:00:00Z"));
        assert_eq!(due.slots, 1);
    }

    #[test]
    fn month_ends_and_leap_days() {
        let last_day = schedule("0 0 L * *", "UTC");
        assert_eq!(
            last_day.next_after(at("2026-02-01T00:00:00Z")),
            Some(at("2026-02-28T00:00:00Z"))
        );
        let thirty_first = schedule("0 12 31 * *", "UTC");
        assert_eq!(
            thirty_first.next_after(at("2026-04-01T00:00:00Z")),
            Some(at("2026-05-31T12:00:00Z"))
        );
        let leap = schedule("0 0 29 2 *", "UTC");
        assert_eq!(
            leap.next_after(at("2026-03-01T00:00:00Z")),
            Some(at("2028-02-29T00:00:00Z"))
        );
    }

    #[test]
    fn due_counts_missed_slots_and_tells_on_time_from_late() {
        let hourly = schedule("0 * * * *", "UTC");
        let on_time = hourly.due(at("2026-11-25T08:00:00Z"), at("2026-11-25T09:00:02Z"));
        assert_eq!(on_time.latest, Some(at("2026-11-25T09:00:00Z")));
        assert!(on_time.on_time);
        assert_eq!(on_time.slots, 1);
        assert_eq!(on_time.next, Some(at("2026-11-25T10:00:00Z")));
        // Down from 08:00 until 11:30: three slots missed, none on time.
        let late = hourly.due(at("2026-11-25T08:00:00Z"), at("2026-11-25T11:30:00Z"));
        assert_eq!((late.slots, late.on_time), (3, false));
        assert_eq!(late.latest, Some(at("2026-11-25T11:00:00Z")));
        // Restarted in the middle of a slot that was already handled: nothing due.
        let handled = hourly.due(at("2026-11-25T09:00:00Z"), at("2026-11-25T09:00:01Z"));
        assert_eq!((handled.latest, handled.slots), (None, 0));
    }
}
