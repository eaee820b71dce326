//! Command-line interface: parses arguments and hands each verb to its module.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::blobstore::{Level, Settings};
use crate::error::{Error, IoContext, Result};
use crate::pack::PackOptions;
use crate::{cargo_stdout, explain, inherit, plain, report};

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
    /// The Nix store, into which a crane use-symlink tree's symlinks point.
    #[arg(long, env = "NIX_STORE", default_value = "/nix/store", hide = true)]
    store: PathBuf,
}

#[derive(clap::Args)]
struct Pack {
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
    /// A directory the derivation installs, such as its package output
    /// ($out) with the binaries of the target: the layer reads the files it
    /// holds from there instead of storing them again (and so references
    /// it). Nothing may change those files afterwards, unpack checks them:
    /// not for outputs that stdenv's fixup strips or patches. May be given
    /// several times.
    #[arg(long, value_name = "DIR")]
    borrow: Vec<PathBuf>,
    /// zstd level, or `auto`: 9 for a layer storing 64 MiB or more (a
    /// deps layer, pulled from binary caches by every later build), else 1.
    #[arg(long, default_value = "auto", allow_hyphen_values = true)]
    level: Level,
    /// Raw bytes per independent zstd frame, at most 256 MiB: in 128 MiB
    /// long-distance matching finds 2% more than in 64 MiB, and a deps
    /// layer still has several frames per core to unpack in parallel.
    #[arg(long, default_value_t = 128 << 20)]
    frame_size: u64,
    /// zstd's long-distance matching (true or false): an .rlib embeds the
    /// metadata of its .rmeta, and crates share long runs with each other.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    long_distance: bool,
    /// The skeleton (from `skeleton`) the tree was built from: its members'
    /// units are recorded as dummies, which unpack makes cargo rebuild.
    #[arg(long)]
    skeleton: Option<PathBuf>,
    /// The workspace the tree was built from: each member's sources are
    /// hashed, so an unpack next to edited sources rebuilds that member.
    #[arg(long)]
    workspace: Option<PathBuf>,
    /// cargo's `--message-format=json` output of the runs that built the
    /// tree: units of packages other than the workspace's that they did not
    /// use are left out (a target built on another lockfile's keeps the
    /// replaced versions otherwise). Needs --skeleton or --workspace.
    #[arg(long, value_name = "CARGO_JSON_LOG")]
    prune_unused: Option<PathBuf>,
    /// `layered`: compressed, deduplicated layer; `plain`: the tree itself
    /// under OUT/target for `link`, files a parent holds unchanged
    /// replaced by symlinks to it.
    #[arg(long, value_enum, default_value_t = Format::Layered)]
    format: Format,
}

impl Pack {
    fn options(self) -> PackOptions {
        PackOptions {
            target_dir: self.target_dir,
            out: self.out,
            parents: self.parents,
            borrow: self.borrow,
            settings: Settings {
                level: self.level,
                long_distance: self.long_distance,
                frame_size: self.frame_size.max(1),
            },
            skeleton: self.skeleton,
            workspace: self.workspace,
            prune_unused: self.prune_unused,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Pack a target directory into a layer that stores only what its parents lack.
    Pack(Pack),
    /// Lay a plain target tree from the store out with symlinks for immutable
    /// artifacts and writable copies for the rest (use with cargo-inherit-rustc).
    /// Other artifacts (a layer, crane archives) are unpacked.
    Link(LayOut),
    /// Lay a layer (with all its parents) out into a target directory. FROM
    /// may also be a crane use-zstd output (target.tar.zst and its .prev
    /// chain), a plain tree (crane use-symlink, pack --format plain), or a
    /// cargo-inherit derivation's output holding either in layer/.
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
    Skeleton {
        src: PathBuf,
        out: PathBuf,
        /// A path below the workspace root to copy as it is (a file the
        /// build reads beyond manifests, lockfile and .cargo/); repeatable.
        #[arg(long)]
        keep: Vec<PathBuf>,
        /// The workspace's file names, one relative path a line, when SRC
        /// holds its manifests but not its sources: targets are found
        /// from the names alone.
        #[arg(long)]
        file_names: Option<PathBuf>,
    },
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
    /// Copy stdin to stdout without cargo's fingerprint log (what `explain`
    /// reads), as `explain -- CARGO_ARGS` shows cargo's stderr.
    #[command(hide = true)]
    FilterLog,
    /// Print the JSON report of a Nix derivation (what the hooks write to
    /// $out/cargo-inherit-report.json).
    #[command(hide = true)]
    Report {
        #[arg(long)]
        name: String,
        #[arg(long)]
        inherit_seconds: f64,
        #[arg(long)]
        cargo_seconds: f64,
        #[arg(long)]
        install_seconds: f64,
        /// The layers the derivation packed, if it did; repeatable.
        #[arg(long)]
        layer: Vec<PathBuf>,
        /// The output of `rebuilt --json`, if cargo ran.
        #[arg(long)]
        rebuilt: PathBuf,
        /// cargo's stdout (JSON messages and test output), if cargo ran.
        #[arg(long)]
        cargo_log: PathBuf,
    },
    /// Append cargo's stdout (stdin) to LOG, and print on stderr what is
    /// not one of cargo's JSON messages: a test harness's output.
    #[command(hide = true)]
    SplitStdout {
        #[arg(long)]
        log: PathBuf,
    },
    /// Print cargo's build directory (build.build-dir) when it is not the
    /// target directory, nothing otherwise: the hooks inherit it as a layer
    /// of its own.
    #[command(hide = true)]
    BuildDir {
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
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

/// One arm per command: the library does the work and says what it did.
fn dispatch(command: Command, quiet: bool) -> Result<()> {
    let say = |line: &dyn std::fmt::Display| {
        if !quiet {
            eprintln!("cargo-inherit: {line}");
        }
    };
    match command {
        Command::Pack(pack) => {
            let format = pack.format;
            let options = pack.options();
            match format {
                Format::Layered => say(&crate::pack::pack(&options)?),
                Format::Plain if !options.borrow.is_empty() => {
                    let reason = "--borrow is for layered layers: a plain tree stores no blobs";
                    return Err(Error::bad_input(&options.borrow[0], reason));
                }
                Format::Plain => say(&plain::pack_plain(
                    &options.target_dir,
                    &options.out,
                    &options.parents,
                    options.skeleton.as_deref(),
                    options.workspace.as_deref(),
                    options.pruning().as_ref(),
                )?),
            }
        }
        Command::Unpack(l) => say(&inherit::unpack(
            &l.from,
            &l.target_dir,
            l.workspace.as_deref(),
            &l.store,
        )?),
        Command::Link(l) => say(&inherit::link(
            &l.from,
            &l.target_dir,
            l.workspace.as_deref(),
            &l.store,
        )?),
        Command::Export { from, out } => {
            let archive = crate::export::export(&from, &out)?;
            say(&format_args!("wrote {}", archive.display()));
        }
        Command::Skeleton {
            src,
            out,
            keep,
            file_names,
        } => {
            let info = crate::skeleton::skeleton(&src, &out, &keep, file_names.as_deref())?;
            let members = info.members.len();
            say(&format_args!(
                "wrote a skeleton of {members} members into {}",
                out.display()
            ));
        }
        Command::Rebuilt {
            log,
            workspace,
            deny_deps,
            json,
        } => {
            let report = crate::rebuilt::rebuilt(&log, &workspace)?;
            print_report(&report, json, false);
            report.verdict(&log, deny_deps)?;
        }
        Command::Explain {
            workspace,
            log,
            json,
            deny,
            cargo_args,
        } => {
            let explained = explain::explain(&workspace, log.as_deref(), cargo_args)?;
            print_report(&explained.explanation, json, true);
            explained.verdict(deny)?;
        }
        Command::Report {
            name,
            inherit_seconds,
            cargo_seconds,
            install_seconds,
            layer,
            rebuilt,
            cargo_log,
        } => {
            let seconds = report::Seconds {
                inherit: inherit_seconds,
                cargo: cargo_seconds,
                install: install_seconds,
            };
            let report = report::report(&name, seconds, &layer, &rebuilt, &cargo_log)?;
            println!(
                "{}",
                serde_json::to_string(&report).expect("reports serialise")
            );
        }
        Command::SplitStdout { log } => {
            let file = std::fs::File::options()
                .create(true)
                .append(true)
                .open(&log);
            let file = std::io::BufWriter::new(file.at(&log)?);
            cargo_stdout::split(std::io::stdin().lock(), file, std::io::stderr())?
        }
        Command::FilterLog => explain::filter_log(std::io::stdin().lock(), std::io::stdout())?,
        Command::BuildDir { workspace } => {
            if let Some(dir) = crate::workspace::separate_build_dir(&workspace)? {
                println!("{}", dir.display());
            }
        }
        Command::Inspect { layer, json } => {
            print_report(&crate::inspect::inspect(&layer)?, json, true);
        }
    }
    Ok(())
}

/// A report on stdout: as JSON (pretty or one line), or as text.
fn print_report<R: serde::Serialize + std::fmt::Display>(report: &R, json: bool, pretty: bool) {
    match (json, pretty) {
        (false, _) => {
            let text = report.to_string();
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
        }
        (true, true) => println!(
            "{}",
            serde_json::to_string_pretty(report).expect("reports serialise")
        ),
        (true, false) => println!(
            "{}",
            serde_json::to_string(report).expect("reports serialise")
        ),
    }
}
