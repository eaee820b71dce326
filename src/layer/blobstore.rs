//! Writes new blobs into `blobs.zst` as independent zstd frames, so that
//! unpack can decompress frames on all cores and fetch a single blob by
//! reading one frame only.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Condvar, Mutex};

use zstd::zstd_safe::CParameter;

use crate::error::{Error, IoContext, Result};
use crate::layer::manifest::{BlobId, BlobRef, Frame, MAX_FRAME};
use crate::tree::blob::Span;

/// A blob to store: its span of the file at `path`, which it was hashed
/// from, and the group of files it belongs to (one crate's: see `plan_frames`).
#[derive(Debug, Clone)]
pub struct NewBlob {
    pub span: Span,
    pub path: PathBuf,
    pub group: String,
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub level: Level,
    /// zstd's long-distance matching: finds repeats across a 128 MiB window
    /// (an .rlib and the .rmeta it embeds, crates sharing code).
    pub long_distance: bool,
    /// Raw bytes after which a frame is closed. Smaller frames spread better
    /// over cores; larger ones find more long-distance matches.
    pub frame_size: u64,
}

/// A zstd level, given or chosen by how many raw bytes a layer stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Auto,
    Fixed(i32),
}

/// Raw bytes from which `Level::Auto` packs at `LARGE_LEVEL`.
const LARGE_LAYER: u64 = 64 << 20;

/// Where bytes are near their best for reasonable CPU on a deps layer
/// (benches/compression.sh, table in the README): level 9 stores 0.83x of
/// level 1's bytes for 3.5x its CPU, 1.6x crane's `tar | zstd` time; level
/// 12 saves 1% more for twice the CPU, level 19 13% more for 18x.
const LARGE_LEVEL: i32 = 9;

impl Level {
    /// A large layer (a deps layer: built rarely, pulled from a binary cache
    /// by every later build) is worth more CPU per byte saved; a small one
    /// (a workspace's own units) packs at level 1, where it is fastest.
    pub fn for_raw_bytes(self, raw: u64) -> i32 {
        match self {
            Level::Fixed(level) => level,
            Level::Auto if raw >= LARGE_LAYER => LARGE_LEVEL,
            Level::Auto => 1,
        }
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Level, String> {
        match text {
            "auto" => Ok(Level::Auto),
            _ => text
                .parse()
                .map(Level::Fixed)
                .map_err(|_| format!("not a zstd level or `auto`: {text:?}")),
        }
    }
}

/// Splits sources, in the order given, into frames of at most `frame_size`
/// (and `MAX_FRAME`) raw bytes, or one blob where a blob is larger. A frame
/// is also closed between groups once it is three quarters full, so that
/// one crate's files mostly share a frame and are decompressed together.
pub fn plan_frames(sources: Vec<NewBlob>, frame_size: u64) -> Vec<Vec<NewBlob>> {
    let limit = frame_size.clamp(1, MAX_FRAME);
    let mut frames = Vec::new();
    let mut current: Vec<NewBlob> = Vec::new();
    let mut bytes = 0;
    for source in sources {
        let new_group = current
            .last()
            .is_some_and(|last| last.group != source.group);
        let full = bytes + source.span.size > limit || (new_group && bytes >= limit / 4 * 3);
        if !current.is_empty() && full {
            frames.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += source.span.size;
        current.push(source);
    }
    if !current.is_empty() {
        frames.push(current);
    }
    frames
}

/// A compressed frame and where its blobs sit in the raw bytes.
type Packed = (Vec<u8>, u64, Vec<BlobRef>);

/// Compresses `frames` at `level` on all cores while the calling thread
/// appends them to `out` in frame order, so writing overlaps compression and
/// the layout stays deterministic. No more frames are compressed ahead of
/// the writer than there are threads (see `Window`), so memory holds a few
/// frames, not the layer. Returns the frame table and where each blob landed.
pub fn write_frames(
    out: &mut File,
    out_path: &Path,
    frames: &[Vec<NewBlob>],
    level: i32,
    long_distance: bool,
) -> Result<(Vec<Frame>, Vec<BlobRef>)> {
    let threads = rayon::current_num_threads().clamp(1, frames.len().max(1));
    let window = Window::new(threads, frames.len());
    let (sender, receiver) = mpsc::channel::<(usize, Result<Packed>)>();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (sender, window) = (sender.clone(), &window);
            scope.spawn(move || {
                let mut work = Workspace::new(level, long_distance);
                while let Some(i) = window.take() {
                    let packed = work.frame(i as u32, &frames[i], out_path);
                    // A closed channel means the writer stopped; it says why.
                    if sender.send((i, packed)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let written = write_in_order(out, out_path, receiver, &window);
        // Wakes any thread still waiting for room, so the scope ends.
        window.stop();
        written
    })
}

fn write_in_order(
    out: &mut File,
    out_path: &Path,
    receiver: mpsc::Receiver<(usize, Result<Packed>)>,
    window: &Window,
) -> Result<(Vec<Frame>, Vec<BlobRef>)> {
    let mut table = Vec::with_capacity(window.count);
    let mut blobs = Vec::new();
    let mut offset = 0;
    let mut waiting = BTreeMap::new();
    for (i, packed) in receiver {
        waiting.insert(i, packed?);
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
            window.written(table.len());
        }
    }
    Ok((table, blobs))
}

/// Hands out frame indices in order, at most `ahead` past the last frame
/// written: frames finished out of order wait in memory for the writer.
struct Window {
    ahead: usize,
    count: usize,
    state: Mutex<WindowState>,
    room: Condvar,
}

struct WindowState {
    next: usize,
    written: usize,
    stopped: bool,
}

impl Window {
    fn new(ahead: usize, count: usize) -> Window {
        Window {
            ahead,
            count,
            state: Mutex::new(WindowState {
                next: 0,
                written: 0,
                stopped: false,
            }),
            room: Condvar::new(),
        }
    }

    /// The next frame to compress, once there is room for it; None when
    /// every frame is handed out or the writer stopped.
    fn take(&self) -> Option<usize> {
        let state = self.state.lock().expect("no thread panics holding it");
        let mut state = (self.room)
            .wait_while(state, |s| {
                !s.stopped && s.next < self.count && s.next >= s.written + self.ahead
            })
            .expect("no thread panics holding it");
        if state.stopped || state.next >= self.count {
            return None;
        }
        state.next += 1;
        Some(state.next - 1)
    }

    fn written(&self, frames: usize) {
        self.state
            .lock()
            .expect("no thread panics holding it")
            .written = frames;
        self.room.notify_all();
    }

    fn stop(&self) {
        self.state
            .lock()
            .expect("no thread panics holding it")
            .stopped = true;
        self.room.notify_all();
    }
}

/// One thread's compressor and buffer, reused from frame to frame: fresh
/// memory is costly (the kernel zeroes it page by page) and so are zstd's
/// long-distance tables.
struct Workspace {
    level: i32,
    long_distance: bool,
    compressor: Option<zstd::bulk::Compressor<'static>>,
    raw: Vec<u8>,
}

impl Workspace {
    fn new(level: i32, long_distance: bool) -> Workspace {
        Workspace {
            level,
            long_distance,
            compressor: None,
            raw: Vec::new(),
        }
    }

    /// Compresses `raw` into a buffer reserved first, so that short memory
    /// is an error naming the frame, not an abort.
    fn compress(&mut self, index: u32, out_path: &Path) -> Result<Vec<u8>> {
        if self.compressor.is_none() {
            let mut compressor = zstd::bulk::Compressor::new(self.level).at(out_path)?;
            (compressor.set_parameter(CParameter::EnableLongDistanceMatching(self.long_distance)))
                .at(out_path)?;
            self.compressor = Some(compressor);
        }
        let mut packed = Vec::new();
        let bound = zstd::zstd_safe::compress_bound(self.raw.len()) as u64;
        Error::reserve(&mut packed, bound, out_path, || {
            format!("frame {index}, compressed,")
        })?;
        let compressor = self.compressor.as_mut().expect("set above");
        compressor
            .compress_to_buffer(&self.raw, &mut packed)
            .at(out_path)?;
        Ok(packed)
    }

    fn frame(
        &mut self,
        index: u32,
        sources: &[NewBlob],
        out_path: &Path,
    ) -> Result<(Vec<u8>, u64, Vec<BlobRef>)> {
        self.raw.clear();
        let raw_length = sources.iter().map(|source| source.span.size).sum();
        Error::reserve(&mut self.raw, raw_length, out_path, || {
            format!("frame {index}")
        })?;
        let mut refs = Vec::with_capacity(sources.len());
        for source in sources {
            let start = self.raw.len();
            let span = source.span;
            read_range(&source.path, span.offset, span.size, &mut self.raw)?;
            // The file was hashed in an earlier pass; a build still writing to
            // target/ would otherwise slip a blob in under the wrong hash.
            if BlobId::of(&self.raw[start..]) != span.hash {
                return Err(Error::bad_input(
                    &source.path,
                    "changed while it was being packed",
                ));
            }
            refs.push(BlobRef {
                hash: span.hash,
                frame: index,
                offset: start as u64,
                size: span.size,
            });
        }
        let packed = self.compress(index, out_path)?;
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

#[cfg(test)]
mod tests {
    use super::{Level, LARGE_LAYER, LARGE_LEVEL};

    #[test]
    fn auto_packs_large_layers_harder_and_a_given_level_is_kept() {
        assert_eq!(Level::Auto.for_raw_bytes(LARGE_LAYER - 1), 1);
        assert_eq!(Level::Auto.for_raw_bytes(LARGE_LAYER), LARGE_LEVEL);
        assert_eq!(Level::Fixed(19).for_raw_bytes(0), 19);
        assert_eq!(Level::Fixed(-3).for_raw_bytes(LARGE_LAYER), -3);
    }

    #[test]
    fn levels_parse_as_numbers_or_auto() {
        assert_eq!("auto".parse(), Ok(Level::Auto));
        assert_eq!("-5".parse(), Ok(Level::Fixed(-5)));
        let bad = "high".parse::<Level>().unwrap_err();
        assert!(bad.contains("\"high\""), "{bad}");
    }
}
