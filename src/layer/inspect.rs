//! `inspect`: what each layer of a chain holds and what it stores.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{IoContext, Result};
use crate::layer::chain::{Chain, Layer};
use crate::layer::delta::Tree;
use crate::layer::manifest::{BlobId, Entry, Manifest, MANIFEST_FILE};
use crate::tree::bytes::human_bytes;

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
    pub manifest_bytes: u64,
    /// Stored bytes by kind of file (`kind_of`), each blob's share of its
    /// compressed frame by its raw size: where the bytes go.
    pub stored_by_kind: BTreeMap<&'static str, u64>,
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
    let mut summaries = HashMap::new();
    chain.for_each_tree(|layer, tree| {
        summaries.insert(layer.path.clone(), summarise(layer, tree)?);
        Ok(())
    })?;
    let layers: Vec<LayerSummary> = (chain.layers.iter())
        .filter_map(|layer| summaries.remove(&layer.path))
        .collect();
    let total_stored_bytes = layers.iter().map(|l| l.stored_bytes).sum();
    Ok(ChainSummary {
        layers,
        total_stored_bytes,
    })
}

/// What `layer` holds; `tree` is its whole tree.
fn summarise(layer: &Layer, tree: &Tree) -> Result<LayerSummary> {
    let m = &layer.manifest;
    let logical = m.logical_bytes();
    let stored = m.stored_bytes();
    let manifest_path = layer.path.join(MANIFEST_FILE);
    Ok(LayerSummary {
        path: layer.path.clone(),
        parents: m.parents.clone(),
        foreign_parents: m.foreign.iter().map(|f| f.path.clone()).collect(),
        borrowed_bytes: m.borrowed_bytes(),
        files: tree
            .iter()
            .filter(|e| matches!(e, Entry::File { .. }))
            .count(),
        logical_bytes: logical,
        stored_bytes: stored,
        blobs: m.blobs.len(),
        frames: m.frames.len(),
        manifest_bytes: std::fs::metadata(&manifest_path).at(&manifest_path)?.len(),
        stored_by_kind: stored_by_kind(m, tree),
        dedup_ratio: logical as f64 / stored.max(1) as f64,
    })
}

/// Each stored blob's share of its frame's compressed bytes, summed by the
/// kind of the first file made of it.
fn stored_by_kind(m: &Manifest, tree: &Tree) -> BTreeMap<&'static str, u64> {
    let mut kinds: HashMap<BlobId, &'static str> = HashMap::new();
    for entry in tree.iter() {
        if let Entry::File { path, mode, .. } = entry {
            for part in entry.parts() {
                kinds
                    .entry(part.hash)
                    .or_insert_with(|| kind_of(path, *mode));
            }
        }
    }
    let mut by_kind = BTreeMap::new();
    for blob in &m.blobs {
        let frame = &m.frames[blob.frame as usize];
        let share = blob.size as f64 / frame.raw_length.max(1) as f64 * frame.length as f64;
        let kind = kinds.get(&blob.hash).copied().unwrap_or("other");
        *by_kind.entry(kind).or_insert(0) += share.round() as u64;
    }
    by_kind
}

/// What a file of a target directory is, for `stored_by_kind`.
fn kind_of(path: &str, mode: u32) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let extension = name.rsplit_once('.').map(|(_, e)| e);
    let under = |dir: &str| path.split('/').any(|c| c == dir);
    if under(".fingerprint") {
        return "fingerprint";
    }
    match extension {
        Some("rlib") => "rlib",
        Some("rmeta") => "rmeta",
        Some("so" | "dylib" | "a") => "library",
        Some("d") => "dep-info",
        _ if under("out") || under("build") && mode & 0o111 == 0 => "build script output",
        _ if mode & 0o111 != 0 => "executable",
        _ => "other",
    }
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
        let kinds: Vec<String> = l
            .stored_by_kind
            .iter()
            .map(|(kind, bytes)| format!("{kind} {}", human_bytes(*bytes)))
            .collect();
        out += &format!(
            "  manifest {}; blobs: {}\n",
            human_bytes(l.manifest_bytes),
            kinds.join(", ")
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

#[cfg(test)]
mod tests {
    use super::kind_of;

    #[test]
    fn files_are_told_apart_by_what_cargo_and_build_scripts_make_of_them() {
        assert_eq!(kind_of("release/deps/libx-1a.rlib", 0o644), "rlib");
        assert_eq!(kind_of("release/deps/libx-1a.rmeta", 0o644), "rmeta");
        assert_eq!(kind_of("release/deps/libm-1a.so", 0o755), "library");
        assert_eq!(kind_of("release/deps/x-1a.d", 0o644), "dep-info");
        assert_eq!(kind_of("release/deps/x-1a", 0o755), "executable");
        let build = "release/build/x-1a/build-script-build";
        assert_eq!(kind_of(build, 0o755), "executable");
        let fingerprint = "release/.fingerprint/x-1a/lib-x";
        assert_eq!(kind_of(fingerprint, 0o644), "fingerprint");
        assert_eq!(
            kind_of("release/build/x-2b/out/gen.rs", 0o644),
            "build script output"
        );
        assert_eq!(
            kind_of("release/build/x-2b/output", 0o644),
            "build script output"
        );
        assert_eq!(
            kind_of("release/build/x-2b/out/tool", 0o755),
            "build script output"
        );
        assert_eq!(kind_of("CACHEDIR.TAG", 0o644), "other");
    }
}
