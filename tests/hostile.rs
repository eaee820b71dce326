//! Hostile inputs never write outside the directory they were asked to
//! write: crane archives whose symlinks or hard links lead elsewhere are
//! refused before anything goes through them, whichever verb reads them.

mod common;

use std::path::Path;

use common::*;

/// One entry of a hand-made crane archive.
enum Item<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
}

/// Writes `items` as crane's `OUT/target.tar.zst`; with `prev`, linked to
/// the archive it was built on as crane links it.
fn archive(out: &Path, items: &[Item], prev: Option<&Path>) {
    std::fs::create_dir_all(out).unwrap();
    let file = std::fs::File::create(out.join("target.tar.zst")).unwrap();
    let encoder = zstd::stream::write::Encoder::new(file, 3).unwrap();
    let mut builder = tar::Builder::new(encoder);
    for item in items {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o755);
        header.set_mtime(1);
        match item {
            Item::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, std::io::empty())
                    .unwrap();
            }
            Item::File(path, content) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(content.len() as u64);
                builder.append_data(&mut header, path, *content).unwrap();
            }
            Item::Symlink(path, target) | Item::HardLink(path, target) => {
                let kind = match item {
                    Item::Symlink(..) => tar::EntryType::Symlink,
                    _ => tar::EntryType::Link,
                };
                header.set_entry_type(kind);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap().finish().unwrap();
    if let Some(prev) = prev {
        std::os::unix::fs::symlink(prev.join("target.tar.zst"), out.join("target.tar.zst.prev"))
            .unwrap();
    }
}

/// Every verb that reads crane archives fails on `from`, naming `archive`
/// and `needle`; nothing outside changes, the target stays as it was, and
/// no layer is left behind.
fn refused_everywhere(work: &Path, from: &Path, archive: &Path, needle: &str) {
    let outside = work.join("outside");
    let target = work.join("target");
    write(&target.join("debug/mine"), b"the user's own file");
    let (before_outside, before_target) = (snapshot(&outside), snapshot(&target));
    let layer = work.join("layer");
    let runs: [&[&str]; 3] = [
        &["unpack", "--from", s(from), "--target-dir", s(&target)],
        &["link", "--from", s(from), "--target-dir", s(&target)],
        &[
            "pack",
            "--target-dir",
            s(&target),
            "--parent",
            s(from),
            "--out",
            s(&layer),
        ],
    ];
    for args in runs {
        let stderr = fails(args);
        assert!(
            stderr.contains(s(archive)) && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
        assert_eq!(snapshot(&outside), before_outside, "{args:?} wrote outside");
        assert_eq!(
            snapshot(&target),
            before_target,
            "{args:?} changed the target"
        );
        assert!(!layer.exists(), "{args:?} left a layer");
    }
}

fn outside_dir(work: &Path) -> String {
    let outside = work.join("outside");
    write(&outside.join("secret"), b"outside the target");
    s(&outside).to_string()
}

#[test]
fn a_file_under_a_symlink_to_an_outside_directory() {
    let work = tempfile::tempdir().unwrap();
    let outside = outside_dir(work.path());
    let from = work.path().join("crane");
    archive(
        &from,
        &[
            Item::Dir("target/release"),
            Item::Symlink("target/release/esc", &outside),
            Item::File("target/release/esc/pwned", b"written outside"),
        ],
        None,
    );
    let archive = from.join("target.tar.zst");
    refused_everywhere(
        work.path(),
        &from,
        &archive,
        "release/esc, which is not a directory",
    );
    assert!(!work.path().join("outside/pwned").exists());
}

#[test]
fn a_file_under_a_symlink_to_the_parent_directory() {
    let work = tempfile::tempdir().unwrap();
    outside_dir(work.path());
    let from = work.path().join("crane");
    archive(
        &from,
        &[
            Item::Symlink("target/up", ".."),
            Item::File("target/up/pwned", b"written beside the target"),
        ],
        None,
    );
    let archive = from.join("target.tar.zst");
    refused_everywhere(
        work.path(),
        &from,
        &archive,
        "under up, which is not a directory",
    );
}

#[test]
fn a_hard_link_through_a_symlink_to_an_outside_file() {
    let work = tempfile::tempdir().unwrap();
    let outside = outside_dir(work.path());
    let from = work.path().join("crane");
    archive(
        &from,
        &[
            Item::Symlink("target/esc", &outside),
            Item::HardLink("target/stolen", "target/esc/secret"),
        ],
        None,
    );
    let archive = from.join("target.tar.zst");
    refused_everywhere(
        work.path(),
        &from,
        &archive,
        "esc, which is not a directory",
    );
}

#[test]
fn a_hard_link_to_a_symlink_or_to_nothing() {
    let work = tempfile::tempdir().unwrap();
    let outside = outside_dir(work.path());
    let from = work.path().join("crane");
    let secret = format!("{outside}/secret");
    archive(
        &from,
        &[
            Item::Symlink("target/link", &secret),
            Item::HardLink("target/stolen", "target/link"),
        ],
        None,
    );
    let archive = from.join("target.tar.zst");
    refused_everywhere(
        work.path(),
        &from,
        &archive,
        "which is no file laid out before it",
    );
}

#[test]
fn a_later_archive_that_turns_a_directory_into_a_symlink() {
    let work = tempfile::tempdir().unwrap();
    let outside = outside_dir(work.path());
    let first = work.path().join("crane-deps");
    archive(
        &first,
        &[Item::Dir("target/d"), Item::File("target/d/f", b"deps")],
        None,
    );
    let from = work.path().join("crane-build");
    archive(
        &from,
        &[
            Item::Symlink("target/d", &outside),
            Item::File("target/d/pwned", b"written outside"),
        ],
        Some(&first),
    );
    let archive = from.join("target.tar.zst");
    refused_everywhere(
        work.path(),
        &from,
        &archive,
        "under d, which is not a directory",
    );
    assert!(!work.path().join("outside/pwned").exists());
}

#[test]
fn symlinks_that_lead_outside_are_laid_out_as_they_are() {
    // The control: a symlink pointing anywhere is a legitimate entry (build
    // scripts write absolute ones); only writing through it is refused.
    let work = tempfile::tempdir().unwrap();
    let outside = outside_dir(work.path());
    let from = work.path().join("crane");
    archive(
        &from,
        &[
            Item::Symlink("target/esc", &outside),
            Item::File("target/ok", b"inside"),
        ],
        None,
    );
    let target = work.path().join("target");
    ok(&["unpack", "--from", s(&from), "--target-dir", s(&target)]);
    assert_eq!(
        std::fs::read_link(target.join("esc")).unwrap(),
        Path::new(&outside)
    );
    assert_eq!(std::fs::read(target.join("ok")).unwrap(), b"inside");
}
