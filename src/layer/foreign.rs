//! Parents that are not layers: crane's outputs, whose laid-out trees hold
//! content a layer can reuse instead of storing it again.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::artifacts::Artifacts;
use crate::cargo::left_out::LeftOut;
use crate::crane::{extract_chain, Rules};
use crate::error::{Error, IoContext, Result};
use crate::layer::chain::{Chain, ForeignRef};
use crate::layer::hashing::hash_files;
use crate::layer::manifest::{BlobId, Foreign, ForeignBlob, MAX_BLOB};
use crate::plain::{plain_root, tree_nodes};
use crate::tree::blob::Span;
use crate::tree::scan::{scan, Node, NodeKind};
use nix::fcntl::OFlag;

/// What the directories crane archives are extracted into start with.
pub const SCRATCH_PREFIX: &str = ".foreign-";

/// The tree of a foreign parent, readable file by file.
pub struct ForeignTree {
    root: PathBuf,
    /// The plain tree's directory, for its records (see `plain::tree_nodes`).
    plain: Option<PathBuf>,
    /// Where a chain of archives was extracted; removed when dropped.
    _extracted: Option<tempfile::TempDir>,
}

impl ForeignTree {
    /// Extracts a crane archive chain into a directory in `scratch` named
    /// `SCRATCH_PREFIX*` (a place the next run cleans, should this one be
    /// killed), or reads a plain tree (crane use-symlink) where it is.
    pub fn open(path: &Path, scratch: &Path) -> Result<ForeignTree> {
        match Artifacts::detect(path)? {
            Artifacts::CraneArchives(archives) => {
                let temp = tempfile::Builder::new()
                    .prefix(SCRATCH_PREFIX)
                    .tempdir_in(scratch)
                    .at(scratch)?;
                let root = temp.path().join("target");
                std::fs::create_dir(&root).at(&root)?;
                let rules = Rules {
                    left_out: &LeftOut::default(),
                    store: None,
                };
                extract_chain(&archives, &root, &rules)?;
                Ok(ForeignTree {
                    root,
                    plain: None,
                    _extracted: Some(temp),
                })
            }
            Artifacts::PlainTree => Ok(ForeignTree {
                root: plain_root(path)?,
                plain: Some(path.to_path_buf()),
                _extracted: None,
            }),
            // A directory of files as they are: what pack --borrow read from.
            Artifacts::NotRecognised if path.is_dir() => Ok(ForeignTree::files(path)),
            Artifacts::NotRecognised => Err(crate::artifacts::not_recognised(path)),
            Artifacts::Layer => Err(Error::bad_input(
                path,
                "a layer, not crane artifacts: it holds neither target.tar.zst nor target/",
            )),
        }
    }

    /// The files of `dir` as they are, such as a derivation's package output.
    fn files(dir: &Path) -> ForeignTree {
        ForeignTree {
            root: dir.to_path_buf(),
            plain: None,
            _extracted: None,
        }
    }

    /// The tree's entries; symlinks into the store the parent sits in
    /// (crane's use-symlink files) count as the files they point to.
    pub fn nodes(&self, store: &Path) -> Result<Vec<Node>> {
        let mut nodes = match &self.plain {
            Some(from) => tree_nodes(from)?,
            None => scan(&self.root)?,
        };
        for node in &mut nodes {
            let NodeKind::Symlink { target } = &node.kind else {
                continue;
            };
            if !Path::new(target).starts_with(store) {
                continue;
            }
            if let Ok(meta) = std::fs::metadata(&node.abs) {
                if meta.is_file() {
                    node.kind = NodeKind::File {
                        mode: 0o644,
                        size: meta.len(),
                        inode: None,
                    };
                }
            }
        }
        Ok(nodes)
    }

    /// Opens a file of the tree, following symlinks: a regular file only
    /// (never blocking on a FIFO), since its blobs are read at offsets.
    fn open_file(&self, rel: &str) -> Result<ForeignFile> {
        let path = self.root.join(rel);
        let file = std::fs::File::options()
            .read(true)
            .custom_flags(OFlag::O_NONBLOCK.bits())
            .open(&path)
            .at(&path)?;
        if !file.metadata().at(&path)?.is_file() {
            return Err(Error::bad_input(
                &path,
                "not a regular file, which a layer's blobs are read from",
            ));
        }
        Ok(ForeignFile { file, path })
    }
}

/// A file of a foreign parent, opened to read blobs from.
pub struct ForeignFile {
    file: std::fs::File,
    path: PathBuf,
}

impl ForeignFile {
    /// Reads `span` into `buf`; less when the file is shorter, which the
    /// blob's hash then tells.
    pub fn read_span(&self, span: &Span, buf: &mut Vec<u8>) -> Result<()> {
        buf.clear();
        let mut reader = ReadAt {
            file: &self.file,
            at: span.offset,
        };
        (&mut reader)
            .take(span.size)
            .read_to_end(buf)
            .at(&self.path)
            .map(|_| ())
    }
}

/// Reads a file from an offset on, without moving a shared cursor.
struct ReadAt<'f> {
    file: &'f std::fs::File,
    at: u64,
}

impl Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.file.read_at(buf, self.at)?;
        self.at += read as u64;
        Ok(read)
    }
}

/// The foreign trees an unpack reads from, opened once each.
pub struct ForeignTrees {
    trees: HashMap<ForeignRef, ForeignTree>,
}

impl ForeignTrees {
    /// Opens the `used` foreign parents of `chain`, extracting crane
    /// archives into `scratch` (see `ForeignTree::open`).
    pub fn open(
        chain: &Chain,
        used: impl IntoIterator<Item = ForeignRef>,
        scratch: &Path,
    ) -> Result<Self> {
        let mut trees = HashMap::new();
        for parent in used {
            let layer = &chain.layers[parent.layer].path;
            let path = &chain.foreign(parent).path;
            let tree = ForeignTree::open(path, scratch)
                .map_err(|e| Error::missing_parent(layer, path, e))?;
            trees.insert(parent, tree);
        }
        Ok(ForeignTrees { trees })
    }

    /// Opens file `file` (an index into its `files`) of foreign parent
    /// `parent`.
    pub fn open_file(&self, chain: &Chain, parent: ForeignRef, file: usize) -> Result<ForeignFile> {
        let rel = &chain.foreign(parent).files[file];
        self.trees[&parent].open_file(rel)
    }
}

/// Where a blob sits among the foreign parents of a new layer.
struct Place {
    /// An index into `ForeignIndex::parents`.
    parent: usize,
    file: String,
    span: Span,
}

/// Every blob the foreign parents of a new layer hold, whole files and rlib
/// parts alike, and where it sits.
pub struct ForeignIndex {
    parents: Vec<PathBuf>,
    blobs: HashMap<BlobId, Place>,
}

impl ForeignIndex {
    /// Lays out and hashes each parent's tree, and the files of each
    /// directory in `borrow` (see `pack --borrow`); `child` is the layer
    /// being packed, named in errors, and where crane archives are
    /// extracted meanwhile.
    pub fn open(child: &Path, parents: &[PathBuf], borrow: &[PathBuf]) -> Result<ForeignIndex> {
        let mut trees = Vec::new();
        for parent in parents {
            let tree = ForeignTree::open(parent, child)
                .map_err(|e| Error::missing_parent(child, parent, e))?;
            trees.push((parent, tree));
        }
        for dir in borrow {
            if !dir.is_dir() {
                return Err(Error::bad_input(
                    dir,
                    "not a directory to borrow files from",
                ));
            }
            trees.push((dir, ForeignTree::files(dir)));
        }
        let mut blobs = HashMap::new();
        for (at, (parent, tree)) in trees.iter().enumerate() {
            // The parent's directory is the store its symlinks may point into.
            let nodes = tree.nodes(parent.parent().unwrap_or(Path::new("/")))?;
            let hashes = hash_files(&nodes)?;
            for (node, hashed) in nodes.iter().zip(&hashes) {
                let (Some(hashed), NodeKind::File { size, .. }) = (hashed, &node.kind) else {
                    continue;
                };
                // A child may store the rlib whole or in parts: index both.
                let mut spans = hashed.spans(*size);
                if !hashed.parts.is_empty() {
                    spans.push(Span {
                        hash: hashed.whole,
                        offset: 0,
                        size: *size,
                    });
                }
                // A blob is at most MAX_BLOB: a larger rlib's whole never is one.
                for span in spans
                    .into_iter()
                    .filter(|s| s.size > 0 && s.size <= MAX_BLOB)
                {
                    let file = node.rel.clone();
                    blobs.entry(span.hash).or_insert(Place {
                        parent: at,
                        file,
                        span,
                    });
                }
            }
        }
        Ok(ForeignIndex {
            parents: trees.into_iter().map(|(path, _)| path.clone()).collect(),
            blobs,
        })
    }

    pub fn contains(&self, id: &BlobId) -> bool {
        self.blobs.contains_key(id)
    }

    /// The record of where `wanted` blobs are read from, per parent, files
    /// and blobs in the order first asked for. Every parent is listed, used
    /// or not: it was asked for, and Nix should keep it.
    pub fn borrow(&self, wanted: impl IntoIterator<Item = BlobId>) -> Vec<Foreign> {
        let mut foreign: Vec<Foreign> = self
            .parents
            .iter()
            .map(|path| Foreign {
                path: path.clone(),
                files: Vec::new(),
                blobs: Vec::new(),
            })
            .collect();
        let mut files: HashMap<(usize, &str), u32> = HashMap::new();
        let mut seen = HashSet::new();
        for id in wanted {
            let Some(place) = self.blobs.get(&id) else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            let parent = &mut foreign[place.parent];
            let key = (place.parent, place.file.as_str());
            let file = *files.entry(key).or_insert_with(|| {
                parent.files.push(place.file.clone());
                parent.files.len() as u32 - 1
            });
            parent.blobs.push(ForeignBlob {
                hash: id,
                file,
                offset: place.span.offset,
                size: place.span.size,
            });
        }
        foreign
    }
}
