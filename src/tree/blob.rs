//! Content by its hash: what identifies a blob across layers, trees and
//! the files a layer reads from, and a byte range of something with that
//! hash (a part of a file, a blob in a frame).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The blake3 of a file's content; identifies a blob across layers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub [u8; 32]);

impl BlobId {
    pub fn of(data: &[u8]) -> Self {
        BlobId(*blake3::hash(data).as_bytes())
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(blake3::Hash::from_bytes(self.0).to_hex().as_str())
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for BlobId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BlobId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        blake3::Hash::from_hex(&text)
            .map(|h| BlobId(*h.as_bytes()))
            .map_err(|e| serde::de::Error::custom(format!("bad blake3 {text:?}: {e}")))
    }
}

/// `size` bytes at `offset` of something (a file, a decompressed frame)
/// whose blake3 is `hash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub hash: BlobId,
    pub offset: u64,
    pub size: u64,
}
