//! A layer being written: frames first, the manifest renamed into place
//! last, and what a failed or killed pack wrote removed.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::layer::blobstore::{self, NewBlob, Settings};
use crate::layer::foreign::SCRATCH_PREFIX;
use crate::layer::manifest::{BlobRef, Frame, Manifest, BLOBS_FILE, MANIFEST_FILE};
use crate::tree::fs::{claim_out_dir, OutDir};

/// The blobs a layer stores: its frame table, where each blob landed, and
/// how many raw bytes went in at which level.
pub struct Stored {
    pub frames: Vec<Frame>,
    pub blobs: Vec<BlobRef>,
    pub count: usize,
    pub raw_bytes: u64,
    pub level: i32,
}

/// A layer being written. It only becomes a layer when `commit` renames its
/// manifest into place; dropped before that, it removes what it wrote.
pub struct NewLayer {
    dir: PathBuf,
    claim: OutDir,
    blobs: File,
    committed: bool,
}

impl NewLayer {
    pub fn create(dir: &Path) -> Result<NewLayer> {
        // What a killed pack leaves: frames, the manifest's temporary file,
        // crane parents extracted (see `ForeignTree::open`).
        let claim = claim_out_dir(dir, |name| {
            name == BLOBS_FILE || name.starts_with(".tmp") || name.starts_with(SCRATCH_PREFIX)
        })?;
        let blobs_path = dir.join(BLOBS_FILE);
        let blobs = File::options()
            .write(true)
            .create_new(true)
            .open(&blobs_path)
            .at(&blobs_path)?;
        Ok(NewLayer {
            dir: dir.to_path_buf(),
            claim,
            blobs,
            committed: false,
        })
    }

    /// Compresses `new` blobs into this layer's frames.
    pub fn write_blobs(&mut self, new: Vec<NewBlob>, settings: Settings) -> Result<Stored> {
        let raw_bytes = new.iter().map(|s| s.span.size).sum();
        let count = new.len();
        let level = settings.level.for_raw_bytes(raw_bytes);
        let frames = blobstore::plan_frames(new, settings.frame_size);
        let path = self.dir.join(BLOBS_FILE);
        let (frames, blobs) = blobstore::write_frames(
            &mut self.blobs,
            &path,
            &frames,
            level,
            settings.long_distance,
        )?;
        Ok(Stored {
            frames,
            blobs,
            count,
            raw_bytes,
            level,
        })
    }

    pub fn commit(mut self, manifest: &Manifest) -> Result<()> {
        let target = self.dir.join(MANIFEST_FILE);
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir).at(&self.dir)?;
        std::io::Write::write_all(&mut temp, &manifest.to_json()).at(temp.path())?;
        // tempfile creates 0600; a layer is read by whoever builds on it.
        let readable = std::fs::Permissions::from_mode(0o644);
        temp.as_file().set_permissions(readable).at(temp.path())?;
        temp.persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for NewLayer {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Best effort: the error that got us here is the one worth reporting.
        let _ = std::fs::remove_file(self.dir.join(BLOBS_FILE));
        if self.claim.created {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}
