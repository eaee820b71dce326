//! `restore`: the entry of a key (or the newest of the longest matching
//! restore key) laid out into the target directory, as `unpack` does.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::layer::unpack::{unpack_layer, UnpackReport};
use crate::remote::cache::{Cache, Restored};
use crate::remote::key::{encode, Entry, Key};
use crate::remote::store::Store;
use crate::remote::{access_object, key_object, now, transfer};
use crate::tree::bytes::human_bytes;

pub struct RestoreOptions {
    pub url: String,
    pub key: String,
    /// Prefixes of keys to fall back on, as rust-cache's restore-keys.
    pub restore_keys: Vec<String>,
    pub target_dir: PathBuf,
    pub cache: PathBuf,
}

#[derive(Debug)]
pub struct RestoreReport {
    pub url: String,
    /// The key restored, and whether it is the one asked for.
    pub key: String,
    pub exact: bool,
    pub layers: usize,
    pub downloaded: u64,
    pub needed: u64,
    pub unpacked: UnpackReport,
}

pub fn restore(options: &RestoreOptions) -> Result<RestoreReport> {
    let store = Store::open(&options.url)?;
    let cache = Cache::open(&options.cache)?;
    let key = Key::new(&options.key)?;
    let (entry, exact) =
        find(&store, &key, &options.restore_keys)?.ok_or_else(|| Error::NoEntry {
            url: options.url.clone(),
            key: options.key.clone(),
            restore_keys: options.restore_keys.clone(),
        })?;
    let top = entry.layer();
    transfer::fetch_manifests(&store, &cache, top)?;
    let frames = transfer::fetch_frames(&store, &cache, top)?;
    let unpacked = match unpack_layer(
        &cache.layer(top),
        &options.target_dir,
        None,
        "/nix/store".as_ref(),
    ) {
        Err(e @ (Error::HashMismatch { .. } | Error::CorruptFrame { .. })) => {
            cache.forget(&frames.chain)?;
            return Err(e);
        }
        other => other?,
    };
    // The least recently restored keys go first when the store is full.
    let restored = Key::new(&entry.key)?;
    store.put(&access_object(&restored), now().to_string().into_bytes())?;
    let record = Restored {
        url: options.url.clone(),
        key: entry.key.clone(),
        chain: frames.chain.clone(),
        needed: frames.needed,
        stored: frames.stored,
    };
    cache.record_restored(&options.target_dir, &record)?;
    Ok(RestoreReport {
        url: options.url.clone(),
        key: entry.key,
        exact,
        layers: frames.chain.len(),
        downloaded: frames.downloaded,
        needed: frames.needed,
        unpacked,
    })
}

/// The entry of `key`, else the newest entry whose key starts with the
/// longest of `prefixes` that any key starts with; and whether it is exact.
fn find(store: &Store, key: &Key, prefixes: &[String]) -> Result<Option<(Entry, bool)>> {
    let object = key_object(key);
    if let Some(text) = store.get(&object)? {
        return Ok(Some((Entry::parse(&object, &text)?, true)));
    }
    if prefixes.is_empty() {
        return Ok(None);
    }
    let keys = store.list("keys")?;
    let mut prefixes: Vec<String> = prefixes.iter().map(|p| encode(p)).collect();
    prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for prefix in &prefixes {
        let newest = keys
            .iter()
            .filter(|k| k.name.starts_with(prefix.as_str()) && k.name.ends_with(".json"))
            .max_by_key(|k| k.modified);
        if let Some(listed) = newest {
            let object = format!("keys/{}", listed.name);
            // Evicted since the listing: a miss, as if it had not been listed.
            let Some(text) = store.get(&object)? else {
                continue;
            };
            return Ok(Some((Entry::parse(&object, &text)?, false)));
        }
    }
    Ok(None)
}

impl fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.exact {
            "key"
        } else {
            "restore key match"
        };
        write!(
            f,
            "restored {how} {:?} from {} ({} layers): {} entries, {} laid out; downloaded {} of the {} of frames it needs",
            self.key,
            self.url,
            self.layers,
            self.unpacked.entries,
            human_bytes(self.unpacked.bytes),
            human_bytes(self.downloaded),
            human_bytes(self.needed),
        )
    }
}
