//! The figures of a validation, one `overlay-<series>` per observed series, drawn from its
//! `validation.csv`, with `observed.csv` (what each series is) and `policies.csv` (the policy
//! dates) where the folder has them: observed points against the simulated median and its
//! 90% interval, in the design of a comparison's overlay.

use crate::data::Observation;
use crate::experiment::validation::ValidationRow;
use crate::present::chart::{Body, Chart, Drawn, Glyph, LegendItem, series_color};
use crate::present::files::{self, PolicyDates, bad, read_csv, strip};
use crate::present::overlay::{ObservedInfo, Overlay, Period, Simulated};
use crate::util::error::Result;
use plotters::style::RGBColor;
use std::path::Path;

/// A series name as a file name.
pub use crate::util::names::file_stem;

/// The series of `validation.csv`, in the order of its rows, and whether its replicates
/// ran over a posterior.
fn overlays(dir: &Path) -> Result<(Vec<Overlay>, bool)> {
    let opath = dir.join("observed.csv");
    let info: Vec<ObservedInfo> = if opath.is_file() {
        strip(read_csv(&opath)?)
    } else {
        Vec::new()
    };
    let path = dir.join("validation.csv");
    let mut out: Vec<Overlay> = Vec::new();
    let mut over_posterior = false;
    for (line, r) in read_csv::<ValidationRow>(&path)? {
        over_posterior |= r.uncertainty == "parameters and replicates";
        let Some((start, end)) = Observation::parse_label(&r.period) else {
            return Err(bad(
                &path,
                line,
                format!(
                    "period: \"{}\" is not a period (YYYY, YYYY-MM or FROM..TO)",
                    r.period
                ),
            ));
        };
        let k = match out.iter().position(|o| o.name == r.series) {
            Some(k) => k,
            None => {
                out.push(Overlay {
                    info: info.iter().find(|i| i.name == r.series).cloned(),
                    name: r.series.clone(),
                    periods: Vec::new(),
                    observed: Vec::new(),
                    simulated: vec![Simulated {
                        color: series_color(0),
                        dashed: false,
                        values: Vec::new(),
                        months: Vec::new(),
                    }],
                });
                out.len() - 1
            }
        };
        let o = &mut out[k];
        o.periods.push(Period {
            label: r.period,
            first: start.month(),
            last: end.month(),
        });
        o.observed.push(Some(r.observed));
        o.simulated[0]
            .values
            .push(Some((r.sim_p05, r.sim_p50, r.sim_p95)));
    }
    // The simulated line of each monthly series on every month, where the folder has it.
    for (line, m, r) in files::read_month_rows(dir, "validation_months.csv")? {
        let _ = line;
        if let Some(o) = out.iter_mut().find(|o| o.name == r.series) {
            o.simulated[0]
                .months
                .push((m, r.sim_p05, r.sim_p50, r.sim_p95));
        }
    }
    Ok((out, over_posterior))
}

fn figure(o: &Overlay, policies: &[PolicyDates], over_posterior: bool) -> Drawn {
    let over = if over_posterior {
        "the replicates, each with a particle of the posterior"
    } else {
        "the replicates"
    };
    let markers = files::markers(policies, o.x_range().unwrap_or((0.0, 0.0)));
    let (glyph, shown) = if o.is_time() {
        (Glyph::Band, "median (line) and 90% band (shaded)")
    } else {
        (Glyph::Whisker, "median and 90% interval")
    };
    Drawn {
        stem: format!("overlay-{}", file_stem(&o.name)),
        caption: format!(
            "{}: observed (black) against the simulated {shown} over {over}.",
            o.heading()
        ),
        chart: Chart {
            title: o.heading(),
            subtitle: format!(
                "Observed (black) and the simulated {shown} over {over}{}",
                if o.is_time() && !markers.is_empty() {
                    "; dashed vertical lines: policy dates"
                } else {
                    ""
                }
            ),
            legend: vec![
                LegendItem {
                    label: "observed".into(),
                    color: RGBColor(0, 0, 0),
                    glyph: Glyph::Dot,
                },
                LegendItem {
                    label: "simulated (median, 90% interval)".into(),
                    color: series_color(0),
                    glyph,
                },
            ],
            body: Body::Grid(vec![vec![o.panel(String::new(), &markers)]]),
        },
    }
}

/// The figures of the validation folder `dir`.
pub fn validation_figures(dir: &Path) -> Result<Vec<Drawn>> {
    let policies = files::read_policies_if_any(dir)?;
    let (overlays, over_posterior) = overlays(dir)?;
    Ok(overlays
        .iter()
        .map(|o| figure(o, &policies, over_posterior))
        .collect())
}
