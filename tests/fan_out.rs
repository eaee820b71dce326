//! A workspace fanned out per service (tests/fixtures/fanout): after a deps
//! build of the whole workspace, `cargo build -p svc-a` compiles again every
//! dependency whose features svc-a's own resolution changes. The deps build
//! that also runs what `cargo-inherit fan-out` prints leaves nothing for a
//! `-p` build to compile but the members, in every mode it built.

mod common;

use common::fixture::Project;

/// The commands of nix/lib's depsOnly.
const DEPS_COMMANDS: [&str; 3] = ["check --all-targets", "build", "test --no-run"];

fn deps_build(project: &Project, extra: &[String]) {
    let commands = DEPS_COMMANDS.iter().map(|c| c.to_string());
    for command in commands.chain(extra.iter().cloned()) {
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push("--release");
        let build = project.cargo(&args, false);
        assert!(build.success, "cargo {command}: {}", build.stderr);
    }
}

fn fan_out(project: &Project) -> Vec<String> {
    fan_out_with(project, &real_cargo())
}

/// What `cargo-inherit fan-out` prints, with `cargo` as the cargo it runs.
fn fan_out_with(project: &Project, cargo: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
        .args(["fan-out", "--workspace", common::s(&project.src)])
        .args(["--commands", &DEPS_COMMANDS.join(";"), "--", "--release"])
        .env("CARGO", cargo)
        .output()
        .unwrap();
    common::succeeded(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout.lines().map(str::to_string).collect()
}

/// What `cargo COMMAND --release -p SERVICE` compiled, but the members.
fn dependencies_compiled(project: &Project, command: &str, service: &str) -> Vec<String> {
    let mut args: Vec<&str> = command.split_whitespace().collect();
    args.extend(["--release", "-p", service]);
    let build = project.cargo(&args, false);
    assert!(
        build.success,
        "cargo {command} -p {service}: {}",
        build.stderr
    );
    let members = ["common", "svc-a", "svc-b", "svc-c", "cargo-inherit-hack"];
    (build.rebuilt.into_iter())
        .filter(|p| !members.contains(&p.as_str()))
        .collect()
}

/// Build, test and clippy of each member on its own compile no dependency.
fn assert_no_service_compiles_a_dependency(project: &Project) {
    for service in ["svc-a", "svc-b", "svc-c", "common"] {
        for command in ["build", "test --no-run", "clippy --all-targets"] {
            assert_eq!(
                dependencies_compiled(project, command, service),
                Vec::<String>::new(),
                "cargo {command} -p {service}"
            );
        }
    }
}

#[test]
fn a_fanned_out_deps_build_leaves_no_dependency_to_compile_per_service() {
    let project = Project::prepare("fanout");
    let extra = fan_out(&project);
    // common, svc-a and svc-b resolve memchr or serde otherwise than the
    // workspace; svc-c does not.
    for member in ["common", "svc-a", "svc-b"] {
        for command in DEPS_COMMANDS {
            let wanted = format!("{command} -p {member}");
            assert!(extra.contains(&wanted), "{wanted:?} not in {extra:?}");
        }
    }
    assert!(!extra.iter().any(|c| c.ends_with("-p svc-c")), "{extra:?}");
    deps_build(&project, &extra);
    assert_no_service_compiles_a_dependency(&project);
}

#[test]
fn without_the_fan_out_a_service_compiles_its_dependencies_again() {
    let project = Project::prepare("fanout");
    deps_build(&project, &[]);
    assert_eq!(
        dependencies_compiled(&project, "build", "svc-a"),
        ["memchr", "serde_json"]
    );
}

#[test]
fn a_workspace_whose_members_agree_fans_out_nothing() {
    let project = Project::prepare("basic");
    assert_eq!(fan_out(&project), Vec::<String>::new());
}

#[test]
fn a_single_package_fans_out_without_asking_cargo_tree() {
    let project = Project::prepare("failing-test");
    let cargo = cargo_failing_on(&project, "tree", "no tree today");
    assert_eq!(fan_out_with(&project, &cargo), Vec::<String>::new());
}

/// A cargo that fails SUBCOMMAND saying MESSAGE and runs the real one otherwise.
fn cargo_failing_on(project: &Project, subcommand: &str, message: &str) -> std::path::PathBuf {
    let cargo = project.path("failing-cargo");
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = {subcommand} ] && {{ echo '{message}' >&2; exit 101; }}\nexec {} \"$@\"\n",
        real_cargo().display()
    );
    common::write(&cargo, script.as_bytes());
    let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&cargo, executable).unwrap();
    cargo
}

/// `cargo-inherit unify` in the project, with `cargo` as the cargo it runs.
fn unify(project: &Project, cargo: &std::path::Path) -> std::process::Output {
    unify_with(project, cargo, &[])
}

fn unify_with(project: &Project, cargo: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cargo-inherit"))
        .args(["unify", "--workspace", common::s(&project.src)])
        .args(args)
        .args(["--", "--release"])
        .env("CARGO", cargo)
        .output()
        .unwrap()
}

fn real_cargo() -> std::path::PathBuf {
    std::env::var_os("CARGO").unwrap_or("cargo".into()).into()
}

/// Every file of the project's sources with its bytes and mtime.
fn snapshot(project: &Project) -> Vec<(std::path::PathBuf, Vec<u8>, filetime::FileTime)> {
    (walkdir::WalkDir::new(&project.src)
        .sort_by_file_name()
        .into_iter())
    .map(Result::unwrap)
    .filter(|e| e.file_type().is_file() && !e.path().starts_with(project.target()))
    .map(|e| {
        let meta = e.metadata().unwrap();
        let mtime = filetime::FileTime::from_last_modification_time(&meta);
        (
            e.path().to_path_buf(),
            std::fs::read(e.path()).unwrap(),
            mtime,
        )
    })
    .collect()
}

#[test]
fn a_unified_workspace_leaves_no_dependency_to_compile_per_service() {
    let project = Project::prepare("fanout");
    let out = unify(&project, &real_cargo());
    common::succeeded(&out);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("memchr 2.8.3, serde 1.0.229"), "{said}");
    // Every member now resolves as the workspace does: nothing to fan out,
    // the deps build is the union's alone.
    assert_eq!(fan_out(&project), Vec::<String>::new());
    deps_build(&project, &[]);
    assert_no_service_compiles_a_dependency(&project);
}

#[test]
fn unify_puts_every_file_back_when_it_fails() {
    let project = Project::prepare("fanout");
    let before = snapshot(&project);
    // A cargo that cannot take the hack into the lockfile, after unify has
    // written the hack and changed every manifest.
    let cargo = cargo_failing_on(&project, "update", "no lockfile today");
    let out = unify(&project, &cargo);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("Cargo.lock") && said.contains("no lockfile today"),
        "{said}"
    );
    assert!(
        snapshot(&project) == before,
        "unify left the sources changed"
    );
    assert!(!project.src.join("cargo-inherit-hack").exists());
}

#[test]
fn unify_refuses_a_workspace_unified_already() {
    let project = Project::prepare("fanout");
    common::succeeded(&unify(&project, &real_cargo()));
    let out = unify(&project, &real_cargo());
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("cargo-inherit-hack") && said.contains("unified already"),
        "{said}"
    );
}

#[test]
fn unify_leaves_a_workspace_whose_members_agree_as_it_was() {
    let project = Project::prepare("basic");
    let before = snapshot(&project);
    let out = unify(&project, &real_cargo());
    common::succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to unify"));
    assert!(snapshot(&project) == before);
}

#[test]
fn a_hack_taken_like_another_derivations_changes_the_sources_alike() {
    let found = Project::prepare("fanout");
    common::succeeded(&unify(&found, &real_cargo()));
    let recorded = found.path("cargo-inherit-hack.toml");
    std::fs::copy(found.src.join("cargo-inherit-hack/Cargo.toml"), &recorded).unwrap();
    let taken = Project::prepare("fanout");
    let out = unify_with(&taken, &real_cargo(), &["--like", common::s(&recorded)]);
    common::succeeded(&out);
    // Every file but the vendored crates' config, which names each
    // project's own vendor directory.
    let relative = |p: &Project| -> Vec<_> {
        (snapshot(p).into_iter())
            .map(|(path, bytes, mtime)| {
                (path.strip_prefix(&p.src).unwrap().to_owned(), bytes, mtime)
            })
            .filter(|(path, _, _)| !path.starts_with(".cargo"))
            .collect()
    };
    let (taken, found) = (relative(&taken), relative(&found));
    let differ: Vec<_> = (taken.iter().zip(&found))
        .filter(|(a, b)| a != b)
        .map(|(a, _)| &a.0)
        .collect();
    assert!(
        taken.len() == found.len() && differ.is_empty(),
        "{differ:?}"
    );
}

#[test]
fn a_hack_manifest_that_is_none_is_refused_and_nothing_changes() {
    let project = Project::prepare("fanout");
    let before = snapshot(&project);
    let bogus = project.path("bogus.toml");
    common::write(&bogus, b"[package]\nname = \"serde\"\n");
    let out = unify_with(&project, &real_cargo(), &["--like", common::s(&bogus)]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("bogus.toml") && said.contains("not the manifest of cargo-inherit-hack"),
        "{said}"
    );
    assert!(snapshot(&project) == before);
}
