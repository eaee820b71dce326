//! Unifying a workspace's features: every selection (`-p svc`, the whole
//! workspace, with or without dev-dependencies) resolves each dependency
//! with the same features, so one deps build of the workspace's union holds
//! every unit any per-service build needs.
//!
//! cargo resolves features for the packages a command selects (cargo#4463);
//! its own fix, `-Zfeature-unification`, is nightly only. What works on
//! stable is the workspace-hack crate cargo-hakari keeps: a member that
//! depends on every package whose features differ per member, with the
//! union's features, that every member depends on. unify writes one at
//! build time (in the build's copy of the sources): `cargo-inherit-hack/`,
//! a member and every member's dependency, taken into the lockfile with no
//! other package moved. Which packages go in is found as fan-out finds
//! members that differ: `cargo tree` per member and mode against the whole
//! workspace's, then again with the hack in, until no member differs
//! (adding a package's features may enable optional dependencies whose
//! features then differ too). The hack holds packages by side: the host's
//! (build scripts' dependencies, proc-macros) are its build-dependencies.
//!
//! Both modes are always compared, whatever a derivation's commands, so
//! that the hack is the same in every derivation of a chain. Finding it
//! takes `cargo tree` twice per member and round (seconds for ten
//! members); the deps derivation does it, and the derivations on it take
//! the hack it recorded beside its layer (`--like`): the same manifest,
//! so the same features, so the same units.
//!
//! The price: each service's binary is built with the union's features of
//! the packages that differ (as with cargo-hakari), not with its own.

mod edit;
mod hack;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use cargo_metadata::Metadata;
use rayon::prelude::*;

use crate::cargo::resolution::{resolution_flags, resolve, Resolved};
use crate::cargo::workspace;
use crate::error::{Error, IoContext, Result};
use edit::Edit;
use hack::{Hack, HACK};

/// Rounds of adding packages before unify gives up: each round adds the
/// optional dependencies the last one's features enabled.
const MAX_ROUNDS: usize = 8;

/// What unify did: the packages the hack depends on and the rounds it
/// took to find them, or the manifest it took.
pub enum Unified {
    Found {
        packages: Vec<String>,
        rounds: usize,
    },
    Like(PathBuf),
}

impl std::fmt::Display for Unified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (packages, rounds) = match self {
            Unified::Like(path) => return write!(f, "unify: {HACK} as {}", path.display()),
            Unified::Found { packages, rounds } => (packages, *rounds),
        };
        if packages.is_empty() {
            return write!(
                f,
                "unify: the members agree on every feature, nothing to unify"
            );
        }
        let count = packages.len();
        let s = if rounds == 1 { "" } else { "s" };
        let packages = packages.join(", ");
        write!(
            f,
            "unify: {HACK} depends on {count} packages, found in {rounds} round{s}: {packages}"
        )
    }
}

/// Unifies the features of the workspace at `dir`, for commands run with
/// `extra_args` (their feature and target flags count): with the hack
/// manifest `like`, that one. Nothing to do (no hack written) for a
/// workspace of one member or whose members agree.
pub fn unify(dir: &Path, like: Option<&Path>, extra_args: &[String]) -> Result<Unified> {
    let dir = std::path::absolute(dir).at(dir)?;
    let metadata = workspace::metadata(&dir, like.is_none())?;
    let root = metadata.workspace_root.as_std_path();
    let mut edit = Edit::begin(root)?;
    if edit.hack_dir().exists() {
        let reason =
            "exists: the workspace was unified already (or holds a directory of that name)";
        return Err(Error::bad_input(edit.hack_dir(), reason));
    }
    let members = metadata.workspace_packages();
    let manifests: Vec<PathBuf> = (members.iter())
        .map(|p| p.manifest_path.as_std_path().to_path_buf())
        .collect();
    let done = match like {
        Some(like) => (hack::read_manifest(like))
            .and_then(|manifest| take_in(&dir, &mut edit, &manifests, &manifest))
            .map(|()| Unified::Like(like.to_path_buf())),
        None => {
            let mut names: BTreeSet<String> = members.iter().map(|p| p.name.to_string()).collect();
            names.insert(HACK.to_string());
            let find = Find {
                dir: &dir,
                metadata: &metadata,
                manifests: &manifests,
                names,
            };
            find.rounds(&mut edit, &resolution_flags(extra_args))
        }
    };
    if done.is_err() {
        edit.undo()?;
    }
    done
}

/// What finding the hack reads: the workspace, its members' manifests and
/// names (the hack's among them).
struct Find<'a> {
    dir: &'a Path,
    metadata: &'a Metadata,
    manifests: &'a [PathBuf],
    names: BTreeSet<String>,
}

impl Find<'_> {
    /// Adds to the hack the packages members resolve otherwise, with the
    /// whole workspace's features, until none does.
    fn rounds(&self, edit: &mut Edit, flags: &[String]) -> Result<Unified> {
        let mut hack = Hack::default();
        for round in 0..MAX_ROUNDS {
            let (differing, whole) = differing(self.dir, &self.names, flags)?;
            if differing.is_empty() {
                let packages = hack.packages();
                return Ok(Unified::Found {
                    packages,
                    rounds: round,
                });
            }
            let mut grown = false;
            for resolved in &differing {
                let same = |w: &&Resolved| w.host == resolved.host && w.package == resolved.package;
                let features = whole.iter().filter(same).flat_map(|w| w.feature_names());
                grown |= hack.add(resolved, features);
            }
            if !grown {
                let still: Vec<&str> = differing.iter().map(|r| r.package.as_str()).collect();
                let reason =
                    format!("features still differ per member with the hack in: {still:?}");
                return Err(Error::bad_input(self.dir, reason));
            }
            let manifest = hack.manifest(self.metadata)?;
            if round == 0 {
                take_in(self.dir, edit, self.manifests, &manifest)?;
            } else {
                let files = hack::write_crate(&edit.hack_dir(), &manifest)?;
                edit.update_lock(self.dir)?;
                edit.settle_mtimes(&files)?;
            }
        }
        let reason = format!("features still differ per member after {MAX_ROUNDS} rounds");
        Err(Error::bad_input(self.dir, reason))
    }
}

/// The hack with `manifest` written, a member and every member's (their
/// `manifests`) dependency, and in the lockfile.
fn take_in(dir: &Path, edit: &mut Edit, manifests: &[PathBuf], manifest: &str) -> Result<()> {
    let files = hack::write_crate(&edit.hack_dir(), manifest)?;
    edit.add_hack(manifests)?;
    edit.update_lock(dir)?;
    edit.settle_mtimes(&files)
}

/// What members resolve otherwise than the whole workspace, in either
/// mode (with dev-dependencies or without), and the whole workspace's
/// resolution in both.
fn differing(
    dir: &Path,
    members: &BTreeSet<String>,
    flags: &[String],
) -> Result<(HashSet<Resolved>, HashSet<Resolved>)> {
    let modes = [false, true];
    let whole: Vec<HashSet<Resolved>> = (modes.par_iter())
        .map(|&dev| resolve(dir, &[], dev, flags, members))
        .collect::<Result<_>>()?;
    let selections: Vec<(&String, bool)> = (members.iter())
        .filter(|m| *m != HACK)
        .flat_map(|m| modes.iter().map(move |&dev| (m, dev)))
        .collect();
    let differing: Vec<HashSet<Resolved>> = (selections.par_iter())
        .map(|&(member, dev)| {
            let own = resolve(dir, &["-p", member], dev, flags, members)?;
            let whole = &whole[usize::from(dev)];
            Ok(own.into_iter().filter(|r| !whole.contains(r)).collect())
        })
        .collect::<Result<_>>()?;
    let all = whole.into_iter().flatten().collect();
    Ok((differing.into_iter().flatten().collect(), all))
}
