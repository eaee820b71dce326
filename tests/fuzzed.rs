//! Mutated real inputs, unpacked by the real binary: whatever the mutation,
//! cargo-inherit exits 0 or 1 (never a panic or a signal), writes nothing
//! outside the target, and a run that fails leaves the target as it was.
//! The cargo-fuzz targets in fuzz/ go deeper; this runs in every CI.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;

use common::*;

/// A real layer (rlib around its rmeta, hard links, symlinks, a nested
/// tree) and crane's archive of the same tree, made once per test binary.
fn originals() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let tree = dir.join("tree");
        let rmeta = [b"rust\0\0\0".as_slice(), &[7; 3000]].concat();
        write(&tree.join("release/deps/libx-1.rmeta"), &rmeta);
        let rlib = [b"!<arch>\nlib.rmeta/".as_slice(), &rmeta, &[9; 5000]].concat();
        write(&tree.join("release/deps/libx-1.rlib"), &rlib);
        write(&tree.join("release/deps/x-1"), &[3; 20_000]);
        std::fs::hard_link(tree.join("release/deps/x-1"), tree.join("release/x")).unwrap();
        write(
            &tree.join("release/.fingerprint/x-1/lib-x"),
            b"0123456789abcdef",
        );
        write(&tree.join("release/build/x-1/out/gen.rs"), b"pub fn f() {}");
        std::os::unix::fs::symlink("../deps/x-1", tree.join("release/build/link")).unwrap();
        let (layer, crane) = (dir.join("layer"), dir.join("crane"));
        ok(&[
            "pack",
            "--target-dir",
            s(&tree),
            "--out",
            s(&layer),
            "--frame-size",
            "4000",
        ]);
        ok(&["export", "--from", s(&layer), "--out", s(&crane)]);
        dir
    })
}

/// Unpacks `from` next to a target the user already has and an outside
/// directory, and checks the promises above.
fn unpack_keeps_promises(from: &Path, work: &Path) -> Result<(), TestCaseError> {
    let (target, outside) = (work.join("target"), work.join("outside"));
    write(&target.join("debug/mine"), b"the user's own file");
    write(&outside.join("secret"), b"outside");
    let before = (snapshot(&target), snapshot(&outside));
    let out = cargo_inherit(&["unpack", "--from", s(from), "--target-dir", s(&target)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    prop_assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{:?}: {stderr}",
        out.status
    );
    prop_assert_eq!(&snapshot(&outside), &before.1, "wrote outside: {}", stderr);
    if !out.status.success() {
        prop_assert_eq!(
            &snapshot(&target),
            &before.0,
            "changed the target: {}",
            stderr
        );
        prop_assert!(stderr.contains("cargo-inherit: error:"), "{}", stderr);
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        std::fs::copy(item.path(), to.join(item.file_name())).unwrap();
    }
}

/// The JSON pointers of every leaf of `value`.
fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

/// Values a hostile manifest might carry.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        Just(Value::from(0)),
        Just(Value::from(1u64 << 40)),
        Just(Value::from(u64::MAX)),
        Just(Value::from("..")),
        Just(Value::from("../outside/pwned")),
        Just(Value::from("release/../../outside")),
        Just(Value::from("/tmp")),
        Just(Value::from("release")),
        "[a-z./]{0,12}".prop_map(Value::from),
        Just(Value::Null),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_manifest(picks in prop::collection::vec((any::<prop::sample::Index>(), hostile_value()), 1..4)) {
        let work = tempfile::tempdir().unwrap();
        let layer = work.path().join("layer");
        copy_dir(&originals().join("layer"), &layer);
        let path = layer.join("manifest.json");
        let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut pointers = Vec::new();
        leaves(&manifest, String::new(), &mut pointers);
        for (index, value) in picks {
            let pointer = index.get(&pointers).clone();
            *manifest.pointer_mut(&pointer).unwrap() = value;
        }
        std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
        unpack_keeps_promises(&layer, work.path())?;
    }

    #[test]
    fn mutated_frames(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let work = tempfile::tempdir().unwrap();
        let layer = work.path().join("layer");
        copy_dir(&originals().join("layer"), &layer);
        let path = layer.join("blobs.zst");
        let mut blobs = std::fs::read(&path).unwrap();
        for (index, byte) in flips {
            let at = index.index(blobs.len());
            blobs[at] ^= byte | 1;
        }
        std::fs::write(&path, blobs).unwrap();
        unpack_keeps_promises(&layer, work.path())?;
    }

    #[test]
    fn a_mutated_crane_archive(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        // Mutated inside the compression, so the tar reader sees the damage.
        let work = tempfile::tempdir().unwrap();
        let crane = work.path().join("crane");
        std::fs::create_dir_all(&crane).unwrap();
        let archive = originals().join("crane/target.tar.zst");
        let mut tar = zstd::decode_all(std::fs::File::open(archive).unwrap()).unwrap();
        for (index, byte) in flips {
            let at = index.index(tar.len());
            tar[at] ^= byte | 1;
        }
        let packed = zstd::encode_all(tar.as_slice(), 1).unwrap();
        std::fs::write(crane.join("target.tar.zst"), packed).unwrap();
        unpack_keeps_promises(&crane, work.path())?;
    }
}
