//! `[policies.*]`: each policy table present becomes a [`Policy`], in a fixed order
//! (STCA at ports, its extension, the resettlement quota, direct backs, busing, the shelter
//! limit), with its dates checked against the window and its names resolved.

use super::places::Places;
use super::{Checker, Frame};
use crate::scenario::policy::{Applicants, Busing, Policy, Quota, Rule};
use crate::scenario::raw::{
    RawBusing, RawDirectBack, RawPolicies, RawQuota, RawShelterLimit, RawStcaExtension,
    RawStcaPorts,
};
use crate::scenario::{CrossingKind, PlaceKind};
use crate::util::date::Date;

pub(super) fn policies(
    c: &mut Checker,
    raw: &RawPolicies,
    places: &Places,
    nationalities: &[String],
    frame: &Frame,
) -> Vec<Policy> {
    let mut policies = Vec::new();
    if let Some(p) = &raw.stca_ports {
        policies.push(stca_ports(c, p, frame.end));
    }
    if let Some(p) = &raw.stca_extension {
        policies.push(stca_extension(c, p, places, frame.end));
    }
    if let Some(q) = &raw.resettlement_quota {
        policies.push(resettlement_quota(c, q, places, nationalities, frame));
    }
    if let Some(p) = &raw.direct_back {
        policies.push(direct_back(c, p, frame.end));
    }
    if let Some(p) = &raw.busing {
        policies.push(busing(c, p, places, frame));
    }
    if let Some(p) = &raw.shelter_limit {
        policies.extend(shelter_limit(c, p, frame.end));
    }
    policies
}

/// A policy's start must fall before the window's `end`.
fn in_window(c: &mut Checker, field: &str, d: Date, end: Date) {
    if d > end {
        c.err(
            field,
            format!(
                "{d} is after the window's end {end}; to leave a policy out, set enabled = false"
            ),
        );
    }
}

fn stca_ports(c: &mut Checker, p: &RawStcaPorts, end: Date) -> Policy {
    let s = c.date("policies.stca_ports.start", &p.start);
    in_window(c, "policies.stca_ports.start", s, end);
    Policy {
        enabled: p.enabled,
        rule: Rule::StcaPorts { start: s },
    }
}

fn stca_extension(c: &mut Checker, p: &RawStcaExtension, places: &Places, end: Date) -> Policy {
    let s = c.date("policies.stca_extension.start", &p.start);
    in_window(c, "policies.stca_extension.start", s, end);
    if p.window_days == 0 {
        c.err(
            "policies.stca_extension.window_days",
            "0: expected at least 1 day",
        );
    }
    let mut det = vec![0.0; places.list.len()];
    for (name, v) in &p.daily_detection {
        let field = format!("policies.stca_extension.daily_detection.\"{name}\"");
        let v = c.prob(&field, *v);
        if let Some(id) = places.lookup(c, field.clone(), name) {
            if places.get(id).crossing != Some(CrossingKind::Irregular) {
                c.err(&field, format!("\"{name}\" is not an irregular crossing"));
            }
            det[id as usize] = v;
        }
    }
    for (i, pl) in places.list.iter().enumerate() {
        if pl.crossing == Some(CrossingKind::Irregular) && !p.daily_detection.contains_key(&pl.name)
        {
            c.err(
                "policies.stca_extension.daily_detection",
                format!(
                    "no value for the irregular crossing \"{}\" (places[{i}])",
                    pl.name
                ),
            );
        }
    }
    Policy {
        enabled: p.enabled,
        rule: Rule::StcaExtension {
            start: s,
            window_days: p.window_days,
            daily_detection: det,
        },
    }
}

fn resettlement_quota(
    c: &mut Checker,
    q: &RawQuota,
    places: &Places,
    nationalities: &[String],
    frame: &Frame,
) -> Policy {
    let f = |k: &str| format!("policies.resettlement_quota.{k}");
    let s = c.date(f("start"), &q.start);
    in_window(c, &f("start"), s, frame.end);
    let opens = c.date(f("intake_opens"), &q.intake_opens);
    let closes = c.date(f("intake_closes"), &q.intake_closes);
    if opens < s {
        c.err(
            f("intake_opens"),
            format!("{opens} is before the commitment's start {s}: expected it on or after"),
        );
    }
    if closes < opens {
        c.err(
            f("intake_closes"),
            format!("{closes} is before intake_opens {opens}"),
        );
    }
    let places_agents = c.non_negative(f("places"), q.places) / frame.scale;
    let applicants = match q.applicants.as_str() {
        "abroad" => Applicants::Abroad,
        "in_us" => Applicants::InUs,
        "anywhere" => Applicants::Anywhere,
        other => {
            c.err(
                f("applicants"),
                format!("\"{other}\": expected \"abroad\", \"in_us\" or \"anywhere\""),
            );
            Applicants::Abroad
        }
    };
    let mut eligible = vec![false; nationalities.len()];
    for (i, n) in q.eligible_nationalities.iter().enumerate() {
        match nationalities.iter().position(|x| x == n) {
            Some(id) => eligible[id] = true,
            None => c.err(
                format!("{}[{i}]", f("eligible_nationalities")),
                format!(
                    "\"{n}\" is not a nationality of any inflow (known: {})",
                    nationalities.join(", ")
                ),
            ),
        }
    }
    let arrive_at = places.lookup(c, f("arrive_at"), &q.arrive_at).unwrap_or(0);
    if places
        .list
        .get(arrive_at as usize)
        .is_some_and(|p| p.kind != PlaceKind::Destination)
    {
        c.err(
            f("arrive_at"),
            format!("\"{}\" is not a destination", q.arrive_at),
        );
    }
    Policy {
        enabled: q.enabled,
        rule: Rule::ResettlementQuota(Quota {
            start: s,
            intake_opens: opens,
            intake_closes: closes,
            // Whole agents; a cap beyond any run's agents is as good as none.
            places: places_agents.round().min(u64::MAX as f64) as u64,
            eligible,
            family_required: q.family_required,
            applicants,
            apply_share: c.prob(f("apply_share"), q.apply_share),
            processing_days: q.processing_days,
            arrive_at,
        }),
    }
}

fn direct_back(c: &mut Checker, p: &RawDirectBack, end: Date) -> Policy {
    let s = c.date("policies.direct_back.start", &p.start);
    let e = c.date("policies.direct_back.end", &p.end);
    in_window(c, "policies.direct_back.start", s, end);
    if e < s {
        c.err(
            "policies.direct_back.end",
            format!("{e} is before start {s}"),
        );
    }
    Policy {
        enabled: p.enabled,
        rule: Rule::DirectBack { start: s, end: e },
    }
}

fn busing(c: &mut Checker, p: &RawBusing, places: &Places, frame: &Frame) -> Policy {
    let f = |k: &str| format!("policies.busing.{k}");
    let s = c.date(f("start"), &p.start);
    in_window(c, &f("start"), s, frame.end);
    let e = p.end.as_ref().map(|d| c.date(f("end"), d));
    if let Some(e) = e
        && e < s
    {
        c.err(f("end"), format!("{e} is before start {s}"));
    }
    let mut from = vec![false; places.list.len()];
    for (i, name) in p.from.iter().enumerate() {
        if let Some(id) = places.lookup(c, format!("{}[{i}]", f("from")), name) {
            if places.get(id).kind != PlaceKind::Entry {
                c.err(
                    format!("{}[{i}]", f("from")),
                    format!("\"{name}\" is not an entry place"),
                );
            }
            from[id as usize] = true;
        }
    }
    let to = places.lookup(c, f("to"), &p.to).unwrap_or(0);
    if places
        .list
        .get(to as usize)
        .is_some_and(|p| !matches!(p.kind, PlaceKind::City | PlaceKind::Staging))
    {
        c.err(
            f("to"),
            format!("\"{}\" is not a city or staging place", p.to),
        );
    }
    if p.daily_capacity == 0 {
        c.err(
            f("daily_capacity"),
            "0: expected at least 1 seat a day (to stop the buses, give `end`)",
        );
    }
    let travel = c.duration(&f("travel_days"), &p.travel_days);
    Policy {
        enabled: p.enabled,
        rule: Rule::Busing(Busing {
            start: s,
            end: e,
            from,
            to,
            share: c.prob(f("share"), p.share),
            daily_capacity: ((f64::from(p.daily_capacity) / frame.scale).round() as u32).max(1),
            travel,
        }),
    }
}

/// The shelter limit, unless it has no steps.
fn shelter_limit(c: &mut Checker, p: &RawShelterLimit, end: Date) -> Option<Policy> {
    let mut steps = Vec::new();
    for (i, st) in p.steps.iter().enumerate() {
        let field = format!("policies.shelter_limit.steps[{i}].start");
        let d = c.date(&field, &st.start);
        in_window(c, &field, d, end);
        if steps.last().is_some_and(|(prev, _)| *prev >= d) {
            c.err(&field, format!("{d}: steps must be in date order"));
        }
        steps.push((d, st.max_stay_days));
    }
    if steps.is_empty() {
        c.err("policies.shelter_limit.steps", "expected at least one step");
        return None;
    }
    Some(Policy {
        enabled: p.enabled,
        rule: Rule::ShelterLimit { steps },
    })
}

#[cfg(test)]
mod tests {
    use super::super::places::places;
    use super::super::testing::{PLACES, checker, frame, raw};
    use super::*;
    use crate::scenario::raw::RawPlace;

    const POLICIES: &str = r#"
        [policies.stca_ports]
        enabled = true
        start = 2004-12-29

        [policies.stca_extension]
        enabled = true
        start = 2023-03-25
        window_days = 14
        daily_detection = { "Roxham Road" = 0.2 }

        [policies.resettlement_quota]
        enabled = true
        start = 2023-03-24
        intake_opens = 2023-04-01
        intake_closes = 2023-05-31
        places = 15000
        eligible_nationalities = ["Haiti"]
        family_required = true
        applicants = "in_us"
        processing_days = 120
        apply_share = 0.3
        arrive_at = "Canada"

        [policies.busing]
        enabled = true
        start = 2023-02-01
        from = ["Border"]
        to = "New York City"
        share = 0.1
        daily_capacity = 41
        travel_days = { dist = "fixed", days = 3 }

        [policies.shelter_limit]
        enabled = false
        steps = [{ start = 2023-03-01, max_stay_days = 60 }]
    "#;

    #[test]
    fn policies_come_in_order_with_names_resolved_and_sizes_scaled() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        let nationalities = ["Chile".to_string(), "Haiti".to_string()];
        let raw_policies: RawPolicies = raw("policies", POLICIES);
        let policies = policies(&mut c, &raw_policies, &places, &nationalities, &frame());
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let names: Vec<&str> = policies.iter().map(|p| p.rule.name()).collect();
        assert_eq!(
            names,
            [
                "stca_ports",
                "stca_extension",
                "resettlement_quota",
                "busing",
                "shelter_limit"
            ]
        );
        let Rule::ResettlementQuota(q) = &policies[2].rule else {
            panic!("{:?}", policies[2].rule)
        };
        assert_eq!((q.places, q.arrive_at), (7500, 4));
        assert_eq!(q.applicants, crate::scenario::policy::Applicants::InUs);
        assert_eq!(q.eligible, [false, true]);
        let Rule::Busing(b) = &policies[3].rule else {
            panic!("{:?}", policies[3].rule)
        };
        assert_eq!(
            (b.from.as_slice(), b.to, b.daily_capacity),
            ([true, false, false, false, false].as_slice(), 1, 21)
        );
    }

    #[test]
    fn problems_name_the_policy_field() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        let text = POLICIES
            .replace("start = 2023-03-25", "start = 2023-08-01")
            .replace("\"Roxham Road\" = 0.2", "\"Border\" = 0.2")
            .replace("[\"Haiti\"]", "[\"Peru\"]")
            .replace("to = \"New York City\"", "to = \"Canada\"")
            .replace(
                "steps = [{ start = 2023-03-01, max_stay_days = 60 }]",
                "steps = []",
            );
        let raw_policies: RawPolicies = raw("policies", &text);
        policies(&mut c, &raw_policies, &places, &["Haiti".into()], &frame());
        assert_eq!(
            c.problems,
            [
                "policies.stca_extension.start: 2023-08-01 is after the window's end 2023-06-30; to leave a policy out, set enabled = false",
                "policies.stca_extension.daily_detection.\"Border\": \"Border\" is not an irregular crossing",
                "policies.stca_extension.daily_detection: no value for the irregular crossing \"Roxham Road\" (places[2])",
                "policies.resettlement_quota.eligible_nationalities[0]: \"Peru\" is not a nationality of any inflow (known: Haiti)",
                "policies.busing.to: \"Canada\" is not a city or staging place",
                "policies.shelter_limit.steps: expected at least one step",
            ]
        );
    }
}
