//! `northbound validate`: replicates of a scenario against the observed series it declares.

use super::{Common, PosteriorArg, Progress, print_out, record_uncertainty, timed};
use clap::Args;
use northbound::experiment::ensemble;
use northbound::experiment::resources::Work;
use northbound::experiment::validation::{self, Validation};
use northbound::output::Manifest;
use northbound::{Error, Scenario, present};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The scenario file (TOML), with [[observed]] series.
    scenario: PathBuf,
    /// Replicates to run.
    #[arg(long, short = 'r', value_name = "R", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replicates: u32,
    #[command(flatten)]
    posterior: PosteriorArg,
    #[command(flatten)]
    common: Common,
}

pub fn validate(a: ValidateArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = Scenario::load(&a.scenario)?;
    validation::require_observed(&sc)?;
    let posterior = a.posterior.load(&sc)?;
    let work = Work::Validate {
        replicates: a.replicates,
    };
    c.memory.ensure(&sc, work, c.threads())?;
    let staged = c.stage(&format!("{}-validate", sc.name))?;
    let seed = c.seed.unwrap_or(sc.seed);
    let pool = ensemble::pool(c.threads());
    let bar = Progress::new(
        u64::from(a.replicates),
        c.quiet,
        "{spinner} {bar:40} replicate {pos}/{len}  {elapsed} (eta {eta})",
    );
    let (v, wall) = timed(&bar, || {
        pool.install(|| {
            validation::validate_over(&sc, seed, a.replicates, posterior.as_ref(), &|| bar.inc())
        })
    });
    let v = v?;
    validation::write(&staged.tmp, &sc, &v)?;
    present::draw(&staged.tmp)?;
    let mut manifest = Manifest::new("validate", &sc, seed, pool.current_num_threads());
    manifest.replicates = Some(a.replicates);
    record_uncertainty(&mut manifest, posterior.as_ref(), &staged.tmp)?;
    manifest.timed(v.agents, v.agent_days, wall);
    let dir = c.finish(staged, manifest)?;
    if !c.quiet {
        print_out(&summary(&sc, a.replicates, &v, wall, &dir));
    }
    Ok(())
}

/// The goodness of fit of every series, as a table.
fn summary(sc: &Scenario, replicates: u32, v: &Validation, wall: f64, dir: &Path) -> String {
    let over = v.rows.first().map_or("", |r| r.uncertainty.as_str());
    let mut out = format!(
        "{}: {} replicates in {:.1} s (intervals over {over})\n",
        sc.name, replicates, wall
    );
    let _ = writeln!(
        out,
        "  {:<36} {:>9} {:>7} {:>10} {:>9} {:>11}",
        "series", "periods", "ARD", "RMSE", "r", "sim/obs"
    );
    for m in &v.metrics {
        let r = m.pearson_r.map_or("".into(), |r| format!("{r:.3}"));
        let _ = writeln!(
            out,
            "  {:<36} {:>9} {:>7.3} {:>10.1} {:>9} {:>11.3}",
            m.series, m.n_periods, m.ard, m.rmse, r, m.total_ratio
        );
    }
    let _ = writeln!(out, "wrote {}", dir.display());
    out
}
