//! The engine: creates the agents from the inflows and steps them day by day.
//!
//! Each day has three phases, which is what makes a run independent of the thread count:
//!
//! 1. **Decide** (parallel): agents are split into fixed-size chunks; each agent reads the
//!    day's frozen view (rules, beliefs, route choice tables) and draws only from keyed
//!    streams (seed, agent, day, purpose). It updates itself and its chunk's tallies. An agent
//!    that wants a shared capacity (a bus seat, a seat on a route with a daily capacity)
//!    files a request instead of moving.
//! 2. **Grant** (sequential, fixed order): requests are sorted by resource and a keyed
//!    lottery number and granted up to capacity; quota places go to applicants in the
//!    order they applied (ties by lottery), up to the places released that day.
//! 3. **Apply and count**: granted agents depart, tallies are summed (integers, so the sum
//!    does not depend on order), and beliefs learn from the day's outcomes.
//!
//! Agents live in two vectors: those not yet entered (sorted by day of entry) and the
//! active ones, in id order. Agents in a terminal state (claimed, resettled, settled, gave
//! up) never change again, so by default they are dropped from the active vector at the end
//! of each day and only counted. Nothing an agent does depends on its position, so the
//! results are identical to the plain loop over every agent ([`RunOptions::plain`]); a test
//! proves it.

use crate::agent::{Agent, Metric, State};
use crate::beliefs::{self, Beliefs, ChoiceTable, Tally};
use crate::date::Date;
use crate::policy::{self, Outcome, Rules, flags};
use crate::rng::{self, Purpose};
use crate::scenario::{CrossingKind, Duration, PlaceKind, Scenario};
use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use rayon::prelude::*;
use std::collections::VecDeque;

/// Agents per chunk of the parallel phase. Fixed, so that chunking never depends on the
/// number of threads.
const CHUNK: usize = 1 << 14;

/// A resource id for bus seats in capacity requests (routes use their index).
const BUS: u32 = u32::MAX;

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Worker threads; `None` uses rayon's default (one per core).
    pub threads: Option<usize>,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Step every agent every day, terminal ones included (the reference loop that the
    /// default, which drops terminal agents, must match exactly).
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
    /// Agent-days simulated: the sum over days of agents present.
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

/// Creates every agent of the run, sorted by day of entry. Counts per inflow and month are
/// Poisson draws; each agent's day and attributes come from its (inflow, month) stream.
pub fn create_agents(sc: &Scenario, seed: u64) -> Vec<Agent> {
    let jobs: Vec<(usize, usize)> = sc
        .inflows
        .iter()
        .enumerate()
        .flat_map(|(i, inf)| (0..inf.monthly.len()).map(move |m| (i, m)))
        .collect();
    let mut agents: Vec<Agent> = jobs
        .par_iter()
        .flat_map_iter(|&(i, m)| {
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
            let mut out = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let day = (first - sc.start.0) as u16
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
                out.push(Agent {
                    id: 0,
                    entry: day,
                    since: day,
                    until: u16::MAX,
                    place: inf.entry,
                    state: State::Waiting,
                    flags: f,
                    nationality,
                    returns: 0,
                });
            }
            out
        })
        .collect();
    // Stable: agents of one day keep their (inflow, month, draw) order.
    agents.par_sort_by_key(|a| a.entry);
    agents
        .par_iter_mut()
        .enumerate()
        .for_each(|(i, a)| a.id = i as u32);
    agents
}

/// The frozen view of one day that every agent reads.
struct DayView<'a> {
    sc: &'a Scenario,
    seed: u64,
    t: u32,
    rules: Rules<'a>,
    table: ChoiceTable,
    /// Where the resettled arrive, while the quota is in force.
    arrive_at: Option<u16>,
}

/// One chunk's tallies for the day.
struct Tallies {
    counts: Vec<u64>,
    states: [u64; State::COUNT],
    outcomes: Vec<[Tally; 2]>,
    requests: Vec<(u32, u32)>,
    applicants: Vec<u32>,
}

impl Tallies {
    fn new(places: usize) -> Tallies {
        Tallies {
            counts: vec![0; places * Metric::COUNT],
            states: [0; State::COUNT],
            outcomes: vec![[[0; 2]; 2]; places],
            requests: Vec::new(),
            applicants: Vec::new(),
        }
    }

    #[inline]
    fn add(&mut self, place: u16, m: Metric) {
        self.counts[place as usize * Metric::COUNT + m as usize] += 1;
    }

    #[inline]
    fn outcome(&mut self, place: u16, f: u8, success: bool) {
        self.outcomes[place as usize][usize::from(policy::has_exception(f))]
            [usize::from(!success)] += 1;
    }

    fn merge(&mut self, o: Tallies) {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
        for (a, b) in self.states.iter_mut().zip(o.states) {
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
    }
}

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
    let id = a.id;
    let p = &v.sc.places[a.place as usize];
    acc.add(a.place, Metric::Arrivals);
    a.since = v.t as u16;
    match (p.kind, p.crossing) {
        (PlaceKind::Destination, _) => a.state = State::Settled,
        (PlaceKind::Crossing, Some(kind)) => {
            acc.add(a.place, Metric::Attempts);
            let outcome = match kind {
                CrossingKind::Port => policy::at_port(&v.rules, a.flags, p.stca),
                CrossingKind::Irregular => {
                    let intercepted =
                        rng::uniform(v.seed, u64::from(id), v.t, Purpose::Detect) < p.detection;
                    if intercepted {
                        acc.add(a.place, Metric::Intercepted);
                    }
                    policy::at_irregular(&v.rules, a.flags, intercepted)
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
    let id = a.id;
    let daily = v.rules.extension.map_or(0.0, |(_, d)| d[a.place as usize]);
    let found = rng::uniform(v.seed, u64::from(id), v.t, Purpose::Evade) < daily;
    match policy::while_evading(a.flags, found) {
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
fn enter(a: &mut Agent, pos: u32, v: &DayView, acc: &mut Tallies) {
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
        acc.requests.push((pos, BUS));
    }
}

/// A day at a waiting place: give up, stay, or choose a route.
fn decide(a: &mut Agent, pos: u32, v: &DayView, acc: &mut Tallies) {
    let id = a.id;
    let b = &v.sc.behaviour;
    let p = &v.sc.places[a.place as usize];
    let waited = v.t - u32::from(a.since);
    let permit = v.t - u32::from(a.entry) >= b.work_permit_days;
    let mut mv =
        p.move_rate * (1.0 + b.wait_growth * f64::from(waited.min(b.wait_cap_days)) / 30.0);
    let mut give_up = b.give_up_rate;
    if permit {
        mv *= b.permit_move_factor;
        give_up *= b.permit_give_up_factor;
    }
    if p.shelter
        && let Some(max) = v.rules.shelter_max_stay
        && waited >= max
    {
        mv *= b.shelter_exit_factor;
    }
    let u = rng::uniform(v.seed, u64::from(id), v.t, Purpose::Decide);
    if u < give_up {
        acc.add(a.place, Metric::GaveUp);
        a.state = State::GaveUp;
    } else if u < give_up + mv {
        let k = beliefs::choice_type(a.flags);
        let ur = rng::uniform(v.seed, u64::from(id), v.t, Purpose::Route);
        if let Some(r) = beliefs::pick(&v.table[a.place as usize][k], ur) {
            let route = &v.sc.routes[r as usize];
            if route.capacity.is_some() {
                acc.requests.push((pos, r));
            } else {
                depart(a, route.to, &route.travel, v, acc);
            }
        }
    }
}

#[inline]
fn step(a: &mut Agent, pos: u32, v: &DayView, acc: &mut Tallies) {
    let t = v.t;
    match a.state {
        s if s.is_terminal() => {}
        State::Travelling if u32::from(a.until) <= t => arrive(a, v, acc),
        State::Travelling => {}
        State::Evading if t > u32::from(a.since) => evade(a, v, acc),
        State::Evading => {}
        State::Applied if u32::from(a.until) <= t => {
            // No place in time: travels north after all, entering the US today.
            a.state = State::Waiting;
            a.entry = t as u16;
            a.since = t as u16;
            acc.add(a.place, Metric::Arrivals);
        }
        State::Applied => {}
        State::Approved if u32::from(a.until) <= t => {
            a.place = v.arrive_at.unwrap_or(a.place);
            a.state = State::Resettled;
            acc.add(a.place, Metric::Arrivals);
            acc.add(a.place, Metric::Resettled);
        }
        State::Approved => {}
        State::Waiting if u32::from(a.entry) == t && a.since == a.entry && a.returns == 0 => {
            enter(a, pos, v, acc)
        }
        State::Waiting | State::Returned => decide(a, pos, v, acc),
        _ => {}
    }
    acc.states[a.state as usize] += 1;
    if matches!(a.state, State::Waiting | State::Returned) {
        acc.add(a.place, Metric::Waiting);
    }
}

/// The quota's queue (agent ids in order of application) and this policy year's count.
#[derive(Default)]
struct QuotaBook {
    queue: VecDeque<u32>,
    year: i32,
    available: u64,
    granted: Vec<u64>,
}

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

/// A run in progress, one [`Simulation::step`] per day.
pub struct Simulation<'a> {
    sc: &'a Scenario,
    seed: u64,
    plain: bool,
    t: u32,
    out_routes: Vec<Vec<u32>>,
    pending: Vec<Agent>,
    entered: usize,
    /// Agents in id order; those dropped for being terminal are only counted.
    active: Vec<Agent>,
    dropped: [u64; State::COUNT],
    beliefs: Beliefs,
    book: QuotaBook,
    res: Results,
}

impl<'a> Simulation<'a> {
    /// Creates the agents; nothing has happened yet.
    pub fn new(sc: &'a Scenario, opts: &RunOptions) -> Simulation<'a> {
        let seed = opts.seed.unwrap_or(sc.seed);
        let days = sc.days();
        let np = sc.places.len();
        let pending = create_agents(sc, seed);
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
            agents: pending.len() as u64,
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
            pending,
            entered: 0,
            active: Vec::new(),
            dropped: [0; State::COUNT],
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

    /// Agents stepped each day now (entered and not yet in a terminal state).
    pub fn active(&self) -> usize {
        self.active.len()
    }

    /// Simulates one day. Does nothing once the window is over.
    pub fn step(&mut self) {
        if self.done() {
            return;
        }
        let (sc, t, np) = (self.sc, self.t, self.sc.places.len());
        let date = sc.start.add_days(t as i32);
        let arriving = self.pending[self.entered..].partition_point(|a| u32::from(a.entry) <= t);
        self.active
            .extend_from_slice(&self.pending[self.entered..self.entered + arriving]);
        self.entered += arriving;
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
            arrive_at: rules.quota.map(|q| q.arrive_at),
        };

        // 1. Decide, in parallel, chunk by chunk.
        let parts: Vec<Tallies> = self
            .active
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut acc = Tallies::new(np);
                for (j, a) in chunk.iter_mut().enumerate() {
                    step(a, (c * CHUNK + j) as u32, &view, &mut acc);
                }
                acc
            })
            .collect();
        let mut day = Tallies::new(np);
        for p in parts {
            day.merge(p);
        }

        // 2. Grant shared capacities in a fixed order.
        grant_seats(&mut self.active, &mut day, &view);
        grant_quota(&mut self.active, &mut day, &view, &mut self.book);

        // 3. Count, learn, and drop the agents whose journey has ended.
        for (s, d) in day.states.iter_mut().zip(self.dropped) {
            *s += d;
        }
        let res = &mut self.res;
        let base = t as usize * np * Metric::COUNT;
        res.counts[base..base + np * Metric::COUNT].copy_from_slice(&day.counts);
        res.states[t as usize * State::COUNT..][..State::COUNT].copy_from_slice(&day.states);
        res.created[t as usize] = self.entered as u64;
        res.agent_days += self.entered as u64;
        self.beliefs.observe(day.outcomes);
        if !self.plain {
            let dropped = &mut self.dropped;
            self.active.retain(|a| {
                let end = a.state.is_terminal();
                if end {
                    dropped[a.state as usize] += 1;
                }
                !end
            });
        }
        self.t += 1;
    }

    /// The results so far (complete once [`Simulation::done`]).
    pub fn finish(mut self) -> Results {
        self.res.quota_granted = std::mem::take(&mut self.book.granted);
        self.res
    }
}

fn grant_seats(active: &mut [Agent], day: &mut Tallies, v: &DayView) {
    if day.requests.is_empty() {
        return;
    }
    let mut reqs = std::mem::take(&mut day.requests);
    // By resource, then a lottery keyed by the agent's id: the same order whatever the
    // agents' positions.
    reqs.sort_unstable_by_key(|&(pos, r)| {
        let id = active[pos as usize].id;
        (
            r,
            rng::key(v.seed, u64::from(id), v.t, Purpose::Lottery),
            id,
        )
    });
    let mut i = 0;
    while i < reqs.len() {
        let r = reqs[i].1;
        let end = i + reqs[i..].iter().take_while(|x| x.1 == r).count();
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
        for &(pos, _) in reqs[i..end].iter().take(cap) {
            let a = &mut active[pos as usize];
            let from = a.place;
            day.counts[from as usize * Metric::COUNT + Metric::Waiting as usize] -= 1;
            day.states[a.state as usize] -= 1;
            if r == BUS {
                day.add(from, Metric::Bused);
            }
            depart(a, to, &travel, v, day);
            day.states[State::Travelling as usize] += 1;
        }
        i = end;
    }
}

fn grant_quota(active: &mut [Agent], day: &mut Tallies, v: &DayView, book: &mut QuotaBook) {
    let mut applicants = std::mem::take(&mut day.applicants);
    applicants
        .sort_unstable_by_key(|&id| (rng::key(v.seed, u64::from(id), v.t, Purpose::Lottery), id));
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
        // Active agents are in id order.
        let Ok(pos) = active.binary_search_by_key(&id, |a| a.id) else {
            continue;
        };
        let a = &mut active[pos];
        if a.state != State::Applied {
            continue;
        }
        a.state = State::Approved;
        a.until = (v.t as u16).saturating_add(q.processing_days.min(60_000) as u16);
        day.states[State::Applied as usize] -= 1;
        day.states[State::Approved as usize] += 1;
        book.available -= 1;
        book.granted[year as usize] += 1;
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

    #[test]
    fn dropping_terminal_agents_changes_nothing() {
        let sc = minimal_with(|s| s.replace("= 60,", "= 9000,").replace("= 60 }", "= 9000 }"));
        let fast = run_quiet(&sc, 2);
        let plain = run(
            &sc,
            &RunOptions {
                threads: Some(2),
                plain: true,
                ..RunOptions::default()
            },
            &mut |_, _, _| {},
        );
        assert!(fast.state_count(fast.days - 1, State::Settled) > 1000);
        assert_eq!(fast.counts, plain.counts);
        assert_eq!(fast.states, plain.states);
        assert_eq!(fast.quota_granted, plain.quota_granted);
        assert_eq!(fast.agent_days, plain.agent_days);
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
