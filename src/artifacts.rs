//! What a derivation may inherit: a cargo-inherit layer, a crane use-zstd
//! output (an archive chain), or a plain tree (crane use-symlink, `pack
//! --format plain`). Each is laid out by its own module.
//!
//! A cargo-inherit derivation's output keeps its artifacts in `layer/`,
//! beside the package; `locate` finds them given the output itself.

use std::path::{Path, PathBuf};

use crate::crane::archive_chain;
use crate::error::Result;
use crate::manifest::MANIFEST_FILE;

pub enum Artifacts {
    Layer,
    /// crane's archives, oldest first.
    CraneArchives(Vec<PathBuf>),
    PlainTree,
}

/// Where the artifacts of `from` are: `from/layer` for a cargo-inherit
/// derivation's output, else `from` itself.
pub fn locate(from: &Path) -> PathBuf {
    let nested = from.join(LAYER_DIR);
    if nested.exists() {
        nested
    } else {
        from.to_path_buf()
    }
}

/// The directory of a derivation's output that holds its artifacts.
const LAYER_DIR: &str = "layer";

impl Artifacts {
    /// A directory that is not recognised is taken for a layer, whose
    /// opening then says what is wrong with it.
    pub fn detect(from: &Path) -> Result<Artifacts> {
        if from.join(MANIFEST_FILE).exists() {
            return Ok(Artifacts::Layer);
        }
        if from.join("target").is_dir() {
            return Ok(Artifacts::PlainTree);
        }
        Ok(archive_chain(from)?.map_or(Artifacts::Layer, Artifacts::CraneArchives))
    }
}
