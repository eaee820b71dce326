//! The command line: every verb and flag, as clap parses them.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::layer::blobstore::{Level, Settings};
use crate::layer::pack::PackOptions;
use crate::strategy::Format;

#[derive(Parser)]
#[command(
    name = "cargo-inherit",
    version,
    about = "Inherit Rust build artifacts between Nix derivations"
)]
pub struct Cli {
    /// Worker threads; 0 or unset means NIX_BUILD_CORES, else every core.
    #[arg(short, long, global = true)]
    pub jobs: Option<usize>,

    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Where from, where to, and next to which sources.
#[derive(clap::Args)]
pub struct LayOut {
    #[arg(long)]
    pub from: PathBuf,
    #[arg(long, default_value = "target")]
    pub target_dir: PathBuf,
    /// The workspace being built: members whose sources changed since the
    /// artifacts were packed get their units left out, so cargo rebuilds them.
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// The Nix store, into which a crane use-symlink tree's symlinks point.
    #[arg(long, env = "NIX_STORE", default_value = "/nix/store", hide = true)]
    pub store: PathBuf,
}

#[derive(clap::Args)]
pub struct Pack {
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
    /// Raw bytes per independent zstd frame, at most 128 MiB: in 128 MiB
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
    /// The members' sources as `cargo-inherit sources` recorded them before
    /// the build (builders leave files in the sources that are none).
    #[arg(long, value_name = "FILE")]
    sources: Option<PathBuf>,
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
    pub format: Format,
}

impl Pack {
    pub fn options(self) -> PackOptions {
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
            sources: self.sources,
            prune_unused: self.prune_unused,
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
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
    Skeleton(Skeleton),
    /// Count the units a cargo run compiled, from its --message-format=json log.
    Rebuilt(Rebuilt),
    /// Say why cargo rebuilt units an inherited target should have made
    /// fresh, and how to fix it. Runs `cargo CARGO_ARGS` (default: build)
    /// with cargo's fingerprint log on, or reads such a log.
    Explain(Explain),
    /// Copy stdin to stdout without cargo's fingerprint log (what `explain`
    /// reads), as `explain -- CARGO_ARGS` shows cargo's stderr.
    #[command(hide = true)]
    FilterLog,
    /// Print the JSON report of a Nix derivation with its seconds (for the
    /// build log), and write it without them to --out.
    #[command(hide = true)]
    Report(Report),
    /// Append cargo's stdout (stdin) to LOG, and print on stderr what is
    /// not one of cargo's JSON messages: a test harness's output.
    #[command(hide = true)]
    SplitStdout {
        #[arg(long)]
        log: PathBuf,
    },
    /// Print the files a build installs, `bin<TAB>PATH` or `lib<TAB>PATH` a
    /// line: the executables and C-facing libraries cargo reported in the
    /// JSON messages at LOG (not every file in the profile directory).
    #[command(hide = true)]
    Installables {
        #[arg(long)]
        cargo_log: PathBuf,
    },
    /// Print cargo's build directory (build.build-dir) when it is not the
    /// target directory, nothing otherwise: the hooks inherit it as a layer
    /// of its own.
    #[command(hide = true)]
    BuildDir {
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
    },
    /// Write the workspace members' source hashes to OUT, for `pack
    /// --sources` after the build.
    #[command(hide = true)]
    Sources {
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the commands a deps build runs besides COMMANDS so that each
    /// member built alone (`-p member`) finds its dependencies' units: each
    /// command again with `-p MEMBER`, for the members whose own feature
    /// resolution differs from the workspace's. CARGO_ARGS: the arguments
    /// every command gets (their feature and target flags count).
    #[command(hide = true)]
    FanOut {
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
        /// The deps build's cargo commands, separated by `;`.
        #[arg(long)]
        commands: String,
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// Make every selection of the workspace (`-p member`, the whole of it)
    /// resolve each dependency with the same features: writes a
    /// workspace-hack crate (cargo-inherit-hack/) that every member depends
    /// on and takes it into Cargo.lock. For a build's copy of the sources
    /// (nix/lib's unifyFeatures): each binary then gets the union's features.
    /// CARGO_ARGS: the arguments the builds get (feature and target flags count).
    Unify {
        #[arg(long, default_value = ".")]
        workspace: PathBuf,
        /// Write this hack manifest (as an earlier unify of the same
        /// manifests wrote it) instead of finding one.
        #[arg(long)]
        like: Option<PathBuf>,
        #[arg(last = true)]
        cargo_args: Vec<String>,
    },
    /// `restore`, `save`, `gc`: layers in an object store, for CI without Nix.
    #[cfg(feature = "store")]
    #[command(flatten)]
    Store(super::store_args::StoreCommand),
    /// Show the chain of a layer: files, logical and stored bytes per layer.
    Inspect {
        layer: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct Skeleton {
    pub src: PathBuf,
    pub out: PathBuf,
    /// A path below the workspace root to copy as it is (a file the
    /// build reads beyond manifests, lockfile and .cargo/); repeatable.
    #[arg(long)]
    pub keep: Vec<PathBuf>,
    /// The workspace's file names, one relative path a line, when SRC
    /// holds its manifests but not its sources: targets are found
    /// from the names alone.
    #[arg(long)]
    pub file_names: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct Rebuilt {
    #[arg(long)]
    pub log: PathBuf,
    /// The workspace the log is of, to tell members from dependencies.
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// Fail when any dependency (a package that is not a member) was compiled.
    #[arg(long)]
    pub deny_deps: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct Explain {
    /// The workspace, to tell members (expected to rebuild) from dependencies.
    #[arg(long, default_value = ".")]
    pub workspace: PathBuf,
    /// cargo's stderr from a run with
    /// CARGO_LOG=cargo::core::compiler::fingerprint=info, instead of running cargo.
    #[arg(long, conflicts_with = "cargo_args")]
    pub log: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    /// Fail when any dependency unit was rebuilt.
    #[arg(long)]
    pub deny: bool,
    #[arg(last = true)]
    pub cargo_args: Vec<OsString>,
    /// The build reads vendored crates through fixed links (the Nix hooks'
    /// cargoInheritStableVendor), not at their store path.
    #[arg(long, hide = true)]
    pub fixed_vendor: bool,
    /// The cargo arguments of the build the log is of, for what they select
    /// (`-p`, `--bin`, `--manifest-path`).
    #[arg(long, hide = true, allow_hyphen_values = true)]
    pub cargo_args_of_log: Option<String>,
    /// Print the CARGO_LOG setting whose log explain reads, and nothing else
    /// (for scripts that run cargo themselves, as the Nix hooks do).
    #[arg(long, hide = true, exclusive = true)]
    pub print_cargo_log: bool,
}

#[derive(clap::Args)]
pub struct Report {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub inherit_seconds: f64,
    #[arg(long)]
    pub cargo_seconds: f64,
    #[arg(long)]
    pub install_seconds: f64,
    /// The layers the derivation packed, if it did; repeatable.
    #[arg(long)]
    pub layer: Vec<PathBuf>,
    /// The output of `rebuilt --json`, if cargo ran.
    #[arg(long)]
    pub rebuilt: PathBuf,
    /// cargo's stdout (JSON messages and test output), if cargo ran.
    #[arg(long)]
    pub cargo_log: PathBuf,
    /// Where to write the report without seconds (beside the layer).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl Explain {
    pub fn context(&self) -> crate::explain::Context {
        let args = self.cargo_args_of_log.as_deref().unwrap_or_default();
        let from_command = self
            .cargo_args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>();
        crate::explain::Context {
            fixed_vendor: self.fixed_vendor,
            selection: crate::explain::Context::selection_of(&format!(
                "{args} {}",
                from_command.join(" ")
            )),
        }
    }
}

impl Report {
    pub fn seconds(&self) -> crate::report::Seconds {
        crate::report::Seconds {
            inherit: self.inherit_seconds,
            cargo: self.cargo_seconds,
            install: self.install_seconds,
        }
    }
}
