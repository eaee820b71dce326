//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`):
//! each hands bytes to one reader of foreign input the way the CLI would.

use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};
use crate::layer::manifest::{Manifest, BLOBS_FILE, MANIFEST_FILE};

/// Parses and validates a manifest.
pub fn manifest(text: &[u8]) -> Result<Manifest> {
    Manifest::parse(Path::new("/fuzz/layer"), text)
}

/// Lays out a layer made of `manifest` and `blobs` into `dir/target`.
pub fn layer(manifest: &[u8], blobs: &[u8], dir: &Path) -> Result<()> {
    let layer = dir.join("layer");
    std::fs::create_dir_all(&layer).at(&layer)?;
    std::fs::write(layer.join(MANIFEST_FILE), manifest).at(&layer)?;
    std::fs::write(layer.join(BLOBS_FILE), blobs).at(&layer)?;
    let store = Path::new(crate::artifacts::NIX_STORE);
    crate::layer::unpack::unpack_layer(&layer, &dir.join("target"), None, store).map(|_| ())
}

/// Extracts `archive` (crane's `target.tar.zst`) into `dir/root`.
pub fn crane_archive(archive: &[u8], dir: &Path) -> Result<usize> {
    let path: PathBuf = dir.join(crate::crane::ARCHIVE);
    std::fs::write(&path, archive).at(&path)?;
    let root = dir.join("root");
    std::fs::create_dir_all(&root).at(&root)?;
    let rules = crate::crane::Rules {
        left_out: &Default::default(),
        store: Some(Path::new(crate::artifacts::NIX_STORE)),
    };
    crate::crane::extract_chain(&[path], &root, &rules)
}
