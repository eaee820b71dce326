//! A fixture project laid out the way a Nix build sees it: vendored crates
//! and sources with mtime 1, built with cargo's JSON output so tests can
//! count exactly which units were not fresh.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{make_store_like, make_writable};

pub struct Project {
    pub work: tempfile::TempDir,
    /// The workspace; its target directory is `src/target`, as in a Nix build.
    pub src: PathBuf,
}

/// What one cargo run did.
pub struct Build {
    pub success: bool,
    /// Packages with a compiler artifact that was not fresh, once each.
    pub rebuilt: Vec<String>,
    /// cargo's stderr, then rustc's rendered diagnostics (JSON on stdout).
    pub stderr: String,
    /// cargo's JSON messages, as `--message-format=json` printed them.
    pub stdout: String,
}

impl Project {
    /// Copies `tests/fixtures/NAME`, vendors its crates next to it and
    /// makes every source read-only with mtime 1, as in the store.
    pub fn prepare(name: &str) -> Project {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let work = tempfile::tempdir().unwrap();
        let src = work.path().join("source");
        copy_tree(&fixture, &src);
        let vendor = work.path().join("vendor");
        let out = cargo(false)
            .current_dir(&src)
            .args(["vendor", "--locked", "--versioned-dirs", "-q"])
            .arg(&vendor)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo vendor: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = format!(
            "[source.crates-io]\nreplace-with = \"vendored\"\n[source.vendored]\ndirectory = \"{}\"\n",
            vendor.display()
        );
        super::write(&src.join(".cargo/config.toml"), config.as_bytes());
        // A fixture without registry crates vendors nothing.
        std::fs::create_dir_all(&vendor).unwrap();
        make_store_like(&vendor);
        // The build copies its sources writable but keeps their mtime 1.
        make_store_like(&src);
        make_writable(&src);
        Project { work, src }
    }

    pub fn target(&self) -> PathBuf {
        self.src.join("target")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// Runs `cargo ARGS --message-format=json` offline in the workspace.
    /// With `drop_caps`, root loses its write override, so read-only files
    /// bite as they do for a Nix build user.
    pub fn cargo(&self, args: &[&str], drop_caps: bool) -> Build {
        self.cargo_with(args, drop_caps, &[])
    }

    /// Builds the project's skeleton at the project's own path (as a Nix
    /// build does in /build/source), hands it to `install` (which packs the
    /// target), then puts the real sources back and the target away.
    pub fn build_skeleton_in_place(&self, install: impl FnOnce(&Path)) {
        let (real, skel) = (self.path("real-source"), self.path("skeleton"));
        super::ok(&["skeleton", super::s(&self.src), super::s(&skel)]);
        std::fs::rename(&self.src, &real).unwrap();
        std::fs::rename(&skel, &self.src).unwrap();
        let deps = self.cargo(&["build"], false);
        assert!(deps.success, "{}", deps.stderr);
        install(&self.src);
        std::fs::rename(self.target(), self.path("deps-target")).unwrap();
        std::fs::rename(&self.src, &skel).unwrap();
        std::fs::rename(&real, &self.src).unwrap();
    }

    /// Replaces the target with what `from` lays out (next to `workspace`,
    /// when given) and builds as an unprivileged user would.
    pub fn inherit_and_build(&self, from: &Path, workspace: Option<&Path>) -> Build {
        let target = self.target();
        if target.exists() {
            std::fs::remove_dir_all(&target).unwrap();
        }
        let mut args = vec![
            "unpack",
            "--from",
            super::s(from),
            "--target-dir",
            super::s(&target),
        ];
        if let Some(dir) = workspace {
            args.extend(["--workspace", super::s(dir)]);
        }
        super::ok(&args);
        self.cargo(&["build"], true)
    }

    /// `inherit_and_build`, which must find every unit fresh.
    pub fn assert_inherits_fresh(&self, from: &Path) {
        let build = self.inherit_and_build(from, None);
        assert!(build.success, "{}", build.stderr);
        assert_eq!(
            build.rebuilt,
            Vec::<String>::new(),
            "units rebuilt after unpacking {}",
            from.display()
        );
    }

    /// What the debug build of the fixture's `app` prints.
    pub fn run_app(&self) -> String {
        let out = Command::new(self.target().join("debug/app"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `cargo` with extra environment variables.
    pub fn cargo_with(&self, args: &[&str], drop_caps: bool, env: &[(&str, &str)]) -> Build {
        self.run_cargo(cargo(drop_caps), args, env)
    }

    /// The cargo of the nightly toolchain (through rustup), for what is
    /// only on nightly, such as `-Zbuild-dir-new-layout`.
    pub fn nightly_cargo_with(&self, args: &[&str], env: &[(&str, &str)]) -> Build {
        let mut nightly = Command::new("rustup");
        nightly.args(["run", "nightly", "cargo"]);
        without_outer_cargo_env(&mut nightly);
        self.run_cargo(nightly, args, env)
    }

    fn run_cargo(&self, mut cargo: Command, args: &[&str], env: &[(&str, &str)]) -> Build {
        let out = cargo
            .current_dir(&self.src)
            .args(args)
            .args(["--offline", "--message-format=json"])
            .env("CARGO_TARGET_DIR", self.target())
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let messages: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        let mut rebuilt: Vec<String> = messages
            .iter()
            .filter(|m| m["reason"] == "compiler-artifact" && m["fresh"] == false)
            .map(|m| cargo_inherit::package_name(m["package_id"].as_str().unwrap_or("?")))
            .collect();
        rebuilt.sort();
        rebuilt.dedup();
        let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        for rendered in messages
            .iter()
            .filter_map(|m| m["message"]["rendered"].as_str())
        {
            stderr.push_str(rendered);
        }
        Build {
            success: out.status.success(),
            rebuilt,
            stderr,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        }
    }
}

/// The cargo running the tests, without the outer build's environment;
/// with `drop_caps`, as an unprivileged build user.
pub fn cargo(drop_caps: bool) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = if drop_caps {
        super::as_build_user(cargo)
    } else {
        Command::new(cargo)
    };
    without_outer_cargo_env(&mut c);
    c
}

/// The outer `cargo test` must not steer a fixture's build.
pub fn without_outer_cargo_env(c: &mut Command) {
    for var in [
        "CARGO_TARGET_DIR",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        c.env_remove(var);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for item in walkdir::WalkDir::new(from) {
        let item = item.unwrap();
        let rel = item.path().strip_prefix(from).unwrap();
        if rel.starts_with("target") {
            continue;
        }
        let dest = to.join(rel);
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(item.path(), &dest).unwrap();
        }
    }
}

/// The wrapper binary, built next to `cargo-inherit` by `cargo test --workspace`.
pub fn wrapper() -> String {
    let path = Path::new(env!("CARGO_BIN_EXE_cargo-inherit")).with_file_name("cargo-inherit-rustc");
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test --workspace`",
        path.display()
    );
    path.to_str().unwrap().to_string()
}
