//! What a selection of a workspace resolves, as `cargo tree` prints it:
//! each package with its features, and on which side it is built.
//!
//! Resolver 2 unifies features apart for the host (build scripts' and
//! proc-macros' dependencies) and the target, so one package may resolve
//! twice with other features. `cargo tree` says which only through its
//! shape (a `[build-dependencies]` heading, a `(proc-macro)` node, and
//! everything below either), so the tree is read with its indentation.
//! Offline and from the lockfile: nothing compiles.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use crate::cargo::workspace;
use crate::error::Result;

/// One package of a resolution: `cargo tree`'s `{p}` (name, `v` version,
/// then its source and `(proc-macro)` where it prints them), the side it
/// is built for, and its features as `{f}` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resolved {
    pub package: String,
    pub host: bool,
    pub features: String,
}

impl Resolved {
    /// The package's name and version.
    pub fn name_version(&self) -> (&str, &str) {
        let mut words = self.package.split(' ');
        let name = words.next().unwrap_or("");
        let version = words.next().unwrap_or("");
        (name, version.strip_prefix('v').unwrap_or(version))
    }

    pub fn feature_names(&self) -> impl Iterator<Item = &str> {
        self.features.split(',').filter(|f| !f.is_empty())
    }
}

/// The words of a cargo command after the program: `build --release` as
/// the standalone hooks give it, or `cargoWithProfile build --release` as
/// crane's command lines run it.
pub fn command_words(command: &str) -> impl Iterator<Item = &str> {
    let mut words = command.split_whitespace().peekable();
    while words
        .next_if(|w| matches!(*w, "cargo" | "cargoWithProfile"))
        .is_some()
    {}
    words
}

/// Whether a cargo command builds dev-dependencies (test targets).
pub fn builds_tests(command: &str) -> bool {
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
pub fn resolution_flags(extra_args: &[String]) -> Vec<String> {
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

/// A selection's resolution (`-p member`, or none for the whole
/// workspace), with dev-dependencies when `dev`: every package but the
/// workspace's `members`.
pub fn resolve(
    dir: &Path,
    selection: &[&str],
    dev: bool,
    flags: &[String],
    members: &BTreeSet<String>,
) -> Result<HashSet<Resolved>> {
    let edges = if dev {
        "normal,build,dev"
    } else {
        "normal,build"
    };
    let mut args = vec!["tree", "--locked", "--offline", "--prefix", "indent"];
    args.extend(["--charset", "ascii", "-f", "{p}\t{f}", "-e", edges]);
    args.extend(selection);
    args.extend(flags.iter().map(String::as_str));
    let text = workspace::run_cargo(dir, &args, dir)?;
    let of_members = |r: &Resolved| members.contains(r.name_version().0);
    Ok(read_tree(&text)
        .into_iter()
        .filter(|r| !of_members(r))
        .collect())
}

/// The packages of `cargo tree --prefix indent --charset ascii -f
/// "{p}\t{f}"` output, each with its side. A node's children are indented
/// four columns past it; a heading at the node's own column starts a kind
/// of its dependencies, `[build-dependencies]` the host's.
fn read_tree(text: &str) -> Vec<Resolved> {
    let mut resolved = Vec::new();
    // The nodes above the current line: column and side.
    let mut above: Vec<(usize, bool)> = Vec::new();
    // Columns of nodes whose build-dependencies are being listed.
    let mut building: BTreeMap<usize, bool> = BTreeMap::new();
    for line in text.lines() {
        let column = line.find(|c| !"|`- ".contains(c)).unwrap_or(line.len());
        let content = &line[column..];
        if content.is_empty() {
            continue;
        }
        if content.starts_with('[') {
            building.insert(column, content == "[build-dependencies]");
            continue;
        }
        while above.last().is_some_and(|&(c, _)| c >= column) {
            above.pop();
        }
        building.retain(|&c, _| c < column);
        let parent = above.last().copied();
        let under_build = parent.is_some_and(|(c, _)| building.get(&c) == Some(&true));
        let content = content.strip_suffix(" (*)").unwrap_or(content);
        let (package, features) = content.split_once('\t').unwrap_or((content, ""));
        let host = parent.is_some_and(|(_, host)| host)
            || under_build
            || package.ends_with(" (proc-macro)");
        above.push((column, host));
        resolved.push(Resolved {
            package: package.to_string(),
            host,
            features: features.trim().to_string(),
        });
    }
    resolved
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

    #[test]
    fn build_dependencies_and_proc_macros_are_the_hosts() {
        let tree = "\
svc v0.1.0 (/w/svc)\t
|-- num-traits v0.2.19\tstd
|   [build-dependencies]
|   `-- autocfg v1.5.1\t
|-- serde v1.0.229\tderive,std
|   `-- serde_derive v1.0.229 (proc-macro)\tdefault
|       `-- syn v2.0.1\tfull
|-- memchr v2.8.3\tstd (*)
[dev-dependencies]
`-- smallvec v1.16.6\twrite
";
        let resolved = read_tree(tree);
        let sides: Vec<(&str, bool, &str)> = (resolved.iter())
            .map(|r| (r.name_version().0, r.host, r.features.as_str()))
            .collect();
        let expected = [
            ("svc", false, ""),
            ("num-traits", false, "std"),
            ("autocfg", true, ""),
            ("serde", false, "derive,std"),
            ("serde_derive", true, "default"),
            ("syn", true, "full"),
            ("memchr", false, "std"),
            ("smallvec", false, "write"),
        ];
        assert_eq!(sides, expected);
    }
}
