//! Global sensitivity of a sweep's outcomes to its parameters, with bootstrap intervals.
//!
//! The model's output at a point is the mean of the point's replicates (which share their
//! seeds with every other point's: common random numbers), so the indices describe how the
//! parameters move the expected outcome, not the run-to-run noise.
//!
//! * Sobol (a Saltelli design, `design::Method::Sobol`): first-order indices by Saltelli et
//!   al. (2010), `S1_i = mean((f(B) - f0) (f(A_B^i) - f(A))) / V`, and total indices by
//!   Jansen (1999), `ST_i = mean((f(A) - f(A_B^i))^2) / (2 V)`, with `f0` and `V` the mean
//!   and the variance of f over A and B together (centring by `f0` changes nothing in
//!   expectation, but keeps an outcome of a large mean and a small spread, such as attempts
//!   in the thousands that vary by a few, from swamping the estimate with noise, as SALib
//!   normalises its outputs for the same reason);
//! * Morris (`design::Method::Morris`): the elementary effects `(f(x') - f(x)) / d`, where
//!   a step moves one parameter from `x` to `x'` and `d` is how far, as a share of its
//!   range (`Δ` in the unit box for a range of real numbers; for whole numbers and lists,
//!   the values the runs actually took): the change of the outcome over the parameter's
//!   whole range, if it were linear. Their mean `mu`, the mean of their absolute values
//!   `mu_star` (Campolongo et al. 2007) and their standard deviation `sigma` (n - 1);
//! * any other design (grid, Latin hypercube, points from a file): Spearman's rank
//!   correlation `rho` between each parameter and the outcome over the points (over points
//!   from a posterior, weighted by the particles' weights).
//!
//! Intervals are the 5% and 95% quantiles of the estimate over bootstrap resamples of the
//! design's blocks (Sobol's rows, Morris's trajectories, the points), each resample keyed
//! by the seed, so they are the same on every machine.

use crate::experiment::design::{Design, Method, Step};
use crate::experiment::ensemble::quantile;
use crate::experiment::identification;
use crate::util::rng::{self, Purpose};
use serde::{Deserialize, Serialize};

/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 1000;

/// A row of `sensitivity.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexRow {
    pub outcome: String,
    pub parameter: String,
    /// `sobol`, `morris` or `spearman`.
    pub method: String,
    /// `S1`, `ST`; `mu_star`, `mu`, `sigma`; `rho`.
    pub index: String,
    pub value: f64,
    pub p05: f64,
    pub p95: f64,
}

/// An estimate and its 90% bootstrap interval.
type Est = (f64, f64, f64);

/// Estimates `f` on the blocks `0..n` and on `RESAMPLES` keyed resamples of them.
fn bootstrap(n: usize, seed: u64, f: &dyn Fn(&[usize]) -> Vec<f64>) -> Vec<Est> {
    let all: Vec<usize> = (0..n).collect();
    let value = f(&all);
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(RESAMPLES); value.len()];
    let mut idx = vec![0; n];
    for b in 0..RESAMPLES {
        for (j, slot) in idx.iter_mut().enumerate() {
            let u = rng::uniform(seed, (b * n + j) as u64, 0, Purpose::Bootstrap);
            *slot = ((u * n as f64) as usize).min(n.saturating_sub(1));
        }
        for (s, v) in samples.iter_mut().zip(f(&idx)) {
            if v.is_finite() {
                s.push(v);
            }
        }
    }
    value
        .into_iter()
        .zip(samples)
        .map(|(v, mut s)| {
            s.sort_by(f64::total_cmp);
            (v, quantile(&s, 0.05), quantile(&s, 0.95))
        })
        .collect()
}

fn mean(x: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for v in x {
        sum += v;
        n += 1;
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// Sobol's S1 and ST per factor from a Saltelli design's outputs `y` (blocks of `k + 2`:
/// A, the k mixed rows, B). Blocks with an output that is not a number are left out.
pub fn sobol(y: &[f64], k: usize, seed: u64) -> Vec<(Est, Est)> {
    let blocks: Vec<&[f64]> = y
        .chunks_exact(k + 2)
        .filter(|b| b.iter().all(|v| v.is_finite()))
        .collect();
    let est = |rows: &[usize]| -> Vec<f64> {
        let ab: Vec<f64> = rows
            .iter()
            .flat_map(|&j| [blocks[j][0], blocks[j][k + 1]])
            .collect();
        let m = mean(ab.iter().copied());
        let var = mean(ab.iter().map(|v| (v - m).powi(2)));
        let mut out = Vec::with_capacity(2 * k);
        for i in 0..k {
            let (s1, st) = if var > 0.0 {
                (
                    mean(rows.iter().map(|&j| {
                        // Centred: the estimator's variance grows with the mean's square.
                        let b = blocks[j];
                        (b[k + 1] - m) * (b[1 + i] - b[0])
                    })) / var,
                    mean(
                        rows.iter()
                            .map(|&j| (blocks[j][0] - blocks[j][1 + i]).powi(2)),
                    ) / (2.0 * var),
                )
            } else {
                (f64::NAN, f64::NAN)
            };
            out.extend([s1, st]);
        }
        out
    };
    if blocks.is_empty() {
        return vec![
            (
                (f64::NAN, f64::NAN, f64::NAN),
                (f64::NAN, f64::NAN, f64::NAN)
            );
            k
        ];
    }
    let e = bootstrap(blocks.len(), seed, &est);
    e.chunks_exact(2).map(|c| (c[0], c[1])).collect()
}

/// Morris's `mu_star`, `mu` and `sigma` per factor from the outputs `y` of the
/// trajectories' points (consecutive, `k + 1` each) and their steps.
#[allow(clippy::needless_range_loop)] // effects[t][i]: factor i of every resampled trajectory
pub fn morris(y: &[f64], steps: &[Vec<(usize, f64)>], k: usize, seed: u64) -> Vec<[Est; 3]> {
    // effects[t][i]: trajectory t's elementary effect of factor i.
    let effects: Vec<Vec<f64>> = steps
        .iter()
        .enumerate()
        .map(|(t, st)| {
            let pts = &y[t * (k + 1)..(t + 1) * (k + 1)];
            let mut ee = vec![f64::NAN; k];
            for (m, &(i, step)) in st.iter().enumerate() {
                // A move that changed nothing (whole numbers rounded alike) has no effect
                // to measure.
                if step != 0.0 {
                    ee[i] = (pts[m + 1] - pts[m]) / step;
                }
            }
            ee
        })
        .collect();
    let est = |rows: &[usize]| -> Vec<f64> {
        let mut out = Vec::with_capacity(3 * k);
        for i in 0..k {
            let e: Vec<f64> = rows
                .iter()
                .map(|&t| effects[t][i])
                .filter(|v| v.is_finite())
                .collect();
            let mu = mean(e.iter().copied());
            let sigma = if e.len() > 1 {
                (e.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (e.len() - 1) as f64).sqrt()
            } else {
                f64::NAN
            };
            out.extend([mean(e.iter().map(|v| v.abs())), mu, sigma]);
        }
        out
    };
    let e = bootstrap(effects.len(), seed, &est);
    e.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
}

/// Spearman's rank correlation of each factor's values `x[i]` with the outputs `y`, over the
/// points where `y` is a number. With `weights` (points from a posterior, a particle's
/// weight each), the weighted rank correlation: each value's rank is its mid-point in the
/// weighted distribution of its column, and the correlation of the ranks is weighted, so
/// that the posterior, not the list of its particles, is what is described.
pub fn spearman(x: &[Vec<f64>], y: &[f64], weights: Option<&[f64]>, seed: u64) -> Vec<Est> {
    let keep: Vec<usize> = (0..y.len()).filter(|&j| y[j].is_finite()).collect();
    let est = |rows: &[usize]| -> Vec<f64> {
        let yy: Vec<f64> = rows.iter().map(|&j| y[keep[j]]).collect();
        let ww: Option<Vec<f64>> = weights.map(|w| rows.iter().map(|&j| w[keep[j]]).collect());
        x.iter()
            .map(|xi| {
                let xx: Vec<f64> = rows.iter().map(|&j| xi[keep[j]]).collect();
                match &ww {
                    None => identification::spearman(&xx, &yy),
                    Some(w) => {
                        weighted_pearson(&weighted_ranks(&xx, w), &weighted_ranks(&yy, w), w)
                    }
                }
                .unwrap_or(f64::NAN)
            })
            .collect()
    };
    bootstrap(keep.len(), seed, &est)
}

/// Each value's mid-rank in the distribution that puts weight `w[j]` on `x[j]`: the weight
/// below it plus half the weight of the values equal to it.
fn weighted_ranks(x: &[f64], w: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let (mut below, mut i) = (0.0, 0);
    while i < order.len() {
        let mut j = i;
        let mut tied = 0.0;
        while j < order.len() && x[order[j]] == x[order[i]] {
            tied += w[order[j]];
            j += 1;
        }
        for &k in &order[i..j] {
            ranks[k] = below + tied / 2.0;
        }
        below += tied;
        i = j;
    }
    ranks
}

/// Pearson's correlation of `a` and `b` under weights `w`; `None` if either is constant.
fn weighted_pearson(a: &[f64], b: &[f64], w: &[f64]) -> Option<f64> {
    let total: f64 = w.iter().sum();
    // Constant ranks (every value tied) are equal exactly; their spread in floating point
    // would not be 0.
    let constant = |v: &[f64]| v.iter().all(|x| *x == v[0]);
    if total <= 0.0 || a.is_empty() || constant(a) || constant(b) {
        return None;
    }
    let mean = |v: &[f64]| v.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / total;
    let (ma, mb) = (mean(a), mean(b));
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for ((x, y), w) in a.iter().zip(b).zip(w) {
        ab += w * (x - ma) * (y - mb);
        aa += w * (x - ma) * (x - ma);
        bb += w * (y - mb) * (y - mb);
    }
    (aa > 0.0 && bb > 0.0).then(|| ab / (aa * bb).sqrt())
}

/// The rows of `sensitivity.csv` for one outcome, its per-point means `y`, under `design`.
pub fn indices(design: &Design, outcome: &str, y: &[f64], seed: u64) -> Vec<IndexRow> {
    let k = design.factors.len();
    let names: Vec<String> = design.factors.iter().map(|f| f.name()).collect();
    let mut rows = Vec::new();
    let mut push = |i: usize, method: &str, index: &str, e: Est| {
        rows.push(IndexRow {
            outcome: outcome.into(),
            parameter: names[i].clone(),
            method: method.into(),
            index: index.into(),
            value: e.0,
            p05: e.1,
            p95: e.2,
        });
    };
    match design.method {
        Method::Sobol { .. } => {
            for (i, (s1, st)) in sobol(y, k, seed).into_iter().enumerate() {
                push(i, "sobol", "S1", s1);
                push(i, "sobol", "ST", st);
            }
        }
        Method::Morris { .. } => {
            // Each step as far as the values it ran moved, as a share of the range.
            let moved: Vec<Vec<Step>> = design
                .steps
                .iter()
                .enumerate()
                .map(|(t, steps)| {
                    let pts = &design.points[t * (k + 1)..];
                    steps
                        .iter()
                        .enumerate()
                        .map(|(m, &(i, step))| {
                            (i, design.factors[i].moved(pts[m][i], pts[m + 1][i], step))
                        })
                        .collect()
                })
                .collect();
            for (i, [star, mu, sigma]) in morris(y, &moved, k, seed).into_iter().enumerate() {
                push(i, "morris", "mu_star", star);
                push(i, "morris", "mu", mu);
                push(i, "morris", "sigma", sigma);
            }
        }
        _ => {
            let x: Vec<Vec<f64>> = (0..k)
                .map(|i| design.points.iter().map(|p| p[i]).collect())
                .collect();
            let weights = (!design.weights.is_empty()).then_some(&design.weights[..]);
            for (i, rho) in spearman(&x, y, weights, seed).into_iter().enumerate() {
                push(i, "spearman", "rho", rho);
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::design::{self, Factor};

    fn unit(name: &str) -> Factor {
        Factor::parse(&format!("{name}=0..1"), "--vary").unwrap()
    }

    fn model(p: &[f64]) -> f64 {
        // Var(x1) = 1/12, Var(2 x2) = 4/12, x3 inert: S1 = ST = 0.2, 0.8, 0.
        p[0] + 2.0 * p[1]
    }

    #[test]
    fn sobol_indices_of_a_linear_model_are_its_variance_shares() {
        let d = design::design(
            design::Method::Sobol { base: 1024 },
            vec![unit("a"), unit("b"), unit("c")],
            1,
        )
        .unwrap();
        let y: Vec<f64> = d.points.iter().map(|p| model(p)).collect();
        let rows = indices(&d, "y", &y, 5);
        let get = |p: &str, i: &str| {
            rows.iter()
                .find(|r| r.parameter == p && r.index == i)
                .unwrap()
                .clone()
        };
        for (p, want) in [("a", 0.2), ("b", 0.8), ("c", 0.0)] {
            for i in ["S1", "ST"] {
                let r = get(p, i);
                assert!((r.value - want).abs() < 0.03, "{p} {i}: {r:?}");
                assert!(
                    r.p05 <= r.value + 1e-12 && r.value <= r.p95 + 1e-12,
                    "{r:?}"
                );
            }
        }
        assert_eq!(
            get("c", "ST").value,
            0.0,
            "an inert factor has no total effect"
        );
        // Ishigami's function (a = 7, b = 0.1) on [-pi, pi]^3: S1 = 0.314, 0.442, 0; ST =
        // 0.558, 0.442, 0.244 (Saltelli et al. 2008, Global Sensitivity Analysis, 4.11).
        let pi = std::f64::consts::PI;
        let fs: Vec<Factor> = ["x1", "x2", "x3"]
            .iter()
            .map(|n| Factor::parse(&format!("{n}={}..{}", -pi, pi), "--vary").unwrap())
            .collect();
        let d = design::design(design::Method::Sobol { base: 8192 }, fs, 1).unwrap();
        let y: Vec<f64> = d
            .points
            .iter()
            .map(|x| x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin())
            .collect();
        let rows = indices(&d, "ishigami", &y, 5);
        let get = |p: &str, i: &str| {
            rows.iter()
                .find(|r| r.parameter == p && r.index == i)
                .unwrap()
                .value
        };
        for (p, s1, st) in [
            ("x1", 0.314, 0.558),
            ("x2", 0.442, 0.442),
            ("x3", 0.0, 0.244),
        ] {
            assert!((get(p, "S1") - s1).abs() < 0.03, "{p} S1 {}", get(p, "S1"));
            assert!((get(p, "ST") - st).abs() < 0.03, "{p} ST {}", get(p, "ST"));
        }
    }

    #[test]
    fn morris_effects_of_a_linear_model_are_its_slopes() {
        let d = design::design(
            design::Method::Morris {
                trajectories: 20,
                levels: 4,
            },
            vec![unit("a"), unit("b"), unit("c")],
            2,
        )
        .unwrap();
        let y: Vec<f64> = d.points.iter().map(|p| model(p)).collect();
        let rows = indices(&d, "y", &y, 5);
        let get = |p: &str, i: &str| {
            rows.iter()
                .find(|r| r.parameter == p && r.index == i)
                .unwrap()
                .clone()
        };
        for (p, slope) in [("a", 1.0), ("b", 2.0), ("c", 0.0)] {
            assert!((get(p, "mu_star").value - slope).abs() < 1e-9);
            assert!((get(p, "mu").value - slope).abs() < 1e-9);
            assert!(
                get(p, "sigma").value.abs() < 1e-9,
                "a linear model has no interactions"
            );
        }
        // A parameter whose effect changes sign has mu near 0 but mu_star and sigma large.
        let y: Vec<f64> = d.points.iter().map(|p| (p[0] - 0.5).abs()).collect();
        let rows = indices(&d, "v", &y, 5);
        let get = |i: &str| value_of(&rows, "a", i);
        assert!(get("mu_star") > 0.4 && get("sigma") > 0.4, "{rows:?}");
    }

    /// The value of `index` for `parameter` among `rows`.
    fn value_of(rows: &[IndexRow], parameter: &str, index: &str) -> f64 {
        rows.iter()
            .find(|r| r.parameter == parameter && r.index == index)
            .unwrap()
            .value
    }

    /// A factor of `kind` over `spec` (`LO..HI` or a list), as `resolve` would leave it.
    fn typed(spec: &str, kind: design::Kind) -> Factor {
        let mut f = Factor::parse(&format!("a={spec}"), "--vary").unwrap();
        f.kind = kind;
        f
    }

    #[test]
    fn morris_effects_of_whole_numbers_and_lists_are_over_the_values_run() {
        use design::Kind;
        // y = the parameter's value: its effect over the range is the range, everywhere,
        // whichever values a step lands on (found by a review: dividing by the planned
        // step gave 1.5 for a switch and 29.25 with sigma 5.3 for the list 7,14,30).
        for (f, range) in [
            (typed("0,1", Kind::Bool), 1.0),
            (typed("1,0", Kind::Bool), 1.0),
            (typed("7,14,30", Kind::Integer), 23.0),
            (typed("1..3", Kind::Integer), 2.0),
            (typed("7..30", Kind::Integer), 23.0),
            (typed("0.5..2", Kind::Float), 1.5),
        ] {
            for levels in [4, 6] {
                let d = design::design(
                    design::Method::Morris {
                        trajectories: 50,
                        levels,
                    },
                    vec![f.clone(), unit("b")],
                    2,
                )
                .unwrap();
                let y: Vec<f64> = d.points.iter().map(|p| p[0]).collect();
                let rows = indices(&d, "y", &y, 5);
                let get = |i: &str| value_of(&rows, "a", i);
                let what = format!("{:?} {:?}, {levels} levels: {rows:?}", f.kind, f.values);
                assert!((get("mu_star") - range).abs() < 1e-9, "{what}");
                assert!((get("mu") - range).abs() < 1e-9, "{what}");
                assert!(get("sigma").abs() < 1e-9, "{what}");
            }
        }
    }

    #[test]
    fn weighted_rank_correlation_describes_the_weighted_points() {
        let x = vec![vec![1.0, 2.0, 3.0, 4.0, 5.0, 3.0]];
        let y = [2.0, 1.0, 4.0, 3.0, 6.0, 4.5];
        // Equal weights: Spearman's rho.
        let plain = spearman(&x, &y, None, 9)[0].0;
        let even = spearman(&x, &y, Some(&[0.5; 6]), 9)[0].0;
        assert!((plain - even).abs() < 1e-12, "{plain} {even}");
        // A weight of 2 is the point counted twice.
        let w = [1.0, 2.0, 1.0, 1.0, 1.0, 1.0];
        let twice = spearman(
            &[vec![1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 3.0]],
            &[2.0, 1.0, 1.0, 4.0, 3.0, 6.0, 4.5],
            None,
            9,
        )[0]
        .0;
        let weighted = spearman(&x, &y, Some(&w), 9)[0].0;
        assert!((twice - weighted).abs() < 1e-12, "{twice} {weighted}");
        assert!((plain - weighted).abs() > 1e-3, "the weights change rho");
        // A constant outcome has no correlation, nor an interval (a review: ±5e-16).
        let flat = spearman(&x, &[0.0; 6], Some(&w), 9)[0];
        assert!(
            flat.0.is_nan() && flat.1.is_nan() && flat.2.is_nan(),
            "{flat:?}"
        );
    }

    #[test]
    fn spearman_for_other_designs_and_intervals_are_keyed() {
        let d = design::design(
            design::Method::Lhs { points: 50 },
            vec![unit("a"), unit("b")],
            3,
        )
        .unwrap();
        let y: Vec<f64> = d.points.iter().map(|p| p[0].exp()).collect();
        let rows = indices(&d, "y", &y, 5);
        assert_eq!(rows[0].method, "spearman");
        assert!((rows[0].value - 1.0).abs() < 1e-12, "{rows:?}");
        assert!(rows[1].value.abs() < 0.4, "{rows:?}");
        assert_eq!(rows, indices(&d, "y", &y, 5));
        assert_ne!(rows[1].p05, indices(&d, "y", &y, 6)[1].p05);
    }
}
