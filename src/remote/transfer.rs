//! Layers between the store and the cache: manifests and the frames a tree
//! needs down, whole layers up.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::layer::chain::{Chain, Origin};
use crate::layer::manifest::{BLOBS_FILE, MANIFEST_FILE};
use crate::remote::cache::{self, Cache};
use crate::remote::store::Store;
use crate::remote::{blobs_object, manifest_object};

/// Brings the manifests of `top` and every layer it builds on into the
/// cache, following each manifest's parents.
pub fn fetch_manifests(store: &Store, cache: &Cache, top: &str) -> Result<()> {
    let mut wanted = vec![top.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(id) = wanted.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if !cache.has(&id) {
            let object = manifest_object(&id);
            let text = store.get(&object)?.ok_or_else(|| Error::BadStoreObject {
                object: object.clone(),
                reason: "missing: the entry names a layer the store no longer holds".to_string(),
            })?;
            cache.receive(&id, &text)?;
        }
        let manifest = cache.manifest(&id)?;
        wanted.extend(
            manifest
                .parents
                .iter()
                .filter_map(|p| p.file_name()?.to_str().map(str::to_string)),
        );
    }
    Ok(())
}

/// What the frames of a chain came to.
#[derive(Debug, Default)]
pub struct Frames {
    /// Stored bytes of the frames the top tree needs.
    pub needed: u64,
    pub downloaded: u64,
    /// Stored bytes of every layer of the chain.
    pub stored: u64,
    /// The chain's layers, top first.
    pub chain: Vec<String>,
}

/// Downloads the frames of the chain of `top` that hold blobs of its tree
/// and that the cache lacks.
pub fn fetch_frames(store: &Store, cache: &Cache, top: &str) -> Result<Frames> {
    let chain = Chain::open(&cache.layer(top))?;
    let mut frames = Frames {
        stored: chain.layers.iter().map(|l| l.manifest.stored_bytes()).sum(),
        chain: ids(&chain)?,
        ..Frames::default()
    };
    for (layer, needed) in needed_frames(&chain)? {
        let dir = &chain.layers[layer].path;
        let manifest = &chain.layers[layer].manifest;
        let mut present = cache::present(dir)?;
        let missing: Vec<usize> = needed
            .iter()
            .copied()
            .filter(|f| !present.contains(f))
            .collect();
        let range = |f: usize| {
            manifest.frames[f].offset..manifest.frames[f].offset + manifest.frames[f].length
        };
        frames.needed += needed
            .iter()
            .map(|&f| manifest.frames[f].length)
            .sum::<u64>();
        if missing.is_empty() {
            continue;
        }
        let id = layer_name(dir)?;
        let blobs = dir.join(BLOBS_FILE);
        let file = OpenOptions::new().write(true).open(&blobs).at(&blobs)?;
        let ranges: Vec<_> = missing.iter().map(|&f| range(f)).collect();
        store.download_ranges(&blobs_object(&id), &ranges, &file)?;
        frames.downloaded += ranges.iter().map(|r| r.end - r.start).sum::<u64>();
        present.extend(missing);
        cache::mark_present(dir, &present)?;
    }
    Ok(frames)
}

/// For each layer of the chain (by index), the frames its top tree reads.
fn needed_frames(chain: &Chain) -> Result<BTreeMap<usize, BTreeSet<usize>>> {
    let top = chain.top();
    let mut needed: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for entry in &top.manifest.entries {
        for part in entry.parts() {
            let located = chain.locate(&part.hash).ok_or_else(|| {
                Error::bad_entry(
                    &top.path,
                    entry.path(),
                    "its content is in no layer of the chain",
                )
            })?;
            let Origin::Frame(frame) = located.holder.origin else {
                let reason =
                    "its content is read from a foreign parent, which a store does not hold";
                return Err(Error::bad_entry(&top.path, entry.path(), reason));
            };
            needed
                .entry(located.holder.layer)
                .or_default()
                .insert(frame);
        }
    }
    Ok(needed)
}

fn layer_name(dir: &Path) -> Result<String> {
    dir.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| Error::bad_input(dir, "not a layer of the cache"))
}

fn ids(chain: &Chain) -> Result<Vec<String>> {
    chain.layers.iter().map(|l| layer_name(&l.path)).collect()
}

/// The ids of the chain laid out from `top`, top first, and their stored
/// bytes (manifests and blobs).
pub fn chain(cache: &Cache, top: &str) -> Result<(Vec<String>, u64)> {
    let chain = Chain::open(&cache.layer(top))?;
    let mut bytes = 0;
    for layer in &chain.layers {
        let manifest = layer.path.join(MANIFEST_FILE);
        bytes += layer.manifest.stored_bytes() + std::fs::metadata(&manifest).at(&manifest)?.len();
    }
    Ok((ids(&chain)?, bytes))
}

/// The first layer of `chain` whose manifest the store does not hold.
pub fn first_missing<'c>(store: &Store, chain: &'c [String]) -> Result<Option<&'c String>> {
    for id in chain {
        if store.size(&manifest_object(id))?.is_none() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Uploads the layers of `chain` the store lacks: blobs first, manifest
/// last, so that a layer whose manifest is there is complete.
pub fn upload_missing(store: &Store, cache: &Cache, chain: &[String]) -> Result<u64> {
    let mut uploaded = 0;
    for id in chain {
        if store.size(&manifest_object(id))?.is_some() {
            continue;
        }
        let dir = cache.layer(id);
        let manifest = cache.manifest(id)?;
        let all: BTreeSet<usize> = (0..manifest.frames.len()).collect();
        if cache::present(&dir)? != all {
            return Err(Error::BadStoreObject {
                object: manifest_object(id),
                reason:
                    "missing from the store, and the cache has only part of it (removed by gc?)"
                        .to_string(),
            });
        }
        let blobs = dir.join(BLOBS_FILE);
        store.upload(&blobs, &blobs_object(id))?;
        let text = cache.store_form(&manifest, &dir)?;
        uploaded += manifest.stored_bytes() + text.len() as u64;
        store.put(&manifest_object(id), text)?;
    }
    Ok(uploaded)
}
