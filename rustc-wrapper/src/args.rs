//! Reading rustc's command line: which invocations write outputs, where, and
//! how to point those outputs at a private directory instead.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A rustc command line, `@argfile`s expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub args: Vec<OsString>,
}

/// An output path rustc was pointed at instead of the one cargo asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub temp: PathBuf,
    pub real: PathBuf,
}

/// A command line with its outputs moved, and the explicit paths moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirected {
    pub args: Vec<OsString>,
    pub moved: Vec<Moved>,
}

/// Where a compile writes, found on its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    pub out_dir: PathBuf,
    pub crate_name: Option<String>,
}

impl Invocation {
    pub fn parse(args: Vec<OsString>) -> Result<Invocation> {
        let mut expanded = Vec::with_capacity(args.len());
        for arg in args {
            match arg.as_bytes().strip_prefix(b"@") {
                Some(file) => expanded.extend(read_argfile(Path::new(OsStr::from_bytes(file)))?),
                None => expanded.push(arg),
            }
        }
        Ok(Invocation { args: expanded })
    }

    /// The outputs of a compile, or None for what must pass through untouched:
    /// `-vV`, `--print` probes, and programs fed on stdin (`-`), as cargo's and
    /// autocfg's probes are.
    pub fn outputs(&self) -> Option<Outputs> {
        let mut out_dir = None;
        let mut crate_name = None;
        let mut args = self.args.iter();
        while let Some(arg) = args.next() {
            let text = arg.to_string_lossy();
            if text == "-" || text.starts_with("--print") {
                return None;
            }
            if let Some(value) = flag_value(&text, "--out-dir", &mut args) {
                out_dir = Some(PathBuf::from(value));
            } else if let Some(value) = flag_value(&text, "--crate-name", &mut args) {
                crate_name = Some(value);
            }
        }
        Some(Outputs {
            out_dir: out_dir?,
            crate_name,
        })
    }

    /// The same command line with every output path moved under `temp`:
    /// `--out-dir` itself, and explicit paths of `--emit KIND=PATH` and `-o`.
    pub fn redirect(&self, temp: &Path) -> Redirected {
        let mut moved = Vec::new();
        let mut out = Vec::with_capacity(self.args.len());
        let mut args = self.args.iter();
        while let Some(arg) = args.next() {
            let text = arg.to_string_lossy();
            let (flag, joined) = match text.split_once('=') {
                Some((flag @ ("--out-dir" | "--emit"), value)) => (flag, Some(value.to_string())),
                _ => (text.as_ref(), None),
            };
            if !matches!(flag, "--out-dir" | "--emit" | "-o") {
                out.push(arg.clone());
                continue;
            }
            let Some(value) =
                joined.or_else(|| args.next().map(|v| v.to_string_lossy().into_owned()))
            else {
                out.push(arg.clone());
                continue;
            };
            match flag {
                "--out-dir" => out.push(format!("--out-dir={}", temp.display()).into()),
                "-o" => out.extend(["-o".into(), relocate(temp, &value, &mut moved).into()]),
                _ => out.push(format!("--emit={}", redirect_emit(temp, &value, &mut moved)).into()),
            }
        }
        Redirected { args: out, moved }
    }
}

/// `dep-info,metadata=PATH,link` with every explicit PATH moved under `temp`.
fn redirect_emit(temp: &Path, value: &str, moved: &mut Vec<Moved>) -> String {
    value
        .split(',')
        .map(|kind| match kind.split_once('=') {
            Some((kind, path)) if path != "-" => format!("{kind}={}", relocate(temp, path, moved)),
            _ => kind.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A unique temporary name for an output rustc was told to write at `path`.
fn relocate(temp: &Path, path: &str, moved: &mut Vec<Moved>) -> String {
    let name = Path::new(path)
        .file_name()
        .unwrap_or(OsStr::new("out"))
        .to_string_lossy();
    let temp_path = temp.join(format!("emit-{}-{name}", moved.len()));
    moved.push(Moved {
        temp: temp_path.clone(),
        real: PathBuf::from(path),
    });
    temp_path.to_string_lossy().into_owned()
}

/// The value of `--flag=value` or `--flag value`.
fn flag_value(text: &str, flag: &str, rest: &mut std::slice::Iter<'_, OsString>) -> Option<String> {
    if text == flag {
        return rest.next().map(|v| v.to_string_lossy().into_owned());
    }
    text.strip_prefix(flag)?
        .strip_prefix('=')
        .map(str::to_string)
}

/// rustc's argfiles hold one argument per line.
fn read_argfile(path: &Path) -> Result<Vec<OsString>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        what: "cannot read argument file",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(bytes
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| OsString::from_vec(line.to_vec()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(args: &[&str]) -> Invocation {
        Invocation::parse(args.iter().map(OsString::from).collect()).unwrap()
    }

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn probes_pass_through() {
        assert_eq!(inv(&["-vV"]).outputs(), None);
        assert_eq!(
            inv(&["-", "--crate-name", "___", "--print=file-names"]).outputs(),
            None
        );
        assert_eq!(
            inv(&["--crate-name", "probe", "--out-dir", "/o", "-"]).outputs(),
            None
        );
        assert_eq!(inv(&["--print", "cfg"]).outputs(), None);
    }

    #[test]
    fn finds_both_out_dir_forms() {
        let joined = inv(&["--crate-name", "x", "src/lib.rs", "--out-dir=/t/deps"])
            .outputs()
            .unwrap();
        assert_eq!(joined.out_dir, PathBuf::from("/t/deps"));
        assert_eq!(joined.crate_name.as_deref(), Some("x"));
        let split = inv(&["src/lib.rs", "--out-dir", "/t/deps"])
            .outputs()
            .unwrap();
        assert_eq!(split.out_dir, PathBuf::from("/t/deps"));
    }

    #[test]
    fn redirects_out_dir_and_explicit_paths() {
        let Redirected { args, moved } = inv(&[
            "src/lib.rs",
            "--out-dir",
            "/t/deps",
            "--emit=dep-info,metadata=/t/deps/libx.rmeta,link",
            "-o",
            "/elsewhere/x",
            "-C",
            "opt-level=3",
        ])
        .redirect(Path::new("/t/deps/.tmp"));
        assert_eq!(
            strings(args),
            [
                "src/lib.rs",
                "--out-dir=/t/deps/.tmp",
                "--emit=dep-info,metadata=/t/deps/.tmp/emit-0-libx.rmeta,link",
                "-o",
                "/t/deps/.tmp/emit-1-x",
                "-C",
                "opt-level=3"
            ]
        );
        let pair = |temp: &str, real: &str| Moved {
            temp: temp.into(),
            real: real.into(),
        };
        assert_eq!(
            moved,
            [
                pair("/t/deps/.tmp/emit-0-libx.rmeta", "/t/deps/libx.rmeta"),
                pair("/t/deps/.tmp/emit-1-x", "/elsewhere/x")
            ]
        );
    }

    #[test]
    fn expands_argfiles() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("args");
        std::fs::write(&file, "--crate-name\nfrom_file\n--out-dir=/o\n").unwrap();
        let parsed = inv(&["src/lib.rs", &format!("@{}", file.display())]);
        assert_eq!(
            strings(parsed.args),
            ["src/lib.rs", "--crate-name", "from_file", "--out-dir=/o"]
        );
    }
}
