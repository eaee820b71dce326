//! What a manifest must be before anything reads it further: every rule
//! the rest of the code relies on, checked once, each failure an error
//! naming the layer and the entry.
//!
//! Paths are safe and relative and in tree order (see `path_order`); once
//! the tree is whole (a layer stored as changes to a base is made whole by
//! its `Chain`), every entry lies in a directory of the tree and has no
//! mode bits beyond rwx; a file's parts add up to its size; the files of a
//! hard-link group are one file; every blob lies inside its frame, and no
//! frame claims more than `MAX_FRAME`.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::Path;

use super::manifest::{path_order, Entry, Manifest, MAX_BLOB, MAX_FRAME};
use crate::error::{Error, Result};
use crate::tree::blob::BlobId;
use crate::tree::paths::{check_link_target, check_relative};

impl Manifest {
    /// Checks what can be checked of a manifest as read: a whole tree, or
    /// the changes to a base (`check_whole_tree` checks the tree they make).
    pub(super) fn check(&self, layer: &Path) -> Result<()> {
        match &self.base {
            None => check_tree(layer, &self.entries)?,
            Some(base) => check_changes(layer, self, base)?,
        }
        if let Some(parent) = self.parents.iter().find(|p| !p.is_absolute()) {
            let reason =
                "a parent must be an absolute path (it would resolve against any directory)";
            return Err(Error::bad_entry(layer, &parent.to_string_lossy(), reason));
        }
        if let Some(mtime) = self.mtime.filter(|&t| t < 1) {
            let reason = format!("{mtime} is before 1970");
            return Err(Error::bad_entry(layer, "mtime", reason));
        }
        for dummy in &self.dummies {
            check_relative(dummy).map_err(|reason| Error::bad_entry(layer, dummy, reason))?;
        }
        check_parts(layer, &self.entries)?;
        check_links(layer, &self.entries)?;
        check_frames(layer, self)?;
        check_foreign(layer, self)
    }

    /// This layer's whole tree, made of its base's by `delta::Tree` and
    /// checked by `check_whole_tree`.
    pub(super) fn set_tree(&mut self, entries: Vec<Entry>) {
        self.entries = entries;
        self.base = None;
        self.removed.clear();
    }
}

/// A layer's tree made of its base's by `delta::Tree`, checked as a tree
/// now that it is one.
pub(super) fn check_whole_tree(layer: &Path, entries: &[Entry]) -> Result<()> {
    check_tree(layer, entries)?;
    check_parts(layer, entries)?;
    check_links(layer, entries)
}

/// Paths that cannot escape, each after the one before it in tree order.
fn check_order<'a>(layer: &Path, paths: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut previous: Option<&str> = None;
    for path in paths {
        check_relative(path).map_err(|reason| Error::bad_entry(layer, path, reason))?;
        if let Some(prev) = previous.filter(|prev| path_order(prev, path) != Ordering::Less) {
            let reason = format!("out of order or duplicate (after {prev:?})");
            return Err(Error::bad_entry(layer, path, reason));
        }
        previous = Some(path);
    }
    Ok(())
}

/// The changes to a base: safe paths, in tree order, on a parent.
fn check_changes(layer: &Path, manifest: &Manifest, base: &Path) -> Result<()> {
    if !manifest.parents.iter().any(|p| p == base) {
        let base = base.to_string_lossy();
        return Err(Error::bad_entry(
            layer,
            &base,
            "the base is not one of the parents",
        ));
    }
    check_order(layer, manifest.entries.iter().map(Entry::path))?;
    check_order(layer, manifest.removed.iter().map(String::as_str))
}

/// Paths safe and in tree order, each under a directory of the tree, modes rwx only.
fn check_tree(layer: &Path, entries: &[Entry]) -> Result<()> {
    check_order(layer, entries.iter().map(Entry::path))?;
    let mut kinds: HashMap<&str, &Entry> = HashMap::new();
    for entry in entries {
        let path = entry.path();
        if let Some((dir, _)) = path.rsplit_once('/') {
            let reason = match kinds.get(dir) {
                Some(Entry::Dir { .. }) => None,
                Some(_) => Some(format!("{dir:?} is a file or symlink, not a directory")),
                None => Some(format!("its directory {dir:?} is not listed")),
            };
            if let Some(reason) = reason {
                return Err(Error::bad_entry(layer, path, reason));
            }
        }
        if let Entry::Symlink { target, .. } = entry {
            check_link_target(target).map_err(|reason| Error::bad_entry(layer, path, reason))?;
        }
        if let Entry::Dir { mode, .. } | Entry::File { mode, .. } = entry {
            if mode & !0o777 != 0 {
                let reason = format!(
                    "mode {mode:o} has bits beyond rwx (setuid, setgid, sticky or a file type)"
                );
                return Err(Error::bad_entry(layer, path, reason));
            }
        }
        kinds.insert(path, entry);
    }
    Ok(())
}

fn check_parts(layer: &Path, entries: &[Entry]) -> Result<()> {
    for entry in entries {
        let Entry::File {
            path, size, parts, ..
        } = entry
        else {
            continue;
        };
        let total: Option<u64> = parts
            .iter()
            .try_fold(0u64, |sum, p| sum.checked_add(p.size));
        let empty_part = parts.iter().any(|p| p.size == 0);
        if !parts.is_empty() && (total != Some(*size) || empty_part) {
            let reason = format!("its parts do not add up to its {size} bytes");
            return Err(Error::bad_entry(layer, path, reason));
        }
    }
    Ok(())
}

/// The files of one hard-link group share content, size and mode.
fn check_links(layer: &Path, entries: &[Entry]) -> Result<()> {
    let mut groups: HashMap<u32, (BlobId, u64, u32)> = HashMap::new();
    for entry in entries {
        let Entry::File {
            path,
            hash,
            size,
            mode,
            link: Some(group),
            ..
        } = entry
        else {
            continue;
        };
        let first = *groups.entry(*group).or_insert((*hash, *size, *mode));
        if first != (*hash, *size, *mode) {
            let reason = format!("hard-link group {group} holds files that differ");
            return Err(Error::bad_entry(layer, path, reason));
        }
    }
    Ok(())
}

/// Frames one after the other, none claiming more than `MAX_FRAME`, and
/// every blob inside its frame.
fn check_frames(layer: &Path, manifest: &Manifest) -> Result<()> {
    let corrupt = |frame: usize, reason: String| Error::CorruptFrame {
        layer: layer.to_path_buf(),
        frame,
        reason,
    };
    let bound = zstd::zstd_safe::compress_bound(MAX_FRAME as usize) as u64;
    let mut expected_offset = 0;
    for (index, frame) in manifest.frames.iter().enumerate() {
        if frame.raw_length > MAX_FRAME || frame.length > bound {
            let reason = format!(
                "it claims {} bytes ({} compressed); a frame holds at most {MAX_FRAME}",
                frame.raw_length, frame.length
            );
            return Err(corrupt(index, reason));
        }
        if frame.offset != expected_offset {
            let reason = format!("starts at {} instead of {expected_offset}", frame.offset);
            return Err(corrupt(index, reason));
        }
        expected_offset += frame.length;
    }
    for blob in &manifest.blobs {
        let fits = manifest.frames.get(blob.frame as usize).is_some_and(|f| {
            (blob.offset.checked_add(blob.size)).is_some_and(|end| end <= f.raw_length)
        });
        if !fits {
            let reason = format!("blob {} lies outside its frame", blob.hash);
            return Err(corrupt(blob.frame as usize, reason));
        }
    }
    Ok(())
}

/// Foreign parents by absolute path, their files relative, every blob in one of them.
fn check_foreign(layer: &Path, manifest: &Manifest) -> Result<()> {
    for foreign in &manifest.foreign {
        let bad = |entry: &str, reason: &str| {
            let reason = format!("in foreign parent {}: {reason}", foreign.path.display());
            Error::bad_entry(layer, entry, reason)
        };
        if !foreign.path.is_absolute() {
            return Err(bad(&foreign.path.to_string_lossy(), "not an absolute path"));
        }
        for file in &foreign.files {
            check_relative(file).map_err(|reason| bad(file, &reason))?;
        }
        for blob in &foreign.blobs {
            if blob.file as usize >= foreign.files.len()
                || blob.offset.checked_add(blob.size).is_none()
            {
                return Err(bad(
                    &blob.hash.to_string(),
                    "the blob names no file it lies in",
                ));
            }
            if blob.size > MAX_BLOB {
                let reason = format!(
                    "the blob claims {} bytes; a blob holds at most {MAX_BLOB}",
                    blob.size
                );
                return Err(bad(&blob.hash.to_string(), &reason));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::manifest::{FORMAT, VERSION};

    fn manifest(entries: Vec<Entry>) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: VERSION,
            parents: vec![],
            entries,
            base: None,
            removed: vec![],
            frames: vec![],
            blobs: vec![],
            dummies: vec![],
            sources: vec![],
            foreign: vec![],
            mtime: None,
        }
    }

    fn dir(path: &str) -> Entry {
        Entry::Dir {
            path: path.into(),
            mode: 0o755,
        }
    }

    fn link(path: &str) -> Entry {
        Entry::Symlink {
            path: path.into(),
            target: "x".into(),
        }
    }

    fn check(entries: Vec<Entry>) -> Result<()> {
        manifest(entries).check(Path::new("/layer"))
    }

    #[test]
    fn accepts_a_well_formed_tree() {
        check(vec![dir("a"), dir("a/b"), link("a/b/c"), link("z")]).unwrap();
    }

    #[test]
    fn refuses_escaping_paths() {
        for path in ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", ""] {
            let err = check(vec![link(path)]).unwrap_err().to_string();
            assert!(
                err.contains("/layer") && err.contains(&format!("{path:?}")),
                "{err}"
            );
        }
    }

    #[test]
    fn refuses_setuid_and_other_bits_beyond_rwx() {
        let file = |mode| Entry::File {
            path: "x".into(),
            mode,
            size: 0,
            hash: BlobId::of(b""),
            link: None,
            parts: vec![],
        };
        check(vec![file(0o755)]).unwrap();
        for mode in [0o4755, 0o2755, 0o1777, 0o100644] {
            let err = check(vec![file(mode)]).unwrap_err().to_string();
            assert!(err.contains("beyond rwx") && err.contains("\"x\""), "{err}");
        }
        let dir = Entry::Dir {
            path: "d".into(),
            mode: 0o2775,
        };
        assert!(check(vec![dir]).is_err());
    }

    #[test]
    fn refuses_a_child_of_a_non_directory() {
        let err = check(vec![link("a"), link("a/b")]).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
    }

    #[test]
    fn refuses_duplicates_and_missing_parents() {
        assert!(check(vec![dir("a"), dir("a")]).is_err());
        assert!(check(vec![link("a/b")]).is_err());
    }

    #[test]
    fn refuses_an_mtime_before_1970() {
        let mut m = manifest(vec![]);
        m.mtime = Some(0);
        let err = m.check(Path::new("/layer")).unwrap_err().to_string();
        assert!(
            err.contains("\"mtime\"") && err.contains("before 1970"),
            "{err}"
        );
    }
}
