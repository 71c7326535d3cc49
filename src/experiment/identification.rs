//! How much an outcome moves across a posterior, and which parameters move it.
//!
//! Over the replicates of a run over a posterior, each replicate has its particle's
//! parameter values and an outcome (a total, say). For each parameter this gives the
//! Spearman rank correlation with the outcome, and a linear regression of the standardised
//! outcome on all the standardised parameters gives each parameter's standardised
//! coefficient, the regression's R² and each coefficient's share of the explained variance
//! (Pratt's measure: β_j times the parameter's correlation with the outcome, over R²; the
//! shares add up to 1 and are each β_j² / R² when the parameters are uncorrelated).
//!
//! The parameter values are fixed before anything runs, so [`Design::new`] checks the
//! regression can be solved (no parameter a linear combination of the others over the
//! replicates) before the work starts. The linear algebra is small: the normal equations in
//! correlation form, solved by Gaussian elimination with partial pivoting.

/// A pivot below this (on a correlation matrix, whose diagonal is 1) means a parameter is a
/// linear combination of the others.
const SINGULAR: f64 = 1e-9;

/// Ranks from 1, ties given their average rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// The values standardised (mean 0, standard deviation 1 over the values, dividing by n);
/// `None` when they do not vary.
pub fn standardise(x: &[f64]) -> Option<Vec<f64>> {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let sd = var.sqrt();
    (x.len() > 1 && sd > 1e-12 * mean.abs().max(1.0))
        .then(|| x.iter().map(|v| (v - mean) / sd).collect())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Pearson's correlation; `None` when either does not vary.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let (zx, zy) = (standardise(x)?, standardise(y)?);
    Some((dot(&zx, &zy) / x.len() as f64).clamp(-1.0, 1.0))
}

/// Spearman's rank correlation (Pearson's on the ranks, ties averaged).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// Solves `a x = b` for a square `a` (row-major, `n` x `n`) by Gaussian elimination with
/// partial pivoting. `Err(j)` when column `j` (in the original order) has no usable pivot:
/// it is a linear combination of the columns before it.
pub fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Result<Vec<f64>, usize> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        if a[pivot][col].abs() < SINGULAR {
            return Err(col);
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, below) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (i, row) in below.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            if f != 0.0 {
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
                b[col + 1 + i] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Ok(x)
}

/// The parameters of the replicates, standardised, with their correlation matrix, checked
/// to be solvable.
#[derive(Debug, Clone)]
pub struct Design {
    /// Each parameter's raw values over the replicates: `[parameter][replicate]`.
    values: Vec<Vec<f64>>,
    /// The parameters that vary over the replicates (indices into `values`) and their
    /// standardised values.
    varying: Vec<usize>,
    z: Vec<Vec<f64>>,
    corr: Vec<Vec<f64>>,
}

/// What the regression could not do: the parameter (an index) that is a linear combination
/// of the others over the replicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collinear(pub usize);

impl Design {
    /// `values[parameter][replicate]`. Parameters that do not vary are left out of the
    /// regression; an error names a parameter that is a linear combination of the others.
    pub fn new(values: Vec<Vec<f64>>) -> Result<Design, Collinear> {
        let mut varying = Vec::new();
        let mut z = Vec::new();
        for (j, v) in values.iter().enumerate() {
            if let Some(s) = standardise(v) {
                varying.push(j);
                z.push(s);
            }
        }
        let n = values.first().map_or(0, Vec::len) as f64;
        let corr: Vec<Vec<f64>> = z
            .iter()
            .map(|a| z.iter().map(|b| dot(a, b) / n).collect())
            .collect();
        solve(corr.clone(), vec![0.0; z.len()]).map_err(|k| Collinear(varying[k]))?;
        Ok(Design {
            values,
            varying,
            z,
            corr,
        })
    }

    /// The identification of one outcome (a value per replicate).
    pub fn identify(&self, outcome: &[f64]) -> Identified {
        let np = self.values.len();
        let mut out = Identified {
            rank_correlation: self.values.iter().map(|v| spearman(v, outcome)).collect(),
            coefficient: vec![None; np],
            share: vec![None; np],
            r_squared: None,
        };
        let Some(zy) = standardise(outcome) else {
            return out;
        };
        let n = outcome.len() as f64;
        let r: Vec<f64> = self.z.iter().map(|zx| dot(zx, &zy) / n).collect();
        let Ok(beta) = solve(self.corr.clone(), r.clone()) else {
            return out;
        };
        let r2 = dot(&beta, &r).clamp(0.0, 1.0);
        out.r_squared = Some(r2);
        for (k, &j) in self.varying.iter().enumerate() {
            out.coefficient[j] = Some(beta[k]);
            out.share[j] = (r2 > 1e-12).then(|| beta[k] * r[k] / r2);
        }
        out
    }
}

/// One outcome's identification: per parameter, the rank correlation, the standardised
/// coefficient and its share of the explained variance (`None` where undefined: a
/// parameter or an outcome that does not vary); and the R² of the regression.
#[derive(Debug, Clone, PartialEq)]
pub struct Identified {
    pub rank_correlation: Vec<Option<f64>>,
    pub coefficient: Vec<Option<f64>>,
    pub share: Vec<Option<f64>>,
    pub r_squared: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn ranks_average_ties_and_spearman_is_monotone_invariant() {
        assert_eq!(ranks(&[10.0, 30.0, 20.0, 30.0]), [1.0, 3.5, 2.0, 3.5]);
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| v.powi(3)).collect();
        assert!(close(spearman(&x, &y).unwrap(), 1.0));
        let down: Vec<f64> = x.iter().map(|v| -v.exp()).collect();
        assert!(close(spearman(&x, &down).unwrap(), -1.0));
        // scipy.stats.spearmanr([1,2,3,4,5], [2,1,4,3,5]).statistic == 0.8
        assert!(close(
            spearman(&x, &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap(),
            0.8
        ));
        assert_eq!(spearman(&x, &[1.0; 5]), None);
    }

    #[test]
    fn gaussian_elimination_solves_and_names_a_dependent_column() {
        // 2x + y = 5, x + 3y = 10: x = 1, y = 3 (a pivot swap is needed for the second).
        let x = solve(vec![vec![2.0, 1.0], vec![1.0, 3.0]], vec![5.0, 10.0]).unwrap();
        assert!(close(x[0], 1.0) && close(x[1], 3.0), "{x:?}");
        let x = solve(
            vec![
                vec![0.0, 1.0, 2.0],
                vec![1.0, 0.0, 1.0],
                vec![2.0, 1.0, 0.0],
            ],
            vec![8.0, 4.0, 4.0],
        )
        .unwrap();
        assert!(
            close(x[0], 1.0) && close(x[1], 2.0) && close(x[2], 3.0),
            "{x:?}"
        );
        // The third column is the sum of the first two.
        let a = vec![
            vec![1.0, 0.0, 1.0],
            vec![0.0, 1.0, 1.0],
            vec![1.0, 1.0, 2.0],
        ];
        assert_eq!(solve(a, vec![1.0, 1.0, 2.0]), Err(2));
    }

    #[test]
    fn a_regression_with_a_known_answer() {
        // y = 2a - b exactly, a and b uncorrelated (a 2 x 2 factorial): standardised
        // coefficients 2/sqrt(5) and -1/sqrt(5), R² = 1, shares 4/5 and 1/5; c is constant.
        let a = [1.0, 1.0, -1.0, -1.0];
        let b = [1.0, -1.0, 1.0, -1.0];
        let y: Vec<f64> = a.iter().zip(&b).map(|(a, b)| 2.0 * a - b).collect();
        let d = Design::new(vec![a.to_vec(), b.to_vec(), vec![7.0; 4]]).unwrap();
        let id = d.identify(&y);
        let s5 = 5f64.sqrt();
        assert!(close(id.coefficient[0].unwrap(), 2.0 / s5));
        assert!(close(id.coefficient[1].unwrap(), -1.0 / s5));
        assert!(close(id.r_squared.unwrap(), 1.0));
        assert!(close(id.share[0].unwrap(), 0.8) && close(id.share[1].unwrap(), 0.2));
        assert_eq!(
            (id.coefficient[2], id.share[2], id.rank_correlation[2]),
            (None, None, None),
            "a constant parameter is left out"
        );
        // An outcome that does not vary: nothing is defined.
        let flat = d.identify(&[3.0; 4]);
        assert_eq!(flat.r_squared, None);
        assert!(flat.coefficient.iter().all(Option::is_none));
    }

    #[test]
    fn collinear_parameters_are_refused() {
        let a = vec![1.0, 2.0, 3.0, 4.0];
        let twice: Vec<f64> = a.iter().map(|v| 2.0 * v + 1.0).collect();
        assert_eq!(
            Design::new(vec![a.clone(), vec![5.0; 4], twice]).unwrap_err(),
            Collinear(2)
        );
        // Fewer replicates than parameters: the regression cannot be solved.
        let e = Design::new(vec![vec![1.0, 2.0], vec![2.0, 1.0]]).unwrap_err();
        assert_eq!(e, Collinear(1));
    }
}
