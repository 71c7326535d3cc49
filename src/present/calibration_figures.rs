//! The figures of a calibration, drawn from its files alone: for Nelder-Mead, `trials`
//! (the objective of every trial with the best so far, and each parameter's value by trial)
//! from `trials.csv`; for ABC-SMC, `posterior` (each parameter's weighted histogram over its
//! prior range, with the posterior mean and 90% interval) from `posterior.csv`, and
//! `generations` (the tolerance and the best distance by generation) from `generations.csv`.
//! `parameters.csv` gives the ranges (folders without it use the data's).

use crate::experiment::abc::Generation;
use crate::experiment::calibrate::ParameterRow;
use crate::experiment::posterior::{Posterior, weighted_summary};
use crate::present::chart::{
    Body, Chart, Drawn, Glyph, LegendItem, Marker, Panel, XyPanel, XySeries, fmt_number,
    series_color,
};
use crate::present::files::{bad, header, read_csv, strip};
use crate::util::error::Result;
use plotters::style::RGBColor;
use std::collections::BTreeMap;
use std::path::Path;

const INK: RGBColor = RGBColor(30, 30, 30);

/// The ranges of the fitted parameters, if the folder has `parameters.csv`.
fn ranges(dir: &Path) -> Result<Vec<ParameterRow>> {
    let path = dir.join("parameters.csv");
    if path.is_file() {
        Ok(strip(read_csv(&path)?))
    } else {
        Ok(Vec::new())
    }
}

fn range_of(ranges: &[ParameterRow], name: &str) -> Option<(f64, f64)> {
    ranges
        .iter()
        .find(|r| r.parameter == name)
        .map(|r| (r.lo, r.hi))
        .filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo < hi)
}

/// Panels two to a row.
fn grid(panels: Vec<Panel>) -> Body {
    let cols = if panels.len() > 1 { 2 } else { 1 };
    Body::Grid(panels.chunks(cols).map(<[Panel]>::to_vec).collect())
}

/// The figures of a calibration folder: Nelder-Mead's (it has `trials.csv`) or ABC-SMC's.
pub fn calibration_figures(dir: &Path) -> Result<Vec<Drawn>> {
    if dir.join("trials.csv").is_file() {
        Ok(vec![trials(dir)?])
    } else {
        Ok(vec![posterior(dir)?, generations(dir)?])
    }
}

/// The parameters of `trials.csv`: its columns between `trial` and `score` (the targets'
/// ARDs and the error follow the score).
fn parameter_columns(path: &Path, columns: &[String]) -> Result<Vec<String>> {
    let score = columns.iter().position(|c| c == "score");
    match (columns.first().map(String::as_str), score) {
        (Some("trial"), Some(score)) => Ok(columns[1..score].to_vec()),
        _ => Err(bad(
            path,
            1,
            "expected the columns trial, the parameter paths, score, the targets' ARDs, error"
                .into(),
        )),
    }
}

fn trials(dir: &Path) -> Result<Drawn> {
    let path = dir.join("trials.csv");
    let columns = header(&path)?;
    let params = parameter_columns(&path, &columns)?;
    // trial, score and the parameters' values, by trial; a failed trial's score is inf.
    let mut rows: Vec<(f64, f64, Vec<f64>)> = Vec::new();
    for (line, r) in read_csv::<BTreeMap<String, String>>(&path)? {
        let num = |c: &str| -> Result<f64> {
            let cell = r.get(c).map_or("", String::as_str);
            cell.parse::<f64>().map_err(|_| {
                bad(
                    &path,
                    line,
                    format!("column \"{c}\": \"{cell}\" is not a number"),
                )
            })
        };
        let values = params
            .iter()
            .map(|p| num(p))
            .collect::<Result<Vec<f64>>>()?;
        rows.push((num("trial")?, num("score")?, values));
    }
    let mut best = f64::INFINITY;
    let mut best_line = Vec::new();
    for (t, score, _) in &rows {
        best = best.min(*score);
        if best.is_finite() {
            best_line.push((*t, best));
        }
    }
    let winner = rows
        .iter()
        .filter(|r| r.1.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
    let mark = |x: f64| Marker {
        x,
        label: "best trial".into(),
    };
    let mut panels = vec![Panel::Xy(XyPanel {
        title: "The objective of each trial (the targets' ARD, averaged with their weights)".into(),
        x_label: "trial".into(),
        y_label: "objective".into(),
        integer_x: true,
        series: vec![
            XySeries {
                color: series_color(0),
                line: false,
                dots: true,
                points: rows.iter().map(|r| (r.0, r.1)).collect(),
            },
            XySeries {
                color: INK,
                line: true,
                dots: false,
                points: best_line,
            },
        ],
        marks: winner.map(|w| vec![mark(w.0)]).unwrap_or_default(),
        ..XyPanel::default()
    })];
    for (k, p) in params.iter().enumerate() {
        panels.push(Panel::Xy(XyPanel {
            title: p.clone(),
            x_label: "trial".into(),
            y_label: "value tried".into(),
            integer_x: true,
            series: vec![XySeries {
                color: series_color(1),
                line: true,
                dots: true,
                points: rows.iter().map(|r| (r.0, r.2[k])).collect(),
            }],
            marks: winner.map(|w| vec![mark(w.0)]).unwrap_or_default(),
            ..XyPanel::default()
        }));
    }
    let summary = winner.map_or("no trial gave a score".to_string(), |w| {
        format!("best objective {:.4} at trial {}", w.1, w.0)
    });
    Ok(Drawn {
        stem: "trials".into(),
        caption: format!(
            "Nelder-Mead: the objective of every trial (dots) and the best so far (line), and \
             the value of each parameter it tried, by trial; {summary}. The dashed line marks \
             the best trial, whose values fitted.toml holds."
        ),
        chart: Chart {
            title: "Calibration by Nelder-Mead: the trials".into(),
            subtitle: format!("{} trials; {summary}", rows.len()),
            legend: vec![
                LegendItem {
                    label: "a trial's objective".into(),
                    color: series_color(0),
                    glyph: Glyph::Dot,
                },
                LegendItem {
                    label: "best so far".into(),
                    color: INK,
                    glyph: Glyph::Line,
                },
                LegendItem {
                    label: "value tried".into(),
                    color: series_color(1),
                    glyph: Glyph::Line,
                },
            ],
            body: grid(panels),
        },
    })
}

/// A number to three significant digits (`0.0692`, `2.64e-3` as `0.00264`, `1,234`).
fn significant(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v.abs() >= 100.0 {
        return fmt_number(v, v.abs());
    }
    if v == 0.0 {
        return "0".into();
    }
    let decimals = (2.0 - v.abs().log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// Bins of a weighted histogram of `values` over `(lo, hi)`: `(from, to, weight)`.
fn histogram(
    values: &[f64],
    weights: &[f64],
    (lo, hi): (f64, f64),
    bins: usize,
) -> Vec<(f64, f64, f64)> {
    let width = (hi - lo) / bins as f64;
    let mut out: Vec<(f64, f64, f64)> = (0..bins)
        .map(|b| (lo + b as f64 * width, lo + (b + 1) as f64 * width, 0.0))
        .collect();
    for (v, w) in values.iter().zip(weights) {
        if v.is_finite() && w.is_finite() {
            let b = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
            out[b].2 += w;
        }
    }
    out
}

fn posterior(dir: &Path) -> Result<Drawn> {
    let p = Posterior::read(&dir.join("posterior.csv"))?;
    let ranges = ranges(dir)?;
    let weights: Vec<f64> = p.particles.iter().map(|q| q.weight).collect();
    let total: f64 = weights.iter().sum();
    let weights: Vec<f64> = weights
        .iter()
        .map(|w| if total > 0.0 { w / total } else { 0.0 })
        .collect();
    let mut panels = Vec::new();
    for (k, name) in p.params.iter().enumerate() {
        let values: Vec<f64> = p.particles.iter().map(|q| q.values[k]).collect();
        let data = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        let box_ = range_of(&ranges, name)
            .or(Some(data).filter(|(a, b)| b > a))
            .unwrap_or((data.0 - 0.5, data.0 + 0.5));
        let [mean, lo, hi] = weighted_summary(&values, &weights);
        panels.push(Panel::Xy(XyPanel {
            title: format!(
                "{name}: mean {}, 90% interval {} to {}",
                significant(mean),
                significant(lo),
                significant(hi)
            ),
            x_label: if range_of(&ranges, name).is_some() {
                "value (the axis spans the prior range)".into()
            } else {
                "value".into()
            },
            y_label: "posterior weight".into(),
            x_range: Some(box_),
            bars: vec![(series_color(0), histogram(&values, &weights, box_, 24))],
            marks: vec![
                Marker {
                    x: lo,
                    label: "5%".into(),
                },
                Marker {
                    x: mean,
                    label: "mean".into(),
                },
                Marker {
                    x: hi,
                    label: "95%".into(),
                },
            ],
            ..XyPanel::default()
        }));
    }
    Ok(Drawn {
        stem: "posterior".into(),
        caption: format!(
            "ABC-SMC: the posterior of each fitted parameter, the weighted histogram of the \
             final population's {} particles over the parameter's prior range (uniform on the \
             --fit box), with the weighted mean and the 5% and 95% quantiles (dashed).",
            p.particles.len()
        ),
        chart: Chart {
            title: "Calibration by ABC-SMC: the posterior of each parameter".into(),
            subtitle: format!(
                "Weighted histograms of the {} particles over each prior range; dashed: mean and 90% interval",
                p.particles.len()
            ),
            legend: vec![LegendItem {
                label: "posterior weight per bin".into(),
                color: series_color(0),
                glyph: Glyph::Block,
            }],
            body: grid(panels),
        },
    })
}

fn generations(dir: &Path) -> Result<Drawn> {
    let rows: Vec<Generation> = strip(read_csv(&dir.join("generations.csv"))?);
    let points = |f: fn(&Generation) -> f64| -> Vec<(f64, f64)> {
        rows.iter().map(|g| (g.generation as f64, f(g))).collect()
    };
    let capped: Vec<Marker> = rows
        .iter()
        .filter(|g| g.capped)
        .map(|g| Marker {
            x: g.generation as f64,
            label: "capped".into(),
        })
        .collect();
    let capped_text = if capped.is_empty() {
        "no generation was stopped by the proposal cap".to_string()
    } else {
        let which: Vec<String> = rows
            .iter()
            .filter(|g| g.capped)
            .map(|g| g.generation.to_string())
            .collect();
        if which.len() == 1 {
            format!(
                "generation {} stopped by the proposal cap (dashed), keeping its best",
                which[0]
            )
        } else {
            format!(
                "generations {} stopped by the proposal cap (dashed), each keeping its best",
                which.join(", ")
            )
        }
    };
    Ok(Drawn {
        stem: "generations".into(),
        caption: format!(
            "ABC-SMC: each generation's tolerance (the distance a proposal had to beat) and the \
             best distance in its population, and the proposals it drew; {capped_text}."
        ),
        chart: Chart {
            title: "Calibration by ABC-SMC: the generations".into(),
            subtitle: format!(
                "{} generations after the prior; {capped_text}",
                rows.len().saturating_sub(1)
            ),
            legend: vec![
                LegendItem {
                    label: "tolerance".into(),
                    color: series_color(0),
                    glyph: Glyph::Line,
                },
                LegendItem {
                    label: "best distance".into(),
                    color: series_color(1),
                    glyph: Glyph::Line,
                },
                LegendItem {
                    label: "proposals drawn".into(),
                    color: series_color(2),
                    glyph: Glyph::Line,
                },
            ],
            body: Body::Grid(vec![vec![
                Panel::Xy(XyPanel {
                    title: "Tolerance and best distance (the targets' ARD, averaged with their weights)".into(),
                    x_label: "generation".into(),
                    y_label: "distance".into(),
                    integer_x: true,
                    series: vec![
                        XySeries {
                            color: series_color(0),
                            line: true,
                            dots: true,
                            points: points(|g| g.tolerance),
                        },
                        XySeries {
                            color: series_color(1),
                            line: true,
                            dots: true,
                            points: points(|g| g.best_distance),
                        },
                    ],
                    marks: capped.clone(),
                    ..XyPanel::default()
                }),
                Panel::Xy(XyPanel {
                    title: "Proposals drawn (generation 0: the prior design)".into(),
                    x_label: "generation".into(),
                    y_label: "proposals".into(),
                    integer_x: true,
                    series: vec![XySeries {
                        color: series_color(2),
                        line: true,
                        dots: true,
                        points: points(|g| g.proposed as f64),
                    }],
                    marks: capped,
                    ..XyPanel::default()
                }),
            ]]),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weighted_histogram_puts_each_weight_in_its_bin() {
        let h = histogram(
            &[0.05, 0.15, 0.15, 1.0],
            &[1.0, 2.0, 3.0, 4.0],
            (0.0, 1.0),
            10,
        );
        assert_eq!(h.len(), 10);
        assert_eq!(h[0].2, 1.0);
        assert_eq!(h[1].2, 5.0);
        assert_eq!(h[9].2, 4.0, "the top of the range is in the last bin");
        assert!((h[3].0 - 0.3).abs() < 1e-12 && (h[3].1 - 0.4).abs() < 1e-12);
    }

    #[test]
    fn numbers_to_three_significant_digits() {
        assert_eq!(significant(0.069226), "0.0692");
        assert_eq!(significant(0.00264), "0.00264");
        assert_eq!(significant(2.6), "2.60");
        assert_eq!(significant(1234.4), "1,234");
    }

    #[test]
    fn the_columns_of_trials_csv_that_are_parameters() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let path = Path::new("trials.csv");
        let found = parameter_columns(
            path,
            &cols(&[
                "trial",
                "inflows[0].share",
                "inflows[0].share,inflows[1].share",
                "score",
                "ard_qc",
                "error",
            ]),
        )
        .unwrap();
        assert_eq!(
            found,
            cols(&["inflows[0].share", "inflows[0].share,inflows[1].share"])
        );
        let e = parameter_columns(path, &cols(&["month", "score"]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("trials.csv:1: expected the columns trial"),
            "{e}"
        );
    }
}
