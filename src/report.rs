//! The report of a Nix derivation of a chain: the units cargo rebuilt, what
//! the tests said and the bytes its layer stores, beside the layer
//! (`cargo-inherit-report.json`); and with the seconds it spent
//! inheriting, running cargo and installing, in its build log. Seconds
//! differ from one build to the next, and an output that holds them would
//! fail `nix-build --check`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cargo::rebuilt::Rebuilt;
use crate::cargo::stdout::{tests, Tests};
use crate::error::{IoContext, Result};
use crate::tree::fs::{apparent_size, read_json};

/// What the same build always gives.
#[derive(Debug, Serialize)]
pub struct Report {
    pub name: String,
    /// Bytes below the layer directories (target/'s and, with a separate
    /// build-dir, its own), 0 when the derivation packed none.
    pub stored_bytes: u64,
    /// From `rebuilt --json`; None when cargo did not get to run.
    pub rebuilt: Option<Rebuilt>,
    /// What test harnesses reported; None when no test ran.
    pub tests: Option<Tests>,
}

/// The report with the seconds of this build: for the build log.
#[derive(Debug, Serialize)]
pub struct Timed<'a> {
    pub inherit_seconds: f64,
    pub cargo_seconds: f64,
    pub install_seconds: f64,
    #[serde(flatten)]
    pub report: &'a Report,
}

impl Report {
    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports serialise")
    }

    /// The report and `seconds`, as one line of JSON.
    pub fn timed(&self, seconds: &Seconds) -> String {
        let timed = Timed {
            inherit_seconds: seconds.inherit,
            cargo_seconds: seconds.cargo,
            install_seconds: seconds.install,
            report: self,
        };
        serde_json::to_string(&timed).expect("reports serialise")
    }
}

/// Seconds spent in each step, in the order the hooks run them.
pub struct Seconds {
    pub inherit: f64,
    pub cargo: f64,
    pub install: f64,
}

/// `cargo_log` is cargo's stdout (`cargo::stdout::split` wrote it), if cargo ran.
pub fn report(name: &str, layers: &[PathBuf], rebuilt: &Path, cargo_log: &Path) -> Result<Report> {
    let mut stored_bytes = 0;
    for layer in layers.iter().filter(|l| l.exists()) {
        stored_bytes += apparent_size(layer)?;
    }
    Ok(Report {
        name: name.to_string(),
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

/// Writes `report` to `path`.
pub fn write(report: &Report, path: &Path) -> Result<()> {
    std::fs::write(path, report.to_json() + "\n").at(path)
}
