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
         Each cell: seconds to inherit / seconds to install / units rebuilt / \
         bytes the derivation adds to the store (its own NAR). Overhead: inherit + install, \
         every derivation of the chain (deps to doc).\n\n| derivation |",
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
                    " {:.2} / {:.2} / {} / {} |",
                    c.inherit_seconds,
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
    out += "| goal | figures | verdict |\n|---|---|---|\n";
    for goal in &r.goals {
        let verdict = if goal.met { "met" } else { "MISSED" };
        out += &format!("| {} | {} | {verdict} |\n", goal.goal, goal.figures);
    }
    out
}
