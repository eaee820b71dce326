//! `pack --format plain`: installs a target tree uncompressed into
//! `OUT/target` for the symlink strategy, with each file that a parent tree
//! holds unchanged replaced by a symlink to the parent's file, and each
//! directory it holds unchanged by a symlink to the parent's directory
//! (listed in `SHARED_DIRS_FILE`). Files cargo may rewrite that are links to
//! a parent are listed in `SHARED_FILE`; `link` copies them.

use std::collections::HashMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{plain_root, MTIME_FILE, SHARED_DIRS_FILE, SHARED_FILE, SOURCES_FILE};
use crate::artifacts::{self, Artifacts, PLAIN_TREE};
use crate::cargo::built::Build;
use crate::cargo::classify::is_immutable_artifact;
use crate::cargo::left_out::LeftOut;
use crate::error::{IoContext, Result};
use crate::tree::bytes::human_bytes;
use crate::tree::fs::{claim_out_dir, write_json, SpreadDir, MTIME};
use crate::tree::scan::{Node, NodeKind};

#[derive(Debug, Default)]
pub struct PlainReport {
    /// Where the tree was installed: `OUT/target`.
    pub target: PathBuf,
    pub entries: usize,
    pub shared_with_parents: usize,
    /// Directories stored as one link to a parent's.
    pub shared_dirs: usize,
    pub copied_bytes: u64,
}

/// Where the tree is written before it is complete.
const PARTIAL_PREFIX: &str = ".target.partial-";

/// Installs the tree of `build` into `OUT/target`, linked to the trees of
/// `parents`. Units built from dummy sources are left out, not recorded (a
/// plain tree has no list of them): `link` then makes cargo rebuild them
/// from the real sources.
pub fn pack_plain(build: &Build<'_>, out: &Path, parents: &[PathBuf]) -> Result<PlainReport> {
    let parents = parent_trees(parents)?;
    let built = build.read()?;
    let dummies = LeftOut::units(built.dummies);
    let mut nodes = built.nodes;
    nodes.retain(|n| !dummies.contains(&n.rel));
    // What a killed pack leaves: a partial tree, and the records beside it.
    let _claim = claim_out_dir(out, |name| {
        name.starts_with(PARTIAL_PREFIX)
            || [SHARED_FILE, SHARED_DIRS_FILE, SOURCES_FILE, MTIME_FILE].contains(&name)
    })?;
    // Only a complete tree is renamed to OUT/target.
    let partial = SpreadDir::new(out, PARTIAL_PREFIX)?;
    let written = write_tree(&nodes, partial.path(), &parents)?;
    write_json(&out.join(SHARED_FILE), &written.shared_files)?;
    write_json(&out.join(SHARED_DIRS_FILE), &written.shared_dirs)?;
    let mut report = written.report;
    if let Some(seconds) = built.mtime {
        write_json(&out.join(MTIME_FILE), &seconds)?;
    }
    if build.workspace.is_some() || build.sources.is_some() {
        write_json(&out.join(SOURCES_FILE), &built.sources)?;
    }
    let target = out.join(PLAIN_TREE);
    partial.rename_to(&target)?;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).at(&target)?;
    report.target = target;
    Ok(report)
}

impl fmt::Display for PlainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "installed {} entries into {}: {} directories and {} files linked to parents, {} copied",
            self.entries,
            self.target.display(),
            self.shared_dirs,
            self.shared_with_parents,
            human_bytes(self.copied_bytes),
        )
    }
}

/// The trees of `parents` a plain tree can link into (a derivation's
/// output is looked into for its artifacts); layers and crane's archives
/// hold no tree and are passed over.
fn parent_trees(parents: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut trees = Vec::new();
    for parent in parents {
        let at = artifacts::locate(parent);
        match Artifacts::detect(&at)? {
            Artifacts::CraneArchives(_) | Artifacts::Layer => {}
            Artifacts::PlainTree | Artifacts::NotRecognised => trees.push(plain_root(&at)?),
        }
    }
    Ok(trees)
}

/// What `write_tree` placed that `link` must know of.
struct Written {
    report: PlainReport,
    /// Mutable files stored as links to a parent's (`SHARED_FILE`).
    shared_files: Vec<String>,
    /// Directories stored as one link to a parent's (`SHARED_DIRS_FILE`).
    shared_dirs: Vec<String>,
}

/// Writes the tree: a directory whose whole content a parent holds
/// unchanged becomes one symlink to the parent's directory, a file a parent
/// holds unchanged a symlink to it, the rest copies. Creating entries is
/// most of the cost (an inode each), and most directories of a workspace's
/// tree are its dependencies', unchanged.
fn write_tree(nodes: &[Node], root: &Path, parents: &[PathBuf]) -> Result<Written> {
    let same: Vec<Option<Same>> = nodes
        .par_iter()
        .map(|node| same_in_parents(node, parents))
        .collect::<Result<_>>()?;
    let dirs = shared_dirs(nodes, &same)?;
    let mut written = Written {
        report: PlainReport {
            entries: nodes.len(),
            ..PlainReport::default()
        },
        shared_files: Vec::new(),
        shared_dirs: Vec::new(),
    };
    let mut inside: Option<&str> = None;
    let mut files = Vec::new();
    for (node, same) in nodes.iter().zip(&same) {
        let below = |top: &str| {
            node.rel
                .strip_prefix(top)
                .is_some_and(|r| r.starts_with('/'))
        };
        if inside.is_some_and(below) {
            continue;
        }
        inside = None;
        let dest = root.join(&node.rel);
        match (&node.kind, dirs.get(node.rel.as_str())) {
            (NodeKind::Dir { .. }, Some(shared)) => {
                std::os::unix::fs::symlink(shared, &dest).at(&dest)?;
                written.shared_dirs.push(node.rel.clone());
                inside = Some(&node.rel);
            }
            (NodeKind::Dir { mode }, None) => {
                std::fs::create_dir(&dest).at(&dest)?;
                std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode | 0o700))
                    .at(&dest)?;
            }
            _ => files.push((node, same.as_ref().map(|s| &s.path))),
        }
    }
    let placed: Vec<Placed> = files
        .par_iter()
        .map(|(node, same)| place(node, &root.join(&node.rel), *same))
        .collect::<Result<_>>()?;
    for ((node, _), placed) in files.iter().zip(&placed) {
        written.count(node, placed);
    }
    written.report.shared_dirs = written.shared_dirs.len();
    Ok(written)
}

impl Written {
    fn count(&mut self, node: &Node, placed: &Placed) {
        match placed {
            Placed::Copied(bytes) => self.report.copied_bytes += bytes,
            Placed::Linked { mutable } => {
                self.report.shared_with_parents += 1;
                if *mutable {
                    self.shared_files.push(node.rel.clone());
                }
            }
        }
    }
}

/// How one entry was placed.
enum Placed {
    Copied(u64),
    /// A symlink to a parent's identical file; `mutable` when cargo may
    /// rewrite it, so that `link` must copy it.
    Linked {
        mutable: bool,
    },
}

/// Creates one file or symlink: a copy, or a symlink to the parent's
/// identical file (`same`).
fn place(node: &Node, dest: &Path, same: Option<&PathBuf>) -> Result<Placed> {
    match (&node.kind, same) {
        (NodeKind::File { mode, .. }, Some(shared)) => {
            std::os::unix::fs::symlink(shared, dest).at(dest)?;
            let mutable = !is_immutable_artifact(&node.rel, *mode);
            Ok(Placed::Linked { mutable })
        }
        (NodeKind::File { size, .. }, None) => {
            std::fs::copy(&node.abs, dest).at(dest)?;
            filetime::set_file_times(dest, MTIME, MTIME).at(dest)?;
            Ok(Placed::Copied(*size))
        }
        (NodeKind::Symlink { target }, _) => {
            std::os::unix::fs::symlink(target, dest).at(dest)?;
            Ok(Placed::Copied(0))
        }
        (NodeKind::Dir { .. }, _) => unreachable!("directories are placed in order"),
    }
}

/// An entry a parent's tree holds unchanged: which parent, and the path to
/// link to (resolved through the parent's own links, so chains stay one hop).
struct Same {
    parent: usize,
    path: PathBuf,
}

/// The parent holding `node` unchanged at the same path: a file with the
/// same content, or a symlink leading where ours does (the parent's own, or
/// ours pointing at the parent's file, as `link` lays it out).
fn same_in_parents(node: &Node, parents: &[PathBuf]) -> Result<Option<Same>> {
    for (i, parent) in parents.iter().enumerate() {
        let candidate = parent.join(&node.rel);
        let same = match &node.kind {
            NodeKind::File { size, .. } => same_file(node, *size, &candidate)?,
            NodeKind::Symlink { target } => same_link(target, &candidate),
            NodeKind::Dir { .. } => candidate.canonicalize().ok().filter(|p| p.is_dir()),
        };
        if let Some(path) = same {
            return Ok(Some(Same { parent: i, path }));
        }
    }
    Ok(None)
}

fn same_file(node: &Node, size: u64, candidate: &Path) -> Result<Option<PathBuf>> {
    let Ok(resolved) = candidate.canonicalize() else {
        return Ok(None);
    };
    let same_size = std::fs::metadata(&resolved).is_ok_and(|m| m.is_file() && m.len() == size);
    let same = same_size
        && std::fs::read(&resolved).at(&resolved)? == std::fs::read(&node.abs).at(&node.abs)?;
    Ok(same.then_some(resolved))
}

fn same_link(target: &str, candidate: &Path) -> Option<PathBuf> {
    let theirs = std::fs::read_link(candidate).ok();
    let leads_to_theirs = || {
        candidate
            .canonicalize()
            .is_ok_and(|p| p == Path::new(target))
    };
    (theirs.as_deref() == Some(Path::new(target)) || leads_to_theirs())
        .then(|| PathBuf::from(target))
}

/// Directories of the tree a single parent holds with exactly the same
/// entries, each unchanged: each to the parent's directory it stands for.
fn shared_dirs<'a>(nodes: &'a [Node], same: &[Option<Same>]) -> Result<HashMap<&'a str, PathBuf>> {
    // Children come after their directory: in reverse, before it.
    let mut content: HashMap<&str, Content> = HashMap::new();
    let mut shared = HashMap::new();
    for (node, same) in nodes.iter().zip(same).rev() {
        let mut parent = same.as_ref().map(|s| s.parent);
        if let (NodeKind::Dir { .. }, Some(dir)) = (&node.kind, same) {
            let held = content.remove(node.rel.as_str()).unwrap_or_default();
            parent = held.all_in(dir.parent, &dir.path)?.then_some(dir.parent);
            if parent.is_some() {
                shared.insert(node.rel.as_str(), dir.path.clone());
            }
        }
        let above = node.rel.rsplit_once('/').map_or("", |(dir, _)| dir);
        content.entry(above).or_default().add(parent);
    }
    Ok(shared)
}

/// What a directory's entries have in common with the parents' trees.
#[derive(Default)]
struct Content {
    entries: usize,
    /// Whether every entry so far is unchanged in the parent `parent`.
    all_same: bool,
    parent: Option<usize>,
}

impl Content {
    fn add(&mut self, parent: Option<usize>) {
        self.all_same = match (self.entries, self.parent, parent) {
            (0, _, Some(_)) => true,
            (_, Some(a), Some(b)) => self.all_same && a == b,
            _ => false,
        };
        self.parent = parent;
        self.entries += 1;
    }

    /// Whether the directory's entries are all unchanged in parent `parent`,
    /// whose directory `dir` holds nothing else. An empty one is not worth a link.
    fn all_in(&self, parent: usize, dir: &Path) -> Result<bool> {
        if self.entries == 0 || !self.all_same || self.parent != Some(parent) {
            return Ok(false);
        }
        let theirs = std::fs::read_dir(dir).at(dir)?.count();
        Ok(theirs == self.entries)
    }
}
