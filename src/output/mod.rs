//! Flat output rows and the run folder.
//!
//! Every table is long format (one number per row) so that it loads straight into pandas,
//! R or polars. Values are people: agent counts times the scenario's scale. A run folder is
//! written into a temporary sibling (`.NAME.partial-PID`) and renamed into place only when
//! complete, so a failed run never leaves a partial folder in place of a result (a killed
//! one leaves its hidden temporary folder, removed by the next run to the same place). An
//! existing folder is replaced only when asked to, and only if it is an earlier run.

use crate::model::agent::State;
use crate::model::engine::Results;
use crate::scenario::{Scenario, crossing_name, kind_name, metrics_for};
use crate::util::date::{Date, Month};
use crate::util::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One row of `daily.csv` (`period` a date) or `monthly.csv` (`period` a month).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub period: String,
    pub place: String,
    pub metric: &'static str,
    pub value: f64,
}

/// One row of a run's `policies.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRecord {
    pub policy: &'static str,
    pub enabled: bool,
    pub start: String,
    pub end: String,
}

/// One row of `places.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct PlaceRow<'a> {
    pub place: &'a str,
    pub kind: &'static str,
    pub crossing: &'static str,
    pub country: &'a str,
    pub province: &'a str,
}

/// The scenario's policies with their dates, as run.
pub fn policy_rows(sc: &Scenario) -> Vec<PolicyRecord> {
    sc.policies
        .iter()
        .map(|p| {
            let (start, end) = p.rule.dates();
            PolicyRecord {
                policy: p.rule.name(),
                enabled: p.enabled,
                start: start.to_string(),
                end: end.map_or(String::new(), |e| e.to_string()),
            }
        })
        .collect()
}

pub fn place_rows(sc: &Scenario) -> Vec<PlaceRow<'_>> {
    sc.places
        .iter()
        .map(|p| PlaceRow {
            place: &p.name,
            kind: kind_name(p.kind),
            crossing: crossing_name(p.crossing),
            country: &p.country,
            province: &p.region,
        })
        .collect()
}

pub fn daily_rows(sc: &Scenario, res: &Results) -> Vec<Row> {
    let mut rows = Vec::new();
    for d in 0..res.days {
        let date = res.start.add_days(d as i32).to_string();
        for (i, p) in sc.places.iter().enumerate() {
            for &m in metrics_for(p.kind) {
                rows.push(Row {
                    period: date.clone(),
                    place: p.name.clone(),
                    metric: m.name(),
                    value: res.count(d, i, m) as f64 * sc.scale,
                });
            }
        }
    }
    rows
}

/// Flows summed by calendar month; the `waiting` stock is the month's last day.
pub fn monthly_rows(sc: &Scenario, res: &Results) -> Vec<Row> {
    let mut months: Vec<(Month, u32, u32)> = Vec::new();
    for d in 0..res.days {
        let m = res.start.add_days(d as i32).month();
        match months.last_mut() {
            Some((last, _, end)) if *last == m => *end = d,
            _ => months.push((m, d, d)),
        }
    }
    let mut rows = Vec::new();
    for (m, first, last) in months {
        for (i, p) in sc.places.iter().enumerate() {
            for &metric in metrics_for(p.kind) {
                let v = if metric.is_stock() {
                    res.count(last, i, metric)
                } else {
                    (first..=last).map(|d| res.count(d, i, metric)).sum()
                };
                rows.push(Row {
                    period: m.to_string(),
                    place: p.name.clone(),
                    metric: metric.name(),
                    value: v as f64 * sc.scale,
                });
            }
        }
    }
    rows
}

pub fn summary_rows(sc: &Scenario, res: &Results) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, p) in sc.places.iter().enumerate() {
        for &m in metrics_for(p.kind) {
            rows.push(Row {
                period: String::new(),
                place: p.name.clone(),
                metric: m.name(),
                value: res.total(i, m) as f64 * sc.scale,
            });
        }
    }
    rows
}

/// `states.csv`: people in each state at the end of each day, and people created so far.
pub fn state_rows(sc: &Scenario, res: &Results) -> Vec<(String, &'static str, f64)> {
    let mut rows = Vec::new();
    for d in 0..res.days {
        let date = res.start.add_days(d as i32).to_string();
        for s in State::ALL {
            rows.push((
                date.clone(),
                s.name(),
                res.state_count(d, s) as f64 * sc.scale,
            ));
        }
        rows.push((date, "created", res.created[d as usize] as f64 * sc.scale));
    }
    rows
}

/// What `manifest.json` records about a run, a validation, a calibration or a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub northbound_version: &'static str,
    /// `run`, `validate`, `calibrate` or `compare`.
    pub command: String,
    /// The command line, as given.
    pub arguments: Vec<String>,
    pub scenario: String,
    pub scenario_name: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub threads: usize,
    pub start: String,
    pub end: String,
    pub scale: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicates: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<String>>,
    /// calibrate: `nelder-mead` or `abc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// calibrate: simulation runs (parameter sets x replicates) and their rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_per_second: Option<f64>,
    /// validate and compare: what the intervals cover, `replicates` or `parameters and
    /// replicates` (over a posterior, named with its SHA-256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posterior: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posterior_sha256: Option<String>,
    /// Agents created (summed over every run the command made).
    pub agents: u64,
    /// Agent-days simulated (summed likewise).
    pub agent_days: u64,
    pub wall_seconds: f64,
    pub agent_days_per_second: f64,
    pub files: Vec<String>,
}

impl Manifest {
    /// A manifest for `command` on `sc`, with the counts still to fill in.
    pub fn new(command: &str, sc: &Scenario, seed: u64, threads: usize) -> Manifest {
        Manifest {
            northbound_version: env!("CARGO_PKG_VERSION"),
            command: command.into(),
            arguments: std::env::args().collect(),
            scenario: sc.path.display().to_string(),
            scenario_name: sc.name.clone(),
            scenario_sha256: sha256_hex(&sc.source),
            seed,
            threads,
            start: sc.start.to_string(),
            end: sc.end.to_string(),
            scale: sc.scale,
            replicates: None,
            variants: None,
            method: None,
            runs: None,
            runs_per_second: None,
            uncertainty: None,
            posterior: None,
            posterior_sha256: None,
            agents: 0,
            agent_days: 0,
            wall_seconds: 0.0,
            agent_days_per_second: 0.0,
            files: Vec::new(),
        }
    }

    /// Records the work done and the time it took.
    pub fn timed(&mut self, agents: u64, agent_days: u64, wall_seconds: f64) {
        self.agents = agents;
        self.agent_days = agent_days;
        self.wall_seconds = wall_seconds;
        self.agent_days_per_second = agent_days as f64 / wall_seconds.max(1e-9);
    }

    /// Writes `manifest.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join("manifest.json");
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&path, json + "\n").map_err(|e| Error::write(&path, e))
    }
}

/// A command as a user would type it: `northbound` and the arguments `args`, quoted where
/// a shell needs it.
pub fn command_line(args: impl IntoIterator<Item = String>) -> String {
    let quote = |a: String| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
        {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    std::iter::once("northbound".to_string())
        .chain(args.into_iter().map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Refuses to replace the file `path` unless `force`.
pub fn check_new_file(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        return Err(Error::Output {
            path: path.to_path_buf(),
            message: "already exists; pass --force to replace it".into(),
        });
    }
    Ok(())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Numbers as CSV text: integers without a decimal point, others as Rust prints them.
pub fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Writes rows with a header, period column named `period_name` (omitted when `None`).
pub fn write_rows(path: &Path, period_name: Option<&str>, rows: &[Row]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| csv_err(path, e))?;
    let mut header = Vec::new();
    if let Some(p) = period_name {
        header.push(p);
    }
    header.extend(["place", "metric", "value"]);
    w.write_record(&header).map_err(|e| csv_err(path, e))?;
    for r in rows {
        let v = fmt_value(r.value);
        let rec: Vec<&str> = match period_name {
            Some(_) => vec![&r.period, &r.place, r.metric, &v],
            None => vec![&r.place, r.metric, &v],
        };
        w.write_record(&rec).map_err(|e| csv_err(path, e))?;
    }
    w.flush().map_err(|e| Error::write(path, e))
}

fn csv_err(path: &Path, e: csv::Error) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes every CSV of a run into `dir` (which exists and is empty).
pub fn write_tables(dir: &Path, sc: &Scenario, res: &Results) -> Result<()> {
    let monthly = monthly_rows(sc, res);
    write_rows(&dir.join("daily.csv"), Some("date"), &daily_rows(sc, res))?;
    write_rows(&dir.join("monthly.csv"), Some("month"), &monthly)?;
    write_rows(&dir.join("summary.csv"), None, &summary_rows(sc, res))?;
    let p = dir.join("places.csv");
    let mut w = csv::Writer::from_path(&p).map_err(|e| csv_err(&p, e))?;
    for r in place_rows(sc) {
        w.serialize(r).map_err(|e| csv_err(&p, e))?;
    }
    w.flush().map_err(|e| Error::write(&p, e))?;
    write_csv(&dir.join("policies.csv"), &policy_rows(sc))?;
    let p = dir.join("states.csv");
    let mut w = csv::Writer::from_path(&p).map_err(|e| csv_err(&p, e))?;
    w.write_record(["date", "state", "value"])
        .map_err(|e| csv_err(&p, e))?;
    for (d, s, v) in state_rows(sc, res) {
        w.write_record([d.as_str(), s, &fmt_value(v)])
            .map_err(|e| csv_err(&p, e))?;
    }
    w.flush().map_err(|e| Error::write(&p, e))
}

/// A run folder being written: a temporary sibling of the target, renamed into place by
/// [`Staged::commit`], removed if dropped before that.
pub struct Staged {
    pub tmp: PathBuf,
    target: PathBuf,
    force: bool,
    committed: bool,
}

/// Checks that `target` may be written (absent, or `force`) and creates the temporary
/// folder. Call it before the work, so that a refusal costs nothing.
pub fn stage(target: &Path, force: bool) -> Result<Staged> {
    if target.exists() && !force {
        return Err(Error::Output {
            path: target.to_path_buf(),
            message: "already exists; pass --force to replace it, or --out to write elsewhere"
                .into(),
        });
    }
    if target.exists() && !target.is_dir() {
        return Err(Error::Output {
            path: target.to_path_buf(),
            message: "exists and is not a folder".into(),
        });
    }
    if target.is_dir() && !is_replaceable(target) {
        return Err(Error::Output {
            path: target.to_path_buf(),
            message: "is a folder that is neither empty nor an earlier northbound run (no manifest.json); refusing to replace it even with --force".into(),
        });
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::write(&parent, e))?;
    let name = target
        .file_name()
        .map_or("run".into(), |n| n.to_string_lossy().into_owned());
    remove_stale_partials(&parent, &name);
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::write(&tmp, e))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| Error::write(&tmp, e))?;
    Ok(Staged {
        tmp,
        target: target.to_path_buf(),
        force,
        committed: false,
    })
}

/// An empty folder or an earlier run (it has a manifest) may be replaced with `--force`.
fn is_replaceable(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
        || std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// Removes `.NAME.partial-PID` folders left by runs that were killed, where that process
/// is known to be gone (Linux's /proc says so); elsewhere leaves them be.
fn remove_stale_partials(parent: &Path, name: &str) {
    let prefix = format!(".{name}.partial-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file
            .strip_prefix(&prefix)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let proc = Path::new("/proc");
        if proc.is_dir() && !proc.join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Staged {
    /// Where the folder goes when it is finished.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes `manifest.json` (listing every file of the folder), then commits.
    pub fn finish(self, mut manifest: Manifest) -> Result<PathBuf> {
        let mut files: Vec<String> = std::fs::read_dir(&self.tmp)
            .map_err(|e| Error::write(&self.tmp, e))?
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        files.push("manifest.json".into());
        files.sort();
        files.dedup();
        manifest.files = files;
        manifest.write(&self.tmp)?;
        self.commit()
    }

    /// Moves the finished folder into place, replacing an old one only with `force`.
    pub fn commit(mut self) -> Result<PathBuf> {
        if self.target.exists() {
            if !self.force {
                return Err(Error::Output {
                    path: self.target.clone(),
                    message: "appeared while the run was going; pass --force to replace it".into(),
                });
            }
            let old = self.tmp.with_extension("old");
            std::fs::rename(&self.target, &old).map_err(|e| Error::write(&self.target, e))?;
            std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::write(&self.target, e))?;
            std::fs::remove_dir_all(&old).map_err(|e| Error::write(&old, e))?;
        } else {
            std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::write(&self.target, e))?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// The date a day index of a run stands for.
pub fn day_date(res: &Results, d: u32) -> Date {
    res.start.add_days(d as i32)
}

/// Writes serde rows as a CSV file with a header (an empty table gets no header).
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| csv_err(path, e))?;
    for r in rows {
        w.serialize(r).map_err(|e| csv_err(path, e))?;
    }
    w.flush().map_err(|e| Error::write(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_line_is_quoted_where_a_shell_needs_it() {
        let args = ["run", "a b.toml", "--fit=x[\"y\"]=1..2", "it's", ""].map(String::from);
        assert_eq!(
            command_line(args),
            r#"northbound run 'a b.toml' '--fit=x["y"]=1..2' 'it'\''s' ''"#
        );
    }
}
