//! Monthly series from CSV files: the observed statistics the project ships, or a
//! researcher's own rates.
//!
//! The observed files have gaps, duplicate rows from different releases and a verification
//! tag on each row. [`read_monthly`] keeps one value per month: the row with the strongest
//! tag (`verbatim_official` over `verbatim_secondary` over `derived` over
//! `memory_unverified`), then by what the `notes` say of the release (a row noted as
//! "revised" over an ordinary one over one noted as "superseded"), then the first in file
//! order. `GAP` rows and empty cells are skipped: a missing month is
//! simply absent from the result.

use crate::util::date::{Date, Month};
use crate::util::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The folder name that stands for the scenarios built into the binary.
pub const BUNDLED: &str = "(bundled)";

/// Files built into the binary, by their path under `scenarios/`: the default scenario, the
/// minimal one and the observed data, so that `northbound compare` runs from any folder and
/// `northbound init` can write them out.
static BUNDLED_FILES: &[(&str, &str)] = &[
    (
        "corridor-2017-2024.toml",
        include_str!("../../scenarios/corridor-2017-2024.toml"),
    ),
    ("minimal.toml", include_str!("../../scenarios/minimal.toml")),
    (
        "data/observed/SOURCES.md",
        include_str!("../../scenarios/data/observed/SOURCES.md"),
    ),
    (
        "data/observed/asylum_claims_canada.csv",
        include_str!("../../scenarios/data/observed/asylum_claims_canada.csv"),
    ),
    (
        "data/observed/cbp_fy_totals.csv",
        include_str!("../../scenarios/data/observed/cbp_fy_totals.csv"),
    ),
    (
        "data/observed/cbp_southwest_encounters_monthly.csv",
        include_str!("../../scenarios/data/observed/cbp_southwest_encounters_monthly.csv"),
    ),
    (
        "data/observed/cbp_sw_encounters_by_country_monthly.csv",
        include_str!("../../scenarios/data/observed/cbp_sw_encounters_by_country_monthly.csv"),
    ),
    (
        "data/observed/model_parameters.csv",
        include_str!("../../scenarios/data/observed/model_parameters.csv"),
    ),
    (
        "data/observed/nationality_mix.csv",
        include_str!("../../scenarios/data/observed/nationality_mix.csv"),
    ),
    (
        "data/observed/nyc_asylum_seekers.csv",
        include_str!("../../scenarios/data/observed/nyc_asylum_seekers.csv"),
    ),
    (
        "data/observed/policy_timeline.csv",
        include_str!("../../scenarios/data/observed/policy_timeline.csv"),
    ),
    (
        "data/observed/rcmp_interceptions_monthly.csv",
        include_str!("../../scenarios/data/observed/rcmp_interceptions_monthly.csv"),
    ),
    (
        "data/observed/rcmp_interceptions_period_totals.csv",
        include_str!("../../scenarios/data/observed/rcmp_interceptions_period_totals.csv"),
    ),
    (
        "data/observed/roxham_irregular_nationality.csv",
        include_str!("../../scenarios/data/observed/roxham_irregular_nationality.csv"),
    ),
    (
        "data/observed/stca_and_covid_effects.csv",
        include_str!("../../scenarios/data/observed/stca_and_covid_effects.csv"),
    ),
    (
        "data/observed/swanton_sector.csv",
        include_str!("../../scenarios/data/observed/swanton_sector.csv"),
    ),
    (
        "data/observed/texas_busing.csv",
        include_str!("../../scenarios/data/observed/texas_busing.csv"),
    ),
];

/// The text of a bundled file, for a path under [`BUNDLED`].
pub fn bundled(path: &Path) -> Option<&'static str> {
    let rest = path.strip_prefix(BUNDLED).ok()?;
    let key = rest.to_string_lossy().replace('\\', "/");
    BUNDLED_FILES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
}

/// The names of the scenarios built into the binary (`corridor-2017-2024`, `minimal`).
pub fn bundled_scenarios() -> Vec<&'static str> {
    BUNDLED_FILES
        .iter()
        .filter_map(|(k, _)| k.strip_suffix(".toml"))
        .collect()
}

/// The path (under [`BUNDLED`]) and the text of a bundled scenario, by its name, with or
/// without `.toml`.
pub fn bundled_scenario(name: &str) -> Option<(std::path::PathBuf, &'static str)> {
    let file = format!("{}.toml", name.strip_suffix(".toml").unwrap_or(name));
    let path = Path::new(BUNDLED).join(&file);
    bundled(&path).map(|text| (path, text))
}

/// Whether a data file exists (on disk, or bundled).
pub fn is_file(path: &Path) -> bool {
    bundled(path).is_some() || path.is_file()
}

/// Whether a path names anything (a file, bundled or on disk, or something else).
pub fn exists(path: &Path) -> bool {
    bundled(path).is_some() || path.exists()
}

/// The bytes of a data file: bundled, or read from disk (a regular file, up to
/// [`DATA_LIMIT`](crate::util::files::DATA_LIMIT)). A scenario keeps what it read
/// ([`Scenario::data`](crate::scenario::Scenario::data)), so that its result folders copy
/// and its variants read the same bytes.
pub fn read_bytes(path: &Path) -> Result<Arc<[u8]>> {
    match bundled(path) {
        Some(text) => Ok(Arc::from(text.as_bytes())),
        None => crate::util::files::read_regular(path, crate::util::files::DATA_LIMIT)
            .map(Arc::from)
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            }),
    }
}

/// One kept value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthValue {
    pub value: f64,
    pub verification: String,
    pub line: u64,
}

fn tag_rank(tag: &str) -> u8 {
    match tag {
        "verbatim_official" => 4,
        "verbatim_secondary" => 3,
        "derived" => 2,
        "memory_unverified" => 1,
        _ => 0,
    }
}

/// Whether tag `a` is weaker than tag `b`.
pub fn weaker(a: &str, b: &str) -> bool {
    tag_rank(a) < tag_rank(b)
}

/// What a row's notes say of its release: +1 "revised" (it replaces another), -1
/// "superseded" (another replaces it), 0 neither.
fn revision(notes: &str) -> i8 {
    let n = notes.to_ascii_lowercase();
    if n.contains("superseded") {
        -1
    } else if n.contains("revised") {
        1
    } else {
        0
    }
}

/// Reads `column` by `month` (YYYY-MM) from a CSV file with a header row (its `bytes`, as
/// [`read_bytes`] gave them; `path` names it in errors), keeping only whole-month rows.
/// Only rows whose `filters` columns equal the given values are read.
pub fn read_monthly(
    path: &Path,
    bytes: &[u8],
    column: &str,
    filters: &[(&str, &str)],
) -> Result<BTreeMap<Month, MonthValue>> {
    Ok(read_observations(path, bytes, column, filters)?
        .into_iter()
        .filter(Observation::is_month)
        .map(|o| {
            (
                o.start.month(),
                MonthValue {
                    value: o.value,
                    verification: o.verification,
                    line: o.line,
                },
            )
        })
        .collect())
}

/// One observed value over a span of days (a month, a year, or whatever a row covers).
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub start: Date,
    pub end: Date,
    pub value: f64,
    pub verification: String,
    /// The line of the CSV file it came from (the first, for sums of months).
    pub line: u64,
}

impl Observation {
    /// `2022-01` for a calendar month, `2017` for a calendar year, else `start..end`.
    pub fn label(&self) -> String {
        let (ys, ms, ds) = self.start.ymd();
        let (ye, me, _) = self.end.ymd();
        let next = self.end.add_days(1).ymd();
        let month_end = next.2 == 1;
        if ds == 1 && month_end && ys == ye && ms == me {
            format!("{ys:04}-{ms:02}")
        } else if ds == 1 && ms == 1 && me == 12 && month_end && ys == ye {
            format!("{ys:04}")
        } else if ds == 1 && month_end {
            format!("{ys:04}-{ms:02}..{ye:04}-{me:02}")
        } else {
            format!("{}..{}", self.start, self.end)
        }
    }

    /// The first and last days of a period written by [`Observation::label`].
    pub fn parse_label(label: &str) -> Option<(Date, Date)> {
        if let Some((a, b)) = label.split_once("..") {
            return Some((parse_bound(a, false)?, parse_bound(b, true)?));
        }
        if let Ok(y) = label.parse::<i32>()
            && label.len() == 4
        {
            return Some((Date::from_ymd(y, 1, 1)?, Date::from_ymd(y, 12, 31)?));
        }
        Some((parse_bound(label, false)?, parse_bound(label, true)?))
    }

    pub fn is_month(&self) -> bool {
        self.start.month() == self.end.month()
            && self.start.ymd().2 == 1
            && self.end.add_days(1).ymd().2 == 1
    }

    pub fn is_year(&self) -> bool {
        let (ys, ms, ds) = self.start.ymd();
        let (ye, me, de) = self.end.ymd();
        ys == ye && (ms, ds) == (1, 1) && (me, de) == (12, 31)
    }
}

/// A period bound: `YYYY-MM` (the first or last day of the month) or `YYYY-MM-DD`.
fn parse_bound(s: &str, end: bool) -> Option<Date> {
    if let Some(d) = Date::parse(s) {
        return Some(d);
    }
    let m = Month::parse(s)?;
    Some(if end {
        m.first_day().add_days(m.days() as i32 - 1)
    } else {
        m.first_day()
    })
}

/// Reads `column` from a CSV file whose rows are months (a `month` column) or periods
/// (`period_start` and `period_end` columns), from its `bytes` as [`read_bytes`] gave them
/// (`path` names it in errors), keeping rows whose `filters` columns have the given values.
/// Duplicates of one period are resolved as [`read_monthly`] does.
pub fn read_observations(
    path: &Path,
    bytes: &[u8],
    column: &str,
    filters: &[(&str, &str)],
) -> Result<Vec<Observation>> {
    let data_err = |line: u64, message: String| Error::Data {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut rdr = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = rdr
        .headers()
        .map_err(|e| data_err(1, format!("cannot read the header row: {e}")))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let (bounds, names, expect) = match (find("month"), find("period_start"), find("period_end")) {
        (Some(m), _, _) => ((m, m), ("month", "month"), "YYYY-MM"),
        (None, Some(a), Some(b)) => (
            (a, b),
            ("period_start", "period_end"),
            "YYYY-MM or YYYY-MM-DD",
        ),
        _ => {
            return Err(data_err(
                1,
                "expected a `month` column, or `period_start` and `period_end` columns".into(),
            ));
        }
    };
    // Errors name the columns the scenario gave, never what the file holds: a scenario
    // may point at any file its reader can read.
    let value_col = find(column)
        .ok_or_else(|| data_err(1, format!("no column `{column}` in the header row")))?;
    let mut filter_cols = Vec::new();
    for (name, want) in filters {
        let c = find(name).ok_or_else(|| {
            data_err(
                1,
                format!("no column `{name}` to filter on in the header row"),
            )
        })?;
        filter_cols.push((c, *want));
    }
    let tag_col = find("verification");
    let notes_col = find("notes");
    let mut out: BTreeMap<(Date, Date), (Observation, u8, i8)> = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            data_err(line, format!("malformed row: {e}"))
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        if filter_cols
            .iter()
            .any(|(c, want)| rec.get(*c) != Some(*want))
        {
            continue;
        }
        let tag = tag_col.and_then(|c| rec.get(c)).unwrap_or("").trim();
        let raw = rec.get(value_col).unwrap_or("").trim();
        if tag == "GAP" || raw.is_empty() {
            continue;
        }
        let (a, b) = (
            rec.get(bounds.0).unwrap_or("").trim(),
            rec.get(bounds.1).unwrap_or("").trim(),
        );
        let start = parse_bound(a, false)
            .ok_or_else(|| data_err(line, format!("{}: expected {expect}", names.0)))?;
        let end = parse_bound(b, true)
            .ok_or_else(|| data_err(line, format!("{}: expected {expect}", names.1)))?;
        if end < start {
            return Err(data_err(line, "the period ends before it starts".into()));
        }
        let value: f64 = raw
            .parse()
            .map_err(|_| data_err(line, format!("{column}: expected a number")))?;
        if !value.is_finite() || value < 0.0 {
            return Err(data_err(
                line,
                format!("{column}: expected a number that is not negative"),
            ));
        }
        let rank = tag_rank(tag);
        let revision = notes_col.and_then(|c| rec.get(c)).map_or(0, revision);
        let obs = Observation {
            start,
            end,
            value,
            verification: tag.to_string(),
            line,
        };
        match out.get(&(start, end)) {
            Some((_, r, rev)) if (*r, *rev) >= (rank, revision) => {}
            _ => {
                out.insert((start, end), (obs, rank, revision));
            }
        }
    }
    Ok(out.into_values().map(|(o, _, _)| o).collect())
}

/// Calendar-year totals: rows that cover a whole year, else the sum of a year's twelve
/// monthly rows when all twelve are there (tagged with the weakest of their tags).
pub fn yearly(obs: &[Observation]) -> Vec<Observation> {
    let mut years: BTreeMap<i32, Observation> = BTreeMap::new();
    for o in obs.iter().filter(|o| o.is_year()) {
        years.insert(o.start.year(), o.clone());
    }
    let mut months: BTreeMap<i32, Vec<&Observation>> = BTreeMap::new();
    for o in obs.iter().filter(|o| o.is_month()) {
        months.entry(o.start.year()).or_default().push(o);
    }
    for (y, ms) in months {
        if ms.len() == 12 && !years.contains_key(&y) {
            let weakest = ms
                .iter()
                .min_by_key(|o| tag_rank(&o.verification))
                .map_or(String::new(), |o| o.verification.clone());
            years.insert(
                y,
                Observation {
                    start: ms[0].start,
                    end: ms[11].end,
                    value: ms.iter().map(|o| o.value).sum(),
                    verification: weakest,
                    line: ms[0].line,
                },
            );
        }
    }
    years.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_period_label_reads_back_as_its_dates() {
        for (start, end, label) in [
            ("2022-01-01", "2022-01-31", "2022-01"),
            ("2017-01-01", "2017-12-31", "2017"),
            ("2022-01-01", "2022-09-30", "2022-01..2022-09"),
            ("2021-11-21", "2022-09-30", "2021-11-21..2022-09-30"),
        ] {
            let o = Observation {
                start: Date::parse(start).unwrap(),
                end: Date::parse(end).unwrap(),
                value: 1.0,
                verification: String::new(),
                line: 1,
            };
            assert_eq!(o.label(), label);
            assert_eq!(Observation::parse_label(label), Some((o.start, o.end)));
        }
        for bad in ["", "22", "2022-13", "2022-01..", "Q1 2022"] {
            assert_eq!(Observation::parse_label(bad), None, "{bad}");
        }
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn prefers_official_then_revision_and_skips_gaps() {
        let f = file(
            "month,n,verification,notes\n\
             2022-01,10,verbatim_secondary,\n\
             2022-01,12,verbatim_official,\n\
             2022-02,5,verbatim_official,\n\
             2022-02,6,verbatim_official,revised figure\n\
             2022-05,8,verbatim_official,early figure; superseded by 9\n\
             2022-05,9,verbatim_official,\n\
             2022-03,,GAP,\n\
             2022-04,7,derived,\n",
        );
        let m = read_monthly(f.path(), &read_bytes(f.path()).unwrap(), "n", &[]).unwrap();
        let v: Vec<_> = m.iter().map(|(k, v)| (k.to_string(), v.value)).collect();
        assert_eq!(
            v,
            [
                ("2022-01".into(), 12.0),
                ("2022-02".into(), 6.0),
                ("2022-04".into(), 7.0),
                ("2022-05".into(), 9.0)
            ]
        );
        assert_eq!(m[&Month::parse("2022-04").unwrap()].verification, "derived");
    }

    #[test]
    fn filters_and_errors_name_the_line() {
        let f = file("month,province,count\n2022-01,QC,3\n2022-01,BC,4\n2022-1,QC,5\n");
        let e = read_monthly(
            f.path(),
            &read_bytes(f.path()).unwrap(),
            "count",
            &[("province", "QC")],
        )
        .unwrap_err();
        assert!(e.to_string().contains(":4: month: expected YYYY-MM"), "{e}");
        let e = read_monthly(f.path(), &read_bytes(f.path()).unwrap(), "nope", &[]).unwrap_err();
        assert!(e.to_string().contains("no column `nope`"), "{e}");
        let f = file("month,count\n2022-01,x\n");
        let e = read_monthly(f.path(), &read_bytes(f.path()).unwrap(), "count", &[]).unwrap_err();
        assert!(
            e.to_string().contains(":2: count: expected a number"),
            "{e}"
        );
    }

    #[test]
    fn reads_the_shipped_southwest_series() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/data/observed/cbp_southwest_encounters_monthly.csv");
        let m = read_monthly(&p, &read_bytes(&p).unwrap(), "total_sw_encounters", &[]).unwrap();
        // Two official releases for 2022-10; the first (CBP MPP) is kept.
        assert_eq!(m[&Month::parse("2022-10").unwrap()].value, 231_538.0);
        assert_eq!(m[&Month::parse("2023-09").unwrap()].value, 269_740.0);
    }

    #[test]
    fn reads_months_and_periods_and_sums_years() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/data/observed");
        let qc = read_observations(
            &root.join("rcmp_interceptions_monthly.csv"),
            &read_bytes(&root.join("rcmp_interceptions_monthly.csv")).unwrap(),
            "count",
            &[("province", "QC")],
        )
        .unwrap();
        let y2018 = yearly(&qc)
            .into_iter()
            .find(|o| o.label() == "2018")
            .unwrap();
        // The twelve official 2018 months add up to the official annual 18,518.
        assert_eq!(y2018.value, 18_518.0);
        let totals = read_observations(
            &root.join("rcmp_interceptions_period_totals.csv"),
            &read_bytes(&root.join("rcmp_interceptions_period_totals.csv")).unwrap(),
            "count",
            &[("geography", "QC")],
        )
        .unwrap();
        let y2017 = yearly(&totals)
            .into_iter()
            .find(|o| o.label() == "2017")
            .unwrap();
        assert_eq!(y2017.value, 18_836.0);
        let short = totals
            .iter()
            .find(|o| o.label() == "2020-03-16..2020-03-19")
            .unwrap();
        assert_eq!(short.value, 165.0);
        // Feb 2017 has two releases (432 and 452), both secondary: the first is kept.
        let feb = qc.iter().find(|o| o.label() == "2017-02").unwrap();
        assert_eq!(feb.value, 432.0);
    }

    #[test]
    fn refuses_a_file_without_period_columns() {
        let f = file("date,count\n2022-01-01,3\n");
        let e =
            read_observations(f.path(), &read_bytes(f.path()).unwrap(), "count", &[]).unwrap_err();
        assert!(
            e.to_string().contains(":1: expected a `month` column"),
            "{e}"
        );
        let f = file("period_start,period_end,count\n2022-03,2022-01,3\n");
        let e =
            read_observations(f.path(), &read_bytes(f.path()).unwrap(), "count", &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains(":2: the period ends before it starts"),
            "{e}"
        );
    }
}
