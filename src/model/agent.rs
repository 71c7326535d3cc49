//! Agents: one compact record per person (or per `scale` people), and the states and
//! metrics they are counted in.

use crate::scenario::PlaceId;

/// Where a person is in the corridor. Every agent is in exactly one state every day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum State {
    /// At an entry, city or staging place, deciding each day whether to move on.
    #[default]
    Waiting = 0,
    /// On a route; arrives on day `until`.
    Travelling,
    /// Crossed between ports undetected under the extension; hiding until day `until`.
    Evading,
    /// Approved by the resettlement pathway (abroad, or where they waited in the US);
    /// arrives in Canada on day `until`.
    Approved,
    /// Returned to the US, waiting at the crossing's `return_to` place; may try again.
    Returned,
    /// Claimed asylum after crossing between ports (terminal).
    ClaimedIrregular,
    /// Claimed asylum at a port of entry (terminal).
    ClaimedPort,
    /// Stayed undetected for the extension's window, then claimed inland (terminal).
    Evaded,
    /// Arrived in Canada through the quota (terminal).
    Resettled,
    /// Reached a destination in the US and stayed there (terminal).
    Settled,
    /// Gave up on the way north and stayed in the US where they were (terminal).
    GaveUp,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Waiting,
        State::Travelling,
        State::Evading,
        State::Approved,
        State::Returned,
        State::ClaimedIrregular,
        State::ClaimedPort,
        State::Evaded,
        State::Resettled,
        State::Settled,
        State::GaveUp,
    ];
    pub const COUNT: usize = 11;

    pub fn name(self) -> &'static str {
        match self {
            State::Waiting => "waiting",
            State::Travelling => "travelling",
            State::Evading => "evading",
            State::Approved => "quota_approved",
            State::Returned => "returned_to_us",
            State::ClaimedIrregular => "claimed_irregular",
            State::ClaimedPort => "claimed_port",
            State::Evaded => "claimed_inland_after_evading",
            State::Resettled => "resettled",
            State::Settled => "settled_in_us",
            State::GaveUp => "gave_up",
        }
    }

    /// Terminal states never change again.
    pub fn is_terminal(self) -> bool {
        self >= State::ClaimedIrregular
    }

    /// Counted in the `waiting` stock of the agent's place (and deciding each day).
    pub fn is_waiting(self) -> bool {
        matches!(self, State::Waiting | State::Returned)
    }
}

/// One agent: 16 bytes, no heap. Days are counted from the scenario's start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Agent {
    /// Stable id: the agent's rank in order of entry. Keys its random streams.
    pub id: u32,
    /// Day of entry into the US (the work-permit clock starts here).
    pub entry: u16,
    /// Day the agent arrived at its current place or state.
    pub since: u16,
    /// Day of the next scheduled event (arrival, end of the window, resettlement); for a
    /// waiting agent, the engine's record of the day it next gives up or moves on.
    pub until: u16,
    /// Current place, or the place being travelled to.
    pub place: PlaceId,
    pub state: State,
    /// STCA exception flags, see [`crate::scenario::policy::flags`].
    pub flags: u8,
    pub nationality: u8,
    /// Times returned to the US so far.
    pub returns: u8,
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_agent_fits_in_32_bytes() {
        assert!(std::mem::size_of::<super::Agent>() <= 32);
        assert_eq!(std::mem::size_of::<super::Agent>(), 16);
    }
}
