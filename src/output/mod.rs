//! Flat output rows and the run folder.
//!
//! Every table is long format (one number per row) so that it loads straight into pandas,
//! R or polars. Values are people: agent counts times the scenario's scale. A result folder
//! is written whole or not at all, and replaces only an earlier result of northbound's
//! ([`staging`]).

pub mod bundle;
mod staging;

pub use staging::{Staged, interrupted, stage};

use crate::model::agent::State;
use crate::model::engine::Results;
use crate::scenario::{Scenario, crossing_name, kind_name, metrics_for};
use crate::util::date::{Date, Month};
use crate::util::error::{Error, Result};
use serde::Serialize;
use std::path::Path;

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
    /// A port: whether the STCA applies there (a land port) or not (an airport); empty
    /// for other places.
    pub stca: Option<bool>,
    /// Whether this is the crossing a comparison tracks ([`Scenario::focus_crossing`]).
    pub focus: bool,
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
    let focus = sc.focus_crossing();
    sc.places
        .iter()
        .enumerate()
        .map(|(i, p)| PlaceRow {
            place: &p.name,
            kind: kind_name(p.kind),
            crossing: crossing_name(p.crossing),
            country: &p.country,
            province: &p.region,
            stca: (p.crossing == Some(crate::scenario::CrossingKind::Port)).then_some(p.stca),
            focus: focus == Some(i),
        })
        .collect()
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

/// A row of `observed_crossings.csv`: a monthly observation of a series the scenario
/// declares over exactly one crossing (attempts, interceptions or claims there), for the
/// crossing figures of a run and a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CrossingObservation {
    pub series: String,
    pub description: String,
    pub metric: String,
    pub place: String,
    pub month: String,
    pub value: f64,
}

impl CrossingObservation {
    pub const HEADER: [&'static str; 6] =
        ["series", "description", "metric", "place", "month", "value"];
}

/// The monthly observations of the scenario's series that count attempts, interceptions
/// or claims at exactly one crossing, inside the window.
pub fn crossing_observations(sc: &Scenario) -> Vec<CrossingObservation> {
    use crate::scenario::{Metric, PlaceKind, Target};
    let mut out = Vec::new();
    for s in &sc.observed {
        let Target::Sum { metric, places } = &s.target else {
            continue;
        };
        let [place] = places.as_slice() else {
            continue;
        };
        let Some(p) = sc.places.get(*place as usize) else {
            continue;
        };
        if p.kind != PlaceKind::Crossing
            || !matches!(
                metric,
                Metric::Attempts | Metric::Intercepted | Metric::Claims
            )
        {
            continue;
        }
        for o in s.points.iter().filter(|o| o.is_month()) {
            out.push(CrossingObservation {
                series: s.name.clone(),
                description: s.description.clone(),
                metric: metric.name().into(),
                place: p.name.clone(),
                month: o.start.month().to_string(),
                value: o.value,
            });
        }
    }
    out
}

/// What `manifest.json` records about a run, a validation, a calibration or a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub northbound_version: &'static str,
    /// The git commit northbound was built from (`-modified` when tracked files differed
    /// from it), if it was built from a git checkout with git at hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub northbound_commit: Option<&'static str>,
    /// When the command started, ISO 8601 in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// The operating system and processor architecture (`linux x86_64`).
    pub os: String,
    /// The processors available to the command (which bounds `threads`).
    pub cpus: usize,
    /// `run`, `validate`, `calibrate`, `compare`, `forecast`, `sweep` or `merge`.
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
    /// A forecast's first month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forecast_from: Option<String>,
    /// calibrate: `nelder-mead` or `abc`; sweep and merge: the design.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// calibrate: why it stopped (`converged`, `budget` or, for abc, `generations`), and
    /// in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_because: Option<String>,
    /// calibrate and sweep: simulation runs (parameter sets x replicates) and their rate
    /// (sweep: the runs this process made, over its wall time; `agents` and `agent_days`
    /// count the same runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<u64>,
    /// sweep: the runs of points finished by an earlier, interrupted process and kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs_resumed: Option<u64>,
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
        Manifest::of(
            command,
            &sc.path.display().to_string(),
            &sc.name,
            &sha256_hex(&sc.source),
            seed,
            threads,
            (&sc.start.to_string(), &sc.end.to_string(), sc.scale),
        )
    }

    /// A manifest for `command` on the scenario named by its path, name and SHA-256, with
    /// its window and scale: for `merge`, which has the shards' records, not the scenario.
    pub fn of(
        command: &str,
        scenario: &str,
        name: &str,
        sha256: &str,
        seed: u64,
        threads: usize,
        (start, end, scale): (&str, &str, f64),
    ) -> Manifest {
        Manifest {
            northbound_version: env!("CARGO_PKG_VERSION"),
            northbound_commit: option_env!("NORTHBOUND_GIT_COMMIT"),
            started: None,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            cpus: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            command: command.into(),
            arguments: std::env::args().collect(),
            scenario: scenario.into(),
            scenario_name: name.into(),
            scenario_sha256: sha256.into(),
            seed,
            threads,
            start: start.into(),
            end: end.into(),
            scale,
            replicates: None,
            variants: None,
            forecast_from: None,
            method: None,
            stopped: None,
            stopped_because: None,
            runs: None,
            runs_resumed: None,
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

/// A text as a CSV cell that a spreadsheet shows as text instead of running it as a formula,
/// the way spreadsheet-aware exporters do (OWASP's advice): a text that starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return, and is not a number, gets a `'` in front; so
/// does one that starts with `'`, so that [`uncell`] reads every cell back as it was.
/// Names (places, series, variants) are the only texts a scenario puts in a CSV file.
pub fn cell(s: &str) -> std::borrow::Cow<'_, str> {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    if formula || s.starts_with('\'') {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The text a cell written by [`cell`] stands for.
pub fn uncell(s: &str) -> &str {
    s.strip_prefix('\'').unwrap_or(s)
}

/// Numbers as CSV text: integers without a decimal point, others as Rust prints them.
pub fn fmt_value(v: f64) -> String {
    let mut s = String::new();
    push_value(&mut s, v);
    s
}

/// [`fmt_value`] appended to `out`.
fn push_value(out: &mut String, v: f64) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = if v.fract() == 0.0 && v.abs() < 1e15 {
        write!(out, "{}", v as i64)
    } else {
        write!(out, "{v}")
    };
}

/// Writes rows with a header, period column named `period_name` (omitted when `None`).
pub fn write_rows(
    path: &Path,
    period_name: Option<&str>,
    rows: impl IntoIterator<Item = impl std::borrow::Borrow<Row>>,
) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| csv_err(path, e))?;
    let mut header = Vec::new();
    if let Some(p) = period_name {
        header.push(p);
    }
    header.extend(["place", "metric", "value"]);
    w.write_record(&header).map_err(|e| csv_err(path, e))?;
    for r in rows {
        let r = r.borrow();
        let v = fmt_value(r.value);
        let place = cell(&r.place);
        let rec: Vec<&str> = match period_name {
            Some(_) => vec![&r.period, &place, r.metric, &v],
            None => vec![&place, r.metric, &v],
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

/// `daily.csv`: a row per day, place and metric of the place's kind, with [`write_rows`]'
/// header and cells, written without building row objects (a date, a place name and a
/// value per row were three allocations, and the longest table of a run has 150,000 rows).
fn write_daily(path: &Path, sc: &Scenario, res: &Results) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| csv_err(path, e))?;
    w.write_record(["date", "place", "metric", "value"])
        .map_err(|e| csv_err(path, e))?;
    let places: Vec<std::borrow::Cow<str>> = sc.places.iter().map(|p| cell(&p.name)).collect();
    let mut value = String::new();
    for d in 0..res.days {
        let date = res.start.add_days(d as i32).to_string();
        for (i, p) in sc.places.iter().enumerate() {
            for &m in metrics_for(p.kind) {
                value.clear();
                push_value(&mut value, res.count(d, i, m) as f64 * sc.scale);
                w.write_record([date.as_str(), &places[i], m.name(), &value])
                    .map_err(|e| csv_err(path, e))?;
            }
        }
    }
    w.flush().map_err(|e| Error::write(path, e))
}

/// Writes every CSV of a run into `dir` (which exists and is empty), and the scenario with
/// its data files ([`bundle`]).
pub fn write_tables(dir: &Path, sc: &Scenario, res: &Results) -> Result<()> {
    bundle::write_scenario(dir, "scenario.toml", sc)?;
    write_csv_or_header(
        &dir.join("observed_crossings.csv"),
        &crossing_observations(sc),
        &CrossingObservation::HEADER,
    )?;
    let monthly = monthly_rows(sc, res);
    write_daily(&dir.join("daily.csv"), sc, res)?;
    write_rows(&dir.join("monthly.csv"), Some("month"), &monthly)?;
    write_rows(&dir.join("summary.csv"), None, summary_rows(sc, res))?;
    write_csv(&dir.join("places.csv"), &place_rows(sc))?;
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

/// The date a day index of a run stands for.
pub fn day_date(res: &Results, d: u32) -> Date {
    res.start.add_days(d as i32)
}

/// `v` rounded to `decimals` decimals, for a table people read (full precision stays in
/// the tables later calculations need).
pub fn round(v: f64, decimals: i32) -> f64 {
    if !v.is_finite() {
        return v;
    }
    let f = 10f64.powi(decimals);
    let r = (v * f).round() / f;
    // Rounding can leave a float that prints long (0.30000000000000004): parse it back
    // from its shortest decimal form at that precision. Adding 0 turns a -0 (from -0.04
    // at one decimal) into 0, which a reader would otherwise see as a sign.
    format!("{r:.prec$}", prec = decimals.max(0) as usize)
        .parse::<f64>()
        .unwrap_or(r)
        + 0.0
}

/// Writes rows as [`write_csv`] does, or only `header` when there are none, so that the
/// file still says what it would hold.
pub fn write_csv_or_header<T: Serialize>(path: &Path, rows: &[T], header: &[&str]) -> Result<()> {
    if !rows.is_empty() {
        return write_csv(path, rows);
    }
    std::fs::write(path, header.join(",") + "\n").map_err(|e| Error::write(path, e))
}

/// Writes serde rows as a CSV file with a header (an empty table gets no header), every
/// cell through [`cell`].
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let mut mem = csv::Writer::from_writer(Vec::new());
    for r in rows {
        mem.serialize(r).map_err(|e| csv_err(path, e))?;
    }
    let bytes = mem.into_inner().map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut w = csv::Writer::from_path(path).map_err(|e| csv_err(path, e))?;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_err(path, e))?;
        w.write_record(rec.iter().map(|c| cell(c).into_owned()))
            .map_err(|e| csv_err(path, e))?;
    }
    w.flush().map_err(|e| Error::write(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised_and_read_back() {
        for (text, written) in [
            ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("'quoted", "''quoted"),
            ("-1.5", "-1.5"),
            ("Roxham Road", "Roxham Road"),
            ("", ""),
        ] {
            assert_eq!(cell(text), written);
            assert_eq!(uncell(&cell(text)), text);
        }
    }

    #[test]
    fn numbers_are_rounded_to_their_shortest_form() {
        assert_eq!(round(1058.1000000000001, 1), 1058.1);
        assert_eq!(round(0.1 + 0.2, 4), 0.3);
        assert_eq!(round(0.123456, 4), 0.1235);
        assert_eq!(round(-2.25, 1), -2.3);
        assert!(round(-0.04, 1).is_sign_positive(), "no -0");
        assert_eq!(fmt_value(round(-0.04, 1)), "0");
        assert!(round(f64::NAN, 1).is_nan());
        assert_eq!(fmt_value(round(1058.1000000000001, 1)), "1058.1");
    }

    #[test]
    fn a_command_line_is_quoted_where_a_shell_needs_it() {
        let args = ["run", "a b.toml", "--fit=x[\"y\"]=1..2", "it's", ""].map(String::from);
        assert_eq!(
            command_line(args),
            r#"northbound run 'a b.toml' '--fit=x["y"]=1..2' 'it'\''s' ''"#
        );
    }
}
