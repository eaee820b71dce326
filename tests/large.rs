//! Large files are stored in parts of at most 64 MiB and no frame holds more
//! than 128 MiB, so what pack and unpack hold in memory is bounded by the
//! frame size and the thread count, not by the largest file.

mod common;

use std::path::Path;

use cargo_inherit::Layer;
use common::*;

const MIB: u64 = 1 << 20;

/// Content that differs from 1 MiB to the next and compresses fast.
fn content(mib: u64, seed: u8) -> Vec<u8> {
    (0..mib * MIB)
        .map(|x| ((x / MIB) as u8).wrapping_mul(31) ^ seed ^ (x % 7) as u8)
        .collect()
}

fn pack(tree: &Path, out: &Path) -> Layer {
    ok(&["pack", "--target-dir", s(tree), "--out", s(out)]);
    Layer::open(out).unwrap()
}

#[test]
fn a_file_larger_than_a_blob_is_stored_in_bounded_parts() {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    // An rlib embedding a 70 MiB rmeta, the rmeta beside it, and a 150 MiB
    // executable: every one larger than a blob.
    let rmeta = [b"rust\0\0\0".as_slice(), &content(70, 1)].concat();
    let rlib = [b"!<arch>\nlib.rmeta/".as_slice(), &rmeta, &content(3, 2)].concat();
    write(&tree.join("release/deps/libbig-1.rmeta"), &rmeta);
    write(&tree.join("release/deps/libbig-1.rlib"), &rlib);
    write(&tree.join("release/app"), &content(150, 3));
    let layer = pack(&tree, &work.path().join("layer"));
    let m = &layer.manifest;
    assert!(
        m.blobs.iter().all(|b| b.size <= 64 * MIB),
        "a blob over 64 MiB"
    );
    assert!(
        m.frames.iter().all(|f| f.raw_length <= 128 * MIB),
        "a frame over 128 MiB"
    );
    // The rlib's rmeta pieces are the rmeta file's: stored once.
    let stored: u64 = m.blobs.iter().map(|b| b.size).sum();
    assert_eq!(
        stored,
        rmeta.len() as u64 + (rlib.len() - rmeta.len()) as u64 + 150 * MIB
    );
    let target = work.path().join("target");
    ok(&[
        "unpack",
        "--from",
        s(&work.path().join("layer")),
        "--target-dir",
        s(&target),
    ]);
    assert_eq!(snapshot(&target), snapshot(&tree));
}

#[test]
fn a_frame_claimed_past_the_limit_is_refused_before_it_is_read() {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("tree");
    write(&tree.join("release/deps/liba.rlib"), &content(1, 4));
    let out = work.path().join("layer");
    pack(&tree, &out);
    let path = out.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    manifest["frames"][0]["raw_length"] = (300 * MIB).into();
    for blob in manifest["blobs"].as_array_mut().unwrap() {
        blob["size"] = (300 * MIB).into();
    }
    for entry in manifest["entries"].as_array_mut().unwrap() {
        if entry["kind"] == "file" {
            entry["size"] = (300 * MIB).into();
        }
    }
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let target = work.path().join("target");
    let stderr = fails(&["unpack", "--from", s(&out), "--target-dir", s(&target)]);
    assert!(
        stderr.contains(s(&out)) && stderr.contains("a frame holds at most 134217728"),
        "{stderr}"
    );
    assert!(!target.exists());
}
