//! Projections: a least-squares line through a KPI's value over time, read at the
//! deadline.

use crate::metric::Aggregation;
use crate::store::{parse_timestamp, MetricRow};
use chrono::{DateTime, Utc};

/// The KPI's value just after each sample: running sum, count, mean, min or max,
/// or the sample itself for `latest`.
pub fn running(aggregation: Aggregation, samples: &[MetricRow]) -> Vec<(DateTime<Utc>, f64)> {
    let mut points = Vec::with_capacity(samples.len());
    let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for (i, sample) in samples.iter().enumerate() {
        let Some(at) = parse_timestamp(&sample.recorded_at) else {
            continue;
        };
        let v = sample.value;
        sum += v;
        min = min.min(v);
        max = max.max(v);
        let value = match aggregation {
            Aggregation::Sum => sum,
            Aggregation::Count => (i + 1) as f64,
            Aggregation::Avg => sum / (i + 1) as f64,
            Aggregation::Min => min,
            Aggregation::Max => max,
            Aggregation::Latest => v,
        };
        points.push((at, value));
    }
    points
}

/// The least-squares line through `points`, read at `when`; `None` with fewer than
/// two distinct instants, or when the samples span too little time to say anything
/// that far ahead (less than a day, and less than a tenth of the way to `when`).
pub fn project(points: &[(DateTime<Utc>, f64)], when: DateTime<Utc>) -> Option<f64> {
    let origin = points.first()?.0;
    let last = points.last()?.0;
    let span = last - origin;
    if span < chrono::Duration::days(1) && span * 10 < when - last {
        return None;
    }
    let days = |t: DateTime<Utc>| (t - origin).num_milliseconds() as f64 / 86_400_000.0;
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| days(p.0)).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (days(p.0) - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points
        .iter()
        .map(|p| (days(p.0) - mean_x) * (p.1 - mean_y))
        .sum();
    let slope = sxy / sxx;
    Some(mean_y + slope * (days(when) - mean_x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> DateTime<Utc> {
        format!("2026-11-{d:02}T00:00:00Z").parse().unwrap()
    }

    #[test]
    fn a_straight_line_is_extended_exactly() {
        let rising = [(day(1), 10.0), (day(2), 20.0), (day(3), 30.0)];
        assert_eq!(project(&rising, day(11)), Some(110.0));
        let flat = [(day(1), 5.0), (day(5), 5.0)];
        assert_eq!(project(&flat, day(30)), Some(5.0));
        let falling = [(day(1), 30.0), (day(2), 20.0)];
        assert_eq!(project(&falling, day(4)), Some(0.0));
        assert_eq!(project(&[(day(1), 1.0)], day(2)), None);
        assert_eq!(project(&[(day(1), 1.0), (day(1), 3.0)], day(2)), None);
        // Two samples a minute apart say nothing about next month.
        let minute: DateTime<Utc> = "2026-11-01T00:01:00Z".parse().unwrap();
        assert_eq!(project(&[(day(1), 1.0), (minute, 2.0)], day(30)), None);
    }
}
