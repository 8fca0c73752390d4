//! Goal hierarchies evaluated over the recorded metrics: each KPI's current value,
//! progress, projection at its deadline and status, rolled up the tree by weight,
//! and the agent team formed for each goal that asks for one.

mod team;
mod trend;

pub use team::{form_team, Member, TeamReport};

use crate::ast::{CompareOp, Goal, Kpi};
use crate::metric::{self, Aggregation};
use crate::program::Program;
use crate::store::{self, Store, StoreError};
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::HashMap;

/// The status vocabulary is the program's: alerts name it (`when goal g is at_risk`).
pub use crate::program::GoalStatus as Status;

#[derive(Debug, Clone, Serialize)]
pub struct KpiReport {
    /// The metric read as written, e.g. `sum(revenue) per year`.
    pub metric: String,
    pub series: String,
    pub op: &'static str,
    pub target: f64,
    pub current: Option<f64>,
    /// The calendar period the value covers, for a periodic metric.
    pub period: Option<String>,
    pub progress: Option<f64>,
    pub deadline: Option<String>,
    /// The value the trend of the metric reaches at the deadline.
    pub projection: Option<f64>,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize)]
pub struct GoalReport {
    pub name: String,
    pub title: Option<String>,
    /// Its own department, else its nearest ancestor's.
    pub department: Option<String>,
    pub weight: f64,
    pub kpi: Option<KpiReport>,
    /// Its KPI's progress, or the weighted mean of its children's and its own.
    pub progress: Option<f64>,
    pub status: Status,
    pub team: Option<TeamReport>,
    pub pursued_by: Vec<String>,
    pub children: Vec<GoalReport>,
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Evaluates every goal of `program` as of `at`, from the samples in `store`.
pub fn evaluate(
    program: &Program,
    store: &Store,
    at: DateTime<Utc>,
) -> Result<Vec<GoalReport>, StoreError> {
    let tz = timezone(program);
    // Team load as it stood at `at`: calls in flight then, and started in the hour
    // before.
    let load = store.agent_load(
        &store::timestamp(at - Duration::hours(1)),
        &store::timestamp(at),
    )?;
    let context = Context {
        program,
        store,
        at,
        tz,
        load,
    };
    program
        .goals
        .iter()
        .map(|goal| context.goal(goal, None))
        .collect()
}

/// The program's timezone (`timezone "…"`), UTC without one.
pub fn timezone(program: &Program) -> Tz {
    program.timezone
}

/// The instant `date` ends in `tz` (the next day's first instant, exclusive), so
/// samples of that whole day count: what `wfc goals --at DATE` evaluates as of.
pub fn end_of(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let next = (date + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    // A midnight that a DST change skips starts the day at its first real instant.
    (0..24)
        .find_map(|hour| {
            use chrono::TimeZone;
            tz.from_local_datetime(&(next + Duration::hours(hour)))
                .earliest()
        })
        .map_or_else(|| next.and_utc(), |t| t.with_timezone(&Utc))
}

struct Context<'a> {
    program: &'a Program,
    store: &'a Store,
    at: DateTime<Utc>,
    tz: Tz,
    load: HashMap<String, (u32, u32)>,
}

impl Context<'_> {
    fn goal(&self, goal: &Goal, inherited: Option<&str>) -> Result<GoalReport, StoreError> {
        let department = goal
            .department
            .as_ref()
            .map(|d| d.name.as_str())
            .or(inherited);
        let kpi = goal.kpi.as_ref().map(|k| self.kpi(k)).transpose()?;
        let children = goal
            .children
            .iter()
            .map(|child| self.goal(child, department))
            .collect::<Result<Vec<_>, _>>()?;
        let mut parts: Vec<(f64, Option<f64>, Status)> = children
            .iter()
            .map(|c| (c.weight, c.progress, c.status))
            .collect();
        if let Some(kpi) = &kpi {
            parts.push((1.0, kpi.progress, kpi.status));
        }
        let progress = weighted_mean(&parts);
        let status = match &kpi {
            Some(kpi) if kpi.status == Status::Achieved => Status::Achieved,
            _ => combine(parts.iter().map(|p| p.2)),
        };
        let team = goal
            .team
            .as_ref()
            .map(|team| form_team(self.program, department, team, &self.load));
        Ok(GoalReport {
            name: goal.name.name.clone(),
            title: goal.title.as_ref().map(|t| t.value.clone()),
            department: department.map(str::to_string),
            weight: goal.weight.as_ref().map_or(1.0, |w| w.value),
            kpi,
            progress,
            status,
            team,
            pursued_by: goal.pursued_by.iter().map(|w| w.name.clone()).collect(),
            children,
        })
    }

    fn kpi(&self, kpi: &Kpi) -> Result<KpiReport, StoreError> {
        let threshold = &kpi.threshold;
        let target = threshold.target.value;
        let written = written(&threshold.metric);
        // The checker has vetted the read; an unresolvable one reads as `latest`.
        let query = metric::resolve(&threshold.metric).unwrap_or(metric::MetricQuery {
            series: threshold.metric.metric.value.clone(),
            aggregation: Aggregation::Latest,
            period: None,
        });
        // `at` is exclusive: the period is the one its last included instant is in,
        // so the end of 30 November reads November, not December.
        let last = self.at - Duration::milliseconds(1);
        let window = query.period.map(|p| p.window(last, self.tz));
        let from = window.as_ref().map(|w| store::timestamp(w.0));
        // Stored times are whole milliseconds, cut down: a sample recorded in
        // `at`'s own millisecond, before it, is before the bound rounded up.
        let until = store::timestamp(
            self.at
                .duration_round_up(Duration::milliseconds(1))
                .unwrap_or(self.at),
        );
        let deadline = kpi.deadline.as_ref().and_then(|d| {
            NaiveDate::parse_from_str(&d.value, "%Y-%m-%d")
                .ok()
                .map(|date| (d.value.clone(), end_of(date, self.tz)))
        });
        let (current, projection) = match &deadline {
            // Without a deadline only the value is wanted: aggregated by the
            // database, not read sample by sample (a year holds millions).
            None => {
                let value = self.store.metric_aggregate(
                    &query.series,
                    query.aggregation,
                    from.as_deref(),
                    Some(&until),
                    None,
                )?;
                (value, None)
            }
            Some((_, end)) => {
                let samples =
                    self.store
                        .samples_between(&query.series, from.as_deref(), Some(&until))?;
                // The KPI's value after each sample; its current value is the last one.
                let points = trend::running(query.aggregation, &samples);
                (
                    points.last().map(|(_, value)| *value),
                    trend::project(&points, *end),
                )
            }
        };
        // `count` of nothing is 0, a real value; other aggregates of nothing are no data.
        let current = current.or((query.aggregation == Aggregation::Count).then_some(0.0));
        let holds = |value: f64| threshold.op.holds(value, target);
        let status = match (current, &deadline) {
            (Some(value), _) if holds(value) => Status::Achieved,
            (_, Some((_, end))) if self.at >= *end => Status::Overdue,
            (None, _) => Status::NoData,
            (Some(_), Some(_)) => match projection {
                Some(p) if holds(p) => Status::OnTrack,
                Some(_) => Status::AtRisk,
                None => Status::InProgress,
            },
            (Some(_), None) => Status::InProgress,
        };
        Ok(KpiReport {
            metric: written,
            series: query.series,
            op: threshold.op.symbol(),
            target,
            current,
            period: window.map(|w| w.2),
            progress: current.map(|c| progress(threshold.op, c, target)),
            deadline: deadline.map(|d| d.0),
            projection,
            status,
        })
    }
}

/// A leaf's progress towards `target`, in [0, 1]. For `>=`/`>` it is value over
/// target; for `<=`/`<` the inverse sense, target over value (1 once at or under
/// it); `==`/`!=` are met (1) or not (0).
pub fn progress(op: CompareOp, value: f64, target: f64) -> f64 {
    let ratio = match op {
        CompareOp::Ge | CompareOp::Gt if target > 0.0 => value / target,
        CompareOp::Ge | CompareOp::Gt => f64::from(u8::from(op.holds(value, target))),
        CompareOp::Le | CompareOp::Lt if value > 0.0 => target / value,
        CompareOp::Le | CompareOp::Lt => f64::from(u8::from(op.holds(value, target))),
        CompareOp::Eq | CompareOp::Ne => f64::from(u8::from(op.holds(value, target))),
    };
    ratio.clamp(0.0, 1.0)
}

/// The weighted mean of the progresses that are known.
fn weighted_mean(parts: &[(f64, Option<f64>, Status)]) -> Option<f64> {
    let known: Vec<(f64, f64)> = parts
        .iter()
        .filter_map(|(w, p, _)| p.map(|p| (*w, p)))
        .collect();
    let total: f64 = known.iter().map(|(w, _)| w).sum();
    (total > 0.0).then(|| known.iter().map(|(w, p)| w * p).sum::<f64>() / total)
}

/// A parent's status from its parts': the worst news first.
fn combine(statuses: impl Iterator<Item = Status>) -> Status {
    let all: Vec<Status> = statuses.collect();
    let any = |s: Status| all.contains(&s);
    if all.is_empty() || all.iter().all(|s| *s == Status::NoData) {
        Status::NoData
    } else if all.iter().all(|s| *s == Status::Achieved) {
        Status::Achieved
    } else if any(Status::Overdue) {
        Status::Overdue
    } else if any(Status::AtRisk) {
        Status::AtRisk
    } else if any(Status::InProgress) || any(Status::NoData) {
        Status::InProgress
    } else {
        Status::OnTrack
    }
}

/// A metric read as the user wrote it.
fn written(metric: &crate::ast::MetricRef) -> String {
    match (&metric.aggregation, &metric.period) {
        (Some(aggregation), Some(period)) => {
            format!(
                "{}({}) per {}",
                aggregation.name, metric.metric.value, period.name
            )
        }
        (Some(aggregation), None) => format!("{}({})", aggregation.name, metric.metric.value),
        (None, _) => metric.metric.value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_in_both_senses() {
        assert_eq!(progress(CompareOp::Ge, 25.0, 100.0), 0.25);
        assert_eq!(progress(CompareOp::Ge, 250.0, 100.0), 1.0);
        assert_eq!(progress(CompareOp::Ge, -5.0, 100.0), 0.0);
        assert_eq!(progress(CompareOp::Le, 10.0, 5.0), 0.5);
        assert_eq!(progress(CompareOp::Le, 4.0, 5.0), 1.0);
        assert_eq!(progress(CompareOp::Eq, 3.0, 3.0), 1.0);
    }

    #[test]
    fn a_sample_recorded_in_the_same_millisecond_counts() {
        let program =
            crate::program::checked("metric sales { }\ngoal revenue { kpi sum(sales) >= 10 }");
        let store = Store::in_memory().unwrap();
        let recorded: DateTime<Utc> = "2026-11-26T10:00:00.123400Z".parse().unwrap();
        store.record_metric("sales", 4.0, recorded).unwrap();
        let kpi = |at: &str| {
            let goals = evaluate(&program, &store, at.parse().unwrap()).unwrap();
            goals[0].kpi.as_ref().unwrap().current
        };
        assert_eq!(kpi("2026-11-26T10:00:00.123900Z"), Some(4.0));
        // A whole millisecond stays an exclusive bound (`wfc goals --at DATE`).
        assert_eq!(kpi("2026-11-26T10:00:00.123000Z"), None);
    }

    #[test]
    fn statuses_roll_up_worst_first() {
        use Status::*;
        assert_eq!(combine([Achieved, Achieved].into_iter()), Achieved);
        assert_eq!(combine([Achieved, AtRisk, OnTrack].into_iter()), AtRisk);
        assert_eq!(combine([OnTrack, Overdue].into_iter()), Overdue);
        assert_eq!(combine([NoData, NoData].into_iter()), NoData);
        assert_eq!(combine([OnTrack, NoData].into_iter()), InProgress);
        assert_eq!(combine([OnTrack, Achieved].into_iter()), OnTrack);
    }
}
