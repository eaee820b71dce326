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
    let out = common::cargo_inherit(&[
        "fan-out",
        "--workspace",
        common::s(&project.src),
        "--commands",
        &DEPS_COMMANDS.join(";"),
        "--",
        "--release",
    ]);
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
    let members = ["common", "svc-a", "svc-b", "svc-c"];
    (build.rebuilt.into_iter())
        .filter(|p| !members.contains(&p.as_str()))
        .collect()
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
    for service in ["svc-a", "svc-b", "svc-c", "common"] {
        for command in ["build", "test --no-run", "clippy --all-targets"] {
            assert_eq!(
                dependencies_compiled(&project, command, service),
                Vec::<String>::new(),
                "cargo {command} -p {service}"
            );
        }
    }
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
