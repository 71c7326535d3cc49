//! `northbound calibrate`: fit scenario parameters to observed series, by Nelder-Mead (a
//! point: the trials and the fitted scenario) or by ABC-SMC (a posterior: its particles,
//! the generations and the scenario at its best particle).

use super::{Common, Progress, print_out, timed};
use clap::{Args, ValueEnum};
use northbound::experiment::abc::{self, Abc, AbcSettings, Status};
use northbound::experiment::calibrate::{self, Calibration, Settings, Work};
use northbound::experiment::ensemble;
use northbound::experiment::resources;
use northbound::output::{self, Manifest};
use northbound::util::date::Date;
use northbound::{Error, Scenario, present};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// The scenario file (TOML), with [[observed]] series.
    scenario: PathBuf,
    /// A parameter to fit and its range: PATH=LO..HI, e.g. "inflows[0].share=0.01..0.08". Tied
    /// paths take one value: "PATH1,PATH2,PATH3=LO..HI". Repeat for more parameters.
    #[arg(long, value_name = "PATH=LO..HI", required = true)]
    fit: Vec<String>,
    /// An observed series to fit, by name, and optionally its weight in the objective
    /// (SERIES=WEIGHT, default 1): the objective is the targets' ARD averaged with these
    /// weights. Repeat for more.
    #[arg(long, value_name = "SERIES[=WEIGHT]", required = true)]
    target: Vec<String>,
    /// The months whose periods count, e.g. 2022-01..2023-02. Repeat for several ranges. Runs
    /// stop at the end of the last one.
    #[arg(long, value_name = "FROM..TO", required = true)]
    window: Vec<String>,
    /// nelder-mead: a best point (trials.csv, fitted.toml); abc: a posterior by ABC-SMC
    /// (posterior.csv, generations.csv, fitted.toml at its best particle).
    #[arg(long, value_enum, default_value_t = Method::NelderMead)]
    method: Method,
    /// nelder-mead: parameter sets to try at most [default: 60].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    budget: Option<u32>,
    /// abc: particles in each population [default: 200].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    particles: Option<u32>,
    /// abc: points of the prior design (a Latin hypercube) of generation 0, of which the best
    /// N are kept [default: 10 x particles].
    #[arg(long, value_name = "M", value_parser = clap::value_parser!(u32).range(2..=100_000_000))]
    prior_draws: Option<u32>,
    /// abc: generations after generation 0 [default: 5].
    #[arg(long, value_name = "G", value_parser = clap::value_parser!(u32).range(0..=1_000))]
    generations: Option<u32>,
    /// abc: each generation's tolerance is this quantile of the previous distances [default: 0.5].
    #[arg(long, value_name = "A")]
    alpha: Option<f64>,
    /// abc: proposals per generation at most; a generation stopped by it keeps its best N
    /// [default: 30 x particles].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=100_000_000))]
    max_proposals: Option<u32>,
    /// abc: the seeds of a parameter set's replicates. fresh: its own, keyed by the seed and
    /// the proposal, so that acceptance sees the run-to-run noise ABC rests on; common: the
    /// same R seeds for every set (as nelder-mead's), the distance a fixed function of the
    /// parameters and the posterior a level set of it, which each generation narrows (how
    /// the bundled posterior was made) [default: fresh].
    #[arg(long, value_enum, value_name = "SEEDS")]
    seeds: Option<Seeds>,
    /// Where to write the fitted scenario [default: fitted.toml in the output folder]. Its
    /// data-file paths are rewritten to resolve from there.
    #[arg(long, value_name = "FILE")]
    fitted: Option<PathBuf>,
    /// Replicates per parameter set (nelder-mead and --seeds common: the same seeds for every
    /// set; abc with fresh seeds: seeds of its own).
    #[arg(long, short = 'r', value_name = "R", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    replicates: u32,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Seeds {
    /// Each parameter set its own seeds (ABC's acceptance).
    Fresh,
    /// The same seeds for every parameter set (common random numbers).
    Common,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Method {
    /// Nelder-Mead on the box of the fitted parameters: a point.
    NelderMead,
    /// ABC-SMC (population Monte Carlo) from a uniform prior on the box: a posterior.
    Abc,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::NelderMead => "nelder-mead",
            Method::Abc => "abc",
        }
    }
}

pub fn calibrate(a: CalibrateArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = Scenario::load(&a.scenario)?;
    let abc_settings = method_options(&a, &sc)?;
    let settings = Settings::parse(
        &sc,
        &a.fit,
        &a.target,
        &a.window,
        a.budget.unwrap_or(60) as usize,
        a.replicates,
        c.seed.unwrap_or(sc.seed),
    )?;
    let work = resources::Work::Calibrate {
        replicates: settings.replicates,
    };
    c.memory.ensure(&sc, work, c.threads())?;
    if let Some(f) = &a.fitted {
        output::check_new_file(f, c.force)?;
    }
    let staged = c.stage(&format!("{}-calibrate", sc.name))?;
    let pool = ensemble::pool(c.threads());
    let command = output::command_line(std::env::args().skip(1));
    // The scenario and its data files, copied, so that the folder runs anywhere.
    let files = output::bundle::write_scenario(&staged.tmp, "scenario.toml", &sc)?;
    let (fitted, data) = calibrate::fitted_place(a.fitted.as_deref(), &staged.tmp, &files);
    let mut manifest = Manifest::new("calibrate", &sc, settings.seed, pool.current_num_threads());
    manifest.replicates = Some(settings.replicates);
    manifest.method = Some(a.method.name().into());
    let (report, work, wall) = match abc_settings {
        None => {
            let bar = Progress::new(
                u64::from(a.budget.unwrap_or(60)),
                c.quiet,
                "{spinner} {bar:40} trial {pos}/{len}  {msg}  {elapsed} (eta {eta})",
            );
            let show = |n: usize, best: f64| {
                bar.set(n as u64);
                bar.message(format!("best objective so far {best:.4}"));
            };
            let (cal, wall) = timed(&bar, || {
                pool.install(|| calibrate::calibrate(&sc, &settings, &show))
            });
            let cal = cal?;
            manifest.stopped = Some(cal.stop.name().into());
            manifest.stopped_because = Some(cal.stop.describe(cal.trials.len(), settings.budget));
            calibrate::write_trials(&staged.tmp.join("trials.csv"), &settings, &cal)?;
            let header = calibrate::header(&settings, &cal, Date::today(), &command);
            let best = &cal.trials[cal.best].values;
            calibrate::write_fitted(&fitted, &data, &sc, &settings.params, best, &header)?;
            (
                nelder_mead_summary(&sc, &settings, &cal, wall),
                cal.work,
                wall,
            )
        }
        Some(abc_settings) => {
            let bar = Progress::new(
                abc_settings.prior_draws as u64,
                c.quiet,
                "{spinner} {bar:30} {msg}  {elapsed}",
            );
            let show = |st: &Status| {
                if st.generation == 0 {
                    bar.set_length(abc_settings.prior_draws as u64);
                    bar.set(st.proposed as u64);
                    bar.message(format!(
                        "generation 0/{}: prior design, {}/{} evaluated, best distance so far {:.4}",
                        st.generations, st.proposed, abc_settings.prior_draws, st.best_so_far
                    ));
                } else {
                    bar.set_length(abc_settings.particles as u64);
                    bar.set(st.accepted as u64);
                    bar.message(format!(
                        "generation {}/{}: {} proposed, {}/{} accepted, tolerance {:.4}, best distance so far {:.4}",
                        st.generation,
                        st.generations,
                        st.proposed,
                        st.accepted,
                        abc_settings.particles,
                        st.tolerance,
                        st.best_so_far
                    ));
                }
            };
            let (found, wall) = timed(&bar, || {
                pool.install(|| abc::abc(&sc, &settings, &abc_settings, &show))
            });
            let found = found?;
            manifest.stopped = Some("generations".into());
            manifest.stopped_because = Some(found.stopped(&abc_settings));
            abc::write(&staged.tmp, &settings, &found)?;
            let ensemble = staged.target().join("posterior.csv");
            let header = abc::header(
                &settings,
                &abc_settings,
                &found,
                Date::today(),
                &command,
                &ensemble.display().to_string(),
            );
            let p = &found.population;
            let best = &p.values[p.best()];
            calibrate::write_fitted(&fitted, &data, &sc, &settings.params, best, &header)?;
            (
                abc_summary(&sc, &settings, &abc_settings, &found, wall),
                found.work,
                wall,
            )
        }
    };
    calibrate::write_parameters(&staged.tmp.join("parameters.csv"), &settings)?;
    present::draw(&staged.tmp)?;
    manifest.timed(work.agents, work.agent_days, wall);
    manifest.runs = Some(work.runs);
    manifest.runs_per_second = Some(work.runs as f64 / wall.max(1e-9));
    let dir = c.finish(staged, manifest)?;
    if !c.quiet {
        print_out(&format!(
            "{report}{}wrote {}\n",
            rate(&work, wall),
            dir.display()
        ));
    }
    Ok(())
}

/// The ABC settings if the method is `abc`; options of the other method are refused.
fn method_options(a: &CalibrateArgs, sc: &Scenario) -> Result<Option<AbcSettings>, Error> {
    let abc_only = [
        ("--particles", a.particles.is_some()),
        ("--prior-draws", a.prior_draws.is_some()),
        ("--generations", a.generations.is_some()),
        ("--alpha", a.alpha.is_some()),
        ("--max-proposals", a.max_proposals.is_some()),
        ("--seeds", a.seeds.is_some()),
    ];
    let wrong: Vec<String> = match a.method {
        Method::NelderMead => abc_only
            .iter()
            .filter(|x| x.1)
            .map(|x| format!("{}: applies to --method abc only", x.0))
            .collect(),
        Method::Abc if a.budget.is_some() => {
            vec!["--budget: applies to --method nelder-mead only".into()]
        }
        Method::Abc => Vec::new(),
    };
    if !wrong.is_empty() {
        return Err(Error::Invalid {
            path: sc.path.clone(),
            problems: wrong,
        });
    }
    if a.method == Method::NelderMead {
        return Ok(None);
    }
    let mut s = AbcSettings::new(a.particles.unwrap_or(200) as usize);
    if let Some(m) = a.prior_draws {
        s.prior_draws = m as usize;
    }
    if let Some(g) = a.generations {
        s.generations = g as usize;
    }
    if let Some(alpha) = a.alpha {
        s.alpha = alpha;
    }
    if let Some(m) = a.max_proposals {
        s.max_proposals = m as usize;
    }
    s.fresh_seeds = a.seeds != Some(Seeds::Common);
    Ok(Some(s))
}

/// Runs and runs per second.
fn rate(work: &Work, wall: f64) -> String {
    format!(
        "{} runs (parameter sets x replicates) in {:.1} s: {:.1} runs per second\n",
        work.runs,
        wall,
        work.runs as f64 / wall.max(1e-9)
    )
}

/// The best parameter set found.
fn nelder_mead_summary(sc: &Scenario, s: &Settings, cal: &Calibration, wall: f64) -> String {
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
    let _ = writeln!(
        out,
        "stopped: {}",
        cal.stop.describe(cal.trials.len(), s.budget)
    );
    out
}

/// The generations, the final tolerance and ESS, and each parameter's posterior.
fn abc_summary(sc: &Scenario, s: &Settings, a: &AbcSettings, found: &Abc, wall: f64) -> String {
    let p = &found.population;
    let mut out = format!(
        "{}: ABC-SMC, {} particles, {} generations, {} seeds, in {:.1} s\n",
        sc.name,
        p.values.len(),
        found.generations.len() - 1,
        if a.fresh_seeds { "fresh" } else { "common" },
        wall
    );
    let _ = writeln!(
        out,
        "  {:>10} {:>10} {:>9} {:>9} {:>8} {:>10}",
        "generation", "tolerance", "proposed", "accepted", "ESS", "best"
    );
    for g in &found.generations {
        let _ = writeln!(
            out,
            "  {:>10} {:>10.4} {:>9} {:>9} {:>8.1} {:>10.4}{}",
            g.generation,
            g.tolerance,
            g.proposed,
            g.accepted,
            g.ess,
            g.best_distance,
            if g.capped {
                "  (stopped by --max-proposals: kept the best)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        out,
        "final tolerance {:.4}, effective sample size {:.1} of {}",
        found.tolerance(),
        p.ess(),
        p.values.len()
    );
    let width = s.params.iter().map(|q| q.name().len()).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "  {:<width$}  {:>12}  90% interval",
        "parameter", "mean"
    );
    for (k, q) in s.params.iter().enumerate() {
        let [mean, lo, hi] = p.summary(k);
        let _ = writeln!(
            out,
            "  {:<width$}  {:>12.6}  {lo:.6} to {hi:.6}",
            q.name(),
            mean
        );
    }
    let _ = writeln!(
        out,
        "best particle {} (distance {:.4}): fitted.toml",
        p.best(),
        p.distances[p.best()]
    );
    let _ = writeln!(out, "stopped: {}", found.stopped(a));
    out
}
