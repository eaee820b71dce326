//! A layer and the chain of parents it builds on, opened for reading: each
//! layer's tree made whole, and where any blob of the chain is stored.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::cargo::left_out::LeftOut;
use crate::error::{Error, Result};
use crate::layer::delta::{self, Changes};
use crate::layer::manifest::{BlobId, Foreign};
pub use crate::layer::reader::{FrameBuffers, Layer};
use crate::tree::blob::Span;

/// What holds a blob within one layer of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// A frame of the layer's own `blobs.zst`.
    Frame(usize),
    /// A file of one of the layer's foreign parents (an index into its `files`).
    Foreign { parent: ForeignRef, file: usize },
}

/// One foreign parent of one layer of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ForeignRef {
    pub layer: usize,
    /// An index into that layer's `foreign`.
    pub foreign: usize,
}

/// What holds a blob: a layer of the chain, and what in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Holder {
    pub layer: usize,
    pub origin: Origin,
}

/// Where a blob of the chain is: what holds it, and its span in that (a
/// decompressed frame, or a file of a foreign parent).
#[derive(Clone, Copy, Debug)]
pub struct Located {
    pub holder: Holder,
    pub span: Span,
}

/// Where a layer lists a blob: among its own blobs, or a foreign parent's.
#[derive(Clone, Copy)]
enum Listed {
    Own { blob: usize },
    Foreign { foreign: usize, blob: usize },
}

/// The nearest layer listing a blob, and where.
#[derive(Clone, Copy)]
struct Listing {
    layer: usize,
    listed: Listed,
}

/// A layer and all its ancestors, nearest first.
pub struct Chain {
    pub layers: Vec<Layer>,
    index: HashMap<BlobId, Listing>,
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
        let changes = Changes {
            changed: std::mem::take(&mut self.layers[i].manifest.entries),
            removed: std::mem::take(&mut self.layers[i].manifest.removed),
        };
        let whole = delta::apply(&self.layers[j].manifest.entries, changes);
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
        let own = (m.blobs.iter().enumerate()).map(|(blob, b)| (b.hash, Listed::Own { blob }));
        let borrowed = m.foreign.iter().enumerate().flat_map(|(foreign, f)| {
            let blobs = f.blobs.iter().enumerate();
            blobs.map(move |(blob, b)| (b.hash, Listed::Foreign { foreign, blob }))
        });
        for (hash, listed) in own.chain(borrowed) {
            let listing = Listing { layer: at, listed };
            self.index.entry(hash).or_insert(listing);
        }
        self.layers.push(layer);
        true
    }

    /// Leaves out of the top layer's tree what the rule leaves out (see
    /// `left_out`), so that laying it out makes cargo rebuild those units.
    pub fn leave_out(&mut self, left_out: &LeftOut) {
        let entries = &mut self.layers[0].manifest.entries;
        entries.retain(|e| !left_out.contains(e.path()));
    }

    pub fn top(&self) -> &Layer {
        &self.layers[0]
    }

    /// Where `id` is stored, in the nearest layer that lists it.
    pub fn locate(&self, id: &BlobId) -> Option<Located> {
        let Listing { layer, listed } = *self.index.get(id)?;
        let m = &self.layers[layer].manifest;
        let (origin, offset, size) = match listed {
            Listed::Own { blob } => {
                let b = &m.blobs[blob];
                (Origin::Frame(b.frame as usize), b.offset, b.size)
            }
            Listed::Foreign { foreign, blob } => {
                let b = &m.foreign[foreign].blobs[blob];
                let parent = ForeignRef { layer, foreign };
                let file = b.file as usize;
                (Origin::Foreign { parent, file }, b.offset, b.size)
            }
        };
        let span = Span {
            hash: *id,
            offset,
            size,
        };
        let holder = Holder { layer, origin };
        Some(Located { holder, span })
    }

    /// The record of a foreign parent of a layer of the chain.
    pub fn foreign(&self, parent: ForeignRef) -> &Foreign {
        &self.layers[parent.layer].manifest.foreign[parent.foreign]
    }

    pub fn contains(&self, id: &BlobId) -> bool {
        self.index.contains_key(id)
    }
}
