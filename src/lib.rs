//! cargo-inherit: layered, content-deduplicated archives of cargo's target
//! directory, for build systems (Nix) that pass artifacts between builds.
//!
//! # The tree is the map
//!
//! Folders by concern, from the ground up; modules import downwards only.
//!
//! - `error`: typed errors, each naming the path, layer or entry.
//! - `tree/`: files and directories, whatever they hold. `fs` is the one
//!   home of file helpers (the mtime rule, writable modes, removal of
//!   read-only trees, small JSON records, directories ext4 places apart);
//!   `blob` (content by its blake3, and a span of it), `paths`, `scan` (a
//!   directory into nodes, metadata only), `staging` (all-or-nothing
//!   laying out), `pool`, `bytes`.
//! - `cargo/`: what cargo makes of a target directory and a workspace.
//!   `units` (unit directories and hashes, both build-dir layouts),
//!   `left_out` (the one rule for which inherited units are left out, so
//!   cargo rebuilds them), `built` (what both packs read of a build: the
//!   tree pruned of unused units, dummies, members' sources, the mtime to
//!   lay out with), `members`, `skeleton`, `watched`, `prune`, `split` (the
//!   rmeta an rlib embeds), `classify` (what may stay a store symlink),
//!   `workspace` (`cargo metadata`), `rebuilt`, `stdout`.
//! - `crane`: crane's use-zstd archive chains, read.
//! - `artifacts`: what a path holds (layer, crane archives, plain tree, or
//!   nothing readable), decided in one place.
//! - `plain/`: the symlink strategy's format: `pack`, `link`.
//! - `layer/`: the layered format. `manifest` and its rules (`check`),
//!   `delta` (a tree as changes to its base's), `hashing`, `blobstore`
//!   (new blobs into parallel zstd frames), `reader` (one layer) and
//!   `chain` (a layer with its parents, where each blob is held),
//!   `foreign` (crane outputs and borrowed directories as parents), `pack`,
//!   `unpack`, `inspect`, `export`.
//! - `explain/`: why cargo rebuilt what was inherited.
//! - `remote/`: layers in an object store (`save`, `restore`, `gc`) for CI
//!   without Nix; `store` is its one door to `object_store`.
//! - `strategy`: which strategy's code does a verb; `report`: a Nix
//!   derivation's report; `cli/`: parsing and routing, one arm a verb.
//!
//! # Pack
//!
//! `cargo::built` reads the target directory and what pack records of the
//! build. `hashing` hashes every file on all cores, an `.rlib` as three
//! parts around the `.rmeta` it embeds. `layer::pack` asks the parents what
//! they hold: layers by their blob index (`chain`), crane outputs by laying
//! them out and hashing them (`foreign`). What no parent holds goes to
//! `blobstore`, which groups one crate's files into independent zstd frames
//! and compresses them in parallel. The manifest is renamed into place
//! last: a layer exists only once it is complete. `plain::pack` installs
//! the tree itself instead, linked to its parents' trees.
//!
//! # Unpack
//!
//! `strategy` asks `artifacts` what it is given and hands it to its reader:
//! `layer::unpack`, `crane`, or `plain`. Each leaves out what `left_out`
//! says, then writes into a `staging` directory beside the target and
//! moves it into place only when complete, so a bad input leaves the target
//! as it was. `layer::unpack` plans one job per frame (largest first),
//! decompresses frames on all cores, verifies every blob against its blake3
//! and writes files with one mtime: 1, as the store has it, or the newest
//! host file the tree's build scripts watch (`watched`).

mod artifacts;
mod cargo;
mod cli;
mod crane;
mod error;
mod explain;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod layer;
mod plain;
#[cfg(feature = "store")]
mod remote;
mod report;
mod strategy;
mod tree;

pub use cargo::rebuilt::package_name;
pub use cli::run;
pub use error::{Error, Result};
pub use layer::blobstore::{Level, Settings};
pub use layer::chain::Layer;
pub use layer::manifest::{BlobRef, Entry, Manifest};
pub use layer::pack::{pack, PackOptions, PackReport};
pub use layer::unpack::{unpack_layer, UnpackReport};
