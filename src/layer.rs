//! Opening layers and the chains of parents they build on, and finding where
//! any blob of a chain is stored.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::delta;
use crate::error::{Error, IoContext, Result};
use crate::manifest::{BlobId, Manifest, BLOBS_FILE, MANIFEST_FILE, MAX_MANIFEST};
use crate::paths::is_within;

pub struct Layer {
    pub path: PathBuf,
    pub manifest: Manifest,
    blobs: File,
}

impl Layer {
    pub fn open(path: &Path) -> Result<Layer> {
        let manifest_path = path.join(MANIFEST_FILE);
        let file = match File::open(&manifest_path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(Error::NotALayer {
                    path: path.to_path_buf(),
                })
            }
            other => other.at(&manifest_path)?,
        };
        let mut text = Vec::new();
        // One byte more than allowed tells a manifest that is too large.
        file.take(MAX_MANIFEST + 1)
            .read_to_end(&mut text)
            .at(&manifest_path)?;
        if text.len() as u64 > MAX_MANIFEST {
            return Err(Error::bad_input(
                &manifest_path,
                format!("larger than the {MAX_MANIFEST} bytes a manifest may have"),
            ));
        }
        let manifest = Manifest::parse(path, &text)?;
        let blobs_path = path.join(BLOBS_FILE);
        let blobs = File::open(&blobs_path).at(&blobs_path)?;
        let actual = blobs.metadata().at(&blobs_path)?.len();
        let expected = manifest.stored_bytes();
        if actual != expected {
            let last = manifest.frames.len().saturating_sub(1);
            return Err(Error::CorruptFrame {
                layer: path.to_path_buf(),
                frame: last,
                reason: format!("{BLOBS_FILE} holds {actual} bytes, the manifest expects {expected} (truncated?)"),
            });
        }
        Ok(Layer {
            path: path.to_path_buf(),
            manifest,
            blobs,
        })
    }

    /// Decompresses one frame into `buffers.raw`. Blob hashes are checked by
    /// the caller, which knows which entry it is writing.
    pub fn read_frame<'b>(&self, index: usize, buffers: &'b mut FrameBuffers) -> Result<&'b [u8]> {
        let frame = &self.manifest.frames[index];
        let corrupt = |reason: String| Error::CorruptFrame {
            layer: self.path.clone(),
            frame: index,
            reason,
        };
        buffers.packed.resize(frame.length as usize, 0);
        self.blobs
            .read_exact_at(&mut buffers.packed, frame.offset)
            .map_err(|e| corrupt(format!("cannot read it: {e}")))?;
        // The frame's own header says what it expands to: a manifest that
        // claims more is caught before memory is asked for it.
        match zstd::zstd_safe::get_frame_content_size(&buffers.packed) {
            Ok(Some(size)) if size == frame.raw_length => {}
            Ok(Some(size)) => {
                return Err(corrupt(format!(
                    "its header says it expands to {size} bytes, the manifest says {}",
                    frame.raw_length
                )))
            }
            Ok(None) | Err(_) => {
                return Err(corrupt("it has no zstd frame header with its size".into()))
            }
        }
        buffers.raw.clear();
        buffers
            .raw
            .try_reserve_exact(frame.raw_length as usize)
            .map_err(|e| {
                corrupt(format!(
                    "it expands to {} bytes, more than this machine can hold in memory ({e})",
                    frame.raw_length
                ))
            })?;
        let decompressor = match &mut buffers.decompressor {
            Some(d) => d,
            empty => {
                empty.insert(zstd::bulk::Decompressor::new().map_err(|e| corrupt(e.to_string()))?)
            }
        };
        decompressor
            .decompress_to_buffer(&buffers.packed, &mut buffers.raw)
            .map_err(|e| corrupt(e.to_string()))?;
        if buffers.raw.len() as u64 != frame.raw_length {
            return Err(corrupt(format!(
                "decompressed to {} bytes instead of {}",
                buffers.raw.len(),
                frame.raw_length
            )));
        }
        Ok(&buffers.raw)
    }
}

/// Buffers for reading frames, reused from frame to frame because fresh
/// memory costs a page fault and a zeroed page per 4 KiB.
#[derive(Default)]
pub struct FrameBuffers {
    packed: Vec<u8>,
    raw: Vec<u8>,
    decompressor: Option<zstd::bulk::Decompressor<'static>>,
}

impl FrameBuffers {
    /// The buffer content lands in when it is read whole from a file.
    pub fn raw_mut(&mut self) -> &mut Vec<u8> {
        &mut self.raw
    }
}

/// What holds a blob, within one layer of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A frame of the layer's own `blobs.zst`.
    Frame(usize),
    /// A file of one of the layer's foreign parents.
    Foreign { foreign: usize, file: usize },
}

/// A blob's byte range in what holds it (a decompressed frame, or a file
/// of a foreign parent).
#[derive(Clone, Copy, Debug)]
pub struct Stored {
    pub hash: BlobId,
    pub offset: u64,
    pub size: u64,
}

/// Where a blob is listed: the layer's own blobs or a foreign parent's.
#[derive(Clone, Copy)]
enum Listed {
    Own(usize),
    Foreign(usize, usize),
}

/// A layer and all its ancestors, nearest first.
pub struct Chain {
    pub layers: Vec<Layer>,
    index: HashMap<BlobId, (usize, Listed)>,
}

impl Chain {
    /// Opens `top` and every layer it builds on.
    pub fn open(top: &Path) -> Result<Chain> {
        let top = Layer::open(top)?;
        let parents = top.manifest.parents.clone();
        let mut chain = Chain::empty();
        chain.push(top);
        chain.extend(&parents, 0)?;
        chain.make_trees_whole()?;
        Ok(chain)
    }

    /// Opens the layers a new layer at `child` will build on.
    pub fn open_parents(child: &Path, parents: &[PathBuf]) -> Result<Chain> {
        let mut chain = Chain::empty();
        for parent in parents {
            let layer = Layer::open(parent).map_err(|e| Error::missing_parent(child, parent, e))?;
            let grand = layer.manifest.parents.clone();
            let at = chain.layers.len();
            if chain.push(layer) {
                chain.extend(&grand, at)?;
            }
        }
        chain.make_trees_whole()?;
        Ok(chain)
    }

    /// Gives every layer stored as changes to a base (see `delta`) its
    /// whole tree, bases first.
    fn make_trees_whole(&mut self) -> Result<()> {
        for i in 0..self.layers.len() {
            self.make_tree_whole(i, 0)?;
        }
        Ok(())
    }

    fn make_tree_whole(&mut self, i: usize, depth: usize) -> Result<()> {
        let Some(base) = self.layers[i].manifest.base.clone() else {
            return Ok(());
        };
        let layer = self.layers[i].path.clone();
        let bad_base = |reason: &str| Error::MissingParent {
            layer: layer.clone(),
            parent: base.clone(),
            reason: reason.into(),
        };
        let j = (self.layers.iter())
            .position(|l| l.path == base)
            .ok_or_else(|| bad_base("the base is not among the layers opened"))?;
        // Bases are parents, so a chain of bases is shorter than the chain.
        if depth > self.layers.len() || i == j {
            return Err(bad_base("layers are each other's base"));
        }
        self.make_tree_whole(j, depth + 1)?;
        let changed = std::mem::take(&mut self.layers[i].manifest.entries);
        let removed = &self.layers[i].manifest.removed;
        let whole = delta::apply(&self.layers[j].manifest.entries, changed, removed);
        self.layers[i].manifest.set_tree(&layer, whole)
    }

    fn empty() -> Chain {
        Chain {
            layers: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Adds the ancestors of `self.layers[child]`, breadth first.
    fn extend(&mut self, parents: &[PathBuf], child: usize) -> Result<()> {
        let mut queue: VecDeque<(usize, PathBuf)> =
            parents.iter().map(|p| (child, p.clone())).collect();
        let mut seen: HashSet<PathBuf> = self.layers.iter().map(|l| l.path.clone()).collect();
        while let Some((child, parent)) = queue.pop_front() {
            if !seen.insert(parent.clone()) {
                continue;
            }
            let layer = Layer::open(&parent)
                .map_err(|e| Error::missing_parent(&self.layers[child].path, &parent, e))?;
            let at = self.layers.len();
            queue.extend(layer.manifest.parents.iter().map(|p| (at, p.clone())));
            self.push(layer);
        }
        Ok(())
    }

    /// Returns false when this layer is already part of the chain.
    fn push(&mut self, layer: Layer) -> bool {
        if self.layers.iter().any(|l| l.path == layer.path) {
            return false;
        }
        let at = self.layers.len();
        let m = &layer.manifest;
        let own = m
            .blobs
            .iter()
            .enumerate()
            .map(|(i, b)| (b.hash, Listed::Own(i)));
        let borrowed = m.foreign.iter().enumerate().flat_map(|(f, foreign)| {
            let blobs = foreign.blobs.iter().enumerate();
            blobs.map(move |(i, b)| (b.hash, Listed::Foreign(f, i)))
        });
        for (hash, listed) in own.chain(borrowed) {
            self.index.entry(hash).or_insert((at, listed));
        }
        self.layers.push(layer);
        true
    }

    /// Leaves the top layer's dummy units, and `stale` ones, out of its
    /// tree, so that laying it out makes cargo rebuild them from real sources.
    pub fn drop_units(&mut self, stale: &[String]) {
        let manifest = &mut self.layers[0].manifest;
        let mut units = manifest.dummies.clone();
        units.extend_from_slice(stale);
        manifest.entries.retain(|e| !is_within(e.path(), &units));
    }

    pub fn top(&self) -> &Layer {
        &self.layers[0]
    }

    /// Where `id` is stored, nearest layer first: the layer, what in it
    /// holds the blob, and where in that.
    pub fn locate(&self, id: &BlobId) -> Option<(usize, Origin, Stored)> {
        let &(layer, listed) = self.index.get(id)?;
        let m = &self.layers[layer].manifest;
        let (origin, offset, size) = match listed {
            Listed::Own(i) => {
                let b = &m.blobs[i];
                (Origin::Frame(b.frame as usize), b.offset, b.size)
            }
            Listed::Foreign(foreign, i) => {
                let b = &m.foreign[foreign].blobs[i];
                let file = b.file as usize;
                (Origin::Foreign { foreign, file }, b.offset, b.size)
            }
        };
        let stored = Stored {
            hash: *id,
            offset,
            size,
        };
        Some((layer, origin, stored))
    }

    pub fn contains(&self, id: &BlobId) -> bool {
        self.index.contains_key(id)
    }
}
