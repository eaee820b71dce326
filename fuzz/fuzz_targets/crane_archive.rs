//! crane's archive reader: any bytes, and nothing may appear outside the
//! directory it extracts into.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let outside = dir.path().join("outside");
    std::fs::create_dir(&work).unwrap();
    std::fs::create_dir(&outside).unwrap();
    let _ = cargo_inherit::fuzzing::crane_archive(data, &work);
    for item in std::fs::read_dir(dir.path()).unwrap() {
        let name = item.unwrap().file_name();
        assert!(name == "work" || name == "outside", "wrote {name:?}");
    }
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
});
