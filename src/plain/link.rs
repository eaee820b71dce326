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
use crate::error::{IoContext, Result};
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
/// was packed are left out, so cargo rebuilds them.
pub fn link(from: &Path, target_dir: &Path, workspace: Option<&Path>) -> Result<LinkReport> {
    lay_out_plain(from, target_dir, workspace, Placement::Link)
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
    let store = store.to_path_buf();
    lay_out_plain(from, target_dir, workspace, Placement::Copy { store })
}

/// What becomes of a file of the store tree.
enum Placement {
    /// Immutable artifacts stay symlinks into the store; the rest is copied.
    Link,
    /// Everything is copied; symlinks into `store` are followed, since they
    /// stand for the file itself.
    Copy { store: PathBuf },
}

fn lay_out_plain(
    from: &Path,
    target_dir: &Path,
    workspace: Option<&Path>,
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
    };
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

    /// Creates one non-directory entry.
    fn place(&self, node: &Node, dest: &Path) -> Result<Placed> {
        match (&node.kind, &self.placement) {
            (NodeKind::Symlink { target }, _) if self.shared.contains(&node.rel) => {
                self.copy_resolved(node, target, dest)
            }
            (NodeKind::Symlink { target }, Placement::Copy { store })
                if Path::new(target).starts_with(store) =>
            {
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
