//! Byte offsets in a source text against LSP positions: lines and UTF-16 code
//! units, as the protocol counts columns.

use crate::source::SourceFile;
use lsp_types::{Position, Range};
use std::borrow::Cow;

/// Where each line of a text starts.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Cow<'a, [usize]>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = Cow::Owned(crate::source::line_starts(text));
        LineIndex { text, starts }
    }

    /// A loaded file's index, found once per file however many ranges are asked.
    pub fn of(file: &'a SourceFile) -> Self {
        LineIndex {
            text: &file.text,
            starts: Cow::Borrowed(file.line_starts()),
        }
    }

    pub fn position(&self, offset: usize) -> Position {
        let offset = crate::source::floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let start = self.starts[line];
        let character = self.text[start..offset].encode_utf16().count();
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }

    /// The byte offset of `position`, clamped to its line and to the text.
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(self.text.len(), |next| next - 1);
        let mut units = 0;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        // `é` is one unit (two bytes), `😀` two (four bytes): `x` is byte 10, unit 4.
        let text = "a\néé😀x\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(10), Position::new(1, 4));
        assert_eq!(index.position(11), Position::new(1, 5));
        assert_eq!(index.offset(Position::new(1, 4)), 10);
        assert_eq!(index.offset(Position::new(1, 2)), 6);
        assert_eq!(index.offset(Position::new(0, 99)), 1, "clamped to the line");
        assert_eq!(index.offset(Position::new(9, 0)), text.len());
        // Inside a multi-byte character: the start of it.
        assert_eq!(index.position(7), Position::new(1, 2));
    }
}
