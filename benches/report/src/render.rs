//! The table of a run, in markdown.

use crate::figures::{Cell, AFTER_DEPS, CHAIN, STRATEGIES};
use crate::Results;

pub fn outcome(cell: &Cell) -> String {
    match &cell.error {
        None => format!("succeeds ({} units rebuilt)", cell.units_rebuilt),
        Some(e) => format!("fails (`{}`)", e.replace('`', "'")),
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub fn markdown(r: &Results) -> String {
    let mut out = format!(
        "### Nix chain, workload `{}`, {}, {}\n\n\
         Each cell, medians of the derivation's reps (interleaved: each kind built for every \
         strategy before the next): seconds to inherit (min-max over the reps) / seconds to \
         install / units rebuilt / bytes the derivation adds to the store (its own NAR). \
         Overhead: inherit + install, every derivation of the chain (deps to doc).\n\n| derivation |",
        r.workload, r.date, r.machine
    );
    for (_, name) in STRATEGIES {
        out += &format!(" {name} |");
    }
    out += "\n|---|";
    out += &"---|".repeat(STRATEGIES.len());
    out.push('\n');
    for derivation in CHAIN.iter().chain(&["forced"]) {
        out += &format!("| {derivation} |");
        for (key, _) in STRATEGIES {
            let cell = r.cells.get(key).and_then(|c| c.get(*derivation));
            out += &match cell {
                None => " - |".to_string(),
                Some(Cell { error: Some(e), .. }) => {
                    format!(" failed: `{}` |", e.replace('`', "'"))
                }
                Some(c) => format!(
                    " {:.2} ({:.2}-{:.2}, n={}) / {:.2} / {} / {} |",
                    c.inherit_seconds,
                    c.inherit_min,
                    c.inherit_max,
                    c.reps,
                    c.install_seconds,
                    c.units_rebuilt,
                    mb(c.nar_bytes)
                ),
            };
        }
        out.push('\n');
    }
    out += "| **chain** (store bytes; inherit seconds; overhead seconds) |";
    for (key, _) in STRATEGIES {
        out += &match r.totals.iter().find(|t| t.strategy == key) {
            Some(t) => format!(
                " {}; {:.2} s; {:.2} s{} |",
                mb(t.chain_store_bytes),
                t.inherit_seconds,
                t.overhead_seconds,
                if t.complete { "" } else { " (incomplete)" }
            ),
            None => " - |".into(),
        };
    }
    out += "\n\n";
    out + &bounds(r) + &reach(r) + &goals(r)
}

fn goals(r: &Results) -> String {
    let mut out = String::from("| goal | figures | verdict |\n|---|---|---|\n");
    for goal in &r.goals {
        let verdict = if goal.met { "met" } else { "MISSED" };
        out += &format!("| {} | {} | {verdict} |\n", goal.goal, goal.figures);
    }
    out
}

/// This machine's bounds for the trees a layered inherit lays out.
fn bounds(r: &Results) -> String {
    let mut out = String::from(
        "Bounds of this machine for laying out each layered tree, all cores (benches/bounds.sh, \
         the least of its runs, each meeting the machine as a Nix build's inherit does: written \
         into directories of its own, nothing deleted just before, after a pause in which the \
         pages freed earlier go back to the VM's host; the most a write took is given beside \
         it): writing its files anew; zstd decompression of its frames and blake3 over it, CPU \
         seconds; the bound is the larger of the write's wall time and all three's CPU seconds \
         over the cores. Last, `cargo-inherit unpack` of the layer on the host, outside Nix, and \
         the median over the runs of that unpack against its own run's bound.\n\n\
         | tree | files | bytes | write (most) | write CPU | zstd CPU | blake3 CPU | bound \
         | unpack on the host | unpack / its run's bound |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for b in &r.bounds {
        out += &format!(
            "| {} (inherited by {}) | {} | {} | {:.2} s ({:.2} s, n={}) | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {:.2}x |\n",
            b.tree,
            if b.tree == "deps" { "build, forced" } else { "clippy, test, doc" },
            b.files,
            mb(b.bytes),
            b.write_seconds,
            b.write_most_seconds,
            b.reps,
            b.write_cpu_seconds,
            b.zstd_cpu_seconds,
            b.blake3_cpu_seconds,
            b.bound_seconds,
            b.host_unpack_seconds,
            b.host_unpack_over_bound
        );
    }
    out + "\n"
}

/// Each inherit after deps against both tools' bounds: how far crane's
/// figure is from its own, and how much faster than crane's figure any
/// layered inherit that writes, decompresses and verifies its tree could be.
fn reach(r: &Results) -> String {
    let mut out = String::from(
        "Both inherits (medians) against their bounds (least of the runs). crane's bound \
         (benches/crane-bound.sh): its archives extracted as it does, one after another, each \
         the larger of `zstd -d`'s CPU seconds and `tar -x`'s wall seconds from memory. The \
         last column, crane's inherit over layered's bound, is the most a layered inherit could \
         gain on crane in this run: a goal of 1.5x is within reach only where it is 1.5 or more.\n\n\
         | derivation | crane use-zstd | crane's bound | crane / its bound | cargo-inherit layered \
         | layered's bound | crane / layered's bound |\n|---|---|---|---|---|---|---|\n",
    );
    let cell = |s: &str, d: &str| r.cells.get(s).and_then(|c| c.get(d));
    for (derivation, tree) in AFTER_DEPS {
        let (Some(crane), Some(ours)) =
            (cell("crane-zstd", derivation), cell("layered", derivation))
        else {
            continue;
        };
        let crane_bound = r.crane_bounds.iter().find(|b| b.tree == tree);
        let our_bound = r.bounds.iter().find(|b| b.tree == tree);
        let (Some(crane_bound), Some(our_bound)) = (crane_bound, our_bound) else {
            continue;
        };
        out += &format!(
            "| {derivation} | {:.2} s | {:.2} s | {:.2}x | {:.2} s | {:.2} s | {:.2}x |\n",
            crane.inherit_seconds,
            crane_bound.bound_seconds,
            crane.inherit_seconds / crane_bound.bound_seconds.max(0.001),
            ours.inherit_seconds,
            our_bound.bound_seconds,
            crane.inherit_seconds / our_bound.bound_seconds.max(0.001),
        );
    }
    out + "\n"
}
