//! Reading a result folder back: CSV files into rows with their line numbers (a bad cell is an
//! error naming the file, the line and the column), the places of `places.csv` and the policy
//! dates of `policies.csv`, which every kind of folder marks on its time axes.

use crate::output::uncell;
use crate::present::chart::{Marker, date_x, month_x};
use crate::util::date::Date;
use crate::util::error::{Error, Result};
use crate::util::files::{Capped, DATA_LIMIT, open_regular};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// A CSV reader of a result folder's file: a regular file, within the cap on data files.
fn reader(path: &Path) -> Result<csv::Reader<Capped<std::fs::File>>> {
    let file = open_regular(path, DATA_LIMIT).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    Ok(csv::Reader::from_reader(file))
}

/// The header of a CSV file.
pub fn header(path: &Path) -> Result<Vec<String>> {
    let mut r = reader(path)?;
    Ok(r.headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(|h| uncell(h).to_string())
        .collect())
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    if let csv::ErrorKind::Io(io) = e.kind()
        && line == 0
    {
        return Error::Output {
            path: path.to_path_buf(),
            message: format!("cannot read: {io}"),
        };
    }
    Error::Data {
        path: path.to_path_buf(),
        line,
        message: e.to_string(),
    }
}

/// Reads a CSV file with a header into rows, each with its line number. An empty file
/// (an empty table is written without a header) has no rows.
pub fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<(u64, T)>> {
    let mut r = reader(path)?;
    let headers = r.headers().map_err(|e| csv_error(path, e))?.clone();
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = rec.position().map_or(0, |p| p.line());
        // Names were written through `output::cell`: read them back as they were.
        let rec: csv::StringRecord = rec.iter().map(uncell).collect();
        let row: T = rec.deserialize(Some(&headers)).map_err(|e| {
            let message = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => match err.field() {
                    Some(i) => format!(
                        "column \"{}\": {}",
                        headers.get(i as usize).unwrap_or("?"),
                        err.kind()
                    ),
                    None => err.kind().to_string(),
                },
                _ => e.to_string(),
            };
            bad(path, line, message)
        })?;
        out.push((line, row));
    }
    Ok(out)
}

/// The rows of [`read_csv`] without their line numbers.
pub fn strip<T>(rows: Vec<(u64, T)>) -> Vec<T> {
    rows.into_iter().map(|(_, r)| r).collect()
}

/// A problem with a value of a data file, at a line.
pub fn bad(path: &Path, line: u64, message: String) -> Error {
    Error::Data {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// A `month` cell (YYYY-MM) of a data file, at a line.
pub fn parse_month(path: &Path, line: u64, s: &str) -> Result<crate::util::date::Month> {
    crate::util::date::Month::parse(s).ok_or_else(|| {
        bad(
            path,
            line,
            format!("month: \"{s}\" is not a month (YYYY-MM)"),
        )
    })
}

pub fn parse_date(path: &Path, line: u64, what: &str, s: &str) -> Result<Date> {
    Date::parse(s).ok_or_else(|| {
        bad(
            path,
            line,
            format!("{what}: \"{s}\" is not a date (YYYY-MM-DD)"),
        )
    })
}

/// A row of `places.csv`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlaceRecord {
    pub place: String,
    pub kind: String,
    pub crossing: String,
    pub country: String,
    pub province: String,
    /// Whether the STCA applies at a port (folders written before the column: none).
    #[serde(default)]
    pub stca: Option<bool>,
    /// The crossing a comparison tracks (folders written before the column: none marked).
    #[serde(default)]
    pub focus: Option<bool>,
}

/// What kind of crossing point a place is. `places.csv` says `irregular` or `port`, and for
/// a port whether the STCA applies (a land port) or not (an airport); in a folder written
/// before that column, a port whose name says "airport" is an airport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossingClass {
    Irregular,
    LandPort,
    Airport,
}

impl PlaceRecord {
    pub fn class(&self) -> Option<CrossingClass> {
        match self.crossing.as_str() {
            "irregular" => Some(CrossingClass::Irregular),
            "port" if self.stca == Some(false) => Some(CrossingClass::Airport),
            "port" if self.stca.is_none() && self.place.to_lowercase().contains("airport") => {
                Some(CrossingClass::Airport)
            }
            "port" => Some(CrossingClass::LandPort),
            _ => None,
        }
    }

    /// The place with its kind of crossing, for a legend or a panel title.
    pub fn label(&self) -> String {
        match self.class() {
            Some(CrossingClass::Irregular) => format!("{} (irregular crossing)", self.place),
            Some(CrossingClass::LandPort) => format!("{} (land port)", self.place),
            Some(CrossingClass::Airport) => format!("{} (airport)", self.place),
            None => self.place.clone(),
        }
    }
}

pub fn read_places(dir: &Path) -> Result<Vec<PlaceRecord>> {
    Ok(strip(read_csv(&dir.join("places.csv"))?))
}

/// A policy with its dates, from a `policies.csv`: a comparison's names the variant, a run's
/// or a validation's has no variant column (its policies are the scenario's, as run).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDates {
    pub variant: String,
    pub policy: String,
    pub enabled: bool,
    pub start: Date,
    pub end: Option<Date>,
}

#[derive(Debug, Deserialize)]
struct PolicyLine {
    #[serde(default)]
    variant: String,
    policy: String,
    enabled: bool,
    start: String,
    #[serde(default)]
    end: String,
}

pub fn read_policies(path: &Path) -> Result<Vec<PolicyDates>> {
    let mut out = Vec::new();
    for (line, p) in read_csv::<PolicyLine>(path)? {
        let start = parse_date(path, line, "start", &p.start)?;
        let end = if p.end.is_empty() {
            None
        } else {
            Some(parse_date(path, line, "end", &p.end)?)
        };
        out.push(PolicyDates {
            variant: p.variant,
            policy: p.policy,
            enabled: p.enabled,
            start,
            end,
        });
    }
    Ok(out)
}

/// The folder's `policies.csv` if it has one: folders written before it existed have none,
/// and their figures are drawn without markers.
pub fn read_policies_if_any(dir: &Path) -> Result<Vec<PolicyDates>> {
    let path = dir.join("policies.csv");
    if path.is_file() {
        read_policies(&path)
    } else {
        Ok(Vec::new())
    }
}

/// A policy's name for a legend or a marker.
pub fn policy_label(policy: &str) -> String {
    match policy {
        "stca_ports" => "STCA at ports".into(),
        "stca_extension" => "STCA extension".into(),
        "resettlement_quota" => "resettlement quota".into(),
        "direct_back" => "direct-back".into(),
        "busing" => "Texas busing".into(),
        "shelter_limit" => "NYC shelter limit".into(),
        other => other.replace('_', " "),
    }
}

/// Markers at the dates on which the enabled `policies` start or end, inside the x range
/// `(lo, hi)` of a time axis.
pub fn markers<'a>(
    policies: impl IntoIterator<Item = &'a PolicyDates>,
    (lo, hi): (f64, f64),
) -> Vec<Marker> {
    let mut out = Vec::new();
    for p in policies.into_iter().filter(|p| p.enabled) {
        let label = policy_label(&p.policy);
        for (date, label) in [
            (Some(p.start), label.clone()),
            (p.end, format!("{label} ends")),
        ] {
            if let Some(x) = date.map(date_x).filter(|x| *x > lo && *x < hi) {
                out.push(Marker { x, label });
            }
        }
    }
    out
}

/// The rows of a `validation_months.csv` or `overlay_months.csv` in `dir`, each with its line
/// and its month; none if the folder has no such file (written before it existed).
pub fn read_month_rows(
    dir: &Path,
    file: &str,
) -> Result<
    Vec<(
        u64,
        crate::util::date::Month,
        crate::experiment::validation::MonthRow,
    )>,
> {
    let path = dir.join(file);
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (line, r) in read_csv::<crate::experiment::validation::MonthRow>(&path)? {
        let m = parse_month(&path, line, &r.month)?;
        out.push((line, m, r));
    }
    Ok(out)
}

/// The folder's `observed_crossings.csv` (observations of series over one crossing), if it
/// has one.
pub fn read_crossing_observations(dir: &Path) -> Result<Vec<crate::output::CrossingObservation>> {
    let path = dir.join("observed_crossings.csv");
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let rows = read_csv::<crate::output::CrossingObservation>(&path)?;
    for (line, r) in &rows {
        parse_month(&path, *line, &r.month)?;
    }
    Ok(strip(rows))
}

/// The observations at `place`, as a legend label (each series' description and what it
/// counts) and points on a time axis; none if there are none.
pub fn observed_at(
    rows: &[crate::output::CrossingObservation],
    place: &str,
) -> Option<(String, Vec<(f64, f64)>)> {
    let mine: Vec<&crate::output::CrossingObservation> =
        rows.iter().filter(|r| r.place == place).collect();
    if mine.is_empty() {
        return None;
    }
    let mut series: Vec<String> = Vec::new();
    for r in &mine {
        let what = if r.description.is_empty() {
            format!("{} ({})", r.series, r.metric)
        } else {
            format!("{} ({})", r.description, r.metric)
        };
        if !series.contains(&what) {
            series.push(what);
        }
    }
    let points = mine
        .iter()
        .filter_map(|r| crate::util::date::Month::parse(&r.month).map(|m| (month_x(m), r.value)))
        .collect();
    Some((format!("observed: {}", series.join("; ")), points))
}
