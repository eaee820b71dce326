//! The first pass over a tree: the blake3 of every file, and of the parts
//! it is stored as: an rlib's around the rmeta it embeds, and pieces of at
//! most `MAX_BLOB` bytes of anything larger, so that no frame (and no job
//! of pack or unpack) has to hold a whole large file in memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rayon::prelude::*;

use crate::cargo::split;
use crate::error::{IoContext, Result};
use crate::layer::manifest::MAX_BLOB;
use crate::tree::blob::{BlobId, Span};
use crate::tree::pool::Pool;
use crate::tree::scan::{Inode, Node, NodeKind};

/// What the first pass learns of a file's content.
#[derive(Clone, Debug)]
pub struct Hashed {
    pub whole: BlobId,
    /// Empty unless the file is stored as several blobs.
    pub parts: Vec<Span>,
    /// For an rlib split around its rmeta: that rmeta's hash, and the parts
    /// to fall back on when it turns out not to be the sibling's.
    split: Option<(BlobId, Vec<Span>)>,
}

/// Hashes every regular file (each inode once, in parallel) and splits
/// rlibs around the rmeta they embed.
pub fn hash_files(nodes: &[Node]) -> Result<Vec<Option<Hashed>>> {
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
    let (todo, first_of_inode) = first_of_each_inode(nodes);
    let buffers = Pool::new(Vec::new);
    let hashed: Vec<(usize, Hashed)> = todo
        .par_iter()
        .map(|&i| {
            let rmeta_len = rmeta_of(&nodes[i]).map(|(_, size)| size);
            buffers.with(|buf| hash_file(&nodes[i].abs, rmeta_len, buf).map(|h| (i, h)))
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
            if let Some((embedded, unsplit)) = h.split.take() {
                if Some(embedded) != rmeta {
                    h.parts = unsplit;
                }
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

/// The files to read (each inode's first), and each hard-linked inode's first file.
fn first_of_each_inode(nodes: &[Node]) -> (Vec<usize>, HashMap<Inode, usize>) {
    let mut first_of_inode: HashMap<Inode, usize> = HashMap::new();
    let mut todo = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        if let NodeKind::File { inode, .. } = node.kind {
            let first = inode.map_or(i, |key| *first_of_inode.entry(key).or_insert(i));
            if first == i {
                todo.push(i);
            }
        }
    }
    (todo, first_of_inode)
}

fn hash_file(path: &Path, rmeta_len: Option<u64>, buf: &mut Vec<u8>) -> Result<Hashed> {
    match rmeta_len {
        Some(len) => hash_rlib(path, len, buf),
        None => hash_streamed(path, buf),
    }
}

/// An rlib is split around the rmeta it embeds. One no larger than a blob
/// is read whole, once; a larger one a blob at a time, twice (whole, then
/// around its rmeta), so that no more than a blob is held whatever its size.
fn hash_rlib(path: &Path, rmeta_len: u64, buf: &mut Vec<u8>) -> Result<Hashed> {
    let mut file = File::open(path).at(path)?;
    let size = file.metadata().at(path)?.len();
    if size > MAX_BLOB {
        return hash_large_rlib(&file, path, size, rmeta_len, buf);
    }
    buf.clear();
    (&mut file).take(MAX_BLOB).read_to_end(buf).at(path)?;
    let whole = BlobId::of(buf);
    let len = buf.len() as u64;
    let Some(rmeta) = split::embedded_rmeta(buf, len, rmeta_len) else {
        return Ok(Hashed {
            whole,
            parts: Vec::new(),
            split: None,
        });
    };
    let (start, end) = (rmeta.start as usize, rmeta.end as usize);
    let span = |range: std::ops::Range<usize>| Span {
        hash: BlobId::of(&buf[range.clone()]),
        offset: range.start as u64,
        size: range.len() as u64,
    };
    let middle = span(start..end);
    let parts = [span(0..start), middle, span(end..buf.len())];
    Ok(Hashed {
        whole,
        parts: parts.into_iter().filter(|p| p.size > 0).collect(),
        split: Some((middle.hash, Vec::new())),
    })
}

fn hash_large_rlib(
    file: &File,
    path: &Path,
    size: u64,
    rmeta_len: u64,
    buf: &mut Vec<u8>,
) -> Result<Hashed> {
    let unsplit = hash_streamed(path, buf)?;
    buf.clear();
    file.take(split::SEARCH_LIMIT as u64)
        .read_to_end(buf)
        .at(path)?;
    let Some(rmeta) = split::embedded_rmeta(buf, size, rmeta_len) else {
        return Ok(unsplit);
    };
    let (head, _) = file_pieces(file, path, 0..rmeta.start, buf)?;
    let (middle, embedded) = file_pieces(file, path, rmeta.clone(), buf)?;
    let (tail, _) = file_pieces(file, path, rmeta.end..size, buf)?;
    Ok(Hashed {
        whole: unsplit.whole,
        parts: [head, middle, tail].concat(),
        split: Some((embedded, unsplit.parts)),
    })
}

/// `range` of `file` cut into spans of at most `MAX_BLOB` bytes (none when
/// it is empty), read one at a time into `buf`, and the range's own hash.
fn file_pieces(
    file: &File,
    path: &Path,
    range: std::ops::Range<u64>,
    buf: &mut Vec<u8>,
) -> Result<(Vec<Span>, BlobId)> {
    let mut whole = blake3::Hasher::new();
    let mut spans = Vec::new();
    for offset in (range.start..range.end).step_by(MAX_BLOB as usize) {
        let size = MAX_BLOB.min(range.end - offset);
        buf.resize(size as usize, 0);
        file.read_exact_at(buf, offset).at(path)?;
        whole.update(buf);
        spans.push(Span {
            hash: BlobId::of(buf),
            offset,
            size,
        });
    }
    Ok((spans, BlobId(*whole.finalize().as_bytes())))
}

/// Any other file is read `MAX_BLOB` bytes at a time; one that fits in a
/// blob is hashed once, as its whole.
fn hash_streamed(path: &Path, buf: &mut Vec<u8>) -> Result<Hashed> {
    let mut file = File::open(path).at(path)?;
    let mut read_piece = |buf: &mut Vec<u8>| -> Result<u64> {
        buf.clear();
        let read = (&mut file).take(MAX_BLOB).read_to_end(buf).at(path)?;
        Ok(read as u64)
    };
    if read_piece(buf)? < MAX_BLOB {
        return Ok(Hashed {
            whole: BlobId::of(buf),
            parts: Vec::new(),
            split: None,
        });
    }
    let mut whole = blake3::Hasher::new();
    let mut parts: Vec<Span> = Vec::new();
    let mut offset = 0;
    loop {
        let size = buf.len() as u64;
        whole.update(buf);
        parts.push(Span {
            hash: BlobId::of(buf),
            offset,
            size,
        });
        offset += size;
        if size < MAX_BLOB || read_piece(buf)? == 0 {
            break;
        }
    }
    // A file of exactly one blob's size is stored as its whole blob.
    if parts.len() == 1 {
        parts.clear();
    }
    Ok(Hashed {
        whole: BlobId(*whole.finalize().as_bytes()),
        parts,
        split: None,
    })
}

impl Hashed {
    /// The blobs a file of `size` bytes is stored as: its parts, or itself.
    pub fn spans(&self, size: u64) -> Vec<Span> {
        if self.parts.is_empty() {
            vec![Span {
                hash: self.whole,
                offset: 0,
                size,
            }]
        } else {
            self.parts.clone()
        }
    }
}
