//! A unit cargo had no fingerprint for was never built with these settings:
//! its unit hash changed. Comparing the fingerprint cargo wrote for it with
//! the inherited ones of the same package says which setting did it.

use std::path::Path;

use serde_json::Value;

use super::cause::Setting;

/// What the nearest inherited fingerprint says changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Comparison {
    /// No inherited fingerprint of this package and target to compare with.
    NoneInherited,
    /// This unit's fingerprint was not written (the build failed first).
    Unwritten,
    /// None of its own settings differ: it follows a dependency or the unit it runs for.
    Follows,
    Settings(Vec<Setting>),
}

/// `hash_file` is `.fingerprint/<pkg>-<16 hex>/<kind>-<name>`, as cargo's
/// log names it; its `.json` sits next to it once cargo built the unit.
pub fn compare(hash_file: &Path, package: &str) -> Comparison {
    let (Some(unit_dir), Some(name)) = (hash_file.parent(), hash_file.file_name()) else {
        return Comparison::Unwritten;
    };
    let json_name = format!("{}.json", name.to_string_lossy());
    let Some(new) = read_json(&unit_dir.join(&json_name)) else {
        return Comparison::Unwritten;
    };
    let Some(fingerprints) = unit_dir.parent() else {
        return Comparison::NoneInherited;
    };
    let Ok(listing) = std::fs::read_dir(fingerprints) else {
        return Comparison::NoneInherited;
    };
    let nearest = listing
        .filter_map(|item| item.ok().map(|i| i.path()))
        .filter(|dir| dir != unit_dir && is_unit_of(dir, package))
        .filter_map(|dir| read_json(&dir.join(&json_name)))
        .map(|old| differences(&old, &new))
        .min_by_key(|(settings, _)| settings.len());
    match nearest {
        None => Comparison::NoneInherited,
        Some((settings, _)) if !settings.is_empty() => Comparison::Settings(settings),
        // Nothing of its own changed: a build-script run, say, whose unit
        // follows the settings of the library it runs for.
        Some(_) => Comparison::Follows,
    }
}

/// `<package>-<16 hex digits>`
fn is_unit_of(dir: &Path, package: &str) -> bool {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.strip_prefix(package)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hash| hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The settings that differ, and whether the dependencies do.
fn differences(old: &Value, new: &Value) -> (Vec<Setting>, bool) {
    let differs = |key: &str| old[key] != new[key];
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut settings = Vec::new();
    if differs("rustc") {
        settings.push(Setting::Rustc);
    }
    if differs("features") {
        settings.push(Setting::Features {
            old: text(&old["features"]),
            new: text(&new["features"]),
        });
    }
    if differs("rustflags") {
        settings.push(Setting::Rustflags {
            old: text(&old["rustflags"]),
            new: text(&new["rustflags"]),
        });
    }
    // A new rustc changes the profile hash too; name the root cause only.
    if differs("profile") && !differs("rustc") {
        settings.push(Setting::Profile);
    }
    if differs("target") || differs("compile_kind") {
        settings.push(Setting::Target);
    }
    if differs("config") {
        settings.push(Setting::Config);
    }
    if differs("path") {
        settings.push(Setting::SourcePath);
    }
    (settings, differs("deps"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_directories_are_matched_by_package_name_and_hash() {
        assert!(is_unit_of(
            Path::new("/t/.fingerprint/a-0123456789abcdef"),
            "a"
        ));
        assert!(!is_unit_of(
            Path::new("/t/.fingerprint/a-b-0123456789abcdef"),
            "a"
        ));
        assert!(!is_unit_of(
            Path::new("/t/.fingerprint/ab-0123456789abcdef"),
            "a"
        ));
    }

    #[test]
    fn names_the_settings_that_differ() {
        let old = serde_json::json!({"rustc": 1, "features": "[]", "rustflags": [], "profile": 5, "deps": [1]});
        let new = serde_json::json!({"rustc": 1, "features": "[\"x\"]", "rustflags": ["-Cx"], "profile": 5, "deps": [2]});
        let (settings, deps) = differences(&old, &new);
        assert!(deps);
        assert_eq!(
            settings,
            [
                Setting::Features {
                    old: "[]".into(),
                    new: "[\"x\"]".into()
                },
                Setting::Rustflags {
                    old: "[]".into(),
                    new: "[\"-Cx\"]".into()
                }
            ]
        );
    }
}
