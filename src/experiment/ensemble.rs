//! Replicates: many runs of one scenario, in parallel and deterministic.
//!
//! Replicate `r` runs with the seed `key(seed, r)`, whatever else is running, so a result is
//! a function of (scenario, seed, replicate) alone. Two scenarios that differ only in their
//! parameters get the same replicate seeds, and hence share their random numbers (common
//! random numbers): differences between them are not noise.

use crate::model::engine::{self, Results, RunOptions};
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = rayon::current_num_threads().clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut got: Vec<(usize, T)> = Vec::new();
        // The engine's own parallel loops run in this one-thread pool, on this thread.
        pool(Some(1)).install(|| {
            loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(k, r)) = jobs.get(j) else { break };
                let opts = RunOptions {
                    seed: Some(replicate_seed(seed, r)),
                    ..RunOptions::default()
                };
                let res = engine::simulate(scenarios[k], &opts);
                got.push((j, f(k, r, &res)));
                done();
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
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
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
