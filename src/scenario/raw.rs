//! The scenario file as written: serde structs that mirror the TOML one to one.
//!
//! Every struct denies unknown fields, so a misspelt key is an error rather than a silent
//! default. Nothing here is checked beyond its type: [`super::validate`] turns a
//! [`RawScenario`] into a [`super::Scenario`] with names resolved to ids and dates checked.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::value::Datetime;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawMeta,
    pub places: Vec<RawPlace>,
    #[serde(default)]
    pub routes: Vec<RawRoute>,
    pub inflows: Vec<RawInflow>,
    pub behaviour: RawBehaviour,
    #[serde(default)]
    pub policies: RawPolicies,
    /// Observed series to validate and calibrate against.
    #[serde(default)]
    pub observed: Vec<RawObserved>,
    /// Named variants for `northbound compare`, each a set of parameter overrides.
    #[serde(default)]
    pub variant: Vec<RawVariant>,
    /// The parameter sweep `northbound sweep` runs when not told otherwise.
    pub sweep: Option<RawSweep>,
}

/// `[sweep]`: `design`, `points`, `levels`, `replicates` and `vary = { "PATH" = "LO..HI",
/// "PATH2" = [7, 14, 30] }`, as `northbound sweep`'s options say them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub design: Option<String>,
    pub points: Option<i64>,
    pub levels: Option<i64>,
    pub replicates: Option<i64>,
    #[serde(default)]
    pub vary: toml::Table,
}

/// `[[observed]]`: an observed series and its simulated counterpart.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObserved {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A CSV file relative to the scenario, with a `month` column or `period_start` and
    /// `period_end` columns (YYYY-MM).
    pub file: Option<String>,
    /// The value column (default `count`).
    pub column: Option<String>,
    /// Only rows whose columns have these values, e.g. `{ province = "QC" }`.
    #[serde(default)]
    pub filter: BTreeMap<String, String>,
    /// The simulated metric summed over the selected places, e.g. `intercepted`.
    pub metric: Option<String>,
    /// The places, by name; or select them by `kind`, `crossing` and `region`.
    #[serde(default)]
    pub places: Vec<String>,
    pub kind: Option<PlaceKind>,
    pub crossing: Option<CrossingKind>,
    pub region: Option<String>,
    /// `month` (single months), `year` (calendar years: full-year rows, or the sum of 12
    /// months) or `period` (any row).
    #[serde(default = "aggregate_month")]
    pub aggregate: String,
    /// Or a ratio of two other observed series, period by period: `[numerator, denominator]`.
    pub ratio_of: Option<Vec<String>>,
}

fn aggregate_month() -> String {
    "month".into()
}

/// `[[variant]]`: a named set of overrides, `set = { "policies.stca_extension.window_days" = 30 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub set: toml::Table,
}

/// `[scenario]`: the window, the seed and the scale.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub start: Datetime,
    pub end: Datetime,
    pub seed: u64,
    /// People per agent. Inflows and quota sizes are divided by it; outputs multiplied.
    #[serde(default = "one")]
    pub scale: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaceKind {
    /// Where agents enter the US (a border sector, an airport).
    Entry,
    /// A city where agents wait (New York).
    City,
    /// A last stop before the border (Plattsburgh).
    Staging,
    /// A border crossing: `irregular` (Roxham Road) or `port` (Lacolle).
    Crossing,
    /// Where an agent ends (elsewhere in the US; Canada for the resettled).
    Destination,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrossingKind {
    Irregular,
    Port,
}

/// `[[places]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlace {
    pub name: String,
    pub kind: PlaceKind,
    /// For crossings only.
    pub crossing: Option<CrossingKind>,
    pub country: String,
    /// Province or state, e.g. `QC`, `NY`.
    pub region: String,
    /// Daily probability that a waiting agent decides to move on (entry, city, staging).
    pub move_rate: Option<f64>,
    /// Whether the shelter limit applies to agents waiting here.
    #[serde(default)]
    pub shelter: bool,
    /// Crossings: probability that a crosser is intercepted on the day of crossing.
    pub detection: Option<f64>,
    /// Crossings: the place on the near side to which a returned claimant is sent.
    pub return_to: Option<String>,
    /// Ports: whether the STCA applies here (land ports: true; airports: false).
    pub stca: Option<bool>,
    /// Destinations: utility of settling here, on the scale of the route utilities.
    pub value: Option<f64>,
    /// Crossings: the burden of presenting here, in utility (for an irregular crossing: the
    /// walk, the arrest, the processing, the charge). Default 0.
    pub crossing_cost: Option<f64>,
    /// Waiting places: the utility of waiting here one more day rather than moving on, as
    /// one of the options of a person who decides to move. Absent: no such option.
    pub wait_value: Option<f64>,
}

/// A travel time in days. `dist` is `fixed` (`days`), `uniform` (`min`, `max`) or
/// `lognormal` (`median`, `sigma`). Draws are rounded to whole days, at least one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDuration {
    pub dist: String,
    pub days: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub median: Option<f64>,
    pub sigma: Option<f64>,
}

/// `[[routes]]`: a directed link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub from: String,
    pub to: String,
    pub travel_days: RawDuration,
    /// Money cost in US dollars.
    #[serde(default)]
    pub cost: f64,
    /// Perceived physical risk, 0 (none) to 1 (deadly).
    #[serde(default)]
    pub risk: f64,
    /// Seats per day. Absent: unlimited.
    pub capacity: Option<u32>,
    /// Only for people holding a visa or eTA for Canada (a flight).
    #[serde(default)]
    pub requires_visa: bool,
    /// First and last day the route can be taken. Absent: always.
    pub opens: Option<Datetime>,
    pub closes: Option<Datetime>,
}

/// `[[inflows]]`: people entering the US at one entry place.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInflow {
    pub entry: String,
    /// Inline monthly rates, `{ "2022-01" = 1200.0, ... }`.
    #[serde(default)]
    pub monthly: BTreeMap<String, f64>,
    /// Or a CSV file, relative to the scenario, with a `month` column and `column`.
    pub file: Option<String>,
    pub column: Option<String>,
    /// Fraction of the file's (or inline) rate that enters this corridor.
    #[serde(default = "one")]
    pub share: f64,
    /// Monthly multipliers of the rate, `{ "2019-04" = 0.09, ... }`: linear between the
    /// months given, carried flat beyond the first and the last. Absent: 1.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Months of the window the rates do not give: `error` (default), `zero`, `last`
    /// (carry the nearest earlier month forward) or `interpolate` (linearly between the
    /// nearest known months; the nearest one at either end).
    #[serde(default = "fill_error")]
    pub fill: String,
    /// Nationality shares, summing to 1.
    pub nationalities: BTreeMap<String, f64>,
    pub p_family_in_canada: f64,
    pub p_unaccompanied_minor: f64,
    pub p_canadian_document: f64,
    #[serde(default)]
    pub p_public_interest: f64,
    /// Probability of holding a visa or eTA that allows a flight to Canada.
    #[serde(default)]
    pub p_visa: f64,
    /// When in the month people appear: `spread` (uniformly, the default) or `first_day`
    /// (all on the first day in the window: a population already there when it opens).
    #[serde(default = "spread")]
    pub arrive: String,
}

fn spread() -> String {
    "spread".into()
}

fn fill_error() -> String {
    "error".into()
}

/// `[behaviour]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBehaviour {
    /// Daily probability of giving up and staying in the US, before any multiplier.
    pub give_up_rate: f64,
    /// The move hazard grows linearly with days waited: `1 + wait_growth * min(w, wait_cap_days) / 30`.
    pub wait_growth: f64,
    pub wait_cap_days: u32,
    /// Days after US entry at which the work permit arrives (8 CFR 208.7: 150 + 30).
    pub work_permit_days: u32,
    /// Multipliers of the move and give-up hazards once the permit is held.
    pub permit_move_factor: f64,
    pub permit_give_up_factor: f64,
    /// Multiplier of the move hazard past the shelter limit.
    pub shelter_exit_factor: f64,
    /// After this many returns an agent stays in the US.
    pub max_attempts: u8,
    pub choice: RawChoice,
    pub beliefs: RawBeliefs,
}

/// `[behaviour.choice]`: weights of the multinomial route choice.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChoice {
    /// Utility lost per day of expected travel.
    pub time: f64,
    /// Utility lost per US dollar.
    pub cost: f64,
    /// Utility lost per unit of risk.
    pub risk: f64,
    /// Utility of a sure success at a crossing.
    pub success: f64,
    /// Utility lost by being returned to the US from a crossing. Default 0.
    #[serde(default)]
    pub returned: f64,
    /// Scale of the logit: utilities are multiplied by it. Default 1.
    #[serde(default = "one")]
    pub scale: f64,
}

/// `[behaviour.beliefs]`: how perceived success at each crossing is learned.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBeliefs {
    /// Days before an outcome is known to those still deciding.
    pub lag_days: u32,
    /// Weight of the current belief, in outcomes: a day with n outcomes moves the belief by
    /// n / (n + inertia) towards the day's success rate.
    pub inertia: f64,
    /// Standard deviation of the daily rumour noise on the logit of each belief.
    pub noise_sd: f64,
    /// Daily weight of official news: each day a belief moves this far towards what the
    /// rules in force `news_lag_days` earlier imply (0, the default: word of mouth only).
    #[serde(default)]
    pub news: f64,
    /// Days before official news reaches those deciding (default: `lag_days`).
    pub news_lag_days: Option<u32>,
    /// Starting beliefs (success for a person without an exception) by crossing name.
    /// Absent crossings start at what the rules in force on the first day imply.
    #[serde(default)]
    pub initial: BTreeMap<String, f64>,
}

/// `[policies.*]`: each table is optional; an absent policy is off.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicies {
    pub stca_ports: Option<RawStcaPorts>,
    pub stca_extension: Option<RawStcaExtension>,
    pub resettlement_quota: Option<RawQuota>,
    pub direct_back: Option<RawDirectBack>,
    pub busing: Option<RawBusing>,
    pub shelter_limit: Option<RawShelterLimit>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStcaPorts {
    pub enabled: bool,
    pub start: Datetime,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStcaExtension {
    pub enabled: bool,
    pub start: Datetime,
    pub window_days: u32,
    /// Daily probability that an evading crosser is found, per irregular crossing name.
    pub daily_detection: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuota {
    pub enabled: bool,
    /// The commitment announced (the rule is in force from here).
    pub start: Datetime,
    /// Applications are taken from `intake_opens` to `intake_closes`, both included.
    pub intake_opens: Datetime,
    pub intake_closes: Datetime,
    /// Approvals at most, in people.
    pub places: f64,
    pub eligible_nationalities: Vec<String>,
    pub family_required: bool,
    /// `abroad` (people who have not entered the US), `in_us` or `anywhere`.
    pub applicants: String,
    /// Share of eligible people who apply, when the intake is open and they are where it
    /// takes applications (on entry from abroad, or when moving on in the US).
    pub apply_share: f64,
    /// Days from approval to arrival in Canada.
    pub processing_days: u32,
    /// The Canadian destination where the resettled are counted.
    pub arrive_at: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDirectBack {
    pub enabled: bool,
    pub start: Datetime,
    pub end: Datetime,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBusing {
    pub enabled: bool,
    pub start: Datetime,
    pub end: Option<Datetime>,
    /// Entry places the buses leave from.
    pub from: Vec<String>,
    pub to: String,
    /// Share of agents entering at `from` who take a bus.
    pub share: f64,
    pub daily_capacity: u32,
    pub travel_days: RawDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShelterLimit {
    pub enabled: bool,
    /// Steps of the limit in date order; each holds from its start to the next one's.
    pub steps: Vec<RawShelterStep>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShelterStep {
    pub start: Datetime,
    pub max_stay_days: u32,
}
