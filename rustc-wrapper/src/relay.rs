//! Runs rustc and relays its stderr, moving each output it announces into
//! place before cargo hears of it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use crate::error::{Error, Result};
use crate::redirect::Redirect;

pub fn run(mut command: Command, redirect: &Redirect) -> Result<ExitStatus> {
    let program = format!("{:?}", command.get_program());
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn { program, source })?;
    let stderr = child.stderr.take().expect("stderr was piped");
    let mut ours = std::io::stderr().lock();
    let mut failure = None;
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
        let text = String::from_utf8_lossy(&line).into_owned();
        line.clear();
        if failure.is_none() {
            if let Some(artifact) = announced_artifact(text.trim_end()) {
                // Cargo starts dependent crates as soon as it reads this line,
                // so the file has to be at its real path first.
                if let Err(e) = redirect.place_early(Path::new(&artifact)) {
                    failure = Some(e);
                }
            }
        }
        let _ = ours.write_all(redirect.rewrite(&text).as_bytes());
        if let Some(note) = not_writeable_note(&text) {
            let _ = ours.write_all(note.as_bytes());
        }
    }
    let status = child.wait().map_err(|source| Error::Spawn {
        program: "rustc".into(),
        source,
    })?;
    match failure {
        Some(e) => Err(e),
        None => Ok(status),
    }
}

/// The path in rustc's artifact notification,
/// `{"$message_type":"artifact","artifact":"...","emit":"metadata"}`.
fn announced_artifact(line: &str) -> Option<String> {
    if !line.starts_with('{') || !line.contains("\"artifact\"") {
        return None;
    }
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    message["artifact"].as_str().map(str::to_string)
}

/// What to do when rustc refuses to write over a read-only output (one
/// this wrapper did not redirect), in the form rustc's line came in.
fn not_writeable_note(line: &str) -> Option<String> {
    if !line.contains("is not writeable") {
        return None;
    }
    let note = "note: an inherited output is read-only (a symlink into the Nix store?): \
                lay the artifacts out with `cargo-inherit unpack` for writable copies, or \
                build with RUSTC_WRAPPER=cargo-inherit-rustc for every rustc output";
    Some(if line.starts_with('{') {
        let message = serde_json::json!({
            "$message_type": "diagnostic",
            "message": note.trim_start_matches("note: "),
            "code": null,
            "level": "note",
            "spans": [],
            "children": [],
            "rendered": format!("{note}\n"),
        });
        format!("{message}\n")
    } else {
        format!("{note}\n")
    })
}

#[cfg(test)]
mod tests {
    use super::{announced_artifact, not_writeable_note};

    #[test]
    fn a_read_only_output_gets_a_note_in_the_same_form() {
        let json = r#"{"$message_type":"diagnostic","message":"output file /t/x is not writeable -- check its permissions"}"#;
        let note: serde_json::Value =
            serde_json::from_str(&not_writeable_note(json).unwrap()).unwrap();
        assert_eq!(note["level"], "note");
        assert!(note["rendered"]
            .as_str()
            .unwrap()
            .contains("cargo-inherit unpack"));
        let text = "error: output file /t/x is not writeable -- check its permissions";
        assert!(not_writeable_note(text).unwrap().starts_with("note: "));
        assert_eq!(not_writeable_note("warning: unused"), None);
    }

    #[test]
    fn reads_artifact_notifications_only() {
        let line = r#"{"artifact":"/t/deps/.x/liba-1.rmeta","emit":"metadata"}"#;
        assert_eq!(
            announced_artifact(line).as_deref(),
            Some("/t/deps/.x/liba-1.rmeta")
        );
        assert_eq!(
            announced_artifact(r#"{"$message_type":"diagnostic","message":"x"}"#),
            None
        );
        assert_eq!(announced_artifact("warning: unused"), None);
    }
}
