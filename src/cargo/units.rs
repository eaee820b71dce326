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

/// The package of a unit's fingerprint directory.
fn unit_package(path: &str) -> Option<&str> {
    unit_of(path).map(|unit| unit.package)
}

/// What a unit's fingerprint directory names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit<'a> {
    pub package: &'a str,
    /// 16 hex digits, which the unit's other files carry too (see `hash_in`).
    pub hash: &'a str,
}

/// The unit whose fingerprint directory `path` is:
/// `.../.fingerprint/<pkg>-<hash>`, or `.../build/<pkg>/<hash>/fingerprint`
/// in cargo's new build-dir layout (`-Zbuild-dir-new-layout`).
pub fn unit_of(path: &str) -> Option<Unit<'_>> {
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
    is_hash(hash).then_some(Unit { package, hash })
}

/// The unit hash a path component names, as cargo writes them: the whole
/// component (new layout), or after its last `-` up to an extension
/// (`libserde-<hash>.rlib`, `serde-<hash>.d`, `build/serde-<hash>`).
pub fn hash_in(component: &str) -> Option<&str> {
    if is_hash(component) {
        return Some(component);
    }
    let (_, tail) = component.rsplit_once('-')?;
    let hash = tail.split('.').next()?;
    is_hash(hash).then_some(hash)
}

fn is_hash(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit())
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

    #[test]
    fn finds_the_hash_in_every_form_cargo_writes() {
        let h = "0123456789abcdef";
        for name in [
            format!("libserde-{h}.rlib"),
            format!("serde-{h}.d"),
            format!("proc-macro2-{h}"),
            format!("libserde_derive-{h}.so"),
            h.to_string(),
        ] {
            assert_eq!(hash_in(&name), Some(h), "{name}");
        }
        for name in ["app", "lib-serde", "serde-0123.rlib", "output", "libzstd.a"] {
            assert_eq!(hash_in(name), None, "{name}");
        }
    }
}
