//! Which workspace members changed since a layer was packed. Sources in the
//! store all have mtime 1, like the artifacts inherited with them: cargo
//! cannot see that a member was edited, so its units are left out instead.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cargo::units;
use crate::error::{Error, IoContext, Result};
use crate::tree::blob::BlobId;

/// A member's sources when a layer was packed, and its unit directories
/// (recorded in the layer's manifest, or beside a plain tree).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSource {
    pub package: String,
    pub hash: BlobId,
    pub units: Vec<String>,
}

/// Every member of the workspace at `workspace` with its sources hashed
/// (units not yet known): what a build records before cargo runs, since
/// builders leave files in the sources (crane's build log) that are none.
pub fn sources(workspace: &Path) -> Result<Vec<MemberSource>> {
    members(workspace)?
        .into_iter()
        .map(|(package, dir)| {
            Ok(MemberSource {
                hash: hash_sources(&dir)?,
                package,
                units: Vec::new(),
            })
        })
        .collect()
}

/// The members' `sources` with their unit directories among `dirs` of the
/// target tree.
pub fn with_units<'a>(
    sources: Vec<MemberSource>,
    dirs: impl Iterator<Item = &'a str> + Clone,
) -> Vec<MemberSource> {
    (sources.into_iter())
        .map(|member| MemberSource {
            units: units::units_of(dirs.clone(), &BTreeSet::from([member.package.clone()])),
            ..member
        })
        .collect()
}

/// Unit directories of recorded members whose sources differ now.
pub fn stale_units(recorded: &[MemberSource], workspace: &Path) -> Result<Vec<String>> {
    let now = members(workspace)?;
    let mut stale = Vec::new();
    for member in recorded {
        let current = now.iter().find(|(name, _)| *name == member.package);
        let unchanged = match current {
            Some((_, dir)) => hash_sources(dir)? == member.hash,
            None => false,
        };
        if !unchanged {
            stale.extend(member.units.iter().cloned());
        }
    }
    Ok(stale)
}

/// Members' sources written by `sources` to `file`.
pub fn read_sources(file: &Path) -> Result<Vec<MemberSource>> {
    let read = crate::tree::fs::read_json(file, "a record of members' sources")?;
    read.ok_or_else(|| Error::bad_input(file, "no such record of members' sources"))
}

/// The names of the workspace's members.
pub fn names(workspace: &Path) -> Result<BTreeSet<String>> {
    Ok(members(workspace)?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

fn members(workspace: &Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    let metadata = crate::cargo::workspace::metadata(workspace, false)?;
    Ok(metadata
        .workspace_packages()
        .into_iter()
        .map(|p| {
            let dir = p
                .manifest_path
                .parent()
                .expect("a manifest has a directory")
                .as_std_path()
                .to_path_buf();
            (p.name.to_string(), dir)
        })
        .collect())
}

/// blake3 over every file below a package directory (paths and contents),
/// leaving out build output.
fn hash_sources(dir: &Path) -> Result<BlobId> {
    let mut hasher = blake3::Hasher::new();
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.file_name() != "target");
    for item in walk {
        let item = item.map_err(|e| Error::io(dir, e.into()))?;
        if item.file_type().is_file() {
            let rel = item.path().strip_prefix(dir).expect("below its root");
            hasher.update(rel.as_os_str().as_encoded_bytes());
            hasher.update(&[0]);
            hasher.update(&std::fs::read(item.path()).at(item.path())?);
        }
    }
    Ok(BlobId(*hasher.finalize().as_bytes()))
}
