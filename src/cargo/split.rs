//! Cargo-aware splitting of files into parts. An `.rlib` carries, inside its
//! `lib.rmeta` member, the exact bytes of the `.rmeta` file beside it: stored
//! as a part of its own, that third of a target directory is kept only once.

use std::ops::Range;

/// Every rmeta starts with this magic (rustc's `METADATA_HEADER`).
const RMETA_MAGIC: &[u8] = b"rust\0\0\0";

/// `lib.rmeta` is the rlib's first member, so the magic sits near the start.
pub const SEARCH_LIMIT: usize = 1 << 16;

/// Where the rmeta of `rmeta_len` bytes would sit in an rlib of `rlib_len`
/// bytes that starts with `head`, if anywhere. A candidate only: the
/// caller compares its hash with the real rmeta's.
pub fn embedded_rmeta(head: &[u8], rlib_len: u64, rmeta_len: u64) -> Option<Range<u64>> {
    let head = &head[..head.len().min(SEARCH_LIMIT)];
    let start = head
        .windows(RMETA_MAGIC.len())
        .position(|w| w == RMETA_MAGIC)? as u64;
    let end = start.checked_add(rmeta_len)?;
    (rmeta_len > 0 && end <= rlib_len).then_some(start..end)
}

/// The `.rmeta` sibling of an `.rlib` path, if `rel` names one.
pub fn rmeta_sibling(rel: &str) -> Option<String> {
    rel.strip_suffix(".rlib")
        .map(|stem| format!("{stem}.rmeta"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rmeta_behind_an_object_header() {
        let mut rlib = b"!<arch>\nlib.rmeta/ ...ELF....".to_vec();
        let at = rlib.len();
        rlib.extend_from_slice(b"rust\0\0\0\x0apayload");
        rlib.extend_from_slice(b"objects");
        let (at, len) = (at as u64, rlib.len() as u64);
        assert_eq!(embedded_rmeta(&rlib, len, 15), Some(at..at + 15));
        // Only the head is needed: the rest may lie beyond it.
        assert_eq!(
            embedded_rmeta(&rlib[..at as usize + 7], len, 15),
            Some(at..at + 15)
        );
    }

    #[test]
    fn gives_up_without_magic_or_room() {
        assert_eq!(embedded_rmeta(b"no magic here", 13, 3), None);
        assert_eq!(embedded_rmeta(b"xxrust\0\0\0", 9, 100), None);
        assert_eq!(embedded_rmeta(b"rust\0\0\0", 7, 0), None);
    }

    #[test]
    fn pairs_rlib_with_rmeta() {
        assert_eq!(
            rmeta_sibling("release/deps/libx-1.rlib").as_deref(),
            Some("release/deps/libx-1.rmeta")
        );
        assert_eq!(rmeta_sibling("release/deps/libx-1.so"), None);
    }
}
