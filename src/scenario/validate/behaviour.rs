//! `[behaviour]`, with `[behaviour.choice]` and `[behaviour.beliefs]`: the hazards, the
//! route-choice weights and the belief parameters, with the starting beliefs resolved to
//! crossings.

use super::Checker;
use super::places::Places;
use crate::scenario::raw::RawBehaviour;
use crate::scenario::{Behaviour, PlaceKind};

pub(super) fn behaviour(c: &mut Checker, b: &RawBehaviour, places: &Places) -> Behaviour {
    let mut behaviour = Behaviour {
        give_up_rate: c.prob("behaviour.give_up_rate", b.give_up_rate),
        wait_growth: c.non_negative("behaviour.wait_growth", b.wait_growth),
        wait_cap_days: b.wait_cap_days,
        work_permit_days: b.work_permit_days,
        permit_move_factor: c.non_negative("behaviour.permit_move_factor", b.permit_move_factor),
        permit_give_up_factor: c
            .non_negative("behaviour.permit_give_up_factor", b.permit_give_up_factor),
        shelter_exit_factor: c.non_negative("behaviour.shelter_exit_factor", b.shelter_exit_factor),
        max_attempts: b.max_attempts,
        choice_time: c.non_negative("behaviour.choice.time", b.choice.time),
        choice_cost: c.non_negative("behaviour.choice.cost", b.choice.cost),
        choice_risk: c.non_negative("behaviour.choice.risk", b.choice.risk),
        choice_success: c.non_negative("behaviour.choice.success", b.choice.success),
        choice_returned: c.non_negative("behaviour.choice.returned", b.choice.returned),
        choice_scale: c.positive("behaviour.choice.scale", b.choice.scale),
        belief_lag_days: b.beliefs.lag_days,
        belief_news_lag_days: b.beliefs.news_lag_days.unwrap_or(b.beliefs.lag_days),
        belief_inertia: c.non_negative("behaviour.beliefs.inertia", b.beliefs.inertia),
        belief_noise_sd: c.non_negative("behaviour.beliefs.noise_sd", b.beliefs.noise_sd),
        belief_initial: vec![None; places.list.len()],
        belief_news: c.prob("behaviour.beliefs.news", b.beliefs.news),
    };
    for (name, v) in &b.beliefs.initial {
        let field = format!("behaviour.beliefs.initial.\"{name}\"");
        let v = c.prob(&field, *v);
        if let Some(id) = places.lookup(c, field.clone(), name) {
            if places.get(id).kind != PlaceKind::Crossing {
                c.err(&field, format!("\"{name}\" is not a crossing"));
            }
            behaviour.belief_initial[id as usize] = Some(v);
        }
    }
    if b.max_attempts == 0 {
        c.err("behaviour.max_attempts", "0: expected at least 1");
    }
    behaviour
}

#[cfg(test)]
mod tests {
    use super::super::places::places;
    use super::super::testing::{PLACES, checker, raw};
    use super::*;
    use crate::scenario::raw::RawPlace;

    const BEHAVIOUR: &str = r#"
        [behaviour]
        give_up_rate = 0.002
        wait_growth = 0.5
        wait_cap_days = 180
        work_permit_days = 180
        permit_move_factor = 0.3
        permit_give_up_factor = 3.0
        shelter_exit_factor = 3.0
        max_attempts = 2
        choice = { time = 0.1, cost = 0.002, risk = 3.0, success = 5.0 }
        beliefs = { lag_days = 10, inertia = 20.0, noise_sd = 0.1, initial = { "Roxham Road" = 0.8 } }
    "#;

    #[test]
    fn weights_are_checked_and_initial_beliefs_go_to_crossings() {
        let mut c = checker();
        let raw_places: Vec<RawPlace> = raw("places", PLACES);
        let places = places(&mut c, &raw_places);
        let b = behaviour(&mut c, &raw("behaviour", BEHAVIOUR), &places);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(b.choice_success, 5.0);
        assert_eq!(b.belief_initial, [None, None, Some(0.8), None, None]);

        let text = BEHAVIOUR
            .replace("wait_growth = 0.5", "wait_growth = -1")
            .replace("max_attempts = 2", "max_attempts = 0")
            .replace(
                "\"Roxham Road\" = 0.8",
                "\"New York City\" = 0.8, \"Roxam Road\" = 2",
            );
        behaviour(&mut c, &raw("behaviour", &text), &places);
        assert_eq!(
            c.problems,
            [
                "behaviour.wait_growth: -1: expected a number that is not negative",
                "behaviour.beliefs.initial.\"New York City\": \"New York City\" is not a crossing",
                "behaviour.beliefs.initial.\"Roxam Road\": 2 is not a probability: expected a number in [0, 1]",
                "behaviour.beliefs.initial.\"Roxam Road\": unknown place \"Roxam Road\" (did you mean \"Roxham Road\"?)",
                "behaviour.max_attempts: 0: expected at least 1",
            ]
        );
    }
}
