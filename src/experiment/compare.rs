//! The policy experiment: variants of a scenario (by default the 2 x 2 of the STCA
//! extension and the resettlement quota), each run over replicates, summarised with 90%
//! intervals, and compared with the variant that has neither.
//!
//! A result is a function of (scenario, seed, variant, replicate) alone (and of the
//! posterior and the number of replicates, if the runs are over one: see `posterior`):
//! replicate `r` of every variant runs with the same seed (common random numbers), and
//! the same posterior particle, so differences between variants are not noise, and running
//! a subset of variants or more threads changes nothing. Runs go replicate by replicate,
//! each on one thread beside others (a worker takes a replicate's variants together where
//! there are replicates enough for every worker); the variants of a replicate go on from
//! one run of the scenario stopped where their rules start to differ
//! ([`ensemble::Trunks`]), which does not change their results. Each run's daily results
//! are dropped once its monthly values are taken; `series.csv` is written from those, in a
//! fixed order.

use crate::experiment::ensemble;
use crate::experiment::posterior::{self, Posterior, Uncertainty};
use crate::experiment::validation;
use crate::model::agent::State;
use crate::model::engine::{self, Results};
use crate::output;
use crate::scenario::{CrossingKind, Metric, PlaceKind, Scenario, metrics_for};
use crate::util::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml_edit::Value;

/// The reference variant that effects are measured against.
pub const REFERENCE: &str = "neither";

/// A variant: a name, what it is, and its overrides of the base scenario.
#[derive(Debug, Clone)]
pub struct VariantSpec {
    pub name: String,
    pub description: String,
    pub set: Vec<(String, Value)>,
}

/// The default 2 x 2 design, then the scenario's own `[[variant]]` tables.
pub fn design(sc: &Scenario) -> Result<Vec<VariantSpec>> {
    let has = |name: &str| sc.policies.iter().any(|p| p.rule.name() == name);
    if !has("stca_extension") || !has("resettlement_quota") {
        return Err(Error::Invalid {
            path: sc.path.clone(),
            problems: vec!["the 2 x 2 comparison needs [policies.stca_extension] and [policies.resettlement_quota] tables".into()],
        });
    }
    let cell = |name: &str, desc: &str, ext: bool, quota: bool| VariantSpec {
        name: name.into(),
        description: desc.into(),
        set: vec![
            ("policies.stca_extension.enabled".into(), Value::from(ext)),
            (
                "policies.resettlement_quota.enabled".into(),
                Value::from(quota),
            ),
        ],
    };
    let mut out = vec![
        cell("both", "STCA extension and resettlement quota", true, true),
        cell("extension_only", "STCA extension, no quota", true, false),
        cell(
            "quota_only",
            "resettlement quota, no STCA extension",
            false,
            true,
        ),
        cell(
            REFERENCE,
            "neither the extension nor the quota",
            false,
            false,
        ),
    ];
    for v in &sc.variants {
        if out.iter().any(|o| o.name == v.name) {
            return Err(Error::Invalid {
                path: sc.path.clone(),
                problems: vec![format!(
                    "variant \"{}\": the name is taken by the default 2 x 2 design",
                    v.name
                )],
            });
        }
        out.push(VariantSpec {
            name: v.name.clone(),
            description: v.description.clone(),
            set: v.set.clone(),
        });
    }
    Ok(out)
}

/// Keeps the named variants, in the design's order; an unknown name is an error.
pub fn select(all: Vec<VariantSpec>, names: &[String], sc: &Scenario) -> Result<Vec<VariantSpec>> {
    if names.is_empty() {
        return Ok(all);
    }
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !all.iter().any(|v| &v.name == *n))
        .map(|n| {
            format!(
                "--variants: no variant \"{n}\" (there are: {})",
                all.iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Invalid {
            path: sc.path.clone(),
            problems: unknown,
        });
    }
    Ok(all
        .into_iter()
        .filter(|v| names.contains(&v.name))
        .collect())
}

/// The outcome totals effects are computed from, for one run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Attempts at the focus crossing (Roxham Road).
    pub focus: f64,
    /// Attempts at ports where the STCA applies.
    pub official_ports: f64,
    /// Attempts at irregular crossings other than the focus.
    pub other_irregular: f64,
    /// People who hid for the whole window and claimed inland.
    pub evasions: f64,
    /// Attempts at ports without the STCA (airports).
    pub airports: f64,
    /// People who settled in the US or gave up on the way (at the end of the window).
    pub stayed_in_us: f64,
    /// People resettled through the quota (at the end of the window).
    pub resettled: f64,
    /// People still on their way at the end of the window: waiting or travelling in the
    /// US, returned to it, hiding in Canada within the extension's window, or approved by
    /// the quota and not yet arrived (every state that is not an end).
    pub on_the_way: f64,
}

/// A total's name, what it counts, and how to read it from [`Totals`].
type Column = (&'static str, &'static str, fn(&Totals) -> f64);

impl Totals {
    /// Each total: the name its effects take (`diff_<name>`, the focus as `roxham`), what
    /// it counts (crossing attempts, where a person returned may try again, or people),
    /// and its value. The one list the names, units and values are read from.
    const COLUMNS: [Column; 8] = [
        ("roxham", "attempts", |t| t.focus),
        ("official_ports", "attempts", |t| t.official_ports),
        ("other_irregular", "attempts", |t| t.other_irregular),
        ("evasions", "people", |t| t.evasions),
        ("airports", "attempts", |t| t.airports),
        ("stayed_in_us", "people", |t| t.stayed_in_us),
        ("resettled", "people", |t| t.resettled),
        ("still_on_the_way", "people", |t| t.on_the_way),
    ];

    /// The totals' names, in [`Totals::COLUMNS`]' order.
    pub const NAMES: [&'static str; 8] = {
        let mut names = [""; 8];
        let mut i = 0;
        while i < names.len() {
            names[i] = Totals::COLUMNS[i].0;
            i += 1;
        }
        names
    };

    fn column(name: &str) -> Option<&'static Column> {
        Totals::COLUMNS.iter().find(|c| c.0 == name)
    }

    /// What a total counts: `attempts` or `people`.
    pub fn unit(name: &str) -> &'static str {
        Totals::column(name).map_or("people", |c| c.1)
    }

    fn get(&self, name: &str) -> f64 {
        Totals::column(name).map_or(f64::NAN, |c| (c.2)(self))
    }
}

pub fn totals(sc: &Scenario, res: &Results) -> Totals {
    let f = sc.focus_crossing();
    let mut t = Totals::default();
    for (i, p) in sc.places.iter().enumerate() {
        let attempts = res.total(i, Metric::Attempts) as f64 * sc.scale;
        match p.crossing {
            Some(CrossingKind::Irregular) if Some(i) == f => t.focus += attempts,
            Some(CrossingKind::Irregular) => t.other_irregular += attempts,
            Some(CrossingKind::Port) if p.stca => t.official_ports += attempts,
            Some(CrossingKind::Port) => t.airports += attempts,
            None => {}
        }
        if p.kind == PlaceKind::Crossing {
            t.evasions += res.total(i, Metric::Evaded) as f64 * sc.scale;
        }
    }
    let last = res.days - 1;
    t.stayed_in_us = (res.state_count(last, State::Settled) + res.state_count(last, State::GaveUp))
        as f64
        * sc.scale;
    t.resettled = res.state_count(last, State::Resettled) as f64 * sc.scale;
    t.on_the_way = State::ALL
        .iter()
        .filter(|s| !s.is_terminal())
        .map(|&s| res.state_count(last, s))
        .sum::<u64>() as f64
        * sc.scale;
    t
}

/// One replicate's output: monthly values of every (place, metric) cell, totals, and the
/// simulated counterparts of the observed series.
#[derive(Debug, Clone)]
pub struct Replicate {
    pub monthly: Vec<f64>,
    pub totals: Totals,
    pub observed: Vec<Vec<f64>>,
    /// The simulated line of each monthly observed series ([`validation::simulated_months`]).
    pub observed_months: Vec<Vec<f64>>,
    pub agents: u64,
    pub agent_days: u64,
}

/// The (month, place, metric) cells of the monthly table, in output order.
pub fn cells(sc: &Scenario) -> Vec<(String, String, &'static str)> {
    let mut months: Vec<String> = Vec::new();
    for d in 0..sc.days() {
        let m = sc.start.add_days(d as i32).month().to_string();
        if months.last() != Some(&m) {
            months.push(m);
        }
    }
    let mut out = Vec::new();
    for m in months {
        for p in &sc.places {
            for metric in metrics_for(p.kind) {
                out.push((m.clone(), p.name.clone(), metric.name()));
            }
        }
    }
    out
}

fn replicate(sc: &Scenario, res: &Results) -> Replicate {
    Replicate {
        monthly: output::monthly_rows(sc, res)
            .into_iter()
            .map(|r| r.value)
            .collect(),
        totals: totals(sc, res),
        observed: validation::simulated_points(sc, res),
        observed_months: validation::simulated_months(sc, res),
        agents: res.agents,
        agent_days: res.agent_days,
    }
}

/// A row of `summary.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub variant: String,
    pub month: String,
    pub place: String,
    pub metric: String,
    pub mean: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
    /// What the interval covers: `replicates`, or `parameters and replicates` over a
    /// posterior (empty in folders written before it was recorded).
    #[serde(default)]
    pub uncertainty: String,
}

/// A row of `effects.csv`: a variant against `neither`, or (for `both`) the interaction of
/// the extension and the quota. Values are rounded for reading ([`EffectRow::rounded`]);
/// `effects_by_replicate.csv` has them to full precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectRow {
    pub variant: String,
    /// `diff_<total>` (variant minus neither), `share_to_<alternative>` (the change in the
    /// alternative per attempt displaced from Roxham Road) or `interaction_<total>` (both
    /// minus extension_only minus quota_only plus neither).
    pub effect: String,
    /// `attempts` (crossing attempts: a person returned may try again), `people`, or
    /// `ratio` (a change per attempt displaced). Empty in folders written before it was
    /// recorded.
    #[serde(default)]
    pub unit: String,
    pub mean: f64,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
    /// What the interval covers: `replicates`, or `parameters and replicates` over a
    /// posterior (empty in folders written before it was recorded).
    #[serde(default)]
    pub uncertainty: String,
}

impl EffectRow {
    /// Its figures (mean, median and interval) bit for bit, to tell rows with the same
    /// figures (a figure missing in both, NaN, counts as the same).
    pub fn figures(&self) -> [u64; 4] {
        [self.mean, self.p05, self.p50, self.p95].map(f64::to_bits)
    }

    /// The header of `effects.csv`, written even when there is no row.
    pub const HEADER: [&'static str; 8] = [
        "variant",
        "effect",
        "unit",
        "mean",
        "p05",
        "p50",
        "p95",
        "uncertainty",
    ];

    /// The row with its numbers rounded for reading: attempts and people to a tenth (means
    /// of whole numbers over replicates), ratios to four decimals.
    pub fn rounded(mut self) -> EffectRow {
        let decimals = if self.unit == RATIO { 4 } else { 1 };
        for v in [&mut self.mean, &mut self.p05, &mut self.p50, &mut self.p95] {
            *v = output::round(*v, decimals);
        }
        self
    }
}

/// The unit of a change per attempt displaced.
pub const RATIO: &str = "ratio";

/// A row of `totals.csv`: one replicate's total of an outcome in a variant, what the
/// effects are differences of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalRow {
    pub variant: String,
    pub replicate: u32,
    /// `roxham` (attempts at the focus crossing), `official_ports`, `other_irregular`,
    /// `airports` (attempts), `evasions`, `stayed_in_us` or `resettled` (people).
    pub total: String,
    pub unit: String,
    pub value: f64,
}

/// A row of `effects_by_replicate.csv`: one replicate's value of an effect, to full
/// precision (the rows of `effects.csv` summarise them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicateEffect {
    pub variant: String,
    pub replicate: u32,
    pub effect: String,
    pub unit: String,
    pub value: f64,
}

/// A row of `overlay.csv`: a variant's simulated counterpart of an observed period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverlayRow {
    pub variant: String,
    pub series: String,
    pub period: String,
    pub start: String,
    pub end: String,
    pub observed: f64,
    pub sim_mean: f64,
    pub sim_p05: f64,
    pub sim_p50: f64,
    pub sim_p95: f64,
    /// What the interval covers: `replicates`, or `parameters and replicates` over a
    /// posterior (empty in folders written before it was recorded).
    #[serde(default)]
    pub uncertainty: String,
}

/// A row of `variants.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantRow {
    pub variant: String,
    pub description: String,
    /// `path = value` pairs, separated by `; `.
    pub overrides: String,
    /// The first day whose figures a run of the variant may differ on from the same run of
    /// `neither` ([`engine::first_difference`]: the first day their rules differ): the start
    /// of the window where the variant changes something acting from the first day (a
    /// place's detection, say), so that its effects include the years before any policy
    /// differs. Empty for `neither` itself, a variant that is the same run, or where
    /// `neither` was not run (and in folders written before the column).
    #[serde(default)]
    pub differs_from: String,
}

/// A row of `policies.csv`: each variant's policies with their dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub variant: String,
    pub policy: String,
    pub enabled: bool,
    pub start: String,
    pub end: String,
}

/// What a comparison produced, beside `series.csv` (written by [`compare`]).
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub summary: Vec<SummaryRow>,
    pub effects: Vec<EffectRow>,
    /// Every replicate's value of every effect, to full precision.
    pub by_replicate: Vec<ReplicateEffect>,
    /// Every replicate's totals in every variant.
    pub totals: Vec<TotalRow>,
    pub overlay: Vec<OverlayRow>,
    /// Each variant's simulated line of each monthly observed series, on every month.
    pub overlay_months: Vec<validation::MonthRow>,
    pub variants: Vec<VariantRow>,
    pub policies: Vec<PolicyRow>,
    /// Each replicate's seed and, over a posterior, its particle (the same in every
    /// variant): what it takes to run one replicate again.
    pub replicates: Vec<ReplicateRow>,
    pub agents: u64,
    pub agent_days: u64,
}

/// A row of a comparison's `replicate_seeds.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicateRow {
    pub replicate: u32,
    /// The seed every variant of the replicate runs with (`northbound run --seed`).
    pub seed: u64,
    /// Over a posterior, the `id` of the particle of `posterior.csv` the replicate runs
    /// with; empty without one.
    pub particle: Option<u64>,
}

/// Runs the comparison, writing `series.csv` into `series` (from the monthly values kept,
/// once every run is done), calling `done` after each run.
pub fn compare(
    base: &Scenario,
    specs: &[VariantSpec],
    replicates: u32,
    seed: u64,
    series: &Path,
    done: &(dyn Fn() + Sync),
) -> Result<Comparison> {
    compare_over(base, specs, replicates, seed, None, series, done)
}

/// [`compare`] over a posterior, if one is given: replicate `r` of every variant runs with
/// the particle drawn `r`-th ([`Posterior::draws`]), the variant's overrides on top, and
/// its usual seed; so variants stay paired, and the intervals cover the parameters'
/// uncertainty as well as the run-to-run noise.
pub fn compare_over(
    base: &Scenario,
    specs: &[VariantSpec],
    replicates: u32,
    seed: u64,
    posterior: Option<&Posterior>,
    series: &Path,
    done: &(dyn Fn() + Sync),
) -> Result<Comparison> {
    // [variant][distinct particle], and each replicate's particle (the same in every variant).
    let mut scenarios: Vec<Vec<Scenario>> = Vec::new();
    let mut which = Vec::new();
    for v in specs {
        let what = format!("variant \"{}\"", v.name);
        let (scs, w) = posterior::replicates(base, posterior, &v.set, &what, replicates, seed)?;
        scenarios.push(scs);
        which = w;
    }
    let uncertainty = Uncertainty::of(posterior).as_str();
    let cells = cells(base);
    for sc in scenarios.iter().flatten() {
        if self::cells(sc) != cells {
            return Err(Error::Invalid {
                path: base.path.clone(),
                problems: vec![format!(
                    "variant \"{}\" changes the places or the window; variants and posterior particles may change parameters only",
                    sc.name
                )],
            });
        }
    }
    let mut w = csv::Writer::from_path(series).map_err(|e| Error::Output {
        path: series.to_path_buf(),
        message: e.to_string(),
    })?;
    let werr = |e: csv::Error| Error::Output {
        path: series.to_path_buf(),
        message: e.to_string(),
    };
    w.write_record(["variant", "replicate", "month", "place", "metric", "value"])
        .map_err(werr)?;

    // Each replicate's scenario before the variants' overrides, from which they go on.
    let (trunks, _) = posterior::replicates(base, posterior, &[], "", replicates, seed)?;
    let particles = trunks.len();
    let flat: Vec<&Scenario> = scenarios.iter().flatten().collect();
    let bases: Vec<&Scenario> = (0..flat.len()).map(|k| &trunks[k % particles]).collect();
    let shared: Vec<u32> = (0..flat.len())
        .map(|k| engine::shared_days(bases[k], flat[k]))
        .collect();
    // Replicate by replicate, and within one the variants that share fewer days first,
    // so that a worker's kept run only ever goes further.
    let jobs: Vec<(usize, u32)> = (0..replicates)
        .flat_map(|r| {
            let mut ks: Vec<usize> = (0..specs.len())
                .map(|v| v * particles + which[r as usize])
                .collect();
            ks.sort_by_key(|&k| (shared[k], k));
            ks.into_iter().map(move |k| (k, r))
        })
        .collect();
    let runs = ensemble::map_runs_from(
        &flat,
        Some(&bases),
        &jobs,
        seed,
        |k, _, res| replicate(flat[k], res),
        done,
    );
    // By variant, in replicate order (the jobs go replicate by replicate).
    let mut reps: Vec<Vec<Replicate>> = (0..specs.len())
        .map(|_| Vec::with_capacity(replicates as usize))
        .collect();
    for (&(k, _), rep) in jobs.iter().zip(runs) {
        reps[k / particles].push(rep);
    }
    let totals: Vec<Vec<Totals>> = reps
        .iter()
        .map(|rs| rs.iter().map(|r| r.totals).collect())
        .collect();
    let draws = posterior.map(|p| p.draws(replicates, seed));
    let mut out = Comparison {
        agents: reps.iter().flatten().map(|r| r.agents).sum(),
        agent_days: reps.iter().flatten().map(|r| r.agent_days).sum(),
        replicates: (0..replicates)
            .map(|r| ReplicateRow {
                replicate: r,
                seed: ensemble::replicate_seed(seed, r),
                particle: posterior
                    .zip(draws.as_ref())
                    .map(|(p, d)| p.particles[d[r as usize]].id),
            })
            .collect(),
        ..Comparison::default()
    };
    for (v, spec) in specs.iter().enumerate() {
        let name = output::cell(&spec.name);
        for (r, rep) in reps[v].iter().enumerate() {
            let rs = r.to_string();
            for ((month, place, metric), value) in cells.iter().zip(&rep.monthly) {
                w.write_record([
                    name.as_ref(),
                    rs.as_str(),
                    month,
                    output::cell(place).as_ref(),
                    metric,
                    &output::fmt_value(*value),
                ])
                .map_err(werr)?;
            }
        }
    }
    w.flush().map_err(|e| Error::Output {
        path: series.to_path_buf(),
        message: e.to_string(),
    })?;

    for (v, spec) in specs.iter().enumerate() {
        for (c, (month, place, metric)) in cells.iter().enumerate() {
            let values: Vec<f64> = reps[v].iter().map(|rep| rep.monthly[c]).collect();
            let [mean, p05, p50, p95] = ensemble::summary(&values).map(|x| output::round(x, 4));
            out.summary.push(SummaryRow {
                variant: spec.name.clone(),
                month: month.clone(),
                place: place.clone(),
                metric: metric.to_string(),
                mean,
                p05,
                p50,
                p95,
                uncertainty: uncertainty.into(),
            });
        }
        for (k, s) in base.observed.iter().enumerate() {
            for (j, o) in s.points.iter().enumerate() {
                let sims: Vec<f64> = reps[v]
                    .iter()
                    .map(|r| r.observed[k][j])
                    .filter(|x| x.is_finite())
                    .collect();
                let [mean, p05, p50, p95] = ensemble::summary(&sims).map(|x| output::round(x, 4));
                out.overlay.push(OverlayRow {
                    variant: spec.name.clone(),
                    series: s.name.clone(),
                    period: o.label(),
                    start: o.start.to_string(),
                    end: o.end.to_string(),
                    observed: o.value,
                    sim_mean: mean,
                    sim_p05: p05,
                    sim_p50: p50,
                    sim_p95: p95,
                    uncertainty: uncertainty.into(),
                });
            }
        }
        let months: Vec<&Vec<Vec<f64>>> = reps[v].iter().map(|r| &r.observed_months).collect();
        out.overlay_months.extend(validation::month_rows(
            base,
            Some(&spec.name),
            &months,
            Uncertainty::of(posterior),
        ));
        let reference = specs.iter().position(|s| s.name == REFERENCE);
        let differs_from = match reference {
            Some(r) if r != v => engine::first_difference(&scenarios[r][0], &scenarios[v][0])
                .map_or(String::new(), |d| base.start.add_days(d as i32).to_string()),
            _ => String::new(),
        };
        out.variants.push(VariantRow {
            variant: spec.name.clone(),
            description: spec.description.clone(),
            overrides: spec
                .set
                .iter()
                .map(|(p, x)| format!("{p} = {}", x.to_string().trim()))
                .collect::<Vec<_>>()
                .join("; "),
            differs_from,
        });
        for p in &scenarios[v][0].policies {
            let (s, e) = p.rule.dates();
            out.policies.push(PolicyRow {
                variant: spec.name.clone(),
                policy: p.rule.name().into(),
                enabled: p.enabled,
                start: s.to_string(),
                end: e.map_or(String::new(), |e| e.to_string()),
            });
        }
    }
    for (v, spec) in specs.iter().enumerate() {
        for (r, t) in totals[v].iter().enumerate() {
            for name in Totals::NAMES {
                out.totals.push(TotalRow {
                    variant: spec.name.clone(),
                    replicate: r as u32,
                    total: name.into(),
                    unit: Totals::unit(name).into(),
                    value: t.get(name),
                });
            }
        }
    }
    let index = |name: &str| specs.iter().position(|s| s.name == name);
    if let Some(reference) = index(REFERENCE) {
        let mut all: Vec<(String, Vec<Effect>)> = specs
            .iter()
            .enumerate()
            .filter(|(v, _)| *v != reference)
            .map(|(v, spec)| {
                (
                    spec.name.clone(),
                    effects_of(&totals[v], &totals[reference]),
                )
            })
            .collect();
        if let (Some(b), Some(e), Some(q)) =
            (index("both"), index("extension_only"), index("quota_only"))
        {
            let cells: [&[Totals]; 4] = [&totals[b], &totals[e], &totals[q], &totals[reference]];
            if let Some(both) = all.iter_mut().find(|(v, _)| v == "both") {
                both.1.extend(interaction(cells));
            }
        }
        for (variant, effects) in all {
            for e in effects {
                for (r, value) in e.values.iter().enumerate() {
                    out.by_replicate.push(ReplicateEffect {
                        variant: variant.clone(),
                        replicate: r as u32,
                        effect: e.name.clone(),
                        unit: e.unit.into(),
                        value: *value,
                    });
                }
                let mut row = summarise(&variant, e);
                row.uncertainty = uncertainty.into();
                out.effects.push(row);
            }
        }
    }
    Ok(out)
}

/// Writes a comparison's tables into `dir`, beside its `series.csv`: `summary.csv`,
/// `effects.csv` (its header even without a row), `effects_by_replicate.csv`, `totals.csv`,
/// `overlay.csv`, `overlay_months.csv` (the simulated line of monthly series on every month),
/// `observed_crossings.csv` (observations at one crossing, for the crossing panels),
/// `variants.csv`, `replicate_seeds.csv` (seeds and particles), `policies.csv`,
/// `places.csv`, and the scenario as `scenario.toml` with its data files under `data/`
/// (paths rewritten to them): everything its figures and report are drawn from, and what
/// it takes to run it again.
pub fn write(dir: &Path, sc: &Scenario, cmp: &Comparison) -> Result<()> {
    output::write_csv(&dir.join("summary.csv"), &cmp.summary)?;
    output::write_csv_or_header(&dir.join("effects.csv"), &cmp.effects, &EffectRow::HEADER)?;
    output::write_csv_or_header(
        &dir.join("effects_by_replicate.csv"),
        &cmp.by_replicate,
        &["variant", "replicate", "effect", "unit", "value"],
    )?;
    output::write_csv(&dir.join("totals.csv"), &cmp.totals)?;
    output::write_csv_or_header(
        &dir.join("observed_crossings.csv"),
        &output::crossing_observations(sc),
        &output::CrossingObservation::HEADER,
    )?;
    output::write_csv(&dir.join("overlay.csv"), &cmp.overlay)?;
    output::write_csv_or_header(
        &dir.join("overlay_months.csv"),
        &cmp.overlay_months,
        &validation::MONTH_HEADER,
    )?;
    output::write_csv(&dir.join("variants.csv"), &cmp.variants)?;
    output::write_csv_or_header(
        &dir.join("replicate_seeds.csv"),
        &cmp.replicates,
        &["replicate", "seed", "particle"],
    )?;
    output::write_csv(&dir.join("policies.csv"), &cmp.policies)?;
    output::write_csv(&dir.join("places.csv"), &output::place_rows(sc))?;
    output::bundle::write_scenario(dir, "scenario.toml", sc).map(|_| ())
}

/// An effect, replicate by replicate: its name, its unit and a value per replicate (not a
/// number where it is undefined).
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub name: String,
    pub unit: &'static str,
    pub values: Vec<f64>,
}

/// The effects of a variant against the reference, replicate by replicate (common random
/// numbers pair them): `diff_<total>` for each total, and `share_to_<alternative>`, the
/// change in the alternative per attempt displaced from the focus crossing (undefined in a
/// replicate where none was).
pub fn effects_of(with: &[Totals], reference: &[Totals]) -> Vec<Effect> {
    let pairs: Vec<(&Totals, &Totals)> = with.iter().zip(reference).collect();
    let mut out: Vec<Effect> = Totals::NAMES
        .iter()
        .map(|&name| Effect {
            name: format!("diff_{name}"),
            unit: Totals::unit(name),
            values: pairs
                .iter()
                .map(|(a, b)| a.get(name) - b.get(name))
                .collect(),
        })
        .collect();
    // Where displaced attempts go: every total but the focus's own.
    for &name in &Totals::NAMES[1..] {
        out.push(Effect {
            name: format!("share_to_{name}"),
            unit: RATIO,
            values: pairs
                .iter()
                .map(|(a, b)| {
                    let displaced = b.focus - a.focus;
                    if displaced > 0.0 {
                        (a.get(name) - b.get(name)) / displaced
                    } else {
                        f64::NAN
                    }
                })
                .collect(),
        });
    }
    out
}

/// The interaction of the extension and the quota, replicate by replicate, for each total:
/// the effect of both minus the effect of the extension alone minus the effect of the quota
/// alone, that is `both - extension_only - quota_only + neither`. Zero where the two
/// policies add up; `cells` are the totals of both, extension_only, quota_only and neither.
pub fn interaction(cells: [&[Totals]; 4]) -> Vec<Effect> {
    let [both, ext, quota, neither] = cells;
    let n = both
        .len()
        .min(ext.len())
        .min(quota.len())
        .min(neither.len());
    Totals::NAMES
        .iter()
        .map(|&name| Effect {
            name: format!("interaction_{name}"),
            unit: Totals::unit(name),
            values: (0..n)
                .map(|r| {
                    both[r].get(name) - ext[r].get(name) - quota[r].get(name) + neither[r].get(name)
                })
                .collect(),
        })
        .collect()
}

/// An effect's row of `effects.csv`: the mean and the 90% interval over the replicates where
/// it is defined, rounded for reading.
fn summarise(variant: &str, e: Effect) -> EffectRow {
    let v: Vec<f64> = e.values.into_iter().filter(|x| x.is_finite()).collect();
    let [mean, p05, p50, p95] = ensemble::summary(&v);
    EffectRow {
        variant: variant.into(),
        effect: e.name,
        unit: e.unit.into(),
        mean,
        p05,
        p50,
        p95,
        uncertainty: Uncertainty::Replicates.as_str().into(),
    }
    .rounded()
}

/// Effects of one variant against the reference, summarised with 90% intervals
/// ([`effects_of`]).
pub fn effects(variant: &str, with: &[Totals], reference: &[Totals]) -> Vec<EffectRow> {
    effects_of(with, reference)
        .into_iter()
        .map(|e| summarise(variant, e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(focus: f64, ports: f64, stayed: f64) -> Totals {
        Totals {
            focus,
            official_ports: ports,
            stayed_in_us: stayed,
            ..Totals::default()
        }
    }

    #[test]
    fn the_design_takes_the_names_validation_reserves() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let sc = Scenario::load(&path).unwrap();
        let names: Vec<String> = design(&sc).unwrap().into_iter().map(|v| v.name).collect();
        assert_eq!(names, crate::scenario::DESIGN_VARIANTS);
    }

    #[test]
    fn effects_on_a_case_with_a_known_answer() {
        // Three paired replicates: the variant displaces 100, 200 and 300 people from the
        // focus crossing; a quarter go to the ports and half stay in the US.
        let reference = [
            t(1000.0, 100.0, 50.0),
            t(1100.0, 100.0, 50.0),
            t(1200.0, 100.0, 50.0),
        ];
        let with = [
            t(900.0, 125.0, 100.0),
            t(900.0, 150.0, 150.0),
            t(900.0, 175.0, 200.0),
        ];
        let rows = effects("v", &with, &reference);
        let get = |e: &str| rows.iter().find(|r| r.effect == e).unwrap().clone();
        let d = get("diff_roxham");
        assert_eq!((d.mean, d.p50), (-200.0, -200.0));
        assert!(
            (d.p05 - -290.0).abs() < 1e-9 && (d.p95 - -110.0).abs() < 1e-9,
            "{d:?}"
        );
        let s = get("share_to_official_ports");
        assert!(
            (s.mean - 0.25).abs() < 1e-12
                && (s.p05 - 0.25).abs() < 1e-12
                && (s.p95 - 0.25).abs() < 1e-12
        );
        assert!((get("share_to_stayed_in_us").mean - 0.5).abs() < 1e-12);
        assert_eq!(get("diff_airports").mean, 0.0);
        assert_eq!(d.unit, "attempts");
        assert_eq!(get("diff_stayed_in_us").unit, "people");
        assert_eq!(s.unit, "ratio");
    }

    #[test]
    fn everyone_is_at_an_end_or_still_on_the_way_when_the_window_closes() {
        // A review found the shares of displaced demand a quarter short: the people still
        // waiting when the window closes were in no total.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let sc = Scenario::load(&path).unwrap();
        let res = engine::simulate(&sc, &engine::RunOptions::default());
        let t = totals(&sc, &res);
        let last = res.days - 1;
        // Everyone entered is on the way, stayed in the US, resettled, or claimed asylum in
        // Canada (at a port, between ports, or inland after evading): the totals and the
        // claims add up to the agents, none counted twice or left out.
        let claimed: u64 = [State::ClaimedIrregular, State::ClaimedPort, State::Evaded]
            .iter()
            .map(|&s| res.state_count(last, s))
            .sum();
        assert!(t.on_the_way > 0.0, "{t:?}");
        assert_eq!(
            t.on_the_way + t.stayed_in_us + t.resettled + claimed as f64 * sc.scale,
            res.agents as f64 * sc.scale,
            "{t:?}"
        );
    }

    #[test]
    fn the_interaction_is_both_less_each_policy_alone_replicate_by_replicate() {
        // Roxham attempts: neither 1000; the extension alone takes 600 off, the quota alone
        // 50; both take 660 off in replicate 0 and 640 in replicate 1: interactions -10, +10.
        let cell = |focus: [f64; 2]| focus.map(|f| t(f, 0.0, 0.0)).to_vec();
        let (both, ext, quota, neither) = (
            cell([340.0, 360.0]),
            cell([400.0, 400.0]),
            cell([950.0, 950.0]),
            cell([1000.0, 1000.0]),
        );
        let effects = interaction([&both, &ext, &quota, &neither]);
        let rox = effects
            .iter()
            .find(|e| e.name == "interaction_roxham")
            .unwrap();
        assert_eq!(rox.values, [-10.0, 10.0]);
        assert_eq!(rox.unit, "attempts");
        assert_eq!(effects.len(), Totals::NAMES.len());
        let row = summarise("both", rox.clone());
        assert_eq!((row.mean, row.p50), (0.0, 0.0));
        assert!(
            (row.p05 - -9.0).abs() < 1e-9 && (row.p95 - 9.0).abs() < 1e-9,
            "{row:?}"
        );
    }

    #[test]
    fn effects_are_rounded_for_reading_and_the_header_is_the_rows() {
        let row = EffectRow {
            variant: "v".into(),
            effect: "diff_roxham".into(),
            unit: "attempts".into(),
            mean: 1058.1000000000001,
            p05: -0.04,
            p50: 2.25,
            p95: 3.0,
            uncertainty: String::new(),
        }
        .rounded();
        assert_eq!((row.mean, row.p05, row.p50), (1058.1, -0.0, 2.3));
        let share = EffectRow {
            unit: RATIO.into(),
            mean: 0.123456,
            ..row.clone()
        }
        .rounded();
        assert_eq!(share.mean, 0.1235);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(&row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert!(
            text.starts_with(&(EffectRow::HEADER.join(",") + "\n")),
            "{text}"
        );
    }
}
