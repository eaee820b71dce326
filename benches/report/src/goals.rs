//! The goals a run is held to, each in its own words, with the figure that
//! decides it and whether it was met.

use serde::Serialize;

use crate::figures::{median, Bound, Cell, Cells, Sample, Totals, AFTER_DEPS};
use crate::render::outcome;

/// One goal: what it asks, the figures that decide it, and the verdict.
#[derive(Serialize)]
pub struct Goal {
    pub goal: String,
    pub figures: String,
    pub met: bool,
}

/// Every goal the figures of a run can decide.
pub fn goals(cells: &Cells, totals: &[Totals], bounds: &[Bound]) -> Vec<Goal> {
    let total = |s: &str| totals.iter().find(|t| t.strategy == s);
    let cell = |s: &str, d: &str| cells.get(s).and_then(|c| c.get(d));
    let mut goals = interleaved(cells, totals, bounds);
    if let (Some(crane), Some(ours)) = (total("crane-zstd"), total("layered")) {
        goals.extend(layered_against_crane(crane, ours));
        if let (Some(crane_deps), Some(our_deps)) =
            (cell("crane-zstd", "deps"), cell("layered", "deps"))
        {
            let pack = our_deps.install_seconds / crane_deps.install_seconds.max(0.001);
            goals.push(Goal {
                goal: "the layered deps install at most 3x crane's tar piped into zstd".into(),
                figures: format!("{pack:.1}x"),
                met: pack <= 3.0,
            });
        }
    }
    if let Some(crane) = total("crane-zstd") {
        for (strategy, bound) in [("symlink", 0.3), ("layered", 0.5)] {
            if let Some(ours) = total(strategy) {
                goals.push(overhead(strategy, bound, crane, ours));
            }
        }
    }
    if let Some(ours) = total("symlink") {
        goals.push(Goal {
            goal: "cargo-inherit symlink: inherit + install under 1 s in every derivation".into(),
            figures: format!("at most {:.2} s", ours.worst_overhead_seconds),
            met: ours.worst_overhead_seconds < 1.0,
        });
    }
    if let (Some(crane), Some(ours)) = (cell("crane-symlink", "forced"), cell("symlink", "forced"))
    {
        goals.push(forced(crane, ours));
    }
    goals
}

/// Issue 28's goals, on the medians of interleaved reps.
fn interleaved(cells: &Cells, totals: &[Totals], bounds: &[Bound]) -> Vec<Goal> {
    let cell = |s: &str, d: &str| {
        cells
            .get(s)
            .and_then(|c| c.get(d))
            .filter(|c| c.error.is_none())
    };
    let total = |s: &str| totals.iter().find(|t| t.strategy == s);
    let mut goals = Vec::new();
    let pairs: Vec<(&str, &str, &Cell, &Cell)> = (AFTER_DEPS.iter())
        .filter_map(|&(d, tree)| Some((d, tree, cell("crane-zstd", d)?, cell("layered", d)?)))
        .collect();
    let speeds: Vec<(&str, f64)> = (pairs.iter())
        .map(|&(d, _, crane, ours)| (d, crane.inherit_seconds / ours.inherit_seconds.max(0.001)))
        .collect();
    goals.push(Goal {
        goal: "layered inherit at least 1.5x faster than crane use-zstd in every derivation after deps (medians)".into(),
        figures: listed(&speeds),
        met: speeds.len() == AFTER_DEPS.len() && speeds.iter().all(|(_, r)| *r >= 1.5),
    });
    // Each layered inherit against a floor of its tree's bounds, within 1.3x.
    let within = |goal: &str, floor: fn(&Bound) -> f64| {
        let ratios: Vec<(&str, f64)> = (pairs.iter())
            .filter_map(|&(d, tree, _, ours)| {
                let bound = bounds.iter().find(|b| b.tree == tree)?;
                Some((d, ours.inherit_seconds / floor(bound).max(0.001)))
            })
            .collect();
        Goal {
            goal: goal.into(),
            figures: listed(&ratios),
            met: ratios.len() == AFTER_DEPS.len() && ratios.iter().all(|(_, r)| *r <= 1.3),
        }
    };
    goals.push(within(
        "layered inherit within 1.3x of this machine's bound for its tree (medians)",
        |b| b.bound_seconds,
    ));
    // The bound adds up CPU each tool spends apart; writing the tree's
    // bytes and files alone is the floor no layout goes under.
    goals.push(within(
        "layered inherit within 1.3x of writing its tree alone, the tighter floor (medians)",
        |b| b.write_seconds,
    ));
    if let (Some(crane), Some(ours)) = (cell("crane-zstd", "deps"), cell("layered", "deps")) {
        goals.push(deps_wall(crane, ours));
    }
    if let (Some(crane), Some(ours)) = (total("crane-zstd"), total("symlink")) {
        goals.push(overhead("symlink", 0.25, crane, ours));
    }
    goals
}

/// The layered deps derivation's wall time (cargo + install) against crane use-zstd's.
fn deps_wall(crane: &Cell, ours: &Cell) -> Goal {
    let wall = |c: &Cell| c.cargo_seconds + c.install_seconds;
    let ratio = wall(ours) / wall(crane).max(0.001);
    Goal {
        goal: "the layered deps derivation's wall time (cargo + install) at most 1.02x crane use-zstd's".into(),
        figures: format!(
            "{:.1} s ({:.1}-{:.1}) against {:.1} s ({:.1}-{:.1}), {ratio:.3}x; {}",
            wall(ours),
            ours.wall_min,
            ours.wall_max,
            wall(crane),
            crane.wall_min,
            crane.wall_max,
            paired_walls(crane, ours)
        ),
        met: ratio <= 1.02,
    }
}

/// The two deps builds of each rep (built one right after the other)
/// against each other: the ratio of their walls, and the medians of the
/// reps' differences in install and in cargo, which part of a gap is
/// the pack and which cargo's own spread.
fn paired_walls(crane: &Cell, ours: &Cell) -> String {
    let pairs: Vec<(&Sample, &Sample)> = (ours.samples.iter())
        .filter_map(|o| Some((crane.samples.iter().find(|c| c.rep == o.rep)?, o)))
        .collect();
    if pairs.is_empty() {
        return "no rep built both".into();
    }
    let ratios: Vec<f64> = (pairs.iter())
        .map(|(c, o)| o.wall() / c.wall().max(0.001))
        .collect();
    let each: Vec<String> = ratios.iter().map(|r| format!("{r:.3}x")).collect();
    let of = |f: fn(&Sample) -> f64| median(pairs.iter().map(|(c, o)| f(o) - f(c)).collect());
    let ratio = median(ratios);
    format!(
        "rep by rep {} (median {ratio:.3}x; layered's install {:+.1} s, its cargo {:+.1} s, medians of the reps' differences){}",
        each.join(", "),
        of(|s| s.install_seconds),
        of(|s| s.cargo_seconds),
        idle_cores(&pairs),
    )
}

/// The machine's idle core-seconds in each strategy's deps builds
/// (medians): the most a pack moved into cargo's run could have used.
fn idle_cores(pairs: &[(&Sample, &Sample)]) -> String {
    let crane = median_idle(pairs.iter().map(|(c, _)| *c));
    let ours = median_idle(pairs.iter().map(|(_, o)| *o));
    match (crane, ours) {
        (Some(crane), Some(ours)) => format!(
            "; idle cores while they built: {crane:.1} core-s in crane's, {ours:.1} in layered's (medians)"
        ),
        _ => String::new(),
    }
}

/// The median of the samples' idle core-seconds, when every one has them.
fn median_idle<'a>(samples: impl Iterator<Item = &'a Sample>) -> Option<f64> {
    let idle: Option<Vec<f64>> = samples.map(|s| s.idle_core_seconds).collect();
    idle.map(median)
}

/// `derivation ratio` pairs, for a goal's figures.
fn listed(ratios: &[(&str, f64)]) -> String {
    let each: Vec<String> = ratios.iter().map(|(d, r)| format!("{d} {r:.2}x")).collect();
    each.join(", ")
}

/// Bytes and inherit speed of the layered chain against crane use-zstd's.
fn layered_against_crane(crane: &Totals, ours: &Totals) -> [Goal; 4] {
    let bytes = ours.chain_store_bytes as f64 / crane.chain_store_bytes.max(1) as f64;
    let speed = crane.inherit_seconds / ours.inherit_seconds.max(0.001);
    let inherits = |bound: f64| Goal {
        goal: format!(
            "layered inherits at least {bound}x faster than crane use-zstd, build to doc"
        ),
        figures: format!("{speed:.1}x"),
        met: speed >= bound,
    };
    let stores = |bound: f64| Goal {
        goal: format!("the layered chain stores at most {bound}x crane use-zstd's bytes"),
        figures: format!("{bytes:.2}x"),
        met: bytes <= bound,
    };
    [stores(0.6), stores(0.5), inherits(1.7), inherits(3.0)]
}

/// A strategy's inherit + install over the chain against crane use-zstd's.
fn overhead(strategy: &str, bound: f64, crane: &Totals, ours: &Totals) -> Goal {
    let ratio = ours.overhead_seconds / crane.overhead_seconds.max(0.001);
    Goal {
        goal: format!(
            "cargo-inherit {strategy}: inherit + install over the chain at most {bound}x crane use-zstd's"
        ),
        figures: format!(
            "{:.2} s against {:.2} s, {ratio:.2}x",
            ours.overhead_seconds, crane.overhead_seconds
        ),
        met: ratio <= bound,
    }
}

/// The build with CC changed since the deps: ours must succeed where crane's symlink mode fails.
fn forced(crane: &Cell, ours: &Cell) -> Goal {
    Goal {
        goal: "a forced rebuild succeeds with cargo-inherit symlink where crane use-symlink fails"
            .into(),
        figures: format!("ours {}, crane's {}", outcome(ours), outcome(crane)),
        met: ours.error.is_none() && crane.error.is_some(),
    }
}
