//! Reading a root file and everything it imports. The only part of the language
//! core that touches the file system; what it reads is kept in [`Sources`] so every
//! diagnostic can show its file.

use crate::ast::{File, Import, Item};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{FileId, Sources, Span};
use crate::syntax;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Revisions fixed in advance, from the revision as written to a commit: a
/// resumed execution reads the commit it started with, even if a tag moved.
pub type Pins = HashMap<String, String>;

/// Where one import is read from.
struct Target {
    /// The file's identity: its canonical path, or for a pinned one its
    /// repository path at its commit.
    key: PathBuf,
    name: String,
    pinned: Option<(crate::git::Repository, crate::source::Pinned)>,
}

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
    load_with(root, open, &Pins::new())
}

fn load_with(
    root: &Path,
    open: &HashMap<PathBuf, String>,
    pins: &Pins,
) -> Result<Loaded, LoadError> {
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
    loaded.visit(id, &mut stack, &read, pins);
    Ok(loaded)
}

/// Loads `root` and its imports as they were committed at revision `rev` of
/// the git repository holding it (`wfc check --against`): the working tree is
/// not read at all.
pub fn load_at(root: &Path, rev: &str) -> Result<Loaded, crate::git::GitError> {
    let path = canonical(root);
    let dir = path.parent().unwrap_or(Path::new("/"));
    let repo = crate::git::Repository::discover(dir)?;
    let relative = repo
        .relative(&path)
        .ok_or_else(|| crate::git::GitError::NoRepository(root.display().to_string()))?;
    let commit = repo.commit(rev)?;
    let text = repo.read(&commit, rev, &relative)?;
    let mut loaded = Loaded::default();
    let key = repo.root().join(format!("{}@{commit}", relative.display()));
    let pinned = crate::source::Pinned {
        repo: repo.root().to_path_buf(),
        path: relative,
        rev: rev.to_string(),
        commit,
    };
    let name = format!("{}@{rev}", root.display());
    let id = loaded.sources.add_pinned(name, &key, text, Some(pinned));
    loaded.visit(id, &mut vec![id], &read, &Pins::new());
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
    load_text_pinned(name, text, &HashMap::new(), &Pins::new())
}

/// Parses `text` as the file `name` was, reading its imports from there (the
/// text of a file in `open`, by canonical path, instead of the disk's), the
/// revisions in `pins` at the commits they name: a resumed execution's program.
pub fn load_text_pinned(
    name: &str,
    text: &str,
    open: &HashMap<PathBuf, String>,
    pins: &Pins,
) -> Loaded {
    let read = |path: &Path| match open.get(path) {
        Some(text) => Ok(text.clone()),
        None => read(path),
    };
    let mut loaded = Loaded::default();
    let id = loaded.sources.add(name.to_string(), Path::new(name), text);
    loaded.visit(id, &mut vec![id], &read, pins);
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
        pins: &Pins,
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
        for import in imports {
            let target = match self.locate(id, &import, pins) {
                Ok(target) => target,
                Err(diagnostic) => {
                    self.diagnostics.push(*diagnostic);
                    continue;
                }
            };
            let path = &import.path;
            if let Some(existing) = self.sources.find(&target.key) {
                if let Some(pos) = stack.iter().position(|f| *f == existing) {
                    self.diagnostics
                        .push(self.cycle(&stack[pos..], path.span, &path.value));
                }
                continue;
            }
            let text = match &target.pinned {
                None => read(&target.key).map_err(|error| reason(&error)),
                Some((repo, pinned)) => repo
                    .read(&pinned.commit, &pinned.rev, &pinned.path)
                    .map_err(|error| error.to_string()),
            };
            match text {
                Ok(text) => {
                    let pinned = target.pinned.map(|(_, pinned)| pinned);
                    let child = self
                        .sources
                        .add_pinned(target.name, &target.key, text, pinned);
                    stack.push(child);
                    self.visit(child, stack, read, pins);
                    stack.pop();
                }
                Err(reason) => {
                    let importer = self.sources.get(id);
                    let help = match &importer.pinned {
                        None if import.at.is_none() => format!(
                            "imports are relative to the importing file's directory, here `{}`",
                            shown_dir(&importer.name)
                        ),
                        _ => "a pinned import reads the file as it was committed at that \
                              revision; commit it there, or pin a revision that has it"
                            .to_string(),
                    };
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::ImportNotFound,
                            path.span,
                            format!("cannot import `{}`", path.value),
                            reason,
                        )
                        .with_help(help),
                    )
                }
            }
        }
    }

    /// Where `import` of file `importer` reads from: the working tree, or a git
    /// revision when it is pinned (`at`) or its importer was read from one.
    fn locate(
        &self,
        importer: FileId,
        import: &Import,
        pins: &Pins,
    ) -> Result<Target, Box<Diagnostic>> {
        let from = self.sources.get(importer);
        let written = &import.path.value;
        let name = display_name(&from.name, written);
        let rev_span = import.at.as_ref().map_or(import.path.span, |at| at.span);
        let unknown = |message: String, label: &str, help: String| {
            Box::new(
                Diagnostic::new(Code::UnknownRevision, rev_span, message, label.to_string())
                    .with_help(help),
            )
        };
        let (repo, dir_in_repo, rev) = match (&from.pinned, &import.at) {
            (None, None) => {
                let dir = from
                    .path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                return Ok(Target {
                    key: canonical(&dir.join(written)),
                    name,
                    pinned: None,
                });
            }
            (None, Some(at)) => {
                let dir = from
                    .path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                let dir = canonical(&dir);
                let repo = crate::git::Repository::discover(&dir).map_err(|_| {
                    unknown(
                        format!("`{}` is in no git repository", shown_dir(&from.name)),
                        "a pinned import reads from git",
                        "run `git init` and commit the library there, or import without `at` \
                         to read the working tree"
                            .to_string(),
                    )
                })?;
                let relative = repo.relative(&dir).unwrap_or_default();
                (repo, relative, at.value.clone())
            }
            (Some(pinned), at) => {
                let repo = crate::git::Repository::discover(&pinned.repo)
                    .map_err(|error| unknown(error.to_string(), "this import", String::new()))?;
                let dir = pinned
                    .path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                let rev = at
                    .as_ref()
                    .map_or(pinned.rev.clone(), |at| at.value.clone());
                (repo, dir, rev)
            }
        };
        let path = crate::git::normal(&dir_in_repo.join(written))
            .filter(|path| !path.as_os_str().is_empty())
            .ok_or_else(|| {
                unknown(
                    format!("`{written}` leaves the git repository"),
                    "read at this revision",
                    "a pinned import names a file inside the repository that holds it".into(),
                )
            })?;
        let commit = match pins.get(&rev) {
            Some(commit) => commit.clone(),
            None if from.pinned.as_ref().is_some_and(|p| p.rev == rev) && import.at.is_none() => {
                from.pinned
                    .as_ref()
                    .map(|p| p.commit.clone())
                    .unwrap_or_default()
            }
            None => repo.commit(&rev).map_err(|_| {
                let tags: Vec<String> = repo
                    .tags()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|tag| tag.name)
                    .collect();
                let help = match crate::text::closest(&rev, tags.iter().map(String::as_str)) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None if tags.is_empty() => {
                        "the repository has no tags; pin a tag, a branch or a commit id".into()
                    }
                    None => format!("its tags: {}", tags.join(", ")),
                };
                unknown(
                    format!(
                        "no revision `{rev}` in the git repository holding `{}`",
                        shown_dir(&from.name)
                    ),
                    "no such tag, branch or commit",
                    help,
                )
            })?,
        };
        let key = repo.root().join(format!("{}@{commit}", path.display()));
        let name = format!("{name}@{rev}");
        let pinned = crate::source::Pinned {
            repo: repo.root().to_path_buf(),
            path,
            rev,
            commit,
        };
        Ok(Target {
            key,
            name,
            pinned: Some((repo, pinned)),
        })
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

/// The path files are keyed by: canonical, or for a file not on disk (yet),
/// its directory made canonical and its name kept, so that an editor's text
/// for a new file is found under the key it was given.
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => dir
            .canonicalize()
            .map_or_else(|_| path.to_path_buf(), |dir| dir.join(name)),
        (_, Some(name)) => {
            std::env::current_dir().map_or_else(|_| path.to_path_buf(), |dir| dir.join(name))
        }
        _ => path.to_path_buf(),
    }
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
