//! `cargo-inherit-rustc`, a RUSTC_WRAPPER that lets rustc replace outputs
//! it cannot write over: read-only files and symlinks into the Nix store
//! inherited from an earlier build.
//!
//! A compile writes into a private directory inside its `--out-dir`; each
//! output is then renamed over its real name. A crate reached through a
//! symlink gets its sources' paths remapped to the link (see `remap`).
//! Everything else passes through untouched.
//!
//! Environment:
//! - `CARGO_INHERIT_RUSTC_WRAPPER`: another wrapper (e.g. sccache) to run rustc through.
//! - `CARGO_INHERIT_DENY_COMPILE`: `deps` refuses to compile any package cargo
//!   did not select (CARGO_PRIMARY_PACKAGE unset), `all` refuses every compile.

pub mod args;
pub mod error;
pub mod redirect;
pub mod relay;
pub mod remap;

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};

use args::{Invocation, Outputs};
use error::{Error, Result};
use redirect::Redirect;

pub const CHAIN_VAR: &str = "CARGO_INHERIT_RUSTC_WRAPPER";
pub const DENY_VAR: &str = "CARGO_INHERIT_DENY_COMPILE";

/// `args` are what follows the wrapper on its command line: rustc, then its arguments.
pub fn run(args: Vec<OsString>) -> ExitCode {
    match wrap(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cargo-inherit-rustc: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn wrap(mut args: Vec<OsString>) -> Result<ExitCode> {
    if args.is_empty() {
        return Err(Error::Usage);
    }
    let rustc = args.remove(0);
    let invocation = Invocation::parse(args.clone())?;
    let Some(outputs) = invocation.outputs() else {
        // Byte for byte what cargo asked for: exec, so stdio, exit status and
        // signals are rustc's own.
        let error = command(rustc).args(args).exec();
        return Err(Error::Spawn {
            program: "rustc".into(),
            source: error,
        });
    };
    check_denied(&outputs)?;
    let redirect = Redirect::new(&outputs.out_dir)?;
    let redirected = invocation.redirect(redirect.temp());
    let redirect = redirect.set_moved(redirected.moved);
    let mut rustc_command = command(rustc);
    rustc_command.args(redirected.args);
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        rustc_command.args(remap::physical_to_logical(Path::new(&dir)));
    }
    let status = relay::run(rustc_command, &redirect)?;
    if status.success() {
        redirect.finish()?;
    }
    // A failed compile leaves the previous outputs where they were; the
    // temporary directory goes with `redirect`.
    Ok(exit_code(status))
}

/// rustc, or rustc behind the wrapper named in CARGO_INHERIT_RUSTC_WRAPPER.
fn command(rustc: OsString) -> Command {
    match std::env::var_os(CHAIN_VAR).filter(|w| !w.is_empty()) {
        Some(wrapper) => {
            let mut c = Command::new(wrapper);
            c.arg(rustc);
            c
        }
        None => Command::new(rustc),
    }
}

fn check_denied(outputs: &Outputs) -> Result<()> {
    let Some(mode) = std::env::var(DENY_VAR).ok().filter(|m| !m.is_empty()) else {
        return Ok(());
    };
    let primary = std::env::var_os("CARGO_PRIMARY_PACKAGE").is_some();
    if mode == "deps" && primary {
        return Ok(());
    }
    Err(Error::Denied {
        crate_name: outputs.crate_name.clone().unwrap_or_else(|| "?".into()),
        package: std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "?".into()),
        variable: DENY_VAR,
        mode,
    })
}

fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitCode::from(code as u8),
        (None, Some(signal)) => ExitCode::from(128 + signal as u8),
        _ => ExitCode::FAILURE,
    }
}
