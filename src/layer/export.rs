//! `export`: a layer's full tree written as crane's `target.tar.zst`, so
//! that a crane derivation can build on a cargo-inherit one.

use std::collections::HashMap;
use std::fs::{File, Permissions};
use std::io::BufWriter;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::artifacts::{ARCHIVE, NIX_STORE};
use crate::error::{Error, IoContext, Result};
use crate::layer::unpack::unpack_layer;
use crate::tree::fs::claim_dir_beside;
use crate::tree::scan::Inode;

const TREE_PREFIX: &str = ".export-";

/// What `export` wrote: the archive's path.
pub struct Exported(pub PathBuf);

impl std::fmt::Display for Exported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "wrote {}", self.0.display())
    }
}

/// Writes the full tree of a layer as `OUT/target.tar.zst`, entry for entry
/// what crane's `tar --sort=name --mtime=@1 --owner=0 --group=0 --mode=u+w`
/// piped into zstd gives, so crane can inherit it.
/// The tree is laid out in `out` too, under a name the next export there
/// removes should this one be killed, as it does a partial archive.
pub fn export(from: &Path, out: &Path) -> Result<Exported> {
    let _claim = claim_dir_beside(out, |name| {
        name.starts_with(".tmp") || name.starts_with(TREE_PREFIX)
    })?;
    let temp = tempfile::Builder::new()
        .prefix(TREE_PREFIX)
        .tempdir_in(out)
        .at(out)?;
    let tree = temp.path().join("target");
    unpack_layer(from, &tree, None, Path::new(NIX_STORE))?;
    let partial = tempfile::NamedTempFile::new_in(out).at(out)?;
    let encoder = zstd::stream::write::Encoder::new(BufWriter::new(partial.as_file()), 3)
        .at(partial.path())?;
    let mut builder = tar::Builder::new(encoder);
    append_tree(&mut builder, &tree).at(partial.path())?;
    builder
        .into_inner()
        .and_then(|e| e.finish())
        .at(partial.path())?;
    let archive = out.join(ARCHIVE);
    partial
        .persist(&archive)
        .map_err(|e| Error::io(&archive, e.error))?;
    std::fs::set_permissions(&archive, Permissions::from_mode(0o644)).at(&archive)?;
    Ok(Exported(archive))
}

fn append_tree<W: std::io::Write>(
    builder: &mut tar::Builder<W>,
    tree: &Path,
) -> std::io::Result<()> {
    let mut first_of_inode: HashMap<Inode, PathBuf> = HashMap::new();
    for item in WalkDir::new(tree).sort_by_file_name() {
        let item = item?;
        let meta = std::fs::symlink_metadata(item.path())?;
        let name =
            Path::new("target").join(item.path().strip_prefix(tree).expect("below its root"));
        let mut header = tar::Header::new_gnu();
        header.set_mtime(1);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mode(meta.permissions().mode() & 0o7777 | 0o200);
        if meta.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder.append_data(&mut header, &name, std::io::empty())?;
        } else if meta.file_type().is_symlink() {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, &name, std::fs::read_link(item.path())?)?;
        } else if let Some(first) = (meta.nlink() > 1)
            .then(|| first_of_inode.get(&Inode::of(&meta)))
            .flatten()
        {
            header.set_entry_type(tar::EntryType::Link);
            header.set_size(0);
            builder.append_link(&mut header, &name, first)?;
        } else {
            if meta.nlink() > 1 {
                first_of_inode.insert(Inode::of(&meta), name.clone());
            }
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(meta.len());
            builder.append_data(&mut header, &name, File::open(item.path())?)?;
        }
    }
    Ok(())
}
