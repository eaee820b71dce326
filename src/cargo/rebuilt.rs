//! `rebuilt`: which units a cargo run compiled, from its
//! `--message-format=json` log, split into workspace members and the
//! dependencies an inherited target should have made fresh.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

#[derive(Debug, Serialize, Deserialize)]
pub struct Rebuilt {
    /// Compiler artifacts that were not fresh.
    pub units: usize,
    /// Of those, the dependencies' (packages that are no member).
    #[serde(default)]
    pub dependency_units: usize,
    pub members: BTreeSet<String>,
    pub dependencies: BTreeSet<String>,
}

impl Rebuilt {
    /// With `deny_deps`, an error when a dependency was compiled.
    pub fn verdict(&self, log: &Path, deny_deps: bool) -> Result<()> {
        if deny_deps && !self.dependencies.is_empty() {
            return Err(Error::bad_input(
                log,
                format!(
                    "dependencies were compiled although inherited: {:?}",
                    self.dependencies
                ),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Rebuilt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rebuilt {} units: members {:?}, dependencies {:?}",
            self.units, self.members, self.dependencies
        )
    }
}

pub fn rebuilt(log: &Path, workspace: &Path) -> Result<Rebuilt> {
    let metadata = crate::cargo::workspace::metadata(workspace, false)?;
    let members: BTreeSet<&str> = metadata
        .workspace_members
        .iter()
        .map(|id| id.repr.as_str())
        .collect();
    let text = std::fs::read_to_string(log).at(log)?;
    let mut report = Rebuilt {
        units: 0,
        dependency_units: 0,
        members: BTreeSet::new(),
        dependencies: BTreeSet::new(),
    };
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let message: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| Error::bad_input(log, format!("not cargo JSON output: {e}")))?;
        if message["reason"] != "compiler-artifact" || message["fresh"] != false {
            continue;
        }
        report.units += 1;
        let id = message["package_id"].as_str().unwrap_or("?");
        let name = package_name(id);
        if members.contains(id) {
            report.members.insert(name);
        } else {
            report.dependency_units += 1;
            report.dependencies.insert(name);
        }
    }
    Ok(report)
}

/// `registry+...#itoa@1.0.19` or `path+file:///src/links#0.1.0`.
pub fn package_name(id: &str) -> String {
    let (source, version) = id.rsplit_once('#').unwrap_or((id, ""));
    match version.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => source.rsplit('/').next().unwrap_or(source).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::package_name;

    #[test]
    fn names_from_package_ids() {
        assert_eq!(
            package_name("registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.19"),
            "itoa"
        );
        assert_eq!(
            package_name("path+file:///build/source/links#0.1.0"),
            "links"
        );
        assert_eq!(
            package_name("path+file:///build/source/dir#real-name@0.1.0"),
            "real-name"
        );
    }
}
