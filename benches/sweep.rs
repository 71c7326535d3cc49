//! A sweep against the same runs done without it, and 4 shards merged against the same
//! sweep unsharded, measured side by side in one process and repeated, on the bundled
//! default scenario (a Saltelli design of 2 parameters, `BASE` rows: `BASE x 4` runs).
//!
//! Each round times, in turn, on the same machine minutes:
//!
//! * `one by one`: every run alone on all the threads, as a loop over `northbound run`
//!   would do them (the scenario with the point's values, the run; nothing written);
//! * `side by side`: the same runs, one thread each over the threads
//!   (`ensemble::map_runs`), nothing written: the floor of the compute;
//! * `sweep`: `sweep::run` with a record file per point in a working folder, then the
//!   result written from the records (`write_result`: every table, the sensitivity
//!   indices; the figures excepted);
//! * `4 shards + merge`: the four shards one after another, each as the sweep above into its
//!   own folder, then the merge (`shards`, `write_result`).
//!
//! It checks what it computed: the sweep's records are the runs of `one by one`, and the
//! merged tables are byte for byte the unsharded sweep's. Run it with
//! `cargo bench --bench sweep` (ROUNDS=n for more rounds, BASE=n for a larger design).

use northbound::Scenario;
use northbound::experiment::design::{self, Factor, Method};
use northbound::experiment::ensemble;
use northbound::experiment::sweep::{self, Plan, Series, Shard, SweepFile, Workdir};
use northbound::model::engine::{self, RunOptions};
use std::path::Path;
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn secs(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

/// A sweep into the working folder `dir`, then its result into `dir/result`.
fn sweep_into(plan: &Plan, sc: &Scenario, shard: Option<Shard>, dir: &Path, threads: usize) {
    let file = SweepFile::new(plan.clone(), shard);
    let (w, _) = Workdir::open(dir, &file, true).expect("a working folder");
    let todo = sweep::points_of(plan, shard);
    sweep::run(plan, sc, &todo, threads, &mut |r| w.write(&r)).expect("the sweep runs");
    if shard.is_none() {
        let out = dir.join("result");
        std::fs::create_dir_all(&out).expect("a result folder");
        sweep::write_result(&out, plan, &|p| w.read(p)).expect("the result is written");
    }
}

fn main() {
    let rounds = env("ROUNDS", 3);
    let base = env("BASE", 8);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let sc = Scenario::bundled_default().expect("the bundled scenario is valid");
    let mut factors = vec![
        Factor::parse("places[\"Roxham Road\"].detection=0.8..0.99", "--vary").expect("a factor"),
        Factor::parse("policies.stca_extension.window_days=7..30", "--vary").expect("a factor"),
    ];
    design::resolve(&sc, &mut factors).expect("the paths are the scenario's");
    let d = design::design(Method::Sobol { base }, factors, sc.seed).expect("a design");
    let plan = Plan::new(&sc, d, 1, sc.seed, Series::Replicates);
    let runs = plan.runs() as usize;
    let points: Vec<usize> = (0..plan.design.points.len()).collect();
    let tmp = tempfile::tempdir().expect("a temporary folder");
    println!(
        "{} runs of {} ({} points x 1 replicate), {threads} threads, {rounds} rounds",
        runs,
        sc.name,
        points.len()
    );
    println!("round  one_by_one_s  side_by_side_s  sweep_s  shards4_merge_s  sweep_runs_per_s");
    let mut rows = Vec::new();
    for round in 0..rounds {
        // One by one: each run on every thread.
        let mut agent_days = 0;
        let one = secs(|| {
            let pool = ensemble::pool(Some(threads));
            for &p in &points {
                let s = plan.scenario(&sc, p).expect("the point's scenario");
                let opts = RunOptions {
                    seed: Some(ensemble::replicate_seed(plan.seed, 0)),
                    ..RunOptions::default()
                };
                agent_days += pool.install(|| engine::simulate(&s, &opts)).agent_days;
            }
        });
        // Side by side, nothing kept.
        let side = secs(|| {
            let built: Vec<Scenario> = points
                .iter()
                .map(|&p| plan.scenario(&sc, p).expect("the point's scenario"))
                .collect();
            let refs: Vec<&Scenario> = built.iter().collect();
            let jobs: Vec<(usize, u32)> = (0..refs.len()).map(|k| (k, 0)).collect();
            let days: u64 = ensemble::pool(Some(threads))
                .install(|| {
                    ensemble::map_runs(&refs, &jobs, plan.seed, |_, _, r| r.agent_days, &|| {})
                })
                .iter()
                .sum();
            assert_eq!(days, agent_days, "the same runs");
        });
        let whole = tmp.path().join(format!("whole-{round}"));
        let sw = secs(|| sweep_into(&plan, &sc, None, &whole, threads));
        let shard_dirs: Vec<_> = (1..=4)
            .map(|i| tmp.path().join(format!("sw-{round}.shard-{i}-of-4")))
            .collect();
        let merged = tmp.path().join(format!("merged-{round}"));
        let sh = secs(|| {
            for (i, d) in shard_dirs.iter().enumerate() {
                let s = Shard {
                    index: i as u32 + 1,
                    count: 4,
                };
                sweep_into(&plan, &sc, Some(s), d, threads);
            }
            let (file, by) = sweep::shards(&shard_dirs).expect("four shards of one sweep");
            std::fs::create_dir_all(&merged).expect("a folder");
            sweep::write_result(&merged, &file.plan, &|p| {
                sweep::read_point(&by[p % 4], p, &file.fingerprint)
            })
            .expect("the merge");
        });
        for t in [
            "points.csv",
            "outcomes.csv",
            "series.csv",
            "sensitivity.csv",
        ] {
            assert!(
                std::fs::read(whole.join("result").join(t)).ok()
                    == std::fs::read(merged.join(t)).ok(),
                "{t}: merged shards differ from the sweep"
            );
        }
        let rate = runs as f64 / sw;
        println!("{round:>5}  {one:>12.2}  {side:>14.2}  {sw:>7.2}  {sh:>15.2}  {rate:>16.2}");
        rows.push((one, side, sw, sh));
        let _ = std::fs::remove_dir_all(&whole);
        let _ = std::fs::remove_dir_all(&merged);
        for d in &shard_dirs {
            let _ = std::fs::remove_dir_all(d);
        }
    }
    println!("round  sweep_vs_one_by_one  sweep_vs_side_by_side  shards4_vs_sweep");
    for (i, (one, side, sw, sh)) in rows.iter().enumerate() {
        println!(
            "{i:>5}  {:>+18.1}%  {:>+20.1}%  {:>+15.1}%",
            100.0 * (sw / one - 1.0),
            100.0 * (sw / side - 1.0),
            100.0 * (sh / sw - 1.0)
        );
    }
}
