//! What a metric read means: `sum(revenue) per month`, `latest(lead_value)`, or the
//! shorthand `revenue.monthly` (= `sum(revenue) per month`). Shared by the checker and
//! everything that evaluates triggers and goals.

use crate::ast::MetricRef;

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
    pub const NAMES: &'static [&'static str] = &["sum", "avg", "min", "max", "count", "latest"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "sum" => Aggregation::Sum,
            "avg" => Aggregation::Avg,
            "min" => Aggregation::Min,
            "max" => Aggregation::Max,
            "count" => Aggregation::Count,
            "latest" => Aggregation::Latest,
            _ => return None,
        })
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
    pub const NAMES: &'static [&'static str] = &["day", "week", "month", "year"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "day" => Period::Day,
            "week" => Period::Week,
            "month" => Period::Month,
            "year" => Period::Year,
            _ => return None,
        })
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

/// A metric read with its meaning spelled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// The recorded series it reads.
    pub series: String,
    pub aggregation: Aggregation,
    pub period: Option<Period>,
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
        if let Some((series, suffix)) = name.rsplit_once('.') {
            if let Some(period) = Period::from_suffix(suffix) {
                return Ok(MetricQuery {
                    series: series.to_string(),
                    aggregation: Aggregation::Sum,
                    period: Some(period),
                });
            }
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
