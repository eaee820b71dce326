//! The wrapper binary against the real rustc.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())
}

fn wrapped(args: &[&str], env: &[(&str, &str)]) -> Output {
    wrapper_around_rustc(Command::new(env!("CARGO_BIN_EXE_cargo-inherit-rustc")))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// `command` (the wrapper, or what runs it) with rustc as its first
/// argument and none of the outer environment's wrapper settings.
fn wrapper_around_rustc(mut command: Command) -> Command {
    command
        .arg(rustc())
        .env_remove("CARGO_INHERIT_DENY_COMPILE")
        .env_remove("CARGO_INHERIT_RUSTC_WRAPPER");
    command
}

fn compile_args<'a>(src: &'a str, out_dir: &'a str) -> Vec<&'a str> {
    vec![
        "--crate-name",
        "x",
        "--crate-type",
        "lib",
        "--emit=dep-info,metadata,link",
        src,
        "--out-dir",
        out_dir,
    ]
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".cargo-inherit"))
        .collect()
}

#[test]
fn version_probe_passes_through_byte_for_byte() {
    let direct = Command::new(rustc()).arg("-vV").output().unwrap();
    let through = wrapped(&["-vV"], &[]);
    assert_eq!(through.stdout, direct.stdout);
    assert_eq!(through.stderr, direct.stderr);
    assert_eq!(through.status.code(), direct.status.code());
}

#[test]
fn stdin_probe_passes_through() {
    let args = [
        "-",
        "--crate-name",
        "___",
        "--print=file-names",
        "--crate-type",
        "lib",
    ];
    let run = |mut c: Command| {
        let mut child = c
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    };
    let direct = run(Command::new(rustc()));
    let mut through = Command::new(env!("CARGO_BIN_EXE_cargo-inherit-rustc"));
    through.arg(rustc());
    assert_eq!(run(through).stdout, direct.stdout);
}

#[test]
fn compile_replaces_a_read_only_store_symlink_without_touching_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let (src, out, store) = (
        dir.path().join("lib.rs"),
        dir.path().join("deps"),
        dir.path().join("store"),
    );
    std::fs::write(&src, "pub fn f() -> u32 { 7 }\n").unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&store).unwrap();
    for name in ["libx.rlib", "libx.rmeta"] {
        std::fs::write(store.join(name), "inherited").unwrap();
        std::fs::set_permissions(store.join(name), std::fs::Permissions::from_mode(0o444)).unwrap();
        std::os::unix::fs::symlink(store.join(name), out.join(name)).unwrap();
    }
    let result = wrapped(
        &compile_args(src.to_str().unwrap(), out.to_str().unwrap()),
        &[],
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for name in ["libx.rlib", "libx.rmeta"] {
        let meta = std::fs::symlink_metadata(out.join(name)).unwrap();
        assert!(meta.is_file(), "{name} should be a real file now");
        assert_eq!(
            std::fs::read(store.join(name)).unwrap(),
            b"inherited",
            "the store copy changed"
        );
    }
    let dep_info = std::fs::read_to_string(out.join("x.d")).unwrap();
    assert!(
        dep_info.contains(&format!("{}/libx.rlib", out.display())),
        "{dep_info}"
    );
    assert!(!dep_info.contains(".cargo-inherit"), "{dep_info}");
    assert!(leftovers(&out).is_empty());
}

#[test]
fn failed_compile_keeps_the_previous_output_and_rustc_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    let (src, out) = (dir.path().join("lib.rs"), dir.path().join("deps"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("libx.rlib"), "previous").unwrap();
    std::fs::write(&src, "pub fn f() -> u32 { not_defined }\n").unwrap();
    let args = compile_args(src.to_str().unwrap(), out.to_str().unwrap());
    let direct = Command::new(rustc()).args(&args).output().unwrap();
    let result = wrapped(&args, &[]);
    assert_eq!(result.status.code(), direct.status.code());
    assert!(String::from_utf8_lossy(&result.stderr).contains("not_defined"));
    assert_eq!(std::fs::read(out.join("libx.rlib")).unwrap(), b"previous");
    assert!(leftovers(&out).is_empty());
}

#[test]
fn deny_mode_refuses_and_names_the_crate() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("lib.rs");
    std::fs::write(&src, "pub fn f() {}\n").unwrap();
    let out = dir.path().join("deps");
    let args = compile_args(src.to_str().unwrap(), out.to_str().unwrap());
    let denied = wrapped(
        &args,
        &[
            ("CARGO_INHERIT_DENY_COMPILE", "deps"),
            ("CARGO_PKG_NAME", "xpkg"),
        ],
    );
    assert_eq!(denied.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(
        stderr.contains("crate `x`") && stderr.contains("xpkg"),
        "{stderr}"
    );
    let primary = wrapped(
        &args,
        &[
            ("CARGO_INHERIT_DENY_COMPILE", "deps"),
            ("CARGO_PRIMARY_PACKAGE", "1"),
        ],
    );
    assert!(
        primary.status.success(),
        "{}",
        String::from_utf8_lossy(&primary.stderr)
    );
    let all = wrapped(
        &args,
        &[
            ("CARGO_INHERIT_DENY_COMPILE", "all"),
            ("CARGO_PRIMARY_PACKAGE", "1"),
        ],
    );
    assert_eq!(all.status.code(), Some(1));
}

#[test]
fn chains_another_wrapper() {
    let dir = tempfile::tempdir().unwrap();
    let (log, chained) = (dir.path().join("log"), dir.path().join("chained.sh"));
    std::fs::write(
        &chained,
        format!("#!/bin/sh\necho \"$@\" >> {}\nexec \"$@\"\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&chained, std::fs::Permissions::from_mode(0o755)).unwrap();
    let result = wrapped(
        &["-vV"],
        &[("CARGO_INHERIT_RUSTC_WRAPPER", chained.to_str().unwrap())],
    );
    assert!(result.status.success());
    assert!(std::fs::read_to_string(&log).unwrap().contains("-vV"));
}

#[test]
fn its_own_failure_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (src, blocker) = (dir.path().join("lib.rs"), dir.path().join("a-file"));
    std::fs::write(&src, "pub fn f() {}\n").unwrap();
    std::fs::write(&blocker, "").unwrap();
    let out = blocker.join("deps");
    let result = wrapped(
        &compile_args(src.to_str().unwrap(), out.to_str().unwrap()),
        &[],
    );
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("cargo-inherit-rustc: error") && stderr.contains(out.to_str().unwrap()),
        "{stderr}"
    );
}

#[test]
fn explicit_emit_paths_land_where_rustc_was_told() {
    let dir = tempfile::tempdir().unwrap();
    let (src, out, elsewhere) = (
        dir.path().join("lib.rs"),
        dir.path().join("deps"),
        dir.path().join("elsewhere"),
    );
    std::fs::write(&src, "pub fn f() {}\n").unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let rlib = elsewhere.join("custom.rlib");
    let emit = format!("--emit=link={},dep-info", rlib.display());
    let args = [
        "--crate-name",
        "x",
        "--crate-type",
        "lib",
        &emit,
        src.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ];
    let result = wrapped(&args, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(rlib.is_file());
    assert!(out.join("x.d").is_file());
    assert!(leftovers(&out).is_empty());
}

/// A read-only output directory (as a directory symlinked into the store
/// would be) cannot be fixed by redirecting: the error says what will.
#[test]
fn a_read_only_output_directory_points_at_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (src, out) = (dir.path().join("lib.rs"), dir.path().join("deps"));
    std::fs::write(&src, "pub fn f() {}\n").unwrap();
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    // As root, drop the override that would let us write anyway.
    let mut as_build_user = Command::new("setpriv");
    as_build_user
        .args(["--bounding-set", "-dac_override,-dac_read_search,-fowner"])
        .arg(env!("CARGO_BIN_EXE_cargo-inherit-rustc"));
    let result = wrapper_around_rustc(as_build_user)
        .args(compile_args(src.to_str().unwrap(), out.to_str().unwrap()))
        .output()
        .unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(out.to_str().unwrap())
            && stderr.contains("read-only")
            && stderr.contains("cargo-inherit link"),
        "{stderr}"
    );
}
