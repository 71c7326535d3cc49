//! The figures of a run, drawn from its `monthly.csv`, `places.csv` and `policies.csv`:
//! `crossings` (attempts by crossing point) and `outcomes` (claims, returns, evasions and
//! resettlements), each by month with the policy dates marked.

use crate::output::CrossingObservation;
use crate::present::chart::{
    Body, Chart, Drawn, Glyph, LegendItem, Marker, Panel, TimePanel, Trace, month_x, series_color,
};
use crate::present::files::{self, CrossingClass, PlaceRecord, read_csv};
use crate::util::date::Month;
use crate::util::error::Result;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A row of a run's `monthly.csv`.
#[derive(Debug, Deserialize)]
struct MonthlyRecord {
    month: String,
    place: String,
    metric: String,
    value: f64,
}

/// A line of a figure: its legend label, its value by month, and observations of the same
/// place (their legend label and points), if the scenario declares any.
struct Line {
    label: String,
    values: BTreeMap<Month, f64>,
    observed: Option<(String, Vec<(f64, f64)>)>,
}

/// The run's monthly rows, their months parsed.
fn read_monthly(dir: &Path) -> Result<Vec<(Month, MonthlyRecord)>> {
    let path = dir.join("monthly.csv");
    let mut out = Vec::new();
    for (line, r) in read_csv::<MonthlyRecord>(&path)? {
        out.push((files::parse_month(&path, line, &r.month)?, r));
    }
    Ok(out)
}

/// `metric` summed by month over the places `keep` accepts.
fn line(
    monthly: &[(Month, MonthlyRecord)],
    label: &str,
    metric: &str,
    keep: impl Fn(&str) -> bool,
) -> Line {
    let mut values = BTreeMap::new();
    for (m, r) in monthly
        .iter()
        .filter(|(_, r)| r.metric == metric && keep(&r.place))
    {
        *values.entry(*m).or_insert(0.0) += r.value;
    }
    Line {
        label: label.to_string(),
        values,
        observed: None,
    }
}

/// A one-panel chart of monthly lines, in the palette's colours.
fn chart(title: &str, y_label: &str, lines: &[Line], files: &RunFiles) -> Chart {
    let color = series_color;
    Chart {
        title: title.into(),
        subtitle: if files.markers.is_empty() {
            String::new()
        } else {
            "Dashed vertical lines: the dates policies start or end".into()
        },
        legend: lines
            .iter()
            .enumerate()
            .map(|(i, l)| LegendItem {
                label: l.label.clone(),
                color: color(i),
                glyph: Glyph::Line,
            })
            .chain(lines.iter().enumerate().filter_map(|(i, l)| {
                l.observed.as_ref().map(|(label, _)| LegendItem {
                    label: label.clone(),
                    color: color(i),
                    glyph: Glyph::Dot,
                })
            }))
            .collect(),
        body: Body::Grid(vec![vec![Panel::Time(TimePanel {
            title: String::new(),
            y_label: y_label.into(),
            x_range: Some(files.x_range),
            y_max: None,
            traces: lines
                .iter()
                .enumerate()
                .map(|(i, l)| Trace {
                    color: color(i),
                    dashed: false,
                    band: false,
                    points: l
                        .values
                        .iter()
                        .map(|(m, v)| (month_x(*m), *v, *v, *v))
                        .collect(),
                })
                .collect(),
            observed: Vec::new(),
            observed_in: lines
                .iter()
                .enumerate()
                .filter_map(|(i, l)| l.observed.as_ref().map(|(_, pts)| (color(i), pts.clone())))
                .collect(),
            markers: files.markers.clone(),
        })]]),
    }
}

/// What the figures of a run read from its folder.
struct RunFiles {
    monthly: Vec<(Month, MonthlyRecord)>,
    places: Vec<PlaceRecord>,
    x_range: (f64, f64),
    markers: Vec<Marker>,
    /// The observations of series over one crossing (`observed_crossings.csv`).
    observed: Vec<CrossingObservation>,
}

impl RunFiles {
    fn load(dir: &Path) -> Result<RunFiles> {
        let monthly = read_monthly(dir)?;
        let places = files::read_places(dir)?;
        let first = monthly.iter().map(|m| m.0).min().unwrap_or(Month(0));
        let last = monthly.iter().map(|m| m.0).max().unwrap_or(Month(0));
        let x_range = (f64::from(first.0), f64::from(last.0 + 1));
        let markers = files::markers(&files::read_policies_if_any(dir)?, x_range);
        let observed = files::read_crossing_observations(dir)?;
        Ok(RunFiles {
            monthly,
            places,
            x_range,
            markers,
            observed,
        })
    }

    /// The names of the crossings whose class `keep` accepts.
    fn crossings(&self, keep: impl Fn(CrossingClass) -> bool) -> Vec<&str> {
        self.places
            .iter()
            .filter(|p| p.class().is_some_and(&keep))
            .map(|p| p.place.as_str())
            .collect()
    }
}

/// The figures of the run folder `dir`.
pub fn run_figures(dir: &Path) -> Result<Vec<Drawn>> {
    let f = RunFiles::load(dir)?;
    let by_crossing: Vec<Line> = f
        .places
        .iter()
        .filter(|p| p.kind == "crossing")
        .map(|p| {
            let mut l = line(&f.monthly, &p.label(), "attempts", |q| q == p.place);
            l.observed = files::observed_at(&f.observed, &p.place);
            l
        })
        .collect();
    let irregular = f.crossings(|c| c == CrossingClass::Irregular);
    let ports = f.crossings(|c| c != CrossingClass::Irregular);
    let m = &f.monthly;
    let outcomes = [
        line(m, "claims after crossing between ports", "claims", |p| {
            irregular.contains(&p)
        }),
        line(m, "claims at official ports", "claims", |p| {
            ports.contains(&p)
        }),
        line(
            m,
            "returned to the US (events: a person may be returned twice)",
            "returned",
            |_| true,
        ),
        line(m, "evaded for the window, claimed inland", "evaded", |_| {
            true
        }),
        line(m, "resettled through the quota", "resettled", |_| true),
    ];
    Ok(vec![
        Drawn {
            stem: "crossings".into(),
            caption: "Crossing attempts per month at each crossing point (a person returned \
                      to the US may try again), with the observations the scenario declares \
                      at a crossing as dots of its colour."
                .into(),
            chart: chart(
                "Monthly crossing attempts by crossing point",
                "crossing attempts per month",
                &by_crossing,
                &f,
            ),
        },
        Drawn {
            stem: "outcomes".into(),
            caption: "Claims, evasions and resettlements (people) and returns (events) per \
                      month."
                .into(),
            chart: chart(
                "Monthly outcomes at the border",
                "people per month (returns: events)",
                &outcomes,
                &f,
            ),
        },
    ])
}
