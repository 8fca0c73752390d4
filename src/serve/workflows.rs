//! What `GET /workflows` tells about each served workflow: its triggers, the
//! JSON Schema of its input (what a trigger form is generated from and checked
//! against before it is sent), the agents it can call, the secrets it lacks
//! here, and every version of it that ran. Pure over a `Program` and a `Store`.

use crate::program::{Program, TriggerKind, Workflow};
use crate::store::{Store, StoreError};
use serde_json::{json, Value};

/// Every workflow of `program` (served from `file`), in name order.
pub fn describe(program: &Program, file: &str, store: &Store) -> Result<Vec<Value>, StoreError> {
    program
        .workflows()
        .iter()
        .map(|workflow| describe_one(program, workflow, file, store))
        .collect()
}

fn describe_one(
    program: &Program,
    workflow: &Workflow,
    file: &str,
    store: &Store,
) -> Result<Value, StoreError> {
    let triggers: Vec<Value> = workflow
        .triggers
        .iter()
        .map(|id| {
            let trigger = program.trigger(*id);
            let (kind, detail) = match &trigger.kind {
                TriggerKind::Cron { expression, .. } => ("cron", Some(expression.clone())),
                TriggerKind::Event { pattern } => ("event", Some(pattern.clone())),
                TriggerKind::Metric(metric) => (
                    "metric",
                    Some(format!(
                        "{} {} {}",
                        metric.query,
                        metric.op.symbol(),
                        metric.target
                    )),
                ),
                TriggerKind::Manual => ("manual", None),
            };
            json!({ "name": trigger.name, "kind": kind, "detail": detail })
        })
        .collect();
    let agents: Vec<&str> = program
        .reachable_agents([workflow.id])
        .into_iter()
        .map(|id| program.agent(id).name.as_str())
        .collect();
    let missing = program.missing_secrets([workflow.id], |_| false, crate::secrets::is_set);
    Ok(json!({
        "name": workflow.name,
        "doc": workflow.doc,
        "made_from": workflow.made_from.as_ref().map(|made| json!({
            "template": made.template,
            "arguments": made.arguments,
        })),
        "file": file,
        "version": workflow.version,
        "triggers": triggers,
        "input": workflow.input.as_ref().map(|t| t.form_schema()),
        "agents": agents,
        "dead_letter": workflow.dead_letter,
        "missing_secrets": missing,
        "versions": store.versions(&workflow.name)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workflow_is_described_with_its_triggers_input_agents_and_versions() {
        let program = crate::program::checked(
            r#"
agent score { input { name: string } output { n: number } compute { n: 1 } }
trigger by_hand { manual }
trigger leads { on event "lead.*" }
trigger nightly { cron "0 2 * * *" }
workflow w { version "1.2.0" on by_hand, leads, nightly input { name: string, note: string? } chain score }
"#,
        );
        let store = Store::in_memory().unwrap();
        let described = describe(&program, "flow.wf", &store).unwrap();
        let w = &described[0];
        assert_eq!(w["name"], "w");
        assert_eq!(w["version"], "1.2.0");
        assert_eq!(
            w["triggers"],
            json!([
                { "name": "by_hand", "kind": "manual", "detail": null },
                { "name": "leads", "kind": "event", "detail": "lead.*" },
                { "name": "nightly", "kind": "cron", "detail": "0 2 * * *" },
            ])
        );
        assert_eq!(
            w["input"]["properties"]["name"],
            json!({ "type": "string" })
        );
        assert_eq!(
            w["input"]["properties"]["note"]["anyOf"][1],
            json!({ "type": "null" })
        );
        assert_eq!(w["agents"], json!(["score"]));
        assert_eq!(w["missing_secrets"], json!([]));
        assert_eq!(w["versions"], json!([]));
    }
}
