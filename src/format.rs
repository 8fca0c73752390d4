//! `wfc fmt`: the one canonical layout of a `.wf` file. It works on tokens, so every
//! comment survives and the program is unchanged: it keeps the author's line breaks
//! (at most one blank line in a row), indents two spaces per open bracket, and
//! normalises the spaces between tokens on a line.

/// Formats `text`, which must parse (callers check first): formatting a file with a
/// syntax error could move a comment or a string it cannot see.
pub fn format(text: &str) -> String {
    let Some(tokens) = lex(text) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    let mut depth: usize = 0;
    let mut line = String::new();
    let mut line_depth = 0;
    let mut previous: Option<&Token> = None;
    let mut unary_minus = false;
    let mut blank_pending = false;
    // The depth of an `await` whose `where` and `timeout` may follow on lines
    // of their own: those continue its statement, two levels further in.
    let mut awaiting: Option<usize> = None;
    for (i, token) in tokens.iter().enumerate() {
        if let Kind::Newlines(n) = token.kind {
            if !line.is_empty() {
                finish_line(&mut out, &line, line_depth);
                line.clear();
            }
            blank_pending |= n > 1 && !out.is_empty();
            previous = Some(token);
            continue;
        }
        let closing = matches!(token.text, "}" | "]" | ")");
        if closing {
            depth = depth.saturating_sub(1);
        }
        if line.is_empty() {
            if blank_pending {
                out.push('\n');
                blank_pending = false;
            }
            line_depth = depth;
            if let Some(at) = awaiting {
                if depth == at && matches!(token.text, "where" | "timeout") {
                    line_depth = depth + 2;
                } else if depth <= at {
                    awaiting = None;
                }
            }
        } else if let Some(prev) = previous {
            if space_between(prev, token, unary_minus) {
                line.push_str(if token.kind == Kind::LineComment {
                    "  "
                } else {
                    " "
                });
            }
        }
        unary_minus = token.text == "-" && !previous.is_some_and(ends_operand);
        if token.kind == Kind::Literal && token.text.starts_with(TEMPLATE_QUOTES) {
            line.push_str(&reindent_text_block(token.text, line_depth));
        } else {
            line.push_str(token.text.trim_end());
        }
        if matches!(token.text, "{" | "[" | "(") {
            depth += 1;
        }
        if token.kind == Kind::Word && !token.key && token.text == "await" {
            awaiting = Some(depth);
        }
        previous = Some(&tokens[i]);
    }
    if !line.is_empty() {
        finish_line(&mut out, &line, line_depth);
    }
    out
}

const TEMPLATE_QUOTES: &str = "\"\"\"";

/// A `\"\"\"` text block moved to where its line now sits: its lines one level
/// deeper, the closing quotes on a line of their own at the line's depth. What it
/// says is unchanged, since its common indentation is not part of it
/// (`syntax::text_block`); the line of the opening quotes is left alone.
fn reindent_text_block(text: &str, depth: usize) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let Some((first, rest)) = lines.split_first() else {
        return text.to_string();
    };
    if rest.is_empty() {
        return text.to_string();
    }
    let indent_of = |line: &str| line.len() - line.trim_start_matches([' ', '\t']).len();
    let common = rest
        .iter()
        .filter(|line| !line.trim().is_empty() && line.trim() != TEMPLATE_QUOTES)
        .map(|line| indent_of(line))
        .min()
        .unwrap_or(0);
    let mut out = first.to_string();
    for (n, line) in rest.iter().enumerate() {
        out.push('\n');
        if n + 1 == rest.len() && line.trim() == TEMPLATE_QUOTES {
            out.push_str(&"  ".repeat(depth));
            out.push_str(TEMPLATE_QUOTES);
        } else if !line.trim().is_empty() {
            out.push_str(&"  ".repeat(depth + 1));
            out.push_str(line[common.min(indent_of(line))..].trim_end_matches([' ', '\t', '\r']));
        }
    }
    out
}

fn finish_line(out: &mut String, line: &str, depth: usize) {
    // A line that opens with a closing bracket sits at the depth it closes to; the
    // depth was already lowered for it.
    for _ in 0..depth {
        out.push_str("  ");
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[derive(Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    /// Whether whitespace stood before it in the input (on the same line).
    spaced: bool,
    /// A word that is a field name (after `.`): a name even when it is spelled like
    /// a reserved word (`r.output - 1`, `r.any[0]`).
    key: bool,
}

impl Token<'_> {
    fn reserved(&self) -> bool {
        !self.key && is_keyword(self.text)
    }
}

/// Reserved words (the grammar's one list): a bracket after one is never a call or
/// an index.
use crate::syntax::{is_keyword, TokenKind as Kind};

/// Whether a token ends an operand, so that a following `-` is binary: a name, a
/// literal, a closing bracket, or a reserved word that is a value.
fn ends_operand(token: &Token<'_>) -> bool {
    match token.kind {
        Kind::Literal => true,
        Kind::Word => {
            !token.reserved() || matches!(token.text, "input" | "true" | "false" | "null")
        }
        Kind::Punct => matches!(token.text, ")" | "]" | "}"),
        _ => false,
    }
}

const BINARY: &[&str] = &[
    "=", "==", "!=", ">=", "<=", ">", "<", "+", "*", "/", "%", "->",
];

fn space_between(prev: &Token<'_>, cur: &Token<'_>, after_unary_minus: bool) -> bool {
    if cur.kind == Kind::LineComment
        || prev.kind == Kind::BlockComment
        || cur.kind == Kind::BlockComment
    {
        return true;
    }
    if after_unary_minus {
        return false;
    }
    let (p, c) = (prev.text, cur.text);
    if BINARY.contains(&c) || BINARY.contains(&p) {
        return true;
    }
    if c == "-" {
        return ends_operand(prev) || cur.spaced;
    }
    if p == "-" {
        // A binary minus (a unary one returned above).
        return true;
    }
    match (p, c) {
        ("{", "}") | ("[", "]") | ("(", ")") => false,
        ("{", _) | (_, "}") => true,
        (_, "," | ":" | ")" | "]" | "?" | ".") | ("(" | "[" | ".", _) => false,
        ("," | ":", _) => true,
        // A call or an index sticks to what it applies to. A list after a property
        // word (`skills [a, b]`, `run ["sh"]`) looks like an index to a lexer, so there
        // the author's space decides.
        (_, "(" | "[") => {
            let attaches = matches!(prev.kind, Kind::Word | Kind::Literal) && !prev.reserved()
                || matches!(p, ")" | "]");
            !attaches || (c == "[" && cur.spaced)
        }
        _ => true,
    }
}

/// The file's tokens as the grammar splits them (`syntax::tokens`); `None` only
/// for text that does not parse, which is never formatted.
fn lex(text: &str) -> Option<Vec<Token<'_>>> {
    let mut after_dot = false;
    let tokens = crate::syntax::tokens(text)?
        .into_iter()
        .map(|(kind, text, spaced)| {
            let key = after_dot && kind == Kind::Word;
            if !matches!(
                kind,
                Kind::Newlines(_) | Kind::LineComment | Kind::BlockComment
            ) {
                after_dot = text == ".";
            }
            Token {
                kind,
                text,
                spaced,
                key,
            }
        })
        .collect();
    Some(tokens)
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn reserved_words_come_from_the_grammar() {
        // `any` is reserved, so its skill list is a list, not an index.
        let input = "workflow w { steps { x = any[sales]({}) let y = true - 1 } }\n";
        let expected = "workflow w { steps { x = any [sales]({}) let y = true - 1 } }\n";
        assert_eq!(format(input), expected);
        // `return` is no word of the language: an ordinary name, called.
        assert!(!crate::syntax::is_keyword("return"));
        assert!(crate::syntax::is_keyword("any") && !crate::syntax::is_keyword("anyway"));
    }

    #[test]
    fn an_awaits_where_and_timeout_lines_continue_it() {
        let input = "workflow w {\n steps {\n d = await \"a.b\" { ok: bool }\n where event.id == input.id\n timeout 2d\n x = d\n }\n}\n";
        let expected = "workflow w {\n  steps {\n    d = await \"a.b\" { ok: bool }\n        where event.id == input.id\n        timeout 2d\n    x = d\n  }\n}\n";
        assert_eq!(format(input), expected);
        assert_eq!(format(expected), expected);
    }

    #[test]
    fn normalises_spacing_and_indentation() {
        let input = "agent a{\n      input {x:number , y : string?}\ncompute{ v : input.x*2+ - 1 }   \n}\n\n\n\ntrigger t { cron \"0 9 * * *\" }";
        let expected = "agent a {\n  input { x: number, y: string? }\n  compute { v: input.x * 2 + -1 }\n}\n\ntrigger t { cron \"0 9 * * *\" }\n";
        assert_eq!(format(input), expected);
        assert_eq!(format(expected), expected);
    }

    #[test]
    fn keeps_comments_dates_calls_and_lists() {
        let input = "goal g {   // the goal\n  kpi sum(revenue)  per year >= 5 by 2026-12-31 /* inline */\n  team { skills [a,b] size 2 }\n}\nworkflow w { steps { x = any [s](input) y = f ( x ) let z = x[0] - 1 } }\n";
        let expected = "goal g {  // the goal\n  kpi sum(revenue) per year >= 5 by 2026-12-31 /* inline */\n  team { skills [a, b] size 2 }\n}\nworkflow w { steps { x = any [s](input) y = f(x) let z = x[0] - 1 } }\n";
        assert_eq!(format(input), expected);
    }

    #[test]
    fn text_blocks_move_with_their_line_and_keep_what_they_say() {
        let input = "agent a {\n output { s: string }\n llm \"m\" endpoint \"http://x.test/v1\"\n        prompt \"\"\"\n              Say {{ input.x }}:\n                  - indented\n\n              done\n          \"\"\"\n}\n";
        let expected = "agent a {\n  output { s: string }\n  llm \"m\" endpoint \"http://x.test/v1\"\n  prompt \"\"\"\n    Say {{ input.x }}:\n        - indented\n\n    done\n  \"\"\"\n}\n";
        assert_eq!(format(input), expected);
        assert_eq!(format(expected), expected);
        let prompt = |text: &str| {
            let (file, diagnostics) = crate::syntax::parse(text, crate::source::FileId::default());
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
            match &file.items[0] {
                crate::ast::Item::Agent(agent) => match &agent.bodies[0] {
                    crate::ast::AgentBody::Llm(llm) => (llm.prompt.as_ref().unwrap().parts.iter())
                        .map(|part| match part {
                            crate::ast::TextPart::Text(text) => text.clone(),
                            crate::ast::TextPart::Hole(_) => "{{}}".to_string(),
                        })
                        .collect::<String>(),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(prompt(input), "Say {{}}:\n    - indented\n\ndone");
        assert_eq!(prompt(expected), prompt(input));
    }
}
