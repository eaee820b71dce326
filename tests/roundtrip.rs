//! unpack(pack(tree)) reproduces the tree byte for byte, mode for mode and
//! link for link, on generated trees.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cargo_inherit::unpack_layer;
use cargo_inherit::{pack, PackOptions};
use cargo_inherit::{Level, Settings};
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Dir,
    File {
        size: usize,
        seed: u8,
        mode: u32,
    },
    /// A file with the same content as an earlier one, not linked to it.
    Copy {
        of: usize,
    },
    HardLink {
        of: usize,
    },
    Symlink {
        target: String,
    },
    /// `libNAME.rmeta` and `libNAME.rlib` embedding it, as rustc writes them.
    Crate {
        size: usize,
        seed: u8,
    },
}

const NAMES: &[&str] = &[
    "a",
    "deps",
    "é",
    "日本語",
    "crab 🦀",
    "with space",
    "x.rlib",
    ".hidden",
    "UPPER",
    "z-1",
];

fn op() -> impl Strategy<Value = (usize, usize, Op)> {
    let sizes = prop_oneof![
        Just(0usize),
        Just(1),
        1..300usize,
        3000..9000usize,
        Just(70_000)
    ];
    let modes = prop_oneof![
        Just(0o644u32),
        Just(0o755),
        Just(0o444),
        Just(0o555),
        Just(0o600),
        Just(0o664)
    ];
    // Symlinks as cargo and build scripts make them: ones that would lead
    // out of the tree are refused (tests/hostile.rs).
    let targets = prop_oneof![
        Just("sub/../a".to_string()),
        Just("/nix/store/0000-absolute/lib".to_string()),
        Just("dangling-nowhere".to_string()),
        Just("a".to_string()),
    ];
    let kind = prop_oneof![
        2 => Just(Op::Dir),
        4 => (sizes.clone(), any::<u8>(), modes).prop_map(|(size, seed, mode)| Op::File { size, seed, mode }),
        1 => (0..8usize).prop_map(|of| Op::Copy { of }),
        1 => (0..8usize).prop_map(|of| Op::HardLink { of }),
        1 => targets.prop_map(|target| Op::Symlink { target }),
        1 => (sizes, any::<u8>()).prop_map(|(size, seed)| Op::Crate { size, seed }),
    ];
    (0..16usize, 0..NAMES.len(), kind)
}

fn content(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i / 251) as u8)
        .collect()
}

/// Builds a tree from ops: each op goes into an already created directory.
fn build(root: &Path, ops: &[(usize, usize, Op)]) {
    let mut dirs = vec![root.to_path_buf()];
    let mut files = Vec::new();
    for (n, (dir, name, op)) in ops.iter().enumerate() {
        let parent = &dirs[dir % dirs.len()];
        let path = parent.join(format!("{}{n}", NAMES[*name]));
        match op {
            Op::Dir => {
                std::fs::create_dir(&path).unwrap();
                dirs.push(path);
            }
            Op::File { size, seed, mode } => {
                write(&path, &content(*size, *seed));
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode)).unwrap();
                files.push(path);
            }
            Op::Copy { of } | Op::HardLink { of } if !files.is_empty() => {
                let original = files[of % files.len()].clone();
                if matches!(op, Op::Copy { .. }) {
                    std::fs::copy(&original, &path).unwrap();
                } else {
                    std::fs::hard_link(&original, &path).unwrap();
                }
                files.push(path);
            }
            Op::Copy { .. } | Op::HardLink { .. } => {}
            Op::Symlink { target } => std::os::unix::fs::symlink(target, &path).unwrap(),
            Op::Crate { size, seed } => {
                let mut rmeta = b"rust\0\0\0\x0a".to_vec();
                rmeta.extend(content(*size, *seed));
                let mut rlib = b"!<arch>\nlib.rmeta/      ELF header".to_vec();
                rlib.extend(&rmeta);
                rlib.extend(content(*size / 2 + 1, seed.wrapping_add(1)));
                write(&parent.join(format!("lib{n}-h.rmeta")), &rmeta);
                write(&parent.join(format!("lib{n}-h.rlib")), &rlib);
            }
        }
    }
}

fn round_trip(ops: &[(usize, usize, Op)], frame_size: u64) {
    let work = tempfile::tempdir().unwrap();
    let (tree, layer, out) = (
        work.path().join("tree"),
        work.path().join("layer"),
        work.path().join("out"),
    );
    std::fs::create_dir(&tree).unwrap();
    build(&tree, ops);
    std::fs::write(tree.join(".cargo-lock"), "").unwrap();
    let before = snapshot(&tree);

    let settings = Settings {
        level: Level::Fixed(1),
        long_distance: true,
        frame_size,
    };
    pack(&PackOptions {
        target_dir: tree.clone(),
        out: layer.clone(),
        parents: vec![],
        borrow: vec![],
        settings,
        skeleton: None,
        workspace: None,
        sources: None,
        prune_unused: None,
    })
    .unwrap();
    unpack_layer(&layer, &out, None, Path::new("/nix/store")).unwrap();

    assert_eq!(snapshot(&out), expected_after_unpack(&before));
    assert_all_mtimes_one(&out);
    make_writable(&tree);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn unpack_of_pack_is_the_same_tree(ops in prop::collection::vec(op(), 0..40), frame_size in 1u64..20_000) {
        round_trip(&ops, frame_size);
    }
}

#[test]
fn packing_twice_gives_identical_layers() {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let ops: Vec<_> = (0..30)
        .map(|n| {
            (
                n % 4,
                n % NAMES.len(),
                if n % 4 == 0 {
                    Op::Dir
                } else {
                    Op::Crate {
                        size: 5000 + n,
                        seed: n as u8,
                    }
                },
            )
        })
        .collect();
    build(&tree, &ops);
    let layers: Vec<Vec<u8>> = (0..2)
        .map(|i| {
            let out = work.path().join(format!("layer{i}"));
            ok(&[
                "pack",
                "--target-dir",
                s(&tree),
                "--out",
                s(&out),
                "--frame-size",
                "10000",
                "-j",
                "2",
            ]);
            [
                std::fs::read(out.join("manifest.json")).unwrap(),
                std::fs::read(out.join("blobs.zst")).unwrap(),
            ]
            .concat()
        })
        .collect();
    assert_eq!(layers[0], layers[1]);
}

#[test]
fn an_rlib_is_stored_as_parts_sharing_its_rmeta() {
    let work = tempfile::tempdir().unwrap();
    let (tree, layer) = (work.path().join("tree"), work.path().join("layer"));
    std::fs::create_dir(&tree).unwrap();
    build(
        &tree,
        &[(
            0,
            0,
            Op::Crate {
                size: 50_000,
                seed: 7,
            },
        )],
    );
    ok(&["pack", "--target-dir", s(&tree), "--out", s(&layer)]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layer.join("manifest.json")).unwrap()).unwrap();
    let rlib = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with(".rlib"))
        .unwrap();
    let rmeta = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with(".rmeta"))
        .unwrap();
    assert_eq!(rlib["parts"][1]["hash"], rmeta["hash"]);
    // rmeta once, plus the rlib's header and tail.
    assert_eq!(manifest["blobs"].as_array().unwrap().len(), 3);
}
