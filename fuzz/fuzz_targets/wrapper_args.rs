//! The wrapper's reading of rustc's command line (one argument per line,
//! as in an argfile): finding the outputs and redirecting them under a
//! private directory. `@argfile`s are left out: they would read any file.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use cargo_inherit_rustc::args::Invocation;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = data
        .split(|&b| b == b'\n')
        .filter(|a| !a.starts_with(b"@"))
        .map(|a| std::ffi::OsStr::from_bytes(a).to_os_string())
        .collect();
    let invocation = Invocation::parse(args).expect("no argfiles to read");
    if invocation.outputs().is_some() {
        let temp = Path::new("/private/temp");
        let redirected = invocation.redirect(temp);
        for arg in &redirected.args {
            if let Some(dir) = arg.as_bytes().strip_prefix(b"--out-dir=") {
                assert_eq!(Path::new(std::ffi::OsStr::from_bytes(dir)), temp);
            }
        }
        for moved in redirected.moved {
            assert!(
                moved.temp.parent() == Some(temp),
                "{:?} is not directly in the private directory",
                moved.temp
            );
        }
    }
});
