//! Walks a target directory into the nodes a manifest is made of. Reads
//! metadata only; content is hashed later, in parallel, by `pack`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{Error, IoContext, Result};

/// Whether a file of a target directory is one no layer or tree keeps:
/// cargo's locks (`.cargo-lock`, and since cargo 1.96 `.cargo-build-lock`
/// and `.cargo-artifact-lock`: a stale or read-only one blocks every later
/// build) and its cache of rustc's answers (`.rustc_info.json`, whose
/// entries come in another order in every build: a layer holding it would
/// never come out the same twice, and cargo asks rustc again without it).
pub fn is_transient(name: &std::ffi::OsStr) -> bool {
    let name = name.as_encoded_bytes();
    name == b".rustc_info.json" || (name.starts_with(b".cargo") && name.ends_with(b"lock"))
}

#[derive(Debug)]
pub struct Node {
    /// Relative to the scanned root, `/`-separated.
    pub rel: String,
    pub abs: PathBuf,
    pub kind: NodeKind,
}

#[derive(Debug)]
pub enum NodeKind {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        size: u64,
        /// Set when the file has other hard links.
        inode: Option<Inode>,
    },
    Symlink {
        target: String,
    },
}

/// A file's identity on its file system: what its hard links share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Inode {
    pub device: u64,
    pub number: u64,
}

impl Inode {
    pub fn of(meta: &std::fs::Metadata) -> Inode {
        Inode {
            device: meta.dev(),
            number: meta.ino(),
        }
    }
}

/// Every entry below `root` in manifest order (see `manifest::path_order`),
/// without transient files (see `is_transient`).
pub fn scan(root: &Path) -> Result<Vec<Node>> {
    let meta = std::fs::metadata(root).at(root)?;
    if !meta.is_dir() {
        return Err(Error::bad_input(root, "not a directory"));
    }
    let walk = WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .sort_by(|a, b| a.file_name().cmp(b.file_name()));
    let mut nodes = Vec::new();
    for item in walk {
        let item = item.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            Error::io(path, e.into())
        })?;
        if is_transient(item.file_name()) {
            continue;
        }
        nodes.push(node(root, item.path())?);
    }
    Ok(nodes)
}

/// The relative paths of the directories among `nodes`.
pub fn dir_paths(nodes: &[Node]) -> impl Iterator<Item = &str> + Clone {
    nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Dir { .. }))
        .map(|n| n.rel.as_str())
}

fn node(root: &Path, abs: &Path) -> Result<Node> {
    let rel = abs
        .strip_prefix(root)
        .expect("walkdir yields paths below its root");
    let rel = utf8(abs, rel.as_os_str())?.to_string();
    let meta = std::fs::symlink_metadata(abs).at(abs)?;
    let mode = meta.permissions().mode() & 0o777;
    let file_type = meta.file_type();
    let kind = if file_type.is_dir() {
        NodeKind::Dir { mode }
    } else if file_type.is_file() {
        NodeKind::File {
            mode,
            size: meta.len(),
            inode: (meta.nlink() > 1).then(|| Inode::of(&meta)),
        }
    } else if file_type.is_symlink() {
        let target = std::fs::read_link(abs).at(abs)?;
        NodeKind::Symlink {
            target: utf8(abs, target.as_os_str())?.to_string(),
        }
    } else {
        return Err(Error::bad_input(
            abs,
            "not a regular file, directory or symlink; cargo-inherit cannot store it",
        ));
    };
    Ok(Node {
        rel,
        abs: abs.to_path_buf(),
        kind,
    })
}

fn utf8<'a>(abs: &Path, text: &'a std::ffi::OsStr) -> Result<&'a str> {
    text.to_str()
        .ok_or_else(|| Error::bad_input(abs, "name or link target is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::is_transient;
    use std::ffi::OsStr;

    #[test]
    fn cargo_locks_and_rustc_answers_are_transient_nothing_else() {
        for name in [
            ".cargo-lock",
            ".cargo-build-lock",
            ".cargo-artifact-lock",
            ".rustc_info.json",
        ] {
            assert!(is_transient(OsStr::new(name)), "{name}");
        }
        for name in ["Cargo.lock", "CACHEDIR.TAG", "lib-x", ".cargo", "x.lock"] {
            assert!(!is_transient(OsStr::new(name)), "{name}");
        }
    }
}
