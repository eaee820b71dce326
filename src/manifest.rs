//! The layer manifest: the full tree of a target directory, plus the index of
//! the blobs this layer stores. It is plain JSON on purpose: Nix scans output
//! files for store paths, so parents written here stay runtime references.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::paths::check_relative;

pub const FORMAT: &str = "cargo-inherit-layer";
pub const VERSION: u32 = 2;
/// Version 1 layers store whole trees (no `base`): still read.
const OLDEST_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const BLOBS_FILE: &str = "blobs.zst";

/// The largest blob: bigger files are stored in parts (see `hashing`).
pub const MAX_BLOB: u64 = 64 << 20;

/// The largest `manifest.json` read: about 300,000 entries (a 294-crate
/// release target's is 0.8 MB), so that parsing one is bounded too.
pub const MAX_MANIFEST: u64 = 64 << 20;

/// The most raw bytes one frame holds. What a job of unpack (or pack) keeps
/// in memory is bounded by it, whatever a manifest claims.
pub const MAX_FRAME: u64 = 256 << 20;

/// The blake3 of a file's content; identifies a blob across layers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub [u8; 32]);

impl BlobId {
    pub fn of(data: &[u8]) -> Self {
        BlobId(*blake3::hash(data).as_bytes())
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(blake3::Hash::from_bytes(self.0).to_hex().as_str())
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for BlobId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BlobId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        blake3::Hash::from_hex(&text)
            .map(|h| BlobId(*h.as_bytes()))
            .map_err(|e| serde::de::Error::custom(format!("bad blake3 {text:?}: {e}")))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Entry {
    Dir {
        path: String,
        mode: u32,
    },
    File {
        path: String,
        mode: u32,
        size: u64,
        hash: BlobId,
        /// Entries sharing a `link` number are hard links of one file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<u32>,
        /// The blobs the content is made of, in order, when it is not the
        /// single blob `hash` (see `split`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parts: Vec<Part>,
    },
    Symlink {
        path: String,
        target: String,
    },
}

/// A piece of a file's content, stored as a blob of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub hash: BlobId,
    pub size: u64,
}

impl Entry {
    /// The blobs a file's content is made of, in order; none for an empty
    /// file or for anything that is not a file.
    pub fn parts(&self) -> Vec<Part> {
        match self {
            Entry::File { parts, .. } if !parts.is_empty() => parts.clone(),
            Entry::File { hash, size, .. } if *size > 0 => vec![Part {
                hash: *hash,
                size: *size,
            }],
            _ => Vec::new(),
        }
    }

    pub fn path(&self) -> &str {
        match self {
            Entry::Dir { path, .. } | Entry::File { path, .. } | Entry::Symlink { path, .. } => {
                path
            }
        }
    }
}

/// One independent zstd frame inside `blobs.zst`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    pub offset: u64,
    pub length: u64,
    pub raw_length: u64,
}

/// Where one blob sits: its frame and its byte range once that frame is decompressed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobRef {
    pub hash: BlobId,
    pub frame: u32,
    pub offset: u64,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// Absolute paths of the layers whose blobs this one reuses.
    pub parents: Vec<PathBuf>,
    /// The whole tree, parents before children (see `path_order`); with
    /// `base`, on disk, only the entries that differ from its tree (`delta`).
    pub entries: Vec<Entry>,
    /// The parent layer whose tree, with `entries` and `removed` applied,
    /// is this one's (see `delta`). Layers read through a `Chain` hold their
    /// whole tree, and no base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<PathBuf>,
    /// Paths of `base`'s tree that this tree does not hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    pub frames: Vec<Frame>,
    pub blobs: Vec<BlobRef>,
    /// Unit directories (`<profile>/.fingerprint/<pkg>-<hash>`) of workspace
    /// members built from dummy sources. Unpack leaves them out, so cargo
    /// rebuilds exactly those units from the real sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dummies: Vec<String>,
    /// Workspace members built from real sources: unpack with the current
    /// workspace leaves out the units of those whose sources changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<MemberSource>,
    /// Artifacts of another tool (crane's outputs) whose content this layer
    /// reuses instead of storing it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign: Vec<Foreign>,
    /// The mtime (seconds) to lay the tree out with, when not 1: the newest
    /// file of the machine its build scripts watch (see `watched`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
}

/// A parent that is not a layer: its laid-out tree is the store of the
/// blobs listed here, each read from one of its `files`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Foreign {
    /// Absolute, so that a Nix output keeps it as a runtime reference.
    pub path: PathBuf,
    pub files: Vec<String>,
    pub blobs: Vec<ForeignBlob>,
}

/// Where one blob sits in a foreign parent's tree: a file and a byte range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignBlob {
    pub hash: BlobId,
    /// Index into `Foreign::files`. Format version 1 names it `frame`.
    #[serde(rename = "frame")]
    pub file: u32,
    pub offset: u64,
    pub size: u64,
}

/// A member's sources when the layer was packed, and its unit directories.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSource {
    pub package: String,
    pub hash: BlobId,
    pub units: Vec<String>,
}

/// Read before the full manifest so that a future format is refused by its
/// version, not by whatever field it changed.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

impl Manifest {
    /// Parses and checks a manifest read from `layer`.
    pub fn parse(layer: &Path, text: &[u8]) -> Result<Manifest> {
        let syntax = |source| Error::ManifestSyntax {
            layer: layer.to_path_buf(),
            source,
        };
        let header: Header = serde_json::from_slice(text).map_err(syntax)?;
        if header.format != FORMAT {
            return Err(Error::NotALayer {
                path: layer.to_path_buf(),
            });
        }
        if !(OLDEST_VERSION..=VERSION).contains(&header.version) {
            return Err(Error::UnsupportedVersion {
                layer: layer.to_path_buf(),
                found: header.version,
                supported: VERSION,
            });
        }
        let manifest: Manifest = serde_json::from_slice(text).map_err(syntax)?;
        manifest.check(layer)?;
        Ok(manifest)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut text = serde_json::to_vec(self).expect("a manifest always serialises");
        text.push(b'\n');
        text
    }

    /// This layer's whole tree, made of its base's by `delta::apply`:
    /// checked as a tree now that it is one.
    pub fn set_tree(&mut self, layer: &Path, entries: Vec<Entry>) -> Result<()> {
        self.entries = entries;
        self.base = None;
        self.removed.clear();
        self.check_tree(layer)?;
        self.check_parts(layer)?;
        self.check_links(layer)
    }

    /// Checks what the rest of the code relies on: safe relative paths, in
    /// tree order, every parent a directory (once the tree is whole, see
    /// `set_tree`), hard-link groups consistent, and every blob inside its
    /// frame.
    fn check(&self, layer: &Path) -> Result<()> {
        let bad = |entry: &str, reason: String| Error::BadEntry {
            layer: layer.to_path_buf(),
            entry: entry.to_string(),
            reason,
        };
        match &self.base {
            None => self.check_tree(layer)?,
            Some(base) => self.check_changes(layer, base)?,
        }
        if self.mtime.is_some_and(|t| t < 1) {
            return Err(bad("mtime", format!("{:?} is before 1970", self.mtime)));
        }
        for dummy in &self.dummies {
            check_relative(dummy).map_err(|reason| bad(dummy, reason))?;
        }
        self.check_parts(layer)?;
        self.check_links(layer)?;
        self.check_blobs(layer)?;
        self.check_foreign(layer)
    }

    /// The changes to a base: safe paths, in tree order, on a parent.
    fn check_changes(&self, layer: &Path, base: &Path) -> Result<()> {
        let bad = |entry: &str, reason: String| Error::BadEntry {
            layer: layer.to_path_buf(),
            entry: entry.to_string(),
            reason,
        };
        if !self.parents.iter().any(|p| p == base) {
            let base = base.to_string_lossy();
            return Err(bad(&base, "the base is not one of the parents".into()));
        }
        let changed = self.entries.iter().map(Entry::path);
        let removed = self.removed.iter().map(String::as_str);
        for paths in [changed.collect::<Vec<_>>(), removed.collect()] {
            for (i, path) in paths.iter().enumerate() {
                check_relative(path).map_err(|reason| bad(path, reason))?;
                if i > 0 && path_order(paths[i - 1], path) != Ordering::Less {
                    let prev = paths[i - 1];
                    return Err(bad(
                        path,
                        format!("out of order or duplicate (after {prev:?})"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Paths safe and in tree order, each under a directory of the tree, modes rwx only.
    fn check_tree(&self, layer: &Path) -> Result<()> {
        let bad = |entry: &str, reason: String| Error::BadEntry {
            layer: layer.to_path_buf(),
            entry: entry.to_string(),
            reason,
        };
        let mut kinds: HashMap<&str, &Entry> = HashMap::new();
        let mut previous: Option<&str> = None;
        for entry in &self.entries {
            let path = entry.path();
            check_relative(path).map_err(|reason| bad(path, reason))?;
            if let Some(prev) = previous {
                if path_order(prev, path) != Ordering::Less {
                    return Err(bad(
                        path,
                        format!("out of order or duplicate (after {prev:?})"),
                    ));
                }
            }
            if let Some((dir, _)) = path.rsplit_once('/') {
                match kinds.get(dir) {
                    Some(Entry::Dir { .. }) => {}
                    Some(_) => {
                        return Err(bad(
                            path,
                            format!("{dir:?} is a file or symlink, not a directory"),
                        ))
                    }
                    None => return Err(bad(path, format!("its directory {dir:?} is not listed"))),
                }
            }
            if let Entry::Dir { mode, .. } | Entry::File { mode, .. } = entry {
                if mode & !0o777 != 0 {
                    let reason = format!(
                        "mode {mode:o} has bits beyond rwx (setuid, setgid, sticky or a file type)"
                    );
                    return Err(bad(path, reason));
                }
            }
            kinds.insert(path, entry);
            previous = Some(path);
        }
        Ok(())
    }

    fn check_foreign(&self, layer: &Path) -> Result<()> {
        for foreign in &self.foreign {
            let bad = |entry: &str, reason: String| Error::BadEntry {
                layer: layer.to_path_buf(),
                entry: entry.to_string(),
                reason: format!("in foreign parent {}: {reason}", foreign.path.display()),
            };
            if !foreign.path.is_absolute() {
                let path = foreign.path.to_string_lossy();
                return Err(bad(&path, "not an absolute path".into()));
            }
            for file in &foreign.files {
                check_relative(file).map_err(|reason| bad(file, reason))?;
            }
            for blob in &foreign.blobs {
                if blob.file as usize >= foreign.files.len()
                    || blob.offset.checked_add(blob.size).is_none()
                {
                    return Err(bad(
                        &blob.hash.to_string(),
                        "the blob names no file it lies in".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_parts(&self, layer: &Path) -> Result<()> {
        for entry in &self.entries {
            if let Entry::File {
                path, size, parts, ..
            } = entry
            {
                let total: Option<u64> = parts
                    .iter()
                    .try_fold(0u64, |sum, p| sum.checked_add(p.size));
                let empty_part = parts.iter().any(|p| p.size == 0);
                if !parts.is_empty() && (total != Some(*size) || empty_part) {
                    return Err(Error::BadEntry {
                        layer: layer.to_path_buf(),
                        entry: path.clone(),
                        reason: format!("its parts do not add up to its {size} bytes"),
                    });
                }
            }
        }
        Ok(())
    }

    fn check_links(&self, layer: &Path) -> Result<()> {
        let mut groups: HashMap<u32, (BlobId, u64, u32)> = HashMap::new();
        for entry in &self.entries {
            if let Entry::File {
                path,
                hash,
                size,
                mode,
                link: Some(group),
                ..
            } = entry
            {
                let first = *groups.entry(*group).or_insert((*hash, *size, *mode));
                if first != (*hash, *size, *mode) {
                    return Err(Error::BadEntry {
                        layer: layer.to_path_buf(),
                        entry: path.clone(),
                        reason: format!("hard-link group {group} holds files that differ"),
                    });
                }
            }
        }
        Ok(())
    }

    fn check_blobs(&self, layer: &Path) -> Result<()> {
        let mut expected_offset = 0;
        for (index, frame) in self.frames.iter().enumerate() {
            let bound = zstd::zstd_safe::compress_bound(MAX_FRAME as usize) as u64;
            if frame.raw_length > MAX_FRAME || frame.length > bound {
                return Err(Error::CorruptFrame {
                    layer: layer.to_path_buf(),
                    frame: index,
                    reason: format!(
                        "it claims {} bytes ({} compressed); a frame holds at most {MAX_FRAME}",
                        frame.raw_length, frame.length
                    ),
                });
            }
            if frame.offset != expected_offset {
                return Err(Error::CorruptFrame {
                    layer: layer.to_path_buf(),
                    frame: index,
                    reason: format!("starts at {} instead of {expected_offset}", frame.offset),
                });
            }
            expected_offset += frame.length;
        }
        for blob in &self.blobs {
            let frame = self.frames.get(blob.frame as usize);
            let fits = frame.is_some_and(|f| {
                blob.offset
                    .checked_add(blob.size)
                    .is_some_and(|end| end <= f.raw_length)
            });
            if !fits {
                return Err(Error::CorruptFrame {
                    layer: layer.to_path_buf(),
                    frame: blob.frame as usize,
                    reason: format!("blob {} lies outside its frame", blob.hash),
                });
            }
        }
        Ok(())
    }

    /// Raw bytes of the blobs read from foreign parents.
    pub fn borrowed_bytes(&self) -> u64 {
        self.foreign
            .iter()
            .flat_map(|f| &f.blobs)
            .map(|b| b.size)
            .sum()
    }

    /// Bytes of every file of the tree, as laid out.
    pub fn logical_bytes(&self) -> u64 {
        logical_bytes(&self.entries)
    }

    /// Bytes of `blobs.zst` this manifest describes.
    pub fn stored_bytes(&self) -> u64 {
        self.frames.iter().map(|f| f.length).sum()
    }
}

/// Bytes of every file of a tree, as laid out.
pub fn logical_bytes(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| match e {
            Entry::File { size, .. } => *size,
            _ => 0,
        })
        .sum()
}

/// Order of entries in a manifest: component by component, so a directory's
/// whole subtree comes right after it and before its next sibling.
pub fn path_order(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn tree_order_puts_subtrees_before_siblings() {
        let mut paths = vec!["a-b", "a/b", "a", "a/b/c", "a.x", "b"];
        paths.sort_by(|a, b| path_order(a, b));
        assert_eq!(paths, ["a", "a/b", "a/b/c", "a-b", "a.x", "b"]);
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
    fn refuses_unknown_versions_before_reading_the_rest() {
        let text = br#"{"format":"cargo-inherit-layer","version":99,"whatever":[]}"#;
        match Manifest::parse(Path::new("/l"), text) {
            Err(Error::UnsupportedVersion { found: 99, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn round_trips_through_json() {
        let mut m = manifest(vec![dir("a")]);
        m.parents.push("/nix/store/x-deps".into());
        let back = Manifest::parse(Path::new("/l"), &m.to_json()).unwrap();
        assert_eq!(back, m);
    }
}
