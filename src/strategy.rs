//! Which strategy's code does a verb: `pack` by the format asked for,
//! `unpack` and `link` by what they are given (`artifacts`): a cargo-inherit
//! layer, a crane use-zstd output (an archive chain) or a plain tree (crane
//! use-symlink, `pack --format plain`). Each kind is read by its own module.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::artifacts::{self, Artifacts};
use crate::error::{Error, Result};
use crate::layer::pack::{PackOptions, PackReport};
use crate::layer::unpack::{unpack_layer, UnpackReport};
use crate::plain::{self, LinkReport, PlainReport};
use crate::tree::bytes::human_bytes;

/// What `pack` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// A compressed, deduplicated layer.
    Layered,
    /// The tree itself under OUT/target for `link`, files a parent holds
    /// unchanged replaced by symlinks to it.
    Plain,
}

/// What a pack wrote.
pub enum Packed {
    Layer(PackReport),
    Plain(PlainReport),
}

/// Packs the target directory of `options` in `format`.
pub fn pack(format: Format, options: &PackOptions) -> Result<Packed> {
    match format {
        Format::Layered => Ok(Packed::Layer(crate::layer::pack::pack(options)?)),
        Format::Plain => {
            if let Some(dir) = options.borrow.first() {
                let reason = "--borrow is for layered layers: a plain tree stores no blobs";
                return Err(Error::bad_input(dir, reason));
            }
            let report = plain::pack_plain(&options.build(), &options.out, &options.parents)?;
            Ok(Packed::Plain(report))
        }
    }
}

impl fmt::Display for Packed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Packed::Layer(report) => report.fmt(f),
            Packed::Plain(report) => report.fmt(f),
        }
    }
}

/// What was laid out into `target`, and how.
pub struct Inherited {
    pub target: PathBuf,
    pub how: How,
}

pub enum How {
    Unpacked(UnpackReport),
    Extracted { archives: usize, entries: usize },
    Copied(LinkReport),
    Linked(LinkReport),
}

/// Lays `from` (artifacts, or a derivation output holding them) out as
/// writable files. `store` is the Nix store, into which a crane use-symlink
/// tree's symlinks point: they stand for the files.
pub fn unpack(
    from: &Path,
    target: &Path,
    workspace: Option<&Path>,
    store: &Path,
) -> Result<Inherited> {
    let from = &artifacts::locate(from);
    let kind = Artifacts::detect(from)?;
    unpack_found(from, kind, target, workspace, store)
}

/// Lays a plain tree `from` out with symlinks into the store; artifacts
/// that are no tree (a layer, crane's archives) have nothing to link to,
/// and a tree laid out later than mtime 1 cannot link to store files: those
/// are unpacked instead.
pub fn link(
    from: &Path,
    target: &Path,
    workspace: Option<&Path>,
    store: &Path,
) -> Result<Inherited> {
    let from = &artifacts::locate(from);
    let kind = Artifacts::detect(from)?;
    if !matches!(kind, Artifacts::PlainTree) || plain::laid_out_later(from)? {
        return unpack_found(from, kind, target, workspace, store);
    }
    Ok(Inherited {
        target: target.to_path_buf(),
        how: How::Linked(plain::link(from, target, workspace, store)?),
    })
}

/// `unpack` of artifacts already located and recognised as `kind`.
fn unpack_found(
    from: &Path,
    kind: Artifacts,
    target: &Path,
    workspace: Option<&Path>,
    store: &Path,
) -> Result<Inherited> {
    let how = match kind {
        Artifacts::Layer => How::Unpacked(unpack_layer(from, target, workspace, store)?),
        Artifacts::CraneArchives(archives) => How::Extracted {
            archives: archives.len(),
            entries: crate::crane::unpack_archives(&archives, target, workspace, store)?,
        },
        Artifacts::PlainTree => How::Copied(plain::copy_out(from, target, workspace, store)?),
        Artifacts::NotRecognised => return Err(artifacts::not_recognised(from)),
    };
    Ok(Inherited {
        target: target.to_path_buf(),
        how,
    })
}

impl fmt::Display for Inherited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = self.target.display();
        match &self.how {
            How::Unpacked(r) => write!(
                f,
                "unpacked {} entries ({} files, {}) from {} frames into {target}",
                r.entries,
                r.files,
                human_bytes(r.bytes),
                r.frames
            ),
            How::Extracted { archives, entries } => write!(
                f,
                "unpacked {entries} entries from {archives} crane archives into {target}"
            ),
            How::Copied(r) => write!(f, "copied {} files of a plain tree into {target}", r.copied),
            How::Linked(r) => write!(
                f,
                "laid out {} symlinks ({} new to artifacts in the store, the rest as recorded) and copied {} files into {target}",
                r.linked + r.symlinks, r.linked, r.copied
            ),
        }
    }
}
