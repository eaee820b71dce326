//! `pack`: a target directory into a layer holding the full tree and only
//! the blobs its parents lack.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::artifacts::{self, Artifacts};
use crate::blobstore::{self, NewBlob, Settings};
use crate::bytes::human_bytes;
use crate::error::{Error, IoContext, Result};
use crate::foreign::ForeignIndex;
use crate::fsutil::{claim_out_dir, OutDir};
use crate::hashing::{hash_files, Hashed, Span};
use crate::layer::Chain;
use crate::manifest::{
    logical_bytes, BlobId, Entry, Manifest, Part, BLOBS_FILE, FORMAT, MANIFEST_FILE, VERSION,
};
use crate::prune::Pruning;
use crate::scan::{scan, Node, NodeKind};
use crate::{delta, members, skeleton, units};

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
    /// cargo's JSON messages of the runs that built the tree: units they did
    /// not use are left out (see `prune`).
    pub prune_unused: Option<PathBuf>,
}

impl PackOptions {
    pub fn pruning(&self) -> Option<Pruning<'_>> {
        Some(Pruning {
            log: self.prune_unused.as_deref()?,
            skeleton: self.skeleton.as_deref(),
            workspace: self.workspace.as_deref(),
        })
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
    let parents = options
        .parents
        .iter()
        .map(|p| std::path::absolute(artifacts::locate(p)).at(p))
        .collect::<Result<Vec<_>>>()?;
    let (layers, foreign_parents) = split_parents(parents)?;
    let chain = Chain::open_parents(&options.out, &layers)?;
    let borrowable = ForeignIndex::open(&options.out, &foreign_parents, &options.borrow)?;
    let mut nodes = scan(&options.target_dir)?;
    if let Some(pruning) = options.pruning() {
        pruning.apply(&mut nodes)?;
    }
    let hashes = hash_files(&nodes)?;
    let sources = new_blobs(&nodes, &hashes, |id| {
        chain.contains(id) || borrowable.contains(id)
    });
    let foreign = borrowable.borrow(
        all_spans(&nodes, &hashes)
            .map(|(_, span)| span.hash)
            .filter(|id| !chain.contains(id)),
    );
    let entries = entries(&nodes, &hashes);
    let dummies = dummy_units(&entries, options.skeleton.as_deref())?;
    let member_sources = match &options.workspace {
        Some(dir) => members::record(dir, unit_dirs(&entries))?,
        None => Vec::new(),
    };
    let tree = Tree {
        count: entries.len(),
        logical_bytes: logical_bytes(&entries),
    };
    let (base, entries, removed) = changes_to_base(&chain, entries);

    let mut layer = NewLayer::create(&options.out)?;
    let new_raw_bytes = sources.iter().map(|(_, s)| s.size).sum();
    let new_blobs = sources.len();
    let settings = options.settings;
    let level = settings.level.for_raw_bytes(new_raw_bytes);
    let frames = blobstore::plan_frames(sources, settings.frame_size);
    let blobs_path = layer.dir.join(BLOBS_FILE);
    let (frames, blobs) = blobstore::write_frames(
        &mut layer.blobs,
        &blobs_path,
        &frames,
        level,
        settings.long_distance,
    )?;
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        parents: layers,
        entries,
        base,
        removed,
        frames,
        blobs,
        dummies,
        sources: member_sources,
        foreign,
        mtime: crate::watched::newest(&nodes, &options.target_dir)?,
    };
    let report = PackReport {
        out: options.out.clone(),
        entries: tree.count,
        logical_bytes: tree.logical_bytes,
        new_blobs,
        new_raw_bytes,
        stored_bytes: manifest.stored_bytes(),
        level,
        borrowed_bytes: manifest.borrowed_bytes(),
    };
    layer.commit(&manifest)?;
    Ok(report)
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

/// The tree as changes to the first parent layer's (see `delta`), when
/// that is much smaller; else whole.
fn changes_to_base(
    chain: &Chain,
    entries: Vec<Entry>,
) -> (Option<PathBuf>, Vec<Entry>, Vec<String>) {
    let Some(parent) = chain.layers.first() else {
        return (None, entries, Vec::new());
    };
    match delta::diff(&parent.manifest.entries, &entries) {
        Some((changed, removed)) => (Some(parent.path.clone()), changed, removed),
        None => (None, entries, Vec::new()),
    }
}

/// Dummy units of this tree: the units of a skeleton's members.
fn dummy_units(entries: &[Entry], skeleton: Option<&Path>) -> Result<Vec<String>> {
    let Some(dir) = skeleton else {
        return Ok(Vec::new());
    };
    Ok(units::units_of(
        unit_dirs(entries),
        &skeleton::read_info(dir)?.members,
    ))
}

fn unit_dirs(entries: &[Entry]) -> impl Iterator<Item = &str> + Clone {
    entries.iter().filter_map(|e| match e {
        Entry::Dir { path, .. } => Some(path.as_str()),
        _ => None,
    })
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
fn link_groups(nodes: &[Node]) -> HashMap<(u64, u64), u32> {
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

/// Parents that are layers, and those that are crane outputs.
fn split_parents(parents: Vec<PathBuf>) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut layers = Vec::new();
    let mut foreign = Vec::new();
    for parent in parents {
        match Artifacts::detect(&parent)? {
            Artifacts::Layer => layers.push(parent),
            Artifacts::CraneArchives(_) | Artifacts::PlainTree => foreign.push(parent),
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
) -> Vec<(String, NewBlob)> {
    let mut seen = HashSet::new();
    let mut sources: Vec<(String, NewBlob)> = all_spans(nodes, hashes)
        .filter(|(_, span)| !have(&span.hash) && seen.insert(span.hash))
        .map(|(node, span)| {
            let source = NewBlob {
                id: span.hash,
                size: span.size,
                path: node.abs.clone(),
                offset: span.offset,
            };
            (group_key(&node.rel), source)
        })
        .collect();
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    sources
}

/// The path with everything after the file name's first dot dropped.
fn group_key(rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let stem = name.split('.').next().unwrap_or(name);
    format!("{dir}/{stem}")
}

/// A layer being written. It only becomes a layer when `commit` renames its
/// manifest into place; dropped before that, it removes what it wrote.
struct NewLayer {
    dir: PathBuf,
    claim: OutDir,
    blobs: File,
    committed: bool,
}

impl NewLayer {
    fn create(dir: &Path) -> Result<NewLayer> {
        // What a killed pack leaves: frames, and the manifest's temporary file.
        let claim = claim_out_dir(dir, |name| name == BLOBS_FILE || name.starts_with(".tmp"))?;
        let blobs_path = dir.join(BLOBS_FILE);
        let blobs = File::options()
            .write(true)
            .create_new(true)
            .open(&blobs_path)
            .at(&blobs_path)?;
        Ok(NewLayer {
            dir: dir.to_path_buf(),
            claim,
            blobs,
            committed: false,
        })
    }

    fn commit(mut self, manifest: &Manifest) -> Result<()> {
        let target = self.dir.join(MANIFEST_FILE);
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir).at(&self.dir)?;
        std::io::Write::write_all(&mut temp, &manifest.to_json()).at(temp.path())?;
        // tempfile creates 0600; a layer is read by whoever builds on it.
        let readable = std::fs::Permissions::from_mode(0o644);
        temp.as_file().set_permissions(readable).at(temp.path())?;
        temp.persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for NewLayer {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Best effort: the error that got us here is the one worth reporting.
        let _ = std::fs::remove_file(self.dir.join(BLOBS_FILE));
        if self.claim.created {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
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
