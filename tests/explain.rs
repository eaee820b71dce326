//! `explain`: one fixture dependency per reason cargo rebuilds an inherited
//! unit; each scenario checks the reason and the fix printed for it.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixture::{without_outer_cargo_env, Project};
use common::*;

/// The `explain` fixture built once (with CMAKE_PREFIX_PATH=/a) and packed.
struct Inherited {
    project: Project,
    layer: PathBuf,
}

const BASE_ENV: [(&str, &str); 1] = [("CMAKE_PREFIX_PATH", "/a")];

impl Inherited {
    fn new() -> Inherited {
        let project = Project::prepare("explain");
        let build = project.cargo_with(&["build"], false, &BASE_ENV);
        assert!(build.success, "{}", build.stderr);
        let layer = project.path("layer");
        ok(&[
            "pack",
            "--target-dir",
            s(&project.target()),
            "--out",
            s(&layer),
        ]);
        Inherited { project, layer }
    }

    /// Lays the layer out afresh and runs `explain [FLAGS] -- CARGO_ARGS`
    /// with `env` over the deps build's; returns (success, stdout, stderr).
    fn explain(
        &self,
        flags: &[&str],
        cargo_args: &[&str],
        env: &[(&str, &str)],
    ) -> (bool, String, String) {
        let target = self.project.target();
        std::fs::remove_dir_all(&target).unwrap();
        ok(&[
            "unpack",
            "--from",
            s(&self.layer),
            "--target-dir",
            s(&target),
        ]);
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-inherit"));
        without_outer_cargo_env(&mut command);
        let out = command
            .current_dir(&self.project.src)
            .arg("explain")
            .args(flags)
            .arg("--")
            .args(cargo_args)
            .arg("--offline")
            .envs(BASE_ENV)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The one line `explain` prints for the units of `package`.
    fn line_for(&self, stdout: &str, package: &str) -> String {
        let lines: Vec<&str> = stdout
            .lines()
            .filter(|l| l.contains(&format!("{package} 0.1.0")))
            .collect();
        assert_eq!(lines.len(), 1, "one line for {package}:\n{stdout}");
        lines[0].to_string()
    }

    fn dep(&self, rel: &str) -> PathBuf {
        self.project.src.join("deps").join(rel)
    }
}

fn assert_has(line: &str, parts: &[&str]) {
    for part in parts {
        assert!(line.contains(part), "{part:?} missing from: {line}");
    }
}

#[test]
fn nothing_to_explain_when_every_inherited_unit_is_fresh() {
    let inherited = Inherited::new();
    let (success, stdout, _) = inherited.explain(&["--deny"], &["build"], &[]);
    assert!(success, "{stdout}");
    assert_has(&stdout, &["every inherited unit was fresh"]);
}

#[test]
fn a_changed_environment_variable_is_named_with_both_values() {
    let inherited = Inherited::new();
    let (success, stdout, _) = inherited.explain(&[], &["build"], &[("CMAKE_PREFIX_PATH", "/b")]);
    assert!(success);
    let line = inherited.line_for(&stdout, "envdep");
    assert_has(
        &line,
        &[
            "(build script run)",
            r#"CMAKE_PREFIX_PATH changed: "/a" -> "/b""#,
            "same nativeBuildInputs",
        ],
    );
    // envdep's library followed its build script: folded, not a cause.
    assert_has(&stdout, &["1 more units rebuilt because of them"]);
}

#[test]
fn a_source_newer_than_the_inherited_build_is_named() {
    let inherited = Inherited::new();
    let source = inherited.dep("plaindep/src/lib.rs");
    filetime::set_file_mtime(&source, filetime::FileTime::now()).unwrap();
    let (_, stdout, _) = inherited.explain(&[], &["build"], &[]);
    let line = inherited.line_for(&stdout, "plaindep");
    assert_has(&line, &[s(&source), "is newer", "mtime 1"]);
}

#[test]
fn a_missing_rerun_if_changed_path_is_named() {
    let inherited = Inherited::new();
    let watched = inherited.dep("watchdep/input.txt");
    std::fs::remove_file(&watched).unwrap();
    let (_, stdout, _) = inherited.explain(&[], &["build"], &[]);
    let line = inherited.line_for(&stdout, "watchdep");
    assert_has(&line, &[s(&watched), "does not exist here", "make"]);
}

#[test]
fn different_rustflags_are_shown_old_and_new() {
    let inherited = Inherited::new();
    let (_, stdout, _) = inherited.explain(&[], &["build"], &[("RUSTFLAGS", "--cfg explain_test")]);
    for package in ["envdep", "plaindep", "watchdep"] {
        let line = inherited.line_for(&stdout, package);
        assert_has(
            &line,
            &[
                r#"RUSTFLAGS differ: [] -> ["--cfg","explain_test"]"#,
                "same RUSTFLAGS",
            ],
        );
    }
}

#[test]
fn different_features_are_shown_old_and_new() {
    let inherited = Inherited::new();
    let (_, stdout, _) = inherited.explain(&[], &["build", "--features", "extra"], &[]);
    let line = inherited.line_for(&stdout, "plaindep");
    assert_has(
        &line,
        &[r#"features differ: [] -> ["extra"]"#, "--features"],
    );
    assert!(!stdout.contains("envdep"), "{stdout}");
}

#[test]
fn a_different_profile_is_named() {
    let inherited = Inherited::new();
    let (_, stdout, _) =
        inherited.explain(&[], &["build"], &[("CARGO_PROFILE_DEV_OPT_LEVEL", "1")]);
    let line = inherited.line_for(&stdout, "plaindep");
    assert_has(&line, &["profile settings differ", "CARGO_PROFILE_"]);
}

#[test]
fn a_profile_never_built_is_not_inherited() {
    let inherited = Inherited::new();
    let (_, stdout, _) = inherited.explain(&[], &["build", "--release"], &[]);
    let line = inherited.line_for(&stdout, "plaindep");
    assert_has(&line, &["nothing of it was inherited", "--release"]);
}

/// A rustc whose `-vV` names another commit: to cargo, another compiler.
fn other_rustc(dir: &Path) -> PathBuf {
    let real = String::from_utf8(
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let script = dir.join("rustc");
    write(
        &script,
        format!(
            "#!/bin/sh\nreal={}/bin/rustc\nif [ \"$1\" = -vV ]; then \"$real\" -vV | sed 's/^commit-hash: .*/commit-hash: 0123/'\nelse exec \"$real\" \"$@\"; fi\n",
            real.trim()
        )
        .as_bytes(),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn another_rustc_is_named() {
    let inherited = Inherited::new();
    let rustc = other_rustc(inherited.project.work.path());
    let (_, stdout, _) = inherited.explain(&[], &["build"], &[("RUSTC", s(&rustc))]);
    let line = inherited.line_for(&stdout, "plaindep");
    assert_has(&line, &["rustc differs", "same toolchain"]);
}

#[test]
fn deny_fails_when_a_dependency_rebuilt_and_json_says_why() {
    let inherited = Inherited::new();
    let (success, stdout, stderr) = inherited.explain(
        &["--deny", "--json"],
        &["build"],
        &[("CMAKE_PREFIX_PATH", "/b")],
    );
    assert!(!success);
    assert_has(&stderr, &["2 dependency units were rebuilt"]);
    // cargo's own output is passed on, its fingerprint log is not.
    assert!(
        !stderr.contains("cargo::core::compiler::fingerprint"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let cause = &json["causes"][0];
    assert_eq!(cause["cause"], "env-changed");
    assert_eq!(cause["name"], "CMAKE_PREFIX_PATH");
    assert_eq!(cause["old"], "/a");
    assert_eq!(cause["new"], "/b");
    assert_eq!(cause["units"][0]["package"], "envdep");
    assert_eq!(json["cascaded"], 1);
    assert_eq!(json["members"], 1);
}

#[test]
fn a_saved_log_is_explained_like_a_run() {
    let inherited = Inherited::new();
    let (_, from_run, _) = inherited.explain(&[], &["build"], &[("CMAKE_PREFIX_PATH", "/b")]);
    let target = inherited.project.target();
    std::fs::remove_dir_all(&target).unwrap();
    ok(&[
        "unpack",
        "--from",
        s(&inherited.layer),
        "--target-dir",
        s(&target),
    ]);
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    without_outer_cargo_env(&mut cargo);
    let out = cargo
        .current_dir(&inherited.project.src)
        .args(["build", "--offline"])
        .env("CARGO_LOG", "cargo::core::compiler::fingerprint=info")
        .env("CMAKE_PREFIX_PATH", "/b")
        .output()
        .unwrap();
    let log = inherited.project.path("cargo.log");
    std::fs::write(&log, &out.stderr).unwrap();
    let out = cargo_inherit(&[
        "explain",
        "--log",
        s(&log),
        "--workspace",
        s(&inherited.project.src),
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), from_run);
}
