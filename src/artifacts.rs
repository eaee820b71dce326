//! What a path holds, decided in one place: a cargo-inherit layer, a crane
//! use-zstd output (an archive chain), a plain tree (crane use-symlink,
//! `pack --format plain`), or nothing this tool can read. Every reader asks
//! here, by the names each format is recognised by.
//!
//! A cargo-inherit derivation's output keeps its artifacts in `layer/`,
//! beside the package; `locate` finds them given the output itself.

use std::path::{Path, PathBuf};

use crate::crane::archive_chain;
pub use crate::crane::ARCHIVE;
use crate::error::{Error, Result};

/// A layer: this file, with `blobs.zst` beside it.
pub const MANIFEST_FILE: &str = "manifest.json";

/// A plain tree: the target directory itself, in this directory.
pub const PLAIN_TREE: &str = "target";

/// Where Nix keeps what it built, unless told otherwise (`NIX_STORE`).
pub const NIX_STORE: &str = "/nix/store";

/// The directory of a derivation's output that holds its artifacts.
const LAYER_DIR: &str = "layer";

pub enum Artifacts {
    Layer,
    /// crane's archives, oldest first.
    CraneArchives(Vec<PathBuf>),
    PlainTree,
    /// None of the above: what `NotRecognised::error` says.
    NotRecognised,
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

impl Artifacts {
    pub fn detect(from: &Path) -> Result<Artifacts> {
        if from.join(MANIFEST_FILE).exists() {
            return Ok(Artifacts::Layer);
        }
        if from.join(PLAIN_TREE).is_dir() {
            return Ok(Artifacts::PlainTree);
        }
        Ok(archive_chain(from)?.map_or(Artifacts::NotRecognised, Artifacts::CraneArchives))
    }
}

/// The error for a path that holds no artifacts: what was looked for.
pub fn not_recognised(from: &Path) -> Error {
    let found = if from.exists() {
        ""
    } else {
        " (it does not exist)"
    };
    let reason = format!(
        "not a cargo-inherit layer, plain tree or crane output{found}: looked for \
         {MANIFEST_FILE} (a layer), {PLAIN_TREE}/ (a plain tree, as crane's use-symlink and \
         `pack --format plain` install it), {ARCHIVE} (crane's use-zstd archive), and for \
         {LAYER_DIR}/ holding one of them"
    );
    Error::bad_input(from, reason)
}
