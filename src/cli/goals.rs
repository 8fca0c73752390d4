//! `wfc goals FILE` and `wfc metrics`.

use super::run::checked_program;
use super::Error;
use super::{open_store, open_store_read, print_json, print_list, DbArgs, Format};
use crate::clock::Clock;
use crate::goals::{self, GoalReport};
use crate::program::Program;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct GoalsArgs {
    /// The .wf file declaring the goals.
    file: PathBuf,
    /// Evaluate as of the end of this date (YYYY-MM-DD, UTC) from the samples recorded by then.
    #[arg(long, value_parser = parse_date)]
    at: Option<NaiveDate>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("`{text}` is not a date like 2026-12-31"))
}

pub fn goals(args: GoalsArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let (_, program) = checked_program(&args.file)?;
    let store = open_store_read(db)?;
    let tz = goals::timezone(&program);
    let at = args
        .at
        .map_or_else(|| Clock::system().now(), |date| goals::end_of(date, tz));
    let reports = goals::evaluate(&program, &store, at)?;
    if args.format == Format::Json {
        print_json(&serde_json::json!({ "at": crate::store::timestamp(at), "goals": reports }));
        return Ok(ExitCode::SUCCESS);
    }
    if reports.is_empty() {
        eprintln!("`{}` declares no goal", args.file.display());
    }
    let mut out = String::new();
    for report in &reports {
        render(report, "", "", &mut out);
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// A progress bar of 20 cells.
fn bar(progress: Option<f64>) -> String {
    let Some(p) = progress else {
        return format!("{}   -", "·".repeat(20));
    };
    let full = (p * 20.0).round() as usize;
    format!(
        "{}{} {:>3.0}%",
        "█".repeat(full),
        "░".repeat(20 - full),
        p * 100.0
    )
}

use crate::text::{number, plural};

fn render(goal: &GoalReport, first: &str, rest: &str, out: &mut String) {
    let title = goal
        .title
        .as_deref()
        .map(|t| format!(" — {t}"))
        .unwrap_or_default();
    let department = goal
        .department
        .as_deref()
        .map(|d| format!("  [{d}]"))
        .unwrap_or_default();
    out.push_str(&format!(
        "{first}{}{title}{department}  {}\n",
        goal.name,
        goal.status.label()
    ));
    // With sub-goals, the goal's progress is a roll-up: said as such, and its
    // own KPI's beside it ("Reach $50K" at 71% overall while revenue is 16% of it).
    if !goal.children.is_empty() {
        let parts = match goal.kpi {
            Some(_) => format!("its KPI and {}", plural(goal.children.len(), "sub-goal")),
            None => plural(goal.children.len(), "sub-goal"),
        };
        out.push_str(&format!(
            "{rest}  {} overall: {parts}, weighted\n",
            bar(goal.progress)
        ));
    }
    let own = goal.kpi.as_ref().map(|k| k.progress);
    match (&goal.kpi, goal.children.is_empty()) {
        (Some(_), false) => out.push_str(&format!("{rest}  {} its KPI", bar(own.flatten()))),
        (None, false) => {}
        (_, true) => out.push_str(&format!("{rest}  {}", bar(goal.progress))),
    }
    if let Some(kpi) = &goal.kpi {
        let current = kpi.current.map_or("no data".into(), number);
        let period = kpi
            .period
            .as_deref()
            .map(|p| format!(" in {p}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {} = {current}{period} (target {} {})",
            kpi.metric,
            kpi.op,
            number(kpi.target)
        ));
        if let Some(deadline) = &kpi.deadline {
            out.push_str(&format!(" by {deadline}"));
            if let Some(projection) = kpi.projection {
                out.push_str(&format!(", projected {}", number(projection)));
            }
        }
    }
    if goal.kpi.is_some() || goal.children.is_empty() {
        out.push('\n');
    }
    if !goal.pursued_by.is_empty() {
        out.push_str(&format!(
            "{rest}  pursued by {}\n",
            goal.pursued_by.join(", ")
        ));
    }
    if let Some(team) = &goal.team {
        let members: Vec<String> = team
            .members
            .iter()
            .map(|m| format!("{} ({})", m.agent, m.reason))
            .collect();
        out.push_str(&format!(
            "{rest}  team of {}: {}\n",
            team.size,
            members.join("; ")
        ));
        if let Some(problem) = &team.problem {
            out.push_str(&format!("{rest}  team problem: {problem}\n"));
        }
    }
    for (i, child) in goal.children.iter().enumerate() {
        let last = i + 1 == goal.children.len();
        let (branch, indent) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        render(
            child,
            &format!("{rest}{branch}"),
            &format!("{rest}{indent}"),
            out,
        );
    }
}

#[derive(Args)]
#[command(subcommand_precedence_over_arg = true)]
pub struct MetricsArgs {
    #[command(subcommand)]
    command: Option<MetricsCommand>,
    /// One metric: its samples and aggregates. Without it, every metric.
    name: Option<String>,
    /// The .wf file whose metrics these are: the list shows what it declares (unit,
    /// description, who records it), and `record` refuses a name it does not know.
    #[arg(long, global = true)]
    file: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    format: Format,
}

#[derive(Subcommand)]
enum MetricsCommand {
    /// Record a sample by hand (for goals fed from outside wfc).
    Record {
        name: String,
        value: f64,
        /// When it was measured (RFC 3339; default: now).
        #[arg(long)]
        at: Option<String>,
    },
}

pub fn metrics(args: MetricsArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let program = match &args.file {
        Some(file) => Some(checked_program(file)?.1),
        None => None,
    };
    if let Some(MetricsCommand::Record { name, value, at }) = &args.command {
        if let (Some(program), Some(file)) = (&program, &args.file) {
            known_metric(program, name, file)?;
        }
        return record(name, *value, at.as_deref(), db, args.format);
    }
    let store = open_store_read(db)?;
    let Some(name) = args.name else {
        return list(&store.metric_names()?, program.as_ref(), args.format);
    };
    let samples = store.metric_samples(&name)?;
    if samples.is_empty() {
        return Err(Error::from(format!(
            "no sample of metric `{name}` is recorded"
        )));
    }
    let now = Clock::system().now();
    let mut aggregates = serde_json::Map::new();
    for (label, period) in [
        ("today", crate::metric::Period::Day),
        ("this_month", crate::metric::Period::Month),
        ("this_year", crate::metric::Period::Year),
    ] {
        let (from, to, key) = period.window(now, chrono_tz::UTC);
        let (from, to) = (crate::store::timestamp(from), crate::store::timestamp(to));
        let sum = store.metric_aggregate(
            &name,
            crate::metric::Aggregation::Sum,
            Some(&from),
            Some(&to),
            None,
        );
        aggregates.insert(
            label.into(),
            serde_json::json!({ "period": key, "sum": sum.ok().flatten() }),
        );
    }
    let values: Vec<f64> = samples.iter().map(|s| s.value).collect();
    let summary = serde_json::json!({
        "metric": name,
        "samples": samples.len(),
        "latest": values.last(),
        "sum": values.iter().sum::<f64>(),
        "min": values.iter().copied().reduce(f64::min),
        "max": values.iter().copied().reduce(f64::max),
        "periods_utc": aggregates,
    });
    if args.format == Format::Json {
        print_json(&serde_json::json!({ "summary": summary, "samples": samples }));
        return Ok(ExitCode::SUCCESS);
    }
    // Text is for people: figures in a line, rounded (JSON keeps them whole).
    let figure = |key: &str| crate::text::maybe_number(summary[key].as_f64());
    println!(
        "{name}: {} samples; latest {}, sum {}, min {}, max {}",
        samples.len(),
        figure("latest"),
        figure("sum"),
        figure("min"),
        figure("max")
    );
    let periods: Vec<String> = aggregates
        .iter()
        .map(|(label, period)| {
            format!(
                "{} ({}) {}",
                label.replace('_', " "),
                period["period"].as_str().unwrap_or("-"),
                crate::text::maybe_number(period["sum"].as_f64())
            )
        })
        .collect();
    println!("sums (UTC): {}\n", periods.join(" · "));
    print_list(
        &samples,
        Format::Text,
        "",
        &["ID", "VALUE", "RECORDED", "EXECUTION"],
        |s| {
            vec![
                s.id.to_string(),
                number(s.value),
                s.recorded_at.clone(),
                s.execution_id
                    .as_deref()
                    .map(super::table::short_id)
                    .unwrap_or("-")
                    .to_string(),
            ]
        },
    )
}

/// Refuses a name the program neither declares nor records: a typo in a name fed
/// from outside would otherwise start a series no goal or trigger ever reads.
fn known_metric(program: &Program, name: &str, file: &Path) -> Result<(), Error> {
    if program.knows_metric(name) {
        return Ok(());
    }
    let known = program.metrics.keys().map(String::as_str);
    Err(Error::usage(format!(
        "{}: {}",
        file.display(),
        crate::metric::unknown_metric(name, known)
    )))
}

/// Every metric with samples, and with a program every metric it knows too.
fn list(
    stored: &[(String, i64)],
    program: Option<&Program>,
    format: Format,
) -> Result<ExitCode, Error> {
    let samples = |name: &str| {
        stored
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, c)| *c)
    };
    let mut rows: Vec<serde_json::Value> = Vec::new();
    for metric in program.iter().flat_map(|p| p.metrics.values()) {
        let mut row = serde_json::to_value(metric).unwrap_or_default();
        row["samples"] = samples(&metric.name).into();
        rows.push(row);
    }
    for (name, count) in stored {
        if !program.is_some_and(|p| p.knows_metric(name)) {
            rows.push(serde_json::json!({ "name": name, "samples": count }));
        }
    }
    rows.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let text = |value: &serde_json::Value| value.as_str().unwrap_or("-").to_string();
    if program.is_none() {
        return print_list(
            &rows,
            format,
            "no metric recorded yet",
            &["METRIC", "SAMPLES"],
            |r| vec![text(&r["name"]), r["samples"].to_string()],
        );
    }
    print_list(
        &rows,
        format,
        "no metric recorded yet",
        &["METRIC", "SAMPLES", "UNIT", "FED BY", "DESCRIPTION"],
        |r| {
            let fed_by = match r["recorded_by"].as_array() {
                Some(workflows) if !workflows.is_empty() => {
                    let names: Vec<String> = workflows.iter().map(text).collect();
                    names.join(", ")
                }
                Some(_) => "outside".to_string(),
                None => "-".to_string(),
            };
            vec![
                text(&r["name"]),
                r["samples"].to_string(),
                text(&r["unit"]),
                fed_by,
                text(&r["description"]),
            ]
        },
    )
}

fn record(
    name: &str,
    value: f64,
    at: Option<&str>,
    db: &DbArgs,
    format: Format,
) -> Result<ExitCode, Error> {
    crate::metric::recordable(name)?;
    let (value, at) = crate::metric::sample(value, at, Clock::system().now())?;
    let store = open_store(db)?;
    let id = store.record_metric(name, value, at)?;
    let at = crate::store::timestamp(at);
    match format {
        Format::Json => print_json(&serde_json::json!({
            "sample": id, "name": name, "value": value, "recorded_at": at,
        })),
        Format::Text => eprintln!("recorded {name} = {value} at {at} (sample {id})"),
    }
    Ok(ExitCode::SUCCESS)
}
