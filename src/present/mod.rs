//! Presentation: the figures and the report of a result folder, drawn from its files alone,
//! so that `northbound plot DIR` redraws exactly what the command that wrote it drew.
//!
//! One way to draw: the figures of a run ([`run_figures`]), a validation
//! ([`validation_figures`]), a calibration ([`calibration_figures`]), a comparison
//! ([`comparison_figures`]), a forecast ([`forecast_figures`]) and a sweep
//! ([`sweep_figures`]) are [`chart::Chart`]s, built from the folder's CSV files ([`files`],
//! [`comparison`]) and rendered as PNG and SVG by [`render`]; a comparison's `report.html`
//! ([`report`]) and a sweep's ([`sweep_report`]) inline their SVGs. [`draw`], the one entry
//! point, tells which kind of folder it is given.

pub mod assumptions;
pub mod calibration_figures;
pub mod chart;
pub mod comparison;
pub mod comparison_figures;
pub mod files;
pub mod findings;
pub mod forecast_figures;
pub mod glyphs;
pub mod overlay;
pub mod render;
pub mod report;
pub mod run_figures;
pub mod sweep_figures;
pub mod sweep_report;
pub mod validation_figures;

use crate::util::error::{Error, Result};
use std::path::Path;

/// Draws every figure of a folder written by `run`, `validate`, `calibrate`, `compare`,
/// `forecast` or `sweep` (and, for a comparison and a sweep, its report) from the folder's
/// files, over any drawn before. Returns the names
/// of the files drawn.
pub fn draw(dir: &Path) -> Result<Vec<String>> {
    if !dir.is_dir() {
        return Err(Error::Output {
            path: dir.to_path_buf(),
            message: "is not a folder written by northbound (run, validate, calibrate, compare, forecast \
                      or sweep)"
                .into(),
        });
    }
    if dir.join("sensitivity.csv").is_file() && dir.join("points.csv").is_file() {
        let figures = sweep_figures::sweep_figures(dir)?;
        let mut drawn = Vec::new();
        for f in &figures {
            drawn.extend(render::save(&f.chart, dir, &f.stem)?);
        }
        drawn.push(sweep_report::write(dir, &figures)?);
        return Ok(drawn);
    }
    let summary = dir.join("summary.csv");
    let (figures, folder) = if dir.join("forecast.csv").is_file() {
        (forecast_figures::forecast_figures(dir)?, None)
    } else if summary.is_file() && files::header(&summary)?.iter().any(|h| h == "variant") {
        let folder = comparison::Comparison::load(dir)?;
        (
            comparison_figures::comparison_figures(&folder),
            Some(folder),
        )
    } else if dir.join("monthly.csv").is_file() {
        (run_figures::run_figures(dir)?, None)
    } else if dir.join("validation.csv").is_file() {
        (validation_figures::validation_figures(dir)?, None)
    } else if dir.join("trials.csv").is_file()
        || (dir.join("generations.csv").is_file() && dir.join("posterior.csv").is_file())
    {
        (calibration_figures::calibration_figures(dir)?, None)
    } else if written_by(dir).as_deref() == Some("init") {
        return Err(Error::Output {
            path: dir.to_path_buf(),
            message: "holds a scenario written by `northbound init`, not results: run it \
                      (northbound run, validate or compare), then plot the result folder"
                .into(),
        });
    } else {
        return Err(Error::Output {
            path: dir.to_path_buf(),
            message: "holds neither a comparison (summary.csv with a variant column, from \
                      `northbound compare`), a run (monthly.csv, from `northbound run`), a \
                      validation (validation.csv), a calibration (trials.csv, or \
                      generations.csv and posterior.csv), a forecast (forecast.csv) nor a sweep \
                      (points.csv and sensitivity.csv, from `northbound sweep` or `merge`)"
                .into(),
        });
    };
    let mut drawn = Vec::new();
    for f in &figures {
        drawn.extend(render::save(&f.chart, dir, &f.stem)?);
    }
    if let Some(folder) = folder {
        drawn.push(report::write(&folder, &figures)?);
    }
    Ok(drawn)
}

/// The command that wrote a folder, from its `manifest.json`, if it has a readable one.
fn written_by(dir: &Path) -> Option<String> {
    let text = comparison::read_text(&dir.join("manifest.json")).ok()?;
    let m: serde_json::Value = serde_json::from_str(&text).ok()?;
    m["command"].as_str().map(String::from)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_folder_of_no_known_kind_is_refused() {
        let empty = tempfile::tempdir().unwrap();
        let err = super::draw(empty.path()).unwrap_err().to_string();
        assert!(err.contains("holds neither a comparison"), "{err}");
    }
}
