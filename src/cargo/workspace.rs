//! Reading a workspace as cargo sees it, offline.

use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_metadata::{Metadata, MetadataCommand};

use crate::error::{Error, IoContext, Result};

/// `cargo ARGS` in `dir`, the cargo that runs us (`CARGO`) or the one on
/// PATH: its stdout, or an error about `path` with cargo's stderr.
pub fn run_cargo(dir: &Path, args: &[&str], path: &Path) -> Result<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = (Command::new(&cargo).args(args).current_dir(dir).output()).at(&cargo)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = format!("cargo {} failed: {}", args.join(" "), stderr.trim());
        return Err(Error::bad_input(path, reason));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `cargo metadata` of the workspace at `dir`; with `dependencies`, the
/// whole resolved graph (held to the lockfile), else its members only.
pub fn metadata(dir: &Path, dependencies: bool) -> Result<Metadata> {
    let manifest = dir.join("Cargo.toml");
    let mut command = MetadataCommand::new();
    // From the workspace itself: cargo reads the `.cargo/config.toml` of
    // the directory it runs in ([patch], source replacement), not the one
    // beside the manifest.
    command.manifest_path(&manifest).current_dir(dir);
    if dependencies {
        command.other_options(["--offline".to_string(), "--locked".to_string()]);
    } else {
        command.no_deps().other_options(["--offline".to_string()]);
    }
    command
        .exec()
        .map_err(|e| Error::bad_input(&manifest, format!("cargo metadata failed: {e}")))
}

/// cargo's build directory for the workspace at `dir` (`build.build-dir`,
/// `CARGO_BUILD_BUILD_DIR`), when it is not the target directory: where
/// intermediate artifacts (deps/, build/, .fingerprint/) then live, while
/// target/ keeps only the final ones.
pub fn separate_build_dir(dir: &Path) -> Result<Option<PathBuf>> {
    let metadata = metadata(dir, false)?;
    Ok(metadata
        .build_directory
        .filter(|build| *build != metadata.target_directory)
        .map(PathBuf::from))
}
