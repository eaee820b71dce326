//! Files of the machine that build scripts watch. A build script that says
//! `rerun-if-changed=/usr/include/stdio.h` reruns whenever that file is
//! newer than its recorded run; laid out with mtime 1, every inherited run
//! would be older than any such file. So pack records the newest mtime of
//! those files, and the tree is laid out with that one mtime instead of 1:
//! still equal everywhere (so the inherited units stay fresh among
//! themselves) and no older than what the scripts watch, unless a watched
//! file changed since, which then reruns its script, as it should.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{IoContext, Result};
use crate::tree::scan::{Node, NodeKind};

/// What cargo writes beside a build script run's output (`output`, or
/// `run/stdout` in the new build-dir layout), telling it apart from any
/// other file of that name.
const RUN_MARKER: &str = "root-output";

/// The newest mtime (seconds) of the absolute paths outside `root` that the
/// build-script runs of the tree watch; None when there are none newer
/// than 1 (sources in the Nix store, or no such path).
pub fn newest(nodes: &[Node], root: &Path) -> Result<Option<i64>> {
    // Scripts print absolute paths as cargo gave them (OUT_DIR): canonical.
    let root = root.canonicalize().at(root)?;
    let rels: HashSet<&str> = nodes.iter().map(|n| n.rel.as_str()).collect();
    let mut newest: Option<i64> = None;
    for node in nodes {
        let is_run_output = matches!(node.kind, NodeKind::File { .. })
            && node.rel.rsplit_once('/').is_some_and(|(dir, name)| {
                matches!(name, "output" | "stdout")
                    && rels.contains(format!("{dir}/{RUN_MARKER}").as_str())
            });
        if !is_run_output {
            continue;
        }
        let text = std::fs::read(&node.abs).at(&node.abs)?;
        for path in watched_paths(&String::from_utf8_lossy(&text)) {
            let path = Path::new(path);
            if path.is_absolute() && !path.starts_with(&root) {
                newest = newest.max(mtime_of(path));
            }
        }
    }
    Ok(newest.filter(|&t| t > 1))
}

/// The paths of `cargo:rerun-if-changed=` (and `cargo::`) lines.
fn watched_paths(output: &str) -> impl Iterator<Item = &str> {
    output.lines().filter_map(|line| {
        line.strip_prefix("cargo::rerun-if-changed=")
            .or_else(|| line.strip_prefix("cargo:rerun-if-changed="))
    })
}

/// A file's mtime, or the newest below a directory (as cargo reads a
/// watched directory), in whole seconds rounded up (the tree is laid out in
/// whole seconds and must not come out older); None for what does not exist.
fn mtime_of(path: &Path) -> Option<i64> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return Some(seconds_up(&meta));
    }
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| seconds_up(&m))
        .max()
}

fn seconds_up(meta: &std::fs::Metadata) -> i64 {
    let mtime = filetime::FileTime::from_last_modification_time(meta);
    mtime.unix_seconds() + i64::from(mtime.nanoseconds() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms_of_the_instruction() {
        let output = "cargo:rustc-cfg=x\ncargo:rerun-if-changed=/usr/include/a.h\n\
                      cargo::rerun-if-changed=build.rs\ncargo:rerun-if-env-changed=CC\n";
        let paths: Vec<&str> = watched_paths(output).collect();
        assert_eq!(paths, ["/usr/include/a.h", "build.rs"]);
    }
}
