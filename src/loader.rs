//! Reading a root file and everything it imports. The only part of the language
//! core that touches the file system; what it reads is kept in [`Sources`] so every
//! diagnostic can show its file.

use crate::ast::{File, Item};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Sources, Span};
use crate::syntax;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Every file of a program: the root first, then its imports in the order met.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: Sources,
    pub files: Vec<(FileId, File)>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Why the root file itself could not be read: a usage error, not a diagnostic.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{path}`: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("`{path}` is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { path: String, offset: usize },
    #[error("`{path}` is not a regular file (a directory, device, FIFO or socket)")]
    NotAFile { path: String },
    #[error("`{path}` is larger than {} MiB, the most a source file may be", MAX_SOURCE >> 20)]
    TooLarge { path: String },
}

/// The largest source file read. Checking takes memory in proportion to the text
/// (BENCHMARKS.md), and no hand-written workflow comes near this.
pub const MAX_SOURCE: u64 = 16 * 1024 * 1024;

/// Loads `root` and, transitively, its imports (paths relative to the importing file).
pub fn load(root: &Path) -> Result<Loaded, LoadError> {
    load_overlaid(root, &HashMap::new())
}

/// Loads like [`load`], taking the text of a file in `open` (by canonical path)
/// instead of what is on disk: an editor's unsaved buffers.
pub fn load_overlaid(root: &Path, open: &HashMap<PathBuf, String>) -> Result<Loaded, LoadError> {
    let read = |path: &Path| match open.get(path) {
        Some(text) => Ok(text.clone()),
        None => read(path),
    };
    // The root is read by the name it was given, so errors show that name.
    let text = match open.get(&canonical(root)) {
        Some(text) => text.clone(),
        None => read(root)?,
    };
    let mut loaded = Loaded::default();
    let id = loaded
        .sources
        .add(root.display().to_string(), &canonical(root), text);
    let mut stack = vec![id];
    loaded.visit(id, &mut stack, &read);
    Ok(loaded)
}

/// The name standard input is shown by.
pub const STDIN: &str = "<stdin>";

/// Loads a program read from standard input (`wfc check -`); its imports are
/// relative to the current directory.
pub fn load_stdin() -> Result<Loaded, LoadError> {
    Ok(load_text(STDIN, &read_stdin()?))
}

/// Reads standard input as a source text, under the same limits as a file.
pub fn read_stdin() -> Result<String, LoadError> {
    read_limited(std::io::stdin().lock(), STDIN.to_string())
}

/// Parses `text` as a program with no imports, e.g. for tests and benchmarks.
pub fn load_text(name: &str, text: &str) -> Loaded {
    let mut loaded = Loaded::default();
    let id = loaded.sources.add(name.to_string(), Path::new(name), text);
    loaded.visit(id, &mut vec![id], &read);
    loaded
}

impl Loaded {
    /// Parses file `id` and loads its imports depth-first; `stack` is the chain of
    /// files currently being imported, for cycle reports.
    fn visit(
        &mut self,
        id: FileId,
        stack: &mut Vec<FileId>,
        read: &dyn Fn(&Path) -> Result<String, LoadError>,
    ) {
        let text = self.sources.get(id).text.clone();
        let (file, diagnostics) = syntax::parse(&text, id);
        self.diagnostics.extend(diagnostics);
        let imports: Vec<_> = file
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Import(path) => Some(path.clone()),
                _ => None,
            })
            .collect();
        self.files.push((id, file));
        let dir = self
            .sources
            .get(id)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for import in imports {
            let path = canonical(&dir.join(&import.value));
            if let Some(existing) = self.sources.find(&path) {
                if let Some(pos) = stack.iter().position(|f| *f == existing) {
                    self.diagnostics
                        .push(self.cycle(&stack[pos..], import.span, &import.value));
                }
                continue;
            }
            match read(&path) {
                Ok(text) => {
                    let name = display_name(&self.sources.get(id).name, &import.value);
                    let child = self.sources.add(name, &path, text);
                    stack.push(child);
                    self.visit(child, stack, read);
                    stack.pop();
                }
                Err(error) => self.diagnostics.push(
                    Diagnostic::new(
                        Code::ImportNotFound,
                        import.span,
                        format!("cannot import `{}`", import.value),
                        reason(&error),
                    )
                    .with_help(format!(
                        "imports are relative to the importing file's directory, here `{}`",
                        shown_dir(&self.sources.get(id).name)
                    )),
                ),
            }
        }
    }

    fn cycle(&self, chain: &[FileId], span: Span, path: &str) -> Diagnostic {
        let mut names: Vec<&str> = chain
            .iter()
            .map(|f| self.sources.get(*f).name.as_str())
            .collect();
        names.push(names[0]);
        Diagnostic::new(
            Code::ImportCycle,
            span,
            format!("importing `{path}` makes a cycle"),
            "this import closes the cycle",
        )
        .with_help(format!(
            "{}; move what both files need into a third file that both import",
            names.join(" imports ")
        ))
    }
}

fn reason(error: &LoadError) -> String {
    match error {
        LoadError::Unreadable { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "no such file".into()
        }
        LoadError::Unreadable { source, .. } => source.to_string(),
        LoadError::NotUtf8 { .. } => "not UTF-8 text".into(),
        LoadError::NotAFile { .. } => "not a regular file".into(),
        LoadError::TooLarge { .. } => format!("larger than {} MiB", MAX_SOURCE >> 20),
    }
}

/// Reads a source file: a regular file of at most [`MAX_SOURCE`] bytes of UTF-8.
/// What is not a regular file is refused before it is opened, since opening a FIFO
/// waits for a writer and a device like /dev/zero never ends.
fn read(path: &Path) -> Result<String, LoadError> {
    let shown = path.display().to_string();
    let unreadable = |source| LoadError::Unreadable {
        path: shown.clone(),
        source,
    };
    if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
        return Err(LoadError::NotAFile { path: shown });
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    read_limited(file, shown)
}

/// At most [`MAX_SOURCE`] bytes of UTF-8 from `reader`, which `shown` names.
fn read_limited(reader: impl std::io::Read, shown: String) -> Result<String, LoadError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Err(source) = reader.take(MAX_SOURCE + 1).read_to_end(&mut bytes) {
        return Err(LoadError::Unreadable {
            path: shown,
            source,
        });
    }
    if bytes.len() as u64 > MAX_SOURCE {
        return Err(LoadError::TooLarge { path: shown });
    }
    String::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: shown,
        offset: e.utf8_error().valid_up_to(),
    })
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The directory of a file as the user named it (`.` for a bare file name).
fn shown_dir(name: &str) -> String {
    match Path::new(name).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.display().to_string(),
        _ => ".".into(),
    }
}

/// An import's name as the user would write it from where they ran `wfc`.
fn display_name(importer: &str, import: &str) -> String {
    let dir = Path::new(importer).parent().unwrap_or(Path::new(""));
    dir.join(import).display().to_string()
}
