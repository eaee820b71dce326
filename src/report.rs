//! The report every Nix derivation of a chain writes beside its outputs
//! (`$out/cargo-inherit-report.json`): seconds spent inheriting, running
//! cargo and installing, the bytes its layer stores, the units cargo rebuilt.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cargo::rebuilt::Rebuilt;
use crate::cargo::stdout::{tests, Tests};
use crate::error::{IoContext, Result};
use crate::tree::fs::{apparent_size, read_json};

#[derive(Debug, Serialize)]
pub struct Report {
    pub name: String,
    pub inherit_seconds: f64,
    pub cargo_seconds: f64,
    pub install_seconds: f64,
    /// Bytes below the layer directories (target/'s and, with a separate
    /// build-dir, its own), 0 when the derivation packed none.
    pub stored_bytes: u64,
    /// From `rebuilt --json`; None when cargo did not get to run.
    pub rebuilt: Option<Rebuilt>,
    /// What test harnesses reported; None when no test ran.
    pub tests: Option<Tests>,
}

impl Report {
    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports serialise")
    }
}

/// Seconds spent in each step, in the order the hooks run them.
pub struct Seconds {
    pub inherit: f64,
    pub cargo: f64,
    pub install: f64,
}

/// `cargo_log` is cargo's stdout (`cargo_stdout::split` wrote it), if cargo ran.
pub fn report(
    name: &str,
    seconds: Seconds,
    layers: &[PathBuf],
    rebuilt: &Path,
    cargo_log: &Path,
) -> Result<Report> {
    let mut stored_bytes = 0;
    for layer in layers.iter().filter(|l| l.exists()) {
        stored_bytes += apparent_size(layer)?;
    }
    Ok(Report {
        name: name.to_string(),
        inherit_seconds: seconds.inherit,
        cargo_seconds: seconds.cargo,
        install_seconds: seconds.install,
        stored_bytes,
        rebuilt: read_json(rebuilt, "a report of `cargo-inherit rebuilt --json`")?,
        tests: if cargo_log.is_file() {
            tests(&String::from_utf8_lossy(
                &std::fs::read(cargo_log).at(cargo_log)?,
            ))
        } else {
            None
        },
    })
}
