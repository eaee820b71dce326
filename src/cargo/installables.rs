//! What a build installs: the executables and the C-facing libraries that
//! cargo reported building (fresh or not) in this run's JSON messages, as
//! crane installs them. Not every executable in the profile directory: a
//! `-p svc-a` build on a workspace's deps target also finds there the
//! other members' dummy binaries from the deps build, and stale ones.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Result;

/// Where each installed file goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    Bin,
    Lib,
}

/// One file to install, printed as `bin<TAB>PATH` or `lib<TAB>PATH`.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Installable {
    pub place: Place,
    pub path: PathBuf,
}

impl fmt::Display for Installable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = match self.place {
            Place::Bin => "bin",
            Place::Lib => "lib",
        };
        write!(f, "{place}\t{}", self.path.display())
    }
}

/// The files to install from the run whose messages are in `log`, each
/// once, in order.
pub fn installables(log: &Path) -> Result<BTreeSet<Installable>> {
    let messages = crate::cargo::stdout::messages(log)?;
    Ok(messages.iter().flat_map(of_message).collect())
}

/// A non-test artifact's executable into bin/, the non-Rust files of a
/// cdylib, dylib or staticlib into lib/ (an rlib beside them is Rust's own).
fn of_message(message: &Value) -> Vec<Installable> {
    if message["reason"] != "compiler-artifact" || message["profile"]["test"] != false {
        return Vec::new();
    }
    let kinds: Vec<&str> = message["target"]["kind"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let exported = kinds
        .iter()
        .any(|k| ["cdylib", "dylib", "staticlib"].contains(k));
    let libs = message["filenames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|_| exported)
        .filter(|f| !f.ends_with(".rlib") && !f.ends_with(".rmeta"))
        .map(|f| (Place::Lib, f));
    let bin = message["executable"].as_str().map(|f| (Place::Bin, f));
    bin.into_iter()
        .chain(libs)
        .map(|(place, path)| Installable {
            place,
            path: PathBuf::from(path),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(kind: &str, test: bool, filenames: &[&str], executable: Option<&str>) -> Value {
        serde_json::json!({
            "reason": "compiler-artifact",
            "target": {"kind": [kind]},
            "profile": {"test": test},
            "filenames": filenames,
            "executable": executable,
            "fresh": true,
        })
    }

    fn paths(message: &Value) -> Vec<String> {
        of_message(message).iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn a_binary_is_installed_and_a_test_harness_is_not() {
        let bin = artifact(
            "bin",
            false,
            &["/t/release/svc-a"],
            Some("/t/release/svc-a"),
        );
        assert_eq!(paths(&bin), ["bin\t/t/release/svc-a"]);
        let test = artifact(
            "bin",
            true,
            &["/t/debug/deps/svc_a-1"],
            Some("/t/debug/deps/svc_a-1"),
        );
        assert!(paths(&test).is_empty());
    }

    #[test]
    fn only_the_c_facing_files_of_a_library_are_installed() {
        let cdylib = serde_json::json!({
            "reason": "compiler-artifact",
            "target": {"kind": ["cdylib", "rlib"]},
            "profile": {"test": false},
            "filenames": ["/t/debug/libnative.rlib", "/t/debug/libnative.so"],
            "executable": null,
        });
        assert_eq!(paths(&cdylib), ["lib\t/t/debug/libnative.so"]);
        let rlib = artifact("lib", false, &["/t/debug/deps/libitoa-1.rlib"], None);
        assert!(paths(&rlib).is_empty());
        let macros = artifact(
            "proc-macro",
            false,
            &["/t/debug/deps/libserde_derive-1.so"],
            None,
        );
        assert!(paths(&macros).is_empty());
    }

    #[test]
    fn a_binary_built_by_two_commands_is_installed_once() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("cargo.json");
        let bin = artifact("bin", false, &["/t/release/a"], Some("/t/release/a")).to_string();
        std::fs::write(&log, format!("{bin}\nrunning 0 tests\n{bin}\n")).unwrap();
        let found: Vec<String> = installables(&log)
            .unwrap()
            .iter()
            .map(|i| i.to_string())
            .collect();
        assert_eq!(found, ["bin\t/t/release/a"]);
    }
}
