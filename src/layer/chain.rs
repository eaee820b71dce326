//! A layer and the chain of parents it builds on, opened for reading: the
//! top layer's tree made whole, and where any blob of the chain is stored.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::cargo::left_out::LeftOut;
use crate::error::{Error, Result};
use crate::layer::check;
use crate::layer::delta::Tree;
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
        chain.make_tree_whole(0)?;
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
        if !chain.layers.is_empty() {
            // The first parent is what the new layer's tree is diffed against.
            chain.make_tree_whole(0)?;
        }
        Ok(chain)
    }

    /// Gives layer `i`, when stored as changes to a base (see `delta`), its
    /// whole tree. Only the layer laid out (or diffed against) needs one;
    /// the other layers of a chain are read for their blobs alone, so
    /// memory grows with one tree, not with the chain.
    fn make_tree_whole(&mut self, i: usize) -> Result<()> {
        if self.layers[i].manifest.base.is_none() {
            return Ok(());
        }
        let bases = self.bases()?;
        let mut path = vec![i];
        while let Some(base) = bases[*path.last().expect("starts with i")] {
            // Bases are parents, so a chain of bases is shorter than the chain.
            if path.len() > self.layers.len() {
                return Err(self.bad_base(i, "layers are each other's base"));
            }
            path.push(base);
        }
        let root = path.pop().expect("holds i and its base");
        let mut tree = Tree::new(&self.layers[root].manifest.entries);
        for &layer in path.iter().rev() {
            let m = &self.layers[layer].manifest;
            tree.apply(&m.entries, &m.removed);
        }
        let tree = tree.into_entries();
        check::check_whole_tree(&self.layers[i].path, &tree)?;
        self.layers[i].manifest.set_tree(tree);
        Ok(())
    }

    /// Calls `visit` with every layer's whole tree, bases before the layers
    /// made on them, holding a tree only while a layer still to visit is
    /// made on it, and handing it on to the last such layer (iteratively:
    /// the input sets how deep bases go).
    pub fn for_each_tree(&self, mut visit: impl FnMut(&Layer, &Tree) -> Result<()>) -> Result<()> {
        let bases = self.bases()?;
        let mut made_on = vec![Vec::new(); self.layers.len()];
        let mut todo = Vec::new();
        for (i, base) in bases.iter().enumerate() {
            match base {
                Some(base) => made_on[*base].push(i),
                None => todo.push(i),
            }
        }
        let mut waiting: Vec<usize> = made_on.iter().map(Vec::len).collect();
        let mut held: HashMap<usize, Tree> = HashMap::new();
        let mut visited = vec![false; self.layers.len()];
        while let Some(i) = todo.pop() {
            let mut tree = match bases[i] {
                None => Tree::default(),
                Some(base) => {
                    waiting[base] -= 1;
                    match waiting[base] {
                        0 => held.remove(&base).expect("held until its last layer"),
                        _ => held[&base].clone(),
                    }
                }
            };
            let m = &self.layers[i].manifest;
            tree.apply(&m.entries, &m.removed);
            visit(&self.layers[i], &tree)?;
            visited[i] = true;
            if !made_on[i].is_empty() {
                held.insert(i, tree);
                todo.extend(&made_on[i]);
            }
        }
        // A layer no walk from a whole tree reaches is in a loop of bases.
        match visited.iter().position(|&seen| !seen) {
            Some(looping) => Err(self.bad_base(looping, "layers are each other's base")),
            None => Ok(()),
        }
    }

    /// Each layer's base, as an index into `layers`.
    fn bases(&self) -> Result<Vec<Option<usize>>> {
        let at: HashMap<&Path, usize> = (self.layers.iter().enumerate())
            .map(|(i, l)| (l.path.as_path(), i))
            .collect();
        let base_of = |(i, layer): (usize, &Layer)| match &layer.manifest.base {
            None => Ok(None),
            Some(base) => match at.get(base.as_path()) {
                Some(&j) if j != i => Ok(Some(j)),
                Some(_) => Err(self.bad_base(i, "layers are each other's base")),
                None => Err(self.bad_base(i, "the base is not among the layers opened")),
            },
        };
        self.layers.iter().enumerate().map(base_of).collect()
    }

    fn bad_base(&self, i: usize, reason: &str) -> Error {
        let layer = &self.layers[i];
        Error::MissingParent {
            layer: layer.path.clone(),
            parent: layer.manifest.base.clone().unwrap_or_default(),
            reason: reason.into(),
        }
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
