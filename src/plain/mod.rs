//! The plain format of the symlink strategy: the target tree itself in
//! `DIR/target` (the layout crane's use-symlink mode uses too), with two
//! records beside it. `pack` writes it, `link` lays it out.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};
use crate::fsutil::read_json;
use crate::manifest::MemberSource;

mod link;
mod pack;

pub use link::{copy_out, link, LinkReport};
pub use pack::pack_plain;

/// Beside `target/`: the members' sources, as `pack --workspace` records them.
const SOURCES_FILE: &str = "cargo-inherit-sources.json";

/// Beside `target/`: the files stored as symlinks to a parent's identical
/// file although cargo rewrites them (fingerprints, build-script output):
/// `link` lays them out as writable copies.
const SHARED_FILE: &str = "cargo-inherit-shared.json";

/// The target tree of a plain artifacts directory: `DIR/target` as crane's
/// use-symlink mode and `pack --format plain` install it, else `DIR`
/// itself. Canonical, so links point into the store, not through a gc root.
pub fn plain_root(dir: &Path) -> Result<PathBuf> {
    let nested = dir.join("target");
    let root = if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    };
    root.canonicalize().at(&root)
}

/// The mutable files `pack --format plain` stored as links to a parent.
fn read_shared(from: &Path) -> Result<HashSet<String>> {
    let path = from.join(SHARED_FILE);
    Ok(read_json(&path, "a list of shared files")?.unwrap_or_default())
}

/// The members' sources as packed; None for a tree without the record
/// (crane's outputs).
fn read_sources(from: &Path) -> Result<Option<Vec<MemberSource>>> {
    read_json(&from.join(SOURCES_FILE), "a sources record")
}
