//! Completion at the cursor: after `.`, the fields of a known shape (`input.` in
//! an agent or workflow; in a workflow, a step bound to an agent's call, a `let`
//! or `for` name, and paths of fields through them); after a word
//! that says the kind (`chain`, `->`, `retry`, `on`, …), the declared names of
//! that kind; otherwise the keywords the grammar accepts there.

use super::navigation::{self, previous_token, Kind};
use super::Analysis;
use crate::ast::{self, StatementKind, TypeExpr, TypeExprKind};
use crate::check::Declarations;
use crate::types::Type;
use lsp_types::{CompletionItem, CompletionItemKind};

/// What to offer at byte `offset` of `text`; `names` is the latest analysis whose
/// root parsed (a half-typed file parses to nothing, and its names are wanted).
pub fn complete(text: &str, offset: usize, names: Option<&Analysis>) -> Vec<CompletionItem> {
    let offset = crate::source::floor_char_boundary(text, offset.min(text.len()));
    let word_start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map_or(offset, |(i, _)| i);
    let prefix = &text[..word_start];
    if let Some(before_dot) = prefix.strip_suffix('.') {
        return names
            .map(|analysis| fields(analysis, before_dot, offset))
            .unwrap_or_default();
    }
    let previous = previous_token(prefix);
    if let (Some(skills), Some(analysis)) = (in_any_list(prefix), names) {
        // `any [` and `any [a, `: the skills agents have, but those already listed.
        return analysis
            .checked
            .declarations
            .skills
            .keys()
            .filter(|skill| !skills.contains(&skill.as_str()))
            .map(|skill| item(skill.clone(), CompletionItemKind::ENUM_MEMBER, "skill"))
            .collect();
    }
    if let Some(analysis) = names {
        if let Some(offered) = template_arguments(analysis, prefix) {
            return offered;
        }
    }
    let line = prefix.rsplit('\n').next().unwrap_or(prefix).trim_start();
    if let (true, Some(analysis)) = (previous == "=" && line.starts_with("workflow "), names) {
        // `workflow w = `: made from a template.
        return navigation::names_of(analysis, Kind::Template)
            .into_iter()
            .map(|name| item(name, Kind::Template.completion(), Kind::Template.label()))
            .collect();
    }
    if let (true, Some(analysis)) = (previous == "=" && !line.starts_with("let "), names) {
        // A step binds a call (an agent, or `workflow`/`any` and what follows)
        // or an `await`.
        let mut offered: Vec<CompletionItem> = navigation::names_of(analysis, Kind::Agent)
            .into_iter()
            .map(|name| item(name, Kind::Agent.completion(), Kind::Agent.label()))
            .collect();
        offered.extend(
            ["workflow", "any", "await"]
                .map(|word| item(word.to_string(), CompletionItemKind::KEYWORD, "keyword")),
        );
        return offered;
    }
    if let (Some(kind), Some(analysis)) = (Kind::after(previous), names) {
        let declared: Vec<CompletionItem> = navigation::names_of(analysis, kind)
            .into_iter()
            .map(|name| item(name, kind.completion(), kind.label()))
            .collect();
        if !declared.is_empty() {
            return declared;
        }
    }
    crate::syntax::keywords_after(prefix)
        .into_iter()
        .map(|word| item(word, CompletionItemKind::KEYWORD, "keyword"))
        .collect()
}

/// Inside `workflow w = template(…`: the parameters not given yet, or after
/// `name: ` what may be given for it (the agents that meet an agent
/// parameter's contract, the retry policies, the workflows). `None` elsewhere.
fn template_arguments(analysis: &Analysis, prefix: &str) -> Option<Vec<CompletionItem>> {
    let open = prefix.rfind('(')?;
    let inside = &prefix[open + 1..];
    if inside.contains(')') {
        return None;
    }
    let head: Vec<&str> = prefix[..open].split_whitespace().rev().take(4).collect();
    let [template, "=", _, "workflow"] = head[..] else {
        return None;
    };
    let declarations = &analysis.checked.declarations;
    let template = declarations.templates.get(template)?;
    let current = inside.rsplit(',').next().unwrap_or(inside);
    let Some((name, _)) = current.split_once(':') else {
        let given: Vec<&str> = inside
            .split(',')
            .filter_map(|arg| arg.split_once(':').map(|(name, _)| name.trim()))
            .collect();
        return Some(
            template
                .params
                .iter()
                .filter(|p| !given.contains(&p.name.name.as_str()))
                .map(|p| item(p.name.name.clone(), CompletionItemKind::FIELD, "parameter"))
                .collect(),
        );
    };
    let param = template
        .params
        .iter()
        .find(|p| p.name.name == name.trim())?;
    let fits = |found: &Type, wanted: &Type| found.fits(wanted).is_ok();
    let names: Vec<(String, Kind)> = match &param.kind {
        ast::ParamKind::Agent { input, output } => {
            let (takes, gives) = (Type::from_ast(input), Type::from_ast(output));
            declarations
                .agents
                .values()
                .filter(|a| {
                    fits(&takes, &crate::check::declared(&a.input))
                        && fits(&crate::check::declared(&a.output), &gives)
                })
                .map(|a| (a.name.name.clone(), Kind::Agent))
                .collect()
        }
        ast::ParamKind::Workflow { .. } => declarations
            .workflows
            .keys()
            .map(|w| (w.clone(), Kind::Workflow))
            .collect(),
        ast::ParamKind::Retry => declarations
            .retries
            .keys()
            .map(|r| (r.clone(), Kind::Retry))
            .collect(),
        ast::ParamKind::Duration | ast::ParamKind::Value(_) => Vec::new(),
    };
    Some(
        names
            .into_iter()
            .map(|(name, kind)| item(name, kind.completion(), kind.label()))
            .collect(),
    )
}

/// The skills already listed when `prefix` ends inside `any [ … `.
fn in_any_list(prefix: &str) -> Option<Vec<&str>> {
    let open = prefix.rfind('[')?;
    let inside = &prefix[open + 1..];
    if inside.contains(']') || previous_token(&prefix[..open]) != "any" {
        return None;
    }
    let listed = inside
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    // Only between items: after `[` or a comma, not in the middle of a name.
    let at_item = inside.trim_end().is_empty() || inside.trim_end().ends_with(',');
    at_item.then_some(listed)
}

fn item(label: String, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label,
        kind: Some(kind),
        detail: Some(detail.to_string()),
        ..CompletionItem::default()
    }
}

/// The fields of the path before the `.` at the end of `before_dot` (`input`,
/// `inv`, `input.customer`, `r.lines`): `input` of the agent or workflow the
/// cursor is in, or, in a workflow, a name bound there (a step calling an agent:
/// its `output`; a `let` of a path; a `for` item over a list path), then field
/// by field.
fn fields(analysis: &Analysis, before_dot: &str, cursor: usize) -> Vec<CompletionItem> {
    let path_start = before_dot
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        .last()
        .map_or(before_dot.len(), |(i, _)| i);
    let path: Vec<&str> = before_dot[path_start..].split('.').collect();
    let declarations = &analysis.checked.declarations;
    let Some((kind, name)) = enclosing(before_dot) else {
        return Vec::new();
    };
    let (first, rest) = match path.split_first() {
        Some((first, rest)) if !first.is_empty() => (*first, rest),
        _ => return Vec::new(),
    };
    let root = match kind {
        "agent" if first == "input" => declarations.agents.get(name).and_then(|a| a.input.as_ref()),
        "workflow" => declarations.workflows.get(name).and_then(|w| {
            Bindings {
                declarations,
                workflow: w,
                cursor,
            }
            .name(first, 0)
        }),
        _ => None,
    };
    let shape = rest
        .iter()
        .try_fold(root, |shape, field| Some(field_of(shape?, field)))
        .flatten();
    let Some(shape) = shape else {
        return Vec::new();
    };
    let sources = &analysis.loaded.sources;
    object_fields(shape)
        .iter()
        .map(|(field, ty)| {
            // The field's type as written.
            let detail = &sources.get(ty.span.file).text[ty.span.start..ty.span.end];
            item(field.name.clone(), CompletionItemKind::FIELD, detail)
        })
        .collect()
}

/// The names a workflow binds, as shapes written somewhere in the program.
struct Bindings<'a> {
    declarations: &'a Declarations,
    workflow: &'a ast::Workflow,
    /// Where the cursor is in the root file: `event` in an `await`'s `where` is
    /// that await's payload.
    cursor: usize,
}

/// How deep `let a = b` … chains are followed (a cycle is a checker error).
const BINDING_DEPTH: usize = 16;

impl<'a> Bindings<'a> {
    fn name(&self, name: &str, depth: usize) -> Option<&'a TypeExpr> {
        if name == "input" {
            return self.workflow.input.as_ref();
        }
        if depth > BINDING_DEPTH {
            return None;
        }
        if name == "event" {
            if let Some(shape) = self.awaited_here() {
                return Some(shape);
            }
        }
        let mut found = None;
        for body in &self.workflow.bodies {
            if let ast::WorkflowBody::Steps(block) = body {
                block.walk(&mut |statement| {
                    if found.is_none() {
                        found = self.bound_by(statement, name, depth);
                    }
                });
            }
        }
        found
    }

    /// The shape of the `await` the cursor is in (the last one starting
    /// before it in the root file).
    fn awaited_here(&self) -> Option<&'a TypeExpr> {
        let mut found: Option<&'a ast::Await> = None;
        for body in &self.workflow.bodies {
            if let ast::WorkflowBody::Steps(block) = body {
                block.walk(&mut |statement| {
                    if let StatementKind::Await { awaited, .. } = &statement.kind {
                        let before =
                            awaited.span.file == super::ROOT && awaited.span.start <= self.cursor;
                        if before && found.is_none_or(|f| f.span.start < awaited.span.start) {
                            found = Some(awaited);
                        }
                    }
                });
            }
        }
        found?.shape.as_ref()
    }

    fn bound_by(
        &self,
        statement: &'a ast::Statement,
        name: &str,
        depth: usize,
    ) -> Option<&'a TypeExpr> {
        match &statement.kind {
            StatementKind::Call { name: bound, call } if bound.name == name => match &call.target {
                ast::CallTarget::Agent(agent) => {
                    self.declarations.agents.get(&agent.name)?.output.as_ref()
                }
                _ => None,
            },
            StatementKind::Await {
                name: bound,
                awaited,
            } if bound.name == name => awaited.shape.as_ref(),
            StatementKind::Let { name: bound, value } if bound.name == name => {
                self.expr(value, depth + 1)
            }
            StatementKind::For(for_loop) if for_loop.item.name == name => {
                match &self.expr(&for_loop.list, depth + 1)?.kind {
                    TypeExprKind::List(element) => Some(element),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The shape of a path expression (`input`, `inv`, `inv.customer`).
    fn expr(&self, expr: &'a ast::Expr, depth: usize) -> Option<&'a TypeExpr> {
        match &expr.kind {
            ast::ExprKind::Input => self.workflow.input.as_ref(),
            ast::ExprKind::Name(name) => self.name(&name.name, depth),
            ast::ExprKind::Field(inner, field) => field_of(self.expr(inner, depth)?, &field.name),
            _ => None,
        }
    }
}

/// The shape of field `name` of an object shape (through `?`).
fn field_of<'a>(shape: &'a TypeExpr, name: &str) -> Option<&'a TypeExpr> {
    object_fields(shape)
        .iter()
        .find(|(field, _)| field.name == name)
        .map(|(_, ty)| ty)
}

/// The fields of an object shape (through `?`).
fn object_fields(shape: &TypeExpr) -> &[(ast::Ident, TypeExpr)] {
    match &shape.kind {
        TypeExprKind::Object(fields) => fields,
        TypeExprKind::Optional(inner) => object_fields(inner),
        _ => &[],
    }
}

/// The declaration (`agent` or `workflow`, and its name) the end of `text` is
/// in: the last one started at the beginning of a line.
fn enclosing(text: &str) -> Option<(&'static str, &str)> {
    text.lines().rev().find_map(|line| {
        let (kind, rest) = if let Some(rest) = line.strip_prefix("agent ") {
            ("agent", rest)
        } else {
            ("workflow", line.strip_prefix("workflow ")?)
        };
        let name = rest
            .trim_start()
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()?;
        (!name.is_empty()).then_some((kind, name))
    })
}
