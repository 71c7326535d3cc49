//! The metrics counted per place and day, and which apply to which kind of place. They
//! sit with the scenario because observed series name them, and the engine and the
//! output rows count and write them.

use super::{CrossingKind, PlaceKind};

/// The flows and stocks counted per place and day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Metric {
    Arrivals = 0,
    Departures,
    Waiting,
    Attempts,
    Intercepted,
    Claims,
    Returned,
    Evaded,
    Resettled,
    GaveUp,
    Bused,
    Applied,
}

impl Metric {
    pub const ALL: [Metric; 12] = [
        Metric::Arrivals,
        Metric::Departures,
        Metric::Waiting,
        Metric::Attempts,
        Metric::Intercepted,
        Metric::Claims,
        Metric::Returned,
        Metric::Evaded,
        Metric::Resettled,
        Metric::GaveUp,
        Metric::Bused,
        Metric::Applied,
    ];
    pub const COUNT: usize = 12;

    pub fn name(self) -> &'static str {
        match self {
            Metric::Arrivals => "arrivals",
            Metric::Departures => "departures",
            Metric::Waiting => "waiting",
            Metric::Attempts => "attempts",
            Metric::Intercepted => "intercepted",
            Metric::Claims => "claims",
            Metric::Returned => "returned",
            Metric::Evaded => "evaded",
            Metric::Resettled => "resettled",
            Metric::GaveUp => "gave_up",
            Metric::Bused => "bused",
            Metric::Applied => "quota_applications",
        }
    }

    /// A stock (people present at the end of the day) rather than a flow.
    pub fn is_stock(self) -> bool {
        self == Metric::Waiting
    }
}

/// The metrics that mean something at a kind of place; only these get rows.
pub fn metrics_for(kind: PlaceKind) -> &'static [Metric] {
    use Metric::*;
    match kind {
        PlaceKind::Entry => &[Arrivals, Departures, Waiting, GaveUp, Bused, Applied],
        PlaceKind::City | PlaceKind::Staging => &[Arrivals, Departures, Waiting, GaveUp, Applied],
        PlaceKind::Crossing => &[Attempts, Intercepted, Claims, Returned, Evaded],
        PlaceKind::Destination => &[Arrivals, Resettled],
    }
}

pub fn kind_name(k: PlaceKind) -> &'static str {
    match k {
        PlaceKind::Entry => "entry",
        PlaceKind::City => "city",
        PlaceKind::Staging => "staging",
        PlaceKind::Crossing => "crossing",
        PlaceKind::Destination => "destination",
    }
}

pub fn crossing_name(c: Option<CrossingKind>) -> &'static str {
    match c {
        Some(CrossingKind::Irregular) => "irregular",
        Some(CrossingKind::Port) => "port",
        None => "",
    }
}
