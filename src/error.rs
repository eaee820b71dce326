//! Errors, each carrying the file, layer or entry it is about, so that a
//! message alone tells the user where to look.

use std::io;
use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "cannot start its worker threads: {reason}; too little memory (ulimit -v) or too many \
         processes (ulimit -u) for this user"
    )]
    Threads { reason: String },

    #[error("{}: not a cargo-inherit layer: {reason}", path.display())]
    NotALayer { path: PathBuf, reason: String },

    #[error("layer {}: manifest.json is not valid: {source}", layer.display())]
    ManifestSyntax {
        layer: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "layer {}: format version {found} is not supported (this cargo-inherit reads versions up to {supported}); \
         unpack it with the cargo-inherit that packed it",
        layer.display()
    )]
    UnsupportedVersion {
        layer: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error("layer {}: parent layer {} is missing or unreadable: {reason}", layer.display(), parent.display())]
    MissingParent {
        layer: PathBuf,
        parent: PathBuf,
        reason: String,
    },

    #[error("layer {}: entry {entry:?}: {reason}", layer.display())]
    BadEntry {
        layer: PathBuf,
        entry: String,
        reason: String,
    },

    #[error("layer {}: frame {frame} of blobs.zst is corrupt: {reason}", layer.display())]
    CorruptFrame {
        layer: PathBuf,
        frame: usize,
        reason: String,
    },

    #[error(
        "layer {}: entry {entry:?}: content does not match its blake3 (expected {expected}, got {actual})",
        layer.display()
    )]
    HashMismatch {
        layer: PathBuf,
        entry: String,
        expected: String,
        actual: String,
    },

    #[error(
        "layer {}: entry {entry:?}: its content, {file} in the tree of foreign parent {}, is not \
         what was packed; that output was changed or replaced",
        layer.display(), parent.display()
    )]
    ForeignChanged {
        layer: PathBuf,
        entry: String,
        parent: PathBuf,
        file: String,
    },

    #[error("{}: {reason}", path.display())]
    BadInput { path: PathBuf, reason: String },

    #[error(
        "{}: entry {entry:?} cannot be laid out in {}: {source}",
        from.display(), target.display()
    )]
    LayOut {
        from: PathBuf,
        entry: String,
        target: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Not the input's fault: the machine (or a ulimit) gives no more.
    #[error(
        "{}: {what} needs {bytes} bytes of memory, more than can be had now ({reason})",
        path.display()
    )]
    OutOfMemory {
        path: PathBuf,
        what: String,
        bytes: u64,
        reason: String,
    },

    #[error(
        "no space left on the device of {} while laying out {} (at entry {entry:?}): {}{} bytes \
         free there; the target is as it was",
        target.display(), from.display(),
        needed.map(|n| format!("{n} bytes needed in all, ")).unwrap_or_default(), free
    )]
    NoSpace {
        target: PathBuf,
        from: PathBuf,
        entry: String,
        needed: Option<u64>,
        free: u64,
    },

    #[error("store {url}: {reason}")]
    Store { url: String, reason: String },

    #[error("store {url}: cannot {verb} {object}: {source}")]
    Remote {
        url: String,
        verb: &'static str,
        object: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("store object {object}: {reason}")]
    BadStoreObject { object: String, reason: String },

    #[error("key {key:?}: {reason}")]
    BadKey { key: String, reason: String },

    #[error(
        "store {url}: no entry for key {key:?}{}: nothing restored",
        if restore_keys.is_empty() { String::new() } else { format!(" nor for restore keys {restore_keys:?}") }
    )]
    NoEntry {
        url: String,
        key: String,
        restore_keys: Vec<String>,
    },

    #[error(
        "key {key:?}: its entry would store {bytes} bytes, more than the {max} allowed: not saved"
    )]
    EntryTooLarge { key: String, bytes: u64, max: u64 },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// `parent` of `layer` could not be opened, because of `cause`.
    pub fn missing_parent(layer: &Path, parent: &Path, cause: Error) -> Self {
        Error::MissingParent {
            layer: layer.to_path_buf(),
            parent: parent.to_path_buf(),
            reason: cause.to_string(),
        }
    }

    /// Entry `entry` of the layer at `layer` is not what it may be.
    pub fn bad_entry(layer: &Path, entry: &str, reason: impl Into<String>) -> Self {
        Error::BadEntry {
            layer: layer.to_path_buf(),
            entry: entry.to_string(),
            reason: reason.into(),
        }
    }

    /// Reserves room for `bytes` more in `buf`, or says what could not have it.
    pub fn reserve(
        buf: &mut Vec<u8>,
        bytes: u64,
        path: &Path,
        what: impl FnOnce() -> String,
    ) -> Result<()> {
        // More than usize holds fails as a capacity overflow.
        let wanted = usize::try_from(bytes).unwrap_or(usize::MAX);
        buf.try_reserve_exact(wanted)
            .map_err(|e| Error::OutOfMemory {
                path: path.to_path_buf(),
                what: what(),
                bytes,
                reason: e.to_string(),
            })
    }

    pub fn bad_input(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::BadInput {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Attaches a path to an `io::Result`, the way every I/O call in this crate reports.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
