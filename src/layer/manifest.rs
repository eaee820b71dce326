//! The layer manifest: the full tree of a target directory, plus the index of
//! the blobs this layer stores. It is plain JSON on purpose: Nix scans output
//! files for store paths, so parents written here stay runtime references.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::artifacts::MANIFEST_FILE;
pub use crate::cargo::members::MemberSource;
use crate::error::{Error, Result};
pub use crate::tree::blob::BlobId;

pub const FORMAT: &str = "cargo-inherit-layer";
pub const VERSION: u32 = 2;
/// Version 1 layers store whole trees (no `base`): still read.
const OLDEST_VERSION: u32 = 1;
pub const BLOBS_FILE: &str = "blobs.zst";

/// The largest blob: bigger files are stored in parts (see `hashing`).
pub const MAX_BLOB: u64 = 64 << 20;

/// The largest `manifest.json` read: about 300,000 entries (a 294-crate
/// release target's is 0.8 MB), so that parsing one is bounded too.
pub const MAX_MANIFEST: u64 = 64 << 20;

/// The most raw bytes one frame holds. What a job of unpack (or pack) keeps
/// in memory is bounded by it, whatever a manifest claims: pack's default
/// frame size, since larger frames leave too few to spread over cores.
pub const MAX_FRAME: u64 = 128 << 20;

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
            let reason = format!("its {MANIFEST_FILE} is of format {:?}", header.format);
            return Err(Error::NotALayer {
                path: layer.to_path_buf(),
                reason,
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

    #[test]
    fn tree_order_puts_subtrees_before_siblings() {
        let mut paths = vec!["a-b", "a/b", "a", "a/b/c", "a.x", "b"];
        paths.sort_by(|a, b| path_order(a, b));
        assert_eq!(paths, ["a", "a/b", "a/b/c", "a-b", "a.x", "b"]);
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
        let dir = Entry::Dir {
            path: "a".into(),
            mode: 0o755,
        };
        let mut m = manifest(vec![dir]);
        m.parents.push("/nix/store/x-deps".into());
        let back = Manifest::parse(Path::new("/l"), &m.to_json()).unwrap();
        assert_eq!(back, m);
    }
}
