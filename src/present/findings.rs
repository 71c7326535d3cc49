//! What a comparison found, in words and in a before/after table, from the folder's files
//! alone: `effects.csv` for the effects and `series.csv` (every replicate's months) for the
//! mean monthly attempts per kind of crossing before and after the STCA extension's date.
//! Every number is a mean over the replicates with its 90% interval (the 5th and 95th
//! percentiles); every sentence is built from those numbers and their signs, none is
//! written by hand.

use crate::experiment::compare::{EffectRow, REFERENCE};
use crate::experiment::ensemble;
use crate::output::uncell;
use crate::present::chart::{fmt_number, signed};
use crate::present::comparison::{Comparison, alternative_label};
use crate::present::files::{CrossingClass, PlaceRecord, bad, parse_month};
use crate::util::date::{Date, Month};
use crate::util::error::{Error, Result};
use crate::util::files::{STREAM_LIMIT, open_regular};
use std::collections::BTreeMap;
use std::path::Path;

/// A mean over replicates with its 90% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub p05: f64,
    pub p95: f64,
}

impl Estimate {
    /// From one value per replicate.
    pub fn of(values: &[f64]) -> Estimate {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return Estimate {
                mean: f64::NAN,
                p05: f64::NAN,
                p95: f64::NAN,
            };
        }
        let [mean, p05, _, p95] = ensemble::summary(&finite);
        Estimate { mean, p05, p95 }
    }

    fn from_effect(e: &EffectRow) -> Estimate {
        Estimate {
            mean: e.mean,
            p05: e.p05,
            p95: e.p95,
        }
    }

    /// `1,234 [1,100 to 1,390]`, unsigned.
    pub fn text(&self) -> String {
        format!(
            "{} [{} to {}]",
            fmt_number(self.mean, 1e3),
            fmt_number(self.p05, 1e3),
            fmt_number(self.p95, 1e3)
        )
    }

    /// `−1,234 [−1,390 to −1,100]`, signed.
    pub fn signed_text(&self) -> String {
        format!(
            "{} [{} to {}]",
            signed(self.mean, false),
            signed(self.p05, false),
            signed(self.p95, false)
        )
    }

    /// A share as a signed percentage: `+42.1% [+40.3% to +44.0%]`.
    pub fn percent_text(&self) -> String {
        format!(
            "{} [{} to {}]",
            signed(self.mean, true),
            signed(self.p05, true),
            signed(self.p95, true)
        )
    }

    /// Whether every number of it is 0 (a share of 0.02% is written as one).
    fn zero_percent(&self) -> bool {
        [self.mean, self.p05, self.p95].iter().all(|&v| v == 0.0)
    }
}

/// The kinds of crossing the before/after table sums over: the focus crossing (Roxham
/// Road), the land ports, the other irregular crossings and the airports.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub label: String,
    pub places: Vec<String>,
}

/// The groups of crossings of a comparison, those that have places, in the table's order.
pub fn groups(places: &[PlaceRecord], focus: &str) -> Vec<Group> {
    let of = |keep: &dyn Fn(&PlaceRecord) -> bool| -> Vec<String> {
        places
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.place.clone())
            .collect()
    };
    let class = |p: &PlaceRecord| p.class();
    [
        (focus.to_string(), of(&|p| p.place == focus)),
        (
            "land ports (STCA applies)".into(),
            of(&|p| class(p) == Some(CrossingClass::LandPort)),
        ),
        (
            "other irregular crossings".into(),
            of(&|p| class(p) == Some(CrossingClass::Irregular) && p.place != focus),
        ),
        (
            "airports (no STCA)".into(),
            of(&|p| class(p) == Some(CrossingClass::Airport)),
        ),
    ]
    .into_iter()
    .filter(|(_, places)| !places.is_empty())
    .map(|(label, places)| Group { label, places })
    .collect()
}

/// Mean monthly attempts per group, before and after the extension's date, per variant.
#[derive(Debug, Clone, PartialEq)]
pub struct BeforeAfter {
    /// The date that splits the window: the STCA extension's start as the scenario gives it.
    pub date: Date,
    /// The months wholly before it and those from it on (the month it falls inside, unless
    /// it is the first, is in neither).
    pub before: Vec<Month>,
    pub after: Vec<Month>,
    pub groups: Vec<Group>,
    /// Per variant in run order: per group, (before, after).
    pub rows: Vec<(String, Vec<(Estimate, Estimate)>)>,
    /// Variants whose own extension starts on another date, or is off.
    pub own_dates: Vec<(String, Option<Date>)>,
}

/// The STCA extension's date as the scenario gives it: its start in `extension_only`, else
/// in `both`, else in any variant.
pub fn extension_date(c: &Comparison) -> Option<Date> {
    let ext = |v: &str| {
        c.policies
            .iter()
            .find(|p| p.policy == "stca_extension" && p.variant == v)
            .map(|p| p.start)
    };
    ext("extension_only").or_else(|| ext("both")).or_else(|| {
        c.policies
            .iter()
            .find(|p| p.policy == "stca_extension")
            .map(|p| p.start)
    })
}

/// Per (variant, replicate), per group, the attempts of each month.
type Attempts = BTreeMap<(String, u64), Vec<BTreeMap<Month, f64>>>;

/// Reads `series.csv` for the attempts at the groups' places: per (variant, replicate), per
/// group, per month, the sum; and the number of the last line read. Streams the file (it
/// can be large).
fn read_attempts(path: &Path, groups: &[Group]) -> Result<(Attempts, u64)> {
    // Streamed: a comparison of many replicates writes more than a data file's cap.
    let file = open_regular(path, STREAM_LIMIT).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    let mut r = csv::Reader::from_reader(file);
    let csv_err = |e: csv::Error| Error::Data {
        path: path.to_path_buf(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };
    let header = r.headers().map_err(csv_err)?.clone();
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            bad(
                path,
                1,
                format!(
                    "no column \"{name}\": expected variant,replicate,month,place,metric,value"
                ),
            )
        })
    };
    let (cv, cr, cm, cp, cmet, cval) = (
        col("variant")?,
        col("replicate")?,
        col("month")?,
        col("place")?,
        col("metric")?,
        col("value")?,
    );
    let mut out: Attempts = BTreeMap::new();
    let mut rec = csv::StringRecord::new();
    let mut last = 1;
    while r.read_record(&mut rec).map_err(csv_err)? {
        let line = rec.position().map_or(0, |p| p.line());
        last = line;
        let cell = |k: usize| rec.get(k).unwrap_or("");
        if cell(cmet) != "attempts" {
            continue;
        }
        let place = uncell(cell(cp));
        let Some(g) = groups
            .iter()
            .position(|g| g.places.iter().any(|p| p == place))
        else {
            continue;
        };
        let month = parse_month(path, line, cell(cm))?;
        let replicate: u64 = cell(cr).parse().map_err(|_| {
            bad(
                path,
                line,
                format!("replicate: \"{}\" is not a whole number", cell(cr)),
            )
        })?;
        let value: f64 = cell(cval)
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                bad(
                    path,
                    line,
                    format!("value: \"{}\" is not a number", cell(cval)),
                )
            })?;
        let sums = out
            .entry((uncell(cell(cv)).to_string(), replicate))
            .or_insert_with(|| vec![BTreeMap::new(); groups.len()]);
        *sums[g].entry(month).or_insert(0.0) += value;
    }
    Ok((out, last))
}

/// The before/after table of a comparison, if it has an extension date with months on
/// both sides inside the window; from `series.csv`.
pub fn before_after(c: &Comparison) -> Result<Option<BeforeAfter>> {
    let Some(date) = extension_date(c) else {
        return Ok(None);
    };
    let before: Vec<Month> = c
        .months
        .iter()
        .copied()
        .filter(|m| m.first_day().add_days(m.days() as i32 - 1) < date)
        .collect();
    let after: Vec<Month> = c
        .months
        .iter()
        .copied()
        .filter(|m| m.first_day() >= date)
        .collect();
    let groups = groups(&c.places, &c.focus_name());
    if before.is_empty() || after.is_empty() || groups.is_empty() {
        return Ok(None);
    }
    let path = c.dir.join("series.csv");
    let (sums, last) = read_attempts(&path, &groups)?;
    // compare writes a row for every month, place and metric: a month missing is a file
    // cut short or edited, not zero attempts.
    for ((variant, replicate), per_group) in &sums {
        for (g, by_month) in groups.iter().zip(per_group) {
            if let Some(m) = before
                .iter()
                .chain(&after)
                .find(|m| !by_month.contains_key(m))
            {
                return Err(bad(
                    &path,
                    last,
                    format!(
                        "variant {variant}, replicate {replicate}: no attempts rows for {m} at {}; \
                         expected one row per month, place and metric (is the file cut short?)",
                        g.places.join(", ")
                    ),
                ));
            }
        }
    }
    let mean_over = |by_month: &BTreeMap<Month, f64>, months: &[Month]| {
        months.iter().map(|m| by_month[m]).sum::<f64>() / months.len() as f64
    };
    let mut rows = Vec::new();
    for v in &c.order {
        let reps: Vec<&Vec<BTreeMap<Month, f64>>> = sums
            .iter()
            .filter(|((variant, _), _)| variant == v)
            .map(|(_, s)| s)
            .collect();
        if reps.is_empty() {
            continue;
        }
        let cells = (0..groups.len())
            .map(|g| {
                let of = |months: &[Month]| {
                    let per: Vec<f64> = reps.iter().map(|s| mean_over(&s[g], months)).collect();
                    Estimate::of(&per)
                };
                (of(&before), of(&after))
            })
            .collect();
        rows.push((v.clone(), cells));
    }
    if rows.is_empty() {
        return Err(bad(
            &c.dir.join("series.csv"),
            1,
            "no attempts of the comparison's variants at its crossings".into(),
        ));
    }
    let own_dates = c
        .order
        .iter()
        .filter_map(|v| {
            let p = c
                .policies
                .iter()
                .find(|p| p.policy == "stca_extension" && &p.variant == v)?;
            match (p.enabled, p.start == date) {
                (true, true) => None,
                (true, false) => Some((v.clone(), Some(p.start))),
                (false, _) => Some((v.clone(), None)),
            }
        })
        .collect();
    Ok(Some(BeforeAfter {
        date,
        before,
        after,
        groups,
        rows,
        own_dates,
    }))
}

/// A range of months as text: `2017-01 to 2023-02, 74 months`.
pub fn months_text(months: &[Month]) -> String {
    match (months.first(), months.last()) {
        (Some(a), Some(b)) if a == b => format!("{a}, 1 month"),
        (Some(a), Some(b)) => format!("{a} to {b}, {} months", months.len()),
        _ => "no months".into(),
    }
}

fn effect<'c>(c: &'c Comparison, variant: &str, name: &str) -> Option<&'c EffectRow> {
    c.effects
        .iter()
        .find(|e| e.variant == variant && e.effect == name)
        .filter(|e| e.mean.is_finite())
}

/// What the interaction of the two policies says: whether its interval includes 0, and
/// when it is 0 from end to end, why that is no artefact (the variants share their random
/// numbers, so an effect that is the same with and without the other policy cancels
/// exactly).
/// `values`: every replicate's interaction to full precision, where the folder has them (the
/// estimate is rounded). With shared random numbers, an interaction below 0 in some
/// replicates and above it in none is a systematic difference, however small, whatever the
/// interval of the rounded figures says.
fn interaction_verdict(e: Estimate, values: Option<&[f64]>) -> String {
    let exact = match values {
        Some(v) => v.iter().all(|&x| x == 0.0),
        None => e.mean == 0.0 && e.p05 == 0.0 && e.p95 == 0.0,
    };
    let includes_zero = e.p05 <= 0.0 && e.p95 >= 0.0;
    if let Some((k, n, sign)) = values
        .filter(|_| !exact && includes_zero)
        .and_then(one_side)
    {
        let more = if sign == "below" { "fewer" } else { "more" };
        return format!(
            "{sign} 0 in {k} of the {n} replicates and never on the other side: with their \
             random numbers shared, the two policies together give {more} attempts there than \
             the sum of their effects alone, if only by a little"
        );
    }
    if exact {
        "exactly 0: the variants share their random numbers, so this says that the quota \
         changed attempts there by as many with the extension in force as without it (the \
         people it changes being people the extension does not change)"
            .into()
    } else if includes_zero {
        "an interval that includes 0: at this precision it is consistent with the two effects \
         adding up there"
            .into()
    } else {
        "an interval that excludes 0: together they do not simply add up there".into()
    }
}

/// Whether every replicate's value that is not 0 lies on one side of 0, and some do: how
/// many, out of how many, and the side (`below` or `above`). With shared random numbers,
/// a change that small is still systematic.
fn one_side(v: &[f64]) -> Option<(usize, usize, &'static str)> {
    let below = v.iter().filter(|&&x| x < 0.0).count();
    let above = v.iter().filter(|&&x| x > 0.0).count();
    match (below, above) {
        (0, 0) => None,
        (k, 0) => Some((k, v.len(), "below")),
        (0, k) => Some((k, v.len(), "above")),
        _ => None,
    }
}

/// ", but below 0 in 7 of the 20 replicates and above it in none" ([`one_side`], from every
/// replicate's value where the folder has them), or nothing.
fn one_sided(values: Option<&[f64]>) -> String {
    match values.and_then(one_side) {
        Some((k, n, sign)) => {
            let other = if sign == "below" { "above" } else { "below" };
            format!(", but {sign} 0 in {k} of the {n} replicates and {other} it in none")
        }
        None => String::new(),
    }
}

/// "lowers attempts at X by 1,234 [1,100 to 1,390]", "raises ...", or "changes ... by
/// +12 [−30 to +50], an interval that includes 0" (and whether no replicate went the other
/// way, from `values`), from the estimate's sign.
fn change_phrase(what: &str, e: Estimate, unit_after: &str, values: Option<&[f64]>) -> String {
    if e.p95 < 0.0 {
        format!(
            "lowers {what} by {}{unit_after}",
            Estimate {
                mean: -e.mean,
                p05: -e.p95,
                p95: -e.p05
            }
            .text()
        )
    } else if e.p05 > 0.0 {
        format!("raises {what} by {}{unit_after}", e.text())
    } else {
        format!(
            "changes {what} by {}{unit_after}, an interval that includes 0{}",
            e.signed_text(),
            one_sided(values)
        )
    }
}

/// The findings: sentences (HTML-free text) built from the effects and the before/after
/// table, in the order of the questions northbound asks.
pub fn findings(c: &Comparison, ba: Option<&BeforeAfter>) -> Vec<String> {
    let focus = c.focus_name();
    let mut out = Vec::new();
    let has = |v: &str| c.order.iter().any(|o| o == v);
    if !has(REFERENCE) {
        out.push(format!(
            "The reference variant {REFERENCE} was not run, so there are no effects to report."
        ));
    } else if c.effects.is_empty() {
        out.push(
            "effects.csv holds no effects (a comparison that ran its reference writes one row \
             per variant and effect), so there are none to report."
                .into(),
        );
    }
    let totals = [
        ("diff_roxham", format!("attempts at {focus}")),
        ("diff_official_ports", "attempts at the land ports".into()),
        (
            "diff_other_irregular",
            "attempts at the other irregular crossings".into(),
        ),
        ("diff_airports", "attempts at the airports".into()),
    ];
    let variant_names = [
        ("extension_only", "The STCA extension alone"),
        ("quota_only", "The resettlement quota alone"),
        ("both", "The extension with the quota"),
    ];
    // 1. Flows at each kind of crossing, for each cell of the 2 x 2 against neither.
    for (v, name) in variant_names {
        let parts: Vec<String> = totals
            .iter()
            .filter_map(|(key, what)| {
                effect(c, v, key).map(|e| {
                    let values = c.replicate_values(v, key);
                    change_phrase(what, Estimate::from_effect(e), "", values)
                })
            })
            .collect();
        if parts.is_empty() {
            continue;
        }
        let mut s = format!(
            "{name} ({v} against {REFERENCE}, over the window) {}",
            join_and(&parts)
        );
        if let Some(e) = effect(c, v, "diff_resettled").filter(|e| e.mean != 0.0 || e.p95 != 0.0) {
            s.push_str(&format!(
                "; it {} through the quota",
                change_phrase(
                    "the number of people resettled",
                    Estimate::from_effect(e),
                    "",
                    c.replicate_values(v, "diff_resettled")
                )
            ));
        }
        s.push('.');
        out.push(s);
    }
    if let Some(e) = effect(c, "both", "interaction_roxham") {
        let e = Estimate::from_effect(e);
        let values = c.replicate_values("both", "interaction_roxham");
        let verdict = interaction_verdict(e, values);
        out.push(format!(
            "The interaction of the two policies at {focus} (both \u{2212} extension_only \u{2212} quota_only + neither) is {}, {verdict}.",
            e.signed_text()
        ));
    }
    // 2. Where the displaced demand went.
    for (v, name) in variant_names {
        let shares: Vec<(String, Estimate)> = c
            .effects
            .iter()
            .filter(|e| e.variant == v && e.mean.is_finite())
            .filter_map(|e| {
                e.effect
                    .strip_prefix("share_to_")
                    .map(|alt| (alternative_label(alt), Estimate::from_effect(e)))
            })
            .collect();
        if shares.is_empty() {
            continue;
        }
        if let Some(why) = c.unstable_shares(v) {
            out.push(format!(
                "Where the demand {} displaced from {focus} went is not estimated: {why}.",
                lower_first(name)
            ));
            continue;
        }
        let (zero, mut shares): (Vec<_>, Vec<_>) =
            shares.into_iter().partition(|(_, e)| e.zero_percent());
        shares.sort_by(|a, b| b.1.mean.total_cmp(&a.1.mean));
        let mut parts: Vec<String> = shares
            .iter()
            .map(|(label, e)| format!("{label} {}", e.percent_text()))
            .collect();
        // Each alternative with its own figure: labels hold commas ("evaded, then claimed
        // inland"), so that two run together would read as one.
        parts.extend(zero.into_iter().map(|(label, _)| format!("{label} 0.0%")));
        out.push(format!(
            "For each attempt {} displaced from {focus} ({v}), the change elsewhere, as a share of the displaced attempts: {}.",
            lower_first(name),
            join_and(&parts)
        ));
    }
    // 3. Before and after the extension's date, at the focus crossing and the land ports.
    if let Some(ba) = ba {
        for g in 0..ba.groups.len().min(2) {
            let label = &ba.groups[g].label;
            let cells: Vec<String> = ba
                .rows
                .iter()
                .filter(|(v, _)| ["both", "extension_only", REFERENCE].contains(&v.as_str()))
                .map(|(v, cells)| {
                    format!(
                        "{} before and {} after under {v}",
                        cells[g].0.text(),
                        cells[g].1.text()
                    )
                })
                .collect();
            if cells.is_empty() {
                continue;
            }
            out.push(format!(
                "Mean monthly attempts at {label}, before the extension's date ({}) and from it on ({}): {}.",
                months_text(&ba.before),
                months_text(&ba.after),
                join_and(&cells)
            ));
        }
    }
    // 4. The other variants, against neither.
    for v in c
        .order
        .iter()
        .filter(|v| !["both", "extension_only", "quota_only", REFERENCE].contains(&v.as_str()))
    {
        let mut parts: Vec<String> = totals
            .iter()
            .take(2)
            .filter_map(|(key, what)| {
                effect(c, v, key).map(|e| {
                    let values = c.replicate_values(v, key);
                    change_phrase(what, Estimate::from_effect(e), "", values)
                })
            })
            .collect();
        for (key, what) in [
            (
                "diff_stayed_in_us",
                "the number of people who stayed in the US",
            ),
            ("diff_resettled", "the number of people resettled"),
        ] {
            if let Some(e) = effect(c, v, key).filter(|e| e.mean != 0.0 || e.p95 != 0.0) {
                let values = c.replicate_values(v, key);
                parts.push(change_phrase(what, Estimate::from_effect(e), "", values));
            }
        }
        if parts.is_empty() {
            continue;
        }
        let what = c
            .description(v)
            .map_or(String::new(), |d| format!(" ({d})"));
        let mut s = format!(
            "The variant {v}{what}, against {REFERENCE}, {}.",
            join_and(&parts)
        );
        // Equal figures look like a mistake; with shared random numbers they are not.
        let why =
            "which does not mean it was not applied (policies.csv lists each variant's rules)";
        if let Some(o) = same_effects_as(c, v, None) {
            s.push_str(&format!(
                " Every effect of {v} (mean, median and 90% interval) is that of {o}: with their \
                 random numbers shared, what {v} changes beyond {o} altered none of the totals \
                 compared here in these runs, {why}."
            ));
        } else if let Some(o) = same_effects_as(c, v, Some("diff_roxham")) {
            s.push_str(&format!(
                " Its effect on attempts at {focus} is exactly that of {o} (mean, median \
                 and 90% interval): with their random numbers shared, what {v} changes beyond \
                 {o} turned no attempt there in these runs, {why}; its other effects differ."
            ));
        }
        // A variant that changes something acting from the first day (a place's
        // detection, say) differs before any policy does: its effects include those years.
        let start = c.manifest["start"].as_str().unwrap_or("");
        if let Some(row) = c
            .variants
            .iter()
            .find(|r| r.variant == *v && !start.is_empty() && r.differs_from == start)
        {
            s.push_str(&format!(
                " It differs from {REFERENCE} from the window's first day ({}): what it changes \
                 acts from the start, so its effects include the years before any policy \
                 differs, not only the response to one.",
                row.differs_from
            ));
        }
        out.push(s);
    }
    out
}

/// The first variant run before `v`, other than the reference, whose every effect (or the
/// effect `only`) is `v`'s to the figure (mean, median and interval): two variants whose
/// differences turned no total in these runs, which a reader may take for a mistake.
fn same_effects_as<'c>(c: &'c Comparison, v: &str, only: Option<&str>) -> Option<&'c str> {
    let of = |x: &str| -> Vec<(&str, [u64; 4])> {
        c.effects
            .iter()
            .filter(|e| e.variant == x && only.is_none_or(|k| e.effect == k))
            .map(|e| (e.effect.as_str(), e.figures()))
            .collect()
    };
    let mine = of(v);
    if mine.is_empty() {
        return None;
    }
    c.order
        .iter()
        .take_while(|o| o.as_str() != v)
        .find(|o| o.as_str() != REFERENCE && of(o) == mine)
        .map(String::as_str)
}

fn lower_first(s: &str) -> String {
    let mut ch = s.chars();
    match ch.next() {
        Some(f) => f.to_lowercase().collect::<String>() + ch.as_str(),
        None => String::new(),
    }
}

/// `a`, `a and b`, `a, b, and c` (semicolons when the parts have commas: `a; b; and c`).
fn join_and(parts: &[String]) -> String {
    let sep = if parts.iter().any(|p| p.contains(',')) {
        "; "
    } else {
        ", "
    };
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}{sep}and {last}", init.join(sep)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::compare::VariantRow;

    #[test]
    fn an_estimate_is_the_mean_and_the_type_7_quantiles() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]);
        assert_eq!(e.mean, 6.0);
        assert!((e.p05 - 1.5).abs() < 1e-12 && (e.p95 - 10.5).abs() < 1e-12);
        assert_eq!(e.text(), "6 [2 to 11]");
    }

    #[test]
    fn a_change_says_its_direction_only_when_the_interval_does() {
        let e = |mean, p05, p95| Estimate { mean, p05, p95 };
        assert_eq!(
            change_phrase("attempts at X", e(-1500.0, -1600.0, -1400.0), "", None),
            "lowers attempts at X by 1,500 [1,400 to 1,600]"
        );
        assert_eq!(
            change_phrase("attempts at X", e(30.0, 10.0, 50.0), "", None),
            "raises attempts at X by 30 [10 to 50]"
        );
        assert_eq!(
            change_phrase("attempts at X", e(3.0, -10.0, 50.0), "", None),
            "changes attempts at X by +3 [\u{2212}10 to +50], an interval that includes 0"
        );
        // A review: 7 of 20 replicates below 0 and none above, reported as "includes 0"
        // alone; with shared random numbers that is a small but systematic fall.
        let mut v = [0.0; 20];
        v[..7].fill(-1.0);
        assert_eq!(
            change_phrase("attempts at X", e(-0.4, -1.0, 0.0), "", Some(&v)),
            "changes attempts at X by 0 [\u{2212}1 to 0], an interval that includes 0, \
             but below 0 in 7 of the 20 replicates and above it in none"
        );
        assert!(
            change_phrase(
                "attempts at X",
                e(3.0, -10.0, 50.0),
                "",
                Some(&[-10.0, 50.0])
            )
            .ends_with("includes 0")
        );
    }

    /// The tiny comparison (extension from 2023-02-15, months 2023-01 to 2023-03) with a
    /// series.csv: the table takes January before and March after, leaves February and the
    /// other metrics out, and sums the land ports.
    #[test]
    fn the_before_after_table_by_hand() {
        let (d, _) = crate::present::comparison::tests::tiny();
        let mut s = String::from("variant,replicate,month,place,metric,value\n");
        for (v, r, roxham, lacolle) in [
            ("both", 0, [50.0, 1000.0, 10.0], [5.0, 1000.0, 7.0]),
            ("both", 1, [60.0, 1000.0, 20.0], [6.0, 1000.0, 9.0]),
            ("neither", 0, [100.0, 1000.0, 100.0], [1.0, 1000.0, 1.0]),
            ("neither", 1, [110.0, 1000.0, 130.0], [1.0, 1000.0, 3.0]),
        ] {
            for (k, m) in ["2023-01", "2023-02", "2023-03"].iter().enumerate() {
                s.push_str(&format!(
                    "{v},{r},{m},Roxham Road,attempts,{}\n{v},{r},{m},Lacolle,attempts,{}\n\
                     {v},{r},{m},Roxham Road,claims,999\n{v},{r},{m},Montreal airport,attempts,2\n",
                    roxham[k], lacolle[k]
                ));
            }
        }
        std::fs::write(d.path().join("series.csv"), s).unwrap();
        let c = Comparison::load(d.path()).unwrap();
        let ba = before_after(&c).unwrap().unwrap();
        assert_eq!(ba.date, Date::parse("2023-02-15").unwrap());
        assert_eq!(ba.before, [Month::parse("2023-01").unwrap()]);
        assert_eq!(ba.after, [Month::parse("2023-03").unwrap()]);
        let labels: Vec<&str> = ba.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Roxham Road",
                "land ports (STCA applies)",
                "airports (no STCA)"
            ]
        );
        let e = |mean, p05, p95| Estimate { mean, p05, p95 };
        let both = &ba.rows[0];
        assert_eq!(both.0, "both");
        // Roxham Road: 50 and 60 before, 10 and 20 after; type-7 quantiles of two values.
        assert_eq!(both.1[0], (e(55.0, 50.5, 59.5), e(15.0, 10.5, 19.5)));
        assert_eq!(both.1[1], (e(5.5, 5.05, 5.95), e(8.0, 7.1, 8.9)));
        assert_eq!(both.1[2], (e(2.0, 2.0, 2.0), e(2.0, 2.0, 2.0)));
        assert_eq!(ba.rows[1].1[0].1, e(115.0, 101.5, 128.5));
        assert_eq!(ba.own_dates, [("neither".to_string(), None)]);
        // The findings quote the effects and the table.
        let f = findings(&c, Some(&ba));
        let all = f.join("\n");
        assert!(
            all.contains(
                "The extension with the quota (both against neither, over the window) lowers \
                 attempts at Roxham Road by 150 [140 to 160] and lowers attempts at the land \
                 ports by 30 [29 to 31]."
            ),
            "{all}"
        );
        assert!(
            all.contains(
                "Mean monthly attempts at Roxham Road, before the extension's date (2023-01, 1 \
                 month) and from it on (2023-03, 1 month): 55 [51 to 60] before and 15 [11 to \
                 20] after under both and 105 [101 to 110] before and 115 [102 to 129] after \
                 under neither."
            ),
            "{all}"
        );
        // A damaged series.csv is named with its line.
        let path = d.path().join("series.csv");
        let text = std::fs::read_to_string(&path).unwrap().replace(
            "both,1,2023-03,Roxham Road,attempts,20",
            "both,1,2023-03,Roxham Road,attempts,many",
        );
        std::fs::write(&path, text).unwrap();
        let err = before_after(&c).unwrap_err().to_string();
        assert!(
            err.contains("series.csv:") && err.contains("value: \"many\""),
            "{err}"
        );
    }

    #[test]
    fn an_interaction_of_exactly_zero_says_why() {
        let e = |mean, p05, p95| Estimate { mean, p05, p95 };
        let starts = |s: String, with: &str| assert!(s.starts_with(with), "{s}");
        starts(
            interaction_verdict(e(0.0, 0.0, 0.0), None),
            "exactly 0: the variants share",
        );
        starts(
            interaction_verdict(e(0.0, 0.0, 0.0), Some(&[0.0; 5])),
            "exactly 0",
        );
        // Rounded to 0 but not 0 in every replicate (a review: one -1 among 25): a systematic
        // difference, since no replicate goes the other way.
        let mut v = [0.0; 25];
        v[7] = -1.0;
        starts(
            interaction_verdict(e(0.0, 0.0, 0.0), Some(&v)),
            "below 0 in 1 of the 25 replicates and never on the other side",
        );
        starts(
            interaction_verdict(e(0.4, 0.0, 1.0), Some(&[0.0, 1.0])),
            "above 0 in 1 of the 2",
        );
        // A large one-sided interaction is one whose interval excludes 0 (a review).
        starts(
            interaction_verdict(e(-595.0, -681.0, -510.0), Some(&[-500.0, -690.0])),
            "an interval that excludes 0",
        );
        starts(
            interaction_verdict(e(-3.0, -9.0, 4.0), Some(&[-9.0, 0.0, 4.0])),
            "an interval that includes 0",
        );
        starts(
            interaction_verdict(e(0.5, 0.0, 0.0), None),
            "an interval that includes 0",
        );
        starts(
            interaction_verdict(e(-3.0, -9.0, 4.0), None),
            "an interval that includes 0",
        );
        starts(
            interaction_verdict(e(12.0, 3.0, 20.0), None),
            "an interval that excludes 0",
        );
    }

    #[test]
    fn a_variant_with_every_effect_of_another_says_so() {
        let (_d, mut c) = crate::present::comparison::tests::tiny();
        let both: Vec<EffectRow> = c
            .effects
            .iter()
            .filter(|e| e.variant == "both")
            .cloned()
            .collect();
        let roxham = both.iter().position(|e| e.effect == "diff_roxham").unwrap();
        let as_variant = |name: &str, rows: &[EffectRow]| -> Vec<EffectRow> {
            rows.iter()
                .cloned()
                .map(|mut e| {
                    e.variant = name.into();
                    e
                })
                .collect()
        };
        // w30 has every effect of both; w60 differs in one figure of another effect than
        // the Roxham Road attempts; w90 in those too.
        let mut rows = both.clone();
        c.effects.extend(as_variant("w30", &rows));
        let other = (roxham + 1) % rows.len();
        rows[other].p95 += 1.0;
        c.effects.extend(as_variant("w60", &rows));
        rows[roxham].p50 += 1.0;
        c.effects.extend(as_variant("w90", &rows));
        c.order.extend(["w30", "w60", "w90"].map(String::from));
        let variant_in = |f: &[String], v: &str| {
            f.iter()
                .find(|s| s.starts_with(&format!("The variant {v},")))
                .cloned()
                .unwrap_or_default()
        };
        let f = findings(&c, None);
        let of = |v: &str| variant_in(&f, v);
        let every = "is that of both: with their random numbers shared";
        let roxham_only = "Its effect on attempts at Roxham Road is exactly that of both";
        assert!(
            of("w30").contains(every) && !of("w30").contains(roxham_only),
            "{f:#?}"
        );
        assert!(
            !of("w60").contains(every) && of("w60").contains(roxham_only),
            "{f:#?}"
        );
        assert!(
            !of("w90").contains(every) && !of("w90").contains(roxham_only),
            "{f:#?}"
        );
        // A variant that differs from the window's first day says its effects include the
        // years before (a review: high_detection changes a place's detection from 2017).
        let first_day = "It differs from neither from the window's first day";
        assert!(!of("w30").contains(first_day), "{f:#?}");
        c.manifest["start"] = "2023-01-01".into();
        for (v, from) in [("w30", "2023-01-01"), ("w60", "2023-02-14")] {
            c.variants.push(VariantRow {
                variant: v.into(),
                description: String::new(),
                overrides: String::new(),
                differs_from: from.into(),
            });
        }
        let f = findings(&c, None);
        let of = |v: &str| variant_in(&f, v);
        assert!(
            of("w30").contains(&format!("{first_day} (2023-01-01)")),
            "{f:#?}"
        );
        assert!(!of("w60").contains(first_day), "{f:#?}");
    }

    #[test]
    fn lists_read_as_sentences() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join_and(&s(&["a"])), "a");
        assert_eq!(join_and(&s(&["a", "b"])), "a and b");
        assert_eq!(join_and(&s(&["a", "b", "c"])), "a, b, and c");
        assert_eq!(join_and(&s(&["a, x", "b", "c"])), "a, x; b; and c");
    }
}
