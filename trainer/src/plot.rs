//! `training.png`: training and validation loss, and the main validation metric, per epoch.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::records::EpochRecord;

/// DejaVu Sans Mono, bundled so that plots need no system fonts (licence beside it).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
const FONT_NAME: &str = "kiln-sans";

/// Draws the history into a PNG at `path`: losses on the left (log scale when they span more
/// than a factor of 20), `metric` on the right.
pub fn write(path: &Path, history: &[EpochRecord], metric: &str, title: &str) -> Result<()> {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bundled font is valid; a failure here would only lose the labels.
        let _ = plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT);
    });
    let failed = |e: String| Error::Run {
        message: format!("cannot draw the training plot: {e}"),
        path: path.to_owned(),
        fix: "check the disk; metrics.jsonl holds the same numbers".into(),
    };
    // Drawn into a temporary file beside it, renamed over it once complete.
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = crate::atomic::temporary_beside(dir, ".training.", ".png")
        .map_err(|e| failed(e.to_string()))?;
    draw(tmp.path(), history, metric, title).map_err(|e| failed(e.to_string()))?;
    tmp.persist(path).map_err(|e| failed(e.error.to_string()))?;
    Ok(())
}

type Series = Vec<(f64, f64)>;

fn draw(
    path: &Path,
    history: &[EpochRecord],
    metric: &str,
    title: &str,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FONT_NAME, 18))?;
    let (left, right) = root.split_horizontally(500);

    let epoch = |r: &EpochRecord| r.epoch as f64;
    let train: Series = history.iter().map(|r| (epoch(r), r.train_loss)).collect();
    let valid: Series = history
        .iter()
        .filter_map(|r| Some((epoch(r), r.valid_loss?)))
        .collect();
    panel(
        &left,
        "loss",
        &[("train", &train, BLUE), ("valid", &valid, RED)],
    )?;
    let values: Series = history
        .iter()
        .filter_map(|r| Some((epoch(r), *r.valid.get(metric)?)))
        .collect();
    panel(
        &right,
        &format!("valid {metric}"),
        &[(metric, &values, GREEN)],
    )?;
    root.present()?;
    Ok(())
}

fn panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    y_label: &str,
    lines: &[(&str, &Series, RGBColor)],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let points = lines.iter().flat_map(|(_, s, _)| s.iter());
    let finite = points.filter(|(_, y)| y.is_finite());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in finite {
        x_max = x_max.max(*x);
        y_min = y_min.min(*y);
        y_max = y_max.max(*y);
    }
    if !y_min.is_finite() {
        (y_min, y_max) = (0.0, 1.0);
    }
    let pad = ((y_max - y_min) * 0.05).max(1e-9);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(1.0..x_max.max(2.0), (y_min - pad)..(y_max + pad))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .label_style((FONT_NAME, 13))
        .axis_desc_style((FONT_NAME, 14))
        .draw()?;
    for (name, series, color) in lines {
        if series.is_empty() {
            continue;
        }
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                series.iter().copied().filter(|(_, y)| y.is_finite()),
                color.stroke_width(2),
            ))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .label_font((FONT_NAME, 13))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    Ok(())
}
