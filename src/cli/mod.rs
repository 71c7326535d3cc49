//! The `northbound` command line: the only place that knows about arguments, progress
//! bars and exit codes. Each command, in its own file, parses its arguments, calls the
//! library in the order of the pipeline (load → run → write → draw) and reports.

mod calibrate;
mod check;
mod compare;
mod forecast;
mod init;
mod merge;
mod plot;
mod run;
mod sweep;
mod validate;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use northbound::experiment::posterior::{Posterior, Uncertainty};
use northbound::output::{self, Manifest};
use northbound::{Error, Scenario};
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "northbound",
    version = env!("NORTHBOUND_VERSION_TEXT"),
    about = "Simulate asylum-seeker flows from the US southern border to the Quebec crossings",
    long_about = "northbound moves synthetic migrants from the US southern border through New York \
to the Quebec crossings (Roxham Road and the official ports such as Lacolle), day by day, \
under the Safe Third Country Agreement, its 2023 extension, the resettlement quota and the \
other dated rules a scenario file switches on.\n\n\
Typical session: `check` a scenario, `run` it, `validate` it against the observed \
statistics it declares, `calibrate` its uncertain parameters (a point, or a posterior with \
--method abc), `compare` the policies (over the posterior with --posterior), `forecast` \
the months after the STCA extension, and `sweep` parameters to see which drive the outcomes \
(sharded over a Slurm job array, then `merge`d).",
    after_help = "The main job, the policy experiment (the 2 x 2 of the STCA extension and the \
resettlement quota, and the variants the scenario adds), on the bundled default scenario:\n  \
northbound compare                # tables, figures and report.html in output/corridor-2017-2024-compare/\n\n\
Results go to output/<scenario name>[-<command>]/, where a re-run replaces its own earlier \
result; --out DIR writes elsewhere (and replaces an earlier result there only with --force). \
Every result folder holds its scenario.toml and the data files it read, so it runs again \
anywhere.\n\n\
Examples:\n  northbound compare --replicates 50\n  northbound compare scenarios/minimal.toml --replicates 5\n  \
northbound init my-study                 # the default scenario and its data, to edit\n  \
northbound run my-study/corridor-2017-2024.toml\n  northbound check scenarios/minimal.toml\n  \
northbound validate scenarios/corridor-2017-2024.toml --replicates 20\n  northbound forecast --replicates 50\n  \
northbound sweep scenarios/minimal.toml --design sobol --vary behaviour.give_up_rate=0.001..0.004 --vary policies.stca_extension.window_days=7..30\n  \
northbound plot output/corridor-2017-2024-compare\n  \
northbound run scenarios/minimal.toml --seed 7 --out /tmp/try --force"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario and write CSV tables, plots and a manifest.
    #[command(
        after_help = "Writes daily.csv, monthly.csv, summary.csv, places.csv, policies.csv, \
states.csv, manifest.json and the plots crossings.{png,svg} and outcomes.{png,svg} into\n\
output/<scenario name>/ (or --out). The folder is written whole or not at all.\n\n\
Examples:\n  northbound run scenarios/corridor-2017-2024.toml\n  northbound run scenarios/minimal.toml --seed 7 --threads 1 --out /tmp/minimal --force"
    )]
    Run(run::RunArgs),
    /// Validate a scenario and print what it holds.
    #[command(after_help = "Example:\n  northbound check scenarios/corridor-2017-2024.toml")]
    Check(check::CheckArgs),
    /// Compare replicates of a scenario with the observed series it declares.
    #[command(
        after_help = "The scenario declares its observed series with [[observed]] tables. \
Writes validation.csv\n(series,period,observed,sim_mean,sim_p05,sim_p50,sim_p95,verification,uncertainty), \
metrics.csv\n(series,n_periods,ard,mape,rmse,pearson_r,total_ratio), observed.csv and policies.csv \
(what\nthe figures are drawn from), one overlay-<series>.{png,svg} per series and manifest.json\n\
into output/<scenario name>-validate/ (or --out).\n\n\
The 90% intervals cover the run-to-run noise (uncertainty: replicates); with --posterior \
FILE, replicate r runs with the r-th particle drawn from a calibrated posterior, and they \
cover the parameters' uncertainty too (uncertainty: parameters and replicates).\n\n\
Examples:\n  northbound validate scenarios/corridor-2017-2024.toml --replicates 20\n  \
northbound validate scenarios/corridor-2017-2024.toml --replicates 40 \\\n    --posterior output/corridor-2017-2024-calibrate/posterior.csv"
    )]
    Validate(validate::ValidateArgs),
    /// Fit scenario parameters to observed series: Nelder-Mead (a point) or ABC-SMC (a posterior).
    #[command(
        after_help = "Each --fit names a parameter by its path in the scenario file (or tied \
paths, PATH1,PATH2=LO..HI, that take one value) and its range; each --target names an \
observed series; only periods inside --window count, and runs stop at the end of the last \
window month. The objective (the distance, for abc) is the mean ARD of the targets (mean \
over periods of |sim - obs| / obs, with sim the mean of the replicates, which have the same \
seeds for every parameter set), weighted by --target SERIES=WEIGHT where given (default 1): \
a series of many months and a single figure otherwise count alike.\n\n\
--method nelder-mead (the default) stops when the simplex has converged or --budget trials \
are spent, and says which; it writes fitted.toml (the scenario with the fitted values, \
saying how they were fitted), trials.csv (every parameter set tried, with its score), \
parameters.csv (the --fit ranges), trials.{png,svg} and manifest.json (with stopped and \
stopped_because).\n\
--method abc runs ABC-SMC from a uniform prior on the --fit box: generation 0 keeps the best \
--particles of a Latin hypercube of --prior-draws; each of --generations more lowers the \
tolerance to the --alpha quantile of the previous distances, proposing from the previous \
population with a Gaussian kernel. It writes posterior.csv (particle, weight, parameters, \
distance, each target's ARD), generations.csv, parameters.csv, posterior.{png,svg}, \
generations.{png,svg}, fitted.toml (the posterior's best particle) and manifest.json, and \
prints each parameter's posterior mean and 90% interval. Give \
posterior.csv to validate or compare with --posterior.\n\
Output: output/<scenario name>-calibrate/ (or --out).\n\n\
Examples:\n  northbound calibrate scenarios/corridor-2017-2024.toml \\\n    --fit \"inflows[0].share=0.01..0.08\" --fit \"places[\\\"New York City\\\"].move_rate=0.005..0.1\" \\\n    --target qc_interceptions_monthly --window 2017-03..2023-02 --budget 60\n  \
northbound calibrate scenarios/corridor-2017-2024.toml --method abc --particles 100 --generations 3 \\\n    --fit \"inflows[0].share=0.02..0.2\" --fit \"behaviour.beliefs.news=0.05..1\" \\\n    --target qc_interceptions_monthly --window 2017-03..2023-02 --replicates 2"
    )]
    Calibrate(calibrate::CalibrateArgs),
    /// The policy experiment: variants x replicates, effects with 90% intervals, plots, report.
    #[command(
        after_help = "Without a scenario, runs the bundled default (corridor-2017-2024, built into the binary). The default design is the 2 x 2 of policies.stca_extension.enabled x policies.resettlement_quota.enabled: variants both, extension_only, quota_only and neither; [[variant]] tables in the scenario add more. Replicate r of every variant uses the same seed (common random numbers), and with --posterior the same particle of the posterior, the variant's overrides on top.

Writes series.csv (variant,replicate,month,place,metric,value), summary.csv (variant,month,place,metric,mean,p05,p50,p95,uncertainty), effects.csv (each variant against neither), overlay.csv, variants.csv, policies.csv, places.csv, scenario.toml, the figures (PNG and SVG), report.html and manifest.json into output/<scenario name>-compare/ under the current folder, where <scenario name> is the name in the scenario's [scenario] table, not its file name (output/corridor-2017-2024-compare/ for the bundled default). Running it again replaces its own earlier result there, and says so. --out DIR writes to DIR instead and replaces an earlier result there only with --force; either way only a folder northbound wrote that holds nothing else is replaced.

The intervals cover the run-to-run noise (uncertainty: replicates), or with --posterior the parameters' uncertainty too (parameters and replicates).

Examples:
  northbound compare
  northbound compare scenarios/corridor-2017-2024.toml --replicates 50 --variants both,neither
  northbound compare scenarios/corridor-2017-2024.toml --replicates 40 --posterior output/corridor-2017-2024-calibrate/posterior.csv
  northbound plot output/corridor-2017-2024-compare"
    )]
    Compare(compare::CompareArgs),
    /// Forecast the months from the STCA extension on, over replicates and a posterior.
    #[command(
        after_help = "Runs R replicates of the whole window and reports the months from --from on (by default the month the scenario's [policies.stca_extension] starts, 2023-03 in the bundled scenarios, which are fitted to data up to 2023-02 only: a blind forecast, conditional on the southern-border inflows the scenario reads; --from 2023-04 leaves out March's days before the extension). Replicate r uses the seed the other commands give it and, with --posterior, the parameter set drawn r-th from the posterior (systematic resampling by weight, keyed by the seed); the results are the same whatever --threads.

Writes into output/<scenario name>-forecast/ (or --out):
  forecast.csv        month,place,metric,mean,p05,p50,p95: every month from --from, every crossing and the aggregates \"All irregular crossings\" and \"All land ports\" (ports where the STCA applies), metrics attempts, intercepted, claims, returned; quantiles over the replicates (type 7)
  replicates.csv      replicate,particle,month,place,metric,value: the values behind forecast.csv
  identification.csv  with --posterior: for a few totals (attempts at Roxham Road, claims at land ports, returns to the US, interceptions between ports in the first 12 months), their mean, p05 and p95, the R² of a regression on every parameter, and per parameter the Spearman rank correlation, the standardised coefficient and its share of the explained variance
  forecast_attempts.png/.svg, observed.csv (observed months before --from, shown as context), policies.csv, places.csv, scenario.toml, posterior.csv (a copy), manifest.json

Examples:
  northbound forecast
  northbound forecast scenarios/corridor-2017-2024.toml --replicates 20
  northbound forecast scenarios/corridor-2017-2024.toml --posterior output/corridor-2017-2024-calibrate/posterior.csv
  northbound forecast scenarios/minimal.toml --from 2023-04 --replicates 5 --out /tmp/fc --force
  northbound plot output/corridor-2017-2024-forecast"
    )]
    Forecast(forecast::ForecastArgs),
    /// Sweep parameters over a design (grid, Latin hypercube, Sobol, Morris): outcomes, sensitivity, figures, report; resumable and shardable.
    #[command(
        after_help = "Each --vary names a parameter by its path in the scenario file (as [[variant]] and calibrate --fit do; tied paths P1,P2=... take one value) with a range LO..HI or a list V1,V2,...; a [sweep] table in the scenario may declare the same (vary = { \"PATH\" = \"LO..HI\", \"PATH2\" = [7, 14, 30] }, design, points, levels, replicates), and the options override it. Every point runs R replicates whose seeds are the same at every point (common random numbers), so a point's result depends only on the scenario, the seed, the point and the replicate: not on --threads, the shards or the points that ran before.

Designs:
  grid    every combination of the levels: lists as given, a range as --points evenly spaced levels (5)
  lhs     a Latin hypercube of --points points (100)
  sobol   Saltelli's design for first-order (S1) and total (ST) Sobol indices: --points N base rows (64; best a power of two) give N x (k + 2) points for k parameters (k up to 16)
  morris  --points r trajectories (10) of elementary effects on a grid of --levels levels (4): r x (k + 1) points
  --points-from FILE runs the points of a file instead: the particles of a posterior.csv (how a posterior ensemble is run on a cluster), or a CSV of parameter columns

Writes into output/<scenario name>-sweep/ (or --out):
  points.csv       point, one column per parameter (and weight, from a posterior)
  outcomes.csv     point, replicate, the parameters, then roxham_attempts_before_extension, roxham_attempts_after_extension, land_port_attempts, land_port_claims, other_irregular_attempts, evasions, stayed_in_us, resettled and ard:<series> for each [[observed]] series
  series.csv       point,replicate,month,place,metric,value (or with --series summary: point,month,place,metric,mean,p05,p50,p95)
  sensitivity.csv  outcome,parameter,method,index,value,p05,p95: sobol S1 and ST, morris mu_star, mu and sigma, else spearman rho; over the points' means, with 90% bootstrap intervals
  sensitivity.png/.svg, scatter-<outcome>.png/.svg, report.html, sweep.json, places.csv, policies.csv, scenario.toml, manifest.json (with runs per second)

Resume: finished points are recorded one file each in <out>.unfinished/ as they finish. A sweep stopped by Ctrl-C, SIGTERM or a dead node is resumed by the same command, which runs only the points not yet finished and ends with the same files as a run never stopped; the folder is removed when the result is in place. It is refused if it holds anything else, or another sweep's points (unless --force).

Slurm: --shard I/N runs the points p with p mod N = I - 1 into <out>.shard-I-of-N; inside a job array (sbatch --array=1-N) the shard is read from SLURM_ARRAY_TASK_ID, _MIN, _MAX and _COUNT. `northbound merge` then writes the result, byte for byte the CSVs one machine writes. scripts/slurm/ has the batch scripts.

Examples:
  northbound sweep scenarios/minimal.toml --vary 'places[\"Roxham Road\"].detection=0.8..0.99' --vary policies.stca_extension.window_days=7,14,30
  northbound sweep scenarios/minimal.toml --design sobol --points 64 --replicates 2 \\
    --vary 'places[\"Roxham Road\"].detection=0.8..0.99' --vary behaviour.give_up_rate=0.001..0.004 --vary policies.stca_extension.window_days=7..30
  northbound sweep scenarios/minimal.toml --design morris --points 20 --vary behaviour.wait_growth=0.2..1 --vary behaviour.max_attempts=1..4
  northbound sweep scenarios/corridor-2017-2024.toml --points-from output/corridor-2017-2024-calibrate/posterior.csv --replicates 2
  northbound sweep scenarios/minimal.toml --design lhs --points 200 --vary behaviour.give_up_rate=0.001..0.004 --shard 3/8 --out results/sw"
    )]
    Sweep(sweep::SweepArgs),
    /// Merge the shard folders of a sweep into the result one machine would have written.
    #[command(
        after_help = "Checks that the folders are shards of one sweep (the same scenario, seed, design, points, replicates and shard count), each shard once and none missing, and writes the sweep's result: points.csv, outcomes.csv, series.csv and sensitivity.csv byte for byte as `northbound sweep` without --shard writes them, with the figures, report.html and manifest.json. By default into the shards' name without .shard-I-of-N.

Examples:
  northbound merge results/sw.shard-*-of-8
  northbound merge a/shard-1 b/shard-2 --out results/sw --force"
    )]
    Merge(merge::MergeArgs),
    /// Write a scenario and every data file it reads into a folder, to read, edit and run.
    #[command(
        after_help = "Writes DIR/<scenario>.toml and, under DIR/data/, every CSV file it \
reads, its paths rewritten to those copies, so that the folder runs wherever it is moved \
(every result folder holds its scenario the same way, as scenario.toml). SCENARIO is a file, \
or the name of a scenario built into northbound: corridor-2017-2024 (the default) or minimal.

Examples:
  northbound init my-study
  northbound run my-study/corridor-2017-2024.toml
  northbound init small minimal
  northbound init copy output/corridor-2017-2024-compare/scenario.toml"
    )]
    Init(init::InitArgs),
    /// Redraw every figure (and the report) of an earlier run, validation, calibration, comparison, forecast or sweep from its CSVs.
    #[command(after_help = "Example:
  northbound plot output/corridor-2017-2024-compare")]
    Plot(plot::PlotArgs),
}

#[derive(Args, Debug)]
pub struct Common {
    /// Output folder [default: output/<scenario name> for run, output/<scenario name>-<command>
    /// for the others; a re-run replaces its own earlier result there].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Random seed, overriding the scenario's.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Replace the --out folder if northbound wrote it and it holds nothing else (the default
    /// folders under output/ are replaced so without it).
    #[arg(long)]
    pub force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub memory: MemoryArg,
}

#[derive(Args, Debug)]
pub struct MemoryArg {
    /// Memory the command may use, in GiB [default: what the system has available]. A
    /// command whose estimated peak is larger is refused before it starts.
    #[arg(long = "memory", value_name = "GIB", value_parser = parse_gib)]
    pub gib: Option<u64>,
}

impl MemoryArg {
    /// Refuses `work` if its estimated peak memory is more than allowed; the estimate.
    fn ensure(
        &self,
        sc: &northbound::Scenario,
        work: northbound::experiment::resources::Work,
        threads: Option<usize>,
    ) -> Result<u64, northbound::Error> {
        let threads = threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        northbound::experiment::resources::ensure(sc, work, threads, self.gib)
    }
}

/// A number of GiB above 0, as bytes.
fn parse_gib(s: &str) -> Result<u64, String> {
    match s.trim().parse::<f64>() {
        Ok(g) if g.is_finite() && g > 0.0 => Ok((g * f64::from(1u32 << 30)) as u64),
        _ => Err(format!(
            "'{s}': expected a number of GiB above 0, e.g. 16 or 0.5"
        )),
    }
}

/// `--posterior FILE`, for the commands that run replicates.
#[derive(Args, Debug)]
pub struct PosteriorArg {
    /// A posterior.csv written by `calibrate --method abc`: replicate r then runs with the
    /// particle drawn r-th by weight (the same in every variant) and its usual seed, so that
    /// the intervals cover the parameters' uncertainty as well as the run-to-run noise. Its
    /// columns must be parameter paths of this scenario.
    #[arg(long, value_name = "FILE")]
    pub posterior: Option<PathBuf>,
}

impl PosteriorArg {
    /// The posterior, read and checked against the scenario, if one was given.
    pub fn load(&self, sc: &Scenario) -> Result<Option<Posterior>, Error> {
        let Some(path) = &self.posterior else {
            return Ok(None);
        };
        let p = Posterior::read(path)?;
        p.check(sc)?;
        Ok(Some(p))
    }
}

/// Records in a manifest what the intervals cover, and the posterior by path and SHA-256;
/// copies the posterior into the result folder `dir` as `posterior.csv`, so that the folder
/// holds everything its runs read.
pub fn record_uncertainty(
    m: &mut Manifest,
    posterior: Option<&Posterior>,
    dir: &Path,
) -> Result<(), Error> {
    m.uncertainty = Some(Uncertainty::of(posterior).as_str().into());
    if let Some(p) = posterior {
        m.posterior = Some(p.path.display().to_string());
        m.posterior_sha256 = Some(output::sha256_hex(&p.bytes));
        let copy = dir.join("posterior.csv");
        std::fs::write(&copy, &p.bytes).map_err(|source| Error::Write { path: copy, source })?;
    }
    Ok(())
}

impl Common {
    /// Stages the output folder: `--out DIR`, which replaces an earlier result only with
    /// `--force`; else `output/<name>`, northbound's own folder, where a re-run replaces its
    /// own earlier result. Either way only a folder northbound wrote that holds nothing else
    /// is ever replaced (`output::stage`).
    fn stage(&self, name: &str) -> Result<output::Staged, Error> {
        match &self.out {
            Some(dir) => output::stage(dir, self.force),
            None => output::stage(&Path::new("output").join(name), true),
        }
    }

    /// Where a result named `name` goes, and whether an earlier result there may be replaced:
    /// `--out DIR` with `--force`, else `output/<name>`, northbound's own folder.
    fn target(&self, name: &str) -> (PathBuf, bool) {
        match &self.out {
            Some(dir) => (dir.clone(), self.force),
            None => (Path::new("output").join(name), true),
        }
    }

    /// Finishes a staged folder ([`finish`]).
    fn finish(&self, staged: output::Staged, manifest: Manifest) -> Result<PathBuf, Error> {
        finish(staged, manifest, self.quiet)
    }

    fn threads(&self) -> Option<usize> {
        self.threads.map(usize::from)
    }
}

/// When the command started, for its manifest.
static STARTED: std::sync::OnceLock<std::time::SystemTime> = std::sync::OnceLock::new();

/// Finishes a staged folder (its manifest listing every file, with when the command
/// started) and moves it into place; says so when it replaces an earlier result.
fn finish(staged: output::Staged, mut manifest: Manifest, quiet: bool) -> Result<PathBuf, Error> {
    stamp(&mut manifest);
    let replaces = staged.replaces();
    let dir = staged.finish(manifest)?;
    if replaces && !quiet {
        print_out(&format!(
            "{}: replaced the earlier result there\n",
            dir.display()
        ));
    }
    Ok(dir)
}

/// Records in a manifest when the command started.
fn stamp(manifest: &mut Manifest) {
    manifest.started = STARTED
        .get()
        .map(|t| northbound::util::date::Date::timestamp(*t));
}

pub fn main() -> ExitCode {
    STARTED.get_or_init(std::time::SystemTime::now);
    let cli = Cli::parse();
    if let Err(e) = check_environment() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    on_interrupt();
    let result = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Check(a) => check::check(&a),
        Command::Validate(a) => validate::validate(a),
        Command::Calibrate(a) => calibrate::calibrate(a),
        Command::Compare(a) => compare::compare(a),
        Command::Forecast(a) => forecast::forecast(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => merge::merge(a),
        Command::Init(a) => init::init(&a),
        Command::Plot(a) => plot::plot(&a.dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The environment variables that tune the engine, checked before anything runs: a value
/// the engine would not understand is refused rather than taken for the default.
fn check_environment() -> Result<(), String> {
    let var = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    if let Some(v) = var("NORTHBOUND_PARALLEL_FROM")
        && v.trim().parse::<usize>().is_err()
    {
        return Err(format!(
            "environment variable NORTHBOUND_PARALLEL_FROM = {v:?}: expected a whole number of \
             agents (a day with fewer agents held is stepped on one thread; unset, 65536)"
        ));
    }
    if let Some(v) = var("NORTHBOUND_SIMD")
        && v != "off"
        && v != "on"
    {
        return Err(format!(
            "environment variable NORTHBOUND_SIMD = {v:?}: expected \"off\" (the scalar code) or \
             \"on\" (the default: the wide loops where the CPU has them)"
        ));
    }
    Ok(())
}

/// On Ctrl-C (SIGINT) or SIGTERM: removes the result folder being written, says so in one
/// line and exits with 128 + the signal's number (130, 143), as a shell would report it.
fn on_interrupt() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            let removed = northbound::output::interrupted();
            let what = match removed.as_slice() {
                [] => "nothing was written".to_string(),
                paths => format!(
                    "removed the unfinished {}",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            // A progress bar may hold the line: start a new one.
            let start = if std::io::stderr().is_terminal() {
                "\n"
            } else {
                ""
            };
            let kept = KEPT
                .lock()
                .ok()
                .and_then(|k| k.clone())
                .map_or(String::new(), |k| format!("; {k}"));
            eprintln!("{start}northbound: interrupted ({name}); {what}{kept}");
            std::process::exit(128 + signal);
        }
    });
}

/// What an interrupted command keeps for the next run, said in its last line.
static KEPT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Sets (or clears) what an interruption keeps, for its message.
fn keep_on_interrupt(note: Option<String>) {
    if let Ok(mut k) = KEPT.lock() {
        *k = note;
    }
}

/// A progress bar on stderr when it is a terminal and not `--quiet`; else nothing.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(len: u64, quiet: bool, template: &str) -> Progress {
        Progress((!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(len);
            b.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            b
        }))
    }

    fn set(&self, pos: u64) {
        if let Some(b) = &self.0 {
            b.set_position(pos);
        }
    }

    /// Starts from `pos` done earlier: the rate and the ETA count only what follows.
    fn resume(&self, pos: u64) {
        if let Some(b) = &self.0 {
            b.set_position(pos);
            b.reset_eta();
        }
    }

    fn set_length(&self, len: u64) {
        if let Some(b) = &self.0 {
            b.set_length(len);
        }
    }

    fn inc(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    fn message(&self, message: String) {
        if let Some(b) = &self.0 {
            b.set_message(message);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// Runs `work` and returns what it gave with its wall time in seconds, the progress bar
/// cleared.
fn timed<T>(bar: &Progress, work: impl FnOnce() -> T) -> (T, f64) {
    let clock = Instant::now();
    let out = work();
    let wall = clock.elapsed().as_secs_f64();
    bar.finish();
    (out, wall)
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
