//! Deps built from a skeleton, inherited by the real build: store sources
//! and inherited artifacts all have mtime 1, so without the layer's record of
//! dummy units cargo would take the members for fresh and ship the stubs.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::fixture::Project;
use common::*;

/// A deps layer of the project's skeleton, read-only with mtime 1.
fn deps_layer(project: &Project, layer: &Path, record_dummies: bool) {
    project.build_skeleton_in_place(|skeleton| {
        let target = skeleton.join("target");
        let mut args = vec!["pack", "--target-dir", s(&target), "--out", s(layer)];
        if record_dummies {
            args.extend(["--skeleton", s(skeleton)]);
        }
        ok(&args);
    });
    make_store_like(layer);
}

#[test]
fn members_built_from_dummies_rebuild_and_the_real_binary_runs() {
    let project = Project::prepare("basic");
    let layer = project.path("deps-layer");
    deps_layer(&project, &layer, true);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layer.join("manifest.json")).unwrap()).unwrap();
    let dummies: Vec<&str> = manifest["dummies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        dummies.iter().any(|d| d.contains("/.fingerprint/app-")),
        "{dummies:?}"
    );
    assert!(
        dummies.iter().any(|d| d.contains("/.fingerprint/util-")),
        "{dummies:?}"
    );
    assert!(!dummies.iter().any(|d| d.contains("serde")), "{dummies:?}");

    let build = project.inherit_and_build(&layer, None);
    assert!(build.success, "{}", build.stderr);
    assert_eq!(
        build.rebuilt,
        ["app", "util"],
        "exactly the members rebuild"
    );
    assert!(
        project.run_app().contains("hello from the real util"),
        "{}",
        project.run_app()
    );

    // A layer of the real build on top records no dummies: it is reused whole.
    let build_layer = project.path("build-layer");
    ok(&[
        "pack",
        "--target-dir",
        s(&project.target()),
        "--out",
        s(&build_layer),
        "--parent",
        s(&layer),
    ]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(build_layer.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest.get("dummies").is_none(), "{}", manifest["dummies"]);
    project.assert_inherits_fresh(&build_layer);
    make_writable(&layer);
}

/// The control: without the record, the danger is real. The stub `app` is
/// taken for fresh; here `util` does rebuild, against the dummy build
/// script's empty OUT_DIR, so the build breaks instead of shipping the stub.
#[test]
fn without_the_record_the_real_binary_is_not_built() {
    let project = Project::prepare("basic");
    let layer = project.path("deps-layer");
    deps_layer(&project, &layer, false);
    let build = project.inherit_and_build(&layer, None);
    assert!(
        !build.rebuilt.contains(&"app".to_string()),
        "{:?}",
        build.rebuilt
    );
    let real = build.success && project.run_app().contains("hello from the real util");
    assert!(
        !real,
        "the real binary was built without the record: the fixture no longer shows the danger"
    );
    make_writable(&layer);
}

/// A member edited after its layer was packed: in the store both have mtime
/// 1, so only the recorded source hash tells cargo to rebuild it.
#[test]
fn an_edited_member_rebuilds_alone() {
    let project = Project::prepare("basic");
    let first = project.cargo(&["build"], false);
    assert!(first.success, "{}", first.stderr);
    let layer = project.path("build-layer");
    let target = project.target();
    ok(&[
        "pack",
        "--target-dir",
        s(&target),
        "--out",
        s(&layer),
        "--workspace",
        s(&project.src),
    ]);
    make_store_like(&layer);
    let main = project.src.join("app/src/main.rs");
    let edited = std::fs::read_to_string(&main)
        .unwrap()
        .replace("{} ({} bytes", "edited: {} ({} bytes");
    std::fs::write(&main, edited).unwrap();
    let one = filetime::FileTime::from_unix_time(1, 0);
    filetime::set_file_times(&main, one, one).unwrap();

    // Without the workspace, cargo takes the stale app for fresh.
    let blind = project.inherit_and_build(&layer, None);
    assert!(
        blind.success && blind.rebuilt.is_empty(),
        "{:?}",
        blind.rebuilt
    );
    assert!(!project.run_app().contains("edited"));

    let build = project.inherit_and_build(&layer, Some(&project.src));
    assert!(build.success, "{}", build.stderr);
    assert_eq!(build.rebuilt, ["app"]);
    assert!(
        project
            .run_app()
            .contains("edited: hello from the real util"),
        "{}",
        project.run_app()
    );
    make_writable(&layer);
}

/// As a Nix build user sees it: a read-only source tree, no write override,
/// and a single-package workspace whose root manifest is its member's.
#[test]
fn skeleton_of_a_read_only_single_package_workspace() {
    let project = Project::prepare("medium");
    make_store_like(&project.src);
    let out = project.path("skeleton");
    let run = as_build_user(env!("CARGO_BIN_EXE_cargo-inherit"))
        .args(["skeleton", s(&project.src), s(&out)])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("src/main.rs")).unwrap(),
        "fn main() {}\n"
    );
    make_writable(&project.src);
}

/// A project whose `.cargo/config.toml` patches a crates.io crate to a local
/// copy and names its own rustc script: the skeleton is made from another
/// directory, keeps `.cargo/` whole and any path asked for, and refuses
/// paths outside the workspace.
#[test]
fn skeleton_reads_the_projects_own_cargo_config() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config-patch");
    let copied = std::process::Command::new("cp")
        .args(["-r", s(&fixture), s(&src)])
        .status()
        .unwrap();
    assert!(copied.success());
    write(&src.join("notes/extra.txt"), b"read by a build script");
    let out = work.path().join("skeleton");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
        .args(["skeleton", s(&src), s(&out), "--keep", "notes/extra.txt"])
        .current_dir("/")
        .output()
        .unwrap();
    succeeded(&run);
    let rustc = std::fs::metadata(out.join(".cargo/tools/rustc")).unwrap();
    assert!(
        rustc.permissions().mode() & 0o111 != 0,
        "the rustc script lost its x bit"
    );
    for kept in [
        ".cargo/config.toml",
        "local-itoa/src/lib.rs",
        "notes/extra.txt",
    ] {
        assert!(out.join(kept).is_file(), "{kept} is not in the skeleton");
    }
    for (keep, needle) in [
        ("../outside", "not a path below the workspace root"),
        ("missing.txt", "asked to keep it, but it does not exist"),
    ] {
        let out = work.path().join(format!("skeleton-{}", keep.len()));
        let stderr = fails(&["skeleton", s(&src), s(&out), "--keep", keep]);
        assert!(stderr.contains(needle), "{keep}: {stderr}");
    }
}

/// `src` filtered into `dest` as nix/lib's depsSource filters it: the
/// manifests, the lockfile, `.cargo/` and the `keep` directories with their
/// contents (modes kept); returns the names of every file, one a line.
fn filtered(src: &Path, dest: &Path, keep: &[&str]) -> String {
    let mut names = String::new();
    for item in walkdir::WalkDir::new(src) {
        let item = item.unwrap();
        let rel = item.path().strip_prefix(src).unwrap();
        if !item.file_type().is_file() || rel.starts_with("target") {
            continue;
        }
        names += &format!("{}\n", rel.display());
        let name = rel.file_name().unwrap().to_str().unwrap();
        let kept = rel.starts_with(".cargo") || keep.iter().any(|k| rel.starts_with(k));
        if kept || matches!(name, "Cargo.toml" | "Cargo.lock") {
            std::fs::create_dir_all(dest.join(rel).parent().unwrap()).unwrap();
            std::fs::copy(item.path(), dest.join(rel)).unwrap();
        }
    }
    names
}

/// A source filtered to manifests, lockfile and cargo config (no source
/// contents, so that editing code changes nothing the deps build sees),
/// with the list of its file names: the same skeleton as the full source.
#[test]
fn a_skeleton_from_manifests_and_file_names_alone() {
    let project = Project::prepare("basic");
    let bare = project.path("bare");
    let names = filtered(&project.src, &bare, &[]);
    let list = project.path("file-names");
    std::fs::write(&list, &names).unwrap();
    let (full, from_names) = (project.path("full"), project.path("from-names"));
    ok(&["skeleton", s(&project.src), s(&full)]);
    ok(&[
        "skeleton",
        s(&bare),
        s(&from_names),
        "--file-names",
        s(&list),
    ]);
    assert_eq!(snapshot(&from_names), snapshot(&full));

    // The control: from the manifests alone, cargo finds no targets.
    let stderr = fails(&["skeleton", s(&bare), s(&project.path("blind"))]);
    assert!(stderr.contains("src/lib.rs"), "{stderr}");
    std::fs::write(&list, format!("{names}../outside.rs\n")).unwrap();
    let stderr = fails(&[
        "skeleton",
        s(&bare),
        s(&project.path("bad")),
        "--file-names",
        s(&list),
    ]);
    assert!(
        stderr.contains("\"../outside.rs\"") && stderr.contains(s(&list)),
        "{stderr}"
    );
}

/// A path dependency that is not a member (config-patch's local itoa) is a
/// dependency: given by name only, the skeleton refuses it, naming the
/// directory to keep; kept, it is copied whole.
#[test]
fn a_path_dependency_given_by_name_only_must_be_kept() {
    let work = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config-patch");
    let bare = work.path().join("bare");
    let names = filtered(&fixture, &bare, &["local-itoa"]);
    let list = work.path().join("file-names");
    std::fs::write(&list, &names).unwrap();
    let out = work.path().join("kept");
    let (bare_s, list_s) = (s(&bare), s(&list));
    ok(&[
        "skeleton",
        bare_s,
        s(&out),
        "--file-names",
        list_s,
        "--keep",
        "local-itoa",
    ]);
    let real = std::fs::read(fixture.join("local-itoa/src/lib.rs")).unwrap();
    assert_eq!(
        std::fs::read(out.join("local-itoa/src/lib.rs")).unwrap(),
        real
    );

    std::fs::remove_dir_all(bare.join("local-itoa/src")).unwrap();
    let out = work.path().join("by-name");
    let stderr = fails(&["skeleton", bare_s, s(&out), "--file-names", list_s]);
    assert!(
        stderr.contains("package `itoa` is a path dependency")
            && stderr.contains("--keep local-itoa"),
        "{stderr}"
    );
}
