//! Where the agents present are kept: chunks in id order, tidied between days.
//!
//! Chunks are the units the parallel phase hands out, and id order is what lets a grant
//! find an agent by id with a binary search instead of an index that would have to be
//! kept up to date. Terminal agents are only counted, so they are dropped here between
//! days, lazily, where they crowd a chunk; none of this changes the results, which do
//! not depend on where an agent is stored.

use crate::model::agent::Agent;
use rayon::prelude::*;

/// Most agents in a chunk of the parallel phase. Results do not depend on the chunking.
pub(super) const CHUNK: usize = 1 << 14;

/// Where an agent is stored: its chunk and its index there (stable for the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub(super) chunk: u32,
    pub(super) idx: u32,
}

/// Agents in id order, split into chunks of at most [`CHUNK`].
#[derive(Debug, Clone, Default)]
pub(super) struct Chunk {
    pub(super) agents: Vec<Agent>,
    /// Agents here in a terminal state, not yet removed.
    pub(super) dead: usize,
}

impl Chunk {
    /// Removes the agents in a terminal state.
    fn compact(&mut self) {
        self.agents.retain(|a| !a.state.is_terminal());
        self.dead = 0;
    }
}

/// Removes terminal agents where they take more than a quarter of a chunk, and joins
/// neighbouring chunks that have become small (emptied ones go to `spare`). Keeps id order.
pub(super) fn tidy(chunks: &mut Vec<Chunk>, spare: &mut Vec<Chunk>) {
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
