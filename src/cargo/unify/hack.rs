//! The generated workspace-hack crate: a member that depends on every
//! package whose features differ per member, with the features the whole
//! workspace resolves, so that any selection that includes it resolves
//! those packages as the workspace does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, Package};
use toml_edit::{value, Array, DocumentMut, InlineTable, Item, Table};

use crate::cargo::resolution::Resolved;
use crate::error::{Error, IoContext, Result};

/// The hack's package name and its directory under the workspace root.
pub const HACK: &str = "cargo-inherit-hack";

/// What the hack depends on: per side (host: its build-dependencies) and
/// package (name, version), the features to enable.
#[derive(Default)]
pub struct Hack {
    entries: BTreeMap<(bool, String, String), BTreeSet<String>>,
}

impl Hack {
    /// Adds `features` to the package `resolved` names on its side; true
    /// when that enabled anything new.
    pub fn add<'a>(
        &mut self,
        resolved: &Resolved,
        features: impl Iterator<Item = &'a str>,
    ) -> bool {
        let (name, version) = resolved.name_version();
        let key = (resolved.host, name.to_string(), version.to_string());
        let grown = !self.entries.contains_key(&key);
        let entry = self.entries.entry(key).or_default();
        let before = entry.len();
        entry.extend(features.map(str::to_string));
        grown || entry.len() > before
    }

    /// The packages it depends on, `name version` (host side marked).
    pub fn packages(&self) -> Vec<String> {
        (self.entries.keys())
            .map(|(host, name, version)| {
                let side = if *host { " (host)" } else { "" };
                format!("{name} {version}{side}")
            })
            .collect()
    }

    /// The crate's manifest: each package by the source the lockfile
    /// has it from, its default features off and the union's listed.
    pub fn manifest(&self, metadata: &Metadata) -> Result<String> {
        let mut manifest = DocumentMut::new();
        let mut package = Table::new();
        package["name"] = value(HACK);
        package["version"] = value("0.1.0");
        package["edition"] = value("2021");
        package["publish"] = value(false);
        manifest["package"] = Item::Table(package);
        let mut lib = Table::new();
        lib["path"] = value("lib.rs");
        manifest["lib"] = Item::Table(lib);
        let mut target = Table::new();
        let mut build = Table::new();
        for ((is_host, name, version), features) in &self.entries {
            let spec = spec(metadata, name, version, features)?;
            let key = format!("{name}-{}", version.replace(['.', '+'], "-"));
            let side = if *is_host { &mut build } else { &mut target };
            side.insert(&key, value(spec));
        }
        manifest["dependencies"] = Item::Table(target);
        if !build.is_empty() {
            manifest["package"]["build"] = value("build.rs");
            manifest["build-dependencies"] = Item::Table(build);
        }
        let header = "# Written by `cargo-inherit unify`: every package whose features differ \
                      per member,\n# with the features the whole workspace resolves.\n";
        Ok(format!("{header}{manifest}"))
    }
}

/// The hack's manifest that `path` holds (as an earlier derivation wrote
/// it), checked to be one.
pub fn read_manifest(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).at(path)?;
    let doc: DocumentMut =
        (text.parse()).map_err(|e| Error::bad_input(path, format!("not a manifest: {e}")))?;
    let name = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Item::as_str);
    if name != Some(HACK) {
        return Err(Error::bad_input(
            path,
            format!("not the manifest of {HACK}"),
        ));
    }
    Ok(text)
}

/// Writes the crate with `manifest` into `dir`: an empty library beside
/// it, and the build script it names (cargo resolves build-dependencies
/// only for a package with one).
pub fn write_crate(dir: &Path, manifest: &str) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).at(dir)?;
    let mut files = vec![
        (dir.join("Cargo.toml"), manifest),
        (
            dir.join("lib.rs"),
            "//! Written by `cargo-inherit unify`.\n",
        ),
    ];
    if manifest.contains("[build-dependencies]") {
        files.push((dir.join("build.rs"), "fn main() {}\n"));
    }
    for (path, text) in &files {
        std::fs::write(path, text).at(path)?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// How the hack names `name` `version` with `features`: the source it
/// comes from in the lockfile, so that cargo takes it for the same package.
fn spec(
    metadata: &Metadata,
    name: &str,
    version: &str,
    features: &BTreeSet<String>,
) -> Result<InlineTable> {
    let package = one_package(metadata, name, version)?;
    let mut spec = InlineTable::new();
    spec.insert("package", name.into());
    match package.source.as_ref().map(|s| s.repr.as_str()) {
        None => {
            let dir = package
                .manifest_path
                .parent()
                .unwrap_or(&package.manifest_path);
            spec.insert("path", dir.as_str().into());
        }
        Some(source) if is_crates_io(source) => {
            let exact = version.split('+').next().unwrap_or(version);
            spec.insert("version", format!("={exact}").into());
        }
        Some(source) if source.starts_with("git+") => git_spec(&mut spec, source),
        Some(source) => {
            let reason = format!(
                "{name} {version} comes from {source}: unify names crates.io, git and path \
                 packages only"
            );
            return Err(Error::bad_input(&metadata.workspace_root, reason));
        }
    }
    spec.insert("default-features", false.into());
    let features: Array = features.iter().map(String::as_str).collect();
    spec.insert("features", features.into());
    Ok(spec)
}

fn one_package<'a>(metadata: &'a Metadata, name: &str, version: &str) -> Result<&'a Package> {
    let mut found = (metadata.packages.iter())
        .filter(|p| p.name.as_str() == name && p.version.to_string() == version);
    match (found.next(), found.next()) {
        (Some(package), None) => Ok(package),
        (None, _) => {
            let reason = format!("{name} {version} is not in the workspace's resolution");
            Err(Error::bad_input(&metadata.workspace_root, reason))
        }
        (Some(_), Some(_)) => {
            let reason =
                format!("{name} {version} comes from two sources: unify cannot tell which");
            Err(Error::bad_input(&metadata.workspace_root, reason))
        }
    }
}

fn is_crates_io(source: &str) -> bool {
    source == "registry+https://github.com/rust-lang/crates.io-index"
        || source == "sparse+https://index.crates.io/"
}

/// `git+URL?branch=B#COMMIT` as the member wrote it (`git`, and `branch`,
/// `tag` or `rev`): another spelling would be another source to cargo.
fn git_spec(spec: &mut InlineTable, source: &str) {
    let source = source.trim_start_matches("git+");
    let source = source.split('#').next().unwrap_or(source);
    let (url, query) = source.split_once('?').unwrap_or((source, ""));
    spec.insert("git", url.into());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some((key @ ("branch" | "tag" | "rev"), val)) = pair.split_once('=') {
            spec.insert(key, val.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_source_is_named_as_it_was_written() {
        let mut spec = InlineTable::new();
        git_spec(
            &mut spec,
            "git+https://example.com/a.git?branch=main#0123abc",
        );
        assert_eq!(
            spec.to_string(),
            r#"{ git = "https://example.com/a.git", branch = "main" }"#
        );
        let mut spec = InlineTable::new();
        git_spec(&mut spec, "git+https://example.com/a.git#0123abc");
        assert_eq!(spec.to_string(), r#"{ git = "https://example.com/a.git" }"#);
    }

    #[test]
    fn features_only_grow() {
        let resolved = |features: &str| Resolved {
            package: "memchr v2.8.3".into(),
            host: false,
            features: features.into(),
        };
        let mut hack = Hack::default();
        assert!(hack.add(&resolved("std"), ["std"].into_iter()));
        assert!(!hack.add(&resolved("std"), ["std"].into_iter()));
        assert!(hack.add(&resolved("std"), ["alloc"].into_iter()));
        assert_eq!(hack.packages(), ["memchr 2.8.3"]);
    }
}
