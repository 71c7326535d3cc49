//! The forecast: what a scenario says for the months from `from` on (by default the month
//! the STCA extension starts), over replicates and, given a posterior, over its parameter
//! sets; and, with a posterior, how much the forecast moves across it and which parameters
//! move it ([`identification`]).
//!
//! Replicate `r` runs with the seed [`ensemble::replicate_seed`]`(seed, r)` and, with a
//! posterior, the particle [`Posterior::draws`]`(R, seed)[r]`: a forecast is a function of
//! (scenario, posterior, seed, replicates) alone, whatever the thread count. Every run
//! simulates the whole window (the months before `from` are the run-in); the months from
//! `from` on are the forecast, for every crossing and for two aggregates, all irregular
//! crossings and all land ports (ports where the STCA applies; airports are ports without
//! it). The last [`CONTEXT_MONTHS`] months of the run-in are summarised too, to be shown
//! beside the observed months before `from` as the context of the forecast. Nothing here
//! reads an observed value from `from` on: the forecast is blind to them. (The inflows are
//! inputs, read as the scenario gives them, observed encounters included.)

use crate::experiment::ensemble;
use crate::experiment::identification::Design;
use crate::experiment::posterior::Posterior;
use crate::model::engine::{self, Results, RunOptions};
use crate::output;
use crate::scenario::{CrossingKind, Metric, Scenario, Target};
use crate::util::date::Month;
use crate::util::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The aggregate of every irregular crossing.
pub const ALL_IRREGULAR: &str = "All irregular crossings";
/// The aggregate of every land port (a port where the STCA applies).
pub const ALL_LAND_PORTS: &str = "All land ports";
/// The metrics forecast.
pub const METRICS: [Metric; 4] = [
    Metric::Attempts,
    Metric::Intercepted,
    Metric::Claims,
    Metric::Returned,
];
/// Months from `from` that the interceptions outcome of the identification covers.
pub const FIRST_MONTHS: i32 = 12;
/// Months before `from`, simulated and observed, kept as the forecast's context.
pub const CONTEXT_MONTHS: i32 = 12;

/// A place of the forecast: a crossing, or an aggregate of crossings (indices into the
/// scenario's places).
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub name: String,
    pub places: Vec<usize>,
}

/// Every crossing of the scenario, in its order, then [`ALL_IRREGULAR`] and
/// [`ALL_LAND_PORTS`].
pub fn areas(sc: &Scenario) -> Vec<Area> {
    let crossings = |keep: &dyn Fn(&crate::scenario::Place) -> bool| -> Vec<usize> {
        (0..sc.places.len())
            .filter(|&i| sc.places[i].crossing.is_some() && keep(&sc.places[i]))
            .collect()
    };
    let mut out: Vec<Area> = crossings(&|_| true)
        .into_iter()
        .map(|i| Area {
            name: sc.places[i].name.clone(),
            places: vec![i],
        })
        .collect();
    out.push(Area {
        name: ALL_IRREGULAR.into(),
        places: crossings(&|p| p.crossing == Some(CrossingKind::Irregular)),
    });
    out.push(Area {
        name: ALL_LAND_PORTS.into(),
        places: crossings(&|p| p.crossing == Some(CrossingKind::Port) && p.stca),
    });
    out
}

/// The month the scenario's STCA extension starts: the default first month of a forecast.
pub fn extension_month(sc: &Scenario) -> Option<Month> {
    sc.policies
        .iter()
        .find(|p| p.rule.name() == "stca_extension")
        .map(|p| p.rule.dates().0.month())
}

fn argument_error(sc: &Scenario, problem: String) -> Error {
    Error::Invalid {
        path: sc.path.clone(),
        problems: vec![problem],
    }
}

/// The first month of the forecast: `from`, else the month the extension starts; it must
/// fall inside the window.
pub fn first_month(sc: &Scenario, from: Option<Month>) -> Result<Month> {
    let (m, what) = match from {
        Some(m) => (m, format!("--from {m}")),
        None => {
            let m = extension_month(sc).ok_or_else(|| {
                argument_error(
                    sc,
                    "--from: the scenario has no [policies.stca_extension] to start the forecast at; pass --from YYYY-MM".into(),
                )
            })?;
            (
                m,
                format!("--from (by default the month the STCA extension starts, {m})"),
            )
        }
    };
    let (first, last) = (sc.start.month(), sc.end.month());
    if m < first || m > last {
        return Err(argument_error(
            sc,
            format!("{what}: outside the scenario's window, {first} to {last}"),
        ));
    }
    Ok(m)
}

/// The posterior a forecast runs over, with what the identification needs.
#[derive(Debug, Clone)]
pub struct PosteriorUse {
    pub path: PathBuf,
    /// The file as it was read (copied into the result folder as it is hashed).
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub params: Vec<String>,
    /// `[parameter][replicate]`: the drawn particles' values, as in the file.
    pub values: Vec<Vec<f64>>,
    design: Design,
}

/// What a forecast runs: the scenarios, the replicates and their particles.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    pub base: &'a Scenario,
    pub from: Month,
    /// The months forecast, from `from` to the end of the window.
    pub months: Vec<Month>,
    /// The months of the run-in kept as context: up to [`CONTEXT_MONTHS`] before `from`.
    pub context: Vec<Month>,
    pub areas: Vec<Area>,
    pub seed: u64,
    pub replicates: u32,
    pub posterior: Option<PosteriorUse>,
    /// The base scenario alone, or one scenario per particle drawn.
    scenarios: Vec<Scenario>,
    /// Per replicate: its scenario (index into `scenarios`) and particle id.
    runs: Vec<(usize, Option<u64>)>,
}

impl<'a> Setup<'a> {
    /// Checks everything a user gave before any work: the first month (`from`, else the
    /// extension's), each drawn particle's scenario, and that the identification's
    /// regression can be solved.
    pub fn new(
        base: &'a Scenario,
        posterior: Option<&Posterior>,
        replicates: u32,
        seed: u64,
        from: Option<Month>,
    ) -> Result<Setup<'a>> {
        let from = first_month(base, from)?;
        let months = (from.0..=base.end.month().0).map(Month).collect();
        let context = ((from.0 - CONTEXT_MONTHS).max(base.start.month().0)..from.0)
            .map(Month)
            .collect();
        let mut setup = Setup {
            base,
            from,
            months,
            context,
            areas: areas(base),
            seed,
            replicates,
            posterior: None,
            scenarios: Vec::new(),
            runs: Vec::new(),
        };
        let Some(post) = posterior else {
            setup.scenarios.push(base.clone());
            setup.runs = vec![(0, None); replicates as usize];
            return Ok(setup);
        };
        let draws = post.draws(replicates, seed);
        let mut index: Vec<Option<usize>> = vec![None; post.particles.len()];
        for &k in &draws {
            if index[k].is_none() {
                let sc = post.scenario(base, k)?;
                same_frame(base, &sc, post, k)?;
                index[k] = Some(setup.scenarios.len());
                setup.scenarios.push(sc);
            }
            let id = post.particles[k].id;
            setup.runs.push((index[k].unwrap_or(0), Some(id)));
        }
        let values: Vec<Vec<f64>> = (0..post.params.len())
            .map(|j| draws.iter().map(|&k| post.particles[k].values[j]).collect())
            .collect();
        let design = Design::new(values.clone()).map_err(|c| Error::Invalid {
            path: post.path.clone(),
            problems: vec![format!(
                "identification: over the {replicates} replicates the parameter \"{}\" is a \
                 linear combination of the others (the particles drawn do not vary them \
                 independently), so the regression cannot tell their effects apart; pass more \
                 --replicates (more than the {} parameters) or use a posterior with more particles",
                post.params[c.0],
                post.params.len()
            )],
        })?;
        setup.posterior = Some(PosteriorUse {
            path: post.path.clone(),
            bytes: post.bytes.clone(),
            sha256: output::sha256_hex(&post.bytes),
            params: post.params.clone(),
            values,
            design,
        });
        Ok(setup)
    }

    /// `parameters and replicates` with a posterior, else `replicates`.
    pub fn uncertainty(&self) -> &'static str {
        if self.posterior.is_some() {
            "parameters and replicates"
        } else {
            "replicates"
        }
    }

    fn cell(&self, month: usize, area: usize, metric: usize) -> usize {
        cell(self.areas.len(), month, area, metric)
    }

    /// One run's values, `[month][area][metric]` flattened, in people, over the context's
    /// months then the forecast's.
    fn values(&self, sc: &Scenario, res: &Results) -> Vec<f64> {
        let months: Vec<&Month> = self.context.iter().chain(&self.months).collect();
        let mut out = vec![0.0; months.len() * self.areas.len() * METRICS.len()];
        for (mi, m) in months.into_iter().enumerate() {
            let first = m.first_day().0.max(sc.start.0) - sc.start.0;
            let last = (m.first_day().0 + m.days() as i32 - 1).min(sc.end.0) - sc.start.0;
            for (ai, a) in self.areas.iter().enumerate() {
                for (k, &metric) in METRICS.iter().enumerate() {
                    let mut n = 0u64;
                    for d in first..=last {
                        for &p in &a.places {
                            n += res.count(d as u32, p, metric);
                        }
                    }
                    out[self.cell(mi, ai, k)] = n as f64 * sc.scale;
                }
            }
        }
        out
    }

    /// The index of a forecast place by name.
    fn area(&self, name: &str) -> Option<usize> {
        self.areas.iter().position(|a| a.name == name)
    }
}

/// The index of a (month, area, metric) value in a replicate's values, with `areas` places.
fn cell(areas: usize, month: usize, area: usize, metric: usize) -> usize {
    (month * areas + area) * METRICS.len() + metric
}

/// Every particle's scenario keeps the base's places and window.
fn same_frame(base: &Scenario, sc: &Scenario, post: &Posterior, k: usize) -> Result<()> {
    let names = |s: &Scenario| s.places.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    if sc.start != base.start || sc.end != base.end || names(sc) != names(base) {
        return Err(Error::Invalid {
            path: post.path.clone(),
            problems: vec![format!(
                "particle {}: changes the places or the window of {}; a posterior may change parameters only",
                post.particles[k].id,
                base.path.display()
            )],
        });
    }
    Ok(())
}

/// A row of `forecast.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastRow {
    pub month: String,
    pub place: String,
    pub metric: &'static str,
    pub mean: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
}

/// A scalar outcome of each replicate.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub description: String,
    pub values: Vec<f64>,
}

/// A row of `identification.csv`: an outcome over the replicates and one parameter's part
/// in its spread.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentificationRow {
    pub outcome: String,
    pub description: String,
    pub mean: f64,
    pub p05: f64,
    pub p95: f64,
    /// Of the regression of the outcome on every parameter.
    pub r_squared: Option<f64>,
    pub parameter: String,
    /// Spearman's, between the parameter and the outcome over the replicates.
    pub rank_correlation: Option<f64>,
    /// The standardised regression coefficient.
    pub std_coefficient: Option<f64>,
    /// The coefficient's share of the explained variance (Pratt's measure).
    pub variance_share: Option<f64>,
}

/// What a forecast produced.
#[derive(Debug, Clone)]
pub struct Forecast {
    pub from: Month,
    pub months: Vec<Month>,
    pub areas: Vec<String>,
    pub uncertainty: &'static str,
    /// The rows of `forecast.csv`.
    pub rows: Vec<ForecastRow>,
    /// The same for the months of the context, before `from` (`context.csv`).
    pub context: Vec<ForecastRow>,
    /// Per replicate: its number, its particle and its values (`[month][area][metric]`).
    pub replicates: Vec<(u32, Option<u64>, Vec<f64>)>,
    pub outcomes: Vec<Outcome>,
    pub identification: Vec<IdentificationRow>,
    pub agents: u64,
    pub agent_days: u64,
}

impl Forecast {
    /// The mean, 5%, 50% and 95% quantiles of a (month, place, metric) over the replicates.
    pub fn row(&self, month: Month, place: &str, metric: Metric) -> Option<&ForecastRow> {
        let m = month.to_string();
        self.rows
            .iter()
            .find(|r| r.month == m && r.place == place && r.metric == metric.name())
    }

    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.name == name)
    }

    /// Each replicate's total of a metric at a place over the forecast's months (empty for
    /// a place it does not have).
    pub fn totals(&self, place: &str, metric: Metric) -> Vec<f64> {
        let (Some(a), Some(k)) = (
            self.areas.iter().position(|x| x == place),
            METRICS.iter().position(|&m| m == metric),
        ) else {
            return Vec::new();
        };
        self.replicates
            .iter()
            .map(|(_, _, v)| {
                (0..self.months.len())
                    .map(|mi| v[cell(self.areas.len(), mi, a, k)])
                    .sum()
            })
            .collect()
    }
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Runs the forecast's replicates in the current rayon pool, calling `done` as each
/// finishes.
pub fn forecast(s: &Setup, done: &(dyn Fn() + Sync)) -> Forecast {
    use rayon::prelude::*;
    let runs: Vec<(Vec<f64>, Vec<f64>, u64, u64)> = (0..s.replicates)
        .into_par_iter()
        .map(|r| {
            let sc = &s.scenarios[s.runs[r as usize].0];
            let opts = RunOptions {
                seed: Some(ensemble::replicate_seed(s.seed, r)),
                ..RunOptions::default()
            };
            let res = engine::simulate(sc, &opts);
            let mut values = s.values(sc, &res);
            let forecast = values.split_off(s.cell(s.context.len(), 0, 0));
            let out = (forecast, values, res.agents, res.agent_days);
            done();
            out
        })
        .collect();
    let rows = summarise(
        s,
        &s.months,
        &runs.iter().map(|r| &r.0[..]).collect::<Vec<_>>(),
    );
    let context = summarise(
        s,
        &s.context,
        &runs.iter().map(|r| &r.1[..]).collect::<Vec<_>>(),
    );
    let outcomes = outcomes(s, &runs.iter().map(|r| r.0.as_slice()).collect::<Vec<_>>());
    let identification = match &s.posterior {
        Some(p) => identify(p, &outcomes),
        None => Vec::new(),
    };
    Forecast {
        from: s.from,
        months: s.months.clone(),
        areas: s.areas.iter().map(|a| a.name.clone()).collect(),
        uncertainty: s.uncertainty(),
        rows,
        context,
        agents: runs.iter().map(|r| r.2).sum(),
        agent_days: runs.iter().map(|r| r.3).sum(),
        replicates: runs
            .into_iter()
            .enumerate()
            .map(|(r, run)| (r as u32, s.runs[r].1, run.0))
            .collect(),
        outcomes,
        identification,
    }
}

/// The rows of `months` (the forecast's or the context's) from each replicate's values
/// over them.
fn summarise(s: &Setup, months: &[Month], runs: &[&[f64]]) -> Vec<ForecastRow> {
    let mut rows = Vec::new();
    for (mi, m) in months.iter().enumerate() {
        for (ai, a) in s.areas.iter().enumerate() {
            for (k, metric) in METRICS.iter().enumerate() {
                let c = s.cell(mi, ai, k);
                let v: Vec<f64> = runs.iter().map(|r| r[c]).collect();
                let [mean, p05, p50, p95] = ensemble::summary(&v).map(|x| round_to(x, 1));
                rows.push(ForecastRow {
                    month: m.to_string(),
                    place: a.name.clone(),
                    metric: metric.name(),
                    mean,
                    p05,
                    p50,
                    p95,
                });
            }
        }
    }
    rows
}

/// A name for a file or an id: lower case, runs of other characters as `_`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// The scalar outcomes of every replicate: attempts at the focus crossing (Roxham Road)
/// and claims at the land ports over the forecast, returns to the US over the forecast,
/// and interceptions between ports over its first [`FIRST_MONTHS`] months.
pub fn outcomes(s: &Setup, runs: &[&[f64]]) -> Vec<Outcome> {
    let metric = |m: Metric| METRICS.iter().position(|&x| x == m).unwrap_or(0);
    let last = s.months.len();
    let span = |n: usize| match (s.months.first(), s.months.get(n.max(1) - 1)) {
        (Some(a), Some(b)) if a != b => format!("{a} to {b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    };
    let total = |areas: &[usize], m: Metric, months: usize| -> Vec<f64> {
        runs.iter()
            .map(|v| {
                let mut t = 0.0;
                for mi in 0..months {
                    for &a in areas {
                        t += v[s.cell(mi, a, metric(m))];
                    }
                }
                t
            })
            .collect()
    };
    let mut out = Vec::new();
    let focus = s
        .base
        .focus_crossing()
        .map(|i| s.base.places[i].name.clone());
    if let Some(name) = focus.as_ref()
        && let Some(a) = s.area(name)
    {
        out.push(Outcome {
            name: format!("attempts_{}", slug(name)),
            description: format!("crossing attempts at {name}, {}", span(last)),
            values: total(&[a], Metric::Attempts, last),
        });
    }
    if let Some(a) = s.area(ALL_LAND_PORTS) {
        out.push(Outcome {
            name: "claims_land_ports".into(),
            description: format!("asylum claims at all land ports, {}", span(last)),
            values: total(&[a], Metric::Claims, last),
        });
    }
    // The crossings come first, the two aggregates last.
    let crossings: Vec<usize> = (0..s.areas.len().saturating_sub(2)).collect();
    out.push(Outcome {
        name: "returned_to_us".into(),
        description: format!(
            "people returned to the US from every crossing, {}",
            span(last)
        ),
        values: total(&crossings, Metric::Returned, last),
    });
    if let Some(a) = s.area(ALL_IRREGULAR) {
        let n = last.min(FIRST_MONTHS as usize);
        out.push(Outcome {
            name: format!("intercepted_irregular_first_{FIRST_MONTHS}_months"),
            description: format!("interceptions at all irregular crossings, {}", span(n)),
            values: total(&[a], Metric::Intercepted, n),
        });
    }
    out
}

/// The identification rows: per outcome and parameter.
fn identify(p: &PosteriorUse, outcomes: &[Outcome]) -> Vec<IdentificationRow> {
    let r3 = |v: Option<f64>| v.map(|x| round_to(x, 3));
    let mut rows = Vec::new();
    for o in outcomes {
        let [mean, p05, _, p95] = ensemble::summary(&o.values).map(|x| round_to(x, 1));
        let id = p.design.identify(&o.values);
        for (j, param) in p.params.iter().enumerate() {
            rows.push(IdentificationRow {
                outcome: o.name.clone(),
                description: o.description.clone(),
                mean,
                p05,
                p95,
                r_squared: r3(id.r_squared),
                parameter: param.clone(),
                rank_correlation: r3(id.rank_correlation[j]),
                std_coefficient: r3(id.coefficient[j]),
                variance_share: r3(id.share[j]),
            });
        }
    }
    rows
}

/// A row of a forecast's `observed.csv`: an observed month before the forecast, of a series
/// the scenario declares over exactly the places of one of the forecast's places: the
/// calibration context its figure shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedRow {
    pub series: String,
    pub description: String,
    pub metric: &'static str,
    pub place: String,
    pub month: String,
    pub value: f64,
}

/// The observed context: every calendar-month point before `from` of the scenario's
/// observed series that sum a metric over the places of a forecast place. Points from
/// `from` on are never read: the forecast is blind to them.
pub fn observed_context(sc: &Scenario, from: Month) -> Vec<ObservedRow> {
    let areas = areas(sc);
    let mut rows = Vec::new();
    for s in &sc.observed {
        let Target::Sum { metric, places } = &s.target else {
            continue;
        };
        let mut set: Vec<usize> = places.iter().map(|&p| p as usize).collect();
        set.sort_unstable();
        set.dedup();
        let Some(area) = areas
            .iter()
            .find(|a| !a.places.is_empty() && a.places == set)
        else {
            continue;
        };
        for o in s
            .points
            .iter()
            .filter(|o| o.is_month() && o.end.month() < from)
        {
            rows.push(ObservedRow {
                series: s.name.clone(),
                description: s.description.clone(),
                metric: metric.name(),
                place: area.name.clone(),
                month: o.start.month().to_string(),
                value: o.value,
            });
        }
    }
    rows
}

/// Writes a forecast's tables into `dir`: `forecast.csv`, `replicates.csv`,
/// `identification.csv` (with a posterior), and for its figure and for the record
/// `context.csv`, `observed.csv`, `policies.csv`, `places.csv`, `scenario.toml` and, with a
/// posterior, a copy of it as `posterior.csv`.
pub fn write(dir: &Path, s: &Setup, f: &Forecast) -> Result<()> {
    output::write_csv(&dir.join("forecast.csv"), &f.rows)?;
    output::write_csv_or_header(
        &dir.join("context.csv"),
        &f.context,
        &["month", "place", "metric", "mean", "p05", "p50", "p95"],
    )?;
    write_replicates(&dir.join("replicates.csv"), f)?;
    if let Some(p) = &s.posterior {
        output::write_csv(&dir.join("identification.csv"), &f.identification)?;
        let to = dir.join("posterior.csv");
        std::fs::write(&to, &p.bytes).map_err(|source| Error::Write { path: to, source })?;
    }
    output::write_csv_or_header(
        &dir.join("observed.csv"),
        &observed_context(s.base, s.from),
        &["series", "description", "metric", "place", "month", "value"],
    )?;
    output::write_csv(&dir.join("policies.csv"), &output::policy_rows(s.base))?;
    output::write_csv(&dir.join("places.csv"), &output::place_rows(s.base))?;
    output::bundle::write_scenario(dir, "scenario.toml", s.base).map(|_| ())
}

fn write_replicates(path: &Path, f: &Forecast) -> Result<()> {
    let err = |e: csv::Error| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    w.write_record(["replicate", "particle", "month", "place", "metric", "value"])
        .map_err(err)?;
    for (r, particle, values) in &f.replicates {
        let (r, particle) = (
            r.to_string(),
            particle.map_or(String::new(), |p| p.to_string()),
        );
        for (mi, m) in f.months.iter().enumerate() {
            let m = m.to_string();
            for (ai, a) in f.areas.iter().enumerate() {
                for (k, metric) in METRICS.iter().enumerate() {
                    let v = output::fmt_value(values[cell(f.areas.len(), mi, ai, k)]);
                    w.write_record([&r, &particle, &m, a, metric.name(), &v])
                        .map_err(err)?;
                }
            }
        }
    }
    w.flush().map_err(|e| Error::Write {
        path: path.to_path_buf(),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Scenario {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        Scenario::load(&path).unwrap()
    }

    #[test]
    fn places_are_the_crossings_and_two_aggregates() {
        let sc = minimal();
        let names: Vec<String> = areas(&sc).into_iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            ["Roxham Road", "Lacolle", ALL_IRREGULAR, ALL_LAND_PORTS]
        );
    }

    #[test]
    fn the_first_month_is_the_extensions_unless_given_and_inside_the_window() {
        let sc = minimal();
        assert_eq!(first_month(&sc, None).unwrap().to_string(), "2023-03");
        let m = |s: &str| Month::parse(s);
        assert_eq!(
            first_month(&sc, m("2023-05")).unwrap(),
            m("2023-05").unwrap()
        );
        let e = first_month(&sc, m("2023-07")).unwrap_err().to_string();
        assert!(
            e.contains("--from 2023-07: outside the scenario's window, 2023-01 to 2023-06"),
            "{e}"
        );
    }

    #[test]
    fn a_months_values_sum_its_days_and_aggregates_sum_their_places() {
        let sc = minimal();
        let s = Setup::new(&sc, None, 1, 7, None).unwrap();
        let res = engine::simulate(&sc, &RunOptions::default());
        let v = s.values(&sc, &res);
        let monthly = output::monthly_rows(&sc, &res);
        let get = |m: &str, p: &str, k: &str| {
            monthly
                .iter()
                .find(|r| r.period == m && r.place == p && r.metric == k)
                .map_or(f64::NAN, |r| r.value)
        };
        assert_eq!(s.context.len(), 2, "January and February");
        for (mi, m) in s.context.iter().chain(&s.months).enumerate() {
            let m = m.to_string();
            for (k, metric) in METRICS.iter().enumerate() {
                let (rox, lac) = (
                    get(&m, "Roxham Road", metric.name()),
                    get(&m, "Lacolle", metric.name()),
                );
                assert_eq!(v[s.cell(mi, 0, k)], rox);
                assert_eq!(v[s.cell(mi, 1, k)], lac);
                assert_eq!(v[s.cell(mi, 2, k)], rox, "the only irregular crossing");
                assert_eq!(v[s.cell(mi, 3, k)], lac, "the only land port");
            }
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Roxham Road"), "roxham_road");
        assert_eq!(slug("  Lacolle (port) "), "lacolle_port");
    }
}
