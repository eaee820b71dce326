//! Reading the JSON lines benches/chain.sh writes, one per derivation
//! built (several reps of one derivation become one cell: their medians),
//! and the bounds benches/bounds.sh measured.

use std::collections::BTreeMap;
use std::error::Error;

use serde::Deserialize;

use crate::figures::{Cell, Cells, Sample};

#[derive(Deserialize)]
struct Line {
    strategy: String,
    derivation: String,
    rep: u32,
    report: Option<Report>,
    path_info: Option<Vec<PathInfo>>,
    machine: Option<Machine>,
    error: Option<String>,
}

/// The whole machine's CPU while the derivation built.
#[derive(Deserialize)]
struct Machine {
    idle_core_seconds: f64,
}

#[derive(Deserialize)]
struct Report {
    inherit_seconds: f64,
    cargo_seconds: f64,
    install_seconds: f64,
    rebuilt: Option<Rebuilt>,
}

#[derive(Deserialize)]
struct Rebuilt {
    units: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PathInfo {
    nar_size: u64,
    closure_size: u64,
}

/// The bounds (`Bound`s or `CraneBound`s), one JSON object a line.
pub fn read_bounds<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, Box<dyn Error>> {
    let lines = text.lines().filter(|l| !l.trim().is_empty());
    Ok(lines.map(serde_json::from_str).collect::<Result<_, _>>()?)
}

/// The cells of every strategy and derivation the lines hold.
pub fn read_cells(text: &str) -> Result<Cells, Box<dyn Error>> {
    let mut samples: BTreeMap<String, BTreeMap<String, Vec<Cell>>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let line: Line = serde_json::from_str(line)?;
        // A derivation's outputs: its bytes are theirs together; its
        // closure is at least the largest of theirs.
        let outputs = line.path_info.as_deref().unwrap_or_default();
        let nar_bytes = outputs.iter().map(|i| i.nar_size).sum();
        let closure_bytes = outputs.iter().map(|i| i.closure_size).max().unwrap_or(0);
        let cell = match &line.report {
            Some(r) => Cell {
                inherit_seconds: r.inherit_seconds,
                cargo_seconds: r.cargo_seconds,
                install_seconds: r.install_seconds,
                units_rebuilt: r.rebuilt.as_ref().map_or(0, |r| r.units),
                nar_bytes,
                closure_bytes,
                error: None,
                samples: vec![Sample {
                    rep: line.rep,
                    inherit_seconds: r.inherit_seconds,
                    cargo_seconds: r.cargo_seconds,
                    install_seconds: r.install_seconds,
                    idle_core_seconds: line.machine.as_ref().map(|m| m.idle_core_seconds),
                }],
                ..Cell::default()
            },
            None => Cell {
                error: Some(line.error.unwrap_or_else(|| "failed".into())),
                ..Cell::default()
            },
        };
        (samples.entry(line.strategy).or_default())
            .entry(line.derivation)
            .or_default()
            .push(cell);
    }
    let cells = samples.into_iter().map(|(strategy, derivations)| {
        let cells = derivations
            .into_iter()
            .map(|(d, reps)| (d, Cell::median(&reps)));
        (strategy, cells.collect())
    });
    Ok(cells.collect())
}
