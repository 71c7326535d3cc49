//! Who enters when: the agents drawn from the inflows, a month at a time.
//!
//! Each (inflow, month)'s Poisson count is drawn up front, because it is cheap and tells
//! the run how many agents there will be; the agents themselves are drawn only when the
//! run reaches their month, so that memory holds the agents present rather than the
//! whole run's. Every agent of an (inflow, month) comes from that pair's own keyed stream
//! and takes the same number of draws, so large months can be drawn in parallel segments
//! and still give exactly the agents of one sequential draw followed by a stable sort.

use crate::model::agent::{Agent, State};
use crate::scenario::Scenario;
use crate::scenario::policy::flags;
use crate::util::date::Month;
use crate::util::rng::{self, Purpose};
use rand::RngExt;
use rand_distr::{Distribution, Poisson};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

/// Agents drawn by one task of agent creation.
pub(super) const SEGMENT: usize = 1 << 13;

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
pub(super) struct MonthPlan {
    jobs: std::ops::Range<usize>,
    /// The id of its first agent, the number of agents, and the days they enter in: from
    /// `first_day` (from the window's start), `days` days.
    first_id: usize,
    n: usize,
    pub(super) first_day: u32,
    days: u32,
}

/// Who enters when: every (inflow, month)'s count, drawn up front (cheap), by month.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    seed: u64,
    jobs: Vec<Job>,
    pub(super) months: Vec<MonthPlan>,
    pub(super) total: usize,
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
    pub(super) fn new(sc: &Scenario, seed: u64) -> Plan {
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
    pub(super) fn draw_month(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
}
