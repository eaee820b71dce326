//! `pack`: a target directory into a layer holding the full tree and only
//! the blobs its parents lack.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::artifacts::{self, Artifacts};
use crate::cargo::built::{Build, Built};
use crate::error::{Error, IoContext, Result};
use crate::layer::blobstore::{NewBlob, Settings};
use crate::layer::chain::Chain;
use crate::layer::delta::{self, Changes};
use crate::layer::foreign::ForeignIndex;
use crate::layer::hashing::{hash_files, Hashed};
use crate::layer::manifest::{logical_bytes, BlobId, Entry, Manifest, Part, FORMAT, VERSION};
use crate::layer::writer::NewLayer;
use crate::tree::blob::Span;
use crate::tree::bytes::human_bytes;
use crate::tree::scan::{Inode, Node, NodeKind};

pub struct PackOptions {
    pub target_dir: PathBuf,
    pub out: PathBuf,
    pub parents: Vec<PathBuf>,
    /// Directories whose files the layer reads instead of storing them
    /// (the derivation's package output, see `pack --borrow`).
    pub borrow: Vec<PathBuf>,
    pub settings: Settings,
    /// The skeleton the tree was built from: its members' units are dummies.
    pub skeleton: Option<PathBuf>,
    /// The workspace the tree was built from: its members' sources are recorded.
    pub workspace: Option<PathBuf>,
    /// Those sources as `cargo-inherit sources` recorded them before the build.
    pub sources: Option<PathBuf>,
    /// cargo's JSON messages of the runs that built the tree: units they did
    /// not use are left out (see `prune`).
    pub prune_unused: Option<PathBuf>,
}

impl PackOptions {
    /// What both packs read of the target directory and its build.
    pub fn build(&self) -> Build<'_> {
        Build {
            target_dir: &self.target_dir,
            skeleton: self.skeleton.as_deref(),
            workspace: self.workspace.as_deref(),
            prune_unused: self.prune_unused.as_deref(),
            sources: self.sources.as_deref(),
        }
    }
}

#[derive(Debug)]
pub struct PackReport {
    pub out: PathBuf,
    pub entries: usize,
    pub logical_bytes: u64,
    pub new_blobs: usize,
    pub new_raw_bytes: u64,
    pub stored_bytes: u64,
    /// The zstd level the new blobs were packed at.
    pub level: i32,
    /// Raw bytes of the blobs read from crane parents rather than stored.
    pub borrowed_bytes: u64,
}

pub fn pack(options: &PackOptions) -> Result<PackReport> {
    // Claimed first: crane parents are extracted into it (see `ForeignTree`).
    let mut layer = NewLayer::create(&options.out)?;
    let parents = Parents::open(options)?;
    let built = options.build().read()?;
    let hashes = hash_files(&built.nodes)?;
    let new = new_blobs(&built.nodes, &hashes, |id| parents.hold(id));
    let spans = all_spans(&built.nodes, &hashes).map(|(_, span)| span.hash);
    let foreign = (parents.foreign).borrow(spans.filter(|id| !parents.chain.contains(id)));
    let entries = entries(&built.nodes, &hashes);
    let tree = Tree {
        count: entries.len(),
        logical_bytes: logical_bytes(&entries),
    };
    let (base, changes) = changes_to_base(&parents.chain, entries);
    let stored = layer.write_blobs(new, options.settings)?;
    let Built {
        dummies,
        sources,
        mtime,
        ..
    } = built;
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        parents: parents.layers,
        entries: changes.changed,
        base,
        removed: changes.removed,
        frames: stored.frames,
        blobs: stored.blobs,
        dummies,
        sources,
        foreign,
        mtime,
    };
    let report = PackReport {
        out: options.out.clone(),
        entries: tree.count,
        logical_bytes: tree.logical_bytes,
        new_blobs: stored.count,
        new_raw_bytes: stored.raw_bytes,
        stored_bytes: manifest.stored_bytes(),
        level: stored.level,
        borrowed_bytes: manifest.borrowed_bytes(),
    };
    layer.commit(&manifest)?;
    Ok(report)
}

/// What a new layer builds on: parent layers, and the foreign parents and
/// borrowed directories it reads content from.
struct Parents {
    layers: Vec<PathBuf>,
    chain: Chain,
    foreign: ForeignIndex,
}

impl Parents {
    fn open(options: &PackOptions) -> Result<Parents> {
        let parents = (options.parents.iter())
            .map(|p| std::path::absolute(artifacts::locate(p)).at(p))
            .collect::<Result<Vec<_>>>()?;
        let (layers, foreign) = split_parents(&options.out, parents)?;
        Ok(Parents {
            chain: Chain::open_parents(&options.out, &layers)?,
            foreign: ForeignIndex::open(&options.out, &foreign, &options.borrow)?,
            layers,
        })
    }

    /// Whether some parent holds the blob `id` already.
    fn hold(&self, id: &BlobId) -> bool {
        self.chain.contains(id) || self.foreign.contains(id)
    }
}

impl fmt::Display for PackReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "packed {} entries ({}) into {}: {} new blobs ({}), {} stored at zstd level {}",
            self.entries,
            human_bytes(self.logical_bytes),
            self.out.display(),
            self.new_blobs,
            human_bytes(self.new_raw_bytes),
            human_bytes(self.stored_bytes),
            self.level,
        )?;
        match self.borrowed_bytes {
            0 => Ok(()),
            bytes => write!(
                f,
                ", {} read from crane parents or --borrow",
                human_bytes(bytes)
            ),
        }
    }
}

/// What the report says of the whole tree, which the manifest may not hold.
struct Tree {
    count: usize,
    logical_bytes: u64,
}

/// The tree as changes to the first parent layer's (see `delta`) and that
/// layer, when that is much smaller; else the whole tree.
fn changes_to_base(chain: &Chain, entries: Vec<Entry>) -> (Option<PathBuf>, Changes) {
    let base = chain.layers.first();
    match base.and_then(|parent| delta::diff(&parent.manifest.entries, &entries)) {
        Some(changes) => (base.map(|parent| parent.path.clone()), changes),
        None => (None, Changes::whole(entries)),
    }
}

fn entries(nodes: &[Node], hashes: &[Option<Hashed>]) -> Vec<Entry> {
    let groups = link_groups(nodes);
    nodes
        .iter()
        .zip(hashes)
        .map(|(node, hashed)| {
            let path = node.rel.clone();
            match &node.kind {
                NodeKind::Dir { mode } => Entry::Dir { path, mode: *mode },
                NodeKind::File { mode, size, inode } => {
                    let hashed = hashed.as_ref().expect("every file was hashed");
                    Entry::File {
                        path,
                        mode: *mode,
                        size: *size,
                        hash: hashed.whole,
                        link: inode.and_then(|key| groups.get(&key).copied()),
                        parts: hashed
                            .parts
                            .iter()
                            .map(|s| Part {
                                hash: s.hash,
                                size: s.size,
                            })
                            .collect(),
                    }
                }
                NodeKind::Symlink { target } => Entry::Symlink {
                    path,
                    target: target.clone(),
                },
            }
        })
        .collect()
}

/// Numbers the inodes that appear more than once in the tree, in tree order.
/// A file hard-linked only from outside the tree is just a file.
fn link_groups(nodes: &[Node]) -> HashMap<Inode, u32> {
    let mut seen = HashMap::new();
    for node in nodes {
        if let NodeKind::File {
            inode: Some(key), ..
        } = node.kind
        {
            *seen.entry(key).or_insert(0) += 1;
        }
    }
    let mut groups = HashMap::new();
    for node in nodes {
        if let NodeKind::File {
            inode: Some(key), ..
        } = node.kind
        {
            if seen[&key] > 1 && !groups.contains_key(&key) {
                let next = groups.len() as u32;
                groups.insert(key, next);
            }
        }
    }
    groups
}

/// Parents that are layers, and those that are crane outputs, of the layer
/// packed at `child`.
fn split_parents(child: &Path, parents: Vec<PathBuf>) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut layers = Vec::new();
    let mut foreign = Vec::new();
    for parent in parents {
        match Artifacts::detect(&parent)? {
            Artifacts::Layer => layers.push(parent),
            Artifacts::CraneArchives(_) | Artifacts::PlainTree => foreign.push(parent),
            Artifacts::NotRecognised => {
                let cause = artifacts::not_recognised(&parent);
                return Err(Error::missing_parent(child, &parent, cause));
            }
        }
    }
    Ok((layers, foreign))
}

/// Every non-empty blob of the tree's files, in tree order, with the node
/// it is read from.
fn all_spans<'a>(
    nodes: &'a [Node],
    hashes: &'a [Option<Hashed>],
) -> impl Iterator<Item = (&'a Node, Span)> + 'a {
    nodes.iter().zip(hashes).flat_map(|(node, hashed)| {
        let spans = match (hashed, &node.kind) {
            (Some(hashed), NodeKind::File { size, .. }) => hashed.spans(*size),
            _ => Vec::new(),
        };
        spans
            .into_iter()
            .filter(|s| s.size > 0)
            .map(move |span| (node, span))
    })
}

/// Blobs that neither the parents (`have`) nor an earlier file of this
/// tree hold, ordered so that files of one crate (libx-h.rlib, libx-h.rmeta)
/// are neighbours.
fn new_blobs(
    nodes: &[Node],
    hashes: &[Option<Hashed>],
    have: impl Fn(&BlobId) -> bool,
) -> Vec<NewBlob> {
    let mut seen = HashSet::new();
    let mut sources: Vec<NewBlob> = all_spans(nodes, hashes)
        .filter(|(_, span)| !have(&span.hash) && seen.insert(span.hash))
        .map(|(node, span)| NewBlob {
            span,
            path: node.abs.clone(),
            group: group_key(&node.rel),
        })
        .collect();
    sources.sort_by(|a, b| a.group.cmp(&b.group));
    sources
}

/// The path with everything after the file name's first dot dropped.
fn group_key(rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let stem = name.split('.').next().unwrap_or(name);
    format!("{dir}/{stem}")
}

#[cfg(test)]
mod tests {
    use super::group_key;

    #[test]
    fn rlib_and_rmeta_of_one_crate_share_a_key() {
        assert_eq!(
            group_key("release/deps/libx-1a.rlib"),
            group_key("release/deps/libx-1a.rmeta")
        );
        assert_ne!(
            group_key("release/deps/libx-1a.rlib"),
            group_key("release/deps/liby-1a.rlib")
        );
        assert_eq!(group_key("top"), "/top");
    }
}
