//! What agents believe about each crossing: the chance of being allowed to claim there.
//!
//! Each crossing has two beliefs: the chance of success for a person with an STCA
//! exception and for one without. They start at what the rules in force on the first day
//! imply, and then learn from outcomes: the outcomes of day `t`, known once the day is
//! over, reach the decisions of day `t + lag + 1`, and a day with `n` outcomes moves a
//! belief by `n / (n + inertia)` towards that day's success rate. Each day's perceived
//! value adds rumour noise on the logit scale. This is what makes the response to a policy
//! change gradual.

use crate::model::rules::Rules;
use crate::scenario::{CrossingKind, Scenario};
use crate::util::rng::{self, Purpose};

/// Outcomes at one crossing for one type of person: `[successes, failures]`.
pub type Tally = [u64; 2];

/// Beliefs by crossing place id and type (0: no exception, 1: an exception).
///
/// Besides outcomes, official news can move beliefs: each day a belief moves by `news`
/// towards what the rules in force `news_lag` days before the day of the decision imply
/// (`news` 0: word of mouth only; `news_lag` 0: the rules of the day itself).
/// Without it, a crossing nobody tries any more is never learned to have reopened; with a
/// lag of its own, an announced rule can travel faster than word of outcomes.
#[derive(Debug, Clone)]
pub struct Beliefs {
    pub belief: Vec<[f64; 2]>,
    /// Outcomes by day, crossing and type, waiting for their lag to pass.
    history: Vec<Vec<[Tally; 2]>>,
    lag: usize,
    inertia: f64,
    /// Daily weight of official news: how far a belief moves each day towards what the
    /// rules in force `news_lag` days before the day of the decision imply.
    news: f64,
    news_lag: usize,
    /// What the rules imply, by day of the window and crossing (empty without news).
    implied: Vec<Vec<[f64; 2]>>,
}

/// The success a rule set implies at a crossing for a person with or without an exception.
/// `stca` says whether the STCA applies at a port (not at airports).
pub fn implied_success(
    rules: &Rules,
    kind: CrossingKind,
    stca: bool,
    detection: f64,
    daily: f64,
    exception: bool,
) -> f64 {
    if exception {
        return 1.0;
    }
    match kind {
        CrossingKind::Port => f64::from(u8::from(!(stca && rules.stca_ports))),
        CrossingKind::Irregular => match rules.extension {
            Some((window, _)) => (1.0 - detection) * (1.0 - daily).powi(window as i32),
            None if rules.direct_back => 1.0 - detection,
            None => 1.0,
        },
    }
}

impl Beliefs {
    pub fn new(sc: &Scenario, first_day: &Rules) -> Beliefs {
        let belief = sc
            .places
            .iter()
            .enumerate()
            .map(|(i, p)| match p.crossing {
                Some(kind) => {
                    let daily = first_day.extension.map_or(0.0, |(_, d)| d[i]);
                    let implied =
                        |e| implied_success(first_day, kind, p.stca, p.detection, daily, e);
                    [
                        sc.behaviour.belief_initial[i].unwrap_or_else(|| implied(false)),
                        implied(true),
                    ]
                }
                None => [0.0; 2],
            })
            .collect();
        let news = sc.behaviour.belief_news;
        let implied = if news > 0.0 {
            (0..sc.days())
                .map(|d| {
                    let rules = Rules::on(&sc.policies, sc.start.add_days(d as i32));
                    sc.places
                        .iter()
                        .enumerate()
                        .map(|(i, p)| match p.crossing {
                            Some(kind) => {
                                let daily = rules.extension.map_or(0.0, |(_, d)| d[i]);
                                [false, true].map(|e| {
                                    implied_success(&rules, kind, p.stca, p.detection, daily, e)
                                })
                            }
                            None => [0.0; 2],
                        })
                        .collect()
                })
                .collect()
        } else {
            Vec::new()
        };
        Beliefs {
            belief,
            history: Vec::new(),
            lag: sc.behaviour.belief_lag_days as usize,
            inertia: sc.behaviour.belief_inertia,
            news,
            news_lag: sc.behaviour.belief_news_lag_days as usize,
            implied,
        }
    }

    /// These beliefs carried into a run of `sc`, which has the same places and behaviour
    /// but may have other policies: what has been learned so far is kept, and the news of
    /// the days to come is what `sc`'s rules imply (see [`crate::model::engine::shared_days`]).
    pub fn carried_into(self, sc: &Scenario) -> Beliefs {
        let implied = Beliefs::new(sc, &Rules::on(&sc.policies, sc.start)).implied;
        Beliefs { implied, ..self }
    }

    /// Records day `t`'s outcomes and learns, for day `t + 1`'s decisions, from the day
    /// whose lag has then passed and from the news of the rules in force on day
    /// `t + 1 - news_lag`.
    pub fn observe(&mut self, day_outcomes: Vec<[Tally; 2]>) {
        self.history.push(day_outcomes);
        if self.history.len() > self.lag {
            let idx = self.history.len() - 1 - self.lag;
            let known = std::mem::take(&mut self.history[idx]);
            for (b, tallies) in self.belief.iter_mut().zip(known) {
                for k in 0..2 {
                    let [s, f] = tallies[k];
                    let n = (s + f) as f64;
                    if n > 0.0 {
                        let rate = s as f64 / n;
                        b[k] += n / (n + self.inertia) * (rate - b[k]);
                    }
                }
            }
        }
        // The beliefs learned tonight are those of tomorrow's decisions: the news of the
        // rules in force tomorrow less the news lag (with no lag, a rule's first day is
        // decided knowing it, as a dated rule is announced before it comes into force).
        if let Some(rules) = self
            .history
            .len()
            .checked_sub(self.news_lag)
            .and_then(|d| self.implied.get(d))
        {
            for (b, r) in self.belief.iter_mut().zip(rules) {
                for k in 0..2 {
                    b[k] += self.news * (r[k] - b[k]);
                }
            }
        }
    }

    /// Beliefs as perceived on day `t`, with the day's rumour noise.
    pub fn perceived(&self, seed: u64, t: u32, noise_sd: f64) -> Vec<[f64; 2]> {
        self.belief
            .iter()
            .enumerate()
            .map(|(c, b)| {
                if noise_sd == 0.0 {
                    return *b;
                }
                let z = rng::normal(seed, c as u64, t, Purpose::BeliefNoise);
                b.map(|p| {
                    let p = p.clamp(1e-6, 1.0 - 1e-6);
                    let l = (p / (1.0 - p)).ln() + noise_sd * z;
                    1.0 / (1.0 + (-l).exp())
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rules::Rules;

    #[test]
    fn implied_success_follows_the_rules() {
        let none = Rules::default();
        assert_eq!(
            implied_success(&none, CrossingKind::Port, true, 0.0, 0.0, false),
            1.0
        );
        let ports = Rules {
            stca_ports: true,
            ..Rules::default()
        };
        assert_eq!(
            implied_success(&ports, CrossingKind::Port, false, 0.0, 0.0, false),
            1.0,
            "the STCA does not cover airports"
        );
        assert_eq!(
            implied_success(&ports, CrossingKind::Port, true, 0.0, 0.0, false),
            0.0
        );
        assert_eq!(
            implied_success(&ports, CrossingKind::Port, true, 0.0, 0.0, true),
            1.0
        );
        assert_eq!(
            implied_success(&ports, CrossingKind::Irregular, false, 0.9, 0.0, false),
            1.0
        );
        let det = [0.1];
        let ext = Rules {
            extension: Some((14, &det)),
            ..Rules::default()
        };
        let s = implied_success(&ext, CrossingKind::Irregular, false, 0.5, 0.1, false);
        assert!((s - 0.5 * 0.9f64.powi(14)).abs() < 1e-12);
    }

    #[test]
    fn beliefs_learn_after_the_lag() {
        let mut b = Beliefs {
            belief: vec![[1.0, 1.0]],
            history: vec![],
            lag: 2,
            inertia: 10.0,
            news: 0.0,
            news_lag: 2,
            implied: vec![],
        };
        b.observe(vec![[[0, 10], [0, 0]]]);
        b.observe(vec![[[0, 0], [0, 0]]]);
        assert_eq!(b.belief[0][0], 1.0, "not known before the lag has passed");
        b.observe(vec![[[0, 0], [0, 0]]]);
        assert!((b.belief[0][0] - 0.5).abs() < 1e-12, "{:?}", b.belief);
        assert_eq!(b.belief[0][1], 1.0);
    }

    #[test]
    fn news_of_a_reopening_spreads_without_outcomes() {
        // Nobody crosses (no outcomes), but the rules say the crossing is open again.
        let mut b = Beliefs {
            belief: vec![[0.0, 1.0]],
            history: vec![],
            lag: 1,
            inertia: 10.0,
            news: 0.1,
            news_lag: 1,
            implied: vec![vec![[1.0, 1.0]]; 40],
        };
        let none = || vec![[[0, 0], [0, 0]]];
        b.observe(none());
        assert!(
            (b.belief[0][0] - 0.1).abs() < 1e-12,
            "day 1 decides with the news of day 0"
        );
        for _ in 0..30 {
            b.observe(none());
        }
        assert!(
            (b.belief[0][0] - (1.0 - 0.9f64.powi(31))).abs() < 1e-9,
            "{:?}",
            b.belief
        );
    }

    #[test]
    fn without_a_news_lag_a_rule_is_known_on_its_first_day() {
        // The rules close the crossing from day 1 on. Day 0's news step (after day 0) is
        // what day 1 decides with: it must be day 1's rules, not day 0's.
        let mut implied = vec![vec![[0.0, 1.0]]; 10];
        implied[0] = vec![[1.0, 1.0]];
        let mut b = Beliefs {
            belief: vec![[1.0, 1.0]],
            history: vec![],
            lag: 10,
            inertia: 10.0,
            news: 1.0,
            news_lag: 0,
            implied,
        };
        b.observe(vec![[[0, 0], [0, 0]]]);
        assert_eq!(
            b.belief[0],
            [0.0, 1.0],
            "day 1 decides knowing day 1's rules"
        );
        // With a lag of 1, day 1 decides with day 0's rules, day 2 with day 1's.
        let mut implied = vec![vec![[0.0, 1.0]]; 10];
        implied[0] = vec![[1.0, 1.0]];
        b.belief = vec![[1.0, 1.0]];
        b.history.clear();
        b.news_lag = 1;
        b.implied = implied;
        b.observe(vec![[[0, 0], [0, 0]]]);
        assert_eq!(b.belief[0], [1.0, 1.0], "day 1: the news of day 0");
        b.observe(vec![[[0, 0], [0, 0]]]);
        assert_eq!(b.belief[0], [0.0, 1.0], "day 2: the news of day 1");
    }

    #[test]
    fn news_of_a_rule_can_travel_faster_than_word_of_outcomes() {
        // A crossing closes on day 0; outcomes are known after 10 days, the news after 2.
        let mut b = Beliefs {
            belief: vec![[1.0, 1.0]],
            history: vec![],
            lag: 10,
            inertia: 10.0,
            news: 0.5,
            news_lag: 2,
            implied: vec![vec![[0.0, 1.0]]; 40],
        };
        let returned = || vec![[[0, 10], [0, 0]]];
        b.observe(returned());
        assert_eq!(b.belief[0][0], 1.0, "not before the news lag");
        b.observe(returned());
        assert_eq!(
            b.belief[0][0], 0.5,
            "the news of day 0, decided with on day 2"
        );
        assert_eq!(
            b.belief[0][1], 1.0,
            "people with an exception are still let in"
        );
    }
}
