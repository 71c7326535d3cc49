//! Simulated against observed: each declared series' simulated counterpart, the summary
//! over replicates, and the goodness-of-fit measures.

use crate::data::Observation;
use crate::experiment::ensemble;
use crate::experiment::posterior::{self, Posterior, Uncertainty};
use crate::model::engine::Results;
use crate::output;
use crate::scenario::{Metric, Observed, Scenario, Target};
use crate::util::date::Month;
use crate::util::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The simulated value of a metric summed over places and over the days of an observation
/// (for the `waiting` stock, its value on the last day), in people.
fn sum_over(
    sc: &Scenario,
    res: &Results,
    metric: crate::scenario::Metric,
    places: &[u16],
    o: &Observation,
) -> f64 {
    let first = (o.start.0 - sc.start.0) as u32;
    let last = (o.end.0 - sc.start.0) as u32;
    let days = if metric.is_stock() {
        last..=last
    } else {
        first..=last
    };
    let mut total = 0u64;
    for d in days {
        for &p in places {
            total += res.count(d, p as usize, metric);
        }
    }
    total as f64 * sc.scale
}

/// The months a series is drawn on as a line: every month from its first observed month to
/// its last, inside the window, when every point of it is a calendar month (a series of
/// monthly sums, or a ratio of two); else none. The simulated line is drawn on every one of
/// them, so that a gap in the observations (months the data lack) does not hide what the
/// model did then.
pub fn line_months(sc: &Scenario, s: &Observed) -> Vec<Month> {
    if s.points.len() < 2 || !s.points.iter().all(Observation::is_month) {
        return Vec::new();
    }
    let (Some(first), Some(last)) = (s.points.first(), s.points.last()) else {
        return Vec::new();
    };
    let (first, last) = (
        first.start.month().max(sc.start.month()),
        last.end.month().min(sc.end.month()),
    );
    (first.0..=last.0).map(Month).collect()
}

/// The simulated value of a metric summed over places and over the days of month `m` inside
/// the window (for a stock, its value on the last such day).
fn month_sum(sc: &Scenario, res: &Results, metric: Metric, places: &[u16], m: Month) -> f64 {
    let first = m.first_day().max(sc.start);
    let last = m.first_day().add_days(m.days() as i32 - 1).min(sc.end);
    let o = Observation {
        start: first,
        end: last,
        value: 0.0,
        verification: String::new(),
        line: 0,
    };
    sum_over(sc, res, metric, places, &o)
}

/// One run's value of every month of every observed series' line ([`line_months`]):
/// `[series][month]`, not a number where it is undefined (a ratio over nothing).
pub fn simulated_months(sc: &Scenario, res: &Results) -> Vec<Vec<f64>> {
    sc.observed
        .iter()
        .map(|s| {
            let months = line_months(sc, s);
            let sum = |t: &Target, m: Month| match t {
                Target::Sum { metric, places } => month_sum(sc, res, *metric, places, m),
                Target::Ratio(..) => f64::NAN,
            };
            months
                .iter()
                .map(|&m| match &s.target {
                    Target::Sum { .. } => sum(&s.target, m),
                    Target::Ratio(a, b) => {
                        let den = sum(&sc.observed[*b].target, m);
                        if den > 0.0 {
                            sum(&sc.observed[*a].target, m) / den
                        } else {
                            f64::NAN
                        }
                    }
                })
                .collect()
        })
        .collect()
}

/// A row of `validation_months.csv` (and, with a variant, of a comparison's
/// `overlay_months.csv`): the simulated counterpart of a series in one month of its line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub series: String,
    pub month: String,
    pub sim_mean: f64,
    pub sim_p05: f64,
    pub sim_p50: f64,
    pub sim_p95: f64,
    #[serde(default)]
    pub uncertainty: String,
}

/// The header of a comparison's `overlay_months.csv`; `validation_months.csv` has no
/// `variant`.
pub const MONTH_HEADER: [&str; 8] = [
    "variant",
    "series",
    "month",
    "sim_mean",
    "sim_p05",
    "sim_p50",
    "sim_p95",
    "uncertainty",
];

/// Summarises replicates of [`simulated_months`] (`sims[replicate][series][month]`) into
/// rows, for `variant` if it is one.
pub fn month_rows(
    sc: &Scenario,
    variant: Option<&str>,
    sims: &[&Vec<Vec<f64>>],
    uncertainty: Uncertainty,
) -> Vec<MonthRow> {
    let mut rows = Vec::new();
    for (k, s) in sc.observed.iter().enumerate() {
        for (j, m) in line_months(sc, s).into_iter().enumerate() {
            let values: Vec<f64> = sims
                .iter()
                .filter_map(|r| r.get(k).and_then(|v| v.get(j)).copied())
                .filter(|v| v.is_finite())
                .collect();
            let [mean, p05, p50, p95] = ensemble::summary(&values).map(|x| output::round(x, 4));
            rows.push(MonthRow {
                variant: variant.map(String::from),
                series: s.name.clone(),
                month: m.to_string(),
                sim_mean: mean,
                sim_p05: p05,
                sim_p50: p50,
                sim_p95: p95,
                uncertainty: uncertainty.as_str().into(),
            });
        }
    }
    rows
}

/// One run's value for every point of every observed series: `[series][point]`.
pub fn simulated_points(sc: &Scenario, res: &Results) -> Vec<Vec<f64>> {
    sc.observed
        .iter()
        .map(|s| simulated_series(sc, res, s))
        .collect()
}

fn simulated_series(sc: &Scenario, res: &Results, s: &Observed) -> Vec<f64> {
    match &s.target {
        Target::Sum { metric, places } => s
            .points
            .iter()
            .map(|o| sum_over(sc, res, *metric, places, o))
            .collect(),
        Target::Ratio(a, b) => {
            let (
                Target::Sum {
                    metric: ma,
                    places: pa,
                },
                Target::Sum {
                    metric: mb,
                    places: pb,
                },
            ) = (&sc.observed[*a].target, &sc.observed[*b].target)
            else {
                return vec![f64::NAN; s.points.len()];
            };
            s.points
                .iter()
                .map(|o| {
                    let den = sum_over(sc, res, *mb, pb, o);
                    if den > 0.0 {
                        sum_over(sc, res, *ma, pa, o) / den
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        }
    }
}

/// A row of `validation.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationRow {
    pub series: String,
    pub period: String,
    pub observed: f64,
    pub sim_mean: f64,
    pub sim_p05: f64,
    pub sim_p50: f64,
    pub sim_p95: f64,
    /// The observation's verification tag, kept from the data file.
    pub verification: String,
    /// What the interval covers: `replicates`, or `parameters and replicates` over a
    /// posterior (empty in folders written before it was recorded).
    #[serde(default)]
    pub uncertainty: String,
}

/// A row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsRow {
    pub series: String,
    pub n_periods: usize,
    pub ard: f64,
    pub mape: f64,
    pub rmse: f64,
    /// Empty with fewer than two periods or no variation.
    pub pearson_r: Option<f64>,
    pub total_ratio: f64,
}

/// Goodness of fit of simulated values (the replicate mean) against observed ones.
/// ARD, as in the Flee refugee model, is the mean over periods of |sim - obs| / obs (periods
/// with obs = 0 are left out of it); MAPE is the same in percent.
pub fn fit(series: &str, obs: &[f64], sim: &[f64]) -> MetricsRow {
    let n = obs.len();
    let rel: Vec<f64> = obs
        .iter()
        .zip(sim)
        .filter(|(o, _)| **o > 0.0)
        .map(|(o, s)| (s - o).abs() / o)
        .collect();
    let ard = if rel.is_empty() {
        f64::NAN
    } else {
        rel.iter().sum::<f64>() / rel.len() as f64
    };
    let rmse = (obs
        .iter()
        .zip(sim)
        .map(|(o, s)| (s - o).powi(2))
        .sum::<f64>()
        / n.max(1) as f64)
        .sqrt();
    let pearson_r = pearson(obs, sim);
    let (so, ss): (f64, f64) = (obs.iter().sum(), sim.iter().sum());
    MetricsRow {
        series: series.to_string(),
        n_periods: n,
        ard,
        mape: 100.0 * ard,
        rmse,
        pearson_r,
        total_ratio: if so > 0.0 { ss / so } else { f64::NAN },
    }
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 {
        return None;
    }
    let (mx, my) = (
        x.iter().sum::<f64>() / n as f64,
        y.iter().sum::<f64>() / n as f64,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Summarises replicates (`sims[replicate][series][point]`) into validation and metrics
/// rows, for the series of the scenario.
pub fn summarise(sc: &Scenario, sims: &[Vec<Vec<f64>>]) -> (Vec<ValidationRow>, Vec<MetricsRow>) {
    let mut rows = Vec::new();
    let mut metrics = Vec::new();
    for (k, s) in sc.observed.iter().enumerate() {
        let mut means = Vec::new();
        let mut obs = Vec::new();
        for (j, o) in s.points.iter().enumerate() {
            let values: Vec<f64> = sims
                .iter()
                .map(|r| r[k][j])
                .filter(|v| v.is_finite())
                .collect();
            let [mean, p05, p50, p95] = ensemble::summary(&values);
            let round = |x: f64| output::round(x, 4);
            rows.push(ValidationRow {
                series: s.name.clone(),
                period: o.label(),
                observed: o.value,
                sim_mean: round(mean),
                sim_p05: round(p05),
                sim_p50: round(p50),
                sim_p95: round(p95),
                verification: o.verification.clone(),
                uncertainty: Uncertainty::Replicates.as_str().into(),
            });
            means.push(mean);
            obs.push(o.value);
        }
        metrics.push(fit(&s.name, &obs, &means));
    }
    (rows, metrics)
}

/// A row of `observed.csv`: what an observed series is, for the titles and units of the
/// figures, which are drawn from the files alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedRow {
    pub series: String,
    pub description: String,
    /// `month` or `year` when every period is one, else `period`.
    pub aggregate: &'static str,
    /// A ratio of two other series, not a count of people.
    pub ratio: bool,
}

pub fn observed_rows(sc: &Scenario) -> Vec<ObservedRow> {
    sc.observed
        .iter()
        .map(|s| {
            let all = |f: fn(&Observation) -> bool| !s.points.is_empty() && s.points.iter().all(f);
            ObservedRow {
                series: s.name.clone(),
                description: s.description.clone(),
                aggregate: if all(Observation::is_month) {
                    "month"
                } else if all(Observation::is_year) {
                    "year"
                } else {
                    "period"
                },
                ratio: matches!(s.target, Target::Ratio(..)),
            }
        })
        .collect()
}

/// What a validation found: the rows of `validation.csv` and `metrics.csv`, and the work
/// it took.
#[derive(Debug, Clone)]
pub struct Validation {
    pub rows: Vec<ValidationRow>,
    pub metrics: Vec<MetricsRow>,
    /// The simulated line of each monthly series on every month ([`line_months`]).
    pub months: Vec<MonthRow>,
    pub agents: u64,
    pub agent_days: u64,
}

/// Refuses a scenario that declares no observed series, before any work is done.
pub fn require_observed(sc: &Scenario) -> Result<()> {
    if sc.observed.is_empty() {
        return Err(Error::Invalid {
            path: sc.path.clone(),
            problems: vec!["declares no [[observed]] series to validate against (see the README, \"Validation and calibration\")".into()],
        });
    }
    Ok(())
}

/// Runs `replicates` replicates of `sc` in the current rayon pool, calling `done` as each
/// finishes, and compares them with the scenario's observed series.
pub fn validate(sc: &Scenario, seed: u64, replicates: u32, done: &(dyn Fn() + Sync)) -> Validation {
    let scs = [sc];
    let jobs: Vec<(usize, u32)> = (0..replicates).map(|r| (0, r)).collect();
    run(sc, &scs, &jobs, seed, Uncertainty::Replicates, done)
}

/// [`validate`] over a posterior, if one is given: replicate `r` runs with the particle
/// drawn `r`-th ([`Posterior::draws`]) and its usual seed, so that the intervals cover the
/// parameters' uncertainty as well as the run-to-run noise.
pub fn validate_over(
    sc: &Scenario,
    seed: u64,
    replicates: u32,
    posterior: Option<&Posterior>,
    done: &(dyn Fn() + Sync),
) -> Result<Validation> {
    let (scenarios, which) = posterior::replicates(sc, posterior, &[], "", replicates, seed)?;
    let scs: Vec<&Scenario> = scenarios.iter().collect();
    let jobs: Vec<(usize, u32)> = (0..replicates).map(|r| (which[r as usize], r)).collect();
    Ok(run(sc, &scs, &jobs, seed, Uncertainty::of(posterior), done))
}

/// Runs the jobs (scenario, replicate) side by side and summarises them against `sc`'s
/// observed series.
fn run(
    sc: &Scenario,
    scs: &[&Scenario],
    jobs: &[(usize, u32)],
    seed: u64,
    uncertainty: Uncertainty,
    done: &(dyn Fn() + Sync),
) -> Validation {
    let sims = ensemble::map_runs(
        scs,
        jobs,
        seed,
        |k, _, res| {
            let points = simulated_points(scs[k], res);
            (
                points,
                simulated_months(scs[k], res),
                res.agents,
                res.agent_days,
            )
        },
        done,
    );
    let agents = sims.iter().map(|s| s.2).sum();
    let agent_days = sims.iter().map(|s| s.3).sum();
    let months: Vec<&Vec<Vec<f64>>> = sims.iter().map(|s| &s.1).collect();
    let months = month_rows(sc, None, &months, uncertainty);
    let points: Vec<Vec<Vec<f64>>> = sims.into_iter().map(|s| s.0).collect();
    let (mut rows, metrics) = summarise(sc, &points);
    for r in &mut rows {
        r.uncertainty = uncertainty.as_str().into();
    }
    Validation {
        rows,
        metrics,
        months,
        agents,
        agent_days,
    }
}

/// Writes a validation's tables into `dir`: `validation.csv` and `metrics.csv`, for its
/// figures `observed.csv`, `validation_months.csv` (the simulated line of monthly series on
/// every month) and `policies.csv` (the scenario's policies, as a run writes them), and the
/// scenario with its data files.
pub fn write(dir: &Path, sc: &Scenario, v: &Validation) -> Result<()> {
    output::bundle::write_scenario(dir, "scenario.toml", sc)?;
    output::write_csv(&dir.join("validation.csv"), &v.rows)?;
    output::write_csv(&dir.join("metrics.csv"), &v.metrics)?;
    output::write_csv_or_header(
        &dir.join("validation_months.csv"),
        &v.months,
        &MONTH_HEADER[1..],
    )?;
    output::write_csv(&dir.join("observed.csv"), &observed_rows(sc))?;
    output::write_csv(&dir.join("policies.csv"), &output::policy_rows(sc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_measures_on_a_case_computed_by_hand() {
        // obs 100, 200; sim 110, 150: relative errors 0.1 and 0.25.
        let m = fit("s", &[100.0, 200.0], &[110.0, 150.0]);
        assert!((m.ard - 0.175).abs() < 1e-12);
        assert!((m.mape - 17.5).abs() < 1e-9);
        // sqrt((10^2 + 50^2) / 2) = sqrt(1300)
        assert!((m.rmse - 1300f64.sqrt()).abs() < 1e-12);
        assert!((m.total_ratio - 260.0 / 300.0).abs() < 1e-12);
        // Two points always correlate perfectly (both increase).
        assert!((m.pearson_r.unwrap() - 1.0).abs() < 1e-12);
        let m = fit("s", &[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]);
        assert!((m.pearson_r.unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(fit("s", &[5.0], &[4.0]).pearson_r, None);
        // A zero observation is left out of ARD but not of RMSE.
        let m = fit("s", &[0.0, 10.0], &[3.0, 12.0]);
        assert!((m.ard - 0.2).abs() < 1e-12);
        assert!((m.rmse - (13.0f64 / 2.0).sqrt()).abs() < 1e-12);
    }
}
