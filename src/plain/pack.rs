//! `pack --format plain`: installs a target tree uncompressed into
//! `OUT/target` for the symlink strategy, with each file that a parent tree
//! holds unchanged replaced by a symlink to the parent's file. Those cargo
//! may rewrite are listed in `SHARED_FILE`, for `link` to copy.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{plain_root, MTIME_FILE, SHARED_FILE, SOURCES_FILE};
use crate::artifacts::{self, Artifacts};
use crate::bytes::human_bytes;
use crate::classify::is_immutable_artifact;
use crate::error::{IoContext, Result};
use crate::fsutil::{claim_out_dir, write_json, MTIME};
use crate::manifest::MANIFEST_FILE;
use crate::paths::is_within;
use crate::prune::Pruning;
use crate::scan::{dir_paths, scan, Node, NodeKind};
use crate::{members, skeleton, units};

#[derive(Debug, Default)]
pub struct PlainReport {
    /// Where the tree was installed: `OUT/target`.
    pub target: PathBuf,
    pub entries: usize,
    pub shared_with_parents: usize,
    pub copied_bytes: u64,
}

/// Where the tree is written before it is complete.
const PARTIAL_PREFIX: &str = ".target.partial-";

/// With `skeleton`, the fingerprints of its members' units are left out, so
/// that `link` makes cargo rebuild them from the real sources; with
/// `pruning`, the units the build did not use.
pub fn pack_plain(
    target_dir: &Path,
    out: &Path,
    parents: &[PathBuf],
    skeleton: Option<&Path>,
    workspace: Option<&Path>,
    pruning: Option<&Pruning<'_>>,
) -> Result<PlainReport> {
    let parents = parent_trees(parents)?;
    let mut nodes = scan(target_dir)?;
    if let Some(pruning) = pruning {
        pruning.apply(&mut nodes)?;
    }
    if let Some(dir) = skeleton {
        let members = skeleton::read_info(dir)?.members;
        let units = units::units_of(dir_paths(&nodes), &members);
        nodes.retain(|n| !is_within(&n.rel, &units));
    }
    // What a killed pack leaves: a partial tree, and the records beside it.
    let _claim = claim_out_dir(out, |name| {
        name.starts_with(PARTIAL_PREFIX) || [SHARED_FILE, SOURCES_FILE, MTIME_FILE].contains(&name)
    })?;
    // Only a complete tree is renamed to OUT/target.
    let partial = tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .tempdir_in(out)
        .at(out)?;
    let (mut report, shared) = write_tree(&nodes, partial.path(), &parents)?;
    write_json(&out.join(SHARED_FILE), &shared)?;
    if let Some(seconds) = crate::watched::newest(&nodes, target_dir)? {
        write_json(&out.join(MTIME_FILE), &seconds)?;
    }
    if let Some(dir) = workspace {
        let recorded = members::record(dir, dir_paths(&nodes))?;
        write_json(&out.join(SOURCES_FILE), &recorded)?;
    }
    let target = out.join("target");
    std::fs::rename(partial.path(), &target).at(&target)?;
    let _ = partial.keep();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).at(&target)?;
    report.target = target;
    Ok(report)
}

impl fmt::Display for PlainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "installed {} entries into {}: {} linked to parents, {} copied",
            self.entries,
            self.target.display(),
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
            Artifacts::CraneArchives(_) => {}
            Artifacts::Layer if at.join(MANIFEST_FILE).exists() => {}
            _ => trees.push(plain_root(&at)?),
        }
    }
    Ok(trees)
}

/// Writes the tree; returns the report and the mutable files linked to a parent.
fn write_tree(
    nodes: &[Node],
    root: &Path,
    parents: &[PathBuf],
) -> Result<(PlainReport, Vec<String>)> {
    for node in nodes {
        if let NodeKind::Dir { mode } = node.kind {
            let dir = root.join(&node.rel);
            std::fs::create_dir(&dir).at(&dir)?;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode | 0o700))
                .at(&dir)?;
        }
    }
    let files: Vec<&Node> = nodes
        .iter()
        .filter(|n| !matches!(n.kind, NodeKind::Dir { .. }))
        .collect();
    let placed: Vec<Placed> = files
        .par_iter()
        .map(|node| place(node, &root.join(&node.rel), parents))
        .collect::<Result<_>>()?;
    let mut report = PlainReport {
        entries: nodes.len(),
        ..PlainReport::default()
    };
    let mut shared = Vec::new();
    for (node, placed) in files.iter().zip(&placed) {
        match placed {
            Placed::Copied(bytes) => report.copied_bytes += bytes,
            Placed::Linked { mutable } => {
                report.shared_with_parents += 1;
                if *mutable {
                    shared.push(node.rel.clone());
                }
            }
        }
    }
    Ok((report, shared))
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

/// Creates one entry: a copy, or a symlink to the parent's identical file.
fn place(node: &Node, dest: &Path, parents: &[PathBuf]) -> Result<Placed> {
    match &node.kind {
        NodeKind::Symlink { target } => {
            std::os::unix::fs::symlink(target, dest).at(dest)?;
            Ok(Placed::Copied(0))
        }
        NodeKind::File { mode, size, .. } => {
            if let Some(shared) = same_in_parents(node, *size, parents)? {
                std::os::unix::fs::symlink(&shared, dest).at(dest)?;
                let mutable = !is_immutable_artifact(&node.rel, *mode);
                return Ok(Placed::Linked { mutable });
            }
            std::fs::copy(&node.abs, dest).at(dest)?;
            filetime::set_file_times(dest, MTIME, MTIME).at(dest)?;
            Ok(Placed::Copied(*size))
        }
        NodeKind::Dir { .. } => unreachable!("directories are created first"),
    }
}

/// The file a parent holds at the same path with the same content, resolved
/// through the parent's own links so chains stay one hop long.
fn same_in_parents(node: &Node, size: u64, parents: &[PathBuf]) -> Result<Option<PathBuf>> {
    for parent in parents {
        let candidate = parent.join(&node.rel);
        let Ok(resolved) = candidate.canonicalize() else {
            continue;
        };
        let same_size = std::fs::metadata(&resolved).is_ok_and(|m| m.is_file() && m.len() == size);
        if same_size
            && std::fs::read(&resolved).at(&resolved)? == std::fs::read(&node.abs).at(&node.abs)?
        {
            return Ok(Some(resolved));
        }
    }
    Ok(None)
}
