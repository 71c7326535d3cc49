//! `[sweep]`: the parameter sweep `northbound sweep` runs when its options do not say
//! otherwise. Each varied path is tried on a copy of the scenario's text, as a variant's
//! are, so that a misspelt one is refused when the file loads.

use super::Checker;
use crate::scenario::raw::RawSweep;
use crate::scenario::{SweepTable, paths};

const DESIGNS: [&str; 4] = ["grid", "lhs", "sobol", "morris"];

/// `source` is the scenario's text, on which each path is tried.
pub(super) fn sweep(c: &mut Checker, raw: &RawSweep, source: &[u8]) -> SweepTable {
    let mut out = SweepTable::default();
    if let Some(d) = &raw.design {
        if DESIGNS.contains(&d.as_str()) {
            out.design = Some(d.clone());
        } else {
            c.err(
                "sweep.design",
                format!("\"{d}\": expected \"grid\", \"lhs\", \"sobol\" or \"morris\""),
            );
        }
    }
    let mut count = |field: &str, v: Option<i64>, max: i64| {
        v.and_then(|n| {
            if (1..=max).contains(&n) {
                Some(n as usize)
            } else {
                c.err(
                    format!("sweep.{field}"),
                    format!("{n}: expected a whole number from 1 to {max}"),
                );
                None
            }
        })
    };
    out.points = count("points", raw.points, 10_000_000);
    out.levels = count("levels", raw.levels, 1_000);
    out.replicates = count("replicates", raw.replicates, 100_000).map(|n| n as u32);
    let doc: Option<toml_edit::DocumentMut> = String::from_utf8_lossy(source).parse().ok();
    // The parameters in the file's order (the raw table is sorted by key).
    let mut order: Vec<String> = doc
        .as_ref()
        .and_then(|d| {
            d.get("sweep")?
                .get("vary")?
                .as_table_like()
                .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        })
        .unwrap_or_default();
    order.retain(|k| raw.vary.contains_key(k));
    if order.len() != raw.vary.len() {
        order = raw.vary.keys().cloned().collect();
    }
    for (path, value) in order.iter().filter_map(|k| raw.vary.get_key_value(k)) {
        let field = format!("sweep.vary.\"{path}\"");
        let rhs = match value {
            toml::Value::String(s) => {
                let ok = s.split_once("..").is_some_and(|(lo, hi)| {
                    matches!(
                        (lo.trim().parse::<f64>(), hi.trim().parse::<f64>()),
                        (Ok(lo), Ok(hi)) if lo.is_finite() && hi.is_finite() && lo < hi
                    )
                });
                if !ok {
                    c.err(&field, format!("\"{s}\": expected a range \"LO..HI\" with LO < HI, or a list of values [V1, V2, ...]"));
                    continue;
                }
                s.clone()
            }
            toml::Value::Array(values) => {
                let mut texts = Vec::new();
                for v in values {
                    match v {
                        toml::Value::Integer(i) => texts.push(i.to_string()),
                        toml::Value::Float(x) if x.is_finite() => texts.push(x.to_string()),
                        toml::Value::Boolean(b) => texts.push(b.to_string()),
                        other => {
                            c.err(
                                &field,
                                format!("{other}: expected numbers, or true and false"),
                            );
                        }
                    }
                }
                if texts.len() < 2 {
                    c.err(&field, "a list needs two values or more");
                    continue;
                }
                texts.join(",")
            }
            other => {
                c.err(
                    &field,
                    format!("{other}: expected a range \"LO..HI\" or a list [V1, V2, ...]"),
                );
                continue;
            }
        };
        for p in paths::split_tied(path) {
            if let Some(doc) = &doc {
                let mut trial = doc.clone();
                if paths::get(doc, p).is_ok() {
                    continue;
                }
                // A key the file does not have yet must be one the file may have.
                let added = paths::set(&mut trial, p, toml_edit::Value::from(0.0)).and_then(|()| {
                    toml::from_str::<crate::scenario::raw::RawScenario>(&trial.to_string())
                        .map(|_| ())
                        .map_err(|e| format!("parameter path `{p}`: {}", e.message()))
                });
                if let Err(e) = added {
                    c.err(&field, e);
                }
            }
        }
        out.vary.push(format!("{path}={rhs}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{checker, raw};
    use super::*;

    const SOURCE: &str = "[policies.stca_extension]\nwindow_days = 14\n\n[[places]]\nname = \"Roxham Road\"\ndetection = 0.9\n\n[sweep]\nvary = { \"policies.stca_extension.window_days\" = [7, 14, 30], 'places[\"Roxham Road\"].detection' = \"0.8..0.99\" }\n";

    #[test]
    fn the_table_gives_the_options_of_the_command() {
        let mut c = checker();
        let text = r#"
            [sweep]
            design = "sobol"
            points = 32
            replicates = 2
            vary = { "policies.stca_extension.window_days" = [7, 14, 30], 'places["Roxham Road"].detection' = "0.8..0.99" }
        "#;
        let s = sweep(&mut c, &raw::<RawSweep>("sweep", text), SOURCE.as_bytes());
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(s.design.as_deref(), Some("sobol"));
        assert_eq!((s.points, s.replicates), (Some(32), Some(2)));
        assert_eq!(
            s.vary,
            [
                "policies.stca_extension.window_days=7,14,30",
                "places[\"Roxham Road\"].detection=0.8..0.99"
            ]
        );
    }

    #[test]
    fn each_problem_is_named_by_its_path() {
        let mut c = checker();
        let text = r#"
            [sweep]
            design = "random"
            points = 0
            vary = { "policies.stca_extenshun.window_days" = [7, 14], "a.b" = "2..1", "c.d" = [1], "e.f" = 3 }
        "#;
        sweep(&mut c, &raw::<RawSweep>("sweep", text), SOURCE.as_bytes());
        let all = c.problems.join("\n");
        for want in [
            "sweep.design: \"random\": expected",
            "sweep.points: 0: expected a whole number from 1",
            "sweep.vary.\"policies.stca_extenshun.window_days\": parameter path",
            "sweep.vary.\"a.b\": \"2..1\": expected a range",
            "sweep.vary.\"c.d\": a list needs two values or more",
            "sweep.vary.\"e.f\": 3: expected a range",
        ] {
            assert!(all.contains(want), "{want}\n{all}");
        }
    }
}
