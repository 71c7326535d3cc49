//! A posterior ensemble: parameter sets with weights, consistent with the observed data.
//!
//! `calibrate --method abc` writes one as `posterior.csv`; `validate`, `compare` and
//! `forecast` run over one (`--posterior FILE`) so that their intervals cover the
//! uncertainty of the parameters as well as the run-to-run noise.
//!
//! The file has one row per particle: `particle`, `weight`, then one column per parameter,
//! named by its parameter path (`inflows[0].share`) or by its tied paths joined with `,`
//! (`inflows[0].share,inflows[1].share`: one value set on each, the column quoted as CSV
//! quotes a field with a comma), then `distance` and any further columns (each target's
//! ARD), which are not parameters. Replicate `r` of a run over the
//! posterior uses the particle drawn `r`-th by systematic resampling with a keyed offset,
//! and the replicate's usual seed: so it is a function of (scenario, posterior, seed,
//! number of replicates, replicate) alone (systematic resampling spreads the particles
//! over all R replicates, so the first 20 of 40 are not the 20 of a run of 20), and every
//! variant of a comparison gets the same particle for the same replicate (common random
//! numbers extend to the parameters).

use crate::scenario::{Scenario, paths};
use crate::util::error::{Error, Result};
use crate::util::rng::{self, Purpose};
use std::path::{Path, PathBuf};
use toml_edit::Value;

/// What the intervals of a command's outputs cover: the replicates' run-to-run noise alone,
/// or, over a posterior, the parameters' uncertainty too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncertainty {
    Replicates,
    ParametersAndReplicates,
}

impl Uncertainty {
    /// As the manifests and the `uncertainty` columns say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Uncertainty::Replicates => "replicates",
            Uncertainty::ParametersAndReplicates => "parameters and replicates",
        }
    }

    pub fn of(posterior: Option<&Posterior>) -> Uncertainty {
        match posterior {
            Some(_) => Uncertainty::ParametersAndReplicates,
            None => Uncertainty::Replicates,
        }
    }
}

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
    /// The file as it was read: what a result folder copies and its manifest hashes, so
    /// that both are the bytes the runs used.
    pub bytes: Vec<u8>,
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
        // Only a regular file, within the cap on data files (a FIFO would block).
        let bytes = crate::util::files::read_regular(path, crate::util::files::DATA_LIMIT)
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
        let mut r = csv::Reader::from_reader(bytes.as_slice());
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
            for one in paths::split_tied(p) {
                paths::parse(one).map_err(|e| {
                    bad(
                        path,
                        1,
                        format!("column \"{p}\": {e} (expected a parameter path, or tied paths joined by commas)"),
                    )
                })?;
            }
        }
        let mut particles = Vec::new();
        for (i, row) in r.records().enumerate() {
            let line = i as u64 + 2;
            let row = row.map_err(|e| {
                let line = e.position().map_or(line, |p| p.line());
                bad(
                    path,
                    line,
                    format!("{e}; expected {} columns as in the header", header.len()),
                )
            })?;
            let line = row.position().map_or(line, |p| p.line());
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
        if particles.is_empty() {
            return Err(bad(
                path,
                2,
                "no particles: expected one row per particle after the header",
            ));
        }
        if particles.iter().map(|p| p.weight).sum::<f64>() <= 0.0 {
            return Err(bad(path, 2, "no particle has a positive weight"));
        }
        Ok(Posterior {
            path: path.to_path_buf(),
            params,
            particles,
            bytes,
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

    /// The overrides that set particle `k`'s parameter values on `base` (each path of a
    /// tied column gets the value; an integer where the scenario has one).
    pub fn overrides(&self, base: &Scenario, k: usize) -> Result<Vec<(String, Value)>> {
        let doc = base.document()?;
        let mut set = Vec::new();
        for (column, &v) in self.params.iter().zip(&self.particles[k].values) {
            for p in paths::split_tied(column) {
                set.push((
                    p.to_string(),
                    paths::number(v, paths::holds_integer(&doc, p)),
                ));
            }
        }
        Ok(set)
    }

    /// What names particle `k` in errors: the file and the particle.
    pub fn what(&self, k: usize) -> String {
        format!("{}, particle {}", self.path.display(), self.particles[k].id)
    }

    /// The scenario with particle `k`'s parameter values (integers where the file has
    /// integers).
    pub fn scenario(&self, base: &Scenario, k: usize) -> Result<Scenario> {
        base.with_overrides(&self.overrides(base, k)?, &self.what(k))
    }

    /// Checks that every parameter column leads to a number of `base` (or to a key it may
    /// add), so that a posterior made for another scenario is refused before any work,
    /// naming the column. The values are judged when a particle's scenario is built.
    pub fn check(&self, base: &Scenario) -> Result<()> {
        let doc = base.document()?;
        let refuse = |column: &str, why: String| {
            bad(
                &self.path,
                1,
                format!(
                    "column \"{column}\": {why} in {}; expected the parameter paths of the scenario the posterior was fitted on",
                    base.path.display()
                ),
            )
        };
        for column in &self.params {
            for p in paths::split_tied(column) {
                match paths::get(&doc, p).ok().map(|i| i.as_value()) {
                    Some(Some(Value::Integer(_) | Value::Float(_))) => {}
                    Some(_) => return Err(refuse(column, format!("{p} is not a number"))),
                    None => {
                        let mut copy = doc.clone();
                        paths::set(&mut copy, p, Value::from(0.0))
                            .map_err(|e| refuse(column, e))?;
                    }
                }
            }
        }
        Ok(())
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

/// The scenarios that replicates `0..n` run, with the overrides `set` (a variant's) on
/// top: over a posterior, replicate `r` has the particle [`Posterior::draws`]`(n, seed)[r]`;
/// without one, every replicate has the base scenario. Returns the distinct scenarios and,
/// for each replicate, the index of its own. `what` names the overrides in errors.
pub fn replicates(
    base: &Scenario,
    posterior: Option<&Posterior>,
    set: &[(String, Value)],
    what: &str,
    n: u32,
    seed: u64,
) -> Result<(Vec<Scenario>, Vec<usize>)> {
    let Some(p) = posterior.filter(|_| n > 0) else {
        let sc = if set.is_empty() {
            base.clone()
        } else {
            base.with_overrides(set, what)?
        };
        return Ok((vec![sc], vec![0; n as usize]));
    };
    let draws = p.draws(n, seed);
    let mut particles: Vec<usize> = draws.clone();
    particles.sort_unstable();
    particles.dedup();
    let scenarios = particles
        .iter()
        .map(|&k| {
            let mut all = p.overrides(base, k)?;
            all.extend(set.iter().cloned());
            let label = if what.is_empty() {
                p.what(k)
            } else {
                format!("{what} on {}", p.what(k))
            };
            base.with_overrides(&all, &label)
        })
        .collect::<Result<Vec<_>>>()?;
    let which = draws
        .iter()
        .map(|k| particles.binary_search(k).unwrap_or(0))
        .collect();
    Ok((scenarios, which))
}

/// A row of `posterior.csv`: a particle, its distance and any further values (each
/// target's ARD).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub particle: Particle,
    pub distance: f64,
    pub extra: Vec<f64>,
}

/// Writes a `posterior.csv`: `particle,weight`, the parameter columns `params` (a tied
/// parameter's paths joined by `,`), `distance`, then the `extra` columns.
pub fn write(path: &Path, params: &[String], extra: &[String], rows: &[Entry]) -> Result<()> {
    let failed = |e: csv::Error| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut w = csv::Writer::from_path(path).map_err(failed)?;
    let mut header = vec!["particle".to_string(), "weight".to_string()];
    header.extend(params.iter().cloned());
    header.push("distance".into());
    header.extend(extra.iter().cloned());
    w.write_record(&header).map_err(failed)?;
    for r in rows {
        let mut rec = vec![r.particle.id.to_string(), r.particle.weight.to_string()];
        rec.extend(r.particle.values.iter().map(f64::to_string));
        rec.push(r.distance.to_string());
        rec.extend(r.extra.iter().map(f64::to_string));
        w.write_record(&rec).map_err(failed)?;
    }
    w.flush().map_err(|e| Error::write(path, e))
}

/// The `q` quantile of values with weights: the smallest value whose cumulative weight
/// (in increasing order of value) reaches `q` of the total.
pub fn weighted_quantile(values: &[f64], weights: &[f64], q: f64) -> f64 {
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let mut cum = 0.0;
    for &(v, w) in &pairs {
        cum += w;
        if cum >= q * total * (1.0 - 1e-12) {
            return v;
        }
    }
    pairs.last().map_or(f64::NAN, |p| p.0)
}

/// The weighted mean and the 5% and 95% weighted quantiles.
pub fn weighted_summary(values: &[f64], weights: &[f64]) -> [f64; 3] {
    let total: f64 = weights.iter().sum();
    let mean = values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total;
    [
        mean,
        weighted_quantile(values, weights, 0.05),
        weighted_quantile(values, weights, 0.95),
    ]
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

    #[test]
    fn a_tied_column_sets_each_of_its_paths() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let base = Scenario::load(&path).unwrap();
        let f = file(
            "particle,weight,\"places[\"\"New York City\"\"].move_rate,places[\"\"Rio Grande Valley\"\"].move_rate\",distance\n\
             0,1,0.125,0.1\n",
        );
        let p = Posterior::read(f.path()).unwrap();
        assert_eq!(
            p.params,
            ["places[\"New York City\"].move_rate,places[\"Rio Grande Valley\"].move_rate"]
        );
        p.check(&base).unwrap();
        let sc = p.scenario(&base, 0).unwrap();
        assert_eq!(
            (sc.places[0].move_rate, sc.places[1].move_rate),
            (0.125, 0.125)
        );
    }

    #[test]
    fn a_posterior_for_another_scenario_is_refused_naming_the_column() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let base = Scenario::load(&path).unwrap();
        let f = file(
            "particle,weight,\"places[\"\"Lacole\"\"].detection,inflows[0].share\",distance\n0,1,0.5,0.1\n",
        );
        let p = Posterior::read(f.path()).unwrap();
        let e = p.check(&base).unwrap_err().to_string();
        assert!(
            e.contains(":1: column \"places[\"Lacole\"].detection,inflows[0].share\"")
                && e.contains("no element named \"Lacole\"")
                && e.contains("expected the parameter paths of the scenario"),
            "{e}"
        );
        let f = file("particle,weight,scenario.name,distance\n0,1,0.5,0.1\n");
        let e = Posterior::read(f.path())
            .unwrap()
            .check(&base)
            .unwrap_err()
            .to_string();
        assert!(e.contains("scenario.name is not a number"), "{e}");
    }

    #[test]
    fn what_is_written_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("posterior.csv");
        let params = ["a.b,c.d".to_string(), "places[\"X, Y\"].e".to_string()];
        let rows: Vec<Entry> = (0..3)
            .map(|i| Entry {
                particle: Particle {
                    id: i,
                    weight: 0.1 + i as f64 / 7.0,
                    values: vec![1.0 / 3.0 + i as f64, 2.0],
                },
                distance: 0.25,
                extra: vec![0.5],
            })
            .collect();
        write(&path, &params, &["ard:x".into()], &rows).unwrap();
        let p = Posterior::read(&path).unwrap();
        assert_eq!(p.params, params);
        let want: Vec<Particle> = rows.into_iter().map(|r| r.particle).collect();
        assert_eq!(p.particles, want, "values read back exactly");
    }

    #[test]
    fn replicates_share_their_particles_and_variants_go_on_top() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let base = Scenario::load(&path).unwrap();
        let f = file(
            "particle,weight,inflows[0].p_family_in_canada,behaviour.beliefs.lag_days,distance\n\
             0,1,0.1,2,0.1\n1,1,0.2,3,0.1\n2,2,0.3,4,0.1\n",
        );
        let p = Posterior::read(f.path()).unwrap();
        let set = [("behaviour.beliefs.lag_days".to_string(), Value::from(9))];
        let (scs, which) = replicates(&base, Some(&p), &set, "variant \"v\"", 8, 5).unwrap();
        let draws = p.draws(8, 5);
        assert_eq!(which.len(), 8);
        for (r, &k) in draws.iter().enumerate() {
            let sc = &scs[which[r]];
            assert_eq!(sc.inflows[0].p_family_in_canada, p.particles[k].values[0]);
            assert_eq!(sc.behaviour.belief_lag_days, 9, "the variant's value wins");
        }
        let (scs, which) = replicates(&base, None, &[], "", 3, 5).unwrap();
        assert_eq!((scs.len(), which), (1, vec![0, 0, 0]));
    }
}
