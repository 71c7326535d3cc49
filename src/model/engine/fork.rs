//! Runs that share their beginning. Two scenarios that differ only in their policies, run
//! with one seed, are the same run up to the day their rules first differ: every draw is
//! keyed by (seed, subject, day, purpose), and before that day nothing the engine reads
//! differs. A comparison's variants and a sweep over a policy's parameters are such runs,
//! so each can go on from a copy of one run stopped on that day ([`Simulation::fork`])
//! instead of simulating those days again. The results are those of a run from the first
//! day (tested, and `cmp` of the bundled scenarios' outputs).

use super::Simulation;
use crate::model::rules::Rules;
use crate::scenario::Scenario;

/// The days on which runs of `a` and `b` with one seed are the same run, so that one of
/// `a` stopped after that many days (or fewer) may go on as a run of `b`; 0 when none can.
///
/// The runs differ from the first day on which the rules in force differ, and the state a
/// day leaves behind already holds the news of the next day's rules, so the days shared end
/// the day before. Anything else that differs (places, routes, inflows, behaviour, the
/// window, the seed, the scale) may matter from the first day: then 0. So does a
/// different shelter limit on any day, since a waiting agent's next act is drawn ahead
/// from the hazards of the days to come.
pub fn shared_days(a: &Scenario, b: &Scenario) -> u32 {
    if !same_but_policies(a, b) {
        return 0;
    }
    let days = a.days();
    let mut first = days;
    for d in 0..days {
        let date = a.start.add_days(d as i32);
        let (ra, rb) = (Rules::on(&a.policies, date), Rules::on(&b.policies, date));
        if ra.shelter_max_stay != rb.shelter_max_stay {
            return 0;
        }
        if first == days && ra != rb {
            first = d;
        }
    }
    first.saturating_sub(1)
}

/// The first day whose figures runs of `a` and `b` with one seed may differ on: the first
/// day the rules in force differ (a day's decisions read that day's rules and news of
/// rules no later), or day 0 if anything but the policies differs; `None` if they are the
/// same run. Unlike [`shared_days`], a different shelter limit counts from its own day.
pub fn first_difference(a: &Scenario, b: &Scenario) -> Option<u32> {
    if !same_but_policies(a, b) {
        return Some(0);
    }
    (0..a.days()).find(|&d| {
        let date = a.start.add_days(d as i32);
        Rules::on(&a.policies, date) != Rules::on(&b.policies, date)
    })
}

/// Whether everything but the policies is the same.
fn same_but_policies(a: &Scenario, b: &Scenario) -> bool {
    a.start == b.start
        && a.end == b.end
        && a.seed == b.seed
        && a.scale == b.scale
        && a.places == b.places
        && a.routes == b.routes
        && a.nationalities == b.nationalities
        && a.inflows == b.inflows
        && a.behaviour == b.behaviour
}

impl<'a> Simulation<'a> {
    /// This run, stopped after [`Simulation::day`] days, going on as a run of `sc`: the
    /// same results as a run of `sc` from the first day with this run's seed and options.
    /// `None` if the days run so far are not days the two share ([`shared_days`]).
    pub fn fork<'b>(self, sc: &'b Scenario) -> Option<Simulation<'b>> {
        let shared = shared_days(self.sc, sc);
        if shared == 0 || self.t > shared {
            return None;
        }
        Some(Simulation {
            sc,
            seed: self.seed,
            plain: self.plain,
            wide: self.wide,
            t: self.t,
            ways: self.ways,
            plan: self.plan,
            month: self.month,
            pending: self.pending,
            next: self.next,
            scratch: self.scratch,
            entered: self.entered,
            chunks: self.chunks,
            spare: self.spare,
            stock: self.stock,
            waiting: self.waiting,
            hazards: self.hazards,
            spare_tallies: self.spare_tallies,
            beliefs: self.beliefs.carried_into(sc),
            book: self.book,
            res: self.res,
        })
    }
}
