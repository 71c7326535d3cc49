//! `[[places]]`: each place's fields checked against its kind, names made unique, and the
//! name → id map through which every later section resolves a place name (with "did you
//! mean" hints).

use super::Checker;
use crate::scenario::raw::RawPlace;
use crate::scenario::{CrossingKind, Place, PlaceId, PlaceKind};
use std::collections::BTreeMap;

/// The validated places and the id of each name.
pub(super) struct Places<'a> {
    pub(super) list: Vec<Place>,
    /// A name given twice maps to its last place.
    ids: BTreeMap<&'a str, PlaceId>,
}

impl Places<'_> {
    /// The id of a place name; an unknown name is a problem at `field`.
    pub(super) fn lookup(&self, c: &mut Checker, field: String, name: &str) -> Option<PlaceId> {
        let id = self.ids.get(name).copied();
        if id.is_none() {
            let near = self
                .ids
                .keys()
                .filter(|k| similar(k, name))
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>();
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", near.join(" or "))
            };
            c.err(field, format!("unknown place \"{name}\"{hint}"));
        }
        id
    }

    pub(super) fn get(&self, id: PlaceId) -> &Place {
        &self.list[id as usize]
    }
}

/// Whether people wait at places of this kind (and so need a `move_rate`).
pub(super) fn waits(kind: PlaceKind) -> bool {
    matches!(
        kind,
        PlaceKind::Entry | PlaceKind::City | PlaceKind::Staging
    )
}

pub(super) fn places<'a>(c: &mut Checker, raw: &'a [RawPlace]) -> Places<'a> {
    let mut ids: BTreeMap<&str, PlaceId> = BTreeMap::new();
    if raw.len() > u16::MAX as usize {
        c.err("places", "more than 65535 places");
    }
    for (i, p) in raw.iter().enumerate() {
        if ids.insert(&p.name, i as PlaceId).is_some() {
            c.err(
                format!("places[{i}].name"),
                format!("\"{}\" is used by an earlier place", p.name),
            );
        }
    }
    let mut places = Places {
        list: Vec::new(),
        ids,
    };
    for (i, p) in raw.iter().enumerate() {
        let place = place(c, i, p, &places);
        places.list.push(place);
    }
    for (i, p) in places.list.iter().enumerate() {
        if let Some(r) = p.return_to {
            let back = &places.list[r as usize];
            if !waits(back.kind) {
                c.err(
                    format!("places[{i}].return_to"),
                    format!(
                        "\"{}\" is {} place: expected an entry, city or staging place",
                        back.name,
                        a_kind(back.kind)
                    ),
                );
            }
        }
    }
    places
}

/// A kind of place with its article, for messages: "an entry", "a city".
pub(super) fn a_kind(kind: PlaceKind) -> String {
    let name = crate::scenario::kind_name(kind);
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// `places[i]`, each field checked against the kind; `places` resolves `return_to`.
fn place(c: &mut Checker, i: usize, p: &RawPlace, places: &Places) -> Place {
    let f = |k: &str| format!("places[{i}].{k}");
    let stca = stca(c, i, p);
    match (p.kind == PlaceKind::Crossing, p.crossing) {
        (true, None) => c.err(
            f("crossing"),
            "a crossing needs `crossing = \"irregular\"` or `\"port\"`",
        ),
        (false, Some(_)) => c.err(
            f("crossing"),
            "only places of kind \"crossing\" take `crossing`",
        ),
        _ => {}
    }
    let move_rate = move_rate(c, i, p);
    let detection = detection(c, i, p);
    let return_to = return_to(c, i, p, places);
    let value = value(c, i, p);
    let (crossing_cost, wait_value) = choice_values(c, i, p);
    if p.shelter && !waits(p.kind) {
        c.err(
            f("shelter"),
            "only entry, city and staging places can be shelters",
        );
    }
    Place {
        name: p.name.clone(),
        kind: p.kind,
        crossing: p.crossing,
        country: p.country.clone(),
        region: p.region.clone(),
        move_rate,
        shelter: p.shelter,
        detection,
        return_to,
        stca,
        value,
        crossing_cost,
        wait_value,
    }
}

/// `places[i].crossing_cost` (crossings only, default 0) and `places[i].wait_value` (waiting
/// places only, absent: no option to wait).
fn choice_values(c: &mut Checker, i: usize, p: &RawPlace) -> (f64, Option<f64>) {
    let f = |k: &str| format!("places[{i}].{k}");
    let crossing_cost = match (p.kind == PlaceKind::Crossing, p.crossing_cost) {
        (true, Some(v)) => c.finite(f("crossing_cost"), v),
        (false, Some(_)) => {
            c.err(f("crossing_cost"), "only crossings take `crossing_cost`");
            0.0
        }
        (_, None) => 0.0,
    };
    let wait_value = match (waits(p.kind), p.wait_value) {
        (true, Some(v)) => Some(c.finite(f("wait_value"), v)),
        (false, Some(_)) => {
            c.err(
                f("wait_value"),
                "only entry, city and staging places take `wait_value`",
            );
            None
        }
        (_, None) => None,
    };
    (crossing_cost, wait_value)
}

/// `places[i].stca`: ports only (true where not given).
fn stca(c: &mut Checker, i: usize, p: &RawPlace) -> bool {
    match (p.crossing, p.stca) {
        (Some(CrossingKind::Port), s) => s.unwrap_or(true),
        (_, Some(_)) => {
            c.err(
                format!("places[{i}].stca"),
                "only port crossings take `stca` (false for an airport)",
            );
            false
        }
        (_, None) => false,
    }
}

/// `places[i].move_rate`: places where people wait only, and needed there.
fn move_rate(c: &mut Checker, i: usize, p: &RawPlace) -> f64 {
    let field = format!("places[{i}].move_rate");
    match (waits(p.kind), p.move_rate) {
        (true, Some(r)) => c.prob(field, r),
        (true, None) => {
            c.err(
                field,
                "entry, city and staging places need a daily `move_rate`",
            );
            0.0
        }
        (false, Some(_)) => {
            c.err(
                field,
                "only entry, city and staging places take `move_rate`",
            );
            0.0
        }
        (false, None) => 0.0,
    }
}

/// `places[i].detection`: crossings only, and needed there.
fn detection(c: &mut Checker, i: usize, p: &RawPlace) -> f64 {
    let field = format!("places[{i}].detection");
    match (p.kind == PlaceKind::Crossing, p.detection) {
        (true, Some(d)) => c.prob(field, d),
        (true, None) => {
            c.err(
                field,
                "a crossing needs `detection`, the probability of interception on crossing",
            );
            0.0
        }
        (false, Some(_)) => {
            c.err(field, "only crossings take `detection`");
            0.0
        }
        (false, None) => 0.0,
    }
}

/// `places[i].return_to`: crossings only, and needed there.
fn return_to(c: &mut Checker, i: usize, p: &RawPlace, places: &Places) -> Option<PlaceId> {
    let field = format!("places[{i}].return_to");
    match (p.kind == PlaceKind::Crossing, &p.return_to) {
        (true, Some(name)) => places.lookup(c, field, name),
        (true, None) => {
            c.err(
                field,
                "a crossing needs `return_to`, the place a returned claimant is sent to",
            );
            None
        }
        (false, Some(_)) => {
            c.err(field, "only crossings take `return_to`");
            None
        }
        (false, None) => None,
    }
}

/// `places[i].value`: destinations only, and needed there.
fn value(c: &mut Checker, i: usize, p: &RawPlace) -> f64 {
    let field = format!("places[{i}].value");
    match (p.kind == PlaceKind::Destination, p.value) {
        (true, Some(v)) if v.is_finite() => v,
        (true, Some(v)) => {
            c.err(field, format!("{v}: expected a finite number"));
            0.0
        }
        (true, None) => {
            c.err(
                field,
                "a destination needs `value`, the utility of settling there",
            );
            0.0
        }
        (false, Some(_)) => {
            c.err(field, "only destinations take `value`");
            0.0
        }
        (false, None) => 0.0,
    }
}

/// Names that differ by one edit or by case, for "did you mean" hints.
fn similar(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

#[cfg(test)]
mod tests {
    use super::super::testing::{PLACES, checker, raw};
    use super::*;

    #[test]
    fn places_are_checked_against_their_kind_and_names_resolve() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(places.list.len(), 5);
        assert_eq!(places.list[2].return_to, Some(1));
        assert_eq!(places.list[2].detection, 0.9);
        assert!(places.list[1].shelter);
        assert_eq!(places.lookup(&mut c, "f".into(), "Roxham Road"), Some(2));
        assert_eq!(places.lookup(&mut c, "f".into(), "roxham road"), None);
        assert_eq!(
            c.problems,
            ["f: unknown place \"roxham road\" (did you mean \"Roxham Road\"?)"]
        );
    }

    #[test]
    fn fields_that_do_not_fit_the_kind_are_named() {
        let mut c = checker();
        let text = PLACES.replace("detection = 0.9", "detection = 1.5\nvalue = 2")
            + "[[places]]\nname = \"Border\"\nkind = \"crossing\"\ncountry = \"CA\"\nregion = \"QC\"\ndetection = 1.0\nreturn_to = \"Canada\"\n";
        let raw_places: Vec<RawPlace> = raw("places", &text);
        places(&mut c, &raw_places);
        assert_eq!(
            c.problems,
            [
                "places[5].name: \"Border\" is used by an earlier place",
                "places[2].detection: 1.5 is not a probability: expected a number in [0, 1]",
                "places[2].value: only destinations take `value`",
                "places[5].crossing: a crossing needs `crossing = \"irregular\"` or `\"port\"`",
                "places[5].return_to: \"Canada\" is a destination place: expected an entry, city or staging place",
            ]
        );
    }
}
