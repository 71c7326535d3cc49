//! Where a person who moves on goes: the choice among the ends of a journey.
//!
//! A person deciding at a waiting place (an entry, a city, a staging place) chooses among
//! the ends reachable from there, and, where the place allows it, waiting another day:
//!
//! * a **crossing**, judged by what presenting there means for this person under the rules
//!   as they believe them: `success x p - returned x (1 - p) - crossing_cost`, with `p` the
//!   perceived chance of being allowed to claim (learned, see `beliefs`), `returned` the loss
//!   of being sent back to the US, and `crossing_cost` the crossing's own burden (for an
//!   irregular crossing: the walk, the arrest, the processing, the charge);
//! * a **destination** in the US, at its `value`;
//! * **waiting**, at a place's `wait_value` (only where the scenario gives one): one more
//!   day where the person is, or going to wait at such a place (New York, say, while the
//!   crossings look closed).
//!
//! An end's utility is its value less the cost of the cheapest way there (time, money and
//! risk summed over the routes, each weighted), times the scale `choice.scale`, plus the
//! person's own taste for it: a Gumbel draw keyed by the person, the end and the journey (it is
//! drawn anew after each return to the US). The person goes for the end of the highest total and
//! takes the first route of its cheapest way. (It is computed as the equivalent race of exponential
//! clocks, `argmin -ln(u) / exp(utility)`, one logarithm per end.) Over people this is the
//! multinomial logit; for one person it is consistent along the way: at the next waiting place the
//! ends ahead have kept their order (the cheapest way from there is the rest of the same way), so a
//! person changes their mind only when what they believe changes (the news of a rule, outcomes
//! heard of), not by drawing again. A person who prefers to wait keeps waiting until the crossings
//! look better, which is what makes the demand pent up by a closure come back when it reopens.
//!
//! Two artefacts of an earlier formulation are absent by construction. It valued a waiting
//! place by the log-sum of its onward routes, iterated around the network, so a route back
//! to where one came from (New York ↔ Plattsburgh) added option value at every turn; here
//! the cost of reaching an end is a shortest path, and a cycle can only make a way dearer.
//! And a hopeless option drew a fixed share of every departure whatever the stakes; here its
//! share is what the logit with the fitted scale gives to its utility, which counts the loss
//! of being returned.

use crate::scenario::policy::{flags, has_exception};
use crate::scenario::{PlaceKind, Scenario};
use crate::util::rng;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The choice types: bit 0, an STCA exception; bit 1, a visa to fly to Canada.
pub const CHOICE_TYPES: usize = 4;

/// A row entry whose "route" means: wait another day.
pub const WAIT: u32 = u32::MAX;

/// The route-choice type of a person with these flags.
#[inline]
pub fn choice_type(f: u8) -> usize {
    usize::from(has_exception(f)) | (usize::from(f & flags::VISA != 0) << 1)
}

/// One option of a person deciding at a place: an end of a journey with its scaled
/// utility (without the person's taste), and the first route of its cheapest way ([`WAIT`]
/// for waiting where one is).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub utility: f64,
    /// `exp(top - utility)`, with `top` the row's highest utility: the pace of this end's
    /// clock in the race that draws the choice.
    pub pace: f64,
    pub end: u16,
    pub first: u32,
}

/// For each place and choice type, the options open today.
pub type ChoiceTable = Vec<[Vec<Choice>; CHOICE_TYPES]>;

/// The cheapest way from a waiting place to an end of a journey (or to a place to wait at).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Way {
    /// The end: a crossing or a destination.
    pub end: u16,
    /// The weighted cost of the way (time, money, risk).
    pub cost: f64,
    /// The first route to take.
    pub first: u32,
}

/// The cheapest ways to every reachable end, by place, for people without (index 0) and
/// with (index 1) a visa for a flight to Canada. They depend only on which routes are open,
/// so they are recomputed only when that changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Ways {
    pub open: Vec<bool>,
    pub by_visa: [Vec<Vec<Way>>; 2],
}

/// A waiting place: where people decide each day whether to move on.
fn waits(k: PlaceKind) -> bool {
    matches!(k, PlaceKind::Entry | PlaceKind::City | PlaceKind::Staging)
}

/// A route's weighted cost: never negative, since the weights are not.
pub fn route_cost(sc: &Scenario, r: usize) -> f64 {
    let b = &sc.behaviour;
    let route = &sc.routes[r];
    b.choice_time * route.travel.mean() + b.choice_cost * route.cost + b.choice_risk * route.risk
}

/// Dijkstra's queue entry (cost, routes, place): the smallest cost first, ties by fewer
/// routes, then by place.
#[derive(PartialEq)]
struct Next(f64, u32, u16);

impl Eq for Next {}

impl Ord for Next {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0)
            .then(o.1.cmp(&self.1))
            .then(o.2.cmp(&self.2))
    }
}

impl PartialOrd for Next {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ways {
    /// The cheapest ways over the routes `open` today. Work grows with ends x routes: one
    /// search backwards from each end, through waiting places only (a crossing or a
    /// destination ends a journey).
    pub fn new(sc: &Scenario, open: Vec<bool>) -> Ways {
        let n = sc.places.len();
        let cost: Vec<f64> = (0..sc.routes.len()).map(|r| route_cost(sc, r)).collect();
        let mut into: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (r, route) in sc.routes.iter().enumerate() {
            if open[r] && waits(sc.places[route.from as usize].kind) {
                into[route.to as usize].push(r as u32);
            }
        }
        let by_visa = [false, true].map(|visa| {
            let mut ways: Vec<Vec<Way>> = vec![Vec::new(); n];
            let mut best = vec![f64::INFINITY; n];
            let mut first = vec![u32::MAX; n];
            let mut hops = vec![u32::MAX; n];
            for (end, p) in sc.places.iter().enumerate() {
                if waits(p.kind) && p.wait_value.is_none() {
                    continue;
                }
                best.fill(f64::INFINITY);
                first.fill(u32::MAX);
                hops.fill(u32::MAX);
                let mut heap = BinaryHeap::new();
                best[end] = 0.0;
                hops[end] = 0;
                heap.push(Next(0.0, 0, end as u16));
                while let Some(Next(d, h, x)) = heap.pop() {
                    if d > best[x as usize] || (d == best[x as usize] && h > hops[x as usize]) {
                        continue;
                    }
                    for &r in &into[x as usize] {
                        let route = &sc.routes[r as usize];
                        if route.requires_visa && !visa {
                            continue;
                        }
                        let y = route.from as usize;
                        let c = d + cost[r as usize];
                        // Ties in cost go to the way of fewer routes, then to the lower
                        // route index, whatever the search order. Fewer routes first, so
                        // that the first routes of tied ways never form a cycle: where
                        // routes cost nothing (a weight of 0), a tie broken by index alone
                        // sent people back and forth between two places for ever.
                        let hh = h + 1;
                        if c < best[y]
                            || (c == best[y] && (hh < hops[y] || (hh == hops[y] && r < first[y])))
                        {
                            best[y] = c;
                            hops[y] = hh;
                            first[y] = r;
                            heap.push(Next(c, hh, y as u16));
                        }
                    }
                }
                for (y, w) in ways.iter_mut().enumerate() {
                    if y != end && best[y].is_finite() {
                        w.push(Way {
                            end: end as u16,
                            cost: best[y],
                            first: first[y],
                        });
                    }
                }
            }
            ways
        });
        Ways { open, by_visa }
    }
}

/// The value of ending a journey at `end` for a person of choice type `k`, who perceives
/// success (being allowed to claim) at crossing `c` as `perceived[c][exception]`.
pub fn end_value(sc: &Scenario, end: usize, k: usize, perceived: &[[f64; 2]]) -> f64 {
    let p = &sc.places[end];
    let b = &sc.behaviour;
    match p.kind {
        PlaceKind::Crossing => {
            let s = perceived[end][k & 1];
            b.choice_success * s - b.choice_returned * (1.0 - s) - p.crossing_cost
        }
        PlaceKind::Destination => p.value,
        _ => p.wait_value.unwrap_or(f64::NEG_INFINITY),
    }
}

/// The day's choice table: for each waiting place and choice type, every end reachable
/// today with its scaled utility and first route, and waiting where the place allows it.
pub fn choice_table(sc: &Scenario, ways: &Ways, perceived: &[[f64; 2]]) -> ChoiceTable {
    let scale = sc.behaviour.choice_scale;
    let values: Vec<[f64; CHOICE_TYPES]> = (0..sc.places.len())
        .map(|j| std::array::from_fn(|k| end_value(sc, j, k, perceived)))
        .collect();
    sc.places
        .iter()
        .enumerate()
        .map(|(i, p)| {
            std::array::from_fn(|k| {
                if !waits(p.kind) {
                    return Vec::new();
                }
                let mut row: Vec<Choice> = ways.by_visa[k >> 1][i]
                    .iter()
                    .map(|w| Choice {
                        utility: scale * (values[w.end as usize][k] - w.cost),
                        pace: 1.0,
                        end: w.end,
                        first: w.first,
                    })
                    .filter(|c| c.utility.is_finite())
                    .collect();
                if let Some(v) = p.wait_value {
                    row.push(Choice {
                        utility: scale * v,
                        pace: 1.0,
                        end: i as u16,
                        first: WAIT,
                    });
                }
                let top = row
                    .iter()
                    .map(|c| c.utility)
                    .fold(f64::NEG_INFINITY, f64::max);
                for c in &mut row {
                    c.pace = (top - c.utility).exp();
                }
                row
            })
        })
        .collect()
}

/// The option with the highest utility plus taste, the taste of an end being
/// `-ln(clock(end))` with `clock(end)` a standard exponential draw: the option whose clock,
/// run at its pace, rings first. Returns the first route to take, or `None` to wait (or
/// where nothing is open). Ties go to the earlier option.
#[inline]
pub fn pick(row: &[Choice], clock: impl Fn(u16) -> f64) -> Option<u32> {
    let mut best: Option<(f64, u32)> = None;
    for c in row {
        let x = clock(c.end) * c.pace;
        if best.is_none_or(|(b, _)| x < b) {
            best = Some((x, c.first));
        }
    }
    best.map(|b| b.1).filter(|&r| r != WAIT)
}

/// Rows longer than this are raced by [`pick`] alone.
const KEYED_ROW: usize = 32;

/// [`pick`] with the clocks `rng::exponential_of(key(end))`, giving the same option, but
/// taking the logarithm only of clocks that might win: each clock is first bounded from
/// its uniform's exponent and mantissa by a polynomial ([`rng::exponential_bounds`],
/// within 0.0008), and only the options whose lower bound is not above the smallest upper
/// bound are raced exactly. Usually that is one option, and no logarithm is taken.
/// (Multiplying by a positive finite pace and rounding keep the bounds' order, so an option
/// ruled out by its bounds loses the exact race too; a row with a pace that is not finite,
/// or a long row, is raced exactly.)
#[inline]
pub fn pick_keyed(row: &[Choice], key: impl Fn(u16) -> u64) -> Option<u32> {
    match contenders(row, &key) {
        Some(contenders) => pick_among(row, contenders, key),
        None => pick(row, |end| rng::exponential_of(key(end))),
    }
}

/// The options of [`pick_keyed`]'s race that its bounds do not rule out, a bit each (at
/// least the winner); `None` for a row raced exactly (longer than `KEYED_ROW`, or with a
/// pace that is not positive and finite).
#[inline]
pub fn contenders(row: &[Choice], key: impl Fn(u16) -> u64) -> Option<u32> {
    let n = row.len();
    if n > KEYED_ROW {
        return None;
    }
    let mut lows = [0f64; KEYED_ROW];
    let mut top = f64::INFINITY;
    let mut finite = true;
    for (low, c) in lows.iter_mut().zip(row) {
        let (l, h) = rng::exponential_bounds(key(c.end));
        finite &= c.pace.is_finite() & (c.pace > 0.0);
        *low = l * c.pace;
        let h = h * c.pace;
        if h < top {
            top = h;
        }
    }
    if !finite {
        return None;
    }
    let mut contenders = 0u32;
    for (i, low) in lows[..n].iter().enumerate() {
        contenders |= u32::from(*low <= top) << i;
    }
    Some(contenders)
}

/// The end of [`pick_keyed`]: the winner among the options whose bits are set in
/// `contenders` (those the bounds do not rule out, the winner among them): the only one,
/// or the exact race among them in row order.
#[inline]
pub fn pick_among(row: &[Choice], contenders: u32, key: impl Fn(u16) -> u64) -> Option<u32> {
    let only = if contenders.count_ones() == 1 {
        row[contenders.trailing_zeros() as usize].first
    } else {
        let mut best: Option<(f64, u32)> = None;
        let mut rest = contenders;
        while rest != 0 {
            let c = &row[rest.trailing_zeros() as usize];
            rest &= rest - 1;
            let x = rng::exponential_of(key(c.end)) * c.pace;
            if best.is_none_or(|(b, _)| x < b) {
                best = Some((x, c.first));
            }
        }
        best.map_or(WAIT, |b| b.1)
    };
    Some(only).filter(|&r| r != WAIT)
}

/// The taste slot of an end on a journey: journeys are counted by returns to the US.
#[inline]
pub fn taste_slot(end: u16, returns: u8) -> u32 {
    u32::from(end) | (u32::from(returns) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// New York, Plattsburgh, Roxham Road, Lacolle and a US destination; `extra` adds
    /// routes and `choice` sets `[behaviour.choice]`.
    fn corridor(extra: &str, choice: &str, roxham_cost: f64, wait: &str) -> Scenario {
        let text = format!(
            r#"
[scenario]
name = "choice"
start = 2023-01-01
end = 2023-01-31
seed = 1
[[places]]
name = "New York City"
kind = "city"
country = "US"
region = "NY"
move_rate = 0.1
{wait}
[[places]]
name = "Plattsburgh"
kind = "staging"
country = "US"
region = "NY"
move_rate = 0.9
[[places]]
name = "Roxham Road"
kind = "crossing"
crossing = "irregular"
country = "CA"
region = "QC"
detection = 0.99
return_to = "Plattsburgh"
crossing_cost = {roxham_cost}
[[places]]
name = "Lacolle"
kind = "crossing"
crossing = "port"
country = "CA"
region = "QC"
detection = 1.0
return_to = "Plattsburgh"
[[places]]
name = "Elsewhere"
kind = "destination"
country = "US"
region = "US"
value = 2.0
[[routes]]
from = "New York City"
to = "Plattsburgh"
travel_days = {{ dist = "fixed", days = 1 }}
cost = 66
[[routes]]
from = "Plattsburgh"
to = "Roxham Road"
travel_days = {{ dist = "fixed", days = 1 }}
cost = 60
[[routes]]
from = "Plattsburgh"
to = "Lacolle"
travel_days = {{ dist = "fixed", days = 1 }}
cost = 60
[[routes]]
from = "New York City"
to = "Elsewhere"
travel_days = {{ dist = "fixed", days = 1 }}
cost = 100
{extra}
[[inflows]]
entry = "New York City"
monthly = {{ "2023-01" = 10 }}
nationalities = {{ "A" = 1.0 }}
p_family_in_canada = 0.5
p_unaccompanied_minor = 0.0
p_canadian_document = 0.0
[behaviour]
give_up_rate = 0.0
wait_growth = 0.0
wait_cap_days = 30
work_permit_days = 180
permit_move_factor = 1.0
permit_give_up_factor = 1.0
shelter_exit_factor = 1.0
max_attempts = 2
choice = {{ {choice} }}
beliefs = {{ lag_days = 1, inertia = 10.0, noise_sd = 0.0 }}
[policies.stca_ports]
enabled = true
start = 2004-12-29
"#
        );
        Scenario::from_bytes(Path::new("choice.toml"), text.into_bytes()).unwrap()
    }

    const BACK: &str = r#"
[[routes]]
from = "Plattsburgh"
to = "New York City"
travel_days = { dist = "fixed", days = 1 }
cost = 66
"#;
    const CHOICE: &str = "time = 0.1, cost = 0.002, risk = 3.0, success = 5.0";

    /// The logit probability of each first route (and of waiting, as `WAIT`) in a row,
    /// in order of first appearance.
    fn shares(row: &[Choice]) -> Vec<(u32, f64)> {
        let total: f64 = row.iter().map(|c| c.utility.exp()).sum();
        let mut out: Vec<(u32, f64)> = Vec::new();
        for c in row {
            let p = c.utility.exp() / total;
            match out.iter_mut().find(|o| o.0 == c.first) {
                Some(o) => o.1 += p,
                None => out.push((c.first, p)),
            }
        }
        out
    }

    fn table(sc: &Scenario, perceived: &[[f64; 2]]) -> ChoiceTable {
        let ways = Ways::new(sc, vec![true; sc.routes.len()]);
        choice_table(sc, &ways, perceived)
    }

    /// Roxham open to everyone; Lacolle only to people with an exception.
    const BEFORE_2023: [[f64; 2]; 5] = [[0.0; 2], [0.0; 2], [1.0, 1.0], [0.0, 1.0], [0.0; 2]];

    #[test]
    fn a_route_back_adds_no_value() {
        let open = corridor("", CHOICE, 1.0, "");
        let cycle = corridor(BACK, CHOICE, 1.0, "");
        let (a, b) = (table(&open, &BEFORE_2023), table(&cycle, &BEFORE_2023));
        // At New York the choices are the same with or without the way back: a cycle
        // offers nothing that is not already reachable.
        for k in 0..CHOICE_TYPES {
            assert_eq!(a[0][k], b[0][k], "type {k}");
        }
        // From Plattsburgh, going back to New York is worth what it leads to (settling
        // elsewhere), less the ride back, and no more.
        let ways = Ways::new(&cycle, vec![true; 5]);
        let back = ways.by_visa[0][1].iter().find(|w| w.end == 4).unwrap();
        let ride = route_cost(&cycle, 4) + route_cost(&cycle, 3);
        assert!((back.cost - ride).abs() < 1e-12);
        let u = |v: f64| v.exp();
        let (rox, lac, home) = (
            5.0 - 1.0 - route_cost(&cycle, 1),
            -route_cost(&cycle, 2),
            2.0 - ride,
        );
        let p_back = u(home) / (u(rox) + u(lac) + u(home));
        let got = shares(&b[1][0]).iter().find(|s| s.0 == 4).unwrap().1;
        assert!((got - p_back).abs() < 1e-12, "{got} vs {p_back}");
    }

    #[test]
    fn exception_holders_prefer_the_port_by_the_cost_of_walking_in() {
        let sc = corridor("", CHOICE, 1.5, "");
        let t = table(&sc, &BEFORE_2023);
        let s = shares(&t[1][1]); // Plattsburgh, an exception, no visa
        assert_eq!(s.iter().map(|x| x.0).collect::<Vec<_>>(), [1, 2]);
        let (rox, lac) = (s[0].1, s[1].1);
        assert!((lac / rox - 1.5f64.exp()).abs() < 1e-9, "{lac} / {rox}");
        // Without an exception the port means being returned: Roxham Road, by the value of
        // a claim less the cost of walking in.
        let s0 = shares(&t[1][0]);
        assert!((s0[1].1 / s0[0].1 - (-3.5f64).exp()).abs() < 1e-9, "{s0:?}");
    }

    #[test]
    fn a_hopeless_crossing_draws_what_the_scale_says() {
        // Nobody without an exception is let in at Lacolle: its value is the loss of being
        // returned. Its share is the logit's, and shrinks with the scale.
        let share = |scale: f64| {
            let sc = corridor(
                "",
                &format!("{CHOICE}, returned = 1.0, scale = {scale}"),
                1.0,
                "",
            );
            shares(&table(&sc, &BEFORE_2023)[1][0])[1].1
        };
        let odds = |p: f64| p / (1.0 - p);
        let (one, two) = (share(1.0), share(2.0));
        // Roxham: 5 - 1 (walking in); Lacolle: -1 (returned); the same taxi to both.
        assert!((odds(one) - (-5.0f64).exp()).abs() < 1e-12, "{one}");
        assert!((odds(two) - odds(one).powi(2)).abs() < 1e-12, "{two}");
    }

    #[test]
    fn waiting_is_an_option_only_where_the_place_gives_it_a_value() {
        let sc = corridor("", CHOICE, 1.0, "wait_value = 2.5");
        let t = table(&sc, &BEFORE_2023);
        let s = shares(&t[0][0]);
        assert_eq!(s.last().unwrap().0, WAIT);
        let rox = 5.0 - 1.0 - route_cost(&sc, 0) - route_cost(&sc, 1);
        let lac = -route_cost(&sc, 0) - route_cost(&sc, 2);
        let home = 2.0 - route_cost(&sc, 3);
        let p_wait = 2.5f64.exp() / (rox.exp() + lac.exp() + home.exp() + 2.5f64.exp());
        assert!((s.last().unwrap().1 - p_wait).abs() < 1e-12);
        assert!(
            shares(&t[1][0]).iter().all(|x| x.0 != WAIT),
            "not at Plattsburgh"
        );
    }

    /// The clocks of person `id` as the engine draws them.
    fn taste(id: u32) -> impl Fn(u16) -> f64 {
        move |end| {
            let slot = taste_slot(end, 0);
            crate::util::rng::exponential(7, u64::from(id), slot, crate::util::rng::Purpose::Taste)
        }
    }

    #[test]
    fn tastes_give_the_logit_over_people() {
        let sc = corridor(BACK, CHOICE, 1.0, "wait_value = 3.0");
        let t = table(&sc, &BEFORE_2023);
        let row = &t[0][0];
        let n = 40_000;
        let mut counts = std::collections::BTreeMap::new();
        for id in 0..n {
            *counts
                .entry(pick(row, taste(id)).unwrap_or(WAIT))
                .or_insert(0.0) += 1.0 / f64::from(n);
        }
        for (first, p) in shares(row) {
            let got = counts.get(&first).copied().unwrap_or(0.0);
            assert!((got - p).abs() < 0.01, "route {first}: {got} vs {p}");
        }
    }

    #[test]
    fn a_person_keeps_to_their_choice_along_the_way() {
        // Whoever leaves New York for Plattsburgh chooses at Plattsburgh, on the same day's
        // beliefs, the end they set out for: nobody rides back for nothing.
        let sc = corridor(BACK, CHOICE, 1.0, "wait_value = 3.0");
        let t = table(&sc, &BEFORE_2023);
        let mut went = 0;
        for id in 0..20_000 {
            if pick(&t[0][0], taste(id)) == Some(0) {
                went += 1;
                let at = pick(&t[1][0], taste(id));
                assert!(
                    at == Some(1) || at == Some(2),
                    "person {id} turns back: {at:?}"
                );
            }
        }
        assert!(went > 1000, "{went}");
    }

    #[test]
    fn pick_keyed_picks_what_pick_picks() {
        use crate::util::rng::{Purpose, key};
        let mut x = 3_u64;
        let mut next = || {
            x = key(x, 9, 1, Purpose::Taste);
            x
        };
        let mut chosen = 0;
        for n in [0, 1, 2, 3, 5, 7, 12, 32, 33, 40] {
            for round in 0..3000 {
                let r = next();
                let row: Vec<Choice> = (0..n)
                    .map(|i| {
                        let v = next();
                        // Paces near one another, equal, wide apart, and now and then not
                        // finite; some ends repeated (the same clock twice).
                        let pace = match (v >> 3) % 9 {
                            0 => 1.0,
                            1 => 1.0 + (v >> 40) as f64 * 1e-15,
                            2 if round % 50 == 0 => f64::INFINITY,
                            3 => ((v >> 20) % 1000) as f64,
                            4 => 1e-300,
                            _ => ((v >> 11) as f64 / (1u64 << 53) as f64 * 8.0).exp(),
                        };
                        Choice {
                            utility: 0.0,
                            pace,
                            end: if v % 5 == 0 { 0 } else { i as u16 },
                            first: if v % 7 == 0 { WAIT } else { i as u32 },
                        }
                    })
                    .collect();
                let seed = r;
                let keyed = |end: u16| key(seed, 1, u32::from(end), Purpose::Taste);
                let want = pick(&row, |end| crate::util::rng::exponential_of(keyed(end)));
                assert_eq!(pick_keyed(&row, keyed), want, "{row:?}");
                chosen += usize::from(want.is_some());
            }
        }
        assert!(chosen > 10_000, "{chosen}");
        // A row whose clocks cannot be told apart by their bounds: the same end twice at
        // the same pace ties, and the earlier option wins.
        let c = |first| Choice {
            utility: 0.0,
            pace: 2.0,
            end: 4,
            first,
        };
        assert_eq!(pick_keyed(&[c(1), c(2)], |e| u64::from(e) * 77), Some(1));
    }

    #[test]
    fn pick_takes_the_best_utility_plus_taste() {
        let c = |utility: f64, end, first| Choice {
            utility,
            pace: (2.0 - utility).exp(),
            end,
            first,
        };
        let row = [c(1.0, 3, 7), c(2.0, 4, 9), c(1.5, 5, WAIT)];
        // Tastes of 0 are clocks of 1: the best utility wins.
        assert_eq!(pick(&row, |_| 1.0), Some(9));
        // A taste of 1.1 for end 3 (a clock of e^-1.1) lifts it above end 4.
        let taste = |t: f64| (-t).exp();
        assert_eq!(
            pick(&row, |e| taste(if e == 3 { 1.1 } else { 0.0 })),
            Some(7)
        );
        assert_eq!(
            pick(&row, |e| taste(if e == 5 { 1.0 } else { 0.0 })),
            None,
            "waits"
        );
        assert_eq!(pick(&[], |_| 1.0), None);
    }
}
