//! `unpack`: lays a layer's tree out into a target directory, writable and
//! with one constant mtime, so that cargo finds every inherited unit Fresh.
//! The tree is staged (see `staging`) and every blob verified before
//! anything reaches the target.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use filetime::FileTime;
use rayon::prelude::*;

use crate::cargo::left_out::{LeftOut, Recorded};
use crate::cargo::symlinks;
use crate::error::{Error, IoContext, Result};
use crate::layer::chain::{Chain, ForeignRef, FrameBuffers, Holder, Located, Origin};
use crate::layer::content::{mismatch, read_holder, Content};
use crate::layer::foreign::ForeignTrees;
use crate::layer::manifest::{BlobId, Entry};
use crate::tree::blob::Span;
use crate::tree::fs::{create_file, settle_dir, symlink, write_file, MTIME};
use crate::tree::pool::Pool;
use crate::tree::staging::stage;

#[derive(Debug, Default)]
pub struct UnpackReport {
    pub entries: usize,
    pub files: usize,
    pub bytes: u64,
    pub frames: usize,
}

/// Lays the layer at `from` out into `target_dir`, but for the units the
/// rule leaves out (see `left_out`): with `workspace`, those of members
/// whose sources changed since the layer was packed. Its symlinks may lead
/// into `store` (see `symlinks`).
pub fn unpack_layer(
    from: &Path,
    target_dir: &Path,
    workspace: Option<&Path>,
    store: &Path,
) -> Result<UnpackReport> {
    let mut chain = Chain::open(from)?;
    check_symlinks(&chain, store)?;
    let manifest = &chain.top().manifest;
    let recorded = Recorded {
        dummies: &manifest.dummies,
        sources: Some(&manifest.sources),
    };
    let left_out = LeftOut::of(&recorded, workspace)?;
    chain.leave_out(&left_out);
    let plan = Plan::new(&chain)?;
    let needed = plan.jobs.iter().map(|(_, job)| job.bytes()).sum();
    stage(target_dir, from, Some(needed), |root| {
        // Crane parents are extracted beside the staged tree: what a killed
        // run extracted goes with its staging directory.
        let scratch = root.parent().expect("a staged tree lies in a directory");
        let trees = ForeignTrees::open(&chain, plan.foreign_parents(), scratch)?;
        plan.write(&chain, &trees, root)
    })
}

/// Refuses, before anything is written, a symlink of the tree that would
/// lead cargo's writes out of it (see `symlinks`).
fn check_symlinks(chain: &Chain, store: &Path) -> Result<()> {
    let top = chain.top();
    for entry in &top.manifest.entries {
        if let Entry::Symlink { path, target } = entry {
            if let Some(reason) = symlinks::refused(path, target, store) {
                return Err(Error::bad_entry(&top.path, path, reason));
            }
        }
    }
    Ok(())
}

/// A file all of whose blobs one holder holds: written in one go.
struct WholeFile {
    entry: usize,
    blobs: Vec<Span>,
}

/// A part of a file whose parts more than one holder holds, and where in
/// the file it goes.
struct Piece {
    entry: usize,
    at: u64,
    span: Span,
}

/// What one holder's content (a frame, or a foreign parent's file) goes into.
#[derive(Default)]
struct FrameJob {
    whole: Vec<WholeFile>,
    pieces: Vec<Piece>,
}

impl FrameJob {
    fn bytes(&self) -> u64 {
        let whole = self.whole.iter().flat_map(|file| file.blobs.iter());
        let pieces = self.pieces.iter().map(|piece| &piece.span);
        whole.chain(pieces).map(|b| b.size).sum()
    }
}

/// What to write, grouped by what holds it.
struct Plan<'a> {
    entries: &'a [Entry],
    /// Largest frames first.
    jobs: Vec<(Holder, FrameJob)>,
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
        let mut jobs: BTreeMap<Holder, FrameJob> = BTreeMap::new();
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
            let holders: HashSet<Holder> = located.iter().map(|l| l.holder).collect();
            match holders.len() {
                0 => plan.empty.push(i),
                1 => {
                    let blobs = located.iter().map(|l| l.span).collect();
                    let file = WholeFile { entry: i, blobs };
                    jobs.entry(located[0].holder).or_default().whole.push(file);
                }
                _ => {
                    plan.spanning.push(i);
                    let mut at = 0;
                    for Located { holder, span } in located {
                        let piece = Piece { entry: i, at, span };
                        jobs.entry(holder).or_default().pieces.push(piece);
                        at += span.size;
                    }
                }
            }
        }
        plan.jobs = jobs.into_iter().collect();
        // Largest frames first, so no core is left with a big one at the end.
        plan.jobs.sort_by_key(|(holder, job)| {
            std::cmp::Reverse(match holder.origin {
                Origin::Frame(frame) => {
                    chain.layers[holder.layer].manifest.frames[frame].raw_length
                }
                Origin::Foreign { .. } => job.bytes(),
            })
        });
        Ok(plan)
    }

    /// The foreign parents some job reads from.
    fn foreign_parents(&self) -> HashSet<ForeignRef> {
        (self.jobs.iter())
            .filter_map(|(holder, _)| match holder.origin {
                Origin::Foreign { parent, .. } => Some(parent),
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
            .map(|(holder, job)| {
                pool.with(|buffers| {
                    let mut content = read_holder(chain, trees, *holder, buffers)?;
                    self.write_job(chain, *holder, &mut content, job, root)
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
        holder: Holder,
        content: &mut Content<'_>,
        job: &FrameJob,
        root: &Path,
    ) -> Result<u64> {
        let mut verified: HashSet<BlobId> = HashSet::new();
        let mut blob = |content: &mut Content<'_>, entry: usize, span: &Span| {
            // A frame was read once; a foreign file is read again per blob.
            let reread = matches!(content, Content::Foreign { .. });
            let data = content.span(span)?;
            if verified.insert(span.hash) || reread {
                let actual = BlobId::of(data);
                if actual != span.hash {
                    let entry = self.entries[entry].path();
                    return Err(mismatch(chain, holder, entry, span, actual));
                }
            }
            Ok(data.len() as u64)
        };
        let mut bytes = 0;
        for WholeFile { entry, blobs } in &job.whole {
            let file = &self.entries[*entry];
            let path = root.join(file.path());
            let mut out = create_file(&path, mode_of(file))?;
            for span in blobs {
                bytes += blob(content, *entry, span)?;
                out.write_all(content.last()).at(&path)?;
            }
            filetime::set_file_handle_times(&out, Some(self.mtime), Some(self.mtime)).at(&path)?;
        }
        for Piece { entry, at, span } in &job.pieces {
            let path = root.join(self.entries[*entry].path());
            bytes += blob(content, *entry, span)?;
            File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.write_all_at(content.last(), *at))
                .at(&path)?;
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

/// Where each part of a file is stored.
fn locate_parts(chain: &Chain, entry: &Entry) -> Result<Vec<Located>> {
    let bad = |reason: String| Error::bad_entry(&chain.top().path, entry.path(), reason);
    (entry.parts().iter())
        .map(|part| {
            let located = chain.locate(&part.hash).ok_or_else(|| {
                bad(format!(
                    "its blob {} is in no layer of the chain",
                    part.hash
                ))
            })?;
            if located.span.size != part.size {
                let held = located.span.size;
                let reason = format!("a part is {} bytes but its blob holds {held}", part.size);
                return Err(bad(reason));
            }
            Ok(located)
        })
        .collect()
}

fn mode_of(entry: &Entry) -> u32 {
    match entry {
        Entry::File { mode, .. } => *mode,
        _ => unreachable!("only files are written with content"),
    }
}
