//! `wfc waits`: every `await` step waiting for a decision now. `wfc decide ID
//! STEP --data JSON`: answers one.

use super::{open_store, open_store_read, print_json, print_list, DbArgs, Error, Format};
use crate::clock::Clock;
use crate::decide::{Answerer, Refusal};
use crate::store::{parse_timestamp, DecisionSource, WaitRow};
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct WaitsArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// A wait as `--format json` lists it: its row and the time left.
#[derive(serde::Serialize)]
struct Listed {
    #[serde(flatten)]
    wait: WaitRow,
    left_ms: Option<i64>,
}

pub fn waits(args: WaitsArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let now = Clock::system().now();
    let waits: Vec<Listed> = open_store_read(db)?
        .open_waits()?
        .into_iter()
        .map(|wait| Listed {
            left_ms: parse_timestamp(&wait.until)
                .map(|until| (until - now).num_milliseconds().max(0)),
            wait,
        })
        .collect();
    print_list(
        &waits,
        args.format,
        "no step is waiting for a decision",
        &[
            "EXECUTION",
            "WORKFLOW",
            "STEP",
            "WAITS FOR",
            "SHAPE",
            "DEADLINE",
            "LEFT",
        ],
        |Listed { wait: w, left_ms }| {
            let waits_for = match &w.condition {
                Some(condition) => format!("\"{}\" where {condition}", w.pattern),
                None => format!("\"{}\"", w.pattern),
            };
            let left = match left_ms {
                None => String::new(),
                Some(0) => "due".to_string(),
                Some(ms) => crate::duration::human(std::time::Duration::from_secs(
                    u64::try_from(*ms / 1000).unwrap_or_default(),
                )),
            };
            vec![
                super::table::short_id(&w.execution_id).to_string(),
                w.workflow.clone(),
                w.step.clone(),
                waits_for,
                w.shape.clone(),
                w.until.clone(),
                left,
            ]
        },
    )
}

#[derive(Args)]
pub struct DecideArgs {
    /// The waiting execution (id, or a unique prefix or suffix).
    id: String,
    /// The waiting step, by its name in `wfc show` (`approvals[2].decision` in a loop).
    step: String,
    /// The decision as JSON; it must fit the step's shape.
    #[arg(long, value_name = "JSON")]
    data: String,
    /// Your name, recorded with the decision as you give it.
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn decide(args: DecideArgs, db: &DbArgs) -> Result<ExitCode, Error> {
    let payload: serde_json::Value = serde_json::from_str(&args.data)
        .map_err(|e| Error::usage(format!("--data is not JSON: {e}")))?;
    if args
        .by
        .as_ref()
        .is_some_and(|by| by.chars().count() > crate::decide::MAX_BY)
    {
        return Err(Error::usage(format!(
            "--by is a name of at most {} characters",
            crate::decide::MAX_BY
        )));
    }
    let store = open_store(db)?;
    let os_user = super::os_user();
    let answerer = Answerer {
        source: DecisionSource::Cli,
        os_user: Some(&os_user),
        by: args.by.as_deref(),
    };
    let wait = crate::decide::decide(&store, &args.id, &args.step, &payload, &answerer).map_err(
        |refusal| match refusal {
            Refusal::Store(error) => Error::from(error),
            refusal => Error::usage(refusal),
        },
    )?;
    if args.format == Format::Json {
        print_json(&wait);
    } else {
        println!(
            "decided `{}` of execution {} ({}); its worker goes on with it",
            wait.step, wait.execution_id, wait.workflow
        );
    }
    Ok(ExitCode::SUCCESS)
}
