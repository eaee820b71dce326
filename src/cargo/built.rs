//! What both packs (layered and plain) do first: read the target directory
//! as the build left it, leave out the units that build did not use, put
//! cargo's dep-info files in one order (so that the same build packs the
//! same bytes, see `dep_info`), and gather what a pack records of the build
//! beside the tree: the units built from dummy sources, the members'
//! sources, and the mtime to lay the tree out with.

use std::path::Path;

use crate::cargo::dep_info;
use crate::cargo::members::{self, MemberSource};
use crate::cargo::prune::Pruning;
use crate::cargo::{skeleton, units, watched};
use crate::error::Result;
use crate::tree::scan::{dir_paths, scan, Node, NodeKind};

/// A target directory and what is known of the build that made it.
#[derive(Clone, Copy)]
pub struct Build<'a> {
    pub target_dir: &'a Path,
    /// The skeleton the tree was built from: its members' units are dummies.
    pub skeleton: Option<&'a Path>,
    /// The workspace the tree was built from: its members' sources are recorded.
    pub workspace: Option<&'a Path>,
    /// Those sources as recorded before the build (`cargo-inherit
    /// sources`), instead of as they are now.
    pub sources: Option<&'a Path>,
    /// cargo's JSON messages of the runs that built the tree: units they did
    /// not use are left out (see `prune`).
    pub prune_unused: Option<&'a Path>,
}

/// The tree to pack, and what to record beside it.
pub struct Built {
    /// Every entry of the target directory but the unused units'.
    pub nodes: Vec<Node>,
    /// Unit directories built from the skeleton's dummy sources.
    pub dummies: Vec<String>,
    /// The members' sources, with `Build::workspace`.
    pub sources: Vec<MemberSource>,
    /// The mtime to lay the tree out with, when not 1 (see `watched`).
    pub mtime: Option<i64>,
}

impl Build<'_> {
    pub fn read(&self) -> Result<Built> {
        let mut nodes = scan(self.target_dir)?;
        if let Some(log) = self.prune_unused {
            let pruning = Pruning {
                log,
                skeleton: self.skeleton,
                workspace: self.workspace,
            };
            pruning.apply(&mut nodes)?;
        }
        let dep_infos = nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::File { .. }));
        for node in dep_infos.filter(|n| dep_info::is_dep_info(&n.rel)) {
            dep_info::sort_in_place(&node.abs)?;
        }
        let dummies = match self.skeleton {
            Some(dir) => units::units_of(dir_paths(&nodes), &skeleton::read_info(dir)?.members),
            None => Vec::new(),
        };
        let sources = match (self.sources, self.workspace) {
            (Some(file), _) => members::read_sources(file)?,
            (None, Some(dir)) => members::sources(dir)?,
            (None, None) => Vec::new(),
        };
        let sources = members::with_units(sources, dir_paths(&nodes));
        let mtime = watched::newest(&nodes, self.target_dir)?;
        Ok(Built {
            nodes,
            dummies,
            sources,
            mtime,
        })
    }
}
