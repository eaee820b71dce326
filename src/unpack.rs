//! `unpack`: lays a layer's tree out into a target directory, writable and
//! with one constant mtime, so that cargo finds every inherited unit Fresh.
//! The tree is staged (see `staging`) and every blob verified before
//! anything reaches the target.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use filetime::FileTime;
use rayon::prelude::*;

use crate::error::{Error, IoContext, Result};
use crate::foreign::ForeignTrees;
use crate::fsutil::{create_file, settle_dir, symlink, write_file, MTIME};
use crate::layer::{Chain, FrameBuffers, Origin, Stored};
use crate::manifest::{BlobId, Entry};
use crate::pool::Pool;
use crate::staging::stage;

#[derive(Debug, Default)]
pub struct UnpackReport {
    pub entries: usize,
    pub files: usize,
    pub bytes: u64,
    pub frames: usize,
}

/// With `workspace`, units of members whose sources changed since the layer
/// was packed are left out too.
pub fn unpack(from: &Path, target_dir: &Path, workspace: Option<&Path>) -> Result<UnpackReport> {
    let mut chain = Chain::open(from)?;
    let stale = match workspace {
        Some(dir) => crate::members::stale_units(&chain.top().manifest.sources, dir)?,
        None => Vec::new(),
    };
    chain.drop_units(&stale);
    let plan = Plan::new(&chain)?;
    let trees = ForeignTrees::open(&chain, plan.foreign_parents())?;
    let needed = plan.jobs.iter().map(|(_, job)| job.bytes()).sum();
    stage(target_dir, from, Some(needed), |root| {
        plan.write(&chain, &trees, root)
    })
}

/// Where a job's content comes from: a layer and what in it holds the blobs.
type JobKey = (usize, Origin);

/// What one frame's (or foreign file's) content goes into.
#[derive(Default)]
struct FrameJob {
    /// Files whose every part this frame holds: written in one go.
    whole: Vec<(usize, Vec<Stored>)>,
    /// (file, offset in it, part) for files whose parts span frames.
    pieces: Vec<(usize, u64, Stored)>,
}

impl FrameJob {
    fn bytes(&self) -> u64 {
        let whole = self.whole.iter().flat_map(|(_, blobs)| blobs.iter());
        let pieces = self.pieces.iter().map(|(_, _, blob)| blob);
        whole.chain(pieces).map(|b| b.size).sum()
    }
}

/// What to write, grouped by the frame that holds it.
struct Plan<'a> {
    entries: &'a [Entry],
    /// Largest frames first.
    jobs: Vec<(JobKey, FrameJob)>,
    empty: Vec<usize>,
    /// Files created before the frames are read, then filled piece by piece.
    spanning: Vec<usize>,
    /// (entry, entry it is a hard link of)
    links: Vec<(usize, usize)>,
    /// What every entry gets: MTIME, or what the layer recorded (`watched`).
    mtime: FileTime,
}

impl<'a> Plan<'a> {
    fn new(chain: &'a Chain) -> Result<Plan<'a>> {
        let top = chain.top();
        let entries = &top.manifest.entries[..];
        let mut jobs: BTreeMap<JobKey, FrameJob> = BTreeMap::new();
        let mut plan = Plan {
            entries,
            jobs: Vec::new(),
            empty: Vec::new(),
            spanning: Vec::new(),
            links: Vec::new(),
            mtime: top
                .manifest
                .mtime
                .map_or(MTIME, |seconds| FileTime::from_unix_time(seconds, 0)),
        };
        let mut leaders: HashMap<u32, usize> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let Entry::File { link, .. } = entry else {
                continue;
            };
            if let Some(group) = link {
                if let Some(&leader) = leaders.get(group) {
                    plan.links.push((i, leader));
                    continue;
                }
                leaders.insert(*group, i);
            }
            let located = locate_parts(chain, entry)?;
            let frames: HashSet<JobKey> = located.iter().map(|(key, _)| *key).collect();
            match frames.len() {
                0 => plan.empty.push(i),
                1 => {
                    let blobs = located.iter().map(|(_, blob)| *blob).collect();
                    jobs.entry(located[0].0).or_default().whole.push((i, blobs));
                }
                _ => {
                    plan.spanning.push(i);
                    let mut at = 0;
                    for (key, blob) in located {
                        jobs.entry(key).or_default().pieces.push((i, at, blob));
                        at += blob.size;
                    }
                }
            }
        }
        plan.jobs = jobs.into_iter().collect();
        // Largest frames first, so no core is left with a big one at the end.
        plan.jobs.sort_by_key(|((layer, origin), job)| {
            std::cmp::Reverse(match origin {
                Origin::Frame(frame) => chain.layers[*layer].manifest.frames[*frame].raw_length,
                Origin::Foreign { .. } => job.bytes(),
            })
        });
        Ok(plan)
    }

    /// The (layer, foreign parent) pairs some job reads from.
    fn foreign_parents(&self) -> HashSet<(usize, usize)> {
        self.jobs
            .iter()
            .filter_map(|((layer, origin), _)| match origin {
                Origin::Foreign { foreign, .. } => Some((*layer, *foreign)),
                Origin::Frame(_) => None,
            })
            .collect()
    }

    fn write(&self, chain: &Chain, trees: &ForeignTrees, root: &Path) -> Result<UnpackReport> {
        for entry in self.entries {
            if let Entry::Dir { path, .. } = entry {
                let dir = root.join(path);
                std::fs::create_dir(&dir).at(&dir)?;
            }
        }
        let bytes = self.write_contents(chain, trees, root)?;
        for &(follower, leader) in &self.links {
            let (from, to) = (
                root.join(self.entries[leader].path()),
                root.join(self.entries[follower].path()),
            );
            std::fs::hard_link(&from, &to).at(&to)?;
        }
        self.finish_links_and_dirs(root)?;
        Ok(UnpackReport {
            entries: self.entries.len(),
            files: self
                .entries
                .iter()
                .filter(|e| matches!(e, Entry::File { .. }))
                .count(),
            bytes,
            frames: self.jobs.len(),
        })
    }

    /// Every regular file, frames decompressed on all cores. Returns the bytes written.
    fn write_contents(&self, chain: &Chain, trees: &ForeignTrees, root: &Path) -> Result<u64> {
        for &i in &self.spanning {
            let path = root.join(self.entries[i].path());
            let size = self.entries[i].parts().iter().map(|p| p.size).sum();
            create_file(&path, mode_of(&self.entries[i]))
                .and_then(|f| f.set_len(size).at(&path))?;
        }
        let pool = Pool::new(FrameBuffers::default);
        let written: Vec<u64> = self
            .jobs
            .par_iter()
            .map(|(key, job)| {
                pool.with(|buffers| {
                    let raw = read_origin(chain, trees, *key, buffers)?;
                    self.write_job(chain, *key, raw, job, root)
                })
            })
            .collect::<Result<_>>()?;
        self.empty.par_iter().try_for_each(|&i| {
            write_file(
                &root.join(self.entries[i].path()),
                mode_of(&self.entries[i]),
                &[],
                self.mtime,
            )
        })?;
        for &i in &self.spanning {
            let path = root.join(self.entries[i].path());
            filetime::set_file_times(&path, self.mtime, self.mtime).at(&path)?;
        }
        Ok(written.iter().sum())
    }

    fn write_job(
        &self,
        chain: &Chain,
        (layer, origin): JobKey,
        raw: &[u8],
        job: &FrameJob,
        root: &Path,
    ) -> Result<u64> {
        let mut verified: HashSet<BlobId> = HashSet::new();
        let mut content = |entry: usize, blob: &Stored| -> Result<&[u8]> {
            let range = blob.offset as usize..(blob.offset + blob.size) as usize;
            let data = raw.get(range).unwrap_or_default();
            if verified.insert(blob.hash) {
                let actual = BlobId::of(data);
                if actual != blob.hash {
                    let entry = self.entries[entry].path();
                    return Err(mismatch(chain, layer, origin, entry, blob, actual));
                }
            }
            Ok(data)
        };
        let mut bytes = 0;
        for (i, blobs) in &job.whole {
            let data = blobs
                .iter()
                .map(|b| content(*i, b))
                .collect::<Result<Vec<_>>>()?;
            write_file(
                &root.join(self.entries[*i].path()),
                mode_of(&self.entries[*i]),
                &data,
                self.mtime,
            )?;
            bytes += blobs.iter().map(|b| b.size).sum::<u64>();
        }
        for &(i, at, blob) in &job.pieces {
            let path = root.join(self.entries[i].path());
            let data = content(i, &blob)?;
            File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.write_all_at(data, at))
                .at(&path)?;
            bytes += blob.size;
        }
        Ok(bytes)
    }

    /// Symlinks, then directories deepest first: creating an entry bumps its
    /// directory's mtime, so each directory gets its own only once it is full.
    fn finish_links_and_dirs(&self, root: &Path) -> Result<()> {
        for entry in self.entries {
            if let Entry::Symlink { path, target } = entry {
                symlink(Path::new(target), &root.join(path), self.mtime)?;
            }
        }
        for entry in self.entries.iter().rev() {
            if let Entry::Dir { path, mode } = entry {
                settle_dir(&root.join(path), *mode, self.mtime)?;
            }
        }
        Ok(())
    }
}

/// Decompresses a frame, or reads a foreign parent's file.
fn read_origin<'b>(
    chain: &Chain,
    trees: &ForeignTrees,
    (layer, origin): JobKey,
    buffers: &'b mut FrameBuffers,
) -> Result<&'b [u8]> {
    match origin {
        Origin::Frame(frame) => chain.layers[layer].read_frame(frame, buffers),
        Origin::Foreign { foreign, file } => trees.read(chain, (layer, foreign, file), buffers),
    }
}

/// The error for content that is not what the manifest says it is.
fn mismatch(
    chain: &Chain,
    layer: usize,
    origin: Origin,
    entry: &str,
    blob: &Stored,
    actual: BlobId,
) -> Error {
    let layer = &chain.layers[layer];
    match origin {
        Origin::Frame(_) => Error::HashMismatch {
            layer: layer.path.clone(),
            entry: entry.to_string(),
            expected: blob.hash.to_string(),
            actual: actual.to_string(),
        },
        Origin::Foreign { foreign, file } => {
            let foreign = &layer.manifest.foreign[foreign];
            Error::ForeignChanged {
                layer: layer.path.clone(),
                entry: entry.to_string(),
                parent: foreign.path.clone(),
                file: foreign.files[file].clone(),
            }
        }
    }
}

/// Where each part of a file is stored: ((layer, origin), blob).
fn locate_parts(chain: &Chain, entry: &Entry) -> Result<Vec<(JobKey, Stored)>> {
    let bad = |reason: String| Error::BadEntry {
        layer: chain.top().path.clone(),
        entry: entry.path().to_string(),
        reason,
    };
    entry
        .parts()
        .iter()
        .map(|part| {
            let (layer, origin, blob) = chain.locate(&part.hash).ok_or_else(|| {
                bad(format!(
                    "its blob {} is in no layer of the chain",
                    part.hash
                ))
            })?;
            if blob.size != part.size {
                return Err(bad(format!(
                    "a part is {} bytes but its blob holds {}",
                    part.size, blob.size
                )));
            }
            Ok(((layer, origin), blob))
        })
        .collect()
}

fn mode_of(entry: &Entry) -> u32 {
    match entry {
        Entry::File { mode, .. } => *mode,
        _ => unreachable!("only files are written with content"),
    }
}
