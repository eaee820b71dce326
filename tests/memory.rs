//! What pack and unpack hold in memory is bounded by the frame size and the
//! thread count, whatever the input: the chain's length, a foreign parent's
//! files, borrowed files, incompressible content. Each test runs the real
//! binary and reads its peak RSS from wait4(2); short memory is an error
//! naming what needed it, never an abort.

mod common;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::json;

const MIB: u64 = 1 << 20;

/// How a run of the binary ended, and the most memory it held.
struct Run {
    /// The exit status, or 128 + the signal that killed it.
    code: i32,
    stderr: String,
    peak_mib: u64,
}

/// Runs the binary with `args` (and `env`), its address space limited to
/// `limit` bytes when given.
fn measure(args: &[&str], env: &[(&str, &str)], limit: Option<u64>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"));
    command
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // The limit is set between fork and exec. And a fork it must be: a
    // vfork child's peak RSS counts its parent's, which shared its memory.
    let rlimit = limit.map(|bytes| libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    });
    // SAFETY: setrlimit is async-signal-safe, as pre_exec requires.
    unsafe {
        command.pre_exec(move || match rlimit {
            Some(rlimit) if libc::setrlimit(libc::RLIMIT_AS, &rlimit) != 0 => {
                Err(std::io::Error::last_os_error())
            }
            _ => Ok(()),
        });
    }
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which gives its rusage"
    )]
    let mut child = command.spawn().unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        pipe.read_to_string(&mut text).unwrap();
        text
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid one for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the child is ours and not yet reaped; wait4 reaps it.
    let waited = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as i32, "wait4 failed");
    let code = match libc::WIFEXITED(status) {
        true => libc::WEXITSTATUS(status),
        false => 128 + libc::WTERMSIG(status),
    };
    Run {
        code,
        stderr: reader.join().unwrap(),
        peak_mib: usage.ru_maxrss as u64 / 1024,
    }
}

impl Run {
    fn succeeded(&self, what: &str) -> &Run {
        assert_eq!(self.code, 0, "{what}: {}", self.stderr);
        self
    }

    fn peak_below(&self, mib: u64, what: &str) {
        assert!(
            self.peak_mib < mib,
            "{what}: peak RSS {} MiB, not below {mib} MiB",
            self.peak_mib
        );
        eprintln!("{what}: peak RSS {} MiB (bound {mib} MiB)", self.peak_mib);
    }
}

/// A layer holding no content: directories only, `entries` on top of a
/// base when given (as changes to it), or a whole tree.
fn directory_layer(at: &Path, entries: &[String], base: Option<&Path>) {
    std::fs::create_dir_all(at).unwrap();
    let listed: Vec<_> = entries
        .iter()
        .map(|path| json!({"kind": "dir", "path": path, "mode": 0o755}))
        .collect();
    let mut manifest = json!({
        "format": "cargo-inherit-layer", "version": 2, "parents": [],
        "entries": listed, "frames": [], "blobs": [],
    });
    if let Some(base) = base {
        manifest["parents"] = json!([base]);
        manifest["base"] = json!(base);
        manifest["removed"] = json!([]);
    }
    std::fs::write(at.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(at.join("blobs.zst"), b"").unwrap();
}

/// `count` layers, each adding one directory to its base, the first on a
/// whole tree of `base_entries` directories; returns the last.
fn chain(work: &Path, count: usize, base_entries: usize) -> PathBuf {
    let layer = |i: usize| work.join(format!("l{i:05}"));
    let mut root = vec!["d".to_string()];
    root.extend((0..base_entries).map(|i| format!("d/b{i:06}")));
    directory_layer(&layer(0), &root, None);
    for i in 1..count {
        directory_layer(&layer(i), &[format!("d/x{i:05}")], Some(&layer(i - 1)));
    }
    layer(count - 1)
}

#[test]
fn a_chain_of_thousands_of_layers_unpacks_without_recursion_in_little_memory() {
    let work = tempfile::tempdir().unwrap();
    // 6,000 bases deep overflowed the stack; 4,000 held 1.3 GB.
    let top = chain(work.path(), 6000, 0);
    let target = work.path().join("target");
    let unpack = ["unpack", "--from", s(&top), "--target-dir", s(&target)];
    measure(&unpack, &[], None)
        .succeeded("unpack")
        .peak_below(100, "6,000 layers, unpack");
    assert_eq!(std::fs::read_dir(target.join("d")).unwrap().count(), 5999);
    measure(&["inspect", s(&top)], &[], None)
        .succeeded("inspect")
        .peak_below(100, "6,000 layers, inspect");
}

#[test]
fn a_chain_on_a_large_base_holds_one_tree_not_one_per_layer() {
    let work = tempfile::tempdir().unwrap();
    let top = chain(work.path(), 400, 20_000);
    let target = work.path().join("target");
    let unpack = ["unpack", "--from", s(&top), "--target-dir", s(&target)];
    measure(&unpack, &[], None)
        .succeeded("unpack")
        .peak_below(100, "400 layers on 20,000 entries, unpack");
}

/// A layer whose one file is read from a foreign parent: `file` of `dir`,
/// `size` bytes claimed.
fn foreign_layer(at: &Path, dir: &Path, file: &str, size: u64) {
    std::fs::create_dir_all(at).unwrap();
    let hash = "00".repeat(32);
    let manifest = json!({
        "format": "cargo-inherit-layer", "version": 2, "parents": [],
        "entries": [{"kind": "file", "path": "f", "mode": 0o644, "size": size, "hash": hash}],
        "frames": [], "blobs": [],
        "foreign": [{"path": dir, "files": [file],
                     "blobs": [{"hash": hash, "frame": 0, "offset": 0, "size": size}]}],
    });
    std::fs::write(at.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(at.join("blobs.zst"), b"").unwrap();
}

#[test]
fn a_foreign_parent_is_read_a_blob_at_a_time_and_regular_files_only() {
    let work = tempfile::tempdir().unwrap();
    let target = work.path().join("target");
    let layer = work.path().join("layer");
    // /dev/zero was read until memory ran out.
    foreign_layer(&layer, Path::new("/dev"), "zero", 32 * MIB);
    let unpack = ["unpack", "--from", s(&layer), "--target-dir", s(&target)];
    let run = measure(&unpack, &[], None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("/dev/zero: not a regular file"),
        "{}",
        run.stderr
    );
    run.peak_below(50, "a foreign /dev/zero");
    // No blob is larger than 64 MiB, whatever a manifest claims.
    foreign_layer(&layer, Path::new("/dev"), "zero", 65 * MIB);
    let run = measure(&unpack, &[], None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("a blob holds at most"),
        "{}",
        run.stderr
    );
    assert!(!target.exists());
}

/// Writes `mib` MiB to `path` a MiB at a time, each filled by `fill`: the
/// test process stays small, since a child's peak RSS counts what its
/// parent held when it forked.
fn write_mib(path: &Path, mib: u64, mut fill: impl FnMut(&mut [u8])) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut chunk = vec![0; MIB as usize];
    for _ in 0..mib {
        fill(&mut chunk);
        std::io::Write::write_all(&mut file, &chunk).unwrap();
    }
}

/// Bytes that do not compress, from a fixed seed.
fn incompressible() -> impl FnMut(&mut [u8]) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    move |chunk| {
        for word in chunk.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
        }
    }
}

/// Whether two files hold the same bytes, read a MiB at a time.
fn same_content(a: &Path, b: &Path) -> bool {
    let open =
        |p: &Path| std::io::BufReader::with_capacity(MIB as usize, std::fs::File::open(p).unwrap());
    let (a, b) = (open(a), open(b));
    a.bytes()
        .map(Result::unwrap)
        .eq(b.bytes().map(Result::unwrap))
}

#[test]
fn a_borrowed_file_is_read_a_blob_at_a_time() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    // Read whole, a borrowed 400 MiB file unpacked at 414 MB.
    write_mib(&p("tree/release/app"), 256, incompressible());
    write_mib(&p("package/bin/app"), 256, incompressible());
    let (tree, package, layer) = (p("tree"), p("package"), p("layer"));
    let pack = [
        "pack",
        "--target-dir",
        s(&tree),
        "--out",
        s(&layer),
        "--borrow",
        s(&package),
    ];
    measure(&pack, &[], None).succeeded("pack");
    let manifest = std::fs::read_to_string(layer.join("manifest.json")).unwrap();
    assert!(manifest.contains("bin/app"), "the file was not borrowed");
    let target = p("target");
    let unpack = ["unpack", "--from", s(&layer), "--target-dir", s(&target)];
    measure(&unpack, &[], None)
        .succeeded("unpack")
        .peak_below(160, "a borrowed 256 MiB file, unpack");
    assert!(same_content(
        &target.join("release/app"),
        &p("package/bin/app")
    ));
}

#[test]
fn incompressible_content_is_held_a_frame_per_thread() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    write_mib(&p("tree/release/app"), 384, incompressible());
    let (tree, layer, target) = (p("tree"), p("layer"), p("target"));
    // One thread, 64 MiB frames: a frame and its compressed copy, and one
    // blob being hashed, well below the 384 MiB file.
    let env = [("RAYON_NUM_THREADS", "1")];
    let pack = [
        "pack",
        "--target-dir",
        s(&tree),
        "--out",
        s(&layer),
        "--frame-size",
        "67108864",
    ];
    measure(&pack, &env, None)
        .succeeded("pack")
        .peak_below(260, "384 MiB incompressible, pack");
    let unpack = ["unpack", "--from", s(&layer), "--target-dir", s(&target)];
    measure(&unpack, &env, None)
        .succeeded("unpack")
        .peak_below(200, "384 MiB incompressible, unpack");
}

#[test]
fn short_memory_is_an_error_naming_what_needed_it_not_an_abort() {
    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name);
    // One 128 MiB frame, which compresses to almost nothing.
    let mut mib = 0u8;
    write_mib(&p("tree/release/runs"), 128, |chunk| {
        mib = mib.wrapping_add(1);
        chunk.fill(mib);
    });
    let (tree, layer) = (p("tree"), p("layer"));
    ok(&["pack", "--target-dir", s(&tree), "--out", s(&layer)]);
    let (mut refused, mut done) = (0, 0);
    for limit_mib in (32..=512).step_by(32) {
        let target = p(&format!("target-{limit_mib}"));
        let unpack = ["unpack", "--from", s(&layer), "--target-dir", s(&target)];
        let run = measure(
            &unpack,
            &[("RAYON_NUM_THREADS", "1")],
            Some(limit_mib * MIB),
        );
        match run.code {
            0 => done += 1,
            // So little memory that not even one worker thread starts.
            1 if run.stderr.contains("cannot start its worker threads") => {
                assert!(!target.exists(), "{limit_mib} MiB: a target was left");
                refused += 1;
            }
            1 => {
                for needle in [
                    "bytes of memory, more than can be had now",
                    s(&layer),
                    "frame 0",
                ] {
                    assert!(
                        run.stderr.contains(needle),
                        "{limit_mib} MiB: {needle:?} not in {}",
                        run.stderr
                    );
                }
                assert!(
                    !run.stderr.contains("corrupt"),
                    "{limit_mib} MiB: {}",
                    run.stderr
                );
                assert!(!target.exists(), "{limit_mib} MiB: a target was left");
                refused += 1;
            }
            other => panic!("{limit_mib} MiB: exit {other}: {}", run.stderr),
        }
    }
    assert!(
        refused > 0 && done > 0,
        "{refused} refused, {done} done: no limit in between"
    );
}
