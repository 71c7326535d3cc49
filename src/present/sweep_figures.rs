//! The figures of a sweep folder, from its CSV files alone: the sensitivity of each outcome
//! to each parameter as bars with their 90% intervals (`sensitivity`), and each outcome
//! against each parameter (`scatter-<outcome>`), one facet per outcome or parameter, so that
//! nothing depends on telling more than two colours apart.

use crate::present::chart::{
    BarPanel, Body, Chart, Drawn, Glyph, LegendItem, PALETTE, Panel, ScatterPanel,
};
use crate::present::files::{self, bad};
use crate::util::error::Result;
use crate::util::names::file_stem;
use serde::Deserialize;
use std::path::Path;

/// A row of `sensitivity.csv` as read back.
#[derive(Debug, Clone, Deserialize)]
pub struct IndexRecord {
    pub outcome: String,
    pub parameter: String,
    pub method: String,
    pub index: String,
    pub value: Option<f64>,
    pub p05: Option<f64>,
    pub p95: Option<f64>,
}

/// A table of numbers read back: its columns and its rows (a cell that is not a number is
/// `NaN`).
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    pub fn read(path: &Path) -> Result<Table> {
        let columns = files::header(path)?;
        let mut rows = Vec::new();
        for (line, cells) in files::read_csv::<Vec<String>>(path)? {
            if cells.len() != columns.len() {
                return Err(bad(
                    path,
                    line,
                    format!("expected {} cells as in the header", columns.len()),
                ));
            }
            rows.push(
                cells
                    .iter()
                    .map(|c| match c.as_str() {
                        "true" => 1.0,
                        "false" => 0.0,
                        t => t.parse().unwrap_or(f64::NAN),
                    })
                    .collect(),
            );
        }
        Ok(Table { columns, rows })
    }

    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.columns.iter().position(|c| c == name)?;
        Some(self.rows.iter().map(|r| r[i]).collect())
    }
}

/// A parameter path as a label of at most `max` characters: the path itself, or its end.
pub fn short(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let tail: Vec<char> = name.chars().rev().take(max.saturating_sub(1)).collect();
    format!("…{}", tail.into_iter().rev().collect::<String>())
}

/// An outcome's name for a reader.
pub fn outcome_label(o: &str) -> String {
    match o.strip_prefix("ard:") {
        Some(series) => format!("ARD of {series}"),
        None => o.replace('_', " "),
    }
}

/// The indices a method's bars show, with their legend labels.
fn shown(method: &str) -> &'static [(&'static str, &'static str)] {
    match method {
        "sobol" => &[("S1", "first-order index S1"), ("ST", "total index ST")],
        "morris" => &[
            ("mu_star", "mu* (mean |elementary effect|)"),
            ("sigma", "sigma (interactions, non-linearity)"),
        ],
        _ => &[("rho", "Spearman rank correlation")],
    }
}

pub fn sweep_figures(dir: &Path) -> Result<Vec<Drawn>> {
    let sens: Vec<IndexRecord> = files::strip(files::read_csv(&dir.join("sensitivity.csv"))?);
    let points = Table::read(&dir.join("points.csv"))?;
    let outcomes = Table::read(&dir.join("outcomes.csv"))?;
    let params: Vec<String> = points
        .columns
        .iter()
        .skip(1)
        .filter(|c| *c != "weight")
        .cloned()
        .collect();
    let names: Vec<String> = outcomes
        .columns
        .iter()
        .skip(2 + params.len())
        .cloned()
        .collect();
    let mut figures = Vec::new();
    let method = sens
        .first()
        .map_or("spearman", |r| r.method.as_str())
        .to_string();
    let idx = shown(&method);
    let mut panels = Vec::new();
    for o in &names {
        let series: Vec<_> = idx
            .iter()
            .enumerate()
            .map(|(j, (index, _))| {
                let values = params
                    .iter()
                    .map(|p| {
                        sens.iter()
                            .find(|r| &r.outcome == o && &r.parameter == p && r.index == *index)
                            .map_or((f64::NAN, f64::NAN, f64::NAN), |r| {
                                let v = |x: Option<f64>| x.unwrap_or(f64::NAN);
                                (v(r.value), v(r.p05), v(r.p95))
                            })
                    })
                    .collect::<Vec<_>>();
                (PALETTE[j], values)
            })
            .collect();
        if series.iter().all(|s| s.1.iter().all(|v| !v.0.is_finite())) {
            continue;
        }
        panels.push(Panel::Bars(BarPanel {
            title: outcome_label(o),
            y_label: if method == "morris" {
                "effect over the range".into()
            } else {
                "index".into()
            },
            categories: params
                .iter()
                .map(|p| short(p, 90 / params.len().max(1)))
                .collect(),
            series,
        }));
    }
    if !panels.is_empty() {
        let what = match method.as_str() {
            "sobol" => {
                "Sobol indices: the share of the outcome's variance due to each parameter alone (S1) and with its interactions (ST)"
            }
            "morris" => {
                "Morris elementary effects: how much the outcome moves over a parameter's whole range, a step's change divided by how far it moved the parameter (mu*), and how much that depends on the others (sigma)"
            }
            _ => "Spearman rank correlation of each parameter with the outcome over the points",
        };
        figures.push(Drawn {
            stem: "sensitivity".into(),
            caption: format!("{what}; bars are the estimates over the points' means, whiskers 90% bootstrap intervals. One panel per outcome."),
            chart: Chart {
                title: "Which parameters drive the outcomes".into(),
                subtitle: format!("{method} ({} points)", points.rows.len()),
                legend: idx
                    .iter()
                    .enumerate()
                    .map(|(j, (_, label))| LegendItem {
                        label: label.to_string(),
                        color: PALETTE[j],
                        glyph: Glyph::Block,
                    })
                    .collect(),
                body: Body::Grid(rows_of(panels, 2)),
            },
        });
    }
    for o in &names {
        let Some(y) = outcomes.column(o) else {
            continue;
        };
        let finite: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.len() < 2 || finite.iter().all(|v| *v == finite[0]) {
            continue;
        }
        let panels: Vec<Panel> = params
            .iter()
            .map(|p| {
                let x = outcomes.column(p).unwrap_or_default();
                Panel::Scatter(ScatterPanel {
                    title: short(p, 48),
                    x_label: "value".into(),
                    y_label: outcome_label(o),
                    color: None,
                    points: x.into_iter().zip(y.iter().copied()).collect(),
                })
            })
            .collect();
        figures.push(Drawn {
            stem: format!("scatter-{}", file_stem(o)),
            caption: format!(
                "{} of every run (point and replicate) against each parameter's value, one panel per parameter.",
                outcome_label(o)
            ),
            chart: Chart {
                title: format!("{} against the parameters", outcome_label(o)),
                subtitle: format!("{} runs", y.len()),
                legend: Vec::new(),
                body: Body::Grid(rows_of(panels, 3)),
            },
        });
    }
    Ok(figures)
}

fn rows_of(panels: Vec<Panel>, per_row: usize) -> Vec<Vec<Panel>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    for p in panels {
        row.push(p);
        if row.len() == per_row {
            rows.push(std::mem::take(&mut row));
        }
    }
    if !row.is_empty() {
        rows.push(row);
    }
    rows
}
