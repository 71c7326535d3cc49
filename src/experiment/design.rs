//! Designs of experiments for `northbound sweep`: which parameter sets (points) to run.
//!
//! A [`Factor`] is a varied parameter: one parameter path, or tied paths that take one
//! value, with a range (`LO..HI`) or a list of values. A [`Design`] is the list of points,
//! each a value per factor, made by one of:
//!
//! * `grid`: the Cartesian product of each factor's levels (a list as given, a range as
//!   evenly spaced levels, the ends included), the first factor varying slowest;
//! * `lhs`: a Latin hypercube, one point in each of `n` equal strata of every factor, at a
//!   keyed place within it, the strata in a keyed order (as `calibrate --method abc` draws
//!   its prior design);
//! * `sobol`: Saltelli's design for first-order and total Sobol indices: two matrices A
//!   and B from the first `2k` dimensions of Sobol's low-discrepancy sequence (Joe and
//!   Kuo's direction numbers), and for each factor `i` the matrix A with column `i` from B;
//!   `N (k + 2)` points in blocks of `k + 2` (A's row, the k mixed rows, B's row);
//! * `morris`: `r` trajectories of Morris's elementary effects on a grid of `p` levels,
//!   each a base point and `k` steps of `±Δ`, `Δ = p / (2 (p - 1))`, one factor at a time in
//!   a keyed order;
//! * points read from a file (`--points-from`): a `posterior.csv` (its particles) or any
//!   CSV whose columns are parameter paths.
//!
//! Every draw is keyed by (seed, index, purpose), so a design is a function of its settings
//! and the seed alone.

use crate::scenario::{Scenario, paths};
use crate::util::error::{Error, Result};
use crate::util::rng::{self, Purpose};
use serde::{Deserialize, Serialize};
use toml_edit::Value;

/// The type of the value a factor sets, read from the scenario at its first path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Float,
    /// Rounded to a whole number.
    Integer,
    /// `true` or `false`, held as 1 or 0 (lists only).
    Bool,
}

/// A varied parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// One path, or tied paths that all take the factor's value.
    pub paths: Vec<String>,
    pub kind: Kind,
    /// A range `lo..hi` (`values` empty), or the listed values.
    pub lo: f64,
    pub hi: f64,
    pub values: Vec<f64>,
}

impl Factor {
    /// Parses `PATH=LO..HI`, `PATH=v1,v2,...` or tied paths `P1,P2=...`; `flag` names the
    /// option in messages (`--vary`, or the `[sweep]` table's key).
    pub fn parse(spec: &str, flag: &str) -> std::result::Result<Factor, String> {
        let bad = || {
            format!(
                "{flag} \"{spec}\": expected PATH=LO..HI or PATH=V1,V2,... (tied paths: P1,P2=...), e.g. \"places[\\\"Roxham Road\\\"].detection=0.8..0.99\" or \"policies.stca_extension.window_days=7,14,30\""
            )
        };
        let (path, rhs) = spec.rsplit_once('=').ok_or_else(bad)?;
        let mut f = Factor {
            paths: Vec::new(),
            kind: Kind::Float,
            lo: 0.0,
            hi: 0.0,
            values: Vec::new(),
        };
        if let Some((lo, hi)) = rhs.split_once("..") {
            let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
            let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(format!("{flag} \"{spec}\": the range needs LO < HI"));
            }
            (f.lo, f.hi) = (lo, hi);
        } else {
            for v in rhs.split(',') {
                let x = match v.trim() {
                    "true" => 1.0,
                    "false" => 0.0,
                    t => t
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(bad)?,
                };
                f.values.push(x);
            }
            if f.values.len() < 2 || f.values.iter().all(|v| *v == f.values[0]) {
                return Err(format!(
                    "{flag} \"{spec}\": a list needs two different values or more (to fix a value, edit the scenario)"
                ));
            }
            f.lo = f.values.iter().copied().fold(f64::INFINITY, f64::min);
            f.hi = f.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        }
        for p in paths::split_tied(path) {
            paths::parse(p).map_err(|e| format!("{flag} \"{spec}\": {e}"))?;
            if f.paths.iter().any(|q| q == p) {
                return Err(format!("{flag} \"{spec}\": the path {p} is tied to itself"));
            }
            f.paths.push(p.to_string());
        }
        Ok(f)
    }

    /// Its name, a column of `points.csv`: the paths joined by `,`.
    pub fn name(&self) -> String {
        self.paths.join(",")
    }

    pub fn is_list(&self) -> bool {
        !self.values.is_empty()
    }

    /// The value at `u` in [0, 1): a range's point, or the list's value in the `u`-th of as
    /// many equal strata as it has values. A range of whole numbers (an integer or a
    /// boolean) is a list of them: each takes an equal share of [0, 1), where rounding the
    /// range's point would give its two ends half a share each.
    pub fn at(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        if self.is_list() {
            let n = self.values.len();
            return self.values[((u * n as f64) as usize).min(n - 1)];
        }
        match self.kind {
            Kind::Float => self.lo + u * (self.hi - self.lo),
            Kind::Integer | Kind::Bool => {
                let (a, b) = self.ends();
                (a + (u * (b - a + 1.0)).floor()).min(b)
            }
        }
    }

    /// How far a move from `from` to `to` goes, as a share of the parameter's range (its
    /// lowest to its highest value): Morris's elementary effects are divided by it. For a
    /// range of real numbers that is the design's step in the unit box, `step`; for whole
    /// numbers and lists the values actually taken differ from it.
    pub fn moved(&self, from: f64, to: f64, step: f64) -> f64 {
        if !self.is_list() && self.kind == Kind::Float {
            return step;
        }
        let (lo, hi) = self.ends();
        (to - from) / (hi - lo)
    }

    /// The lowest and highest values it takes: a list's, a range's ends, or for a range of
    /// whole numbers the lowest and highest whole numbers within it.
    fn ends(&self) -> (f64, f64) {
        match self.kind {
            Kind::Integer | Kind::Bool if !self.is_list() => (self.lo.ceil(), self.hi.floor()),
            _ => (self.lo, self.hi),
        }
    }

    fn round(&self, v: f64) -> f64 {
        match self.kind {
            Kind::Float => v,
            Kind::Integer | Kind::Bool => v.round(),
        }
    }

    /// The grid levels: a list as given, a range as `n` evenly spaced values, ends included
    /// (integers rounded, repeats dropped).
    pub fn levels(&self, n: usize) -> Vec<f64> {
        if self.is_list() {
            return self.values.clone();
        }
        let n = n.max(2);
        let (lo, hi) = self.ends();
        let mut out: Vec<f64> = (0..n)
            .map(|i| {
                if i + 1 == n {
                    hi
                } else {
                    self.round(lo + (hi - lo) * i as f64 / (n - 1) as f64)
                }
            })
            .collect();
        out.dedup();
        out
    }

    /// The value as the scenario takes it.
    pub fn value(&self, v: f64) -> Value {
        match self.kind {
            Kind::Float => Value::from(v),
            Kind::Integer => Value::from(v.round() as i64),
            Kind::Bool => Value::from(v != 0.0),
        }
    }

    /// The value as `points.csv` writes it: a boolean as `true` or `false`, a number exactly.
    pub fn text(&self, v: f64) -> String {
        match self.kind {
            Kind::Bool => (v != 0.0).to_string(),
            _ => crate::output::fmt_value(v),
        }
    }
}

/// Reads each factor's kind from the scenario (the value at its paths: an integer, a
/// float, a boolean; a key the scenario does not have yet is a float) and checks the
/// factors against it, every problem at once.
pub fn resolve(sc: &Scenario, factors: &mut [Factor]) -> Result<()> {
    let doc = sc.document()?;
    let mut problems = Vec::new();
    for (i, f) in factors.iter().enumerate() {
        for p in &f.paths {
            if factors[..i].iter().any(|g| g.paths.contains(p)) {
                problems.push(format!("--vary {p}: the path is varied twice"));
            }
        }
    }
    for f in factors.iter_mut() {
        let mut kinds = Vec::new();
        for p in &f.paths {
            match paths::get(&doc, p).ok().map(|i| i.as_value()) {
                Some(Some(Value::Integer(_))) => kinds.push(Kind::Integer),
                Some(Some(Value::Float(_))) => kinds.push(Kind::Float),
                Some(Some(Value::Boolean(_))) => kinds.push(Kind::Bool),
                Some(other) => problems.push(format!(
                    "--vary {}: the scenario holds {} at {p}, not a number or a boolean",
                    f.name(),
                    other.map_or("a table".into(), |v| v.to_string().trim().to_string())
                )),
                None => {
                    let mut copy = doc.clone();
                    match paths::set(&mut copy, p, Value::from(0.0)) {
                        Ok(()) => kinds.push(Kind::Float),
                        Err(e) => problems.push(format!("--vary {}: {e}", f.name())),
                    }
                }
            }
        }
        f.kind = if kinds.contains(&Kind::Bool) {
            Kind::Bool
        } else if kinds.contains(&Kind::Integer) {
            Kind::Integer
        } else {
            Kind::Float
        };
        if kinds.contains(&Kind::Bool) && kinds.iter().any(|k| *k != Kind::Bool) {
            problems.push(format!(
                "--vary {}: tied paths hold a boolean and a number",
                f.name()
            ));
        }
        if f.kind == Kind::Bool && (!f.is_list() || f.values.iter().any(|v| *v != 0.0 && *v != 1.0))
        {
            problems.push(format!(
                "--vary {}: the scenario holds a boolean there: give true,false",
                f.name()
            ));
        }
        if f.kind == Kind::Integer {
            for v in &mut f.values {
                *v = v.round();
            }
            if f.is_list() {
                f.lo = f.values.iter().copied().fold(f64::INFINITY, f64::min);
                f.hi = f.values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            }
            let (a, b) = f.ends();
            let fmt = crate::output::fmt_value;
            let holds = match (f.is_list(), a == b) {
                _ if a < b => None,
                (true, _) => Some(format!("the list's values round to one, {}", fmt(a))),
                (false, true) => Some(format!(
                    "{}..{} holds only {}",
                    fmt(f.lo),
                    fmt(f.hi),
                    fmt(a)
                )),
                (false, false) => Some(format!("{}..{} holds none", fmt(f.lo), fmt(f.hi))),
            };
            if let Some(holds) = holds {
                problems.push(format!(
                    "--vary {}: the scenario holds a whole number there, and {holds}: give two \
                     different whole numbers or more",
                    f.name()
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid {
            path: sc.path.clone(),
            problems,
        })
    }
}

/// How the points were made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "design")]
pub enum Method {
    /// `levels` per range factor.
    Grid {
        levels: usize,
    },
    Lhs {
        points: usize,
    },
    /// `base` rows of A and of B.
    Sobol {
        base: usize,
    },
    Morris {
        trajectories: usize,
        levels: usize,
    },
    /// Read from a file, with the SHA-256 of its bytes.
    Points {
        file: String,
        sha256: String,
    },
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Grid { .. } => "grid",
            Method::Lhs { .. } => "lhs",
            Method::Sobol { .. } => "sobol",
            Method::Morris { .. } => "morris",
            Method::Points { .. } => "points",
        }
    }
}

/// One step of a Morris trajectory: the factor moved and the move, in the unit box.
pub type Step = (usize, f64);

/// The points of a design, a value per factor, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Design {
    pub method: Method,
    pub factors: Vec<Factor>,
    pub points: Vec<Vec<f64>>,
    /// Morris: per trajectory, its `k` steps (the trajectory's points are consecutive, its
    /// base first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Vec<Step>>,
    /// Points from a posterior: each particle's weight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<f64>,
}

/// The most factors a Sobol design takes (2k dimensions of the sequence are tabled).
pub const SOBOL_MAX_FACTORS: usize = JOE_KUO.len().div_ceil(2);

/// Makes the points of `method` for `factors`, keyed by `seed`.
pub fn design(
    method: Method,
    factors: Vec<Factor>,
    seed: u64,
) -> std::result::Result<Design, String> {
    let k = factors.len();
    if k == 0 {
        return Err("give at least one --vary PATH=LO..HI (or PATH=V1,V2,...)".into());
    }
    let mut d = Design {
        method: method.clone(),
        factors,
        points: Vec::new(),
        steps: Vec::new(),
        weights: Vec::new(),
    };
    let at = |d: &Design, u: &[f64]| -> Vec<f64> {
        d.factors.iter().zip(u).map(|(f, u)| f.at(*u)).collect()
    };
    match method {
        Method::Grid { levels } => {
            let lv: Vec<Vec<f64>> = d.factors.iter().map(|f| f.levels(levels)).collect();
            let total: usize = lv.iter().map(Vec::len).product();
            for i in 0..total {
                let mut rest = i;
                let mut point = vec![0.0; k];
                for j in (0..k).rev() {
                    point[j] = lv[j][rest % lv[j].len()];
                    rest /= lv[j].len();
                }
                d.points.push(point);
            }
        }
        Method::Lhs { points: n } => {
            let units = latin_hypercube(k, n, seed);
            d.points = units.iter().map(|u| at(&d, u)).collect();
        }
        Method::Sobol { base } => {
            if k > SOBOL_MAX_FACTORS {
                return Err(format!(
                    "--design sobol takes at most {SOBOL_MAX_FACTORS} parameters ({k} given): use morris to screen them first"
                ));
            }
            // The sequence's first point is the origin, where A and B would be the same
            // corner, rows that add nothing to the estimates. Skipping it alone would break
            // the balance of a power of two of rows; skipping the first power of two at least
            // as large as N keeps it (each block of 2^m points from a multiple of 2^m is
            // balanced), as SALib does.
            let skip = base.next_power_of_two();
            let seq = sobol(2 * k, skip + base);
            for row in &seq[skip..] {
                let (a, b) = row.split_at(k);
                d.points.push(at(&d, a));
                for i in 0..k {
                    let mut mixed = a.to_vec();
                    mixed[i] = b[i];
                    d.points.push(at(&d, &mixed));
                }
                d.points.push(at(&d, b));
            }
        }
        Method::Morris {
            trajectories,
            levels,
        } => {
            if levels < 2 || levels % 2 != 0 {
                return Err(format!(
                    "--levels {levels}: Morris needs an even number of levels, 4 or more is usual"
                ));
            }
            for t in 0..trajectories {
                let (units, steps) = morris_trajectory(k, levels, seed, t as u64);
                for u in &units {
                    d.points.push(at(&d, u));
                }
                d.steps.push(steps);
            }
        }
        Method::Points { .. } => {
            return Err("points from a file are read by design::from_file".into());
        }
    }
    if d.points.is_empty() {
        return Err("the design has no points: give --points 1 or more".into());
    }
    Ok(d)
}

/// A Latin hypercube of `n` points in the unit box of `k` dimensions: in each dimension,
/// one point in each of `n` equal strata at a keyed place within it, the strata in a keyed
/// order.
pub fn latin_hypercube(k: usize, n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut points = vec![Vec::with_capacity(k); n];
    for j in 0..k {
        let mut strata: Vec<usize> = (0..n).collect();
        strata.sort_by_key(|&i| rng::key(seed, i as u64, 2 * j as u32, Purpose::Sweep));
        for (i, point) in points.iter_mut().enumerate() {
            let u = (strata[i] as f64
                + rng::uniform(seed, i as u64, 2 * j as u32 + 1, Purpose::Sweep))
                / n as f64;
            point.push(u);
        }
    }
    points
}

/// Trajectory `t` of a Morris design: `k + 1` points in the unit box on a grid of `p`
/// levels, and its steps. The base point's coordinate `i` is a level from which a step of
/// `Δ` in a keyed direction stays in the box; factors move one at a time in a keyed order.
fn morris_trajectory(k: usize, p: usize, seed: u64, t: u64) -> (Vec<Vec<f64>>, Vec<Step>) {
    let delta = p as f64 / (2.0 * (p - 1) as f64);
    let half = p / 2;
    let subject = |i: usize| t * 1_000_003 + i as u64;
    let mut base = Vec::with_capacity(k);
    let mut sign = Vec::with_capacity(k);
    for i in 0..k {
        let up = rng::uniform(seed, subject(i), 0x4d00, Purpose::Sweep) < 0.5;
        let level = (rng::uniform(seed, subject(i), 0x4d01, Purpose::Sweep) * half as f64) as usize;
        let level = level.min(half - 1) + if up { 0 } else { half };
        base.push(level as f64 / (p - 1) as f64);
        sign.push(if up { 1.0 } else { -1.0 });
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|&i| rng::key(seed, subject(i), 0x4d02, Purpose::Sweep));
    let mut points = vec![base.clone()];
    let mut steps = Vec::with_capacity(k);
    let mut x = base;
    for &i in &order {
        let step = sign[i] * delta;
        x[i] = (x[i] + step).clamp(0.0, 1.0);
        points.push(x.clone());
        steps.push((i, step));
    }
    (points, steps)
}

/// Joe and Kuo's direction numbers (`new-joe-kuo-6.21201`, S. Joe and F. Y. Kuo, SIAM J.
/// Sci. Comput. 30, 2635-2654, 2008) for dimensions 2 to 32: the degree `s` of the
/// primitive polynomial, its inner coefficients `a` as bits, and the initial direction
/// numbers `m_1..m_s`. Dimension 1 is van der Corput's sequence.
const JOE_KUO: [(u32, u32, &[u32]); 31] = [
    (1, 0, &[1]),
    (2, 1, &[1, 3]),
    (3, 1, &[1, 3, 1]),
    (3, 2, &[1, 1, 1]),
    (4, 1, &[1, 1, 3, 3]),
    (4, 4, &[1, 3, 5, 13]),
    (5, 2, &[1, 1, 5, 5, 17]),
    (5, 4, &[1, 1, 5, 5, 5]),
    (5, 7, &[1, 1, 7, 11, 19]),
    (5, 11, &[1, 1, 5, 1, 1]),
    (5, 13, &[1, 1, 1, 3, 11]),
    (5, 14, &[1, 3, 5, 5, 31]),
    (6, 1, &[1, 3, 3, 9, 7, 49]),
    (6, 13, &[1, 1, 1, 15, 21, 21]),
    (6, 16, &[1, 3, 1, 13, 27, 49]),
    (6, 19, &[1, 1, 1, 15, 7, 5]),
    (6, 22, &[1, 3, 1, 15, 13, 25]),
    (6, 25, &[1, 1, 5, 5, 19, 61]),
    (7, 1, &[1, 3, 7, 11, 23, 15, 103]),
    (7, 4, &[1, 3, 7, 13, 13, 15, 69]),
    (7, 7, &[1, 1, 3, 13, 7, 35, 63]),
    (7, 8, &[1, 3, 5, 9, 1, 25, 53]),
    (7, 14, &[1, 3, 1, 13, 9, 35, 107]),
    (7, 19, &[1, 3, 1, 5, 27, 61, 31]),
    (7, 21, &[1, 1, 5, 11, 19, 41, 61]),
    (7, 28, &[1, 3, 5, 3, 3, 13, 69]),
    (7, 31, &[1, 1, 7, 13, 1, 19, 1]),
    (7, 32, &[1, 3, 7, 5, 13, 19, 59]),
    (7, 37, &[1, 1, 3, 9, 25, 29, 41]),
    (7, 41, &[1, 3, 5, 13, 23, 1, 55]),
    (7, 42, &[1, 3, 7, 3, 13, 59, 17]),
];

const BITS: usize = 32;

/// The direction numbers `v_1..v_32` of dimension `d` (0-based), scaled to 32 bits.
fn directions(d: usize) -> [u32; BITS] {
    let mut v = [0u32; BITS];
    if d == 0 {
        for (j, x) in v.iter_mut().enumerate() {
            *x = 1 << (BITS - 1 - j);
        }
        return v;
    }
    let (s, a, m) = JOE_KUO[d - 1];
    let s = s as usize;
    for j in 0..BITS {
        if j < s {
            v[j] = m[j] << (BITS - 1 - j);
        } else {
            let mut x = v[j - s] ^ (v[j - s] >> s);
            for k in 1..s {
                if (a >> (s - 1 - k)) & 1 == 1 {
                    x ^= v[j - k];
                }
            }
            v[j] = x;
        }
    }
    v
}

/// The first `n` points of Sobol's sequence in `dims` dimensions (at most 32), in Gray-code
/// order (Antonov and Saleev), the first point at the origin, as scipy's unscrambled
/// `Sobol` gives them.
pub fn sobol(dims: usize, n: usize) -> Vec<Vec<f64>> {
    let v: Vec<[u32; BITS]> = (0..dims.min(JOE_KUO.len() + 1)).map(directions).collect();
    let mut x = vec![0u32; v.len()];
    let mut out = Vec::with_capacity(n);
    let scale = 1.0 / (1u64 << BITS) as f64;
    for i in 0..n {
        out.push(x.iter().map(|&b| f64::from(b) * scale).collect());
        // The next point flips the direction number of the lowest zero bit of i.
        let c = (!i).trailing_zeros() as usize;
        if c < BITS {
            for (xd, vd) in x.iter_mut().zip(&v) {
                *xd ^= vd[c];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(path: &str, lo: f64, hi: f64) -> Factor {
        Factor::parse(&format!("{path}={lo}..{hi}"), "--vary").unwrap()
    }

    #[test]
    fn factors_parse_ranges_lists_and_tied_paths() {
        let f = Factor::parse("places[\"Roxham Road\"].detection=0.8..0.99", "--vary").unwrap();
        assert_eq!(f.paths, ["places[\"Roxham Road\"].detection"]);
        assert_eq!((f.lo, f.hi, f.is_list()), (0.8, 0.99, false));
        let f = Factor::parse("a.b,c.d=7,14,30", "--vary").unwrap();
        assert_eq!(f.paths, ["a.b", "c.d"]);
        assert_eq!(f.values, [7.0, 14.0, 30.0]);
        assert_eq!(f.name(), "a.b,c.d");
        let f = Factor::parse("x.on=true,false", "--vary").unwrap();
        assert_eq!(f.values, [1.0, 0.0]);
        for bad in [
            "a.b",
            "a.b=2..1",
            "a.b=1",
            "a.b=x..2",
            "a.b,a.b=1..2",
            "=1..2",
        ] {
            assert!(Factor::parse(bad, "--vary").is_err(), "{bad}");
        }
        let e = Factor::parse("a.b=3", "--vary").unwrap_err();
        assert!(e.contains("two different values or more"), "{e}");
    }

    #[test]
    fn kinds_come_from_the_scenario() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let sc = Scenario::load(&path).unwrap();
        let mut fs = vec![
            range("policies.stca_extension.window_days", 7.0, 30.0),
            range("places[\"Roxham Road\"].detection", 0.8, 0.99),
            Factor::parse("policies.resettlement_quota.enabled=true,false", "--vary").unwrap(),
        ];
        resolve(&sc, &mut fs).unwrap();
        assert_eq!(
            fs.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [Kind::Integer, Kind::Float, Kind::Bool]
        );
        assert_eq!(fs[0].at(0.5), 19.0);
        assert_eq!(fs[2].text(1.0), "true");
        let mut bad = vec![
            range("policies.resettlement_quota.enabled", 0.0, 1.0),
            range("scenario.name", 0.0, 1.0),
            range("polices.x", 0.0, 1.0),
        ];
        bad.push(range("policies.stca_extension.window_days", 7.2, 7.4));
        bad.push(range("policies.stca_extension.window_days", 7.0, 7.9));
        bad.push(Factor::parse("policies.stca_extension.window_days=7.2,7.4", "--vary").unwrap());
        let e = resolve(&sc, &mut bad).unwrap_err().to_string();
        assert!(
            e.contains("7.2..7.4 holds none: give two different whole"),
            "{e}"
        );
        assert!(e.contains("7..7.9 holds only 7: give two"), "{e}");
        assert!(
            e.contains("the list's values round to one, 7: give two"),
            "{e}"
        );
        assert!(e.contains("give true,false"), "{e}");
        assert!(e.contains("not a number or a boolean"), "{e}");
        assert!(e.contains("no `polices` here"), "{e}");
    }

    #[test]
    fn whole_numbers_are_drawn_evenly_and_their_levels_rounded() {
        // Rounding a point of 7..10 gave 7 and 10 half the draws of 8 and 9 (a review).
        let mut f = range("a", 7.0, 10.0);
        f.kind = Kind::Integer;
        let d = design(Method::Lhs { points: 4000 }, vec![f.clone()], 3).unwrap();
        for v in [7.0, 8.0, 9.0, 10.0] {
            assert_eq!(d.points.iter().filter(|p| p[0] == v).count(), 1000, "{v}");
        }
        // The whole numbers within the range: 6.5..10.6 is 7 to 10 (rounding gave 11, past
        // the range's end, as the grid's last level).
        let mut g = range("a", 6.5, 10.6);
        g.kind = Kind::Integer;
        assert_eq!(g.levels(3), [7.0, 9.0, 10.0]);
        assert_eq!(g.levels(9), [7.0, 8.0, 9.0, 10.0]);
        assert_eq!((g.at(0.0), g.at(0.999), g.at(1.0)), (7.0, 10.0, 10.0));
    }

    #[test]
    fn a_saltelli_design_skips_the_origin_and_keeps_its_balance() {
        for base in [4, 8, 16] {
            let fs = vec![range("a", 0.0, 1.0), range("b", 0.0, 1.0)];
            let d = design(Method::Sobol { base }, fs, 1).unwrap();
            assert_eq!(d.points.len(), base * 4);
            // Rows of A, A_B^a, A_B^b, B: A is never the corner where it would equal B, and
            // each column of A and of B has one point in each of `base` equal strata (a
            // review: skipping the origin alone left the first stratum empty).
            let a: Vec<&Vec<f64>> = d.points.iter().step_by(4).collect();
            let b: Vec<&Vec<f64>> = d.points.iter().skip(3).step_by(4).collect();
            for rows in [&a, &b] {
                for j in 0..2 {
                    let mut strata: Vec<usize> =
                        rows.iter().map(|p| (p[j] * base as f64) as usize).collect();
                    strata.sort_unstable();
                    assert_eq!(strata, (0..base).collect::<Vec<_>>(), "{base} {j}");
                }
            }
            assert!(a.iter().all(|p| **p != [0.0, 0.0]));
        }
    }

    #[test]
    fn a_grid_is_the_product_of_the_levels_first_factor_slowest() {
        let a = range("a", 0.0, 1.0);
        let b = Factor::parse("b=7,14", "--vary").unwrap();
        let d = design(Method::Grid { levels: 3 }, vec![a, b], 1).unwrap();
        assert_eq!(
            d.points,
            [
                [0.0, 7.0],
                [0.0, 14.0],
                [0.5, 7.0],
                [0.5, 14.0],
                [1.0, 7.0],
                [1.0, 14.0]
            ]
        );
    }

    #[test]
    fn a_latin_hypercube_has_one_point_per_stratum_and_is_keyed() {
        let n = 20;
        let u = latin_hypercube(3, n, 7);
        for j in 0..3 {
            let mut strata: Vec<usize> = u.iter().map(|p| (p[j] * n as f64) as usize).collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..n).collect::<Vec<_>>());
        }
        assert_eq!(u, latin_hypercube(3, n, 7));
        assert_ne!(u, latin_hypercube(3, n, 8));
    }

    #[test]
    fn sobol_points_are_those_of_the_published_sequence() {
        // scipy.stats.qmc.Sobol(d=2, scramble=False).random(8)
        let s = sobol(2, 8);
        let want = [
            [0.0, 0.0],
            [0.5, 0.5],
            [0.75, 0.25],
            [0.25, 0.75],
            [0.375, 0.375],
            [0.875, 0.875],
            [0.625, 0.125],
            [0.125, 0.625],
        ];
        for (got, want) in s.iter().zip(want) {
            assert_eq!(got.as_slice(), want.as_slice());
        }
        // Dimension 3 (s = 2, a = 1, m = 1, 3): Bratley and Fox's third coordinates.
        let s = sobol(3, 4);
        assert_eq!(
            s.iter().map(|p| p[2]).collect::<Vec<_>>(),
            [0.0, 0.5, 0.25, 0.75]
        );
        // Every dimension's first 2^m points fall one in each of 2^m equal intervals, and
        // every pair's first 2^m fill the 2^m cells of some elementary split evenly (a
        // (t, m, 2)-net with t < m), here checked as: no two points share a coordinate.
        let s = sobol(32, 256);
        for d in 0..32 {
            let mut cells: Vec<usize> = s.iter().map(|p| (p[d] * 256.0) as usize).collect();
            cells.sort_unstable();
            assert_eq!(cells, (0..256).collect::<Vec<_>>(), "dimension {}", d + 1);
        }
        // Distinct dimensions are not the same sequence.
        for a in 0..32 {
            for b in a + 1..32 {
                assert!(s.iter().any(|p| p[a] != p[b]), "dimensions {a} and {b}");
            }
        }
    }

    #[test]
    fn a_saltelli_design_mixes_a_and_b_column_by_column() {
        let fs = vec![range("a", 0.0, 1.0), range("b", 10.0, 20.0)];
        let d = design(Method::Sobol { base: 4 }, fs, 1).unwrap();
        assert_eq!(d.points.len(), 4 * (2 + 2));
        // The sequence from point 4 (the first power of two of points is skipped).
        let seq = sobol(4, 8);
        for (j, row) in seq[4..].iter().enumerate() {
            let block = &d.points[j * 4..j * 4 + 4];
            let a = [row[0], 10.0 + 10.0 * row[1]];
            let b = [row[2], 10.0 + 10.0 * row[3]];
            assert_eq!(block[0], a);
            assert_eq!(block[1], [b[0], a[1]]);
            assert_eq!(block[2], [a[0], b[1]]);
            assert_eq!(block[3], b);
        }
        let many: Vec<Factor> = (0..SOBOL_MAX_FACTORS + 1)
            .map(|i| range(&format!("p{i}"), 0.0, 1.0))
            .collect();
        assert!(design(Method::Sobol { base: 4 }, many, 1).is_err());
    }

    #[test]
    fn morris_trajectories_move_one_factor_by_delta_per_step() {
        let fs: Vec<Factor> = (0..4).map(|i| range(&format!("p{i}"), 0.0, 1.0)).collect();
        let d = design(
            Method::Morris {
                trajectories: 10,
                levels: 4,
            },
            fs,
            3,
        )
        .unwrap();
        assert_eq!(d.points.len(), 10 * 5);
        let delta = 4.0 / 6.0;
        for (t, steps) in d.steps.iter().enumerate() {
            let pts = &d.points[t * 5..t * 5 + 5];
            let mut moved: Vec<usize> = steps.iter().map(|s| s.0).collect();
            moved.sort_unstable();
            assert_eq!(moved, [0, 1, 2, 3], "each factor moves once");
            for (m, &(i, step)) in steps.iter().enumerate() {
                assert!((step.abs() - delta).abs() < 1e-12);
                for (j, (after, before)) in pts[m + 1].iter().zip(&pts[m]).enumerate() {
                    let diff = after - before;
                    if j == i {
                        assert!((diff - step).abs() < 1e-12);
                    } else {
                        assert_eq!(diff, 0.0);
                    }
                }
            }
            for p in pts {
                for &x in p {
                    assert!((0.0..=1.0).contains(&x));
                    let level = x * 3.0;
                    assert!((level - level.round()).abs() < 1e-9, "on the grid: {x}");
                }
            }
        }
        assert!(
            design(
                Method::Morris {
                    trajectories: 2,
                    levels: 3
                },
                vec![range("a", 0.0, 1.0)],
                1
            )
            .is_err()
        );
    }
}
