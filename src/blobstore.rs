//! Writes new blobs into `blobs.zst` as independent zstd frames, so that
//! unpack can decompress frames on all cores and fetch a single blob by
//! reading one frame only.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rayon::prelude::*;
use zstd::zstd_safe::CParameter;

use crate::error::{Error, IoContext, Result};
use crate::manifest::{BlobId, BlobRef, Frame, MAX_FRAME};
use crate::pool::Pool;

/// A blob to store: `size` bytes at `offset` of the file it was hashed from.
#[derive(Debug, Clone)]
pub struct NewBlob {
    pub id: BlobId,
    pub size: u64,
    pub path: PathBuf,
    pub offset: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub level: i32,
    /// zstd's long-distance matching: finds repeats across a 128 MiB window
    /// (an .rlib and the .rmeta it embeds, crates sharing code).
    pub long_distance: bool,
    /// Raw bytes after which a frame is closed. Smaller frames spread better
    /// over cores; larger ones find more long-distance matches.
    pub frame_size: u64,
}

/// Splits sources, in the order given, into frames of about `frame_size`
/// (and at most `MAX_FRAME`) raw bytes. Sources are keyed by group; below
/// `MAX_FRAME` a frame is only closed between groups, so the parts of one
/// crate's files are decompressed together.
pub fn plan_frames(sources: Vec<(String, NewBlob)>, frame_size: u64) -> Vec<Vec<NewBlob>> {
    let mut frames = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    let mut group = String::new();
    for (key, source) in sources {
        // A crate's files stay together, unless that would pass MAX_FRAME.
        let full = bytes >= frame_size && key != group;
        if !current.is_empty() && (full || bytes + source.size > MAX_FRAME) {
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

/// A compressed frame and where its blobs sit in the raw bytes.
type Packed = (Vec<u8>, u64, Vec<BlobRef>);

/// Compresses `frames` on all cores while one more thread appends them to
/// `out` in frame order, so writing overlaps compression and the layout
/// stays deterministic. Returns the frame table and where each blob landed.
pub fn write_frames(
    out: &mut File,
    out_path: &Path,
    frames: &[Vec<NewBlob>],
    settings: Settings,
) -> Result<(Vec<Frame>, Vec<BlobRef>)> {
    let (sender, receiver) = mpsc::channel::<(usize, Packed)>();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || write_in_order(out, out_path, receiver, frames.len()));
        let workspaces = Pool::new(|| Workspace::new(settings));
        let compressed = frames.par_iter().enumerate().try_for_each(|(i, sources)| {
            let packed = workspaces.with(|work| work.frame(i as u32, sources, out_path))?;
            // A closed channel means the writer failed; it reports why.
            sender.send((i, packed)).or(Ok(()))
        });
        drop(sender);
        let written = writer.join().expect("the frame writer does not panic");
        compressed.and(written)
    })
}

fn write_in_order(
    out: &mut File,
    out_path: &Path,
    receiver: mpsc::Receiver<(usize, Packed)>,
    count: usize,
) -> Result<(Vec<Frame>, Vec<BlobRef>)> {
    let mut table = Vec::with_capacity(count);
    let mut blobs = Vec::new();
    let mut offset = 0;
    let mut waiting = BTreeMap::new();
    for (i, packed) in receiver {
        waiting.insert(i, packed);
        while let Some((bytes, raw_length, refs)) = waiting.remove(&table.len()) {
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

/// One thread's compressor and buffer, reused from frame to frame: fresh
/// memory is costly (the kernel zeroes it page by page) and so are zstd's
/// long-distance tables.
struct Workspace {
    settings: Settings,
    compressor: Option<zstd::bulk::Compressor<'static>>,
    raw: Vec<u8>,
}

impl Workspace {
    fn new(settings: Settings) -> Workspace {
        Workspace {
            settings,
            compressor: None,
            raw: Vec::new(),
        }
    }

    fn compress(&mut self) -> std::io::Result<Vec<u8>> {
        if self.compressor.is_none() {
            let mut compressor = zstd::bulk::Compressor::new(self.settings.level)?;
            compressor.set_parameter(CParameter::EnableLongDistanceMatching(
                self.settings.long_distance,
            ))?;
            self.compressor = Some(compressor);
        }
        self.compressor
            .as_mut()
            .expect("set above")
            .compress(&self.raw)
    }

    fn frame(
        &mut self,
        index: u32,
        sources: &[NewBlob],
        out_path: &Path,
    ) -> Result<(Vec<u8>, u64, Vec<BlobRef>)> {
        self.raw.clear();
        let mut refs = Vec::with_capacity(sources.len());
        for source in sources {
            let start = self.raw.len();
            read_range(&source.path, source.offset, source.size, &mut self.raw)?;
            // The file was hashed in an earlier pass; a build still writing to
            // target/ would otherwise slip a blob in under the wrong hash.
            if BlobId::of(&self.raw[start..]) != source.id {
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
        let packed = self.compress().at(out_path)?;
        Ok((packed, self.raw.len() as u64, refs))
    }
}

/// Appends `size` bytes at `offset` of `path` to `buf`, without zeroing first.
fn read_range(path: &Path, offset: u64, size: u64, buf: &mut Vec<u8>) -> Result<()> {
    let mut file = File::open(path).at(path)?;
    file.seek(SeekFrom::Start(offset)).at(path)?;
    let read = file.take(size).read_to_end(buf).at(path)?;
    if read as u64 != size {
        return Err(Error::bad_input(path, "changed while it was being packed"));
    }
    Ok(())
}
