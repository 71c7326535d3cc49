//! Calibration: fit scenario parameters to observed series.
//!
//! The method is Nelder-Mead on the box of the fitted parameters (rescaled to [0, 1] and
//! clamped to it), minimising the mean ARD of the target series over a window of periods.
//! Each trial runs several replicates whose seeds are the same for every trial (common
//! random numbers), so that two trials differ by their parameters and not by their luck.
//! Replicates run in parallel; the search itself is sequential and deterministic, so the
//! same command gives the same trials.

use crate::experiment::ensemble;
use crate::experiment::validation;
use crate::scenario::{Scenario, paths};
use crate::util::date::{Date, Month};
use crate::util::error::{Error, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Value};

/// A parameter to fit: a path into the scenario and its range.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub path: String,
    pub lo: f64,
    pub hi: f64,
}

impl Param {
    /// Parses `path=lo..hi`, e.g. `inflows[0].share=0.01..0.06`.
    pub fn parse(spec: &str) -> std::result::Result<Param, String> {
        let bad = || {
            format!("--fit \"{spec}\": expected PATH=LO..HI, e.g. \"inflows[0].share=0.01..0.06\"")
        };
        let (path, range) = spec.rsplit_once('=').ok_or_else(bad)?;
        let (lo, hi) = range.split_once("..").ok_or_else(bad)?;
        let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
        let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(format!("--fit \"{spec}\": the range needs LO < HI"));
        }
        paths::parse(path.trim())?;
        Ok(Param {
            path: path.trim().to_string(),
            lo,
            hi,
        })
    }
}

/// What to fit, to what, and how hard to try.
#[derive(Debug, Clone)]
pub struct Settings {
    pub params: Vec<Param>,
    /// Names of observed series of the scenario.
    pub targets: Vec<String>,
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
        if !problems.is_empty() {
            return Err(invalid(sc, problems));
        }
        Ok(Settings {
            params,
            targets: targets.to_vec(),
            windows,
            budget,
            replicates,
            seed,
        })
    }
}

/// One evaluated parameter set.
#[derive(Debug, Clone)]
pub struct Trial {
    pub values: Vec<f64>,
    /// The objective: the mean of the targets' ARD (infinite if the set was invalid).
    pub score: f64,
    pub ard: Vec<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Calibration {
    pub trials: Vec<Trial>,
    pub best: usize,
    /// The starting values (the scenario's own, clamped to the ranges).
    pub start: Vec<f64>,
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

/// The value for parameter `p` at unit position `u`, an integer if the scenario has one.
fn value_at(p: &Param, u: f64, integer: bool) -> Value {
    let v = p.lo + u.clamp(0.0, 1.0) * (p.hi - p.lo);
    if integer {
        Value::from(v.round() as i64)
    } else {
        Value::from((v * 1e6).round() / 1e6)
    }
}

/// Runs the calibration. `progress` is called after each trial with the number done.
pub fn calibrate(
    base: &Scenario,
    s: &Settings,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Calibration> {
    if s.params.is_empty() {
        return Err(invalid(
            base,
            vec!["calibrate: give at least one --fit PATH=LO..HI".into()],
        ));
    }
    if s.budget == 0 {
        // The fitted scenario and its header are the best of the trials: there must be one.
        return Err(invalid(
            base,
            vec!["calibrate: --budget must allow at least one trial".into()],
        ));
    }
    let mut problems = Vec::new();
    let mut targets = Vec::new();
    for t in &s.targets {
        match base.observed.iter().position(|o| &o.name == t) {
            Some(k) => {
                let pts: Vec<usize> = base.observed[k]
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
    // The starting point and the parameters' types, from the file itself.
    let doc: DocumentMut = String::from_utf8_lossy(&base.source)
        .parse()
        .map_err(|e: toml_edit::TomlError| invalid(base, vec![e.to_string()]))?;
    let mut start = Vec::new();
    let mut integer = Vec::new();
    for p in &s.params {
        let current = paths::get(&doc, &p.path)
            .ok()
            .and_then(|i| i.as_value().cloned());
        let (x, int) = match &current {
            Some(Value::Integer(v)) => (*v.value() as f64, true),
            Some(Value::Float(v)) => (*v.value(), false),
            Some(other) => {
                problems.push(format!(
                    "--fit {}: the scenario has a non-number there ({})",
                    p.path,
                    other.to_string().trim()
                ));
                (p.lo, false)
            }
            None => ((p.lo + p.hi) / 2.0, false),
        };
        start.push(((x - p.lo) / (p.hi - p.lo)).clamp(0.0, 1.0));
        integer.push(int);
    }
    // Every path must lead somewhere valid: try the starting point.
    let first: Vec<(String, Value)> = s
        .params
        .iter()
        .zip(&start)
        .zip(&integer)
        .map(|((p, u), i)| (p.path.clone(), value_at(p, *u, *i)))
        .collect();
    if let Err(e) = base.with_overrides(&first, "calibrate") {
        problems.push(e.to_string());
    }
    if !problems.is_empty() {
        return Err(invalid(base, problems));
    }

    let reps: Vec<u32> = (0..s.replicates.max(1)).collect();
    let mut trials: Vec<Trial> = Vec::new();
    let evaluate = |u: &[f64], trials: &mut Vec<Trial>| -> f64 {
        let set: Vec<(String, Value)> = s
            .params
            .iter()
            .zip(u)
            .zip(&integer)
            .map(|((p, u), i)| (p.path.clone(), value_at(p, *u, *i)))
            .collect();
        let values: Vec<f64> = set
            .iter()
            .map(|(_, v)| {
                v.as_float()
                    .or(v.as_integer().map(|i| i as f64))
                    .unwrap_or(f64::NAN)
            })
            .collect();
        let trial = match base.with_overrides(&set, "calibrate") {
            Err(e) => Trial {
                values,
                score: f64::INFINITY,
                ard: vec![f64::NAN; targets.len()],
                error: Some(e.to_string()),
            },
            Ok(sc) => {
                let sims = ensemble::map(
                    &sc,
                    s.seed,
                    &reps,
                    |_, res| validation::simulated_points(&sc, res),
                    &|| {},
                );
                let ard: Vec<f64> = targets
                    .iter()
                    .map(|(k, pts)| {
                        let obs: Vec<f64> = pts
                            .iter()
                            .map(|&j| sc.observed[*k].points[j].value)
                            .collect();
                        let sim: Vec<f64> = pts
                            .iter()
                            .map(|&j| {
                                sims.iter().map(|r| r[*k][j]).sum::<f64>() / sims.len() as f64
                            })
                            .collect();
                        validation::fit("", &obs, &sim).ard
                    })
                    .collect();
                let score = ard.iter().sum::<f64>() / ard.len() as f64;
                Trial {
                    values,
                    score: if score.is_finite() {
                        score
                    } else {
                        f64::INFINITY
                    },
                    ard,
                    error: None,
                }
            }
        };
        let score = trial.score;
        trials.push(trial);
        progress(trials.len());
        score
    };
    nelder_mead(&start, s.budget, &mut |u| evaluate(u, &mut trials));
    let best = (0..trials.len())
        .min_by(|&a, &b| trials[a].score.total_cmp(&trials[b].score))
        .unwrap_or(0);
    Ok(Calibration {
        trials,
        best,
        start,
    })
}

/// Nelder-Mead in the unit box, points clamped to it, at most `budget` evaluations of `f`.
pub fn nelder_mead(x0: &[f64], budget: usize, f: &mut dyn FnMut(&[f64]) -> f64) -> Vec<f64> {
    let n = x0.len();
    let clamp = |x: Vec<f64>| x.into_iter().map(|v| v.clamp(0.0, 1.0)).collect::<Vec<_>>();
    let mut used = 0;
    let mut eval = |x: &[f64], used: &mut usize| {
        *used += 1;
        f(x)
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::new();
    if budget == 0 {
        return x0.to_vec();
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
    while used < budget && simplex.len() == n + 1 {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let spread = simplex
            .iter()
            .map(|s| s.1)
            .fold(f64::NEG_INFINITY, f64::max)
            - simplex[0].1;
        let size = simplex
            .iter()
            .map(|s| {
                s.0.iter()
                    .zip(&simplex[0].0)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
        if spread.abs() < 1e-9 && size < 1e-4 {
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
    simplex.first().map_or(x0.to_vec(), |s| s.0.clone())
}

/// The fitted scenario's text: the original file with the fitted values set (each marked
/// by a comment), paths to data files made relative to `out_dir`, and `header` (comment
/// lines saying how it was fitted) on top.
pub fn fitted_text(
    base: &Scenario,
    s: &Settings,
    cal: &Calibration,
    header: &str,
    out_dir: &Path,
) -> Result<String> {
    let mut doc: DocumentMut = String::from_utf8_lossy(&base.source)
        .parse()
        .map_err(|e: toml_edit::TomlError| invalid(base, vec![e.to_string()]))?;
    let best = &cal.trials[cal.best];
    for (p, v) in s.params.iter().zip(&best.values) {
        let old = paths::get(&doc, &p.path)
            .ok()
            .and_then(|i| i.as_value().cloned());
        let integer = matches!(old, Some(Value::Integer(_)));
        let mut value = if integer {
            Value::from(v.round() as i64)
        } else {
            Value::from(*v)
        };
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
        let prefix = old_prefix(&doc, &p.path);
        value.decor_mut().set_prefix(prefix);
        if paths::is_inline(&doc, &p.path) {
            // No comment can follow a value inside `{ ... }`: keep its layout; the header
            // says what was fitted.
            paths::set(&mut doc, &p.path, value).map_err(|e| invalid(base, vec![e]))?;
        } else {
            value.decor_mut().set_suffix(suffix);
            paths::replace(&mut doc, &p.path, value).map_err(|e| invalid(base, vec![e]))?;
        }
    }
    rebase_files(&mut doc, base, out_dir);
    let mut text = String::new();
    for line in header.lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&doc.to_string());
    Ok(text)
}

/// How a fitted scenario says it was made: the comment block on top of its text, with the
/// date it was made and the `command` that made it.
pub fn header(s: &Settings, cal: &Calibration, date: Date, command: &str) -> String {
    let best = &cal.trials[cal.best];
    let windows: Vec<String> = s
        .windows
        .iter()
        .map(|w| format!("{}..{}", w.0, w.1))
        .collect();
    let ards: Vec<String> = s
        .targets
        .iter()
        .zip(&best.ard)
        .map(|(t, a)| format!("{t} ARD {a:.4}"))
        .collect();
    let mut header = format!(
        "Calibrated by `northbound calibrate` (northbound {}) on {date}.\n\
         Command: {command}\n\
         Method: Nelder-Mead on the box of the fitted parameters, {} trials, {} replicates per trial\n\
         with common random numbers (seed {}); objective: the mean ARD of the targets over {}.\n\
         Best trial {}: objective {:.4} ({}).\n",
        env!("CARGO_PKG_VERSION"),
        cal.trials.len(),
        s.replicates,
        s.seed,
        windows.join(" and "),
        cal.best,
        best.score,
        ards.join(", ")
    );
    for (p, v) in s.params.iter().zip(&best.values) {
        let _ = writeln!(
            header,
            "Fitted: {} = {v} (range {}..{})",
            p.path, p.lo, p.hi
        );
    }
    header
}

/// Where the fitted scenario goes, and the folder its data paths must resolve from: the
/// `fitted` file asked for, else `fitted.toml` in the output folder being written (`tmp`),
/// whose paths resolve from where that folder will be (`target`).
pub fn fitted_place(fitted: Option<&Path>, tmp: &Path, target: &Path) -> (PathBuf, PathBuf) {
    match fitted {
        None => (tmp.join("fitted.toml"), target.to_path_buf()),
        Some(f) => (
            f.to_path_buf(),
            match f.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
        ),
    }
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
    header.extend(s.params.iter().map(|p| p.path.clone()));
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

/// Writes the fitted scenario ([`fitted_text`]) to `path`, its data paths relative to
/// `folder`.
pub fn write_fitted(
    path: &Path,
    folder: &Path,
    base: &Scenario,
    s: &Settings,
    cal: &Calibration,
    header: &str,
) -> Result<()> {
    let text = fitted_text(base, s, cal, header, folder)?;
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
    for table in ["inflows", "observed"] {
        let n = match doc.get(table) {
            Some(toml_edit::Item::ArrayOfTables(a)) => a.len(),
            _ => 0,
        };
        for i in 0..n {
            let path = format!("{table}[{i}].file");
            let Some(file) = paths::get(doc, &path)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
            else {
                continue;
            };
            if let Some(rel) = relative(&from.join(&file), out_dir) {
                let _ = paths::set(doc, &path, Value::from(rel));
            }
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
            (p.path.as_str(), p.lo, p.hi),
            ("inflows[0].share", 0.01, 0.06)
        );
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
    fn nelder_mead_finds_the_minimum_of_a_bowl() {
        let mut n = 0;
        let x = nelder_mead(&[0.9, 0.1], 200, &mut |x| {
            n += 1;
            (x[0] - 0.3).powi(2) + 2.0 * (x[1] - 0.7).powi(2)
        });
        assert!(n <= 200);
        assert!(
            (x[0] - 0.3).abs() < 1e-3 && (x[1] - 0.7).abs() < 1e-3,
            "{x:?}"
        );
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
            windows: vec![parse_window("2023-01..2023-06").unwrap()],
            budget: 30,
            replicates: 4,
            seed: 7,
        };
        let cal = pool
            .install(|| calibrate(&base, &settings, &|_| {}))
            .unwrap();
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
        let text = fitted_text(&base, &settings, &cal, "fitted in a test", dir.path()).unwrap();
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
