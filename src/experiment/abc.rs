//! Calibration as a distribution: approximate Bayesian computation by sequential Monte
//! Carlo (ABC-SMC, the population Monte Carlo of Toni et al. 2009 and Beaumont et al. 2009).
//!
//! The prior is uniform on the box of the `--fit` ranges; the distance of a parameter set
//! is the calibration [`Objective`] (the mean over targets of their ARD in the windows,
//! weighted by `--target SERIES=WEIGHT`), each parameter set run with seeds of its own
//! (`--seeds fresh`, keyed by the proposal), so that a set is accepted with the probability
//! that its runs fall within the tolerance, as ABC's acceptance step assumes; with `--seeds
//! common` every set runs with the same seeds, the distance is a fixed function of the
//! parameters, and the posterior is the level set of it within the tolerance, which each
//! generation narrows (a review's twin experiment: a 90% interval from 0.0620-0.0673 after
//! 3 generations to 0.0635-0.0637 after 9). Generation 0 is a
//! rejection step on a space-filling design: a Latin hypercube of prior draws, of which the
//! `particles` nearest are kept; its tolerance is the largest distance kept. Each later
//! generation lowers the tolerance to the `alpha` quantile of the previous population's
//! distances and proposes parameter sets by drawing a parent by weight and moving it with a
//! Gaussian kernel (diagonal, with twice the weighted variance of the previous population);
//! a proposal outside the box is drawn again, parent and all. Proposals are evaluated side
//! by side in batches and accepted in the order they were drawn until `particles` are, so
//! the result does not depend on the batches or the threads. A proposal's weight is the
//! prior over the proposal density, 1 / sum_j w_j K(theta | theta_j) (the prior is flat,
//! and redrawing the parent as well keeps the density of an accepted proposal the mixture's
//! restricted to the box, up to a constant).
//!
//! Every draw, and every proposal's seeds, is keyed by (seed, proposal, generation,
//! purpose), so the same command gives the same posterior whatever the number of threads.

use crate::experiment::calibrate::{self, Objective, Settings, Trial, Work};
use crate::experiment::ensemble;
use crate::experiment::posterior::{self, Entry, Particle};
use crate::output;
use crate::scenario::Scenario;
use crate::util::date::Date;
use crate::util::error::{Error, Result};
use crate::util::rng::{self, Purpose};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How hard ABC-SMC works.
#[derive(Debug, Clone, PartialEq)]
pub struct AbcSettings {
    /// Particles per population (N).
    pub particles: usize,
    /// Points of the prior design of generation 0.
    pub prior_draws: usize,
    /// Generations after generation 0.
    pub generations: usize,
    /// Each generation's tolerance: this quantile of the previous population's distances.
    pub alpha: f64,
    /// Proposals evaluated per generation at most.
    pub max_proposals: usize,
    /// Whether each parameter set runs with seeds of its own (keyed by its generation and
    /// place among them: [`calibrate::Objective::evaluate_keyed`]), as ABC's acceptance
    /// needs, or every set with the same R seeds (common random numbers: the distance a
    /// fixed function of the parameters, and the posterior a level set of it that each
    /// generation narrows). `new` gives fresh seeds.
    pub fresh_seeds: bool,
}

impl AbcSettings {
    /// The defaults for `particles` particles: 10 prior draws per particle, 5 generations,
    /// alpha 0.5, at most 30 proposals per particle in a generation.
    pub fn new(particles: usize) -> AbcSettings {
        AbcSettings {
            particles,
            prior_draws: 10 * particles,
            generations: 5,
            alpha: 0.5,
            max_proposals: 30 * particles,
            fresh_seeds: true,
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.particles < 2 {
            out.push(format!(
                "--particles {}: expected at least 2",
                self.particles
            ));
        }
        if self.prior_draws < self.particles {
            out.push(format!(
                "--prior-draws {}: expected at least the {} particles",
                self.prior_draws, self.particles
            ));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            out.push(format!(
                "--alpha {}: expected a quantile strictly between 0 and 1",
                self.alpha
            ));
        }
        if self.max_proposals < self.particles {
            out.push(format!(
                "--max-proposals {}: expected at least the {} particles",
                self.max_proposals, self.particles
            ));
        }
        out
    }
}

/// A population: parameter sets (in the parameters' units), their normalised weights,
/// distances and each target's ARD.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub values: Vec<Vec<f64>>,
    pub weights: Vec<f64>,
    pub distances: Vec<f64>,
    pub ards: Vec<Vec<f64>>,
}

impl Population {
    fn of(trials: Vec<Trial>, weights: Vec<f64>) -> Population {
        let total: f64 = weights.iter().sum();
        let mut p = Population {
            values: Vec::new(),
            weights: weights.iter().map(|w| w / total).collect(),
            distances: Vec::new(),
            ards: Vec::new(),
        };
        for t in trials {
            p.values.push(t.values);
            p.distances.push(t.score);
            p.ards.push(t.ard);
        }
        p
    }

    /// The effective sample size, (sum w)^2 / sum w^2.
    pub fn ess(&self) -> f64 {
        let s: f64 = self.weights.iter().sum();
        let s2: f64 = self.weights.iter().map(|w| w * w).sum();
        s * s / s2
    }

    /// The particle with the smallest distance (the first of equals).
    pub fn best(&self) -> usize {
        (0..self.distances.len())
            .min_by(|&a, &b| self.distances[a].total_cmp(&self.distances[b]))
            .unwrap_or(0)
    }

    /// Parameter `k`'s weighted mean and 5% and 95% weighted quantiles.
    pub fn summary(&self, k: usize) -> [f64; 3] {
        let v: Vec<f64> = self.values.iter().map(|x| x[k]).collect();
        posterior::weighted_summary(&v, &self.weights)
    }
}

/// A row of `generations.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Generation {
    pub generation: usize,
    pub tolerance: f64,
    /// Proposals drawn until the population was complete (generation 0: the prior draws).
    pub proposed: usize,
    pub accepted: usize,
    /// The population's effective sample size.
    pub ess: f64,
    pub best_distance: f64,
    /// The proposal cap stopped the generation before enough proposals were within the
    /// tolerance: it kept the best proposals, and its tolerance is the largest of theirs.
    pub capped: bool,
}

/// Where a calibration stands, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    pub generation: usize,
    pub generations: usize,
    /// Proposals evaluated so far in this generation (generation 0: prior draws).
    pub proposed: usize,
    pub accepted: usize,
    /// The tolerance of this generation (infinite in generation 0, until it is known).
    pub tolerance: f64,
    /// The smallest distance seen so far in this generation.
    pub best: f64,
    /// The smallest distance seen so far in any generation.
    pub best_so_far: f64,
}

/// What ABC-SMC found: the final population and how each generation went.
#[derive(Debug, Clone)]
pub struct Abc {
    pub population: Population,
    pub generations: Vec<Generation>,
    pub work: Work,
}

impl Abc {
    /// The last generation's tolerance.
    pub fn tolerance(&self) -> f64 {
        self.generations.last().map_or(f64::NAN, |g| g.tolerance)
    }

    /// Why it stopped, in words: ABC-SMC runs every generation asked for; a generation that
    /// the proposal cap stopped before enough proposals were within its tolerance kept its
    /// best, and its tolerance became the largest of their distances.
    pub fn stopped(&self, a: &AbcSettings) -> String {
        let done = self.generations.len().saturating_sub(1);
        let capped: Vec<String> = self
            .generations
            .iter()
            .filter(|g| g.capped)
            .map(|g| g.generation.to_string())
            .collect();
        let mut text = format!(
            "all {done} generations after the prior done (--generations {}), final tolerance {:.4}",
            a.generations,
            self.tolerance()
        );
        if capped.is_empty() {
            text.push_str(&format!(
                "; every generation found its {} particles within its tolerance before the cap of {} proposals",
                a.particles, a.max_proposals
            ));
        } else {
            text.push_str(&format!(
                "; the proposal cap (--max-proposals {}) stopped generation{} {} before {} particles were within the tolerance: it kept the best {} and its tolerance is the largest of their distances (more proposals, or a larger --alpha, would lower it less abruptly)",
                a.max_proposals,
                if capped.len() > 1 { "s" } else { "" },
                capped.join(", "),
                a.particles,
                a.particles
            ));
        }
        text
    }
}

/// Runs ABC-SMC in the current rayon pool. `progress` is called as runs finish.
pub fn abc(
    base: &Scenario,
    s: &Settings,
    a: &AbcSettings,
    progress: &(dyn Fn(&Status) + Sync),
) -> Result<Abc> {
    let problems = a.problems();
    if !problems.is_empty() {
        return Err(invalid(base, problems));
    }
    let obj = Objective::new(base, s)?;
    let smc = Smc {
        base,
        obj: &obj,
        a,
        seed: s.seed,
        reps: s.replicates.max(1) as usize,
        threads: rayon::current_num_threads(),
        status: Mutex::new(Status {
            generation: 0,
            generations: a.generations,
            proposed: 0,
            accepted: 0,
            tolerance: f64::INFINITY,
            best: f64::INFINITY,
            best_so_far: f64::INFINITY,
        }),
        runs_done: AtomicUsize::new(0),
        progress,
    };
    let (mut pop, first) = smc.prior()?;
    let mut generations = vec![first];
    for g in 1..=a.generations {
        let (next, generation) = smc.generation(&pop, g)?;
        pop = next;
        generations.push(generation);
    }
    Ok(Abc {
        population: pop,
        generations,
        work: obj.work(),
    })
}

fn invalid(base: &Scenario, problems: Vec<String>) -> Error {
    Error::Invalid {
        path: base.path.clone(),
        problems,
    }
}

/// One ABC-SMC calibration under way: what it needs, and where it stands.
struct Smc<'a> {
    base: &'a Scenario,
    obj: &'a Objective<'a>,
    a: &'a AbcSettings,
    seed: u64,
    reps: usize,
    threads: usize,
    status: Mutex<Status>,
    /// Runs finished in the current batch, for the progress.
    runs_done: AtomicUsize,
    progress: &'a (dyn Fn(&Status) + Sync),
}

impl Smc<'_> {
    /// Changes the status and reports it.
    fn update(&self, f: impl FnOnce(&mut Status)) {
        if let Ok(mut st) = self.status.lock() {
            f(&mut st);
            st.best_so_far = st.best_so_far.min(st.best);
            (self.progress)(&st);
        }
    }

    /// Evaluates parameter sets, the `first`-th and on of generation `g` (each set's seeds
    /// its own, if fresh), counting a proposal in the status as its replicates end.
    fn evaluate(&self, sets: &[Vec<f64>], g: usize, first: usize) -> Vec<Trial> {
        self.runs_done.store(0, Ordering::Relaxed);
        let tick = || {
            let done = self.runs_done.fetch_add(1, Ordering::Relaxed) + 1;
            if done.is_multiple_of(self.reps) {
                self.update(|st| st.proposed += 1);
            }
        };
        let keys: Vec<u64> = (first..first + sets.len())
            .map(|i| ((g as u64) << 40) | i as u64)
            .collect();
        let keys = self.a.fresh_seeds.then_some(keys.as_slice());
        self.obj.evaluate_keyed(sets, keys, &tick)
    }

    /// Generation 0: the prior design, its best N kept with equal weights.
    fn prior(&self) -> Result<(Population, Generation)> {
        let n = self.a.particles;
        let design = latin_hypercube(self.obj, self.seed, self.a.prior_draws);
        let mut trials: Vec<Trial> = Vec::with_capacity(design.len());
        let chunk = (8 * self.threads).div_ceil(self.reps).max(n / 4).max(1);
        for (c, sets) in design.chunks(chunk).enumerate() {
            let got = self.evaluate(sets, 0, c * chunk);
            let best = got.iter().map(|t| t.score).fold(f64::INFINITY, f64::min);
            self.update(|st| st.best = st.best.min(best));
            trials.extend(got);
        }
        let valid = trials.iter().filter(|t| t.score.is_finite()).count();
        if valid < n {
            let why = trials
                .iter()
                .find_map(|t| t.error.clone())
                .unwrap_or_else(|| "no simulated value to compare".into());
            return Err(invalid(
                self.base,
                vec![format!(
                    "calibrate --method abc: only {valid} of the {} prior draws give a distance, fewer than the {n} particles; the first problem: {why}",
                    trials.len()
                )],
            ));
        }
        let kept: Vec<Trial> = best_of(&trials, n)
            .into_iter()
            .map(|i| trials[i].clone())
            .collect();
        let pop = Population::of(kept, vec![1.0; n]);
        let generation = Generation {
            generation: 0,
            tolerance: pop.distances.iter().copied().fold(0.0, f64::max),
            proposed: trials.len(),
            accepted: n,
            ess: pop.ess(),
            best_distance: pop.distances[pop.best()],
            capped: false,
        };
        Ok((pop, generation))
    }

    /// Generation `g` from the population before it.
    fn generation(&self, prev: &Population, g: usize) -> Result<(Population, Generation)> {
        let (n, cap) = (self.a.particles, self.a.max_proposals);
        let mut sorted = prev.distances.clone();
        sorted.sort_by(f64::total_cmp);
        let tolerance = ensemble::quantile(&sorted, self.a.alpha);
        let sigma = kernel_sd(self.obj, prev);
        self.update(|st| {
            *st = Status {
                generation: g,
                generations: self.a.generations,
                proposed: 0,
                accepted: 0,
                tolerance,
                best: f64::INFINITY,
                best_so_far: st.best_so_far,
            }
        });
        let mut proposals: Vec<Trial> = Vec::new();
        let mut accepted: Vec<usize> = Vec::new();
        let (mut candidate, mut outside) = (0u64, 0u64);
        while accepted.len() < n && proposals.len() < cap {
            // Enough proposals for what is missing at the acceptance rate so far (a guess
            // from alpha at first), in batches that keep the threads busy. The batch size
            // changes the work done, never the result.
            let missing = (n - accepted.len()) as f64;
            let rate = if accepted.is_empty() {
                self.a.alpha / 2.0
            } else {
                accepted.len() as f64 / proposals.len() as f64
            };
            let want = (missing / rate.max(0.01) * 1.1).ceil() as usize;
            let least = (2 * self.threads).div_ceil(self.reps).max(1);
            let batch = want
                .clamp(least, least.max(n / 4))
                .min(cap - proposals.len());
            let mut sets = Vec::with_capacity(batch);
            while sets.len() < batch {
                match propose(self.obj, prev, &sigma, self.seed, g as u32, candidate) {
                    Some(theta) => sets.push(theta),
                    None => outside += 1,
                }
                candidate += 1;
                if outside > 1000 * cap as u64 {
                    return Err(invalid(
                        self.base,
                        vec![format!(
                            "calibrate --method abc: generation {g}: the kernel keeps proposing outside the --fit box ({outside} times)"
                        )],
                    ));
                }
            }
            // In the order drawn, up to the N-th acceptance: the rest of the batch is
            // dropped, as if it had never been drawn.
            for t in self.evaluate(&sets, g, proposals.len()) {
                if accepted.len() < n {
                    if t.score <= tolerance {
                        accepted.push(proposals.len());
                    }
                    proposals.push(t);
                }
            }
            let best = proposals
                .iter()
                .map(|t| t.score)
                .fold(f64::INFINITY, f64::min);
            self.update(|st| {
                st.accepted = accepted.len();
                st.best = best;
                st.proposed = proposals.len();
            });
        }
        let capped = accepted.len() < n;
        let (kept, tolerance) = if capped {
            let kept = best_of(&proposals, n);
            if kept.iter().any(|&i| !proposals[i].score.is_finite()) {
                return Err(invalid(
                    self.base,
                    vec![format!(
                        "calibrate --method abc: generation {g}: fewer than {n} of the {} proposals give a distance",
                        proposals.len()
                    )],
                ));
            }
            let tol = kept.iter().map(|&i| proposals[i].score).fold(0.0, f64::max);
            (kept, tol)
        } else {
            (accepted, tolerance)
        };
        let chosen: Vec<Trial> = kept.iter().map(|&i| proposals[i].clone()).collect();
        let weights = importance_weights(&chosen, prev, &sigma);
        let pop = Population::of(chosen, weights);
        let generation = Generation {
            generation: g,
            tolerance,
            proposed: proposals.len(),
            accepted: n,
            ess: pop.ess(),
            best_distance: pop.distances[pop.best()],
            capped,
        };
        Ok((pop, generation))
    }
}

/// The indices of the `n` smallest scores, in their original order (ties: the earlier).
fn best_of(trials: &[Trial], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..trials.len()).collect();
    order.sort_by(|&a, &b| trials[a].score.total_cmp(&trials[b].score).then(a.cmp(&b)));
    order.truncate(n);
    order.sort_unstable();
    order
}

/// A Latin hypercube of `m` points in the box: for each parameter, one point in each of
/// `m` equal strata, at a keyed place within it, the strata in a keyed order.
pub fn latin_hypercube(obj: &Objective, seed: u64, m: usize) -> Vec<Vec<f64>> {
    let mut points = vec![Vec::with_capacity(obj.params.len()); m];
    for (k, p) in obj.params.iter().enumerate() {
        let mut strata: Vec<usize> = (0..m).collect();
        strata.sort_by_key(|&i| rng::key(seed, i as u64, 2 * k as u32, Purpose::Design));
        for (i, point) in points.iter_mut().enumerate() {
            let u = (strata[i] as f64
                + rng::uniform(seed, i as u64, 2 * k as u32 + 1, Purpose::Design))
                / m as f64;
            point.push(round(obj, k, p.lo + u * (p.hi - p.lo)));
        }
    }
    points
}

fn round(obj: &Objective, k: usize, v: f64) -> f64 {
    if obj.is_integer(k) { v.round() } else { v }
}

/// The kernel's standard deviation per parameter: the square root of twice the weighted
/// variance of the population, at least a millionth of the range (half a unit for an
/// integer, so that it can still move).
fn kernel_sd(obj: &Objective, pop: &Population) -> Vec<f64> {
    obj.params
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let mean: f64 = pop
                .values
                .iter()
                .zip(&pop.weights)
                .map(|(v, w)| v[k] * w)
                .sum();
            let var: f64 = pop
                .values
                .iter()
                .zip(&pop.weights)
                .map(|(v, w)| w * (v[k] - mean).powi(2))
                .sum();
            let floor = if obj.is_integer(k) {
                0.5
            } else {
                1e-6 * (p.hi - p.lo)
            };
            (2.0 * var).sqrt().max(floor)
        })
        .collect()
}

/// Proposal `c` of generation `g`: a parent drawn by weight, moved by the kernel; `None`
/// if that falls outside the box.
fn propose(
    obj: &Objective,
    pop: &Population,
    sigma: &[f64],
    seed: u64,
    g: u32,
    c: u64,
) -> Option<Vec<f64>> {
    let u = rng::uniform(seed, c, g, Purpose::Parent);
    let mut cum = 0.0;
    let mut parent = pop.weights.len() - 1;
    for (j, w) in pop.weights.iter().enumerate() {
        cum += w;
        if u < cum {
            parent = j;
            break;
        }
    }
    let d = obj.params.len() as u64;
    let mut theta = Vec::with_capacity(obj.params.len());
    for (k, p) in obj.params.iter().enumerate() {
        let z = rng::normal(seed, c * d + k as u64, g, Purpose::Perturb);
        let v = round(obj, k, pop.values[parent][k] + sigma[k] * z);
        if !(p.lo..=p.hi).contains(&v) {
            return None;
        }
        theta.push(v);
    }
    Some(theta)
}

/// The weights of accepted proposals: 1 / sum_j w_j K(theta | theta_j) over the previous
/// population, normalised (in logarithms, so that nothing underflows).
fn importance_weights(chosen: &[Trial], prev: &Population, sigma: &[f64]) -> Vec<f64> {
    let log_w: Vec<f64> = chosen
        .iter()
        .map(|t| {
            let terms: Vec<f64> = prev
                .values
                .iter()
                .zip(&prev.weights)
                .map(|(theta_j, w)| {
                    let q: f64 = t
                        .values
                        .iter()
                        .zip(theta_j)
                        .zip(sigma)
                        .map(|((a, b), s)| ((a - b) / s).powi(2))
                        .sum();
                    w.ln() - q / 2.0
                })
                .collect();
            let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            -(top + terms.iter().map(|x| (x - top).exp()).sum::<f64>().ln())
        })
        .collect();
    let top = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    log_w.iter().map(|l| (l - top).exp()).collect()
}

/// The posterior as `posterior.csv` rows: particle, weight, parameters, distance, each
/// target's ARD.
pub fn entries(abc: &Abc) -> Vec<Entry> {
    let p = &abc.population;
    (0..p.values.len())
        .map(|i| Entry {
            particle: Particle {
                id: i as u64,
                weight: p.weights[i],
                values: p.values[i].clone(),
            },
            distance: p.distances[i],
            extra: p.ards[i].clone(),
        })
        .collect()
}

/// Writes `posterior.csv` and `generations.csv` into `dir`.
pub fn write(dir: &Path, s: &Settings, abc: &Abc) -> Result<()> {
    let params: Vec<String> = s.params.iter().map(calibrate::Param::name).collect();
    let extra: Vec<String> = s.targets.iter().map(|t| format!("ard:{t}")).collect();
    posterior::write(&dir.join("posterior.csv"), &params, &extra, &entries(abc))?;
    output::write_csv(&dir.join("generations.csv"), &abc.generations)
}

/// The header of the fitted scenario (the posterior's best particle): how it was made,
/// and where the ensemble is.
pub fn header(
    s: &Settings,
    a: &AbcSettings,
    abc: &Abc,
    date: Date,
    command: &str,
    ensemble: &str,
) -> String {
    let p = &abc.population;
    let best = p.best();
    let capped: Vec<String> = abc
        .generations
        .iter()
        .filter(|g| g.capped)
        .map(|g| g.generation.to_string())
        .collect();
    let mut header = format!(
        "{}Method: ABC-SMC (population Monte Carlo) with a uniform prior on the box of the fitted\n\
         parameters: {} particles, generation 0 the best of a Latin hypercube of {} prior draws, then\n\
         {} generations, each with the tolerance at the {} quantile of the previous distances;\n\
         {} replicates per parameter set {} (seed {}); distance: {}\n\
         over {}.\n\
         Final tolerance {:.4}, effective sample size {:.1}{}.\n\
         These are the values of the posterior's best particle ({best}: distance {:.4}; {}).\n\
         The posterior ensemble is {ensemble}: give it to validate or compare with --posterior\n\
         so that their intervals cover the parameters' uncertainty too.\n",
        calibrate::header_lead(date, command),
        a.particles,
        a.prior_draws,
        a.generations,
        a.alpha,
        s.replicates,
        if a.fresh_seeds {
            "with seeds of its own, keyed by the proposal"
        } else {
            "with common random numbers"
        },
        s.seed,
        calibrate::objective_text(s),
        calibrate::windows_text(s),
        abc.tolerance(),
        p.ess(),
        if capped.is_empty() {
            String::new()
        } else {
            format!(
                " (the proposal cap stopped generation {})",
                capped.join(", ")
            )
        },
        p.distances[best],
        calibrate::ards_text(s, &p.ards[best]),
    );
    for (k, q) in s.params.iter().enumerate() {
        let [mean, lo, hi] = p.summary(k);
        let _ = writeln!(
            header,
            "Fitted: {} = {} (range {}..{}; posterior mean {mean:.6}, 90% interval {lo:.6} to {hi:.6})",
            q.name(),
            p.values[best][k],
            q.lo,
            q.hi
        );
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::calibrate::{Param, parse_window};

    fn trial(values: Vec<f64>, score: f64) -> Trial {
        Trial {
            values,
            score,
            ard: vec![score],
            error: None,
        }
    }

    #[test]
    fn weights_are_the_prior_over_the_mixture() {
        // Two parents with weights 0.25 and 0.75 at 0 and 1, sigma 1: the density of the
        // proposal mixture at 0 is 0.25 + 0.75 e^-1/2, at 1 it is 0.25 e^-1/2 + 0.75.
        let prev = Population::of(
            vec![trial(vec![0.0], 0.1), trial(vec![1.0], 0.2)],
            vec![1.0, 3.0],
        );
        let w = importance_weights(
            &[trial(vec![0.0], 0.0), trial(vec![1.0], 0.0)],
            &prev,
            &[1.0],
        );
        let h = (-0.5f64).exp();
        let want = (0.25 * h + 0.75) / (0.25 + 0.75 * h);
        assert!((w[0] / w[1] - want).abs() < 1e-12, "{w:?}");
        // Far from every parent nothing underflows.
        let w = importance_weights(&[trial(vec![1e3], 0.0)], &prev, &[1.0]);
        assert!(w[0].is_finite() && w[0] > 0.0);
        assert_eq!(prev.ess(), 1.0 / (0.25f64.powi(2) + 0.75f64.powi(2)));
    }

    #[test]
    fn the_best_are_kept_in_their_order() {
        let t: Vec<Trial> = [0.3, 0.1, f64::INFINITY, 0.2, 0.1]
            .iter()
            .map(|&s| trial(vec![s], s))
            .collect();
        assert_eq!(best_of(&t, 3), [1, 3, 4]);
    }

    /// minimal.toml with ten times the people and NYC's move rate at `move_rate`, with an
    /// observed series `twin` of monthly Roxham attempts from `csv`, in `dir`.
    fn twin_scenario(dir: &Path, move_rate: &str, csv: &str) -> Scenario {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let text = std::fs::read_to_string(src)
            .unwrap()
            .replace("= 60,", "= 600,")
            .replace("= 60 }", "= 600 }")
            .replace("move_rate = 0.03 ", &format!("move_rate = {move_rate} "))
            + "\n[[observed]]\nname = \"twin\"\nfile = \"twin.csv\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n";
        std::fs::write(dir.join("twin.csv"), csv).unwrap();
        let path = dir.join("twin.toml");
        std::fs::write(&path, text).unwrap();
        Scenario::load(&path).unwrap()
    }

    fn settings(fit: &[&str], window: &str, replicates: u32) -> Settings {
        Settings {
            params: fit.iter().map(|f| Param::parse(f).unwrap()).collect(),
            targets: vec!["twin".into()],
            weights: vec![1.0],
            windows: vec![parse_window(window).unwrap()],
            budget: 1,
            replicates,
            seed: 7,
        }
    }

    #[test]
    fn a_latin_hypercube_has_one_point_in_each_stratum() {
        let dir = tempfile::tempdir().unwrap();
        let base = twin_scenario(dir.path(), "0.03", "month,count\n2023-01,5\n");
        let s = settings(
            &[
                "places[\"New York City\"].move_rate=0.0..0.1",
                "behaviour.beliefs.lag_days=0..40",
            ],
            "2023-01..2023-01",
            1,
        );
        let obj = Objective::new(&base, &s).unwrap();
        let m = 20;
        let pts = latin_hypercube(&obj, 9, m);
        assert_eq!(pts, latin_hypercube(&obj, 9, m), "keyed");
        let mut strata: Vec<usize> = pts
            .iter()
            .map(|p| (p[0] / 0.1 * m as f64) as usize)
            .collect();
        strata.sort_unstable();
        assert_eq!(strata, (0..m).collect::<Vec<_>>());
        assert!(
            pts.iter()
                .all(|p| p[1] == p[1].round() && (0.0..=40.0).contains(&p[1])),
            "an integer parameter is rounded and stays in its range"
        );
    }

    /// The same posterior at 1 and 2 threads, byte for byte.
    #[test]
    fn the_posterior_does_not_depend_on_the_threads() {
        let dir = tempfile::tempdir().unwrap();
        let base = twin_scenario(
            dir.path(),
            "0.03",
            "month,count\n2023-01,40\n2023-02,60\n2023-03,80\n",
        );
        let s = settings(
            &[
                "places[\"New York City\"].move_rate=0.005..0.2",
                "behaviour.beliefs.lag_days=1..30",
            ],
            "2023-01..2023-03",
            2,
        );
        let mut a = AbcSettings::new(8);
        a.prior_draws = 16;
        a.generations = 2;
        let run = |threads| {
            let abc = ensemble::pool(Some(threads))
                .install(|| abc(&base, &s, &a, &|_| {}))
                .unwrap();
            let out = tempfile::tempdir().unwrap();
            write(out.path(), &s, &abc).unwrap();
            let read = |f: &str| std::fs::read(out.path().join(f)).unwrap();
            (
                abc.work.runs,
                read("posterior.csv"),
                read("generations.csv"),
            )
        };
        let one = run(1);
        assert_eq!(one, run(2));
        let text = String::from_utf8(one.1).unwrap();
        assert!(
            text.starts_with("particle,weight,\"places[\"\"New York City\"\"].move_rate\",behaviour.beliefs.lag_days,distance,ard:twin\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 9);
        let generations = String::from_utf8(one.2).unwrap();
        assert!(
            generations
                .starts_with("generation,tolerance,proposed,accepted,ess,best_distance,capped\n0,"),
            "{generations}"
        );
        assert_eq!(generations.lines().count(), 4);
    }

    /// The twin experiment: series made by the model itself at a known value; the
    /// posterior must concentrate around that value.
    #[test]
    fn the_posterior_concentrates_around_the_truth_of_a_twin_experiment() {
        let dir = tempfile::tempdir().unwrap();
        // 1. The truth: NYC's move rate is 0.05. Its monthly Roxham attempts are the data.
        let truth = twin_scenario(dir.path(), "0.05", "month,count\n2023-01,1\n");
        let pool = ensemble::pool(Some(2));
        let months = ["2023-01", "2023-02", "2023-03", "2023-04"];
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
        for m in months {
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
        // 2. Fit it in 0.005..0.2 from a uniform prior.
        let base = twin_scenario(dir.path(), "0.02", &csv);
        let s = settings(
            &["places[\"New York City\"].move_rate=0.005..0.2"],
            "2023-01..2023-04",
            2,
        );
        let mut a = AbcSettings::new(24);
        a.prior_draws = 72;
        a.generations = 2;
        let abc = pool.install(|| abc(&base, &s, &a, &|_| {})).unwrap();
        let [mean, lo, hi] = abc.population.summary(0);
        let trace = format!(
            "mean {mean}, 90% {lo}..{hi}; generations {:?}",
            abc.generations
        );
        assert!(lo <= 0.05 && 0.05 <= hi, "the truth is inside: {trace}");
        let prior = 0.9 * (0.2 - 0.005);
        assert!(
            hi - lo < prior / 5.0,
            "narrower than the prior's {prior}: {trace}"
        );
        let tolerances: Vec<f64> = abc.generations.iter().map(|g| g.tolerance).collect();
        assert!(tolerances.windows(2).all(|w| w[1] <= w[0]), "{trace}");
        assert!(abc.population.ess() > 1.0);
    }
}
