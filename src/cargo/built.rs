//! What both packs (layered and plain) do first: read the target directory
//! as the build left it, leave out the units that build did not use, and
//! gather what a pack records of the build beside the tree: the units
//! built from dummy sources, the members' sources, and the mtime to lay
//! the tree out with.

use std::path::Path;

use crate::cargo::members::{self, MemberSource};
use crate::cargo::prune::Pruning;
use crate::cargo::{skeleton, units, watched};
use crate::error::Result;
use crate::tree::scan::{dir_paths, scan, Node};

/// A target directory and what is known of the build that made it.
#[derive(Clone, Copy)]
pub struct Build<'a> {
    pub target_dir: &'a Path,
    /// The skeleton the tree was built from: its members' units are dummies.
    pub skeleton: Option<&'a Path>,
    /// The workspace the tree was built from: its members' sources are recorded.
    pub workspace: Option<&'a Path>,
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
        let dummies = match self.skeleton {
            Some(dir) => units::units_of(dir_paths(&nodes), &skeleton::read_info(dir)?.members),
            None => Vec::new(),
        };
        let sources = match self.workspace {
            Some(dir) => members::record(dir, dir_paths(&nodes))?,
            None => Vec::new(),
        };
        let mtime = watched::newest(&nodes, self.target_dir)?;
        Ok(Built {
            nodes,
            dummies,
            sources,
            mtime,
        })
    }
}
