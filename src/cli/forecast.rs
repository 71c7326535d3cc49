//! `northbound forecast`: the months from the STCA extension on, over replicates and a
//! posterior, with the identification of what drives the spread, and its figure.

use super::{Common, Progress, print_out, timed};
use clap::Args;
use northbound::experiment::ensemble;
use northbound::experiment::forecast::{self, ALL_LAND_PORTS, Forecast, Setup};
use northbound::experiment::posterior::Posterior;
use northbound::output::Manifest;
use northbound::scenario::Metric;
use northbound::util::date::Month;
use northbound::{Error, Scenario, present};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// The scenario file (TOML) [default: the bundled corridor-2017-2024].
    scenario: Option<PathBuf>,
    /// A posterior ensemble (posterior.csv from `calibrate --method abc`): replicate r runs
    /// with the parameter set drawn r-th from it, so the intervals cover the parameters'
    /// uncertainty too, and identification.csv says which parameters drive the spread.
    #[arg(long, value_name = "FILE")]
    posterior: Option<PathBuf>,
    /// Replicates [default: 100 with a posterior, 20 without].
    #[arg(long, short = 'r', value_name = "R", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replicates: Option<u32>,
    /// The first month forecast [default: the month the scenario's STCA extension starts].
    /// The months before it are simulated as the run-in but not reported.
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    from: Option<Month>,
    #[command(flatten)]
    common: Common,
}

fn parse_month(s: &str) -> Result<Month, String> {
    Month::parse(s).ok_or_else(|| format!("\"{s}\" is not a month: expected YYYY-MM, e.g. 2023-03"))
}

pub fn forecast(a: ForecastArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = match &a.scenario {
        Some(p) => Scenario::load(p)?,
        None => Scenario::bundled_default()?,
    };
    let posterior = a.posterior.as_deref().map(Posterior::read).transpose()?;
    let replicates = a
        .replicates
        .unwrap_or(if posterior.is_some() { 100 } else { 20 });
    let seed = c.seed.unwrap_or(sc.seed);
    let setup = Setup::new(&sc, posterior.as_ref(), replicates, seed, a.from)?;
    let staged = c.stage(&format!("{}-forecast", sc.name))?;
    let pool = ensemble::pool(c.threads());
    let bar = Progress::new(
        u64::from(replicates),
        c.quiet,
        "{spinner} {bar:40} replicate {pos}/{len}  {elapsed} (eta {eta})",
    );
    let (f, wall) = timed(&bar, || {
        pool.install(|| forecast::forecast(&setup, &|| bar.inc()))
    });
    forecast::write(&staged.tmp, &setup, &f)?;
    present::draw(&staged.tmp)?;
    let mut manifest = Manifest::new("forecast", &sc, seed, pool.current_num_threads());
    manifest.replicates = Some(replicates);
    manifest.forecast_from = Some(setup.from.to_string());
    manifest.uncertainty = Some(setup.uncertainty().into());
    if let Some(p) = &setup.posterior {
        manifest.posterior = Some(p.path.display().to_string());
        manifest.posterior_sha256 = Some(p.sha256.clone());
    }
    manifest.timed(f.agents, f.agent_days, wall);
    let dir = c.finish(staged, manifest)?;
    if !c.quiet {
        print_out(&summary(&sc, &setup, &f, wall, &dir));
    }
    Ok(())
}

/// `median [p05, p95]`, in whole people.
fn interval(mid: f64, lo: f64, hi: f64) -> String {
    format!("{} [{}, {}]", people(mid), people(lo), people(hi))
}

fn people(v: f64) -> String {
    northbound::present::chart::fmt_number(v, 1e6)
}

/// The first six months at the focus crossing and the land ports, the totals, and with a
/// posterior the parameter that drives each outcome most.
fn summary(sc: &Scenario, s: &Setup, f: &Forecast, wall: f64, dir: &Path) -> String {
    let focus = sc.focus_crossing().map(|i| sc.places[i].name.clone());
    let mut text = format!(
        "{}: forecast from {} to {}, {} replicates (uncertainty covered: {}) in {:.1} s\n",
        sc.name,
        f.from,
        f.months.last().map_or(String::new(), Month::to_string),
        s.replicates,
        s.uncertainty(),
        wall
    );
    let columns: Vec<&str> = focus
        .iter()
        .map(String::as_str)
        .chain([ALL_LAND_PORTS])
        .collect();
    let _ = write!(text, "  attempts, median [90% interval]\n  {:<9}", "month");
    for c in &columns {
        let _ = write!(text, " {c:<28}");
    }
    text.push('\n');
    for m in f.months.iter().take(6) {
        let _ = write!(text, "  {:<9}", m.to_string());
        for c in &columns {
            let cell = f
                .row(*m, c, Metric::Attempts)
                .map_or("n/a".into(), |r| interval(r.p50, r.p05, r.p95));
            let _ = write!(text, " {cell:<28}");
        }
        text.push('\n');
    }
    let _ = write!(text, "  {:<9}", "total");
    for c in &columns {
        let totals = f.totals(c, Metric::Attempts);
        let [_, lo, mid, hi] = ensemble::summary(&totals);
        let _ = write!(text, " {:<28}", interval(mid, lo, hi));
    }
    text.push('\n');
    if !f.identification.is_empty() {
        text.push_str("  what drives the spread (largest share of the explained variance):\n");
        for o in &f.outcomes {
            let rows: Vec<_> = f
                .identification
                .iter()
                .filter(|r| r.outcome == o.name)
                .collect();
            let top = rows
                .iter()
                .filter(|r| r.variance_share.is_some())
                .max_by(|a, b| {
                    a.variance_share
                        .unwrap_or(0.0)
                        .total_cmp(&b.variance_share.unwrap_or(0.0))
                });
            let r2 = rows.first().and_then(|r| r.r_squared);
            let _ = writeln!(
                text,
                "    {}: {}{}",
                o.name,
                top.map_or("n/a".into(), |t| format!(
                    "{} (share {:.2}, rank correlation {})",
                    t.parameter,
                    t.variance_share.unwrap_or(f64::NAN),
                    t.rank_correlation
                        .map_or("n/a".into(), |r| format!("{r:+.2}"))
                )),
                r2.map_or(String::new(), |r| format!("; R² {r:.2}"))
            );
        }
    }
    let _ = writeln!(text, "wrote {}", dir.display());
    text
}
