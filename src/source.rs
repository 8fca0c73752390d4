//! Source files and byte spans into them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Index of a file in a [`Sources`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }

    /// The smallest span covering both (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span::new(
            self.file,
            self.start.min(other.start),
            self.end.max(other.end),
        )
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (or as an import resolved it), for messages.
    pub name: String,
    pub path: PathBuf,
    pub text: Arc<str>,
    /// Where it was read from when an `import … at "rev"` pinned it to a git
    /// revision (`None`: the working tree).
    pub pinned: Option<Pinned>,
    /// Where each line starts, found once when first asked: a file with
    /// thousands of diagnostics must not be scanned from its start for each.
    lines: OnceLock<Arc<[usize]>>,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let starts = self.line_starts();
        let line = starts.partition_point(|&start| start <= offset);
        let column = self.text[starts[line - 1]..offset].chars().count() + 1;
        (line, column)
    }

    /// The byte offset where each line starts (the first is 0).
    pub fn line_starts(&self) -> &Arc<[usize]> {
        self.lines.get_or_init(|| line_starts(&self.text).into())
    }
}

/// The byte offset where each line of `text` starts (the first is 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The largest char boundary of `text` at or before `offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A file read from a git revision rather than the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// The root of the repository's working tree.
    pub repo: PathBuf,
    /// The file's path in the repository.
    pub path: PathBuf,
    /// The revision as the import wrote it (`v1.2`).
    pub rev: String,
    /// The commit it named when read.
    pub commit: String,
}

/// Every file read while loading a program, indexed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, name: String, path: &Path, text: impl Into<Arc<str>>) -> FileId {
        self.add_pinned(name, path, text, None)
    }

    /// Adds a file; `path` is its identity (two imports of one path are one
    /// file), for a pinned file its repository path and commit.
    pub fn add_pinned(
        &mut self,
        name: String,
        path: &Path,
        text: impl Into<Arc<str>>,
        pinned: Option<Pinned>,
    ) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            name,
            path: path.to_path_buf(),
            text: text.into(),
            pinned,
            lines: OnceLock::new(),
        });
        id
    }

    /// Adds every file of `other`, each named by `rename`; returns how far
    /// `other`'s file ids moved (a span of `other` is at `file + offset` here).
    pub fn append(&mut self, other: &Sources, rename: impl Fn(&str) -> String) -> u32 {
        let offset = self.files.len() as u32;
        for file in &other.files {
            let mut file = file.clone();
            file.name = rename(&file.name);
            self.files.push(file);
        }
        offset
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }
}

/// The id git gives a file with these bytes (`git hash-object`), so a stored
/// execution maps to the exact file content of a commit without needing git.
pub fn git_blob_id(bytes: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            git_blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn line_and_column_count_characters() {
        let mut sources = Sources::default();
        let id = sources.add("x.wf".into(), Path::new("x.wf"), "ab\néé x");
        assert_eq!(sources.get(id).line_column(0), (1, 1));
        assert_eq!(sources.get(id).line_column(3), (2, 1));
        assert_eq!(sources.get(id).line_column(8), (2, 4));
    }
}
