//! A waiting agent's daily hazards of giving up and of moving on, and the day it next acts.
//!
//! The hazards depend only on the place, the days waited, the work permit and the shelter
//! limit in force, so they can be tabulated once per shelter limit as integer thresholds
//! that compare with the keyed draws' raw bits exactly as the plain loop's floating-point
//! comparisons do. That is what lets [`HazardBook::next_act`] find, in one tight loop, the
//! day a waiting agent will next do something, and the engine skip it until then. The
//! floating-point arithmetic lives here too ([`hazards`]), so that the plain loop and the
//! tables cannot drift apart.

use crate::model::agent::Agent;
#[cfg(all(test, target_arch = "x86_64"))]
use crate::model::agent::State;
use crate::model::rules::Rules;
use crate::scenario::{Behaviour, Place, Scenario};
use crate::util::rng::{self, Purpose};

/// The longest wait (days) the daily hazard table covers; longer waits, if the scenario's
/// caps are longer still, are computed agent by agent. (Short in tests, so that they cover
/// both cases.)
#[cfg(not(test))]
pub(super) const HAZARD_DAYS: u32 = 4096;
#[cfg(test)]
pub(super) const HAZARD_DAYS: u32 = 64;

/// The 53 random bits behind `rng::uniform(seed, id, day, purpose)`, from the agent's
/// [`rng::prefix`]`(seed, id)`: each day costs one mixing round instead of three.
#[inline(always)]
pub(super) fn bits(prefix: u64, day: u32, purpose: Purpose) -> u64 {
    rng::key_from(prefix, day, purpose) >> 11
}

/// The integer threshold `k` such that, for the 53 random bits `x` behind a keyed uniform
/// `u = x / 2^53` ([`rng::uniform`](crate::util::rng::uniform)), `u < p` exactly when
/// `x < k`. (`x * 2^-53` is exact, and for an integer `x`, `x < y` exactly when
/// `x < ceil(y)`; `as` saturates, NaN gives 0.)
#[inline]
fn threshold(p: f64) -> u64 {
    (p * (1u64 << 53) as f64).ceil() as u64
}

/// A waiting person's daily probabilities of giving up, and of giving up or moving on.
/// The one place this arithmetic is written, for the plain loop and the hazard table.
#[inline]
pub(super) fn hazards(
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
pub(super) struct Hazards {
    shelter_max: Option<u32>,
    /// Days waited the table covers: `0..=limit`.
    limit: u32,
    /// Whether waits beyond `limit` have the hazards of `limit`.
    saturates: bool,
    /// `[place][permit][waited]`: thresholds for giving up, and for giving up or moving.
    thr: Vec<[u64; 2]>,
    /// The same, the larger of the two: below it, something happens. Each row (a place
    /// and work permit) is followed by [`BLOCK_DAYS`] copies of its last value, so that the
    /// thresholds of [`BLOCK_DAYS`] days from any wait lie side by side where the table
    /// saturates ([`Hazards::block`]); rows are `stride` apart.
    any: Vec<u64>,
    stride: usize,
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
        let width = limit as usize + 1;
        let any = thr
            .chunks_exact(width)
            .flat_map(|row| {
                let last = &row[width - 1];
                row.iter()
                    .chain(std::iter::repeat_n(last, BLOCK_DAYS))
                    .map(|&[g, m]| g.max(m))
            })
            .collect();
        Hazards {
            shelter_max,
            limit,
            saturates: flat <= HAZARD_DAYS,
            any,
            stride: width + BLOCK_DAYS,
            thr,
        }
    }

    /// The thresholds of [`BLOCK_DAYS`] days from a wait of `waited` days, at `place` with or
    /// without a work permit, if this table gives them all: within it, or past its end
    /// where the hazards no longer change.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn block(&self, place: u16, permit: bool, waited: u32) -> Option<&[u64; BLOCK_DAYS]> {
        let width = self.limit as usize + 1;
        let w = waited as usize;
        if w + BLOCK_DAYS > width && !self.saturates {
            return None;
        }
        let at = (place as usize * 2 + usize::from(permit)) * self.stride + w.min(width);
        self.any[at..at + BLOCK_DAYS].try_into().ok()
    }

    #[inline(always)]
    fn index(&self, place: u16, waited: u32, permit: bool) -> usize {
        let width = self.limit as usize + 1;
        (place as usize * 2 + usize::from(permit)) * width + waited.min(self.limit) as usize
    }

    /// Thresholds for giving up, and for giving up or moving on.
    #[inline]
    pub(super) fn get(&self, sc: &Scenario, place: u16, waited: u32, permit: bool) -> [u64; 2] {
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

/// Days drawn at a time by [`HazardBook::next_acts`]: 16 was faster than 8 (fewer passes
/// over the agents, for draws past the day found that cost little), and than 24 or 32.
pub(super) const BLOCK_DAYS: usize = 16;

/// The hazard tables of every day of the window: one per shelter limit in force.
#[derive(Debug, Clone)]
pub(super) struct HazardBook {
    /// By day of the window, the table in force, and the first later day with another.
    day: Vec<u16>,
    until: Vec<u32>,
    tables: Vec<Hazards>,
}

impl HazardBook {
    pub(super) fn new(sc: &Scenario) -> HazardBook {
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
    pub(super) fn on(&self, d: u32) -> &Hazards {
        &self.tables[self.day[d as usize] as usize]
    }

    /// The first day after `t` on which a waiting agent gives up or moves on: its draw
    /// falls below its hazard (`u16::MAX` if none before the window ends). Until then its
    /// days are exactly the plain loop's days in which nothing happens, so it is not
    /// stepped: the draws are made here, in one tight loop, instead of one a day. `prefix` is
    /// the agent's [`rng::prefix`](crate::util::rng::prefix)`(seed, id)`.
    pub(super) fn next_act(&self, sc: &Scenario, prefix: u64, a: &Agent, t: u32) -> u16 {
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
            let row = &h.any[(a.place as usize * 2 + usize::from(permit)) * h.stride..][..width];
            for day in d..end {
                let waited = day - since;
                let any = if waited > h.limit && !h.saturates {
                    let [g, m] = h.beyond(sc, a.place, waited, permit);
                    g.max(m)
                } else {
                    row[waited.min(h.limit) as usize]
                };
                if bits(prefix, day, Purpose::Decide) < any {
                    return day as u16;
                }
            }
            d = end;
        }
        u16::MAX
    }

    /// [`HazardBook::next_act`] for every agent of `jobs` (an index into `agents` and the
    /// agent's prefix), the days drawn [`BLOCK_DAYS`] at a time, 256-bit registers holding four
    /// days' keys ([`wide::first_below`](super::wide::first_below)): the agents' first
    /// block of days, then the next of those that did nothing, and so on, so that the
    /// CPU overlaps the agents' draws (one agent at a time, it would wait on each block's
    /// chain of multiplications). A block whose days do not lie side by side in one table (a
    /// change of shelter limit or work permit, the end of the table) is drawn day by day,
    /// and the last days of the window by the scalar loop. The same days, the same draws,
    /// the same comparisons: the same day.
    ///
    /// # Safety
    ///
    /// The CPU must have what [`wide::available`](super::wide::available) checks.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2")]
    pub(super) unsafe fn next_acts(
        &self,
        sc: &Scenario,
        agents: &mut [Agent],
        jobs: &mut Vec<(u32, u64)>,
        t: u32,
    ) {
        let days = self.day.len() as u32;
        let permit_days = sc.behaviour.work_permit_days;
        let mut day = t + 1;
        while !jobs.is_empty() {
            if day + BLOCK_DAYS as u32 > days {
                for &(idx, prefix) in jobs.iter() {
                    let a = &mut agents[idx as usize];
                    a.until = self.next_act(sc, prefix, a, day - 1);
                }
                jobs.clear();
                break;
            }
            // The block's days are in one table, or not (then each day is drawn alone).
            let last = day + BLOCK_DAYS as u32 - 1;
            let h = (self.until[day as usize] > last).then(|| self.on(day));
            let mut kept = 0;
            for j in 0..jobs.len() {
                let (idx, prefix) = jobs[j];
                let a = &mut agents[idx as usize];
                // A work permit from within the block changes the row: each day alone.
                let permit_from = u32::from(a.entry) + permit_days;
                let permit = day >= permit_from;
                let block = h
                    .filter(|_| permit || last < permit_from)
                    .and_then(|h| h.block(a.place, permit, day - u32::from(a.since)));
                let found = match block {
                    Some(thr) => super::wide::first_below::<BLOCK_DAYS>(prefix, day, thr),
                    None => self.block_by_day(sc, prefix, a, day),
                };
                // No branch on what was found (it could not be predicted): an agent that
                // did nothing stays in `jobs`, and its `until` is written again.
                a.until = (day + found) as u16;
                jobs[kept] = (idx, prefix);
                kept += usize::from(found == BLOCK_DAYS as u32);
            }
            jobs.truncate(kept);
            day += BLOCK_DAYS as u32;
        }
    }

    /// [`wide::first_below`](super::wide::first_below) for days not side by side in one
    /// table: each day's threshold as [`HazardBook::next_act`] finds it.
    #[cfg(target_arch = "x86_64")]
    #[cold]
    fn block_by_day(&self, sc: &Scenario, prefix: u64, a: &Agent, day: u32) -> u32 {
        let permit_from = u32::from(a.entry) + sc.behaviour.work_permit_days;
        for (i, d) in (day..day + BLOCK_DAYS as u32).enumerate() {
            let [g, m] = self
                .on(d)
                .get(sc, a.place, d - u32::from(a.since), d >= permit_from);
            if bits(prefix, d, Purpose::Decide) < g.max(m) {
                return i as u32;
            }
        }
        BLOCK_DAYS as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Days drawn together, a block at a time, find each agent's day as the scalar loop does:
    /// the default scenario (its shelter limits change the table; in tests the table
    /// covers 64 days, so waits go past it, where the hazards keep changing), agents
    /// entered, arrived and deciding on days near those changes, the window's end, the
    /// work permit.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn days_drawn_together_give_each_agent_its_day() {
        if super::super::wide::tests::skip() {
            return;
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/corridor-2017-2024.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        // As bundled (in tests, waits outgrow the table), and with a wait cap that the
        // table covers (past it, the hazards stay the same).
        let short = text.replace("wait_cap_days = 180", "wait_cap_days = 20");
        assert_ne!(short, text);
        for (text, saturates) in [(text, false), (short, true)] {
            let sc = Scenario::from_bytes(&path, text.into_bytes()).unwrap();
            drawn_together(&sc, saturates);
        }
    }

    #[cfg(target_arch = "x86_64")]
    fn drawn_together(sc: &Scenario, saturates: bool) {
        let book = HazardBook::new(sc);
        assert!(book.tables.len() > 1);
        assert!(book.tables.iter().all(|h| h.saturates == saturates));
        let days = sc.days();
        let changes: Vec<u32> = (1..days)
            .filter(|&d| book.day[d as usize] != book.day[d as usize - 1])
            .collect();
        let mut x = 3_u64;
        let mut draw = |k: u64| {
            x = rng::key(x, k, 9, Purpose::Sweep);
            x
        };
        let nyc = sc.places.iter().position(|p| p.shelter).unwrap() as u16;
        let permit_days = sc.behaviour.work_permit_days;
        let mut decided = 0;
        for round in 0..1200 {
            // The day before a change of table, a block's length or two ahead; the end of
            // the window; any day.
            let t = match round % 3 {
                0 => changes[(draw(1) % changes.len() as u64) as usize] - 1 - round as u32 % 17,
                1 => days - 1 - (draw(3) % 40) as u32,
                _ => (draw(4) % u64::from(days)) as u32,
            };
            let agents: Vec<Agent> = (0..50)
                .map(|i| {
                    let r = draw(i);
                    // Waits long enough for the shelter limits, in the shelter mostly; the
                    // work permit from any day, or within the first blocks.
                    let since = t.saturating_sub((r % 400) as u32);
                    let entry = if r & 1 == 0 {
                        (t + 1 + (r >> 8) as u32 % 24)
                            .saturating_sub(permit_days)
                            .min(since)
                    } else {
                        since.saturating_sub((r >> 20) as u32 % 300)
                    };
                    Agent {
                        id: r as u32,
                        entry: entry as u16,
                        since: since as u16,
                        until: 0,
                        place: if r & 6 != 0 {
                            nyc
                        } else {
                            (r >> 40) as u16 % sc.places.len() as u16
                        },
                        state: State::Waiting,
                        flags: 0,
                        nationality: 0,
                        returns: 0,
                    }
                })
                .collect();
            let seed = draw(5);
            let prefix = |a: &Agent| rng::prefix(seed, u64::from(a.id));
            let want: Vec<u16> = agents
                .iter()
                .map(|a| book.next_act(sc, prefix(a), a, t))
                .collect();
            let mut got = agents.clone();
            let mut jobs: Vec<(u32, u64)> = (0..agents.len() as u32)
                .filter(|&i| i % 7 != 3)
                .map(|i| (i, prefix(&agents[i as usize])))
                .collect();
            // SAFETY: `available` was checked above.
            unsafe { book.next_acts(sc, &mut got, &mut jobs, t) };
            assert!(jobs.is_empty());
            for (i, a) in got.iter().enumerate() {
                let expect = if i % 7 == 3 { 0 } else { want[i] };
                assert_eq!(a.until, expect, "round {round}, day {t}, agent {i}");
                decided += usize::from(expect != u16::MAX && i % 7 != 3);
            }
        }
        assert!(decided > 20_000, "{decided}");
    }

    #[test]
    fn bits_from_a_prefix_are_the_keyed_uniforms() {
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
                let bits = bits(rng::prefix(seed, u64::from(id)), day, purpose);
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
}
