//! One agent's day, and the phase that steps a slice of agents (in parallel, or on one
//! thread).
//!
//! Everything an agent does on a day is here (its next act is drawn in `hazards`), reading
//! only the day's frozen [`DayView`] and drawing only from keyed streams, so that it does
//! not matter which thread steps it or where it is stored. An agent that wants a shared
//! capacity files a request instead of taking it: granting is sequential and lives in
//! `grants`. The plain loop
//! ([`decide`], every agent every day) and the default ([`decide_fast`] and [`find_due`],
//! only the agents with something to do) sit side by side because they must stay
//! identical.

use super::grants::{BUS, Request};
use super::hazards::{self, HazardBook, hazards};
use super::store::Pos;
use super::tally::{Scratch, Tallies};
use crate::model::agent::{Agent, State};
use crate::model::choice::{self, ChoiceTable};
use crate::model::rules::{self, Outcome, Rules};
use crate::scenario::{CrossingKind, Duration, Metric, PlaceKind, Scenario};
use crate::util::rng::{self, Purpose};

/// The frozen view of one day that every agent reads.
pub(super) struct DayView<'a> {
    pub(super) sc: &'a Scenario,
    pub(super) seed: u64,
    pub(super) t: u32,
    pub(super) rules: Rules<'a>,
    pub(super) table: ChoiceTable,
    /// Whether the wide loops run today (`engine::wide`: the CPU has them, and the run did
    /// not ask for the scalar code), and the table's rows for the wide race, by place and
    /// choice type (else none).
    pub(super) wide: bool,
    #[cfg(target_arch = "x86_64")]
    pub(super) wide_rows: Vec<super::wide::Row>,
    /// The hazards of every day; today's is `hazards.on(t)`.
    pub(super) hazards: &'a HazardBook,
    /// Where the resettled arrive, while the quota is in force.
    pub(super) arrive_at: Option<u16>,
    /// Whether the pathway takes applications today: its intake is open and places remain.
    pub(super) intake: bool,
}

/// Whether a person applies to the resettlement pathway today, from abroad (on the day
/// they would have entered the US) or from where they wait in the US (instead of moving on).
fn applies(a: &Agent, v: &DayView, abroad: bool, prefix: u64) -> bool {
    match v.rules.quota {
        Some(q) if v.intake => {
            q.takes(abroad)
                && q.eligible(a.nationality, a.flags)
                && rng::uniform_from(prefix, v.t, Purpose::QuotaApply) < q.apply_share
        }
        _ => false,
    }
}

fn travel_days(d: &Duration, prefix: u64, t: u32) -> u16 {
    let u = rng::uniform_from(prefix, t, Purpose::Travel);
    let z = match d {
        Duration::LogNormal { .. } => rng::normal_from(prefix, t, Purpose::TravelNormal),
        _ => 0.0,
    };
    d.draw(u, z).min(u32::from(u16::MAX)) as u16
}

/// `prefix` is [`rng::prefix`]`(seed, id)`, here and below.
pub(super) fn depart(
    a: &mut Agent,
    to: u16,
    travel: &Duration,
    v: &DayView,
    acc: &mut Tallies,
    prefix: u64,
) {
    acc.add(a.place, Metric::Departures);
    a.state = State::Travelling;
    a.place = to;
    a.since = v.t as u16;
    a.until = (v.t as u16).saturating_add(travel_days(travel, prefix, v.t));
}

/// Sends a claimant back to the US side, or ends their journey after too many returns.
fn send_back(a: &mut Agent, v: &DayView, acc: &mut Tallies) {
    acc.add(a.place, Metric::Returned);
    acc.outcome(a.place, a.flags, false);
    let back = v.sc.places[a.place as usize].return_to.unwrap_or(a.place);
    a.place = back;
    a.since = v.t as u16;
    a.returns = a.returns.saturating_add(1);
    acc.add(back, Metric::Arrivals);
    if a.returns >= v.sc.behaviour.max_attempts {
        a.state = State::GaveUp;
        acc.add(back, Metric::GaveUp);
    } else {
        a.state = State::Returned;
    }
}

fn arrive(a: &mut Agent, v: &DayView, acc: &mut Tallies, prefix: u64) {
    let p = &v.sc.places[a.place as usize];
    acc.add(a.place, Metric::Arrivals);
    a.since = v.t as u16;
    match (p.kind, p.crossing) {
        (PlaceKind::Destination, _) => a.state = State::Settled,
        (PlaceKind::Crossing, Some(kind)) => {
            acc.add(a.place, Metric::Attempts);
            let outcome = match kind {
                CrossingKind::Port => rules::at_port(&v.rules, a.flags, p.stca),
                CrossingKind::Irregular => {
                    let intercepted = rng::uniform_from(prefix, v.t, Purpose::Detect) < p.detection;
                    if intercepted {
                        acc.add(a.place, Metric::Intercepted);
                    }
                    rules::at_irregular(&v.rules, a.flags, intercepted)
                }
            };
            match outcome {
                Outcome::Claim => {
                    acc.add(a.place, Metric::Claims);
                    acc.outcome(a.place, a.flags, true);
                    a.state = match kind {
                        CrossingKind::Port => State::ClaimedPort,
                        CrossingKind::Irregular => State::ClaimedIrregular,
                    };
                }
                Outcome::Returned => send_back(a, v, acc),
                Outcome::Evading => {
                    let window = v.rules.extension.map_or(0, |(w, _)| w);
                    a.state = State::Evading;
                    a.until = (v.t as u16).saturating_add(window as u16);
                }
            }
        }
        _ => a.state = State::Waiting,
    }
}

fn evade(a: &mut Agent, v: &DayView, acc: &mut Tallies, prefix: u64) {
    let daily = v.rules.extension.map_or(0.0, |(_, d)| d[a.place as usize]);
    let found = rng::uniform_from(prefix, v.t, Purpose::Evade) < daily;
    match rules::while_evading(a.flags, found) {
        Some(Outcome::Returned) => send_back(a, v, acc),
        Some(_) => {
            acc.add(a.place, Metric::Claims);
            acc.outcome(a.place, a.flags, true);
            a.state = State::ClaimedIrregular;
        }
        None if u32::from(a.until) <= v.t => {
            acc.add(a.place, Metric::Evaded);
            acc.outcome(a.place, a.flags, true);
            a.state = State::Evaded;
        }
        None => {}
    }
}

/// The first day: apply to the resettlement pathway from abroad (and enter the US only if
/// refused, see `grants`), or arrive, and ask for a bus seat.
fn enter(a: &mut Agent, pos: Pos, v: &DayView, acc: &mut Tallies, prefix: u64) {
    let id = a.id;
    if applies(a, v, true, prefix) {
        acc.add(a.place, Metric::Applied);
        acc.applicants.push((pos, true));
        return;
    }
    acc.add(a.place, Metric::Arrivals);
    if let Some(b) = v.rules.busing
        && b.from[a.place as usize]
        && rng::uniform_from(prefix, v.t, Purpose::Bus) < b.share
    {
        acc.requests.push(Request {
            resource: BUS,
            id,
            pos,
        });
    }
}

/// A person moving on picks a route, and departs or asks for a seat. `prefix` is
/// [`rng::prefix`]`(seed, id)`, shared by the agent's keys of the day. `exact` (the plain
/// loop) races every taste clock with [`choice::pick`], the reference that
/// [`choice::pick_keyed`]'s bounds must agree with; otherwise the race waits for the
/// slice's other races ([`Chooser`], [`step_slice`]).
fn choose_route(a: &mut Agent, pos: Pos, v: &DayView, acc: &mut Tallies, prefix: u64, exact: bool) {
    if applies(a, v, false, prefix) {
        acc.add(a.place, Metric::Applied);
        acc.applicants.push((pos, false));
        return;
    }
    if !exact {
        acc.scratch.choosers.push(Chooser {
            idx: pos.idx,
            prefix,
        });
        return;
    }
    let k = choice::choice_type(a.flags);
    let row = &v.table[a.place as usize][k];
    let (id, returns) = (u64::from(a.id), a.returns);
    let picked = choice::pick(row, |end| {
        rng::exponential(v.seed, id, choice::taste_slot(end, returns), Purpose::Taste)
    });
    take_route(a, pos, picked, v, acc, prefix);
}

/// An agent of the slice that moves on today and has yet to pick its route: its index in
/// the chunk, and its [`rng::prefix`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Chooser {
    idx: u32,
    prefix: u64,
}

/// Where the agent's row is among the day's wide rows.
#[cfg(target_arch = "x86_64")]
#[inline]
fn wide_row(a: &Agent) -> u32 {
    u32::from(a.place) * choice::CHOICE_TYPES as u32 + choice::choice_type(a.flags) as u32
}

/// Departs on the picked route, or asks for a seat on it; `None` is waiting on.
fn take_route(
    a: &mut Agent,
    pos: Pos,
    picked: Option<u32>,
    v: &DayView,
    acc: &mut Tallies,
    prefix: u64,
) {
    if let Some(r) = picked {
        let route = &v.sc.routes[r as usize];
        if route.capacity.is_some() {
            acc.requests.push(Request {
                resource: r,
                id: a.id,
                pos,
            });
        } else {
            depart(a, route.to, &route.travel, v, acc, prefix);
        }
    }
}

/// A day at a waiting place: give up, stay, or choose a route (the plain loop).
fn decide(a: &mut Agent, pos: Pos, v: &DayView, acc: &mut Tallies, prefix: u64) {
    let p = &v.sc.places[a.place as usize];
    let b = &v.sc.behaviour;
    let waited = v.t - u32::from(a.since);
    let permit = v.t - u32::from(a.entry) >= b.work_permit_days;
    let (give_up, give_up_or_move) = hazards(p, b, waited, permit, v.rules.shelter_max_stay);
    let u = rng::uniform(v.seed, u64::from(a.id), v.t, Purpose::Decide);
    if u < give_up {
        acc.add(a.place, Metric::GaveUp);
        a.state = State::GaveUp;
    } else if u < give_up_or_move {
        choose_route(a, pos, v, acc, prefix, true);
    }
}

/// [`decide`] with the day's hazard table and integer thresholds: the same decisions.
#[inline]
fn decide_fast(a: &mut Agent, pos: Pos, v: &DayView, acc: &mut Tallies, prefix: u64) {
    let waited = v.t - u32::from(a.since);
    let permit = v.t - u32::from(a.entry) >= v.sc.behaviour.work_permit_days;
    let [give_up, give_up_or_move] = v.hazards.on(v.t).get(v.sc, a.place, waited, permit);
    // The draw next_act made for this day: skipping ahead is exact only if they agree.
    let x = hazards::bits(prefix, v.t, Purpose::Decide);
    if x < give_up {
        acc.add(a.place, Metric::GaveUp);
        a.state = State::GaveUp;
    } else if x < give_up_or_move {
        choose_route(a, pos, v, acc, prefix, false);
    }
}

/// One agent's day, whatever its state. `decide` is the waiting agent's daily choice.
#[inline(always)]
fn step_with(
    a: &mut Agent,
    pos: Pos,
    v: &DayView,
    acc: &mut Tallies,
    decide: fn(&mut Agent, Pos, &DayView, &mut Tallies, u64),
    prefix: u64,
) {
    let t = v.t;
    match a.state {
        State::Waiting | State::Returned => {
            if a.state == State::Waiting
                && u32::from(a.entry) == t
                && a.since == a.entry
                && a.returns == 0
            {
                enter(a, pos, v, acc, prefix)
            } else {
                decide(a, pos, v, acc, prefix)
            }
        }
        State::Travelling if u32::from(a.until) <= t => arrive(a, v, acc, prefix),
        State::Evading if t > u32::from(a.since) => evade(a, v, acc, prefix),
        State::Approved if u32::from(a.until) <= t => {
            a.place = v.arrive_at.unwrap_or(a.place);
            a.state = State::Resettled;
            acc.add(a.place, Metric::Arrivals);
            acc.add(a.place, Metric::Resettled);
        }
        // Terminal, or waiting out a clock.
        _ => {}
    }
}

/// Agents in a unit of work of the parallel phase: finer than a chunk, because the work is
/// not spread evenly (the newest agents, at the end, have the most to do).
pub(super) const SLICE: usize = 1 << 10;

/// Steps, for the day, the agents of chunk `c` from index `from` on. Returns how many
/// became terminal.
pub(super) fn step_slice(
    c: usize,
    from: usize,
    agents: &mut [Agent],
    v: &DayView,
    acc: &mut Tallies,
    plain: bool,
) -> usize {
    let pos = |i: usize| Pos {
        chunk: c as u32,
        idx: (from + i) as u32,
    };
    if plain {
        for (i, a) in agents.iter_mut().enumerate() {
            let prefix = rng::prefix(v.seed, u64::from(a.id));
            step_with(a, pos(i), v, acc, decide, prefix);
            acc.count(a);
        }
        return 0;
    }
    Scratch::lend(&mut acc.scratch);
    let mut due = std::mem::take(&mut acc.scratch.due);
    let n = find_due(agents, v.t, &mut due, v.wide);
    // What an agent's day changed: counted, and a waiting agent's next act drawn (where
    // the wide loops run, for the slice's waiting agents together, at its end). An agent
    // due is never terminal, so one in a terminal state became so today.
    acc.scratch.waiting_jobs.clear();
    let finish = |a: &mut Agent, i: usize, s0: State, p0: u16, prefix: u64, acc: &mut Tallies| {
        if a.state != s0 || a.place != p0 {
            acc.moved(s0, p0, a.state, a.place);
        }
        if a.state.is_waiting() {
            if v.wide {
                acc.scratch.waiting_jobs.push((i as u32, prefix));
            } else {
                a.until = v.hazards.next_act(v.sc, prefix, a, v.t);
            }
        }
        usize::from(a.state.is_terminal())
    };
    let mut dead = 0;
    acc.scratch.choosers.clear();
    for &i in &due[..n] {
        let a = &mut agents[i as usize];
        let (s0, p0) = (a.state, a.place);
        // The seed-and-id part of every key the agent draws today.
        let prefix = rng::prefix(v.seed, u64::from(a.id));
        let choosers_before = acc.scratch.choosers.len();
        step_with(a, pos(i as usize), v, acc, decide_fast, prefix);
        // A chooser's day is finished after its race, below.
        if acc.scratch.choosers.len() == choosers_before {
            dead += finish(a, i as usize, s0, p0, prefix, acc);
        }
    }
    // The day's route choices of the slice, raced side by side (nothing else the agents
    // do depends on them, and what they add up is summed or sorted).
    let choosers = std::mem::take(&mut acc.scratch.choosers);
    let mut contenders = std::mem::take(&mut acc.scratch.contenders);
    contenders.clear();
    #[cfg(target_arch = "x86_64")]
    if v.wide {
        let mut races = std::mem::take(&mut acc.scratch.races);
        races.clear();
        races.extend(choosers.iter().map(|c| {
            let a = &agents[c.idx as usize - from];
            (wide_row(a), c.prefix, a.returns)
        }));
        debug_assert!(super::wide::available() && !v.wide_rows.is_empty());
        // SAFETY: `v.wide` only where `wide::available()` (`Simulation::new`).
        unsafe { super::wide::contenders(&v.wide_rows, &races, &mut contenders) };
        acc.scratch.races = races;
    }
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    for (n, c) in choosers.iter().enumerate() {
        // `idx` is the chunk's index; the slice starts at `from`.
        let i = c.idx as usize - from;
        let a = &mut agents[i];
        let (s0, p0) = (a.state, a.place);
        let k = choice::choice_type(a.flags);
        let row = &v.table[a.place as usize][k];
        let key = |end| rng::key_from(c.prefix, choice::taste_slot(end, a.returns), Purpose::Taste);
        #[cfg(target_arch = "x86_64")]
        let picked = match contenders.get(n) {
            Some(&m) if v.wide_rows[wide_row(a) as usize].lanes != 0 => {
                choice::pick_among(row, m, key)
            }
            _ => choice::pick_keyed(row, key),
        };
        #[cfg(not(target_arch = "x86_64"))]
        let picked = choice::pick_keyed(row, key);
        take_route(a, pos(i), picked, v, acc, c.prefix);
        dead += finish(a, i, s0, p0, c.prefix, acc);
    }
    #[cfg(target_arch = "x86_64")]
    if v.wide {
        // SAFETY: `v.wide` only where `wide::available()` (`Simulation::new`).
        unsafe {
            v.hazards
                .next_acts(v.sc, agents, &mut acc.scratch.waiting_jobs, v.t)
        };
    }
    acc.scratch.choosers = choosers;
    acc.scratch.contenders = contenders;
    acc.scratch.due = due;
    Scratch::lend(&mut acc.scratch);
    dead
}

/// Writes to `due` the indices of the agents with something to do on day `t`, and returns
/// how many: those entering, those whose clock runs out (a waiting agent's clock is the
/// day it will act, see [`HazardBook::next_act`]) and those evading (found or not, daily).
/// Everyone else is waiting out a clock, and costs a comparison (a sixteenth of a few
/// instructions where the CPU has AVX-512, see `wide`).
pub(super) fn find_due(agents: &[Agent], t: u32, due: &mut Vec<u32>, wide: bool) -> usize {
    if due.len() < agents.len() {
        due.resize(agents.len(), 0);
    }
    let due = &mut due[..agents.len()];
    #[cfg(target_arch = "x86_64")]
    if wide {
        debug_assert!(super::wide::available());
        // SAFETY: `wide` only where `wide::available()` (`Simulation::new`); `due` is as
        // long as `agents`, and days fit in 16 bits (a window is at most 160 years).
        let (n, from) = unsafe { super::wide::find_due(agents, t, due) };
        return find_due_from(agents, t, due, n, from);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = wide;
    find_due_from(agents, t, due, 0, 0)
}

/// [`find_due`], one agent at a time, from index `from` on, with `n` indices already
/// written.
pub(super) fn find_due_from(
    agents: &[Agent],
    t: u32,
    due: &mut [u32],
    mut n: usize,
    from: usize,
) -> usize {
    for (i, a) in agents.iter().enumerate().skip(from) {
        let s = a.state;
        let is_due = !s.is_terminal()
            & ((u32::from(a.until) <= t) | (u32::from(a.entry) == t) | (s == State::Evading));
        due[n] = i as u32;
        n += usize::from(is_due);
    }
    n
}
