//! The first pass over a tree: the blake3 of every file, and of the parts
//! an rlib splits into around the rmeta it embeds.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use crate::error::{IoContext, Result};
use crate::manifest::BlobId;
use crate::pool::Pool;
use crate::scan::{Node, NodeKind};
use crate::split;

/// What the first pass learns of a file's content.
#[derive(Clone, Debug)]
pub struct Hashed {
    pub whole: BlobId,
    /// Empty unless the file is stored as several blobs.
    pub parts: Vec<Span>,
}

/// A part of a file and where it sits in that file.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub hash: BlobId,
    pub offset: u64,
    pub size: u64,
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
