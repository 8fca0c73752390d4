//! What a metric read means: `sum(revenue) per month`, `latest(lead_value)`, or the
//! shorthand `revenue.monthly` (= `sum(revenue) per month`). Shared by the checker and
//! everything that evaluates triggers and goals.

use crate::ast::MetricRef;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Latest,
}

impl Aggregation {
    pub const ALL: [Aggregation; 6] = [
        Aggregation::Sum,
        Aggregation::Avg,
        Aggregation::Min,
        Aggregation::Max,
        Aggregation::Count,
        Aggregation::Latest,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Sum => "sum",
            Aggregation::Avg => "avg",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::Count => "count",
            Aggregation::Latest => "latest",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Aggregation::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn names() -> Vec<&'static str> {
        Aggregation::ALL.map(Aggregation::name).to_vec()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Year];

    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Period::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn names() -> Vec<&'static str> {
        Period::ALL.map(Period::name).to_vec()
    }

    /// The calendar period containing `at` in `tz`: its start, its end (exclusive),
    /// and a key naming it (`2026-11-25`, `2026-W48`, `2026-11`, `2026`).
    pub fn window(self, at: DateTime<Utc>, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>, String) {
        let local = at.with_timezone(&tz).date_naive();
        let (start, end, key) = match self {
            Period::Day => (
                local,
                local + Duration::days(1),
                local.format("%Y-%m-%d").to_string(),
            ),
            Period::Week => {
                let monday = local - Duration::days(local.weekday().num_days_from_monday() as i64);
                let week = local.iso_week();
                (
                    monday,
                    monday + Duration::days(7),
                    format!("{}-W{:02}", week.year(), week.week()),
                )
            }
            Period::Month => {
                let first = local.with_day(1).unwrap_or(local);
                let next = if first.month() == 12 {
                    NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
                };
                (
                    first,
                    next.unwrap_or(first),
                    first.format("%Y-%m").to_string(),
                )
            }
            Period::Year => {
                let first = NaiveDate::from_ymd_opt(local.year(), 1, 1).unwrap_or(local);
                let next = NaiveDate::from_ymd_opt(local.year() + 1, 1, 1).unwrap_or(first);
                (first, next, local.year().to_string())
            }
        };
        (midnight(start, tz), midnight(end, tz), key)
    }

    /// The period a shorthand suffix names: `revenue.monthly`.
    fn from_suffix(suffix: &str) -> Option<Self> {
        Some(match suffix {
            "daily" => Period::Day,
            "weekly" => Period::Week,
            "monthly" => Period::Month,
            "yearly" | "annual" => Period::Year,
            _ => return None,
        })
    }
}

/// Why `name` is not a metric the loaded programs know (`known`), with the nearest
/// known name: a typo in a name fed from outside would otherwise start a series no
/// goal or trigger ever reads.
pub fn unknown_metric<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let help = crate::text::did_you_mean(name, known)
        .unwrap_or_else(|| format!("declare it: metric {name} {{ unit \"…\" }}"));
    format!("no metric `{name}` is declared, nor recorded by a workflow; {help}")
}

/// A sample's value and time as given from outside: a finite number, and an
/// RFC 3339 time (`now` without one).
pub fn sample(
    value: f64,
    at: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(f64, DateTime<Utc>), String> {
    if !value.is_finite() {
        return Err(format!("{value} is not a finite number"));
    }
    let at = match at {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map_err(|_| format!("`{text}` is not an RFC 3339 time like 2026-11-25T09:00:00Z"))?
            .with_timezone(&Utc),
        None => now,
    };
    Ok((value, at))
}

/// Refuses a sample's name that no `.wf` file could read: not a metric name, or
/// one whose last part is a period suffix.
pub fn recordable(name: &str) -> Result<(), String> {
    if !crate::syntax::is_metric_name(name) {
        return Err(format!(
            "`{name}` is not a metric name: letters, digits and `_` in dotted parts, each starting with a letter or `_`"
        ));
    }
    if let Some((series, suffix)) = split_period_suffix(name) {
        return Err(format!(
            "`{name}` cannot be recorded: `.{suffix}` is a period suffix, so a read of `{name}` is the sum of `{series}` over the period; record `{series}`"
        ));
    }
    Ok(())
}

/// `(series, suffix)` when `name` ends in a period suffix (`revenue.monthly`): a
/// read of such a name is a sum over the series, so no series can be named so.
pub fn split_period_suffix(name: &str) -> Option<(&str, &str)> {
    name.rsplit_once('.')
        .filter(|(_, suffix)| Period::from_suffix(suffix).is_some())
}

/// A metric read with its meaning spelled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// The recorded series it reads.
    pub series: String,
    pub aggregation: Aggregation,
    pub period: Option<Period>,
}

/// `sum(revenue) per month`, as it would be written.
impl std::fmt::Display for MetricQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.aggregation.name(), self.series)?;
        match self.period {
            Some(period) => write!(f, " per {}", period.name()),
            None => Ok(()),
        }
    }
}

/// Why a metric read means nothing: the name as written is the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricError {
    UnknownAggregation(String),
    UnknownPeriod(String),
}

/// Spells out a metric read. A bare name reads its latest sample unless its last
/// dotted segment is a period suffix.
pub fn resolve(metric: &MetricRef) -> Result<MetricQuery, MetricError> {
    let Some(aggregation) = &metric.aggregation else {
        let name = &metric.metric.value;
        if let Some((series, suffix)) = split_period_suffix(name) {
            return Ok(MetricQuery {
                series: series.to_string(),
                aggregation: Aggregation::Sum,
                period: Period::from_suffix(suffix),
            });
        }
        return Ok(MetricQuery {
            series: name.clone(),
            aggregation: Aggregation::Latest,
            period: None,
        });
    };
    let parsed = Aggregation::parse(&aggregation.name)
        .ok_or_else(|| MetricError::UnknownAggregation(aggregation.name.clone()))?;
    let period = match &metric.period {
        Some(period) => Some(
            Period::parse(&period.name)
                .ok_or_else(|| MetricError::UnknownPeriod(period.name.clone()))?,
        ),
        None => None,
    };
    Ok(MetricQuery {
        series: metric.metric.value.clone(),
        aggregation: parsed,
        period,
    })
}

/// The first instant of a local calendar day (a DST gap at midnight moves it later).
fn midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..4)
        .find_map(|hours| {
            tz.from_local_datetime(&(naive + Duration::hours(hours)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        crate::store::parse_timestamp(text).unwrap()
    }

    #[test]
    fn periods_are_calendar_periods_in_the_timezone() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        // 23:30 UTC on Nov 30 is already December 1st in Paris.
        let (start, end, key) = Period::Month.window(at("2026-11-30T23:30:00Z"), paris);
        assert_eq!(key, "2026-12");
        assert_eq!(start, at("2026-11-30T23:00:00Z"));
        assert_eq!(end, at("2026-12-31T23:00:00Z"));
        let (start, end, key) = Period::Day.window(at("2026-03-29T12:00:00Z"), paris);
        assert_eq!(key, "2026-03-29");
        // The day DST starts is 23 hours long.
        assert_eq!(end - start, Duration::hours(23));
        let (_, _, key) = Period::Week.window(at("2026-11-25T10:00:00Z"), chrono_tz::UTC);
        assert_eq!(key, "2026-W48");
        let (start, _, key) = Period::Year.window(at("2026-06-01T00:00:00Z"), chrono_tz::UTC);
        assert_eq!((start, key.as_str()), (at("2026-01-01T00:00:00Z"), "2026"));
    }
}
