//! Which units of a target directory were built from a skeleton's dummy
//! sources. Store sources and inherited artifacts all have mtime 1, and cargo
//! counts equal mtimes as fresh: left alone, a member built from dummies
//! looks fresh next to its real sources and its stub binary ships.

use std::collections::BTreeSet;

/// Fingerprint directories (`.../.fingerprint/<pkg>-<hash>`) of `packages`
/// among `dirs`: the units to leave out so cargo rebuilds those packages.
/// Only a skeleton's build records them as dummies: unpack and link leave
/// them out, so a build on top either rebuilds them or never has them.
pub fn units_of<'a>(
    dirs: impl Iterator<Item = &'a str>,
    packages: &BTreeSet<String>,
) -> Vec<String> {
    dirs.filter(|path| unit_package(path).is_some_and(|pkg| packages.contains(pkg)))
        .map(str::to_string)
        .collect()
}

/// The package of a unit's fingerprint directory: `.../.fingerprint/<pkg>-<hash>`,
/// or `.../build/<pkg>/<hash>/fingerprint` in cargo's new build-dir layout
/// (`-Zbuild-dir-new-layout`), with 16 hex digits of hash.
fn unit_package(path: &str) -> Option<&str> {
    let (parent, name) = path.rsplit_once('/')?;
    let (package, hash) = if parent.ends_with(".fingerprint") {
        name.rsplit_once('-')?
    } else if name == "fingerprint" {
        let (rest, hash) = parent.rsplit_once('/')?;
        let (build, package) = rest.rsplit_once('/')?;
        if build != "build" && !build.ends_with("/build") {
            return None;
        }
        (package, hash)
    } else {
        return None;
    };
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_member_units_only() {
        assert_eq!(
            unit_package("debug/.fingerprint/my-app-0123456789abcdef"),
            Some("my-app")
        );
        assert_eq!(unit_package("debug/.fingerprint/app-0123"), None);
        assert_eq!(unit_package("debug/deps/app-0123456789abcdef"), None);
        assert_eq!(
            unit_package("debug/build/my-app/0123456789abcdef/fingerprint"),
            Some("my-app")
        );
        assert_eq!(
            unit_package("debug/build/my-app/0123456789abcdef/out"),
            None
        );
        assert_eq!(
            unit_package("debug/deps/my-app/0123456789abcdef/fingerprint"),
            None
        );
    }
}
