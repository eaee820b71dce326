//! Which members of a workspace resolve their dependencies' features
//! differently on their own (`cargo build -p member`) than the whole
//! workspace does, so that a deps build prepares their units too.
//!
//! cargo unifies features over the packages a command selects (cargo#4463;
//! `-Zfeature-unification` is nightly only): after a deps build of the
//! whole workspace, a per-service `-p svc` build gets other features for
//! every dependency some other member asked more of, so new unit hashes,
//! so a compile of those dependencies and of everything above them. A deps
//! build that also runs its commands with `-p svc` for those members holds
//! both sets of units; the many units both resolutions share are fresh in
//! the second run and stored once.
//!
//! Finding out is cheap: `cargo tree` prints each package of a selection's
//! resolution with its features (offline, from the lockfile: no compile),
//! once for the workspace and once for each member, and a member whose
//! lines are all among the workspace's needs nothing more. Dev-dependencies
//! change the resolution of commands that build tests (`test`,
//! `--all-targets`), so those are compared with dev edges; a member
//! without dev-dependencies resolves the same either way.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::process::Command;

use rayon::prelude::*;

use crate::cargo::workspace;
use crate::error::{Error, IoContext, Result};

/// The words of a cargo command after the program: `build --release` as
/// the standalone hooks give it, or `cargoWithProfile build --release` as
/// crane's command lines run it.
fn command_words(command: &str) -> impl Iterator<Item = &str> {
    let mut words = command.split_whitespace().peekable();
    while words
        .next_if(|w| matches!(*w, "cargo" | "cargoWithProfile"))
        .is_some()
    {}
    words
}

/// Whether a cargo command builds dev-dependencies (test targets).
fn builds_tests(command: &str) -> bool {
    let mut words = command_words(command);
    let verb = words.next().unwrap_or("");
    matches!(verb, "test" | "bench" | "nextest")
        || words.any(|w| {
            matches!(
                w,
                "--all-targets" | "--tests" | "--benches" | "--examples" | "--test" | "--bench"
            )
        })
}

/// The flags of `extra_args` that change feature resolution or the
/// target, the ones `cargo tree` takes too.
fn resolution_flags(extra_args: &[String]) -> Vec<String> {
    let mut flags = Vec::new();
    let mut args = extra_args.iter();
    while let Some(arg) = args.next() {
        let name = arg.split('=').next().unwrap_or(arg);
        match name {
            "--all-features" | "--no-default-features" => flags.push(arg.clone()),
            "--features" | "-F" | "--target" if !arg.contains('=') => {
                flags.push(arg.clone());
                flags.extend(args.next().cloned());
            }
            "--features" | "--target" => flags.push(arg.clone()),
            _ => {}
        }
    }
    flags
}

/// A selection's resolution: each package (but the workspace's members)
/// with its features, as `cargo tree` prints them.
fn resolution(
    dir: &Path,
    selection: &[&str],
    dev: bool,
    flags: &[String],
    members: &BTreeSet<String>,
) -> Result<HashSet<String>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let edges = if dev {
        "normal,build,dev"
    } else {
        "normal,build"
    };
    let output = Command::new(&cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "--prefix",
            "none",
            "-f",
            "{p} {f}",
        ])
        .args(["-e", edges])
        .args(selection)
        .args(flags)
        .current_dir(dir)
        .output()
        .at(&cargo)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = format!("cargo tree {selection:?} failed: {}", stderr.trim());
        return Err(Error::bad_input(dir, reason));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let lines = text.lines().map(|l| l.trim_end_matches(" (*)").trim_end());
    let of_members = |line: &str| members.contains(line.split(' ').next().unwrap_or(""));
    Ok(lines
        .filter(|l| !l.is_empty() && !of_members(l))
        .map(str::to_string)
        .collect())
}

/// The commands to run besides `commands` (cargo commands of a deps
/// build, each run with `extra_args` too) in the workspace at `dir`, so
/// that each member built alone finds its dependencies' units: each
/// command again with `-p MEMBER`, for the members whose own resolution
/// differs from the workspace's in that command's mode.
pub fn fan_out(dir: &Path, commands: &[String], extra_args: &[String]) -> Result<Vec<String>> {
    let dir = std::path::absolute(dir).at(dir)?;
    let metadata = workspace::metadata(&dir, false)?;
    let packages = metadata.workspace_packages();
    let members: BTreeSet<String> = packages.iter().map(|p| p.name.to_string()).collect();
    // The commands of one deps build share their feature and target flags.
    let words = (commands.iter().flat_map(|c| command_words(c)))
        .map(str::to_string)
        .chain(extra_args.iter().cloned());
    let flags = resolution_flags(&words.collect::<Vec<_>>());
    let modes: Vec<bool> = [false, true]
        .into_iter()
        .filter(|&dev| commands.iter().any(|c| builds_tests(c) == dev))
        .collect();
    let whole: Vec<HashSet<String>> = (modes.par_iter())
        .map(|&dev| resolution(&dir, &[], dev, &flags, &members))
        .collect::<Result<_>>()?;
    // One resolution per member and mode; without dev-dependencies the
    // mode makes no difference to it.
    let differing: Vec<Vec<bool>> = (packages.par_iter())
        .map(|package| {
            let has_dev = (package.dependencies.iter())
                .any(|d| d.kind == cargo_metadata::DependencyKind::Development);
            let own = |dev: bool| {
                let selection = ["-p", package.name.as_str()];
                resolution(&dir, &selection, dev && has_dev, &flags, &members)
            };
            let plain = own(false)?;
            (modes.iter().zip(&whole))
                .map(|(&dev, whole)| {
                    let mine = if dev && has_dev {
                        own(true)?
                    } else {
                        plain.clone()
                    };
                    Ok(!mine.is_subset(whole))
                })
                .collect()
        })
        .collect::<Result<_>>()?;
    let mut extra = Vec::new();
    for (package, differs) in packages.iter().zip(&differing) {
        for command in commands {
            let mode = modes.iter().position(|&dev| dev == builds_tests(command));
            if mode.is_some_and(|m| differs[m]) {
                extra.push(format!("{command} -p {}", package.name));
            }
        }
    }
    Ok(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_that_build_tests_are_told_apart() {
        for command in [
            "test --no-run",
            "check --all-targets",
            "clippy --tests",
            "nextest run",
        ] {
            assert!(builds_tests(command), "{command}");
        }
        for command in [
            "build",
            "check",
            "doc --no-deps",
            "build --bins",
            "cargoWithProfile build",
        ] {
            assert!(!builds_tests(command), "{command}");
        }
    }

    #[test]
    fn only_flags_that_change_the_resolution_reach_cargo_tree() {
        let args: Vec<String> = [
            "--release",
            "--features",
            "a b",
            "-j",
            "2",
            "--target=x86",
            "--all-features",
            "-F",
            "c",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            resolution_flags(&args),
            [
                "--features",
                "a b",
                "--target=x86",
                "--all-features",
                "-F",
                "c"
            ]
        );
    }
}
