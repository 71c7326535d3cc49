//! `northbound sweep`: a parameter sweep over a design, resumable and shardable, its tables,
//! sensitivity indices, figures and report.

use super::{Common, Progress, print_out, timed};
use clap::{Args, ValueEnum};
use northbound::experiment::design::{self, Design, Factor, Method};
use northbound::experiment::posterior::Posterior;
use northbound::experiment::resources::Work;
use northbound::experiment::sensitivity::IndexRow;
use northbound::experiment::sweep::{self, Plan, Series, Shard, SweepFile, Workdir};
use northbound::output::{self, Manifest};
use northbound::{Error, Scenario, present};
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The scenario file (TOML) [default: the bundled corridor-2017-2024].
    scenario: Option<PathBuf>,
    /// A parameter to vary: PATH=LO..HI (a range) or PATH=V1,V2,... (a list: numbers, or
    /// true,false); tied paths P1,P2=... take one value. Repeat for each parameter.
    /// [default: the scenario's [sweep] table]
    #[arg(long, value_name = "PATH=RANGE")]
    vary: Vec<String>,
    /// grid (every combination of the levels), lhs (a Latin hypercube), sobol (Saltelli's
    /// design for Sobol indices) or morris (elementary effects) [default: the [sweep]
    /// table's, else grid].
    #[arg(long, value_name = "DESIGN", value_parser = ["grid", "lhs", "sobol", "morris"])]
    design: Option<String>,
    /// grid: levels per range [5]; lhs: points [100]; sobol: base rows N, giving N x (k + 2)
    /// points for k parameters, best a power of two [64]; morris: trajectories r, giving
    /// r x (k + 1) points [10].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    points: Option<u64>,
    /// morris: levels of the grid, an even number [4].
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u64).range(2..=1000))]
    levels: Option<u64>,
    /// Replicates per point, with the same seeds at every point (common random numbers)
    /// [default: the [sweep] table's, else 1].
    #[arg(long, short = 'r', value_name = "R", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replicates: Option<u32>,
    /// Take the points from a file instead of a design: a posterior.csv of `calibrate
    /// --method abc` (each particle a point, its weight in points.csv), or a CSV whose
    /// columns are parameter paths (a `point` column is skipped), such as a sweep's points.csv.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["vary", "design", "points", "levels"])]
    points_from: Option<PathBuf>,
    /// Run only shard I of N (points p with p mod N = I - 1) into <out>.shard-I-of-N, for
    /// `northbound merge`. Inside a Slurm job array it is read from SLURM_ARRAY_TASK_ID,
    /// _MIN, _MAX and _COUNT.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// What series.csv holds: every run's monthly values, or each point's mean and 5%, 50%
    /// and 95% quantiles over its replicates (R times smaller).
    #[arg(long, value_enum, default_value_t = SeriesArg::Replicates)]
    series: SeriesArg,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SeriesArg {
    Replicates,
    Summary,
}

pub fn sweep(a: SweepArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = match &a.scenario {
        Some(p) => Scenario::load(p)?,
        None => Scenario::bundled_default()?,
    };
    let invalid = |problems: Vec<String>| Error::Invalid {
        path: sc.path.clone(),
        problems,
    };
    let seed = c.seed.unwrap_or(sc.seed);
    let table = sc.sweep.clone().unwrap_or_default();
    let design = match &a.points_from {
        Some(file) => points_from(&sc, file)?,
        None => {
            let (specs, flag) = if a.vary.is_empty() {
                (table.vary.clone(), "[sweep] vary")
            } else {
                (a.vary.clone(), "--vary")
            };
            if specs.is_empty() {
                return Err(invalid(vec![
                    "sweep: give --vary PATH=LO..HI (or PATH=V1,V2,...), or a [sweep] table with vary = { ... } in the scenario".into(),
                ]));
            }
            let mut problems = Vec::new();
            let mut factors: Vec<Factor> = specs
                .iter()
                .filter_map(|s| Factor::parse(s, flag).map_err(|e| problems.push(e)).ok())
                .collect();
            if !problems.is_empty() {
                return Err(invalid(problems));
            }
            design::resolve(&sc, &mut factors)?;
            let name = a
                .design
                .clone()
                .or(table.design.clone())
                .unwrap_or_else(|| "grid".into());
            let points = a.points.map(|n| n as usize).or(table.points);
            let levels = a.levels.map(|n| n as usize).or(table.levels);
            let method = sweep::method(&name, points, levels).map_err(|e| invalid(vec![e]))?;
            design::design(method, factors, seed).map_err(|e| invalid(vec![e]))?
        }
    };
    check_corners(&sc, &design)?;
    let replicates = a.replicates.or(table.replicates).unwrap_or(1);
    let series = match a.series {
        SeriesArg::Replicates => Series::Replicates,
        SeriesArg::Summary => Series::Summary,
    };
    let plan = Plan::new(&sc, design, replicates, seed, series);
    let shard = match &a.shard {
        Some(s) => Some(Shard::parse(s).map_err(|e| invalid(vec![e]))?),
        None => Shard::from_slurm(&|k| std::env::var(k).ok()).map_err(|e| invalid(vec![e]))?,
    };
    c.memory.ensure(
        &sc,
        Work::Sweep {
            replicates,
            stems: plan.stems(),
        },
        c.threads(),
    )?;
    let (mut target, replace) = c.target(&format!("{}-sweep", sc.name));
    if let Some(s) = shard {
        let mut name = target.as_os_str().to_os_string();
        name.push(s.suffix());
        target = PathBuf::from(name);
    }
    // Refused now, not after the work, if the result may not be written there.
    drop(output::stage(&target, replace)?);
    let mut work_name = target.as_os_str().to_os_string();
    work_name.push(".unfinished");
    let work_dir = PathBuf::from(work_name);
    let file = SweepFile::new(plan.clone(), shard);
    let (work, resumed) = Workdir::open(&work_dir, &file, c.force)?;
    let mine = sweep::points_of(&plan, shard);
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|p| resumed.finished.binary_search(p).is_err())
        .collect();
    let threads = c.threads().unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    if !c.quiet {
        print_out(&plan_text(
            &sc,
            &plan,
            shard,
            mine.len(),
            &work_dir,
            &resumed,
        ));
    }
    super::keep_on_interrupt(Some(format!(
        "finished points are kept in {}; run the same command to resume",
        work_dir.display()
    )));
    let bar = Progress::new(
        mine.len() as u64,
        c.quiet,
        "{spinner} {bar:40} point {pos}/{len}  {elapsed} (eta {eta})",
    );
    bar.resume(resumed.finished.len() as u64);
    // Without a terminal (a batch job's log), a line at every tenth of the points.
    let log = !c.quiet && !std::io::stderr().is_terminal();
    let (mut count, start, total) = (0usize, std::time::Instant::now(), todo.len());
    let (done, wall) = timed(&bar, || {
        sweep::run(&plan, &sc, &todo, threads, &mut |rec| {
            work.write(&rec)?;
            bar.inc();
            count += 1;
            if log && (count * 10 / total.max(1) > (count - 1) * 10 / total.max(1)) {
                let t = start.elapsed().as_secs_f64();
                eprintln!(
                    "northbound sweep: {} of {} points done, {:.0} s elapsed, about {:.0} s to go",
                    resumed.finished.len() + count,
                    mine.len(),
                    t,
                    t / count as f64 * (total - count) as f64
                );
            }
            Ok(())
        })
    });
    let done = done?;
    let staged = output::stage(&target, replace)?;
    let mut manifest = Manifest::new("sweep", &sc, seed, threads);
    manifest.replicates = Some(replicates);
    manifest.method = Some(plan.design.method.name().into());
    // The counts and the rate are this process's; runs of points finished before a resume
    // are counted apart.
    manifest.runs = Some(done.runs);
    let earlier = (mine.len() - todo.len()) as u64 * u64::from(replicates);
    manifest.runs_resumed = (earlier > 0).then_some(earlier);
    manifest.runs_per_second = Some(done.runs as f64 / wall.max(1e-9));
    manifest.timed(done.agents, done.agent_days, wall);
    let mut rows = Vec::new();
    // The scenario with its data files, so that the result (and a shard, which merge takes
    // them from) runs again anywhere.
    if shard.is_some() {
        file.write(&staged.tmp)?;
        output::bundle::write_scenario(&staged.tmp, "scenario.toml", &sc)?;
        for &p in &mine {
            let name = sweep::point_file(p);
            let (from, to) = (work.dir.join(&name), staged.tmp.join(&name));
            std::fs::hard_link(&from, &to)
                .or_else(|_| std::fs::copy(&from, &to).map(|_| ()))
                .map_err(|e| Error::Write {
                    path: to,
                    source: e,
                })?;
        }
    } else {
        let (_, r) = sweep::write_result(&staged.tmp, &plan, &|p| work.read(p))?;
        rows = r;
        output::bundle::write_scenario(&staged.tmp, "scenario.toml", &sc)?;
        manifest.write(&staged.tmp)?;
        present::draw(&staged.tmp)?;
    }
    let dir = c.finish(staged, manifest)?;
    super::keep_on_interrupt(None);
    let left = work.remove();
    if !c.quiet {
        let mut text = format!(
            "{} runs in {:.1} s ({:.2} runs per second on {threads} threads)\n",
            done.runs,
            wall,
            done.runs as f64 / wall.max(1e-9)
        );
        text.push_str(&drivers(&rows));
        match shard {
            Some(s) => {
                let _ = writeln!(
                    text,
                    "shard {}/{}: {}\nwhen every shard is done: northbound merge {}",
                    s.index,
                    s.count,
                    dir.display(),
                    merge_hint(&dir, s)
                );
            }
            None => {
                let _ = writeln!(text, "report: {}", dir.join("report.html").display());
            }
        }
        if !left.is_empty() {
            let _ = writeln!(
                text,
                "note: {} also holds {} (not northbound's), so it was kept",
                work_dir.display(),
                left.join(", ")
            );
        }
        print_out(&text);
    }
    Ok(())
}

/// The shard folders' names as a shell pattern.
fn merge_hint(dir: &Path, s: Shard) -> String {
    let text = dir.display().to_string();
    match text.strip_suffix(&s.suffix()) {
        Some(stem) => format!("{stem}.shard-*-of-{}", s.count),
        None => text,
    }
}

/// What the sweep will do.
fn plan_text(
    sc: &Scenario,
    plan: &Plan,
    shard: Option<Shard>,
    mine: usize,
    work_dir: &Path,
    resumed: &sweep::Resumed,
) -> String {
    let d = &plan.design;
    let mut text = format!(
        "{}: {} design, {} points x {} replicates = {} runs",
        sc.name,
        d.method.name(),
        d.points.len(),
        plan.replicates,
        plan.runs()
    );
    if let Some(s) = shard {
        let _ = write!(text, "; shard {}/{}: {mine} points", s.index, s.count);
    }
    text.push('\n');
    for f in &d.factors {
        let range = if f.is_list() {
            f.values
                .iter()
                .map(|v| f.text(*v))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            format!("{} to {}", f.text(f.lo), f.text(f.hi))
        };
        let _ = writeln!(text, "  {}: {range}", f.name());
    }
    if resumed.discarded > 0 {
        let _ = writeln!(
            text,
            "discarded {} points of another sweep in {} (--force)",
            resumed.discarded,
            work_dir.display()
        );
    }
    if !resumed.finished.is_empty() {
        let _ = writeln!(
            text,
            "resuming: {} of {mine} points finished earlier (in {})",
            resumed.finished.len(),
            work_dir.display()
        );
    }
    for why in &resumed.damaged {
        let _ = writeln!(text, "running again: {why}");
    }
    text
}

/// For each outcome, the parameter that moves it most.
fn drivers(rows: &[IndexRow]) -> String {
    let mut text = String::new();
    let mut outcomes: Vec<&str> = rows.iter().map(|r| r.outcome.as_str()).collect();
    outcomes.dedup();
    for o in outcomes {
        let best = rows
            .iter()
            .filter(|r| r.outcome == o && ["ST", "mu_star", "rho"].contains(&r.index.as_str()))
            .filter(|r| r.value.is_finite())
            .max_by(|a, b| a.value.abs().total_cmp(&b.value.abs()));
        if let Some(r) = best {
            let _ = writeln!(
                text,
                "  {o:<34} driven most by {} ({} {:.3}, 90% interval {:.3} to {:.3})",
                r.parameter, r.index, r.value, r.p05, r.p95
            );
        }
    }
    text
}

/// Every parameter at its lowest, then at its highest, must give a valid scenario: a range
/// the scenario refuses is reported before anything runs.
fn check_corners(sc: &Scenario, d: &Design) -> Result<(), Error> {
    for (what, pick) in [("lowest", 0usize), ("highest", 1)] {
        let mut set = Vec::new();
        for f in &d.factors {
            let v = if pick == 0 { f.lo } else { f.hi };
            for p in &f.paths {
                set.push((p.clone(), f.value(v)));
            }
        }
        sc.with_overrides(&set, &format!("sweep: every parameter at its {what}"))?;
    }
    Ok(())
}

/// A design of the points in a file: a posterior.csv, or a CSV of parameter columns.
fn points_from(sc: &Scenario, file: &Path) -> Result<Design, Error> {
    let bytes =
        northbound::util::files::read_regular(file, 1 << 30).map_err(|source| Error::Read {
            path: file.to_path_buf(),
            source,
        })?;
    let bad = |line: u64, message: String| Error::Data {
        path: file.to_path_buf(),
        line,
        message,
    };
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(1, e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    let (columns, rows, weights) = if header.first().map(String::as_str) == Some("particle") {
        let p = Posterior::read(file)?;
        p.check(sc)?;
        let rows: Vec<Vec<f64>> = p.particles.iter().map(|q| q.values.clone()).collect();
        let weights = p.particles.iter().map(|q| q.weight).collect();
        (p.params.clone(), rows, weights)
    } else {
        let skip = usize::from(header.first().map(String::as_str) == Some("point"));
        let columns: Vec<String> = header[skip..]
            .iter()
            .map(|h| output::uncell(h).to_string())
            .collect();
        if columns.is_empty() {
            return Err(bad(1, "expected a column per parameter path".into()));
        }
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let line = i as u64 + 2;
            let rec =
                rec.map_err(|e| bad(line, format!("{e}; expected {} columns", header.len())))?;
            let mut row = Vec::new();
            for (j, cell) in rec.iter().enumerate().skip(skip) {
                let v = match cell.trim() {
                    "true" => 1.0,
                    "false" => 0.0,
                    t => t
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            bad(
                                line,
                                format!(
                                    "column \"{}\": expected a number, true or false",
                                    header[j]
                                ),
                            )
                        })?,
                };
                row.push(v);
            }
            rows.push(row);
        }
        (columns, rows, Vec::new())
    };
    if rows.is_empty() {
        return Err(bad(2, "holds no points".into()));
    }
    let mut factors = Vec::new();
    for (k, col) in columns.iter().enumerate() {
        let mut f =
            Factor::parse(&format!("{col}=0..1"), "--points-from column").map_err(|e| bad(1, e))?;
        let vals: Vec<f64> = rows.iter().map(|r| r[k]).collect();
        if vals.iter().all(|v| *v == 0.0 || *v == 1.0) {
            f.values = vec![0.0, 1.0];
        }
        f.lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        f.hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        factors.push(f);
    }
    design::resolve(sc, &mut factors)?;
    Ok(Design {
        method: Method::Points {
            file: file.display().to_string(),
            sha256: output::sha256_hex(&bytes),
        },
        factors,
        points: rows,
        steps: Vec::new(),
        weights,
    })
}
