//! Hostile inputs never write outside the directory they were asked to
//! write: crane archives whose symlinks or hard links lead elsewhere are
//! refused before anything goes through them, whichever verb reads them.

mod common;

use std::path::Path;

use common::*;

/// One entry of a hand-made crane archive: its path, and what it holds.
enum Item {
    Dir(&'static str),
    File(&'static str, &'static [u8]),
    Symlink(&'static str, String),
    HardLink(&'static str, &'static str),
}

/// Writes `items` as crane's `OUT/target.tar.zst`; with `prev`, linked to
/// the archive it was built on as crane links it.
fn archive(out: &Path, items: &[Item], prev: Option<&Path>) {
    std::fs::create_dir_all(out).unwrap();
    let file = std::fs::File::create(out.join("target.tar.zst")).unwrap();
    let encoder = zstd::stream::write::Encoder::new(file, 3).unwrap();
    let mut builder = tar::Builder::new(encoder);
    for item in items {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o755);
        header.set_mtime(1);
        match item {
            Item::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, std::io::empty())
                    .unwrap();
            }
            Item::File(path, content) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(content.len() as u64);
                builder.append_data(&mut header, path, *content).unwrap();
            }
            Item::Symlink(path, _) | Item::HardLink(path, _) => {
                let (kind, target) = match item {
                    Item::Symlink(_, target) => (tar::EntryType::Symlink, target.as_str()),
                    Item::HardLink(_, target) => (tar::EntryType::Link, *target),
                    _ => unreachable!(),
                };
                header.set_entry_type(kind);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap().finish().unwrap();
    if let Some(prev) = prev {
        std::os::unix::fs::symlink(prev.join("target.tar.zst"), out.join("target.tar.zst.prev"))
            .unwrap();
    }
}

/// The archives `chain` makes (oldest first, each given the path of a
/// directory outside the target) are refused by every verb that reads
/// crane archives, naming the newest and `needle`: nothing outside
/// changes, the target stays as it was, no layer is left behind. Returns
/// the work directory, for more checks.
fn refused(needle: &str, chain: &[fn(&str) -> Vec<Item>]) -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (outside, target, layer) = (w.join("outside"), w.join("target"), w.join("layer"));
    write(&outside.join("secret"), b"outside the target");
    let mut prev = None;
    for (i, items) in chain.iter().enumerate() {
        let dir = w.join(format!("crane-{i}"));
        archive(&dir, &items(s(&outside)), prev.as_deref());
        prev = Some(dir);
    }
    let from = prev.expect("a chain of at least one archive");
    let newest = from.join("target.tar.zst");
    write(&target.join("debug/mine"), b"the user's own file");
    let before = (snapshot(&outside), snapshot(&target));
    let runs: [&[&str]; 3] = [
        &["unpack", "--from", s(&from), "--target-dir", s(&target)],
        &["link", "--from", s(&from), "--target-dir", s(&target)],
        &[
            "pack",
            "--target-dir",
            s(&target),
            "--parent",
            s(&from),
            "--out",
            s(&layer),
        ],
    ];
    for args in runs {
        let stderr = fails(args);
        assert!(
            stderr.contains(s(&newest)) && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
        assert_eq!(snapshot(&outside), before.0, "{args:?} wrote outside");
        assert_eq!(snapshot(&target), before.1, "{args:?} changed the target");
        assert!(!layer.exists(), "{args:?} left a layer");
    }
    work
}

/// A path below a build script's OUT_DIR, the one place where a symlink
/// out of the tree is laid out (see `a_symlink_that_would_lead_...`): the
/// escapes below go through such links, or try to.
macro_rules! out {
    ($rel:literal) => {
        concat!("target/debug/build/x-1/out/", $rel)
    };
}

#[test]
fn a_file_under_a_symlink_to_an_outside_directory() {
    let work = refused(
        "out/esc, which is not a directory",
        &[|outside| {
            vec![
                Item::Dir(out!("")),
                Item::Symlink(out!("esc"), outside.into()),
                Item::File(out!("esc/pwned"), b"written outside"),
            ]
        }],
    );
    assert!(!work.path().join("outside/pwned").exists());
}

#[test]
fn a_file_under_a_symlink_to_the_parent_directory() {
    refused(
        "under debug/build/x-1/out/up, which is not a directory",
        &[|_| {
            vec![
                Item::Symlink(out!("up"), "../../../../..".into()),
                Item::File(out!("up/pwned"), b"written beside the target"),
            ]
        }],
    );
}

#[test]
fn a_hard_link_through_a_symlink_to_an_outside_file() {
    refused(
        "out/esc, which is not a directory",
        &[|outside| {
            vec![
                Item::Symlink(out!("esc"), outside.into()),
                Item::HardLink("target/stolen", out!("esc/secret")),
            ]
        }],
    );
}

#[test]
fn a_hard_link_to_a_symlink_or_to_nothing() {
    refused(
        "which is no file laid out before it",
        &[|outside| {
            vec![
                Item::Symlink(out!("link"), format!("{outside}/secret")),
                Item::HardLink("target/stolen", out!("link")),
            ]
        }],
    );
}

#[test]
fn a_later_archive_that_turns_a_directory_into_a_symlink() {
    let work = refused(
        "under debug/build/x-1/out/d, which is not a directory",
        &[
            |_| vec![Item::Dir(out!("d")), Item::File(out!("d/f"), b"deps")],
            |outside| {
                vec![
                    Item::Symlink(out!("d"), outside.into()),
                    Item::File(out!("d/pwned"), b"written outside"),
                ]
            },
        ],
    );
    assert!(!work.path().join("outside/pwned").exists());
}

#[test]
fn symlinks_out_of_the_tree_are_laid_out_only_below_a_build_scripts_out_dir() {
    // A build script may link anywhere from its OUT_DIR (cxx links headers
    // of the machine, dangling ones too): kept as they are.
    let work = tempfile::tempdir().unwrap();
    let outside = s(&work.path().join("outside")).to_string();
    let from = work.path().join("crane");
    let out_dir_link = "target/debug/build/links-0123/out/include";
    archive(
        &from,
        &[
            Item::Symlink(out_dir_link, outside.clone()),
            Item::Symlink("target/debug/deps/rel", "libx.rlib".into()),
            Item::File("target/ok", b"inside"),
        ],
        None,
    );
    for verb in ["unpack", "link"] {
        let target = work.path().join(format!("target-{verb}"));
        ok(&[verb, "--from", s(&from), "--target-dir", s(&target)]);
        assert_eq!(
            std::fs::read_link(target.join("debug/build/links-0123/out/include")).unwrap(),
            Path::new(&outside)
        );
        assert_eq!(std::fs::read(target.join("ok")).unwrap(), b"inside");
    }
}

#[test]
fn a_symlink_that_would_lead_cargos_writes_out_of_the_tree_is_refused() {
    // Laid out, cargo wrote through it: a fingerprint linked to a file
    // outside was overwritten by the next build.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let outside = w.join("outside/bin-app");
    write(&outside, b"the user's own file");
    let escapes = [
        s(&outside).to_string(),
        "../../../../outside/bin-app".to_string(),
        "/nix/store/../../etc/passwd".to_string(),
    ];
    for (i, escape) in escapes.iter().enumerate() {
        let tree = w.join(format!("tree-{i}"));
        write(&tree.join("debug/deps/libx.rlib"), b"x");
        std::fs::create_dir_all(tree.join("debug/.fingerprint/app-1")).unwrap();
        std::os::unix::fs::symlink(escape, tree.join("debug/.fingerprint/app-1/bin-app")).unwrap();
        let crane = w.join(format!("crane-{i}"));
        let (layer, plain) = (w.join(format!("layer-{i}")), w.join(format!("plain-{i}")));
        let items = [Item::Symlink(
            "target/debug/.fingerprint/app-1/bin-app",
            escape.clone(),
        )];
        archive(&crane, &items, None);
        ok(&["pack", "--target-dir", s(&tree), "--out", s(&layer)]);
        let plain_pack = [
            "pack",
            "--format",
            "plain",
            "--target-dir",
            s(&tree),
            "--out",
            s(&plain),
        ];
        ok(&plain_pack);
        let target = w.join("target");
        for from in [&crane, &layer, &plain] {
            for verb in ["unpack", "link"] {
                let stderr = fails(&[verb, "--from", s(from), "--target-dir", s(&target)]);
                for needle in ["debug/.fingerprint/app-1/bin-app", "leads out of the tree"] {
                    assert!(
                        stderr.contains(needle),
                        "{verb} {}: {needle:?} not in {stderr}",
                        from.display()
                    );
                }
                assert!(
                    !target.exists(),
                    "{verb} {}: a target was left",
                    from.display()
                );
            }
        }
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"the user's own file");
}

#[test]
fn a_plain_trees_shared_directory_must_be_another_plain_tree() {
    // A directory listed as shared stands for a parent's; one leading to
    // any host directory had its files (a 0600 key) copied into the target.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    write(&w.join("tree/debug/deps/libx.rlib"), b"x");
    let plain = w.join("plain");
    ok(&[
        "pack",
        "--format",
        "plain",
        "--target-dir",
        s(&w.join("tree")),
        "--out",
        s(&plain),
    ]);
    let secret = w.join("home/.ssh/id_rsa");
    write(&secret, b"PRIVATE KEY");
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(w.join("home/.ssh"), plain.join("target/debug/keys")).unwrap();
    std::fs::write(
        plain.join("cargo-inherit-shared-dirs.json"),
        r#"["debug/keys"]"#,
    )
    .unwrap();
    let target = w.join("target");
    for verb in ["unpack", "link"] {
        let stderr = fails(&[verb, "--from", s(&plain), "--target-dir", s(&target)]);
        assert!(
            stderr.contains("not the same path of another plain tree"),
            "{verb}: {stderr}"
        );
        assert!(!target.exists(), "{verb}: a target was left");
    }
}

/// `GNU.sparse.*` records: the hole-punched file a POSIX tar of a sparse
/// file holds, as GNU tar writes it.
#[test]
fn a_posix_sparse_file_in_a_crane_archive_is_refused() {
    // tar-rs laid out `GNUSparseFile.NNN/hole` (its map) and said nothing.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::create_dir_all(w.join("target/debug")).unwrap();
    let hole = std::fs::File::create(w.join("target/debug/hole")).unwrap();
    hole.set_len(50 << 20).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&hole, b"end", (50 << 20) - 3).unwrap();
    let tar = std::process::Command::new("tar")
        .args(["--format=posix", "--sparse", "-cf", "-", "target"])
        .current_dir(w)
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
    std::fs::create_dir_all(w.join("crane")).unwrap();
    let archive = zstd::encode_all(tar.stdout.as_slice(), 3).unwrap();
    std::fs::write(w.join("crane/target.tar.zst"), archive).unwrap();
    let target = w.join("out");
    let stderr = fails(&[
        "unpack",
        "--from",
        s(&w.join("crane")),
        "--target-dir",
        s(&target),
    ]);
    assert!(stderr.contains("POSIX sparse file"), "{stderr}");
    assert!(!target.exists());
}

#[test]
fn leaving_out_dummy_units_takes_time_in_proportion_to_them() {
    // Quadratic before: 10k / 40k entries and dummies took 0.7 / 14 s.
    let work = tempfile::tempdir().unwrap();
    let seconds = |units: usize| {
        let layer = work.path().join(format!("layer-{units}"));
        std::fs::create_dir_all(&layer).unwrap();
        let names: Vec<String> = (0..units)
            .map(|i| format!("debug/.fingerprint/u{i:06}-1"))
            .collect();
        let mut entries = vec![
            serde_json::json!({"kind": "dir", "path": "debug", "mode": 0o755}),
            serde_json::json!({"kind": "dir", "path": "debug/.fingerprint", "mode": 0o755}),
        ];
        entries.extend(
            names
                .iter()
                .map(|path| serde_json::json!({"kind": "dir", "path": path, "mode": 0o755})),
        );
        let manifest = serde_json::json!({
            "format": "cargo-inherit-layer", "version": 2, "parents": [],
            "entries": entries, "frames": [], "blobs": [], "dummies": names,
        });
        std::fs::write(layer.join("manifest.json"), manifest.to_string()).unwrap();
        std::fs::write(layer.join("blobs.zst"), b"").unwrap();
        // The fastest of three: noise only ever adds.
        (0..3)
            .map(|run| {
                let target = work.path().join(format!("target-{units}-{run}"));
                let start = std::time::Instant::now();
                ok(&["unpack", "--from", s(&layer), "--target-dir", s(&target)]);
                start.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let (small, large) = (seconds(10_000), seconds(40_000));
    // Four times the units: four times the time if linear, 16 if quadratic.
    assert!(large < small * 9.0, "10k: {small:.2} s, 40k: {large:.2} s");
}
