//! Reading cargo's fingerprint log (`CARGO_LOG=cargo::core::compiler::fingerprint=info`):
//! each unit cargo found dirty, and the line that says why.

use std::path::PathBuf;

/// The target of a log line, after the tracing span.
const MODULE: &str = "cargo::core::compiler::fingerprint: ";

/// A unit as cargo's log names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Unit {
    pub package: String,
    pub version: String,
    /// `lib`, `build script`, `build script run`, or the target's name.
    pub target: String,
}

/// What cargo said about a dirty unit.
#[derive(Debug, PartialEq, Eq)]
pub enum Said {
    /// `dirty: <DirtyReason as Debug>`
    Dirty(String),
    /// `err: failed to read `<hash file>``: no fingerprint for this unit's
    /// hash, so it was never built with these settings.
    NoFingerprint(PathBuf),
}

/// A unit cargo found dirty, and what it said of it.
#[derive(Debug, PartialEq, Eq)]
pub struct Dirty {
    pub unit: Unit,
    pub said: Said,
}

/// The dirty units of a log, in the order cargo checked them.
pub fn dirty_units(log: &str) -> Vec<Dirty> {
    let mut found = Vec::new();
    let mut current: Option<Unit> = None;
    for message in log
        .lines()
        .filter_map(|l| l.split_once(MODULE).map(|(_, m)| m))
    {
        let message = message.trim();
        if let Some(rest) = message
            .strip_prefix("fingerprint dirty for ")
            .or_else(|| message.strip_prefix("fingerprint error for "))
        {
            current = parse_unit(rest);
        } else if let Some(reason) = message.strip_prefix("dirty: ") {
            if let Some(unit) = current.take() {
                let said = Said::Dirty(reason.to_string());
                found.push(Dirty { unit, said });
            }
        } else if let Some(err) = message.strip_prefix("err: failed to read `") {
            if let Some(unit) = current.take() {
                let said = Said::NoFingerprint(PathBuf::from(err.trim_end_matches('`')));
                found.push(Dirty { unit, said });
            }
        }
    }
    found
}

/// `envdep v0.1.0 (/src/envdep)/RunCustomBuild/TargetInner { ..: custom_build_target(...) }`
fn parse_unit(text: &str) -> Option<Unit> {
    let mut words = text.split(' ');
    let package = words.next()?.to_string();
    // `v0.1.0` or, with no source shown, `v0.1.0/Build/...`
    let version = words
        .next()?
        .strip_prefix('v')?
        .split('/')
        .next()?
        .to_string();
    let target = if text.contains("/RunCustomBuild/") {
        "build script run".to_string()
    } else if text.contains("custom_build_target(") {
        "build script".to_string()
    } else if text.contains("lib_target(") {
        "lib".to_string()
    } else {
        quoted_after(text, "name: ").unwrap_or_else(|| "target".to_string())
    };
    Some(Unit {
        package,
        version,
        target,
    })
}

/// The Rust-Debug string literal right after `key` in `text`, unescaped.
pub fn quoted_after(text: &str, key: &str) -> Option<String> {
    let start = text.find(key)? + key.len();
    let rest = text[start..].strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// `Some("x")` or `None` right after `key`: an `Option<String>` in Debug form.
pub fn option_after(text: &str, key: &str) -> Option<String> {
    let start = text.find(key)? + key.len();
    let rest = &text[start..];
    rest.starts_with("Some(")
        .then(|| quoted_after(rest, "Some("))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"   0.015682339s  INFO prepare_target{force=false package_id=envdep v0.1.0 (/s/envdep) target="build-script-build"}: cargo::core::compiler::fingerprint: fingerprint dirty for envdep v0.1.0 (/s/envdep)/RunCustomBuild/TargetInner { ..: custom_build_target("build-script-build", "/s/envdep/build.rs", Edition2021) }
   0.015725694s  INFO prepare_target{force=false package_id=envdep v0.1.0 (/s/envdep) target="build-script-build"}: cargo::core::compiler::fingerprint:     dirty: EnvVarChanged { name: "CC", old_value: Some("gcc \"x\""), new_value: None }
   0.1s  INFO prepare_target{force=false package_id=itoa v1.0.1 target="itoa"}: cargo::core::compiler::fingerprint: fingerprint error for itoa v1.0.1/Build/TargetInner { name_inferred: true, ..: lib_target("itoa", ["lib"], "/v/itoa/src/lib.rs", Edition2018) }
   0.1s  INFO prepare_target{force=false package_id=itoa v1.0.1 target="itoa"}: cargo::core::compiler::fingerprint:     err: failed to read `/t/debug/.fingerprint/itoa-0123456789abcdef/lib-itoa`
Caused by:
    No such file or directory (os error 2)
"#;

    #[test]
    fn pairs_each_unit_with_what_cargo_said() {
        let units = dirty_units(LOG);
        assert_eq!(units.len(), 2);
        assert_eq!(
            units[0].unit,
            Unit {
                package: "envdep".into(),
                version: "0.1.0".into(),
                target: "build script run".into()
            }
        );
        let Said::Dirty(reason) = &units[0].said else {
            panic!("{:?}", units[0].said)
        };
        assert_eq!(option_after(reason, "old_value: ").unwrap(), "gcc \"x\"");
        assert_eq!(option_after(reason, "new_value: "), None);
        assert_eq!(units[1].unit.version, "1.0.1");
        assert_eq!(units[1].unit.target, "lib");
        assert_eq!(
            units[1].said,
            Said::NoFingerprint("/t/debug/.fingerprint/itoa-0123456789abcdef/lib-itoa".into())
        );
    }
}
