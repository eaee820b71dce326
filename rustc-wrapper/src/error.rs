//! What can go wrong in the wrapper itself, each naming the file involved.

use std::io;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("usage: cargo-inherit-rustc RUSTC [ARGS...] (cargo runs it so when RUSTC_WRAPPER=cargo-inherit-rustc)")]
    Usage,

    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot move the new {} over {}: {source}; the previous output is still in place", from.display(), to.display())]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "cannot write into {}: the output directory is read-only (a directory of the Nix store?); \
         lay inherited artifacts out with `cargo-inherit link` or `cargo-inherit unpack`, which \
         make every directory writable",
        path.display()
    )]
    ReadOnlyOutDir { path: PathBuf },

    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },

    #[error(
        "refusing to compile crate `{crate_name}` of package `{package}`: {variable}={mode} says \
         inherited artifacts should have made it fresh"
    )]
    Denied {
        crate_name: String,
        package: String,
        variable: &'static str,
        mode: String,
    },
}
