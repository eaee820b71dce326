//! Every filesystem helper in one home, each naming the path it failed on:
//! the mtime rule laid-out trees follow, writable files and directories,
//! removal of read-only trees, and the small JSON records kept beside them.

use std::fs::{File, Permissions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use filetime::FileTime;

use crate::error::{Error, IoContext, Result};

/// 1 s past the epoch: what the Nix store gives every file. Inherited
/// artifacts and store sources then compare equal, which cargo counts as fresh.
pub const MTIME: FileTime = FileTime::from_unix_time(1, 0);

/// Creates a file that did not exist, writable by its owner.
pub fn create_file(path: &Path, mode: u32) -> Result<File> {
    let mode = mode | 0o200;
    let file = File::options()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .at(path)?;
    // The umask may have cleared bits the layer recorded.
    file.set_permissions(Permissions::from_mode(mode))
        .at(path)?;
    Ok(file)
}

/// Creates a file from its parts' content, with `mtime` (MTIME, or what a
/// layer recorded: see `watched`).
pub fn write_file(path: &Path, mode: u32, parts: &[&[u8]], mtime: FileTime) -> Result<()> {
    let mut file = create_file(path, mode)?;
    for part in parts {
        file.write_all(part).at(path)?;
    }
    filetime::set_file_handle_times(&file, Some(mtime), Some(mtime)).at(path)
}

/// A writable copy of `from` with `mtime`.
pub fn copy_file(from: &Path, dest: &Path, mode: u32, mtime: FileTime) -> Result<()> {
    std::fs::copy(from, dest).at(dest)?;
    std::fs::set_permissions(dest, Permissions::from_mode(mode & 0o777 | 0o200)).at(dest)?;
    filetime::set_file_times(dest, mtime, mtime).at(dest)
}

/// A new directory for a tree to be laid out in and then renamed into
/// place, which the file system puts away from recently freed inodes: a
/// randomly named directory inside one (named `prefix*`, in `parent`) with
/// ext2/3/4's top-directory flag (`chattr +T`), so that it lands in a block
/// group of its own, as directories at a file system's root do.
///
/// Why: a journal-less ext4 (these machines' build directories and store)
/// skips, one by one, the inodes freed in the last minute when it allocates
/// in a group, and a tree laid out right after the previous build directory
/// was deleted lands in that directory's group by default: each of its
/// thousands of inodes paid for the whole deleted tree (`link` of the
/// service tree 1.5-1.9 s, spread 0.16-0.26 s). Where the flag means
/// nothing or is refused, this is a plain temporary directory.
pub struct SpreadDir {
    /// Removed when dropped, with the tree in it unless it was renamed away.
    outer: tempfile::TempDir,
    tree: tempfile::TempDir,
}

impl SpreadDir {
    pub fn new(parent: &Path, prefix: &str) -> Result<SpreadDir> {
        let outer = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(parent)
            .at(parent)?;
        if let Ok(handle) = std::fs::File::open(outer.path()) {
            if let Ok(flags) = rustix::fs::ioctl_getflags(&handle) {
                let topdir = flags | rustix::fs::IFlags::TOPDIR;
                let _ = rustix::fs::ioctl_setflags(&handle, topdir);
            }
        }
        let tree = tempfile::Builder::new()
            .prefix("tree-")
            .tempdir_in(outer.path())
            .at(outer.path())?;
        Ok(SpreadDir { outer, tree })
    }

    pub fn path(&self) -> &Path {
        self.tree.path()
    }

    /// Renames the tree to `dest`, by way of a sibling of the outer
    /// directory (`<outer>.ready`) so that the outer one is gone before
    /// `dest` appears: a run killed at any point leaves either `dest` or
    /// directories named `prefix*`, never both.
    pub fn rename_to(self, dest: &Path) -> Result<()> {
        let SpreadDir { outer, tree } = self;
        let mut ready = outer.path().as_os_str().to_owned();
        ready.push(".ready");
        let ready = PathBuf::from(ready);
        // Until it is renamed, a failure removes the tree with the outer one.
        std::fs::rename(tree.path(), &ready).at(&ready)?;
        let _ = tree.keep();
        let outer_path = outer.path().to_path_buf();
        outer.close().at(&outer_path)?;
        std::fs::rename(&ready, dest).at(dest)
    }
}

/// A symlink to `target`, as given (never resolved), with `mtime`.
pub fn symlink(target: &Path, dest: &Path, mtime: FileTime) -> Result<()> {
    std::os::unix::fs::symlink(target, dest).at(dest)?;
    filetime::set_symlink_file_times(dest, mtime, mtime).at(dest)
}

/// A directory's final state: its mode, owner-writable, and `mtime`.
/// Called once it is full, since creating an entry bumps its mtime.
pub fn settle_dir(dir: &Path, mode: u32, mtime: FileTime) -> Result<()> {
    std::fs::set_permissions(dir, Permissions::from_mode(mode | 0o700)).at(dir)?;
    filetime::set_file_times(dir, mtime, mtime).at(dir)
}

pub fn make_writable(dir: &Path) -> Result<()> {
    let mode = std::fs::symlink_metadata(dir).at(dir)?.permissions().mode();
    if mode & 0o700 != 0o700 {
        std::fs::set_permissions(dir, Permissions::from_mode(mode | 0o700)).at(dir)?;
    }
    Ok(())
}

/// Removes a directory tree, even one that came read-only out of the store.
pub fn remove_tree(dir: &Path) -> Result<()> {
    for item in walkdir::WalkDir::new(dir).follow_links(false) {
        let item = item.map_err(|e| Error::io(dir, e.into()))?;
        if item.file_type().is_dir() {
            make_writable(item.path())?;
        }
    }
    std::fs::remove_dir_all(dir).at(dir)
}

/// An output directory claimed for writing: empty (or made empty of what a
/// killed writer left), and locked until this is dropped.
pub struct OutDir {
    /// Whether the directory had to be created.
    pub created: bool,
    _lock: File,
}

/// Claims `dir` for a writer that creates the names matched by `partial`
/// before its output is complete. A second writer fails at once. Under the
/// lock, a directory holding only such names is what a killed writer left:
/// they are removed. Anything else in it is refused, never written over.
pub fn claim_out_dir(dir: &Path, partial: impl Fn(&str) -> bool) -> Result<OutDir> {
    claim(dir, partial, Others::Refuse)
}

/// Claims `dir` as `claim_out_dir` does for a writer that adds to what it
/// holds: what matches `partial` is removed, the rest kept.
pub fn claim_dir_beside(dir: &Path, partial: impl Fn(&str) -> bool) -> Result<OutDir> {
    claim(dir, partial, Others::Keep)
}

/// What a claimed directory may hold besides what a killed writer left.
#[derive(PartialEq)]
enum Others {
    Refuse,
    Keep,
}

fn claim(dir: &Path, partial: impl Fn(&str) -> bool, others: Others) -> Result<OutDir> {
    let created = match std::fs::create_dir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).at(dir).map(|()| true)?
        }
        Err(e) => return Err(Error::io(dir, e)),
    };
    let lock = File::open(dir).at(dir)?;
    if let Err(e) = lock.try_lock() {
        let reason = format!("another process is writing into it ({e})");
        return Err(Error::bad_input(dir, reason));
    }
    let mut left = Vec::new();
    for item in std::fs::read_dir(dir).at(dir)? {
        let item = item.at(dir)?;
        if partial(&item.file_name().to_string_lossy()) {
            left.push(item.path());
        } else if others == Others::Refuse {
            return Err(Error::bad_input(
                dir,
                "exists and is not empty; refusing to write over it",
            ));
        }
    }
    for path in left {
        match std::fs::symlink_metadata(&path).at(&path)?.is_dir() {
            true => remove_tree(&path)?,
            false => std::fs::remove_file(&path).at(&path)?,
        }
    }
    Ok(OutDir {
        created,
        _lock: lock,
    })
}

pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_vec(value).expect("records serialise");
    std::fs::write(path, text).at(path)
}

/// The JSON record at `path`, if there is one; `what` names it in the error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<Option<T>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read(path).at(path)?;
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| Error::bad_input(path, format!("not {what}: {e}")))
}

/// Bytes below `dir` as `du --bytes` counts them: every entry's apparent
/// size (directories and symlinks included), each hard-linked file once.
pub fn apparent_size(dir: &Path) -> Result<u64> {
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    for item in walkdir::WalkDir::new(dir).follow_links(false) {
        let item = item.map_err(|e| Error::io(dir, e.into()))?;
        let meta = item
            .metadata()
            .map_err(|e| Error::io(item.path(), e.into()))?;
        if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        total += meta.len();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::SpreadDir;

    #[test]
    fn a_spread_dir_sits_in_a_top_directory_and_leaves_nothing_once_renamed() {
        let parent = tempfile::tempdir().unwrap();
        let spread = SpreadDir::new(parent.path(), ".x-").unwrap();
        let outer = spread.path().parent().unwrap().to_path_buf();
        assert!(outer
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".x-"));
        // Where the file system takes the flag (ext2/3/4), the outer one has it.
        let flags =
            |dir: &std::path::Path| rustix::fs::ioctl_getflags(std::fs::File::open(dir).unwrap());
        let probe = tempfile::tempdir_in(parent.path()).unwrap();
        let topdir = rustix::fs::IFlags::TOPDIR;
        let taken = flags(probe.path()).is_ok_and(|f| {
            let handle = std::fs::File::open(probe.path()).unwrap();
            rustix::fs::ioctl_setflags(handle, f | topdir).is_ok()
        });
        drop(probe);
        if taken {
            assert!(flags(&outer).unwrap().contains(topdir));
        }
        std::fs::write(spread.path().join("file"), "x").unwrap();
        let dest = parent.path().join("tree");
        spread.rename_to(&dest).unwrap();
        assert_eq!(std::fs::read_to_string(dest.join("file")).unwrap(), "x");
        let names: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the renamed tree is left");
    }
}
