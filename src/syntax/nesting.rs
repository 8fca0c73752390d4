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
    code(text, |i, byte| {
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

/// The innermost bracket that is opened and never closed, if any: where a syntax
/// error really begins when a `}` is missing.
pub fn unclosed(text: &str) -> Option<usize> {
    let mut open: Vec<usize> = Vec::new();
    code(text, |i, byte| {
        match byte {
            b'{' | b'[' | b'(' => open.push(i),
            b'}' | b']' | b')' => {
                open.pop();
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    open.last().copied()
}

/// Visits each byte of `text` outside strings and comments, with its offset, until
/// `visit` breaks.
fn code<B>(text: &str, mut visit: impl FnMut(usize, u8) -> ControlFlow<B>) -> Option<B> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
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
            byte => {
                if let ControlFlow::Break(found) = visit(i, byte) {
                    return Some(found);
                }
            }
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
