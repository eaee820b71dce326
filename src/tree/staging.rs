//! Laying a tree out all or nothing: everything is written into a temporary
//! sibling of the target and moved into place only once complete, so a bad
//! input leaves the target as it was. Used by every way of laying out
//! (layers, crane archives, plain trees).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

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
    let parent = target
        .parent()
        .expect("an absolute path below / has a parent");
    std::fs::create_dir_all(parent).at(parent)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.unpack-");
    let _lock = lock_dir(parent)?;
    remove_abandoned(parent, &prefix)?;
    let staging = SpreadDir::new(parent, &prefix)?;
    let result = write(staging.path()).map_err(|e| {
        let out_of_space = matches!(&e, Error::Io { source, .. }
            if source.raw_os_error() == Some(nix::libc::ENOSPC));
        match e {
            Error::Io { path, .. } if out_of_space => Error::NoSpace {
                entry: relative(&path, staging.path()),
                free: free_bytes(parent),
                target: target.clone(),
                from: from.to_path_buf(),
                needed,
            },
            other => other,
        }
    })?;
    install(staging, &target)?;
    Ok(result)
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
/// there, otherwise a merge in which staged entries replace existing ones.
fn install(staging: SpreadDir, target: &Path) -> Result<()> {
    if target.exists() {
        merge(staging.path(), target)?;
        return settle_dir(target, 0o755, MTIME);
    }
    settle_dir(staging.path(), 0o755, MTIME)?;
    staging.rename_to(target)
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
