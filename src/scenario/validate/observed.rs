//! `[[observed]]`: each observed series read from its CSV file and cut to the window, with
//! the simulated metric and places it is compared with; or the ratio of two such series,
//! period by period.

use super::{Checker, Frame};
use crate::data::{self, Observation};
use crate::scenario::raw::RawObserved;
use crate::scenario::{Metric, Observed, Place, PlaceId, Target, kind_name, metrics_for};

/// The series in file order, except those without a `file` or `ratio_of`.
pub(super) fn observed(
    c: &mut Checker,
    raw: &[RawObserved],
    places: &[Place],
    frame: &Frame,
) -> Vec<Observed> {
    let mut out: Vec<Observed> = Vec::new();
    let mut ratios = Vec::new();
    for (i, o) in raw.iter().enumerate() {
        if out.iter().any(|x| x.name == o.name) || raw[..i].iter().any(|x| x.name == o.name) {
            c.err(
                format!("observed[{i}].name"),
                format!("\"{}\" is used by an earlier series", o.name),
            );
        }
        if let Some(pair) = &o.ratio_of {
            if let Some(pair) = ratio(c, i, o, pair) {
                ratios.push((i, out.len(), pair));
            }
            out.push(Observed {
                name: o.name.clone(),
                description: o.description.clone(),
                target: Target::Ratio(0, 0),
                points: Vec::new(),
            });
        } else if let Some(series) = series(c, i, o, places, frame) {
            out.push(series);
        }
    }
    for (i, k, pair) in ratios {
        resolve_ratio(c, &mut out, (i, k), &pair);
    }
    out
}

/// `observed[i].ratio_of`: the two names, if it gives two; its target is resolved once all
/// series are read.
fn ratio(c: &mut Checker, i: usize, o: &RawObserved, pair: &[String]) -> Option<Vec<String>> {
    let field = format!("observed[{i}].ratio_of");
    if o.file.is_some() || o.metric.is_some() || !o.places.is_empty() {
        c.err(
            &field,
            "a ratio takes no `file`, `metric` or `places` of its own",
        );
    }
    if pair.len() != 2 {
        c.err(
            &field,
            format!(
                "expected two series names, [numerator, denominator]; got {}",
                pair.len()
            ),
        );
        return None;
    }
    Some(pair.to_vec())
}

/// `observed[i]` read from its file, if it names one.
fn series(
    c: &mut Checker,
    i: usize,
    o: &RawObserved,
    places: &[Place],
    frame: &Frame,
) -> Option<Observed> {
    let f = |k: &str| format!("observed[{i}].{k}");
    let Some(file) = &o.file else {
        c.err(
            f("file"),
            "expected `file` (a CSV of observations) or `ratio_of`",
        );
        return None;
    };
    let metric = metric(c, i, o);
    let selected = selection(c, i, o, places);
    if let Some(m) = metric {
        for &id in &selected {
            let p = &places[id as usize];
            if !metrics_for(p.kind).contains(&m) {
                c.err(
                    f("metric"),
                    format!(
                        "\"{}\" is not counted at \"{}\" (a {} place)",
                        m.name(),
                        p.name,
                        kind_name(p.kind)
                    ),
                );
            }
        }
    }
    let points = points(c, i, o, file, frame);
    Some(Observed {
        name: o.name.clone(),
        description: o.description.clone(),
        target: Target::Sum {
            metric: metric.unwrap_or(Metric::Arrivals),
            places: selected,
        },
        points,
    })
}

/// `observed[i].metric`, by name.
fn metric(c: &mut Checker, i: usize, o: &RawObserved) -> Option<Metric> {
    let field = format!("observed[{i}].metric");
    match &o.metric {
        Some(m) => match Metric::ALL.iter().find(|x| x.name() == m) {
            Some(x) => Some(*x),
            None => {
                c.err(
                    field,
                    format!(
                        "unknown metric \"{m}\": expected one of {}",
                        Metric::ALL.map(|x| x.name()).join(", ")
                    ),
                );
                None
            }
        },
        None => {
            c.err(
                field,
                "expected the simulated `metric` to compare with, e.g. \"intercepted\"",
            );
            None
        }
    }
}

/// The places of `observed[i]`: by name in `places`, or those the selectors `kind`,
/// `crossing` and `region` match.
fn selection(c: &mut Checker, i: usize, o: &RawObserved, places: &[Place]) -> Vec<PlaceId> {
    let field = format!("observed[{i}].places");
    if !o.places.is_empty() {
        if o.kind.is_some() || o.crossing.is_some() || o.region.is_some() {
            c.err(
                &field,
                "give `places` or the selectors `kind`, `crossing`, `region`, not both",
            );
        }
        o.places
            .iter()
            .enumerate()
            .filter_map(|(j, n)| {
                let id = places
                    .iter()
                    .position(|p| &p.name == n)
                    .map(|x| x as PlaceId);
                if id.is_none() {
                    c.err(format!("{field}[{j}]"), format!("unknown place \"{n}\""));
                }
                id
            })
            .collect()
    } else if o.kind.is_none() && o.crossing.is_none() && o.region.is_none() {
        c.err(
            &field,
            "select the places: `places = [...]`, or `kind`, `crossing` and `region`",
        );
        Vec::new()
    } else {
        let ids: Vec<PlaceId> = places
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                o.kind.is_none_or(|k| p.kind == k)
                    && o.crossing.is_none_or(|k| p.crossing == Some(k))
                    && o.region.as_ref().is_none_or(|r| &p.region == r)
            })
            .map(|(j, _)| j as PlaceId)
            .collect();
        if ids.is_empty() {
            c.err(&field, "the selectors match no place");
        }
        ids
    }
}

/// The observations of `observed[i]` in `file`, aggregated and cut to the window.
fn points(
    c: &mut Checker,
    i: usize,
    o: &RawObserved,
    file: &str,
    frame: &Frame,
) -> Vec<Observation> {
    let f = |k: &str| format!("observed[{i}].{k}");
    let column = o.column.clone().unwrap_or_else(|| "count".into());
    let filters: Vec<(&str, &str)> = o
        .filter
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let path = frame.base.join(file);
    let all = if !c.has_data(&path) && !data::exists(&path) {
        c.err(
            f("file"),
            format!(
                "no such file: {} (paths are relative to the scenario file)",
                path.display()
            ),
        );
        Vec::new()
    } else {
        match c
            .data(&path)
            .and_then(|b| data::read_observations(&path, &b, &column, &filters))
        {
            Ok(v) => v,
            Err(e) => {
                c.err(f("file"), e);
                Vec::new()
            }
        }
    };
    let kept: Vec<Observation> = match o.aggregate.as_str() {
        "month" => all.into_iter().filter(|x| x.is_month()).collect(),
        "year" => data::yearly(&all),
        "period" => all,
        other => {
            c.err(
                f("aggregate"),
                format!("\"{other}\": expected \"month\", \"year\" or \"period\""),
            );
            Vec::new()
        }
    };
    let (start, end) = (frame.start, frame.end);
    let points: Vec<_> = kept
        .into_iter()
        .filter(|x| x.start >= start && x.end <= end)
        .collect();
    if points.is_empty() && (c.has_data(&path) || data::is_file(&path)) {
        c.err(
            f("file"),
            format!("no observation of this series lies inside the window {start}..{end}"),
        );
    }
    points
}

/// The target and points of the ratio `observed[i]`, which is `out[k]` (`out` leaves out the
/// series without `file` or `ratio_of`): the periods both series of `pair` have.
fn resolve_ratio(c: &mut Checker, out: &mut [Observed], (i, k): (usize, usize), pair: &[String]) {
    let find = |n: &str| {
        out.iter()
            .position(|x| x.name == n && !matches!(x.target, Target::Ratio(..)))
    };
    let (Some(a), Some(b)) = (find(&pair[0]), find(&pair[1])) else {
        c.err(
            format!("observed[{i}].ratio_of"),
            format!(
                "expected the names of two series read from files; got \"{}\" and \"{}\"",
                pair[0], pair[1]
            ),
        );
        return;
    };
    let points: Vec<_> = out[a]
        .points
        .iter()
        .filter_map(|x| {
            let y = out[b]
                .points
                .iter()
                .find(|y| (y.start, y.end) == (x.start, x.end))?;
            (y.value > 0.0).then(|| Observation {
                value: x.value / y.value,
                verification: if data::weaker(&x.verification, &y.verification) {
                    x.verification.clone()
                } else {
                    y.verification.clone()
                },
                ..x.clone()
            })
        })
        .collect();
    if points.is_empty() {
        c.err(
            format!("observed[{i}].ratio_of"),
            format!("\"{}\" and \"{}\" share no period", pair[0], pair[1]),
        );
    }
    out[k].target = Target::Ratio(a, b);
    out[k].points = points;
}

#[cfg(test)]
mod tests {
    use super::super::places::places;
    use super::super::testing::{PLACES, checker, frame, raw};
    use super::*;
    use crate::scenario::raw::RawPlace;

    const OBSERVED: &str = r#"
        [[observed]]
        name = "qc"
        file = "data/observed/rcmp_interceptions_monthly.csv"
        filter = { province = "QC" }
        metric = "intercepted"
        crossing = "irregular"

        [[observed]]
        name = "canada"
        file = "data/observed/rcmp_interceptions_monthly.csv"
        filter = { province = "CANADA" }
        metric = "intercepted"
        places = ["Roxham Road"]

        [[observed]]
        name = "share"
        ratio_of = ["qc", "canada"]
    "#;

    #[test]
    fn series_are_read_and_cut_to_the_window_and_ratios_resolved() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        let raw_observed: Vec<RawObserved> = raw("observed", OBSERVED);
        let out = observed(&mut c, &raw_observed, &places.list, &frame());
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(
            out[0].target,
            Target::Sum {
                metric: Metric::Intercepted,
                places: vec![2]
            }
        );
        assert_eq!(out[0].points[0].value, 4875.0, "QC, January 2023");
        assert!(out[0].points.iter().all(|x| x.start >= frame().start));
        assert_eq!(out[2].target, Target::Ratio(0, 1));
        assert_eq!(out[2].points[0].value, 4875.0 / 4994.0);
    }

    #[test]
    fn problems_name_the_series_field() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        let text = OBSERVED
            .replace(
                "metric = \"intercepted\"\n        places",
                "metric = \"resettled\"\n        places",
            )
            .replace("[\"qc\", \"canada\"]", "[\"qc\", \"share\"]");
        let raw_observed: Vec<RawObserved> = raw("observed", &text);
        observed(&mut c, &raw_observed, &places.list, &frame());
        assert_eq!(
            c.problems,
            [
                "observed[1].metric: \"resettled\" is not counted at \"Roxham Road\" (a crossing place)",
                "observed[2].ratio_of: expected the names of two series read from files; got \"qc\" and \"share\"",
            ]
        );
    }

    #[test]
    fn a_ratio_after_a_series_without_a_file_is_resolved_without_a_panic() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        let text = format!(
            "[[observed]]\nname = \"nothing\"\nmetric = \"intercepted\"\ncrossing = \"irregular\"\n{OBSERVED}"
        );
        let raw_observed: Vec<RawObserved> = raw("observed", &text);
        let out = observed(&mut c, &raw_observed, &places.list, &frame());
        assert_eq!(
            c.problems,
            ["observed[0].file: expected `file` (a CSV of observations) or `ratio_of`"]
        );
        let share = out.iter().find(|o| o.name == "share").unwrap();
        assert_eq!(share.target, Target::Ratio(0, 1));
        assert_eq!(share.points[0].value, 4875.0 / 4994.0);
    }
}
