//! Names under the cursor: which declaration a word means (from the word before
//! it when that says the kind: `chain a -> b`, `retry r`, `on t`), where it is
//! declared, what it is (`wfc explain`'s text when the program checks, else the
//! declaration as written), and the outline of a file.

use super::diagnostics::{location, range};
use super::Analysis;
use crate::ast::StatementKind;
use crate::source::{FileId, Span};
use lsp_types::{Location, SymbolInformation, SymbolKind};
use serde_json::{json, Value};

/// The kinds of declared names, in the order a bare name is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Agent,
    Workflow,
    Trigger,
    Retry,
    Breaker,
    Goal,
    Metric,
    Alert,
    Template,
    /// A name a workflow's step binds (`r = a(…)`, `let x = …`, a loop's);
    /// found in the workflow the cursor is in, never by a bare lookup.
    Step,
}

impl Kind {
    const ALL: [Kind; 9] = [
        Kind::Agent,
        Kind::Workflow,
        Kind::Trigger,
        Kind::Retry,
        Kind::Breaker,
        Kind::Goal,
        Kind::Metric,
        Kind::Alert,
        Kind::Template,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Workflow => "workflow",
            Kind::Trigger => "trigger",
            Kind::Retry => "retry policy",
            Kind::Breaker => "breaker",
            Kind::Goal => "goal",
            Kind::Metric => "metric",
            Kind::Alert => "alert",
            Kind::Template => "template",
            Kind::Step => "step",
        }
    }

    fn symbol(self) -> SymbolKind {
        match self {
            Kind::Agent => SymbolKind::CLASS,
            Kind::Workflow => SymbolKind::FUNCTION,
            Kind::Trigger => SymbolKind::EVENT,
            Kind::Retry | Kind::Breaker => SymbolKind::OBJECT,
            Kind::Goal => SymbolKind::NAMESPACE,
            Kind::Metric => SymbolKind::VARIABLE,
            Kind::Alert => SymbolKind::PROPERTY,
            Kind::Template => SymbolKind::INTERFACE,
            Kind::Step => SymbolKind::VARIABLE,
        }
    }

    pub fn completion(self) -> lsp_types::CompletionItemKind {
        use lsp_types::CompletionItemKind as Item;
        match self {
            Kind::Agent => Item::CLASS,
            Kind::Workflow => Item::FUNCTION,
            Kind::Trigger => Item::EVENT,
            Kind::Retry | Kind::Breaker => Item::VALUE,
            Kind::Goal => Item::MODULE,
            Kind::Metric => Item::VARIABLE,
            Kind::Alert => Item::PROPERTY,
            Kind::Template => Item::INTERFACE,
            Kind::Step => Item::VARIABLE,
        }
    }

    /// The kind a word after `keyword` must be.
    pub fn after(keyword: &str) -> Option<Kind> {
        Some(match keyword {
            "chain" | "->" | "mock" | "agent" => Kind::Agent,
            "workflow" | "pursued_by" | "run" => Kind::Workflow,
            "on" | "trigger" => Kind::Trigger,
            "retry" => Kind::Retry,
            "breaker" => Kind::Breaker,
            "goal" => Kind::Goal,
            "metric" | "record" => Kind::Metric,
            "alert" => Kind::Alert,
            "template" => Kind::Template,
            _ => return None,
        })
    }
}

/// A declared name: its kind, name, where the name is and the whole declaration.
struct Declared<'a> {
    kind: Kind,
    name: &'a str,
    at: Span,
    whole: Span,
}

fn declared<'a>(analysis: &'a Analysis) -> Vec<Declared<'a>> {
    let d = &analysis.checked.declarations;
    let mut all = Vec::new();
    let mut add = |kind, name: &'a crate::ast::Ident, whole| {
        all.push(Declared {
            kind,
            name: &name.name,
            at: name.span,
            whole,
        })
    };
    for a in d.agents.values() {
        add(Kind::Agent, &a.name, a.span);
    }
    for w in d.workflows.values() {
        add(Kind::Workflow, &w.name, w.span);
    }
    for t in d.triggers.values() {
        add(Kind::Trigger, &t.name, t.span);
    }
    for r in d.retries.values() {
        add(Kind::Retry, &r.name, r.span);
    }
    for b in d.breakers.values() {
        add(Kind::Breaker, &b.name, b.span);
    }
    for g in d.all_goals() {
        add(Kind::Goal, &g.name, g.span);
    }
    for m in d.metrics.values() {
        add(Kind::Metric, &m.name, m.span);
    }
    for a in d.alerts.values() {
        add(Kind::Alert, &a.name, a.span);
    }
    for t in d.templates.values() {
        add(Kind::Template, &t.name, t.span);
    }
    all
}

/// The declared names of one kind, in name order.
pub fn names_of(analysis: &Analysis, kind: Kind) -> Vec<String> {
    let mut names: Vec<String> = declared(analysis)
        .into_iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.name.to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The declaration the word at `offset` of the root file means.
fn resolve(analysis: &Analysis, offset: usize) -> Option<Declared<'_>> {
    resolve_in(analysis, super::ROOT, offset)
}

/// The declaration the word at `offset` of `file` means: none for a field
/// (`r.score`, `{ score: 1 }`) or a word nothing declares.
fn resolve_in(analysis: &Analysis, file: FileId, offset: usize) -> Option<Declared<'_>> {
    let text = &analysis.loaded.sources.get(file).text;
    let (start, word, previous, next) = word_and_next(text, offset)?;
    let all = declared(analysis);
    // On a declaration's own name: that declaration.
    if let Some(index) = all
        .iter()
        .position(|d| d.at.file == file && d.at.start == start && d.name == word)
    {
        return all.into_iter().nth(index);
    }
    if previous == "." || next == Some(':') {
        return None;
    }
    let wanted = Kind::after(previous);
    // A bare name in a workflow, not called: one of its steps first.
    if wanted.is_none() && next != Some('(') {
        if let Some(step) = step_named(analysis, file, start, word) {
            return Some(step);
        }
    }
    Kind::ALL
        .into_iter()
        .filter(|kind| wanted.is_none_or(|w| w == *kind))
        .find_map(|kind| all.iter().position(|d| d.kind == kind && d.name == word))
        .and_then(|index| all.into_iter().nth(index))
}

/// The binding of `word` in the workflow of `file` around `offset`.
fn step_named<'a>(
    analysis: &'a Analysis,
    file: FileId,
    offset: usize,
    word: &str,
) -> Option<Declared<'a>> {
    let workflow = analysis
        .checked
        .declarations
        .workflows
        .values()
        .find(|w| w.span.file == file && w.span.start <= offset && offset < w.span.end)?;
    let mut found = None;
    for body in &workflow.bodies {
        let crate::ast::WorkflowBody::Steps(block) = body else {
            continue;
        };
        block.walk(&mut |statement| {
            let names: Vec<&crate::ast::Ident> = match &statement.kind {
                StatementKind::Call { name, .. }
                | StatementKind::Let { name, .. }
                | StatementKind::Await { name, .. } => vec![name],
                StatementKind::For(each) => {
                    let mut names = vec![&each.item];
                    names.extend(each.result.iter().chain(each.index.iter()));
                    names
                }
                _ => Vec::new(),
            };
            for name in names {
                if name.name == word && found.is_none() {
                    found = Some(Declared {
                        kind: Kind::Step,
                        name: &name.name,
                        at: name.span,
                        whole: statement.span,
                    });
                }
            }
        });
    }
    found
}

/// A declaration by where its name is: a file's path and the name's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: std::path::PathBuf,
    pub start: usize,
    pub name: String,
}

fn target_of(analysis: &Analysis, d: &Declared<'_>) -> Target {
    Target {
        path: analysis.loaded.sources.get(d.at.file).path.clone(),
        start: d.at.start,
        name: d.name.to_string(),
    }
}

/// The declaration the word at `offset` of the root file means, by place.
pub fn target(analysis: &Analysis, offset: usize) -> Option<Target> {
    resolve(analysis, offset).map(|d| target_of(analysis, &d))
}

/// Every place in this analysis' files where `target`'s name means it, each
/// with whether it is the declaration: a word token, resolved where it stands.
pub fn references(analysis: &Analysis, target: &Target) -> Vec<(Location, bool)> {
    let sources = &analysis.loaded.sources;
    let mut found = Vec::new();
    for (file, source) in sources.iter() {
        let text: &str = &source.text;
        let Some(tokens) = crate::syntax::tokens(text) else {
            continue;
        };
        for (kind, token, _) in tokens {
            if kind != crate::syntax::TokenKind::Word || token != target.name {
                continue;
            }
            // The token is a slice of the text: its offset is the distance between them.
            let offset = token.as_ptr() as usize - text.as_ptr() as usize;
            let means = resolve_in(analysis, file, offset).map(|d| target_of(analysis, &d));
            if means.as_ref() == Some(target) {
                let span = Span::new(file, offset, offset + token.len());
                let declaration = source.path == target.path && offset == target.start;
                found.extend(location(span, sources).map(|l| (l, declaration)));
            }
        }
    }
    found
}

/// The declarations of every file of this analysis whose name contains `query`
/// (any case).
pub fn workspace_symbols(analysis: &Analysis, query: &str) -> Vec<SymbolInformation> {
    let query = query.to_lowercase();
    let mut found: Vec<_> = declared(analysis)
        .into_iter()
        .filter(|d| d.name.to_lowercase().contains(&query))
        .collect();
    found.sort_by_key(|d| (d.whole.file, d.whole.start));
    found
        .into_iter()
        .filter_map(|d| symbol(analysis, &d))
        .collect()
}

fn symbol(analysis: &Analysis, d: &Declared<'_>) -> Option<SymbolInformation> {
    #[allow(deprecated)] // `deprecated` is a required field of the type
    Some(SymbolInformation {
        name: d.name.to_string(),
        kind: d.kind.symbol(),
        tags: None,
        deprecated: None,
        location: location(d.whole, &analysis.loaded.sources)?,
        container_name: Some(d.kind.label().to_string()),
    })
}

/// The root file's text.
fn root_text(analysis: &Analysis) -> Option<(crate::source::FileId, &str)> {
    let root = super::ROOT;
    Some((root, &analysis.loaded.sources.get(root).text))
}

/// The token that ends `prefix`: a word, `->`, or one other character.
pub fn previous_token(prefix: &str) -> &str {
    let before = prefix.trim_end();
    if before.ends_with("->") {
        return "->";
    }
    let from = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_')
        .last()
        .map(|(i, _)| i)
        .or_else(|| before.char_indices().last().map(|(i, _)| i))
        .unwrap_or(before.len());
    &before[from..]
}

/// The word at `offset` (letters, digits, `_`), the token before it, and the
/// first character after it that is not a space.
fn word_and_next(text: &str, offset: usize) -> Option<(usize, &str, &str, Option<char>)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = crate::source::floor_char_boundary(text, offset.min(text.len()));
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    if start == end {
        return None;
    }
    let previous = previous_token(&text[..start]);
    let next = text[end..].chars().find(|c| !c.is_whitespace());
    Some((start, &text[start..end], previous, next))
}

pub fn definition(analysis: &Analysis, offset: usize) -> Value {
    resolve(analysis, offset)
        .and_then(|d| location(d.at, &analysis.loaded.sources))
        .or_else(|| imported(analysis, offset))
        .map_or(Value::Null, |l| json!(l))
}

/// The start of the file an `import "…"` at `offset` of the root file names.
fn imported(analysis: &Analysis, offset: usize) -> Option<Location> {
    let sources = &analysis.loaded.sources;
    let text: &str = &sources.get(super::ROOT).text;
    let offset = crate::source::floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let quoted = line.trim_start().strip_prefix("import")?.trim_start();
    let name = quoted.strip_prefix('"')?.split('"').next()?;
    let dir = sources.get(super::ROOT).path.parent()?;
    let path = dir.join(name);
    let path = path.canonicalize().unwrap_or(path);
    let file = sources.find(&path)?;
    location(Span::new(file, 0, 0), sources)
}

/// How many lines of a declaration a hover shows when the program does not check.
const HOVER_LINES: usize = 20;

pub fn hover(analysis: &Analysis, offset: usize) -> Value {
    if let Some(hover) = argument_hover(analysis, offset) {
        return hover;
    }
    let Some(found) = resolve(analysis, offset) else {
        return Value::Null;
    };
    let sources = &analysis.loaded.sources;
    let explained = analysis.checked.explainable(sources).map(|program| {
        crate::explain::explain(
            &program,
            found.name,
            None,
            crate::clock::Clock::system().now(),
        )
    });
    let body = match explained.filter(|text| !text.trim().is_empty()) {
        Some(text) => format!("```text\n{}\n```", text.trim_end()),
        None => {
            let file = sources.get(found.whole.file);
            let text = &file.text[found.whole.start..found.whole.end];
            let shown: Vec<&str> = text.lines().take(HOVER_LINES).collect();
            format!("```wf\n{}\n```", shown.join("\n"))
        }
    };
    let (root, _) = root_text(analysis).unwrap_or((found.at.file, ""));
    let place = if found.at.file == root {
        String::new()
    } else {
        // Named from the root's directory, as its `import` names it.
        let path = &sources.get(found.at.file).path;
        let dir = sources.get(root).path.parent().unwrap_or(path);
        format!(
            " (in `{}`)",
            path.strip_prefix(dir).unwrap_or(path).display()
        )
    };
    let markdown = format!(
        "**{} `{}`**{place}\n\n{body}",
        found.kind.label(),
        found.name
    );
    let mut hover = json!({ "contents": { "kind": "markdown", "value": markdown } });
    if found.at.file == root {
        hover["range"] = json!(range(found.at, sources));
    }
    hover
}

/// On an argument's name in `workflow w = template(name: …)` of the root
/// file: the template's parameter it gives, as declared, and the template's
/// doc comment.
fn argument_hover(analysis: &Analysis, offset: usize) -> Option<Value> {
    let (root, _) = root_text(analysis)?;
    let declarations = &analysis.checked.declarations;
    let (instance, name) = declarations.workflows.values().find_map(|w| {
        let instance = w.instance_of.as_ref()?;
        let (name, _) = instance.args.iter().find(|(name, _)| {
            name.span.file == root && name.span.start <= offset && offset <= name.span.end
        })?;
        Some((instance, name))
    })?;
    let template = declarations.templates.get(&instance.template.name)?;
    let param = template.params.iter().find(|p| p.name.name == name.name)?;
    let sources = &analysis.loaded.sources;
    let written = &sources.get(param.span.file).text[param.span.start..param.span.end];
    let doc =
        crate::syntax::doc_comment(&sources.get(template.span.file).text, template.span.start)
            .map(|doc| format!("\n\n{doc}"))
            .unwrap_or_default();
    let markdown = format!(
        "**parameter `{}` of template `{}`**\n\n```wf\n{}\n```{doc}",
        param.name.name,
        template.name.name,
        written.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    Some(json!({
        "contents": { "kind": "markdown", "value": markdown },
        "range": range(name.span, sources),
    }))
}

/// Every declaration of the root file, as a flat outline.
pub fn symbols(analysis: &Analysis) -> Value {
    let Some((root, _)) = root_text(analysis) else {
        return Value::Null;
    };
    let mut found: Vec<_> = declared(analysis)
        .into_iter()
        .filter(|d| d.at.file == root)
        .collect();
    found.sort_by_key(|d| d.whole.start);
    let symbols: Vec<SymbolInformation> =
        found.iter().filter_map(|d| symbol(analysis, d)).collect();
    json!(symbols)
}

#[cfg(test)]
mod tests {
    use super::word_and_next;

    #[test]
    fn the_word_at_an_offset_and_the_tokens_around_it() {
        let text = "workflow w { chain fetch -> score }";
        let at = text.find("score").unwrap() + 2;
        assert_eq!(
            word_and_next(text, at),
            Some((at - 2, "score", "->", Some('}')))
        );
        let at = text.find("fetch").unwrap();
        assert_eq!(
            word_and_next(text, at),
            Some((at, "fetch", "chain", Some('-')))
        );
        assert_eq!(word_and_next(text, text.find('{').unwrap()), None);
        // At the end of a word (where an editor's cursor sits after typing it).
        assert_eq!(
            word_and_next("retry standard", 14),
            Some((6, "standard", "retry", None))
        );
        // A field: after `.`, or before `:`.
        assert_eq!(word_and_next("r.score", 3), Some((2, "score", ".", None)));
        assert_eq!(
            word_and_next("{ score: 1 }", 3),
            Some((2, "score", "{", Some(':')))
        );
    }
}
