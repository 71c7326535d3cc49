//! The `northbound` command line: the only place that knows about arguments, progress
//! bars and exit codes. Each command reads as the pipeline: load → run → write → plot.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use northbound::agent::Metric;
use northbound::date::Month;
use northbound::engine::{self, RunOptions};
use northbound::output::{self, Manifest};
use northbound::policy::Rule;
use northbound::scenario::{CrossingKind, PlaceKind};
use northbound::{Scenario, plot};
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
other dated rules a scenario file switches on.",
    after_help = "Examples:\n  northbound check scenarios/minimal.toml\n  northbound run scenarios/corridor-2022-2024.toml\n  northbound run scenarios/minimal.toml --seed 7 --out /tmp/try --force"
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
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Output folder [default: output/<scenario name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Random seed, overriding the scenario's.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    seed: Option<u64>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Replace the output folder if it exists.
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Check(a) => check(&a.scenario),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: RunArgs) -> Result<(), northbound::Error> {
    let sc = Scenario::load(&a.scenario)?;
    let target = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&sc.name));
    let staged = output::stage(&target, a.force)?;
    let opts = RunOptions {
        threads: a.threads.map(usize::from),
        seed: a.seed,
        plain: false,
    };

    let bar = if !a.quiet && std::io::stderr().is_terminal() {
        let b = ProgressBar::new(u64::from(sc.days()));
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} {bar:40} day {pos}/{len}  {msg}  {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
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

    let monthly = output::write_tables(&staged.tmp, &sc, &res)?;
    let places: Vec<(String, String, String)> = output::place_rows(&sc)
        .into_iter()
        .map(|p| {
            (
                p.place.to_string(),
                p.kind.to_string(),
                p.crossing.to_string(),
            )
        })
        .collect();
    for (stem, fig) in plot::run_figures(&monthly, &places, &markers(&sc)) {
        plot::save(&fig, &staged.tmp, &stem)?;
    }
    let mut files: Vec<String> = std::fs::read_dir(&staged.tmp)
        .map_err(|e| northbound::Error::Output {
            path: staged.tmp.clone(),
            message: e.to_string(),
        })?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    files.push("manifest.json".into());
    files.sort();
    let manifest = Manifest {
        northbound_version: env!("CARGO_PKG_VERSION"),
        scenario: a.scenario.display().to_string(),
        scenario_name: sc.name.clone(),
        scenario_sha256: output::sha256_hex(&sc.source),
        seed: res.seed,
        threads: res.threads,
        start: sc.start.to_string(),
        end: sc.end.to_string(),
        scale: sc.scale,
        agents: res.agents,
        agent_days: res.agent_days,
        wall_seconds: wall,
        agent_days_per_second: res.agent_days as f64 / wall.max(1e-9),
        files,
    };
    let mpath = staged.tmp.join("manifest.json");
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| northbound::Error::Output {
        path: mpath.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&mpath, json + "\n").map_err(|e| northbound::Error::Output {
        path: mpath.clone(),
        message: e.to_string(),
    })?;
    let dir = staged.commit()?;

    if !a.quiet {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} agents, {} days, {:.2} s ({:.2e} agent-days/s, {} threads)",
            sc.name, res.agents, res.days, wall, manifest.agent_days_per_second, res.threads
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

/// Month markers for the plots: the start (and end) of each enabled policy in the window.
fn markers(sc: &Scenario) -> Vec<(Month, String)> {
    let mut out = Vec::new();
    for p in sc.policies.iter().filter(|p| p.enabled) {
        let (start, end) = p.rule.dates();
        let label = match &p.rule {
            Rule::StcaPorts { .. } => continue,
            Rule::StcaExtension { .. } => "STCA extension",
            Rule::ResettlementQuota(_) => "quota",
            Rule::DirectBack { .. } => "direct-back",
            Rule::Busing(_) => "busing",
            Rule::ShelterLimit { .. } => "shelter limit",
        };
        if start >= sc.start {
            out.push((start.month(), label.to_string()));
        }
        if let Some(e) = end.filter(|e| *e <= sc.end) {
            out.push((e.month(), format!("{label} ends")));
        }
    }
    out
}

fn check(path: &Path) -> Result<(), northbound::Error> {
    let sc = Scenario::load(path)?;
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
            (PlaceKind::Crossing, Some(CrossingKind::Port)) => "crossing (port)".to_string(),
            (k, _) => output::kind_name(k).to_string(),
        };
        let _ = writeln!(
            out,
            "  {:<34} {:<22} {} {}",
            p.name, kind, p.country, p.region
        );
    }
    let _ = writeln!(out, "routes   {}", sc.routes.len());
    for r in &sc.routes {
        let cap = r
            .capacity
            .map_or(String::new(), |c| format!(", {c} seats/day"));
        let _ = writeln!(
            out,
            "  {} -> {}  ({:.1} days, ${:.0}, risk {:.2}{cap})",
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
        "agents   about {:.0} expected ({} inflows, {} nationalities)",
        sc.expected_agents(),
        sc.inflows.len(),
        sc.nationalities.len()
    );
    print_out(&out);
    Ok(())
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
