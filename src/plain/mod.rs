//! The plain format of the symlink strategy: the target tree itself in
//! `DIR/target` (the layout crane's use-symlink mode uses too), with two
//! records beside it. `pack` writes it, `link` lays it out.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use filetime::FileTime;

use crate::artifacts::PLAIN_TREE;
use crate::cargo::members::MemberSource;
use crate::error::{Error, IoContext, Result};
use crate::tree::fs::{read_json, MTIME};
use crate::tree::scan::{scan, Node, NodeKind};

mod link;
mod pack;

pub use link::{copy_out, link, LinkReport};
pub use pack::{pack_plain, PlainReport};

/// Beside `target/`: the members' sources, as `pack --workspace` records them.
const SOURCES_FILE: &str = "cargo-inherit-sources.json";

/// Beside `target/`: the files stored as symlinks to a parent's identical
/// file although cargo rewrites them (fingerprints, build-script output):
/// `link` lays them out as writable copies.
const SHARED_FILE: &str = "cargo-inherit-shared.json";

/// Beside `target/`: the directories stored as a symlink to a parent's
/// identical directory: `link` lays them out from it, entry by entry.
const SHARED_DIRS_FILE: &str = "cargo-inherit-shared-dirs.json";

/// Beside `target/`: the mtime to lay the tree out with, when not 1 (see
/// `watched`).
const MTIME_FILE: &str = "cargo-inherit-mtime.json";

/// The target tree of a plain artifacts directory: `DIR/target` as crane's
/// use-symlink mode and `pack --format plain` install it, else `DIR`
/// itself. Canonical, so links point into the store, not through a gc root.
pub fn plain_root(dir: &Path) -> Result<PathBuf> {
    let nested = dir.join(PLAIN_TREE);
    let root = if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    };
    root.canonicalize().at(&root)
}

/// The entries of the plain tree in `from` (see `plain_root`), each
/// directory `pack` stored as a link to a parent's read through.
pub fn tree_nodes(from: &Path) -> Result<Vec<Node>> {
    let nodes = scan(&plain_root(from)?)?;
    read_through_shared_dirs(nodes, &read_shared_dirs(from)?)
}

/// The tree with each directory `pack` stored as a link to a parent's
/// read through: that directory's entries in its place.
fn read_through_shared_dirs(nodes: Vec<Node>, shared: &HashSet<String>) -> Result<Vec<Node>> {
    if shared.is_empty() {
        return Ok(nodes);
    }
    let mut tree = Vec::with_capacity(nodes.len());
    for node in nodes {
        match node.kind {
            NodeKind::Symlink { .. } if shared.contains(&node.rel) => {
                let dir = node.abs.canonicalize().at(&node.abs)?;
                if !in_another_tree(&dir, &node.rel) {
                    let reason = format!(
                        "a shared directory of the tree leads to {}, which is not the same path \
                         of another plain tree",
                        dir.display()
                    );
                    return Err(Error::bad_input(&node.abs, reason));
                }
                read_through(&node.rel, &node.abs, &mut tree, 0)?;
            }
            _ => tree.push(node),
        }
    }
    Ok(tree)
}

/// Whether the canonical path `at` is the path `rel` of another plain tree:
/// `.../target/REL`, with the records of `pack --format plain` beside that
/// `target/` (the only trees a shared directory may stand for: a link to
/// anything else would read the machine's files into the target).
pub(super) fn in_another_tree(at: &Path, rel: &str) -> bool {
    let text = at.to_string_lossy();
    let Some(root) = text.strip_suffix(&format!("/{rel}")) else {
        return false;
    };
    let root = Path::new(root);
    root.file_name().is_some_and(|name| name == PLAIN_TREE)
        && root
            .parent()
            .is_some_and(|dir| dir.join(SHARED_FILE).is_file())
}

/// Links in the parents' trees that point into earlier ones go no deeper.
const MAX_HOPS: usize = 32;

/// The directory that `abs` leads to, as the entries of `rel`, in tree
/// order. A link in it to the same path of another tree is a parent's link
/// to its own parent's file or directory: it stands for what it leads to.
/// Other links (a build script's) stay links.
fn read_through(rel: &str, abs: &Path, tree: &mut Vec<Node>, hops: usize) -> Result<()> {
    if hops > MAX_HOPS {
        let reason = format!("links to directories lead more than {MAX_HOPS} deep");
        return Err(Error::bad_input(abs, reason));
    }
    let dir = abs.canonicalize().at(abs)?;
    let mode = std::fs::metadata(&dir).at(&dir)?.permissions().mode() & 0o777;
    tree.push(Node {
        rel: rel.to_string(),
        abs: dir.clone(),
        kind: NodeKind::Dir { mode },
    });
    for node in scan(&dir)? {
        let rel = format!("{rel}/{}", node.rel);
        let NodeKind::Symlink { target } = &node.kind else {
            tree.push(Node { rel, ..node });
            continue;
        };
        let to_same_path = target.starts_with('/')
            && (node.abs.canonicalize()).is_ok_and(|at| in_another_tree(&at, &rel));
        match std::fs::metadata(&node.abs) {
            Ok(meta) if to_same_path && meta.is_dir() => {
                read_through(&rel, &node.abs, tree, hops + 1)?;
            }
            Ok(meta) if to_same_path && meta.is_file() => {
                let abs = node.abs.canonicalize().at(&node.abs)?;
                let (mode, size) = (meta.permissions().mode() & 0o777, meta.len());
                let kind = NodeKind::File {
                    mode,
                    size,
                    inode: None,
                };
                tree.push(Node { rel, abs, kind });
            }
            _ => tree.push(Node { rel, ..node }),
        }
    }
    Ok(())
}

/// The mutable files `pack --format plain` stored as links to a parent.
fn read_shared(from: &Path) -> Result<HashSet<String>> {
    let path = from.join(SHARED_FILE);
    Ok(read_json(&path, "a list of shared files")?.unwrap_or_default())
}

/// The directories `pack --format plain` stored as links to a parent's.
fn read_shared_dirs(from: &Path) -> Result<HashSet<String>> {
    let path = from.join(SHARED_DIRS_FILE);
    Ok(read_json(&path, "a list of shared directories")?.unwrap_or_default())
}

/// What every entry is laid out with: the recorded mtime, else MTIME.
fn read_mtime(from: &Path) -> Result<FileTime> {
    let path = from.join(MTIME_FILE);
    let seconds: Option<i64> = read_json(&path, "an mtime record")?;
    if let Some(seconds) = seconds.filter(|&s| s < 1) {
        let reason = format!("mtime {seconds} is before 1970 (a layer's is 1 at least)");
        return Err(Error::bad_input(&path, reason));
    }
    Ok(seconds.map_or(MTIME, |s| FileTime::from_unix_time(s, 0)))
}

/// Whether the tree in `from` is laid out later than mtime 1 (see
/// `watched`): then it cannot link to its files in the store, which keep
/// mtime 1 and would look older than what they were built from.
pub fn laid_out_later(from: &Path) -> Result<bool> {
    Ok(read_mtime(from)? != MTIME)
}

/// The members' sources as packed; None for a tree without the record
/// (crane's outputs).
fn read_sources(from: &Path) -> Result<Option<Vec<MemberSource>>> {
    read_json(&from.join(SOURCES_FILE), "a sources record")
}
