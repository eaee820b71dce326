//! Cache keys: what a user names an entry, as an object name in the store,
//! and the entry published under it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Characters a key keeps as they are: those every store takes in an
/// object name as they are. Every other byte is written `!XX` (`%` and `~`
/// are escaped again by object_store), so that no two keys share an object
/// and a key's prefix is its object name's prefix (restore keys match by
/// prefix).
fn kept(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.')
}

/// The longest key, encoded: S3 object names may have 1,024 bytes.
pub const MAX_KEY: usize = 512;

/// A key as its object name has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub encoded: String,
}

impl Key {
    pub fn new(name: &str) -> Result<Key> {
        let encoded = encode(name);
        if name.is_empty() || encoded.len() > MAX_KEY {
            return Err(Error::BadKey {
                key: name.to_string(),
                reason: format!(
                    "a key has 1 to {MAX_KEY} bytes once encoded, this has {}",
                    encoded.len()
                ),
            });
        }
        Ok(Key {
            name: name.to_string(),
            encoded,
        })
    }
}

/// A restore key's prefix, as object names start with it.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if kept(byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("!{byte:02X}"));
        }
    }
    out
}

pub const FORMAT: &str = "cargo-inherit-key";
pub const VERSION: u32 = 1;

/// What a key names: a layer and the chain it builds on, every layer of
/// which was in the store before this was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub format: String,
    pub version: u32,
    pub key: String,
    /// The layers, the one laid out first, then its parents, nearest first.
    pub chain: Vec<String>,
    /// Stored bytes of the chain's layers (manifests and blobs).
    pub bytes: u64,
    /// Seconds since the epoch when it was saved: the newest of the keys a
    /// restore key matches wins.
    pub created: u64,
}

impl Entry {
    pub fn new(key: &Key, chain: Vec<String>, bytes: u64, created: u64) -> Entry {
        Entry {
            format: FORMAT.to_string(),
            version: VERSION,
            key: key.name.clone(),
            chain,
            bytes,
            created,
        }
    }

    pub fn parse(object: &str, text: &[u8]) -> Result<Entry> {
        let entry: Entry = serde_json::from_slice(text).map_err(|e| Error::BadStoreObject {
            object: object.to_string(),
            reason: format!("not a key entry: {e}"),
        })?;
        if entry.format != FORMAT || entry.version != VERSION || entry.chain.is_empty() {
            return Err(Error::BadStoreObject {
                object: object.to_string(),
                reason: format!(
                    "a key entry of format {FORMAT} version {VERSION} names at least one layer"
                ),
            });
        }
        Ok(entry)
    }

    pub fn layer(&self) -> &str {
        &self.chain[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_prefixes_and_never_collide() {
        let a = Key::new("Linux-rust-1.95/abc").unwrap();
        let b = Key::new("Linux-rust-1.95_abc").unwrap();
        assert_ne!(a.encoded, b.encoded);
        assert!(a.encoded.starts_with(&encode("Linux-rust-1.95/")));
        assert_eq!(encode("a b!/"), "a!20b!21!2F");
    }

    #[test]
    fn empty_and_long_keys_are_refused() {
        assert!(Key::new("").is_err());
        assert!(Key::new(&"k".repeat(MAX_KEY)).is_ok());
        assert!(Key::new(&"/".repeat(MAX_KEY / 3 + 1)).is_err());
    }
}
