//! `save`, `restore` and `gc` against a directory store and, where
//! scripts/test.sh started one (tests/seaweedfs.sh), a real S3-compatible
//! server: round trips, restore keys, uploads of only what changed, and
//! every failure mode a CI cache meets, none failing the build or showing a
//! partial entry.
#![cfg(feature = "store")]

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

/// One store to run a test against, empty, with a cache per use.
struct Store {
    url: String,
    /// The directory of a file:// store; None for S3.
    dir: Option<PathBuf>,
    work: tempfile::TempDir,
}

/// The stores every test runs against: a directory, and S3 when there is a server.
fn stores(test: &str) -> Vec<Store> {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("store");
    let mut stores = vec![Store {
        url: format!("file://{}", dir.display()),
        dir: Some(dir),
        work,
    }];
    if let Ok(base) = std::env::var("CARGO_INHERIT_TEST_S3") {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        stores.push(Store {
            url: format!("{base}/{test}-{}-{nanos}", std::process::id()),
            dir: None,
            work: tempfile::tempdir().unwrap(),
        });
    }
    stores
}

impl Store {
    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// cargo-inherit VERB --store URL --cache CACHE ARGS.
    fn run(&self, verb: &str, cache: &str, args: &[&str]) -> Output {
        self.command(verb, cache, args).output().unwrap()
    }

    fn command(&self, verb: &str, cache: &str, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"));
        command.arg(verb).args(["--store", &self.url]);
        if verb != "gc" {
            command.args(["--cache", s(&self.path(cache))]);
        }
        command.args(args);
        command
    }

    fn ok(&self, verb: &str, cache: &str, args: &[&str]) -> String {
        self.exits_0(verb, cache, args, false)
    }

    /// Runs a verb that must warn and exit 0, and returns the warning.
    fn warns(&self, verb: &str, cache: &str, args: &[&str]) -> String {
        self.exits_0(verb, cache, args, true)
    }

    /// Runs a verb that must exit 0, with a warning or without, and returns stderr.
    fn exits_0(&self, verb: &str, cache: &str, args: &[&str], warned: bool) -> String {
        let out = self.run(verb, cache, args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let context = format!("{verb} {args:?} on {}: {stderr}", self.url);
        assert!(out.status.success(), "{context}");
        assert_eq!(stderr.contains("warning:"), warned, "{context}");
        stderr
    }

    fn target(&self, name: &str) -> String {
        s(&self.path(name)).to_string()
    }

    /// The names of the objects below `prefix` (file: the directory; S3:
    /// the filer's listing, as the server holds them).
    fn objects(&self, prefix: &str) -> Vec<String> {
        match &self.dir {
            Some(dir) => walkdir::WalkDir::new(dir.join(prefix))
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
                .collect(),
            None => filer_files(&format!("{}/{prefix}", self.s3_prefix())),
        }
    }

    fn s3_prefix(&self) -> String {
        self.url
            .strip_prefix("s3://")
            .unwrap()
            .split_once('/')
            .unwrap()
            .1
            .to_string()
    }

    /// Replaces an object's bytes behind the tool's back.
    fn overwrite(&self, object: &str, content: &[u8]) {
        match &self.dir {
            Some(dir) => std::fs::write(dir.join(object), content).unwrap(),
            None => {
                let file = self.path("upload");
                std::fs::write(&file, content).unwrap();
                let url = format!("{}/{}/{object}", filer(), self.s3_prefix());
                curl(&[
                    "-X",
                    "PUT",
                    "--data-binary",
                    &format!("@{}", s(&file)),
                    &url,
                ]);
            }
        }
    }

    fn read(&self, object: &str) -> Vec<u8> {
        match &self.dir {
            Some(dir) => std::fs::read(dir.join(object)).unwrap(),
            None => curl(&[&format!("{}/{}/{object}", filer(), self.s3_prefix())]),
        }
    }
}

fn filer() -> String {
    std::env::var("CARGO_INHERIT_TEST_S3_FILER").expect("the filer of the test server")
}

fn curl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("curl")
        .arg("-sSf")
        .args(args)
        .output()
        .unwrap();
    succeeded(&out);
    out.stdout
}

/// Every file below `dir` of the bucket, by the filer's JSON listings.
fn filer_files(dir: &str) -> Vec<String> {
    let url = format!("{}/{dir}/?limit=10000", filer());
    let out = Command::new("curl")
        .args(["-sS", "-H", "Accept: application/json", &url])
        .output()
        .unwrap();
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let mut files = Vec::new();
    for entry in listing["Entries"].as_array().into_iter().flatten() {
        let full = entry["FullPath"].as_str().unwrap();
        let name = full.rsplit('/').next().unwrap();
        // Directories have the mode bit os.ModeDir (1 << 31).
        if entry["Mode"].as_u64().unwrap_or(0) & (1 << 31) != 0 {
            files.extend(filer_files(&format!("{dir}/{name}")));
        } else {
            files.push(format!("{dir}/{name}"));
        }
    }
    files
}

/// A target tree: small files, and `big` incompressible ones of 4 MiB,
/// all varied by `seed`.
fn tree(root: &Path, seed: u64, big: usize) {
    for i in 0..200 {
        write(
            &root.join(format!("debug/deps/f{i:03}-{seed}.d")),
            format!("{i} {seed}").as_bytes(),
        );
    }
    write(&root.join("debug/marker"), seed.to_string().as_bytes());
    for i in 0..big {
        write(
            &root.join(format!("debug/deps/libbig{i}-{seed}.rlib")),
            &noise(4 << 20, seed * 100 + i as u64),
        );
    }
}

fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn marker(target: &str) -> String {
    std::fs::read_to_string(Path::new(target).join("debug/marker")).unwrap()
}

#[test]
fn a_restore_lays_out_what_was_saved() {
    for store in stores("roundtrip") {
        let built = store.target("built");
        tree(Path::new(&built), 1, 2);
        let key = "Linux x86/rust 1.95 ~lock:ab!12";
        store.ok("save", "c1", &["--target-dir", &built, key]);
        let restored = store.target("restored");
        let said = store.ok("restore", "c2", &["--target-dir", &restored, key]);
        assert!(said.contains("restored key"), "{said}");
        let expected = expected_after_unpack(&snapshot(Path::new(&built)));
        assert_eq!(snapshot(Path::new(&restored)), expected, "{}", store.url);
        assert_all_mtimes_one(Path::new(&restored));
        // A key is saved once: a second save changes nothing.
        let again = store.ok("save", "c1", &["--target-dir", &built, key]);
        assert!(again.contains("already"), "{again}");
    }
}

#[test]
fn a_save_on_a_restore_uploads_only_what_changed() {
    for store in stores("incremental") {
        let first = store.target("first");
        tree(Path::new(&first), 1, 3);
        store.ok("save", "c1", &["--target-dir", &first, "run-1"]);
        // The next CI run: a fresh runner restores, builds, saves.
        let next = store.target("next");
        store.ok(
            "restore",
            "c2",
            &["--target-dir", &next, "run-2", "--restore-key", "run-"],
        );
        write(
            &Path::new(&next).join("debug/deps/new.rlib"),
            &noise(100_000, 7),
        );
        std::fs::remove_file(Path::new(&next).join("debug/deps/f000-1.d")).unwrap();
        let said = store.ok("save", "c2", &["--target-dir", &next, "run-2"]);
        assert!(said.contains("2 layers"), "{said}");
        let uploaded = said.lines().last().unwrap().rsplit(", ").next().unwrap();
        assert!(
            uploaded.ends_with("KiB uploaded"),
            "only the new file goes up: {said}"
        );
        let last = store.target("last");
        store.ok("restore", "c3", &["--target-dir", &last, "run-2"]);
        let expected = expected_after_unpack(&snapshot(Path::new(&next)));
        assert_eq!(snapshot(Path::new(&last)), expected);
    }
}

#[test]
fn restore_keys_pick_the_newest_key_of_the_longest_prefix() {
    for store in stores("prefixes") {
        for (seed, key) in [(1, "linux-a-1"), (2, "linux-a-2"), (3, "linux-b-1")] {
            let built = store.target(key);
            tree(Path::new(&built), seed, 0);
            store.ok("save", "c", &["--target-dir", &built, key]);
            // Stores keep modification times in seconds.
            std::thread::sleep(Duration::from_millis(1100));
        }
        let target = store.target("t");
        let args = [
            "--target-dir",
            &target,
            "linux-a-9",
            "--restore-key",
            "linux-",
            "--restore-key",
            "linux-a-",
        ];
        let said = store.ok("restore", "fresh", &args);
        assert!(said.contains("restore key match \"linux-a-2\""), "{said}");
        assert_eq!(marker(&target), "2");
    }
}

#[test]
fn misses_and_unreachable_stores_warn_and_exit_0_unless_strict() {
    for store in stores("misses") {
        let target = store.target("t");
        let said = store.warns(
            "restore",
            "c",
            &["--target-dir", &target, "nothing", "--restore-key", "no"],
        );
        assert!(said.contains("no entry for key \"nothing\""), "{said}");
        assert!(!Path::new(&target).exists(), "a miss lays nothing out");
        let out = store.run(
            "restore",
            "c",
            &["--strict", "--target-dir", &target, "nothing"],
        );
        assert_eq!(out.status.code(), Some(1));
    }
    let store = &stores("unreachable")[0];
    let built = store.target("built");
    tree(Path::new(&built), 1, 0);
    for url in ["ftp://example.org/x", "s3://no-such-bucket-here/x"] {
        let out = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
            .args([
                "save",
                "--store",
                url,
                "--cache",
                &store.target("c"),
                "--target-dir",
                &built,
                "k",
            ])
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ALLOW_HTTP", "true")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.contains("warning:"),
            "{url}: {stderr}"
        );
    }
}

#[test]
fn a_corrupt_blob_is_a_warning_and_leaves_the_target_as_it_was() {
    for store in stores("corrupt") {
        let built = store.target("built");
        tree(Path::new(&built), 1, 1);
        store.ok("save", "c1", &["--target-dir", &built, "k"]);
        let blobs = store
            .objects("layers")
            .into_iter()
            .find(|o| o.ends_with("blobs.zst"))
            .unwrap();
        let blobs = blobs
            .split_once("layers/")
            .map(|(_, rest)| format!("layers/{rest}"))
            .unwrap();
        let mut content = store.read(&blobs);
        let middle = content.len() / 2;
        content[middle] ^= 0xff;
        store.overwrite(&blobs, &content);
        let target = store.target("t");
        write(&Path::new(&target).join("mine"), b"the user's");
        let before = snapshot(Path::new(&target));
        let said = store.warns("restore", "c2", &["--target-dir", &target, "k"]);
        assert!(
            said.contains("corrupt") || said.contains("does not match"),
            "{said}"
        );
        assert_eq!(snapshot(Path::new(&target)), before, "{}", store.url);
        // The bad frames are not kept: once the object is good again, restore works.
        content[middle] ^= 0xff;
        store.overwrite(&blobs, &content);
        store.ok("restore", "c2", &["--target-dir", &store.target("t2"), "k"]);
    }
}

#[test]
fn two_saves_of_one_key_leave_one_complete_entry() {
    for store in stores("concurrent") {
        let (a, b) = (store.target("a"), store.target("b"));
        tree(Path::new(&a), 1, 2);
        tree(Path::new(&b), 2, 2);
        let mut saves: Vec<_> = [(&a, "ca"), (&b, "cb")]
            .into_iter()
            .map(|(dir, cache)| {
                let mut command = store.command("save", cache, &["--target-dir", dir, "same"]);
                command.stderr(Stdio::piped()).spawn().unwrap()
            })
            .collect();
        for save in &mut saves {
            let mut stderr = String::new();
            save.stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            assert!(
                save.wait().unwrap().success() && !stderr.contains("warning"),
                "{stderr}"
            );
        }
        let target = store.target("t");
        store.ok("restore", "fresh", &["--target-dir", &target, "same"]);
        let seed = marker(&target);
        let built = if seed == "1" { &a } else { &b };
        assert_eq!(
            snapshot(Path::new(&target)),
            expected_after_unpack(&snapshot(Path::new(built)))
        );
    }
}

#[test]
fn a_killed_save_shows_no_partial_entry_and_gc_removes_what_it_uploaded() {
    for store in stores("killed") {
        let built = store.target("built");
        tree(Path::new(&built), 1, 24);
        for (run, delay) in [0, 0, 10, 30, 80].into_iter().enumerate() {
            let (cache, key) = (format!("c{run}"), format!("k{run}"));
            // A layer of its own per run: layers are content-addressed.
            write(&Path::new(&built).join("debug/run"), key.as_bytes());
            let args = ["--level", "1", "--target-dir", &built, &key];
            let mut save = store
                .command("save", &cache, &args)
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            // Killed once its upload has begun, at a few points of it.
            let uploaded = store.objects("layers").len();
            while store.objects("layers").len() == uploaded && save.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(delay));
            drop(save.kill());
            save.wait().unwrap();
            // Published or not: a key that is there restores whole.
            if store
                .objects("keys")
                .iter()
                .any(|k| k.ends_with(&format!("{key}.json")))
            {
                store.ok(
                    "restore",
                    "fresh",
                    &["--strict", "--target-dir", &store.target(&key), &key],
                );
            }
        }
        store.ok("gc", "", &["--grace-seconds", "0"]);
        let layers: std::collections::BTreeSet<String> = store
            .objects("layers")
            .iter()
            .map(|o| {
                o.split("layers/")
                    .nth(1)
                    .unwrap()
                    .split('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            layers.len(),
            store.objects("keys").len(),
            "{}: {layers:?}",
            store.url
        );
    }
}

#[test]
fn quota_evicts_the_least_recently_restored_keys() {
    for store in stores("quota") {
        for seed in 1..=3 {
            let built = store.target(&format!("b{seed}"));
            tree(Path::new(&built), seed, 1);
            store.ok("save", "c", &["--target-dir", &built, &format!("k{seed}")]);
            std::thread::sleep(Duration::from_millis(1100));
        }
        // k1 is used again: k2 is now the least recently used.
        store.ok("restore", "c", &["--target-dir", &store.target("r1"), "k1"]);
        std::thread::sleep(Duration::from_millis(1100));
        let built = store.target("b4");
        tree(Path::new(&built), 4, 1);
        // Room for three entries of about 4 MiB.
        let said = store.ok(
            "save",
            "c",
            &["--target-dir", &built, "--quota", "13M", "k4"],
        );
        assert!(said.contains("evicted 1 keys (k2)"), "{said}");
        let out = store.run(
            "restore",
            "fresh",
            &["--strict", "--target-dir", &store.target("r2"), "k2"],
        );
        assert_eq!(out.status.code(), Some(1));
        for key in ["k1", "k3", "k4"] {
            store.ok(
                "restore",
                "fresh",
                &["--target-dir", &store.target(&format!("r-{key}")), key],
            );
        }
        let gc = store.ok("gc", "", &["--grace-seconds", "0"]);
        assert!(gc.contains("removed 1 layers"), "k2's layer goes: {gc}");
        let said = store.warns(
            "save",
            "c",
            &["--target-dir", &built, "--max-entry", "1M", "k5"],
        );
        assert!(said.contains("not saved"), "{said}");
        assert!(!store.objects("keys").iter().any(|k| k.ends_with("k5.json")));
    }
}

/// A TCP proxy to the S3 server that can go down: every connection cut and
/// new ones refused, as when the server stops.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    /// Bytes sent from the server to clients so far.
    served: Arc<AtomicU64>,
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (down, served) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (upstream, flag, count) = (upstream.to_string(), down.clone(), served.clone());
        std::thread::spawn(move || loop {
            if flag.load(Ordering::SeqCst) {
                open.lock()
                    .unwrap()
                    .iter()
                    .for_each(|s| drop(s.shutdown(Shutdown::Both)));
                return; // the listener goes with the thread: connections are refused
            }
            match listener.accept() {
                Ok((client, _)) => {
                    client.set_nonblocking(false).unwrap();
                    let server = TcpStream::connect(&upstream).unwrap();
                    open.lock()
                        .unwrap()
                        .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                    pipe(
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        None,
                    );
                    pipe(server, client, Some(count.clone()));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        });
        Proxy { port, down, served }
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, count: Option<Arc<AtomicU64>>) {
    std::thread::spawn(move || {
        let mut buffer = [0; 16384];
        while let Ok(n @ 1..) = from.read(&mut buffer) {
            if to.write_all(&buffer[..n]).is_err() {
                break;
            }
            if let Some(c) = &count {
                c.fetch_add(n as u64, Ordering::SeqCst);
            }
        }
        drop(to.shutdown(Shutdown::Write));
    });
}

#[test]
fn the_server_going_down_mid_restore_is_a_warning_and_the_target_stays() {
    let Some(store) = stores("down").into_iter().find(|s| s.dir.is_none()) else {
        return; // S3 only: scripts/test.sh always starts the server
    };
    let built = store.target("built");
    tree(Path::new(&built), 1, 6);
    store.ok("save", "c1", &["--target-dir", &built, "k"]);
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let proxy = Proxy::start(endpoint.trim_start_matches("http://"));
    let target = store.target("t");
    write(&Path::new(&target).join("mine"), b"the user's");
    let before = snapshot(Path::new(&target));
    let mut restore = store.command("restore", "c2", &["--target-dir", &target, "k"]);
    restore.env(
        "AWS_ENDPOINT_URL",
        format!("http://127.0.0.1:{}", proxy.port),
    );
    let restore = restore.stderr(Stdio::piped()).spawn().unwrap();
    while proxy.served.load(Ordering::SeqCst) < 4 << 20 {
        std::thread::sleep(Duration::from_millis(1));
    }
    proxy.down.store(true, Ordering::SeqCst);
    let out = restore.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.contains("warning:"),
        "{stderr}"
    );
    assert_eq!(snapshot(Path::new(&target)), before);
    // Saving to the stopped server warns too, and publishes nothing.
    let mut save = store.command("save", "c2", &["--target-dir", &built, "k2"]);
    let out = save
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", proxy.port),
        )
        .output()
        .unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stderr).contains("warning:"));
    assert!(!store.objects("keys").iter().any(|k| k.ends_with("k2.json")));
}
