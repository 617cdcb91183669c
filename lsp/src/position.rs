//! Positions: LSP line/character pairs (UTF-16 code units, as the protocol's default
//! encoding says) to byte offsets of the compiler's spans, and back.
//!
//! Lines end at `\n`; a `\r` before it belongs to the line break, so a position is
//! never placed between `\r` and `\n`.

use tower_lsp_server::ls_types::{Position, Range};
use weft_compiler::source::Span;

/// Byte offsets of line starts of one text, for converting positions.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// The position of a byte offset. Offsets past the end, or inside a character,
    /// are moved back to the nearest character boundary.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts.get(line).copied().unwrap_or(0);
        let character = self
            .text
            .get(start..offset)
            .map_or(0, |t| t.chars().map(char::len_utf16).sum::<usize>());
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of a position. A line past the end gives the end of the text; a
    /// character past the end of its line gives the end of the line; a character in the
    /// middle of a surrogate pair gives the start of that character.
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let end = self.line_end(position.line as usize);
        let mut units = 0usize;
        let wanted = position.character as usize;
        for (i, c) in self.text.get(start..end).unwrap_or("").char_indices() {
            let next = units + c.len_utf16();
            if next > wanted {
                return start + i;
            }
            units = next;
        }
        end
    }

    /// The range of a span.
    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start), self.position(span.end))
    }

    /// The span of a range.
    pub fn span(&self, range: Range) -> Span {
        let start = self.offset(range.start);
        Span::new(start, self.offset(range.end).max(start))
    }

    /// The range of the whole text.
    pub fn full_range(&self) -> Range {
        Range::new(Position::new(0, 0), self.position(self.text.len()))
    }

    /// End of a line's content: before its `\n` (and a `\r` before that).
    fn line_end(&self, line: usize) -> usize {
        let Some(next) = self.starts.get(line + 1) else {
            return self.text.len();
        };
        let end = next - 1;
        if end > 0 && self.text.as_bytes().get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn ascii_round_trip() {
        let text = "schema A {\n  a: Int\n}\n";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            assert_eq!(index.offset(index.position(offset)), offset);
        }
        assert_eq!(index.position(0), pos(0, 0));
        assert_eq!(index.position(13), pos(1, 2));
        assert_eq!(index.position(text.len()), pos(3, 0));
    }

    #[test]
    fn utf16_units_for_non_ascii() {
        // `é` is 2 bytes and 1 UTF-16 unit; `😀` is 4 bytes and 2 units (a surrogate pair).
        let text = "/// café 😀 x\nmap";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap_or_default();
        assert_eq!(index.position(x), pos(0, 12));
        assert_eq!(index.offset(pos(0, 12)), x);
        let emoji = text.find('😀').unwrap_or_default();
        assert_eq!(index.position(emoji), pos(0, 9));
        // Inside the surrogate pair: the start of the character.
        assert_eq!(index.offset(pos(0, 10)), emoji);
        assert_eq!(index.offset(pos(0, 11)), emoji + 4);
        assert_eq!(index.position(text.len()), pos(1, 3));
    }

    #[test]
    fn offsets_inside_a_character_move_back() {
        let text = "ä";
        let index = LineIndex::new(text);
        assert_eq!(index.position(1), pos(0, 0));
        assert_eq!(index.position(2), pos(0, 1));
    }

    #[test]
    fn positions_past_the_end_are_clamped() {
        let text = "ab\r\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(pos(0, 99)), 2, "before the \\r\\n");
        assert_eq!(index.offset(pos(1, 1)), 5);
        assert_eq!(index.offset(pos(7, 0)), text.len());
        assert_eq!(index.full_range().end, pos(1, 2));
    }

    #[test]
    fn empty_text() {
        let index = LineIndex::new("");
        assert_eq!(index.position(5), pos(0, 0));
        assert_eq!(index.offset(pos(0, 3)), 0);
        assert_eq!(
            index.span(Range::new(pos(0, 0), pos(0, 0))),
            Span::new(0, 0)
        );
    }
}
