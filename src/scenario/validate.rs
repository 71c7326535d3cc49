//! From [`RawScenario`] to [`Scenario`]: every semantic check, with the TOML path of each
//! problem, and every name resolved to an id.

use super::raw::{self, RawDuration, RawScenario};
use super::*;
use crate::data;
use crate::scenario::policy::{Busing, Quota, Rule};
use std::collections::BTreeMap;
use toml::value::Datetime;

/// The most agents a run may create (ids are 32-bit; 16 bytes each).
const MAX_AGENTS: f64 = 1e9;

/// Collects problems as `path: message` so that a researcher sees all of them at once.
struct Checker {
    problems: Vec<String>,
}

impl Checker {
    fn err(&mut self, field: impl std::fmt::Display, msg: impl std::fmt::Display) {
        self.problems.push(format!("{field}: {msg}"));
    }

    fn prob(&mut self, field: impl std::fmt::Display, v: f64) -> f64 {
        if !(0.0..=1.0).contains(&v) {
            self.err(
                field,
                format!("{v} is not a probability: expected a number in [0, 1]"),
            );
        }
        v
    }

    fn non_negative(&mut self, field: impl std::fmt::Display, v: f64) -> f64 {
        if !(v.is_finite() && v >= 0.0) {
            self.err(
                field,
                format!("{v}: expected a number that is not negative"),
            );
        }
        v
    }

    fn date(&mut self, field: impl std::fmt::Display, d: &Datetime) -> Date {
        match (d.date, d.time, d.offset) {
            (Some(x), None, None) => {
                match Date::from_ymd(i32::from(x.year), u32::from(x.month), u32::from(x.day)) {
                    Some(date) => date,
                    None => {
                        self.err(field, format!("{d} is not a calendar date"));
                        Date(0)
                    }
                }
            }
            _ => {
                self.err(
                    field,
                    format!("{d}: expected a date such as 2023-03-25, without a time"),
                );
                Date(0)
            }
        }
    }

    fn duration(&mut self, field: &str, d: &RawDuration) -> Duration {
        let mut need = |name: &str, v: Option<f64>| -> f64 {
            match v {
                Some(x) if x.is_finite() && x >= 0.0 => x,
                Some(x) => {
                    self.err(
                        format!("{field}.{name}"),
                        format!("{x}: expected a number that is not negative"),
                    );
                    1.0
                }
                None => {
                    self.err(field, format!("dist \"{}\" needs `{name}`", d.dist));
                    1.0
                }
            }
        };
        let out = match d.dist.as_str() {
            "fixed" => Duration::Fixed(need("days", d.days)),
            "uniform" => {
                let (a, b) = (need("min", d.min), need("max", d.max));
                if a > b {
                    self.err(field, format!("min {a} is above max {b}"));
                }
                Duration::Uniform(a, b)
            }
            "lognormal" => Duration::LogNormal {
                median: need("median", d.median),
                sigma: need("sigma", d.sigma),
            },
            other => {
                self.err(
                    format!("{field}.dist"),
                    format!("unknown distribution \"{other}\": expected \"fixed\", \"uniform\" or \"lognormal\""),
                );
                Duration::Fixed(1.0)
            }
        };
        let allowed: &[&str] = match d.dist.as_str() {
            "fixed" => &["days"],
            "uniform" => &["min", "max"],
            "lognormal" => &["median", "sigma"],
            _ => &["days", "min", "max", "median", "sigma"],
        };
        for (name, v) in [
            ("days", d.days),
            ("min", d.min),
            ("max", d.max),
            ("median", d.median),
            ("sigma", d.sigma),
        ] {
            if v.is_some() && !allowed.contains(&name) {
                self.err(
                    format!("{field}.{name}"),
                    format!("not used by dist \"{}\"", d.dist),
                );
            }
        }
        out
    }
}

pub(super) fn validate(raw: RawScenario, path: &Path, source: Vec<u8>) -> Result<Scenario> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    let meta = &raw.scenario;
    let start = c.date("scenario.start", &meta.start);
    let end = c.date("scenario.end", &meta.end);
    if end < start {
        c.err(
            "scenario.end",
            format!("{end} is before scenario.start {start}"),
        );
    }
    if end.0 - start.0 > 60_000 {
        c.err("scenario.end", "the window is longer than 160 years");
    }
    if !c.problems.is_empty() {
        // Everything else is checked against the window: without one, only noise follows.
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            problems: c.problems,
        });
    }
    if !(meta.scale.is_finite() && meta.scale > 0.0) {
        c.err(
            "scenario.scale",
            format!(
                "{}: expected people per agent, a number above 0",
                meta.scale
            ),
        );
    }
    if meta.name.trim().is_empty() || meta.name.contains(['/', '\\']) || meta.name.starts_with('.')
    {
        c.err(
            "scenario.name",
            "expected a non-empty name without slashes, not starting with a dot (it names the output folder)",
        );
    }
    let scale = if meta.scale > 0.0 { meta.scale } else { 1.0 };

    // Places.
    let mut ids: BTreeMap<&str, PlaceId> = BTreeMap::new();
    if raw.places.len() > u16::MAX as usize {
        c.err("places", "more than 65535 places");
    }
    for (i, p) in raw.places.iter().enumerate() {
        if ids.insert(&p.name, i as PlaceId).is_some() {
            c.err(
                format!("places[{i}].name"),
                format!("\"{}\" is used by an earlier place", p.name),
            );
        }
    }
    let lookup = |c: &mut Checker, field: String, name: &str| -> Option<PlaceId> {
        let id = ids.get(name).copied();
        if id.is_none() {
            let near = ids
                .keys()
                .filter(|k| similar(k, name))
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>();
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", near.join(" or "))
            };
            c.err(field, format!("unknown place \"{name}\"{hint}"));
        }
        id
    };
    let mut places = Vec::new();
    for (i, p) in raw.places.iter().enumerate() {
        let f = |k: &str| format!("places[{i}].{k}");
        let waits = matches!(
            p.kind,
            PlaceKind::Entry | PlaceKind::City | PlaceKind::Staging
        );
        let is_crossing = p.kind == PlaceKind::Crossing;
        let stca = match (p.crossing, p.stca) {
            (Some(CrossingKind::Port), s) => s.unwrap_or(true),
            (_, Some(_)) => {
                c.err(
                    f("stca"),
                    "only port crossings take `stca` (false for an airport)",
                );
                false
            }
            (_, None) => false,
        };
        match (is_crossing, p.crossing) {
            (true, None) => c.err(
                f("crossing"),
                "a crossing needs `crossing = \"irregular\"` or `\"port\"`",
            ),
            (false, Some(_)) => c.err(
                f("crossing"),
                "only places of kind \"crossing\" take `crossing`",
            ),
            _ => {}
        }
        let move_rate = match (waits, p.move_rate) {
            (true, Some(r)) => c.prob(f("move_rate"), r),
            (true, None) => {
                c.err(
                    f("move_rate"),
                    "entry, city and staging places need a daily `move_rate`",
                );
                0.0
            }
            (false, Some(_)) => {
                c.err(
                    f("move_rate"),
                    "only entry, city and staging places take `move_rate`",
                );
                0.0
            }
            (false, None) => 0.0,
        };
        let detection = match (is_crossing, p.detection) {
            (true, Some(d)) => c.prob(f("detection"), d),
            (true, None) => {
                c.err(
                    f("detection"),
                    "a crossing needs `detection`, the probability of interception on crossing",
                );
                0.0
            }
            (false, Some(_)) => {
                c.err(f("detection"), "only crossings take `detection`");
                0.0
            }
            (false, None) => 0.0,
        };
        let return_to = match (is_crossing, &p.return_to) {
            (true, Some(name)) => lookup(&mut c, f("return_to"), name),
            (true, None) => {
                c.err(
                    f("return_to"),
                    "a crossing needs `return_to`, the place a returned claimant is sent to",
                );
                None
            }
            (false, Some(_)) => {
                c.err(f("return_to"), "only crossings take `return_to`");
                None
            }
            (false, None) => None,
        };
        let value = match (p.kind == PlaceKind::Destination, p.value) {
            (true, Some(v)) if v.is_finite() => v,
            (true, Some(v)) => {
                c.err(f("value"), format!("{v}: expected a finite number"));
                0.0
            }
            (true, None) => {
                c.err(
                    f("value"),
                    "a destination needs `value`, the utility of settling there",
                );
                0.0
            }
            (false, Some(_)) => {
                c.err(f("value"), "only destinations take `value`");
                0.0
            }
            (false, None) => 0.0,
        };
        if p.shelter && !waits {
            c.err(
                f("shelter"),
                "only entry, city and staging places can be shelters",
            );
        }
        places.push(Place {
            name: p.name.clone(),
            kind: p.kind,
            crossing: p.crossing,
            country: p.country.clone(),
            region: p.region.clone(),
            move_rate,
            shelter: p.shelter,
            detection,
            return_to,
            stca,
            value,
        });
    }
    for (i, p) in places.iter().enumerate() {
        if let Some(r) = p.return_to {
            let back = &places[r as usize];
            if !matches!(
                back.kind,
                PlaceKind::Entry | PlaceKind::City | PlaceKind::Staging
            ) {
                c.err(
                    format!("places[{i}].return_to"),
                    format!(
                        "\"{}\" is a {:?} place: expected an entry, city or staging place",
                        back.name, back.kind
                    )
                    .to_lowercase(),
                );
            }
        }
    }

    // Routes.
    let mut routes = Vec::new();
    for (i, r) in raw.routes.iter().enumerate() {
        let f = |k: &str| format!("routes[{i}].{k}");
        let from = lookup(&mut c, f("from"), &r.from);
        let to = lookup(&mut c, f("to"), &r.to);
        if let Some(from) = from {
            let k = places[from as usize].kind;
            if !matches!(k, PlaceKind::Entry | PlaceKind::City | PlaceKind::Staging) {
                c.err(
                    f("from"),
                    format!(
                        "\"{}\" is a {} place: routes leave entry, city or staging places",
                        r.from,
                        format!("{k:?}").to_lowercase()
                    ),
                );
            }
        }
        if let Some(to) = to
            && places[to as usize].kind == PlaceKind::Entry
        {
            c.err(
                f("to"),
                format!(
                    "\"{}\" is an entry place: routes cannot lead into one",
                    r.to
                ),
            );
        }
        let travel = c.duration(&f("travel_days"), &r.travel_days);
        let cost = c.non_negative(f("cost"), r.cost);
        let risk = c.prob(f("risk"), r.risk);
        if r.capacity == Some(0) {
            c.err(
                f("capacity"),
                "0: expected at least 1 seat a day (to close a route, give `closes`)",
            );
        }
        let opens = r.opens.as_ref().map(|d| c.date(f("opens"), d));
        let closes = r.closes.as_ref().map(|d| c.date(f("closes"), d));
        if let (Some(o), Some(cl)) = (opens, closes)
            && cl < o
        {
            c.err(f("closes"), format!("{cl} is before opens {o}"));
        }
        if let (Some(from), Some(to)) = (from, to) {
            routes.push(Route {
                from,
                to,
                travel,
                cost,
                risk,
                capacity: r
                    .capacity
                    .map(|x| ((f64::from(x) / scale).round() as u32).max(1)),
                requires_visa: r.requires_visa,
                opens,
                closes,
            });
        }
    }

    // Nationalities, in order of first mention.
    let mut nationalities: Vec<String> = Vec::new();
    for inf in &raw.inflows {
        for n in inf.nationalities.keys() {
            if !nationalities.contains(n) {
                nationalities.push(n.clone());
            }
        }
    }
    if nationalities.len() > 255 {
        c.err("inflows", "more than 255 nationalities");
    }

    // Inflows.
    let base = path.parent().unwrap_or(Path::new("."));
    let months: Vec<Month> = (start.month().0..=end.month().0).map(Month).collect();
    let mut inflows = Vec::new();
    if raw.inflows.is_empty() {
        c.err("inflows", "expected at least one [[inflows]] table");
    }
    for (i, inf) in raw.inflows.iter().enumerate() {
        let f = |k: &str| format!("inflows[{i}].{k}");
        let entry = lookup(&mut c, f("entry"), &inf.entry);
        if let Some(e) = entry
            && !matches!(
                places[e as usize].kind,
                PlaceKind::Entry | PlaceKind::City | PlaceKind::Staging
            )
        {
            c.err(
                f("entry"),
                format!("\"{}\" is not an entry, city or staging place", inf.entry),
            );
        }
        let share = c.non_negative(f("share"), inf.share);
        let mut rates: BTreeMap<Month, f64> = BTreeMap::new();
        let mut rates_ok = true;
        for (k, v) in &inf.monthly {
            match Month::parse(k) {
                Some(m) => {
                    c.non_negative(f(&format!("monthly.\"{k}\"")), *v);
                    rates.insert(m, *v);
                }
                None => c.err(
                    f("monthly"),
                    format!("key \"{k}\": expected a month as \"YYYY-MM\""),
                ),
            }
        }
        match (&inf.file, &inf.column) {
            (Some(file), Some(column)) => {
                if !inf.monthly.is_empty() {
                    c.err(f("file"), "give either `monthly` or `file`, not both");
                }
                let p = base.join(file);
                if !p.exists() && !data::is_file(&p) {
                    c.err(f("file"), format!("no such file: {} (paths are relative to the scenario file)", p.display()));
                    rates_ok = false;
                } else if !data::is_file(&p) {
                    c.err(f("file"), format!("{} is not a file", p.display()));
                    rates_ok = false;
                } else {
                    match data::read_monthly(&p, column, &[]) {
                        Ok(series) => rates.extend(series.into_iter().map(|(m, v)| (m, v.value))),
                        Err(e) => {
                            c.err(f("file"), e);
                            rates_ok = false;
                        }
                    }
                }
            }
            (Some(_), None) => c.err(f("column"), "a `file` needs the `column` to read"),
            (None, Some(_)) => c.err(f("column"), "`column` goes with `file`"),
            (None, None) if inf.monthly.is_empty() => c.err(f("monthly"), "give the rates as `monthly = { \"YYYY-MM\" = n, ... }` or with `file` and `column`"),
            (None, None) => {}
        }
        let mut monthly = Vec::new();
        let mut missing = Vec::new();
        for &m in &months {
            let r = match rates.get(&m) {
                Some(r) => Some(*r),
                None => match inf.fill.as_str() {
                    "zero" => Some(0.0),
                    "last" => rates
                        .range(..m)
                        .next_back()
                        .map(|(_, r)| *r)
                        .or_else(|| rates.values().next().copied()),
                    "interpolate" => {
                        let before = rates.range(..m).next_back();
                        let after = rates.range(m..).next();
                        match (before, after) {
                            (Some((a, ra)), Some((b, rb))) => {
                                let w = f64::from(m.0 - a.0) / f64::from(b.0 - a.0);
                                Some(ra + w * (rb - ra))
                            }
                            (Some((_, r)), None) | (None, Some((_, r))) => Some(*r),
                            (None, None) => None,
                        }
                    }
                    _ => None,
                },
            };
            match r {
                Some(r) => monthly.push((m, r * share / scale)),
                None => missing.push(m.to_string()),
            }
        }
        if !["error", "zero", "last", "interpolate"].contains(&inf.fill.as_str()) {
            c.err(
                f("fill"),
                format!(
                    "\"{}\": expected \"error\", \"zero\", \"last\" or \"interpolate\"",
                    inf.fill
                ),
            );
        } else if rates_ok && !missing.is_empty() && (!inf.monthly.is_empty() || inf.file.is_some())
        {
            let shown = if missing.len() > 6 {
                format!(
                    "{}, ... {} ({} months)",
                    missing[..3].join(", "),
                    missing[missing.len() - 1],
                    missing.len()
                )
            } else {
                missing.join(", ")
            };
            c.err(f("monthly"), format!("no rate for {shown} of the window; give them, or set `fill` to \"zero\", \"last\" or \"interpolate\""));
        }
        let mut nats = Vec::new();
        let mut total = 0.0;
        for (n, s) in &inf.nationalities {
            let s = c.prob(f(&format!("nationalities.\"{n}\"")), *s);
            total += s;
            let id = nationalities.iter().position(|x| x == n).unwrap_or(0) as u8;
            nats.push((id, s));
        }
        if (total - 1.0).abs() > 1e-6 {
            c.err(
                f("nationalities"),
                format!("shares sum to {total:.4}: expected 1"),
            );
        }
        let p_family_in_canada = c.prob(f("p_family_in_canada"), inf.p_family_in_canada);
        let p_unaccompanied_minor = c.prob(f("p_unaccompanied_minor"), inf.p_unaccompanied_minor);
        let p_canadian_document = c.prob(f("p_canadian_document"), inf.p_canadian_document);
        let p_public_interest = c.prob(f("p_public_interest"), inf.p_public_interest);
        let p_visa = c.prob(f("p_visa"), inf.p_visa);
        if !["spread", "first_day"].contains(&inf.arrive.as_str()) {
            c.err(
                f("arrive"),
                format!("\"{}\": expected \"spread\" or \"first_day\"", inf.arrive),
            );
        }
        if let Some(entry) = entry {
            inflows.push(Inflow {
                entry,
                monthly,
                nationalities: nats,
                p_family_in_canada,
                p_unaccompanied_minor,
                p_canadian_document,
                p_public_interest,
                p_visa,
                first_day: inf.arrive == "first_day",
            });
        }
    }

    // Behaviour.
    let b = &raw.behaviour;
    let behaviour = Behaviour {
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
        belief_lag_days: b.beliefs.lag_days,
        belief_inertia: c.non_negative("behaviour.beliefs.inertia", b.beliefs.inertia),
        belief_noise_sd: c.non_negative("behaviour.beliefs.noise_sd", b.beliefs.noise_sd),
        belief_initial: vec![None; places.len()],
        belief_news: c.prob("behaviour.beliefs.news", b.beliefs.news),
    };
    let mut behaviour = behaviour;
    for (name, v) in &b.beliefs.initial {
        let field = format!("behaviour.beliefs.initial.\"{name}\"");
        let v = c.prob(&field, *v);
        if let Some(id) = lookup(&mut c, field.clone(), name) {
            if places[id as usize].kind != PlaceKind::Crossing {
                c.err(&field, format!("\"{name}\" is not a crossing"));
            }
            behaviour.belief_initial[id as usize] = Some(v);
        }
    }
    if b.max_attempts == 0 {
        c.err("behaviour.max_attempts", "0: expected at least 1");
    }

    // Policies.
    let mut policies = Vec::new();
    let in_window = |c: &mut Checker, field: &str, d: Date| {
        if d > end {
            c.err(field, format!("{d} is after the window's end {end}; to leave a policy out, set enabled = false"));
        }
    };
    let pol = &raw.policies;
    if let Some(p) = &pol.stca_ports {
        let s = c.date("policies.stca_ports.start", &p.start);
        in_window(&mut c, "policies.stca_ports.start", s);
        policies.push(Policy {
            enabled: p.enabled,
            rule: Rule::StcaPorts { start: s },
        });
    }
    if let Some(p) = &pol.stca_extension {
        let s = c.date("policies.stca_extension.start", &p.start);
        in_window(&mut c, "policies.stca_extension.start", s);
        if p.window_days == 0 {
            c.err(
                "policies.stca_extension.window_days",
                "0: expected at least 1 day",
            );
        }
        let mut det = vec![0.0; places.len()];
        for (name, v) in &p.daily_detection {
            let field = format!("policies.stca_extension.daily_detection.\"{name}\"");
            let v = c.prob(&field, *v);
            if let Some(id) = lookup(&mut c, field.clone(), name) {
                if places[id as usize].crossing != Some(CrossingKind::Irregular) {
                    c.err(&field, format!("\"{name}\" is not an irregular crossing"));
                }
                det[id as usize] = v;
            }
        }
        for (i, pl) in places.iter().enumerate() {
            if pl.crossing == Some(CrossingKind::Irregular)
                && !p.daily_detection.contains_key(&pl.name)
            {
                c.err(
                    "policies.stca_extension.daily_detection",
                    format!(
                        "no value for the irregular crossing \"{}\" (places[{i}])",
                        pl.name
                    ),
                );
            }
        }
        policies.push(Policy {
            enabled: p.enabled,
            rule: Rule::StcaExtension {
                start: s,
                window_days: p.window_days,
                daily_detection: det,
            },
        });
    }
    if let Some(q) = &pol.resettlement_quota {
        let f = |k: &str| format!("policies.resettlement_quota.{k}");
        let s = c.date(f("start"), &q.start);
        in_window(&mut c, &f("start"), s);
        c.non_negative(f("places_per_year"), q.places_per_year);
        let mut eligible = vec![false; nationalities.len()];
        for (i, n) in q.eligible_nationalities.iter().enumerate() {
            match nationalities.iter().position(|x| x == n) {
                Some(id) => eligible[id] = true,
                None => c.err(
                    format!("{}[{i}]", f("eligible_nationalities")),
                    format!(
                        "\"{n}\" is not a nationality of any inflow (known: {})",
                        nationalities.join(", ")
                    ),
                ),
            }
        }
        let arrive_at = lookup(&mut c, f("arrive_at"), &q.arrive_at).unwrap_or(0);
        if places
            .get(arrive_at as usize)
            .is_some_and(|p| p.kind != PlaceKind::Destination)
        {
            c.err(
                f("arrive_at"),
                format!("\"{}\" is not a destination", q.arrive_at),
            );
        }
        policies.push(Policy {
            enabled: q.enabled,
            rule: Rule::ResettlementQuota(Quota {
                start: s,
                places_per_year: q.places_per_year / scale,
                eligible,
                family_required: q.family_required,
                processing_days: q.processing_days,
                apply_share: c.prob(f("apply_share"), q.apply_share),
                max_wait_days: q.max_wait_days,
                arrive_at,
            }),
        });
    }
    if let Some(p) = &pol.direct_back {
        let s = c.date("policies.direct_back.start", &p.start);
        let e = c.date("policies.direct_back.end", &p.end);
        in_window(&mut c, "policies.direct_back.start", s);
        if e < s {
            c.err(
                "policies.direct_back.end",
                format!("{e} is before start {s}"),
            );
        }
        policies.push(Policy {
            enabled: p.enabled,
            rule: Rule::DirectBack { start: s, end: e },
        });
    }
    if let Some(p) = &pol.busing {
        let f = |k: &str| format!("policies.busing.{k}");
        let s = c.date(f("start"), &p.start);
        in_window(&mut c, &f("start"), s);
        let e = p.end.as_ref().map(|d| c.date(f("end"), d));
        if let Some(e) = e
            && e < s
        {
            c.err(f("end"), format!("{e} is before start {s}"));
        }
        let mut from = vec![false; places.len()];
        for (i, name) in p.from.iter().enumerate() {
            if let Some(id) = lookup(&mut c, format!("{}[{i}]", f("from")), name) {
                if places[id as usize].kind != PlaceKind::Entry {
                    c.err(
                        format!("{}[{i}]", f("from")),
                        format!("\"{name}\" is not an entry place"),
                    );
                }
                from[id as usize] = true;
            }
        }
        let to = lookup(&mut c, f("to"), &p.to).unwrap_or(0);
        if places
            .get(to as usize)
            .is_some_and(|p| !matches!(p.kind, PlaceKind::City | PlaceKind::Staging))
        {
            c.err(
                f("to"),
                format!("\"{}\" is not a city or staging place", p.to),
            );
        }
        if p.daily_capacity == 0 {
            c.err(
                f("daily_capacity"),
                "0: expected at least 1 seat a day (to stop the buses, give `end`)",
            );
        }
        let travel = c.duration(&f("travel_days"), &p.travel_days);
        policies.push(Policy {
            enabled: p.enabled,
            rule: Rule::Busing(Busing {
                start: s,
                end: e,
                from,
                to,
                share: c.prob(f("share"), p.share),
                daily_capacity: ((f64::from(p.daily_capacity) / scale).round() as u32).max(1),
                travel,
            }),
        });
    }
    if let Some(p) = &pol.shelter_limit {
        let mut steps = Vec::new();
        for (i, st) in p.steps.iter().enumerate() {
            let field = format!("policies.shelter_limit.steps[{i}].start");
            let d = c.date(&field, &st.start);
            in_window(&mut c, &field, d);
            if steps.last().is_some_and(|(prev, _)| *prev >= d) {
                c.err(&field, format!("{d}: steps must be in date order"));
            }
            steps.push((d, st.max_stay_days));
        }
        if steps.is_empty() {
            c.err("policies.shelter_limit.steps", "expected at least one step");
        } else {
            policies.push(Policy {
                enabled: p.enabled,
                rule: Rule::ShelterLimit { steps },
            });
        }
    }

    let observed = observed_series(&mut c, &raw.observed, &places, base, start, end);
    let variants = variants(&mut c, &raw.variant, &source);

    // Agent ids are 32-bit and every agent takes memory: refuse what cannot run.
    let expected: f64 = inflows
        .iter()
        .flat_map(|i| i.monthly.iter().map(|m| m.1))
        .sum();
    if expected > MAX_AGENTS {
        c.err(
            "scenario.scale",
            format!("the inflows give about {expected:.3e} agents, more than {MAX_AGENTS:.0e}: raise `scale` (people per agent) or lower the rates"),
        );
    }

    // The network: every place reachable from an entry, every waiting place with a way on.
    if c.problems.is_empty() {
        let mut inflow_at = vec![false; places.len()];
        for inf in &inflows {
            inflow_at[inf.entry as usize] = true;
        }
        check_network(&mut c, &places, &routes, &policies, &inflow_at);
    }

    if !c.problems.is_empty() {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            problems: c.problems,
        });
    }
    Ok(Scenario {
        name: meta.name.clone(),
        description: meta.description.clone(),
        path: path.to_path_buf(),
        source,
        start,
        end,
        seed: meta.seed,
        scale,
        places,
        routes,
        nationalities,
        inflows,
        behaviour,
        policies,
        observed,
        variants,
    })
}

fn observed_series(
    c: &mut Checker,
    raw: &[raw::RawObserved],
    places: &[Place],
    base: &Path,
    start: Date,
    end: Date,
) -> Vec<Observed> {
    use crate::scenario::Metric;
    let mut out: Vec<Observed> = Vec::new();
    let mut ratios = Vec::new();
    for (i, o) in raw.iter().enumerate() {
        let f = |k: &str| format!("observed[{i}].{k}");
        if out.iter().any(|x| x.name == o.name) || raw[..i].iter().any(|x| x.name == o.name) {
            c.err(
                f("name"),
                format!("\"{}\" is used by an earlier series", o.name),
            );
        }
        if let Some(pair) = &o.ratio_of {
            if o.file.is_some() || o.metric.is_some() || !o.places.is_empty() {
                c.err(
                    f("ratio_of"),
                    "a ratio takes no `file`, `metric` or `places` of its own",
                );
            }
            if pair.len() != 2 {
                c.err(
                    f("ratio_of"),
                    format!(
                        "expected two series names, [numerator, denominator]; got {}",
                        pair.len()
                    ),
                );
            } else {
                ratios.push((i, pair.clone()));
            }
            out.push(Observed {
                name: o.name.clone(),
                description: o.description.clone(),
                target: Target::Ratio(0, 0),
                points: Vec::new(),
            });
            continue;
        }
        let Some(file) = &o.file else {
            c.err(
                f("file"),
                "expected `file` (a CSV of observations) or `ratio_of`",
            );
            continue;
        };
        let metric = match &o.metric {
            Some(m) => match Metric::ALL.iter().find(|x| x.name() == m) {
                Some(x) => Some(*x),
                None => {
                    c.err(
                        f("metric"),
                        format!(
                            "unknown metric \"{m}\": expected one of {}",
                            Metric::ALL.map(|x| x.name()).join(", ")
                        ),
                    );
                    None
                }
            },
            None => {
                c.err(
                    f("metric"),
                    "expected the simulated `metric` to compare with, e.g. \"intercepted\"",
                );
                None
            }
        };
        let selected: Vec<PlaceId> = if !o.places.is_empty() {
            if o.kind.is_some() || o.crossing.is_some() || o.region.is_some() {
                c.err(
                    f("places"),
                    "give `places` or the selectors `kind`, `crossing`, `region`, not both",
                );
            }
            o.places
                .iter()
                .enumerate()
                .filter_map(|(j, n)| {
                    let id = places
                        .iter()
                        .position(|p| &p.name == n)
                        .map(|x| x as PlaceId);
                    if id.is_none() {
                        c.err(
                            format!("observed[{i}].places[{j}]"),
                            format!("unknown place \"{n}\""),
                        );
                    }
                    id
                })
                .collect()
        } else if o.kind.is_none() && o.crossing.is_none() && o.region.is_none() {
            c.err(
                f("places"),
                "select the places: `places = [...]`, or `kind`, `crossing` and `region`",
            );
            Vec::new()
        } else {
            let ids: Vec<PlaceId> = places
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    o.kind.is_none_or(|k| p.kind == k)
                        && o.crossing.is_none_or(|k| p.crossing == Some(k))
                        && o.region.as_ref().is_none_or(|r| &p.region == r)
                })
                .map(|(j, _)| j as PlaceId)
                .collect();
            if ids.is_empty() {
                c.err(f("places"), "the selectors match no place");
            }
            ids
        };
        if let Some(m) = metric {
            for &id in &selected {
                let p = &places[id as usize];
                if !crate::scenario::metrics_for(p.kind).contains(&m) {
                    c.err(
                        f("metric"),
                        format!(
                            "\"{}\" is not counted at \"{}\" (a {} place)",
                            m.name(),
                            p.name,
                            crate::scenario::kind_name(p.kind)
                        ),
                    );
                }
            }
        }
        let column = o.column.clone().unwrap_or_else(|| "count".into());
        let filters: Vec<(&str, &str)> = o
            .filter
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let path = base.join(file);
        let all = if !crate::data::is_file(&path) {
            c.err(
                f("file"),
                format!(
                    "no such file: {} (paths are relative to the scenario file)",
                    path.display()
                ),
            );
            Vec::new()
        } else {
            match crate::data::read_observations(&path, &column, &filters) {
                Ok(v) => v,
                Err(e) => {
                    c.err(f("file"), e);
                    Vec::new()
                }
            }
        };
        let kept: Vec<crate::data::Observation> = match o.aggregate.as_str() {
            "month" => all.into_iter().filter(|x| x.is_month()).collect(),
            "year" => crate::data::yearly(&all),
            "period" => all,
            other => {
                c.err(
                    f("aggregate"),
                    format!("\"{other}\": expected \"month\", \"year\" or \"period\""),
                );
                Vec::new()
            }
        };
        let points: Vec<_> = kept
            .into_iter()
            .filter(|x| x.start >= start && x.end <= end)
            .collect();
        if points.is_empty() && crate::data::is_file(&path) {
            c.err(
                f("file"),
                format!("no observation of this series lies inside the window {start}..{end}"),
            );
        }
        out.push(Observed {
            name: o.name.clone(),
            description: o.description.clone(),
            target: Target::Sum {
                metric: metric.unwrap_or(Metric::Arrivals),
                places: selected,
            },
            points,
        });
    }
    for (i, pair) in ratios {
        let find = |n: &str| {
            out.iter()
                .position(|x| x.name == n && !matches!(x.target, Target::Ratio(..)))
        };
        let (Some(a), Some(b)) = (find(&pair[0]), find(&pair[1])) else {
            c.err(
                format!("observed[{i}].ratio_of"),
                format!(
                    "expected the names of two series read from files; got \"{}\" and \"{}\"",
                    pair[0], pair[1]
                ),
            );
            continue;
        };
        let points: Vec<_> = out[a]
            .points
            .iter()
            .filter_map(|x| {
                let y = out[b]
                    .points
                    .iter()
                    .find(|y| (y.start, y.end) == (x.start, x.end))?;
                (y.value > 0.0).then(|| crate::data::Observation {
                    value: x.value / y.value,
                    verification: if crate::data::weaker(&x.verification, &y.verification) {
                        x.verification.clone()
                    } else {
                        y.verification.clone()
                    },
                    ..x.clone()
                })
            })
            .collect();
        if points.is_empty() {
            c.err(
                format!("observed[{i}].ratio_of"),
                format!("\"{}\" and \"{}\" share no period", pair[0], pair[1]),
            );
        }
        out[i].target = Target::Ratio(a, b);
        out[i].points = points;
    }
    out
}

fn variants(c: &mut Checker, raw: &[raw::RawVariant], source: &[u8]) -> Vec<Variant> {
    let text = String::from_utf8_lossy(source);
    let doc: Option<toml_edit::DocumentMut> = text.parse().ok();
    let mut out = Vec::new();
    for (i, v) in raw.iter().enumerate() {
        if raw[..i].iter().any(|x| x.name == v.name) {
            c.err(
                format!("variant[{i}].name"),
                format!("\"{}\" is used by an earlier variant", v.name),
            );
        }
        let mut set = Vec::new();
        for (path, value) in &v.set {
            let value = paths::parse_value(&value.to_string());
            if let Some(doc) = &doc {
                let mut trial = doc.clone();
                if let Err(e) = paths::set(&mut trial, path, value.clone()) {
                    c.err(format!("variant[{i}].set.\"{path}\""), e);
                }
            }
            set.push((path.clone(), value));
        }
        out.push(Variant {
            name: v.name.clone(),
            description: v.description.clone(),
            set,
        });
    }
    out
}

fn check_network(
    c: &mut Checker,
    places: &[Place],
    routes: &[Route],
    policies: &[Policy],
    inflow_at: &[bool],
) {
    let n = places.len();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for r in routes {
        next[r.from as usize].push(r.to as usize);
    }
    for (i, p) in places.iter().enumerate() {
        if let Some(b) = p.return_to {
            next[i].push(b as usize);
        }
    }
    for p in policies {
        match &p.rule {
            Rule::Busing(b) => {
                for (i, from) in b.from.iter().enumerate() {
                    if *from {
                        next[i].push(b.to as usize);
                    }
                }
            }
            Rule::ResettlementQuota(q) => {
                for (i, pl) in places.iter().enumerate() {
                    if pl.kind == PlaceKind::Entry {
                        next[i].push(q.arrive_at as usize);
                    }
                }
            }
            _ => {}
        }
    }
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = (0..n)
        .filter(|&i| places[i].kind == PlaceKind::Entry || inflow_at[i])
        .collect();
    for &i in &stack {
        seen[i] = true;
    }
    while let Some(i) = stack.pop() {
        for &j in &next[i] {
            if !seen[j] {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    for (i, p) in places.iter().enumerate() {
        if !seen[i] {
            c.err(format!("places[{i}]"), format!("\"{}\" cannot be reached from any entry place by routes, returns, buses or the quota", p.name));
        }
        let waits = matches!(
            p.kind,
            PlaceKind::Entry | PlaceKind::City | PlaceKind::Staging
        );
        if waits && !routes.iter().any(|r| r.from as usize == i) {
            c.err(
                format!("places[{i}]"),
                format!(
                    "\"{}\" is a {} place with no route leaving it: expected at least one",
                    p.name,
                    format!("{:?}", p.kind).to_lowercase()
                ),
            );
        }
    }
    if !places.iter().any(|p| p.kind == PlaceKind::Crossing) {
        c.err(
            "places",
            "no crossing: expected at least one place of kind \"crossing\"",
        );
    }
}

/// Names that differ by one edit or by case, for "did you mean" hints.
fn similar(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}
