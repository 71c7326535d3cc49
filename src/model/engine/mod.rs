//! The engine: creates the agents from the inflows and steps them day by day.
//!
//! Each day has three phases, which is what makes a run independent of the thread count:
//!
//! 1. **Decide** (in parallel; in a one-thread pool and on days with few agents held, slice
//!    after slice on the calling thread): agents are split into chunks; each agent reads
//!    the day's frozen view (rules, beliefs, route choice tables, move hazards) and draws
//!    only from keyed streams (seed, agent, day, purpose). It updates itself and its
//!    thread's tallies. An agent that wants a shared capacity (a bus seat, a seat on a
//!    route with a daily capacity) files a request instead of moving.
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
//!   permit and the date's shelter limit (`hazards::HazardBook::next_act` makes the
//!   draws in one tight loop, with the hazards tabulated as integer thresholds that compare
//!   exactly as the plain loop's floating-point numbers do; `next_acts` does it for a
//!   slice's waiting agents together, many days at a time, where the CPU can). Until then
//!   the agent costs a comparison a day. Evading agents are stepped every day.
//!
//! Agents are drawn a month at a time, when the run reaches the month (every agent of a
//! month enters within it), so memory holds the agents present, not all of the run's.
//!
//! Who owns what:
//!
//! * this file: the public API ([`RunOptions`], [`Results`], [`run`], [`simulate`],
//!   [`Simulation`]) and the day's three phases in [`Simulation::step`];
//! * `fork`: runs that share their beginning ([`shared_days`], [`Simulation::fork`]): a
//!   run of one scenario going on as a run of another whose rules differ only later;
//! * `inflows`: who enters when, drawn a month at a time ([`create_agents`]);
//! * `hazards`: a waiting agent's daily hazards, tabulated, and the day it next acts;
//! * `step`: one agent's day (the decisions) and the parallel stepping of a slice;
//! * `store`: the chunks that hold the agents present, and finding an agent by id;
//! * `grants`: phase 2, seats and quota places granted in a fixed order;
//! * `tally`: one thread's counts for the day, and their merging; the scratch buffers each
//!   thread keeps from day to day;
//! * `wide`: the hot loops compiled for AVX-512, where the CPU has it;
//! * `tests`: tests of the whole engine (the parts' own tests sit beside them).

mod fork;
mod grants;
mod hazards;
mod inflows;
mod memory;
mod step;
mod store;
mod tally;
#[cfg(target_arch = "x86_64")]
mod wide;

pub use fork::{first_difference, shared_days};
pub use inflows::create_agents;
pub use memory::run_bytes;

use crate::model::agent::{Agent, State};
use crate::model::beliefs::Beliefs;
use crate::model::choice::{self, Ways};
use crate::model::rules::Rules;
use crate::scenario::{Metric, Scenario};
use crate::util::date::Date;
use grants::{QuotaBook, grant_quota, grant_seats};
use hazards::HazardBook;
use inflows::{Plan, SEGMENT};
use rayon::prelude::*;
use step::{DayView, SLICE, step_slice};
use store::{CHUNK, Chunk, tidy};
use tally::Tallies;

/// Agents held from which a day is stepped on more than one thread: below it, waking the
/// other threads costs more than they save (on this project's machine, the default scenario
/// holds at most about 41,000 and ran faster on one thread than on two). Results do not
/// depend on it. `NORTHBOUND_PARALLEL_FROM` sets another number (tests set 0, so that small
/// runs take the parallel path too; the binary refuses a value that is not a number before
/// anything runs); unit tests use 0.
fn parallel_from() -> usize {
    static FROM: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *FROM.get_or_init(|| {
        let default = if cfg!(test) { 0 } else { 4 * CHUNK };
        std::env::var("NORTHBOUND_PARALLEL_FROM")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    })
}

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
    /// Use the scalar code even where the CPU runs the engine's wide loops (as
    /// `NORTHBOUND_SIMD=off` does): the same results, for tests and benchmarks.
    pub scalar: bool,
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
    pub quota_granted: u64,
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
    /// Whether the wide loops run (`engine::wide`).
    wide: bool,
    t: u32,
    /// The cheapest ways to every end over the routes open on the last day they changed.
    ways: Ways,
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
    /// Yesterday's tallies, cleared, for a one-thread pool to reuse.
    spare_tallies: Option<Tallies>,
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
            quota_granted: 0,
        };
        Simulation {
            sc,
            seed,
            plain: opts.plain,
            #[cfg(target_arch = "x86_64")]
            wide: !opts.scalar && wide::available(),
            #[cfg(not(target_arch = "x86_64"))]
            wide: false,
            t: 0,
            ways: Ways::new(sc, sc.routes.iter().map(|r| r.open_on(sc.start)).collect()),
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
            spare_tallies: None,
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
        let open: Vec<bool> = sc.routes.iter().map(|r| r.open_on(date)).collect();
        if open != self.ways.open {
            self.ways = Ways::new(sc, open);
        }
        let table = choice::choice_table(sc, &self.ways, &perceived);
        let view = DayView {
            sc,
            seed: self.seed,
            t,
            rules,
            wide: self.wide,
            #[cfg(target_arch = "x86_64")]
            wide_rows: if self.wide {
                table.iter().flatten().map(|r| wide::Row::new(r)).collect()
            } else {
                Vec::new()
            },
            table,
            hazards: &self.hazards,
            arrive_at: rules.quota.map(|q| q.arrive_at),
            intake: rules
                .quota
                .is_some_and(|q| q.intake_open(date) && self.book.granted < q.places),
        };

        // 1. Decide, in parallel, slice by slice; in a one-thread pool (such as each run of
        // an ensemble has), or on a day with few agents held, slice after slice on this
        // thread with yesterday's tallies cleared: the same sums, without the parallel
        // iterator's splitting, allocations and waking of threads.
        let plain = self.plain;
        let held: usize = self.chunks.iter().map(|c| c.agents.len()).sum();
        let mut day = if rayon::current_num_threads() == 1 || held < parallel_from() {
            let mut acc = self
                .spare_tallies
                .take()
                .unwrap_or_else(|| Tallies::new(np));
            for (c, chunk) in self.chunks.iter_mut().enumerate() {
                for (k, agents) in chunk.agents.chunks_mut(SLICE).enumerate() {
                    let dead = step_slice(c, k * SLICE, agents, &view, &mut acc, plain);
                    if dead > 0 {
                        acc.dead.push((c, dead));
                    }
                }
            }
            acc
        } else {
            self.chunks
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
                .reduce(|| Tallies::new(np), Tallies::merge)
        };
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
        self.beliefs
            .observe(std::mem::replace(&mut day.outcomes, vec![[[0; 2]; 2]; np]));
        day.clear();
        self.spare_tallies = Some(day);
        self.t += 1;
    }

    /// The results of the days simulated so far.
    pub fn results(&self) -> &Results {
        &self.res
    }

    /// The results so far (complete once [`Simulation::done`]).
    pub fn finish(mut self) -> Results {
        self.res.quota_granted = self.book.granted;
        self.res
    }
}

#[cfg(test)]
mod tests;
