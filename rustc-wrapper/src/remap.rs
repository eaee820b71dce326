//! Vendored crates are reached through symlinks at a fixed path (so that
//! cargo's fingerprints, which hold source paths, do not move with the
//! vendor directory's store path). rustc runs in the crate's directory, and
//! a working directory is always the physical one: without help, debug
//! info and panic locations would name the store path, and every installed
//! binary would keep the vendored sources alive. One `--remap-path-prefix`
//! gives rustc back the path cargo used.

use std::ffi::OsString;
use std::path::Path;

/// The flag mapping `manifest_dir`'s physical path to `manifest_dir`, or
/// None when they are the same (or the directory cannot be resolved).
pub fn physical_to_logical(manifest_dir: &Path) -> Option<OsString> {
    let physical = std::fs::canonicalize(manifest_dir).ok()?;
    if physical == manifest_dir {
        return None;
    }
    let mut flag = OsString::from("--remap-path-prefix=");
    flag.push(physical);
    flag.push("=");
    flag.push(manifest_dir);
    Some(flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_symlinked_crate_to_its_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("store-abc-vendor/itoa-1.0.0");
        std::fs::create_dir_all(&real).unwrap();
        let fixed = dir.path().join("vendor");
        std::fs::create_dir(&fixed).unwrap();
        let link = fixed.join("itoa-1.0.0");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let real = std::fs::canonicalize(&real).unwrap();
        let expected = format!("--remap-path-prefix={}={}", real.display(), link.display());
        assert_eq!(physical_to_logical(&link), Some(OsString::from(expected)));
        assert_eq!(physical_to_logical(&real), None);
    }
}
