//! Why a unit was not fresh, in words, with what to change so it will be.

use serde::Serialize;

use super::log::{option_after, quoted_after};

/// A setting cargo hashes into a unit's fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "setting", rename_all = "kebab-case")]
pub enum Setting {
    Rustc,
    Features { old: String, new: String },
    Rustflags { old: String, new: String },
    Profile,
    Target,
    Config,
    SourcePath,
}

/// What is known of the build being explained, beside cargo's log.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The build reads vendored crates through cargo-inherit's fixed links
    /// (`$NIX_BUILD_TOP/vendor`), not at the vendor directory's store path.
    pub fixed_vendor: bool,
    /// The arguments by which the build selects part of the workspace
    /// (`-p svc`, `--bin x`, `--manifest-path m/Cargo.toml`), if it does.
    pub selection: Vec<String>,
}

impl Context {
    /// The selecting arguments among a build's cargo arguments.
    pub fn selection_of(cargo_args: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut words = cargo_args.split_whitespace();
        while let Some(word) = words.next() {
            let flag = word.split('=').next().unwrap_or(word);
            match flag {
                "-p" | "--package" | "--bin" | "--manifest-path" if !word.contains('=') => {
                    found.extend(words.next().map(|value| format!("{word} {value}")));
                }
                "--package" | "--bin" | "--manifest-path" => found.push(word.to_string()),
                _ if word.starts_with("-p") && word.len() > 2 => found.push(word.to_string()),
                _ => {}
            }
        }
        found
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "cause", rename_all = "kebab-case")]
pub enum Cause {
    /// A source file is newer than the dep-info of the inherited build.
    SourceNewer {
        file: String,
    },
    /// A variable a build script (`rerun-if-env-changed`) or the crate
    /// (`env!`) reads differs.
    EnvChanged {
        name: String,
        old: Option<String>,
        new: Option<String>,
    },
    /// A file a build script watches (`rerun-if-changed`) is newer than the
    /// inherited run of it.
    WatchedNewer {
        file: String,
    },
    /// A `rerun-if-changed` path does not exist: cargo always reruns then.
    MissingPath {
        path: String,
    },
    Settings {
        settings: Vec<Setting>,
    },
    /// Nothing of this unit was inherited.
    NotInherited,
    /// No fingerprint was inherited, and cargo stopped before writing one.
    Unfinished,
    /// A dependency's output is newer than this unit's own.
    OutputsOutOfDate,
    /// A dependency was rebuilt, so this unit followed.
    Dependency,
    /// A reason this version of cargo-inherit does not know, as cargo said it.
    Other {
        said: String,
    },
}

impl Cause {
    /// From the `dirty:` line of cargo's fingerprint log.
    pub fn from_dirty(reason: &str) -> Cause {
        let head = reason
            .trim_start_matches("FsStatusOutdated(")
            .trim_start_matches("StaleItem(");
        let word = head.split([' ', '(', '{']).next().unwrap_or("");
        let field = |key: &str| quoted_after(head, key).unwrap_or_default();
        match word {
            "EnvVarChanged" => Cause::EnvChanged {
                name: field("name: "),
                old: option_after(head, "old_value: "),
                new: option_after(head, "new_value: "),
            },
            "ChangedEnv" => Cause::EnvChanged {
                name: field("var: "),
                old: option_after(head, "previous: "),
                new: option_after(head, "current: "),
            },
            "ChangedFile" => Cause::SourceNewer {
                file: field("stale: "),
            },
            "MissingFile" => Cause::MissingPath {
                path: field("path: "),
            },
            "UnitDependencyInfoChanged"
            | "UnitDependencyNameChanged"
            | "NumberOfDependenciesChanged"
            | "StaleDepFingerprint" => Cause::Dependency,
            "StaleDependency" => Cause::OutputsOutOfDate,
            "RustcChanged" => Cause::settings(Setting::Rustc),
            "FeaturesChanged" => Cause::settings(Setting::Features {
                old: field("old: "),
                new: field("new: "),
            }),
            "RustflagsChanged" => Cause::settings(Setting::Rustflags {
                old: bracketed_after(head, "old: "),
                new: bracketed_after(head, "new: "),
            }),
            "ProfileConfigurationChanged" => Cause::settings(Setting::Profile),
            "TargetConfigurationChanged" | "CompileKindChanged" => Cause::settings(Setting::Target),
            "ConfigSettingsChanged" => Cause::settings(Setting::Config),
            "PathToSourceChanged" => Cause::settings(Setting::SourcePath),
            _ => Cause::Other {
                said: reason.to_string(),
            },
        }
    }

    fn settings(setting: Setting) -> Cause {
        Cause::Settings {
            settings: vec![setting],
        }
    }

    /// Rebuilt only because something it depends on was.
    pub fn is_cascade(&self) -> bool {
        matches!(self, Cause::Dependency)
    }

    pub fn reason(&self) -> String {
        match self {
            Cause::SourceNewer { file } => {
                format!("{file} is newer than the inherited build of it")
            }
            Cause::EnvChanged { name, old, new } => format!(
                "environment variable {name} changed: {} -> {}",
                shown(old),
                shown(new)
            ),
            Cause::WatchedNewer { file } => format!(
                "its build script watches {file}, which is newer than the inherited run of it"
            ),
            Cause::MissingPath { path } => format!(
                "its build script watches {path}, which does not exist here (a missing path always reruns)"
            ),
            Cause::Settings { settings } => settings
                .iter()
                .map(Setting::reason)
                .collect::<Vec<_>>()
                .join("; "),
            Cause::NotInherited => {
                "nothing of it was inherited: the build that made the artifacts did not build this unit"
                    .into()
            }
            Cause::Unfinished => {
                "it had no inherited fingerprint to match, and cargo stopped before writing one".into()
            }
            Cause::OutputsOutOfDate => {
                "the output of a dependency is newer than its own (inherited files with differing mtimes)"
                    .into()
            }
            Cause::Dependency => "a dependency was rebuilt".into(),
            Cause::Other { said } => format!("cargo says: {said}"),
        }
    }

    pub fn hint(&self, context: &Context) -> String {
        match self {
            Cause::SourceNewer { .. } => {
                "sources must keep the store's mtime 1, as the inherited artifacts do: \
                 take them from the store (cargoVendorDir) and copy them with their timestamps"
                    .into()
            }
            Cause::WatchedNewer { .. } => {
                "a layer records the newest file its build scripts watch and is laid out no \
                 older: this one changed since (or the artifacts came from crane or an older \
                 cargo-inherit, which record nothing). Give every derivation of the chain the \
                 same file (the same package providing it), or rebuild the artifacts"
                    .into()
            }
            Cause::EnvChanged { name, .. } if set_by_inputs(name) => format!(
                "{name} differs between the build that made the artifacts and this one: \
                 give both derivations the same nativeBuildInputs and buildInputs"
            ),
            Cause::EnvChanged { name, .. } => {
                format!("set {name} the same way in both derivations (or in neither)")
            }
            Cause::MissingPath { path } => format!(
                "make {path} exist in this build as it did in the build that made the artifacts \
                 (keep it when filtering sources)"
            ),
            Cause::Settings { settings } => settings
                .iter()
                .map(|s| s.hint(context))
                .collect::<Vec<_>>()
                .join("; "),
            Cause::NotInherited => {
                "make the deps-only build run the same cargo command, profile and flags \
                 (e.g. --release; also `test --no-run`, `--all-targets`, `doc`), so it builds this unit too"
                    .into()
            }
            Cause::Unfinished => "fix the build error above, then explain again".into(),
            Cause::OutputsOutOfDate => "lay the inherited artifacts out with one mtime \
                 (cargo-inherit unpack and link do; cp -r does not)"
                .into(),
            Cause::Dependency => "fix the root causes above".into(),
            Cause::Other { .. } => {
                "run the build with `cargo build -v` for cargo's own account".into()
            }
        }
    }
}

impl Setting {
    fn reason(&self) -> String {
        match self {
            Setting::Rustc => "rustc differs from the one that built the artifacts".into(),
            Setting::Features { old, new } => format!("features differ: {old} -> {new}"),
            Setting::Rustflags { old, new } => format!("RUSTFLAGS differ: {old} -> {new}"),
            Setting::Profile => "profile settings differ".into(),
            Setting::Target => "the target differs".into(),
            Setting::Config => "cargo configuration differs (e.g. the linker)".into(),
            Setting::SourcePath => "the package's source path differs".into(),
        }
    }

    fn hint(&self, context: &Context) -> String {
        match self {
            Setting::Rustc => "build every derivation of the chain with the same toolchain".into(),
            Setting::Features { .. } if !context.selection.is_empty() => format!(
                "this build selects {selection}, and cargo resolves features for the packages a \
                 command selects (cargo#4463), where the deps were built for another selection: \
                 a deps build prepares each member's own resolution when fanOut is on (the \
                 default; crane: cargoInheritFanOut = \"1\"), so rebuild the deps with it; for a \
                 selection that is no single member, add it to the deps' selections \
                 (cargoInheritSelections); or build every derivation with unifyFeatures \
                 (crane: cargoInheritUnifyFeatures = \"1\") for the union's features alone",
                selection = context.selection.join(" ")
            ),
            Setting::Features { .. } => "pass the same --features / --all-features / \
                 --no-default-features (cargoExtraArgs) to the deps-only build and this one"
                .into(),
            Setting::Rustflags { .. } => "set the same RUSTFLAGS (and CARGO_BUILD_RUSTFLAGS, \
                 target rustflags in .cargo/config.toml) in both derivations"
                .into(),
            Setting::Profile => "build the deps with the same profile and overrides \
                 (--release, CARGO_PROFILE_* variables, [profile] tables)"
                .into(),
            Setting::Target => "pass the same --target to both builds".into(),
            Setting::Config => {
                "use the same .cargo/config.toml and CARGO_* settings in both".into()
            }
            // The artifacts read the crates elsewhere: crane without the
            // override reads them at their store path.
            Setting::SourcePath if context.fixed_vendor => "this build reads the vendored \
                 crates through cargo-inherit's fixed links, the artifacts were built reading \
                 them at another path (crane without cargo-inherit reads them at their store \
                 path): set cargoInheritStableVendor = \"0\" here (nix/lib: stableVendor = \
                 false), or build the artifacts through cargo-inherit too"
                .into(),
            Setting::SourcePath => "vendor at the same store path in both derivations \
                 (cargoVendorDir and CARGO_HOME must not move)"
                .into(),
        }
    }
}

/// Variables that Nix's setup hooks derive from a derivation's inputs.
fn set_by_inputs(name: &str) -> bool {
    const FROM_INPUTS: [&str; 14] = [
        "CC",
        "CXX",
        "AR",
        "LD",
        "CFLAGS",
        "CXXFLAGS",
        "LDFLAGS",
        "CMAKE_PREFIX_PATH",
        "PKG_CONFIG_PATH",
        "NIX_CFLAGS_COMPILE",
        "NIX_LDFLAGS",
        "LIBCLANG_PATH",
        "PROTOC",
        "PATH",
    ];
    FROM_INPUTS.contains(&name) || name.starts_with("PKG_CONFIG_PATH")
}

fn shown(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "unset".into(),
    }
}

/// `[..]` right after `key`, as it stands.
fn bracketed_after(text: &str, key: &str) -> String {
    let Some(start) = text.find(key).map(|i| i + key.len()) else {
        return String::new();
    };
    let rest = &text[start..];
    match rest.find(']') {
        Some(end) if rest.starts_with('[') => rest[..=end].to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind_of_dirty_reason() {
        let cases = [
            (
                r#"EnvVarChanged { name: "CC", old_value: Some("gcc"), new_value: None }"#,
                Cause::EnvChanged {
                    name: "CC".into(),
                    old: Some("gcc".into()),
                    new: None,
                },
            ),
            (
                r#"FsStatusOutdated(StaleItem(MissingFile { path: "/s/in.txt" }))"#,
                Cause::MissingPath {
                    path: "/s/in.txt".into(),
                },
            ),
            (
                r#"FsStatusOutdated(StaleItem(ChangedFile { reference: "/t/dep-lib-x", reference_mtime: FileTime { seconds: 1, nanos: 0 }, stale: "/s/lib.rs", stale_mtime: FileTime { seconds: 9, nanos: 0 } }))"#,
                Cause::SourceNewer {
                    file: "/s/lib.rs".into(),
                },
            ),
            (
                r#"RustflagsChanged { old: [], new: ["--cfg", "x"] }"#,
                Cause::settings(Setting::Rustflags {
                    old: "[]".into(),
                    new: r#"["--cfg", "x"]"#.into(),
                }),
            ),
            (
                "FsStatusOutdated(StaleDepFingerprint { unit: UnitIndex(4) })",
                Cause::Dependency,
            ),
            (
                "Forced",
                Cause::Other {
                    said: "Forced".into(),
                },
            ),
        ];
        for (said, cause) in cases {
            assert_eq!(Cause::from_dirty(said), cause, "{said}");
        }
    }

    #[test]
    fn a_source_path_read_through_fixed_links_names_the_setting_that_keeps_store_paths() {
        let moved = Cause::settings(Setting::SourcePath);
        let fixed = Context {
            fixed_vendor: true,
            ..Context::default()
        };
        assert!(moved
            .hint(&fixed)
            .contains("cargoInheritStableVendor = \"0\""));
        assert!(moved.hint(&Context::default()).contains("same store path"));
    }

    #[test]
    fn features_that_differ_under_a_selection_name_the_selection() {
        let selection = Context::selection_of("build --release -p svc-a --features=x");
        assert_eq!(selection, ["-p svc-a"]);
        let context = Context {
            selection,
            ..Context::default()
        };
        let features = Setting::Features {
            old: r#"["alloc", "default", "std"]"#.into(),
            new: r#"["alloc", "std"]"#.into(),
        };
        let hint = features.hint(&context);
        assert!(
            hint.contains("selects -p svc-a") && hint.contains("fanOut"),
            "{hint}"
        );
        assert!(features
            .hint(&Context::default())
            .contains("same --features"));
        let all =
            Context::selection_of("test --package=a -pb --bin x --manifest-path m/Cargo.toml");
        assert_eq!(
            all,
            [
                "--package=a",
                "-pb",
                "--bin x",
                "--manifest-path m/Cargo.toml"
            ]
        );
    }

    #[test]
    fn hints_name_the_inputs_for_toolchain_variables() {
        let cause = Cause::EnvChanged {
            name: "CMAKE_PREFIX_PATH".into(),
            old: Some("/a".into()),
            new: Some("/b".into()),
        };
        assert!(cause
            .hint(&Context::default())
            .contains("same nativeBuildInputs"));
        assert!(cause.reason().contains(r#""/a" -> "/b""#));
    }
}
