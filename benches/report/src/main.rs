//! chain-report LINES WORKLOAD DATE MACHINE OUT_PREFIX
//!
//! Reads the JSON lines benches/chain.sh writes (one per derivation) and
//! writes OUT_PREFIX.json (the figures), .md (the table) and .svg (the plot).

use std::collections::BTreeMap;
use std::error::Error;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

const STRATEGIES: [(&str, &str); 4] = [
    ("crane-zstd", "crane use-zstd"),
    ("crane-symlink", "crane use-symlink"),
    ("layered", "cargo-inherit layered"),
    ("symlink", "cargo-inherit symlink"),
];
const CHAIN: [&str; 5] = ["deps", "build", "clippy", "test", "doc"];
const INHERITING: [&str; 4] = ["build", "clippy", "test", "doc"];

#[derive(Deserialize)]
struct Line {
    strategy: String,
    derivation: String,
    report: Option<Report>,
    path_info: Option<Vec<PathInfo>>,
    error: Option<String>,
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

/// One derivation of one strategy.
#[derive(Serialize, Default, Clone)]
struct Cell {
    inherit_seconds: f64,
    cargo_seconds: f64,
    install_seconds: f64,
    units_rebuilt: u64,
    nar_bytes: u64,
    closure_bytes: u64,
    error: Option<String>,
}

#[derive(Serialize)]
struct Totals {
    strategy: String,
    /// Own NAR sizes of deps, build, clippy, test and doc.
    chain_store_bytes: u64,
    /// Seconds to inherit in build, clippy, test and doc.
    inherit_seconds: f64,
    /// Seconds to inherit and to install, over every derivation of the
    /// chain: what the strategy costs on top of cargo.
    overhead_seconds: f64,
    /// The most one derivation (forced included) spent inheriting and installing.
    worst_overhead_seconds: f64,
    complete: bool,
}

#[derive(Serialize)]
struct Results {
    workload: String,
    date: String,
    machine: String,
    /// strategy -> derivation -> cell
    cells: BTreeMap<String, BTreeMap<String, Cell>>,
    totals: Vec<Totals>,
    goals: Vec<String>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, lines, workload, date, machine, prefix] = &args[..] else {
        return Err("usage: chain-report LINES WORKLOAD DATE MACHINE OUT_PREFIX".into());
    };
    let cells = read_cells(&std::fs::read_to_string(lines)?)?;
    let totals = totals(&cells);
    let goals = goals(&cells, &totals);
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
    std::fs::write(format!("{prefix}.md"), markdown(&results))?;
    plot(&results, &format!("{prefix}.svg"))?;
    Ok(())
}

impl Cell {
    fn overhead_seconds(&self) -> f64 {
        self.inherit_seconds + self.install_seconds
    }
}

fn read_cells(text: &str) -> Result<BTreeMap<String, BTreeMap<String, Cell>>, Box<dyn Error>> {
    let mut cells: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
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
            },
            None => Cell {
                error: Some(line.error.unwrap_or_else(|| "failed".into())),
                ..Cell::default()
            },
        };
        cells
            .entry(line.strategy)
            .or_default()
            .insert(line.derivation, cell);
    }
    Ok(cells)
}

fn totals(cells: &BTreeMap<String, BTreeMap<String, Cell>>) -> Vec<Totals> {
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

/// The goals of issues 5, 16 and 18, each stated with the figures that decide it.
fn goals(cells: &BTreeMap<String, BTreeMap<String, Cell>>, totals: &[Totals]) -> Vec<String> {
    let total = |s: &str| totals.iter().find(|t| t.strategy == s);
    let mut goals = Vec::new();
    let deps = |s: &str| cells.get(s).and_then(|c| c.get("deps"));
    if let (Some(crane), Some(ours), Some(crane_deps), Some(our_deps)) = (
        total("crane-zstd"),
        total("layered"),
        deps("crane-zstd"),
        deps("layered"),
    ) {
        let bytes = ours.chain_store_bytes as f64 / crane.chain_store_bytes.max(1) as f64;
        let speed = crane.inherit_seconds / ours.inherit_seconds.max(0.001);
        let pack = our_deps.install_seconds / crane_deps.install_seconds.max(0.001);
        goals.push(format!(
            "issue 16: layered chain bytes {bytes:.2}x crane use-zstd's (goal <= 0.6x: {}); \
             inherits {speed:.1}x faster (goal >= 1.7x: {}); deps install {pack:.1}x crane's \
             tar | zstd (goal <= 3x: {})",
            met(bytes <= 0.6),
            met(speed >= 1.7),
            met(pack <= 3.0)
        ));
    }
    if let Some(crane) = total("crane-zstd") {
        for (strategy, bound) in [("symlink", 0.3), ("layered", 0.5)] {
            let Some(ours) = total(strategy) else {
                continue;
            };
            let ratio = ours.overhead_seconds / crane.overhead_seconds.max(0.001);
            goals.push(format!(
                "issue 18: cargo-inherit {strategy} inherit + install over the chain {:.2} s, \
                 {ratio:.2}x crane use-zstd's {:.2} s (goal <= {bound}x: {})",
                ours.overhead_seconds,
                crane.overhead_seconds,
                met(ratio <= bound)
            ));
        }
    }
    if let Some(ours) = total("symlink") {
        goals.push(format!(
            "issue 18: cargo-inherit symlink, most inherit + install of one derivation {:.2} s \
             (goal < 1 s: {})",
            ours.worst_overhead_seconds,
            met(ours.worst_overhead_seconds < 1.0)
        ));
    }
    if let (Some(crane), Some(ours)) = (total("crane-zstd"), total("layered")) {
        let speed = crane.inherit_seconds / ours.inherit_seconds.max(0.001);
        let size = crane.chain_store_bytes as f64 / ours.chain_store_bytes.max(1) as f64;
        goals.push(format!(
            "issue 5: layered inherits {speed:.1}x faster than crane use-zstd (goal >= 3x: {}); \
             the chain stores {size:.1}x fewer bytes (goal >= 2x: {})",
            met(speed >= 3.0),
            met(size >= 2.0)
        ));
    }
    let forced = |s: &str| cells.get(s).and_then(|c| c.get("forced"));
    if let (Some(crane), Some(ours)) = (forced("crane-symlink"), forced("symlink")) {
        goals.push(format!(
            "forced rebuild: cargo-inherit symlink {}, crane use-symlink {} (goal: ours succeeds where crane fails: {})",
            outcome(ours),
            outcome(crane),
            met(ours.error.is_none() && crane.error.is_some())
        ));
    }
    goals
}

fn met(yes: bool) -> &'static str {
    if yes {
        "met"
    } else {
        "MISSED"
    }
}

fn outcome(cell: &Cell) -> String {
    match &cell.error {
        None => format!("succeeds ({} units rebuilt)", cell.units_rebuilt),
        Some(e) => format!("fails (`{}`)", e.replace('`', "'")),
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn markdown(r: &Results) -> String {
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
    for goal in &r.goals {
        out += &format!("- {goal}\n");
    }
    out
}

fn plot(r: &Results, path: &str) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (1100, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(700);
    let colors = [RED, MAGENTA, BLUE, GREEN];

    let max_seconds = r
        .cells
        .values()
        .flat_map(|c| INHERITING.iter().filter_map(|n| c.get(*n)))
        .map(|c| c.inherit_seconds)
        .fold(0.1, f64::max);
    let title = format!("seconds to inherit ({})", r.workload);
    let mut chart = panel(&left, &title, &INHERITING, max_seconds * 1.5)?;
    for (j, ((key, name), color)) in STRATEGIES.iter().zip(colors).enumerate() {
        let bars = INHERITING.iter().enumerate().filter_map(|(i, n)| {
            let cell = r.cells.get(*key)?.get(*n)?;
            let x0 = i as f64 + 0.1 + j as f64 * 0.2;
            Some(Rectangle::new(
                [(x0, 0.0), (x0 + 0.18, cell.inherit_seconds)],
                color.filled(),
            ))
        });
        chart
            .draw_series(bars)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;

    let max_mb = r
        .totals
        .iter()
        .map(|t| t.chain_store_bytes as f64 / 1e6)
        .fold(1.0, f64::max);
    let names = STRATEGIES.map(|(key, _)| key);
    let mut chart = panel(
        &right,
        "store bytes of the chain (MB)",
        &names,
        max_mb * 1.15,
    )?;
    let bars = STRATEGIES
        .iter()
        .zip(colors)
        .enumerate()
        .filter_map(|(i, ((key, _), color))| {
            let total = r.totals.iter().find(|t| t.strategy == *key)?;
            let x0 = i as f64 + 0.15;
            Some(Rectangle::new(
                [(x0, 0.0), (x0 + 0.7, total.chain_store_bytes as f64 / 1e6)],
                color.filled(),
            ))
        });
    chart.draw_series(bars)?;
    root.present()?;
    Ok(())
}

type Panel<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A bar chart with one group of bars per name, from 0 to `y_max`.
fn panel<'a>(
    area: &DrawingArea<SVGBackend<'a>, Shift>,
    caption: &str,
    names: &[&str],
    y_max: f64,
) -> Result<Panel<'a>, Box<dyn Error>> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..names.len() as f64, 0.0..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(names.len() * 2 + 1)
        .x_label_formatter(&|x| centered_label(names, *x))
        .draw()?;
    Ok(chart)
}

/// Bar group `i` spans [i, i + 1): its name labels the tick at i + 0.5.
fn centered_label(names: &[&str], x: f64) -> String {
    let i = (x - 0.5).round();
    match names.get(i as usize) {
        Some(name) if (x - 0.5 - i).abs() < 0.01 => name.to_string(),
        _ => String::new(),
    }
}
