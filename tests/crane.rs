//! crane interop: archives written by crane's exact command lines are laid
//! out as crane's own extraction would lay them out (with cargo-inherit's
//! rules on top), and `export` writes what crane's extraction reads back.

mod common;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use cargo_inherit::Layer;

use common::fixture::Project;
use common::*;

fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// crane's full archive of `DIR/target` into `OUT/target.tar.zst`.
fn crane_full(dir: &Path, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    sh(dir, &format!(
        "tar --sort=name --mtime=@1 --owner=0 --group=0 --mode=u+w --numeric-owner -c target | zstd -q -o {}/target.tar.zst",
        out.display()
    ));
}

/// crane's incremental archive: what is newer than an epoch+1 marker, with
/// `.prev` linking to the archive it was inherited from.
fn crane_diff(dir: &Path, out: &Path, prev: &Path) {
    std::fs::create_dir_all(out).unwrap();
    sh(dir, &format!(
        "touch -d @1 ../marker && find target -newer ../marker -print0 | tar --null --no-recursion --sort=name \
         --mtime=@1 --owner=0 --group=0 --numeric-owner -c -f - -T - | zstd -q -o {0}/target.tar.zst && \
         ln -s {1}/target.tar.zst {0}/target.tar.zst.prev",
        out.display(),
        prev.display()
    ));
}

/// What crane's own inherit lays out: every archive oldest first.
fn crane_extract(archives: &[&Path], into: &Path) {
    std::fs::create_dir_all(into).unwrap();
    for archive in archives {
        sh(
            into,
            &format!(
                "zstd -d -q {}/target.tar.zst --stdout | tar -x --strip-components=1",
                archive.display()
            ),
        );
    }
}

fn tree(root: &Path) {
    write(
        &root.join("target/release/deps/libkeep-1.rlib"),
        &[5; 20_000],
    );
    write(
        &root.join("target/release/deps/libchange-1.rlib"),
        b"before",
    );
    write(
        &root.join("target/release/deps/libgone-1.rlib"),
        b"deleted later",
    );
    write(&root.join("target/release/.cargo-lock"), b"");
    write(
        &root.join("target/release/build/x-1/out/gen.rs"),
        b"// generated",
    );
    write(&root.join("target/release/deps/app-1"), b"\x7fELF binary");
    std::fs::set_permissions(
        root.join("target/release/deps/app-1"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::hard_link(
        root.join("target/release/deps/app-1"),
        root.join("target/release/app"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/nonexistent/dangling",
        root.join("target/release/build/x-1/out/dangling"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/usr/include",
        root.join("target/release/build/x-1/out/include"),
    )
    .unwrap();
}

#[test]
fn a_crane_chain_lays_out_as_crane_extracts_it() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    let src = p("src");
    tree(&src);
    crane_full(&src, &p("one"));
    // As if inherited: everything mtime 1, then a build changes, adds, deletes.
    sh(&src, "find target -exec touch -h -d @1 {} +");
    write(&src.join("target/release/deps/libchange-1.rlib"), b"after");
    write(
        &src.join("target/release/deps/libnew-1.rlib"),
        b"new in the second archive",
    );
    std::fs::remove_file(src.join("target/release/deps/libgone-1.rlib")).unwrap();
    crane_diff(&src, &p("two"), &p("one"));

    crane_extract(&[&p("one"), &p("two")], &p("crane"));
    ok(&[
        "unpack",
        "--from",
        s(&p("two")),
        "--target-dir",
        s(&p("ours")),
    ]);
    assert_eq!(
        snapshot(&p("ours")),
        expected_after_unpack(&snapshot(&p("crane")))
    );
    assert_all_mtimes_one(&p("ours"));
    // crane cannot record the deletion; neither can its archives' reader.
    assert!(p("ours/release/deps/libgone-1.rlib").exists());
    assert!(!p("ours/release/.cargo-lock").exists());
}

#[test]
fn corrupt_and_truncated_crane_archives_leave_the_target_alone() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    tree(&p("src"));
    crane_full(&p("src"), &p("one"));
    write(&p("target/debug/mine"), b"the user's own file");
    let archive = p("one/target.tar.zst");
    let bytes = std::fs::read(&archive).unwrap();
    for (what, damaged) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("corrupted", {
            let mut b = bytes.clone();
            for x in &mut b[8..] {
                *x ^= 0x33;
            }
            b
        }),
    ] {
        std::fs::write(&archive, &damaged).unwrap();
        let before = snapshot(&p("target"));
        let stderr = fails(&[
            "unpack",
            "--from",
            s(&p("one")),
            "--target-dir",
            s(&p("target")),
        ]);
        assert!(
            stderr.contains(s(&archive)) && stderr.contains("crane archive"),
            "{what}: {stderr}"
        );
        assert_eq!(snapshot(&p("target")), before, "{what}: target changed");
    }
}

#[test]
fn export_writes_what_crane_reads_back() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    tree(&p("src"));
    ok(&[
        "pack",
        "--target-dir",
        s(&p("src/target")),
        "--out",
        s(&p("layer")),
    ]);
    ok(&[
        "export",
        "--from",
        s(&p("layer")),
        "--out",
        s(&p("exported")),
    ]);
    crane_extract(&[&p("exported")], &p("crane"));
    ok(&[
        "unpack",
        "--from",
        s(&p("layer")),
        "--target-dir",
        s(&p("ours")),
    ]);
    assert_eq!(snapshot(&p("crane")), snapshot(&p("ours")));
}

#[test]
fn a_cargo_build_on_a_crane_archive_is_fresh() {
    let project = Project::prepare("basic");
    let first = project.cargo(&["build"], false);
    assert!(first.success, "{}", first.stderr);
    let archive = project.path("crane");
    crane_full(&project.src, &archive);
    project.assert_inherits_fresh(&archive);
}

/// crane's use-symlink output: a plain `target/` whose unchanged files are
/// symlinks into the output it was built on. Unpack gives writable copies of
/// what they point to; other symlinks stay as they are.
#[test]
fn a_crane_symlink_output_unpacks_to_writable_copies() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let (older, newer) = (store.join("aaa-deps"), store.join("bbb-build"));
    write(
        &older.join("target/debug/deps/libshared-1.rlib"),
        b"shared rlib",
    );
    write(
        &older.join("target/debug/.fingerprint/shared-1/lib-shared"),
        b"fingerprint",
    );
    write(&newer.join("target/debug/deps/libown-1.rlib"), b"own rlib");
    let script = newer.join("target/debug/build/x-1/build-script-build");
    write(&script, b"\x7fELF build script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(newer.join("target/debug/.fingerprint/shared-1")).unwrap();
    for rel in [
        "debug/deps/libshared-1.rlib",
        "debug/.fingerprint/shared-1/lib-shared",
    ] {
        std::os::unix::fs::symlink(
            older.join("target").join(rel),
            newer.join("target").join(rel),
        )
        .unwrap();
    }
    std::os::unix::fs::symlink("libown-1.rlib", newer.join("target/debug/deps/relative")).unwrap();
    // A build script may link anywhere from its OUT_DIR (see `symlinks`).
    std::fs::create_dir_all(newer.join("target/debug/build/x-2/out")).unwrap();
    std::os::unix::fs::symlink(
        "/nonexistent/dangling",
        newer.join("target/debug/build/x-2/out/dangling"),
    )
    .unwrap();
    make_store_like(&store);

    let target = work.path().join("target");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
        .args(["unpack", "--from", s(&newer), "--target-dir", s(&target)])
        .env("NIX_STORE", &store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = snapshot(&target);
    let file = |content: &[u8]| Snap::File {
        mode: 0o644,
        content: content.to_vec(),
        linked_to: None,
    };
    assert_eq!(got["debug/deps/libshared-1.rlib"], file(b"shared rlib"));
    assert_eq!(
        got["debug/.fingerprint/shared-1/lib-shared"],
        file(b"fingerprint")
    );
    assert_eq!(got["debug/deps/libown-1.rlib"], file(b"own rlib"));
    assert_eq!(
        got["debug/deps/relative"],
        Snap::Symlink {
            target: "libown-1.rlib".into()
        }
    );
    assert_eq!(
        got["debug/build/x-2/out/dangling"],
        Snap::Symlink {
            target: "/nonexistent/dangling".into()
        }
    );
    assert_all_mtimes_one(&target);

    crane_inherit_symlinked(&newer.join("target"), &work.path().join("crane"));
    assert_eq!(
        got,
        files_for_store_links(&snapshot(&work.path().join("crane")), &store),
        "unpack differs from crane's own inherit, store links aside"
    );
    make_writable(&store);
}

/// crane's inherit of a use-symlink output (its inheritCargoArtifacts
/// hook): rsync without deps/*.rlib|rmeta, then symlinks for those.
fn crane_inherit_symlinked(prepared: &Path, target: &Path) {
    let rsync = Command::new("rsync").arg("--version").output();
    assert!(
        rsync.is_ok_and(|o| o.status.success()),
        "rsync is missing (scripts/test.sh installs it)"
    );
    std::fs::create_dir_all(target).unwrap();
    sh(
        target,
        &format!(
            "rsync --recursive --links --times --chmod=u+w --executability \
             --exclude 'deps/*.rlib' --exclude 'deps/*.rmeta' --exclude '.cargo-lock' {0}/ ./ && \
             find {0} '(' -path '*/deps/*.rlib' -or -path '*/deps/*.rmeta' ')' -printf '%P\n' > ../links && \
             xargs --no-run-if-empty -n1 dirname < ../links | sort -u | xargs --no-run-if-empty mkdir -p && \
             xargs -I '##{{}}##' ln -s {0}/##{{}}## ./##{{}}## < ../links",
            prepared.display()
        ),
    );
}

/// A tree with each symlink into `store` replaced by a writable copy of
/// the file it resolves to: crane's layout under cargo-inherit's rules.
fn files_for_store_links(
    tree: &std::collections::BTreeMap<String, Snap>,
    store: &Path,
) -> std::collections::BTreeMap<String, Snap> {
    tree.iter()
        .map(|(path, snap)| {
            let snap = match snap {
                Snap::Symlink { target } if target.starts_with(store) => Snap::File {
                    mode: std::fs::metadata(target).unwrap().permissions().mode() & 0o777 | 0o200,
                    content: std::fs::read(target).unwrap(),
                    linked_to: None,
                },
                other => other.clone(),
            };
            (path.clone(), snap)
        })
        .collect()
}

/// A crane deps-only archive holds members built from dummy sources and no
/// record of it: unpacked next to the workspace, every member rebuilds.
#[test]
fn members_in_a_crane_deps_archive_rebuild_from_real_sources() {
    let (project, _) = built_on_crane_deps();
    assert!(project.run_app().contains("hello from the real util"));
}

/// The basic fixture built on crane's archive of its deps-only build, which
/// rebuilds the members and nothing else. Returns the project and the archive.
fn built_on_crane_deps() -> (Project, std::path::PathBuf) {
    let project = Project::prepare("basic");
    let archive = project.path("crane-deps");
    project.build_skeleton_in_place(|skeleton| crane_full(skeleton, &archive));
    let build = project.inherit_and_build(&archive, Some(&project.src));
    assert!(build.success, "{}", build.stderr);
    assert_eq!(build.rebuilt, ["app", "util"]);
    (project, archive)
}

/// The content of every regular file below `root`.
fn contents(root: &Path) -> HashSet<Vec<u8>> {
    snapshot(root)
        .into_values()
        .filter_map(|snap| match snap {
            Snap::File { content, .. } => Some(content),
            _ => None,
        })
        .collect()
}

/// A layer packed on crane's deps archive stores only what the archive
/// lacks, reads the rest from it, and lays out the whole tree, fresh to
/// cargo; a layer on that layer reads through it.
#[test]
fn a_layer_on_a_crane_archive_stores_only_what_crane_lacks() {
    let (project, archive) = built_on_crane_deps();
    let target = project.target();
    let layer = project.path("layer");
    ok(&[
        "pack",
        "--target-dir",
        s(&target),
        "--out",
        s(&layer),
        "--parent",
        s(&archive),
    ]);

    crane_extract(&[&archive], &project.path("crane-tree"));
    let in_crane = contents(&project.path("crane-tree"));
    let new_bytes: usize = contents(&target).difference(&in_crane).map(Vec::len).sum();
    let manifest = Layer::open(&layer).unwrap().manifest;
    let stored_raw: u64 = manifest.blobs.iter().map(|b| b.size).sum();
    assert!(
        stored_raw > 0 && stored_raw <= new_bytes as u64,
        "the layer stores {stored_raw} raw bytes; only {new_bytes} are not in crane's archive"
    );
    assert!(manifest.borrowed_bytes() > stored_raw);
    assert_eq!(manifest.foreign[0].path, archive);

    let expected = expected_after_unpack(&snapshot(&target));
    ok(&[
        "unpack",
        "--from",
        s(&layer),
        "--target-dir",
        s(&project.path("out")),
    ]);
    assert_eq!(snapshot(&project.path("out")), expected);

    let second = project.path("second");
    ok(&[
        "pack",
        "--target-dir",
        s(&target),
        "--out",
        s(&second),
        "--parent",
        s(&layer),
    ]);
    assert_eq!(Layer::open(&second).unwrap().manifest.blobs, []);
    project.assert_inherits_fresh(&second);
}

/// A layer on crane's use-symlink output reads from its tree, symlinks into
/// the outputs before it included. Once that output is gone or changed,
/// unpack says so and leaves the target alone.
#[test]
fn a_layer_on_a_crane_symlink_output_reads_through_its_links() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    let store = p("store");
    let (older, newer) = (store.join("aaa-deps"), store.join("bbb-build"));
    write(
        &older.join("target/debug/deps/libshared-1.rlib"),
        &[7; 5000],
    );
    write(&newer.join("target/debug/deps/libown-1.rlib"), &[8; 3000]);
    std::os::unix::fs::symlink(
        older.join("target/debug/deps/libshared-1.rlib"),
        newer.join("target/debug/deps/libshared-1.rlib"),
    )
    .unwrap();
    make_store_like(&store);
    let tree = p("tree");
    write(&tree.join("debug/deps/libshared-1.rlib"), &[7; 5000]);
    write(&tree.join("debug/deps/libown-1.rlib"), &[8; 3000]);
    write(&tree.join("debug/deps/libnew-1.rlib"), b"only here");

    let layer = p("layer");
    ok(&[
        "pack",
        "--target-dir",
        s(&tree),
        "--out",
        s(&layer),
        "--parent",
        s(&newer),
    ]);
    let manifest = Layer::open(&layer).unwrap().manifest;
    assert_eq!(manifest.blobs.len(), 1);
    assert_eq!(manifest.blobs[0].size, 9);
    assert_eq!(manifest.borrowed_bytes(), 8000);
    ok(&["unpack", "--from", s(&layer), "--target-dir", s(&p("out"))]);
    assert_eq!(snapshot(&p("out")), expected_after_unpack(&snapshot(&tree)));

    let target = p("target");
    write(&target.join("debug/mine"), b"the user's own file");
    let before = snapshot(&target);
    let unpack = ["unpack", "--from", s(&layer), "--target-dir", s(&target)];
    make_writable(&store);
    std::fs::write(older.join("target/debug/deps/libshared-1.rlib"), [9; 5000]).unwrap();
    let changed = fails(&unpack);
    assert!(
        changed.contains(s(&layer))
            && changed.contains("\"debug/deps/libshared-1.rlib\"")
            && changed.contains(s(&newer))
            && changed.contains("not what was packed"),
        "{changed}"
    );
    assert_eq!(snapshot(&target), before);
    std::fs::remove_dir_all(&newer).unwrap();
    let missing = fails(&unpack);
    assert!(
        missing.contains(s(&layer)) && missing.contains(s(&newer)) && missing.contains("missing"),
        "{missing}"
    );
    assert_eq!(snapshot(&target), before);
}
