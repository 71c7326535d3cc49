//! `northbound merge`: shard folders of one sweep into the result one machine would have
//! written.

use super::{Progress, print_out, timed};
use clap::Args;
use northbound::experiment::sweep;
use northbound::output::{self, Manifest};
use northbound::{Error, Scenario, present};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shard folders written by `northbound sweep --shard I/N` (or in a Slurm job
    /// array), every shard of the sweep once, in any order.
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// The result folder [default: the shards' name without .shard-I-of-N].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the output folder if northbound wrote it and it holds nothing else.
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn merge(a: MergeArgs) -> Result<(), Error> {
    let (file, by) = sweep::shards(&a.dirs)?;
    let count = by.len();
    // The scenario with its data files, as every shard holds them (the same in each),
    // loaded before anything is written, so that a shard without it fails first.
    let bundled = by[0].join("scenario.toml");
    if !bundled.is_file() {
        return Err(Error::Output {
            path: by[0].clone(),
            message: "merge: this shard folder has no scenario.toml (a shard folder holds its scenario from the sweep that wrote it; run that shard again with this northbound, with --force to replace its folder)".into(),
        });
    }
    let scenario = Scenario::load(&bundled)?;
    let target = match a
        .out
        .clone()
        .or_else(|| sweep::merged_name(&a.dirs, count as u32))
    {
        Some(t) => t,
        None => {
            return Err(Error::Output {
                path: a.dirs[0].clone(),
                message: "merge: the shard folders do not share a name ending in .shard-I-of-N: give --out DIR".into(),
            });
        }
    };
    let staged = output::stage(&target, a.force)?;
    let plan = &file.plan;
    let bar = Progress::new(
        plan.design.points.len() as u64,
        a.quiet,
        "{spinner} {bar:40} point {pos}/{len} merged  {elapsed}",
    );
    let (written, wall) = timed(&bar, || {
        sweep::write_result(&staged.tmp, plan, &|p| {
            bar.inc();
            sweep::read_point(&by[p % count], p, &file.fingerprint)
        })
    });
    let (work, _) = written?;
    // Written as every result folder writes its own.
    output::bundle::write_scenario(&staged.tmp, "scenario.toml", &scenario)?;
    // The scenario as the shards' manifest names it.
    let first: serde_json::Value = std::fs::read(by[0].join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let text = |k: &str| first[k].as_str().unwrap_or("").to_string();
    let mut manifest = Manifest::of(
        "merge",
        &text("scenario"),
        &plan.scenario_name,
        &plan.scenario_sha256,
        plan.seed,
        1,
        (
            &text("start"),
            &text("end"),
            first["scale"].as_f64().unwrap_or(1.0),
        ),
    );
    manifest.replicates = Some(plan.replicates);
    manifest.method = Some(plan.design.method.name().into());
    manifest.runs = Some(work.runs);
    manifest.timed(work.agents, work.agent_days, wall);
    manifest.write(&staged.tmp)?;
    present::draw(&staged.tmp)?;
    let dir = super::finish(staged, manifest, a.quiet)?;
    if !a.quiet {
        print_out(&format!(
            "merged {count} shards: {} points x {} replicates = {} runs\nreport: {}\n",
            plan.design.points.len(),
            plan.replicates,
            work.runs,
            dir.join("report.html").display()
        ));
    }
    Ok(())
}
