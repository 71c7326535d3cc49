//! `northbound calibrate`: fit scenario parameters to observed series; write the trials and
//! the fitted scenario.

use super::{Common, Progress, print_out, timed};
use clap::Args;
use northbound::experiment::calibrate::{self, Calibration, Settings};
use northbound::experiment::ensemble;
use northbound::output::{self, Manifest};
use northbound::util::date::Date;
use northbound::{Error, Scenario};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// The scenario file (TOML), with [[observed]] series.
    scenario: PathBuf,
    /// A parameter to fit and its range: PATH=LO..HI, e.g. "inflows[0].share=0.01..0.08". Repeat for more.
    #[arg(long, value_name = "PATH=LO..HI", required = true)]
    fit: Vec<String>,
    /// An observed series to fit, by name. Repeat for more.
    #[arg(long, value_name = "SERIES", required = true)]
    target: Vec<String>,
    /// The months whose periods count, e.g. 2022-01..2023-02. Repeat for several ranges.
    #[arg(long, value_name = "FROM..TO", required = true)]
    window: Vec<String>,
    /// Parameter sets to try at most.
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    budget: u32,
    /// Where to write the fitted scenario [default: fitted.toml in the output folder]. Its
    /// data-file paths are rewritten to resolve from there.
    #[arg(long, value_name = "FILE")]
    fitted: Option<PathBuf>,
    /// Replicates per parameter set (the same seeds for every set).
    #[arg(long, short = 'r', value_name = "R", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    replicates: u32,
    #[command(flatten)]
    common: Common,
}

pub fn calibrate(a: CalibrateArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = Scenario::load(&a.scenario)?;
    let settings = Settings::parse(
        &sc,
        &a.fit,
        &a.target,
        &a.window,
        a.budget as usize,
        a.replicates,
        c.seed.unwrap_or(sc.seed),
    )?;
    if let Some(f) = &a.fitted {
        output::check_new_file(f, c.force)?;
    }
    let staged = output::stage(&c.out_dir(&format!("{}-calibrate", sc.name)), c.force)?;
    let pool = ensemble::pool(c.threads());
    let bar = Progress::new(
        u64::from(a.budget),
        c.quiet,
        "{spinner} {bar:40} trial {pos}/{len}  {elapsed} (eta {eta})",
    );
    let (cal, wall) = timed(&bar, || {
        pool.install(|| calibrate::calibrate(&sc, &settings, &|n| bar.set(n as u64)))
    });
    let cal = cal?;
    calibrate::write_trials(&staged.tmp.join("trials.csv"), &settings, &cal)?;
    let command = output::command_line(std::env::args().skip(1));
    let header = calibrate::header(&settings, &cal, Date::today(), &command);
    let (fitted, folder) =
        calibrate::fitted_place(a.fitted.as_deref(), &staged.tmp, staged.target());
    let best = &cal.trials[cal.best].values;
    calibrate::write_fitted(&fitted, &folder, &sc, &settings.params, best, &header)?;
    let mut manifest = Manifest::new("calibrate", &sc, settings.seed, pool.current_num_threads());
    manifest.replicates = Some(settings.replicates);
    manifest.timed(0, 0, wall);
    let dir = staged.finish(manifest)?;
    if !c.quiet {
        print_out(&summary(&sc, &settings, &cal, wall, &dir));
    }
    Ok(())
}

/// The best parameter set found.
fn summary(sc: &Scenario, s: &Settings, cal: &Calibration, wall: f64, dir: &Path) -> String {
    let best = &cal.trials[cal.best];
    let mut out = format!(
        "{}: {} trials in {:.1} s; best objective {:.4} (trial {})\n",
        sc.name,
        cal.trials.len(),
        wall,
        best.score,
        cal.best
    );
    for (p, v) in s.params.iter().zip(&best.values) {
        let _ = writeln!(out, "  {} = {v}", p.name());
    }
    let _ = writeln!(out, "wrote {}", dir.display());
    out
}
