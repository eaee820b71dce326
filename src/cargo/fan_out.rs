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

use rayon::prelude::*;

use crate::cargo::resolution::{builds_tests, command_words, resolution_flags, resolve, Resolved};
use crate::cargo::workspace;
use crate::error::{IoContext, Result};

/// The commands to run besides `commands` (cargo commands of a deps
/// build, each run with `extra_args` too) in the workspace at `dir`, so
/// that each member built alone finds its dependencies' units: each
/// command again with `-p MEMBER`, for the members whose own resolution
/// differs from the workspace's in that command's mode.
pub fn fan_out(dir: &Path, commands: &[String], extra_args: &[String]) -> Result<Vec<String>> {
    let dir = std::path::absolute(dir).at(dir)?;
    let metadata = workspace::metadata(&dir, false)?;
    let packages = metadata.workspace_packages();
    // One member's own resolution is the workspace's: no `cargo tree`
    // (three runs, half a second of every deps build) can say otherwise.
    if packages.len() < 2 {
        return Ok(Vec::new());
    }
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
    let whole: Vec<HashSet<Resolved>> = (modes.par_iter())
        .map(|&dev| resolve(&dir, &[], dev, &flags, &members))
        .collect::<Result<_>>()?;
    // One resolution per member and mode; without dev-dependencies the
    // mode makes no difference to it.
    let differing: Vec<Vec<bool>> = (packages.par_iter())
        .map(|package| {
            let has_dev = (package.dependencies.iter())
                .any(|d| d.kind == cargo_metadata::DependencyKind::Development);
            let own = |dev: bool| {
                let selection = ["-p", package.name.as_str()];
                resolve(&dir, &selection, dev && has_dev, &flags, &members)
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
