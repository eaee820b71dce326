//! Which files of a target directory cargo never rewrites in place, so they
//! can stay symlinks into the store (rustc replaces them through the wrapper).

/// rlib, rmeta, shared and static libraries and executables that rustc
/// wrote into a `deps/` directory, and compiled build scripts
/// (`build/<unit>/build-script-build`). Anything under a build script's
/// `out/` is excluded: build scripts write there themselves, without the
/// wrapper.
pub fn is_immutable_artifact(rel: &str, mode: u32) -> bool {
    let mut parts = rel.rsplit('/');
    let name = parts.next().unwrap_or(rel);
    let (parent, grandparent) = (parts.next(), parts.next());
    if rel.split('/').any(|c| c == "out") {
        return false;
    }
    let executable = mode & 0o111 != 0;
    let extension = name.rsplit_once('.').map(|(_, e)| e);
    match parent {
        Some("deps") => {
            matches!(extension, Some("rlib" | "rmeta" | "so" | "a" | "dylib"))
                || (executable && extension != Some("d"))
        }
        _ => grandparent == Some("build") && executable && extension.is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_immutable_artifact as immutable;

    #[test]
    fn rustc_outputs_in_deps_are_immutable() {
        assert!(immutable("release/deps/libserde-1a.rlib", 0o644));
        assert!(immutable("release/deps/libserde-1a.rmeta", 0o644));
        assert!(immutable("debug/deps/libmacros-1a.so", 0o755));
        assert!(immutable("debug/deps/app-1a", 0o755));
        assert!(immutable(
            "debug/build/serde-1a/build_script_build-1a",
            0o755
        ));
        assert!(immutable("debug/build/serde-1a/build-script-build", 0o755));
    }

    #[test]
    fn what_cargo_or_build_scripts_rewrite_is_not() {
        assert!(!immutable("release/deps/app-1a.d", 0o644));
        assert!(!immutable("release/.fingerprint/x-1a/lib-x", 0o644));
        assert!(!immutable(
            "release/build/zstd-sys-1a/out/deps/libzstd.a",
            0o644
        ));
        assert!(!immutable("release/build/x-1a/output", 0o644));
        assert!(!immutable("release/build/x-1a/invoked.timestamp", 0o644));
        assert!(!immutable("release/app", 0o755));
        assert!(!immutable("release/deps/notes.txt", 0o644));
    }
}
