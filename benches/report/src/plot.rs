//! The plot of a run: seconds to inherit per derivation, store bytes per chain.

use std::error::Error;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::figures::{INHERITING, STRATEGIES};
use crate::Results;

const COLORS: [RGBColor; 4] = [RED, MAGENTA, BLUE, GREEN];

pub fn plot(r: &Results, path: &str) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (1100, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(700);
    inherit_seconds(r, &left)?;
    chain_bytes(r, &right)?;
    root.present()?;
    Ok(())
}

/// Bars of inherit seconds, a group per inheriting derivation.
fn inherit_seconds(
    r: &Results,
    area: &DrawingArea<SVGBackend<'_>, Shift>,
) -> Result<(), Box<dyn Error>> {
    let max_seconds = r
        .cells
        .values()
        .flat_map(|c| INHERITING.iter().filter_map(|n| c.get(*n)))
        .map(|c| c.inherit_seconds)
        .fold(0.1, f64::max);
    let title = format!("seconds to inherit ({})", r.workload);
    let mut chart = panel(area, &title, &INHERITING, max_seconds * 1.5)?;
    for (j, ((key, name), color)) in STRATEGIES.iter().zip(COLORS).enumerate() {
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
    Ok(())
}

/// A bar per strategy: the store bytes of its chain.
fn chain_bytes(
    r: &Results,
    area: &DrawingArea<SVGBackend<'_>, Shift>,
) -> Result<(), Box<dyn Error>> {
    let max_mb = r
        .totals
        .iter()
        .map(|t| t.chain_store_bytes as f64 / 1e6)
        .fold(1.0, f64::max);
    let names = STRATEGIES.map(|(key, _)| key);
    let mut chart = panel(area, "store bytes of the chain (MB)", &names, max_mb * 1.15)?;
    let bars = STRATEGIES
        .iter()
        .zip(COLORS)
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
