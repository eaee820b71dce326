//! A whole layer laid out: the first two bytes give the manifest's length,
//! the rest is blobs.zst. Nothing may appear outside the target.
#![no_main]

use std::path::Path;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let split = (usize::from(data[0]) << 8 | usize::from(data[1])).min(data.len() - 2);
    let (manifest, blobs) = data[2..].split_at(split);
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let _ = cargo_inherit::fuzzing::layer(manifest, blobs, &dir.path().join("work"));
    assert_only(dir.path(), &["outside", "work"]);
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
});

fn assert_only(dir: &Path, names: &[&str]) {
    for item in std::fs::read_dir(dir).unwrap() {
        let name = item.unwrap().file_name();
        assert!(names.contains(&name.to_str().unwrap()), "wrote {name:?}");
    }
}
