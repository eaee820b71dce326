//! A dependency's build script that watches a file of the machine. Laid
//! out with mtime 1, every inherited run is older than that file and the
//! script reruns in every inheriting build; a layer records the newest such
//! file and is laid out with its mtime, so nothing reruns while the file is
//! unchanged, and the script still reruns once it changes.

mod common;

use std::path::Path;

use common::fixture::Project;
use common::*;

fn build(project: &Project, watched: &Path) -> common::fixture::Build {
    project.cargo_with(&["build"], true, &[("HOSTDEP_WATCH", s(watched))])
}

fn unpack(project: &Project, layer: &Path) {
    let target = project.target();
    if target.exists() {
        std::fs::remove_dir_all(&target).unwrap();
    }
    ok(&[
        "unpack",
        "--from",
        s(layer),
        "--target-dir",
        s(&target),
        "--workspace",
        s(&project.src),
    ]);
}

#[test]
fn a_watched_host_file_reruns_its_script_only_when_it_changed() {
    let project = Project::prepare("host-header");
    let watched = project.path("host/include/watched.h");
    write(&watched, b"#define WATCHED 1");
    let first = build(&project, &watched);
    assert!(first.success, "{}", first.stderr);
    let layer = project.path("layer");
    ok(&[
        "pack",
        "--target-dir",
        s(&project.target()),
        "--out",
        s(&layer),
        "--workspace",
        s(&project.src),
    ]);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layer.join("manifest.json")).unwrap()).unwrap();
    // Whole seconds, rounded up: never older than the file.
    let recorded =
        filetime::FileTime::from_last_modification_time(&std::fs::metadata(&watched).unwrap());
    let seconds = recorded.unix_seconds() + i64::from(recorded.nanoseconds() > 0);
    assert_eq!(manifest["mtime"], seconds);

    unpack(&project, &layer);
    let inherited = build(&project, &watched);
    assert!(inherited.success, "{}", inherited.stderr);
    assert_eq!(
        inherited.rebuilt,
        Vec::<String>::new(),
        "an unchanged host file reran the script"
    );

    // The control: the same layer without the record reruns it (the danger).
    let blind = project.path("blind");
    std::fs::create_dir(&blind).unwrap();
    std::fs::copy(layer.join("blobs.zst"), blind.join("blobs.zst")).unwrap();
    let mut without = manifest.clone();
    without.as_object_mut().unwrap().remove("mtime");
    std::fs::write(
        blind.join("manifest.json"),
        serde_json::to_vec(&without).unwrap(),
    )
    .unwrap();
    unpack(&project, &blind);
    let rerun = build(&project, &watched);
    assert!(
        rerun.rebuilt.contains(&"hostdep".to_string()),
        "{:?}",
        rerun.rebuilt
    );

    // A host file changed since the layer was packed still reruns the script.
    let later = filetime::FileTime::from_unix_time(seconds + 60, 0);
    filetime::set_file_mtime(&watched, later).unwrap();
    unpack(&project, &layer);
    let changed = build(&project, &watched);
    assert!(
        changed.rebuilt.contains(&"hostdep".to_string()),
        "{:?}",
        changed.rebuilt
    );
}
