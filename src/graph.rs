//! `wfc graph`: what a workflow does — its triggers, chain or steps, branches,
//! parallel branches, loops, failure handlers and sub-workflows — or the goal tree
//! with departments and teams, as Mermaid or Graphviz DOT.

use crate::ast::Goal;
use crate::program::*;
use crate::source::Sources;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Box,
    /// Triggers and workflows pursued by goals.
    Rounded,
    /// Conditions.
    Diamond,
    /// Sub-workflow calls.
    Subroutine,
    /// Events emitted; notes.
    Note,
    /// Fork points of parallel branches.
    Fork,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Node {
    pub id: String,
    pub label: String,
    pub shape: Shape,
    /// The step its attempts are recorded under (loop iterations add `[i]`), for
    /// a node that runs as a step: what the dashboard lights while it runs.
    pub step: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: Option<String>,
    pub dashed: bool,
}

/// Nodes (optionally grouped, one group per workflow) and edges.
#[derive(Debug, Default, serde::Serialize)]
pub struct Graph {
    pub groups: Vec<(String, Vec<Node>)>,
    pub edges: Vec<Edge>,
}

/// The graph of one workflow, or of all of them when `only` is `None`.
pub fn workflows(program: &Program, sources: &Sources, only: Option<&str>) -> Graph {
    let mut builder = Builder {
        program,
        sources,
        graph: Graph::default(),
        nodes: Vec::new(),
        next: 0,
        path: String::new(),
    };
    for workflow in program.workflows() {
        if only.is_some_and(|name| name != workflow.name) {
            continue;
        }
        builder.workflow(workflow);
        let nodes = std::mem::take(&mut builder.nodes);
        builder
            .graph
            .groups
            .push((format!("workflow {}", workflow.name), nodes));
    }
    builder.graph
}

/// The goal tree: goals with their KPI and department, weights on the edges, teams
/// and the workflows that pursue each goal.
pub fn goals(program: &Program) -> Graph {
    let mut builder = Builder {
        program,
        sources: &Sources::default(),
        graph: Graph::default(),
        nodes: Vec::new(),
        next: 0,
        path: String::new(),
    };
    for goal in &program.goals {
        builder.goal(goal, None);
    }
    let nodes = std::mem::take(&mut builder.nodes);
    builder.graph.groups.push((String::new(), nodes));
    builder.graph
}

struct Builder<'a> {
    program: &'a Program,
    sources: &'a Sources,
    graph: Graph,
    nodes: Vec<Node>,
    next: usize,
    /// The step path of the block being built: `xs[].` inside loop `xs`, where
    /// the runtime records `xs[0].`, `xs[1].`, ….
    path: String,
}

impl Builder<'_> {
    fn node(&mut self, label: String, shape: Shape) -> String {
        self.step_node(label, shape, None)
    }

    fn step_node(&mut self, label: String, shape: Shape, step: Option<&str>) -> String {
        self.next += 1;
        let id = format!("n{}", self.next);
        self.nodes.push(Node {
            id: id.clone(),
            label,
            shape,
            step: step.map(|step| format!("{}{step}", self.path)),
        });
        id
    }

    fn edge(&mut self, from: &str, to: &str, label: Option<String>, dashed: bool) {
        self.graph.edges.push(Edge {
            from: from.to_string(),
            to: to.to_string(),
            label,
            dashed,
        });
    }

    fn connect(&mut self, from: &[String], to: &str, label: Option<String>) {
        for source in from {
            self.edge(source, to, label.clone(), false);
        }
    }

    fn text(&self, span: crate::source::Span) -> String {
        let text = &self.sources.get(span.file).text;
        let raw = text.get(span.start..span.end).unwrap_or("");
        let squeezed: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if squeezed.chars().count() > 40 {
            format!("{}…", squeezed.chars().take(39).collect::<String>())
        } else {
            squeezed
        }
    }

    fn workflow(&mut self, workflow: &Workflow) {
        let mut entries = Vec::new();
        for id in &workflow.triggers {
            let trigger = self.program.trigger(*id);
            let kind = self.trigger_kind(&trigger.kind);
            let id = self.node(format!("{}\n{kind}", trigger.name), Shape::Rounded);
            entries.push(id);
        }
        let version = workflow
            .version
            .as_ref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        // A workflow made from a template is drawn with the template's steps,
        // and says so.
        let made = workflow
            .made_from
            .as_ref()
            .map(|m| format!("\nfrom template {}", m.template))
            .unwrap_or_default();
        let start = self.node(
            format!("workflow {}{version}{made}", workflow.name),
            Shape::Box,
        );
        self.connect(&entries, &start, None);
        let mut exits = vec![start.clone()];
        match &workflow.body {
            WorkflowBody::Chain(chain) => {
                for agent in chain {
                    let name = &self.program.agent(*agent).name;
                    let id = self.step_node(name.clone(), Shape::Box, Some(name));
                    self.connect(&exits, &id, None);
                    exits = vec![id];
                }
            }
            WorkflowBody::Steps(block) => exits = self.block(block, exits, None),
        }
        for record in &workflow.records {
            let label = format!("record {}", record.metric);
            let id = self.step_node(label, Shape::Note, Some(&record.step));
            self.connect(&exits, &id, None);
            exits = vec![id];
        }
        if workflow.dead_letter {
            let id = self.node("dead-letter queue".into(), Shape::Note);
            self.edge(&start, &id, Some("on failure".into()), true);
        }
    }

    fn trigger_kind(&self, kind: &TriggerKind) -> String {
        match kind {
            TriggerKind::Cron { expression, .. } => format!("cron {expression}"),
            TriggerKind::Event { pattern } => format!("event {pattern}"),
            TriggerKind::Metric(metric) => format!(
                "metric {} {} {}",
                self.text(metric.read),
                metric.op.symbol(),
                metric.target
            ),
            TriggerKind::Manual => "manual".into(),
        }
    }

    /// Adds a block after `entries`; returns the nodes its flow leaves from.
    fn block(
        &mut self,
        block: &Block,
        mut exits: Vec<String>,
        mut label: Option<String>,
    ) -> Vec<String> {
        for statement in &block.statements {
            exits = self.statement(statement, exits, label.take());
        }
        exits
    }

    fn statement(
        &mut self,
        statement: &Statement,
        entries: Vec<String>,
        label: Option<String>,
    ) -> Vec<String> {
        let simple = |builder: &mut Self, text: String, shape: Shape| {
            let id = builder.step_node(text, shape, Some(&statement.step));
            builder.connect(&entries, &id, label.clone());
            vec![id]
        };
        match &statement.kind {
            StatementKind::Call { name, call } => {
                let (text, shape) = match &call.target {
                    CallTarget::Agent(agent) => (
                        format!("{name} = {}", self.program.agent(*agent).name),
                        Shape::Box,
                    ),
                    CallTarget::AnyOf { skills, .. } => {
                        (format!("{name} = any [{}]", skills.join(", ")), Shape::Box)
                    }
                    CallTarget::Workflow(workflow) => (
                        format!(
                            "{name} = workflow {}",
                            self.program.workflow(*workflow).name
                        ),
                        Shape::Subroutine,
                    ),
                };
                simple(self, text, shape)
            }
            StatementKind::Let { name, value } => {
                let text = format!("let {name} = {}", self.text(value.span));
                simple(self, text, Shape::Box)
            }
            StatementKind::When {
                branches,
                otherwise,
            } => {
                let first = branches
                    .first()
                    .map(|b| self.text(b.condition.span))
                    .unwrap_or_default();
                let decision = simple(self, format!("when {first}"), Shape::Diamond);
                let mut exits = Vec::new();
                for (i, branch) in branches.iter().enumerate() {
                    let label = if i == 0 {
                        "yes".to_string()
                    } else {
                        format!("else when {}", self.text(branch.condition.span))
                    };
                    exits.extend(self.block(&branch.block, decision.clone(), Some(label)));
                }
                match otherwise {
                    Some(body) => {
                        exits.extend(self.block(body, decision.clone(), Some("else".into())))
                    }
                    None => exits.extend(decision),
                }
                exits
            }
            StatementKind::For(for_loop) => {
                let index = for_loop
                    .index
                    .as_ref()
                    .map_or(String::new(), |i| format!(", {i}"));
                let mut text = format!(
                    "{}for {}{index} in {}",
                    if for_loop.parallel { "parallel " } else { "" },
                    for_loop.item,
                    self.text(for_loop.list.span)
                );
                if let Some(limit) = &for_loop.limit {
                    text.push_str(&format!(" limit {limit}"));
                }
                if let Some(result) = &for_loop.result {
                    text = format!("{result} = {text}");
                }
                let head = simple(self, text, Shape::Diamond);
                let outer = self.path.clone();
                self.path = format!("{outer}{}[].", statement.step);
                let body_exits = self.block(&for_loop.body, head.clone(), Some("each".into()));
                self.path = outer;
                for exit in &body_exits {
                    self.edge(exit, &head[0], Some("next".into()), true);
                }
                head
            }
            StatementKind::Parallel(branches) => {
                let fork = simple(self, "parallel".into(), Shape::Fork);
                let mut exits = Vec::new();
                for branch in branches {
                    exits.extend(self.statement(branch, fork.clone(), None));
                }
                exits
            }
            StatementKind::Try { body, catches } => {
                let start = simple(self, "try".into(), Shape::Fork);
                let mut exits = self.block(body, start.clone(), None);
                for catch in catches {
                    let label = match &catch.kinds {
                        None => format!("catch {}", catch.error),
                        Some(kinds) => {
                            let kinds: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                            format!("catch {} as {}", kinds.join(", "), catch.error)
                        }
                    };
                    let before = self.graph.edges.len();
                    let handled = self.block(&catch.handler, start.clone(), Some(label));
                    if let Some(edge) = self.graph.edges.get_mut(before) {
                        edge.dashed = true;
                    }
                    exits.extend(handled);
                }
                exits
            }
            StatementKind::Fail(message) => {
                let text = format!("fail {}", self.text(message.span));
                simple(self, text, Shape::Note);
                Vec::new()
            }
            StatementKind::Emit { event, .. } => simple(self, format!("emit {event}"), Shape::Note),
            // The statement as written: `wait 10m`.
            StatementKind::Wait(_) => simple(self, self.text(statement.span), Shape::Rounded),
            StatementKind::Await { name, awaited } => {
                let text = format!(
                    "{name} = await {}\ntimeout {}",
                    awaited.pattern,
                    crate::duration::format(awaited.timeout)
                );
                simple(self, text, Shape::Rounded)
            }
        }
    }

    fn goal(&mut self, goal: &Goal, parent: Option<&str>) {
        let mut label = goal
            .title
            .as_ref()
            .map_or(goal.name.name.clone(), |t| t.value.clone());
        if let Some(kpi) = &goal.kpi {
            let metric = &kpi.threshold.metric;
            let read = match (&metric.aggregation, &metric.period) {
                (Some(a), Some(p)) => format!("{}({}) per {}", a.name, metric.metric.value, p.name),
                (Some(a), None) => format!("{}({})", a.name, metric.metric.value),
                (None, _) => metric.metric.value.clone(),
            };
            label.push_str(&format!(
                "\n{read} {} {}",
                kpi.threshold.op.symbol(),
                kpi.threshold.target.value
            ));
            if let Some(deadline) = &kpi.deadline {
                label.push_str(&format!(" by {}", deadline.value));
            }
        }
        if let Some(department) = &goal.department {
            label.push_str(&format!("\n[{}]", department.name));
        }
        let id = self.node(label, Shape::Box);
        if let Some(parent) = parent {
            let weight = goal.weight.as_ref().map(|w| format!("weight {}", w.value));
            self.edge(parent, &id, weight, false);
        }
        if let Some(team) = &goal.team {
            let skills: Vec<&str> = team.skills.iter().map(|s| s.name.as_str()).collect();
            let size = team
                .size
                .as_ref()
                .map(|s| format!(", size {}", s.value))
                .unwrap_or_default();
            let note = self.node(format!("team: {}{size}", skills.join(", ")), Shape::Note);
            self.edge(&id, &note, None, true);
        }
        for workflow in &goal.pursued_by {
            let node = self.node(format!("workflow {}", workflow.name), Shape::Rounded);
            self.edge(&node, &id, Some("pursues".into()), true);
        }
        for child in &goal.children {
            self.goal(child, Some(&id));
        }
    }
}

/// Mermaid flowchart text (renders in GitHub markdown).
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    let escape = |s: &str| s.replace('"', "#quot;").replace('\n', "<br/>");
    for (i, (title, nodes)) in graph.groups.iter().enumerate() {
        let indent = if title.is_empty() { "  " } else { "    " };
        if !title.is_empty() {
            let _ = writeln!(out, "  subgraph g{i} [\"{}\"]", escape(title));
        }
        for node in nodes {
            let label = escape(&node.label);
            let shaped = match node.shape {
                Shape::Box => format!("[\"{label}\"]"),
                Shape::Rounded => format!("([\"{label}\"])"),
                Shape::Diamond => format!("{{\"{label}\"}}"),
                Shape::Subroutine => format!("[[\"{label}\"]]"),
                Shape::Note => format!(">\"{label}\"]"),
                Shape::Fork => format!("((\"{label}\"))"),
            };
            let _ = writeln!(out, "{indent}{}{shaped}", node.id);
        }
        if !title.is_empty() {
            out.push_str("  end\n");
        }
    }
    for edge in &graph.edges {
        let arrow = if edge.dashed { "-.->" } else { "-->" };
        match &edge.label {
            Some(label) => {
                let _ = writeln!(
                    out,
                    "  {} {arrow}|\"{}\"| {}",
                    edge.from,
                    escape(label),
                    edge.to
                );
            }
            None => {
                let _ = writeln!(out, "  {} {arrow} {}", edge.from, edge.to);
            }
        }
    }
    out
}

/// Graphviz DOT text.
pub fn dot(graph: &Graph) -> String {
    let mut out = String::from("digraph wfc {\n  rankdir=TB;\n  node [fontname=\"Helvetica\"];\n");
    let escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    for (i, (title, nodes)) in graph.groups.iter().enumerate() {
        let indent = if title.is_empty() { "  " } else { "    " };
        if !title.is_empty() {
            let _ = writeln!(
                out,
                "  subgraph cluster_{i} {{\n    label=\"{}\";",
                escape(title)
            );
        }
        for node in nodes {
            let shape = match node.shape {
                Shape::Box => "box",
                Shape::Rounded => "box, style=rounded",
                Shape::Diamond => "diamond",
                Shape::Subroutine => "box, peripheries=2",
                Shape::Note => "note",
                Shape::Fork => "circle",
            };
            let _ = writeln!(
                out,
                "{indent}{} [label=\"{}\", shape={shape}];",
                node.id,
                escape(&node.label)
            );
        }
        if !title.is_empty() {
            out.push_str("  }\n");
        }
    }
    for edge in &graph.edges {
        let mut attributes = Vec::new();
        if let Some(label) = &edge.label {
            attributes.push(format!("label=\"{}\"", escape(label)));
        }
        if edge.dashed {
            attributes.push("style=dashed".into());
        }
        let attributes = if attributes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attributes.join(", "))
        };
        let _ = writeln!(out, "  {} -> {}{attributes};", edge.from, edge.to);
    }
    out.push_str("}\n");
    out
}
