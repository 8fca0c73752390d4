//! The layout of `"""` text blocks: written indented inside an agent, read as the
//! text a model should see. The newline after the opening quotes and the line of
//! the closing quotes are dropped, the indentation every line shares removed (a
//! first line on the line of the quotes does not count), blank lines emptied, and
//! the spaces that end a line dropped (editors and `wfc fmt` drop them too).
//! `wfc fmt` may re-indent a text block (`format::reindent_text_block`) because of this.

use crate::ast::TextPart;

/// `parts` with the text block's own layout taken out.
pub fn dedent(mut parts: Vec<TextPart>) -> Vec<TextPart> {
    let mut inline = true;
    if let Some(TextPart::Text(first)) = parts.first_mut() {
        if let Some(rest) = first.strip_prefix("\r\n").or(first.strip_prefix('\n')) {
            *first = rest.to_string();
            inline = false;
        }
    }
    if let Some(TextPart::Text(last)) = parts.last_mut() {
        if let Some(newline) = last.rfind('\n') {
            if last[newline + 1..].trim().is_empty() {
                let kept = last[..newline].trim_end_matches([' ', '\t', '\r']).len();
                last.truncate(kept);
            }
        }
    }
    let indent = common_indent(&parts, inline);
    let count = parts.len();
    for (i, part) in parts.iter_mut().enumerate() {
        let TextPart::Text(text) = part else {
            continue;
        };
        let mut out = String::with_capacity(text.len());
        let lines: Vec<&str> = text.split('\n').collect();
        for (n, line) in lines.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            // A part's first line starts a line only at the text block's start.
            let starts_line = n > 0 || (i == 0 && !inline);
            let before_hole = n + 1 == lines.len() && i + 1 < count;
            let line = match n + 1 < lines.len() {
                true => line.trim_end_matches([' ', '\t', '\r']),
                false => line,
            };
            if !starts_line {
                out.push_str(line);
            } else if line.trim().is_empty() && !before_hole {
                // A blank line is empty, however it was indented.
            } else {
                out.push_str(strip_indent(line, indent));
            }
        }
        *text = out;
    }
    parts.retain(|p| !matches!(p, TextPart::Text(t) if t.is_empty()));
    parts
}

/// The fewest spaces or tabs that begin a non-blank line (but the first when it
/// is `inline`, on the line of the opening quotes).
fn common_indent(parts: &[TextPart], inline: bool) -> usize {
    let mut indent = usize::MAX;
    for (i, part) in parts.iter().enumerate() {
        let TextPart::Text(text) = part else {
            continue;
        };
        let followed_by_hole = i + 1 < parts.len();
        let lines: Vec<&str> = text.split('\n').collect();
        for (n, line) in lines.iter().enumerate() {
            if n == 0 && (i > 0 || inline) {
                continue;
            }
            let blank = line.trim().is_empty();
            let last = n + 1 == lines.len();
            // Leading space before a hole is that line's indentation.
            if !blank || (last && followed_by_hole) {
                indent = indent.min(line.len() - line.trim_start_matches([' ', '\t']).len());
            }
        }
    }
    if indent == usize::MAX {
        0
    } else {
        indent
    }
}

fn strip_indent(line: &str, indent: usize) -> &str {
    let leading = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[leading.min(indent)..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Expr, ExprKind};
    use crate::source::Span;

    fn text(s: &str) -> TextPart {
        TextPart::Text(s.to_string())
    }

    fn hole() -> TextPart {
        TextPart::Hole(Expr {
            kind: ExprKind::Input,
            span: Span::default(),
        })
    }

    fn render(parts: &[TextPart]) -> String {
        parts
            .iter()
            .map(|p| match p {
                TextPart::Text(t) => t.as_str(),
                TextPart::Hole(_) => "<>",
            })
            .collect()
    }

    #[test]
    fn layout_around_the_text_is_removed_and_inner_indentation_kept() {
        let parts = dedent(vec![text(
            "\n    Summarise:\n      - growth\n\n    Answer in JSON.\n    ",
        )]);
        assert_eq!(render(&parts), "Summarise:\n  - growth\n\nAnswer in JSON.");
    }

    #[test]
    fn holes_keep_their_line_and_the_indentation_before_them_counts() {
        let parts = dedent(vec![
            text("\n      Revenue: "),
            hole(),
            text(" USD\n    "),
            hole(),
            text("\n  "),
        ]);
        assert_eq!(render(&parts), "  Revenue: <> USD\n<>");
        let inline = dedent(vec![text("Value "), hole(), text(" now")]);
        assert_eq!(render(&inline), "Value <> now");
        let leading = dedent(vec![hole(), text("\n   x\n     y")]);
        assert_eq!(render(&leading), "<>\nx\n  y");
        let first_on_quote_line = dedent(vec![text("Rate:\n      fast\n        slow\n    ")]);
        assert_eq!(render(&first_on_quote_line), "Rate:\nfast\n  slow");
        let blank = dedent(vec![text("\n    a\n        \n    b\n")]);
        assert_eq!(render(&blank), "a\n\nb");
    }

    #[test]
    fn spaces_ending_a_line_are_layout_but_spaces_before_a_hole_are_not() {
        let parts = dedent(vec![
            text("\n    Revenue of "),
            hole(),
            text(" USD. \t\r\n    Thanks \n  "),
        ]);
        assert_eq!(render(&parts), "Revenue of <> USD.\nThanks");
    }
}
