//! The symlink strategy: a target tree installed plainly in a read-only,
//! mtime-1 copy (as the store holds it), laid out with `link`, then a change
//! that makes cargo rebuild inherited units over their store symlinks. With
//! cargo-inherit-rustc every cargo command succeeds and rebuilds only what
//! the change touches; without it, the same fixture fails with rustc's
//! "is not writeable".

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::fixture::{wrapper, Project};
use common::*;

/// What a fixture changes before the inheriting build, and what that must rebuild.
struct Case {
    fixture: &'static str,
    /// Environment of the inheriting build (the deps build has none of it).
    env: &'static [(&'static str, &'static str)],
    /// A file to rewrite with new content before the inheriting build.
    edit: Option<(&'static str, &'static str)>,
    /// Packages the change rebuilds.
    rebuilds: &'static [&'static str],
    /// Packages that rebuild on every build, whatever was inherited.
    always: &'static [&'static str],
    /// Packages plain cargo may rebuild on any run of this fixture, depending
    /// on timing.
    may_rerun: &'static [&'static str],
    members: &'static [&'static str],
    /// Symlinks the build writes into the target directory.
    symlinks: usize,
}

const DEPS_BUILD: &[&[&str]] = &[&["build"], &["check"], &["test", "--no-run"], &["doc"]];
const INHERITING: &[&[&str]] = &[
    &["build"],
    &["check"],
    &["test", "--no-run"],
    &["doc"],
    &["clippy"],
];

fn run_case(case: &Case) {
    let project = Project::prepare(case.fixture);
    let wrapper = wrapper();
    let with_wrapper = [("RUSTC_WRAPPER", wrapper.as_str())];
    for args in DEPS_BUILD {
        let build = project.cargo_with(args, false, &with_wrapper);
        assert!(build.success, "deps build {args:?}: {}", build.stderr);
    }
    let artifacts = project.path("artifacts");
    ok(&[
        "pack",
        "--format",
        "plain",
        "--target-dir",
        s(&project.target()),
        "--out",
        s(&artifacts),
    ]);
    make_store_like(&artifacts);

    // Without the wrapper the change bites: rustc cannot write over the store.
    let target = project.target();
    std::fs::remove_dir_all(&target).unwrap();
    ok(&["link", "--from", s(&artifacts), "--target-dir", s(&target)]);
    apply_edit(&project, case);
    let env: Vec<(&str, &str)> = case.env.to_vec();
    let bare = project.cargo_with(&["build"], true, &env);
    assert!(
        !bare.success,
        "{}: the fixture should fail without the wrapper",
        case.fixture
    );
    assert!(
        bare.stderr.contains("is not writeable"),
        "{}: {}",
        case.fixture,
        bare.stderr
    );

    // With it, every command succeeds and rebuilds only what the change touches.
    std::fs::remove_dir_all(&target).unwrap();
    ok(&["link", "--from", s(&artifacts), "--target-dir", s(&target)]);
    let kept = assert_symlinks_kept(&artifacts.join("target"), &target);
    assert_eq!(
        kept, case.symlinks,
        "{}: symlinks in the store tree",
        case.fixture
    );
    let env: Vec<(&str, &str)> = case.env.iter().copied().chain(with_wrapper).collect();
    for args in INHERITING {
        let build = project.cargo_with(args, true, &env);
        assert!(build.success, "{} {args:?}: {}", case.fixture, build.stderr);
        let rebuilt: BTreeSet<&str> = build.rebuilt.iter().map(String::as_str).collect();
        let mut allowed: BTreeSet<&str> =
            case.rebuilds.iter().chain(case.always).copied().collect();
        if args[0] == "clippy" {
            // Clippy checks every member anew: the deps build never ran it.
            allowed.extend(case.members);
        }
        assert!(
            rebuilt.is_subset(&allowed),
            "{} {args:?} rebuilt {rebuilt:?}, allowed {allowed:?}",
            case.fixture
        );
        if args[0] == "build" {
            let expected: BTreeSet<&str> = case.rebuilds.iter().copied().collect();
            assert!(
                expected.is_subset(&rebuilt),
                "{} build rebuilt {rebuilt:?}, expected {expected:?}",
                case.fixture
            );
        }
        // The same command again finds everything fresh, but what always reruns.
        let again = project.cargo_with(args, true, &env);
        assert!(again.success, "{}", again.stderr);
        let again: BTreeSet<&str> = again.rebuilt.iter().map(String::as_str).collect();
        let always: BTreeSet<&str> = case.always.iter().copied().collect();
        let may: BTreeSet<&str> = always.iter().chain(case.may_rerun).copied().collect();
        assert!(
            always.is_subset(&again) && again.is_subset(&may),
            "{} {args:?} run twice rebuilt {again:?}",
            case.fixture
        );
    }
    make_writable(&artifacts);
}

/// Every symlink of the store tree is in the target as it was, never
/// followed. Returns how many there were.
fn assert_symlinks_kept(store: &Path, target: &Path) -> usize {
    let links: Vec<_> = snapshot(store)
        .into_iter()
        .filter(|(_, snap)| matches!(snap, Snap::Symlink { .. }))
        .collect();
    let laid_out = snapshot(target);
    for (path, snap) in &links {
        assert_eq!(laid_out.get(path), Some(snap), "{path}");
    }
    links.len()
}

fn apply_edit(project: &Project, case: &Case) {
    if let Some((file, content)) = case.edit {
        // New content with the current time, as an edited source has.
        std::fs::write(project.src.join(file), content).unwrap();
    }
}

#[test]
fn rerun_if_changed_on_a_missing_file() {
    run_case(&Case {
        fixture: "rerun-missing",
        env: &[],
        edit: None,
        rebuilds: &["flaky", "app"],
        always: &["flaky", "app"],
        may_rerun: &[],
        members: &["flaky", "app"],
        symlinks: 0,
    });
}

#[test]
fn rerun_if_changed_on_its_own_out_dir_output() {
    run_case(&Case {
        fixture: "rerun-outdir",
        env: &[("FIXTURE_REV", "2")],
        edit: None,
        rebuilds: &["gen", "app"],
        always: &[],
        // The script writes the watched file after cargo stamped
        // invoked.timestamp; when the clock ticks in between, cargo sees the
        // file as changed and reruns it. Plain cargo does the same.
        may_rerun: &["gen", "app"],
        members: &["gen", "app"],
        symlinks: 0,
    });
}

#[test]
fn sys_crate_rebuilt_because_cc_changed() {
    run_case(&Case {
        fixture: "cc-sys",
        env: &[("CC", "cc")],
        edit: None,
        rebuilds: &["hello-sys", "app"],
        always: &[],
        may_rerun: &[],
        members: &["hello-sys", "app"],
        symlinks: 0,
    });
}

#[test]
fn build_script_writing_absolute_and_dangling_symlinks() {
    run_case(&Case {
        fixture: "symlinks",
        env: &[("FIXTURE_REV", "2")],
        edit: None,
        rebuilds: &["links", "app"],
        always: &[],
        may_rerun: &[],
        members: &["links", "app"],
        symlinks: 2,
    });
}

#[test]
fn proc_macro_edited_in_a_workspace_with_features() {
    run_case(&Case {
        fixture: "proc-macro-ws",
        env: &[],
        edit: Some((
            "macros/src/lib.rs",
            "use proc_macro::TokenStream;\n\n/// Edited.\n#[proc_macro]\npub fn made_by(_input: TokenStream) -> TokenStream {\n    \"\\\"made by the edited macros\\\"\".parse().unwrap()\n}\n",
        )),
        rebuilds: &["macros", "shared", "app", "tool"],
        always: &[],
        may_rerun: &[],
        members: &["macros", "app", "shared", "tool"],
        symlinks: 0,
    });
}

#[test]
fn plain_pack_links_unchanged_files_to_its_parent() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    write(&p("t/debug/deps/libsame-1.rlib"), b"unchanged rlib");
    write(&p("t/debug/deps/libchanged-1.rlib"), b"first");
    write(&p("t/debug/.fingerprint/same-1/lib-same"), b"fingerprint");
    write(&p("t/debug/.fingerprint/changed-1/lib-changed"), b"first");
    // A build script's link to a file elsewhere stays a link, shared or not.
    write(&p("elsewhere/tool"), b"a host tool");
    std::fs::create_dir_all(p("t/debug/build/x-1/out")).unwrap();
    std::os::unix::fs::symlink(p("elsewhere/tool"), p("t/debug/build/x-1/out/tool")).unwrap();
    ok(&[
        "pack",
        "--format",
        "plain",
        "--target-dir",
        s(&p("t")),
        "--out",
        s(&p("one")),
    ]);
    write(&p("t/debug/deps/libchanged-1.rlib"), b"second");
    write(&p("t/debug/.fingerprint/changed-1/lib-changed"), b"second");
    ok(&[
        "pack",
        "--format",
        "plain",
        "--target-dir",
        s(&p("t")),
        "--out",
        s(&p("two")),
        "--parent",
        s(&p("one")),
    ]);
    let two = snapshot(&p("two/target"));
    let parent_file = p("one/target/debug/deps/libsame-1.rlib")
        .canonicalize()
        .unwrap();
    assert_eq!(
        two["debug/deps/libsame-1.rlib"],
        Snap::Symlink {
            target: parent_file
        }
    );
    assert!(
        matches!(&two["debug/deps/libchanged-1.rlib"], Snap::File { content, .. } if content == b"second")
    );
    // A directory the parent holds unchanged is one symlink to it, listed
    // so that `link` lays it out, fingerprints as writable copies.
    let parent_unit = p("one/target/debug/.fingerprint/same-1")
        .canonicalize()
        .unwrap();
    assert_eq!(
        two["debug/.fingerprint/same-1"],
        Snap::Symlink {
            target: parent_unit
        }
    );
    assert!(!two.contains_key("debug/.fingerprint/same-1/lib-same"));
    let shared: Vec<String> =
        serde_json::from_slice(&std::fs::read(p("two/cargo-inherit-shared-dirs.json")).unwrap())
            .unwrap();
    assert_eq!(shared, ["debug/.fingerprint/same-1", "debug/build"]);
    // deps/ changed, so it is a directory of its own.
    assert!(matches!(two["debug/deps"], Snap::Dir { .. }));
    // A third tree on the second, whose fingerprints all stay as they were:
    // .fingerprint is one link to the second tree's, in which same-1 is a
    // link to the first tree's (link reads through both).
    write(&p("t/debug/deps/libthird-1.rlib"), b"third");
    ok(&[
        "pack",
        "--format",
        "plain",
        "--target-dir",
        s(&p("t")),
        "--out",
        s(&p("three")),
        "--parent",
        s(&p("two")),
    ]);
    let fingerprints = p("two/target/debug/.fingerprint").canonicalize().unwrap();
    assert_eq!(
        snapshot(&p("three/target"))["debug/.fingerprint"],
        Snap::Symlink {
            target: fingerprints
        }
    );
    for tree in ["one", "two", "three"] {
        make_store_like(&p(tree));
    }
    for tree in ["two", "three"] {
        let linked_dir = p(&format!("linked-{tree}"));
        ok(&[
            "link",
            "--from",
            s(&p(tree)),
            "--target-dir",
            s(&linked_dir),
        ]);
        let linked = snapshot(&linked_dir);
        assert!(matches!(
            linked["debug/.fingerprint/same-1"],
            Snap::Dir { .. }
        ));
        assert_eq!(
            linked["debug/.fingerprint/same-1/lib-same"],
            Snap::File {
                mode: 0o644,
                content: b"fingerprint".to_vec(),
                linked_to: None
            }
        );
        assert!(matches!(
            &linked["debug/deps/libsame-1.rlib"],
            Snap::Symlink { target } if target.starts_with(p("one"))
        ));
        assert_eq!(
            linked["debug/build/x-1/out/tool"],
            Snap::Symlink {
                target: p("elsewhere/tool")
            }
        );
    }
    for tree in ["one", "two", "three"] {
        make_writable(&p(tree));
    }
}
