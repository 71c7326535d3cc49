//! Replicates: many runs of one scenario, in parallel and deterministic.
//!
//! Replicate `r` runs with the seed `key(seed, r)`, whatever else is running, so a result is
//! a function of (scenario, seed, replicate) alone. Two scenarios that differ only in their
//! parameters get the same replicate seeds, and hence share their random numbers (common
//! random numbers): differences between them are not noise.

use crate::model::engine::{self, Results, RunOptions, Simulation};
use crate::scenario::Scenario;
use crate::util::rng::{self, Purpose};
use rayon::prelude::*;

/// The seed of replicate `r`.
pub fn replicate_seed(seed: u64, r: u32) -> u64 {
    rng::key(seed, u64::from(r), 0, Purpose::Replicate)
}

/// Runs replicates `reps` in the current rayon pool and returns `f(r, results)` in the
/// order of `reps`. Each run's full results are dropped as soon as `f` has read them;
/// `done` is called as each replicate finishes.
pub fn map<T: Send>(
    sc: &Scenario,
    seed: u64,
    reps: &[u32],
    f: impl Fn(u32, &Results) -> T + Sync,
    done: &(dyn Fn() + Sync),
) -> Vec<T> {
    reps.par_iter()
        .map(|&r| {
            let opts = RunOptions {
                seed: Some(replicate_seed(seed, r)),
                ..RunOptions::default()
            };
            let res = engine::simulate(sc, &opts);
            let out = f(r, &res);
            done();
            out
        })
        .collect()
}

/// Runs many `(scenario, replicate)` jobs over as many workers as the current rayon pool
/// has threads, each run on a single thread, and returns `f(job, results)` in the order of
/// `jobs`. Many small runs side by side waste less than each run split over the threads
/// (the calibration's case). Replicate `r` runs with [`replicate_seed`]`(seed, r)` as in
/// [`map`], so the results are those of `map` whatever the number of workers.
pub fn map_runs<T: Send>(
    scenarios: &[&Scenario],
    jobs: &[(usize, u32)],
    seed: u64,
    f: impl Fn(usize, u32, &Results) -> T + Sync,
    done: &(dyn Fn() + Sync),
) -> Vec<T> {
    map_runs_from(scenarios, None, jobs, seed, f, done)
}

/// [`map_runs`], where `bases[k]` is scenario `k` before its overrides (a comparison's
/// variant): the days a scenario shares with its base ([`engine::shared_days`]) are run
/// once per worker, base and replicate ([`Trunks`]), and each run goes on from there. Jobs
/// of one base and replicate that come together (those sharing fewer days first) go to one
/// worker as a whole when there are at least as many such groups as workers; otherwise
/// job by job, each worker running the shared days itself. The same results as
/// [`map_runs`].
pub fn map_runs_from<T: Send>(
    scenarios: &[&Scenario],
    bases: Option<&[&Scenario]>,
    jobs: &[(usize, u32)],
    seed: u64,
    f: impl Fn(usize, u32, &Results) -> T + Sync,
    done: &(dyn Fn() + Sync),
) -> Vec<T> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // The units a worker takes: runs of jobs with one base and replicate, or single jobs.
    let mut units: Vec<std::ops::Range<usize>> = Vec::new();
    if let Some(bases) = bases {
        let same =
            |a: (usize, u32), b: (usize, u32)| a.1 == b.1 && std::ptr::eq(bases[a.0], bases[b.0]);
        for (j, &job) in jobs.iter().enumerate() {
            match units.last_mut() {
                Some(u) if same(jobs[u.start], job) => u.end = j + 1,
                _ => units.push(j..j + 1),
            }
        }
    }
    if units.len() < rayon::current_num_threads() {
        units = (0..jobs.len()).map(|j| j..j + 1).collect();
    }
    let workers = rayon::current_num_threads().clamp(1, units.len().max(1));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut got: Vec<(usize, T)> = Vec::new();
        let mut trunks = Trunks::new(1);
        // The engine's own parallel loops run in this one-thread pool, on this thread.
        pool(Some(1)).install(|| {
            loop {
                let u = next.fetch_add(1, Ordering::Relaxed);
                let Some(unit) = units.get(u) else { break };
                for j in unit.clone() {
                    let (k, r) = jobs[j];
                    let res = match bases {
                        Some(bases) => trunks.simulate(bases[k], scenarios[k], seed, r),
                        None => simulate(scenarios[k], seed, r),
                    };
                    got.push((j, f(k, r, &res)));
                    done();
                }
            }
        });
        got
    };
    let mut all: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|_| s.spawn(work)).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    all.sort_by_key(|x| x.0);
    all.into_iter().map(|x| x.1).collect()
}

/// Replicate `r` of `sc`, from the first day.
fn simulate(sc: &Scenario, seed: u64, r: u32) -> Results {
    let opts = RunOptions {
        seed: Some(replicate_seed(seed, r)),
        ..RunOptions::default()
    };
    engine::simulate(sc, &opts)
}

/// The beginnings of runs that others go on from: one worker's, so that nothing is locked.
/// A run of a base scenario is kept stopped on the last day a scenario derived from it
/// shares ([`engine::shared_days`]); the next such run of the same base, seed and replicate
/// is a copy of it going on ([`Simulation::fork`]), stepped further first if it shares
/// more days (and run again from the first day if it shares fewer). A comparison's
/// variants of the extension or the quota share the years before March 2023 with the
/// scenario they vary, and so do a sweep's points over a policy's parameters. At most
/// `keep` beginnings are kept (the least recently used is dropped); with `keep` 0, every
/// run goes from the first day.
pub struct Trunks<'a> {
    keep: usize,
    /// (base scenario's address, seed, replicate, the run stopped), least recently used
    /// first.
    held: Vec<(usize, u64, u32, Simulation<'a>)>,
}

impl<'a> Trunks<'a> {
    pub fn new(keep: usize) -> Trunks<'a> {
        Trunks {
            keep,
            held: Vec::new(),
        }
    }

    /// Replicate `r` of `sc`, whose scenario before its overrides is `base`: the results
    /// of [`engine::simulate`] with [`replicate_seed`]`(seed, r)`.
    pub fn simulate(&mut self, base: &'a Scenario, sc: &Scenario, seed: u64, r: u32) -> Results {
        let shared = engine::shared_days(base, sc);
        if shared == 0 || self.keep == 0 {
            return simulate(sc, seed, r);
        }
        let opts = RunOptions {
            seed: Some(replicate_seed(seed, r)),
            ..RunOptions::default()
        };
        let id = (base as *const Scenario as usize, seed, r);
        let trunk = match self.held.iter().position(|h| (h.0, h.1, h.2) == id) {
            Some(i) if self.held[i].3.day() <= shared => Some(self.held.remove(i).3),
            Some(i) => {
                self.held.remove(i);
                None
            }
            None => None,
        };
        let mut trunk = trunk.unwrap_or_else(|| Simulation::new(base, &opts));
        while trunk.day() < shared {
            trunk.step();
        }
        if self.held.len() >= self.keep {
            self.held.remove(0);
        }
        self.held.push((id.0, id.1, id.2, trunk.clone()));
        let mut sim = match trunk.fork(sc) {
            Some(sim) => sim,
            None => Simulation::new(sc, &opts),
        };
        while !sim.done() {
            sim.step();
        }
        sim.finish()
    }
}

/// A rayon pool of `threads` (default: one per core).
pub fn pool(threads: Option<usize>) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .expect("a rayon pool with default settings builds")
}

/// The `q` quantile (0..=1) of sorted values, by linear interpolation between order
/// statistics (R's and numpy's default, "type 7").
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let (lo, frac) = (h.floor() as usize, h - h.floor());
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + frac * (sorted[hi] - sorted[lo])
        }
    }
}

/// Mean and the 5%, 50% and 95% quantiles.
pub fn summary(values: &[f64]) -> [f64; 4] {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    // No values (a share where no replicate displaced anything): no mean either.
    let mean = if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    };
    [
        mean,
        quantile(&v, 0.05),
        quantile(&v, 0.5),
        quantile(&v, 0.95),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_the_type_7_definition() {
        let v: Vec<f64> = (1..=5).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert!((quantile(&v, 0.05) - 1.2).abs() < 1e-12);
        assert!((quantile(&v, 0.95) - 4.8).abs() < 1e-12);
        // numpy.percentile([0, 10], 25) == 2.5
        assert_eq!(quantile(&[0.0, 10.0], 0.25), 2.5);
        assert_eq!(summary(&[4.0, 1.0, 3.0, 2.0, 5.0]), [3.0, 1.2, 3.0, 4.8]);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn replicates_are_in_order_and_seeded_by_index() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let sc = Scenario::load(&path).unwrap();
        let pool = pool(Some(2));
        let a = pool.install(|| {
            map(
                &sc,
                1,
                &[0, 1, 2],
                |r, res| (r, res.seed, res.agents),
                &|| {},
            )
        });
        let b = pool.install(|| map(&sc, 1, &[2], |r, res| (r, res.seed, res.agents), &|| {}));
        assert_eq!(a.iter().map(|x| x.0).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(
            a[2], b[0],
            "replicate 2 is the same run alone or with others"
        );
        assert_ne!(a[0].1, a[1].1);
    }

    #[test]
    fn runs_that_go_on_from_a_kept_beginning_are_the_replicates_of_map() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let sc = Scenario::load(&path).unwrap();
        let set = |path: &str, v: &str| {
            let v: toml_edit::Value = v.parse().unwrap();
            sc.with_overrides(&[(path.into(), v)], "test").unwrap()
        };
        let others = [
            set("policies.stca_extension.window_days", "30"),
            set("policies.stca_extension.start", "2023-02-01"),
            set("policies.resettlement_quota.enabled", "false"),
            set("places[\"Roxham Road\"].detection", "0.5"),
        ];
        let shared: Vec<u32> = others.iter().map(|o| engine::shared_days(&sc, o)).collect();
        assert!(
            shared[1] < shared[2] && shared[2] < shared[0] && shared[3] == 0,
            "{shared:?}"
        );
        let key = |res: &Results| (res.seed, res.agents, res.counts.clone(), res.states.clone());
        let want: Vec<_> = (0..2)
            .map(|r| {
                others
                    .iter()
                    .map(|o| map(o, 3, &[r], |_, res| key(res), &|| {}).remove(0))
                    .collect::<Vec<_>>()
            })
            .collect();
        // Fewer shared days, then more (going further on), then fewer again (from the first
        // day), none, and a replicate that drops the other's beginning from a one-place cache.
        for keep in [1, 4] {
            let mut trunks = Trunks::new(keep);
            for (k, r) in [
                (1, 0),
                (2, 0),
                (0, 0),
                (2, 1),
                (1, 0),
                (3, 0),
                (0, 1),
                (0, 0),
            ] {
                let got = key(&trunks.simulate(&sc, &others[k], 3, r));
                assert_eq!(
                    got, want[r as usize][k],
                    "keep {keep}: variant {k}, replicate {r}"
                );
            }
        }
        // Another seed is another run, whatever is kept.
        let mut trunks = Trunks::new(4);
        let other_seed = map(&others[0], 4, &[0], |_, res| key(res), &|| {}).remove(0);
        assert_eq!(key(&trunks.simulate(&sc, &others[0], 3, 0)), want[0][0]);
        assert_eq!(
            key(&trunks.simulate(&sc, &others[0], 4, 0)),
            other_seed,
            "seed 4"
        );
        let bases = [&sc, &sc];
        let jobs = [(0, 0), (1, 0), (0, 1), (1, 1)];
        let got = pool(Some(2)).install(|| {
            map_runs_from(
                &[&others[0], &others[2]],
                Some(&bases),
                &jobs,
                3,
                |_, _, res| key(res),
                &|| {},
            )
        });
        for (&(k, r), got) in jobs.iter().zip(got) {
            assert_eq!(
                got,
                want[r as usize][[0, 2][k]],
                "map_runs_from: job ({k}, {r})"
            );
        }
    }

    #[test]
    fn runs_side_by_side_are_the_replicates_of_map() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let sc = Scenario::load(&path).unwrap();
        let other = sc
            .with_overrides(
                &[("scenario.seed".into(), toml_edit::Value::from(5))],
                "test",
            )
            .unwrap();
        let jobs = [(0, 0), (1, 2), (0, 1), (1, 0)];
        let key = |res: &Results| (res.seed, res.agents, res.counts.clone());
        let side = |threads| {
            pool(Some(threads)).install(|| {
                map_runs(
                    &[&sc, &other],
                    &jobs,
                    3,
                    |k, r, res| (k, r, key(res)),
                    &|| {},
                )
            })
        };
        let one = side(1);
        assert_eq!(one, side(2), "the same at 1 and 2 threads");
        for (k, r, got) in one {
            let sc = [&sc, &other][k];
            let want = pool(Some(2)).install(|| map(sc, 3, &[r], |_, res| key(res), &|| {}));
            assert_eq!(got, want[0], "job ({k}, {r}) is replicate {r} of map");
        }
    }
}
