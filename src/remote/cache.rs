//! The local side: layers of the store as directories `pack` and `unpack`
//! read, holding only the frames a restore needed, and what each target
//! directory was last restored from.
//!
//! A layer's id is the blake3 of its manifest as the store holds it, where
//! parents are named `/layers/ID`; here they are this directory's layers.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::layer::manifest::{Manifest, BLOBS_FILE, MANIFEST_FILE};
use crate::remote::manifest_object;
use crate::tree::fs::{read_json, remove_tree, write_json};

/// How parents are named in the store's manifests.
const STORE_PARENT: &str = "/layers/";
/// Which frames of `blobs.zst` hold their bytes; the others are holes.
const PRESENT_FILE: &str = "frames-present.json";

pub struct Cache {
    root: PathBuf,
}

/// What a target directory was restored from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Restored {
    pub url: String,
    pub key: String,
    pub chain: Vec<String>,
    /// Stored bytes of the frames its tree needed, and of the whole chain:
    /// when little of the chain is still used, save starts a new one.
    pub needed: u64,
    pub stored: u64,
}

impl Cache {
    pub fn open(root: &Path) -> Result<Cache> {
        for dir in ["layers", "incoming", "restored"] {
            std::fs::create_dir_all(root.join(dir)).at(root.join(dir))?;
        }
        Ok(Cache {
            root: root.to_path_buf(),
        })
    }

    /// The default: $CARGO_INHERIT_CACHE, else the user's cache directory.
    pub fn default_root() -> PathBuf {
        let env = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("CARGO_INHERIT_CACHE")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("cargo-inherit")))
            .or_else(|| env("HOME").map(|d| d.join(".cache/cargo-inherit")))
            .unwrap_or_else(|| std::env::temp_dir().join("cargo-inherit-cache"))
    }

    pub fn layer(&self, id: &str) -> PathBuf {
        self.root.join("layers").join(id)
    }

    /// A layer is here once its manifest is: that is written last.
    pub fn has(&self, id: &str) -> bool {
        self.layer(id).join(MANIFEST_FILE).is_file()
    }

    /// The manifest of layer `id`, as this cache holds it.
    pub fn manifest(&self, id: &str) -> Result<Manifest> {
        read_manifest(&self.layer(id))
    }

    /// A new directory to build a layer in, then `adopt` it.
    pub fn incoming(&self) -> Result<tempfile::TempDir> {
        let dir = self.root.join("incoming");
        tempfile::Builder::new()
            .prefix("layer-")
            .tempdir_in(&dir)
            .at(&dir)
    }

    /// Takes the layer pack wrote in `dir` as one of the cache's, every
    /// frame present, and returns its id.
    pub fn adopt(&self, dir: tempfile::TempDir) -> Result<String> {
        let manifest = read_manifest(dir.path())?;
        let id = layer_id(&self.store_form(&manifest, dir.path())?);
        mark_present(dir.path(), &(0..manifest.frames.len()).collect())?;
        self.settle(dir, &id)?;
        Ok(id)
    }

    /// Takes a manifest the store holds as layer `id`: checked against its
    /// id, its parents made this cache's, its blobs a file of holes to
    /// download frames into.
    pub fn receive(&self, id: &str, text: &[u8]) -> Result<()> {
        let object = manifest_object(id);
        if layer_id(text) != id {
            return Err(Error::BadStoreObject {
                object,
                reason: "its blake3 is not the layer's id (corrupt or replaced)".to_string(),
            });
        }
        let dir = self.incoming()?;
        let mut manifest = Manifest::parse(Path::new(&object), text)?;
        manifest.parents = manifest
            .parents
            .iter()
            .map(|p| self.local_parent(&object, p))
            .collect::<Result<_>>()?;
        manifest.base = manifest
            .base
            .as_ref()
            .map(|p| self.local_parent(&object, p))
            .transpose()?;
        let blobs = dir.path().join(BLOBS_FILE);
        File::create(&blobs)
            .and_then(|f| f.set_len(manifest.stored_bytes()))
            .at(&blobs)?;
        mark_present(dir.path(), &BTreeSet::new())?;
        let path = dir.path().join(MANIFEST_FILE);
        std::fs::write(&path, manifest.to_json()).at(&path)?;
        self.settle(dir, id)
    }

    /// Moves a complete layer directory into place, unless another process
    /// put the same layer there first.
    fn settle(&self, dir: tempfile::TempDir, id: &str) -> Result<()> {
        let dest = self.layer(id);
        if self.has(id) {
            return Ok(());
        }
        if dest.exists() {
            // Left by a killed run before its manifest was there.
            remove_tree(&dest)?;
        }
        let dir = dir.keep();
        std::fs::rename(&dir, &dest).at(&dest)
    }

    /// Drops layers whose frames failed to verify: the next restore fetches them anew.
    pub fn forget(&self, ids: &[String]) -> Result<()> {
        ids.iter()
            .filter(|id| self.layer(id).exists())
            .try_for_each(|id| remove_tree(&self.layer(id)))
    }

    /// The manifest of layer `dir` as the store keeps it.
    pub fn store_form(&self, manifest: &Manifest, dir: &Path) -> Result<Vec<u8>> {
        let mut stored = manifest.clone();
        stored.parents = manifest
            .parents
            .iter()
            .map(|p| self.store_parent(dir, p))
            .collect::<Result<_>>()?;
        stored.base = manifest
            .base
            .as_ref()
            .map(|p| self.store_parent(dir, p))
            .transpose()?;
        Ok(stored.to_json())
    }

    fn store_parent(&self, dir: &Path, parent: &Path) -> Result<PathBuf> {
        let id = parent
            .strip_prefix(self.root.join("layers"))
            .ok()
            .and_then(|rest| rest.to_str())
            .filter(|id| is_id(id))
            .ok_or_else(|| {
                Error::bad_input(
                    dir,
                    format!("parent {} is not a layer of the cache", parent.display()),
                )
            })?;
        Ok(PathBuf::from(format!("{STORE_PARENT}{id}")))
    }

    fn local_parent(&self, object: &str, parent: &Path) -> Result<PathBuf> {
        let id = parent
            .to_str()
            .and_then(|p| p.strip_prefix(STORE_PARENT))
            .filter(|id| is_id(id));
        let id = id.ok_or_else(|| Error::BadStoreObject {
            object: object.to_string(),
            reason: format!("parent {} is not a layer of the store", parent.display()),
        })?;
        Ok(self.layer(id))
    }

    fn restored_record(&self, target: &Path) -> Result<PathBuf> {
        let target = std::fs::canonicalize(target).at(target)?;
        let name = blake3::hash(target.as_os_str().as_encoded_bytes()).to_hex();
        Ok(self.root.join("restored").join(format!("{name}.json")))
    }

    pub fn record_restored(&self, target: &Path, restored: &Restored) -> Result<()> {
        write_json(&self.restored_record(target)?, restored)
    }

    pub fn restored(&self, target: &Path) -> Result<Option<Restored>> {
        if !target.exists() {
            return Ok(None);
        }
        read_json(&self.restored_record(target)?, "a restore record")
    }
}

pub fn layer_id(store_form: &[u8]) -> String {
    blake3::hash(store_form).to_hex().to_string()
}

fn is_id(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn read_manifest(dir: &Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    Manifest::parse(dir, &std::fs::read(&path).at(&path)?)
}

/// The frames of the layer at `dir` that hold their bytes.
pub fn present(dir: &Path) -> Result<BTreeSet<usize>> {
    Ok(read_json(&dir.join(PRESENT_FILE), "a list of frames")?.unwrap_or_default())
}

/// Records which frames hold their bytes, once they do: renamed into place.
pub fn mark_present(dir: &Path, frames: &BTreeSet<usize>) -> Result<()> {
    let path = dir.join(PRESENT_FILE);
    let partial = dir.join(format!("{PRESENT_FILE}.partial"));
    write_json(&partial, frames)?;
    std::fs::rename(&partial, &path).at(&path)
}
