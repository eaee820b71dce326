//! A private output directory inside the real one, and moving what rustc
//! wrote there over the real names. rename(2) replaces a read-only file or a
//! symlink into /nix/store without following it, which writing in place
//! cannot do.

use std::path::{Component, Path, PathBuf};

use crate::args::Moved;
use crate::error::{Error, Result};

pub struct Redirect {
    temp: tempfile::TempDir,
    out_dir: PathBuf,
    /// (temporary, real) for outputs given explicit paths.
    moved: Vec<Moved>,
    /// (temporary, real) path texts for `rewrite`, built once: stderr is
    /// rewritten line by line.
    replacements: Vec<(String, String)>,
}

impl Redirect {
    /// A temporary directory inside `out_dir`: same file system, so renames
    /// are atomic, and a name no concurrent rustc shares.
    pub fn new(out_dir: &Path) -> Result<Redirect> {
        // rustc creates a missing output directory; so must we, to put ours in it.
        std::fs::create_dir_all(out_dir).map_err(|source| Error::Io {
            what: "cannot create the output directory",
            path: out_dir.to_path_buf(),
            source,
        })?;
        let temp = tempfile::Builder::new()
            .prefix(".cargo-inherit-")
            .tempdir_in(out_dir)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::PermissionDenied => Error::ReadOnlyOutDir {
                    path: out_dir.to_path_buf(),
                },
                _ => Error::Io {
                    what: "cannot create a temporary output directory in",
                    path: out_dir.to_path_buf(),
                    source,
                },
            })?;
        Ok(Redirect {
            temp,
            out_dir: out_dir.to_path_buf(),
            moved: Vec::new(),
            replacements: Vec::new(),
        }
        .with_replacements())
    }

    pub fn temp(&self) -> &Path {
        self.temp.path()
    }

    pub fn set_moved(self, moved: Vec<Moved>) -> Redirect {
        Redirect { moved, ..self }.with_replacements()
    }

    /// Where a file rustc wrote under the temporary directory belongs; None
    /// for anything else, `..` included: rustc's messages name the files,
    /// and nothing they say may move a file out of `--out-dir`.
    fn real_path(&self, written: &Path) -> Option<PathBuf> {
        if let Some(Moved { real, .. }) = self.moved.iter().find(|m| m.temp == written) {
            return Some(real.clone());
        }
        let rel = written.strip_prefix(self.temp.path()).ok()?;
        let inside = rel.components().all(|c| matches!(c, Component::Normal(_)));
        inside.then(|| self.out_dir.join(rel))
    }

    /// Puts an output rustc announced in place now, since cargo starts
    /// dependent crates as soon as it hears of it. rustc reads the file again
    /// later (an rlib embeds its rmeta), so a hard link goes into place and
    /// rustc's own name stays; `finish` moves that over the same path again.
    pub fn place_early(&self, written: &Path) -> Result<()> {
        let Some(real) = self.real_path(written) else {
            return Ok(());
        };
        let staged = self.temp.path().join(".announced");
        let _ = std::fs::remove_file(&staged);
        std::fs::hard_link(written, &staged).map_err(|source| Error::Io {
            what: "cannot link the announced output",
            path: written.to_path_buf(),
            source,
        })?;
        rename(&staged, &real)
    }

    /// Moves one output over its real name, fixing the paths in dep-info.
    fn place(&self, written: &Path) -> Result<()> {
        let Some(real) = self.real_path(written) else {
            return Ok(());
        };
        if !written.exists() {
            return Ok(());
        }
        if written.extension().is_some_and(|e| e == "d") {
            self.rewrite_file(written)?;
        }
        rename(written, &real)
    }

    /// Rewrites temporary paths into real ones in text rustc printed or wrote.
    pub fn rewrite(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (from, to) in &self.replacements {
            if text.contains(from.as_str()) {
                text = text.replace(from.as_str(), to);
            }
        }
        text
    }

    /// Each temporary path and its real one, in the spellings rustc uses:
    /// raw, JSON-escaped, and Makefile-escaped (dep-info).
    fn with_replacements(mut self) -> Redirect {
        let mut pairs: Vec<Moved> = self.moved.clone();
        pairs.push(Moved {
            temp: self.temp.path().to_path_buf(),
            real: self.out_dir.clone(),
        });
        let mut out = Vec::new();
        for Moved {
            temp: from,
            real: to,
        } in pairs
        {
            let (from, to) = (
                from.to_string_lossy().into_owned(),
                to.to_string_lossy().into_owned(),
            );
            let json = |s: &str| {
                serde_json::to_string(s)
                    .expect("strings serialise")
                    .trim_matches('"')
                    .to_string()
            };
            let make = |s: &str| s.replace(' ', "\\ ");
            for (f, t) in [
                (json(&from), json(&to)),
                (make(&from), make(&to)),
                (from, to),
            ] {
                if !out.contains(&(f.clone(), t.clone())) {
                    out.push((f, t));
                }
            }
        }
        self.replacements = out;
        self
    }

    fn rewrite_file(&self, path: &Path) -> Result<()> {
        let io = |what, source| Error::Io {
            what,
            path: path.to_path_buf(),
            source,
        };
        let text = std::fs::read(path).map_err(|e| io("cannot read dep-info", e))?;
        let rewritten = self.rewrite(&String::from_utf8_lossy(&text));
        std::fs::write(path, rewritten).map_err(|e| io("cannot rewrite dep-info", e))
    }

    /// After a successful compile: everything still in the temporary
    /// directory (explicit `--emit`/`-o` outputs included) goes over its real name.
    pub fn finish(self) -> Result<()> {
        let listing = std::fs::read_dir(self.temp.path()).map_err(|source| Error::Io {
            what: "cannot list",
            path: self.temp.path().to_path_buf(),
            source,
        })?;
        for item in listing.flatten() {
            self.place(&item.path())?;
        }
        Ok(())
    }
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|source| Error::Rename {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_below_the_private_directory_are_placed() {
        let out = tempfile::tempdir().unwrap();
        let redirect = Redirect::new(out.path()).unwrap();
        let temp = redirect.temp().to_path_buf();
        assert_eq!(
            redirect.real_path(&temp.join("libx.rmeta")),
            Some(out.path().join("libx.rmeta"))
        );
        for escape in ["../../outside", "sub/../../../outside", "../x"] {
            assert_eq!(redirect.real_path(&temp.join(escape)), None, "{escape}");
        }
        assert_eq!(redirect.real_path(Path::new("/etc/passwd")), None);
    }
}
