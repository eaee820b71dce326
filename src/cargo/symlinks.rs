//! Which symlinks a tree laid out for cargo may hold. Symlinks come back as
//! they were recorded, never followed while laying out; but cargo and
//! rustc later write into the tree (fingerprints, dep-info, outputs), and
//! would write through a link that leads out of it. So a recorded symlink
//! survives only where cargo and build scripts make them:
//! - a relative one that stays inside the tree;
//! - an absolute one into the Nix store (the symlink strategy's links to
//!   earlier outputs, which cargo never writes: the wrapper renames over
//!   them);
//! - any one below a build script's `OUT_DIR` (`build/<unit>/out/...`, or
//!   `build/<pkg>/<hash>/out/...` in the new layout), where only the build
//!   script itself writes, and where build scripts link to headers and
//!   sources of the machine or of the package (cxx does, dangling ones too).
//!
//! Everything else is refused, naming the entry.

use std::path::{Component, Path};

use crate::tree::paths::check_link_target;

/// Why the symlink at `rel` (relative to the tree's root) to `target` may
/// not be laid out, if it may not.
pub fn refused(rel: &str, target: &str, store: &Path) -> Option<String> {
    if let Err(reason) = check_link_target(target) {
        return Some(reason);
    }
    let target_path = Path::new(target);
    let stays = if target_path.is_absolute() {
        into_store(target_path, store)
    } else {
        stays_inside(rel, target_path)
    };
    if stays || below_out_dir(rel) {
        return None;
    }
    Some(format!(
        "a symlink to {target}, which leads out of the tree where cargo writes (links may lead \
         out only from a build script's OUT_DIR, or into the Nix store)"
    ))
}

/// An absolute target below the store, with no `..` to climb out of it.
fn into_store(target: &Path, store: &Path) -> bool {
    let climbs = target.components().any(|c| c == Component::ParentDir);
    !climbs && target.starts_with(store) && target != store
}

/// A relative target that, resolved from the link's directory, stays
/// below the tree's root.
fn stays_inside(rel: &str, target: &Path) -> bool {
    let mut depth = rel.matches('/').count() as isize;
    for component in target.components() {
        match component {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Whether `rel` lies strictly below a build script run's `out/`.
fn below_out_dir(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    (1..parts.len().saturating_sub(1)).any(|i| {
        parts[i] == "out"
            && (parts.get(i.wrapping_sub(2)) == Some(&"build")
                || parts.get(i.wrapping_sub(3)) == Some(&"build"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORE: &str = "/nix/store";

    fn allowed(rel: &str, target: &str) -> bool {
        refused(rel, target, Path::new(STORE)).is_none()
    }

    #[test]
    fn relative_links_inside_the_tree_and_links_into_the_store_stay() {
        assert!(allowed(
            "debug/deps/libx.rlib",
            "../../release/deps/libx.rlib"
        ));
        assert!(allowed("debug/x", "y"));
        assert!(allowed(
            "debug/deps/libx.rlib",
            "/nix/store/abc-deps/target/debug/deps/libx.rlib"
        ));
    }

    #[test]
    fn links_out_of_the_tree_are_refused_where_cargo_writes() {
        assert!(!allowed("debug/.fingerprint/app-1/bin-app", "/etc/passwd"));
        assert!(!allowed("debug/deps", "/tmp"));
        assert!(!allowed("debug/x", "../../outside"));
        assert!(!allowed("debug/x", "/nix/store/../../etc/shadow"));
        assert!(!allowed("debug/x", "/nix/store"));
        assert!(!allowed("debug/x", ""));
        assert!(!allowed("debug/x", "a\0b"));
    }

    #[test]
    fn a_build_script_may_link_anywhere_from_its_out_dir() {
        assert!(allowed(
            "debug/build/links-0123/out/include",
            "/usr/include"
        ));
        assert!(allowed(
            "debug/build/links-0123/out/sub/dangling",
            "/nonexistent"
        ));
        assert!(allowed(
            "debug/build/links/0123456789abcdef/out/include",
            "/usr/include"
        ));
        // out/ itself is where cargo points the build script: not a link.
        assert!(!allowed("debug/build/links-0123/out", "/tmp"));
        assert!(!allowed("debug/build/links-0123/output", "/tmp/x"));
    }
}
