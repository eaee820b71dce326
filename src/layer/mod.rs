//! The layered format.

pub mod blobstore;
pub mod chain;
mod check;
mod content;
pub mod delta;
pub mod export;
pub mod foreign;
pub mod hashing;
pub mod inspect;
pub mod manifest;
pub mod pack;
mod reader;
pub mod unpack;
mod writer;
