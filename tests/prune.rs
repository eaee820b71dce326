//! A target built on another lockfile's (itoa 1.0.19 bumped down to
//! 1.0.15) still holds the replaced version's units. `pack --prune-unused`
//! leaves out what the build's cargo messages show unused, in both
//! formats; the control without it keeps the old version; and the pruned
//! tree, laid out again, leaves nothing for the same build to compile.

mod common;

use std::path::Path;
use std::process::Command;

use common::fixture::{cargo, Project};
use common::*;

const OLD: &str = "itoa-1.0.19";
const NEW: &str = "itoa-1.0.15";

/// The fixture's lockfile with itoa at 1.0.15, and that crate vendored
/// beside the others (as a fixed vendor path would show it to cargo).
fn relock(project: &Project) {
    let fresh = project.path("relock");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
    let run = |args: &[&str], dir: &Path| {
        succeeded(&cargo(false).args(args).current_dir(dir).output().unwrap());
    };
    succeeded(
        &Command::new("cp")
            .args(["-r", s(&fixture), s(&fresh)])
            .output()
            .unwrap(),
    );
    run(
        &["update", "-q", "--precise", "1.0.15", "-p", "itoa"],
        &fresh,
    );
    run(
        &["vendor", "-q", "--locked", "--versioned-dirs", "vendor"],
        &fresh,
    );
    let vendor = project.path("vendor");
    make_writable(&vendor);
    let copied = Command::new("cp")
        .args(["-r", s(&fresh.join("vendor").join(NEW)), s(&vendor)])
        .output()
        .unwrap();
    succeeded(&copied);
    make_store_like(&vendor);
    std::fs::copy(fresh.join("Cargo.lock"), project.src.join("Cargo.lock")).unwrap();
}

/// The hash of the unit that compiled `version`'s library, from cargo's dep-info.
fn lib_unit(target: &Path, version: &str) -> String {
    std::fs::read_dir(target.join("debug/deps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "d"))
        .find(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("itoa-") && std::fs::read_to_string(p).unwrap().contains(version)
        })
        .map(|p| p.file_stem().unwrap().to_str().unwrap()["itoa-".len()..].to_string())
        .unwrap_or_else(|| panic!("no dep-info of {version}"))
}

fn holds_unit(tree: &Path, hash: &str) -> bool {
    walkdir::WalkDir::new(tree)
        .into_iter()
        .any(|e| e.unwrap().file_name().to_string_lossy().contains(hash))
}

#[test]
fn pack_leaves_out_the_units_the_build_did_not_use() {
    let project = Project::prepare("basic");
    assert!(project.cargo(&["build"], false).success);
    let old = lib_unit(&project.target(), OLD);
    relock(&project);
    let bumped = project.cargo(&["build"], false);
    assert!(bumped.success, "{}", bumped.stderr);
    assert!(
        bumped.rebuilt.contains(&"itoa".to_string()),
        "{:?}",
        bumped.rebuilt
    );
    let new = lib_unit(&project.target(), NEW);
    let log = project.path("cargo.json");
    std::fs::write(&log, &bumped.stdout).unwrap();

    let target = project.target();
    for format in ["layered", "plain"] {
        let pack = |out: &Path, prune: bool| {
            let mut args = vec!["pack", "-q", "--format", format, "--target-dir"];
            args.extend([s(&target), "--out", s(out), "--workspace", s(&project.src)]);
            if prune {
                args.extend(["--prune-unused", s(&log)]);
            }
            ok(&args);
        };
        let (pruned, control) = (
            project.path(&format!("{format}-pruned")),
            project.path(&format!("{format}-control")),
        );
        pack(&pruned, true);
        pack(&control, false);
        let laid_out = |from: &Path| {
            let into = project.path(&format!("{}-tree", from.display()).replace('/', "_"));
            ok(&["unpack", "-q", "--from", s(from), "--target-dir", s(&into)]);
            into
        };
        let (pruned_tree, control_tree) = (laid_out(&pruned), laid_out(&control));
        assert!(
            holds_unit(&control_tree, &old),
            "{format}: the control lost {OLD}"
        );
        assert!(
            !holds_unit(&pruned_tree, &old),
            "{format}: {OLD} was not pruned"
        );
        assert!(holds_unit(&pruned_tree, &new), "{format}: {NEW} was pruned");
    }

    // Nothing the same build needs went: laid out again, it compiles nothing.
    let again = project.inherit_and_build(&project.path("layered-pruned"), None);
    assert!(again.success, "{}", again.stderr);
    assert_eq!(again.rebuilt, Vec::<String>::new(), "{}", again.stderr);
}

#[test]
fn pruning_needs_the_workspace() {
    let project = Project::prepare("basic");
    assert!(project.cargo(&["build"], false).success);
    let log = project.path("cargo.json");
    std::fs::write(&log, "").unwrap();
    let stderr = fails(&[
        "pack",
        "--target-dir",
        s(&project.target()),
        "--out",
        s(&project.path("layer")),
        "--prune-unused",
        s(&log),
    ]);
    assert!(
        stderr.contains("pruning needs the workspace") && stderr.contains(s(&log)),
        "{stderr}"
    );
    assert!(!project.path("layer").join("manifest.json").exists());
}
