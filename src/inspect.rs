//! `inspect`: what each layer of a chain holds and what it stores.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bytes::human_bytes;
use crate::error::Result;
use crate::layer::Chain;
use crate::manifest::Entry;

#[derive(Debug, Serialize)]
pub struct LayerSummary {
    pub path: PathBuf,
    pub parents: Vec<PathBuf>,
    /// crane outputs this layer reads content from.
    pub foreign_parents: Vec<PathBuf>,
    /// Raw bytes of that content.
    pub borrowed_bytes: u64,
    pub files: usize,
    pub logical_bytes: u64,
    pub stored_bytes: u64,
    pub blobs: usize,
    pub frames: usize,
    /// Logical bytes per stored byte: how much this layer gains from
    /// compression and from what its parents already hold.
    pub dedup_ratio: f64,
}

#[derive(Debug, Serialize)]
pub struct ChainSummary {
    /// Nearest first.
    pub layers: Vec<LayerSummary>,
    pub total_stored_bytes: u64,
}

pub fn inspect(top: &Path) -> Result<ChainSummary> {
    let chain = Chain::open(top)?;
    let layers: Vec<LayerSummary> = chain
        .layers
        .iter()
        .map(|layer| {
            let m = &layer.manifest;
            let logical = m.logical_bytes();
            let stored = m.stored_bytes();
            LayerSummary {
                path: layer.path.clone(),
                parents: m.parents.clone(),
                foreign_parents: m.foreign.iter().map(|f| f.path.clone()).collect(),
                borrowed_bytes: m.borrowed_bytes(),
                files: m
                    .entries
                    .iter()
                    .filter(|e| matches!(e, Entry::File { .. }))
                    .count(),
                logical_bytes: logical,
                stored_bytes: stored,
                blobs: m.blobs.len(),
                frames: m.frames.len(),
                dedup_ratio: logical as f64 / stored.max(1) as f64,
            }
        })
        .collect();
    let total_stored_bytes = layers.iter().map(|l| l.stored_bytes).sum();
    Ok(ChainSummary {
        layers,
        total_stored_bytes,
    })
}

impl fmt::Display for ChainSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self))
    }
}

fn render(summary: &ChainSummary) -> String {
    let mut out = format!(
        "{:<60} {:>7} {:>12} {:>12} {:>7} {:>9}\n",
        "layer (nearest first)", "files", "logical", "stored", "blobs", "ratio"
    );
    for l in &summary.layers {
        out += &format!(
            "{:<60} {:>7} {:>12} {:>12} {:>7} {:>8.1}x\n",
            l.path.display(),
            l.files,
            human_bytes(l.logical_bytes),
            human_bytes(l.stored_bytes),
            l.blobs,
            l.dedup_ratio
        );
    }
    for l in &summary.layers {
        for foreign in &l.foreign_parents {
            out += &format!(
                "{} reads content from {}\n",
                l.path.display(),
                foreign.display()
            );
        }
    }
    out += &format!("chain stores {}\n", human_bytes(summary.total_stored_bytes));
    out
}
