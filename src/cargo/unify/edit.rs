//! The workspace's files as unify changes them: the hack becomes a member
//! and every member's dependency, the lockfile takes it in; and each file
//! put back as it was when unify fails, so nothing the user had is lost.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use filetime::FileTime;
use toml_edit::{value, Array, DocumentMut, InlineTable, Item};

use super::hack::HACK;
use crate::cargo::workspace;
use crate::error::{Error, IoContext, Result};

/// The files unify changed, with what they held and their mtimes (cargo's
/// fingerprints of a package with a build script and no rerun-if lines
/// read every file's mtime), and the hack's directory it made.
pub struct Edit {
    root: PathBuf,
    saved: Vec<(PathBuf, Vec<u8>, FileTime)>,
    mtime: FileTime,
}

impl Edit {
    /// Before any change to the workspace at `root`.
    pub fn begin(root: &Path) -> Result<Edit> {
        let manifest = root.join("Cargo.toml");
        let meta = std::fs::metadata(&manifest).at(&manifest)?;
        Ok(Edit {
            root: root.to_path_buf(),
            saved: Vec::new(),
            mtime: FileTime::from_last_modification_time(&meta),
        })
    }

    pub fn hack_dir(&self) -> PathBuf {
        self.root.join(HACK)
    }

    /// The text of `path`, kept to put back.
    fn save(&mut self, path: &Path) -> Result<String> {
        let bytes = std::fs::read(path).at(path)?;
        let meta = std::fs::metadata(path).at(path)?;
        let mtime = FileTime::from_last_modification_time(&meta);
        if !self.saved.iter().any(|(p, _, _)| p == path) {
            self.saved.push((path.to_path_buf(), bytes.clone(), mtime));
        }
        String::from_utf8(bytes).map_err(|_| Error::bad_input(path, "not UTF-8"))
    }

    /// The workspace's manifest lists the hack as a member, and each of
    /// `members` (their manifests) depends on it.
    pub fn add_hack(&mut self, members: &[PathBuf]) -> Result<()> {
        let root_manifest = self.root.join("Cargo.toml");
        let mut manifests: BTreeSet<&Path> = members.iter().map(PathBuf::as_path).collect();
        manifests.insert(&root_manifest);
        for manifest in manifests {
            let text = self.save(manifest)?;
            let mut doc: DocumentMut = (text.parse())
                .map_err(|e| Error::bad_input(manifest, format!("not a manifest: {e}")))?;
            if manifest == root_manifest {
                let members = doc["workspace"]["members"].or_insert(value(Array::new()));
                let Some(members) = members.as_array_mut() else {
                    return Err(Error::bad_input(manifest, "workspace.members is no array"));
                };
                members.push(HACK);
            }
            if members.iter().any(|m| m == manifest) {
                let dir = manifest.parent().unwrap_or(&self.root);
                let mut dep = InlineTable::new();
                dep.insert("path", self.path_from(dir).into());
                let deps = doc["dependencies"].or_insert(toml_edit::table());
                let Some(deps) = deps.as_table_like_mut() else {
                    return Err(Error::bad_input(manifest, "dependencies is no table"));
                };
                deps.insert(HACK, Item::Value(dep.into()));
            }
            std::fs::write(manifest, doc.to_string()).at(manifest)?;
        }
        Ok(())
    }

    /// The hack's directory as a member in `dir` names it: relative when
    /// `dir` is under the workspace root.
    fn path_from(&self, dir: &Path) -> String {
        match dir.strip_prefix(&self.root) {
            Ok(below) => {
                let up = below
                    .components()
                    .filter(|c| matches!(c, Component::Normal(_)));
                let mut path: String = up.map(|_| "../").collect();
                path.push_str(HACK);
                path
            }
            Err(_) => self.hack_dir().display().to_string(),
        }
    }

    /// Takes the hack into the lockfile (`cargo update --workspace`
    /// changes the members' entries only), and checks that no other
    /// package's version or source moved.
    pub fn update_lock(&mut self, dir: &Path) -> Result<()> {
        let lock = self.root.join("Cargo.lock");
        let before = locked_packages(&lock, &self.save(&lock)?)?;
        let update = ["update", "--workspace", "--offline", "--quiet"];
        workspace::run_cargo(dir, &update, &lock)?;
        let text = std::fs::read_to_string(&lock).at(&lock)?;
        let after = locked_packages(&lock, &text)?;
        if after != before {
            let moved: Vec<_> = after.symmetric_difference(&before).collect();
            let reason = format!("taking the hack in would change locked packages: {moved:?}");
            return Err(Error::bad_input(&lock, reason));
        }
        Ok(())
    }

    /// Every changed file gets its mtime back, and the hack's files that
    /// of the workspace's manifest (the store's 1 in a Nix build).
    pub fn settle_mtimes(&self, hack_files: &[PathBuf]) -> Result<()> {
        let saved = self.saved.iter().map(|(p, _, t)| (p, *t));
        let made = hack_files.iter().map(|p| (p, self.mtime));
        for (path, mtime) in saved.chain(made) {
            filetime::set_file_mtime(path, mtime).at(path)?;
        }
        Ok(())
    }

    /// Puts every file back as it was and removes the hack.
    pub fn undo(self) -> Result<()> {
        let hack = self.hack_dir();
        if hack.exists() {
            std::fs::remove_dir_all(&hack).at(&hack)?;
        }
        for (path, bytes, mtime) in &self.saved {
            std::fs::write(path, bytes).at(path)?;
            filetime::set_file_mtime(path, *mtime).at(path)?;
        }
        Ok(())
    }
}

/// The lockfile's packages from a source (name, version, source): not the
/// workspace's own, whose entries the hack changes.
fn locked_packages(lock: &Path, text: &str) -> Result<BTreeSet<(String, String, String)>> {
    let doc: DocumentMut =
        (text.parse()).map_err(|e| Error::bad_input(lock, format!("not a lockfile: {e}")))?;
    let packages = doc.get("package").and_then(Item::as_array_of_tables);
    let field = |t: &toml_edit::Table, k: &str| t.get(k).and_then(Item::as_str).map(str::to_string);
    Ok((packages.into_iter().flatten())
        .filter_map(|t| Some((field(t, "name")?, field(t, "version")?, field(t, "source")?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_name_the_hack_relative_to_them() {
        let edit = Edit {
            root: "/w".into(),
            saved: Vec::new(),
            mtime: FileTime::zero(),
        };
        assert_eq!(edit.path_from(Path::new("/w")), HACK);
        assert_eq!(
            edit.path_from(Path::new("/w/crates/a")),
            format!("../../{HACK}")
        );
        assert_eq!(edit.path_from(Path::new("/x/a")), format!("/w/{HACK}"));
    }
}
