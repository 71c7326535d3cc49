//! `[[routes]]`: the ends resolved to place ids and checked against their kinds, the travel
//! time, cost, risk, capacity (scaled to agents) and opening dates.

use super::places::{Places, waits};
use super::{Checker, Frame};
use crate::scenario::raw::RawRoute;
use crate::scenario::{PlaceKind, Route};

/// The routes whose ends are both known, in file order.
pub(super) fn routes(
    c: &mut Checker,
    raw: &[RawRoute],
    places: &Places,
    frame: &Frame,
) -> Vec<Route> {
    let mut routes = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        if let Some(route) = route(c, i, r, places, frame.scale) {
            routes.push(route);
        }
    }
    routes
}

/// `routes[i]`, if both its ends are known.
fn route(c: &mut Checker, i: usize, r: &RawRoute, places: &Places, scale: f64) -> Option<Route> {
    let f = |k: &str| format!("routes[{i}].{k}");
    let from = places.lookup(c, f("from"), &r.from);
    let to = places.lookup(c, f("to"), &r.to);
    if let Some(from) = from {
        let k = places.get(from).kind;
        if !waits(k) {
            c.err(
                f("from"),
                format!(
                    "\"{}\" is a {} place: routes leave entry, city or staging places",
                    r.from,
                    format!("{k:?}").to_lowercase()
                ),
            );
        }
    }
    if let Some(to) = to
        && places.get(to).kind == PlaceKind::Entry
    {
        c.err(
            f("to"),
            format!(
                "\"{}\" is an entry place: routes cannot lead into one",
                r.to
            ),
        );
    }
    let travel = c.duration(&f("travel_days"), &r.travel_days);
    let cost = c.non_negative(f("cost"), r.cost);
    let risk = c.prob(f("risk"), r.risk);
    if r.capacity == Some(0) {
        c.err(
            f("capacity"),
            "0: expected at least 1 seat a day (to close a route, give `closes`)",
        );
    }
    let opens = r.opens.as_ref().map(|d| c.date(f("opens"), d));
    let closes = r.closes.as_ref().map(|d| c.date(f("closes"), d));
    if let (Some(o), Some(cl)) = (opens, closes)
        && cl < o
    {
        c.err(f("closes"), format!("{cl} is before opens {o}"));
    }
    let (Some(from), Some(to)) = (from, to) else {
        return None;
    };
    Some(Route {
        from,
        to,
        travel,
        cost,
        risk,
        capacity: r
            .capacity
            .map(|x| ((f64::from(x) / scale).round() as u32).max(1)),
        requires_visa: r.requires_visa,
        opens,
        closes,
    })
}

#[cfg(test)]
mod tests {
    use super::super::places::places;
    use super::super::testing::{PLACES, checker, frame, raw};
    use super::*;
    use crate::scenario::Duration;
    use crate::scenario::raw::RawPlace;

    #[test]
    fn routes_resolve_their_ends_and_scale_their_capacity() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        let text = r#"
            [[routes]]
            from = "Border"
            to = "New York City"
            travel_days = { dist = "fixed", days = 3 }
            cost = 200
            capacity = 9

            [[routes]]
            from = "Roxham Road"
            to = "Border"
            travel_days = { dist = "fixed", days = 1 }
            risk = 2

            [[routes]]
            from = "New York City"
            to = "Lacolle"
            travel_days = { dist = "fixed", days = 1 }
            opens = 2023-05-01
            closes = 2023-04-01
        "#;
        let raw_routes: Vec<RawRoute> = raw("routes", text);
        let routes = routes(&mut c, &raw_routes, &places, &frame());
        assert_eq!(routes.len(), 2, "the route to an unknown place is left out");
        assert_eq!((routes[0].from, routes[0].to), (0, 1));
        assert_eq!(routes[0].travel, Duration::Fixed(3.0));
        assert_eq!(routes[0].cost, 200.0);
        assert_eq!(routes[0].capacity, Some(5), "9 people a day at 2 per agent");
        assert_eq!(
            c.problems,
            [
                "routes[1].from: \"Roxham Road\" is a crossing place: routes leave entry, city or staging places",
                "routes[1].to: \"Border\" is an entry place: routes cannot lead into one",
                "routes[1].risk: 2 is not a probability: expected a number in [0, 1]",
                "routes[2].to: unknown place \"Lacolle\"",
                "routes[2].closes: 2023-04-01 is before opens 2023-05-01",
            ]
        );
    }
}
