//! Laying a tree out all or nothing: everything is written into a temporary
//! sibling of the target and moved into place only once complete, so a bad
//! input leaves the target as it was. Used by every way of laying out
//! (layers, crane archives, plain trees).

use std::collections::HashSet;
use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use filetime::FileTime;
use walkdir::WalkDir;

use crate::error::{Error, IoContext, Result};
use crate::tree::fs::{make_writable, remove_tree, settle_dir, SpreadDir, MTIME};

/// Runs `write` on a temporary sibling of `target_dir`, then moves what it
/// wrote into place. When `write` fails, the target is left as it was.
///
/// The directory holding the target is locked meanwhile: a second run for
/// a target there waits, so a target is never the mix of two runs. Under
/// that lock no live run owns a staging directory of this target, so any
/// found is what a killed run left, and is removed first.
///
/// `from` (what is laid out) and `needed` (the bytes it writes, when known)
/// go into the error when the disk fills up.
pub fn stage<R>(
    target_dir: &Path,
    from: &Path,
    needed: Option<u64>,
    write: impl FnOnce(&Path) -> Result<R>,
) -> Result<R> {
    let target = resolve_target(target_dir)?;
    let Some(parent) = target.parent() else {
        return Err(Error::bad_input(
            &target,
            "the root directory cannot be a target directory",
        ));
    };
    std::fs::create_dir_all(parent).at(parent)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.unpack-");
    let _lock = lock_dir(parent)?;
    remove_abandoned(parent, &prefix)?;
    let staging = SpreadDir::new(parent, &prefix)?;
    match write(staging.path()) {
        Ok(result) => {
            install(staging, &target)?;
            Ok(result)
        }
        Err(e) => {
            let entry = |path: &Path| relative(path, staging.path());
            let error = match e {
                Error::Io { path, source } if source.raw_os_error() == Some(nix::libc::ENOSPC) => {
                    let entry = entry(&path);
                    // What is free once the staged tree is gone, not while it fills the disk.
                    drop(staging);
                    Error::NoSpace {
                        entry,
                        free: free_bytes(parent),
                        target: target.clone(),
                        from: from.to_path_buf(),
                        needed,
                    }
                }
                // The staging path is gone by the time the user reads it.
                Error::Io { path, source } if path.starts_with(staging.path()) => Error::LayOut {
                    from: from.to_path_buf(),
                    entry: entry(&path),
                    target: target.clone(),
                    source,
                },
                other => other,
            };
            Err(error)
        }
    }
}

/// `path` below `root`, as an entry of the tree.
fn relative(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().into_owned()
}

/// Bytes an unprivileged writer may still use on the filesystem of `dir`
/// (0 when that cannot be told).
fn free_bytes(dir: &Path) -> u64 {
    nix::sys::statvfs::statvfs(dir)
        .map(|s| s.blocks_available() * s.fragment_size())
        .unwrap_or(0)
}

/// An exclusive lock on `dir`, held until the file is dropped (or the
/// process dies, which is what makes its staging directories abandoned).
fn lock_dir(dir: &Path) -> Result<std::fs::File> {
    let handle = std::fs::File::open(dir).at(dir)?;
    handle.lock().at(dir)?;
    Ok(handle)
}

/// Removes staging directories named `prefix*` in `dir`.
fn remove_abandoned(dir: &Path, prefix: &str) -> Result<()> {
    for item in std::fs::read_dir(dir).at(dir)? {
        let item = item.at(dir)?;
        let abandoned = item.file_name().to_string_lossy().starts_with(prefix)
            && item.file_type().at(item.path())?.is_dir();
        if abandoned {
            remove_tree(&item.path())?;
        }
    }
    Ok(())
}

/// The absolute target, following a symlink at the target itself (users
/// point target/ elsewhere), refusing anything but a directory.
fn resolve_target(target_dir: &Path) -> Result<PathBuf> {
    let target = std::path::absolute(target_dir).at(target_dir)?;
    match std::fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => target.canonicalize().at(&target),
        Ok(_) => Err(Error::bad_input(&target, "exists and is not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(target),
        Err(e) => Err(Error::io(&target, e)),
    }
}

/// Moves the laid-out tree to `target`: a rename when there is nothing
/// there; otherwise what the target holds and the staged tree does not
/// replace is hard-linked into the staged tree, and the two are exchanged
/// in one rename, so the target is all old or all new whenever the run is
/// killed. What is left at the staging path (the old tree) goes last, or
/// with the next run's `remove_abandoned`.
fn install(staging: SpreadDir, target: &Path) -> Result<()> {
    if !target.exists() {
        settle_dir(staging.path(), 0o755, MTIME)?;
        return staging.rename_to(target);
    }
    let exchanged = link_the_rest(target, staging.path())
        .and_then(|()| settle_dir(staging.path(), 0o755, MTIME).map_err(to_io))
        .and_then(|()| exchange(staging.path(), target));
    match exchanged {
        Ok(()) => remove_tree(staging.path()),
        // Across file systems, or where renameat2 cannot exchange: the
        // staged entries are moved over one by one (links to what the target
        // holds are the same files, and moving one onto itself does nothing).
        Err(_) => {
            merge(staging.path(), target)?;
            settle_dir(target, 0o755, MTIME)
        }
    }
}

fn to_io(error: Error) -> std::io::Error {
    std::io::Error::other(error.to_string())
}

/// Swaps the staged tree and the target in one rename.
fn exchange(staged: &Path, target: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, staged, CWD, target, RenameFlags::EXCHANGE).map_err(Into::into)
}

/// Hard-links into `staged` every entry of `target` that the staged tree
/// neither holds nor replaces; directories only the target holds are made
/// anew, with their mode and mtime.
fn link_the_rest(target: &Path, staged: &Path) -> std::io::Result<()> {
    let mut made: Vec<(PathBuf, std::fs::Metadata)> = Vec::new();
    let mut filled: HashSet<PathBuf> = HashSet::new();
    let mut walk = WalkDir::new(target).min_depth(1).into_iter();
    while let Some(item) = walk.next() {
        let item = item?;
        let rel = item
            .path()
            .strip_prefix(target)
            .expect("walked below target");
        let dest = staged.join(rel);
        let old_is_dir = item.file_type().is_dir();
        match std::fs::symlink_metadata(&dest) {
            // Both directories: their entries merge.
            Ok(meta) if meta.is_dir() && old_is_dir => continue,
            // The staged entry replaces the old one, and all below it.
            Ok(_) => {
                if old_is_dir {
                    walk.skip_current_dir();
                }
            }
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            Err(_) if old_is_dir => {
                let meta = item.metadata()?;
                std::fs::create_dir(&dest)?;
                filled.extend(dest.parent().map(Path::to_path_buf));
                made.push((dest, meta));
            }
            Err(_) => {
                std::fs::hard_link(item.path(), &dest)?;
                filled.extend(dest.parent().map(Path::to_path_buf));
            }
        }
    }
    // Filling a directory bumps its mtime: a staged one gets the layout's
    // again (as a merge gives it), one made anew the target's.
    for dir in &filled {
        filetime::set_file_times(dir, MTIME, MTIME)?;
    }
    for (dir, meta) in &made {
        std::fs::set_permissions(dir, Permissions::from_mode(meta.permissions().mode()))?;
        let mtime = FileTime::from_last_modification_time(meta);
        filetime::set_file_times(dir, mtime, mtime)?;
    }
    Ok(())
}

fn merge(from: &Path, into: &Path) -> Result<()> {
    make_writable(into)?;
    for item in std::fs::read_dir(from).at(from)? {
        let item = item.at(from)?;
        let source = item.path();
        let dest = into.join(item.file_name());
        let source_is_dir = item.file_type().at(&source)?.is_dir();
        let dest_meta = std::fs::symlink_metadata(&dest).ok();
        let dest_is_dir = dest_meta.as_ref().is_some_and(|m| m.is_dir());
        if source_is_dir && dest_is_dir {
            let mode = std::fs::symlink_metadata(&source)
                .at(&source)?
                .permissions()
                .mode();
            merge(&source, &dest)?;
            settle_dir(&dest, mode, MTIME)?;
            continue;
        }
        if dest_is_dir {
            remove_tree(&dest)?;
        } else if source_is_dir && dest_meta.is_some() {
            std::fs::remove_file(&dest).at(&dest)?;
        }
        std::fs::rename(&source, &dest).at(&dest)?;
    }
    Ok(())
}
