//! Completion at the cursor: after `.`, the fields of a known shape (`input.` in
//! an agent or workflow, `r.` for a step bound to an agent's call); after a word
//! that says the kind (`chain`, `->`, `retry`, `on`, …), the declared names of
//! that kind; otherwise the keywords the grammar accepts there.

use super::navigation::{self, previous_token, Kind};
use super::Analysis;
use crate::ast::{self, StatementKind, TypeExpr, TypeExprKind};
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
            .map(|analysis| fields(analysis, before_dot))
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
    let line = prefix.rsplit('\n').next().unwrap_or(prefix).trim_start();
    if let (true, Some(analysis)) = (previous == "=" && !line.starts_with("let "), names) {
        // A step binds a call: an agent, or `workflow`/`any` and what follows.
        let mut offered: Vec<CompletionItem> = navigation::names_of(analysis, Kind::Agent)
            .into_iter()
            .map(|name| item(name, Kind::Agent.completion(), Kind::Agent.label()))
            .collect();
        offered.extend(
            ["workflow", "any"]
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

/// The fields of what the word before the `.` at the end of `before_dot` is:
/// `input` of the agent or workflow the cursor is in, or a step bound to a call
/// of an agent in that workflow (the agent's `output`).
fn fields(analysis: &Analysis, before_dot: &str) -> Vec<CompletionItem> {
    let word = previous_token(before_dot);
    let declarations = &analysis.checked.declarations;
    let Some((kind, name)) = enclosing(before_dot) else {
        return Vec::new();
    };
    let shape = match (kind, word) {
        ("agent", "input") => declarations.agents.get(name).and_then(|a| a.input.as_ref()),
        ("workflow", "input") => declarations
            .workflows
            .get(name)
            .and_then(|w| w.input.as_ref()),
        ("workflow", step) => declarations.workflows.get(name).and_then(|w| {
            let agent = w.bodies.iter().find_map(|body| match body {
                ast::WorkflowBody::Steps(block) => called_agent(block, step),
                ast::WorkflowBody::Chain(_) => None,
            })?;
            declarations.agents.get(agent)?.output.as_ref()
        }),
        _ => None,
    };
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

/// The fields of an object shape (through `?`).
fn object_fields(shape: &TypeExpr) -> &[(ast::Ident, TypeExpr)] {
    match &shape.kind {
        TypeExprKind::Object(fields) => fields,
        TypeExprKind::Optional(inner) => object_fields(inner),
        _ => &[],
    }
}

/// The agent a step named `step` calls, anywhere in `block`.
fn called_agent<'a>(block: &'a ast::Block, step: &str) -> Option<&'a str> {
    let mut found = None;
    block.walk(&mut |statement| {
        if let StatementKind::Call { name, call } = &statement.kind {
            if let (true, ast::CallTarget::Agent(agent)) = (name.name == step, &call.target) {
                found.get_or_insert(agent.name.as_str());
            }
        }
    });
    found
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
