//! Calibration: fit scenario parameters to observed series.
//!
//! What both methods share is the [`Objective`]: the mean ARD of the target series over the
//! periods inside the windows (weighted by `--target SERIES=WEIGHT`, 1 by default), for a
//! parameter set, with the simulated value the mean of several replicates whose seeds are
//! the same for every set (common random numbers), so that two sets differ by their
//! parameters and not by their luck; ABC-SMC's fresh seeds give each set seeds of its own
//! instead ([`Objective::evaluate_keyed`]), so that its acceptance sees that luck. Runs
//! stop at the end of the last window month (nothing later can change what is compared),
//! and many parameter sets are evaluated side by side, each run on one thread.
//!
//! This file holds the objective and the default method, Nelder-Mead on the box of the
//! fitted parameters (rescaled to [0, 1] and clamped to it): a point, found by a sequential
//! and deterministic search. `abc` gives a distribution instead.

use crate::experiment::ensemble;
use crate::experiment::validation;
use crate::output::bundle::DataFiles;
use crate::scenario::{Scenario, paths};
use crate::util::date::{Date, Month};
use crate::util::error::{Error, Result};
use crate::util::rng::{self, Purpose};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use toml_edit::{DocumentMut, Value};

/// A parameter to fit: one or more paths into the scenario that take its value (tied
/// paths, such as the same share in three inflows), and its range.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub paths: Vec<String>,
    pub lo: f64,
    pub hi: f64,
}

impl Param {
    /// Parses `PATH=LO..HI`, e.g. `inflows[0].share=0.01..0.06`, or tied paths
    /// `PATH1,PATH2=LO..HI`.
    pub fn parse(spec: &str) -> std::result::Result<Param, String> {
        let bad = || {
            format!(
                "--fit \"{spec}\": expected PATH=LO..HI or PATH1,PATH2,...=LO..HI, e.g. \"inflows[0].share=0.01..0.06\""
            )
        };
        let (path, range) = spec.rsplit_once('=').ok_or_else(bad)?;
        let (lo, hi) = range.split_once("..").ok_or_else(bad)?;
        let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
        let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(format!("--fit \"{spec}\": the range needs LO < HI"));
        }
        let paths: Vec<String> = paths::split_tied(path)
            .into_iter()
            .map(String::from)
            .collect();
        for (i, p) in paths.iter().enumerate() {
            paths::parse(p).map_err(|e| format!("--fit \"{spec}\": {e}"))?;
            if paths[..i].contains(p) {
                return Err(format!("--fit \"{spec}\": the path {p} is tied to itself"));
            }
        }
        Ok(Param { paths, lo, hi })
    }

    /// Its name: the paths joined by `,` (a column of `trials.csv` and `posterior.csv`).
    pub fn name(&self) -> String {
        self.paths.join(",")
    }
}

/// What to fit, to what, and how hard to try.
#[derive(Debug, Clone)]
pub struct Settings {
    pub params: Vec<Param>,
    /// Names of observed series of the scenario.
    pub targets: Vec<String>,
    /// Each target's weight in the objective (1 unless `--target SERIES=WEIGHT` says).
    pub weights: Vec<f64>,
    /// Only periods inside one of these month ranges (inclusive) count.
    pub windows: Vec<(Month, Month)>,
    /// Trials (scenario evaluations) at most.
    pub budget: usize,
    pub replicates: u32,
    pub seed: u64,
}

impl Settings {
    /// Settings from the command's words: `--fit PATH=LO..HI` and `--window FROM..TO`
    /// specs, each problem with them reported at once, naming the scenario.
    pub fn parse(
        sc: &Scenario,
        fit: &[String],
        targets: &[String],
        windows: &[String],
        budget: usize,
        replicates: u32,
        seed: u64,
    ) -> Result<Settings> {
        let mut problems = Vec::new();
        let params: Vec<Param> = fit
            .iter()
            .filter_map(|f| Param::parse(f).map_err(|e| problems.push(e)).ok())
            .collect();
        let windows: Vec<(Month, Month)> = windows
            .iter()
            .filter_map(|w| parse_window(w).map_err(|e| problems.push(e)).ok())
            .collect();
        let mut names = Vec::new();
        let mut weights = Vec::new();
        for t in targets {
            // A series whose name holds '=' is taken whole.
            let whole = sc.observed.iter().any(|o| &o.name == t);
            match if whole {
                Ok((t.clone(), 1.0))
            } else {
                parse_target(t)
            } {
                Ok((name, w)) => {
                    if names.contains(&name) {
                        problems.push(format!(
                            "--target {name}: named twice; give each series once (its weight \
                             as SERIES=WEIGHT)"
                        ));
                    }
                    names.push(name);
                    weights.push(w);
                }
                Err(e) => problems.push(e),
            }
        }
        for (i, p) in params.iter().enumerate() {
            for path in &p.paths {
                if params[..i].iter().any(|q| q.paths.contains(path)) {
                    problems.push(format!("--fit {path}: the path is fitted twice"));
                }
            }
        }
        if !problems.is_empty() {
            return Err(invalid(sc, problems));
        }
        Ok(Settings {
            params,
            targets: names,
            weights,
            windows,
            budget,
            replicates,
            seed,
        })
    }
}

/// The largest weight of a target (so that a sum of weights stays finite).
const MAX_WEIGHT: f64 = 1e6;

/// `SERIES` or `SERIES=WEIGHT`: a target's name and its weight in the objective.
fn parse_target(t: &str) -> std::result::Result<(String, f64), String> {
    let Some((name, w)) = t.rsplit_once('=') else {
        return Ok((t.to_string(), 1.0));
    };
    match w.trim().parse::<f64>() {
        Ok(w) if w > 0.0 && w <= MAX_WEIGHT => Ok((name.trim().to_string(), w)),
        _ => Err(format!(
            "--target {t}: the weight after '=' must be a positive number up to {MAX_WEIGHT}, \
             as in qc_interceptions_monthly=3"
        )),
    }
}

/// One evaluated parameter set.
#[derive(Debug, Clone)]
pub struct Trial {
    pub values: Vec<f64>,
    /// The objective: the mean of the targets' ARD, weighted by their weights (infinite if
    /// the set was invalid).
    pub score: f64,
    pub ard: Vec<f64>,
    pub error: Option<String>,
}

/// The work a calibration did: runs (parameter sets x replicates), and the agents and
/// agent-days they simulated.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Work {
    pub runs: u64,
    pub agents: u64,
    pub agent_days: u64,
}

/// Why Nelder-Mead stopped, with the simplex as it was then: the spread of its scores (worst
/// less best) and its size (the largest distance of a vertex from the best, in any
/// parameter of the unit box).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// The simplex converged: scores within [`SPREAD_TOLERANCE`] and vertices within
    /// [`SIZE_TOLERANCE`] of the best.
    Converged { spread: f64, size: f64 },
    /// The budget of trials ran out first.
    Budget { spread: f64, size: f64 },
}

/// Nelder-Mead has converged when the simplex's scores are this close...
pub const SPREAD_TOLERANCE: f64 = 1e-9;
/// ...and its vertices this close to the best one, in every parameter of the unit box.
pub const SIZE_TOLERANCE: f64 = 1e-4;

impl Stop {
    /// Why it stopped, in words, after `trials` of a `budget`.
    pub fn describe(&self, trials: usize, budget: usize) -> String {
        match *self {
            Stop::Converged { spread, size } => format!(
                "converged after {trials} trials of the {budget} allowed: the simplex's \
                 scores within {SPREAD_TOLERANCE:e} of each other ({spread:.2e}) and its \
                 points within {SIZE_TOLERANCE:e} of the best in every parameter of the unit \
                 box ({size:.2e})"
            ),
            Stop::Budget { spread, size } => format!(
                "out of budget: {trials} trials (--budget {budget}) before converging; the \
                 simplex's scores were still {spread:.2e} apart and its points up to {size:.2e} \
                 from the best in the unit box (converged means {SPREAD_TOLERANCE:e} and \
                 {SIZE_TOLERANCE:e}): a larger --budget may find a better point"
            ),
        }
    }

    /// `converged` or `budget`, for the manifest.
    pub fn name(&self) -> &'static str {
        match self {
            Stop::Converged { .. } => "converged",
            Stop::Budget { .. } => "budget",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Calibration {
    pub trials: Vec<Trial>,
    pub best: usize,
    /// Why the search stopped.
    pub stop: Stop,
    /// The starting values (the scenario's own, clamped to the ranges).
    pub start: Vec<f64>,
    pub work: Work,
}

/// Parses `2022-01..2023-02`.
pub fn parse_window(s: &str) -> std::result::Result<(Month, Month), String> {
    let bad = || format!("--window \"{s}\": expected YYYY-MM..YYYY-MM, e.g. 2022-01..2023-02");
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let (a, b) = (
        Month::parse(a.trim()).ok_or_else(bad)?,
        Month::parse(b.trim()).ok_or_else(bad)?,
    );
    if b < a {
        return Err(format!("--window \"{s}\": ends before it starts"));
    }
    Ok((a, b))
}

fn invalid(sc: &Scenario, problems: Vec<String>) -> Error {
    Error::Invalid {
        path: sc.path.clone(),
        problems,
    }
}

/// The scenario cut short at the end of month `last` (if that is earlier than its end),
/// with the observed periods that end by then. Every day up to then is what the full run
/// gives (tested): nothing in a run depends on days still to come, and the agents of later
/// months are drawn from their own keyed streams, after everyone before them. (A cut in the
/// middle of a month would not do: a month's inflow is spread over its days in the window.)
pub fn shortened(sc: &Scenario, last: Month) -> Scenario {
    let end = last.first_day().add_days(last.days() as i32 - 1);
    let mut sc = sc.clone();
    if end < sc.end {
        sc.end = end;
        for o in &mut sc.observed {
            o.points.retain(|p| p.end <= end);
        }
    }
    sc
}

/// The calibration objective of a scenario, settings and targets: what a parameter set is
/// worth. Parameters are in their own units; a parameter is an integer (and rounded) if
/// the scenario holds an integer at one of its paths.
#[derive(Debug)]
pub struct Objective<'a> {
    base: &'a Scenario,
    pub params: &'a [Param],
    /// By parameter, by path: an integer in the scenario.
    integer: Vec<Vec<bool>>,
    /// The scenario's own values, in the unit box (rescaled ranges, clamped).
    pub start: Vec<f64>,
    /// (index into the observed series, the points inside the windows) by target, in the
    /// shortened scenario.
    targets: Vec<(usize, Vec<usize>)>,
    /// Each target's weight in the score.
    weights: &'a [f64],
    /// Runs end with this month (the last window month), or at the scenario's end.
    pub last: Month,
    seed: u64,
    replicates: u32,
    runs: AtomicU64,
    agents: AtomicU64,
    agent_days: AtomicU64,
}

impl<'a> Objective<'a> {
    /// Checks the settings against the scenario (every problem at once: targets, paths,
    /// values that are not numbers) and prepares the objective.
    pub fn new(base: &'a Scenario, s: &'a Settings) -> Result<Objective<'a>> {
        if s.params.is_empty() {
            return Err(invalid(
                base,
                vec!["calibrate: give at least one --fit PATH=LO..HI".into()],
            ));
        }
        let last = s
            .windows
            .iter()
            .map(|w| w.1)
            .max()
            .map_or(base.end.month(), |m| m.min(base.end.month()));
        let short = shortened(base, last);
        let mut problems = Vec::new();
        let mut targets = Vec::new();
        for t in &s.targets {
            match short.observed.iter().position(|o| &o.name == t) {
                Some(k) => {
                    let pts: Vec<usize> = short.observed[k]
                        .points
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| {
                            s.windows
                                .iter()
                                .any(|w| o.start.month() >= w.0 && o.end.month() <= w.1)
                        })
                        .map(|(j, _)| j)
                        .collect();
                    if pts.is_empty() {
                        problems.push(format!(
                            "--target {t}: no period of the series lies inside the --window ranges"
                        ));
                    }
                    targets.push((k, pts));
                }
                None => problems.push(format!(
                    "--target {t}: no observed series of that name (the scenario declares: {})",
                    base.observed
                        .iter()
                        .map(|o| o.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        if targets.is_empty() && problems.is_empty() {
            problems.push("calibrate: give at least one --target SERIES".into());
        }
        // The starting point (the first path's value) and the types, from the file itself.
        let doc = base.document()?;
        let mut start = Vec::new();
        let mut integer = Vec::new();
        for p in &s.params {
            let mut first = None;
            let mut ints = Vec::new();
            for path in &p.paths {
                let current = paths::get(&doc, path)
                    .ok()
                    .and_then(|i| i.as_value().cloned());
                let (x, int) = match &current {
                    Some(Value::Integer(v)) => (*v.value() as f64, true),
                    Some(Value::Float(v)) => (*v.value(), false),
                    Some(other) => {
                        problems.push(format!(
                            "--fit {path}: the scenario has a non-number there ({})",
                            other.to_string().trim()
                        ));
                        (p.lo, false)
                    }
                    None => ((p.lo + p.hi) / 2.0, false),
                };
                first.get_or_insert(x);
                ints.push(int);
            }
            let x = first.unwrap_or((p.lo + p.hi) / 2.0);
            start.push(((x - p.lo) / (p.hi - p.lo)).clamp(0.0, 1.0));
            integer.push(ints);
        }
        let obj = Objective {
            base,
            params: &s.params,
            integer,
            start,
            targets,
            weights: &s.weights,
            last,
            seed: s.seed,
            replicates: s.replicates.max(1),
            runs: AtomicU64::new(0),
            agents: AtomicU64::new(0),
            agent_days: AtomicU64::new(0),
        };
        // Every path must lead somewhere valid: try the starting point.
        if problems.is_empty()
            && let Err(e) =
                base.with_overrides(&obj.overrides(&obj.at_unit(&obj.start)), "calibrate")
        {
            // Its problems, without the file's name, which `invalid` gives.
            match e {
                Error::Invalid { problems: p, .. } => problems.extend(p),
                Error::Parse { message, .. } => problems.push(message),
                other => problems.push(other.to_string()),
            }
        }
        if !problems.is_empty() {
            return Err(invalid(base, problems));
        }
        Ok(obj)
    }

    /// Whether parameter `k` is an integer (rounded).
    pub fn is_integer(&self, k: usize) -> bool {
        self.integer[k].iter().any(|&i| i)
    }

    /// The parameter values at a point of the unit box (clamped to it): integers rounded,
    /// other values to six decimals (Nelder-Mead's points).
    pub fn at_unit(&self, u: &[f64]) -> Vec<f64> {
        self.params
            .iter()
            .zip(u)
            .enumerate()
            .map(|(k, (p, u))| {
                let v = p.lo + u.clamp(0.0, 1.0) * (p.hi - p.lo);
                if self.is_integer(k) {
                    v.round()
                } else {
                    (v * 1e6).round() / 1e6
                }
            })
            .collect()
    }

    /// The `(path, value)` overrides of a parameter set: each path of a parameter gets its
    /// value, as an integer where the scenario has one.
    pub fn overrides(&self, values: &[f64]) -> Vec<(String, Value)> {
        overrides(self.params, &self.integer, values)
    }

    /// The scenario of a parameter set, shortened to the calibration's end.
    pub fn scenario(&self, values: &[f64]) -> Result<Scenario> {
        let sc = self
            .base
            .with_overrides(&self.overrides(values), "calibrate")?;
        Ok(shortened(&sc, self.last))
    }

    /// Evaluates parameter sets: every set's replicates, all side by side over the current
    /// pool (each run on one thread); `done` is called as each run finishes. The trials
    /// come in the order of `sets` and do not depend on the number of threads.
    pub fn evaluate(&self, sets: &[Vec<f64>], done: &(dyn Fn() + Sync)) -> Vec<Trial> {
        self.evaluate_keyed(sets, None, done)
    }

    /// [`Objective::evaluate`], where with `keys` (one per set) set `k`'s replicate `r`
    /// runs with a seed of its own, keyed by `keys[k]` and `r`, instead of replicate `r`'s
    /// seed: fresh seeds for each proposal of ABC-SMC, so that acceptance sees the run-to-run
    /// noise, still a function of the key alone (not of the batches or the threads).
    pub fn evaluate_keyed(
        &self,
        sets: &[Vec<f64>],
        keys: Option<&[u64]>,
        done: &(dyn Fn() + Sync),
    ) -> Vec<Trial> {
        use rayon::prelude::*;
        let built: Vec<Result<Scenario>> = sets.par_iter().map(|v| self.scenario(v)).collect();
        let seed = self.seed;
        // The replicate number a set's run takes: its own, or one keyed by the set.
        let replicate = |k: usize, r: u32| match keys {
            Some(keys) => rng::key(seed, keys[k], r, Purpose::Proposal) as u32,
            None => r,
        };
        let mut scs: Vec<&Scenario> = Vec::new();
        let mut jobs: Vec<(usize, u32)> = Vec::new();
        for (k, b) in built.iter().enumerate() {
            if let Ok(sc) = b {
                jobs.extend((0..self.replicates).map(|r| (scs.len(), replicate(k, r))));
                scs.push(sc);
            }
        }
        let sims = ensemble::map_runs(
            &scs,
            &jobs,
            self.seed,
            |k, _, res| {
                let all = validation::simulated_points(scs[k], res);
                let points: Vec<Vec<f64>> = self
                    .targets
                    .iter()
                    .map(|(t, pts)| pts.iter().map(|&j| all[*t][j]).collect())
                    .collect();
                (points, res.agents, res.agent_days)
            },
            done,
        );
        self.runs.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        for s in &sims {
            self.agents.fetch_add(s.1, Ordering::Relaxed);
            self.agent_days.fetch_add(s.2, Ordering::Relaxed);
        }
        let reps = self.replicates as usize;
        let mut next = sims.chunks(reps);
        sets.iter()
            .zip(&built)
            .map(|(values, b)| match b {
                Err(e) => Trial {
                    values: values.clone(),
                    score: f64::INFINITY,
                    ard: vec![f64::NAN; self.targets.len()],
                    error: Some(e.to_string()),
                },
                Ok(sc) => {
                    let runs = next.next().unwrap_or(&[]);
                    let ard: Vec<f64> = self
                        .targets
                        .iter()
                        .enumerate()
                        .map(|(i, (t, pts))| {
                            let obs: Vec<f64> = pts
                                .iter()
                                .map(|&j| sc.observed[*t].points[j].value)
                                .collect();
                            let sim: Vec<f64> = (0..pts.len())
                                .map(|j| {
                                    runs.iter().map(|r| r.0[i][j]).sum::<f64>() / runs.len() as f64
                                })
                                .collect();
                            validation::fit("", &obs, &sim).ard
                        })
                        .collect();
                    let score = weighted_mean(&ard, self.weights);
                    Trial {
                        values: values.clone(),
                        score: if score.is_finite() {
                            score
                        } else {
                            f64::INFINITY
                        },
                        ard,
                        error: None,
                    }
                }
            })
            .collect()
    }

    /// The work done so far.
    pub fn work(&self) -> Work {
        Work {
            runs: self.runs.load(Ordering::Relaxed),
            agents: self.agents.load(Ordering::Relaxed),
            agent_days: self.agent_days.load(Ordering::Relaxed),
        }
    }
}

/// The `(path, value)` overrides of a parameter set, `integer[k][i]` saying whether path
/// `i` of parameter `k` holds an integer.
fn overrides(params: &[Param], integer: &[Vec<bool>], values: &[f64]) -> Vec<(String, Value)> {
    let mut set = Vec::new();
    for ((p, ints), &v) in params.iter().zip(integer).zip(values) {
        for (path, &int) in p.paths.iter().zip(ints) {
            set.push((path.clone(), paths::number(v, int)));
        }
    }
    set
}

/// Runs the Nelder-Mead calibration. `progress` is called after each trial with the number
/// done and the best score so far.
pub fn calibrate(
    base: &Scenario,
    s: &Settings,
    progress: &(dyn Fn(usize, f64) + Sync),
) -> Result<Calibration> {
    if s.budget == 0 {
        // The fitted scenario and its header are the best of the trials: there must be one.
        return Err(invalid(
            base,
            vec!["calibrate: --budget must allow at least one trial".into()],
        ));
    }
    let obj = Objective::new(base, s)?;
    let mut trials: Vec<Trial> = Vec::new();
    let mut best = f64::INFINITY;
    let (_, stop) = nelder_mead(&obj.start, s.budget, &mut |u| {
        let values = obj.at_unit(u);
        let Some(trial) = obj.evaluate(&[values], &|| {}).into_iter().next() else {
            return f64::INFINITY;
        };
        let score = trial.score;
        best = best.min(score);
        trials.push(trial);
        progress(trials.len(), best);
        score
    });
    let best = (0..trials.len())
        .min_by(|&a, &b| trials[a].score.total_cmp(&trials[b].score))
        .unwrap_or(0);
    Ok(Calibration {
        trials,
        best,
        stop,
        start: obj.start.clone(),
        work: obj.work(),
    })
}

/// The spread of a simplex's scores (worst less best) and its size (the largest distance of
/// a vertex from the best in any coordinate), the best first.
fn simplex_extent(simplex: &[(Vec<f64>, f64)]) -> (f64, f64) {
    let Some(best) = simplex.first() else {
        return (f64::INFINITY, f64::INFINITY);
    };
    let spread = simplex
        .iter()
        .map(|s| s.1)
        .fold(f64::NEG_INFINITY, f64::max)
        - best.1;
    let size = simplex
        .iter()
        .map(|s| {
            s.0.iter()
                .zip(&best.0)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max);
    (spread, size)
}

/// Nelder-Mead in the unit box, points clamped to it, at most `budget` evaluations of `f`;
/// the best point and why it stopped.
pub fn nelder_mead(
    x0: &[f64],
    budget: usize,
    f: &mut dyn FnMut(&[f64]) -> f64,
) -> (Vec<f64>, Stop) {
    let n = x0.len();
    let clamp = |x: Vec<f64>| x.into_iter().map(|v| v.clamp(0.0, 1.0)).collect::<Vec<_>>();
    let mut used = 0;
    let mut eval = |x: &[f64], used: &mut usize| {
        *used += 1;
        f(x)
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::new();
    if budget == 0 {
        let inf = f64::INFINITY;
        return (
            x0.to_vec(),
            Stop::Budget {
                spread: inf,
                size: inf,
            },
        );
    }
    let fx0 = eval(x0, &mut used);
    simplex.push((x0.to_vec(), fx0));
    for i in 0..n {
        if used >= budget {
            break;
        }
        let mut x = x0.to_vec();
        x[i] = if x[i] + 0.25 <= 1.0 {
            x[i] + 0.25
        } else {
            x[i] - 0.25
        };
        let fx = eval(&x, &mut used);
        simplex.push((x, fx));
    }
    let converged =
        |(spread, size): (f64, f64)| spread.abs() < SPREAD_TOLERANCE && size < SIZE_TOLERANCE;
    while used < budget && simplex.len() == n + 1 {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        if converged(simplex_extent(&simplex)) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|s| s.0[j]).sum::<f64>() / n as f64)
            .collect();
        let worst = simplex[n].clone();
        let along = |t: f64| {
            clamp(
                centroid
                    .iter()
                    .zip(&worst.0)
                    .map(|(c, w)| c + t * (c - w))
                    .collect(),
            )
        };
        let xr = along(1.0);
        let fr = eval(&xr, &mut used);
        if fr < simplex[0].1 {
            if used >= budget {
                simplex[n] = (xr, fr);
                break;
            }
            let xe = along(2.0);
            let fe = eval(&xe, &mut used);
            simplex[n] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (xr, fr);
        } else {
            if used >= budget {
                break;
            }
            let (xc, fc) = if fr < worst.1 {
                let xc = along(0.5);
                let fc = eval(&xc, &mut used);
                (xc, fc)
            } else {
                let xc = along(-0.5);
                let fc = eval(&xc, &mut used);
                (xc, fc)
            };
            if fc < worst.1.min(fr) {
                simplex[n] = (xc, fc);
            } else {
                // Shrink towards the best point.
                let best = simplex[0].0.clone();
                for s in simplex.iter_mut().skip(1) {
                    if used >= budget {
                        break;
                    }
                    s.0 = best
                        .iter()
                        .zip(&s.0)
                        .map(|(b, x)| b + 0.5 * (x - b))
                        .collect();
                    s.1 = eval(&s.0, &mut used);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (spread, size) = simplex_extent(&simplex);
    let stop = if simplex.len() == n + 1 && converged((spread, size)) {
        Stop::Converged { spread, size }
    } else {
        Stop::Budget { spread, size }
    };
    (simplex.first().map_or(x0.to_vec(), |s| s.0.clone()), stop)
}

/// Where the data files of a fitted scenario are found from it.
#[derive(Debug, Clone)]
pub enum DataPaths<'a> {
    /// The scenario's own files, by paths relative to this folder (where the fitted
    /// scenario is written).
    RelativeTo(PathBuf),
    /// The copies of them in the result folder the fitted scenario is written into.
    Copies(&'a DataFiles),
}

/// The fitted scenario's text: the original file with the fitted values set (each marked
/// by a comment), paths to data files as `data` says, and `header` (comment lines saying
/// how it was fitted) on top.
pub fn fitted_text(
    base: &Scenario,
    params: &[Param],
    values: &[f64],
    header: &str,
    data: &DataPaths,
) -> Result<String> {
    let mut doc = base.document()?;
    let each = params
        .iter()
        .zip(values)
        .flat_map(|(p, v)| p.paths.iter().map(move |path| (p, path, v)));
    for (p, path, v) in each {
        let old = paths::get(&doc, path)
            .ok()
            .and_then(|i| i.as_value().cloned());
        let mut value = paths::number(*v, matches!(old, Some(Value::Integer(_))));
        let note = old
            .as_ref()
            .and_then(|o| {
                o.decor()
                    .suffix()
                    .and_then(|x| x.as_str())
                    .map(|x| x.trim().trim_start_matches('#').trim().to_string())
            })
            .unwrap_or_default();
        let was = old.map_or_else(
            || "absent".into(),
            |mut o| {
                o.decor_mut().clear();
                o.to_string().trim().to_string()
            },
        );
        let comment = format!("# fitted by calibrate in {}..{} (was {was})", p.lo, p.hi);
        let suffix = if note.is_empty() {
            format!("  {comment}")
        } else {
            format!("  {comment}; {note}")
        };
        let prefix = old_prefix(&doc, path);
        value.decor_mut().set_prefix(prefix);
        if paths::is_inline(&doc, path) {
            // No comment can follow a value inside `{ ... }`: keep its layout; the header
            // says what was fitted.
            paths::set(&mut doc, path, value).map_err(|e| invalid(base, vec![e]))?;
        } else {
            value.decor_mut().set_suffix(suffix);
            paths::replace(&mut doc, path, value).map_err(|e| invalid(base, vec![e]))?;
        }
    }
    let body = match data {
        DataPaths::RelativeTo(dir) => {
            rebase_files(&mut doc, base, dir);
            doc.to_string()
        }
        DataPaths::Copies(files) => files.rewrite(&base.path, &doc.to_string())?,
    };
    let mut text = String::new();
    for line in header.lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&body);
    Ok(text)
}

/// How a fitted scenario says it was made: the comment block on top of its text, with the
/// date it was made and the `command` that made it.
pub fn header(s: &Settings, cal: &Calibration, date: Date, command: &str) -> String {
    let best = &cal.trials[cal.best];
    let mut header = format!(
        "{}Method: Nelder-Mead on the box of the fitted parameters, {} trials, {} replicates per trial\n\
         with common random numbers (seed {}); objective: {} over {}.\n\
         Best trial {}: objective {:.4} ({}).\nStopped: {}.\n",
        header_lead(date, command),
        cal.trials.len(),
        s.replicates,
        s.seed,
        objective_text(s),
        windows_text(s),
        cal.best,
        best.score,
        ards_text(s, &best.ard),
        cal.stop.describe(cal.trials.len(), s.budget)
    );
    for (p, v) in s.params.iter().zip(&best.values) {
        let _ = writeln!(
            header,
            "Fitted: {} = {v} (range {}..{})",
            p.name(),
            p.lo,
            p.hi
        );
    }
    header
}

/// The first lines of every fitted scenario's header: who made it, when, and how.
pub fn header_lead(date: Date, command: &str) -> String {
    format!(
        "Calibrated by `northbound calibrate` (northbound {}) on {date}.\nCommand: {command}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The windows as a header says them: `2022-01..2023-02 and 2017-03..2017-12`.
pub fn windows_text(s: &Settings) -> String {
    s.windows
        .iter()
        .map(|w| format!("{}..{}", w.0, w.1))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The mean of the targets' ARD weighted by their weights (with all weights 1, the plain
/// mean, to the bit).
pub fn weighted_mean(ard: &[f64], weights: &[f64]) -> f64 {
    let total: f64 = ard.iter().zip(weights).map(|(a, w)| a * w).sum();
    total / weights.iter().sum::<f64>()
}

/// What the objective is, as a header says it: `the mean ARD of the targets` or, when
/// the weights differ, `the mean ARD of the targets weighted by --target (a 3, b 1)`.
pub fn objective_text(s: &Settings) -> String {
    if s.weights.iter().all(|&w| w == 1.0) {
        return "the mean ARD of the targets".into();
    }
    format!(
        "the mean ARD of the targets weighted by --target ({})",
        s.targets
            .iter()
            .zip(&s.weights)
            .map(|(t, w)| format!("{t} {w}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Each target's ARD: `qc_interceptions_monthly ARD 0.1020, ...` (and its weight if not 1).
pub fn ards_text(s: &Settings, ard: &[f64]) -> String {
    s.targets
        .iter()
        .zip(ard)
        .zip(&s.weights)
        .map(|((t, a), &w)| {
            if w == 1.0 {
                format!("{t} ARD {a:.4}")
            } else {
                format!("{t} ARD {a:.4} (weight {w})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where the fitted scenario goes: the `fitted` file asked for, its data paths relative to
/// its folder; else `fitted.toml` in the output folder being written (`tmp`), which reads
/// the copies of the data files in that folder (`files`), so that it runs wherever the
/// folder is moved.
pub fn fitted_place<'a>(
    fitted: Option<&Path>,
    tmp: &Path,
    files: &'a DataFiles,
) -> (PathBuf, DataPaths<'a>) {
    match fitted {
        None => (tmp.join("fitted.toml"), DataPaths::Copies(files)),
        Some(f) => (
            f.to_path_buf(),
            DataPaths::RelativeTo(match f.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            }),
        ),
    }
}

/// A row of `parameters.csv`: a fitted parameter (its path, or tied paths joined by `,`)
/// and its range, the box of the search (for abc, the uniform prior).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParameterRow {
    pub parameter: String,
    pub lo: f64,
    pub hi: f64,
}

/// Writes `parameters.csv`, the fitted parameters and their ranges, for the figures.
pub fn write_parameters(path: &Path, s: &Settings) -> Result<()> {
    let rows: Vec<ParameterRow> = s
        .params
        .iter()
        .map(|p| ParameterRow {
            parameter: p.name(),
            lo: p.lo,
            hi: p.hi,
        })
        .collect();
    crate::output::write_csv(path, &rows)
}

/// Writes `trials.csv`: one row per parameter set tried, with its score and each target's
/// ARD.
pub fn write_trials(path: &Path, s: &Settings, cal: &Calibration) -> Result<()> {
    let failed = |message: String| Error::Output {
        path: path.to_path_buf(),
        message,
    };
    let mut w = csv::Writer::from_path(path).map_err(|e| failed(e.to_string()))?;
    let mut header = vec!["trial".to_string()];
    header.extend(s.params.iter().map(Param::name));
    header.push("score".into());
    header.extend(s.targets.iter().map(|t| format!("ard_{t}")));
    header.push("error".into());
    w.write_record(header.iter().map(|h| crate::output::cell(h).into_owned()))
        .map_err(|e| failed(e.to_string()))?;
    for (i, t) in cal.trials.iter().enumerate() {
        let mut rec = vec![i.to_string()];
        rec.extend(t.values.iter().map(|v| v.to_string()));
        rec.push(t.score.to_string());
        rec.extend(t.ard.iter().map(|v| v.to_string()));
        rec.push(t.error.clone().unwrap_or_default());
        w.write_record(rec.iter().map(|c| crate::output::cell(c).into_owned()))
            .map_err(|e| failed(e.to_string()))?;
    }
    w.flush().map_err(|e| failed(e.to_string()))
}

/// Writes the scenario with the fitted `values` ([`fitted_text`]) to `path`, its data
/// paths as `data` says.
pub fn write_fitted(
    path: &Path,
    data: &DataPaths,
    base: &Scenario,
    params: &[Param],
    values: &[f64],
    header: &str,
) -> Result<()> {
    let text = fitted_text(base, params, values, header, data)?;
    std::fs::write(path, text).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The white space before a value (after `=`), to keep the layout.
fn old_prefix(doc: &DocumentMut, path: &str) -> String {
    paths::get(doc, path)
        .ok()
        .and_then(|i| i.as_value())
        .and_then(|v| {
            v.decor()
                .prefix()
                .and_then(|p| p.as_str())
                .map(String::from)
        })
        .unwrap_or_else(|| " ".into())
}

/// Rewrites the `file` of inflows and observed series so that they still resolve from
/// `out_dir`.
fn rebase_files(doc: &mut DocumentMut, base: &Scenario, out_dir: &Path) {
    let from = base.path.parent().unwrap_or(Path::new("."));
    for (key, file) in crate::output::bundle::file_keys(doc) {
        if let Some(rel) = relative(&from.join(&file), out_dir) {
            // The key was just read from this document: it is there to be set.
            let _ = crate::output::bundle::set_file(doc, &key, &rel);
        }
    }
}

/// `target` as a path relative to the folder `from` (both made absolute first).
pub fn relative(target: &Path, from: &Path) -> Option<String> {
    let t = std::path::absolute(target).ok()?;
    let f = std::path::absolute(from).ok()?;
    let (t, f): (Vec<_>, Vec<_>) = (t.components().collect(), f.components().collect());
    let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    Some(out.to_string_lossy().replace('\\', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fit_specs_and_windows() {
        let p = Param::parse("inflows[0].share=0.01..0.06").unwrap();
        assert_eq!(
            (p.name().as_str(), p.lo, p.hi),
            ("inflows[0].share", 0.01, 0.06)
        );
        let p = Param::parse("inflows[0].share, inflows[1].share=0..1").unwrap();
        assert_eq!(p.paths, ["inflows[0].share", "inflows[1].share"]);
        assert_eq!(p.name(), "inflows[0].share,inflows[1].share");
        assert!(
            Param::parse("a,a=0..1")
                .unwrap_err()
                .contains("tied to itself")
        );
        assert!(Param::parse("a,=0..1").unwrap_err().contains("empty"));
        assert!(Param::parse("inflows[0].share").is_err());
        assert!(Param::parse("x=2..1").unwrap_err().contains("LO < HI"));
        let (a, b) = parse_window("2022-01..2023-02").unwrap();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2022-01".into(), "2023-02".into())
        );
        assert!(parse_window("2022-01-2023").is_err());
    }

    #[test]
    fn targets_carry_weights_and_equal_weights_give_the_plain_mean() {
        assert_eq!(parse_target("qc").unwrap(), ("qc".to_string(), 1.0));
        assert_eq!(parse_target("qc=2.5").unwrap(), ("qc".to_string(), 2.5));
        for bad in ["qc=0", "qc=-1", "qc=x", "qc=inf", "qc=NaN", "qc=", "qc=2e6"] {
            let e = parse_target(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("positive number"), "{e}");
        }
        // All weights 1: the plain mean, bit for bit (the earlier calibrations' distance).
        let ard = [0.1234567, 2.5, 0.333, 0.07, 1e-3, 0.41];
        let plain = ard.iter().sum::<f64>() / ard.len() as f64;
        assert_eq!(weighted_mean(&ard, &[1.0; 6]).to_bits(), plain.to_bits());
        // A weight counts a target that many times.
        assert_eq!(weighted_mean(&[1.0, 4.0], &[3.0, 1.0]), 7.0 / 4.0);
    }

    #[test]
    fn nelder_mead_finds_the_minimum_of_a_bowl() {
        let mut n = 0;
        let (x, stop) = nelder_mead(&[0.9, 0.1], 200, &mut |x| {
            n += 1;
            (x[0] - 0.3).powi(2) + 2.0 * (x[1] - 0.7).powi(2)
        });
        assert!(n <= 200);
        assert!(matches!(stop, Stop::Converged { .. }), "{stop:?} after {n}");
        assert!(
            stop.describe(n, 200)
                .starts_with(&format!("converged after {n} trials"))
        );
        // With too small a budget it says it ran out, and how far from converged it was.
        let (_, stop) = nelder_mead(&[0.9, 0.1], 12, &mut |x| {
            (x[0] - 0.3).powi(2) + 2.0 * (x[1] - 0.7).powi(2)
        });
        let Stop::Budget { spread, size } = stop else {
            panic!("{stop:?}")
        };
        assert!(spread > SPREAD_TOLERANCE || size > SIZE_TOLERANCE);
        assert!(
            stop.describe(12, 12)
                .starts_with("out of budget: 12 trials (--budget 12)")
        );
        assert!(
            (x[0] - 0.3).abs() < 1e-3 && (x[1] - 0.7).abs() < 1e-3,
            "{x:?}"
        );
    }

    #[test]
    fn a_shortened_run_is_the_full_run_up_to_its_end() {
        use crate::model::engine::{self, RunOptions};
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        // Official news on, so that beliefs also learn from the rules of days to come.
        let full = Scenario::load(&path)
            .unwrap()
            .with_overrides(
                &[("behaviour.beliefs.news".into(), Value::from(0.2))],
                "test",
            )
            .unwrap();
        for seed in [1, 2] {
            let opts = RunOptions {
                seed: Some(seed),
                threads: Some(2),
                ..RunOptions::default()
            };
            let whole = engine::run(&full, &opts, &mut |_, _, _| {});
            for (last, end) in [("2023-02", "2023-02-28"), ("2023-03", "2023-03-31")] {
                let short = shortened(&full, Month::parse(last).unwrap());
                assert_eq!(short.end.to_string(), end);
                let part = engine::run(&short, &opts, &mut |_, _, _| {});
                let days = part.days as usize;
                assert_eq!(days as u32, short.days());
                let n = days * whole.places * crate::scenario::Metric::COUNT;
                assert!(part.counts[..] == whole.counts[..n], "counts to {end}");
                assert!(part.states[..] == whole.states[..part.states.len()]);
                assert!(part.created[..] == whole.created[..days]);
                // The observed periods that end by then, and the same values for them.
                assert!(
                    short
                        .observed
                        .iter()
                        .all(|o| o.points.iter().all(|p| p.end <= short.end))
                );
            }
        }
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/a/b/data/x.csv"), Path::new("/a/out/run")).unwrap(),
            "../../b/data/x.csv"
        );
    }

    /// The twin experiment: series made by the model itself, at a known parameter value,
    /// are given to the calibration, which must find that value again.
    #[test]
    fn keyed_seeds_are_each_sets_own_and_common_seeds_the_same_for_every_set() {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let text = std::fs::read_to_string(&src).unwrap()
            + "\n[[observed]]\nname = \"made_up\"\nfile = \"made_up.csv\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n";
        std::fs::write(
            dir.path().join("made_up.csv"),
            "month,count\n2023-01,20\n2023-02,25\n2023-03,30\n",
        )
        .unwrap();
        let path = dir.path().join("sc.toml");
        std::fs::write(&path, text).unwrap();
        let base = Scenario::load(&path).unwrap();
        let settings = Settings {
            params: vec![Param::parse("places[\"New York City\"].move_rate=0.005..0.2").unwrap()],
            targets: vec!["made_up".into()],
            weights: vec![1.0],
            windows: vec![parse_window("2023-01..2023-03").unwrap()],
            budget: 1,
            replicates: 2,
            seed: 7,
        };
        let obj = Objective::new(&base, &settings).unwrap();
        let sets = vec![vec![0.05]; 3];
        let score = |t: &[Trial]| t.iter().map(|t| t.score).collect::<Vec<f64>>();
        // Common random numbers: one set, one distance, however often it is given.
        let common = score(&obj.evaluate(&sets, &|| {}));
        assert!(common.iter().all(|&d| d == common[0]) && common[0].is_finite());
        assert_eq!(score(&obj.evaluate_keyed(&sets, None, &|| {})), common);
        // Fresh seeds: each key its own runs, so the same set scores otherwise, and a key's
        // score does not depend on what else is evaluated with it.
        let fresh = score(&obj.evaluate_keyed(&sets, Some(&[1, 2, 1]), &|| {}));
        assert_eq!(fresh[0], fresh[2]);
        assert_ne!(fresh[0], fresh[1]);
        assert_ne!(fresh[1], common[0]);
        let alone = score(&obj.evaluate_keyed(&sets[..1], Some(&[2]), &|| {}));
        assert_eq!(alone[0], fresh[1]);
    }

    #[test]
    fn calibration_recovers_a_known_parameter_from_the_model_own_series() {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let text = std::fs::read_to_string(&src)
            .unwrap()
            .replace("= 60,", "= 600,")
            .replace("= 60 }", "= 600 }")
            .replace("move_rate = 0.03 ", "move_rate = 0.05 ");
        let path = dir.path().join("twin.toml");
        // 1. The truth: NYC's move rate is 0.05. Make its monthly Roxham attempts the data.
        std::fs::write(&path, &text).unwrap();
        let truth = Scenario::load(&path).unwrap();
        let pool = ensemble::pool(Some(2));
        let runs = pool.install(|| {
            ensemble::map(
                &truth,
                99,
                &[0, 1, 2, 3],
                |_, res| crate::output::monthly_rows(&truth, res),
                &|| {},
            )
        });
        let mut csv = String::from("month,count\n");
        for m in [
            "2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06",
        ] {
            let v: f64 = runs
                .iter()
                .map(|rows| {
                    rows.iter()
                        .find(|r| {
                            r.period == m && r.place == "Roxham Road" && r.metric == "attempts"
                        })
                        .unwrap()
                        .value
                })
                .sum::<f64>()
                / runs.len() as f64;
            csv.push_str(&format!("{m},{v}\n"));
        }
        std::fs::write(dir.path().join("twin.csv"), csv).unwrap();
        // 2. Start elsewhere (0.02) and fit the move rate in 0.005..0.2.
        let text = text.replace("move_rate = 0.05 ", "move_rate = 0.02 ")
            + "\n[[observed]]\nname = \"twin\"\nfile = \"twin.csv\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n";
        std::fs::write(&path, &text).unwrap();
        let base = Scenario::load(&path).unwrap();
        let settings = Settings {
            params: vec![Param::parse("places[\"New York City\"].move_rate=0.005..0.2").unwrap()],
            targets: vec!["twin".into()],
            weights: vec![1.0],
            windows: vec![parse_window("2023-01..2023-06").unwrap()],
            budget: 30,
            replicates: 4,
            seed: 7,
        };
        let seen = std::sync::Mutex::new(Vec::new());
        let cal = pool
            .install(|| {
                calibrate(&base, &settings, &|n, best| {
                    seen.lock().unwrap().push((n, best));
                })
            })
            .unwrap();
        // The progress says, after each trial, the best score so far.
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), cal.trials.len());
        let mut best = f64::INFINITY;
        for ((n, shown), t) in seen.iter().zip(&cal.trials) {
            best = best.min(t.score);
            assert_eq!(*shown, best, "after trial {n}");
        }
        let fitted = cal.trials[cal.best].values[0];
        assert!(
            (fitted - 0.05).abs() < 0.012,
            "fitted {fitted}, truth 0.05; trials {:?}",
            cal.trials
                .iter()
                .map(|t| (t.values[0], t.score))
                .collect::<Vec<_>>()
        );
        assert!(cal.trials[cal.best].score < cal.trials[0].score);
        // The fitted file keeps the comments and marks the value.
        let text = fitted_text(
            &base,
            &settings.params,
            &cal.trials[cal.best].values,
            "fitted in a test",
            &DataPaths::RelativeTo(dir.path().to_path_buf()),
        )
        .unwrap();
        assert!(text.starts_with("# fitted in a test\n"));
        assert!(
            text.contains("# fitted by calibrate in 0.005..0.2 (was 0.02); assumption"),
            "{text}"
        );
        let out = dir.path().join("fitted.toml");
        std::fs::write(&out, text).unwrap();
        Scenario::load(&out).expect("the fitted scenario is valid");
    }
}
