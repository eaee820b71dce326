//! Writes new blobs into `blobs.zst` as independent zstd frames, so that
//! unpack can decompress frames on all cores and fetch a single blob by
//! reading one frame only.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use zstd::zstd_safe::CParameter;

use crate::error::{Error, IoContext, Result};
use crate::manifest::{BlobId, BlobRef, Frame};

/// A blob to store: `size` bytes at `offset` of the file it was hashed from.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: BlobId,
    pub size: u64,
    pub path: PathBuf,
    pub offset: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub level: i32,
    /// Raw bytes after which a frame is closed. Smaller frames spread better
    /// over cores; larger ones find more long-distance matches.
    pub frame_size: u64,
}

/// Splits sources, in the order given, into frames of about `frame_size` raw
/// bytes. Sources are keyed by group; a frame is only closed between groups,
/// so the parts of one crate's files are decompressed together.
pub fn plan_frames(sources: Vec<(String, Source)>, frame_size: u64) -> Vec<Vec<Source>> {
    let mut frames = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    let mut group = String::new();
    for (key, source) in sources {
        if bytes >= frame_size && key != group {
            frames.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += source.size;
        current.push(source);
        group = key;
    }
    if !current.is_empty() {
        frames.push(current);
    }
    frames
}

/// Compresses `frames` in parallel and appends them to `out` in order.
/// Returns the frame table and where each blob landed.
pub fn write_frames(
    out: &mut File,
    out_path: &Path,
    frames: &[Vec<Source>],
    settings: Settings,
) -> Result<(Vec<Frame>, Vec<BlobRef>)> {
    let mut table = Vec::with_capacity(frames.len());
    let mut blobs = Vec::new();
    let mut offset = 0;
    // Batches bound memory to a few frames per thread while keeping every core busy.
    let batch = 2 * rayon::current_num_threads();
    for (batch_index, group) in frames.chunks(batch).enumerate() {
        let first = batch_index * batch;
        let packed: Vec<(Vec<u8>, u64, Vec<BlobRef>)> = group
            .par_iter()
            .enumerate()
            .map(|(i, sources)| compress_frame((first + i) as u32, sources, settings, out_path))
            .collect::<Result<_>>()?;
        for (bytes, raw_length, refs) in packed {
            out.write_all(&bytes).at(out_path)?;
            let length = bytes.len() as u64;
            table.push(Frame {
                offset,
                length,
                raw_length,
            });
            offset += length;
            blobs.extend(refs);
        }
    }
    Ok((table, blobs))
}

fn compress_frame(
    index: u32,
    sources: &[Source],
    settings: Settings,
    out_path: &Path,
) -> Result<(Vec<u8>, u64, Vec<BlobRef>)> {
    let total: u64 = sources.iter().map(|s| s.size).sum();
    let mut raw = Vec::with_capacity(total as usize);
    let mut refs = Vec::with_capacity(sources.len());
    for source in sources {
        let start = raw.len();
        raw.resize(start + source.size as usize, 0);
        File::open(&source.path)
            .and_then(|f| f.read_exact_at(&mut raw[start..], source.offset))
            .at(&source.path)?;
        // The file was hashed in an earlier pass; a build still writing to
        // target/ would otherwise slip a blob in under the wrong hash.
        if BlobId::of(&raw[start..]) != source.id {
            return Err(Error::bad_input(
                &source.path,
                "changed while it was being packed",
            ));
        }
        refs.push(BlobRef {
            hash: source.id,
            frame: index,
            offset: start as u64,
            size: source.size,
        });
    }
    let packed = compress(&raw, settings.level).at(out_path)?;
    Ok((packed, raw.len() as u64, refs))
}

fn compress(raw: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    let mut compressor = zstd::bulk::Compressor::new(level)?;
    // An .rlib embeds the same metadata as its .rmeta, which sits next to it
    // in the frame: long-distance matching finds that copy.
    compressor.set_parameter(CParameter::EnableLongDistanceMatching(true))?;
    compressor.compress(raw)
}
