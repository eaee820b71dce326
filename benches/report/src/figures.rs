//! The figures of a run: each derivation's cell, and each strategy's
//! totals over its chain.

use std::collections::BTreeMap;

use serde::Serialize;

/// strategy -> derivation -> cell
pub type Cells = BTreeMap<String, BTreeMap<String, Cell>>;

/// The strategies, by key and by the name the table gives them.
pub const STRATEGIES: [(&str, &str); 4] = [
    ("crane-zstd", "crane use-zstd"),
    ("crane-symlink", "crane use-symlink"),
    ("layered", "cargo-inherit layered"),
    ("symlink", "cargo-inherit symlink"),
];
pub const CHAIN: [&str; 5] = ["deps", "build", "clippy", "test", "doc"];
pub const INHERITING: [&str; 4] = ["build", "clippy", "test", "doc"];
/// The derivations after deps, each with the tree its inherit lays out
/// (the layer or archives of the derivation it inherits).
pub const AFTER_DEPS: [(&str, &str); 5] = [
    ("build", "deps"),
    ("clippy", "build"),
    ("test", "build"),
    ("doc", "build"),
    ("forced", "deps"),
];

/// One derivation of one strategy: the medians of its reps, with the
/// range of its inherit seconds.
#[derive(Serialize, Default, Clone)]
pub struct Cell {
    pub inherit_seconds: f64,
    pub cargo_seconds: f64,
    pub install_seconds: f64,
    pub units_rebuilt: u64,
    pub nar_bytes: u64,
    pub closure_bytes: u64,
    pub error: Option<String>,
    pub reps: usize,
    pub inherit_min: f64,
    pub inherit_max: f64,
    /// The range of cargo + install over the reps (a deps build's wall).
    pub wall_min: f64,
    pub wall_max: f64,
    /// Each rep's figures, kept so that a run can be read rep by rep:
    /// strategies built side by side in one rep pair up.
    pub samples: Vec<Sample>,
}

/// One rep of one derivation (`rep` as chain.sh numbers them).
#[derive(Serialize, Default, Clone)]
pub struct Sample {
    pub rep: u32,
    pub inherit_seconds: f64,
    pub cargo_seconds: f64,
    pub install_seconds: f64,
    /// Core-seconds the machine left idle while nix-build built the
    /// derivation (chain.sh reads /proc/stat around it; evaluation
    /// included): all that work moved into the build, such as
    /// compressing while cargo runs, could take from idle cores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_core_seconds: Option<f64>,
}

impl Sample {
    /// cargo + install: a deps build's wall.
    pub fn wall(&self) -> f64 {
        self.cargo_seconds + self.install_seconds
    }
}

/// This machine's bound for laying out one tree (benches/bounds.sh).
#[derive(Serialize, serde::Deserialize, Clone)]
pub struct Bound {
    /// The derivation whose layer it is: `deps` (what build inherits),
    /// `build` (what clippy, test and doc inherit).
    pub tree: String,
    pub files: u64,
    pub bytes: u64,
    pub cores: u64,
    pub write_seconds: f64,
    pub write_cpu_seconds: f64,
    pub zstd_cpu_seconds: f64,
    pub blake3_cpu_seconds: f64,
    pub bound_seconds: f64,
    /// The figures above are the least of this many runs.
    pub reps: u64,
    /// The most one of those writes took: how far this machine's memory
    /// state moves the same write (see bounds.sh).
    pub write_most_seconds: f64,
    /// `cargo-inherit unpack` of the layer on the host, least of the runs:
    /// the inherit without the sandbox.
    pub host_unpack_seconds: f64,
    /// The median over the runs of that unpack against the bound of its own
    /// run: unpack's distance to the bound in one memory state.
    pub host_unpack_over_bound: f64,
}

/// This machine's bound for crane use-zstd's inherit of one derivation's
/// archives (benches/crane-bound.sh): each archive's `zstd -d` CPU and
/// `tar -x` wall, the larger of the two summed over the chain's archives.
#[derive(Serialize, serde::Deserialize, Clone)]
pub struct CraneBound {
    /// The derivation whose archives they are, as in `Bound`.
    pub tree: String,
    pub archives: u64,
    pub zstd_cpu_seconds: f64,
    pub tar_seconds: f64,
    pub bound_seconds: f64,
}

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

#[derive(Serialize)]
pub struct Totals {
    pub strategy: String,
    /// Own NAR sizes of deps, build, clippy, test and doc.
    pub chain_store_bytes: u64,
    /// Seconds to inherit in build, clippy, test and doc.
    pub inherit_seconds: f64,
    /// Seconds to inherit and to install, over every derivation of the
    /// chain: what the strategy costs on top of cargo.
    pub overhead_seconds: f64,
    /// The most one derivation (forced included) spent inheriting and installing.
    pub worst_overhead_seconds: f64,
    pub complete: bool,
}

impl Cell {
    /// One cell of a derivation's reps: each figure's median; failed when
    /// any rep failed.
    pub fn median(reps: &[Cell]) -> Cell {
        if let Some(failed) = reps.iter().find(|c| c.error.is_some()) {
            return Cell {
                reps: reps.len(),
                ..failed.clone()
            };
        }
        let of = |f: fn(&Cell) -> f64| median(reps.iter().map(f).collect());
        let inherit = reps.iter().map(|c| c.inherit_seconds);
        let wall = reps.iter().map(|c| c.cargo_seconds + c.install_seconds);
        Cell {
            inherit_seconds: of(|c| c.inherit_seconds),
            cargo_seconds: of(|c| c.cargo_seconds),
            install_seconds: of(|c| c.install_seconds),
            units_rebuilt: of(|c| c.units_rebuilt as f64) as u64,
            nar_bytes: of(|c| c.nar_bytes as f64) as u64,
            closure_bytes: of(|c| c.closure_bytes as f64) as u64,
            error: None,
            reps: reps.len(),
            inherit_min: inherit.clone().fold(f64::INFINITY, f64::min),
            inherit_max: inherit.fold(0.0, f64::max),
            wall_min: wall.clone().fold(f64::INFINITY, f64::min),
            wall_max: wall.fold(0.0, f64::max),
            samples: reps.iter().flat_map(|c| c.samples.clone()).collect(),
        }
    }

    pub fn overhead_seconds(&self) -> f64 {
        self.inherit_seconds + self.install_seconds
    }
}

/// Each strategy's totals over its chain.
pub fn totals(cells: &Cells) -> Vec<Totals> {
    STRATEGIES
        .iter()
        .filter_map(|(key, _)| {
            let chain = cells.get(*key)?;
            let of = |names: &[&str], f: &dyn Fn(&Cell) -> f64| -> f64 {
                names
                    .iter()
                    .filter_map(|n| chain.get(*n))
                    .map(f)
                    .fold(0.0, |a, b| a + b)
            };
            Some(Totals {
                strategy: key.to_string(),
                chain_store_bytes: of(&CHAIN, &|c| c.nar_bytes as f64) as u64,
                inherit_seconds: of(&INHERITING, &|c| c.inherit_seconds),
                overhead_seconds: of(&CHAIN, &Cell::overhead_seconds),
                worst_overhead_seconds: chain
                    .values()
                    .filter(|c| c.error.is_none())
                    .map(Cell::overhead_seconds)
                    .fold(0.0, f64::max),
                complete: CHAIN
                    .iter()
                    .all(|n| chain.get(*n).is_some_and(|c| c.error.is_none())),
            })
        })
        .collect()
}
