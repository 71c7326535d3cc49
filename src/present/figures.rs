//! Figures and the report of a run or comparison folder, drawn from its files alone (the
//! CSV tables, `manifest.json` and `scenario.toml`), so `northbound plot DIR` can redraw
//! anything an earlier command wrote.
//!
//! A comparison folder (`summary.csv` with a `variant` column) gets five figures, each as
//! PNG and SVG: `crossings_by_variant`, `panel_2x2`, `outcomes`, `displacement` (when
//! effects against `neither` exist) and `overlay` (when the scenario declares observed
//! series); then `report.html` ([`crate::present::report`]). A run folder (`monthly.csv`) gets its
//! `crossings` and `outcomes` figures again.

use crate::experiment::compare::{
    EffectRow, OverlayRow, PolicyRow, REFERENCE, SummaryRow, VariantRow,
};
use crate::output::Row;
use crate::present::plot::{
    self, Body, Chart, Glyph, IntervalPanel, LegendItem, Marker, Panel, Segment, StackedBars,
    TimePanel, Trace, WhiskerBars,
};
use crate::scenario::Metric;
use crate::util::date::{Date, Month};
use crate::util::error::{Error, Result};
use plotters::style::RGBColor;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The titles of a comparison's figures, by file stem; `{focus}` stands for the crossing
/// whose displaced demand the effects track (Roxham Road).
pub const TITLES: [(&str, &str); 5] = [
    (
        "crossings_by_variant",
        "Monthly crossing attempts by crossing point and policy variant",
    ),
    (
        "panel_2x2",
        "The 2 x 2 design: monthly crossing attempts in each policy cell",
    ),
    ("outcomes", "Outcomes over the window by policy variant"),
    (
        "displacement",
        "Where the demand displaced from {focus} went",
    ),
    ("overlay", "Simulated and observed series"),
];

/// The title of a comparison figure, for the focus crossing `focus`.
pub fn title(stem: &str, focus: &str) -> String {
    TITLES
        .iter()
        .find(|t| t.0 == stem)
        .map_or(String::new(), |t| t.1.replace("{focus}", focus))
}

/// Redraws every figure of a folder written by `run` or `compare` (and, for a comparison,
/// its report). Returns the names of the files drawn.
pub fn redraw(dir: &Path) -> Result<Vec<String>> {
    if !dir.is_dir() {
        return Err(Error::Output {
            path: dir.to_path_buf(),
            message: "is not a folder written by `northbound run` or `northbound compare`".into(),
        });
    }
    let summary = dir.join("summary.csv");
    if summary.is_file() && header(&summary)?.iter().any(|h| h == "variant") {
        let folder = Comparison::load(dir)?;
        let figures = comparison_figures(&folder);
        let mut files = Vec::new();
        for f in &figures {
            files.extend(plot::save_chart(&f.chart, dir, f.stem)?);
        }
        files.push(crate::present::report::write(&folder, &figures)?);
        Ok(files)
    } else if dir.join("monthly.csv").is_file() {
        redraw_run(dir)
    } else {
        Err(Error::Output {
            path: dir.to_path_buf(),
            message: "holds neither a comparison (summary.csv with a variant column, from \
                      `northbound compare`) nor a run (monthly.csv, from `northbound run`)"
                .into(),
        })
    }
}

/// A figure of a comparison: its file stem, what it shows (for the report) and the chart.
#[derive(Debug, Clone)]
pub struct Drawn {
    pub stem: &'static str,
    pub caption: String,
    pub chart: Chart,
}

/// A row of `places.csv`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlaceRecord {
    pub place: String,
    pub kind: String,
    pub crossing: String,
    pub country: String,
    pub province: String,
}

/// What kind of crossing point a place is. `places.csv` says `irregular` or `port`; a port
/// whose name says "airport" is an airport (the STCA does not apply there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossingClass {
    Irregular,
    LandPort,
    Airport,
}

impl PlaceRecord {
    pub fn class(&self) -> Option<CrossingClass> {
        match self.crossing.as_str() {
            "irregular" => Some(CrossingClass::Irregular),
            "port" if self.place.to_lowercase().contains("airport") => Some(CrossingClass::Airport),
            "port" => Some(CrossingClass::LandPort),
            _ => None,
        }
    }

    /// The place with its kind of crossing, for a legend or a panel title.
    pub fn label(&self) -> String {
        match self.class() {
            Some(CrossingClass::Irregular) => format!("{} (irregular crossing)", self.place),
            Some(CrossingClass::LandPort) => format!("{} (land port)", self.place),
            Some(CrossingClass::Airport) => format!("{} (airport)", self.place),
            None => self.place.clone(),
        }
    }
}

/// An observed series as the scenario declares it (`[[observed]]`), for titles and units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedInfo {
    pub name: String,
    pub description: String,
    pub aggregate: String,
    pub ratio: bool,
}

/// Everything a comparison folder holds, read from its files.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub dir: PathBuf,
    pub manifest: serde_json::Value,
    /// `scenario.toml`'s text.
    pub scenario_text: String,
    pub scenario: toml::Table,
    pub places: Vec<PlaceRecord>,
    pub summary: Vec<SummaryRow>,
    pub effects: Vec<EffectRow>,
    pub overlay: Vec<OverlayRow>,
    pub variants: Vec<VariantRow>,
    pub policies: Vec<PolicyRow>,
    /// The variants in the order they were run.
    pub order: Vec<String>,
    /// The months of the window, in order.
    pub months: Vec<Month>,
    /// Policy dates, parsed: `(variant, policy, enabled, start, end)`.
    pub policy_dates: Vec<(String, String, bool, Date, Option<Date>)>,
}

/// The header of a CSV file.
fn header(path: &Path) -> Result<Vec<String>> {
    let mut r = csv::Reader::from_path(path).map_err(|e| csv_error(path, e))?;
    Ok(r.headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_string)
        .collect())
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    if let csv::ErrorKind::Io(io) = e.kind()
        && line == 0
    {
        return Error::Output {
            path: path.to_path_buf(),
            message: format!("cannot read: {io}"),
        };
    }
    Error::Data {
        path: path.to_path_buf(),
        line,
        message: e.to_string(),
    }
}

/// Reads a CSV file with a header into rows, each with its line number. An empty file
/// (an empty table is written without a header) has no rows.
fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<(u64, T)>> {
    let mut r = csv::Reader::from_path(path).map_err(|e| csv_error(path, e))?;
    let headers = r.headers().map_err(|e| csv_error(path, e))?.clone();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let row: T = rec.deserialize(Some(&headers)).map_err(|e| {
            let message = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                    Some(i) => format!(
                        "column \"{}\": {}",
                        headers.get(i as usize).unwrap_or("?"),
                        err.kind()
                    ),
                    None => err.kind().to_string(),
                },
                _ => e.to_string(),
            };
            bad(path, line, message)
        })?;
        out.push((line, row));
    }
    Ok(out)
}

fn strip<T>(rows: Vec<(u64, T)>) -> Vec<T> {
    rows.into_iter().map(|(_, r)| r).collect()
}

fn bad(path: &Path, line: u64, message: String) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn parse_date(path: &Path, line: u64, what: &str, s: &str) -> Result<Date> {
    Date::parse(s).ok_or_else(|| {
        bad(
            path,
            line,
            format!("{what}: \"{s}\" is not a date (YYYY-MM-DD)"),
        )
    })
}

impl Comparison {
    /// Reads a comparison folder.
    pub fn load(dir: &Path) -> Result<Comparison> {
        let mpath = dir.join("manifest.json");
        let text = std::fs::read_to_string(&mpath).map_err(|source| Error::Read {
            path: mpath.clone(),
            source,
        })?;
        let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Data {
            path: mpath.clone(),
            line: e.line() as u64,
            message: e.to_string(),
        })?;
        let spath = dir.join("scenario.toml");
        let scenario_text = std::fs::read_to_string(&spath).map_err(|source| Error::Read {
            path: spath.clone(),
            source,
        })?;
        let scenario: toml::Table =
            scenario_text
                .parse()
                .map_err(|e: toml::de::Error| Error::Parse {
                    path: spath.clone(),
                    message: e.to_string(),
                })?;
        let places = strip(read_csv::<PlaceRecord>(&dir.join("places.csv"))?);
        let spath = dir.join("summary.csv");
        let summary_lines = read_csv::<SummaryRow>(&spath)?;
        let mut months = Vec::new();
        for (line, r) in &summary_lines {
            let m = Month::parse(&r.month).ok_or_else(|| {
                bad(
                    &spath,
                    *line,
                    format!("month: \"{}\" is not a month (YYYY-MM)", r.month),
                )
            })?;
            months.push(m);
        }
        months.sort();
        months.dedup();
        let summary = strip(summary_lines);
        let effects = strip(read_csv::<EffectRow>(&dir.join("effects.csv"))?);
        let opath = dir.join("overlay.csv");
        let overlay_lines = read_csv::<OverlayRow>(&opath)?;
        for (line, r) in &overlay_lines {
            parse_date(&opath, *line, "start", &r.start)?;
            parse_date(&opath, *line, "end", &r.end)?;
        }
        let overlay = strip(overlay_lines);
        let variants = strip(read_csv::<VariantRow>(&dir.join("variants.csv"))?);
        let ppath = dir.join("policies.csv");
        let policy_lines = read_csv::<PolicyRow>(&ppath)?;
        let mut policy_dates = Vec::new();
        for (line, p) in &policy_lines {
            let start = parse_date(&ppath, *line, "start", &p.start)?;
            let end = if p.end.is_empty() {
                None
            } else {
                Some(parse_date(&ppath, *line, "end", &p.end)?)
            };
            policy_dates.push((p.variant.clone(), p.policy.clone(), p.enabled, start, end));
        }
        let policies = strip(policy_lines);

        // The run order: the manifest's list, else the order rows first name them.
        let mut order: Vec<String> = manifest["variants"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for v in variants
            .iter()
            .map(|v| &v.variant)
            .chain(summary.iter().map(|r| &r.variant))
        {
            if !order.contains(v) {
                order.push(v.clone());
            }
        }
        order.retain(|v| summary.iter().any(|r| &r.variant == v));
        if summary.is_empty() {
            return Err(bad(&spath, 1, "no rows: nothing to draw".into()));
        }
        Ok(Comparison {
            dir: dir.to_path_buf(),
            manifest,
            scenario_text,
            scenario,
            places,
            summary,
            effects,
            overlay,
            variants,
            policies,
            order,
            months,
            policy_dates,
        })
    }

    /// `[scenario]` `name` and `description` from `scenario.toml` (else the manifest's name).
    pub fn name_and_description(&self) -> (String, String) {
        let sc = self.scenario.get("scenario").and_then(|s| s.as_table());
        let get = |k: &str| {
            sc.and_then(|s| s.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        (
            get("name")
                .or_else(|| self.manifest["scenario_name"].as_str().map(str::to_string))
                .unwrap_or_default(),
            get("description").unwrap_or_default(),
        )
    }

    /// The declared observed series, from `scenario.toml`.
    pub fn observed_info(&self) -> Vec<ObservedInfo> {
        let Some(list) = self.scenario.get("observed").and_then(|o| o.as_array()) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|o| o.as_table())
            .map(|o| {
                let s = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                ObservedInfo {
                    name: s("name"),
                    description: s("description"),
                    aggregate: s("aggregate"),
                    ratio: o.contains_key("ratio_of"),
                }
            })
            .collect()
    }

    pub fn replicates(&self) -> Option<u64> {
        self.manifest["replicates"].as_u64()
    }

    fn replicates_text(&self) -> String {
        match self.replicates() {
            Some(1) => "1 replicate".into(),
            Some(r) => format!("{r} replicates"),
            None => "the replicates".into(),
        }
    }

    /// The variant whose policy dates mark the figures: `both`, else the first.
    pub fn marker_variant(&self) -> &str {
        self.order
            .iter()
            .find(|v| *v == "both")
            .or(self.order.first())
            .map_or("", |v| v.as_str())
    }

    /// The x range of the window's months.
    fn x_range(&self) -> (f64, f64) {
        match (self.months.first(), self.months.last()) {
            (Some(a), Some(b)) => (f64::from(a.0), f64::from(b.0 + 1)),
            _ => (0.0, 1.0),
        }
    }

    /// The dates at which `variant`'s enabled policies start or end inside the window.
    pub fn markers(&self, variant: &str) -> Vec<Marker> {
        let (lo, hi) = self.x_range();
        let mut out = Vec::new();
        for (v, policy, enabled, start, end) in &self.policy_dates {
            if v != variant || !enabled {
                continue;
            }
            let label = policy_label(policy);
            for (date, label) in [
                (Some(*start), label.clone()),
                (*end, format!("{label} ends")),
            ] {
                if let Some(x) = date.map(plot::date_x).filter(|x| *x > lo && *x < hi) {
                    out.push(Marker { x, label });
                }
            }
        }
        out
    }

    /// A variant's monthly `(x, p05, p50, p95)` of a metric summed over the places `keep`
    /// accepts (sums of quantiles: exact for one place, a guide for several).
    fn monthly(
        &self,
        variant: &str,
        metric: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Vec<(f64, f64, f64, f64)> {
        let mut by: BTreeMap<&str, [f64; 3]> = BTreeMap::new();
        for r in self
            .summary
            .iter()
            .filter(|r| r.variant == variant && r.metric == metric && keep(&r.place))
        {
            let e = by.entry(r.month.as_str()).or_insert([0.0; 3]);
            e[0] += r.p05;
            e[1] += r.p50;
            e[2] += r.p95;
        }
        by.into_iter()
            .filter_map(|(m, v)| Month::parse(m).map(|m| (plot::month_x(m), v[0], v[1], v[2])))
            .collect()
    }

    /// A variant's total of the means of a metric over the window, over places `keep` accepts.
    pub fn total(&self, variant: &str, metric: &str, keep: impl Fn(&PlaceRecord) -> bool) -> f64 {
        let names: Vec<&str> = self
            .places
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.place.as_str())
            .collect();
        self.summary
            .iter()
            .filter(|r| {
                r.variant == variant && r.metric == metric && names.contains(&r.place.as_str())
            })
            .map(|r| r.mean)
            .filter(|v| v.is_finite())
            .sum()
    }

    pub fn crossings(&self) -> Vec<&PlaceRecord> {
        self.places
            .iter()
            .filter(|p| p.kind == "crossing")
            .collect()
    }

    pub fn description(&self, variant: &str) -> Option<&str> {
        self.variants
            .iter()
            .find(|v| v.variant == variant)
            .map(|v| v.description.as_str())
            .filter(|d| !d.is_empty())
    }

    /// A variant with what it is: `both: STCA extension and resettlement quota`.
    pub fn variant_label(&self, variant: &str) -> String {
        match self.description(variant) {
            Some(d) => format!("{variant}: {d}"),
            None => variant.to_string(),
        }
    }

    /// The crossing whose displaced demand the effects track (see `compare::focus`).
    pub fn focus_name(&self) -> String {
        let crossings = self.crossings();
        if crossings.iter().any(|p| p.place == "Roxham Road") {
            "Roxham Road".into()
        } else {
            crossings
                .iter()
                .find(|p| p.class() == Some(CrossingClass::Irregular))
                .map_or("the focus crossing".into(), |p| p.place.clone())
        }
    }
}

/// A policy's name for a legend or a marker.
pub fn policy_label(policy: &str) -> String {
    match policy {
        "stca_ports" => "STCA at ports".into(),
        "stca_extension" => "STCA extension".into(),
        "resettlement_quota" => "resettlement quota".into(),
        "direct_back" => "direct-back".into(),
        "busing" => "Texas busing".into(),
        "shelter_limit" => "NYC shelter limit".into(),
        other => other.replace('_', " "),
    }
}

/// The colour of a variant: fixed for the 2 x 2 cells, the palette's others after.
pub fn variant_color(order: &[String], variant: &str) -> RGBColor {
    match variant {
        "both" => plot::PALETTE[0],
        "extension_only" => plot::PALETTE[1],
        "quota_only" => plot::PALETTE[2],
        REFERENCE => RGBColor(70, 70, 70),
        _ => {
            let extra = [
                plot::PALETTE[3],
                plot::PALETTE[4],
                plot::PALETTE[5],
                RGBColor(140, 86, 75),
            ];
            let k = order
                .iter()
                .filter(|v| {
                    !["both", "extension_only", "quota_only", REFERENCE].contains(&v.as_str())
                })
                .position(|v| v == variant)
                .unwrap_or(0);
            extra[k % extra.len()]
        }
    }
}

/// Variants in drawing order: the reference last, so its dashed line stays visible where
/// the variants coincide.
fn drawing_order(order: &[String]) -> Vec<&String> {
    let mut v: Vec<&String> = order.iter().filter(|v| *v != REFERENCE).collect();
    v.extend(order.iter().filter(|v| *v == REFERENCE));
    v
}

fn variant_legend(c: &Comparison, glyph: Glyph) -> Vec<LegendItem> {
    c.order
        .iter()
        .map(|v| LegendItem {
            label: c.variant_label(v),
            color: variant_color(&c.order, v),
            glyph: if v == REFERENCE && glyph == Glyph::Band {
                Glyph::Dashed
            } else {
                glyph
            },
        })
        .collect()
}

/// The figures of a comparison, in the report's order; those with nothing to show are
/// left out.
pub fn comparison_figures(c: &Comparison) -> Vec<Drawn> {
    let mut out = vec![crossings_by_variant(c)];
    out.extend(panel_2x2(c));
    out.push(outcomes(c));
    out.extend(displacement(c));
    out.extend(overlay(c));
    out
}

fn crossings_by_variant(c: &Comparison) -> Drawn {
    let marks = c.markers(c.marker_variant());
    let panels: Vec<Panel> = c
        .crossings()
        .into_iter()
        .map(|p| {
            Panel::Time(TimePanel {
                title: p.label(),
                y_label: "attempts (people per month)".into(),
                x_range: Some(c.x_range()),
                y_max: None,
                traces: drawing_order(&c.order)
                    .into_iter()
                    .map(|v| Trace {
                        color: variant_color(&c.order, v),
                        dashed: v == REFERENCE,
                        band: true,
                        points: c.monthly(v, "attempts", |q| q == p.place),
                    })
                    .collect(),
                observed: Vec::new(),
                markers: marks.clone(),
            })
        })
        .collect();
    let cols = if panels.len() > 1 { 2 } else { 1 };
    let stem = "crossings_by_variant";
    Drawn {
        stem,
        caption: format!(
            "Crossing attempts per month at each crossing point: for each variant, the median \
             over {} (line) and the 90% band (shaded). Dashed vertical lines mark the policy \
             dates of variant \"{}\". The variants share their random numbers, so they \
             coincide until a policy they differ in starts.",
            c.replicates_text(),
            c.marker_variant()
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Median (line) and 90% band (shaded) over {} per variant; dashed vertical lines: policy dates (variant \"{}\")",
                c.replicates_text(),
                c.marker_variant()
            ),
            legend: variant_legend(c, Glyph::Band),
            body: Body::Grid(panels.chunks(cols).map(<[Panel]>::to_vec).collect()),
        },
    }
}

fn panel_2x2(c: &Comparison) -> Option<Drawn> {
    const CELLS: [[&str; 2]; 2] = [["both", "extension_only"], ["quota_only", REFERENCE]];
    if !CELLS
        .iter()
        .flatten()
        .any(|v| c.order.iter().any(|o| o == v))
    {
        return None;
    }
    let crossings = c.crossings();
    let color = |i: usize| plot::PALETTE[i % plot::PALETTE.len()];
    let traces = |v: &str| -> Vec<Trace> {
        crossings
            .iter()
            .enumerate()
            .map(|(i, p)| Trace {
                color: color(i),
                dashed: false,
                band: true,
                points: c.monthly(v, "attempts", |q| q == p.place),
            })
            .collect()
    };
    let top = CELLS
        .iter()
        .flatten()
        .flat_map(|v| traces(v))
        .flat_map(|t| t.points.into_iter().map(|q| q.3.max(q.2)))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_max = Some(if top > 0.0 { top * 1.08 } else { 1.0 });
    let rows: Vec<Vec<Panel>> = CELLS
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| {
                    if c.order.iter().any(|o| o == v) {
                        Panel::Time(TimePanel {
                            title: c.variant_label(v),
                            y_label: "attempts (people per month)".into(),
                            x_range: Some(c.x_range()),
                            y_max,
                            traces: traces(v),
                            observed: Vec::new(),
                            markers: c.markers(v),
                        })
                    } else {
                        Panel::Empty {
                            title: v.to_string(),
                            note: "not run in this comparison".into(),
                        }
                    }
                })
                .collect()
        })
        .collect();
    let stem = "panel_2x2";
    Some(Drawn {
        stem,
        caption: format!(
            "The four cells of the design. Top row: with the STCA extension; bottom row: \
             without. Left column: with the resettlement quota; right column: without. Each \
             cell shows every crossing point (median over {} and 90% band) on the same \
             y scale, with the cell's own policy dates.",
            c.replicates_text()
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Rows: STCA extension on / off. Columns: resettlement quota on / off. Median and 90% band over {}; the same y scale in every cell; dashed lines: the cell's policy dates",
                c.replicates_text()
            ),
            legend: crossings
                .iter()
                .enumerate()
                .map(|(i, p)| LegendItem {
                    label: p.label(),
                    color: color(i),
                    glyph: Glyph::Band,
                })
                .collect(),
            body: Body::Grid(rows),
        },
    })
}

/// The outcome segments of the stacked bars, bottom to top: label, colour, metric, places.
type Keep = fn(&PlaceRecord) -> bool;

fn outcome_segments() -> Vec<(&'static str, &'static str, RGBColor, &'static str, Keep)> {
    vec![
        (
            "claims after an irregular crossing",
            "irregular",
            RGBColor(213, 94, 0),
            "claims",
            |p| p.class() == Some(CrossingClass::Irregular),
        ),
        (
            "claims at land ports",
            "land ports",
            RGBColor(0, 114, 178),
            "claims",
            |p| p.class() == Some(CrossingClass::LandPort),
        ),
        (
            "claims at airports",
            "airports",
            RGBColor(86, 180, 233),
            "claims",
            |p| p.class() == Some(CrossingClass::Airport),
        ),
        (
            "evaded for the window, then claimed inland",
            "evaded",
            RGBColor(204, 121, 167),
            "evaded",
            |p| p.kind == "crossing",
        ),
        (
            "resettled through the quota",
            "resettled",
            RGBColor(0, 158, 115),
            "resettled",
            |p| p.kind == "destination",
        ),
        (
            "returned to the US",
            "returned",
            RGBColor(150, 150, 150),
            "returned",
            |p| p.kind == "crossing",
        ),
    ]
}

/// Outcome totals per variant (means over replicates, summed over the window), bottom to
/// top of the stacked bars.
pub fn outcome_totals(c: &Comparison) -> Vec<Segment> {
    outcome_segments()
        .into_iter()
        .map(|(label, short, color, metric, keep)| Segment {
            label: label.into(),
            short: short.into(),
            color,
            values: c.order.iter().map(|v| c.total(v, metric, keep)).collect(),
        })
        .collect()
}

fn window_text(c: &Comparison) -> String {
    match (c.months.first(), c.months.last()) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "the window".into(),
    }
}

fn outcomes(c: &Comparison) -> Drawn {
    let segments: Vec<Segment> = outcome_totals(c)
        .into_iter()
        .filter(|s| s.values.iter().any(|v| *v > 0.0))
        .collect();
    let stem = "outcomes";
    Drawn {
        stem,
        caption: format!(
            "What became of the people who reached the border, {}, per variant: the mean over \
             {} of each outcome's total. A person returned to the US may try again, so returns \
             count events, not people.",
            window_text(c),
            c.replicates_text()
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Totals over {}, means over {}; returns count each time a person is sent back",
                window_text(c),
                c.replicates_text()
            ),
            legend: Vec::new(),
            body: Body::Stacked(StackedBars {
                y_label: "people over the window".into(),
                categories: c.order.clone(),
                segments,
            }),
        },
    }
}

/// The alternatives of `share_to_*`, with their names in the figures and the report.
pub const ALTERNATIVES: [(&str, &str); 6] = [
    ("official_ports", "land ports (STCA applies)"),
    ("other_irregular", "other irregular crossings"),
    ("evasions", "evaded, then claimed inland"),
    ("airports", "airports (no STCA)"),
    ("stayed_in_us", "stayed in the US"),
    ("resettled", "resettled through the quota"),
];

pub fn alternative_label(name: &str) -> String {
    ALTERNATIVES
        .iter()
        .find(|a| a.0 == name)
        .map_or(name.replace('_', " "), |a| a.1.to_string())
}

fn displacement(c: &Comparison) -> Option<Drawn> {
    let mut groups: Vec<&str> = Vec::new();
    for e in &c.effects {
        if let Some(alt) = e.effect.strip_prefix("share_to_")
            && !groups.contains(&alt)
        {
            groups.push(alt);
        }
    }
    let variants: Vec<&String> = c
        .order
        .iter()
        .filter(|v| c.effects.iter().any(|e| &e.variant == *v))
        .collect();
    if groups.is_empty() || variants.is_empty() {
        return None;
    }
    let focus = c.focus_name();
    let get = |v: &str, effect: &str| {
        c.effects
            .iter()
            .find(|e| e.variant == v && e.effect == effect)
    };
    let legend = variants
        .iter()
        .map(|v| {
            let moved = get(v, "diff_roxham").map_or(String::new(), |d| {
                if d.mean < 0.0 {
                    format!(" ({} fewer at {focus})", plot::fmt_number(-d.mean, 1e3))
                } else {
                    format!(" ({} more at {focus})", plot::fmt_number(d.mean, 1e3))
                }
            });
            LegendItem {
                label: format!("{v}{moved}"),
                color: variant_color(&c.order, v),
                glyph: Glyph::Block,
            }
        })
        .collect();
    let series = variants
        .iter()
        .map(|v| {
            (
                variant_color(&c.order, v),
                groups
                    .iter()
                    .map(|g| {
                        get(v, &format!("share_to_{g}"))
                            .map_or((f64::NAN, f64::NAN, f64::NAN), |e| (e.mean, e.p05, e.p95))
                    })
                    .collect(),
            )
        })
        .collect();
    let stem = "displacement";
    Some(Drawn {
        stem,
        caption: format!(
            "For each variant against \"neither\": the change in each alternative per person \
             fewer at {focus} (bars: means over {}, paired by seed; whiskers: 90% \
             intervals). +100% means the alternative gained as many people as {focus} lost; \
             a variant that barely changes {focus} gives large shares.",
            c.replicates_text()
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Change in each alternative per person fewer at {focus}, variant minus \"neither\": mean (bar) and 90% interval (whisker) over {} (paired)",
                c.replicates_text()
            ),
            legend,
            body: Body::Whiskers(WhiskerBars {
                x_label: format!("change per person displaced from {focus} (100% = one for one)"),
                groups: groups.iter().map(|g| alternative_label(g)).collect(),
                series,
                percent: true,
            }),
        },
    })
}

fn overlay(c: &Comparison) -> Option<Drawn> {
    if c.overlay.is_empty() {
        return None;
    }
    let info = c.observed_info();
    let mut names: Vec<&str> = Vec::new();
    for r in &c.overlay {
        if !names.contains(&r.series.as_str()) {
            names.push(&r.series);
        }
    }
    let marks = c.markers(c.marker_variant());
    let mut wide: Vec<Panel> = Vec::new();
    let mut narrow: Vec<Panel> = Vec::new();
    for name in names {
        let rows: Vec<&OverlayRow> = c.overlay.iter().filter(|r| r.series == name).collect();
        let mut periods: Vec<(&str, &str, &str)> = Vec::new();
        for r in &rows {
            let p = (r.period.as_str(), r.start.as_str(), r.end.as_str());
            if !periods.contains(&p) {
                periods.push(p);
            }
        }
        let i = info.iter().find(|i| i.name == name);
        let title = match i {
            Some(i) if !i.description.is_empty() => i.description.clone(),
            _ => name.to_string(),
        };
        let months = |p: &(&str, &str, &str)| -> (i32, i32) {
            match (Date::parse(p.1), Date::parse(p.2)) {
                (Some(a), Some(b)) => (a.month().0, b.month().0),
                _ => (0, 0),
            }
        };
        let y_label = match i {
            Some(i) if i.ratio => "ratio".to_string(),
            Some(i) if i.aggregate == "month" => "people per month".into(),
            Some(i) if i.aggregate == "year" => "people per year".into(),
            Some(_) => "people in the period".into(),
            None if periods.iter().all(|p| {
                let (a, b) = months(p);
                a == b
            }) =>
            {
                "people per month".into()
            }
            None => "people in the period".into(),
        };
        let find = |v: &str, p: &(&str, &str, &str)| {
            rows.iter().find(|r| r.variant == v && r.period == p.0)
        };
        let observed: Vec<Option<f64>> = periods
            .iter()
            .map(|p| rows.iter().find(|r| r.period == p.0).map(|r| r.observed))
            .collect();
        if periods.len() >= 3 {
            let x = |p: &(&str, &str, &str)| {
                let (a, b) = months(p);
                f64::from(a + b + 1) / 2.0
            };
            wide.push(Panel::Time(TimePanel {
                title: format!("{title} ({name})"),
                y_label,
                x_range: None,
                y_max: None,
                traces: drawing_order(&c.order)
                    .into_iter()
                    .map(|v| Trace {
                        color: variant_color(&c.order, v),
                        dashed: v == REFERENCE,
                        band: true,
                        points: periods
                            .iter()
                            .filter_map(|p| {
                                find(v, p).map(|r| (x(p), r.sim_p05, r.sim_p50, r.sim_p95))
                            })
                            .collect(),
                    })
                    .collect(),
                observed: periods
                    .iter()
                    .zip(&observed)
                    .filter_map(|(p, o)| o.map(|o| (x(p), o)))
                    .collect(),
                markers: marks.clone(),
            }));
        } else {
            narrow.push(Panel::Intervals(IntervalPanel {
                title,
                y_label,
                categories: periods.iter().map(|p| p.0.to_string()).collect(),
                series: c
                    .order
                    .iter()
                    .map(|v| {
                        (
                            variant_color(&c.order, v),
                            periods
                                .iter()
                                .map(|p| {
                                    find(v, p).map_or((f64::NAN, f64::NAN, f64::NAN), |r| {
                                        (r.sim_p05, r.sim_p50, r.sim_p95)
                                    })
                                })
                                .collect(),
                        )
                    })
                    .collect(),
                observed,
            }));
        }
    }
    let mut rows: Vec<Vec<Panel>> = wide.into_iter().map(|p| vec![p]).collect();
    let per_row = if narrow.len() == 4 { 4 } else { 3 };
    rows.extend(narrow.chunks(per_row).map(<[Panel]>::to_vec));
    let mut legend = vec![LegendItem {
        label: "observed".into(),
        color: RGBColor(0, 0, 0),
        glyph: Glyph::Dot,
    }];
    legend.extend(c.order.iter().map(|v| LegendItem {
        label: format!("{v} (median, 90% interval)"),
        color: variant_color(&c.order, v),
        glyph: Glyph::Whisker,
    }));
    let stem = "overlay";
    Some(Drawn {
        stem,
        caption: format!(
            "The observed series the scenario declares (black) against each variant's \
             simulated counterpart (median over {} with its 90% interval). Periods before \
             the policies start are the same in every variant.",
            c.replicates_text()
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Observed (black) and each variant's median with its 90% interval over {}; periods before the policies start are the same in every variant",
                c.replicates_text()
            ),
            legend,
            body: Body::Grid(rows),
        },
    })
}

/// A row of a run's `monthly.csv`.
#[derive(Debug, Deserialize)]
struct MonthlyRecord {
    month: String,
    place: String,
    metric: String,
    value: f64,
}

/// A row of a `policies.csv` without the variant column (a run folder may hold one).
#[derive(Debug, Deserialize)]
struct RunPolicy {
    policy: String,
    enabled: bool,
    start: String,
    #[serde(default)]
    end: String,
}

fn redraw_run(dir: &Path) -> Result<Vec<String>> {
    let mpath = dir.join("monthly.csv");
    let mut monthly = Vec::new();
    for (line, r) in read_csv::<MonthlyRecord>(&mpath)? {
        if Month::parse(&r.month).is_none() {
            return Err(bad(
                &mpath,
                line,
                format!("month: \"{}\" is not a month (YYYY-MM)", r.month),
            ));
        }
        // Metrics this version does not know are not drawn.
        if let Some(m) = Metric::ALL.iter().find(|m| m.name() == r.metric) {
            monthly.push(Row {
                period: r.month,
                place: r.place,
                metric: m.name(),
                value: r.value,
            });
        }
    }
    let places: Vec<(String, String, String)> = read_csv::<PlaceRecord>(&dir.join("places.csv"))?
        .into_iter()
        .map(|(_, p)| (p.place, p.kind, p.crossing))
        .collect();
    let mut markers = Vec::new();
    let ppath = dir.join("policies.csv");
    if ppath.is_file() {
        for (line, p) in read_csv::<RunPolicy>(&ppath)? {
            let start = parse_date(&ppath, line, "start", &p.start)?;
            if p.enabled && p.policy != "stca_ports" {
                markers.push((start.month(), policy_label(&p.policy)));
                if !p.end.is_empty() {
                    let end = parse_date(&ppath, line, "end", &p.end)?;
                    markers.push((end.month(), format!("{} ends", policy_label(&p.policy))));
                }
            }
        }
    }
    let mut files = Vec::new();
    for (stem, fig) in plot::run_figures(&monthly, &places, &markers) {
        plot::save(&fig, dir, &stem)?;
        files.push(format!("{stem}.png"));
        files.push(format!("{stem}.svg"));
    }
    Ok(files)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fmt::Write as _;

    /// Writes a small comparison folder by hand: two variants over three months, four
    /// crossings (one an airport), effects, an overlay of two observed series.
    pub(crate) fn tiny_folder(dir: &Path) {
        let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
        w(
            "places.csv",
            "place,kind,crossing,country,province\n\
             Border,entry,,US,TX\n\
             Roxham Road,crossing,irregular,CA,QC\n\
             Lacolle,crossing,port,CA,QC\n\
             Montreal airport,crossing,port,CA,QC\n\
             Canada (resettled),destination,,CA,CA\n",
        );
        let mut s = String::from("variant,month,place,metric,mean,p05,p50,p95\n");
        for (v, k) in [("both", 1.0), ("neither", 2.0)] {
            for m in ["2023-01", "2023-02", "2023-03"] {
                let _ = writeln!(s, "{v},{m},Border,arrivals,100,90,100,110");
                for (p, base) in [
                    ("Roxham Road", 50.0),
                    ("Lacolle", 10.0),
                    ("Montreal airport", 2.0),
                ] {
                    let x = base * k;
                    let _ = writeln!(s, "{v},{m},{p},attempts,{x},{},{x},{}", x - 1.0, x + 1.0);
                    let _ = writeln!(s, "{v},{m},{p},claims,{x},{x},{x},{x}");
                    let _ = writeln!(s, "{v},{m},{p},returned,1,1,1,1");
                    let _ = writeln!(s, "{v},{m},{p},evaded,0,0,0,0");
                }
                let _ = writeln!(
                    s,
                    "{v},{m},Canada (resettled),resettled,{},0,0,0",
                    3.0 * (2.0 - k)
                );
            }
        }
        w("summary.csv", &s);
        w(
            "effects.csv",
            "variant,effect,mean,p05,p50,p95\n\
             both,diff_roxham,-150,-160,-150,-140\n\
             both,diff_official_ports,-30,-31,-30,-29\n\
             both,share_to_official_ports,-0.2,-0.21,-0.2,-0.19\n\
             both,share_to_stayed_in_us,0.9,0.8,0.9,1.0\n\
             both,share_to_resettled,NaN,NaN,NaN,NaN\n",
        );
        w(
            "overlay.csv",
            "variant,series,period,start,end,observed,sim_mean,sim_p05,sim_p50,sim_p95\n\
             both,monthly,2023-01,2023-01-01,2023-01-31,40,50,49,50,51\n\
             both,monthly,2023-02,2023-02-01,2023-02-28,45,50,49,50,51\n\
             both,monthly,2023-03,2023-03-01,2023-03-31,42,50,49,50,51\n\
             both,total,2023-01..2023-03,2023-01-01,2023-03-31,130,150,147,150,153\n\
             neither,monthly,2023-01,2023-01-01,2023-01-31,40,100,98,100,102\n\
             neither,monthly,2023-02,2023-02-01,2023-02-28,45,100,98,100,102\n\
             neither,monthly,2023-03,2023-03-01,2023-03-31,42,100,98,100,102\n\
             neither,total,2023-01..2023-03,2023-01-01,2023-03-31,130,300,297,300,303\n",
        );
        w(
            "variants.csv",
            "variant,description,overrides\n\
             both,STCA extension and resettlement quota,policies.stca_extension.enabled = true\n\
             neither,neither the extension nor the quota,policies.stca_extension.enabled = false\n",
        );
        w(
            "policies.csv",
            "variant,policy,enabled,start,end\n\
             both,stca_ports,true,2004-12-29,\n\
             both,stca_extension,true,2023-02-15,\n\
             neither,stca_ports,true,2004-12-29,\n\
             neither,stca_extension,false,2023-02-15,\n",
        );
        w(
            "scenario.toml",
            "[scenario]\nname = \"tiny\"\ndescription = \"A <tiny> & 'test' scenario\"\n\
             start = 2023-01-01\nend = 2023-03-31\nseed = 1\n\n\
             [[observed]]\nname = \"monthly\"\ndescription = \"Things by month\"\naggregate = \"month\"\n\n\
             [[observed]]\nname = \"total\"\ndescription = \"Things in the quarter\"\naggregate = \"period\"\n",
        );
        w(
            "manifest.json",
            r#"{"northbound_version": "0.1.0", "command": "compare", "scenario": "tiny.toml",
                "scenario_name": "tiny", "scenario_sha256": "abcdef0123456789", "seed": 1,
                "threads": 2, "start": "2023-01-01", "end": "2023-03-31", "scale": 1.0,
                "replicates": 2, "variants": ["both", "neither"], "agents": 10,
                "agent_days": 900, "wall_seconds": 0.25}"#,
        );
    }

    fn tiny() -> (tempfile::TempDir, Comparison) {
        let dir = tempfile::tempdir().unwrap();
        tiny_folder(dir.path());
        let c = Comparison::load(dir.path()).unwrap();
        (dir, c)
    }

    #[test]
    fn a_folder_loads_with_its_order_months_and_policies() {
        let (_d, c) = tiny();
        assert_eq!(c.order, ["both", "neither"]);
        assert_eq!(c.months.len(), 3);
        assert_eq!(c.name_and_description().0, "tiny");
        assert_eq!(c.marker_variant(), "both");
        let classes: Vec<Option<CrossingClass>> = c.crossings().iter().map(|p| p.class()).collect();
        assert_eq!(
            classes,
            [
                Some(CrossingClass::Irregular),
                Some(CrossingClass::LandPort),
                Some(CrossingClass::Airport)
            ]
        );
        // Policy dates inside the window become markers, only where the policy is on.
        let m = c.markers("both");
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].label, "STCA extension");
        assert!((m[0].x - plot::date_x(Date::parse("2023-02-15").unwrap())).abs() < 1e-12);
        assert!(c.markers("neither").is_empty());
    }

    #[test]
    fn outcome_totals_add_up_the_means_by_kind_of_crossing() {
        let (_d, c) = tiny();
        let totals = outcome_totals(&c);
        let get = |short: &str| {
            totals
                .iter()
                .find(|s| s.short == short)
                .unwrap()
                .values
                .clone()
        };
        assert_eq!(get("irregular"), [150.0, 300.0]);
        assert_eq!(get("land ports"), [30.0, 60.0]);
        assert_eq!(get("airports"), [6.0, 12.0]);
        assert_eq!(get("returned"), [9.0, 9.0]);
        assert_eq!(get("resettled"), [9.0, 0.0]);
        assert_eq!(get("evaded"), [0.0, 0.0]);
    }

    #[test]
    fn every_figure_is_specified_with_its_title() {
        let (_d, c) = tiny();
        let figs = comparison_figures(&c);
        let stems: Vec<&str> = figs.iter().map(|f| f.stem).collect();
        assert_eq!(
            stems,
            [
                "crossings_by_variant",
                "panel_2x2",
                "outcomes",
                "displacement",
                "overlay"
            ]
        );
        for f in &figs {
            assert_eq!(f.chart.title, title(f.stem, "Roxham Road"));
            assert!(!f.caption.is_empty());
        }
        // The 2 x 2 keeps its shape: cells not run are said to be so.
        let Body::Grid(rows) = &figs[1].chart.body else {
            panic!("a grid")
        };
        let empty = rows
            .iter()
            .flatten()
            .filter(|p| matches!(p, Panel::Empty { .. }))
            .count();
        assert_eq!(empty, 2);
        // The outcomes drop the segment that is zero everywhere (evasions).
        let Body::Stacked(s) = &figs[2].chart.body else {
            panic!("stacked bars")
        };
        assert_eq!(s.segments.len(), 5);
        // The monthly series is a time panel, the quarter an interval panel.
        let Body::Grid(rows) = &figs[4].chart.body else {
            panic!("a grid")
        };
        assert!(matches!(rows[0][0], Panel::Time(_)));
        assert!(matches!(rows[1][0], Panel::Intervals(_)));
    }

    #[test]
    fn without_effects_or_observed_series_those_figures_are_left_out() {
        let (d, _) = tiny();
        std::fs::write(d.path().join("effects.csv"), "").unwrap();
        std::fs::write(d.path().join("overlay.csv"), "").unwrap();
        let c = Comparison::load(d.path()).unwrap();
        let stems: Vec<&str> = comparison_figures(&c).iter().map(|f| f.stem).collect();
        assert_eq!(stems, ["crossings_by_variant", "panel_2x2", "outcomes"]);
    }

    #[test]
    fn bad_files_are_errors_that_name_the_file_and_line() {
        let cases: [(&str, &str, &str); 5] = [
            (
                "summary.csv",
                "variant,month,place,metric,mean,p05,p50,p95\nboth,2023-01,Border,arrivals,1,1,1,1\nboth,2023-13,Border,arrivals,1,1,1,1\n",
                "summary.csv:3: month: \"2023-13\"",
            ),
            (
                "summary.csv",
                "variant,month,place,metric,mean,p05,p50,p95\nboth,2023-01,Border,arrivals,one,1,1,1\n",
                "summary.csv:2: column \"mean\"",
            ),
            (
                "policies.csv",
                "variant,policy,enabled,start,end\nboth,busing,yes,2023-01-01,\n",
                "policies.csv:2: column \"enabled\"",
            ),
            (
                "effects.csv",
                "variant,effect,mean,p05,p50,p95\nboth,diff_roxham,1\n",
                "effects.csv:2:",
            ),
            (
                "scenario.toml",
                "[scenario\n",
                "scenario.toml: TOML parse error at line 1",
            ),
        ];
        for (file, text, want) in cases {
            let (d, _) = tiny();
            std::fs::write(d.path().join(file), text).unwrap();
            let err = redraw(d.path()).unwrap_err().to_string();
            assert!(err.contains(want), "{file}: got {err:?}, want {want:?}");
        }
        let (d, _) = tiny();
        std::fs::remove_file(d.path().join("variants.csv")).unwrap();
        let err = redraw(d.path()).unwrap_err().to_string();
        assert!(err.contains("variants.csv: cannot read"), "{err}");
        let empty = tempfile::tempdir().unwrap();
        let err = redraw(empty.path()).unwrap_err().to_string();
        assert!(err.contains("holds neither a comparison"), "{err}");
    }

    #[test]
    fn the_overlay_draws_with_its_title() {
        let (d, c) = tiny();
        let fig = overlay(&c).unwrap();
        let files = plot::save_chart(&fig.chart, d.path(), fig.stem).unwrap();
        assert_eq!(files, ["overlay.png", "overlay.svg"]);
        let svg = std::fs::read_to_string(d.path().join("overlay.svg")).unwrap();
        assert!(svg.contains(&title("overlay", "Roxham Road")));
        assert!(svg.contains("Things in the quarter"));
        let png = std::fs::read(d.path().join("overlay.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }
}
