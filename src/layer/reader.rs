//! One layer opened for reading: its manifest checked, its frames read and
//! decompressed one at a time into buffers that are reused.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::layer::manifest::{Manifest, BLOBS_FILE, MANIFEST_FILE, MAX_MANIFEST};

pub struct Layer {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// Opened per frame read: a chain may hold more layers than a process
    /// may hold open files.
    blobs: PathBuf,
}

impl Layer {
    pub fn open(path: &Path) -> Result<Layer> {
        let manifest_path = path.join(MANIFEST_FILE);
        let file = match File::open(&manifest_path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(crate::artifacts::not_recognised(path));
            }
            other => other.at(&manifest_path)?,
        };
        let mut text = Vec::new();
        // One byte more than allowed tells a manifest that is too large.
        file.take(MAX_MANIFEST + 1)
            .read_to_end(&mut text)
            .at(&manifest_path)?;
        if text.len() as u64 > MAX_MANIFEST {
            return Err(Error::bad_input(
                &manifest_path,
                format!("larger than the {MAX_MANIFEST} bytes a manifest may have"),
            ));
        }
        let manifest = Manifest::parse(path, &text)?;
        let blobs = path.join(BLOBS_FILE);
        let actual = std::fs::metadata(&blobs).at(&blobs)?.len();
        let expected = manifest.stored_bytes();
        if actual != expected {
            let last = manifest.frames.len().saturating_sub(1);
            return Err(Error::CorruptFrame {
                layer: path.to_path_buf(),
                frame: last,
                reason: format!("{BLOBS_FILE} holds {actual} bytes, the manifest expects {expected} (truncated?)"),
            });
        }
        Ok(Layer {
            path: path.to_path_buf(),
            manifest,
            blobs,
        })
    }

    /// Decompresses one frame into `buffers.raw`. Blob hashes are checked by
    /// the caller, which knows which entry it is writing.
    pub fn read_frame<'b>(&self, index: usize, buffers: &'b mut FrameBuffers) -> Result<&'b [u8]> {
        let frame = &self.manifest.frames[index];
        let corrupt = |reason: String| Error::CorruptFrame {
            layer: self.path.clone(),
            frame: index,
            reason,
        };
        let what = || format!("frame {index} of {BLOBS_FILE}");
        buffers.packed.clear();
        Error::reserve(&mut buffers.packed, frame.length, &self.path, what)?;
        buffers.packed.resize(frame.length as usize, 0);
        File::open(&self.blobs)
            .at(&self.blobs)?
            .read_exact_at(&mut buffers.packed, frame.offset)
            .map_err(|e| corrupt(format!("cannot read it: {e}")))?;
        // The frame's own header says what it expands to: a manifest that
        // claims more is caught before memory is asked for it.
        match zstd::zstd_safe::get_frame_content_size(&buffers.packed) {
            Ok(Some(size)) if size == frame.raw_length => {}
            Ok(Some(size)) => {
                return Err(corrupt(format!(
                    "its header says it expands to {size} bytes, the manifest says {}",
                    frame.raw_length
                )))
            }
            Ok(None) | Err(_) => {
                return Err(corrupt("it has no zstd frame header with its size".into()))
            }
        }
        buffers.raw.clear();
        Error::reserve(&mut buffers.raw, frame.raw_length, &self.path, || {
            format!("frame {index} of {BLOBS_FILE}, decompressed,")
        })?;
        let decompressor = match &mut buffers.decompressor {
            Some(d) => d,
            empty => {
                empty.insert(zstd::bulk::Decompressor::new().map_err(|e| corrupt(e.to_string()))?)
            }
        };
        decompressor
            .decompress_to_buffer(&buffers.packed, &mut buffers.raw)
            .map_err(|e| corrupt(e.to_string()))?;
        if buffers.raw.len() as u64 != frame.raw_length {
            return Err(corrupt(format!(
                "decompressed to {} bytes instead of {}",
                buffers.raw.len(),
                frame.raw_length
            )));
        }
        Ok(&buffers.raw)
    }
}

/// Buffers for reading frames, reused from frame to frame because fresh
/// memory costs a page fault and a zeroed page per 4 KiB.
#[derive(Default)]
pub struct FrameBuffers {
    packed: Vec<u8>,
    raw: Vec<u8>,
    decompressor: Option<zstd::bulk::Decompressor<'static>>,
}

impl FrameBuffers {
    /// The buffer content lands in when it is read whole from a file.
    pub fn raw_mut(&mut self) -> &mut Vec<u8> {
        &mut self.raw
    }
}
