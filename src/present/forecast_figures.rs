//! The figure of a forecast, `forecast_attempts`, drawn from its `forecast.csv`,
//! `context.csv`, `observed.csv`, `places.csv`, `policies.csv` and `replicates.csv`:
//! monthly crossing attempts at the focus crossing (Roxham Road), at all irregular crossings
//! where there are several, and at all land ports, each with the median and 90% band over
//! the replicates and the policy dates marked. Before the forecast, the same for the last
//! months of the run-in (in grey), and, where the scenario declares an observed series over
//! the same places, its months before the forecast, as calibration context.

use crate::experiment::forecast::{ALL_IRREGULAR, ALL_LAND_PORTS, CONTEXT_MONTHS};
use crate::present::chart::{
    Body, Chart, Drawn, Glyph, LegendItem, Panel, TimePanel, Trace, month_x, series_color,
};
use crate::present::files::{self, CrossingClass, PlaceRecord, bad, read_csv};
use crate::util::date::Month;
use crate::util::error::Result;
use plotters::style::RGBColor;
use serde::Deserialize;
use std::path::Path;

/// The figure's title, for the forecast's first month `from`.
pub fn title(from: &str) -> String {
    format!("Forecast of monthly crossing attempts from {from}")
}

#[derive(Debug, Deserialize)]
struct ForecastRecord {
    month: String,
    place: String,
    metric: String,
    p05: f64,
    p50: f64,
    p95: f64,
}

#[derive(Debug, Deserialize)]
struct ObservedRecord {
    series: String,
    description: String,
    metric: String,
    place: String,
    month: String,
    value: f64,
}

#[derive(Debug, Deserialize)]
struct ReplicateRecord {
    replicate: u32,
    particle: String,
}

/// Attempts at a place in a month: `(month, place, p05, p50, p95)`.
type Attempts = (Month, String, f64, f64, f64);

/// The attempts rows of a `forecast.csv` or a `context.csv`.
fn read_attempts(path: &Path) -> Result<Vec<Attempts>> {
    let mut out = Vec::new();
    for (line, r) in read_csv::<ForecastRecord>(path)? {
        let m = files::parse_month(path, line, &r.month)?;
        if r.metric == "attempts" {
            out.push((m, r.place, r.p05, r.p50, r.p95));
        }
    }
    Ok(out)
}

/// What the figure reads from a forecast folder.
struct ForecastFiles {
    attempts: Vec<Attempts>,
    /// The simulated months before the forecast.
    context: Vec<Attempts>,
    observed: Vec<(Month, ObservedRecord)>,
    places: Vec<PlaceRecord>,
    policies: Vec<files::PolicyDates>,
    replicates: usize,
    with_particles: bool,
}

impl ForecastFiles {
    fn load(dir: &Path) -> Result<ForecastFiles> {
        let path = dir.join("forecast.csv");
        let attempts = read_attempts(&path)?;
        if attempts.is_empty() {
            return Err(bad(&path, 1, "no attempts rows: nothing to draw".into()));
        }
        let path = dir.join("context.csv");
        let context = if path.is_file() {
            read_attempts(&path)?
        } else {
            Vec::new()
        };
        let path = dir.join("observed.csv");
        let mut observed = Vec::new();
        if path.is_file() {
            for (line, r) in read_csv::<ObservedRecord>(&path)? {
                observed.push((files::parse_month(&path, line, &r.month)?, r));
            }
        }
        let path = dir.join("replicates.csv");
        let (mut replicates, mut with_particles) = (0, false);
        if path.is_file() {
            let mut seen = std::collections::BTreeSet::new();
            for (_, r) in read_csv::<ReplicateRecord>(&path)? {
                seen.insert(r.replicate);
                with_particles |= !r.particle.is_empty();
            }
            replicates = seen.len();
        }
        Ok(ForecastFiles {
            attempts,
            context,
            observed,
            places: files::read_places(dir)?,
            policies: files::read_policies_if_any(dir)?,
            replicates,
            with_particles,
        })
    }

    fn from(&self) -> Month {
        self.attempts.iter().map(|a| a.0).min().unwrap_or(Month(0))
    }

    fn to(&self) -> Month {
        self.attempts.iter().map(|a| a.0).max().unwrap_or(Month(0))
    }

    /// The places drawn, with their panel titles: the focus crossing (Roxham Road, else
    /// the first irregular crossing), all irregular crossings when there are several, all
    /// land ports; those the forecast has.
    fn panels(&self) -> Vec<(String, String)> {
        let irregular: Vec<&PlaceRecord> = self
            .places
            .iter()
            .filter(|p| p.class() == Some(CrossingClass::Irregular))
            .collect();
        let focus = irregular
            .iter()
            .find(|p| p.place == "Roxham Road")
            .or(irregular.first());
        let mut out = Vec::new();
        if let Some(p) = focus {
            out.push((p.place.clone(), p.label()));
        }
        if irregular.len() > 1 {
            let names: Vec<&str> = irregular.iter().map(|p| p.place.as_str()).collect();
            out.push((
                ALL_IRREGULAR.into(),
                format!("{ALL_IRREGULAR} ({})", names.join(", ")),
            ));
        }
        out.push((
            ALL_LAND_PORTS.into(),
            format!("{ALL_LAND_PORTS} (ports where the STCA applies)"),
        ));
        out.retain(|(place, _)| self.attempts.iter().any(|a| &a.1 == place));
        out
    }

    /// The simulated months shown before the forecast, for a place.
    fn simulated_context<'a>(&'a self, place: &'a str) -> impl Iterator<Item = &'a Attempts> {
        let (from, lo) = (self.from(), Month(self.from().0 - CONTEXT_MONTHS));
        self.context
            .iter()
            .filter(move |a| a.1 == place && a.0 >= lo && a.0 < from)
    }

    /// The observed months shown before the forecast, for a place.
    fn context<'a>(&'a self, place: &'a str) -> impl Iterator<Item = &'a (Month, ObservedRecord)> {
        let (from, lo) = (self.from(), Month(self.from().0 - CONTEXT_MONTHS));
        self.observed
            .iter()
            .filter(move |(m, r)| r.place == place && *m >= lo && *m < from)
    }
}

/// The figures of the forecast folder `dir`.
pub fn forecast_figures(dir: &Path) -> Result<Vec<Drawn>> {
    let f = ForecastFiles::load(dir)?;
    let panels = f.panels();
    let first = panels
        .iter()
        .flat_map(|(place, _)| {
            f.context(place)
                .map(|o| o.0)
                .chain(f.simulated_context(place).map(|a| a.0))
        })
        .min()
        .unwrap_or(f.from());
    let x_range = (f64::from(first.0), f64::from(f.to().0 + 1));
    let markers = files::markers(&f.policies, x_range);
    let (black, grey) = (RGBColor(0, 0, 0), RGBColor(120, 120, 120));
    let trace = |color: RGBColor, points: Vec<(f64, f64, f64, f64)>| Trace {
        color,
        dashed: false,
        band: true,
        points,
    };
    let points = |rows: &mut dyn Iterator<Item = &Attempts>| -> Vec<(f64, f64, f64, f64)> {
        rows.map(|a| (month_x(a.0), a.2, a.3, a.4)).collect()
    };
    let mut series: Vec<(String, String, String)> = Vec::new();
    let grid: Vec<Vec<Panel>> = panels
        .iter()
        .map(|(place, title)| {
            for (_, o) in f.context(place) {
                let s = (o.series.clone(), o.description.clone(), o.metric.clone());
                if !series.contains(&s) {
                    series.push(s);
                }
            }
            vec![Panel::Time(TimePanel {
                title: title.clone(),
                y_label: "attempts (people per month)".into(),
                x_range: Some(x_range),
                y_max: None,
                traces: vec![
                    trace(grey, points(&mut f.simulated_context(place))),
                    trace(
                        series_color(0),
                        points(&mut f.attempts.iter().filter(|a| &a.1 == place)),
                    ),
                ],
                observed: f
                    .context(place)
                    .map(|(m, o)| (month_x(*m), o.value))
                    .collect(),
                observed_in: Vec::new(),
                markers: markers.clone(),
            })]
        })
        .collect();
    let from = f.from().to_string();
    let over = match (f.replicates, f.with_particles) {
        (0, _) => "the replicates".to_string(),
        (1, true) => "1 replicate with a parameter set drawn from the posterior".to_string(),
        (1, false) => "1 replicate".to_string(),
        (n, true) => format!("{n} replicates, each with a parameter set drawn from the posterior"),
        (n, false) => format!("{n} replicates (run-to-run noise only)"),
    };
    let mut legend = vec![LegendItem {
        label: format!("forecast from {from}: median and 90% band"),
        color: series_color(0),
        glyph: Glyph::Band,
    }];
    if !f.context.is_empty() {
        legend.push(LegendItem {
            label: format!("simulated before {from} (the run-in)"),
            color: grey,
            glyph: Glyph::Band,
        });
    }
    legend.extend(series.iter().map(|(name, description, metric)| LegendItem {
        label: format!("observed before {from}: {description} ({name}, {metric})"),
        color: black,
        glyph: Glyph::Dot,
    }));
    let mut context = String::new();
    if !f.context.is_empty() {
        context.push_str(&format!(
            "; grey: the months before {from}, simulated the same way"
        ));
    }
    if !series.is_empty() {
        context.push_str(&format!(
            "; black points: observed months before {from} (calibration context; nothing \
             observed from {from} on is used)"
        ));
    }
    let marks = if markers.is_empty() {
        ""
    } else {
        "; dashed vertical lines: policy dates"
    };
    Ok(vec![Drawn {
        stem: "forecast_attempts".into(),
        caption: format!(
            "Crossing attempts per month from {from}: the median (line) and 90% band (shaded) \
             over {over}{context}."
        ),
        chart: Chart {
            title: title(&from),
            subtitle: format!("Median (line) and 90% band (shaded) over {over}{context}{marks}"),
            legend,
            body: Body::Grid(grid),
        },
    }])
}
