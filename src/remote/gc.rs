//! `gc`: keys evicted, least recently restored first, until what the rest
//! reach fits the quota; then layers no key reaches removed, once older
//! than a grace period, so that a save still uploading keeps its layers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::error::Result;
use crate::remote::key::{Entry, Key};
use crate::remote::manifest_object;
use crate::remote::store::{Listed, Store};
use crate::tree::bytes::human_bytes;

pub struct GcOptions {
    pub quota: Option<u64>,
    /// Unreached layers and unreadable keys younger than this stay.
    pub grace: Duration,
    /// A key never evicted: the one just saved.
    pub keep: Option<Key>,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            quota: None,
            grace: Duration::from_secs(3600),
            keep: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct GcReport {
    pub keys: usize,
    pub evicted: Vec<String>,
    pub layers_removed: usize,
    pub bytes_removed: u64,
    /// Files of killed uploads to a directory store.
    pub staged_removed: usize,
    /// Bytes of the layers the remaining keys reach.
    pub bytes_kept: u64,
}

/// A layer as the store lists it: its objects' bytes, and the newest of them.
struct StoredLayer {
    bytes: u64,
    modified: SystemTime,
}

/// A key entry and when it was last saved or restored.
struct Published {
    object: String,
    access: String,
    entry: Entry,
    used: SystemTime,
}

pub fn gc(store: &Store, options: &GcOptions) -> Result<GcReport> {
    let layers = layers(&store.list("layers")?);
    let mut keys = published(store, options)?;
    let mut report = GcReport::default();
    if let Some(quota) = options.quota {
        keys.sort_by_key(|k| std::cmp::Reverse(k.used));
        let keep = options.keep.as_ref().map(|k| k.name.as_str());
        while reached_bytes(&keys, &layers) > quota {
            let Some(oldest) = keys
                .iter()
                .rposition(|k| Some(k.entry.key.as_str()) != keep)
            else {
                break;
            };
            let evicted = keys.remove(oldest);
            store.delete(&evicted.object)?;
            store.delete(&evicted.access)?;
            report.evicted.push(evicted.entry.key);
        }
    }
    let reached = reached(&keys);
    let old = SystemTime::now() - options.grace;
    for (id, layer) in &layers {
        if reached.contains(id.as_str()) || layer.modified > old {
            continue;
        }
        // The manifest first: a layer without one is no layer to a save.
        store.delete(&manifest_object(id))?;
        for listed in store.list(&format!("layers/{id}"))? {
            store.delete(&format!("layers/{id}/{}", listed.name))?;
        }
        report.layers_removed += 1;
        report.bytes_removed += layer.bytes;
    }
    report.staged_removed = store.sweep_staged(old)?;
    report.keys = keys.len();
    report.bytes_kept = reached_bytes(&keys, &layers);
    Ok(report)
}

fn layers(listed: &[Listed]) -> BTreeMap<String, StoredLayer> {
    let mut layers: BTreeMap<String, StoredLayer> = BTreeMap::new();
    for object in listed {
        let id = object
            .name
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let layer = layers.entry(id).or_insert(StoredLayer {
            bytes: 0,
            modified: SystemTime::UNIX_EPOCH,
        });
        layer.bytes += object.size;
        layer.modified = layer.modified.max(object.modified);
    }
    layers
}

/// Every readable key entry; unreadable ones past the grace period removed.
fn published(store: &Store, options: &GcOptions) -> Result<Vec<Published>> {
    let access: BTreeMap<String, SystemTime> = store
        .list("access")?
        .into_iter()
        .map(|a| (a.name, a.modified))
        .collect();
    let old = SystemTime::now() - options.grace;
    let mut keys = Vec::new();
    for listed in store.list("keys")? {
        let object = format!("keys/{}", listed.name);
        let encoded = listed
            .name
            .strip_suffix(".json")
            .unwrap_or(&listed.name)
            .to_string();
        let entry = store.get(&object)?.map(|text| Entry::parse(&object, &text));
        match entry {
            Some(Ok(entry)) => {
                let used = access
                    .get(&encoded)
                    .map_or(listed.modified, |&a| a.max(listed.modified));
                let access = format!("access/{encoded}");
                keys.push(Published {
                    object,
                    access,
                    entry,
                    used,
                });
            }
            Some(Err(_)) if listed.modified < old => store.delete(&object)?,
            _ => {}
        }
    }
    Ok(keys)
}

fn reached(keys: &[Published]) -> BTreeSet<&str> {
    keys.iter()
        .flat_map(|k| k.entry.chain.iter().map(String::as_str))
        .collect()
}

fn reached_bytes(keys: &[Published], layers: &BTreeMap<String, StoredLayer>) -> u64 {
    reached(keys)
        .iter()
        .filter_map(|id| layers.get(*id))
        .map(|l| l.bytes)
        .sum()
}

impl fmt::Display for GcReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gc: {} keys reach {}; evicted {} keys{}, removed {} layers ({})",
            self.keys,
            human_bytes(self.bytes_kept),
            self.evicted.len(),
            if self.evicted.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.evicted.join(", "))
            },
            self.layers_removed,
            human_bytes(self.bytes_removed),
        )
    }
}
