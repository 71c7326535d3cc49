//! A fuzz harness on stable Rust: seeded mutations of the bundled scenarios, of an observed
//! data file and of a result folder, checked against invariants rather than only for the
//! absence of panics.
//!
//! * Scenarios (`scenarios/*.toml` mutated line by line and byte by byte): loading never
//!   panics, and a refusal names the file. A small accepted scenario is run, and every day
//!   its states add up to the agents created. Some cases also go through the binary:
//!   `check` accepts exactly what `run` accepts, a refused run leaves nothing behind, and an
//!   accepted run's `states.csv` conserves agents.
//! * Observed data (a CSV file with a marker planted in columns the scenario does not name):
//!   loading never panics, and no message echoes the marker.
//! * Result folders (a run's folder with a file truncated, corrupted, emptied, replaced by
//!   a folder or removed): `plot` (`present::draw`) never panics.
//!
//! `cargo test` runs a bounded number of cases (see [`cases`]). For longer:
//!
//! ```sh
//! NORTHBOUND_FUZZ_CASES=20000 NORTHBOUND_FUZZ_SEED=7 cargo test --release --test fuzz -- --nocapture
//! ```

use northbound::Scenario;
use northbound::model::agent::State;
use northbound::model::engine::{RunOptions, simulate};
use std::ffi::OsString;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_northbound");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Scenario cases; the other kinds of case are fractions of it. `NORTHBOUND_FUZZ_CASES`
/// sets it (default 300).
fn cases() -> usize {
    std::env::var("NORTHBOUND_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn seed() -> u64 {
    std::env::var("NORTHBOUND_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_261_129)
}

/// splitmix64: small, seeded, the same everywhere.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Values that have broken, or could break, a parser, a check or a cast.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "0.4",
    "1.5",
    "65535",
    "65536",
    "65550",
    "60001",
    "4294967295",
    "9223372036854775807",
    "18446744073709551615",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-0.0",
    "true",
    "\"\"",
    "\" x \"",
    "\"=cmd|' /C calc'!A0\"",
    "\"@SUM(A1)\"",
    "\"a\\u0000b\"",
    "\"Roxham Road\"",
    "\"Lacolle\"",
    "\"New York City\"",
    "\"Montre\u{301}al\"",
    "\"../../etc/passwd\"",
    "\"/dev/zero\"",
    "\"/proc/self/environ\"",
    "1900-01-01",
    "2023-03-25",
    "2200-01-01",
    "2023-02-30",
    "{ dist = \"fixed\", days = 0 }",
    "{ dist = \"uniform\", min = 5, max = 2 }",
    "[]",
    "{}",
];

/// A number of the text multiplied by 0, 0.5, 0.9, 1.1, 2 or 10 (whole numbers kept
/// whole, others held at most 1).
fn nudge(g: &mut Gen, lines: &mut [String]) {
    let numeric: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            lines[i]
                .split(" = ")
                .nth(1)
                .and_then(|v| v.split_whitespace().next())
                .is_some_and(|v| v.parse::<f64>().is_ok())
        })
        .collect();
    if !numeric.is_empty() {
        let i = *g.pick(&numeric);
        let (key, rest) = lines[i].split_once(" = ").unwrap_or_default();
        let v: f64 = rest
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let f = *g.pick(&[0.0, 0.5, 0.9, 1.1, 2.0, 10.0]);
        let nudged = if v.fract() == 0.0 && v.abs() >= 1.0 {
            format!("{}", (v * f).round())
        } else {
            format!("{}", (v * f).min(1.0))
        };
        lines[i] = format!("{key} = {nudged}");
    }
}

/// A scenario's text with one number nudged ([`nudge`]).
fn nudged(g: &mut Gen, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    nudge(g, &mut lines);
    lines.join("\n") + "\n"
}

/// One mutation of a scenario's text.
fn mutate(g: &mut Gen, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let n = lines.len().max(1);
    match g.below(12) {
        // A number nudged: mostly still valid, so that accepted scenarios get run.
        10 | 11 => nudge(g, &mut lines),
        // A value replaced (keep the key, break the value).
        0..=4 => {
            let keyed: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = ") && !lines[i].starts_with('#'))
                .collect();
            if !keyed.is_empty() {
                let i = *g.pick(&keyed);
                let key = lines[i].split(" = ").next().unwrap_or("").to_string();
                lines[i] = format!("{key} = {}", g.pick(VALUES));
            }
        }
        // A line removed or repeated.
        5 => {
            lines.remove(g.below(n).min(lines.len().saturating_sub(1)));
        }
        6 => {
            let i = g.below(n).min(lines.len().saturating_sub(1));
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        // A whole table repeated (a place, a route, an inflow).
        7 => {
            let starts: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].starts_with("[["))
                .collect();
            if !starts.is_empty() {
                let s = *g.pick(&starts);
                let e = (s + 1..lines.len())
                    .find(|&i| lines[i].starts_with('['))
                    .unwrap_or(lines.len());
                let block: Vec<String> = lines[s..e].to_vec();
                lines.extend(block);
            }
        }
        // An unknown key.
        8 => {
            let i = g.below(n).min(lines.len());
            lines.insert(i, "frobnicate = 1".into());
        }
        // Bytes: cut, or one changed.
        _ => {
            let mut bytes = lines.join("\n").into_bytes();
            if g.below(2) == 0 {
                bytes.truncate(g.below(bytes.len() + 1));
            } else if !bytes.is_empty() {
                let i = g.below(bytes.len());
                bytes[i] = (g.next() & 0xFF) as u8;
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    lines.join("\n") + "\n"
}

/// The bundled scenarios' texts, with their paths (data files resolve from there).
fn bundled() -> Vec<(PathBuf, String)> {
    let mut v: Vec<(PathBuf, String)> = fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let t = fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    v.sort();
    v
}

/// Every day of a run, the states add up to the agents created so far.
fn assert_conserved(sc: &Scenario, what: &str) {
    let res = simulate(sc, &RunOptions::default());
    for d in 0..res.days {
        let sum: u64 = State::ALL.iter().map(|&s| res.state_count(d, s)).sum();
        assert_eq!(sum, res.created[d as usize], "{what}: day {d}");
    }
    assert_eq!(res.created.last().copied(), Some(res.agents), "{what}");
}

fn small(sc: &Scenario) -> bool {
    sc.expected_agents() < 5_000.0 && sc.days() <= 400 && sc.places.len() <= 50
}

#[test]
fn mutated_scenarios_load_without_panic_and_accepted_ones_conserve_agents() {
    let mut g = Gen(seed());
    let sources = bundled();
    let minimal = sources
        .iter()
        .position(|(p, _)| p.ends_with("minimal.toml"))
        .unwrap();
    let (mut accepted, mut refused, mut ran) = (0, 0, 0);
    for case in 0..cases() {
        // Mostly the small scenario, whose accepted mutants can be run.
        let k = if g.below(4) == 0 {
            g.below(sources.len())
        } else {
            minimal
        };
        let (path, text) = &sources[k];
        let mut mutated = mutate(&mut g, text);
        for _ in 0..g.below(2) {
            mutated = mutate(&mut g, &mutated);
        }
        let what = format!("case {case} (from {})", path.display());
        let loaded = catch_unwind(AssertUnwindSafe(|| {
            Scenario::from_bytes(path, mutated.clone().into_bytes())
        }))
        .unwrap_or_else(|_| panic!("{what}: loading panicked on\n{mutated}"));
        match loaded {
            Ok(sc) => {
                accepted += 1;
                if small(&sc) {
                    ran += 1;
                    let ok = catch_unwind(AssertUnwindSafe(|| assert_conserved(&sc, &what)));
                    assert!(ok.is_ok(), "{what}: the run failed on\n{mutated}");
                }
            }
            Err(e) => {
                refused += 1;
                let msg = e.to_string();
                assert!(
                    msg.contains(&path.display().to_string()),
                    "{what}: the refusal does not name the file: {msg}"
                );
            }
        }
    }
    println!(
        "scenarios: {} cases, {accepted} accepted ({ran} run), {refused} refused",
        cases()
    );
}

/// Runs the binary in `cwd`.
fn northbound(cwd: &Path, args: &[OsString]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the northbound binary starts")
}

/// Every day of `states.csv`, the states add up to `created`.
fn states_conserved(dir: &Path) -> bool {
    let Ok(mut rdr) = csv::Reader::from_path(dir.join("states.csv")) else {
        return false;
    };
    let mut days: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for rec in rdr.records() {
        let Ok(rec) = rec else { return false };
        let v: f64 = rec[2].parse().unwrap_or(f64::NAN);
        let e = days.entry(rec[0].to_string()).or_default();
        if &rec[1] == "created" {
            e.1 = v;
        } else {
            e.0 += v;
        }
    }
    !days.is_empty() && days.values().all(|(sum, created)| sum == created)
}

#[test]
fn check_accepts_exactly_what_run_accepts_and_a_refused_run_leaves_nothing() {
    let mut g = Gen(seed() ^ 1);
    let text = fs::read_to_string(root().join("scenarios/minimal.toml")).unwrap();
    let n = (cases() / 25).max(4);
    let (mut both_ok, mut both_refused) = (0, 0);
    for case in 0..n {
        let dir = tempfile::tempdir().unwrap();
        // Half the cases only nudge numbers, so that both commands often accept.
        let mutated = if g.below(2) == 0 {
            nudged(&mut g, &text)
        } else {
            mutate(&mut g, &text)
        };
        let sc = dir.path().join("case.toml");
        fs::write(&sc, &mutated).unwrap();
        let out = dir.path().join("out");
        let check = northbound(dir.path(), &["check".into(), sc.clone().into()]);
        let run = northbound(
            dir.path(),
            &[
                "run".into(),
                sc.clone().into(),
                "--out".into(),
                out.clone().into(),
                "-q".into(),
            ],
        );
        let what = format!(
            "case {case}\n--- check ---\n{}\n--- run ---\n{}\n--- scenario ---\n{mutated}",
            String::from_utf8_lossy(&check.stderr),
            String::from_utf8_lossy(&run.stderr)
        );
        for o in [&check, &run] {
            assert!(o.status.code().is_some(), "killed by a signal: {what}");
            assert!(
                !String::from_utf8_lossy(&o.stderr).contains("panicked"),
                "{what}"
            );
        }
        assert_eq!(
            check.status.success(),
            run.status.success(),
            "check and run disagree: {what}"
        );
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        if run.status.success() {
            both_ok += 1;
            assert_eq!(left, ["case.toml", "out"], "{what}");
            assert!(states_conserved(&out), "agents not conserved: {what}");
        } else {
            both_refused += 1;
            assert_eq!(left, ["case.toml"], "a refused run left output: {what}");
        }
    }
    println!("check vs run: {n} cases, {both_ok} accepted by both, {both_refused} refused by both");
}

/// A small observed data file, with a marker in a column the scenario does not name and in
/// a cell of one it does.
const OBSERVED: &str = "month,count,province,secret\n2023-01,20,QC,MARKER_1\n2023-02,25,QC,MARKER_2\n2023-03,30,QC,MARKER_3\n2023-04,10,QC,MARKER_4\n";

#[test]
fn mutated_observed_data_never_panics_nor_echoes_what_the_scenario_did_not_name() {
    let mut g = Gen(seed() ^ 2);
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root().join("scenarios/minimal.toml")).unwrap()
        + "\n[[observed]]\nname = \"roxham\"\nfile = \"obs.csv\"\nfilter = { province = \"QC\" }\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n";
    let sc = dir.path().join("observed.toml");
    fs::write(&sc, &text).unwrap();
    let n = (cases() / 3).max(10);
    let mut refused = 0;
    for case in 0..n {
        let mut data = mutate(&mut g, OBSERVED);
        if g.below(3) == 0 {
            // A cell of a named column replaced by a marker.
            data = data.replacen(",20,", ",MARKER_5,", 1);
        }
        fs::write(dir.path().join("obs.csv"), &data).unwrap();
        let what = format!("case {case} on\n{data}");
        let loaded = catch_unwind(|| Scenario::load(&sc))
            .unwrap_or_else(|_| panic!("{what}: loading panicked"));
        if let Err(e) = loaded {
            refused += 1;
            let msg = e.to_string();
            assert!(!msg.contains("MARKER"), "{what}: echoed {msg}");
            assert!(
                msg.contains("obs.csv") || msg.contains("observed.toml"),
                "{what}: {msg}"
            );
        }
    }
    println!("observed data: {n} cases, {refused} refused");
}

#[test]
fn damaged_result_folders_never_make_plot_panic() {
    let mut g = Gen(seed() ^ 3);
    let work = tempfile::tempdir().unwrap();
    let run = work.path().join("run");
    let o = northbound(
        work.path(),
        &[
            "run".into(),
            root().join("scenarios/minimal.toml").into(),
            "--out".into(),
            run.clone().into(),
            "-q".into(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files: Vec<String> = [
        "monthly.csv",
        "places.csv",
        "policies.csv",
        "daily.csv",
        "summary.csv",
    ]
    .map(String::from)
    .to_vec();
    let n = (cases() / 15).max(6);
    let mut refused = 0;
    for case in 0..n {
        let dir = work.path().join(format!("case{case}"));
        fs::create_dir(&dir).unwrap();
        for e in fs::read_dir(&run).unwrap() {
            let e = e.unwrap();
            fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
        let f = dir.join(g.pick(&files));
        match g.below(5) {
            0 => fs::remove_file(&f).unwrap(),
            1 => {
                fs::remove_file(&f).unwrap();
                fs::create_dir(&f).unwrap();
            }
            2 => fs::write(&f, "").unwrap(),
            _ => {
                let text = fs::read_to_string(&f).unwrap();
                let head: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
                fs::write(&f, mutate(&mut g, &head)).unwrap();
            }
        }
        let drawn = catch_unwind(|| northbound::present::draw(&dir))
            .unwrap_or_else(|_| panic!("case {case}: plot panicked on {}", f.display()));
        if drawn.is_err() {
            refused += 1;
        }
        let _ = fs::remove_dir_all(&dir);
    }
    println!("result folders: {n} cases, {refused} refused");
}
