//! cargo-inherit: layered, content-deduplicated archives of cargo's target
//! directory, for build systems (Nix) that pass artifacts between builds.

pub mod artifacts;
pub mod blobstore;
pub mod classify;
pub mod cli;
pub mod crane;
pub mod dummies;
pub mod error;
pub mod explain;
pub mod foreign;
pub mod hashing;
pub mod inspect;
pub mod layer;
pub mod layout;
pub mod link;
pub mod manifest;
pub mod pack;
pub mod plain;
pub mod pool;
pub mod rebuilt;
pub mod scan;
pub mod skeleton;
pub mod sources;
pub mod split;
pub mod workspace;
