//! The day's second phase: shared capacities granted, sequentially and in a fixed order.
//!
//! Bus seats, seats on routes with a daily capacity and quota places are contested, so
//! agents cannot take them in the parallel phase without the result depending on who got
//! there first. They file requests instead, and here the requests are sorted by resource
//! and a lottery keyed by the agent's id (quota applicants queue in order of application,
//! ties by lottery) and granted up to capacity: the same winners whatever the threads.

use super::step::{DayView, depart};
use super::store::{Chunk, Pos};
use super::tally::Tallies;
use crate::model::agent::State;
use crate::scenario::Metric;
use crate::util::rng::{self, Purpose};

/// A resource id for bus seats in capacity requests (routes use their index).
pub(super) const BUS: u32 = u32::MAX;

/// A request for a seat: the resource, the agent and where it is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Request {
    pub(super) resource: u32,
    pub(super) id: u32,
    pub(super) pos: Pos,
}

/// Places of the resettlement pathway granted so far.
#[derive(Debug, Clone, Default)]
pub(super) struct QuotaBook {
    pub(super) granted: u64,
}

pub(super) fn grant_seats(chunks: &mut [Chunk], day: &mut Tallies, v: &DayView) {
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
            depart(a, to, &travel, v, day, rng::prefix(v.seed, u64::from(a.id)));
            day.moved(s0, p0, a.state, a.place);
        }
        i = end;
    }
}

/// The day's applicants to the pathway, in a lottery order keyed by id, are approved while
/// places remain; the approved are resettled after processing. A refused applicant from
/// abroad enters the US today after all; one in the US keeps waiting.
pub(super) fn grant_quota(
    chunks: &mut [Chunk],
    day: &mut Tallies,
    v: &DayView,
    book: &mut QuotaBook,
) {
    let mut applicants = std::mem::take(&mut day.applicants);
    let Some(q) = v.rules.quota else { return };
    let id = |p: &Pos| chunks[p.chunk as usize].agents[p.idx as usize].id;
    applicants.sort_by_cached_key(|(p, _)| {
        let id = id(p);
        (rng::key(v.seed, u64::from(id), v.t, Purpose::Lottery), id)
    });
    for (pos, abroad) in applicants {
        let a = &mut chunks[pos.chunk as usize].agents[pos.idx as usize];
        if book.granted < q.places {
            let (s0, p0) = (a.state, a.place);
            a.state = State::Approved;
            a.since = v.t as u16;
            a.until = (v.t as u16).saturating_add(q.processing_days.min(60_000) as u16);
            day.moved(s0, p0, a.state, a.place);
            book.granted += 1;
        } else if abroad {
            day.add(a.place, Metric::Arrivals);
        }
    }
}
