//! The `northbound` command line: the only place that knows about arguments, progress
//! bars and exit codes. Each command reads as the pipeline: load → run → write → plot.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use northbound::experiment::calibrate::{self, Param, Settings};
use northbound::experiment::{compare, ensemble, validation};
use northbound::model::engine::{self, RunOptions};
use northbound::output::{self, Manifest};
use northbound::present;
use northbound::scenario::Metric;
use northbound::scenario::{CrossingKind, PlaceKind};
use northbound::util::date::Date;
use northbound::{Error, Scenario};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "northbound",
    version,
    about = "Simulate asylum-seeker flows from the US southern border to the Quebec crossings",
    long_about = "northbound moves synthetic migrants from the US southern border through New York \
to the Quebec crossings (Roxham Road and the official ports such as Lacolle), day by day, \
under the Safe Third Country Agreement, its 2023 extension, the resettlement quota and the \
other dated rules a scenario file switches on.\n\n\
Typical session: `check` a scenario, `run` it, `validate` it against the observed \
statistics it declares, and `calibrate` its uncertain parameters.",
    after_help = "Examples:\n  northbound check scenarios/minimal.toml\n  northbound run scenarios/corridor-2022-2024.toml\n  northbound validate scenarios/corridor-2022-2024.toml --replicates 20\n  northbound run scenarios/minimal.toml --seed 7 --out /tmp/try --force"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario and write CSV tables, plots and a manifest.
    #[command(
        after_help = "Writes daily.csv, monthly.csv, summary.csv, places.csv, states.csv, \
manifest.json and the plots crossings.{png,svg} and outcomes.{png,svg} into\n\
output/<scenario name>/ (or --out). The folder is written whole or not at all.\n\n\
Examples:\n  northbound run scenarios/corridor-2022-2024.toml\n  northbound run scenarios/minimal.toml --seed 7 --threads 1 --out /tmp/minimal --force"
    )]
    Run(RunArgs),
    /// Validate a scenario and print what it holds.
    #[command(after_help = "Example:\n  northbound check scenarios/corridor-2022-2024.toml")]
    Check(CheckArgs),
    /// Compare replicates of a scenario with the observed series it declares.
    #[command(
        after_help = "The scenario declares its observed series with [[observed]] tables. \
Writes validation.csv\n(series,period,observed,sim_mean,sim_p05,sim_p50,sim_p95,verification), \
metrics.csv\n(series,n_periods,ard,mape,rmse,pearson_r,total_ratio), observed.csv and policies.csv \
(what\nthe figures are drawn from), one overlay-<series>.{png,svg} per series and manifest.json\n\
into output/<scenario name>-validate/ (or --out).\n\n\
Example:\n  northbound validate scenarios/corridor-2022-2024.toml --replicates 20"
    )]
    Validate(ValidateArgs),
    /// Fit scenario parameters to observed series (Nelder-Mead, common random numbers).
    #[command(
        after_help = "Each --fit names a parameter by its path in the scenario file and its \
range; each --target names an observed series; only periods inside --window count. \
The objective is the mean ARD of the targets (mean over periods of |sim - obs| / obs, \
with sim the mean of the replicates).\n\
Writes fitted.toml (the scenario with the fitted values, saying how they were fitted), \
trials.csv (every parameter set tried, with its score) and manifest.json into \
output/<scenario name>-calibrate/ (or --out).\n\n\
Example:\n  northbound calibrate scenarios/corridor-2022-2024.toml \\\n    --fit \"inflows[0].share=0.01..0.08\" --fit \"places[\\\"New York City\\\"].move_rate=0.005..0.1\" \\\n    --target qc_interceptions_monthly --window 2022-01..2023-02 --budget 60"
    )]
    Calibrate(CalibrateArgs),
    /// The policy experiment: variants x replicates, effects with 90% intervals, plots, report.
    #[command(
        after_help = "Without a scenario, runs the bundled default (corridor-2022-2024, built into the binary). The default design is the 2 x 2 of policies.stca_extension.enabled x policies.resettlement_quota.enabled: variants both, extension_only, quota_only and neither; [[variant]] tables in the scenario add more. Replicate r of every variant uses the same seed (common random numbers).

Writes series.csv (variant,replicate,month,place,metric,value), summary.csv (variant,month,place,metric,mean,p05,p50,p95), effects.csv (each variant against neither), overlay.csv, variants.csv, policies.csv, places.csv, scenario.toml, the figures (PNG and SVG), report.html and manifest.json into output/compare/ (or --out).

Examples:
  northbound compare
  northbound compare scenarios/corridor-2022-2024.toml --replicates 50 --variants both,neither
  northbound plot output/compare"
    )]
    Compare(CompareArgs),
    /// Redraw every figure (and the report) of an earlier run, validation or comparison from its CSVs.
    #[command(after_help = "Example:
  northbound plot output/compare")]
    Plot(PlotArgs),
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// The scenario file (TOML) [default: the bundled corridor-2022-2024].
    scenario: Option<PathBuf>,
    /// Replicates per variant.
    #[arg(long, short = 'r', value_name = "R", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replicates: u32,
    /// Only these variants, comma-separated (e.g. both,neither) [default: all].
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    variants: Vec<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct PlotArgs {
    /// A folder written by `northbound run`, `northbound validate` or `northbound compare`.
    dir: PathBuf,
}

#[derive(Args, Debug)]
struct Common {
    /// Output folder [default: under output/, named after the scenario].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Random seed, overriding the scenario's.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Replace the output folder if it holds an earlier result.
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
}

#[derive(Args, Debug)]
struct ValidateArgs {
    /// The scenario file (TOML), with [[observed]] series.
    scenario: PathBuf,
    /// Replicates to run.
    #[arg(long, short = 'r', value_name = "R", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replicates: u32,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug)]
struct CalibrateArgs {
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

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Check(a) => check(&a.scenario),
        Command::Validate(a) => validate(a),
        Command::Calibrate(a) => calibrate_cmd(a),
        Command::Compare(a) => compare_cmd(a),
        Command::Plot(a) => plot_cmd(&a.dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A progress bar on stderr when it is a terminal and not `--quiet`.
fn progress_bar(len: u64, quiet: bool, template: &str) -> Option<ProgressBar> {
    (!quiet && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(len);
        b.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    })
}

fn target_dir(c: &Common, sc: &Scenario, suffix: &str) -> PathBuf {
    c.out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("{}{suffix}", sc.name)))
}

fn run(a: RunArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = Scenario::load(&a.scenario)?;
    let staged = output::stage(&target_dir(c, &sc, ""), c.force)?;
    let opts = RunOptions {
        threads: c.threads.map(usize::from),
        seed: c.seed,
        plain: false,
    };
    let bar = progress_bar(
        u64::from(sc.days()),
        c.quiet,
        "{spinner} {bar:40} day {pos}/{len}  {msg}  {elapsed} (eta {eta})",
    );
    let clock = Instant::now();
    let res = engine::run(&sc, &opts, &mut |day, _, agents| {
        if let Some(b) = &bar {
            b.set_position(u64::from(day));
            b.set_message(format!("{agents} agents"));
        }
    });
    let wall = clock.elapsed().as_secs_f64();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    output::write_tables(&staged.tmp, &sc, &res)?;
    present::draw(&staged.tmp)?;
    let mut manifest = Manifest::new("run", &sc, res.seed, res.threads);
    manifest.timed(res.agents, res.agent_days, wall);
    let rate = manifest.agent_days_per_second;
    let dir = staged.finish(manifest)?;

    if !c.quiet {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} agents, {} days, {:.2} s ({:.2e} agent-days/s, {} threads)",
            sc.name, res.agents, res.days, wall, rate, res.threads
        );
        for (i, p) in sc
            .places
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == PlaceKind::Crossing)
        {
            let v = |m| res.total(i, m) as f64 * sc.scale;
            let _ = writeln!(
                out,
                "  {:<32} attempts {:>9}  claims {:>9}  returned {:>8}  evaded {:>7}",
                p.name,
                v(Metric::Attempts),
                v(Metric::Claims),
                v(Metric::Returned),
                v(Metric::Evaded)
            );
        }
        let _ = writeln!(out, "wrote {}", dir.display());
        print_out(&out);
    }
    Ok(())
}

fn validate(a: ValidateArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = Scenario::load(&a.scenario)?;
    if sc.observed.is_empty() {
        return Err(Error::Invalid {
            path: sc.path.clone(),
            problems: vec!["declares no [[observed]] series to validate against (see the README, \"Validation and calibration\")".into()],
        });
    }
    let staged = output::stage(&target_dir(c, &sc, "-validate"), c.force)?;
    let seed = c.seed.unwrap_or(sc.seed);
    let pool = ensemble::pool(c.threads.map(usize::from));
    let bar = progress_bar(
        u64::from(a.replicates),
        c.quiet,
        "{spinner} {bar:40} replicate {pos}/{len}  {elapsed} (eta {eta})",
    );
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let clock = Instant::now();
    let reps: Vec<u32> = (0..a.replicates).collect();
    let sims = pool.install(|| {
        ensemble::map(
            &sc,
            seed,
            &reps,
            |_, res| {
                (
                    validation::simulated_points(&sc, res),
                    res.agents,
                    res.agent_days,
                )
            },
            &tick,
        )
    });
    let wall = clock.elapsed().as_secs_f64();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let agents = sims.iter().map(|s| s.1).sum();
    let agent_days = sims.iter().map(|s| s.2).sum();
    let points: Vec<Vec<Vec<f64>>> = sims.into_iter().map(|s| s.0).collect();
    let (rows, metrics) = validation::summarise(&sc, &points);
    validation::write(&staged.tmp, &sc, &rows, &metrics)?;
    present::draw(&staged.tmp)?;
    let mut manifest = Manifest::new("validate", &sc, seed, pool.current_num_threads());
    manifest.replicates = Some(a.replicates);
    manifest.timed(agents, agent_days, wall);
    let dir = staged.finish(manifest)?;
    if !c.quiet {
        let mut out = format!(
            "{}: {} replicates in {:.1} s\n",
            sc.name, a.replicates, wall
        );
        let _ = writeln!(
            out,
            "  {:<36} {:>9} {:>7} {:>10} {:>9} {:>11}",
            "series", "periods", "ARD", "RMSE", "r", "sim/obs"
        );
        for m in &metrics {
            let r = m.pearson_r.map_or("".into(), |r| format!("{r:.3}"));
            let _ = writeln!(
                out,
                "  {:<36} {:>9} {:>7.3} {:>10.1} {:>9} {:>11.3}",
                m.series, m.n_periods, m.ard, m.rmse, r, m.total_ratio
            );
        }
        let _ = writeln!(out, "wrote {}", dir.display());
        print_out(&out);
    }
    Ok(())
}

fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date((secs / 86_400) as i32)
}

fn calibrate_cmd(a: CalibrateArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = Scenario::load(&a.scenario)?;
    let bad = |problems: Vec<String>| Error::Invalid {
        path: a.scenario.clone(),
        problems,
    };
    let mut problems = Vec::new();
    let params: Vec<Param> = a
        .fit
        .iter()
        .filter_map(|f| Param::parse(f).map_err(|e| problems.push(e)).ok())
        .collect();
    let windows: Vec<_> = a
        .window
        .iter()
        .filter_map(|w| {
            calibrate::parse_window(w)
                .map_err(|e| problems.push(e))
                .ok()
        })
        .collect();
    if !problems.is_empty() {
        return Err(bad(problems));
    }
    let settings = Settings {
        params,
        targets: a.target.clone(),
        windows,
        budget: a.budget as usize,
        replicates: a.replicates,
        seed: c.seed.unwrap_or(sc.seed),
    };
    if let Some(f) = &a.fitted
        && f.exists()
        && !c.force
    {
        return Err(Error::Output {
            path: f.clone(),
            message: "already exists; pass --force to replace it".into(),
        });
    }
    let target = target_dir(c, &sc, "-calibrate");
    let staged = output::stage(&target, c.force)?;
    let pool = ensemble::pool(c.threads.map(usize::from));
    let bar = progress_bar(
        u64::from(a.budget),
        c.quiet,
        "{spinner} {bar:40} trial {pos}/{len}  {elapsed} (eta {eta})",
    );
    let clock = Instant::now();
    let cal = pool.install(|| {
        calibrate::calibrate(&sc, &settings, &|n| {
            if let Some(b) = &bar {
                b.set_position(n as u64);
            }
        })
    })?;
    let wall = clock.elapsed().as_secs_f64();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    // trials.csv: one row per parameter set.
    let path = staged.tmp.join("trials.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| Error::Output {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mut header = vec!["trial".to_string()];
    header.extend(settings.params.iter().map(|p| p.path.clone()));
    header.push("score".into());
    header.extend(settings.targets.iter().map(|t| format!("ard_{t}")));
    header.push("error".into());
    let csv_err = |e: csv::Error| Error::Output {
        path: path.clone(),
        message: e.to_string(),
    };
    w.write_record(&header).map_err(csv_err)?;
    for (i, t) in cal.trials.iter().enumerate() {
        let mut rec = vec![i.to_string()];
        rec.extend(t.values.iter().map(|v| v.to_string()));
        rec.push(t.score.to_string());
        rec.extend(t.ard.iter().map(|v| v.to_string()));
        rec.push(t.error.clone().unwrap_or_default());
        w.write_record(&rec).map_err(csv_err)?;
    }
    w.flush().map_err(|e| Error::Output {
        path: path.clone(),
        message: e.to_string(),
    })?;

    let best = &cal.trials[cal.best];
    let mut header = format!(
        "Calibrated by `northbound calibrate` (northbound {}) on {}.\n\
         Command: {}\n\
         Method: Nelder-Mead on the box of the fitted parameters, {} trials, {} replicates per trial\n\
         with common random numbers (seed {}); objective: the mean ARD of the targets over {}.\n\
         Best trial {}: objective {:.4} ({}).\n",
        env!("CARGO_PKG_VERSION"),
        today(),
        command_line(),
        cal.trials.len(),
        settings.replicates,
        settings.seed,
        settings
            .windows
            .iter()
            .map(|w| format!("{}..{}", w.0, w.1))
            .collect::<Vec<_>>()
            .join(" and "),
        cal.best,
        best.score,
        settings
            .targets
            .iter()
            .zip(&best.ard)
            .map(|(t, a)| format!("{t} ARD {a:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (p, v) in settings.params.iter().zip(&best.values) {
        let _ = writeln!(
            header,
            "Fitted: {} = {v} (range {}..{})",
            p.path, p.lo, p.hi
        );
    }
    let (fpath, folder) = match &a.fitted {
        None => (staged.tmp.join("fitted.toml"), target.clone()),
        Some(f) => (
            f.clone(),
            match f.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
        ),
    };
    let text = calibrate::fitted_text(&sc, &settings, &cal, &header, &folder)?;
    std::fs::write(&fpath, text).map_err(|e| Error::Output {
        path: fpath.clone(),
        message: e.to_string(),
    })?;
    let mut manifest = Manifest::new("calibrate", &sc, settings.seed, pool.current_num_threads());
    manifest.replicates = Some(settings.replicates);
    manifest.timed(0, 0, wall);
    let dir = staged.finish(manifest)?;
    if !c.quiet {
        let mut out = format!(
            "{}: {} trials in {:.1} s; best objective {:.4} (trial {})\n",
            sc.name,
            cal.trials.len(),
            wall,
            best.score,
            cal.best
        );
        for (p, v) in settings.params.iter().zip(&best.values) {
            let _ = writeln!(out, "  {} = {v}", p.path);
        }
        let _ = writeln!(out, "wrote {}", dir.display());
        print_out(&out);
    }
    Ok(())
}

fn compare_cmd(a: CompareArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = match &a.scenario {
        Some(p) => Scenario::load(p)?,
        None => Scenario::bundled_default()?,
    };
    let specs = compare::select(compare::design(&sc)?, &a.variants, &sc)?;
    let target = c
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join("compare"));
    let staged = output::stage(&target, c.force)?;
    let seed = c.seed.unwrap_or(sc.seed);
    let pool = ensemble::pool(c.threads.map(usize::from));
    let runs = specs.len() as u64 * u64::from(a.replicates);
    let bar = progress_bar(
        runs,
        c.quiet,
        "{spinner} {bar:40} run {pos}/{len} (variants x replicates)  {elapsed} (eta {eta})",
    );
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let clock = Instant::now();
    let series = staged.tmp.join("series.csv");
    let cmp = pool.install(|| compare::compare(&sc, &specs, a.replicates, seed, &series, &tick))?;
    let wall = clock.elapsed().as_secs_f64();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let dir = &staged.tmp;
    output::write_csv(&dir.join("summary.csv"), &cmp.summary)?;
    output::write_csv(&dir.join("effects.csv"), &cmp.effects)?;
    output::write_csv(&dir.join("overlay.csv"), &cmp.overlay)?;
    output::write_csv(&dir.join("variants.csv"), &cmp.variants)?;
    output::write_csv(&dir.join("policies.csv"), &cmp.policies)?;
    output::write_csv(&dir.join("places.csv"), &output::place_rows(&sc))?;
    let spath = dir.join("scenario.toml");
    std::fs::write(&spath, &sc.source).map_err(|e| Error::Output {
        path: spath.clone(),
        message: e.to_string(),
    })?;
    let mut manifest = Manifest::new("compare", &sc, seed, pool.current_num_threads());
    manifest.replicates = Some(a.replicates);
    manifest.variants = Some(specs.iter().map(|v| v.name.clone()).collect());
    manifest.timed(cmp.agents, cmp.agent_days, wall);
    let mpath = dir.join("manifest.json");
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Output {
        path: mpath.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&mpath, json).map_err(|e| Error::Output {
        path: mpath.clone(),
        message: e.to_string(),
    })?;
    present::draw(dir)?;
    let out = staged.finish(manifest)?;
    if !c.quiet {
        let mut text = format!(
            "{}: {} variants x {} replicates in {:.1} s\n",
            sc.name,
            specs.len(),
            a.replicates,
            wall
        );
        for e in cmp.effects.iter().filter(|e| e.effect == "diff_roxham") {
            let _ = writeln!(
                text,
                "  {:<16} Roxham Road attempts vs neither: {:+.0} (90% interval {:+.0} to {:+.0})",
                e.variant, e.mean, e.p05, e.p95
            );
        }
        let _ = writeln!(text, "report: {}", out.join("report.html").display());
        print_out(&text);
    }
    Ok(())
}

fn plot_cmd(dir: &Path) -> Result<(), Error> {
    let drawn = present::draw(dir)?;
    print_out(&format!(
        "redrew {} in {}\n",
        drawn.join(", "),
        dir.display()
    ));
    Ok(())
}

fn check(path: &Path) -> Result<(), Error> {
    let sc = Scenario::load(path)?;
    // Every variant must be a valid scenario too.
    for v in &sc.variants {
        sc.variant(&v.name)?;
    }
    let mut out = String::new();
    let _ = writeln!(out, "{} ({}): valid", sc.name, path.display());
    if !sc.description.is_empty() {
        let _ = writeln!(out, "  {}", sc.description.trim());
    }
    let _ = writeln!(
        out,
        "window   {} to {} ({} days), seed {}, {} people per agent",
        sc.start,
        sc.end,
        sc.days(),
        sc.seed,
        sc.scale
    );
    let _ = writeln!(out, "places   {}", sc.places.len());
    for p in &sc.places {
        let kind = match (p.kind, p.crossing) {
            (PlaceKind::Crossing, Some(CrossingKind::Irregular)) => {
                "crossing (irregular)".to_string()
            }
            (PlaceKind::Crossing, Some(CrossingKind::Port)) if !p.stca => {
                "crossing (port, no STCA)".to_string()
            }
            (PlaceKind::Crossing, Some(CrossingKind::Port)) => "crossing (port)".to_string(),
            (k, _) => northbound::scenario::kind_name(k).to_string(),
        };
        let _ = writeln!(
            out,
            "  {:<34} {:<24} {} {}",
            p.name, kind, p.country, p.region
        );
    }
    let _ = writeln!(out, "routes   {}", sc.routes.len());
    for r in &sc.routes {
        let cap = r
            .capacity
            .map_or(String::new(), |c| format!(", {c} seats/day"));
        let visa = if r.requires_visa { ", visa only" } else { "" };
        let _ = writeln!(
            out,
            "  {} -> {}  ({:.1} days, ${:.0}, risk {:.2}{cap}{visa})",
            sc.places[r.from as usize].name,
            sc.places[r.to as usize].name,
            r.travel.mean(),
            r.cost,
            r.risk
        );
    }
    let _ = writeln!(out, "policies {}", sc.policies.len());
    for p in &sc.policies {
        let (s, e) = p.rule.dates();
        let dates = match e {
            Some(e) => format!("{s} to {e}"),
            None => format!("from {s}"),
        };
        let _ = writeln!(
            out,
            "  {:<20} {:<4} {}",
            p.rule.name(),
            if p.enabled { "on" } else { "off" },
            dates
        );
    }
    let _ = writeln!(
        out,
        "people   about {:.0} expected, as {:.0} agents ({} inflows, {} nationalities)",
        sc.expected_agents() * sc.scale,
        sc.expected_agents(),
        sc.inflows.len(),
        sc.nationalities.len()
    );
    if !sc.observed.is_empty() {
        let _ = writeln!(out, "observed {}", sc.observed.len());
        for o in &sc.observed {
            let span = match (o.points.first(), o.points.last()) {
                (Some(a), Some(b)) => format!("{} to {}", a.label(), b.label()),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {:<36} {:>3} periods, {span}",
                o.name,
                o.points.len()
            );
        }
    }
    if !sc.variants.is_empty() {
        let _ = writeln!(out, "variants {}", sc.variants.len());
        for v in &sc.variants {
            let set: Vec<String> = v
                .set
                .iter()
                .map(|(p, x)| format!("{p} = {}", x.to_string().trim()))
                .collect();
            let _ = writeln!(out, "  {:<20} {}", v.name, set.join(", "));
        }
    }
    print_out(&out);
    Ok(())
}

/// The command as a user would type it: `northbound` and the arguments, quoted where a
/// shell needs it.
fn command_line() -> String {
    let quote = |a: String| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c))
        {
            a
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    std::iter::once("northbound".to_string())
        .chain(std::env::args().skip(1).map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prints to stdout; a closed pipe (`northbound check ... | head`) is not an error.
fn print_out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
