//! Helpers shared by the integration tests: snapshots of trees, and running
//! the real `cargo-inherit` binary.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Everything about an entry that unpack promises to reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Snap {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        content: Vec<u8>,
        linked_to: Option<String>,
    },
    Symlink {
        target: PathBuf,
    },
}

/// The tree below `root`, keyed by relative path; hard links point at the
/// first path (in sorted order) of their inode.
pub fn snapshot(root: &Path) -> BTreeMap<String, Snap> {
    let mut first_of_inode: BTreeMap<(u64, u64), String> = BTreeMap::new();
    let mut tree = BTreeMap::new();
    let mut walk: Vec<_> = walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .collect();
    walk.sort_by(|a, b| a.path().cmp(b.path()));
    for item in walk {
        let rel = item
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let meta = std::fs::symlink_metadata(item.path()).unwrap();
        let mode = meta.permissions().mode() & 0o777;
        let snap = if meta.is_dir() {
            Snap::Dir { mode }
        } else if meta.file_type().is_symlink() {
            Snap::Symlink {
                target: std::fs::read_link(item.path()).unwrap(),
            }
        } else {
            let linked_to = if meta.nlink() > 1 {
                let first = first_of_inode
                    .entry((meta.dev(), meta.ino()))
                    .or_insert_with(|| rel.clone());
                (*first != rel).then(|| first.clone())
            } else {
                None
            };
            Snap::File {
                mode,
                content: std::fs::read(item.path()).unwrap(),
                linked_to,
            }
        };
        tree.insert(rel, snap);
    }
    tree
}

/// What unpack should produce from a tree: owner-writable, no `.cargo-lock`.
pub fn expected_after_unpack(tree: &BTreeMap<String, Snap>) -> BTreeMap<String, Snap> {
    // cargo's locks and its cache of rustc's answers are never packed.
    let transient = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or(path);
        name == ".rustc_info.json" || (name.starts_with(".cargo") && name.ends_with("lock"))
    };
    tree.iter()
        .filter(|(path, _)| !transient(path))
        .map(|(path, snap)| {
            let snap = match snap.clone() {
                Snap::Dir { mode } => Snap::Dir { mode: mode | 0o700 },
                Snap::File {
                    mode,
                    content,
                    linked_to,
                } => Snap::File {
                    mode: mode | 0o200,
                    content,
                    linked_to,
                },
                link => link,
            };
            (path.clone(), snap)
        })
        .collect()
}

/// Every entry below and including `root` has mtime (and atime) 1.
pub fn assert_all_mtimes_one(root: &Path) {
    for item in walkdir::WalkDir::new(root) {
        let item = item.unwrap();
        let meta = std::fs::symlink_metadata(item.path()).unwrap();
        assert_eq!(meta.mtime(), 1, "mtime of {}", item.path().display());
    }
}

pub fn cargo_inherit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
        .args(args)
        .output()
        .unwrap()
}

/// `program` run as a Nix build user would run it: as root, but without the
/// override that lets root write into read-only files and directories.
pub fn as_build_user(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new("setpriv");
    command
        .args(["--bounding-set", "-dac_override,-dac_read_search,-fowner"])
        .arg(program);
    command
}

/// Insists that a finished command succeeded, showing its stderr if not.
pub fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the binary and insists on success, returning stderr.
pub fn ok(args: &[&str]) -> String {
    let out = cargo_inherit(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "cargo-inherit {args:?} failed: {stderr}"
    );
    stderr
}

/// Runs the binary and insists on failure, returning stderr.
pub fn fails(args: &[&str]) -> String {
    let out = cargo_inherit(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "cargo-inherit {args:?} should have failed"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    stderr
}

pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Makes a tree look like it came out of the Nix store: read-only, mtime 1.
pub fn make_store_like(root: &Path) {
    let mut items: Vec<_> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .collect();
    items.reverse(); // children before parents
    for item in items {
        let path = item.path();
        let meta = std::fs::symlink_metadata(path).unwrap();
        if !meta.file_type().is_symlink() {
            let mode = if meta.is_dir() || meta.permissions().mode() & 0o111 != 0 {
                0o555
            } else {
                0o444
            };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let one = filetime::FileTime::from_unix_time(1, 0);
        filetime::set_symlink_file_times(path, one, one).unwrap();
    }
}

/// Undoes `make_store_like` so a temporary directory can be removed.
pub fn make_writable(root: &Path) {
    for item in walkdir::WalkDir::new(root) {
        let item = item.unwrap();
        let meta = std::fs::symlink_metadata(item.path()).unwrap();
        if !meta.file_type().is_symlink() {
            let mode = meta.permissions().mode() | 0o700;
            std::fs::set_permissions(item.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
}

pub mod fixture;
