//! Text to AST: the pest grammar in `grammar/wf.pest`, and its lowering into
//! `crate::ast`. Syntax errors become diagnostics; nothing here panics on input.

mod expr;
mod lower;
mod nesting;
mod pairs;
mod rule_names;
pub use rule_names::keywords_after;
mod test_block;
mod text_block;

use crate::ast::File;
use crate::diagnostic::Diagnostic;
use crate::source::FileId;
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/wf.pest"]
pub(crate) struct WfParser;

/// The deepest bracket nesting accepted; deeper input is refused before parsing so
/// that no input can exhaust the stack.
pub const MAX_NESTING: usize = 64;

/// Parses one file. On a syntax error the AST is empty and the one diagnostic says
/// where and what was expected; lowering problems (e.g. a property set twice) come
/// back beside a full AST.
///
/// Declarations are parsed and lowered one at a time (`next_item`, then `file_end`
/// for the trailing trivia), which accepts exactly what `file` accepts: pest's
/// parse tree takes about ten times the text, and this way it never holds more
/// than one declaration's.
/// What `wfc fmt` sees of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Word,
    /// A string, template, number, duration or date.
    Literal,
    Punct,
    LineComment,
    BlockComment,
    /// A run of line breaks (and the spaces among them): how many breaks.
    Newlines(usize),
}

/// A token of a file that parses, with whether a space stood before it on its
/// line: the grammar's `fmt_file` rule, so `wfc fmt` splits text exactly as the
/// parser does. `None` for text that is not one (it does not happen for text that
/// parses: any character is a token).
pub fn tokens(text: &str) -> Option<Vec<(TokenKind, &str, bool)>> {
    let file = WfParser::parse(Rule::fmt_file, text).ok()?.next()?;
    let mut tokens = Vec::new();
    let mut end = 0;
    for pair in file.into_inner() {
        let span = pair.as_span();
        let kind = match pair.as_rule() {
            Rule::fmt_newlines => TokenKind::Newlines(span.as_str().matches('\n').count()),
            Rule::line_comment => TokenKind::LineComment,
            Rule::block_comment => TokenKind::BlockComment,
            Rule::text_block
            | Rule::line_text_block
            | Rule::string
            | Rule::date
            | Rule::duration
            | Rule::number => TokenKind::Literal,
            Rule::fmt_word => TokenKind::Word,
            Rule::fmt_punct => TokenKind::Punct,
            Rule::EOI => continue,
            // `fmt_file` yields nothing else; were it to, no guess is made.
            _ => return None,
        };
        // Only spaces are silent between tokens, and never after a line break.
        let (text, spaced) = match kind {
            TokenKind::Newlines(_) => ("", false),
            _ => (span.as_str(), span.start() > end),
        };
        tokens.push((kind, text, spaced));
        end = span.end();
    }
    Some(tokens)
}

/// Whether `word` is reserved: the grammar's `keyword` rule, the one list of them.
pub fn is_keyword(word: &str) -> bool {
    WfParser::parse(Rule::keyword, word).is_ok_and(|pairs| pairs.as_str().len() == word.len())
}

/// Every word the grammar spells out (reserved or where it says so, as
/// `cron` in a trigger): what an editor without a parser highlights. Read
/// from the grammar's text, the one place they are written; duration units
/// are left to the numbers they follow.
pub fn words() -> Vec<&'static str> {
    let mut words: Vec<&str> = grammar_strings(include_str!("../../grammar/wf.pest"))
        .into_iter()
        .filter(|w| w.len() > 1 && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        .filter(|w| crate::duration::parse(&format!("1{w}")).is_err())
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// The string literals of a pest grammar, escapes left as written; comments
/// skipped.
fn grammar_strings(grammar: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for line in grammar.lines() {
        let mut rest = line;
        loop {
            let quote = rest.find('"');
            let comment = rest.find("//");
            let Some(start) = quote.filter(|q| comment.is_none_or(|c| *q < c)) else {
                break;
            };
            let body = &rest[start + 1..];
            let mut end = None;
            let mut escaped = false;
            for (i, c) in body.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(end) = end else { break };
            found.push(&body[..end]);
            rest = &body[end + 1..];
        }
    }
    found
}

/// Whether `name` can name a metric: the grammar's `metric_name` rule.
pub fn is_metric_name(name: &str) -> bool {
    WfParser::parse(Rule::metric_name, name).is_ok_and(|pairs| pairs.as_str().len() == name.len())
}

/// The `///` lines right above the declaration that starts at byte `start` of
/// `text`, their markers taken out: its doc comment (a plain `//` line, a blank
/// line or code above ends it).
pub fn doc_comment(text: &str, start: usize) -> Option<String> {
    let before = text.get(..start)?;
    let (above, same_line) = before.rsplit_once('\n').unwrap_or(("", before));
    if !same_line.trim().is_empty() {
        return None;
    }
    let mut lines: Vec<&str> = above
        .split('\n')
        .rev()
        .map(str::trim_start)
        .take_while(|line| line.starts_with("///"))
        .map(|line| {
            let line = &line[3..];
            line.strip_prefix(' ').unwrap_or(line).trim_end()
        })
        .collect();
    lines.reverse();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A type written alone, like `{ approved: bool, note: string? }`: what an
/// `await` step's wait row keeps, read back to check a decision given later.
pub fn parse_type(text: &str) -> Option<crate::types::Type> {
    let mut pairs = WfParser::parse(Rule::type_only, text).ok()?;
    let type_expr = pairs.next()?.into_inner().next()?;
    let mut lower = pairs::Lower {
        file: FileId::default(),
        base: 0,
        diagnostics: Vec::new(),
    };
    let parsed = lower.type_expr(type_expr);
    Some(crate::types::Type::from_ast(&parsed))
}

pub fn parse(text: &str, file: FileId) -> (File, Vec<Diagnostic>) {
    if let Some(diagnostic) = nesting::check(text, file) {
        return (File::default(), vec![diagnostic]);
    }
    let mut lower = pairs::Lower {
        file,
        base: 0,
        diagnostics: Vec::new(),
    };
    let mut items = Vec::new();
    while let Ok(mut pairs) = WfParser::parse(Rule::next_item, &text[lower.base..]) {
        let wrapper = pairs
            .next()
            .expect("the grammar guarantees a `next_item` pair");
        let end = wrapper.as_span().end();
        if end == 0 {
            break;
        }
        let item = wrapper
            .into_inner()
            .next()
            .expect("the grammar guarantees an item");
        items.push(lower.item(item));
        lower.base += end;
    }
    if WfParser::parse(Rule::file_end, &text[lower.base..]).is_err() {
        return (File::default(), vec![detailed_error(text, file)]);
    }
    (File { items }, lower.diagnostics)
}

/// Parses again with pest's attempt tracking, which records the literal tokens
/// (`}`, `=`, …) it tried, for the message. Tracking makes parsing slower, so only a
/// failed parse pays for it. The switch is process-wide and is left on: turning it
/// off could starve a concurrent parse of its detail.
fn detailed_error(text: &str, file: FileId) -> Diagnostic {
    pest::set_error_detail(true);
    match WfParser::parse(Rule::file, text) {
        Err(error) => rule_names::syntax_error(&error, text, file),
        Ok(_) => unreachable!("pest parses the same text the same way twice"),
    }
}

/// Parses with pest and walks every pair without building anything: the floor
/// the benchmarks measure `wfc check` against. `None` on a syntax error.
pub fn walk_pairs(text: &str) -> Option<usize> {
    let pairs = WfParser::parse(Rule::file, text).ok()?;
    Some(pairs.flatten().count())
}

#[cfg(test)]
mod word_tests {
    #[test]
    fn the_words_are_the_grammars_keywords_and_context_words_without_units() {
        let words = super::words();
        for word in [
            "workflow",
            "await",
            "cron",
            "timeout",
            "dead_letter",
            "import",
            "at",
        ] {
            assert!(words.contains(&word), "{word} in {words:?}");
        }
        for unit in ["ms", "d", "h"] {
            assert!(!words.contains(&unit), "{unit} is a unit: {words:?}");
        }
        // Every reserved word is among them.
        assert_eq!(words.iter().filter(|w| super::is_keyword(w)).count(), 37);
        assert!(words.iter().all(|w| !w.contains('\\') && !w.contains('"')));
    }
}

#[cfg(test)]
mod doc_tests {
    use super::doc_comment;

    #[test]
    fn doc_comments_are_the_triple_slash_lines_right_above() {
        let text = "// plain\n/// First line.\n///   indented\n///\nagent a {}\n";
        let at = text.find("agent").unwrap();
        assert_eq!(
            doc_comment(text, at).as_deref(),
            Some("First line.\n  indented\n")
        );
        // A blank line, a plain comment or code between ends it.
        for text in [
            "/// Gone.\n\nagent a {}",
            "/// Gone.\n// plain\nagent a {}",
            "/// Gone.\nagent b {} agent a {}",
        ] {
            let at = text.rfind("agent a").unwrap();
            assert_eq!(doc_comment(text, at), None, "{text:?}");
        }
        assert_eq!(doc_comment("agent a {}", 0), None);
    }
}
