//! Small pieces of English for messages people read.

/// `1 file`, `2 files`: a count with its noun, plural when it is not one.
pub fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}
