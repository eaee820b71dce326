//! cargo's own dep-info files (`.fingerprint/<unit>/dep-<kind>-<name>`),
//! put in one order. cargo gathers a unit's source files in a hash map
//! (since its checksum support) and writes them in whatever order that
//! gives, so the same build writes different bytes each time, and a layer
//! holding them would fail `nix-build --check`. cargo reads the list back
//! whole, so the order carries no meaning: sorted, the file says the same.
//!
//! The format (cargo's `EncodedDepInfo`, format 1): a marker (`01 00 00 00
//! ff`), the version byte, then a count of files (u32, little-endian),
//! each a path type byte, a length-prefixed path and an optional size and
//! checksum, then the environment variables. A file in any other format
//! is left as it is.

use std::path::Path;

use filetime::FileTime;

use crate::error::{IoContext, Result};

const MARKER: [u8; 5] = [1, 0, 0, 0, 0xff];
const VERSION: u8 = 1;

/// Whether `rel` names one of cargo's dep-info files: `dep-*` in a unit's
/// fingerprint directory (either build-dir layout).
pub fn is_dep_info(rel: &str) -> bool {
    rel.rsplit_once('/').is_some_and(|(dir, name)| {
        name.starts_with("dep-") && crate::cargo::units::unit_of(dir).is_some()
    })
}

/// Rewrites the dep-info file at `path` with its files sorted, keeping its
/// mtime (cargo compares sources with it); returns whether it changed.
pub fn sort_in_place(path: &Path) -> Result<bool> {
    let bytes = std::fs::read(path).at(path)?;
    let Some(sorted) = sorted(&bytes) else {
        return Ok(false);
    };
    if sorted == bytes {
        return Ok(false);
    }
    let meta = std::fs::metadata(path).at(path)?;
    let mtime = FileTime::from_last_modification_time(&meta);
    std::fs::write(path, &sorted).at(path)?;
    filetime::set_file_mtime(path, mtime).at(path)?;
    Ok(true)
}

/// The same dep-info with its file entries in byte order; None when it is
/// not in the format this knows.
fn sorted(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut rest = bytes.strip_prefix(&MARKER)?.strip_prefix(&[VERSION])?;
    let count = take_u32(&mut rest)?;
    let mut files = Vec::new();
    for _ in 0..count {
        let start = rest;
        take(&mut rest, 1)?;
        let len = take_u32(&mut rest)?;
        take(&mut rest, len)?;
        if take(&mut rest, 1)?[0] != 0 {
            take(&mut rest, 8)?;
            let len = take_u32(&mut rest)?;
            take(&mut rest, len)?;
        }
        files.push(&start[..start.len() - rest.len()]);
    }
    files.sort_unstable();
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&MARKER);
    out.push(VERSION);
    out.extend_from_slice(&(count as u32).to_le_bytes());
    files.iter().for_each(|file| out.extend_from_slice(file));
    // The environment variables, as rustc reported them (in its order).
    out.extend_from_slice(rest);
    Some(out)
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let taken = bytes.get(..n)?;
    *bytes = &bytes[n..];
    Some(taken)
}

fn take_u32(bytes: &mut &[u8]) -> Option<usize> {
    let raw = take(bytes, 4)?;
    Some(u32::from_le_bytes(raw.try_into().ok()?) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dep-info file as cargo writes it, with `files` in the order given.
    fn dep_info(files: &[(u8, &str)], env: &[u8]) -> Vec<u8> {
        let mut out = MARKER.to_vec();
        out.push(VERSION);
        out.extend_from_slice(&(files.len() as u32).to_le_bytes());
        for (kind, path) in files {
            out.push(*kind);
            out.extend_from_slice(&(path.len() as u32).to_le_bytes());
            out.extend_from_slice(path.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(env);
        out
    }

    #[test]
    fn the_same_files_in_either_order_give_the_same_bytes() {
        let env = [0u8; 4];
        let a = dep_info(
            &[(0, "src/lib.rs"), (1, "release/build/x-1/out/gen.rs")],
            &env,
        );
        let b = dep_info(
            &[(1, "release/build/x-1/out/gen.rs"), (0, "src/lib.rs")],
            &env,
        );
        assert_ne!(a, b);
        assert_eq!(sorted(&a), sorted(&b));
        assert_eq!(sorted(&a).unwrap().len(), a.len());
    }

    #[test]
    fn another_format_is_left_alone() {
        assert_eq!(sorted(b"\x01\x00\x00\x00\xff\x02rest"), None);
        assert_eq!(sorted(b"old"), None);
        let truncated = dep_info(&[(0, "src/lib.rs")], &[]);
        assert_eq!(sorted(&truncated[..truncated.len() - 3]), None);
    }

    #[test]
    fn dep_info_files_are_found_in_unit_directories_of_both_layouts() {
        assert!(is_dep_info(
            "release/.fingerprint/util-2de4e0e1752ad090/dep-lib-util"
        ));
        assert!(is_dep_info(
            "debug/build/util/2de4e0e1752ad090/fingerprint/dep-lib-util"
        ));
        assert!(!is_dep_info(
            "release/.fingerprint/util-2de4e0e1752ad090/lib-util"
        ));
        assert!(!is_dep_info("release/deps/dep-x"));
    }
}
