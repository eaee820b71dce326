//! Command-line interface: parses arguments and hands each verb to the
//! library, which decides; one arm per command, each a call and what to
//! print of its result.

mod args;
#[cfg(feature = "store")]
mod store_args;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use crate::cargo::{fan_out, installables, members, rebuilt, skeleton, stdout, unify, workspace};
use crate::error::{Error, Result};
use crate::layer::{export, inspect};
use crate::tree::fs::write_json;
use crate::{explain, report, strategy};
use args::{Cli, Command};

pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // `cargo inherit ...` runs us as `cargo-inherit inherit ...`.
    if args.get(1).is_some_and(|a| a == "inherit") {
        args.remove(1);
    }
    let cli = Cli::parse_from(args);
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cargo-inherit: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> Result<()> {
    // Under a tight memory limit even one thread's stack may not be had.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads(cli.jobs))
        .build()
        .map_err(|e| Error::Threads {
            reason: e.to_string(),
        })?;
    pool.install(|| dispatch(cli.command, cli.quiet))
}

fn threads(jobs: Option<usize>) -> usize {
    let from_nix = std::env::var("NIX_BUILD_CORES")
        .ok()
        .and_then(|v| v.parse().ok());
    // 0 lets rayon pick one thread per core.
    jobs.filter(|&j| j > 0).or(from_nix).unwrap_or(0)
}

/// One arm per command: the library does the work and says what it did.
fn dispatch(command: Command, quiet: bool) -> Result<()> {
    let say = |line: &dyn std::fmt::Display| {
        if !quiet {
            eprintln!("cargo-inherit: {line}");
        }
    };
    match command {
        Command::Pack(pack) => say(&strategy::pack(pack.format, &pack.options())?),
        Command::Unpack(l) => say(&lay_out(strategy::unpack, &l)?),
        Command::Link(l) => say(&lay_out(strategy::link, &l)?),
        Command::Export { from, out } => say(&export::export(&from, &out)?),
        Command::Skeleton(s) => say(&skeleton::skeleton(
            &s.src,
            &s.out,
            &s.keep,
            s.file_names.as_deref(),
        )?),
        Command::Rebuilt(r) => {
            let report = rebuilt::rebuilt(&r.log, &r.workspace)?;
            print_report(&report, r.json, false);
            report.verdict(&r.log, r.deny_deps)?;
        }
        Command::Explain(e) if e.print_cargo_log => println!("{}", explain::CARGO_LOG.1),
        Command::Explain(e) => {
            let context = e.context();
            let explained =
                explain::explain(&e.workspace, e.log.as_deref(), e.cargo_args, &context)?;
            print_report(&explained.explanation, e.json, true);
            explained.verdict(e.deny)?;
        }
        Command::Report(r) => print_timed_report(&r)?,
        Command::SplitStdout { log } => stdout::split_into(&log)?,
        Command::FilterLog => explain::filter_log(std::io::stdin().lock(), std::io::stdout())?,
        Command::Installables { cargo_log } => print_lines(installables::installables(&cargo_log)?),
        Command::BuildDir { workspace } => {
            print_lines(workspace::separate_build_dir(&workspace)?.map(|d| d.display().to_string()))
        }
        #[cfg(feature = "store")]
        Command::Store(verb) => store_args::dispatch(verb, say)?,
        Command::Inspect { layer, json } => print_report(&inspect::inspect(&layer)?, json, true),
        Command::Sources { workspace, out } => write_json(&out, &members::sources(&workspace)?)?,
        Command::FanOut {
            workspace,
            commands,
            cargo_args,
        } => {
            let commands: Vec<String> = commands.split(';').map(str::to_string).collect();
            print_lines(fan_out::fan_out(&workspace, &commands, &cargo_args)?)
        }
        Command::Unify {
            workspace,
            like,
            cargo_args,
        } => say(&unify::unify(&workspace, like.as_deref(), &cargo_args)?),
    }
    Ok(())
}

/// Unpack or link, with where from, where to, and next to which sources.
fn lay_out<T>(verb: LayOutVerb<T>, l: &args::LayOut) -> Result<T> {
    verb(&l.from, &l.target_dir, l.workspace.as_deref(), &l.store)
}

type LayOutVerb<T> = fn(&Path, &Path, Option<&Path>, &Path) -> Result<T>;

/// The report of a derivation: on stdout with its timings, and without
/// them into `--out` (an output's file must not change from run to run).
fn print_timed_report(r: &args::Report) -> Result<()> {
    let report = report::report(&r.name, &r.layer, &r.rebuilt, &r.cargo_log)?;
    if let Some(out) = &r.out {
        report::write(&report, out)?;
    }
    println!("{}", report.timed(&r.seconds()));
    Ok(())
}

fn print_lines(lines: impl IntoIterator<Item = impl std::fmt::Display>) {
    for line in lines {
        println!("{line}");
    }
}

/// A report on stdout: as JSON (pretty or one line), or as text.
fn print_report<R: serde::Serialize + std::fmt::Display>(report: &R, json: bool, pretty: bool) {
    let text = match (json, pretty) {
        (false, _) => report.to_string(),
        (true, true) => serde_json::to_string_pretty(report).expect("reports serialise"),
        (true, false) => serde_json::to_string(report).expect("reports serialise"),
    };
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
}
