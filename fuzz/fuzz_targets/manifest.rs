//! The manifest parser and validator: any bytes give a manifest or an error.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = cargo_inherit::fuzzing::manifest(data);
});
