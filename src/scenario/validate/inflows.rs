//! `[[inflows]]`: the nationalities (numbered in order of first mention), each inflow's
//! monthly rates (inline or from a CSV file) filled over the window and scaled to agents,
//! its shares and probabilities; and the cap on the number of agents the inflows create.

use super::places::{Places, waits};
use super::{Checker, Frame};
use crate::data;
use crate::scenario::Inflow;
use crate::scenario::raw::RawInflow;
use crate::util::date::Month;
use std::collections::BTreeMap;

/// The most agents a run may create (ids are 32-bit; 16 bytes each).
const MAX_AGENTS: f64 = 1e9;

/// The nationalities of all inflows, in order of first mention: a nationality's id is its
/// index here.
pub(super) fn nationalities(c: &mut Checker, raw: &[RawInflow]) -> Vec<String> {
    let mut nationalities: Vec<String> = Vec::new();
    for inf in raw {
        for n in inf.nationalities.keys() {
            if !nationalities.contains(n) {
                nationalities.push(n.clone());
            }
        }
    }
    if nationalities.len() > 255 {
        c.err("inflows", "more than 255 nationalities");
    }
    nationalities
}

/// The inflows whose entry is known, in file order.
pub(super) fn inflows(
    c: &mut Checker,
    raw: &[RawInflow],
    places: &Places,
    nationalities: &[String],
    frame: &Frame,
) -> Vec<Inflow> {
    let months: Vec<Month> = (frame.start.month().0..=frame.end.month().0)
        .map(Month)
        .collect();
    let mut inflows = Vec::new();
    if raw.is_empty() {
        c.err("inflows", "expected at least one [[inflows]] table");
    }
    for (i, inf) in raw.iter().enumerate() {
        if let Some(inflow) = inflow(c, i, inf, places, nationalities, &months, frame) {
            inflows.push(inflow);
        }
    }
    inflows
}

/// `inflows[i]`, if its entry is known.
fn inflow(
    c: &mut Checker,
    i: usize,
    inf: &RawInflow,
    places: &Places,
    nationalities: &[String],
    months: &[Month],
    frame: &Frame,
) -> Option<Inflow> {
    let f = |k: &str| format!("inflows[{i}].{k}");
    let entry = places.lookup(c, f("entry"), &inf.entry);
    if let Some(e) = entry
        && !waits(places.get(e).kind)
    {
        c.err(
            f("entry"),
            format!("\"{}\" is not an entry, city or staging place", inf.entry),
        );
    }
    let share = c.non_negative(f("share"), inf.share);
    let weights = weights(c, i, inf);
    let (rates, rates_ok) = rates(c, i, inf, frame);
    let mut monthly = Vec::new();
    let mut missing = Vec::new();
    for &m in months {
        match rates
            .get(&m)
            .copied()
            .or_else(|| fill(&rates, m, &inf.fill))
        {
            Some(r) => {
                let w = fill(&weights, m, "interpolate").unwrap_or(1.0);
                monthly.push((m, r * w * share / frame.scale))
            }
            None => missing.push(m.to_string()),
        }
    }
    check_fill(c, i, inf, rates_ok, &missing);
    let nats = shares(c, i, inf, nationalities);
    let p_family_in_canada = c.prob(f("p_family_in_canada"), inf.p_family_in_canada);
    let p_unaccompanied_minor = c.prob(f("p_unaccompanied_minor"), inf.p_unaccompanied_minor);
    let p_canadian_document = c.prob(f("p_canadian_document"), inf.p_canadian_document);
    let p_public_interest = c.prob(f("p_public_interest"), inf.p_public_interest);
    let p_visa = c.prob(f("p_visa"), inf.p_visa);
    if !["spread", "first_day"].contains(&inf.arrive.as_str()) {
        c.err(
            f("arrive"),
            format!("\"{}\": expected \"spread\" or \"first_day\"", inf.arrive),
        );
    }
    let entry = entry?;
    Some(Inflow {
        entry,
        monthly,
        nationalities: nats,
        p_family_in_canada,
        p_unaccompanied_minor,
        p_canadian_document,
        p_public_interest,
        p_visa,
        first_day: inf.arrive == "first_day",
    })
}

/// The rates `inflows[i]` gives, inline or from its file, by month (before `share` and
/// scale); and whether they could all be read.
fn rates(
    c: &mut Checker,
    i: usize,
    inf: &RawInflow,
    frame: &Frame,
) -> (BTreeMap<Month, f64>, bool) {
    let f = |k: &str| format!("inflows[{i}].{k}");
    let mut rates: BTreeMap<Month, f64> = BTreeMap::new();
    let mut rates_ok = true;
    for (k, v) in &inf.monthly {
        match Month::parse(k) {
            Some(m) => {
                c.non_negative(f(&format!("monthly.\"{k}\"")), *v);
                rates.insert(m, *v);
            }
            None => c.err(
                f("monthly"),
                format!("key \"{k}\": expected a month as \"YYYY-MM\""),
            ),
        }
    }
    match (&inf.file, &inf.column) {
        (Some(file), Some(column)) => {
            if !inf.monthly.is_empty() {
                c.err(f("file"), "give either `monthly` or `file`, not both");
            }
            let p = frame.base.join(file);
            // A file already read (by the scenario this one derives from) is read again
            // from its bytes, even if it has gone from the disk since.
            let missing = if c.has_data(&p) {
                None
            } else if !p.exists() && !data::is_file(&p) {
                Some(format!(
                    "no such file: {} (paths are relative to the scenario file)",
                    p.display()
                ))
            } else if !data::is_file(&p) {
                Some(format!("{} is not a regular file", p.display()))
            } else {
                None
            };
            let read = match missing {
                Some(why) => Err(why),
                None => c
                    .data(&p)
                    .and_then(|b| data::read_monthly(&p, &b, column, &[]))
                    .map_err(|e| e.to_string()),
            };
            match read {
                Ok(series) => rates.extend(series.into_iter().map(|(m, v)| (m, v.value))),
                Err(e) => {
                    c.err(f("file"), e);
                    rates_ok = false;
                }
            }
        }
        (Some(_), None) => c.err(f("column"), "a `file` needs the `column` to read"),
        (None, Some(_)) => c.err(f("column"), "`column` goes with `file`"),
        (None, None) if inf.monthly.is_empty() => c.err(
            f("monthly"),
            "give the rates as `monthly = { \"YYYY-MM\" = n, ... }` or with `file` and `column`",
        ),
        (None, None) => {}
    }
    (rates, rates_ok)
}

/// `inflows[i].weights`: monthly multipliers of the rate, by month.
fn weights(c: &mut Checker, i: usize, inf: &RawInflow) -> BTreeMap<Month, f64> {
    let mut w = BTreeMap::new();
    for (k, v) in &inf.weights {
        let field = format!("inflows[{i}].weights.\"{k}\"");
        match Month::parse(k) {
            Some(m) => {
                w.insert(m, c.non_negative(field, *v));
            }
            None => c.err(field, "expected a month as \"YYYY-MM\""),
        }
    }
    w
}

/// The rate of a month the rates do not give, by the `fill` rule (none for "error" or an
/// unknown rule).
fn fill(rates: &BTreeMap<Month, f64>, m: Month, fill: &str) -> Option<f64> {
    match fill {
        "zero" => Some(0.0),
        "last" => rates
            .range(..m)
            .next_back()
            .map(|(_, r)| *r)
            .or_else(|| rates.values().next().copied()),
        "interpolate" => {
            let before = rates.range(..m).next_back();
            let after = rates.range(m..).next();
            match (before, after) {
                (Some((a, ra)), Some((b, rb))) => {
                    let w = f64::from(m.0 - a.0) / f64::from(b.0 - a.0);
                    Some(ra + w * (rb - ra))
                }
                (Some((_, r)), None) | (None, Some((_, r))) => Some(*r),
                (None, None) => None,
            }
        }
        _ => None,
    }
}

/// `inflows[i].fill`, and the months of the window it leaves without a rate.
fn check_fill(c: &mut Checker, i: usize, inf: &RawInflow, rates_ok: bool, missing: &[String]) {
    if !["error", "zero", "last", "interpolate"].contains(&inf.fill.as_str()) {
        c.err(
            format!("inflows[{i}].fill"),
            format!(
                "\"{}\": expected \"error\", \"zero\", \"last\" or \"interpolate\"",
                inf.fill
            ),
        );
    } else if rates_ok && !missing.is_empty() && (!inf.monthly.is_empty() || inf.file.is_some()) {
        let shown = if missing.len() > 6 {
            format!(
                "{}, ... {} ({} months)",
                missing[..3].join(", "),
                missing[missing.len() - 1],
                missing.len()
            )
        } else {
            missing.join(", ")
        };
        c.err(format!("inflows[{i}].monthly"), format!("no rate for {shown} of the window; give them, or set `fill` to \"zero\", \"last\" or \"interpolate\""));
    }
}

/// `inflows[i].nationalities`: `(nationality id, share)`, the shares summing to 1.
fn shares(c: &mut Checker, i: usize, inf: &RawInflow, nationalities: &[String]) -> Vec<(u8, f64)> {
    let mut nats = Vec::new();
    let mut total = 0.0;
    for (n, s) in &inf.nationalities {
        let s = c.prob(format!("inflows[{i}].nationalities.\"{n}\""), *s);
        total += s;
        let id = nationalities.iter().position(|x| x == n).unwrap_or(0) as u8;
        nats.push((id, s));
    }
    if (total - 1.0).abs() > 1e-6 {
        c.err(
            format!("inflows[{i}].nationalities"),
            format!("shares sum to {total:.4}: expected 1"),
        );
    }
    nats
}

/// Agent ids are 32-bit and every agent takes memory: refuse what cannot run.
pub(super) fn agent_cap(c: &mut Checker, inflows: &[Inflow]) {
    let expected: f64 = inflows
        .iter()
        .flat_map(|i| i.monthly.iter().map(|m| m.1))
        .sum();
    if expected > MAX_AGENTS {
        c.err(
            "scenario.scale",
            format!("the inflows give about {expected:.3e} agents, more than {MAX_AGENTS:.0e}: raise `scale` (people per agent) or lower the rates"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::places::places;
    use super::super::testing::{PLACES, checker, frame, raw};
    use super::*;
    use crate::scenario::raw::RawPlace;

    const INFLOWS: &str = r#"
        [[inflows]]
        entry = "Border"
        monthly = { "2023-01" = 100, "2023-03" = 300 }
        fill = "interpolate"
        share = 0.5
        nationalities = { "Haiti" = 0.75, "Chile" = 0.25 }
        p_family_in_canada = 0.2
        p_unaccompanied_minor = 0.0
        p_canadian_document = 0.0

        [[inflows]]
        entry = "Roxham Road"
        monthly = { "2023-01" = 10, "2023-02" = -1 }
        nationalities = { "Turkey" = 0.5, "Haiti" = 0.6 }
        p_family_in_canada = 0.2
        p_unaccompanied_minor = 0.0
        p_canadian_document = 0.0
        arrive = "first_day"
    "#;

    #[test]
    fn rates_are_filled_over_the_window_and_shares_checked() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        let raw_inflows: Vec<RawInflow> = raw("inflows", INFLOWS);
        let nationalities = nationalities(&mut c, &raw_inflows);
        assert_eq!(nationalities, ["Chile", "Haiti", "Turkey"]);
        let inflows = inflows(&mut c, &raw_inflows, &places, &nationalities, &frame());
        // 100, 200 (interpolated), 300 and 300 from then on; half of them, at 2 per agent.
        let rates: Vec<f64> = inflows[0].monthly.iter().map(|m| m.1).collect();
        assert_eq!(rates, [25.0, 50.0, 75.0, 75.0, 75.0, 75.0]);
        assert_eq!(inflows[0].nationalities, [(0, 0.25), (1, 0.75)]);
        assert!(inflows[1].first_day);
        assert_eq!(
            c.problems,
            [
                "inflows[1].entry: \"Roxham Road\" is not an entry, city or staging place",
                "inflows[1].monthly.\"2023-02\": -1: expected a number that is not negative",
                "inflows[1].monthly: no rate for 2023-03, 2023-04, 2023-05, 2023-06 of the window; give them, or set `fill` to \"zero\", \"last\" or \"interpolate\"",
                "inflows[1].nationalities: shares sum to 1.1000: expected 1",
            ]
        );
    }

    #[test]
    fn more_agents_than_the_cap_are_refused() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        // 8e12 people in March, half of them on this corridor, 2 per agent: 2e12 agents.
        let text = INFLOWS
            .replace("\"2023-03\" = 300", "\"2023-03\" = 8e12")
            .replace("fill = \"interpolate\"", "fill = \"zero\"");
        let raw_inflows: Vec<RawInflow> = raw("inflows", &text);
        let inflows = inflows(
            &mut c,
            &raw_inflows[..1],
            &places,
            &["Haiti".into()],
            &frame(),
        );
        agent_cap(&mut c, &inflows);
        assert_eq!(
            c.problems,
            [
                "scenario.scale: the inflows give about 2.000e12 agents, more than 1e9: raise `scale` (people per agent) or lower the rates"
            ]
        );
    }
}
