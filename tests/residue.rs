//! What a killed or concurrent run leaves: a later unpack removes the
//! staging directories of killed runs, a later pack what a killed pack left
//! in its output; two unpacks into one target at once give the tree of one,
//! not a mix, and a second pack into one output fails at once.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
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
    let work = sweep_dir();
    let w = work.path();
    packed(w);
    let target = w.join("out/target");
    Sweep {
        phases: &["staging"],
        spawn: &mut || {
            let _ = std::fs::remove_dir_all(w.join("out"));
            unpack(w).stderr(Stdio::null()).spawn().unwrap()
        },
        landed: &mut || {
            let staging = !staging_dirs(&w.join("out")).is_empty();
            assert!(
                !staging || !target.exists(),
                "a target beside a staging directory"
            );
            staging.then_some("staging")
        },
        mend: &mut || {
            succeeded(&unpack(w).output().unwrap());
            assert_eq!(staging_dirs(&w.join("out")), Vec::<String>::new());
            assert_eq!(snapshot(&target), snapshot(&w.join("tree")));
        },
    }
    .run();
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
    let work = sweep_dir();
    let w = work.path();
    packed(w);
    let again = w.join("again");
    let level_9 = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"));
        command
            .args([
                "pack",
                "--level",
                "9",
                "--target-dir",
                s(&w.join("tree")),
                "--out",
                s(&again),
            ])
            .stderr(Stdio::null());
        command
    };
    Sweep {
        phases: &["writing frames"],
        spawn: &mut || {
            let _ = std::fs::remove_dir_all(&again);
            level_9().spawn().unwrap()
        },
        landed: &mut || {
            let writing = again.join("blobs.zst").exists() && !again.join("manifest.json").exists();
            writing.then_some("writing frames")
        },
        mend: &mut || {
            if !again.join("manifest.json").exists() {
                succeeded(&pack(w, "again", "layered"));
            }
            unpacks_to_the_tree(w, "again");
        },
    }
    .run();
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

/// Kills runs at delays swept over a run's duration until a kill has
/// landed in every one of `phases` `PER_PHASE` times. `spawn` sets up and
/// starts a run; `landed` tells from what the killed run left where it
/// was (None: before or after every phase), insisting on what holds at any
/// point; `mend` runs the next run to the end and insists it left nothing
/// of the killed one.
struct Sweep<'a> {
    phases: &'a [&'a str],
    spawn: &'a mut dyn FnMut() -> std::process::Child,
    landed: &'a mut dyn FnMut() -> Option<&'static str>,
    mend: &'a mut dyn FnMut(),
}

const PER_PHASE: usize = 20;

impl Sweep<'_> {
    fn run(self) {
        let mut child = (self.spawn)();
        let start = std::time::Instant::now();
        assert!(child.wait().unwrap().success(), "a run to the end failed");
        let whole = start.elapsed();
        (self.mend)();
        // Delays that landed in each phase: where to aim next.
        let mut hits: Vec<Vec<Duration>> = vec![Vec::new(); self.phases.len()];
        let mut random: u64 = 0x2545_f491_4f6c_dd1d;
        // It stops once every phase has its kills; the budget is for a
        // loaded machine, where phases stretch and aims miss more often.
        for _ in 0..500 {
            let Some(aim) = (0..hits.len())
                .filter(|&p| hits[p].len() < PER_PHASE)
                .min_by_key(|&p| hits[p].len())
            else {
                return;
            };
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            let fraction = (random % 10_000) as f64 / 10_000.0;
            let (lo, hi) = match (hits[aim].iter().min(), hits[aim].iter().max()) {
                (Some(&lo), Some(&hi)) => (lo.saturating_sub(whole / 20), hi + whole / 20),
                _ => (Duration::ZERO, whole + whole / 4),
            };
            let delay = lo + (hi - lo).mul_f64(fraction);
            let mut child = (self.spawn)();
            std::thread::sleep(delay);
            let _ = child.kill();
            child.wait().unwrap();
            if let Some(phase) = (self.landed)() {
                let at = self
                    .phases
                    .iter()
                    .position(|p| *p == phase)
                    .expect("a phase of the sweep");
                hits[at].push(delay);
            }
            (self.mend)();
        }
        let counts: Vec<String> = (self.phases.iter().zip(&hits))
            .map(|(p, h)| format!("{p}: {}", h.len()))
            .collect();
        panic!(
            "fewer than {PER_PHASE} kills landed in a phase: {}",
            counts.join(", ")
        );
    }
}

/// A work directory for a sweep: in memory where the machine has room
/// (/dev/shm), since hundreds of runs creating and removing thousands of
/// files make ext4 search ever longer for inodes to allocate.
fn sweep_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let room = nix::sys::statvfs::statvfs(shm)
        .is_ok_and(|s| s.blocks_available() * s.fragment_size() > 1 << 30);
    match room {
        true => tempfile::tempdir_in(shm).unwrap(),
        false => tempfile::tempdir().unwrap(),
    }
}

/// Files directly in `dir` whose names start with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    (listing.map(|e| e.unwrap().path()))
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

/// `count` small files below `dir`/`sub`, each its own content.
fn small_files(dir: &Path, sub: &str, count: usize) {
    for i in 0..count {
        write(
            &dir.join(format!("{sub}/f{i:05}")),
            format!("{sub} {i}").as_bytes(),
        );
    }
}

/// A fresh copy of `from` at `to` (not hard links: the merge's own are told by their link count).
fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    for item in walkdir::WalkDir::new(from) {
        let item = item.unwrap();
        let dest = to.join(item.path().strip_prefix(from).unwrap());
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(item.path(), &dest).unwrap();
        }
    }
}

#[test]
fn a_merge_killed_at_any_point_leaves_the_target_all_old_or_all_new() {
    let work = sweep_dir();
    let w = work.path();
    // What the user had: files of their own, and some the layer replaces.
    small_files(&w.join("old"), "debug/mine", 600);
    small_files(&w.join("old"), "debug/deps", 50);
    small_files(&w.join("tree"), "debug/deps", 100);
    write(&w.join("tree/debug/big"), &vec![7; 2 << 20]);
    ok(&[
        "pack",
        "--target-dir",
        s(&w.join("tree")),
        "--out",
        s(&w.join("layer")),
    ]);
    let (target, temp) = (w.join("out/target"), w.join("tmp"));
    std::fs::create_dir_all(&temp).unwrap();
    let unpack = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"));
        command
            .args([
                "unpack",
                "--from",
                s(&w.join("layer")),
                "--target-dir",
                s(&target),
            ])
            .env("TMPDIR", &temp)
            .stderr(Stdio::null());
        command
    };
    copy_tree(&w.join("old"), &target);
    let old = snapshot(&target);
    succeeded(&unpack().output().unwrap());
    let new = snapshot(&target);
    assert_ne!(old, new);
    let marker = target.join("debug/mine/f00000");
    Sweep {
        phases: &[
            "staging",
            "linking the target's entries",
            "removing the old tree",
        ],
        spawn: &mut || {
            copy_tree(&w.join("old"), &target);
            unpack().spawn().unwrap()
        },
        landed: &mut || {
            let staging = !staging_dirs(&w.join("out")).is_empty();
            let now = snapshot(&target);
            assert!(
                now == old || now == new,
                "a mix of old and new (staging: {staging})"
            );
            let linked = std::fs::metadata(&marker).unwrap().nlink() > 1;
            match (staging, now == new) {
                (true, false) if linked => Some("linking the target's entries"),
                (true, false) => Some("staging"),
                (true, true) => Some("removing the old tree"),
                (false, _) => None,
            }
        },
        mend: &mut || {
            succeeded(&unpack().output().unwrap());
            assert_eq!(snapshot(&target), new);
            assert_eq!(staging_dirs(&w.join("out")), Vec::<String>::new());
            assert_eq!(
                std::fs::read_dir(&temp).unwrap().count(),
                0,
                "left in TMPDIR"
            );
        },
    }
    .run();
}

/// A tree, its layer exported as a crane archive, and an empty TMPDIR.
fn crane_parent(w: &Path) {
    small_files(&w.join("tree"), "debug/deps", 1500);
    write(
        &w.join("tree/debug/big"),
        &(0..16u32 << 20)
            .map(|x| (x % 251) as u8)
            .collect::<Vec<_>>(),
    );
    ok(&[
        "pack",
        "--target-dir",
        s(&w.join("tree")),
        "--out",
        s(&w.join("layer")),
    ]);
    ok(&[
        "export",
        "--from",
        s(&w.join("layer")),
        "--out",
        s(&w.join("crane")),
    ]);
    std::fs::create_dir_all(w.join("tmp")).unwrap();
}

fn in_tmp(w: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"));
    command
        .args(args)
        .env("TMPDIR", w.join("tmp"))
        .stderr(Stdio::null());
    command
}

#[test]
fn a_pack_on_a_crane_parent_killed_leaves_nothing_after_the_next() {
    // The archive chain was extracted into $TMPDIR, 30 MB a killed run.
    let work = sweep_dir();
    let w = work.path();
    crane_parent(w);
    let out = w.join("again");
    let (tree, crane) = (w.join("tree"), w.join("crane"));
    let args = [
        "pack",
        "--target-dir",
        s(&tree),
        "--parent",
        s(&crane),
        "--out",
        s(&out),
    ];
    let pack = || in_tmp(w, &args);
    Sweep {
        phases: &["extracting the crane parent", "writing frames"],
        spawn: &mut || {
            let _ = std::fs::remove_dir_all(&out);
            pack().spawn().unwrap()
        },
        landed: &mut || {
            let complete = out.join("manifest.json").exists();
            match (named(&out, ".foreign-").is_empty(), complete) {
                (false, false) => Some("extracting the crane parent"),
                (true, false) if out.join("blobs.zst").exists() => Some("writing frames"),
                _ => None,
            }
        },
        mend: &mut || {
            if !out.join("manifest.json").exists() {
                succeeded(&pack().output().unwrap());
            }
            assert_eq!(named(&out, ".foreign-"), Vec::<std::path::PathBuf>::new());
            assert_eq!(
                std::fs::read_dir(w.join("tmp")).unwrap().count(),
                0,
                "left in TMPDIR"
            );
        },
    }
    .run();
    unpacks_to_the_tree(w, "again");
}

#[test]
fn an_export_killed_leaves_nothing_after_the_next() {
    // Its tree stayed in $TMPDIR, a `.tmpXXXX` beside target.tar.zst.
    let work = sweep_dir();
    let w = work.path();
    crane_parent(w);
    let out = w.join("exported");
    let layer = w.join("layer");
    let args = ["export", "--from", s(&layer), "--out", s(&out)];
    let export = || in_tmp(w, &args);
    Sweep {
        phases: &["laying the tree out", "writing the archive"],
        spawn: &mut || {
            let _ = std::fs::remove_dir_all(&out);
            export().spawn().unwrap()
        },
        landed: &mut || match (
            named(&out, ".tmp").is_empty(),
            named(&out, ".export-").is_empty(),
        ) {
            (false, _) => Some("writing the archive"),
            (true, false) => Some("laying the tree out"),
            (true, true) => None,
        },
        mend: &mut || {
            succeeded(&export().output().unwrap());
            assert!(out.join("target.tar.zst").is_file());
            let left = [named(&out, ".tmp"), named(&out, ".export-")].concat();
            assert_eq!(left, Vec::<std::path::PathBuf>::new());
            assert_eq!(
                std::fs::read_dir(w.join("tmp")).unwrap().count(),
                0,
                "left in TMPDIR"
            );
        },
    }
    .run();
}
