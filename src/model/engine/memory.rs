//! An upper bound on the memory one run takes, from the scenario alone, so that a run that
//! cannot fit is refused before it starts (`experiment::resources` adds what a command
//! keeps besides). Each term follows a structure of the engine; agents are counted as if
//! none ever left (terminal agents are dropped as the run goes, so the bound is loose for
//! corridors where most people settle quickly).

use super::hazards::{BLOCK_DAYS, HAZARD_DAYS};
use crate::model::agent::{Agent, State};
use crate::scenario::policy::Rule;
use crate::scenario::{Metric, PlaceKind, Scenario};

/// Bytes one run of `sc` may hold at its peak with `threads` workers: its results, hazard
/// tables, beliefs, route choice tables and agents.
pub fn run_bytes(sc: &Scenario, threads: usize) -> u64 {
    let days = u64::from(sc.days());
    let np = sc.places.len() as u64;
    let results = days * np * Metric::COUNT as u64 * 8 + days * (State::COUNT as u64 + 1) * 8;

    let b = &sc.behaviour;
    let mut tables = 1;
    let mut longest_stay = 0;
    for p in &sc.policies {
        if let Rule::ShelterLimit { steps } = &p.rule {
            tables += steps.len() as u64;
            longest_stay = steps.iter().map(|s| s.1).max().unwrap_or(0);
        }
    }
    let width = u64::from(b.wait_cap_days.max(longest_stay).min(HAZARD_DAYS)) + 1;
    // Each row of the any-act thresholds is padded by a block of days (`hazards`).
    let hazards = tables * np * 2 * ((width + BLOCK_DAYS as u64) * 8 + width * 16) + days * 6;

    let lag = u64::from(b.belief_lag_days.max(b.belief_news_lag_days)).min(days) + 1;
    let mut beliefs = days * 24 + lag * (24 + np * 32);
    if b.belief_news > 0.0 {
        beliefs += days * (24 + np * 16);
    }

    let ends = sc
        .places
        .iter()
        .filter(|p| {
            matches!(p.kind, PlaceKind::Crossing | PlaceKind::Destination) || p.wait_value.is_some()
        })
        .count() as u64;
    // The ways, the day's table and its rows for the wide race (136 bytes a row).
    let choice = 2 * np * (24 + ends * 16) + np * 4 * (24 + (ends + 1) * 24 + 136);

    // Agents: every agent present at once, a month's worth drawn twice over (the month and
    // the scratch it is drawn in, each up to twice its length), and a request each.
    let slack = |n: f64| (n * 1.1 + 1000.0) as u64;
    let agents = slack(sc.expected_agents());
    let month = slack(
        (0..sc.inflows.first().map_or(0, |i| i.monthly.len()))
            .map(|m| {
                sc.inflows
                    .iter()
                    .filter_map(|i| i.monthly.get(m))
                    .map(|(_, r)| r)
                    .sum::<f64>()
            })
            .fold(0.0, f64::max),
    );
    let agent = std::mem::size_of::<Agent>() as u64;
    let people = agents * (agent + 16) + 4 * month * agent;

    // A thread's tallies, and its scratch buffers for a slice of at most 1,024 agents (the
    // agents due, route choosers, races and their options, next-act jobs: 64 bytes each).
    let tallies = threads as u64 * (8 * np * (Metric::COUNT as u64 * 8 + 48) + 1024 * 64);
    results + hazards + beliefs + choice + people + tallies
}
