//! Bad layers and bad trees: a clear error naming the layer and the entry, a
//! non-zero exit, and the target directory exactly as it was.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

struct Case {
    work: tempfile::TempDir,
}

impl Case {
    /// A tree with two same-sized files and a layer of it, plus a target
    /// directory the user already has.
    fn new() -> Case {
        let case = Case {
            work: tempfile::tempdir().unwrap(),
        };
        let tree = case.path("tree");
        write(&tree.join("release/deps/liba.rlib"), &vec![b'a'; 30_000]);
        write(&tree.join("release/deps/libb.rlib"), &vec![b'b'; 30_000]);
        write(
            &tree.join("release/.fingerprint/a/lib-a"),
            b"0123456789abcdef",
        );
        ok(&[
            "pack",
            "--target-dir",
            s(&tree),
            "--out",
            s(&case.path("layer")),
            "--frame-size",
            "1000",
        ]);
        write(&case.path("target/debug/mine"), b"the user's own file");
        case
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn edit_manifest(&self, layer: &str, edit: impl FnOnce(&mut Value)) {
        let path = self.path(layer).join("manifest.json");
        let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        edit(&mut manifest);
        std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    }

    /// Unpacking `layer` fails with a message holding every one of `needles`,
    /// and leaves the target and its directory as they were.
    fn unpack_fails(&self, layer: &str, needles: &[&str]) {
        let target = self.path("target");
        let before = snapshot(&target);
        let siblings = listing(self.work.path());
        let stderr = fails(&[
            "unpack",
            "--from",
            s(&self.path(layer)),
            "--target-dir",
            s(&target),
        ]);
        for needle in needles {
            assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
        }
        assert_eq!(snapshot(&target), before, "target changed");
        assert_eq!(listing(self.work.path()), siblings, "staging left behind");
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn first_entry_path_mut(manifest: &mut Value) -> &mut Value {
    &mut manifest["entries"][0]["path"]
}

#[test]
fn missing_parent() {
    let case = Case::new();
    write(&case.path("tree/release/deps/libc.rlib"), b"new");
    ok(&[
        "pack",
        "--target-dir",
        s(&case.path("tree")),
        "--out",
        s(&case.path("child")),
        "--parent",
        s(&case.path("layer")),
    ]);
    std::fs::remove_dir_all(case.path("layer")).unwrap();
    case.unpack_fails(
        "child",
        &[
            s(&case.path("child")),
            "parent layer",
            s(&case.path("layer")),
        ],
    );
    let stderr = fails(&[
        "pack",
        "--target-dir",
        s(&case.path("tree")),
        "--out",
        s(&case.path("other")),
        "--parent",
        s(&case.path("gone")),
    ]);
    assert!(
        stderr.contains("gone") && stderr.contains("missing"),
        "{stderr}"
    );
    assert!(!case.path("other").exists());
}

#[test]
fn truncated_frame() {
    let case = Case::new();
    let blobs = case.path("layer/blobs.zst");
    let len = std::fs::metadata(&blobs).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&blobs)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    case.unpack_fails("layer", &[s(&case.path("layer")), "truncated"]);
}

#[test]
fn corrupted_frame() {
    let case = Case::new();
    let blobs = case.path("layer/blobs.zst");
    let mut bytes = std::fs::read(&blobs).unwrap();
    for b in &mut bytes[4..] {
        *b ^= 0x5a;
    }
    std::fs::write(&blobs, bytes).unwrap();
    case.unpack_fails("layer", &[s(&case.path("layer")), "frame"]);
}

#[test]
fn manifest_with_escaping_paths() {
    for bad in ["../../etc/evil", "/etc/evil", "release/../../x"] {
        let case = Case::new();
        case.edit_manifest("layer", |m| *first_entry_path_mut(m) = bad.into());
        case.unpack_fails("layer", &[s(&case.path("layer")), bad]);
    }
}

#[test]
fn blob_whose_hash_does_not_match() {
    let case = Case::new();
    // liba's and libb's blobs have the same size: swapping their index rows
    // makes each file's content come out of the other one's place.
    case.edit_manifest("layer", |m| {
        let blobs = m["blobs"].as_array_mut().unwrap();
        let big: Vec<usize> = (0..blobs.len())
            .filter(|&i| blobs[i]["size"] == 30_000)
            .collect();
        let (a, b) = (blobs[big[0]]["hash"].clone(), blobs[big[1]]["hash"].clone());
        blobs[big[0]]["hash"] = b;
        blobs[big[1]]["hash"] = a;
    });
    case.unpack_fails(
        "layer",
        &[
            s(&case.path("layer")),
            "does not match its blake3",
            "release/deps/lib",
        ],
    );
}

#[test]
fn consistent_claims_of_huge_sizes() {
    // Entry, blob and frame all agree on a size the frame does not hold. A
    // terabyte aborted on a failed allocation before; now it is past what a
    // frame may hold, and a claim under that limit meets the frame's own
    // zstd header, which knows better.
    const TB: u64 = 1 << 40;
    const UNDER_THE_LIMIT: u64 = 100 << 20;
    for (claim, needle) in [
        (TB, "a frame holds at most"),
        (UNDER_THE_LIMIT, "its header says it expands to"),
    ] {
        let case = Case::new();
        claim_size(&case, claim);
        case.unpack_fails(
            "layer",
            &[
                s(&case.path("layer")),
                "blobs.zst is corrupt",
                needle,
                &claim.to_string(),
            ],
        );
    }
}

/// Makes liba's entry, its blob and its frame all claim `size` bytes.
fn claim_size(case: &Case, size: u64) {
    case.edit_manifest("layer", |m| {
        let blob = m["blobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["size"] == 30_000)
            .unwrap()
            .clone();
        for entry in m["entries"].as_array_mut().unwrap() {
            if entry["hash"] == blob["hash"] {
                entry["size"] = size.into();
            }
        }
        for b in m["blobs"].as_array_mut().unwrap() {
            if b["hash"] == blob["hash"] {
                b["size"] = size.into();
                b["offset"] = 0.into();
            }
        }
        let frame = blob["frame"].as_u64().unwrap() as usize;
        m["frames"][frame]["raw_length"] = size.into();
    });
}

#[test]
fn a_manifest_of_millions_of_entries() {
    // 65 MiB of entries: refused by its size before it is parsed.
    let case = Case::new();
    let path = case.path("layer/manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let entry =
        r#"{"kind":"dir","path":"release/dddddddddddddddddddddddddddddddddddddddd","mode":493},"#;
    let entries = entry.repeat((65 << 20) / entry.len());
    std::fs::write(
        &path,
        text.replacen(r#""entries":["#, &format!(r#""entries":[{entries}"#), 1),
    )
    .unwrap();
    case.unpack_fails(
        "layer",
        &[
            s(&path),
            "larger than the 67108864 bytes a manifest may have",
        ],
    );
}

#[test]
fn path_that_is_a_file_and_a_directory() {
    let case = Case::new();
    case.edit_manifest("layer", |m| {
        let entries = m["entries"].as_array_mut().unwrap();
        let i = entries
            .iter()
            .position(|e| e["path"] == "release/deps")
            .unwrap();
        entries[i] =
            serde_json::json!({"kind": "symlink", "path": "release/deps", "target": "elsewhere"});
    });
    case.unpack_fails(
        "layer",
        &[
            s(&case.path("layer")),
            "release/deps/liba.rlib",
            "not a directory",
        ],
    );
}

#[test]
fn unknown_format_version() {
    let case = Case::new();
    case.edit_manifest("layer", |m| m["version"] = 3.into());
    case.unpack_fails(
        "layer",
        &[s(&case.path("layer")), "version 3 is not supported"],
    );
}

#[test]
fn not_a_layer_at_all() {
    let case = Case::new();
    std::fs::create_dir(case.path("empty")).unwrap();
    case.unpack_fails(
        "empty",
        &[s(&case.path("empty")), "not a cargo-inherit layer"],
    );
    std::fs::write(case.path("layer/manifest.json"), "{ not json").unwrap();
    case.unpack_fails(
        "layer",
        &[s(&case.path("layer")), "manifest.json is not valid"],
    );
}

#[test]
fn pack_refuses_to_write_over_something() {
    let case = Case::new();
    let before = snapshot(&case.path("target"));
    let stderr = fails(&[
        "pack",
        "--target-dir",
        s(&case.path("tree")),
        "--out",
        s(&case.path("target")),
    ]);
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(snapshot(&case.path("target")), before);
}

#[test]
fn pack_of_an_unstorable_tree_leaves_nothing() {
    let case = Case::new();
    let fifo = case.path("tree/release/pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let stderr = fails(&[
        "pack",
        "--target-dir",
        s(&case.path("tree")),
        "--out",
        s(&case.path("new")),
    ]);
    assert!(stderr.contains(s(&fifo)), "{stderr}");
    assert!(!case.path("new").exists());
}

#[test]
fn unpack_refuses_a_file_as_target() {
    let case = Case::new();
    write(&case.path("afile"), b"x");
    let stderr = fails(&[
        "unpack",
        "--from",
        s(&case.path("layer")),
        "--target-dir",
        s(&case.path("afile")),
    ]);
    assert!(stderr.contains("not a directory"), "{stderr}");
    assert_eq!(std::fs::read(case.path("afile")).unwrap(), b"x");
}

/// Killed at any moment, pack leaves either no manifest or a whole layer.
#[test]
fn interrupted_pack_never_looks_like_a_layer() {
    let case = Case::new();
    let tree = case.path("big");
    for i in 0..64 {
        let data: Vec<u8> = (0..1_000_000u32)
            .map(|x| (x.wrapping_mul(2654435761) >> (i % 24)) as u8)
            .collect();
        write(&tree.join(format!("f{i}")), &data);
    }
    for delay_ms in [5, 20, 60, 150] {
        let out = case.path(&format!("killed{delay_ms}"));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
            .args([
                "pack",
                "--level",
                "9",
                "--target-dir",
                s(&tree),
                "--out",
                s(&out),
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if out.join("manifest.json").exists() {
            assert!(
                status.success(),
                "a manifest exists although pack was killed"
            );
            ok(&[
                "unpack",
                "--from",
                s(&out),
                "--target-dir",
                s(&case.path(&format!("check{delay_ms}"))),
            ]);
        } else {
            let stderr = fails(&[
                "unpack",
                "--from",
                s(&out),
                "--target-dir",
                s(&case.path("t")),
            ]);
            assert!(stderr.contains("not a cargo-inherit layer"), "{stderr}");
        }
    }
}

/// A tmpfs of `size` mounted at `dir`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status();
        status
            .is_ok_and(|s| s.success())
            .then(|| Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_names_the_target_the_layer_and_the_bytes() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    for i in 0..3u8 {
        let content: Vec<u8> = (0..1_000_000u32).map(|x| (x % 241) as u8 ^ i).collect();
        write(&p(&format!("tree/release/deps/lib{i}.rlib")), &content);
    }
    ok(&[
        "pack",
        "--target-dir",
        s(&p("tree")),
        "--out",
        s(&p("layer")),
    ]);
    let Some(_disk) = Tmpfs::mount(&p("small"), "1m") else {
        eprintln!("skipped: cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)");
        return;
    };
    let target = p("small/target");
    write(&target.join("debug/mine"), b"the user's own file");
    let before = snapshot(&p("small"));
    let stderr = fails(&[
        "unpack",
        "--from",
        s(&p("layer")),
        "--target-dir",
        s(&target),
    ]);
    for needle in [
        "no space left",
        s(&target),
        s(&p("layer")),
        "release/deps/lib",
        "3000000 bytes needed in all",
        "bytes free there",
    ] {
        assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    }
    // Measured once the staged tree is gone (it said 0 while it filled the disk).
    let free: u64 = stderr
        .split(" bytes free there")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a number of free bytes");
    assert!(free > 500_000, "{free} bytes free: {stderr}");
    assert_eq!(
        snapshot(&p("small")),
        before,
        "the target or its directory changed"
    );
    // A crane archive on a full disk: the disk is full, the archive fine.
    ok(&["export", "--from", s(&p("layer")), "--out", s(&p("crane"))]);
    let stderr = fails(&[
        "unpack",
        "--from",
        s(&p("crane")),
        "--target-dir",
        s(&target),
    ]);
    assert!(stderr.contains("no space left"), "{stderr}");
    assert!(!stderr.contains("not a readable crane archive"), "{stderr}");
    assert_eq!(
        snapshot(&p("small")),
        before,
        "the target or its directory changed"
    );
}

/// A layer stored as changes to a base (see `delta`) on a parent that was
/// not its base, or with changes that do not make a tree.
#[test]
fn changes_to_a_base_that_is_not_a_parent_or_that_leave_no_tree() {
    let case = Case::new();
    let tree = case.path("tree");
    for i in 0..20 {
        write(&tree.join(format!("release/deps/lib{i}.rlib")), &[i; 100]);
    }
    ok(&[
        "pack",
        "--target-dir",
        s(&tree),
        "--out",
        s(&case.path("base")),
    ]);
    write(&tree.join("release/deps/lib0.rlib"), b"changed");
    let child = |name: &str| {
        let out = case.path(name);
        ok(&[
            "pack",
            "--target-dir",
            s(&tree),
            "--out",
            s(&out),
            "--parent",
            s(&case.path("base")),
        ]);
    };
    child("not-a-parent");
    case.edit_manifest("not-a-parent", |m| {
        m["base"] = s(&case.path("layer")).into()
    });
    case.unpack_fails(
        "not-a-parent",
        &[s(&case.path("layer")), "the base is not one of the parents"],
    );

    child("orphans");
    case.edit_manifest("orphans", |m| {
        m["removed"] = serde_json::json!(["release/deps"])
    });
    case.unpack_fails(
        "orphans",
        &[
            "\"release/deps/lib0.rlib\"",
            "its directory \"release/deps\" is not listed",
        ],
    );
}

#[test]
fn the_root_directory_is_no_target() {
    // It panicked: "an absolute path below / has a parent".
    let case = Case::new();
    let root_link = case.path("root-link");
    std::os::unix::fs::symlink("/", &root_link).unwrap();
    for target in [Path::new("/"), &root_link] {
        let stderr = fails(&[
            "unpack",
            "--from",
            s(&case.path("layer")),
            "--target-dir",
            s(target),
        ]);
        assert!(
            stderr.contains("the root directory cannot be a target directory"),
            "{stderr}"
        );
    }
    assert!(!Path::new("/release").exists());
}

/// An edit of a manifest.
type Edit<'a> = dyn Fn(&mut Value) + 'a;

#[test]
fn names_paths_and_link_targets_no_file_system_takes() {
    let long_name = "n".repeat(256);
    let deep: String = (0..41)
        .map(|_| "d".repeat(100))
        .collect::<Vec<_>>()
        .join("/");
    let cases: [(&str, Box<Edit<'_>>); 4] = [
        (
            "a component longer than the 255 bytes",
            Box::new(|m| *first_entry_path_mut(m) = format!("release/{long_name}").into()),
        ),
        (
            "longer than the 4095 bytes a path may have",
            Box::new(|m| *first_entry_path_mut(m) = format!("release/{deep}").into()),
        ),
        (
            "a symlink with an empty target or a NUL byte in it",
            Box::new(|m| {
                m["entries"].as_array_mut().unwrap().push(serde_json::json!(
                    {"kind": "symlink", "path": "z", "target": "a\u{0}b"}
                ))
            }),
        ),
        (
            "a parent must be an absolute path",
            Box::new(|m| m["parents"] = serde_json::json!(["relative/layer"])),
        ),
    ];
    for (needle, edit) in cases {
        let case = Case::new();
        case.edit_manifest("layer", edit);
        case.unpack_fails("layer", &[s(&case.path("layer")), needle]);
    }
}

#[test]
fn a_path_too_long_once_laid_out_names_the_layer_and_the_entry() {
    // Within the limits a manifest is checked against, too long below the
    // target: the error names the layer and the entry, not a staging path
    // gone by the time it is read.
    let case = Case::new();
    let mut dirs: Vec<String> = (1..=20)
        .map(|n| vec!["d".repeat(200); n].join("/"))
        .collect();
    // 4,082 bytes below the target: more than PATH_MAX below its staging directory.
    dirs.push(format!("{}/{}", dirs[19], "e".repeat(60)));
    case.edit_manifest("layer", |m| {
        let entries = m["entries"].as_array_mut().unwrap();
        for dir in &dirs {
            entries.push(
                serde_json::json!({"kind": "dir", "path": format!("z/{dir}"), "mode": 0o755}),
            );
        }
        entries.push(serde_json::json!({"kind": "dir", "path": "z", "mode": 0o755}));
        entries.sort_by(|a, b| {
            let (a, b) = (a["path"].as_str().unwrap(), b["path"].as_str().unwrap());
            a.split('/').cmp(b.split('/'))
        });
    });
    let target = case.path("target");
    let stderr = fails(&[
        "unpack",
        "--from",
        s(&case.path("layer")),
        "--target-dir",
        s(&target),
    ]);
    for needle in [
        s(&case.path("layer")),
        "entry \"z/ddd",
        "cannot be laid out in",
        "File name too long",
    ] {
        assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    }
    assert!(!stderr.contains(".unpack-"), "{stderr}");
}

#[test]
fn a_bare_target_directory_says_what_was_looked_for() {
    let case = Case::new();
    for verb in ["link", "unpack"] {
        let stderr = fails(&[
            verb,
            "--from",
            s(&case.path("tree")),
            "--target-dir",
            s(&case.path("t")),
        ]);
        for needle in [
            "manifest.json",
            "target/",
            "target.tar.zst",
            s(&case.path("tree")),
        ] {
            assert!(
                stderr.contains(needle),
                "{verb}: {needle:?} not in: {stderr}"
            );
        }
    }
}

#[test]
fn a_plain_tree_with_an_mtime_before_1970() {
    let case = Case::new();
    let plain = case.path("plain");
    ok(&[
        "pack",
        "--format",
        "plain",
        "--target-dir",
        s(&case.path("tree")),
        "--out",
        s(&plain),
    ]);
    std::fs::write(plain.join("cargo-inherit-mtime.json"), "-5").unwrap();
    for verb in ["link", "unpack"] {
        let stderr = fails(&[
            verb,
            "--from",
            s(&plain),
            "--target-dir",
            s(&case.path("t")),
        ]);
        assert!(
            stderr.contains("mtime -5 is before 1970"),
            "{verb}: {stderr}"
        );
    }
}
