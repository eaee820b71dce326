//! Which files of a target directory cargo never rewrites in place, so they
//! can stay symlinks into the store (rustc replaces them through the wrapper).

/// rlib, rmeta, shared and static libraries and executables that rustc
/// wrote into a `deps/` directory (in the new build-dir layout, a unit's
/// `out/`, named with the unit's hash), and compiled build scripts
/// (`build/<unit>/build-script-build`). Anything under a build script's
/// `out/` is excluded: build scripts write there themselves, without the
/// wrapper.
pub fn is_immutable_artifact(rel: &str, mode: u32) -> bool {
    let mut parts = rel.rsplit('/');
    let name = parts.next().unwrap_or(rel);
    let (parent, grandparent) = (parts.next(), parts.next());
    let executable = mode & 0o111 != 0;
    let extension = name.rsplit_once('.').map(|(_, e)| e);
    let rustc_output = matches!(extension, Some("rlib" | "rmeta" | "so" | "a" | "dylib"))
        || (executable && extension != Some("d"));
    if parent == Some("out") {
        if let Some(unit_hash) = new_layout_unit(parts, grandparent) {
            return rustc_output && name.contains(&format!("-{unit_hash}"));
        }
    }
    if rel.split('/').any(|c| c == "out") {
        return false;
    }
    match parent {
        Some("deps") => rustc_output,
        _ => grandparent == Some("build") && executable && extension.is_none(),
    }
}

/// cargo's new build-dir layout (`-Zbuild-dir-new-layout`) puts each unit's
/// files in `build/<package>/<hash>/out/`: rustc's outputs carry the unit's
/// hash in their names (`libserde-<hash>.rlib`), while a build script's
/// OUT_DIR is the `out/` of its run unit, whose files do not. Returns the
/// hash when `out/`'s parent (`grandparent`) is such a unit directory.
fn new_layout_unit<'a>(
    mut above: impl Iterator<Item = &'a str>,
    grandparent: Option<&'a str>,
) -> Option<&'a str> {
    let hash = grandparent?;
    let (_package, build) = (above.next()?, above.next()?);
    let hex = hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    (build == "build" && hex).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::is_immutable_artifact as immutable;

    #[test]
    fn new_layout_rustc_outputs_are_immutable_build_script_outputs_not() {
        let unit = "debug/build/serde/6b2f7dcba84f7e04/out";
        assert!(immutable(
            &format!("{unit}/libserde-6b2f7dcba84f7e04.rlib"),
            0o644
        ));
        assert!(immutable(
            &format!("{unit}/libserde-6b2f7dcba84f7e04.rmeta"),
            0o644
        ));
        assert!(immutable(&format!("{unit}/app-6b2f7dcba84f7e04"), 0o755));
        assert!(!immutable(
            &format!("{unit}/serde-6b2f7dcba84f7e04.d"),
            0o644
        ));
        let run = "debug/build/zstd-sys/aae00067ca4a6475/out";
        assert!(!immutable(&format!("{run}/libzstd.a"), 0o644));
        assert!(!immutable(&format!("{run}/private.rs"), 0o644));
        assert!(!immutable(
            "debug/build/serde/6b2f7dcba84f7e04/fingerprint/lib-serde",
            0o644
        ));
    }

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
