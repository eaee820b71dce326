//! chain-report LINES BOUNDS WORKLOAD DATE MACHINE OUT_PREFIX
//!
//! Reads the JSON lines benches/chain.sh writes (one per derivation built,
//! reps of one derivation as their medians, `read`) and the machine's
//! bounds, adds them up per strategy (`figures`), holds them to the goals
//! (`goals`), and writes OUT_PREFIX.json (the figures), .md (the table,
//! `render`) and .svg (the plot, `plot`).

mod figures;
mod goals;
mod plot;
mod read;
mod render;

use std::error::Error;

use serde::Serialize;

use figures::{Bound, Cells, CraneBound, Totals};
use goals::Goal;

#[derive(Serialize)]
pub struct Results {
    workload: String,
    date: String,
    machine: String,
    cells: Cells,
    bounds: Vec<Bound>,
    crane_bounds: Vec<CraneBound>,
    totals: Vec<Totals>,
    goals: Vec<Goal>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, lines, bounds, crane_bounds, workload, date, machine, prefix] = &args[..] else {
        return Err(
            "usage: chain-report LINES BOUNDS CRANE_BOUNDS WORKLOAD DATE MACHINE OUT_PREFIX".into(),
        );
    };
    let cells = read::read_cells(&std::fs::read_to_string(lines)?)?;
    let bounds = read::read_bounds(&std::fs::read_to_string(bounds)?)?;
    let crane_bounds = read::read_bounds(&std::fs::read_to_string(crane_bounds)?)?;
    let totals = figures::totals(&cells);
    let goals = goals::goals(&cells, &totals, &bounds);
    let results = Results {
        workload: workload.clone(),
        date: date.clone(),
        machine: machine.clone(),
        cells,
        bounds,
        crane_bounds,
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
