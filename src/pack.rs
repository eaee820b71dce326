//! `pack`: a target directory into a layer holding the full tree and only
//! the blobs its parents lack.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::blobstore::{self, Settings, Source};
use crate::error::{Error, IoContext, Result};
use crate::layer::Chain;
use crate::manifest::{BlobId, Entry, Manifest, Part, BLOBS_FILE, FORMAT, MANIFEST_FILE, VERSION};
use crate::scan::{scan, Node, NodeKind};
use crate::{dummies, skeleton, split};

pub struct PackOptions {
    pub target_dir: PathBuf,
    pub out: PathBuf,
    pub parents: Vec<PathBuf>,
    pub settings: Settings,
    /// The skeleton the tree was built from: its members' units are dummies.
    pub skeleton: Option<PathBuf>,
    /// The workspace the tree was built from: its members' sources are recorded.
    pub workspace: Option<PathBuf>,
}

#[derive(Debug, serde::Serialize)]
pub struct PackReport {
    pub entries: usize,
    pub logical_bytes: u64,
    pub new_blobs: usize,
    pub new_raw_bytes: u64,
    pub stored_bytes: u64,
}

pub fn pack(options: &PackOptions) -> Result<PackReport> {
    let parents = options
        .parents
        .iter()
        .map(|p| std::path::absolute(p).at(p))
        .collect::<Result<Vec<_>>>()?;
    let chain = Chain::open_parents(&options.out, &parents)?;
    let nodes = scan(&options.target_dir)?;
    let hashes = hash_files(&nodes)?;
    let sources = new_blobs(&nodes, &hashes, &chain);
    let entries = entries(&nodes, &hashes);
    let dummies = dummy_units(&entries, options.skeleton.as_deref())?;
    let member_sources = match &options.workspace {
        Some(dir) => crate::sources::record(dir, unit_dirs(&entries))?,
        None => Vec::new(),
    };

    let mut layer = NewLayer::create(&options.out)?;
    let new_raw_bytes = sources.iter().map(|(_, s)| s.size).sum();
    let new_blobs = sources.len();
    let frames = blobstore::plan_frames(sources, options.settings.frame_size);
    let blobs_path = layer.dir.join(BLOBS_FILE);
    let (frames, blobs) =
        blobstore::write_frames(&mut layer.blobs, &blobs_path, &frames, options.settings)?;
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        parents,
        entries,
        frames,
        blobs,
        dummies,
        sources: member_sources,
    };
    let report = PackReport {
        entries: manifest.entries.len(),
        logical_bytes: logical_bytes(&manifest.entries),
        new_blobs,
        new_raw_bytes,
        stored_bytes: manifest.stored_bytes(),
    };
    layer.commit(&manifest)?;
    Ok(report)
}

/// Dummy units of this tree: the units of a skeleton's members.
fn dummy_units(entries: &[Entry], skeleton: Option<&Path>) -> Result<Vec<String>> {
    let Some(dir) = skeleton else {
        return Ok(Vec::new());
    };
    Ok(dummies::units_of(
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

pub fn logical_bytes(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| match e {
            Entry::File { size, .. } => *size,
            _ => 0,
        })
        .sum()
}

/// What the first pass learns of a file's content.
#[derive(Clone, Debug)]
struct Hashed {
    whole: BlobId,
    /// Empty unless the file is stored as several blobs.
    parts: Vec<Span>,
}

/// A part of a file and where it sits in that file.
#[derive(Clone, Copy, Debug)]
struct Span {
    hash: BlobId,
    offset: u64,
    size: u64,
}

/// Hashes every regular file (each inode once, in parallel) and splits
/// rlibs around the rmeta they embed.
fn hash_files(nodes: &[Node]) -> Result<Vec<Option<Hashed>>> {
    let by_path: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.rel.as_str(), i))
        .collect();
    let rmeta_of = |node: &Node| {
        let sibling = by_path
            .get(split::rmeta_sibling(&node.rel)?.as_str())
            .copied()?;
        match nodes[sibling].kind {
            NodeKind::File { size, .. } => Some((sibling, size)),
            _ => None,
        }
    };
    let mut first_of_inode: HashMap<(u64, u64), usize> = HashMap::new();
    let mut todo = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        if let NodeKind::File { inode, .. } = node.kind {
            let first = inode.map_or(i, |key| *first_of_inode.entry(key).or_insert(i));
            if first == i {
                todo.push(i);
            }
        }
    }
    let hashed: Vec<(usize, Hashed)> = todo
        .par_iter()
        .map_init(Vec::new, |buf, &i| {
            let rmeta_len = rmeta_of(&nodes[i]).map(|(_, size)| size);
            hash_file(&nodes[i].abs, rmeta_len, buf).map(|h| (i, h))
        })
        .collect::<Result<_>>()?;
    let mut hashes = vec![None; nodes.len()];
    for (i, h) in hashed {
        hashes[i] = Some(h);
    }
    // A split is worth keeping only when its middle really is the rmeta.
    for i in 0..nodes.len() {
        let Some((sibling, _)) = rmeta_of(&nodes[i]) else {
            continue;
        };
        let rmeta = hashes[sibling].as_ref().map(|h| h.whole);
        if let Some(h) = hashes[i].as_mut() {
            if h.parts.get(1).map(|p| p.hash) != rmeta {
                h.parts.clear();
            }
        }
    }
    for (i, node) in nodes.iter().enumerate() {
        if let NodeKind::File {
            inode: Some(key), ..
        } = node.kind
        {
            hashes[i] = hashes[first_of_inode[&key]].clone();
        }
    }
    Ok(hashes)
}

fn hash_file(path: &Path, rmeta_len: Option<u64>, buf: &mut Vec<u8>) -> Result<Hashed> {
    buf.clear();
    File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .at(path)?;
    let whole = BlobId::of(buf);
    let parts = match rmeta_len.and_then(|len| split::embedded_rmeta(buf, len)) {
        Some(rmeta) => [0..rmeta.start, rmeta.clone(), rmeta.end..buf.len()]
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|r| Span {
                hash: BlobId::of(&buf[r.clone()]),
                offset: r.start as u64,
                size: r.len() as u64,
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(Hashed { whole, parts })
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

/// Blobs that neither the parents nor an earlier file of this tree hold,
/// ordered so that files of one crate (libx-h.rlib, libx-h.rmeta) are neighbours.
fn new_blobs(nodes: &[Node], hashes: &[Option<Hashed>], chain: &Chain) -> Vec<(String, Source)> {
    let mut seen = HashSet::new();
    let mut sources: Vec<(String, Source)> = Vec::new();
    for (node, hashed) in nodes.iter().zip(hashes) {
        let (Some(hashed), NodeKind::File { size, .. }) = (hashed, &node.kind) else {
            continue;
        };
        let whole = [Span {
            hash: hashed.whole,
            offset: 0,
            size: *size,
        }];
        let spans = if hashed.parts.is_empty() {
            &whole[..]
        } else {
            &hashed.parts[..]
        };
        for span in spans {
            if span.size > 0 && !chain.contains(&span.hash) && seen.insert(span.hash) {
                let source = Source {
                    id: span.hash,
                    size: span.size,
                    path: node.abs.clone(),
                    offset: span.offset,
                };
                sources.push((group_key(&node.rel), source));
            }
        }
    }
    sources.sort_by(|a, b| a.0.cmp(&b.0));
    sources
}

/// The path with everything after the file name's first dot dropped.
fn group_key(rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let stem = name.split('.').next().unwrap_or(name);
    format!("{dir}/{stem}")
}

/// Makes sure `dir` exists and is empty, refusing to write over anything.
/// Returns whether it had to be created.
pub(crate) fn create_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut listing) => match listing.next() {
            Some(_) => Err(Error::bad_input(
                dir,
                "exists and is not empty; refusing to write over it",
            )),
            None => Ok(false),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).at(dir).map(|()| true)
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// A layer being written. It only becomes a layer when `commit` renames its
/// manifest into place; dropped before that, it removes what it wrote.
struct NewLayer {
    dir: PathBuf,
    created_dir: bool,
    blobs: File,
    committed: bool,
}

impl NewLayer {
    fn create(dir: &Path) -> Result<NewLayer> {
        let created_dir = create_empty_dir(dir)?;
        let blobs_path = dir.join(BLOBS_FILE);
        let blobs = File::options()
            .write(true)
            .create_new(true)
            .open(&blobs_path)
            .at(&blobs_path)?;
        Ok(NewLayer {
            dir: dir.to_path_buf(),
            created_dir,
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
        if self.created_dir {
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
