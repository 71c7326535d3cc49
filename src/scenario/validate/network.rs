//! The network as a whole, checked once every section is free of problems: every place
//! reachable from an entry (by routes, returns, buses or the quota), every waiting place
//! with a route leaving it, and at least one crossing.

use super::Checker;
use super::places::{a_kind, waits};
use crate::scenario::policy::{Policy, Rule};
use crate::scenario::{Inflow, Place, PlaceKind, Route};

pub(super) fn network(
    c: &mut Checker,
    places: &[Place],
    routes: &[Route],
    policies: &[Policy],
    inflows: &[Inflow],
) {
    let mut inflow_at = vec![false; places.len()];
    for inf in inflows {
        inflow_at[inf.entry as usize] = true;
    }
    let seen = reachable(places, &links(places, routes, policies), &inflow_at);
    for (i, p) in places.iter().enumerate() {
        if !seen[i] {
            c.err(format!("places[{i}]"), format!("\"{}\" cannot be reached from any entry place by routes, returns, buses or the quota", p.name));
        }
        if waits(p.kind) && !routes.iter().any(|r| r.from as usize == i) {
            c.err(
                format!("places[{i}]"),
                format!(
                    "\"{}\" is {} place with no route leaving it: expected at least one",
                    p.name,
                    a_kind(p.kind)
                ),
            );
        }
    }
    if !places.iter().any(|p| p.kind == PlaceKind::Crossing) {
        c.err(
            "places",
            "no crossing: expected at least one place of kind \"crossing\"",
        );
    }
}

/// For each place, the places one can go to next: by route, by return, by bus, or (from an
/// entry) by the quota.
fn links(places: &[Place], routes: &[Route], policies: &[Policy]) -> Vec<Vec<usize>> {
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); places.len()];
    for r in routes {
        next[r.from as usize].push(r.to as usize);
    }
    for (i, p) in places.iter().enumerate() {
        if let Some(b) = p.return_to {
            next[i].push(b as usize);
        }
    }
    for p in policies {
        match &p.rule {
            Rule::Busing(b) => {
                for (i, from) in b.from.iter().enumerate() {
                    if *from {
                        next[i].push(b.to as usize);
                    }
                }
            }
            Rule::ResettlementQuota(q) => {
                for (i, pl) in places.iter().enumerate() {
                    if pl.kind == PlaceKind::Entry {
                        next[i].push(q.arrive_at as usize);
                    }
                }
            }
            _ => {}
        }
    }
    next
}

/// Which places can be reached from an entry place or a place with an inflow.
fn reachable(places: &[Place], next: &[Vec<usize>], inflow_at: &[bool]) -> Vec<bool> {
    let n = places.len();
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = (0..n)
        .filter(|&i| places[i].kind == PlaceKind::Entry || inflow_at[i])
        .collect();
    for &i in &stack {
        seen[i] = true;
    }
    while let Some(i) = stack.pop() {
        for &j in &next[i] {
            if !seen[j] {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::super::places::places;
    use super::super::testing::{PLACES, checker, raw};
    use super::*;
    use crate::scenario::Duration;
    use crate::scenario::raw::RawPlace;

    fn route(from: u16, to: u16) -> Route {
        Route {
            from,
            to,
            travel: Duration::Fixed(1.0),
            cost: 0.0,
            risk: 0.0,
            capacity: None,
            requires_visa: false,
            opens: None,
            closes: None,
        }
    }

    #[test]
    fn every_place_must_be_reachable_and_every_waiting_place_left() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places).list;
        // Border -> New York City -> Roxham Road (-> New York City), and on to Elsewhere.
        let routes = [route(0, 1), route(1, 2), route(1, 3)];
        network(&mut c, &places, &routes, &[], &[]);
        assert_eq!(
            c.problems,
            [
                "places[4]: \"Canada\" cannot be reached from any entry place by routes, returns, buses or the quota"
            ]
        );

        let mut c = checker();
        network(&mut c, &places, &routes[..1], &[], &[]);
        let mut only_entry = checker();
        network(&mut only_entry, &places, &[], &[], &[]);
        assert!(
            only_entry.problems.contains(
                &"places[0]: \"Border\" is an entry place with no route leaving it: expected at least one".to_string()
            ),
            "{:?}",
            only_entry.problems
        );
        assert_eq!(
            c.problems,
            [
                "places[1]: \"New York City\" is a city place with no route leaving it: expected at least one",
                "places[2]: \"Roxham Road\" cannot be reached from any entry place by routes, returns, buses or the quota",
                "places[3]: \"Elsewhere\" cannot be reached from any entry place by routes, returns, buses or the quota",
                "places[4]: \"Canada\" cannot be reached from any entry place by routes, returns, buses or the quota",
            ]
        );
    }
}
