//! `skeleton`: a copy of a workspace that builds every dependency and none
//! of the workspace's own code: the same manifests, lockfile and toolchain
//! file, the whole `.cargo/` directory (its config and whatever the config
//! names there, a `build.rustc` script say), dummy sources for every target
//! of every member, and the files the caller asks to keep. Path
//! dependencies outside the workspace are real dependencies and are copied
//! whole.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use cargo_metadata::{Metadata, Package, Target, TargetKind};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::tree::paths::check_relative;

/// Written into the skeleton, read by `pack --skeleton`.
pub const SKELETON_FILE: &str = ".cargo-inherit-skeleton.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct SkeletonInfo {
    /// Workspace members, whose units in a target built from this skeleton
    /// are dummies.
    pub members: BTreeSet<String>,
}

/// Files and directories at the workspace root that steer the build and
/// must come along.
const ROOT_FILES: &[&str] = &[
    "Cargo.lock",
    ".cargo",
    "rust-toolchain",
    "rust-toolchain.toml",
];

/// `keep`: more paths below the workspace root to copy as they are.
/// `file_names`: a list of the workspace's file names (one relative path a
/// line), for a `src` that holds the manifests but not the sources (a
/// source filtered without contents, so that editing code changes nothing
/// here): they are created empty in a scratch copy, which is all cargo's
/// target discovery needs, since every member target becomes a dummy.
pub fn skeleton(
    src: &Path,
    out: &Path,
    keep: &[PathBuf],
    file_names: Option<&Path>,
) -> Result<Written> {
    let scratch = file_names
        .map(|list| Placeholders::create(src, list))
        .transpose()?;
    let src = scratch.as_ref().map_or(src, |p| p.dir.path());
    let metadata = crate::cargo::workspace::metadata(src, true)?;
    let root = metadata.workspace_root.as_std_path().to_path_buf();
    let kept = keep.iter().map(PathBuf::as_path);
    for rel in ROOT_FILES.iter().map(Path::new).chain(kept) {
        let below_root = rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !below_root {
            return Err(Error::bad_input(rel, "not a path below the workspace root"));
        }
        let from = root.join(rel);
        if from.exists() {
            copy_tree(&from, &root, out)?;
        } else if keep.iter().any(|k| k == rel) {
            return Err(Error::bad_input(
                &from,
                "asked to keep it, but it does not exist",
            ));
        }
    }
    copy(&root.join("Cargo.toml"), &out.join("Cargo.toml"))?;
    let mut members = BTreeSet::new();
    for package in metadata.workspace_packages() {
        members.insert(package.name.to_string());
        write_member(package, &root, out)?;
    }
    for package in outside_path_packages(&metadata) {
        if let Some(scratch) = &scratch {
            scratch.check_real(package)?;
        }
        copy_package(package, &root, out)?;
    }
    let info = SkeletonInfo { members };
    let text = serde_json::to_vec_pretty(&info).expect("skeleton info serialises");
    std::fs::write(out.join(SKELETON_FILE), text).at(out.join(SKELETON_FILE))?;
    Ok(Written {
        members: info.members.len(),
        out: out.to_path_buf(),
    })
}

/// What `skeleton` wrote, and where.
pub struct Written {
    pub members: usize,
    pub out: PathBuf,
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (members, out) = (self.members, self.out.display());
        write!(f, "wrote a skeleton of {members} members into {out}")
    }
}

pub fn read_info(skeleton_dir: &Path) -> Result<SkeletonInfo> {
    let path = skeleton_dir.join(SKELETON_FILE);
    let text = std::fs::read(&path).at(&path)?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::bad_input(&path, format!("not a skeleton description: {e}")))
}

/// The member's manifest, and a dummy for every target's source.
fn write_member(package: &Package, root: &Path, out: &Path) -> Result<()> {
    let manifest = package.manifest_path.as_std_path();
    copy(manifest, &relocate(manifest, root, out)?)?;
    for target in &package.targets {
        let source = target.src_path.as_std_path();
        let dummy = relocate(source, root, out)?;
        if let Some(dir) = dummy.parent() {
            std::fs::create_dir_all(dir).at(dir)?;
        }
        std::fs::write(&dummy, dummy_source(target)).at(&dummy)?;
    }
    Ok(())
}

fn dummy_source(target: &Target) -> &'static str {
    let library = target.kind.iter().any(|k| {
        matches!(
            k,
            TargetKind::Lib
                | TargetKind::RLib
                | TargetKind::DyLib
                | TargetKind::CDyLib
                | TargetKind::StaticLib
                | TargetKind::ProcMacro
        )
    });
    if library {
        ""
    } else {
        "fn main() {}\n"
    }
}

/// Path packages that are not members: real dependencies of the workspace.
fn outside_path_packages(metadata: &Metadata) -> impl Iterator<Item = &Package> {
    let members: BTreeSet<_> = metadata.workspace_members.iter().collect();
    metadata
        .packages
        .iter()
        .filter(move |p| p.source.is_none() && !members.contains(&p.id))
}

fn copy_package(package: &Package, root: &Path, out: &Path) -> Result<()> {
    let dir = package
        .manifest_path
        .parent()
        .expect("a manifest has a directory")
        .as_std_path();
    copy_tree(dir, root, out)
}

/// Every file at or below `from` (but build output), from `root` into `out`.
fn copy_tree(from: &Path, root: &Path, out: &Path) -> Result<()> {
    for item in walkdir::WalkDir::new(from) {
        let item = item.map_err(|e| Error::io(from, e.into()))?;
        let dest = relocate(item.path(), root, out)?;
        let build_output = dest
            .strip_prefix(out)
            .is_ok_and(|rel| rel.components().any(|c| c.as_os_str() == "target"));
        if item.file_type().is_file() && !build_output {
            copy(item.path(), &dest)?;
        }
    }
    Ok(())
}

/// A copy of `src` with an empty file at every name in `list` it lacks.
struct Placeholders {
    dir: tempfile::TempDir,
    /// The empty files, below `dir`.
    files: Vec<PathBuf>,
}

impl Placeholders {
    fn create(src: &Path, list: &Path) -> Result<Placeholders> {
        let text = std::fs::read_to_string(list).at(list)?;
        let dir = tempfile::tempdir().at(std::env::temp_dir())?;
        copy_tree(src, src, dir.path())?;
        let mut files = Vec::new();
        for (number, name) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
            check_relative(name).map_err(|reason| {
                Error::bad_input(list, format!("line {}: {name:?}: {reason}", number + 1))
            })?;
            let path = dir.path().join(name);
            if !path.exists() {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).at(parent)?;
                }
                std::fs::write(&path, "").at(&path)?;
                files.push(path);
            }
        }
        Ok(Placeholders { dir, files })
    }

    /// A path package that is not a member is compiled as a dependency:
    /// an empty placeholder would be built in place of its code.
    fn check_real(&self, package: &Package) -> Result<()> {
        let dir = package
            .manifest_path
            .parent()
            .expect("a manifest has a directory");
        let Some(file) = self.files.iter().find(|f| f.starts_with(dir)) else {
            return Ok(());
        };
        let rel = dir
            .as_std_path()
            .strip_prefix(self.dir.path())
            .unwrap_or(dir.as_std_path());
        Err(Error::bad_input(
            rel,
            format!(
                "package `{}` is a path dependency, compiled with the dependencies, but its \
                 sources came as names only ({} among them): keep its directory \
                 (`skeleton --keep {}`, nix/lib's skeletonKeep)",
                package.name,
                file.strip_prefix(self.dir.path()).unwrap_or(file).display(),
                rel.display()
            ),
        ))
    }
}

/// `path` below `root`, moved below `out`.
fn relocate(path: &Path, root: &Path, out: &Path) -> Result<PathBuf> {
    let rel = path.strip_prefix(root).map_err(|_| {
        Error::bad_input(
            path,
            format!("is outside the workspace root {}", root.display()),
        )
    })?;
    Ok(out.join(rel))
}

/// Copies a file into the skeleton, writable: a source from the store is
/// read-only, and a single-package workspace copies its manifest twice.
fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).at(dir)?;
    }
    std::fs::copy(from, to).at(to)?;
    let mode = std::fs::metadata(to).at(to)?.permissions().mode() | 0o200;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).at(to)
}
