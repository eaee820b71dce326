//! Chains of layers: each stores only what its parents lack, deletions need
//! no record, and every layer of the chain unpacks to its own tree.

mod common;

use std::path::Path;

use common::*;

fn inspect(layer: &Path) -> serde_json::Value {
    let out = cargo_inherit(&["inspect", "--json", s(layer)]);
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each layer in `dir`, read-only as the store makes it (unpacking must
/// not need to write it), unpacks to its tree, every mtime 1.
fn assert_each_unpacks_to_its_tree(dir: &Path, layers: &[(&str, &Tree)]) {
    for (layer, _) in layers {
        make_store_like(&dir.join(layer));
    }
    for (layer, tree) in layers {
        let out = dir.join(format!("out-{layer}"));
        ok(&[
            "unpack",
            "--from",
            s(&dir.join(layer)),
            "--target-dir",
            s(&out),
        ]);
        assert_eq!(
            snapshot(&out),
            expected_after_unpack(tree),
            "unpacking {layer}"
        );
        assert_all_mtimes_one(&out);
    }
}

type Tree = std::collections::BTreeMap<String, Snap>;

fn blob_count(layer: &Path) -> u64 {
    inspect(layer)["layers"][0]["blobs"].as_u64().unwrap()
}

#[test]
fn three_layers_with_additions_changes_and_deletions() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    let tree = p("target");
    write(&tree.join("release/deps/libkeep.rlib"), &[7; 40_000]);
    write(&tree.join("release/deps/libchange.rlib"), b"version one");
    write(
        &tree.join("release/deps/libdelete.rlib"),
        b"goes away in layer 2",
    );
    write(&tree.join("release/build/x/out/gen.rs"), b"// generated");
    ok(&["pack", "--target-dir", s(&tree), "--out", s(&p("l1"))]);
    let tree1 = snapshot(&tree);

    // Layer 2: one file changed, one deleted, one added, one directory gone.
    write(&tree.join("release/deps/libchange.rlib"), b"version two");
    std::fs::remove_file(tree.join("release/deps/libdelete.rlib")).unwrap();
    std::fs::remove_dir_all(tree.join("release/build")).unwrap();
    write(&tree.join("release/deps/libnew.rlib"), b"added in layer 2");
    ok(&[
        "pack",
        "--target-dir",
        s(&tree),
        "--out",
        s(&p("l2")),
        "--parent",
        s(&p("l1")),
    ]);
    let tree2 = snapshot(&tree);

    // Layer 3: a file comes back with layer-1 content; one more is added.
    write(&tree.join("release/deps/libchange.rlib"), b"version one");
    write(
        &tree.join("release/deps/libthree.rlib"),
        b"added in layer 3",
    );
    ok(&[
        "pack",
        "--target-dir",
        s(&tree),
        "--out",
        s(&p("l3")),
        "--parent",
        s(&p("l2")),
    ]);
    let tree3 = snapshot(&tree);

    assert_eq!(blob_count(&p("l1")), 4);
    assert_eq!(
        blob_count(&p("l2")),
        2,
        "only 'version two' and libnew are new"
    );
    assert_eq!(
        blob_count(&p("l3")),
        1,
        "'version one' is in layer 1 already"
    );

    let chain = inspect(&p("l3"));
    let paths: Vec<&str> = chain["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [s(&p("l3")), s(&p("l2")), s(&p("l1"))]);

    assert_each_unpacks_to_its_tree(
        work.path(),
        &[("l1", &tree1), ("l2", &tree2), ("l3", &tree3)],
    );
    for layer in ["l1", "l2", "l3"] {
        make_writable(&p(layer));
    }
}

#[test]
fn unpack_merges_into_an_existing_target() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    write(&p("src/release/deps/liba.rlib"), b"inherited a");
    write(&p("src/release/deps/dir-or-file"), b"a file in the layer");
    ok(&[
        "pack",
        "--target-dir",
        s(&p("src")),
        "--out",
        s(&p("layer")),
    ]);

    let target = p("target");
    write(&target.join("release/deps/liba.rlib"), b"stale local a");
    write(
        &target.join("release/deps/dir-or-file/inside"),
        b"a directory here",
    );
    write(&target.join("release/deps/libmine.rlib"), b"only here");
    write(&target.join("debug/keep"), b"untouched");
    make_store_like(&target.join("release")); // a read-only tree from a previous `link`

    ok(&[
        "unpack",
        "--from",
        s(&p("layer")),
        "--target-dir",
        s(&target),
    ]);
    let got = snapshot(&target);
    let content = |path: &str| match &got[path] {
        Snap::File { content, .. } => content.clone(),
        other => panic!("{path}: {other:?}"),
    };
    assert_eq!(content("release/deps/liba.rlib"), b"inherited a");
    assert_eq!(content("release/deps/dir-or-file"), b"a file in the layer");
    assert_eq!(content("release/deps/libmine.rlib"), b"only here");
    assert_eq!(content("debug/keep"), b"untouched");
    assert_eq!(got["release/deps"], Snap::Dir { mode: 0o755 });
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
    make_writable(&target);
}

fn manifest(layer: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(layer.join("manifest.json")).unwrap()).unwrap()
}

/// A layer on a large parent stores the entries that changed and the paths
/// that went, not the whole tree again (a workspace's layer on a deps
/// layer); the chain still unpacks to each tree, a change of a change too.
#[test]
fn a_layer_on_a_large_parent_stores_only_what_changed() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    let tree = p("target");
    for i in 0..200 {
        write(
            &tree.join(format!("release/deps/lib{i}.rlib")),
            format!("crate {i}").as_bytes(),
        );
    }
    let pack = |layer: &str, parent: Option<&str>| {
        let mut args = vec!["pack", "--target-dir", s(&tree), "--out"];
        let out = p(layer);
        let parent_path = parent.map(p);
        args.push(s(&out));
        if let Some(parent) = &parent_path {
            args.extend(["--parent", s(parent)]);
        }
        ok(&args);
        snapshot(&tree)
    };
    let tree1 = pack("l1", None);
    write(&tree.join("release/deps/lib7.rlib"), b"crate 7, changed");
    std::fs::remove_file(tree.join("release/deps/lib8.rlib")).unwrap();
    write(&tree.join("release/member"), b"the workspace's binary");
    let tree2 = pack("l2", Some("l1"));
    std::fs::remove_file(tree.join("release/member")).unwrap();
    write(&tree.join("release/deps/lib9.rlib"), b"crate 9, changed");
    let tree3 = pack("l3", Some("l2"));

    let l2 = manifest(&p("l2"));
    assert_eq!(l2["base"], s(&p("l1")));
    let changed: Vec<&str> = l2["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["release/deps/lib7.rlib", "release/member"]);
    assert_eq!(l2["removed"], serde_json::json!(["release/deps/lib8.rlib"]));
    assert_eq!(manifest(&p("l3"))["base"], s(&p("l2")));
    assert!(manifest(&p("l1")).get("base").is_none());
    assert_eq!(
        inspect(&p("l3"))["layers"][1]["files"],
        200,
        "l2's whole tree"
    );

    assert_each_unpacks_to_its_tree(
        work.path(),
        &[("l1", &tree1), ("l2", &tree2), ("l3", &tree3)],
    );
}

/// `pack --borrow DIR`: what DIR holds (a derivation's installed binaries)
/// the layer reads from there instead of storing it, and unpack checks it.
#[test]
fn a_layer_borrows_the_files_of_a_package_output() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    let (target, layer, out) = (p("target"), p("layer"), p("out"));
    let binary: Vec<u8> = (0..60_000u32).flat_map(|i| i.to_le_bytes()).collect();
    write(&target.join("release/deps/app-1a"), &binary);
    write(&target.join("release/deps/libdep-2b.rlib"), b"a dependency");
    write(&out.join("bin/app"), &binary);
    let tree = snapshot(&target);
    let pack = |dest: &Path, extra: &[&str]| {
        let args = [
            "pack",
            "--target-dir",
            s(&target),
            "--out",
            s(dest),
            "--borrow",
            s(&out),
        ];
        [&args[..], extra]
            .concat()
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
    };
    let borrowing = pack(&layer, &[]);
    ok(&borrowing.iter().map(String::as_str).collect::<Vec<_>>());

    let summary = &inspect(&layer)["layers"][0];
    assert_eq!(
        summary["blobs"], 1,
        "only the dependency is stored: {summary}"
    );
    assert_eq!(summary["foreign_parents"], serde_json::json!([s(&out)]));
    make_store_like(&layer);
    ok(&["unpack", "--from", s(&layer), "--target-dir", s(&p("t1"))]);
    assert_eq!(snapshot(&p("t1")), expected_after_unpack(&tree));

    // Changed after the pack: unpack says so and lays nothing out.
    write(&out.join("bin/app"), b"stripped");
    let err = fails(&["unpack", "--from", s(&layer), "--target-dir", s(&p("t2"))]);
    assert!(
        err.contains("bin/app") && err.contains("changed or replaced"),
        "{err}"
    );
    assert!(!p("t2").exists());

    let plain = pack(&p("plain"), &["--format", "plain"]);
    let err = fails(&plain.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("--borrow is for layered layers"), "{err}");
    make_writable(&layer);
}
