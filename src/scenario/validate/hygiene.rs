//! Checks that keep a scenario from being silently reinterpreted, across sections: names
//! (empty, padded with spaces, holding control characters, too long, or equal to another in
//! a different Unicode form), counts of days (the engine counts days in 16 bits), travel
//! times in whole days, routes that add nothing (a self-loop, a second route between the
//! same places), variant names that the 2 x 2 design takes, and observed series whose
//! figures would share a file name.

use super::Checker;
use crate::scenario::DESIGN_VARIANTS;
use crate::scenario::raw::{RawDuration, RawScenario};
use crate::util::names::file_stem;
use std::collections::BTreeMap;
use unicode_normalization::UnicodeNormalization;

/// The most days any count of days may give: the longest window (the engine keeps days of
/// the window in 16 bits).
pub const MAX_DAYS: u32 = 60_000;

/// The longest travel time, in days; draws of a lognormal are held within 1 and this.
pub const MAX_TRAVEL_DAYS: f64 = 3650.0;

/// The longest name, in bytes of UTF-8 (names become folder and file names).
pub const MAX_NAME_BYTES: usize = 100;

pub(super) fn hygiene(c: &mut Checker, raw: &RawScenario) {
    names(c, raw);
    day_counts(c, raw);
    travel_times(c, raw);
    routes(c, raw);
    variant_names(c, raw);
    overlay_files(c, raw);
}

/// A name's problem, if it has one: empty, padded, a control character, too long.
fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("expected a name, not an empty text".into());
    }
    let shown = name.escape_debug();
    if let Some(ch) = name.chars().find(|c| c.is_control()) {
        return Some(format!(
            "\"{shown}\" holds a control character (U+{:04X})",
            u32::from(ch)
        ));
    }
    if name.trim() != name {
        return Some(format!("\"{shown}\" has spaces at its start or end"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "{} bytes long: expected at most {MAX_NAME_BYTES}",
            name.len()
        ));
    }
    None
}

fn name(c: &mut Checker, field: String, name: &str) {
    if let Some(p) = name_problem(name) {
        c.err(field, p);
    }
}

/// Every name a scenario gives: the scenario's (whose other rules `scale_and_name` checks),
/// places (also in Unicode normal form C, so that two that look the same are refused),
/// nationalities, observed series and variants.
fn names(c: &mut Checker, raw: &RawScenario) {
    if !raw.scenario.name.trim().is_empty() {
        name(c, "scenario.name".into(), &raw.scenario.name);
    }
    let mut normal: BTreeMap<String, (usize, &str)> = BTreeMap::new();
    for (i, p) in raw.places.iter().enumerate() {
        name(c, format!("places[{i}].name"), &p.name);
        let nfc: String = p.name.nfc().collect();
        match normal.get(&nfc) {
            Some(&(k, first)) if first != p.name => c.err(
                format!("places[{i}].name"),
                format!(
                    "\"{}\" is the name of places[{k}] in another Unicode form",
                    p.name.escape_debug()
                ),
            ),
            Some(_) => {}
            None => {
                normal.insert(nfc, (i, &p.name));
            }
        }
    }
    for (i, inf) in raw.inflows.iter().enumerate() {
        for n in inf.nationalities.keys() {
            if let Some(p) = name_problem(n) {
                c.err(format!("inflows[{i}].nationalities"), p);
            }
        }
    }
    for (i, o) in raw.observed.iter().enumerate() {
        name(c, format!("observed[{i}].name"), &o.name);
    }
    for (i, v) in raw.variant.iter().enumerate() {
        name(c, format!("variant[{i}].name"), &v.name);
    }
}

/// Counts of days: at most [`MAX_DAYS`], so that they fit the engine's days.
fn day_counts(c: &mut Checker, raw: &RawScenario) {
    let b = &raw.behaviour;
    let mut counts: Vec<(String, u32)> = vec![
        ("behaviour.wait_cap_days".into(), b.wait_cap_days),
        ("behaviour.work_permit_days".into(), b.work_permit_days),
        ("behaviour.beliefs.lag_days".into(), b.beliefs.lag_days),
    ];
    if let Some(d) = b.beliefs.news_lag_days {
        counts.push(("behaviour.beliefs.news_lag_days".into(), d));
    }
    let p = &raw.policies;
    if let Some(e) = &p.stca_extension {
        counts.push(("policies.stca_extension.window_days".into(), e.window_days));
    }
    if let Some(q) = &p.resettlement_quota {
        counts.push((
            "policies.resettlement_quota.processing_days".into(),
            q.processing_days,
        ));
    }
    if let Some(s) = &p.shelter_limit {
        for (i, st) in s.steps.iter().enumerate() {
            counts.push((
                format!("policies.shelter_limit.steps[{i}].max_stay_days"),
                st.max_stay_days,
            ));
        }
    }
    for (field, v) in counts {
        if v > MAX_DAYS {
            c.err(
                field,
                format!("{v}: expected at most {MAX_DAYS} days (the longest window)"),
            );
        }
    }
}

/// Travel times: whole days from 1 to [`MAX_TRAVEL_DAYS`] for a fixed time, bounds and
/// medians in that range otherwise. (Negative and missing values are the duration check's.)
fn travel_times(c: &mut Checker, raw: &RawScenario) {
    for (i, r) in raw.routes.iter().enumerate() {
        travel(c, &format!("routes[{i}].travel_days"), &r.travel_days);
    }
    if let Some(b) = &raw.policies.busing {
        travel(c, "policies.busing.travel_days", &b.travel_days);
    }
}

fn travel(c: &mut Checker, field: &str, d: &RawDuration) {
    let in_range = |x: f64| (1.0..=MAX_TRAVEL_DAYS).contains(&x);
    let checked = |x: &Option<f64>| x.filter(|v| v.is_finite() && *v >= 0.0);
    match d.dist.as_str() {
        "fixed" => {
            if let Some(v) = checked(&d.days)
                && !(in_range(v) && v.fract() == 0.0)
            {
                c.err(
                    format!("{field}.days"),
                    format!(
                        "{v}: expected a whole number of days from 1 to {MAX_TRAVEL_DAYS} (a journey takes at least a day)"
                    ),
                );
            }
        }
        "uniform" | "lognormal" => {
            let bounds = if d.dist == "uniform" {
                [("min", d.min), ("max", d.max)]
            } else {
                [("median", d.median), ("median", None)]
            };
            for (key, v) in bounds {
                if let Some(v) = checked(&v)
                    && !in_range(v)
                {
                    c.err(
                        format!("{field}.{key}"),
                        format!(
                            "{v}: expected a number of days from 1 to {MAX_TRAVEL_DAYS} (a journey takes at least a day)"
                        ),
                    );
                }
            }
            if let (Some(m), Some(s)) = (checked(&d.median), checked(&d.sigma))
                && m * (s * s / 2.0).exp() > MAX_TRAVEL_DAYS
            {
                c.err(
                    format!("{field}.sigma"),
                    format!(
                        "{s}: the mean travel time, median x exp(sigma^2 / 2), is above {MAX_TRAVEL_DAYS} days"
                    ),
                );
            }
        }
        _ => {}
    }
}

/// Routes: none from a place to itself, and no second route between the same two places
/// open on the same days to the same people (only the cheaper of the two could be taken).
fn routes(c: &mut Checker, raw: &RawScenario) {
    let mut seen: BTreeMap<(&str, &str, bool, String, String), usize> = BTreeMap::new();
    let date =
        |d: &Option<toml::value::Datetime>| d.as_ref().map_or(String::new(), |d| d.to_string());
    for (i, r) in raw.routes.iter().enumerate() {
        if r.from == r.to {
            c.err(
                format!("routes[{i}]"),
                format!(
                    "leads from \"{}\" back to itself: expected a route to another place",
                    r.from
                ),
            );
            continue;
        }
        let key = (
            r.from.as_str(),
            r.to.as_str(),
            r.requires_visa,
            date(&r.opens),
            date(&r.closes),
        );
        match seen.get(&key) {
            Some(&k) => c.err(
                format!("routes[{i}]"),
                format!(
                    "repeats the route from \"{}\" to \"{}\" of routes[{k}]: a person takes only the cheapest of the two, so one of them is never used; keep one, or tell them apart by `requires_visa`, `opens` or `closes`",
                    r.from, r.to
                ),
            ),
            None => {
                seen.insert(key, i);
            }
        }
    }
}

/// Variant names: not one of the 2 x 2 design's.
fn variant_names(c: &mut Checker, raw: &RawScenario) {
    for (i, v) in raw.variant.iter().enumerate() {
        if DESIGN_VARIANTS.contains(&v.name.as_str()) {
            c.err(
                format!("variant[{i}].name"),
                format!(
                    "\"{}\" is a variant of the default 2 x 2 design ({}): choose another name",
                    v.name,
                    DESIGN_VARIANTS.join(", ")
                ),
            );
        }
    }
}

/// Observed series: no two whose overlay figures would have the same file name.
fn overlay_files(c: &mut Checker, raw: &RawScenario) {
    let mut stems: BTreeMap<String, usize> = BTreeMap::new();
    for (i, o) in raw.observed.iter().enumerate() {
        let stem = file_stem(&o.name);
        match stems.get(&stem) {
            Some(&k) if raw.observed[k].name != o.name => c.err(
                format!("observed[{i}].name"),
                format!(
                    "\"{}\" and observed[{k}] \"{}\" would both be drawn as overlay-{stem}.png: give names that differ in their letters, digits, `-` or `_`",
                    o.name, raw.observed[k].name
                ),
            ),
            Some(_) => {}
            None => {
                stems.insert(stem, i);
            }
        }
    }
}
