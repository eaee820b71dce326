//! What a killed or concurrent run leaves: a later unpack removes the
//! staging directories of killed runs, a later pack what a killed pack left
//! in its output; two unpacks into one target at once give the tree of one,
//! not a mix, and a second pack into one output fails at once.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// A tree of many small files and a few large ones, and its layer.
fn packed(work: &Path) {
    for i in 0..2000 {
        write(
            &work.join(format!("tree/release/deps/f{i:04}.d")),
            format!("{i}").as_bytes(),
        );
    }
    for i in 0..4u8 {
        let content: Vec<u8> = (0..4_000_000u32).map(|x| (x % 251) as u8 ^ i).collect();
        write(
            &work.join(format!("tree/release/deps/libbig{i}.rlib")),
            &content,
        );
    }
    ok(&[
        "pack",
        "--target-dir",
        s(&work.join("tree")),
        "--out",
        s(&work.join("layer")),
    ]);
}

/// Unpacks `layer` into `out/target` and insists it is the packed tree.
fn unpacks_to_the_tree(work: &Path, layer: &str) {
    let target = work.join("out/target");
    ok(&[
        "unpack",
        "--from",
        s(&work.join(layer)),
        "--target-dir",
        s(&target),
    ]);
    assert_eq!(snapshot(&target), snapshot(&work.join("tree")));
}

fn unpack(work: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"));
    command
        .args(["unpack", "--from", s(&work.join("layer")), "--target-dir"])
        .arg(work.join("out/target"))
        .stderr(Stdio::piped());
    command
}

/// Staging directories in `dir` (none when a run was killed before making it).
fn staging_dirs(dir: &Path) -> Vec<String> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    listing
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".unpack-"))
        .collect()
}

#[test]
fn a_later_unpack_removes_what_killed_ones_left() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    packed(w);
    // What a killed run leaves, read-only directories included; and the
    // staging directory of another target, which is not this run's business.
    write(
        &w.join("out/.target.unpack-Ab12Cd/release/deps/half.rlib"),
        b"half",
    );
    let deps = w.join("out/.target.unpack-Ab12Cd/release/deps");
    std::fs::set_permissions(&deps, std::fs::Permissions::from_mode(0o555)).unwrap();
    write(&w.join("out/.other.unpack-Zz99Yy/x"), b"another target's");
    let output = unpack(w).output().unwrap();
    succeeded(&output);
    assert_eq!(staging_dirs(&w.join("out")), [".other.unpack-Zz99Yy"]);
    assert_eq!(snapshot(&w.join("out/target")), snapshot(&w.join("tree")));
}

#[test]
fn an_unpack_killed_while_staging_is_mended_by_the_next() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    packed(w);
    // Kill later and later until a kill lands while the tree is staged.
    let killed_while_staging = (1..40).any(|step| {
        let mut child = unpack(w).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(25 * step));
        child.kill().unwrap();
        child.wait().unwrap();
        !staging_dirs(&w.join("out")).is_empty()
    });
    assert!(killed_while_staging, "no kill landed while staging");
    let output = unpack(w).output().unwrap();
    succeeded(&output);
    assert_eq!(staging_dirs(&w.join("out")), Vec::<String>::new());
    assert_eq!(snapshot(&w.join("out/target")), snapshot(&w.join("tree")));
}

#[test]
fn two_unpacks_at_once_both_succeed_with_one_tree() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    packed(w);
    for _ in 0..3 {
        let _ = std::fs::remove_dir_all(w.join("out"));
        let (a, b) = (unpack(w).spawn().unwrap(), unpack(w).spawn().unwrap());
        for child in [a, b] {
            let output = child.wait_with_output().unwrap();
            succeeded(&output);
        }
        assert_eq!(staging_dirs(&w.join("out")), Vec::<String>::new());
        assert_eq!(snapshot(&w.join("out/target")), snapshot(&w.join("tree")));
    }
}

fn pack(work: &Path, out: &str, format: &str) -> std::process::Output {
    cargo_inherit(&[
        "pack",
        "--target-dir",
        s(&work.join("tree")),
        "--out",
        s(&work.join(out)),
        "--format",
        format,
    ])
}

#[test]
fn a_pack_writes_over_what_a_killed_pack_left_and_nothing_else() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    packed(w);
    write(&w.join("again/blobs.zst"), b"half a frame");
    write(&w.join("again/.tmpXy12Z"), b"half a manifest");
    write(
        &w.join("plain/.target.partial-Ab12/release/x"),
        b"half a tree",
    );
    write(&w.join("plain/cargo-inherit-shared.json"), b"[]");
    for (out, format) in [("again", "layered"), ("plain", "plain")] {
        let output = pack(w, out, format);
        succeeded(&output);
    }
    unpacks_to_the_tree(w, "again");
    assert!(!w.join("plain/.target.partial-Ab12").exists());
    // A complete layer, or anything else, is still never written over.
    for (out, format) in [("again", "layered"), ("plain", "plain")] {
        let output = pack(w, out, format);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("refusing to write over it"),
            "{out}: {stderr}"
        );
    }
}

#[test]
fn a_pack_killed_while_writing_is_mended_by_the_next() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    packed(w);
    let killed_while_writing = (1..40).any(|step| {
        let _ = std::fs::remove_dir_all(w.join("again"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
            .args([
                "pack",
                "--level",
                "9",
                "--target-dir",
                s(&w.join("tree")),
                "--out",
            ])
            .arg(w.join("again"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(25 * step));
        child.kill().unwrap();
        child.wait().unwrap();
        w.join("again/blobs.zst").exists() && !w.join("again/manifest.json").exists()
    });
    assert!(killed_while_writing, "no kill landed while writing");
    let output = pack(w, "again", "layered");
    succeeded(&output);
    unpacks_to_the_tree(w, "again");
}

#[test]
fn a_pack_into_a_directory_another_is_writing_fails_at_once() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    packed(w);
    std::fs::create_dir(w.join("busy")).unwrap();
    let held = std::fs::File::open(w.join("busy")).unwrap();
    held.lock().unwrap();
    let output = pack(w, "busy", "layered");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another process is writing into it"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(w.join("busy")).unwrap().count(), 0);
}
