//! The plain format of the symlink strategy: the target tree itself in
//! `DIR/target` (the layout crane's use-symlink mode uses too), with two
//! records beside it. `pack` writes it, `link` lays it out.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use filetime::FileTime;

use crate::error::{IoContext, Result};
use crate::fsutil::{read_json, MTIME};
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

/// Beside `target/`: the mtime to lay the tree out with, when not 1 (see
/// `watched`).
const MTIME_FILE: &str = "cargo-inherit-mtime.json";

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

/// What every entry is laid out with: the recorded mtime, else MTIME.
fn read_mtime(from: &Path) -> Result<FileTime> {
    let seconds: Option<i64> = read_json(&from.join(MTIME_FILE), "an mtime record")?;
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
