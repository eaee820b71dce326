//! What a killed or concurrent run leaves: a later unpack removes the
//! staging directories of killed runs, and two unpacks into one target at
//! once give the tree of one, not a mix.

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
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert_eq!(staging_dirs(&w.join("out")), Vec::<String>::new());
        assert_eq!(snapshot(&w.join("out/target")), snapshot(&w.join("tree")));
    }
}
