//! The policies a scenario declares: a closed set of typed, dated rules with their
//! parameters, and the STCA exception flags they look at. What a rule does to a person on a
//! day lives in `model::rules`.
//!
//! Adding a policy is a variant of [`Rule`], its fields in `scenario/raw.rs`, its check in
//! `scenario/validate`, a line in `model::rules::Rules::on`, the function that applies it,
//! and a test.

use super::{Duration, PlaceId};
use crate::util::date::Date;

/// A person's attributes that the rules look at, as bit flags.
pub mod flags {
    pub const FAMILY_IN_CANADA: u8 = 1;
    pub const UNACCOMPANIED_MINOR: u8 = 2;
    pub const CANADIAN_DOCUMENT: u8 = 4;
    pub const PUBLIC_INTEREST: u8 = 8;
    /// All four STCA exceptions.
    pub const ANY_EXCEPTION: u8 = 15;
    /// Holds a visa or eTA to fly to Canada (not an exception).
    pub const VISA: u8 = 16;
}

/// Whether one of the four STCA exceptions applies (family member in Canada, unaccompanied
/// minor, holder of a Canadian document, public interest).
pub fn has_exception(f: u8) -> bool {
    f & flags::ANY_EXCEPTION != 0
}

/// One policy with its dates and parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// STCA at land ports, in force since 2004-12-29.
    StcaPorts {
        start: Date,
    },
    /// The Additional Protocol: the STCA along the whole land border from `start`.
    StcaExtension {
        start: Date,
        window_days: u32,
        /// Daily probability that an evading crosser is found, by crossing place id
        /// (0 for places that are not irregular crossings).
        daily_detection: Vec<f64>,
    },
    ResettlementQuota(Quota),
    /// COVID direct-back of irregular claimants, `start..=end`.
    DirectBack {
        start: Date,
        end: Date,
    },
    Busing(Busing),
    /// NYC shelter stay limits: `(start, max_stay_days)` steps in date order.
    ShelterLimit {
        steps: Vec<(Date, u32)>,
    },
}

/// Who may apply to the resettlement pathway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicants {
    /// People who have not yet entered the US: they apply instead of travelling north.
    Abroad,
    /// People already in the US: they apply instead of moving on.
    InUs,
    /// Both.
    Anywhere,
}

/// The humanitarian pathway of the 15,000 commitment: applications accepted over an intake
/// window, approved in order of application up to a cap, and resettled after processing.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    /// The commitment is announced; the rule is in force from here (nothing happens until
    /// the intake opens).
    pub start: Date,
    /// Applications are taken from `intake_opens` to `intake_closes`, both included.
    pub intake_opens: Date,
    pub intake_closes: Date,
    /// Approvals at most, in agents (people / scale).
    pub places: u64,
    /// By nationality id.
    pub eligible: Vec<bool>,
    pub family_required: bool,
    pub applicants: Applicants,
    pub apply_share: f64,
    pub processing_days: u32,
    pub arrive_at: PlaceId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Busing {
    pub start: Date,
    pub end: Option<Date>,
    /// By place id: whether buses leave from there.
    pub from: Vec<bool>,
    pub to: PlaceId,
    pub share: f64,
    /// Seats per day, in agents.
    pub daily_capacity: u32,
    pub travel: Duration,
}

/// A rule and whether the scenario switches it on.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub enabled: bool,
    pub rule: Rule,
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Rule::StcaPorts { .. } => "stca_ports",
            Rule::StcaExtension { .. } => "stca_extension",
            Rule::ResettlementQuota(_) => "resettlement_quota",
            Rule::DirectBack { .. } => "direct_back",
            Rule::Busing(_) => "busing",
            Rule::ShelterLimit { .. } => "shelter_limit",
        }
    }

    /// The first day and, where there is one, the last day in force.
    pub fn dates(&self) -> (Date, Option<Date>) {
        match self {
            Rule::StcaPorts { start } | Rule::StcaExtension { start, .. } => (*start, None),
            Rule::ResettlementQuota(q) => (q.start, None),
            Rule::DirectBack { start, end } => (*start, Some(*end)),
            Rule::Busing(b) => (b.start, b.end),
            Rule::ShelterLimit { steps } => (steps[0].0, None),
        }
    }

    pub fn in_force(&self, day: Date) -> bool {
        let (start, end) = self.dates();
        day >= start && end.is_none_or(|e| day <= e)
    }
}

impl Quota {
    pub fn eligible(&self, nationality: u8, f: u8) -> bool {
        self.eligible.get(nationality as usize) == Some(&true)
            && (!self.family_required || f & flags::FAMILY_IN_CANADA != 0)
    }

    /// Whether applications are taken on `day`.
    pub fn intake_open(&self, day: Date) -> bool {
        (self.intake_opens..=self.intake_closes).contains(&day)
    }

    /// Whether a person applies from abroad (`abroad`) or from inside the US.
    pub fn takes(&self, abroad: bool) -> bool {
        match self.applicants {
            Applicants::Abroad => abroad,
            Applicants::InUs => !abroad,
            Applicants::Anywhere => true,
        }
    }
}
