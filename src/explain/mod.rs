//! `explain`: why cargo rebuilt units an inherited target should have made
//! fresh, and what to change. Root causes first, grouped; units rebuilt
//! only because a dependency was are folded into one count.

mod cause;
mod fingerprint;
mod log;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

pub use cause::{Cause, Context};
use fingerprint::Comparison;
pub use log::Unit;
use log::{dirty_units, Dirty, Said};

use crate::error::{Error, IoContext, Result};

/// The log cargo writes with this set is what `explain` reads.
pub const CARGO_LOG: (&str, &str) = ("CARGO_LOG", "cargo::core::compiler::fingerprint=info");

#[derive(Debug, Serialize)]
pub struct Explanation {
    /// Root causes, each with the units it rebuilt.
    pub causes: Vec<Group>,
    /// Units rebuilt only because a dependency was.
    pub cascaded: usize,
    /// Units of workspace members, which are expected to rebuild.
    pub members: usize,
    /// Outputs rustc could not write over (read-only inherited files).
    pub not_writeable: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Group {
    #[serde(flatten)]
    pub cause: Cause,
    pub reason: String,
    pub hint: String,
    pub units: Vec<Unit>,
}

impl Explanation {
    /// Units of dependencies that were not fresh.
    pub fn dependency_units(&self) -> usize {
        self.causes.iter().map(|g| g.units.len()).sum::<usize>() + self.cascaded
    }
}

/// Explains a fingerprint log of a cargo run in `workspace`.
fn explain_log(text: &str, workspace: &Path, context: &Context) -> Result<Explanation> {
    let members = member_packages(workspace)?;
    let mut groups: BTreeMap<Cause, BTreeSet<Unit>> = BTreeMap::new();
    let mut cascaded = BTreeSet::new();
    let mut member_units = BTreeSet::new();
    for Dirty { unit, said } in dirty_units(text) {
        if members.contains(&(unit.package.clone(), unit.version.clone())) {
            member_units.insert(unit);
            continue;
        }
        let cause = cause_of(&unit, said);
        if cause.is_cascade() {
            cascaded.insert(unit);
        } else {
            groups.entry(cause).or_default().insert(unit);
        }
    }
    let causes = groups
        .into_iter()
        .map(|(cause, units)| Group {
            reason: cause.reason(),
            hint: cause.hint(context),
            cause,
            units: units.into_iter().collect(),
        })
        .collect();
    Ok(Explanation {
        causes,
        cascaded: cascaded.len(),
        members: member_units.len(),
        not_writeable: not_writeable(text),
    })
}

/// A unit with no fingerprint is compared with those it could have inherited.
fn cause_of(unit: &Unit, said: Said) -> Cause {
    match said {
        Said::Dirty(reason) => match Cause::from_dirty(&reason) {
            // What a build-script run finds newer is a file it watches, not a source.
            Cause::SourceNewer { file } if unit.target == "build script run" => {
                Cause::WatchedNewer { file }
            }
            cause => cause,
        },
        Said::NoFingerprint(hash_file) => match fingerprint::compare(&hash_file, &unit.package) {
            Comparison::Follows => Cause::Dependency,
            Comparison::Settings(settings) => Cause::Settings { settings },
            Comparison::NoneInherited => Cause::NotInherited,
            Comparison::Unwritten => Cause::Unfinished,
        },
    }
}

/// Runs `cargo ARGS --message-format=json` in `workspace` with the
/// fingerprint log on; returns that log and whether cargo succeeded.
/// Everything else cargo prints on stderr is passed on.
fn run_cargo(args: &[OsString], workspace: &Path) -> Result<(String, bool)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(args)
        .arg("--message-format=json")
        .env(CARGO_LOG.0, CARGO_LOG.1)
        .env("RUST_LIB_BACKTRACE", "0")
        .current_dir(workspace)
        .stdin(Stdio::null())
        .output()
        .at(&cargo)?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprint!("{}", without_fingerprint_log(&stderr));
    Ok((stderr, output.status.success()))
}

/// cargo's stderr without the log lines (and the causes of the errors
/// it logs for units never built before).
pub fn without_fingerprint_log(stderr: &str) -> String {
    let mut filter = LogFilter::default();
    let mut kept: String = stderr.lines().filter_map(|l| filter.line(l)).collect();
    kept += &filter.finish();
    kept
}

/// Copies `input` to `output` line by line without the fingerprint log,
/// flushing each line: a build log shows cargo's progress as it happens.
pub fn filter_log(input: impl std::io::BufRead, mut output: impl std::io::Write) -> Result<()> {
    let stdin = Path::new("<stdin>");
    let stdout = Path::new("<stdout>");
    let mut filter = LogFilter::default();
    for line in input.split(b'\n') {
        let line = line.at(stdin)?;
        if let Some(kept) = filter.line(&String::from_utf8_lossy(&line)) {
            output.write_all(kept.as_bytes()).at(stdout)?;
            output.flush().at(stdout)?;
        }
    }
    output.write_all(filter.finish().as_bytes()).at(stdout)
}

/// The state of filtering a log: blank lines wait for the next line, since
/// before "Caused by:" they go too.
#[derive(Default)]
struct LogFilter {
    held: String,
    in_cause: bool,
}

impl LogFilter {
    /// What to print for `line` (with a newline), if anything.
    fn line(&mut self, line: &str) -> Option<String> {
        if line.contains("cargo::core::compiler::fingerprint") {
            return None;
        }
        if line == "Caused by:" {
            (self.held, self.in_cause) = (String::new(), true);
            return None;
        }
        if self.in_cause && line.starts_with("    ") && !is_status_line(line) {
            return None;
        }
        self.in_cause = false;
        if line.is_empty() {
            self.held.push('\n');
            return None;
        }
        Some(std::mem::take(&mut self.held) + line + "\n")
    }

    fn finish(self) -> String {
        self.held
    }
}

/// One of cargo's status lines (`   Compiling x`, `    Finished ...`,
/// `   Doc-tests x`): its verb right-aligned to column 12, then a space.
/// They follow a logged cause without a blank line, indented like it.
fn is_status_line(line: &str) -> bool {
    let verb = line.trim_start_matches(' ');
    let indent = line.len() - verb.len();
    let word = verb.split(' ').next().unwrap_or("");
    indent + word.len() == 12
        && verb.len() > word.len()
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
}

/// (name, version) of each workspace member.
fn member_packages(workspace: &Path) -> Result<BTreeSet<(String, String)>> {
    let metadata = crate::cargo::workspace::metadata(workspace, false)?;
    let members: BTreeSet<_> = metadata.workspace_members.iter().collect();
    Ok(metadata
        .packages
        .iter()
        .filter(|p| members.contains(&p.id))
        .map(|p| (p.name.to_string(), p.version.to_string()))
        .collect())
}

/// rustc's `output file X is not writeable -- check its permissions`.
fn not_writeable(text: &str) -> Vec<String> {
    let found: BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            let (before, _) = l.split_once(" is not writeable")?;
            let (_, path) = before.split_once("output file ")?;
            Some(path.trim_matches(['`', '"']).to_string())
        })
        .collect();
    found.into_iter().collect()
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self))
    }
}

fn render(explanation: &Explanation) -> String {
    let mut out = String::new();
    let dependencies = explanation.dependency_units();
    if dependencies == 0 && explanation.not_writeable.is_empty() {
        out += &format!(
            "every inherited unit was fresh ({} workspace units rebuilt, as expected)\n",
            explanation.members
        );
        return out;
    }
    for group in &explanation.causes {
        out += &format!(
            "{}: {}; fix: {}\n",
            describe_units(&group.units),
            group.reason,
            group.hint
        );
    }
    if explanation.cascaded > 0 {
        out += &format!(
            "{} more units rebuilt because of {}\n",
            explanation.cascaded,
            if explanation.causes.is_empty() {
                "rebuilt dependencies"
            } else {
                "them"
            }
        );
    }
    for path in &explanation.not_writeable {
        out += &format!(
            "rustc could not write over {path}, a read-only inherited file; fix: build with \
             RUSTC_WRAPPER=cargo-inherit-rustc, or lay the artifacts out with `cargo-inherit unpack`\n"
        );
    }
    out += &format!(
        "{dependencies} dependency units rebuilt; {} workspace units rebuilt, as expected\n",
        explanation.members
    );
    out
}

/// `pkg 1.0 (lib, build script)` for one package; for several, their names
/// (the first ten) and the number of units.
fn describe_units(units: &[Unit]) -> String {
    let mut packages: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for unit in units {
        let name = format!("{} {}", unit.package, unit.version);
        packages.entry(name).or_default().push(&unit.target);
    }
    if packages.len() == 1 {
        let (name, targets) = packages.iter().next().expect("one package");
        return format!("{name} ({})", targets.join(", "));
    }
    const SHOWN: usize = 10;
    let mut names: Vec<&str> = packages.keys().take(SHOWN).map(String::as_str).collect();
    let more = format!("and {} more packages", packages.len().saturating_sub(SHOWN));
    if packages.len() > SHOWN {
        names.push(&more);
    }
    format!("{} ({} units)", names.join(", "), units.len())
}

/// An explanation, and whether the cargo run it came from succeeded.
pub struct Explained {
    pub explanation: Explanation,
    cargo_ok: bool,
    /// The log or workspace explained, named in errors.
    what: PathBuf,
}

/// Explains `log` (cargo's stderr with the fingerprint log), or runs `cargo
/// CARGO_ARGS` (default: build) in `workspace` and explains that run.
pub fn explain(
    workspace: &Path,
    log: Option<&Path>,
    mut cargo_args: Vec<OsString>,
    context: &Context,
) -> Result<Explained> {
    let (text, cargo_ok) = match log {
        Some(log) => {
            let bytes = std::fs::read(log).at(log)?;
            (String::from_utf8_lossy(&bytes).into_owned(), true)
        }
        None => {
            if cargo_args.is_empty() {
                cargo_args.push("build".into());
            }
            run_cargo(&cargo_args, workspace)?
        }
    };
    Ok(Explained {
        explanation: explain_log(&text, workspace, context)?,
        cargo_ok,
        what: log.unwrap_or(workspace).to_path_buf(),
    })
}

impl Explained {
    /// An error when cargo failed or, with `deny`, when a dependency rebuilt.
    pub fn verdict(&self, deny: bool) -> Result<()> {
        if !self.cargo_ok {
            return Err(Error::bad_input(&self.what, "cargo failed (see above)"));
        }
        let count = self.explanation.dependency_units();
        if deny && count > 0 {
            return Err(Error::bad_input(
                &self.what,
                format!("{count} dependency units were rebuilt although inherited (see above)"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(package: &str, target: &str) -> Unit {
        Unit {
            package: package.into(),
            version: "1.0.0".into(),
            target: target.into(),
        }
    }

    #[test]
    fn units_of_one_package_are_listed_by_target_many_packages_are_counted() {
        let one = [unit("a", "lib"), unit("a", "build script run")];
        assert_eq!(describe_units(&one), "a 1.0.0 (lib, build script run)");
        let many: Vec<Unit> = (0..12).map(|i| unit(&format!("p{i:02}"), "lib")).collect();
        let text = describe_units(&many);
        assert!(text.starts_with("p00 1.0.0, p01 1.0.0"), "{text}");
        assert!(
            text.ends_with("p09 1.0.0, and 2 more packages (12 units)"),
            "{text}"
        );
    }

    #[test]
    fn a_newer_file_a_build_script_run_watches_is_not_a_source() {
        let reason = r#"FsStatusOutdated(StaleItem(ChangedFile { reference: "/t/build/x-1/output", reference_mtime: FileTime { seconds: 1, nanos: 0 }, stale: "/usr/include/stdio.h", stale_mtime: FileTime { seconds: 9, nanos: 0 } }))"#;
        let run = cause_of(&unit("x", "build script run"), Said::Dirty(reason.into()));
        assert_eq!(
            run,
            Cause::WatchedNewer {
                file: "/usr/include/stdio.h".into()
            }
        );
        let hint = run.hint(&Context::default());
        assert!(hint.contains("the same file"), "{hint}");
        let lib = cause_of(&unit("x", "lib"), Said::Dirty(reason.into()));
        assert!(matches!(lib, Cause::SourceNewer { .. }), "{lib:?}");
    }

    #[test]
    fn status_lines_right_after_a_logged_cause_are_kept() {
        // What a build with an inherited target logs for a member never
        // built before (the fingerprint error's cause), then cargo's status.
        let stderr = "   0.04s  INFO prepare_target{force=false package_id=zs v0.1.0 (/build/source) target=\"zs\"}: cargo::core::compiler::fingerprint:     err: failed to read `/t/zs-1/bin-zs`\n\
            \n\
            Caused by:\n    No such file or directory (os error 2)\n\
            \x20   Checking zs v0.1.0 (/build/source)\n\
            \x20   Finished `release` profile [optimized] target(s) in 0.11s\n\
            \x20    Running unittests src/main.rs\n\
            \x20  Doc-tests zs\n";
        assert_eq!(
            without_fingerprint_log(stderr),
            "    Checking zs v0.1.0 (/build/source)\n\
             \x20   Finished `release` profile [optimized] target(s) in 0.11s\n\
             \x20    Running unittests src/main.rs\n\
             \x20  Doc-tests zs\n"
        );
        assert!(!is_status_line(
            "    No such file or directory (os error 2)"
        ));
        assert!(!is_status_line("    0: failed to read `x`"));
    }

    #[test]
    fn cargo_output_is_kept_and_its_fingerprint_log_left_out() {
        let stderr = "   Compiling a v1.0.0\n\
            0.1s INFO x: cargo::core::compiler::fingerprint: fingerprint error for a\n\
            \n\
            Caused by:\n    No such file or directory (os error 2)\n\
            warning: unused\n\n    Finished\n";
        assert_eq!(
            without_fingerprint_log(stderr),
            "   Compiling a v1.0.0\nwarning: unused\n\n    Finished\n"
        );
        let mut streamed = Vec::new();
        filter_log(stderr.as_bytes(), &mut streamed).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            without_fingerprint_log(stderr)
        );
    }
}
