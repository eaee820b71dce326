//! Leaving out of a tree the units its build did not use. A deps target
//! built on an older one (another lockfile) still holds the units of the
//! crate versions it replaced; packed as they are, a chain of bumps would
//! grow one version deeper each time.
//!
//! Used units are those cargo reported in the build's JSON messages: every
//! compiler artifact (fresh or not) names its files, and every build
//! script run its OUT_DIR, each carrying the unit hash. A unit is left out
//! when its hash is not among them, with every file that carries the hash
//! (fingerprint directory, `deps/` outputs and dep-info, build script
//! directories). Never left out: units of workspace members (an executable
//! is reported by its uplifted name, without the hash), units of packages
//! cargo reported files of without a hash (a path package's library that
//! is also a cdylib: cargo names its files `libx.so`, `libx.rlib`), and
//! documentation units, whose messages name no unit hash either. So a later
//! cargo run of the same commands finds every unit it needs.

use std::collections::{BTreeSet, HashSet};
use std::io::BufRead;
use std::path::Path;

use crate::cargo::rebuilt::package_name;
use crate::cargo::units::{hash_in, unit_of};
use crate::error::{Error, IoContext, Result};
use crate::tree::scan::Node;

/// What a pack leaves out: the units `log` (cargo's JSON messages) shows
/// unused, among packages other than the members of the skeleton or
/// workspace the tree was built from.
pub struct Pruning<'a> {
    pub log: &'a Path,
    pub skeleton: Option<&'a Path>,
    pub workspace: Option<&'a Path>,
}

impl Pruning<'_> {
    /// Leaves the unused units out of `nodes`; returns how many went.
    pub fn apply(&self, nodes: &mut Vec<Node>) -> Result<usize> {
        let members =
            match (self.skeleton, self.workspace) {
                (Some(dir), _) => crate::cargo::skeleton::read_info(dir)?.members,
                (None, Some(dir)) => crate::cargo::workspace::metadata(dir, false)?
                    .workspace_packages()
                    .iter()
                    .map(|p| p.name.to_string())
                    .collect(),
                (None, None) => return Err(Error::bad_input(
                    self.log,
                    "pruning needs the workspace (--workspace or --skeleton), whose units it keeps",
                )),
            };
        let used = used_units(self.log)?;
        let kept = members.union(&used.unhashed).cloned().collect();
        Ok(prune(nodes, &used.hashes, &kept))
    }
}

/// What cargo's `--message-format=json` log shows used.
#[derive(Debug, Default, PartialEq)]
struct Used {
    /// Unit hashes the reported files carry.
    hashes: HashSet<String>,
    /// Packages with an artifact whose files carry no hash: which of their
    /// units it was cannot be told.
    unhashed: BTreeSet<String>,
}

fn used_units(log: &Path) -> Result<Used> {
    let file = std::fs::File::open(log).at(log)?;
    let mut used = Used::default();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.at(log)?;
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue; // what a test harness printed, not a message
        };
        let paths: Vec<&str> = match message["reason"].as_str() {
            Some("compiler-artifact") => message["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(std::iter::once(&message["executable"]))
                .filter_map(|f| f.as_str())
                .collect(),
            Some("build-script-executed") => message["out_dir"].as_str().into_iter().collect(),
            _ => continue,
        };
        let hashes: Vec<&str> = paths
            .iter()
            .flat_map(|p| p.split('/').filter_map(hash_in))
            .collect();
        // Documentation names no hash either, and it is kept anyway.
        let library = |p: &&str| {
            [".rlib", ".rmeta", ".so", ".a", ".dylib"]
                .iter()
                .any(|e| p.ends_with(e))
        };
        if hashes.is_empty() && paths.iter().any(library) {
            if let Some(id) = message["package_id"].as_str() {
                used.unhashed.insert(package_name(id));
            }
        }
        used.hashes.extend(hashes.into_iter().map(str::to_string));
    }
    Ok(used)
}

/// Leaves out of `nodes` the units of packages other than `members` that
/// are not `used`; returns how many units went.
fn prune(nodes: &mut Vec<Node>, used: &HashSet<String>, members: &BTreeSet<String>) -> usize {
    let docs: HashSet<&str> = nodes
        .iter()
        .filter_map(|n| n.rel.rsplit_once('/'))
        .filter(|(_, name)| name.starts_with("doc-"))
        .map(|(dir, _)| dir)
        .collect();
    let unused: HashSet<String> = nodes
        .iter()
        .filter_map(|n| unit_of(&n.rel).map(|unit| (n.rel.as_str(), unit)))
        .filter(|(dir, unit)| {
            !members.contains(unit.package) && !used.contains(unit.hash) && !docs.contains(dir)
        })
        .map(|(_, unit)| unit.hash.to_string())
        .collect();
    nodes.retain(|n| {
        !n.rel
            .split('/')
            .filter_map(hash_in)
            .any(|hash| unused.contains(hash))
    });
    unused.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::scan::NodeKind;

    fn node(rel: &str) -> Node {
        Node {
            rel: rel.to_string(),
            abs: rel.into(),
            kind: NodeKind::Dir { mode: 0o755 },
        }
    }

    #[test]
    fn leaves_out_every_file_of_an_unused_unit() {
        let (old, new, app, doc) = (
            "1111111111111111",
            "2222222222222222",
            "3333333333333333",
            "4444444444444444",
        );
        let tree = [
            format!("debug/.fingerprint/itoa-{old}"),
            format!("debug/.fingerprint/itoa-{old}/lib-itoa"),
            format!("debug/deps/libitoa-{old}.rlib"),
            format!("debug/deps/itoa-{old}.d"),
            format!("debug/.fingerprint/itoa-{new}"),
            format!("debug/deps/libitoa-{new}.rlib"),
            format!("debug/.fingerprint/app-{app}"),
            format!("debug/deps/app-{app}"),
            format!("debug/.fingerprint/serde-{doc}"),
            format!("debug/.fingerprint/serde-{doc}/doc-lib-serde"),
            "debug/app".to_string(),
        ];
        let mut nodes: Vec<Node> = tree.iter().map(|r| node(r)).collect();
        let used = HashSet::from([new.to_string()]);
        let pruned = prune(&mut nodes, &used, &BTreeSet::from(["app".to_string()]));
        assert_eq!(pruned, 1);
        let kept: Vec<&str> = nodes.iter().map(|n| n.rel.as_str()).collect();
        assert!(kept.iter().all(|r| !r.contains(old)), "{kept:?}");
        assert_eq!(kept.len(), tree.len() - 4, "{kept:?}");
    }

    #[test]
    fn reads_the_hashes_cargo_reports() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("cargo.json");
        std::fs::write(
            &log,
            concat!(
                r#"{"reason":"compiler-artifact","filenames":["/t/debug/deps/libitoa-1111111111111111.rlib"],"executable":null,"fresh":true}"#,
                "\n",
                r#"{"reason":"build-script-executed","out_dir":"/t/debug/build/serde-2222222222222222/out"}"#,
                "\ntest result: ok. 1 passed\n",
                r#"{"reason":"compiler-artifact","filenames":["/t/debug/app"],"executable":"/t/debug/deps/app-3333333333333333"}"#,
                "\n",
                r#"{"reason":"compiler-artifact","package_id":"path+file:///s/native#0.1.0","filenames":["/t/debug/libnative.rlib","/t/debug/libnative.so"],"executable":null}"#,
                "\n"
            ),
        )
        .unwrap();
        let used = used_units(&log).unwrap();
        let expected = ["1111111111111111", "2222222222222222", "3333333333333333"];
        assert_eq!(
            used.hashes,
            expected.iter().map(|h| h.to_string()).collect()
        );
        assert_eq!(used.unhashed, BTreeSet::from(["native".to_string()]));
    }
}
