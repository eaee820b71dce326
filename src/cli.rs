//! Command-line interface: parses arguments and hands each verb to its module.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::artifacts::Artifacts;
use crate::blobstore::Settings;
use crate::crane::unpack_archives;
use crate::error::{Error, IoContext, Result};
use crate::explain;
use crate::inspect::{human_bytes, inspect, render};
use crate::layout::unpack;
use crate::link::{copy_out, link};
use crate::pack::{pack, PackOptions};
use crate::plain::pack_plain;
use crate::rebuilt::rebuilt;
use crate::skeleton::skeleton;

#[derive(Parser)]
#[command(
    name = "cargo-inherit",
    version,
    about = "Inherit Rust build artifacts between Nix derivations"
)]
struct Cli {
    /// Worker threads; 0 or unset means NIX_BUILD_CORES, else every core.
    #[arg(short, long, global = true)]
    jobs: Option<usize>,

    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Layered,
    Plain,
}

/// Where from, where to, and next to which sources.
#[derive(clap::Args)]
struct LayOut {
    #[arg(long)]
    from: PathBuf,
    #[arg(long, default_value = "target")]
    target_dir: PathBuf,
    /// The workspace being built: members whose sources changed since the
    /// artifacts were packed get their units left out, so cargo rebuilds them.
    #[arg(long)]
    workspace: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Pack a target directory into a layer that stores only what its parents lack.
    Pack {
        #[arg(long, default_value = "target")]
        target_dir: PathBuf,
        /// Directory to create for the layer (e.g. $out); must not exist or be empty.
        #[arg(long)]
        out: PathBuf,
        /// A layer to build on, or a crane output (use-zstd or use-symlink)
        /// whose content is then read from it instead of stored; may be given
        /// several times.
        #[arg(long = "parent")]
        parents: Vec<PathBuf>,
        /// zstd level.
        #[arg(long, default_value_t = 1, allow_hyphen_values = true)]
        level: i32,
        /// Raw bytes per independent zstd frame.
        #[arg(long, default_value_t = 64 << 20)]
        frame_size: u64,
        /// The skeleton (from `skeleton`) the tree was built from: its members'
        /// units are recorded as dummies, which unpack makes cargo rebuild.
        #[arg(long)]
        skeleton: Option<PathBuf>,
        /// The workspace the tree was built from: each member's sources are
        /// hashed, so an unpack next to edited sources rebuilds that member.
        #[arg(long)]
        workspace: Option<PathBuf>,
        /// `layered`: compressed, deduplicated layer; `plain`: the tree itself
        /// under OUT/target for `link`, files a parent holds unchanged
        /// replaced by symlinks to it.
        #[arg(long, value_enum, default_value_t = Format::Layered)]
        format: Format,
    },
    /// Lay a plain target tree from the store out with symlinks for immutable
    /// artifacts and writable copies for the rest (use with cargo-inherit-rustc).
    Link(LayOut),
    /// Lay a layer (with all its parents) out into a target directory. FROM
    /// may also be a crane use-zstd output (target.tar.zst and its .prev
    /// chain) or a plain tree (crane use-symlink, pack --format plain).
    Unpack(LayOut),
    /// Write the full tree of a layer as OUT/target.tar.zst, for crane to inherit.
    Export {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a copy of the workspace at SRC with dummy sources for every
    /// member target, to build all dependencies and nothing else.
    Skeleton { src: PathBuf, out: PathBuf },
    /// Count the units a cargo run compiled, from its --message-format=json log.
    Rebuilt {
        #[arg(long)]
        log: PathBuf,
        /// The workspace the log is of, to tell members from dependencies.
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
        /// Fail when any dependency (a package that is not a member) was compiled.
        #[arg(long)]
        deny_deps: bool,
        #[arg(long)]
        json: bool,
    },
    /// Say why cargo rebuilt units an inherited target should have made
    /// fresh, and how to fix it. Runs `cargo CARGO_ARGS` (default: build)
    /// with cargo's fingerprint log on, or reads such a log.
    Explain {
        /// The workspace, to tell members (expected to rebuild) from dependencies.
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
        /// cargo's stderr from a run with
        /// CARGO_LOG=cargo::core::compiler::fingerprint=info, instead of running cargo.
        #[arg(long, conflicts_with = "cargo_args")]
        log: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Fail when any dependency unit was rebuilt.
        #[arg(long)]
        deny: bool,
        #[arg(last = true)]
        cargo_args: Vec<OsString>,
    },
    /// Show the chain of a layer: files, logical and stored bytes per layer.
    Inspect {
        layer: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads(cli.jobs))
        .build()
        .expect("a thread pool can be built");
    pool.install(|| dispatch(cli.command, cli.quiet))
}

fn threads(jobs: Option<usize>) -> usize {
    let from_nix = std::env::var("NIX_BUILD_CORES")
        .ok()
        .and_then(|v| v.parse().ok());
    // 0 lets rayon pick one thread per core.
    jobs.filter(|&j| j > 0).or(from_nix).unwrap_or(0)
}

fn dispatch(command: Command, quiet: bool) -> Result<()> {
    let say = |line: String| {
        if !quiet {
            eprintln!("cargo-inherit: {line}");
        }
    };
    match command {
        Command::Pack {
            target_dir,
            out,
            parents,
            skeleton,
            workspace,
            format: Format::Plain,
            ..
        } => {
            let report = pack_plain(
                &target_dir,
                &out,
                &parents,
                skeleton.as_deref(),
                workspace.as_deref(),
            )?;
            say(format!(
                "installed {} entries into {}: {} linked to parents, {} copied",
                report.entries,
                out.join("target").display(),
                report.shared_with_parents,
                human_bytes(report.copied_bytes),
            ));
        }
        Command::Pack {
            target_dir,
            out,
            parents,
            level,
            frame_size,
            skeleton,
            workspace,
            format: Format::Layered,
        } => {
            let settings = Settings {
                level,
                frame_size: frame_size.max(1),
            };
            let report = pack(&PackOptions {
                target_dir,
                out: out.clone(),
                parents,
                settings,
                skeleton,
                workspace,
            })?;
            let borrowed = match report.borrowed_bytes {
                0 => String::new(),
                bytes => format!(", {} read from crane parents", human_bytes(bytes)),
            };
            say(format!(
                "packed {} entries ({}) into {}: {} new blobs ({}), {} stored{borrowed}",
                report.entries,
                human_bytes(report.logical_bytes),
                out.display(),
                report.new_blobs,
                human_bytes(report.new_raw_bytes),
                human_bytes(report.stored_bytes),
            ));
        }
        Command::Unpack(LayOut {
            from,
            target_dir,
            workspace,
        }) => {
            match Artifacts::detect(&from)? {
                Artifacts::PlainTree => {
                    let store = std::env::var_os("NIX_STORE")
                        .map_or_else(|| "/nix/store".into(), PathBuf::from);
                    let report = copy_out(&from, &target_dir, workspace.as_deref(), &store)?;
                    say(format!(
                        "copied {} files of a plain tree into {}",
                        report.copied,
                        target_dir.display()
                    ));
                    return Ok(());
                }
                Artifacts::CraneArchives(archives) => {
                    let entries = unpack_archives(&archives, &target_dir, workspace.as_deref())?;
                    say(format!(
                        "unpacked {entries} entries from {} crane archives into {}",
                        archives.len(),
                        target_dir.display()
                    ));
                    return Ok(());
                }
                Artifacts::Layer => {}
            }
            let report = unpack(&from, &target_dir, workspace.as_deref())?;
            say(format!(
                "unpacked {} entries ({} files, {}) from {} frames into {}",
                report.entries,
                report.files,
                human_bytes(report.bytes),
                report.frames,
                target_dir.display(),
            ));
        }
        Command::Export { from, out } => {
            crate::crane::export(&from, &out)?;
            say(format!(
                "wrote {}",
                out.join(crate::crane::ARCHIVE).display()
            ));
        }
        Command::Skeleton { src, out } => {
            let info = skeleton(&src, &out)?;
            say(format!(
                "wrote a skeleton of {} members into {}",
                info.members.len(),
                out.display()
            ));
        }
        Command::Link(LayOut {
            from,
            target_dir,
            workspace,
        }) => {
            let report = link(&from, &target_dir, workspace.as_deref())?;
            say(format!(
                "linked {} artifacts into the store and copied {} files into {}",
                report.linked,
                report.copied,
                target_dir.display(),
            ));
        }
        Command::Rebuilt {
            log,
            workspace,
            deny_deps,
            json,
        } => {
            let report = rebuilt(&log, &workspace)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string(&report).expect("reports serialise")
                );
            } else {
                println!(
                    "rebuilt {} units: members {:?}, dependencies {:?}",
                    report.units, report.members, report.dependencies
                );
            }
            if deny_deps && !report.dependencies.is_empty() {
                return Err(Error::bad_input(
                    &log,
                    format!(
                        "dependencies were compiled although inherited: {:?}",
                        report.dependencies
                    ),
                ));
            }
        }
        Command::Explain {
            workspace,
            log,
            json,
            deny,
            cargo_args,
        } => explain(&workspace, log.as_deref(), json, deny, cargo_args)?,
        Command::Inspect { layer, json } => {
            let summary = inspect(&layer)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summary).expect("summaries serialise")
                );
            } else {
                print!("{}", render(&summary));
            }
        }
    }
    Ok(())
}

fn explain(
    workspace: &Path,
    log: Option<&Path>,
    json: bool,
    deny: bool,
    mut cargo_args: Vec<OsString>,
) -> Result<()> {
    let (text, cargo_ok) = match log {
        Some(log) => {
            let bytes = std::fs::read(log).at(log)?;
            (String::from_utf8_lossy(&bytes).into_owned(), true)
        }
        None => {
            if cargo_args.is_empty() {
                cargo_args.push("build".into());
            }
            explain::run_cargo(&cargo_args, workspace)?
        }
    };
    let explanation = explain::explain_log(&text, workspace)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&explanation).expect("explanations serialise")
        );
    } else {
        print!("{}", explain::render(&explanation));
    }
    if !cargo_ok {
        return Err(Error::bad_input(workspace, "cargo failed (see above)"));
    }
    match explain::denied(&explanation, log.unwrap_or(workspace)) {
        Some(error) if deny => Err(error),
        _ => Ok(()),
    }
}
