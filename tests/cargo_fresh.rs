//! A real cargo build, packed, removed and unpacked from a read-only,
//! mtime-1 layer (as the Nix store holds it): cargo rebuilds nothing.

mod common;

use common::fixture::Project;
use common::*;

#[test]
fn an_unpacked_target_is_entirely_fresh() {
    let project = Project::prepare("basic");
    let first = project.cargo(&["build"], false);
    assert!(first.success, "{}", first.stderr);
    assert!(
        first.rebuilt.len() >= 8,
        "the first build compiles everything: {:?}",
        first.rebuilt
    );
    let target = project.target();
    let layer = project.path("layer");
    ok(&["pack", "--target-dir", s(&target), "--out", s(&layer)]);
    make_store_like(&layer);

    // Control: a copy that does not keep mtimes is not fresh, so the count
    // below is able to see a rebuild.
    let control = project.path("control");
    assert!(std::process::Command::new("cp")
        .arg("-r")
        .arg(&target)
        .arg(&control)
        .status()
        .unwrap()
        .success());
    std::fs::remove_dir_all(&target).unwrap();
    std::fs::rename(&control, &target).unwrap();
    let copied = project.cargo(&["build"], true);
    assert!(copied.success, "{}", copied.stderr);
    assert!(
        !copied.rebuilt.is_empty(),
        "a plain cp -r should have rebuilt something"
    );

    project.assert_inherits_fresh(&layer);
    make_writable(&layer);
}
