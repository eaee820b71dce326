//! chain-report LINES WORKLOAD DATE MACHINE OUT_PREFIX
//!
//! Reads the JSON lines benches/chain.sh writes (one per derivation,
//! `read`), adds them up per strategy (`figures`), holds them to the goals
//! (`goals`), and writes OUT_PREFIX.json (the figures), .md (the table,
//! `render`) and .svg (the plot, `plot`).

mod figures;
mod goals;
mod plot;
mod read;
mod render;

use std::error::Error;

use serde::Serialize;

use figures::{Cells, Totals};
use goals::Goal;

#[derive(Serialize)]
pub struct Results {
    workload: String,
    date: String,
    machine: String,
    cells: Cells,
    totals: Vec<Totals>,
    goals: Vec<Goal>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, lines, workload, date, machine, prefix] = &args[..] else {
        return Err("usage: chain-report LINES WORKLOAD DATE MACHINE OUT_PREFIX".into());
    };
    let cells = read::read_cells(&std::fs::read_to_string(lines)?)?;
    let totals = figures::totals(&cells);
    let goals = goals::goals(&cells, &totals);
    let results = Results {
        workload: workload.clone(),
        date: date.clone(),
        machine: machine.clone(),
        cells,
        totals,
        goals,
    };
    std::fs::write(
        format!("{prefix}.json"),
        serde_json::to_string_pretty(&results)?,
    )?;
    std::fs::write(format!("{prefix}.md"), render::markdown(&results))?;
    plot::plot(&results, &format!("{prefix}.svg"))?;
    Ok(())
}
