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
}
