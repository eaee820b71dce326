//! The one rule for which inherited units are left out when a tree is laid
//! out, so that cargo rebuilds them from the real sources: every reader
//! (layers, plain trees, crane's archives) asks it of each entry before it
//! writes the entry.
//!
//! Store sources and inherited artifacts all have mtime 1, and cargo counts
//! equal mtimes as fresh, so cargo cannot see that a member's units are
//! stale; leaving out a unit's fingerprint directory makes it rebuild.
//! Left out:
//! - units built from a skeleton's dummy sources (recorded as dummies);
//! - with the workspace being built: the units of members whose sources
//!   differ from those recorded; where the artifacts recorded no sources
//!   (crane's outputs), the units of every member.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use crate::cargo::members::{self, MemberSource};
use crate::cargo::units::unit_of;
use crate::error::Result;

/// What a tree's producer recorded of its members' units.
pub struct Recorded<'a> {
    /// Unit directories built from dummy sources.
    pub dummies: &'a [String],
    /// The members' sources; None when nothing was recorded of them.
    pub sources: Option<&'a [MemberSource]>,
}

/// The unit directories to leave out, and the packages all of whose units go.
#[derive(Debug, Default)]
pub struct LeftOut {
    units: HashSet<String>,
    packages: BTreeSet<String>,
}

impl LeftOut {
    /// What the rule leaves out of a tree that recorded `recorded`, laid
    /// out next to `workspace` (when given).
    pub fn of(recorded: &Recorded<'_>, workspace: Option<&Path>) -> Result<LeftOut> {
        let mut left_out = LeftOut::units(recorded.dummies.iter().cloned());
        let Some(workspace) = workspace else {
            return Ok(left_out);
        };
        match recorded.sources {
            Some(sources) => left_out
                .units
                .extend(members::stale_units(sources, workspace)?),
            None => left_out.packages = members::names(workspace)?,
        }
        Ok(left_out)
    }

    /// Exactly these unit directories.
    pub fn units(units: impl IntoIterator<Item = String>) -> LeftOut {
        LeftOut {
            units: units.into_iter().collect(),
            packages: BTreeSet::new(),
        }
    }

    /// Whether `rel` (relative to the tree's root) is a unit left out or
    /// lies in one: one look-up per component of the path.
    pub fn contains(&self, rel: &str) -> bool {
        if self.units.is_empty() && self.packages.is_empty() {
            return false;
        }
        let ends = rel.match_indices('/').map(|(i, _)| i).chain([rel.len()]);
        ends.map(|end| &rel[..end]).any(|unit| {
            self.units.contains(unit)
                || unit_of(unit).is_some_and(|u| self.packages.contains(u.package))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_and_everything_in_it_is_left_out_nothing_beside_it() {
        let unit = "debug/.fingerprint/app-0123456789abcdef";
        let left_out = LeftOut::units([unit.to_string()]);
        assert!(left_out.contains(unit));
        assert!(left_out.contains(&format!("{unit}/bin-app")));
        assert!(!left_out.contains(&format!("{unit}0")));
        assert!(!left_out.contains("debug/.fingerprint"));
        assert!(!left_out.contains("debug/deps/app-0123456789abcdef"));
    }

    #[test]
    fn every_unit_of_a_package_is_left_out_in_both_layouts() {
        let left_out = LeftOut {
            units: HashSet::new(),
            packages: BTreeSet::from(["app".to_string()]),
        };
        assert!(left_out.contains("debug/.fingerprint/app-0123456789abcdef/lib-app"));
        assert!(left_out.contains("debug/build/app/0123456789abcdef/fingerprint/x"));
        assert!(!left_out.contains("debug/build/app/0123456789abcdef/out/x"));
        assert!(!left_out.contains("debug/.fingerprint/app-util-0123456789abcdef"));
        assert!(!LeftOut::default().contains("anything"));
    }
}
