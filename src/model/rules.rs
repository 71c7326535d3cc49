//! The rules in force on a day, and the pure functions that apply them to one person: what
//! happens at a port, at an irregular crossing and while evading.

use crate::scenario::policy::{Busing, Policy, Quota, Rule, has_exception};
use crate::util::date::Date;

/// The rules in force on one day, looked up once per day by the engine.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::policy::{Applicants, flags};

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
            start: d("2023-03-24"),
            intake_opens: d("2023-11-17"),
            intake_closes: d("2023-12-30"),
            places: 11_000,
            eligible: vec![true, false],
            family_required: true,
            applicants: Applicants::Abroad,
            apply_share: 0.5,
            processing_days: 10,
            arrive_at: 0,
        };
        assert!(q.eligible(0, flags::FAMILY_IN_CANADA));
        assert!(!q.eligible(0, 0));
        assert!(!q.eligible(1, flags::FAMILY_IN_CANADA));
        assert!(!q.intake_open(d("2023-11-16")));
        assert!(q.intake_open(d("2023-11-17")) && q.intake_open(d("2023-12-30")));
        assert!(!q.intake_open(d("2023-12-31")));
        assert!(q.takes(true) && !q.takes(false), "abroad only");
        let anywhere = Quota {
            applicants: Applicants::Anywhere,
            ..q.clone()
        };
        assert!(anywhere.takes(true) && anywhere.takes(false));
    }
}
