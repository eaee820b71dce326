//! `save`: the target directory packed on what was restored into it, the
//! blobs the store lacks uploaded, and the key published last.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::layer::blobstore::Settings;
use crate::layer::pack::{pack, PackOptions, PackReport};
use crate::remote::cache::{Cache, Restored};
use crate::remote::gc::{gc, GcOptions, GcReport};
use crate::remote::key::{Entry, Key};
use crate::remote::store::Store;
use crate::remote::transfer;
use crate::remote::{key_object, manifest_object, now};
use crate::tree::bytes::human_bytes;

/// A chain this long starts anew: every restore reads each of its manifests.
const MAX_CHAIN: usize = 16;

pub struct SaveOptions {
    pub url: String,
    pub key: String,
    pub target_dir: PathBuf,
    pub cache: PathBuf,
    pub settings: Settings,
    /// cargo's JSON messages of the build: units it did not use are left out.
    pub prune_unused: Option<PathBuf>,
    /// The most stored bytes one entry (its whole chain) may have.
    pub max_entry: Option<u64>,
    /// The most the store may hold: least recently restored keys go first.
    pub quota: Option<u64>,
}

#[derive(Debug)]
pub enum SaveReport {
    /// Keys do not change once saved, as rust-cache's.
    Exists { key: String, url: String },
    Saved {
        key: String,
        url: String,
        packed: PackReport,
        layers: usize,
        entry_bytes: u64,
        uploaded: u64,
        gc: Option<GcReport>,
    },
}

pub fn save(options: &SaveOptions) -> Result<SaveReport> {
    let store = Store::open(&options.url)?;
    let cache = Cache::open(&options.cache)?;
    let key = Key::new(&options.key)?;
    let (url, name) = (options.url.clone(), options.key.clone());
    if store.size(&key_object(&key))?.is_some() {
        return Ok(SaveReport::Exists { key: name, url });
    }
    let parent = parent(&store, &cache, options)?;
    let (top, packed) = pack_on(&cache, parent, options)?;
    let (chain, entry_bytes) = transfer::chain(&cache, &top)?;
    if let Some(max) = options.max_entry.filter(|&max| entry_bytes > max) {
        return Err(Error::EntryTooLarge {
            key: name,
            bytes: entry_bytes,
            max,
        });
    }
    let uploaded = transfer::upload_missing(&store, &cache, &chain)?;
    publish(
        &store,
        &key,
        Entry::new(&key, chain.clone(), entry_bytes, now()),
    )?;
    let gc = options
        .quota
        .map(|quota| {
            gc(
                &store,
                &GcOptions {
                    quota: Some(quota),
                    keep: Some(key.clone()),
                    ..GcOptions::default()
                },
            )
        })
        .transpose()?;
    Ok(SaveReport::Saved {
        key: name,
        url,
        packed,
        layers: chain.len(),
        entry_bytes,
        uploaded,
        gc,
    })
}

/// Packs the target into a layer of the cache on `parent`.
fn pack_on(
    cache: &Cache,
    parent: Option<String>,
    options: &SaveOptions,
) -> Result<(String, PackReport)> {
    let dir = cache.incoming()?;
    let packed = pack(&PackOptions {
        target_dir: options.target_dir.clone(),
        out: dir.path().to_path_buf(),
        parents: parent.iter().map(|id| cache.layer(id)).collect(),
        borrow: Vec::new(),
        settings: options.settings,
        skeleton: None,
        workspace: None,
        sources: None,
        prune_unused: options.prune_unused.clone(),
    })?;
    let top = cache.adopt(dir)?;
    let packed = PackReport {
        out: PathBuf::from(format!("layer {top}")),
        ..packed
    };
    Ok((top, packed))
}

/// The layer to build on: the one the target was restored from, while the
/// store still holds its chain and the chain is worth building on.
fn parent(store: &Store, cache: &Cache, options: &SaveOptions) -> Result<Option<String>> {
    let Some(Restored {
        url,
        chain,
        needed,
        stored,
        ..
    }) = cache.restored(&options.target_dir)?
    else {
        return Ok(None);
    };
    let worth = chain.len() < MAX_CHAIN && needed.saturating_mul(2) >= stored;
    if url != options.url || !worth || !cache.has(&chain[0]) {
        return Ok(None);
    }
    match transfer::first_missing(store, &chain)? {
        Some(_) => Ok(None),
        None => Ok(Some(chain[0].clone())),
    }
}

/// Writes the key's entry, then checks its layers are still there: a `gc`
/// running at the same time may have removed a parent no key reached.
fn publish(store: &Store, key: &Key, entry: Entry) -> Result<()> {
    let object = key_object(key);
    let text = serde_json::to_vec(&entry).expect("entries serialise");
    store.put(&object, text)?;
    let Some(gone) = transfer::first_missing(store, &entry.chain)? else {
        return Ok(());
    };
    store.delete(&object)?;
    Err(Error::BadStoreObject {
        object: manifest_object(gone),
        reason: format!(
            "removed while {:?} was saved (by gc?): not published",
            entry.key
        ),
    })
}

impl fmt::Display for SaveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveReport::Exists { key, url } => {
                write!(f, "key {key:?} is in {url} already: not saved again")
            }
            SaveReport::Saved {
                key,
                url,
                packed,
                layers,
                entry_bytes,
                uploaded,
                gc,
            } => {
                writeln!(f, "{packed}")?;
                write!(
                    f,
                    "saved key {key:?} to {url}: {layers} layers, {} in all, {} uploaded",
                    human_bytes(*entry_bytes),
                    human_bytes(*uploaded)
                )?;
                gc.as_ref().map_or(Ok(()), |gc| write!(f, "\n{gc}"))
            }
        }
    }
}
