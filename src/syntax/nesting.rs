//! A pre-pass that bounds nesting depth. pest and the lowering recurse per level of
//! brackets and per chained `if`/`else`, so very deep input would overflow the stack
//! instead of producing a diagnostic.

use super::MAX_NESTING;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Span};
use std::ops::ControlFlow;

/// Returns a diagnostic at the first place the nesting passes [`MAX_NESTING`]: brackets
/// more than that deep, or more `if`s than that in one bracket-free stretch (the
/// only other way expressions nest). Everything else in the grammar repeats rather
/// than recurses.
pub fn check(text: &str, file: FileId) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut ifs = 0usize;
    code(text, |i, mark| {
        let Mark::Byte(byte) = mark else {
            return ControlFlow::Continue(());
        };
        match byte {
            b'{' | b'[' | b'(' => {
                depth += 1;
                ifs = 0;
                if depth > MAX_NESTING {
                    return ControlFlow::Break(too_deep(file, i));
                }
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                ifs = 0;
            }
            b'i' if bytes.get(i + 1) == Some(&b'f') && is_word(bytes, i, 2) => {
                ifs += 1;
                if ifs > MAX_NESTING {
                    return ControlFlow::Break(too_deep(file, i));
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    })
}

/// What is opened and never closed, innermost first: where a syntax error really
/// begins when a `}` (or a text block's `"""`) is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unclosed {
    pub at: usize,
    pub open: &'static str,
    pub close: &'static str,
}

pub fn unclosed(text: &str) -> Option<Unclosed> {
    let mut open: Vec<Unclosed> = Vec::new();
    let mut stuck = None;
    let push = |open: &mut Vec<Unclosed>, at, opener, close| {
        open.push(Unclosed {
            at,
            open: opener,
            close,
        })
    };
    code(text, |i, mark| {
        match mark {
            Mark::Byte(b'{') => push(&mut open, i, "{", "}"),
            Mark::Byte(b'[') => push(&mut open, i, "[", "]"),
            Mark::Byte(b'(') => push(&mut open, i, "(", ")"),
            Mark::Open(TEMPLATE) => push(&mut open, i, TEMPLATE, TEMPLATE),
            Mark::Open(opener) => push(&mut open, i, opener, HOLE_CLOSE),
            Mark::Byte(b'}' | b']' | b')') | Mark::Close => {
                open.pop();
            }
            Mark::Stuck => stuck = stuck.or(open.last().copied()),
            Mark::Byte(_) => {}
        }
        ControlFlow::<()>::Continue(())
    });
    stuck.or(open.last().copied())
}

const TEMPLATE: &str = "\"\"\"";
const HOLE_OPEN: &str = "{{";
const HOLE_CLOSE: &str = "}}";

/// What [`code`] shows its visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// A byte of code.
    Byte(u8),
    /// A text block's `"""` or a hole's `{{` (never a bracket: text block text is not
    /// code, and a hole's own brackets are visited as bytes).
    Open(&'static str),
    /// The `"""` or `}}` that closes the innermost one.
    Close,
    /// The innermost open one will never close (a text block ended inside a hole).
    Stuck,
}

/// Visits each byte of `text` outside strings, comments and text block text (the
/// holes of text blocks are code), with its offset, until `visit` breaks.
///
/// A one-line string is a text block where the grammar reads one (`prompt "…{{ x }}…"`,
/// and every string `wfc fmt` tokenizes): when its holes close on its line, they are
/// code too, so no bracket in a hole escapes the bound.
fn code<B>(text: &str, mut visit: impl FnMut(usize, Mark) -> ControlFlow<B>) -> Option<B> {
    let bytes = text.as_bytes();
    let mut i = 0;
    // Inside a text block: how it closes. Inside a hole: its own bracket depth, so
    // that its `}}` is told from an object's `}`.
    let mut text_block: Option<TextBlock> = None;
    let mut hole: Option<usize> = None;
    while i < bytes.len() {
        let at = |s: &str| bytes[i..].starts_with(s.as_bytes());
        if let (Some(kind), None) = (text_block, hole) {
            let (mark, len) = match kind {
                TextBlock::Block if at(TEMPLATE) => {
                    text_block = None;
                    (Some(Mark::Close), TEMPLATE.len())
                }
                TextBlock::Line if bytes[i] == b'"' => {
                    text_block = None;
                    (None, 1)
                }
                _ if at(HOLE_OPEN) => {
                    hole = Some(0);
                    (Some(Mark::Open(HOLE_OPEN)), HOLE_OPEN.len())
                }
                TextBlock::Line if bytes[i] == b'\\' => (None, 2),
                _ => (None, 1),
            };
            if let Some(mark) = mark {
                if let ControlFlow::Break(found) = visit(i, mark) {
                    return Some(found);
                }
            }
            i += len;
            continue;
        }
        if hole.is_some() && text_block == Some(TextBlock::Block) && at(TEMPLATE) {
            // A hole left open: the text block ends here, and the hole is where
            // the trouble began.
            hole = None;
            text_block = None;
            if let ControlFlow::Break(found) = visit(i, Mark::Stuck) {
                return Some(found);
            }
            i += TEMPLATE.len();
            continue;
        }
        if hole == Some(0) && at(HOLE_CLOSE) {
            hole = None;
            if let ControlFlow::Break(found) = visit(i, Mark::Close) {
                return Some(found);
            }
            i += HOLE_CLOSE.len();
            continue;
        }
        if hole.is_none() && at(TEMPLATE) {
            text_block = Some(TextBlock::Block);
            if let ControlFlow::Break(found) = visit(i, Mark::Open(TEMPLATE)) {
                return Some(found);
            }
            i += TEMPLATE.len();
            continue;
        }
        match bytes[i] {
            b'"' if hole.is_none() && is_line_text_block(bytes, i) => {
                text_block = Some(TextBlock::Line);
            }
            b'"' => i = skip_string(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |end| i + 2 + end + 1);
            }
            // A closing bracket a hole never opened closes nothing outside it.
            b'}' | b']' | b')' if hole == Some(0) => {}
            byte => {
                if let Some(depth) = hole.as_mut() {
                    match byte {
                        b'{' | b'[' | b'(' => *depth += 1,
                        b'}' | b']' | b')' => *depth -= 1,
                        _ => {}
                    }
                }
                if let ControlFlow::Break(found) = visit(i, Mark::Byte(byte)) {
                    return Some(found);
                }
            }
        }
        i += 1;
    }
    None
}

/// How the text block being walked closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextBlock {
    /// `"""`, over lines.
    Block,
    /// `"`, on one line.
    Line,
}

/// Whether the string opening at `start` reads as a one-line text block with at least
/// one hole: every `{{` in it is closed by a `}}` outside the hole's own brackets
/// and strings before its line ends. Otherwise it is a plain string, whose `{{` is
/// text (as the grammar reads `"{{x"`).
fn is_line_text_block(bytes: &[u8], start: usize) -> bool {
    let mut i = start + 1;
    let mut holes = 0;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'"' => return holes > 0,
            b'\\' => i += 2,
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                let Some(end) = hole_end(bytes, i + 2) else {
                    return false;
                };
                holes += 1;
                i = end;
            }
            _ => i += 1,
        }
    }
    false
}

/// Where the hole whose code starts at `i` ends (past its `}}`), if it does on this
/// line: its brackets balanced and its strings skipped.
fn hole_end(bytes: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'}' if depth == 0 => {
                return (bytes.get(i + 1) == Some(&b'}')).then_some(i + 2);
            }
            b']' | b')' if depth == 0 => return None,
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth -= 1,
            b'"' => {
                i = skip_string(bytes, i);
                if bytes.get(i) != Some(&b'"') {
                    return None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn too_deep(file: FileId, at: usize) -> Diagnostic {
    Diagnostic::new(
        Code::TooDeeplyNested,
        Span::new(file, at, at + 1),
        format!("nesting is deeper than {MAX_NESTING} levels"),
        "this level is too deep",
    )
    .with_help("split the expression with `let` bindings or the workflow into sub-workflows")
}

fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
        if bytes[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i
}

/// Whether the `len` bytes at `i` form a whole word.
fn is_word(bytes: &[u8], i: usize, len: usize) -> bool {
    let is_ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    (i == 0 || !is_ident(&bytes[i - 1])) && !bytes.get(i + len).is_some_and(is_ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_block_text_is_not_code_but_its_holes_are() {
        let braces = "{ ".repeat(MAX_NESTING * 2);
        let text = format!(
            "agent a {{ llm \"m\" prompt \"\"\"{braces} {{{{ {{ a: [1] }}.a }}}} \"\"\" }}"
        );
        assert_eq!(check(&text, FileId::default()), None);
        assert_eq!(unclosed(&text), None);
        let deep = format!(
            "agent a {{ llm \"m\" prompt \"\"\"{{{{ {}1{} }}}}\"\"\" }}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        assert!(
            check(&deep, FileId::default()).is_some(),
            "a hole's brackets count"
        );
    }

    #[test]
    fn a_one_line_text_blocks_holes_are_code_and_a_plain_strings_braces_are_not() {
        let deep = |open: &str, close: &str| {
            format!(
                "agent a {{ llm \"m\" prompt \"x {{{{ {}1{} }}}} y\" }}",
                open.repeat(10_000),
                close.repeat(10_000)
            )
        };
        for (open, close) in [("[", "]"), ("(", ")"), ("{ a: ", "}")] {
            assert!(
                check(&deep(open, close), FileId::default()).is_some(),
                "{open} in a one-line hole"
            );
        }
        // A string in a hole, and escapes, do not end the text block early.
        let quoted = format!(
            "agent a {{ llm \"m\" prompt \"\\\" {{{{ \"}}}}\" + {}1{} }}}}\" }}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        assert!(check(&quoted, FileId::default()).is_some(), "{quoted}");
        // Text that only looks like a hole: a plain string.
        let plain = format!("agent a {{ run [\"{{{{{}\"] }}", "[".repeat(200));
        assert_eq!(check(&plain, FileId::default()), None);
        assert_eq!(unclosed(&plain), None);
        let fine = "agent a { llm \"m\" prompt \"{{ { a: [1] }.a }} and {{ input.b }}\" }";
        assert_eq!(check(fine, FileId::default()), None);
        assert_eq!(unclosed(fine), None);
    }

    #[test]
    fn an_unclosed_text_block_or_hole_is_where_the_trouble_began() {
        let open = |text: &str| unclosed(text).map(|u| (u.at, u.open, u.close));
        assert_eq!(
            open("agent a { prompt \"\"\"\n  text }\n"),
            Some((17, "\"\"\"", "\"\"\""))
        );
        assert_eq!(
            open("agent a { prompt \"\"\"x {{ input.a \"\"\" }\n"),
            Some((22, "{{", "}}"))
        );
        assert_eq!(
            open("agent a { prompt \"\"\"x {{ input.a }} \"\"\" "),
            Some((8, "{", "}"))
        );
        // Template text is walked byte by byte, never cut inside a character.
        assert_eq!(
            open("agent a { prompt \"\"\"é€😀 {{ \"ü\" }} \"\"\" }"),
            None
        );
    }
}
