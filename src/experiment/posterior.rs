//! A posterior ensemble: parameter sets with weights, consistent with the observed data.
//!
//! `calibrate --method abc` writes one as `posterior.csv`; `validate`, `compare` and
//! `forecast` run over one (`--posterior FILE`) so that their intervals cover the
//! uncertainty of the parameters as well as the run-to-run noise.
//!
//! The file has one row per particle: `particle`, `weight`, then one column per parameter,
//! named by its parameter path (`inflows[0].share`), then `distance` and any further
//! columns (each target's ARD), which are not parameters. Replicate `r` of a run over the
//! posterior uses the particle drawn `r`-th by systematic resampling with a keyed offset,
//! and the replicate's usual seed: so it is a function of (scenario, posterior, seed,
//! replicate) alone, and every variant of a comparison gets the same particle for the same
//! replicate (common random numbers extend to the parameters).

use crate::scenario::{Scenario, paths};
use crate::util::error::{Error, Result};
use crate::util::rng::{self, Purpose};
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Value};

/// One parameter set and its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Particle {
    pub id: u64,
    pub weight: f64,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    pub path: PathBuf,
    /// The parameter paths, in the file's column order.
    pub params: Vec<String>,
    pub particles: Vec<Particle>,
}

fn bad(path: &Path, line: u64, message: impl Into<String>) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

impl Posterior {
    /// Reads a `posterior.csv`.
    pub fn read(path: &Path) -> Result<Posterior> {
        let mut r = csv::Reader::from_path(path).map_err(|e| bad(path, 0, e.to_string()))?;
        let header: Vec<String> = r
            .headers()
            .map_err(|e| bad(path, 1, e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let expected = "expected the columns particle, weight, the parameter paths, distance";
        if header.len() < 4 || header[0] != "particle" || header[1] != "weight" {
            return Err(bad(path, 1, expected));
        }
        let end = header
            .iter()
            .position(|h| h == "distance")
            .ok_or_else(|| bad(path, 1, expected))?;
        let params: Vec<String> = header[2..end].to_vec();
        if params.is_empty() {
            return Err(bad(path, 1, expected));
        }
        for p in &params {
            paths::parse(p).map_err(|e| bad(path, 1, format!("column \"{p}\": {e}")))?;
        }
        let mut particles = Vec::new();
        for (i, row) in r.records().enumerate() {
            let line = i as u64 + 2;
            let row = row.map_err(|e| bad(path, line, e.to_string()))?;
            let num = |k: usize| -> Result<f64> {
                let s = row.get(k).unwrap_or("");
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        bad(
                            path,
                            line,
                            format!("{}: \"{s}\" is not a number", header[k]),
                        )
                    })
            };
            let id = row
                .get(0)
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| bad(path, line, "particle: expected a whole number"))?;
            let weight = num(1)?;
            if weight < 0.0 {
                return Err(bad(
                    path,
                    line,
                    "weight: expected a number that is not negative",
                ));
            }
            let values = (2..end).map(num).collect::<Result<Vec<f64>>>()?;
            particles.push(Particle { id, weight, values });
        }
        if particles.iter().map(|p| p.weight).sum::<f64>() <= 0.0 {
            return Err(bad(path, 0, "no particle has a positive weight"));
        }
        Ok(Posterior {
            path: path.to_path_buf(),
            params,
            particles,
        })
    }

    /// The particles of `n` replicates: systematic resampling by weight, with an offset
    /// keyed by `seed`, so each particle appears in proportion to its weight.
    pub fn draws(&self, n: u32, seed: u64) -> Vec<usize> {
        let total: f64 = self.particles.iter().map(|p| p.weight).sum();
        let u0 = rng::uniform(seed, u64::MAX, 0, Purpose::Replicate);
        let mut out = Vec::with_capacity(n as usize);
        let (mut k, mut cum) = (0, self.particles[0].weight / total);
        for i in 0..n {
            let u = (f64::from(i) + u0) / f64::from(n);
            while u >= cum && k + 1 < self.particles.len() {
                k += 1;
                cum += self.particles[k].weight / total;
            }
            out.push(k);
        }
        out
    }

    /// The scenario with particle `k`'s parameter values (integers where the file has
    /// integers).
    pub fn scenario(&self, base: &Scenario, k: usize) -> Result<Scenario> {
        let doc: DocumentMut =
            String::from_utf8_lossy(&base.source)
                .parse()
                .map_err(|e: toml_edit::TomlError| Error::Parse {
                    path: base.path.clone(),
                    message: e.to_string(),
                })?;
        let set: Vec<(String, Value)> = self
            .params
            .iter()
            .zip(&self.particles[k].values)
            .map(|(p, &v)| {
                let integer = matches!(
                    paths::get(&doc, p).ok().and_then(|i| i.as_value()),
                    Some(Value::Integer(_))
                );
                let value = if integer {
                    Value::from(v.round() as i64)
                } else {
                    Value::from(v)
                };
                (p.clone(), value)
            })
            .collect();
        let what = format!("{}, particle {}", self.path.display(), self.particles[k].id);
        base.with_overrides(&set, &what)
    }

    /// The scenario of each of `n` replicates.
    pub fn scenarios(&self, base: &Scenario, n: u32, seed: u64) -> Result<Vec<Scenario>> {
        let draws = self.draws(n, seed);
        let mut cache: Vec<Option<Scenario>> = vec![None; self.particles.len()];
        draws
            .iter()
            .map(|&k| {
                if cache[k].is_none() {
                    cache[k] = Some(self.scenario(base, k)?);
                }
                Ok(cache[k].clone().expect("just filled"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_particles_and_resamples_by_weight() {
        let f = file(
            "particle,weight,inflows[0].share,behaviour.beliefs.lag_days,distance,ard:x\n\
             0,0.1,0.5,3,0.2,0.2\n1,0.0,0.6,4,0.3,0.3\n2,0.9,0.7,5,0.1,0.1\n",
        );
        let p = Posterior::read(f.path()).unwrap();
        assert_eq!(p.params, ["inflows[0].share", "behaviour.beliefs.lag_days"]);
        assert_eq!(p.particles[2].values, [0.7, 5.0]);
        let d = p.draws(100, 7);
        assert_eq!(d, p.draws(100, 7), "deterministic");
        let count = |k| d.iter().filter(|&&x| x == k).count();
        assert_eq!(count(1), 0, "a zero weight is never drawn");
        assert!((9..=11).contains(&count(0)), "{}", count(0));
        assert!((89..=91).contains(&count(2)), "{}", count(2));
    }

    #[test]
    fn a_bad_file_names_the_line_and_what_was_expected() {
        let f = file("particle,weight,share,distance\n0,1,abc,0.1\n");
        let e = Posterior::read(f.path()).unwrap_err().to_string();
        assert!(
            e.contains(":2") && e.contains("share: \"abc\" is not a number"),
            "{e}"
        );
        let f = file("id,weight,x,distance\n");
        let e = Posterior::read(f.path()).unwrap_err().to_string();
        assert!(e.contains("expected the columns particle, weight"), "{e}");
        let f = file("particle,weight,inflows[0].share,distance\n0,0,0.1,0.1\n");
        let e = Posterior::read(f.path()).unwrap_err().to_string();
        assert!(e.contains("no particle has a positive weight"), "{e}");
    }

    #[test]
    fn a_particle_sets_its_values_in_the_scenario() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let base = Scenario::load(&path).unwrap();
        let f = file(
            "particle,weight,inflows[0].p_family_in_canada,behaviour.beliefs.lag_days,distance\n\
             0,1,0.35,4.0,0.1\n",
        );
        let p = Posterior::read(f.path()).unwrap();
        let sc = p.scenario(&base, 0).unwrap();
        assert_eq!(sc.inflows[0].p_family_in_canada, 0.35);
        assert_eq!(
            sc.behaviour.belief_lag_days, 4,
            "an integer where the file has one"
        );
    }
}
