//! Monthly series from CSV files: the observed statistics the project ships, or a
//! researcher's own rates.
//!
//! The observed files have gaps, duplicate rows from different releases and a verification
//! tag on each row. [`read_monthly`] keeps one value per month: the row with the strongest
//! tag (`verbatim_official` over `verbatim_secondary` over `derived` over
//! `memory_unverified`), then the row whose `notes` say it supersedes or revises another,
//! then the first in file order. `GAP` rows and empty cells are skipped: a missing month is
//! simply absent from the result.

use crate::date::Month;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

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

fn names_revision(notes: &str) -> bool {
    let n = notes.to_ascii_lowercase();
    n.contains("supersede") || n.contains("revised") || n.contains("revision")
}

/// Reads `column` by `month` (YYYY-MM) from a CSV file with a header row. Only rows whose
/// `filters` columns equal the given values are read.
pub fn read_monthly(
    path: &Path,
    column: &str,
    filters: &[(&str, &str)],
) -> Result<BTreeMap<Month, MonthValue>> {
    let data_err = |line: u64, message: String| Error::Data {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(source) => Error::Read {
                path: path.to_path_buf(),
                source,
            },
            other => data_err(1, format!("{other:?}")),
        })?;
    let headers = rdr
        .headers()
        .map_err(|e| data_err(1, format!("cannot read the header row: {e}")))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let month_col = find("month")
        .ok_or_else(|| data_err(1, "expected a `month` column in the header row".to_string()))?;
    let value_col = find(column).ok_or_else(|| {
        data_err(
            1,
            format!(
                "no column `{column}`; the header has: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let mut filter_cols = Vec::new();
    for (name, want) in filters {
        let c =
            find(name).ok_or_else(|| data_err(1, format!("no column `{name}` to filter on")))?;
        filter_cols.push((c, *want));
    }
    let tag_col = find("verification");
    let notes_col = find("notes");

    let mut out: BTreeMap<Month, (MonthValue, u8, bool)> = BTreeMap::new();
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
        if tag == "GAP" {
            continue;
        }
        let raw = rec.get(value_col).unwrap_or("").trim();
        if raw.is_empty() {
            continue;
        }
        let m = rec.get(month_col).unwrap_or("").trim();
        let month = Month::parse(m)
            .ok_or_else(|| data_err(line, format!("month `{m}`: expected YYYY-MM")))?;
        let value: f64 = raw
            .parse()
            .map_err(|_| data_err(line, format!("{column} `{raw}`: expected a number")))?;
        if !value.is_finite() || value < 0.0 {
            return Err(data_err(
                line,
                format!("{column} {raw}: expected a number that is not negative"),
            ));
        }
        let rank = tag_rank(tag);
        let revision = notes_col
            .and_then(|c| rec.get(c))
            .is_some_and(names_revision);
        let candidate = MonthValue {
            value,
            verification: tag.to_string(),
            line,
        };
        match out.get(&month) {
            Some((_, r, rev)) if (*r, *rev) >= (rank, revision) => {}
            _ => {
                out.insert(month, (candidate, rank, revision));
            }
        }
    }
    Ok(out.into_iter().map(|(m, (v, _, _))| (m, v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
             2022-03,,GAP,\n\
             2022-04,7,derived,\n",
        );
        let m = read_monthly(f.path(), "n", &[]).unwrap();
        let v: Vec<_> = m.iter().map(|(k, v)| (k.to_string(), v.value)).collect();
        assert_eq!(
            v,
            [
                ("2022-01".into(), 12.0),
                ("2022-02".into(), 6.0),
                ("2022-04".into(), 7.0)
            ]
        );
        assert_eq!(m[&Month::parse("2022-04").unwrap()].verification, "derived");
    }

    #[test]
    fn filters_and_errors_name_the_line() {
        let f = file("month,province,count\n2022-01,QC,3\n2022-01,BC,4\n2022-1,QC,5\n");
        let e = read_monthly(f.path(), "count", &[("province", "QC")]).unwrap_err();
        assert!(e.to_string().contains(":4: month `2022-1`"), "{e}");
        let e = read_monthly(f.path(), "nope", &[]).unwrap_err();
        assert!(e.to_string().contains("no column `nope`"), "{e}");
        let f = file("month,count\n2022-01,x\n");
        let e = read_monthly(f.path(), "count", &[]).unwrap_err();
        assert!(
            e.to_string().contains(":2: count `x`: expected a number"),
            "{e}"
        );
    }

    #[test]
    fn reads_the_shipped_southwest_series() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/data/observed/cbp_southwest_encounters_monthly.csv");
        let m = read_monthly(&p, "total_sw_encounters", &[]).unwrap();
        // Two official releases for 2022-10; the first (CBP MPP) is kept.
        assert_eq!(m[&Month::parse("2022-10").unwrap()].value, 231_538.0);
        assert_eq!(m[&Month::parse("2023-09").unwrap()].value, 269_740.0);
    }
}
