//! The policy rules: a closed set of typed, dated rules, and the pure functions that apply
//! them to one person on one day.
//!
//! Adding a policy is a variant of [`Rule`], its fields in `scenario/raw.rs`, a line in
//! [`Rules::on`], the function that applies it, and a test below.

use crate::date::Date;
use crate::scenario::{Duration, PlaceId};

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

#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    pub start: Date,
    /// Agents per policy year (people / scale).
    pub places_per_year: f64,
    /// By nationality id.
    pub eligible: Vec<bool>,
    pub family_required: bool,
    pub processing_days: u32,
    pub apply_share: f64,
    pub max_wait_days: u32,
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

/// The rules in force on one day, looked up once per day by the engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules<'a> {
    pub stca_ports: bool,
    /// `(window_days, daily_detection by place)` when the extension is in force.
    pub extension: Option<(u32, &'a [f64])>,
    pub direct_back: bool,
    pub quota: Option<&'a Quota>,
    pub busing: Option<&'a Busing>,
    pub shelter_max_stay: Option<u32>,
}

impl<'a> Rules<'a> {
    pub fn on(policies: &'a [Policy], day: Date) -> Rules<'a> {
        let mut r = Rules::default();
        for p in policies
            .iter()
            .filter(|p| p.enabled && p.rule.in_force(day))
        {
            match &p.rule {
                Rule::StcaPorts { .. } => r.stca_ports = true,
                Rule::StcaExtension {
                    window_days,
                    daily_detection,
                    ..
                } => r.extension = Some((*window_days, daily_detection)),
                Rule::ResettlementQuota(q) => r.quota = Some(q),
                Rule::DirectBack { .. } => r.direct_back = true,
                Rule::Busing(b) => r.busing = Some(b),
                Rule::ShelterLimit { steps } => {
                    r.shelter_max_stay = steps.iter().rev().find(|s| s.0 <= day).map(|s| s.1)
                }
            }
        }
        r
    }
}

/// What happens to a person who presents at a crossing or is found while evading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Claims asylum in Canada and stays.
    Claim,
    /// Sent back to the US.
    Returned,
    /// Crossed undetected under the extension: hides until the window has passed.
    Evading,
}

/// A claimant at a port: a land port where the STCA applies (`stca`), or an airport.
pub fn at_port(rules: &Rules, f: u8, stca: bool) -> Outcome {
    if stca && rules.stca_ports && !has_exception(f) {
        Outcome::Returned
    } else {
        Outcome::Claim
    }
}

/// A person crossing between ports, `intercepted` or not on the day of crossing.
pub fn at_irregular(rules: &Rules, f: u8, intercepted: bool) -> Outcome {
    let covered = rules.direct_back || rules.extension.is_some();
    match (covered, intercepted) {
        (true, true) if !has_exception(f) => Outcome::Returned,
        (_, false) if rules.extension.is_some() => Outcome::Evading,
        _ => Outcome::Claim,
    }
}

/// A person evading under the extension on a day of the window, `found` or not.
pub fn while_evading(f: u8, found: bool) -> Option<Outcome> {
    match found {
        true if has_exception(f) => Some(Outcome::Claim),
        true => Some(Outcome::Returned),
        false => None,
    }
}

impl Quota {
    pub fn eligible(&self, nationality: u8, f: u8) -> bool {
        self.eligible.get(nationality as usize) == Some(&true)
            && (!self.family_required || f & flags::FAMILY_IN_CANADA != 0)
    }

    /// The policy year (0 from `start`, counted by anniversaries) a day falls in.
    pub fn year_of(&self, day: Date) -> i32 {
        let (y0, m, d) = self.start.ymd();
        let anniversary = |k: i32| {
            Date::from_ymd(y0 + k, m, d).unwrap_or_else(|| Date::from_ymd(y0 + k, 3, 1).unwrap())
        };
        let mut k = (day.0 - self.start.0).div_euclid(366);
        while anniversary(k + 1) <= day {
            k += 1;
        }
        k
    }

    /// Places released on `day`: the year's places spread evenly over its days, so that
    /// exactly `places_per_year` (rounded down) are released by the year's end.
    pub fn released_on(&self, day: Date) -> u32 {
        let k = self.year_of(day);
        let (y0, m, d) = self.start.ymd();
        let first =
            Date::from_ymd(y0 + k, m, d).unwrap_or_else(|| Date::from_ymd(y0 + k, 3, 1).unwrap());
        let next = Date::from_ymd(y0 + k + 1, m, d)
            .unwrap_or_else(|| Date::from_ymd(y0 + k + 1, 3, 1).unwrap());
        let len = f64::from(next.0 - first.0);
        let i = f64::from(day.0 - first.0);
        let cum = |j: f64| (self.places_per_year * j / len).floor();
        (cum(i + 1.0) - cum(i)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn extension(start: &str) -> Policy {
        Policy {
            enabled: true,
            rule: Rule::StcaExtension {
                start: d(start),
                window_days: 14,
                daily_detection: vec![0.0, 0.1],
            },
        }
    }

    #[test]
    fn port_claimant_with_any_exception_is_admitted_and_without_is_returned() {
        let p = [Policy {
            enabled: true,
            rule: Rule::StcaPorts {
                start: d("2004-12-29"),
            },
        }];
        let r = Rules::on(&p, d("2022-06-01"));
        for e in [
            flags::FAMILY_IN_CANADA,
            flags::UNACCOMPANIED_MINOR,
            flags::CANADIAN_DOCUMENT,
            flags::PUBLIC_INTEREST,
        ] {
            assert_eq!(at_port(&r, e, true), Outcome::Claim);
        }
        assert_eq!(at_port(&r, 0, true), Outcome::Returned);
        assert_eq!(
            at_port(&r, flags::VISA, true),
            Outcome::Returned,
            "a visa is no exception"
        );
        // The STCA does not cover airports.
        assert_eq!(at_port(&r, 0, false), Outcome::Claim);
        // Before the STCA, or with it switched off, everyone may claim at a port.
        assert_eq!(
            at_port(&Rules::on(&p, d("2004-12-28")), 0, true),
            Outcome::Claim
        );
        let off = [Policy {
            enabled: false,
            ..p[0].clone()
        }];
        assert_eq!(
            at_port(&Rules::on(&off, d("2022-06-01")), 0, true),
            Outcome::Claim
        );
    }

    #[test]
    fn nobody_is_returned_under_the_extension_before_its_start() {
        let p = [extension("2023-03-25")];
        let before = Rules::on(&p, d("2023-03-24"));
        assert_eq!(at_irregular(&before, 0, true), Outcome::Claim);
        assert_eq!(at_irregular(&before, 0, false), Outcome::Claim);
        let after = Rules::on(&p, d("2023-03-25"));
        assert_eq!(at_irregular(&after, 0, true), Outcome::Returned);
        assert_eq!(
            at_irregular(&after, flags::UNACCOMPANIED_MINOR, true),
            Outcome::Claim
        );
        assert_eq!(at_irregular(&after, 0, false), Outcome::Evading);
    }

    #[test]
    fn an_evader_not_found_is_not_returned() {
        assert_eq!(while_evading(0, false), None);
        assert_eq!(while_evading(0, true), Some(Outcome::Returned));
        assert_eq!(
            while_evading(flags::FAMILY_IN_CANADA, true),
            Some(Outcome::Claim)
        );
    }

    #[test]
    fn direct_back_acts_only_between_its_dates() {
        let p = [Policy {
            enabled: true,
            rule: Rule::DirectBack {
                start: d("2020-03-21"),
                end: d("2021-11-21"),
            },
        }];
        for (day, want) in [
            ("2020-03-20", Outcome::Claim),
            ("2020-03-21", Outcome::Returned),
            ("2021-11-21", Outcome::Returned),
            ("2021-11-22", Outcome::Claim),
        ] {
            assert_eq!(at_irregular(&Rules::on(&p, d(day)), 0, true), want, "{day}");
        }
        // Under direct-back alone an undetected crosser is not hunted for.
        assert_eq!(
            at_irregular(&Rules::on(&p, d("2020-06-01")), 0, false),
            Outcome::Claim
        );
    }

    #[test]
    fn shelter_steps_and_quota_release() {
        let p = [Policy {
            enabled: true,
            rule: Rule::ShelterLimit {
                steps: vec![(d("2023-08-01"), 60), (d("2023-10-01"), 30)],
            },
        }];
        assert_eq!(Rules::on(&p, d("2023-07-31")).shelter_max_stay, None);
        assert_eq!(Rules::on(&p, d("2023-09-30")).shelter_max_stay, Some(60));
        assert_eq!(Rules::on(&p, d("2024-01-01")).shelter_max_stay, Some(30));

        let q = Quota {
            start: d("2023-03-25"),
            places_per_year: 15_000.0,
            eligible: vec![true, false],
            family_required: true,
            processing_days: 10,
            apply_share: 0.5,
            max_wait_days: 100,
            arrive_at: 0,
        };
        assert!(q.eligible(0, flags::FAMILY_IN_CANADA));
        assert!(!q.eligible(0, 0));
        assert!(!q.eligible(1, flags::FAMILY_IN_CANADA));
        assert_eq!(q.year_of(d("2024-03-24")), 0);
        assert_eq!(q.year_of(d("2024-03-25")), 1);
        let year: u32 = (0..366)
            .map(|i| q.released_on(d("2023-03-25").add_days(i)))
            .sum();
        assert_eq!(year, 15_000);
    }
}
