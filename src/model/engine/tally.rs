//! One thread's counts for the day, merged into the day's.
//!
//! Every count is an integer, so summing the threads' tallies gives the same day whatever
//! the split of the work. In the plain loop the stocks are counted agent by agent; by
//! default they are carried from day to day and the tallies hold only the day's changes,
//! which is why the stocks here are signed.

use super::grants::Request;
use super::step::Chooser;
use super::store::Pos;
use crate::model::agent::{Agent, State};
use crate::model::beliefs::Tally;
use crate::scenario::Metric;
use crate::scenario::policy::has_exception;

/// One thread's tallies for the day.
#[derive(Debug, Clone)]
pub(super) struct Tallies {
    /// Flows by place and metric (the `waiting` stock is kept in `waiting`).
    pub(super) counts: Vec<u64>,
    /// Agents by state, and agents waiting (or returned) by place: in the plain loop,
    /// counted agent by agent; otherwise the day's changes to the stocks.
    pub(super) states: [i64; State::COUNT],
    pub(super) waiting: Vec<i64>,
    pub(super) outcomes: Vec<[Tally; 2]>,
    pub(super) requests: Vec<Request>,
    /// Applicants to the resettlement pathway today: where they are, and whether abroad.
    pub(super) applicants: Vec<(Pos, bool)>,
    /// Scratch space of the slice being stepped, lent by the thread ([`Scratch`]).
    pub(super) scratch: Scratch,
    /// Agents that became terminal today, by chunk.
    pub(super) dead: Vec<(usize, usize)>,
}

/// Buffers a slice's step uses, clearing or overwriting them before it reads them: the agents with
/// something to do today, those of them moving on (whose routes are raced together: the races'
/// inputs and the options that might win each) and those waiting after their day (index, prefix),
/// whose next acts are drawn together. Each thread keeps its own from day to day
/// ([`Scratch::lend`]), so that they are not allocated and grown again for every slice and day.
#[derive(Debug, Clone, Default)]
pub(super) struct Scratch {
    pub(super) due: Vec<u32>,
    pub(super) choosers: Vec<Chooser>,
    #[cfg(target_arch = "x86_64")]
    pub(super) races: Vec<(u32, u64, u8)>,
    pub(super) contenders: Vec<u32>,
    pub(super) waiting_jobs: Vec<(u32, u64)>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

impl Scratch {
    /// Swaps the thread's buffers with `mine`: once to borrow them, once to give them back.
    pub(super) fn lend(mine: &mut Scratch) {
        SCRATCH.with_borrow_mut(|s| std::mem::swap(s, mine));
    }
}

impl Tallies {
    pub(super) fn new(places: usize) -> Tallies {
        Tallies {
            counts: vec![0; places * Metric::COUNT],
            states: [0; State::COUNT],
            waiting: vec![0; places],
            outcomes: vec![[[0; 2]; 2]; places],
            requests: Vec::new(),
            applicants: Vec::new(),
            scratch: Scratch::default(),
            dead: Vec::new(),
        }
    }

    /// Zero again, keeping what was allocated (the outcomes are handed to the beliefs).
    pub(super) fn clear(&mut self) {
        self.counts.fill(0);
        self.states = [0; State::COUNT];
        self.waiting.fill(0);
        self.requests.clear();
        self.applicants.clear();
        self.dead.clear();
    }

    #[inline]
    pub(super) fn add(&mut self, place: u16, m: Metric) {
        self.counts[place as usize * Metric::COUNT + m as usize] += 1;
    }

    #[inline]
    pub(super) fn outcome(&mut self, place: u16, f: u8, success: bool) {
        self.outcomes[place as usize][usize::from(has_exception(f))][usize::from(!success)] += 1;
    }

    /// The plain loop: counts one agent's state at the end of its day.
    #[inline]
    pub(super) fn count(&mut self, a: &Agent) {
        self.states[a.state as usize] += 1;
        if a.state.is_waiting() {
            self.waiting[a.place as usize] += 1;
        }
    }

    /// An agent changed from state `s0` at `p0` to `s1` at `p1`.
    #[inline]
    pub(super) fn moved(&mut self, s0: State, p0: u16, s1: State, p1: u16) {
        self.states[s0 as usize] -= 1;
        self.states[s1 as usize] += 1;
        if s0.is_waiting() {
            self.waiting[p0 as usize] -= 1;
        }
        if s1.is_waiting() {
            self.waiting[p1 as usize] += 1;
        }
    }

    pub(super) fn merge(mut self, o: Tallies) -> Tallies {
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
