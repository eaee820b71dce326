//! `link`: lays out a plain target tree from the store as real writable
//! directories, symlinks into the store for large immutable artifacts, and
//! writable copies with mtime 1 for everything cargo or build scripts rewrite.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use filetime::FileTime;
use rayon::prelude::*;

use super::{read_mtime, read_shared, read_sources, tree_nodes};
use crate::cargo::classify::is_immutable_artifact;
use crate::cargo::left_out::{LeftOut, Recorded};
use crate::cargo::symlinks;
use crate::error::{Error, IoContext, Result};
use crate::tree::fs::{copy_file, settle_dir, symlink};
use crate::tree::scan::{Node, NodeKind};
use crate::tree::staging::stage;

#[derive(Debug, Default)]
pub struct LinkReport {
    /// Immutable artifacts laid out as symlinks into the store.
    pub linked: usize,
    pub copied: usize,
    /// Symlinks of the tree laid out as they are.
    pub symlinks: usize,
}

/// With `workspace`, units of members whose sources changed since the tree
/// was packed are left out, so cargo rebuilds them. Symlinks of the tree
/// may lead into `store` (see `symlinks`).
pub fn link(
    from: &Path,
    target_dir: &Path,
    workspace: Option<&Path>,
    store: &Path,
) -> Result<LinkReport> {
    lay_out_plain(from, target_dir, workspace, store, Placement::Link)
}

/// A plain tree laid out with writable copies only, crane's use-symlink
/// outputs included: their files may be symlinks into earlier outputs in
/// `store`, which stand for the files themselves.
pub fn copy_out(
    from: &Path,
    target_dir: &Path,
    workspace: Option<&Path>,
    store: &Path,
) -> Result<LinkReport> {
    lay_out_plain(from, target_dir, workspace, store, Placement::Copy)
}

/// What becomes of a file of the store tree.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Immutable artifacts stay symlinks into the store; the rest is copied.
    Link,
    /// Everything is copied; symlinks into the store are followed, since
    /// they stand for the file itself.
    Copy,
}

fn lay_out_plain(
    from: &Path,
    target_dir: &Path,
    workspace: Option<&Path>,
    store: &Path,
    placement: Placement,
) -> Result<LinkReport> {
    let mut nodes = tree_nodes(from)?;
    // A tree without a record of its sources (a crane output) rebuilds every member.
    let sources = read_sources(from)?;
    let recorded = Recorded {
        dummies: &[],
        sources: sources.as_deref(),
    };
    let left_out = LeftOut::of(&recorded, workspace)?;
    nodes.retain(|n| !left_out.contains(&n.rel));
    let layout = Layout {
        placement,
        shared: read_shared(from)?,
        mtime: read_mtime(from)?,
        store: store.to_path_buf(),
    };
    for node in &nodes {
        layout.check_symlink(node)?;
    }
    stage(target_dir, from, None, |root| {
        layout.write_tree(&nodes, root)
    })
}

/// What one entry became.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placed {
    /// A symlink to an immutable artifact in the store.
    Linked,
    Copied,
    /// A symlink of the tree, as it was.
    Symlink,
}

/// How a plain tree is laid out.
struct Layout {
    placement: Placement,
    /// Files stored as links to a parent's copy, which cargo may rewrite.
    shared: HashSet<String>,
    /// What every entry laid out gets (see `watched`).
    mtime: FileTime,
    /// Where symlinks may lead (see `symlinks`).
    store: PathBuf,
}

impl Layout {
    fn write_tree(&self, nodes: &[Node], root: &Path) -> Result<LinkReport> {
        for node in nodes {
            if let NodeKind::Dir { .. } = node.kind {
                let dir = root.join(&node.rel);
                std::fs::create_dir(&dir).at(&dir)?;
            }
        }
        let placed: Vec<Placed> = nodes
            .par_iter()
            .filter(|n| !matches!(n.kind, NodeKind::Dir { .. }))
            .map(|node| self.place(node, &root.join(&node.rel)))
            .collect::<Result<_>>()?;
        for node in nodes.iter().rev() {
            if let NodeKind::Dir { mode } = node.kind {
                settle_dir(&root.join(&node.rel), mode, self.mtime)?;
            }
        }
        let count = |kind: Placed| placed.iter().filter(|&&p| p == kind).count();
        Ok(LinkReport {
            linked: count(Placed::Linked),
            copied: count(Placed::Copied),
            symlinks: count(Placed::Symlink),
        })
    }

    /// Whether a symlink of the tree stands for the file it leads to: a
    /// parent's file a plain pack linked to (its mutable ones are listed as
    /// shared), or, copying everything, any file in the store.
    fn stands_for_its_file(&self, node: &Node, target: &str) -> bool {
        self.shared.contains(&node.rel)
            || (self.placement == Placement::Copy && Path::new(target).starts_with(&self.store))
    }

    /// Refuses a symlink that would read a file from outside the store and
    /// the other trees, or lead cargo's writes out of the tree.
    fn check_symlink(&self, node: &Node) -> Result<()> {
        let NodeKind::Symlink { target } = &node.kind else {
            return Ok(());
        };
        let leads = node.abs.canonicalize().ok();
        let into_another_tree =
            || (leads.as_ref()).is_some_and(|at| super::in_another_tree(at, &node.rel));
        let reason = if self.stands_for_its_file(node, target) {
            let into_store = leads.as_ref().is_some_and(|at| at.starts_with(&self.store));
            (!into_store && !into_another_tree()).then(|| {
                format!("a link to {target}, which leads out of the tree to a file in no tree of the store")
            })
        } else if Path::new(target).is_absolute() && into_another_tree() {
            // A parent's immutable artifact a plain pack linked to: cargo
            // never writes it (the wrapper renames over it).
            None
        } else {
            symlinks::refused(&node.rel, target, &self.store)
        };
        match reason {
            Some(reason) => Err(Error::bad_input(&node.abs, reason)),
            None => Ok(()),
        }
    }

    /// Creates one non-directory entry.
    fn place(&self, node: &Node, dest: &Path) -> Result<Placed> {
        match (&node.kind, &self.placement) {
            (NodeKind::Symlink { target }, _) if self.stands_for_its_file(node, target) => {
                self.copy_resolved(node, target, dest)
            }
            // Recorded as they are: absolute, relative or dangling, never followed.
            (NodeKind::Symlink { target }, _) => {
                symlink(Path::new(target), dest, self.mtime).map(|()| Placed::Symlink)
            }
            (NodeKind::File { mode, .. }, Placement::Link)
                if is_immutable_artifact(&node.rel, *mode) =>
            {
                symlink(&node.abs, dest, self.mtime).map(|()| Placed::Linked)
            }
            (NodeKind::File { mode, .. }, _) => {
                copy_file(&node.abs, dest, *mode, self.mtime).map(|()| Placed::Copied)
            }
            (NodeKind::Dir { .. }, _) => unreachable!("directories are created first"),
        }
    }

    /// A writable copy of the file a symlink stands for; the symlink itself
    /// when it does not lead to a file.
    fn copy_resolved(&self, node: &Node, target: &str, dest: &Path) -> Result<Placed> {
        match std::fs::metadata(&node.abs) {
            Ok(meta) if meta.is_file() => {
                copy_file(&node.abs, dest, meta.permissions().mode(), self.mtime)
                    .map(|()| Placed::Copied)
            }
            _ => symlink(Path::new(target), dest, self.mtime).map(|()| Placed::Symlink),
        }
    }
}
