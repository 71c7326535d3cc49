//! `northbound run`: one run of a scenario, its tables and figures in a folder written
//! whole or not at all.

use super::{Common, Progress, print_out, timed};
use clap::Args;
use northbound::experiment::resources::Work;
use northbound::model::engine::{self, Results, RunOptions};
use northbound::output::{self, Manifest};
use northbound::scenario::{Metric, PlaceKind};
use northbound::{Error, Scenario, present};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML).
    scenario: PathBuf,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: RunArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = Scenario::load(&a.scenario)?;
    c.memory.ensure(&sc, Work::Run, c.threads())?;
    let staged = c.stage(&sc.name)?;
    let opts = RunOptions {
        threads: c.threads(),
        seed: c.seed,
        ..RunOptions::default()
    };
    let bar = Progress::new(
        u64::from(sc.days()),
        c.quiet,
        "{spinner} {bar:40} day {pos}/{len}  {msg}  {elapsed} (eta {eta})",
    );
    let (res, wall) = timed(&bar, || {
        engine::run(&sc, &opts, &mut |day, _, agents| {
            bar.set(u64::from(day));
            bar.message(format!("{agents} agents"));
        })
    });
    output::write_tables(&staged.tmp, &sc, &res)?;
    present::draw(&staged.tmp)?;
    let mut manifest = Manifest::new("run", &sc, res.seed, res.threads);
    manifest.timed(res.agents, res.agent_days, wall);
    let rate = manifest.agent_days_per_second;
    let dir = c.finish(staged, manifest)?;
    if !c.quiet {
        print_out(&summary(&sc, &res, wall, rate, &dir));
    }
    Ok(())
}

/// What a run did, and at each crossing what became of the people who tried it.
fn summary(sc: &Scenario, res: &Results, wall: f64, rate: f64, dir: &Path) -> String {
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
    out
}
