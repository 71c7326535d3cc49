//! `northbound check`: validate a scenario (and every variant it declares) and print what it
//! holds.

use super::print_out;
use clap::Args;
use northbound::experiment::resources::{self, Work};
use northbound::scenario::{CrossingKind, PlaceKind, kind_name};
use northbound::{Error, Scenario};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Worker threads a run would use [default: one per core] (for the memory estimate).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub memory: super::MemoryArg,
}

pub fn check(a: &CheckArgs) -> Result<(), Error> {
    let path = a.scenario.as_path();
    // Loading validates the variants too, and a run's memory is checked as `run` checks
    // it: what check accepts, every command runs.
    let sc = Scenario::load(path)?;
    let memory = a
        .memory
        .ensure(&sc, Work::Run, a.threads.map(usize::from))?;
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
    places(&mut out, &sc);
    routes(&mut out, &sc);
    policies(&mut out, &sc);
    let _ = writeln!(
        out,
        "people   about {:.0} expected, as {:.0} agents ({} inflows, {} nationalities)",
        sc.expected_agents() * sc.scale,
        sc.expected_agents(),
        sc.inflows.len(),
        sc.nationalities.len()
    );
    let _ = writeln!(
        out,
        "memory   about {} at the peak of a run ({})",
        resources::human(memory),
        match (a.memory.gib, resources::available()) {
            (Some(g), _) => format!("{} allowed by --memory", resources::human(g)),
            (None, Some(v)) => format!("{} available", resources::human(v)),
            (None, None) => "what is available is not known".into(),
        }
    );
    observed(&mut out, &sc);
    variants(&mut out, &sc);
    sweep(&mut out, &sc);
    print_out(&out);
    Ok(())
}

fn places(out: &mut String, sc: &Scenario) {
    let _ = writeln!(out, "places   {}", sc.places.len());
    for p in &sc.places {
        let kind = match (p.kind, p.crossing) {
            (PlaceKind::Crossing, Some(CrossingKind::Irregular)) => "crossing (irregular)",
            (PlaceKind::Crossing, Some(CrossingKind::Port)) if !p.stca => {
                "crossing (port, no STCA)"
            }
            (PlaceKind::Crossing, Some(CrossingKind::Port)) => "crossing (port)",
            (k, _) => kind_name(k),
        };
        let _ = writeln!(
            out,
            "  {:<34} {:<24} {} {}",
            p.name, kind, p.country, p.region
        );
    }
}

fn routes(out: &mut String, sc: &Scenario) {
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
}

fn policies(out: &mut String, sc: &Scenario) {
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
}

fn observed(out: &mut String, sc: &Scenario) {
    if sc.observed.is_empty() {
        return;
    }
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

fn variants(out: &mut String, sc: &Scenario) {
    if sc.variants.is_empty() {
        return;
    }
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

/// The `[sweep]` table, as `northbound sweep SCENARIO` would run it, each `--vary` quoted
/// for a POSIX shell so that it can be pasted onto a command line.
fn sweep(out: &mut String, sc: &Scenario) {
    let Some(t) = &sc.sweep else { return };
    let _ = writeln!(
        out,
        "sweep    {} design{}{}{}",
        t.design.as_deref().unwrap_or("grid"),
        t.points.map_or(String::new(), |n| format!(", points {n}")),
        t.levels.map_or(String::new(), |n| format!(", levels {n}")),
        t.replicates
            .map_or(String::new(), |r| format!(", {r} replicates"))
    );
    for v in &t.vary {
        let _ = writeln!(out, "  --vary {}", shell_quoted(v));
    }
}

/// `s` in single quotes, a single quote inside written `'\''`.
fn shell_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
