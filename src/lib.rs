//! cargo-inherit: layered, content-deduplicated archives of cargo's target
//! directory, for build systems (Nix) that pass artifacts between builds.
//!
//! # Pack
//!
//! `scan` walks a target directory into nodes (metadata only); `prune` may
//! leave out the units the build's cargo messages show unused. `hashing`
//! hashes every file on all cores, an `.rlib` as three parts around the
//! `.rmeta` it embeds (`split`). `pack` asks the parents what they already
//! hold: layers by their blob index (`layer::Chain`), crane outputs by
//! laying them out and hashing them (`foreign`). What no parent holds goes
//! to `blobstore`, which groups one crate's files into independent zstd
//! frames and compresses them in parallel. The `manifest` (the whole tree,
//! or on a parent layer what changed from its tree, `delta`; the frame table, where each blob sits, the members' source hashes from
//! `members` and the dummy units from `units`) is renamed into place last:
//! a layer exists only once it is complete.
//!
//! # Unpack
//!
//! `inherit` looks at what it is given (`artifacts`) and hands it to its
//! reader: `unpack` for layers, `crane` for archive chains, `plain` for
//! trees. `unpack` opens the chain, leaves out dummy and stale member
//! units, plans one job per frame (largest first), decompresses frames on
//! all cores, verifies every blob against its blake3 and writes files with
//! one mtime: 1, as the store has it, or the newest host file the tree's
//! build scripts watch (`watched`). Every reader writes into a `staging`
//! directory beside the target (one ext4 places apart from freshly deleted
//! files) and moves it into place only when complete, so a bad input
//! leaves the target as it was. `fsutil` is the one home of file helpers
//! (the mtime rule, writable modes, removal of read-only trees, that
//! staging directory).
//!
//! # Layers of the code
//!
//! Modules import downwards only. Ground: `error`, `fsutil`, `paths`,
//! `bytes`, `pool`, `split`, `classify`, `units`, `workspace`. Format:
//! `manifest`, `delta`, `scan`, `hashing`, `blobstore`, `layer`, `members`,
//! `skeleton`, `watched`, `prune`. Readers: `staging`, `crane`, `plain`, `artifacts`,
//! `foreign`, `unpack`. Verbs: `pack`, `export`, `inherit`, `inspect`,
//! `rebuilt`, `cargo_stdout`, `report`, `explain`. Top: `cli`.

mod artifacts;
mod blobstore;
mod bytes;
mod cargo_stdout;
mod classify;
mod cli;
mod crane;
mod delta;
mod error;
mod explain;
mod export;
mod foreign;
mod fsutil;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod hashing;
mod inherit;
mod inspect;
mod layer;
mod manifest;
mod members;
mod pack;
mod paths;
mod plain;
mod pool;
mod prune;
mod rebuilt;
mod report;
mod scan;
mod skeleton;
mod split;
mod staging;
mod units;
mod unpack;
mod watched;
mod workspace;

pub use blobstore::{Level, Settings};
pub use cli::run;
pub use error::{Error, Result};
pub use layer::Layer;
pub use manifest::{BlobRef, Entry, Manifest};
pub use pack::{pack, PackOptions, PackReport};
pub use rebuilt::package_name;
pub use unpack::{unpack, UnpackReport};
