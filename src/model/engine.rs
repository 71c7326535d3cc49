//! The engine: creates the agents from the inflows and steps them day by day.
//!
//! Each day has three phases, which is what makes a run independent of the thread count:
//!
//! 1. **Decide** (parallel): agents are split into chunks; each agent reads the day's frozen
//!    view (rules, beliefs, route choice tables, move hazards) and draws only from keyed
//!    streams (seed, agent, day, purpose). It updates itself and its thread's tallies. An
//!    agent that wants a shared capacity (a bus seat, a seat on a route with a daily
//!    capacity) files a request instead of moving.
//! 2. **Grant** (sequential, fixed order): requests are sorted by resource and a keyed
//!    lottery number and granted up to capacity; quota places go to applicants in the
//!    order they applied (ties by lottery), up to the places released that day.
//! 3. **Apply and count**: granted agents depart, tallies are summed (integers, so the sum
//!    does not depend on order), and beliefs learn from the day's outcomes.
//!
//! Nothing an agent does depends on where it is stored or which thread steps it, and every
//! draw is a function of (seed, agent, day, purpose), so the engine is free to skip work
//! the plain daily loop does, as long as the results stay identical. Tests prove they do,
//! against [`RunOptions::plain`], the reference loop that steps every agent every day and
//! counts every agent's state. What the default skips:
//!
//! * **Terminal agents** (claimed, resettled, settled, gave up) never change again: they
//!   are dropped from the chunks and only counted.
//! * **Counting**: the stocks (agents per state, people waiting per place) are carried from
//!   day to day and changed only by the agents that change state or place.
//! * **Days on which nothing happens.** Every agent has a day on which it next has
//!   something to do (`Agent::until`): arriving, the end of a wait for the quota or of the
//!   extension's window, resettlement, and, for a waiting agent, the first day its keyed
//!   daily draw falls below its hazard of giving up or moving on. That day is known in
//!   advance, because the hazards depend only on the place, the days waited, the work
//!   permit and the date's shelter limit ([`HazardBook::next_act`] makes the draws in one
//!   tight loop, with the hazards tabulated as integer thresholds that compare exactly as
//!   the plain loop's floating-point numbers do). Until then the agent costs a comparison
//!   a day. Evading agents are stepped every day.
//!
//! Agents are drawn a month at a time, when the run reaches the month (every agent of a
//! month enters within it), so memory holds the agents present, not all of the run's.

use crate::model::agent::{Agent, State};
use crate::model::beliefs::{self, Beliefs, ChoiceTable, Tally};
use crate::model::rules::{self, Outcome, Rules};
use crate::scenario::policy::{flags, has_exception};
use crate::scenario::{Behaviour, CrossingKind, Duration, Metric, Place, PlaceKind, Scenario};
use crate::util::date::{Date, Month};
use crate::util::rng::{self, Purpose};
use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use std::collections::VecDeque;

/// Most agents in a chunk of the parallel phase. Results do not depend on the chunking.
const CHUNK: usize = 1 << 14;

/// A resource id for bus seats in capacity requests (routes use their index).
const BUS: u32 = u32::MAX;

/// The longest wait (days) the daily hazard table covers; longer waits, if the scenario's
/// caps are longer still, are computed agent by agent. (Short in tests, so that they cover
/// both cases.)
#[cfg(not(test))]
const HAZARD_DAYS: u32 = 4096;
#[cfg(test)]
const HAZARD_DAYS: u32 = 64;

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Worker threads; `None` uses rayon's default (one per core).
    pub threads: Option<usize>,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Step every agent every day, terminal ones included, and count every agent's state
    /// (the reference loop that the default must match exactly).
    pub plain: bool,
}

/// What a run produces: tallies by day, place and metric, and agents by day and state.
#[derive(Debug, Clone)]
pub struct Results {
    pub start: Date,
    pub days: u32,
    pub places: usize,
    pub seed: u64,
    pub threads: usize,
    /// `[day][place][metric]`, in agents (multiply by the scenario's scale for people).
    pub counts: Vec<u64>,
    /// `[day][state]`: agents in each state at the end of the day.
    pub states: Vec<u64>,
    /// Agents created over the run, and agents created by the end of each day.
    pub agents: u64,
    pub created: Vec<u64>,
    /// Agent-days simulated: the sum over days of agents present (the plain loop's work).
    pub agent_days: u64,
    /// Quota places granted in each policy year.
    pub quota_granted: Vec<u64>,
}

impl Results {
    pub fn count(&self, day: u32, place: usize, m: Metric) -> u64 {
        self.counts[(day as usize * self.places + place) * Metric::COUNT + m as usize]
    }

    pub fn state_count(&self, day: u32, s: State) -> u64 {
        self.states[day as usize * State::COUNT + s as usize]
    }

    /// Total of a metric at a place over the run (the last day's value for a stock).
    pub fn total(&self, place: usize, m: Metric) -> u64 {
        if m.is_stock() {
            return self.count(self.days - 1, place, m);
        }
        (0..self.days).map(|d| self.count(d, place, m)).sum()
    }
}

// ------------------------------------------------------------------ random keys

/// An agent's daily draws, many days in a row: [`rng::key`]`(seed, id, day, purpose)` is
/// `mix(prefix(seed, id) ^ (day << 32 | purpose))`, so the prefix is computed once and each
/// day costs one mixing round instead of three. The mixer is `rng::mix`; a test checks
/// that both give the same numbers.
mod keys {
    use crate::util::rng::{Purpose, mix};

    /// The part of an agent's keys that depends on the seed and the id only.
    #[inline]
    pub fn prefix(seed: u64, id: u32) -> u64 {
        mix(seed ^ mix(u64::from(id)))
    }

    /// The 53 random bits behind `rng::uniform(seed, id, day, purpose)`, from the prefix.
    #[inline(always)]
    pub fn bits(prefix: u64, day: u32, purpose: Purpose) -> u64 {
        mix(prefix ^ ((u64::from(day) << 32) | purpose as u64)) >> 11
    }
}

/// The integer threshold `k` such that, for the 53 random bits `x` behind a keyed uniform
/// `u = x / 2^53` ([`rng::uniform`]), `u < p` exactly when `x < k`. (`x * 2^-53` is exact,
/// and for an integer `x`, `x < y` exactly when `x < ceil(y)`; `as` saturates, NaN gives 0.)
#[inline]
fn threshold(p: f64) -> u64 {
    (p * (1u64 << 53) as f64).ceil() as u64
}

// ------------------------------------------------------------------ agent creation

/// Agents drawn by one task of agent creation.
const SEGMENT: usize = 1 << 13;

/// One (inflow, month) of agent creation and its Poisson count.
#[derive(Debug, Clone)]
struct Job {
    inflow: usize,
    m: usize,
    n: usize,
}

/// The agents of one calendar month, all inflows together: they enter within the month,
/// so months can be drawn one at a time, when the run reaches them.
#[derive(Debug, Clone)]
struct MonthPlan {
    jobs: std::ops::Range<usize>,
    /// The id of its first agent, the number of agents, and the days they enter in: from
    /// `first_day` (from the window's start), `days` days.
    first_id: usize,
    n: usize,
    first_day: u32,
    days: u32,
}

/// Who enters when: every (inflow, month)'s count, drawn up front (cheap), by month.
#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    jobs: Vec<Job>,
    months: Vec<MonthPlan>,
    total: usize,
}

/// The keyed stream of one (inflow, month) after its Poisson count has been drawn, the
/// count, where its days start (from the window's start) and how many days it spreads over.
fn inflow_stream(sc: &Scenario, seed: u64, i: usize, m: usize) -> (Pcg64Mcg, usize, u16, u32) {
    let inf = &sc.inflows[i];
    let (month, rate) = inf.monthly[m];
    let first = month.first_day().0.max(sc.start.0);
    let days = sc.days_in(month);
    let mean = rate * f64::from(days) / f64::from(month.days());
    let mut r = rng::stream(seed, i as u64, month.0 as u32, Purpose::Inflow);
    let n = if mean > 0.0 {
        Poisson::new(mean).map_or(mean.round(), |p| p.sample(&mut r)) as u64
    } else {
        0
    };
    (r, n as usize, (first - sc.start.0) as u16, days)
}

impl Plan {
    fn new(sc: &Scenario, seed: u64) -> Plan {
        // By month, then inflow: the order agents of one day keep.
        let mut keyed: Vec<(Month, usize, usize)> = sc
            .inflows
            .iter()
            .enumerate()
            .flat_map(|(i, inf)| (0..inf.monthly.len()).map(move |m| (inf.monthly[m].0, i, m)))
            .collect();
        keyed.sort_by_key(|&(month, i, _)| (month, i));
        let jobs: Vec<Job> = keyed
            .par_iter()
            .map(|&(_, inflow, m)| Job {
                inflow,
                m,
                n: inflow_stream(sc, seed, inflow, m).1,
            })
            .collect();
        let mut months = Vec::new();
        let (mut total, mut j) = (0, 0);
        while j < jobs.len() {
            let end = j + keyed[j..].iter().take_while(|x| x.0 == keyed[j].0).count();
            let n = jobs[j..end].iter().map(|x| x.n).sum();
            if n > 0 {
                months.push(MonthPlan {
                    jobs: j..end,
                    first_id: total,
                    n,
                    first_day: (keyed[j].0.first_day().0 - sc.start.0).max(0) as u32,
                    days: sc.days_in(keyed[j].0),
                });
            }
            total += n;
            j = end;
        }
        Plan {
            seed,
            jobs,
            months,
            total,
        }
    }

    /// Draws the agents of month `k` into `out`, in order of entry, with their ids (their
    /// ranks in the run). `scratch` holds them in draw order first. Large inflows are drawn
    /// in segments, in parallel: each segment advances its copy of the stream past the
    /// draws before it (every agent takes the same number of draws).
    fn draw_month(
        &self,
        sc: &Scenario,
        k: usize,
        out: &mut Vec<Agent>,
        scratch: &mut Vec<Agent>,
        segment: usize,
    ) {
        let mp = &self.months[k];
        // The buffers are reused from month to month: resized, not refilled.
        let reuse = |v: &mut Vec<Agent>| {
            if v.len() < mp.n {
                v.resize(mp.n, Agent::default());
            }
            v.truncate(mp.n);
        };
        reuse(scratch);
        let mut tasks = Vec::new();
        let mut rest = scratch.as_mut_slice();
        for job in &self.jobs[mp.jobs.clone()] {
            let mut start = 0;
            while start < job.n {
                let len = segment.min(job.n - start);
                let (head, tail) = rest.split_at_mut(len);
                tasks.push((job, start, head));
                rest = tail;
                start += len;
            }
        }
        // Each task draws its agents and counts them by day of the month.
        let first = mp.first_day as u16;
        let days = mp.days as usize;
        let counts: Vec<Vec<usize>> = tasks
            .par_iter_mut()
            .map(|(job, start, slice)| {
                let (mut r, _, from, spread) = inflow_stream(sc, self.seed, job.inflow, job.m);
                let inf = &sc.inflows[job.inflow];
                let draws = 6 + u128::from(!inf.first_day);
                r.advance(draws * *start as u128);
                draw_agents(sc, job.inflow, &mut r, from, spread, slice);
                let mut count = vec![0; days];
                for a in slice.iter() {
                    count[usize::from(a.entry - first)] += 1;
                }
                count
            })
            .collect();
        // In order of entry, a stable counting sort: day by day, the tasks in order (that
        // is, by inflow, then draw). Each task gets its share of each day's places.
        reuse(out);
        let mut places: Vec<Vec<(usize, &mut [Agent])>> =
            (0..tasks.len()).map(|_| Vec::with_capacity(days)).collect();
        let (mut rest, mut at) = (out.as_mut_slice(), mp.first_id);
        for d in 0..days {
            for (task, count) in places.iter_mut().zip(&counts) {
                let (head, tail) = rest.split_at_mut(count[d]);
                task.push((at, head));
                rest = tail;
                at += count[d];
            }
        }
        tasks
            .into_par_iter()
            .zip(places)
            .for_each(|((_, _, drawn), mut places)| {
                let mut next = vec![0; days];
                for a in drawn.iter() {
                    let d = usize::from(a.entry - first);
                    let (id, place) = &mut places[d];
                    place[next[d]] = Agent {
                        id: (*id + next[d]) as u32,
                        ..*a
                    };
                    next[d] += 1;
                }
            });
    }
}

/// Draws agents of inflow `i` from its stream into `out`, in draw order (without ids).
fn draw_agents(
    sc: &Scenario,
    i: usize,
    r: &mut Pcg64Mcg,
    first: u16,
    days: u32,
    out: &mut [Agent],
) {
    let inf = &sc.inflows[i];
    for slot in out {
        let day = first
            + if inf.first_day {
                0
            } else {
                (r.random::<f64>() * f64::from(days)) as u16
            };
        let u: f64 = r.random();
        let mut cum = 0.0;
        let mut nationality = inf.nationalities.last().map_or(0, |x| x.0);
        for &(id, share) in &inf.nationalities {
            cum += share;
            if u < cum {
                nationality = id;
                break;
            }
        }
        let mut f = 0;
        for (p, bit) in [
            (inf.p_family_in_canada, flags::FAMILY_IN_CANADA),
            (inf.p_unaccompanied_minor, flags::UNACCOMPANIED_MINOR),
            (inf.p_canadian_document, flags::CANADIAN_DOCUMENT),
            (inf.p_public_interest, flags::PUBLIC_INTEREST),
            (inf.p_visa, flags::VISA),
        ] {
            if r.random::<f64>() < p {
                f |= bit;
            }
        }
        *slot = Agent {
            id: 0,
            entry: day,
            since: day,
            until: u16::MAX,
            place: inf.entry,
            state: State::Waiting,
            flags: f,
            nationality,
            returns: 0,
        };
    }
}

/// Creates every agent of the run, in order of entry; an agent's id is its rank. Counts
/// per inflow and month are Poisson draws; each agent's day and attributes come from its
/// (inflow, month) stream. Agents of one day are in (inflow, month, draw) order.
///
/// A run does not call this: it draws each month's agents when it reaches the month, so
/// that only the agents present are held in memory.
pub fn create_agents(sc: &Scenario, seed: u64) -> Vec<Agent> {
    let plan = Plan::new(sc, seed);
    let mut agents = Vec::with_capacity(plan.total);
    let (mut month, mut scratch) = (Vec::new(), Vec::new());
    for k in 0..plan.months.len() {
        plan.draw_month(sc, k, &mut month, &mut scratch, SEGMENT);
        agents.extend_from_slice(&month);
    }
    agents
}

// ------------------------------------------------------------------ the day's view

/// The frozen view of one day that every agent reads.
struct DayView<'a> {
    sc: &'a Scenario,
    seed: u64,
    t: u32,
    rules: Rules<'a>,
    table: ChoiceTable,
    /// The hazards of every day; today's is `hazards.on(t)`.
    hazards: &'a HazardBook,
    /// Where the resettled arrive, while the quota is in force.
    arrive_at: Option<u16>,
}

/// A waiting person's daily probabilities of giving up, and of giving up or moving on.
/// The one place this arithmetic is written, for the plain loop and the hazard table.
#[inline]
fn hazards(
    p: &Place,
    b: &Behaviour,
    waited: u32,
    permit: bool,
    shelter_max: Option<u32>,
) -> (f64, f64) {
    let mut mv =
        p.move_rate * (1.0 + b.wait_growth * f64::from(waited.min(b.wait_cap_days)) / 30.0);
    let mut give_up = b.give_up_rate;
    if permit {
        mv *= b.permit_move_factor;
        give_up *= b.permit_give_up_factor;
    }
    if p.shelter
        && let Some(max) = shelter_max
        && waited >= max
    {
        mv *= b.shelter_exit_factor;
    }
    (give_up, give_up + mv)
}

/// Move hazards as integer thresholds, by place, work permit and days waited, for one
/// shelter limit (the only rule they depend on).
#[derive(Debug, Clone)]
struct Hazards {
    shelter_max: Option<u32>,
    /// Days waited the table covers: `0..=limit`.
    limit: u32,
    /// Whether waits beyond `limit` have the hazards of `limit`.
    saturates: bool,
    /// `[place][permit][waited]`: thresholds for giving up, and for giving up or moving.
    thr: Vec<[u64; 2]>,
    /// The same, the larger of the two: below it, something happens.
    any: Vec<u64>,
}

impl Hazards {
    fn new(sc: &Scenario, shelter_max: Option<u32>) -> Hazards {
        let b = &sc.behaviour;
        // Past both the wait cap and the shelter limit, nothing changes with the wait.
        let flat = b.wait_cap_days.max(shelter_max.unwrap_or(0));
        let limit = flat.min(HAZARD_DAYS);
        let mut thr = Vec::with_capacity(sc.places.len() * 2 * (limit as usize + 1));
        for p in &sc.places {
            for permit in [false, true] {
                for w in 0..=limit {
                    let (g, m) = hazards(p, b, w, permit, shelter_max);
                    thr.push([threshold(g), threshold(m)]);
                }
            }
        }
        Hazards {
            shelter_max,
            limit,
            saturates: flat <= HAZARD_DAYS,
            any: thr.iter().map(|&[g, m]| g.max(m)).collect(),
            thr,
        }
    }

    #[inline(always)]
    fn index(&self, place: u16, waited: u32, permit: bool) -> usize {
        let width = self.limit as usize + 1;
        (place as usize * 2 + usize::from(permit)) * width + waited.min(self.limit) as usize
    }

    /// Thresholds for giving up, and for giving up or moving on.
    #[inline]
    fn get(&self, sc: &Scenario, place: u16, waited: u32, permit: bool) -> [u64; 2] {
        if waited > self.limit && !self.saturates {
            return self.beyond(sc, place, waited, permit);
        }
        self.thr[self.index(place, waited, permit)]
    }

    /// [`Hazards::get`] for a wait longer than the table.
    #[cold]
    #[inline(never)]
    fn beyond(&self, sc: &Scenario, place: u16, waited: u32, permit: bool) -> [u64; 2] {
        let p = &sc.places[place as usize];
        let (g, m) = hazards(p, &sc.behaviour, waited, permit, self.shelter_max);
        [threshold(g), threshold(m)]
    }
}

/// The hazard tables of every day of the window: one per shelter limit in force.
#[derive(Debug, Clone)]
struct HazardBook {
    /// By day of the window, the table in force, and the first later day with another.
    day: Vec<u16>,
    until: Vec<u32>,
    tables: Vec<Hazards>,
}

impl HazardBook {
    fn new(sc: &Scenario) -> HazardBook {
        let mut tables: Vec<Hazards> = Vec::new();
        let day: Vec<u16> = (0..sc.days())
            .map(|d| {
                let shelter = Rules::on(&sc.policies, sc.start.add_days(d as i32)).shelter_max_stay;
                let k = match tables.iter().position(|h| h.shelter_max == shelter) {
                    Some(k) => k,
                    None => {
                        tables.push(Hazards::new(sc, shelter));
                        tables.len() - 1
                    }
                };
                k as u16
            })
            .collect();
        let mut until = vec![day.len() as u32; day.len()];
        for d in (0..day.len().saturating_sub(1)).rev() {
            until[d] = if day[d + 1] == day[d] {
                until[d + 1]
            } else {
                d as u32 + 1
            };
        }
        HazardBook { day, until, tables }
    }

    #[inline(always)]
    fn on(&self, d: u32) -> &Hazards {
        &self.tables[self.day[d as usize] as usize]
    }

    /// The first day after `t` on which a waiting agent gives up or moves on: its draw
    /// falls below its hazard (`u16::MAX` if none before the window ends). Until then its
    /// days are exactly the plain loop's days in which nothing happens, so it is not
    /// stepped: the draws are made here, in one tight loop, instead of one a day.
    fn next_act(&self, sc: &Scenario, seed: u64, a: &Agent, t: u32) -> u16 {
        let key = keys::prefix(seed, a.id);
        let days = self.day.len() as u32;
        let since = u32::from(a.since);
        let permit_from = u32::from(a.entry) + sc.behaviour.work_permit_days;
        let mut d = t + 1;
        // Stretches of days with the same table and the same work permit.
        while d < days {
            let h = self.on(d);
            let permit = d >= permit_from;
            let mut end = self.until[d as usize];
            if !permit {
                end = end.min(permit_from);
            }
            let width = h.limit as usize + 1;
            let row = &h.any[(a.place as usize * 2 + usize::from(permit)) * width..][..width];
            for day in d..end {
                let waited = day - since;
                let any = if waited > h.limit && !h.saturates {
                    let [g, m] = h.beyond(sc, a.place, waited, permit);
                    g.max(m)
                } else {
                    row[waited.min(h.limit) as usize]
                };
                if keys::bits(key, day, Purpose::Decide) < any {
                    return day as u16;
                }
            }
            d = end;
        }
        u16::MAX
    }
}

// ------------------------------------------------------------------ tallies

/// Where an agent is stored: its chunk and its index there (stable for the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    chunk: u32,
    idx: u32,
}

/// A request for a seat: the resource, the agent and where it is.
#[derive(Debug, Clone, Copy)]
struct Request {
    resource: u32,
    id: u32,
    pos: Pos,
}

/// One thread's tallies for the day.
struct Tallies {
    /// Flows by place and metric (the `waiting` stock is kept in `waiting`).
    counts: Vec<u64>,
    /// Agents by state, and agents waiting (or returned) by place: in the plain loop,
    /// counted agent by agent; otherwise the day's changes to the stocks.
    states: [i64; State::COUNT],
    waiting: Vec<i64>,
    outcomes: Vec<[Tally; 2]>,
    requests: Vec<Request>,
    applicants: Vec<u32>,
    /// Scratch: the agents of a slice with something to do today.
    due: Vec<u32>,
    /// Agents that became terminal today, by chunk.
    dead: Vec<(usize, usize)>,
}

impl Tallies {
    fn new(places: usize) -> Tallies {
        Tallies {
            counts: vec![0; places * Metric::COUNT],
            states: [0; State::COUNT],
            waiting: vec![0; places],
            outcomes: vec![[[0; 2]; 2]; places],
            requests: Vec::new(),
            applicants: Vec::new(),
            due: Vec::new(),
            dead: Vec::new(),
        }
    }

    #[inline]
    fn add(&mut self, place: u16, m: Metric) {
        self.counts[place as usize * Metric::COUNT + m as usize] += 1;
    }

    #[inline]
    fn outcome(&mut self, place: u16, f: u8, success: bool) {
        self.outcomes[place as usize][usize::from(has_exception(f))][usize::from(!success)] += 1;
    }

    /// The plain loop: counts one agent's state at the end of its day.
    #[inline]
    fn count(&mut self, a: &Agent) {
        self.states[a.state as usize] += 1;
        if a.state.is_waiting() {
            self.waiting[a.place as usize] += 1;
        }
    }

    /// An agent changed from state `s0` at `p0` to `s1` at `p1`.
    #[inline]
    fn moved(&mut self, s0: State, p0: u16, s1: State, p1: u16) {
        self.states[s0 as usize] -= 1;
        self.states[s1 as usize] += 1;
        if s0.is_waiting() {
            self.waiting[p0 as usize] -= 1;
        }
        if s1.is_waiting() {
            self.waiting[p1 as usize] += 1;
        }
    }

    fn merge(mut self, o: Tallies) -> Tallies {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
        for (a, b) in self.states.iter_mut().zip(o.states) {
            *a += b;
        }
        for (a, b) in self.waiting.iter_mut().zip(o.waiting) {
            *a += b;
        }
        for (a, b) in self.outcomes.iter_mut().zip(o.outcomes) {
            for k in 0..2 {
                a[k][0] += b[k][0];
                a[k][1] += b[k][1];
            }
        }
        self.requests.extend(o.requests);
        self.applicants.extend(o.applicants);
        self.dead.extend(o.dead);
        self
    }
}

// ------------------------------------------------------------------ what agents do

fn travel_days(d: &Duration, seed: u64, id: u32, t: u32) -> u16 {
    let u = rng::uniform(seed, u64::from(id), t, Purpose::Travel);
    let z = match d {
        Duration::LogNormal { .. } => rng::normal(seed, u64::from(id), t, Purpose::TravelNormal),
        _ => 0.0,
    };
    d.draw(u, z).min(u32::from(u16::MAX)) as u16
}

fn depart(a: &mut Agent, to: u16, travel: &Duration, v: &DayView, acc: &mut Tallies) {
    acc.add(a.place, Metric::Departures);
    a.state = State::Travelling;
    a.place = to;
    a.since = v.t as u16;
    a.until = (v.t as u16).saturating_add(travel_days(travel, v.seed, a.id, v.t));
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

fn arrive(a: &mut Agent, v: &DayView, acc: &mut Tallies) {
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
                    let intercepted =
                        rng::uniform(v.seed, u64::from(a.id), v.t, Purpose::Detect) < p.detection;
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

fn evade(a: &mut Agent, v: &DayView, acc: &mut Tallies) {
    let daily = v.rules.extension.map_or(0.0, |(_, d)| d[a.place as usize]);
    let found = rng::uniform(v.seed, u64::from(a.id), v.t, Purpose::Evade) < daily;
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

/// The first day in the US: apply to the quota, ask for a bus seat, or just arrive.
fn enter(a: &mut Agent, pos: Pos, v: &DayView, acc: &mut Tallies) {
    let id = a.id;
    if let Some(q) = v.rules.quota
        && q.eligible(a.nationality, a.flags)
        && rng::uniform(v.seed, u64::from(id), v.t, Purpose::QuotaApply) < q.apply_share
    {
        acc.add(a.place, Metric::Applied);
        acc.applicants.push(id);
        a.state = State::Applied;
        a.until = (v.t as u16).saturating_add(q.max_wait_days.min(60_000) as u16);
        return;
    }
    acc.add(a.place, Metric::Arrivals);
    if let Some(b) = v.rules.busing
        && b.from[a.place as usize]
        && rng::uniform(v.seed, u64::from(id), v.t, Purpose::Bus) < b.share
    {
        acc.requests.push(Request {
            resource: BUS,
            id,
            pos,
        });
    }
}

/// A person moving on picks a route, and departs or asks for a seat.
fn choose_route(a: &mut Agent, pos: Pos, v: &DayView, acc: &mut Tallies) {
    let k = beliefs::choice_type(a.flags);
    let ur = rng::uniform(v.seed, u64::from(a.id), v.t, Purpose::Route);
    if let Some(r) = beliefs::pick(&v.table[a.place as usize][k], ur) {
        let route = &v.sc.routes[r as usize];
        if route.capacity.is_some() {
            acc.requests.push(Request {
                resource: r,
                id: a.id,
                pos,
            });
        } else {
            depart(a, route.to, &route.travel, v, acc);
        }
    }
}

/// A day at a waiting place: give up, stay, or choose a route (the plain loop).
fn decide(a: &mut Agent, pos: Pos, v: &DayView, acc: &mut Tallies) {
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
        choose_route(a, pos, v, acc);
    }
}

/// [`decide`] with the day's hazard table and integer thresholds: the same decisions.
#[inline]
fn decide_fast(a: &mut Agent, pos: Pos, v: &DayView, acc: &mut Tallies) {
    let waited = v.t - u32::from(a.since);
    let permit = v.t - u32::from(a.entry) >= v.sc.behaviour.work_permit_days;
    let [give_up, give_up_or_move] = v.hazards.on(v.t).get(v.sc, a.place, waited, permit);
    let x = rng::key(v.seed, u64::from(a.id), v.t, Purpose::Decide) >> 11;
    if x < give_up {
        acc.add(a.place, Metric::GaveUp);
        a.state = State::GaveUp;
    } else if x < give_up_or_move {
        choose_route(a, pos, v, acc);
    }
}

/// One agent's day, whatever its state. `decide` is the waiting agent's daily choice.
#[inline(always)]
fn step_with(
    a: &mut Agent,
    pos: Pos,
    v: &DayView,
    acc: &mut Tallies,
    decide: fn(&mut Agent, Pos, &DayView, &mut Tallies),
) {
    let t = v.t;
    match a.state {
        State::Waiting | State::Returned => {
            if a.state == State::Waiting
                && u32::from(a.entry) == t
                && a.since == a.entry
                && a.returns == 0
            {
                enter(a, pos, v, acc)
            } else {
                decide(a, pos, v, acc)
            }
        }
        State::Travelling if u32::from(a.until) <= t => arrive(a, v, acc),
        State::Evading if t > u32::from(a.since) => evade(a, v, acc),
        State::Applied if u32::from(a.until) <= t => {
            // No place in time: travels north after all, entering the US today.
            a.state = State::Waiting;
            a.entry = t as u16;
            a.since = t as u16;
            acc.add(a.place, Metric::Arrivals);
        }
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

// ------------------------------------------------------------------ the agents' store

/// Agents in id order, split into chunks of at most [`CHUNK`].
#[derive(Debug, Clone, Default)]
struct Chunk {
    agents: Vec<Agent>,
    /// Agents here in a terminal state, not yet removed.
    dead: usize,
}

impl Chunk {
    /// Removes the agents in a terminal state.
    fn compact(&mut self) {
        self.agents.retain(|a| !a.state.is_terminal());
        self.dead = 0;
    }
}

/// Agents in a unit of work of the parallel phase: finer than a chunk, because the work is
/// not spread evenly (the newest agents, at the end, have the most to do).
const SLICE: usize = 1 << 10;

/// Steps, for the day, the agents of chunk `c` from index `from` on. Returns how many
/// became terminal.
fn step_slice(
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
            step_with(a, pos(i), v, acc, decide);
            acc.count(a);
        }
        return 0;
    }
    let mut due = std::mem::take(&mut acc.due);
    let n = find_due(agents, v.t, &mut due);
    let mut dead = 0;
    for &i in &due[..n] {
        let a = &mut agents[i as usize];
        let (s0, p0) = (a.state, a.place);
        step_with(a, pos(i as usize), v, acc, decide_fast);
        if a.state != s0 || a.place != p0 {
            acc.moved(s0, p0, a.state, a.place);
            dead += usize::from(a.state.is_terminal());
        }
        if a.state.is_waiting() {
            a.until = v.hazards.next_act(v.sc, v.seed, a, v.t);
        }
    }
    acc.due = due;
    dead
}

/// Writes to `due` the indices of the agents with something to do on day `t`, and returns
/// how many: those entering, those whose clock runs out (a waiting agent's clock is the
/// day it will act, see [`HazardBook::next_act`]) and those evading (found or not, daily).
/// Everyone else is waiting out a clock, and costs a comparison.
fn find_due(agents: &[Agent], t: u32, due: &mut Vec<u32>) -> usize {
    if due.len() < agents.len() {
        due.resize(agents.len(), 0);
    }
    let due = &mut due[..agents.len()];
    let mut n = 0;
    for (i, a) in agents.iter().enumerate() {
        let s = a.state;
        let is_due = !s.is_terminal()
            & ((u32::from(a.until) <= t) | (u32::from(a.entry) == t) | (s == State::Evading));
        due[n] = i as u32;
        n += usize::from(is_due);
    }
    n
}

/// The agent with this id, if it is still stored (chunks and agents are in id order).
fn find(chunks: &[Chunk], id: u32) -> Option<Pos> {
    let c = chunks.partition_point(|c| c.agents.last().is_some_and(|a| a.id < id));
    let i = chunks
        .get(c)?
        .agents
        .binary_search_by_key(&id, |a| a.id)
        .ok()?;
    Some(Pos {
        chunk: c as u32,
        idx: i as u32,
    })
}

/// Removes terminal agents where they take more than a quarter of a chunk, and joins
/// neighbouring chunks that have become small (emptied ones go to `spare`). Keeps id order.
fn tidy(chunks: &mut Vec<Chunk>, spare: &mut Vec<Chunk>) {
    let crowded = |c: &Chunk| c.dead * 4 > c.agents.len();
    if chunks.iter().any(crowded) {
        chunks
            .par_iter_mut()
            .filter(|c| crowded(c))
            .for_each(Chunk::compact);
    }
    let mut kept: Vec<Chunk> = Vec::with_capacity(chunks.len());
    for mut c in chunks.drain(..) {
        match kept.last_mut() {
            Some(last) if last.agents.len() + c.agents.len() <= CHUNK / 2 => {
                last.agents
                    .extend(c.agents.iter().filter(|a| !a.state.is_terminal()));
            }
            _ if !c.agents.is_empty() => {
                kept.push(c);
                continue;
            }
            _ => {}
        }
        if spare.len() < 16 {
            c.agents.clear();
            c.dead = 0;
            spare.push(c);
        }
    }
    *chunks = kept;
}

// ------------------------------------------------------------------ grants

/// The quota's queue (agent ids in order of application) and this policy year's count.
#[derive(Debug, Clone, Default)]
struct QuotaBook {
    queue: VecDeque<u32>,
    year: i32,
    available: u64,
    granted: Vec<u64>,
}

fn grant_seats(chunks: &mut [Chunk], day: &mut Tallies, v: &DayView) {
    if day.requests.is_empty() {
        return;
    }
    let mut reqs = std::mem::take(&mut day.requests);
    // By resource, then a lottery keyed by the agent's id: the same order whatever the
    // agents' positions.
    reqs.sort_by_cached_key(|q| {
        (
            q.resource,
            rng::key(v.seed, u64::from(q.id), v.t, Purpose::Lottery),
            q.id,
        )
    });
    let mut i = 0;
    while i < reqs.len() {
        let r = reqs[i].resource;
        let end = i + reqs[i..].iter().take_while(|x| x.resource == r).count();
        let (cap, to, travel) = if r == BUS {
            let b = v
                .rules
                .busing
                .expect("bus requests are made only while busing is in force");
            (b.daily_capacity as usize, b.to, b.travel)
        } else {
            let route = &v.sc.routes[r as usize];
            (
                route.capacity.unwrap_or(u32::MAX) as usize,
                route.to,
                route.travel,
            )
        };
        for q in reqs[i..end].iter().take(cap) {
            let chunk = &mut chunks[q.pos.chunk as usize];
            let a = &mut chunk.agents[q.pos.idx as usize];
            let (s0, p0) = (a.state, a.place);
            if r == BUS {
                day.add(p0, Metric::Bused);
            }
            depart(a, to, &travel, v, day);
            day.moved(s0, p0, a.state, a.place);
        }
        i = end;
    }
}

fn grant_quota(chunks: &mut [Chunk], day: &mut Tallies, v: &DayView, book: &mut QuotaBook) {
    let mut applicants = std::mem::take(&mut day.applicants);
    applicants
        .sort_by_cached_key(|&id| (rng::key(v.seed, u64::from(id), v.t, Purpose::Lottery), id));
    book.queue.extend(applicants);
    let Some(q) = v.rules.quota else { return };
    let date = v.sc.start.add_days(v.t as i32);
    let year = q.year_of(date);
    if year != book.year || book.granted.is_empty() {
        book.year = year;
        book.available = 0;
        if book.granted.len() <= year as usize {
            book.granted.resize(year as usize + 1, 0);
        }
    }
    book.available += u64::from(q.released_on(date));
    while book.available > 0 {
        let Some(id) = book.queue.pop_front() else {
            break;
        };
        let Some(pos) = find(chunks, id) else {
            continue;
        };
        let chunk = &mut chunks[pos.chunk as usize];
        let a = &mut chunk.agents[pos.idx as usize];
        if a.state != State::Applied {
            continue;
        }
        a.state = State::Approved;
        a.until = (v.t as u16).saturating_add(q.processing_days.min(60_000) as u16);
        day.moved(State::Applied, a.place, State::Approved, a.place);
        book.available -= 1;
        book.granted[year as usize] += 1;
    }
}

// ------------------------------------------------------------------ running

/// Runs a scenario in its own thread pool. `progress` is called after each day with
/// (day, days, agents so far).
pub fn run(
    sc: &Scenario,
    opts: &RunOptions,
    progress: &mut (dyn FnMut(u32, u32, u64) + Send),
) -> Results {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .expect("a rayon pool with default settings builds");
    pool.install(|| {
        let mut sim = Simulation::new(sc, opts);
        while !sim.done() {
            sim.step();
            progress(sim.day(), sc.days(), sim.entered() as u64);
        }
        sim.finish()
    })
}

/// Runs a scenario in the current rayon context (for ensembles that run many at once).
pub fn simulate(sc: &Scenario, opts: &RunOptions) -> Results {
    let mut sim = Simulation::new(sc, opts);
    while !sim.done() {
        sim.step();
    }
    sim.finish()
}

/// A run in progress, one [`Simulation::step`] per day. Cloning one gives an independent
/// copy that continues identically (benchmarks step a clone of a warm run).
#[derive(Debug, Clone)]
pub struct Simulation<'a> {
    sc: &'a Scenario,
    seed: u64,
    plain: bool,
    t: u32,
    out_routes: Vec<Vec<u32>>,
    /// Who enters when; the next month to draw; its agents, in order of entry, from `next`
    /// on not yet entered; scratch space for drawing them.
    plan: Plan,
    month: usize,
    pending: Vec<Agent>,
    next: usize,
    scratch: Vec<Agent>,
    entered: usize,
    /// Entered agents, in id order (without most terminal ones unless `plain`).
    chunks: Vec<Chunk>,
    /// Emptied chunks, for reuse.
    spare: Vec<Chunk>,
    /// Agents by state and agents waiting by place at the end of the last day.
    stock: [u64; State::COUNT],
    waiting: Vec<u64>,
    hazards: HazardBook,
    beliefs: Beliefs,
    book: QuotaBook,
    res: Results,
}

impl<'a> Simulation<'a> {
    /// Draws how many agents enter each month; nothing has happened yet. The agents
    /// themselves are drawn a month at a time, as the run reaches each month.
    pub fn new(sc: &'a Scenario, opts: &RunOptions) -> Simulation<'a> {
        let seed = opts.seed.unwrap_or(sc.seed);
        let days = sc.days();
        let np = sc.places.len();
        let plan = Plan::new(sc, seed);
        let mut out_routes: Vec<Vec<u32>> = vec![Vec::new(); np];
        for (i, r) in sc.routes.iter().enumerate() {
            out_routes[r.from as usize].push(i as u32);
        }
        let res = Results {
            start: sc.start,
            days,
            places: np,
            seed,
            threads: rayon::current_num_threads(),
            counts: vec![0; days as usize * np * Metric::COUNT],
            states: vec![0; days as usize * State::COUNT],
            agents: plan.total as u64,
            created: vec![0; days as usize],
            agent_days: 0,
            quota_granted: Vec::new(),
        };
        Simulation {
            sc,
            seed,
            plain: opts.plain,
            t: 0,
            out_routes,
            plan,
            month: 0,
            pending: Vec::new(),
            next: 0,
            scratch: Vec::new(),
            entered: 0,
            chunks: Vec::new(),
            spare: Vec::new(),
            stock: [0; State::COUNT],
            waiting: vec![0; np],
            hazards: HazardBook::new(sc),
            beliefs: Beliefs::new(sc, &Rules::on(&sc.policies, sc.start)),
            book: QuotaBook::default(),
            res,
        }
    }

    /// Days simulated so far.
    pub fn day(&self) -> u32 {
        self.t
    }

    pub fn done(&self) -> bool {
        self.t >= self.res.days
    }

    /// Agents entered so far.
    pub fn entered(&self) -> usize {
        self.entered
    }

    /// Agents each day now looks at: entered and not yet in a terminal state (in the plain
    /// loop, every agent entered).
    pub fn active(&self) -> usize {
        if self.plain {
            return self.entered;
        }
        State::ALL
            .iter()
            .filter(|s| !s.is_terminal())
            .map(|&s| self.stock[s as usize] as usize)
            .sum()
    }

    /// Brings in the agents entering on day `t`, at the end of the chunks.
    fn admit(&mut self, t: u32) {
        // A month's agents all enter within it: a new month starts when the last is done.
        while self.next == self.pending.len()
            && self
                .plan
                .months
                .get(self.month)
                .is_some_and(|m| m.first_day <= t)
        {
            let (sc, k) = (self.sc, self.month);
            self.plan
                .draw_month(sc, k, &mut self.pending, &mut self.scratch, SEGMENT);
            self.next = 0;
            self.month += 1;
        }
        let rest = &self.pending[self.next..];
        let n = rest.partition_point(|a| u32::from(a.entry) <= t);
        let mut new = &rest[..n];
        if !self.plain {
            self.stock[State::Waiting as usize] += n as u64;
            for a in new {
                self.waiting[a.place as usize] += 1;
            }
        }
        while !new.is_empty() {
            if self.chunks.last().is_none_or(|c| c.agents.len() >= CHUNK) {
                let chunk = self.spare.pop().unwrap_or_else(|| Chunk {
                    agents: Vec::with_capacity(CHUNK),
                    dead: 0,
                });
                self.chunks.push(chunk);
            }
            let last = self.chunks.last_mut().expect("a chunk was just ensured");
            let k = (CHUNK - last.agents.len()).min(new.len());
            last.agents.extend_from_slice(&new[..k]);
            new = &new[k..];
        }
        self.next += n;
        self.entered += n;
    }

    /// Simulates one day. Does nothing once the window is over.
    pub fn step(&mut self) {
        if self.done() {
            return;
        }
        let (sc, t, np) = (self.sc, self.t, self.sc.places.len());
        let date = sc.start.add_days(t as i32);
        if !self.plain {
            tidy(&mut self.chunks, &mut self.spare);
        }
        self.admit(t);
        let perceived = self
            .beliefs
            .perceived(self.seed, t, sc.behaviour.belief_noise_sd);
        let rules = Rules::on(&sc.policies, date);
        let view = DayView {
            sc,
            seed: self.seed,
            t,
            rules,
            table: beliefs::choice_table(sc, &self.out_routes, &perceived, date),
            hazards: &self.hazards,
            arrive_at: rules.quota.map(|q| q.arrive_at),
        };

        // 1. Decide, in parallel, slice by slice.
        let plain = self.plain;
        let mut day = self
            .chunks
            .par_iter_mut()
            .enumerate()
            .flat_map(|(c, chunk)| {
                chunk
                    .agents
                    .par_chunks_mut(SLICE)
                    .enumerate()
                    .map(move |(k, agents)| (c, k * SLICE, agents))
            })
            .fold(
                || Tallies::new(np),
                |mut acc, (c, from, agents)| {
                    let dead = step_slice(c, from, agents, &view, &mut acc, plain);
                    if dead > 0 {
                        acc.dead.push((c, dead));
                    }
                    acc
                },
            )
            .reduce(|| Tallies::new(np), Tallies::merge);
        for &(c, dead) in &day.dead {
            self.chunks[c].dead += dead;
        }

        // 2. Grant shared capacities in a fixed order.
        grant_seats(&mut self.chunks, &mut day, &view);
        grant_quota(&mut self.chunks, &mut day, &view, &mut self.book);

        // 3. Count and learn. The plain loop counted every agent; otherwise the day's
        // changes are added to the stocks.
        if self.plain {
            self.stock = [0; State::COUNT];
            self.waiting.iter_mut().for_each(|w| *w = 0);
        }
        for (s, d) in self.stock.iter_mut().zip(day.states) {
            *s = s.wrapping_add_signed(d);
        }
        for (w, d) in self.waiting.iter_mut().zip(&day.waiting) {
            *w = w.wrapping_add_signed(*d);
        }
        for (p, &w) in self.waiting.iter().enumerate() {
            day.counts[p * Metric::COUNT + Metric::Waiting as usize] = w;
        }
        let res = &mut self.res;
        let base = t as usize * np * Metric::COUNT;
        res.counts[base..base + np * Metric::COUNT].copy_from_slice(&day.counts);
        res.states[t as usize * State::COUNT..][..State::COUNT].copy_from_slice(&self.stock);
        res.created[t as usize] = self.entered as u64;
        res.agent_days += self.entered as u64;
        self.beliefs.observe(day.outcomes);
        self.t += 1;
    }

    /// The results of the days simulated so far.
    pub fn results(&self) -> &Results {
        &self.res
    }

    /// The results so far (complete once [`Simulation::done`]).
    pub fn finish(mut self) -> Results {
        self.res.quota_granted = std::mem::take(&mut self.book.granted);
        self.res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn minimal_with(edit: impl Fn(String) -> String) -> Scenario {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let text = edit(std::fs::read_to_string(&path).unwrap());
        Scenario::from_bytes(&path, text.into_bytes()).unwrap()
    }

    fn run_quiet(sc: &Scenario, threads: usize) -> Results {
        run(
            sc,
            &RunOptions {
                threads: Some(threads),
                ..RunOptions::default()
            },
            &mut |_, _, _| {},
        )
    }

    #[test]
    fn every_agent_is_in_exactly_one_state_every_day() {
        let sc = minimal_with(|s| s);
        let res = run_quiet(&sc, 2);
        for d in 0..res.days {
            let total: u64 = State::ALL.iter().map(|&s| res.state_count(d, s)).sum();
            assert_eq!(total, res.created[d as usize], "day {d}");
        }
        assert_eq!(*res.created.last().unwrap(), res.agents);
        // And the waiting stocks add up to the agents waiting or returned.
        for d in 0..res.days {
            let stock: u64 = (0..res.places)
                .map(|p| res.count(d, p, Metric::Waiting))
                .sum();
            assert_eq!(
                stock,
                res.state_count(d, State::Waiting) + res.state_count(d, State::Returned)
            );
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // Bigger than one chunk, so that several threads really share the work.
        let sc = minimal_with(|s| s.replace("= 60,", "= 9000,").replace("= 60 }", "= 9000 }"));
        let one = run_quiet(&sc, 1);
        assert!(one.agents as usize > 2 * CHUNK, "{}", one.agents);
        for threads in [2, 4] {
            let other = run_quiet(&sc, threads);
            assert_eq!(one.counts, other.counts, "{threads} threads");
            assert_eq!(one.states, other.states, "{threads} threads");
        }
        let reseeded = run(
            &sc,
            &RunOptions {
                threads: Some(2),
                seed: Some(7),
                plain: false,
            },
            &mut |_, _, _| {},
        );
        assert_ne!(
            one.counts, reseeded.counts,
            "another seed gives another run"
        );
    }

    fn run_plain(sc: &Scenario, threads: usize) -> Results {
        run(
            sc,
            &RunOptions {
                threads: Some(threads),
                plain: true,
                ..RunOptions::default()
            },
            &mut |_, _, _| {},
        )
    }

    fn assert_same(fast: &Results, plain: &Results, what: &str) {
        assert_eq!(fast.counts, plain.counts, "{what}: counts");
        assert_eq!(fast.states, plain.states, "{what}: states");
        assert_eq!(fast.quota_granted, plain.quota_granted, "{what}: quota");
        assert_eq!(fast.agent_days, plain.agent_days, "{what}: agent-days");
        assert_eq!(fast.created, plain.created, "{what}: created");
    }

    /// The default loop skips terminal agents, carries the stocks from day to day, only
    /// compares the clocks of agents waiting them out, and tabulates the hazards as integer
    /// thresholds: the plain loop does none of that, and the results must be identical.
    #[test]
    fn dropping_terminal_agents_changes_nothing() {
        let sc = minimal_with(|s| s.replace("= 60,", "= 9000,").replace("= 60 }", "= 9000 }"));
        let fast = run_quiet(&sc, 2);
        let plain = run_plain(&sc, 2);
        assert!(fast.state_count(fast.days - 1, State::Settled) > 1000);
        assert_same(&fast, &plain, "minimal");
    }

    #[test]
    fn skipping_agents_changes_nothing_whatever_the_rules() {
        let big = |s: String| s.replace("= 60,", "= 3000,").replace("= 60 }", "= 3000 }");
        type Edit = Box<dyn Fn(String) -> String>;
        let variants: [(&str, Edit); 4] = [
            // Seats on a capacity-limited route, lognormal travel, a shelter limit, returns.
            (
                "capacity, lognormal, shelter",
                Box::new(move |s| {
                    big(s)
                        .replacen(
                            "arrives about 05:25\n",
                            "arrives about 05:25\ncapacity = 30\n",
                            1,
                        )
                        .replacen(
                            "{ dist = \"uniform\", min = 2, max = 5 }",
                            "{ dist = \"lognormal\", median = 3, sigma = 0.5 }",
                            1,
                        )
                        .replace("max_attempts = 2", "max_attempts = 3")
                        + "\n[policies.shelter_limit]\nenabled = true\nsteps = [{ start = 2023-02-01, max_stay_days = 20 }, { start = 2023-04-01, max_stay_days = 9 }]\n"
                }),
            ),
            // Waits within the hazard table (the other variants wait longer than the table
            // covers in tests, and are computed agent by agent), work permits.
            (
                "short cap, permits",
                Box::new(move |s| {
                    big(s)
                        .replace("wait_cap_days = 180", "wait_cap_days = 30")
                        .replace("work_permit_days = 180", "work_permit_days = 40")
                        .replace("move_rate = 0.03 ", "move_rate = 0.01 ")
                        .replace("end = 2023-06-30", "end = 2023-12-31")
                        .replace(
                            "\"2023-06\" = 3000 }",
                            "\"2023-06\" = 3000 }\nfill = \"zero\"",
                        )
                }),
            ),
            // A quota that binds, evasion under the extension, everyone on the first day.
            (
                "quota, evasion, first day",
                Box::new(move |s| {
                    big(s)
                        .replace("places_per_year = 15000", "places_per_year = 300")
                        .replace("apply_share = 0.3", "apply_share = 0.9")
                        .replace("processing_days = 120", "processing_days = 7")
                        .replace("max_wait_days = 365", "max_wait_days = 30")
                        .replace("detection = 0.99 ", "detection = 0.3 ")
                        .replace("p_family_in_canada = 0.2 ", "p_family_in_canada = 0.6 ")
                        .replace(
                            "p_canadian_document = 0.01",
                            "p_canadian_document = 0.01\narrive = \"first_day\"",
                        )
                }),
            ),
            // Direct-back and no STCA at ports.
            (
                "direct-back",
                Box::new(move |s| {
                    big(s).replace(
                        "enabled = true\nstart = 2004-12-29",
                        "enabled = false\nstart = 2004-12-29",
                    ) + "\n[policies.direct_back]\nenabled = true\nstart = 2023-02-01\nend = 2023-03-10\n"
                }),
            ),
        ];
        for (what, edit) in &variants {
            let sc = minimal_with(edit);
            let applied = match *what {
                "capacity, lognormal, shelter" => {
                    sc.routes.iter().any(|r| r.capacity == Some(30))
                        && sc
                            .routes
                            .iter()
                            .any(|r| matches!(r.travel, Duration::LogNormal { .. }))
                        && sc.policies.iter().any(|p| p.rule.name() == "shelter_limit")
                }
                "short cap, permits" => sc.behaviour.wait_cap_days == 30 && sc.days() > 300,
                "quota, evasion, first day" => sc.inflows[0].first_day,
                _ => sc.policies.iter().any(|p| p.rule.name() == "direct_back"),
            };
            assert!(applied, "{what}: the edit did not apply");
            let fast = run_quiet(&sc, 2);
            let plain = run_plain(&sc, 1);
            assert!(fast.agents > 10_000, "{what}: {}", fast.agents);
            assert_same(&fast, &plain, what);
        }
    }

    /// The old way of creating agents: all at once, then a stable sort by day. Drawing
    /// month by month, in segments, with a counting sort must give the same agents.
    fn create_agents_by_sorting(sc: &Scenario, seed: u64) -> Vec<Agent> {
        let mut agents = Vec::new();
        for i in 0..sc.inflows.len() {
            for m in 0..sc.inflows[i].monthly.len() {
                let (mut r, n, first, days) = inflow_stream(sc, seed, i, m);
                let mut out = vec![Agent::default(); n];
                draw_agents(sc, i, &mut r, first, days, &mut out);
                agents.extend(out);
            }
        }
        agents.sort_by_key(|a| a.entry);
        for (k, a) in agents.iter_mut().enumerate() {
            a.id = k as u32;
        }
        agents
    }

    #[test]
    fn agents_are_drawn_as_by_a_stable_sort_whatever_the_segments() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        // Three inflows over the same months, one arriving on the first day.
        let inflow = &text[text.find("[[inflows]]").unwrap()..text.find("[behaviour]").unwrap()];
        let text = text.replace(
            inflow,
            &format!(
                "{inflow}\n{}\n{}",
                inflow
                    .replace("= 60", "= 700")
                    .replace("Rio Grande Valley", "New York City"),
                inflow.replace("= 60", "= 90").replace(
                    "p_canadian_document = 0.01",
                    "p_canadian_document = 0.01\narrive = \"first_day\""
                )
            ),
        );
        let sc = Scenario::from_bytes(&path, text.into_bytes()).unwrap();
        assert_eq!(sc.inflows.len(), 3);
        let want = create_agents_by_sorting(&sc, 11);
        assert!(want.len() > 4000);
        assert_eq!(create_agents(&sc, 11), want);
        let plan = Plan::new(&sc, 11);
        for segment in [1, 7, 1000] {
            let (mut month, mut scratch, mut all) = (Vec::new(), Vec::new(), Vec::new());
            for k in 0..plan.months.len() {
                plan.draw_month(&sc, k, &mut month, &mut scratch, segment);
                all.extend_from_slice(&month);
            }
            assert_eq!(all, want, "segments of {segment}");
        }
    }

    #[test]
    fn keys_from_a_prefix_are_the_keyed_numbers() {
        let mut x = 0x1234_5678_u64;
        for purpose in [
            Purpose::Decide,
            Purpose::Route,
            Purpose::Travel,
            Purpose::Lottery,
        ] {
            for _ in 0..2000 {
                x = rng::key(x, 1, 2, Purpose::Inflow);
                let (seed, id, day) = (x, (x >> 7) as u32, (x >> 40) as u32 & 0xFFFF);
                let bits = keys::bits(keys::prefix(seed, id), day, purpose);
                assert_eq!(bits, rng::key(seed, u64::from(id), day, purpose) >> 11);
                assert_eq!(
                    bits as f64 / (1u64 << 53) as f64,
                    rng::uniform(seed, u64::from(id), day, purpose)
                );
            }
        }
    }

    #[test]
    fn integer_thresholds_compare_exactly_like_the_uniforms() {
        let scale = 1.0 / (1u64 << 53) as f64;
        let mut ps = vec![
            0.0,
            1.0,
            0.5,
            1e-300,
            5e-324,
            -0.1,
            1.5,
            f64::NAN,
            0.1,
            0.3,
            2.0 / 3.0,
        ];
        let mut x = 99_u64;
        for _ in 0..300 {
            x = rng::key(x, 3, 4, Purpose::Decide);
            let k = x >> 11;
            // Exactly a grid point, and its neighbours.
            let p = k as f64 * scale;
            ps.extend([
                p,
                f64::from_bits(p.to_bits() + 1),
                f64::from_bits(p.to_bits() - 1),
            ]);
            ps.push(rng::uniform(x, 1, 1, Purpose::Route) * 0.2);
        }
        for &p in &ps {
            let t = threshold(p);
            let grid = (p * (1u64 << 53) as f64) as u64;
            let mut bits = vec![0, 1, (1 << 53) - 1];
            for d in 0..3 {
                bits.extend([
                    grid.saturating_sub(d),
                    grid.saturating_add(d).min((1 << 53) - 1),
                ]);
            }
            for b in bits.into_iter().filter(|&b| b < 1 << 53) {
                assert_eq!((b as f64 * scale) < p, b < t, "p = {p:e}, bits = {b}");
            }
        }
    }

    #[test]
    fn quota_places_never_exceed_the_annual_size() {
        // A tiny quota that everyone eligible wants: it must bind.
        let sc = minimal_with(|s| {
            s.replace("places_per_year = 15000", "places_per_year = 40")
                .replace("apply_share = 0.3", "apply_share = 1.0")
                .replace("p_family_in_canada = 0.2 ", "p_family_in_canada = 1.0 ")
                .replace("end = 2023-06-30", "end = 2024-12-31")
                .replace("processing_days = 120", "processing_days = 5")
                .replace("\"2023-06\" = 60 }", "\"2023-06\" = 60 }\nfill = \"last\"")
        });
        let res = run_quiet(&sc, 2);
        assert!(res.quota_granted.len() >= 2, "{:?}", res.quota_granted);
        for (year, &g) in res.quota_granted.iter().enumerate() {
            assert!(g <= 40, "year {year}: {g} places granted");
        }
        assert_eq!(
            res.quota_granted[0], 40,
            "the quota binds in its first year"
        );
        let resettled: u64 = (0..res.places)
            .map(|p| res.total(p, Metric::Resettled))
            .sum();
        assert!(resettled <= res.quota_granted.iter().sum::<u64>());
        assert!(resettled > 0);
    }

    #[test]
    fn nobody_is_returned_from_an_irregular_crossing_before_the_extension() {
        let sc = minimal_with(|s| s);
        let res = run_quiet(&sc, 2);
        let roxham = sc.place_id("Roxham Road").unwrap() as usize;
        let start = (Date::parse("2023-03-25").unwrap().0 - sc.start.0) as u32;
        let before: u64 = (0..start)
            .map(|d| res.count(d, roxham, Metric::Returned))
            .sum();
        let after: u64 = (start..res.days)
            .map(|d| res.count(d, roxham, Metric::Returned))
            .sum();
        assert_eq!(before, 0);
        assert!(after > 0, "the extension returns intercepted crossers");
        let off = minimal_with(|s| {
            s.replacen(
                "enabled = true\nstart = 2023-03-25",
                "enabled = false\nstart = 2023-03-25",
                1,
            )
        });
        let res = run_quiet(&off, 2);
        assert_eq!(
            res.total(roxham, Metric::Returned),
            0,
            "switched off, it returns nobody"
        );
    }

    #[test]
    fn evaders_undetected_for_the_window_claim_inland() {
        // With no daily detection and no interception, everyone who crosses after the start
        // evades and none is returned.
        let sc = minimal_with(|s| {
            s.replace("detection = 0.99 ", "detection = 0.0 ").replace(
                "daily_detection = { \"Roxham Road\" = 0.2 }",
                "daily_detection = { \"Roxham Road\" = 0.0 }",
            )
        });
        let res = run_quiet(&sc, 2);
        let roxham = sc.place_id("Roxham Road").unwrap() as usize;
        assert_eq!(res.total(roxham, Metric::Returned), 0);
        assert!(res.total(roxham, Metric::Evaded) > 0);
    }
}
