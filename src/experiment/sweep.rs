//! Parameter sweeps: every point of a [`Design`] run over R replicates, each point's runs
//! recorded on their own as they finish, so that a sweep can stop and resume, run in
//! shards on a cluster, and be merged into the result one machine would have written.
//!
//! A point's result is a function of (scenario, seed, point, replicate) alone: replicate
//! `r` of every point runs with [`ensemble::replicate_seed`]`(seed, r)` (common random
//! numbers), whatever the threads, the shard or the points that ran before. So a point's
//! record ([`PointRecord`]) is the same bytes wherever and whenever it is made, and the
//! final tables are a function of the records alone ([`write_result`]), read back from
//! their files in point order.
//!
//! The [`Plan`] says everything about a sweep that its result depends on (the scenario's
//! text and hash, the seed, the replicates, the design and its points, the outcomes and
//! the monthly cells); its SHA-256, the fingerprint, names the sweep. `sweep.json` holds it
//! in a working folder, a shard's folder and the result.
//!
//! A working folder (`<out>.unfinished`) holds `sweep.json` and one `point-NNNNNN.json`
//! per finished point, each written to a hidden temporary name and renamed into place, so
//! that a point file is whole or absent. [`Workdir::open`] resumes one, refusing a folder
//! that holds anything else or another sweep's points (unless `force`, and then only if
//! everything in it is northbound's).

use crate::experiment::compare;
use crate::experiment::design::{Design, Method};
use crate::experiment::ensemble;
use crate::experiment::sensitivity::{self, IndexRow};
use crate::experiment::validation;
use crate::model::engine::Results;
use crate::output;
use crate::scenario::{CrossingKind, Metric, PlaceKind, Scenario, paths};
use crate::util::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use toml_edit::Value;

/// What `series.csv` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Series {
    /// `point,replicate,month,place,metric,value`: every run's monthly values.
    Replicates,
    /// `point,month,place,metric,mean,p05,p50,p95`: over each point's replicates.
    Summary,
}

impl Series {
    pub fn name(self) -> &'static str {
        match self {
            Series::Replicates => "replicates",
            Series::Summary => "summary",
        }
    }
}

/// A row of `places.csv`, owned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceEntry {
    pub place: String,
    pub kind: String,
    pub crossing: String,
    pub country: String,
    pub province: String,
}

/// A row of `policies.csv`, owned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyEntry {
    pub policy: String,
    pub enabled: bool,
    pub start: String,
    pub end: String,
}

/// Everything a sweep's result depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub northbound_version: String,
    pub scenario_name: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub replicates: u32,
    pub series: Series,
    pub design: Design,
    /// The columns of `outcomes.csv` after the parameters.
    pub outcomes: Vec<String>,
    /// The (month, place, metric) cells of a run's monthly values, in order.
    pub cells: Vec<(String, String, String)>,
    pub places: Vec<PlaceEntry>,
    pub policies: Vec<PolicyEntry>,
    pub scenario_text: String,
}

/// The outcomes every sweep records, before each observed series' ARD.
pub const OUTCOMES: [&str; 8] = [
    "roxham_attempts_before_extension",
    "roxham_attempts_after_extension",
    "land_port_attempts",
    "land_port_claims",
    "other_irregular_attempts",
    "evasions",
    "stayed_in_us",
    "resettled",
];

impl Plan {
    pub fn new(sc: &Scenario, design: Design, replicates: u32, seed: u64, series: Series) -> Plan {
        let mut outcomes: Vec<String> = OUTCOMES.iter().map(|s| s.to_string()).collect();
        outcomes.extend(sc.observed.iter().map(|o| format!("ard:{}", o.name)));
        Plan {
            northbound_version: env!("CARGO_PKG_VERSION").into(),
            scenario_name: sc.name.clone(),
            scenario_sha256: output::sha256_hex(&sc.source),
            seed,
            replicates,
            series,
            design,
            outcomes,
            cells: compare::cells(sc)
                .into_iter()
                .map(|(m, p, x)| (m, p, x.to_string()))
                .collect(),
            places: output::place_rows(sc)
                .into_iter()
                .map(|p| PlaceEntry {
                    place: p.place.into(),
                    kind: p.kind.into(),
                    crossing: p.crossing.into(),
                    country: p.country.into(),
                    province: p.province.into(),
                })
                .collect(),
            policies: output::policy_rows(sc)
                .into_iter()
                .map(|p| PolicyEntry {
                    policy: p.policy.into(),
                    enabled: p.enabled,
                    start: p.start,
                    end: p.end,
                })
                .collect(),
            scenario_text: String::from_utf8_lossy(&sc.source).into_owned(),
        }
    }

    /// The sweep's name: the SHA-256 of the plan.
    pub fn fingerprint(&self) -> String {
        output::sha256_hex(&serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn runs(&self) -> u64 {
        self.design.points.len() as u64 * u64::from(self.replicates)
    }

    /// The overrides of point `p`.
    pub fn overrides(&self, p: usize) -> Vec<(String, Value)> {
        let mut set = Vec::new();
        for (f, &v) in self.design.factors.iter().zip(&self.design.points[p]) {
            for path in &f.paths {
                set.push((path.clone(), f.value(v)));
            }
        }
        set
    }

    /// Point `p` as `name = value` pairs, for messages.
    pub fn describe(&self, p: usize) -> String {
        self.design
            .factors
            .iter()
            .zip(&self.design.points[p])
            .map(|(f, &v)| format!("{} = {}", f.name(), f.text(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The scenario of point `p`.
    pub fn scenario(&self, base: &Scenario, p: usize) -> Result<Scenario> {
        base.with_overrides(
            &self.overrides(p),
            &format!("sweep point {p} ({})", self.describe(p)),
        )
    }

    /// How many stems ([`Stems`]) a run of every point builds: the values of everything but
    /// the policies that two points or more share.
    pub fn stems(&self) -> usize {
        self.stem_groups(0..self.design.points.len())
            .iter()
            .filter(|g| g.len() > 1 && !self.stem(g[0]).1.is_empty())
            .count()
    }

    /// `points` grouped by their values of everything but the policies, each group in the
    /// order of its first point.
    fn stem_groups(&self, points: impl IntoIterator<Item = usize>) -> Vec<Vec<usize>> {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut index: HashMap<Vec<u64>, usize> = HashMap::new();
        for p in points {
            let g = *index.entry(self.stem(p).0).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(p);
        }
        groups
    }

    /// Point `p`'s values of everything but the policies (each value's bits, by factor),
    /// and the overrides that set them: its runs are the same as those of the scenario with
    /// these overrides alone until the day before their rules first differ.
    fn stem(&self, p: usize) -> (Vec<u64>, Vec<(String, Value)>) {
        let mut key = Vec::new();
        let mut set = Vec::new();
        for (f, &v) in self.design.factors.iter().zip(&self.design.points[p]) {
            if f.paths.iter().all(|path| paths::is_policy(path)) {
                continue;
            }
            key.push(v.to_bits());
            for path in f.paths.iter().filter(|path| !paths::is_policy(path)) {
                set.push((path.clone(), f.value(v)));
            }
        }
        (key, set)
    }
}

/// The scenarios that points' runs go on from ([`ensemble::Trunks`]): the sweep's own for
/// the points that vary only policies, and, for two points or more of `todo` with the same
/// values of everything else (a grid over a policy and a place's detection, say), the
/// scenario with those values; a point alone with its values has none (it shares nothing).
/// `order` is `todo` with the points of one stem side by side, so that a worker finds the
/// run it kept.
struct Stems {
    scenarios: Vec<Scenario>,
    /// By point of `todo`: its index in `scenarios`, if it has a stem of its own.
    of: HashMap<usize, usize>,
    order: Vec<usize>,
}

impl Stems {
    fn new(plan: &Plan, base: &Scenario, todo: &[usize]) -> Stems {
        let mut stems = Stems {
            scenarios: Vec::new(),
            of: HashMap::new(),
            order: Vec::with_capacity(todo.len()),
        };
        for points in plan.stem_groups(todo.iter().copied()) {
            // A stem that does not build leaves its points to fail on their own scenario,
            // with the message that names them. Points over policies alone go on from
            // `base` (no overrides).
            let set = plan.stem(points[0]).1;
            if !set.is_empty()
                && points.len() > 1
                && let Ok(sc) = base.with_overrides(&set, "a sweep's stem")
            {
                stems.scenarios.push(sc);
                for &p in &points {
                    stems.of.insert(p, stems.scenarios.len() - 1);
                }
            }
            stems.order.extend(points);
        }
        stems
    }

    /// The scenario point `p`'s runs go on from.
    fn of<'a>(&'a self, base: &'a Scenario, p: usize) -> &'a Scenario {
        self.of.get(&p).map_or(base, |&i| &self.scenarios[i])
    }
}

/// Shard `index` (from 1) of `count`: the points `p` with `p % count == index - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `I/N`, `1 <= I <= N`.
    pub fn parse(s: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("--shard \"{s}\": expected I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Slurm job array task, from `SLURM_ARRAY_TASK_ID`, `_MIN`, `_MAX` and
    /// `_COUNT` (as `get` gives them): task `MIN + i - 1` is shard `i` of `COUNT`. `None`
    /// outside a job array. An array with gaps or steps (`--array=1,3,7`, `1-7:2`) has no
    /// shard numbering: refused.
    pub fn from_slurm(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> std::result::Result<Option<Shard>, String> {
        let Some(id) = get("SLURM_ARRAY_TASK_ID") else {
            return Ok(None);
        };
        let num = |name: &str| -> std::result::Result<u64, String> {
            let v = get(name).ok_or_else(|| {
                format!("SLURM_ARRAY_TASK_ID is set but {name} is not: give --shard I/N")
            })?;
            v.trim()
                .parse()
                .map_err(|_| format!("{name}=\"{v}\": expected a number; give --shard I/N"))
        };
        let id: u64 = id.trim().parse().map_err(|_| {
            format!("SLURM_ARRAY_TASK_ID=\"{id}\": expected a number; give --shard I/N")
        })?;
        let (min, max, count) = (
            num("SLURM_ARRAY_TASK_MIN")?,
            num("SLURM_ARRAY_TASK_MAX")?,
            num("SLURM_ARRAY_TASK_COUNT")?,
        );
        if count == 0 || max < min || max - min + 1 != count || id < min || id > max {
            return Err(format!(
                "the job array's tasks are not a range without gaps (SLURM_ARRAY_TASK_MIN={min}, _MAX={max}, _COUNT={count}, _ID={id}): submit --array=1-N, or give --shard I/N"
            ));
        }
        let count = u32::try_from(count).map_err(|_| "the job array is too large".to_string())?;
        Ok(Some(Shard {
            index: (id - min + 1) as u32,
            count,
        }))
    }

    /// The folder name suffix, `.shard-02-of-16` (the index as wide as the count).
    pub fn suffix(self) -> String {
        let w = self.count.to_string().len();
        format!(".shard-{:0w$}-of-{}", self.index, self.count)
    }

    pub fn holds(self, p: usize) -> bool {
        p % self.count as usize == (self.index - 1) as usize
    }
}

/// The points a shard (or, without one, the sweep) runs, in order.
pub fn points_of(plan: &Plan, shard: Option<Shard>) -> Vec<usize> {
    (0..plan.design.points.len())
        .filter(|&p| shard.is_none_or(|s| s.holds(p)))
        .collect()
}

/// `sweep.json`: the plan, its fingerprint, and the shard a folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    pub fingerprint: String,
    #[serde(default)]
    pub shard: Option<Shard>,
    pub plan: Plan,
}

impl SweepFile {
    pub fn new(plan: Plan, shard: Option<Shard>) -> SweepFile {
        SweepFile {
            fingerprint: plan.fingerprint(),
            shard,
            plan,
        }
    }

    pub fn read(dir: &Path) -> Result<SweepFile> {
        let path = dir.join("sweep.json");
        let bytes =
            crate::util::files::read_regular(&path, 1 << 30).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
        let f: SweepFile = serde_json::from_slice(&bytes).map_err(|e| Error::Data {
            path: path.clone(),
            line: e.line() as u64,
            message: format!("not a sweep.json northbound wrote ({e})"),
        })?;
        if f.plan.fingerprint() != f.fingerprint {
            return Err(Error::Output {
                path,
                message: "its plan does not match its fingerprint: the file was changed".into(),
            });
        }
        Ok(f)
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::Output {
            path: dir.join("sweep.json"),
            message: e.to_string(),
        })?;
        write_atomic(&dir.join("sweep.json"), &bytes)
    }
}

/// One run of a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub replicate: u32,
    /// The plan's outcomes (`None`: not a number, such as the ARD of a series with no
    /// period inside the window).
    pub outcomes: Vec<Option<f64>>,
    /// The monthly values, in the plan's cells' order.
    pub monthly: Vec<f64>,
    pub agents: u64,
    pub agent_days: u64,
}

/// A finished point: its runs, replicate by replicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    pub fingerprint: String,
    pub point: usize,
    pub runs: Vec<RunRecord>,
}

/// The file name of point `p`'s record.
pub fn point_file(p: usize) -> String {
    format!("point-{p:06}.json")
}

fn point_of(name: &str) -> Option<usize> {
    name.strip_prefix("point-")?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

static TMP: AtomicUsize = AtomicUsize::new(0);

/// Writes `bytes` to `path` whole or not at all: a hidden temporary file beside it, synced,
/// then renamed.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        TMP.fetch_add(1, Ordering::Relaxed)
    ));
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::write(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::write(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::write(path, e)
    })
}

/// Reads point `p`'s record from `dir`, checking it belongs to the sweep `fingerprint`.
pub fn read_point(dir: &Path, p: usize, fingerprint: &str) -> Result<PointRecord> {
    let path = dir.join(point_file(p));
    let bytes = crate::util::files::read_regular(&path, 1 << 30).map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    let rec: PointRecord = serde_json::from_slice(&bytes).map_err(|e| Error::Data {
        path: path.clone(),
        line: e.line() as u64,
        message: format!("not a point record northbound wrote ({e})"),
    })?;
    if rec.fingerprint != fingerprint || rec.point != p {
        return Err(Error::Output {
            path,
            message: "holds a point of another sweep".into(),
        });
    }
    Ok(rec)
}

/// Whether a file in a working folder is one northbound writes there.
fn ours(name: &str) -> bool {
    name == "sweep.json"
        || point_of(name).is_some()
        || (name.starts_with('.') && name.contains(".tmp-"))
}

/// A sweep's working folder: `sweep.json` and the finished points.
#[derive(Debug)]
pub struct Workdir {
    pub dir: PathBuf,
    fingerprint: String,
}

/// What [`Workdir::open`] found.
#[derive(Debug, Default)]
pub struct Resumed {
    /// Points already finished, in order.
    pub finished: Vec<usize>,
    /// Point files that could not be read (they are run again), with why.
    pub damaged: Vec<String>,
    /// Whether the folder held another sweep's points, discarded under `force`.
    pub discarded: usize,
}

impl Workdir {
    /// Opens (or creates) the working folder `dir` for `sweep`, keeping the finished points
    /// of its shard. Refuses a folder that holds what northbound did not write, or another
    /// sweep's points unless `force` (which then deletes them).
    pub fn open(dir: &Path, sweep: &SweepFile, force: bool) -> Result<(Workdir, Resumed)> {
        let refuse = |message: String| Error::Output {
            path: dir.to_path_buf(),
            message,
        };
        if std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
            return Err(refuse(
                "exists and is not a folder: northbound keeps an unfinished sweep's points there; move it".into(),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        let names = list(dir)?;
        let foreign: Vec<&String> = names.iter().filter(|n| !ours(n)).collect();
        if !foreign.is_empty() {
            return Err(refuse(format!(
                "holds what a sweep does not write there ({}): refusing to use it as a sweep's working folder, even with --force; move those files, or give another --out",
                foreign
                    .iter()
                    .take(8)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut resumed = Resumed::default();
        let points: Vec<&String> = names.iter().filter(|n| point_of(n).is_some()).collect();
        let same = match SweepFile::read(dir) {
            Ok(found) => found.fingerprint == sweep.fingerprint && found.shard == sweep.shard,
            Err(_) => points.is_empty(),
        };
        if !same {
            if !force {
                return Err(refuse(format!(
                    "holds {} finished points of another sweep (another scenario, seed, design, replicates or shard): run that sweep's command to finish it, pass --force to discard them, or give another --out",
                    points.len()
                )));
            }
            for n in &names {
                let _ = std::fs::remove_file(dir.join(n));
            }
            resumed.discarded = points.len();
        }
        sweep.write(dir)?;
        let w = Workdir {
            dir: dir.to_path_buf(),
            fingerprint: sweep.fingerprint.clone(),
        };
        if same {
            let mut found: Vec<usize> = points.iter().filter_map(|n| point_of(n)).collect();
            found.sort_unstable();
            for p in found {
                if p >= sweep.plan.design.points.len() || !sweep.shard.is_none_or(|s| s.holds(p)) {
                    resumed
                        .damaged
                        .push(format!("{}: not a point of this shard", point_file(p)));
                    continue;
                }
                match read_point(dir, p, &w.fingerprint) {
                    Ok(r) if r.runs.len() == sweep.plan.replicates as usize => {
                        resumed.finished.push(p)
                    }
                    Ok(_) => resumed
                        .damaged
                        .push(format!("{}: runs missing", point_file(p))),
                    Err(e) => resumed.damaged.push(e.to_string()),
                }
            }
        }
        Ok((w, resumed))
    }

    /// Records a finished point.
    pub fn write(&self, rec: &PointRecord) -> Result<()> {
        let path = self.dir.join(point_file(rec.point));
        let bytes = serde_json::to_vec(rec).map_err(|e| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomic(&path, &bytes)
    }

    pub fn read(&self, p: usize) -> Result<PointRecord> {
        read_point(&self.dir, p, &self.fingerprint)
    }

    /// Deletes the folder once its result is in place: only what northbound writes there.
    /// Returns what it left (files it did not write), which keep the folder.
    pub fn remove(self) -> Vec<String> {
        let names = list(&self.dir).unwrap_or_default();
        let mut left = Vec::new();
        for n in names {
            if ours(&n) {
                let _ = std::fs::remove_file(self.dir.join(&n));
            } else {
                left.push(n);
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
        left
    }
}

fn list(dir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::write(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// One run's outcomes, in [`Plan::outcomes`]'s order.
pub fn outcomes(sc: &Scenario, res: &Results) -> Vec<Option<f64>> {
    let t = compare::totals(sc, res);
    let focus = sc.focus_crossing();
    let split = sc
        .policies
        .iter()
        .find(|p| p.rule.name() == "stca_extension")
        .map_or(res.days, |p| {
            let start = p.rule.dates().0;
            (start.0 - sc.start.0).clamp(0, res.days as i32) as u32
        });
    let (before, after) = match focus {
        Some(f) => {
            let sum = |days: std::ops::Range<u32>| {
                days.map(|d| res.count(d, f, Metric::Attempts)).sum::<u64>() as f64 * sc.scale
            };
            (Some(sum(0..split)), Some(sum(split..res.days)))
        }
        None => (None, None),
    };
    let mut land_claims = 0.0;
    for (i, p) in sc.places.iter().enumerate() {
        if p.kind == PlaceKind::Crossing && p.crossing == Some(CrossingKind::Port) && p.stca {
            land_claims += res.total(i, Metric::Claims) as f64 * sc.scale;
        }
    }
    let mut out = vec![
        before,
        after,
        Some(t.official_ports),
        Some(land_claims),
        Some(t.other_irregular),
        Some(t.evasions),
        Some(t.stayed_in_us),
        Some(t.resettled),
    ];
    let sims = validation::simulated_points(sc, res);
    for (s, sim) in sc.observed.iter().zip(&sims) {
        let obs: Vec<f64> = s.points.iter().map(|o| o.value).collect();
        let ard = validation::fit(&s.name, &obs, sim).ard;
        out.push(ard.is_finite().then_some(ard));
    }
    out
}

fn run_record(sc: &Scenario, r: u32, res: &Results) -> RunRecord {
    RunRecord {
        replicate: r,
        outcomes: outcomes(sc, res),
        monthly: output::monthly_rows(sc, res)
            .into_iter()
            .map(|row| row.value)
            .collect(),
        agents: res.agents,
        agent_days: res.agent_days,
    }
}

/// The work the runs did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Work {
    pub runs: u64,
    pub agents: u64,
    pub agent_days: u64,
}

/// The shared beginnings of runs a worker keeps ([`ensemble::Trunks`]) with `replicates`
/// a point: one per replicate, each about a run's memory, up to 8. A worker goes through a
/// stem's points and each point's replicates in turn, so with more than that none would be
/// found again: then it keeps none and every run goes from the first day (the same
/// results, without sharing).
pub fn trunks_kept(replicates: u32) -> usize {
    const MOST: usize = 8;
    let r = replicates as usize;
    if r <= MOST { r } else { 0 }
}

/// Runs the points `todo` of `plan`, every replicate, `workers` runs side by side (each on
/// one thread), and gives each point's record to `finished` as soon as its replicates are
/// done (in the order they finish). Point `p` runs the scenario `plan.scenario(base, p)`,
/// going on from a kept run of its stem ([`Stems`]) where they share days, the points of a
/// stem one after another; one that is invalid stops the sweep with the error naming the
/// point.
pub fn run(
    plan: &Plan,
    base: &Scenario,
    todo: &[usize],
    workers: usize,
    finished: &mut dyn FnMut(PointRecord) -> Result<()>,
) -> Result<Work> {
    let reps = plan.replicates.max(1);
    let stems = Stems::new(plan, base, todo);
    let jobs: Vec<(usize, u32)> = stems
        .order
        .iter()
        .flat_map(|&p| (0..reps).map(move |r| (p, r)))
        .collect();
    let workers = workers.clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let cache: Mutex<HashMap<usize, Arc<Scenario>>> = Mutex::new(HashMap::new());
    let fingerprint = plan.fingerprint();
    let (tx, rx) = mpsc::channel::<Result<(usize, RunRecord)>>();
    let scenario = |p: usize| -> Result<Arc<Scenario>> {
        if let Some(sc) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&p) {
            return Ok(sc.clone());
        }
        let sc = Arc::new(plan.scenario(base, p)?);
        cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(p)
            .or_insert_with(|| sc.clone());
        Ok(sc)
    };
    let mut work = Work::default();
    std::thread::scope(|s| -> Result<()> {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, stop, jobs, scenario, stems) = (&next, &stop, &jobs, &scenario, &stems);
            s.spawn(move || {
                // The days a point shares with its stem are run once per stem, replicate
                // and worker.
                let mut trunks = ensemble::Trunks::new(trunks_kept(reps));
                // The engine's own parallel loops run in this one-thread pool, on this thread.
                ensemble::pool(Some(1)).install(|| {
                    while !stop.load(Ordering::Relaxed) {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(p, r)) = jobs.get(j) else { break };
                        let got = scenario(p).map(|sc| {
                            let res = trunks.simulate(stems.of(base, p), &sc, plan.seed, r);
                            (p, run_record(&sc, r, &res))
                        });
                        if tx.send(got).is_err() {
                            break;
                        }
                    }
                });
            });
        }
        drop(tx);
        let mut pending: HashMap<usize, Vec<RunRecord>> = HashMap::new();
        let mut failed = None;
        for msg in rx {
            if failed.is_some() {
                continue;
            }
            let outcome = msg.and_then(|(p, rec)| {
                work.runs += 1;
                work.agents += rec.agents;
                work.agent_days += rec.agent_days;
                let runs = pending.entry(p).or_default();
                runs.push(rec);
                if runs.len() == reps as usize {
                    let mut runs = pending.remove(&p).unwrap_or_default();
                    runs.sort_by_key(|r| r.replicate);
                    cache.lock().unwrap_or_else(|e| e.into_inner()).remove(&p);
                    finished(PointRecord {
                        fingerprint: fingerprint.clone(),
                        point: p,
                        runs,
                    })?;
                }
                Ok(())
            });
            if let Err(e) = outcome {
                stop.store(true, Ordering::Relaxed);
                failed = Some(e);
            }
        }
        failed.map_or(Ok(()), Err)
    })?;
    Ok(work)
}

/// Writes the result of a sweep into `dir` from its plan and its points' records (`read`
/// gives point `p`'s, read from wherever it was recorded): `points.csv`, `outcomes.csv`,
/// `series.csv`, `sensitivity.csv`, `places.csv`, `policies.csv` and `sweep.json` (the
/// scenario with its data files is the caller's, `bundle::write_scenario`, as for every
/// result folder). The same records give the same bytes. Returns the work the records hold
/// and the sensitivity indices.
pub fn write_result(
    dir: &Path,
    plan: &Plan,
    read: &dyn Fn(usize) -> Result<PointRecord>,
) -> Result<(Work, Vec<IndexRow>)> {
    let d = &plan.design;
    let names: Vec<String> = d.factors.iter().map(|f| f.name()).collect();
    let n = d.points.len();
    let mut work = Work::default();

    let path = dir.join("points.csv");
    let mut w = csv_writer(&path)?;
    let mut head: Vec<String> = vec!["point".into()];
    head.extend(names.iter().map(|s| output::cell(s).into_owned()));
    if !d.weights.is_empty() {
        head.push("weight".into());
    }
    record(&mut w, &path, &head)?;
    for (p, values) in d.points.iter().enumerate() {
        let mut row = vec![p.to_string()];
        row.extend(d.factors.iter().zip(values).map(|(f, &v)| f.text(v)));
        if let Some(wt) = d.weights.get(p) {
            row.push(output::fmt_value(*wt));
        }
        record(&mut w, &path, &row)?;
    }
    flush(w, &path)?;

    let opath = dir.join("outcomes.csv");
    let spath = dir.join("series.csv");
    let mut ow = csv_writer(&opath)?;
    let mut sw = csv_writer(&spath)?;
    let mut head: Vec<String> = vec!["point".into(), "replicate".into()];
    head.extend(names.iter().map(|s| output::cell(s).into_owned()));
    head.extend(plan.outcomes.iter().map(|s| output::cell(s).into_owned()));
    record(&mut ow, &opath, &head)?;
    let shead: &[&str] = match plan.series {
        Series::Replicates => &["point", "replicate", "month", "place", "metric", "value"],
        Series::Summary => &[
            "point", "month", "place", "metric", "mean", "p05", "p50", "p95",
        ],
    };
    record(&mut sw, &spath, shead)?;
    let cells: Vec<(String, String, String)> = plan
        .cells
        .iter()
        .map(|(m, p, x)| (m.clone(), output::cell(p).into_owned(), x.clone()))
        .collect();
    // means[outcome][point]: the mean over the point's replicates.
    let mut means = vec![vec![f64::NAN; n]; plan.outcomes.len()];
    for p in 0..n {
        let rec = read(p)?;
        if rec.runs.len() != plan.replicates as usize
            || rec.runs.iter().any(|r| {
                r.outcomes.len() != plan.outcomes.len() || r.monthly.len() != plan.cells.len()
            })
        {
            return Err(Error::Output {
                path: dir.to_path_buf(),
                message: format!("point {p}'s record does not match the sweep's plan"),
            });
        }
        let ps = p.to_string();
        let values: Vec<String> = d
            .factors
            .iter()
            .zip(&d.points[p])
            .map(|(f, &v)| f.text(v))
            .collect();
        for run in &rec.runs {
            work.runs += 1;
            work.agents += run.agents;
            work.agent_days += run.agent_days;
            let mut row = vec![ps.clone(), run.replicate.to_string()];
            row.extend(values.iter().cloned());
            row.extend(
                run.outcomes
                    .iter()
                    .map(|o| o.map_or(String::new(), output::fmt_value)),
            );
            record(&mut ow, &opath, &row)?;
            if plan.series == Series::Replicates {
                let rs = run.replicate.to_string();
                for ((m, place, metric), v) in cells.iter().zip(&run.monthly) {
                    record(
                        &mut sw,
                        &spath,
                        &[&ps, &rs, m, place, metric, &output::fmt_value(*v)],
                    )?;
                }
            }
        }
        if plan.series == Series::Summary {
            for (c, (m, place, metric)) in cells.iter().enumerate() {
                let v: Vec<f64> = rec.runs.iter().map(|r| r.monthly[c]).collect();
                let [mean, p05, p50, p95] = ensemble::summary(&v);
                let f = output::fmt_value;
                record(
                    &mut sw,
                    &spath,
                    &[&ps, m, place, metric, &f(mean), &f(p05), &f(p50), &f(p95)],
                )?;
            }
        }
        for (k, slot) in means.iter_mut().enumerate() {
            let v: Vec<f64> = rec.runs.iter().filter_map(|r| r.outcomes[k]).collect();
            if v.len() == rec.runs.len() && !v.is_empty() {
                slot[p] = v.iter().sum::<f64>() / v.len() as f64;
            }
        }
    }
    flush(ow, &opath)?;
    flush(sw, &spath)?;

    let mut rows: Vec<IndexRow> = Vec::new();
    for (k, name) in plan.outcomes.iter().enumerate() {
        rows.extend(sensitivity::indices(d, name, &means[k], plan.seed));
    }
    write_indices(&dir.join("sensitivity.csv"), &rows)?;
    output::write_csv(&dir.join("places.csv"), &plan.places)?;
    output::write_csv(&dir.join("policies.csv"), &plan.policies)?;
    SweepFile::new(plan.clone(), None).write(dir)?;
    Ok((work, rows))
}

/// `sensitivity.csv`, numbers that are not numbers as empty cells.
fn write_indices(path: &Path, rows: &[IndexRow]) -> Result<()> {
    let mut w = csv_writer(path)?;
    record(
        &mut w,
        path,
        &[
            "outcome",
            "parameter",
            "method",
            "index",
            "value",
            "p05",
            "p95",
        ],
    )?;
    let num = |v: f64| {
        if v.is_finite() {
            output::fmt_value(v)
        } else {
            String::new()
        }
    };
    for r in rows {
        record(
            &mut w,
            path,
            &[
                output::cell(&r.outcome).as_ref(),
                output::cell(&r.parameter).as_ref(),
                &r.method,
                &r.index,
                &num(r.value),
                &num(r.p05),
                &num(r.p95),
            ],
        )?;
    }
    flush(w, path)
}

fn csv_writer(path: &Path) -> Result<csv::Writer<std::io::BufWriter<std::fs::File>>> {
    let f = std::fs::File::create(path).map_err(|e| Error::write(path, e))?;
    Ok(csv::Writer::from_writer(std::io::BufWriter::new(f)))
}

fn record<W: std::io::Write, S: AsRef<[u8]>>(
    w: &mut csv::Writer<W>,
    path: &Path,
    row: &[S],
) -> Result<()> {
    w.write_record(row).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn flush<W: std::io::Write>(mut w: csv::Writer<W>, path: &Path) -> Result<()> {
    w.flush().map_err(|e| Error::write(path, e))
}

/// Shard folders checked to hold one whole sweep: the same fingerprint, one folder per
/// shard of the same count, none missing. Returns the sweep and the folder of each shard.
pub fn shards(dirs: &[PathBuf]) -> Result<(SweepFile, Vec<PathBuf>)> {
    let Some(first) = dirs.first() else {
        return Err(Error::Output {
            path: PathBuf::from("."),
            message: "merge: give the shard folders to merge".into(),
        });
    };
    let mut files = Vec::new();
    for d in dirs {
        let f = SweepFile::read(d).map_err(|e| match e {
            Error::Read { path, .. } if d.join(".").is_dir() => Error::Output {
                message: if d.to_string_lossy().ends_with(".unfinished") {
                    "is an unfinished sweep's working folder, not a shard: run the shard's command again to finish it".into()
                } else {
                    "holds no sweep.json: not a shard folder written by `northbound sweep --shard`".into()
                },
                path,
            },
            other => other,
        })?;
        if f.shard.is_none() {
            return Err(Error::Output {
                path: d.clone(),
                message: "is a whole sweep's result, not a shard: there is nothing to merge".into(),
            });
        }
        files.push(f);
    }
    let base = &files[0];
    let count = base.shard.map_or(1, |s| s.count);
    for (d, f) in dirs.iter().zip(&files).skip(1) {
        if f.fingerprint != base.fingerprint || f.shard.map(|s| s.count) != Some(count) {
            let p = &f.plan;
            let q = &base.plan;
            let mut why = Vec::new();
            if p.scenario_sha256 != q.scenario_sha256 {
                why.push("scenario".to_string());
            }
            if p.seed != q.seed {
                why.push(format!("seed {} vs {}", p.seed, q.seed));
            }
            if p.replicates != q.replicates {
                why.push(format!("replicates {} vs {}", p.replicates, q.replicates));
            }
            if p.design != q.design {
                why.push("design".into());
            }
            if f.shard.map(|s| s.count) != Some(count) {
                why.push(format!(
                    "shards {} vs {count}",
                    f.shard.map_or(0, |s| s.count)
                ));
            }
            if why.is_empty() {
                why.push("plan".into());
            }
            return Err(Error::Output {
                path: d.clone(),
                message: format!(
                    "is a shard of another sweep than {} (they differ in: {}): refusing to merge them",
                    first.display(),
                    why.join(", ")
                ),
            });
        }
    }
    let mut by: Vec<Option<PathBuf>> = vec![None; count as usize];
    for (d, f) in dirs.iter().zip(&files) {
        let i = f.shard.map_or(1, |s| s.index) as usize;
        if let Some(other) = &by[i - 1] {
            return Err(Error::Output {
                path: d.clone(),
                message: format!(
                    "is shard {i}/{count} again (so is {}): give each shard once",
                    other.display()
                ),
            });
        }
        by[i - 1] = Some(d.clone());
    }
    let missing: Vec<String> = by
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_none())
        .map(|(i, _)| format!("{}/{count}", i + 1))
        .collect();
    if !missing.is_empty() {
        let example = Shard {
            index: by
                .iter()
                .position(Option::is_none)
                .map_or(1, |i| i as u32 + 1),
            count,
        };
        let stem = first
            .to_string_lossy()
            .strip_suffix(&base.shard.map(|s| s.suffix()).unwrap_or_default())
            .map(|s| format!("{s}{}", example.suffix()));
        return Err(Error::Output {
            path: first.clone(),
            message: format!(
                "merge: missing shard{} {} of this sweep{}",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                stem.map_or(String::new(), |s| format!(" (such as {s})"))
            ),
        });
    }
    let mut sweep = files.swap_remove(0);
    sweep.shard = None;
    Ok((sweep, by.into_iter().flatten().collect()))
}

/// The result folder a set of shard folders merges into by default: their name without the
/// `.shard-I-of-N` suffix, if they share it.
pub fn merged_name(dirs: &[PathBuf], count: u32) -> Option<PathBuf> {
    let mut stem = None;
    for d in dirs {
        let s = d.to_string_lossy().trim_end_matches('/').to_string();
        let (head, tail) = s.rsplit_once(".shard-")?;
        if !tail.ends_with(&format!("-of-{count}")) {
            return None;
        }
        if stem.get_or_insert_with(|| head.to_string()) != head {
            return None;
        }
    }
    stem.map(PathBuf::from)
}

/// The `Method` a design name and its size give.
pub fn method(
    name: &str,
    points: Option<usize>,
    levels: Option<usize>,
) -> std::result::Result<Method, String> {
    Ok(match name {
        "grid" => Method::Grid {
            levels: points.unwrap_or(5),
        },
        "lhs" => Method::Lhs {
            points: points.unwrap_or(100),
        },
        "sobol" => Method::Sobol {
            base: points.unwrap_or(64),
        },
        "morris" => Method::Morris {
            trajectories: points.unwrap_or(10),
            levels: levels.unwrap_or(4),
        },
        other => {
            return Err(format!(
                "--design \"{other}\": expected grid, lhs, sobol or morris"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::design::{self, Factor};
    use crate::model::engine::{self, RunOptions};

    fn minimal() -> Scenario {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        Scenario::load(&path).unwrap()
    }

    fn plan(sc: &Scenario, replicates: u32) -> Plan {
        let mut fs = vec![
            Factor::parse("places[\"Roxham Road\"].detection=0.5..0.99", "--vary").unwrap(),
            Factor::parse("policies.stca_extension.window_days=7,30", "--vary").unwrap(),
        ];
        design::resolve(sc, &mut fs).unwrap();
        let d = design::design(Method::Lhs { points: 6 }, fs, 3).unwrap();
        Plan::new(sc, d, replicates, 11, Series::Replicates)
    }

    fn collect(plan: &Plan, sc: &Scenario, todo: &[usize], workers: usize) -> Vec<PointRecord> {
        let mut got = Vec::new();
        run(plan, sc, todo, workers, &mut |r| {
            got.push(r);
            Ok(())
        })
        .unwrap();
        got.sort_by_key(|r| r.point);
        got
    }

    #[test]
    fn a_point_depends_on_its_values_and_replicate_only() {
        let sc = minimal();
        let plan = plan(&sc, 2);
        let all = collect(&plan, &sc, &[0, 1, 2, 3, 4, 5], 2);
        let one = collect(&plan, &sc, &[4, 1], 1);
        assert_eq!(one[0], all[1], "point 1 alone, on one worker");
        assert_eq!(one[1], all[4], "point 4 after another");
        // Replicate r of a point is replicate r of the scenario with the point's values.
        let sc3 = plan.scenario(&sc, 3).unwrap();
        assert_eq!(all[3].runs[1], from_first_day(&sc3, 1));
        assert_ne!(all[0].runs[0].outcomes, all[0].runs[1].outcomes);
    }

    /// Replicate `r` (seed 11) of `sp` run from the first day, as a sweep records it.
    fn from_first_day(sp: &Scenario, r: u32) -> RunRecord {
        let res = engine::simulate(
            sp,
            &RunOptions {
                seed: Some(ensemble::replicate_seed(11, r)),
                ..RunOptions::default()
            },
        );
        run_record(sp, r, &res)
    }

    #[test]
    fn points_that_vary_policies_are_the_runs_from_the_first_day() {
        // Every point shares the months before the extension with the scenario, so its
        // runs go on from one kept run of it (and a point sharing fewer days comes later).
        let sc = minimal();
        let mut fs = vec![
            Factor::parse("policies.stca_extension.window_days=7..40", "--vary").unwrap(),
            Factor::parse("policies.resettlement_quota.places=10..2000", "--vary").unwrap(),
        ];
        design::resolve(&sc, &mut fs).unwrap();
        let d = design::design(Method::Lhs { points: 5 }, fs, 2).unwrap();
        let plan = Plan::new(&sc, d, 2, 11, Series::Replicates);
        assert_eq!(
            plan.stems(),
            0,
            "points over policies go on from the scenario"
        );
        for (p, rec) in collect(&plan, &sc, &[0, 1, 2, 3, 4], 1).iter().enumerate() {
            let sp = plan.scenario(&sc, p).unwrap();
            assert!(engine::shared_days(&sc, &sp) > 0, "point {p} shares days");
            for r in 0..2 {
                assert_eq!(
                    rec.runs[r as usize],
                    from_first_day(&sp, r),
                    "point {p}, replicate {r}"
                );
            }
        }
    }

    #[test]
    fn points_that_share_their_other_values_go_on_from_one_run_of_them() {
        // A grid over a place's detection and a policy: the points of one detection share
        // the months before the extension, so their runs go on from one kept run of the
        // scenario with that detection. A point alone with its detection has no stem.
        let sc = minimal();
        let mut fs = vec![
            Factor::parse("places[\"Roxham Road\"].detection=0.6,0.9", "--vary").unwrap(),
            Factor::parse("policies.stca_extension.window_days=7,20,30", "--vary").unwrap(),
        ];
        design::resolve(&sc, &mut fs).unwrap();
        let d = design::design(Method::Grid { levels: 2 }, fs, 2).unwrap();
        let plan = Plan::new(&sc, d, 2, 11, Series::Replicates);
        let n = plan.design.points.len();
        assert_eq!(n, 6);
        let todo: Vec<usize> = (0..n).collect();
        let stems = Stems::new(&plan, &sc, &todo);
        assert_eq!(stems.scenarios.len(), 2);
        assert_eq!(plan.stems(), 2);
        let lone = Stems::new(&plan, &sc, &[0, 1 + n / 2]);
        assert!(lone.scenarios.is_empty() && lone.of.is_empty());
        let stem_of = |p: usize| stems.of.get(&p).copied();
        for w in stems.order.windows(2) {
            assert!(stem_of(w[0]) <= stem_of(w[1]), "{:?}", stems.order);
        }
        for (p, rec) in collect(&plan, &sc, &todo, 2).iter().enumerate() {
            let sp = plan.scenario(&sc, p).unwrap();
            let stem = stems.of(&sc, p);
            assert!(!std::ptr::eq(stem, &sc), "point {p} has a stem");
            assert_eq!(
                engine::shared_days(&sc, &sp),
                0,
                "point {p} differs from day one"
            );
            assert!(engine::shared_days(stem, &sp) > 0, "point {p} shares days");
            for r in 0..2 {
                assert_eq!(
                    rec.runs[r as usize],
                    from_first_day(&sp, r),
                    "point {p}, replicate {r}"
                );
            }
        }
    }

    #[test]
    fn a_bad_point_stops_the_sweep_naming_it() {
        let sc = minimal();
        let mut fs =
            vec![Factor::parse("places[\"Roxham Road\"].detection=0.5,1.5", "--vary").unwrap()];
        design::resolve(&sc, &mut fs).unwrap();
        let d = design::design(Method::Grid { levels: 2 }, fs, 1).unwrap();
        let plan = Plan::new(&sc, d, 1, 1, Series::Replicates);
        let e = run(&plan, &sc, &[0, 1], 2, &mut |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sweep point 1 (places[\"Roxham Road\"].detection = 1.5)"),
            "{e}"
        );
    }

    #[test]
    fn shards_split_the_points_and_slurm_numbers_them() {
        let s = Shard::parse("2/3").unwrap();
        assert_eq!((s.index, s.count), (2, 3));
        assert_eq!(s.suffix(), ".shard-2-of-3");
        assert_eq!(
            Shard {
                index: 3,
                count: 12
            }
            .suffix(),
            ".shard-03-of-12"
        );
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string())
        };
        assert_eq!(Shard::from_slurm(&env(&[])).unwrap(), None);
        let got = Shard::from_slurm(&env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "4"),
            ("SLURM_ARRAY_TASK_MAX", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]));
        assert_eq!(got.unwrap(), Some(Shard { index: 2, count: 4 }));
        let e = Shard::from_slurm(&env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]))
        .unwrap_err();
        assert!(e.contains("not a range without gaps"), "{e}");
        let e = Shard::from_slurm(&env(&[("SLURM_ARRAY_TASK_ID", "3")])).unwrap_err();
        assert!(e.contains("give --shard"), "{e}");
        let sc = minimal();
        let plan = plan(&sc, 1);
        let parts: Vec<Vec<usize>> = (1..=4)
            .map(|i| points_of(&plan, Some(Shard { index: i, count: 4 })))
            .collect();
        assert_eq!(parts, [vec![0, 4], vec![1, 5], vec![2], vec![3]]);
        assert_eq!(
            merged_name(
                &[
                    PathBuf::from("r/sw.shard-1-of-2"),
                    PathBuf::from("r/sw.shard-2-of-2/")
                ],
                2
            ),
            Some(PathBuf::from("r/sw"))
        );
        assert_eq!(
            merged_name(
                &[
                    PathBuf::from("a.shard-1-of-2"),
                    PathBuf::from("b.shard-2-of-2")
                ],
                2
            ),
            None
        );
    }

    #[test]
    fn a_working_folder_resumes_its_own_points_and_refuses_others() {
        let sc = minimal();
        let p = plan(&sc, 1);
        let sweep = SweepFile::new(p.clone(), None);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sw.unfinished");
        let (w, r) = Workdir::open(&dir, &sweep, false).unwrap();
        assert!(r.finished.is_empty());
        run(&p, &sc, &[2, 0], 2, &mut |rec| w.write(&rec)).unwrap();
        // A half-written file under a temporary name is not a point.
        std::fs::write(dir.join(".point-000001.json.tmp-1-0"), "{").unwrap();
        let (_, r) = Workdir::open(&dir, &sweep, false).unwrap();
        assert_eq!(r.finished, [0, 2]);
        // A damaged point is run again.
        std::fs::write(dir.join(point_file(2)), "{\"trunc").unwrap();
        let (_, r) = Workdir::open(&dir, &sweep, false).unwrap();
        assert_eq!((r.finished.len(), r.damaged.len()), (1, 1), "{r:?}");
        // Another sweep's folder is refused, unless forced.
        let other = SweepFile::new(plan(&sc, 2), None);
        let e = Workdir::open(&dir, &other, false).unwrap_err().to_string();
        assert!(e.contains("finished points of another sweep"), "{e}");
        let (_, r) = Workdir::open(&dir, &other, true).unwrap();
        assert_eq!((r.finished.len(), r.discarded), (0, 2));
        // Anything else in it is never touched.
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let e = Workdir::open(&dir, &other, true).unwrap_err().to_string();
        assert!(e.contains("notes.txt"), "{e}");
        let w = Workdir {
            dir: dir.clone(),
            fingerprint: other.fingerprint.clone(),
        };
        assert_eq!(w.remove(), ["notes.txt"]);
        assert!(dir.join("notes.txt").exists());
    }

    #[test]
    fn the_result_is_the_same_from_shards_and_from_one_run() {
        let sc = minimal();
        let p = plan(&sc, 2);
        let tmp = tempfile::tempdir().unwrap();
        let whole = tmp.path().join("whole");
        let (w, _) = Workdir::open(&whole, &SweepFile::new(p.clone(), None), false).unwrap();
        run(&p, &sc, &points_of(&p, None), 2, &mut |r| w.write(&r)).unwrap();
        let mut dirs = Vec::new();
        for i in [2, 1, 3] {
            let s = Shard { index: i, count: 3 };
            let d = tmp.path().join(format!("sw{}", s.suffix()));
            let (w, _) = Workdir::open(&d, &SweepFile::new(p.clone(), Some(s)), false).unwrap();
            run(&p, &sc, &points_of(&p, Some(s)), 1, &mut |r| w.write(&r)).unwrap();
            dirs.push(d);
        }
        let (sweep, by) = shards(&dirs).unwrap();
        assert_eq!(sweep.fingerprint, p.fingerprint());
        let a = tmp.path().join("a");
        let b = tmp.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let f = p.fingerprint();
        let (work, _) = write_result(&a, &p, &|q| read_point(&whole, q, &f)).unwrap();
        assert_eq!(work.runs, 12);
        write_result(&b, &p, &|q| read_point(&by[q % 3], q, &f)).unwrap();
        for name in [
            "points.csv",
            "outcomes.csv",
            "series.csv",
            "sensitivity.csv",
            "places.csv",
            "policies.csv",
            "sweep.json",
        ] {
            assert_eq!(
                std::fs::read(a.join(name)).unwrap(),
                std::fs::read(b.join(name)).unwrap(),
                "{name}"
            );
        }
        let outcomes = std::fs::read_to_string(a.join("outcomes.csv")).unwrap();
        assert!(outcomes.starts_with("point,replicate,\"places[\"\"Roxham Road\"\"].detection\",policies.stca_extension.window_days,roxham_attempts_before_extension,"), "{outcomes}");
        assert_eq!(outcomes.lines().count(), 1 + 12);
        // Missing and duplicate shards are refused, by name.
        let e = shards(&dirs[..2]).unwrap_err().to_string();
        assert!(e.contains("missing shard 3/3"), "{e}");
        let e = shards(&[dirs[0].clone(), dirs[1].clone(), dirs[0].clone()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("is shard 2/3 again"), "{e}");
    }
}
