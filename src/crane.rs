//! crane's use-zstd artifacts: `target.tar.zst`, with `target.tar.zst.prev`
//! linking to the archive it was built on. Read with the tar and zstd crates
//! and laid out with cargo-inherit's rules (`export` writes them).

use std::fs::{File, Permissions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

use crate::cargo::left_out::{LeftOut, Recorded};
use crate::cargo::symlinks;
use crate::error::{Error, IoContext, Result};
use crate::tree::fs::{settle_dir, MTIME};
use crate::tree::scan::is_transient;
use crate::tree::staging::stage;

pub const ARCHIVE: &str = "target.tar.zst";

/// A link crane leaves in the target directory while it builds; never layout.
const PREVIOUS_LINK: &str = ".crane-previous-archive";

/// The archives of a crane output (or a `target.tar.zst` itself), oldest
/// first, following each `.prev` link; None when `from` is not one.
pub fn archive_chain(from: &Path) -> Result<Option<Vec<PathBuf>>> {
    let newest = if from.is_file() {
        from.to_path_buf()
    } else {
        from.join(ARCHIVE)
    };
    if !newest.is_file() {
        return Ok(None);
    }
    let mut chain = vec![newest.canonicalize().at(&newest)?];
    loop {
        let last = chain.last().expect("the chain starts with one archive");
        let prev = PathBuf::from(format!("{}.prev", last.display()));
        if std::fs::symlink_metadata(&prev).is_err() {
            break;
        }
        let resolved = prev.canonicalize().map_err(|e| {
            Error::bad_input(&prev, format!("the previous crane archive is missing: {e}"))
        })?;
        if chain.contains(&resolved) {
            return Err(Error::bad_input(&prev, "the chain of crane archives loops"));
        }
        chain.push(resolved);
    }
    chain.reverse();
    Ok(Some(chain))
}

/// Extracts the archives in order, as crane's `zstd -d | tar -x` would, then
/// applies the layout rules: owner-writable, mtime 1, no `.cargo-lock`.
/// With `workspace`, the units of its members are left out: crane records
/// no sources, and its deps-only archives hold members built from dummies.
/// Symlinks may lead into `store` (see `symlinks`).
pub fn unpack_archives(
    archives: &[PathBuf],
    target_dir: &Path,
    workspace: Option<&Path>,
    store: &Path,
) -> Result<usize> {
    let newest = archives.last().expect("a chain holds an archive");
    let recorded = Recorded {
        dummies: &[],
        sources: None,
    };
    let left_out = LeftOut::of(&recorded, workspace)?;
    let rules = Rules {
        left_out: &left_out,
        store: Some(store),
    };
    stage(target_dir, newest, None, |root| {
        let entries = extract_chain(archives, root, &rules)?;
        settle(root)?;
        Ok(entries)
    })
}

/// What an extraction leaves out and refuses.
pub struct Rules<'a> {
    /// Entries left out (see `left_out`).
    pub left_out: &'a LeftOut,
    /// For a tree cargo builds in: the store its symlinks may lead into
    /// (see `symlinks`); None for a tree that is only read from.
    pub store: Option<&'a Path>,
}

/// Extracts a chain of archives, oldest first, into `root` as tar leaves
/// them (no mtimes settled), by `rules`.
pub fn extract_chain(archives: &[PathBuf], root: &Path, rules: &Rules<'_>) -> Result<usize> {
    let mut entries = 0;
    for archive in archives {
        entries += extract(archive, root, rules).map_err(|e| match e {
            Error::Io { path, source } if path == *archive => {
                Error::bad_input(archive, format!("not a readable crane archive: {source}"))
            }
            other => other,
        })?;
    }
    Ok(entries)
}

fn extract(archive: &Path, root: &Path, rules: &Rules<'_>) -> Result<usize> {
    let file = File::open(archive).at(archive)?;
    let decoder = zstd::stream::read::Decoder::new(BufReader::new(file)).at(archive)?;
    let mut tar = tar::Archive::new(decoder);
    let mut count = 0;
    for entry in tar.entries().at(archive)? {
        let mut entry = entry.at(archive)?;
        let Some(rel) = strip_target(&entry.path().at(archive)?, archive)? else {
            continue;
        };
        let name = rel.file_name().unwrap_or_default();
        let rel_str = rel.to_string_lossy();
        if is_transient(name) || name == PREVIOUS_LINK || rules.left_out.contains(&rel_str) {
            continue;
        }
        refuse_unsupported(&mut entry, &rel, archive)?;
        let kind = entry.header().entry_type();
        if let (tar::EntryType::Symlink, Some(store)) = (kind, rules.store) {
            let target = entry.link_name().at(archive)?.unwrap_or_default();
            if let Some(reason) = symlinks::refused(&rel_str, &target.to_string_lossy(), store) {
                let reason = format!("entry {}: {reason}", rel.display());
                return Err(Error::bad_input(archive, reason));
            }
        }
        // Before anything is removed or created for this entry: a symlink
        // an earlier entry (or archive) laid out must not lead it outside.
        check_inside(root, &rel, archive)?;
        let dest = root.join(&rel);
        if !kind.is_dir() {
            replace_with_nothing(&dest)?;
        }
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).at(dir)?;
        }
        lay_out(&mut entry, kind, &rel, root, archive)?;
        count += 1;
    }
    Ok(count)
}

/// Lays out one entry of an archive at `rel` below `root`, where nothing
/// is in its way.
fn lay_out<R: std::io::Read>(
    entry: &mut tar::Entry<R>,
    kind: tar::EntryType,
    rel: &Path,
    root: &Path,
    archive: &Path,
) -> Result<()> {
    let dest = root.join(rel);
    match kind {
        tar::EntryType::Directory => {
            if dest.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
                replace_with_nothing(&dest)?;
            }
            std::fs::create_dir_all(&dest).at(&dest)
        }
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let mode = entry.header().mode().at(archive)? & 0o777 | 0o200;
            let mut out = File::create_new(&dest).at(&dest)?;
            copy_content(entry, &mut out, archive, &dest)?;
            out.set_permissions(Permissions::from_mode(mode)).at(&dest)
        }
        tar::EntryType::Symlink => {
            let target = entry.link_name().at(archive)?.unwrap_or_default();
            std::os::unix::fs::symlink(target, &dest).at(&dest)
        }
        tar::EntryType::Link => {
            let linked = entry.link_name().at(archive)?.unwrap_or_default();
            hard_link(&linked, rel, root, archive)
        }
        other => {
            let reason = format!(
                "entry {} has a type cargo-inherit cannot lay out ({other:?})",
                rel.display()
            );
            Err(Error::bad_input(archive, reason))
        }
    }
}

/// Copies an entry's content: a failed read blames the archive, a failed
/// write the file being written (a full disk is not a broken input).
fn copy_content(entry: &mut impl Read, out: &mut File, archive: &Path, dest: &Path) -> Result<()> {
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = match entry.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(archive, e)),
        };
        out.write_all(&buffer[..read]).at(dest)?;
    }
}

/// Refuses what tar-rs would lay out wrong without a word: POSIX (PAX)
/// sparse files, whose data map tar-rs does not read, so the entry would
/// land under its GNUSparseFile name with the map as its content.
fn refuse_unsupported<R: Read>(
    entry: &mut tar::Entry<R>,
    rel: &Path,
    archive: &Path,
) -> Result<()> {
    let Some(extensions) = entry.pax_extensions().at(archive)? else {
        return Ok(());
    };
    let mut sparse = false;
    let mut name = rel.display().to_string();
    for extension in extensions {
        let extension = extension.at(archive)?;
        sparse |= extension.key_bytes().starts_with(b"GNU.sparse.");
        if extension.key_bytes() == b"GNU.sparse.name" {
            name = String::from_utf8_lossy(extension.value_bytes()).into_owned();
        }
    }
    if !sparse {
        return Ok(());
    }
    let reason = format!("entry {name} is a POSIX sparse file, which cargo-inherit cannot lay out");
    Err(Error::bad_input(archive, reason))
}

/// Entry `rel` as a hard link to `linked`, a file laid out before it.
fn hard_link(linked: &Path, rel: &Path, root: &Path, archive: &Path) -> Result<()> {
    let Some(linked) = strip_target(linked, archive)? else {
        return Err(Error::bad_input(
            archive,
            "a hard link to the archive's root",
        ));
    };
    check_inside(root, &linked, archive)?;
    let original = root.join(&linked);
    if !std::fs::symlink_metadata(&original).is_ok_and(|m| m.is_file()) {
        let reason = format!(
            "entry {} is a hard link to {}, which is no file laid out before it",
            rel.display(),
            linked.display()
        );
        return Err(Error::bad_input(archive, reason));
    }
    let dest = root.join(rel);
    std::fs::hard_link(original, &dest).at(&dest)
}

/// `target/x/y` -> `x/y`: crane archives its target directory by name and
/// extracts with --strip-components=1. None for the directory itself.
fn strip_target(path: &Path, archive: &Path) -> Result<Option<PathBuf>> {
    let mut parts = path.components();
    parts.next();
    let rest: PathBuf = parts.collect();
    if rest
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
        || path.is_absolute()
    {
        let reason = format!(
            "entry {} would land outside the target directory",
            path.display()
        );
        return Err(Error::bad_input(archive, reason));
    }
    Ok((!rest.as_os_str().is_empty()).then_some(rest))
}

/// Refuses `rel` when a directory it lies in, inside `root`, is anything but
/// a directory: a symlink there would carry the write outside the tree.
fn check_inside(root: &Path, rel: &Path, archive: &Path) -> Result<()> {
    let mut at = root.to_path_buf();
    for part in rel.parent().into_iter().flat_map(Path::components) {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                let reason = format!(
                    "entry {} lies under {}, which is not a directory (a symlink would lead \
                     outside the target)",
                    rel.display(),
                    at.strip_prefix(root).expect("below its root").display()
                );
                return Err(Error::bad_input(archive, reason));
            }
            // Missing directories are created as real ones.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(&at, e)),
        }
    }
    Ok(())
}

/// What a later archive replaces goes first, whatever it was.
fn replace_with_nothing(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path).at(path),
        Ok(_) => std::fs::remove_file(path).at(path),
        Err(_) => Ok(()),
    }
}

/// mtime 1 on everything, children before parents; directories owner-writable.
fn settle(root: &Path) -> Result<()> {
    for item in WalkDir::new(root).min_depth(1).contents_first(true) {
        let item = item.map_err(|e| Error::io(root, e.into()))?;
        let path = item.path();
        if item.file_type().is_dir() {
            let mode = item
                .metadata()
                .map_err(|e| Error::io(path, e.into()))?
                .permissions()
                .mode();
            settle_dir(path, mode, MTIME)?;
        } else {
            filetime::set_symlink_file_times(path, MTIME, MTIME).at(path)?;
        }
    }
    Ok(())
}
