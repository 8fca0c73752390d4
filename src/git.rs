//! Files at git revisions: what `import "…" at "rev"` reads, what
//! `wfc check --against REV` compares with, and the tags `wfc templates` offers.
//! Read with gix (a maintained, pure-Rust git): never by running `git`, whose
//! presence, version and configuration a machine may not share.

use std::path::{Component, Path, PathBuf};

/// Why a file could not be read at a revision.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GitError {
    #[error("`{0}` is in no git repository")]
    NoRepository(String),
    #[error("no revision `{rev}` in the git repository at `{repo}`")]
    UnknownRevision { rev: String, repo: String },
    #[error("`{path}` is not in revision `{rev}` (commit {})", short(commit))]
    NotInRevision {
        path: String,
        rev: String,
        commit: String,
    },
    #[error("`{path}` at revision `{rev}` is {what}")]
    Unusable {
        path: String,
        rev: String,
        what: String,
    },
    #[error("cannot read the git repository at `{repo}`: {message}")]
    Broken { repo: String, message: String },
}

/// The first 12 hex digits of a commit id, as messages show it.
pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// A tag and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub commit: String,
    /// The commit's time, in seconds since the epoch.
    pub time: i64,
}

/// A repository with a working tree.
pub struct Repository {
    repo: gix::Repository,
    root: PathBuf,
}

impl Repository {
    /// The repository holding `dir` (it or a parent has `.git`).
    pub fn discover(dir: &Path) -> Result<Repository, GitError> {
        let none = || GitError::NoRepository(dir.display().to_string());
        let repo = gix::discover(dir).map_err(|_| none())?;
        let root = repo.workdir().ok_or_else(none)?;
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        Ok(Repository { repo, root })
    }

    /// The root of its working tree (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn broken(&self, error: impl std::fmt::Display) -> GitError {
        GitError::Broken {
            repo: self.root.display().to_string(),
            message: error.to_string(),
        }
    }

    /// The full id of the commit `rev` names (a tag, branch or commit).
    pub fn commit(&self, rev: &str) -> Result<String, GitError> {
        let unknown = || GitError::UnknownRevision {
            rev: rev.to_string(),
            repo: self.root.display().to_string(),
        };
        // A revision is a name, never an expression over names (`v1^`, `@{-1}`).
        if rev.is_empty() || rev.contains(['^', '~', ':', '@', ' ', '\n']) {
            return Err(unknown());
        }
        let id = self.repo.rev_parse_single(rev).map_err(|_| unknown())?;
        let commit = id
            .object()
            .map_err(|e| self.broken(e))?
            .peel_to_commit()
            .map_err(|_| unknown())?;
        Ok(commit.id.to_string())
    }

    /// The text of `path` (relative to the root) in commit `commit`, which
    /// `rev` named (for messages).
    pub fn read(&self, commit: &str, rev: &str, path: &Path) -> Result<String, GitError> {
        let shown = path.display().to_string();
        let id = gix::ObjectId::from_hex(commit.as_bytes()).map_err(|e| self.broken(e))?;
        let tree = self
            .repo
            .find_commit(id)
            .map_err(|e| self.broken(e))?
            .tree()
            .map_err(|e| self.broken(e))?;
        let entry = tree
            .lookup_entry_by_path(path)
            .map_err(|e| self.broken(e))?
            .ok_or_else(|| GitError::NotInRevision {
                path: shown.clone(),
                rev: rev.to_string(),
                commit: commit.to_string(),
            })?;
        let unusable = |what: &str| GitError::Unusable {
            path: shown.clone(),
            rev: rev.to_string(),
            what: what.to_string(),
        };
        if !entry.mode().is_blob() {
            return Err(unusable("not a file"));
        }
        let object = entry.object().map_err(|e| self.broken(e))?;
        if object.data.len() as u64 > crate::loader::MAX_SOURCE {
            return Err(unusable(&format!(
                "larger than {} MiB",
                crate::loader::MAX_SOURCE >> 20
            )));
        }
        String::from_utf8(object.data.clone()).map_err(|_| unusable("not UTF-8 text"))
    }

    /// The tags naming commits that descend from `commit` (made on top of
    /// it), newest first: what a pin at `commit` could move to.
    pub fn newer_tags(&self, commit: &str) -> Result<Vec<Tag>, GitError> {
        let pinned = gix::ObjectId::from_hex(commit.as_bytes()).map_err(|e| self.broken(e))?;
        Ok(self
            .tags()?
            .into_iter()
            .filter(|tag| {
                gix::ObjectId::from_hex(tag.commit.as_bytes()).is_ok_and(|id| {
                    id != pinned
                        && self
                            .repo
                            .merge_base(pinned, id)
                            .is_ok_and(|base| base.detach() == pinned)
                })
            })
            .collect())
    }

    /// Every tag naming a commit, newest commit first.
    pub fn tags(&self) -> Result<Vec<Tag>, GitError> {
        let references = self.repo.references().map_err(|e| self.broken(e))?;
        let mut tags = Vec::new();
        for reference in references.tags().map_err(|e| self.broken(e))? {
            let Ok(mut reference) = reference else {
                continue;
            };
            let name = reference.name().shorten().to_string();
            let Ok(commit) = reference.peel_to_commit() else {
                continue;
            };
            let time = commit.time().map(|t| t.seconds).unwrap_or(0);
            tags.push(Tag {
                name,
                commit: commit.id.to_string(),
                time,
            });
        }
        tags.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| b.name.cmp(&a.name)));
        Ok(tags)
    }

    /// `path` relative to the root, with `.` and `..` taken out lexically (a
    /// file of an old revision need not exist in the working tree); `None`
    /// when it leaves the repository.
    pub fn relative(&self, path: &Path) -> Option<PathBuf> {
        normal(path)?
            .strip_prefix(&self.root)
            .ok()
            .map(Path::to_path_buf)
    }
}

/// `path` with `.` and `..` taken out lexically; `None` when `..` climbs above
/// its start.
pub fn normal(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// Who made a commit, as it is recorded.
pub struct Author<'a> {
    pub name: &'a str,
    pub email: &'a str,
}

impl Repository {
    /// Commits `text`, just written to the file at `path` (relative to the
    /// root), on top of HEAD, with nothing else: the index keeps every other staged or
    /// unstaged change, and its entry for `path` moves to the new blob. A file
    /// git does not track is committed only when `new` (the editor created
    /// it) and its directory already holds files git tracks: an untracked
    /// file, or one in a directory git keeps nothing of (an ignored build
    /// directory, another project's scratch space), is left to its owner.
    /// Returns the new commit's id.
    pub fn commit_file(
        &self,
        path: &Path,
        text: &str,
        author: &Author<'_>,
        message: &str,
        new: bool,
    ) -> Result<String, GitError> {
        let shown = path.display().to_string();
        let key: &gix::bstr::BStr = shown.as_str().into();
        let mut index = self.repo.open_index().map_err(|e| self.broken(e))?;
        let untracked = |what: &str| GitError::Unusable {
            path: shown.clone(),
            rev: "HEAD".into(),
            what: what.into(),
        };
        let position = match index.entry_index_by_path(key) {
            Ok(position) => position,
            Err(_) if !new => {
                return Err(untracked(
                    "not tracked by git (add and commit it once first)",
                ))
            }
            Err(_) => {
                let dir = match shown.rsplit_once('/') {
                    Some((dir, _)) => format!("{dir}/"),
                    None => String::new(),
                };
                let kept = index.entries().iter().any(|entry| {
                    let tracked = entry.path(&index).to_string();
                    tracked.starts_with(&dir) && !tracked[dir.len()..].contains('/')
                });
                if !kept {
                    return Err(untracked(
                        "a new file in a directory git tracks nothing of (add and commit it once first)",
                    ));
                }
                index.dangerously_push_entry(
                    gix::index::entry::Stat::default(),
                    gix::ObjectId::null(self.repo.object_hash()),
                    gix::index::entry::Flags::empty(),
                    gix::index::entry::Mode::FILE,
                    key,
                );
                index.sort_entries();
                index
                    .entry_index_by_path(key)
                    .map_err(|_| self.broken(format!("`{shown}` could not be added")))?
            }
        };
        let head = self.repo.head_commit().map_err(|e| self.broken(e))?;
        let blob = self
            .repo
            .write_blob(text)
            .map_err(|e| self.broken(e))?
            .detach();
        let mut editor = self
            .repo
            .edit_tree(head.tree_id().map_err(|e| self.broken(e))?)
            .map_err(|e| self.broken(e))?;
        let mode = index.entries()[position].mode;
        let kind = if mode.contains(gix::index::entry::Mode::FILE_EXECUTABLE) {
            gix::object::tree::EntryKind::BlobExecutable
        } else {
            gix::object::tree::EntryKind::Blob
        };
        editor
            .upsert(shown.as_str(), kind, blob)
            .map_err(|e| self.broken(e))?;
        let tree = editor.write().map_err(|e| self.broken(e))?.detach();
        let signature = gix::actor::Signature {
            name: author.name.into(),
            email: author.email.into(),
            time: gix::date::Time::now_local_or_utc(),
        };
        let mut time = gix::date::parse::TimeBuf::default();
        let commit = self
            .repo
            .commit_as(
                signature.to_ref(&mut time),
                signature.to_ref(&mut gix::date::parse::TimeBuf::default()),
                "HEAD",
                message,
                tree,
                [head.id],
            )
            .map_err(|e| self.broken(e))?;
        let entry = &mut index.entries_mut()[position];
        entry.id = blob;
        // The file on disk is the text committed (the caller wrote it): its
        // stat goes in too, so git sees it unchanged without hashing it again.
        let on_disk = gix::index::fs::Metadata::from_path_no_follow(&self.root.join(path))
            .ok()
            .and_then(|metadata| gix::index::entry::Stat::from_fs(&metadata).ok());
        if let Some(stat) = on_disk {
            entry.stat = stat;
        }
        index
            .write(gix::index::write::Options::default())
            .map_err(|e| self.broken(e))?;
        Ok(commit.to_string())
    }
}
