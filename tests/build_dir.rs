//! cargo's build directory apart from target/ (`build.build-dir`,
//! `CARGO_BUILD_BUILD_DIR`): target/ then keeps only final artifacts, so
//! inheriting target/ alone rebuilds everything. `build-dir` finds the
//! directory; the build directory is packed as a layer of its own and
//! target/ on it (its final artifacts are copies of the build directory's),
//! as the Nix hooks do. Laid out again, no dependency compiles, with
//! cargo's layout and with the new one (`-Zbuild-dir-new-layout`, nightly),
//! in both strategies.

mod common;

use std::path::Path;

use common::fixture::{wrapper, Build, Project};
use common::*;

#[test]
fn build_dir_names_a_build_directory_apart_from_target() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let run = |dir: &Path, env: &[(&str, &str)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
            .args(["build-dir", "--workspace", s(dir)])
            .envs(env.iter().copied())
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        succeeded(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let configured = fixtures.join("build-dir");
    assert_eq!(
        run(&configured, &[]),
        format!("{}\n", configured.join("build-dir").display())
    );
    let basic = fixtures.join("basic");
    assert_eq!(run(&basic, &[]), "", "basic has no build-dir");
    assert_eq!(
        run(&basic, &[("CARGO_BUILD_BUILD_DIR", "/elsewhere/build")]),
        "/elsewhere/build\n"
    );
}

#[derive(Clone, Copy)]
enum Layout {
    Current,
    New,
}

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    Layered,
    Symlink,
}

fn cargo(project: &Project, layout: Layout, args: &[&str], build_dir: &Path) -> Build {
    let wrapper = wrapper();
    let env = [
        ("CARGO_BUILD_BUILD_DIR", s(build_dir)),
        ("RUSTC_WRAPPER", wrapper.as_str()),
    ];
    match layout {
        Layout::Current => project.cargo_with(args, false, &env),
        Layout::New => {
            let mut args = args.to_vec();
            args.push("-Zbuild-dir-new-layout");
            project.nightly_cargo_with(&args, &env)
        }
    }
}

fn inherit_apart(layout: Layout, strategy: Strategy) {
    let project = Project::prepare("build-dir");
    let build_dir = project.path("build-dir");
    let deps = cargo(&project, layout, &["build"], &build_dir);
    assert!(deps.success, "{}", deps.stderr);
    assert!(
        !project.target().join("debug/deps").exists(),
        "target/ should hold final artifacts only"
    );
    let (build_layer, layer) = (project.path("out/build-layer"), project.path("out/layer"));
    let format: &[&str] = match strategy {
        Strategy::Layered => &[],
        Strategy::Symlink => &["--format", "plain"],
    };
    let pack = |dir: &Path, out: &Path, parent: Option<&Path>| {
        let mut args = vec!["pack", "-q", "--target-dir", s(dir), "--out", s(out)];
        args.extend(parent.iter().flat_map(|p| ["--parent", s(p)]));
        args.extend(format);
        ok(&args);
    };
    pack(&build_dir, &build_layer, None);
    pack(&project.target(), &layer, Some(&build_layer));
    make_store_like(&project.path("out"));
    std::fs::remove_dir_all(&build_dir).unwrap();
    std::fs::remove_dir_all(project.target()).unwrap();
    let verb = if strategy == Strategy::Symlink {
        "link"
    } else {
        "unpack"
    };
    for (from, into) in [(&build_layer, &build_dir), (&layer, &project.target())] {
        ok(&[verb, "-q", "--from", s(from), "--target-dir", s(into)]);
    }
    if strategy == Strategy::Symlink {
        let linked = walkdir::WalkDir::new(&build_dir)
            .into_iter()
            .filter(|e| e.as_ref().unwrap().path_is_symlink())
            .count();
        assert!(linked > 0, "no artifact of the build directory was linked");
    }
    let again = cargo(&project, layout, &["build"], &build_dir);
    assert!(again.success, "{}", again.stderr);
    assert_eq!(again.rebuilt, Vec::<String>::new(), "{}", again.stderr);

    // A member edited: it alone compiles, over what was inherited.
    write(
        &project.src.join("src/main.rs"),
        b"fn main() { println!(\"edited\"); }\n",
    );
    let edited = cargo(&project, layout, &["build"], &build_dir);
    assert!(edited.success, "{}", edited.stderr);
    assert_eq!(edited.rebuilt, ["build-dir-app"], "{}", edited.stderr);
}

#[test]
fn layered_with_build_dir() {
    inherit_apart(Layout::Current, Strategy::Layered);
}

#[test]
fn symlink_with_build_dir() {
    inherit_apart(Layout::Current, Strategy::Symlink);
}

#[test]
fn layered_with_the_new_build_dir_layout() {
    inherit_apart(Layout::New, Strategy::Layered);
}

#[test]
fn symlink_with_the_new_build_dir_layout() {
    inherit_apart(Layout::New, Strategy::Symlink);
}
