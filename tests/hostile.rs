//! Hostile inputs never write outside the directory they were asked to
//! write: crane archives whose symlinks or hard links lead elsewhere are
//! refused before anything goes through them, whichever verb reads them.

mod common;

use std::path::Path;

use common::*;

/// One entry of a hand-made crane archive: its path, and what it holds.
enum Item {
    Dir(&'static str),
    File(&'static str, &'static [u8]),
    Symlink(&'static str, String),
    HardLink(&'static str, &'static str),
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
            Item::Symlink(path, _) | Item::HardLink(path, _) => {
                let (kind, target) = match item {
                    Item::Symlink(_, target) => (tar::EntryType::Symlink, target.as_str()),
                    Item::HardLink(_, target) => (tar::EntryType::Link, *target),
                    _ => unreachable!(),
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

/// The archives `chain` makes (oldest first, each given the path of a
/// directory outside the target) are refused by every verb that reads
/// crane archives, naming the newest and `needle`: nothing outside
/// changes, the target stays as it was, no layer is left behind. Returns
/// the work directory, for more checks.
fn refused(needle: &str, chain: &[fn(&str) -> Vec<Item>]) -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let (outside, target, layer) = (w.join("outside"), w.join("target"), w.join("layer"));
    write(&outside.join("secret"), b"outside the target");
    let mut prev = None;
    for (i, items) in chain.iter().enumerate() {
        let dir = w.join(format!("crane-{i}"));
        archive(&dir, &items(s(&outside)), prev.as_deref());
        prev = Some(dir);
    }
    let from = prev.expect("a chain of at least one archive");
    let newest = from.join("target.tar.zst");
    write(&target.join("debug/mine"), b"the user's own file");
    let before = (snapshot(&outside), snapshot(&target));
    let runs: [&[&str]; 3] = [
        &["unpack", "--from", s(&from), "--target-dir", s(&target)],
        &["link", "--from", s(&from), "--target-dir", s(&target)],
        &[
            "pack",
            "--target-dir",
            s(&target),
            "--parent",
            s(&from),
            "--out",
            s(&layer),
        ],
    ];
    for args in runs {
        let stderr = fails(args);
        assert!(
            stderr.contains(s(&newest)) && stderr.contains(needle),
            "{args:?}: {stderr}"
        );
        assert_eq!(snapshot(&outside), before.0, "{args:?} wrote outside");
        assert_eq!(snapshot(&target), before.1, "{args:?} changed the target");
        assert!(!layer.exists(), "{args:?} left a layer");
    }
    work
}

#[test]
fn a_file_under_a_symlink_to_an_outside_directory() {
    let work = refused(
        "release/esc, which is not a directory",
        &[|outside| {
            vec![
                Item::Dir("target/release"),
                Item::Symlink("target/release/esc", outside.into()),
                Item::File("target/release/esc/pwned", b"written outside"),
            ]
        }],
    );
    assert!(!work.path().join("outside/pwned").exists());
}

#[test]
fn a_file_under_a_symlink_to_the_parent_directory() {
    refused(
        "under up, which is not a directory",
        &[|_| {
            vec![
                Item::Symlink("target/up", "..".into()),
                Item::File("target/up/pwned", b"written beside the target"),
            ]
        }],
    );
}

#[test]
fn a_hard_link_through_a_symlink_to_an_outside_file() {
    refused(
        "esc, which is not a directory",
        &[|outside| {
            vec![
                Item::Symlink("target/esc", outside.into()),
                Item::HardLink("target/stolen", "target/esc/secret"),
            ]
        }],
    );
}

#[test]
fn a_hard_link_to_a_symlink_or_to_nothing() {
    refused(
        "which is no file laid out before it",
        &[|outside| {
            vec![
                Item::Symlink("target/link", format!("{outside}/secret")),
                Item::HardLink("target/stolen", "target/link"),
            ]
        }],
    );
}

#[test]
fn a_later_archive_that_turns_a_directory_into_a_symlink() {
    let work = refused(
        "under d, which is not a directory",
        &[
            |_| vec![Item::Dir("target/d"), Item::File("target/d/f", b"deps")],
            |outside| {
                vec![
                    Item::Symlink("target/d", outside.into()),
                    Item::File("target/d/pwned", b"written outside"),
                ]
            },
        ],
    );
    assert!(!work.path().join("outside/pwned").exists());
}

#[test]
fn symlinks_that_lead_outside_are_laid_out_as_they_are() {
    // The control: a symlink pointing anywhere is a legitimate entry (build
    // scripts write absolute ones); only writing through it is refused.
    let work = tempfile::tempdir().unwrap();
    let outside = s(&work.path().join("outside")).to_string();
    let from = work.path().join("crane");
    archive(
        &from,
        &[
            Item::Symlink("target/esc", outside.clone()),
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
