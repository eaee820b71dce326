//! Layers in an object store, for CI that caches `target/` between runs
//! without Nix: `save`, `restore`, `gc`.
//!
//! # The store
//!
//! - `layers/ID/blobs.zst` and `layers/ID/manifest.json`: a layer as `pack`
//!   writes it, its parents named `/layers/ID`. ID is the blake3 of that
//!   manifest, so a layer never changes and restore checks what it read.
//!   The manifest is uploaded after the blobs: a layer whose manifest is
//!   there is whole.
//! - `keys/KEY.json`: an entry, the chain of layers a key lays out. It is
//!   written last, whole (a PUT), after every layer it names: a reader never
//!   sees a key whose layers are missing, and two saves of one key leave one
//!   of the two complete entries.
//! - `access/KEY`: written by each restore; eviction goes by it.
//!
//! # The cache
//!
//! A directory on the runner (`cache`) holds the layers as directories that
//! `unpack` and `pack` read, with only the frames a restore needed (the rest
//! holes). `save` packs on the layer the target was restored from, so it
//! uploads only blobs the chain lacks; a chain that grows long, or of which
//! the tree uses less than half, starts anew.
//!
//! # Never failing the build
//!
//! A cache is an optimisation: every failure (no store, no key, a corrupt
//! or missing object, a full store) is a warning and exit 0 unless
//! `--strict` (see `Outcome`). Restore lays out all or nothing (`staging`);
//! save publishes nothing until its layers are up.

mod cache;
pub mod gc;
mod key;
pub mod restore;
pub mod save;
mod store;
mod transfer;

use crate::error::{Error, Result};
use crate::layer::manifest::{BLOBS_FILE, MANIFEST_FILE};
use key::Key;

pub use cache::Cache;

fn manifest_object(id: &str) -> String {
    format!("layers/{id}/{MANIFEST_FILE}")
}

fn blobs_object(id: &str) -> String {
    format!("layers/{id}/{BLOBS_FILE}")
}

fn key_object(key: &Key) -> String {
    format!("keys/{}.json", key.encoded)
}

fn access_object(key: &Key) -> String {
    format!("access/{}", key.encoded)
}

fn now() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| d.as_secs())
}

/// What came of a cache operation that may not fail the build.
pub enum Outcome<T> {
    Done(T),
    /// It failed; the build goes on without it.
    Skipped(Error),
}

/// Fails only when `strict`: otherwise a failure is an `Outcome::Skipped`.
pub fn outcome<T>(strict: bool, result: Result<T>) -> Result<Outcome<T>> {
    match result {
        Ok(done) => Ok(Outcome::Done(done)),
        Err(e) if strict => Err(e),
        Err(e) => Ok(Outcome::Skipped(e)),
    }
}

/// gc as its own verb: the store by URL.
pub fn collect(url: &str, options: &gc::GcOptions) -> Result<gc::GcReport> {
    gc::gc(&store::Store::open(url)?, options)
}
