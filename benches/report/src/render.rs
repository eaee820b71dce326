//! The table of a run, in markdown.

use crate::figures::{Cell, CHAIN, STRATEGIES};
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
    out += &bounds(r);
    out += "| goal | figures | verdict |\n|---|---|---|\n";
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
         medians): writing its files anew from memory; zstd decompression of its frames and \
         blake3 over it, CPU seconds; the bound is the larger of the write's wall time and all \
         three's CPU seconds over the cores.\n\n\
         | tree | files | bytes | write | write CPU | zstd CPU | blake3 CPU | bound |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for b in &r.bounds {
        out += &format!(
            "| {} (inherited by {}) | {} | {} | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {:.2} s |\n",
            b.tree,
            if b.tree == "deps" { "build, forced" } else { "clippy, test, doc" },
            b.files,
            mb(b.bytes),
            b.write_seconds,
            b.write_cpu_seconds,
            b.zstd_cpu_seconds,
            b.blake3_cpu_seconds,
            b.bound_seconds
        );
    }
    out + "\n"
}
