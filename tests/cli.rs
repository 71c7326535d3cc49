//! End-to-end tests of the `northbound` binary: each test runs the real executable in a
//! temporary folder and looks only at what a user sees (exit status, stdout, stderr and the
//! files written).
//!
//! `tests/bad/*.toml` are broken variants of `scenarios/minimal.toml`. Each starts with one
//! or more `# expect: <fragment>` lines; every fragment must appear in stderr. Data files
//! that the bad scenarios read live in `tests/bad/data/`, so that only the top-level
//! `*.toml` files are taken as cases.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_northbound");

/// The files a run folder holds (minimal.toml reads no data file: no data/).
const RUN_FILES: [&str; 13] = [
    "crossings.png",
    "crossings.svg",
    "daily.csv",
    "manifest.json",
    "monthly.csv",
    "observed_crossings.csv",
    "outcomes.png",
    "outcomes.svg",
    "places.csv",
    "policies.csv",
    "scenario.toml",
    "states.csv",
    "summary.csv",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn minimal() -> PathBuf {
    root().join("scenarios/minimal.toml")
}

fn tmp() -> TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// Runs `northbound args...` with `cwd` as the current folder.
fn northbound<I, S>(cwd: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    northbound_with(cwd, args, &[])
}

/// [`northbound`] with these environment variables set.
fn northbound_with<I, S>(cwd: &Path, args: I, env: &[(&str, &str)]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RAYON_NUM_THREADS")
        .envs(env.iter().copied())
        .output()
        .expect("the northbound binary starts")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A readable account of a finished command, for assertion messages.
fn show(o: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status,
        stdout(o),
        stderr(o)
    )
}

/// Asserts that a command succeeded.
#[track_caller]
fn assert_ok(o: &Output, what: &str) {
    assert!(o.status.success(), "{what} should succeed\n{}", show(o));
}

/// Checks that a command failed the way a user error should: an exit status that is not 0
/// (not killed by a signal) and no panic. Returns a description of what is wrong, if any.
fn clean_failure(o: &Output) -> Option<String> {
    let err = stderr(o);
    match o.status.code() {
        None => return Some("killed by a signal instead of exiting".into()),
        Some(0) => return Some("exit status 0 on a bad input".into()),
        Some(_) => {}
    }
    if err.contains("panicked") {
        return Some("panicked".into());
    }
    if err.trim().is_empty() {
        return Some("empty stderr".into());
    }
    None
}

#[track_caller]
fn assert_clean_failure(o: &Output, what: &str) {
    if let Some(problem) = clean_failure(o) {
        panic!("{what}: {problem}\n{}", show(o));
    }
}

/// Names of the entries of a folder, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file of a folder with its bytes (a subfolder as `name/` with its own snapshot's).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for n in entries(dir) {
        let path = dir.join(&n);
        if path.is_dir() {
            for (k, v) in snapshot(&path) {
                out.insert(format!("{n}/{k}"), v);
            }
            out.insert(format!("{n}/"), Vec::new());
        } else {
            out.insert(n, fs::read(path).unwrap());
        }
    }
    out
}

/// Asserts that `dir` holds no hidden leftovers such as `.out.partial-123` or `.out.old`.
#[track_caller]
fn assert_no_leftovers(dir: &Path) {
    let hidden: Vec<String> = entries(dir)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        hidden.is_empty(),
        "leftover hidden entries in {}: {hidden:?}",
        dir.display()
    );
}

/// Runs the minimal scenario into `out` (with extra arguments) and asserts success.
fn run_minimal(cwd: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<OsString> = vec![
        "run".into(),
        minimal().into(),
        "--out".into(),
        out.into(),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(OsString::from));
    let o = northbound(cwd, &args);
    assert_ok(&o, &format!("run minimal.toml {extra:?}"));
    o
}

fn read_manifest(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("manifest.json")).expect("manifest.json is readable");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("manifest.json is not JSON: {e}\n{text}"))
}

fn first_line(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    text.lines().next().unwrap_or("").to_string()
}

/// The `.toml` files directly inside `dir`, sorted.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension() == Some(OsStr::new("toml")))
        .collect();
    v.sort();
    v
}

/// The `# expect:` fragments at the top of a bad scenario; the first line must be one.
fn expectations(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    let v: Vec<String> = text
        .lines()
        .map_while(|l| l.strip_prefix("# expect:"))
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect();
    assert!(
        !v.is_empty(),
        "{}: the first line must be `# expect: <message fragment>`",
        path.display()
    );
    v
}

// ---------------------------------------------------------------------------------------
// Bad scenarios
// ---------------------------------------------------------------------------------------

/// What is wrong with how `northbound <cmd> <bad file>` failed, if anything.
fn judge_bad(cmd: &str, file: &Path, fragments: &[String], o: &Output) -> Vec<String> {
    let mut problems = Vec::new();
    let err = stderr(o);
    if let Some(p) = clean_failure(o) {
        problems.push(p);
    }
    for f in fragments {
        if !err.contains(f.as_str()) {
            problems.push(format!("stderr lacks the fragment {f:?}"));
        }
    }
    let shown = file.display().to_string();
    if !err.contains(&shown) {
        problems.push(format!("stderr does not name the file {shown}"));
    }
    problems
        .into_iter()
        .map(|p| format!("`{cmd} {}`: {p}\n{}", file.display(), show(o)))
        .collect()
}

#[test]
fn bad_scenarios_fail_with_a_message_naming_the_file_and_the_problem() {
    let dir = root().join("tests/bad");
    let files = toml_files(&dir);
    assert!(
        files.len() >= 20,
        "expected the bad scenarios in {}, found {}",
        dir.display(),
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let fragments = expectations(file);

        // `run`, from an unrelated folder, into a folder that must not appear.
        let cwd = tmp();
        let out = cwd.path().join("out");
        let o = northbound(
            cwd.path(),
            [
                OsStr::new("run"),
                file.as_os_str(),
                OsStr::new("--out"),
                out.as_os_str(),
            ],
        );
        failures.extend(judge_bad("run", file, &fragments, &o));
        if out.exists() {
            failures.push(format!(
                "`run {}` created the output folder {}",
                file.display(),
                out.display()
            ));
        }
        let left = entries(cwd.path());
        if !left.is_empty() {
            failures.push(format!(
                "`run {}` left entries in the current folder: {left:?}",
                file.display()
            ));
        }

        // `check` says the same.
        let o = northbound(cwd.path(), [OsStr::new("check"), file.as_os_str()]);
        failures.extend(judge_bad("check", file, &fragments, &o));
        if stdout(&o).contains("valid") {
            failures.push(format!(
                "`check {}` reported the scenario valid",
                file.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) with the bad scenarios:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The inflow file of a bad scenario is found next to the scenario, not in the current
/// folder: the message names the resolved path.
#[test]
fn inflow_files_resolve_against_the_scenario_folder() {
    let cwd = tmp();
    let file = root().join("tests/bad/missing_inflow_file.toml");
    let o = northbound(cwd.path(), [OsStr::new("check"), file.as_os_str()]);
    assert_clean_failure(&o, "check missing_inflow_file.toml");
    let want = root().join("tests/bad/data/nope.csv");
    assert!(
        stderr(&o).contains(&want.display().to_string()),
        "stderr should name {}\n{}",
        want.display(),
        show(&o)
    );

    // And a scenario copied elsewhere with its data folder works from any current folder.
    let elsewhere = tmp();
    fs::create_dir(elsewhere.path().join("data")).unwrap();
    fs::write(
        elsewhere.path().join("data/rates.csv"),
        "month,x\n2023-01,60\n2023-02,60\n2023-03,60\n2023-04,60\n2023-05,60\n2023-06,60\n",
    )
    .unwrap();
    let text = fs::read_to_string(minimal()).unwrap();
    let monthly = text
        .lines()
        .find(|l| l.starts_with("monthly = "))
        .expect("minimal.toml has inline monthly rates");
    let text = text.replace(monthly, "file = \"data/rates.csv\"\ncolumn = \"x\"");
    let sc = elsewhere.path().join("from_file.toml");
    fs::write(&sc, text).unwrap();
    let o = northbound(cwd.path(), [OsStr::new("check"), sc.as_os_str()]);
    assert_ok(&o, "check a scenario reading data/rates.csv next to it");
}

// ---------------------------------------------------------------------------------------
// Command-line errors
// ---------------------------------------------------------------------------------------

#[test]
fn engine_settings_in_the_environment_are_checked() {
    let cwd = tmp();
    let out = cwd.path().join("out");
    let m = minimal().display().to_string();
    let args = ["run", m.as_str(), "--out", out.to_str().unwrap(), "-q"];
    let cases = [
        (
            "NORTHBOUND_PARALLEL_FROM",
            "lots",
            "expected a whole number of agents",
        ),
        (
            "NORTHBOUND_PARALLEL_FROM",
            "-1",
            "expected a whole number of agents",
        ),
        (
            "NORTHBOUND_SIMD",
            "OFF",
            "expected \"off\" (the scalar code) or \"on\"",
        ),
    ];
    for (name, value, expected) in cases {
        let o = northbound_with(cwd.path(), args, &[(name, value)]);
        assert_clean_failure(&o, &format!("{name}={value}"));
        let err = stderr(&o);
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}={value}: {err}"
        );
        assert!(!out.exists(), "{name}={value}: nothing written");
    }
    for (name, value) in [
        ("NORTHBOUND_PARALLEL_FROM", " 0 "),
        ("NORTHBOUND_SIMD", "on"),
    ] {
        let o = northbound_with(cwd.path(), args, &[(name, value)]);
        assert_ok(&o, &format!("{name}={value:?}"));
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn command_line_errors_are_reported_without_a_panic() {
    let cwd = tmp();
    let m = minimal().display().to_string();
    let out = cwd.path().join("out").display().to_string();
    // (arguments, expected exit status, fragments stderr must contain)
    let cases: Vec<(Vec<&str>, i32, Vec<&str>)> = vec![
        (
            vec!["run", &m, "--bogus"],
            2,
            vec!["unexpected argument", "--bogus"],
        ),
        (
            vec!["run", &m, "--out", &out, "--threads", "0"],
            2,
            vec!["--threads", "'0'", "1..=1024"],
        ),
        (
            vec!["run", &m, "--out", &out, "--threads", "many"],
            2,
            vec!["--threads", "many"],
        ),
        (
            vec!["run", &m, "--out", &out, "--seed=-1"],
            2,
            vec!["--seed", "'-1'"],
        ),
        // clap takes `-1` for a flag here and does not name --seed (see the report).
        (
            vec!["run", &m, "--out", &out, "--seed", "-1"],
            2,
            vec!["'-1'"],
        ),
        (
            vec!["run", &m, "--out", &out, "--seed", "1.5"],
            2,
            vec!["--seed", "'1.5'"],
        ),
        (
            vec!["run", &m, "--out"],
            2,
            vec!["--out", "a value is required"],
        ),
        (
            vec!["run", "nope.toml", "--out", &out],
            1,
            vec!["nope.toml", "cannot read"],
        ),
        (
            vec!["check", "nope.toml"],
            1,
            vec!["nope.toml", "cannot read"],
        ),
        (vec!["check"], 2, vec!["<SCENARIO>", "required"]),
        (vec!["run"], 2, vec!["<SCENARIO>", "required"]),
        (vec![], 2, vec!["Usage", "run", "check"]),
        (
            vec!["frobnicate"],
            2,
            vec!["unrecognized subcommand", "frobnicate"],
        ),
    ];
    for (args, code, fragments) in cases {
        let o = northbound(cwd.path(), &args);
        let what = format!("northbound {}", args.join(" "));
        assert_clean_failure(&o, &what);
        assert_eq!(o.status.code(), Some(code), "{what}\n{}", show(&o));
        for f in fragments {
            assert!(
                stderr(&o).contains(f),
                "{what}: stderr lacks {f:?}\n{}",
                show(&o)
            );
        }
        assert!(
            !cwd.path().join("out").exists(),
            "{what} created the output folder"
        );
    }
    assert!(
        entries(cwd.path()).is_empty(),
        "the failed commands left {:?}",
        entries(cwd.path())
    );
}

#[test]
fn help_pages_exit_zero_and_show_examples() {
    let cwd = tmp();
    for args in [
        vec!["--help"],
        vec!["-h"],
        vec!["run", "--help"],
        vec!["check", "--help"],
        vec!["help", "run"],
    ] {
        let o = northbound(cwd.path(), &args);
        let what = format!("northbound {}", args.join(" "));
        assert_ok(&o, &what);
        assert!(
            stdout(&o).contains("Example"),
            "{what}: no example\n{}",
            show(&o)
        );
        assert!(stdout(&o).contains("Usage"), "{what}\n{}", show(&o));
    }
    // The main job is on the first page, and compare says where it writes.
    let o = northbound(cwd.path(), ["--help"]);
    assert!(
        stdout(&o).contains("northbound compare  "),
        "no compare example\n{}",
        show(&o)
    );
    assert!(
        stdout(&o).contains("northbound compare                # tables, figures and report.html in output/corridor-2017-2024-compare/"),
        "the compare example and its folder\n{}",
        show(&o)
    );
    // compare --help says where it writes by default, as it does: output/ under the current
    // folder, named after the scenario's name (not its file's), replaced on a re-run.
    let o = northbound(cwd.path(), ["compare", "--help"]);
    let help = stdout(&o).replace('\n', " ");
    for fragment in [
        "into output/<scenario name>-compare/ under the current folder, where <scenario name> is the name in the scenario's [scenario] table, not its file name",
        "(output/corridor-2017-2024-compare/ for the bundled default)",
        "Running it again replaces its own earlier result there",
        "--out DIR writes to DIR instead and replaces an earlier result there only with --force",
    ] {
        assert!(help.contains(fragment), "{fragment}\n{}", show(&o));
    }
    let study = cwd.path().join("study.toml");
    fs::copy(minimal(), &study).unwrap();
    let o = northbound(
        cwd.path(),
        [
            OsStr::new("compare"),
            study.as_os_str(),
            OsStr::new("-r"),
            OsStr::new("1"),
            OsStr::new("--variants"),
            OsStr::new("neither"),
            OsStr::new("-q"),
        ],
    );
    assert_ok(&o, "compare study.toml");
    assert!(
        cwd.path()
            .join("output/minimal-compare/report.html")
            .is_file()
    );
    assert!(!cwd.path().join("output/study-compare").exists());
    let o = northbound(cwd.path(), ["--version"]);
    assert_ok(&o, "northbound --version");
    assert!(
        stdout(&o).contains(env!("CARGO_PKG_VERSION")),
        "{}",
        show(&o)
    );
}

// ---------------------------------------------------------------------------------------
// Bundled scenarios
// ---------------------------------------------------------------------------------------

#[test]
fn every_bundled_scenario_is_valid() {
    let cwd = tmp();
    let files = toml_files(&root().join("scenarios"));
    assert!(
        files.iter().any(|f| f.ends_with("minimal.toml")),
        "scenarios/minimal.toml is missing: {files:?}"
    );
    let mut failures = Vec::new();
    for file in &files {
        let o = northbound(cwd.path(), [OsStr::new("check"), file.as_os_str()]);
        if !o.status.success() || !stdout(&o).contains("valid") {
            failures.push(format!("check {}\n{}", file.display(), show(&o)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        entries(cwd.path()).is_empty(),
        "check wrote {:?}",
        entries(cwd.path())
    );
}

// ---------------------------------------------------------------------------------------
// A run and its files
// ---------------------------------------------------------------------------------------

#[test]
fn run_writes_every_file_with_the_documented_headers() {
    let cwd = tmp();
    let out = cwd.path().join("out");
    let o = run_minimal(cwd.path(), &out, &["--threads", "2"]);
    assert!(
        stdout(&o).trim().is_empty(),
        "--quiet printed\n{}",
        show(&o)
    );
    assert_eq!(
        entries(cwd.path()),
        ["out"],
        "only the run folder is written"
    );

    let mut want: Vec<&str> = RUN_FILES.to_vec();
    want.sort();
    assert_eq!(entries(&out), want);

    for (file, header) in [
        ("daily.csv", "date,place,metric,value"),
        ("monthly.csv", "month,place,metric,value"),
        ("summary.csv", "place,metric,value"),
        (
            "places.csv",
            "place,kind,crossing,country,province,stca,focus",
        ),
        ("states.csv", "date,state,value"),
        ("policies.csv", "policy,enabled,start,end"),
    ] {
        let path = out.join(file);
        assert_eq!(first_line(&path), header, "header of {file}");
        // Every row has the header's width and a number in `value`.
        let mut rdr = csv::Reader::from_path(&path).unwrap();
        let width = rdr.headers().unwrap().len();
        let value_col = rdr.headers().unwrap().iter().position(|h| h == "value");
        let mut rows = 0;
        for rec in rdr.records() {
            let rec = rec.unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(rec.len(), width, "{file}: {rec:?}");
            if let Some(c) = value_col {
                let v: f64 = rec[c]
                    .parse()
                    .unwrap_or_else(|_| panic!("{file}: value {:?} is not a number", &rec[c]));
                assert!(v.is_finite() && v >= 0.0, "{file}: value {v}");
            }
            rows += 1;
        }
        assert!(rows > 0, "{file} has no rows");
    }
    let places = fs::read_to_string(out.join("places.csv")).unwrap();
    assert_eq!(places.lines().count(), 1 + 7, "minimal.toml has 7 places");

    let m = read_manifest(&out);
    for key in [
        "northbound_version",
        "scenario_sha256",
        "seed",
        "threads",
        "agents",
        "agent_days",
        "wall_seconds",
        "agent_days_per_second",
    ] {
        assert!(m.get(key).is_some(), "manifest.json lacks {key}: {m:#}");
    }
    assert_eq!(m["northbound_version"], env!("CARGO_PKG_VERSION"));
    // Enough to cite and reproduce the run: when it started, the commit built from (when
    // built from git), the system.
    let started = m["started"].as_str().expect("started is a text");
    assert!(
        started.len() == 20 && started.ends_with('Z') && started.as_bytes()[10] == b'T',
        "started {started}"
    );
    assert!(
        m["os"]
            .as_str()
            .is_some_and(|o| o.contains(std::env::consts::OS))
    );
    assert!(m["cpus"].as_u64().is_some_and(|c| c >= 1), "{m:#}");
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        Some(head) => assert!(
            m["northbound_commit"]
                .as_str()
                .is_some_and(|c| c.starts_with(&head)),
            "built from {head}: {m:#}"
        ),
        None => assert!(m.get("northbound_commit").is_none(), "{m:#}"),
    }
    assert_eq!(m["seed"], 42, "the scenario's seed");
    assert_eq!(m["threads"], 2);
    let agents = m["agents"].as_u64().expect("agents is an integer");
    let agent_days = m["agent_days"].as_u64().expect("agent_days is an integer");
    assert!(agents > 0 && agent_days >= agents, "{m:#}");
    assert!(
        m["wall_seconds"].as_f64().is_some_and(|w| w >= 0.0),
        "{m:#}"
    );
    assert!(
        m["agent_days_per_second"]
            .as_f64()
            .is_some_and(|r| r.is_finite() && r > 0.0),
        "{m:#}"
    );
    let sha = {
        use sha2::{Digest, Sha256};
        Sha256::digest(fs::read(minimal()).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(m["scenario_sha256"], sha.as_str());
    let listed: Vec<&str> = m["files"]
        .as_array()
        .expect("files is a list")
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(listed, want, "manifest files against the folder");

    for stem in ["crossings", "outcomes"] {
        let png = fs::read(out.join(format!("{stem}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{stem}.png is not a PNG"
        );
        let svg = fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{stem}.svg is not an SVG");
    }
}

#[test]
fn run_without_out_writes_output_slash_name_in_the_current_folder() {
    let cwd = tmp();
    let o = northbound(
        cwd.path(),
        [OsStr::new("run"), minimal().as_os_str(), OsStr::new("-q")],
    );
    assert_ok(&o, "run minimal.toml");
    assert_eq!(entries(&cwd.path().join("output")), ["minimal"]);
    assert!(cwd.path().join("output/minimal/manifest.json").is_file());
    assert_no_leftovers(&cwd.path().join("output"));
}

/// The quick start twice in a row: the default folders under output/ are northbound's own,
/// so a re-run replaces its own earlier result there (and says so), but never a folder
/// that holds anything northbound did not write.
#[test]
fn a_rerun_into_the_default_folder_replaces_its_own_earlier_result() {
    let cwd = tmp();
    let compare = |extra: &[&str]| {
        let mut args: Vec<OsString> = vec![
            "compare".into(),
            minimal().into(),
            "--replicates".into(),
            "1".into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        northbound(cwd.path(), &args)
    };
    let first = compare(&[]);
    assert_ok(&first, "compare into the default folder");
    let dir = cwd.path().join("output/minimal-compare");
    assert!(
        stdout(&first).contains("output/minimal-compare/report.html"),
        "{}",
        show(&first)
    );
    assert!(!stdout(&first).contains("replaced"), "{}", show(&first));
    assert_eq!(read_manifest(&dir)["seed"], 42);
    let second = compare(&["--seed", "7"]);
    assert_ok(&second, "the same compare again");
    assert!(
        stdout(&second).contains("replaced the earlier result"),
        "{}",
        show(&second)
    );
    assert_eq!(
        read_manifest(&dir)["seed"],
        7,
        "the second result is in place"
    );
    assert_eq!(entries(&cwd.path().join("output")), ["minimal-compare"]);
    assert_no_leftovers(&cwd.path().join("output"));

    // A file of the user's in the folder: the folder is no longer northbound's alone.
    fs::write(dir.join("notes.txt"), "what I saw").unwrap();
    let before = snapshot(&dir);
    let third = compare(&[]);
    assert_clean_failure(&third, "compare over a default folder holding notes.txt");
    assert!(stderr(&third).contains("notes.txt"), "{}", show(&third));
    assert!(snapshot(&dir) == before, "the earlier result changed");

    // `run` likewise, into output/<scenario name>.
    for seed in ["1", "2"] {
        let o = northbound(
            cwd.path(),
            [
                OsStr::new("run"),
                minimal().as_os_str(),
                OsStr::new("--seed"),
                OsStr::new(seed),
                OsStr::new("-q"),
            ],
        );
        assert_ok(&o, "run into the default folder");
    }
    assert_eq!(read_manifest(&cwd.path().join("output/minimal"))["seed"], 2);
    assert_no_leftovers(&cwd.path().join("output"));
}

#[test]
fn an_existing_output_folder_is_kept_unless_forced() {
    let cwd = tmp();
    let out = cwd.path().join("out");
    run_minimal(cwd.path(), &out, &[]);
    let before = snapshot(&out);

    let o = northbound(
        cwd.path(),
        [
            OsStr::new("run"),
            minimal().as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
            OsStr::new("--seed"),
            OsStr::new("7"),
        ],
    );
    assert_clean_failure(&o, "a second run without --force");
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = stderr(&o);
    assert!(err.contains("already exists"), "{}", show(&o));
    assert!(
        err.contains("--force") && err.contains("--out DIR"),
        "{}",
        show(&o)
    );
    assert!(err.contains(&out.display().to_string()), "{}", show(&o));
    assert!(
        snapshot(&out) == before,
        "the refused run changed the first run's files"
    );
    assert_eq!(entries(cwd.path()), ["out"]);

    run_minimal(cwd.path(), &out, &["--seed", "7", "--force"]);
    assert_eq!(
        read_manifest(&out)["seed"],
        7,
        "--force replaced the folder"
    );
    assert_ne!(
        fs::read(out.join("daily.csv")).unwrap(),
        before["daily.csv"],
        "the forced run wrote new tables"
    );
    assert_eq!(entries(cwd.path()), ["out"]);
    assert_no_leftovers(cwd.path());
}

#[test]
fn an_output_path_that_is_a_file_is_refused() {
    let cwd = tmp();
    let out = cwd.path().join("out");
    fs::write(&out, "not a folder").unwrap();
    for force in [false, true] {
        let mut args: Vec<OsString> = vec![
            "run".into(),
            minimal().into(),
            "--out".into(),
            out.clone().into(),
        ];
        if force {
            args.push("--force".into());
        }
        let o = northbound(cwd.path(), &args);
        assert_clean_failure(&o, &format!("run --out <a file> (force {force})"));
        assert_eq!(fs::read_to_string(&out).unwrap(), "not a folder");
    }
    assert_no_leftovers(cwd.path());
}

#[test]
fn force_replaces_only_an_earlier_run_or_an_empty_folder() {
    let cwd = tmp();
    let out = cwd.path().join("thesis");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("chapter1.txt"), "years of work").unwrap();
    let args: Vec<OsString> = vec![
        "run".into(),
        minimal().into(),
        "--out".into(),
        out.clone().into(),
        "--force".into(),
    ];
    let o = northbound(cwd.path(), &args);
    assert_clean_failure(&o, "run --force over a folder that is not a run");
    assert!(
        stderr(&o).contains("not a result northbound wrote"),
        "{}",
        show(&o)
    );
    assert_eq!(
        fs::read_to_string(out.join("chapter1.txt")).unwrap(),
        "years of work"
    );
    // An empty folder may be filled.
    let empty = cwd.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert_ok(
        &run_minimal(cwd.path(), &empty, &["--force"]),
        "run --force into an empty folder",
    );
    assert!(empty.join("manifest.json").is_file());
}

#[test]
fn a_partial_folder_left_by_a_killed_run_is_cleaned_up() {
    let cwd = tmp();
    let out = cwd.path().join("out");
    // A process id that cannot be running (above Linux's pid_max).
    let stale = cwd.path().join(".out.partial-4294967");
    fs::create_dir(&stale).unwrap();
    fs::write(stale.join("daily.csv"), "half").unwrap();
    assert_ok(
        &run_minimal(cwd.path(), &out, &[]),
        "run next to a stale partial folder",
    );
    if Path::new("/proc").is_dir() {
        assert!(!stale.exists(), "the stale partial folder is removed");
    }
}

// ---------------------------------------------------------------------------------------
// Determinism and conservation
// ---------------------------------------------------------------------------------------

/// `northbound run SCENARIO --out OUT --seed 42 --threads THREADS -q`, with `env` set.
fn run_seed_42(
    cwd: &Path,
    scenario: &Path,
    out: &Path,
    threads: &str,
    env: &[(&str, &str)],
) -> Output {
    northbound_with(
        cwd,
        [
            OsStr::new("run"),
            scenario.as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
            OsStr::new("--seed"),
            OsStr::new("42"),
            OsStr::new("--threads"),
            OsStr::new(threads),
            OsStr::new("-q"),
        ],
        env,
    )
}

/// Runs `scenario` once per thread count into sibling folders and asserts that every CSV
/// is byte-identical. Returns the folders.
fn assert_same_for_threads(cwd: &Path, scenario: &Path, threads: &[u16]) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for t in threads {
        let out = cwd.join(format!("threads-{t}"));
        let t = t.to_string();
        // Every day on all the threads, however few agents are held.
        let o = run_seed_42(
            cwd,
            scenario,
            &out,
            &t,
            &[("NORTHBOUND_PARALLEL_FROM", "0")],
        );
        assert_ok(&o, &format!("run {} --threads {t}", scenario.display()));
        assert_eq!(read_manifest(&out)["threads"].as_u64(), t.parse().ok());
        dirs.push(out);
    }
    let csvs: Vec<String> = entries(&dirs[0])
        .into_iter()
        .filter(|n| n.ends_with(".csv"))
        .collect();
    assert_eq!(csvs.len(), 7, "{csvs:?}");
    for d in &dirs[1..] {
        for f in &csvs {
            let a = fs::read(dirs[0].join(f)).unwrap();
            let b = fs::read(d.join(f)).unwrap();
            assert!(
                a == b,
                "{f} differs between {} and {}",
                dirs[0].display(),
                d.display()
            );
        }
        assert_eq!(
            read_manifest(&dirs[0])["agents"],
            read_manifest(d)["agents"]
        );
    }
    dirs
}

#[test]
fn results_do_not_depend_on_the_thread_count_but_on_the_seed() {
    let cwd = tmp();
    let dirs = assert_same_for_threads(cwd.path(), &minimal(), &[1, 2, 4]);

    let other = cwd.path().join("seed-7");
    run_minimal(cwd.path(), &other, &["--seed", "7", "--threads", "2"]);
    assert_eq!(read_manifest(&other)["seed"], 7);
    assert_ne!(
        fs::read(dirs[0].join("daily.csv")).unwrap(),
        fs::read(other.join("daily.csv")).unwrap(),
        "seeds 42 and 7 gave the same daily.csv"
    );
}

/// A copy of minimal.toml with inflows a hundred times larger, so that the agents fill more
/// than one of the engine's parallel chunks (16384 agents) and the threads really share work.
fn write_larger_minimal(dir: &Path) -> PathBuf {
    let text = fs::read_to_string(minimal()).unwrap();
    let monthly = text
        .lines()
        .find(|l| l.starts_with("monthly = "))
        .expect("minimal.toml has inline monthly rates");
    let larger = text.replace(monthly, &monthly.replace("= 60", "= 6000"));
    assert_ne!(larger, text);
    let path = dir.join("larger.toml");
    fs::write(&path, larger).unwrap();
    path
}

#[test]
fn results_do_not_depend_on_the_thread_count_across_chunks() {
    let cwd = tmp();
    let sc = write_larger_minimal(cwd.path());
    let dirs = assert_same_for_threads(cwd.path(), &sc, &[1, 3]);
    let agents = read_manifest(&dirs[0])["agents"].as_u64().unwrap();
    assert!(agents > 2 * 16_384, "only {agents} agents");
    assert_conservation(&dirs[0]);

    // Nor on whether the CPU runs the engine's wide loops (AVX-512, where it has them):
    // without them, the scalar code gives the same files.
    let scalar = cwd.path().join("scalar");
    let o = run_seed_42(cwd.path(), &sc, &scalar, "2", &[("NORTHBOUND_SIMD", "off")]);
    assert_ok(&o, "run with NORTHBOUND_SIMD=off");
    for f in entries(&dirs[0]).iter().filter(|n| n.ends_with(".csv")) {
        assert!(
            fs::read(dirs[0].join(f)).unwrap() == fs::read(scalar.join(f)).unwrap(),
            "{f} differs with NORTHBOUND_SIMD=off"
        );
    }
}

/// In `states.csv`, every day the states other than `created` sum to `created`, and
/// `created` never falls and ends at the manifest's `agents`.
fn assert_conservation(dir: &Path) {
    let mut rdr = csv::Reader::from_path(dir.join("states.csv")).unwrap();
    let mut days: Vec<(String, BTreeMap<String, f64>)> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let (date, state, value) = (&rec[0], &rec[1], rec[2].parse::<f64>().unwrap());
        if days.last().is_none_or(|(d, _)| d != date) {
            assert!(
                days.iter().all(|(d, _)| d.as_str() < date),
                "states.csv: {date} out of order"
            );
            days.push((date.to_string(), BTreeMap::new()));
        }
        let prev = days.last_mut().unwrap().1.insert(state.to_string(), value);
        assert!(prev.is_none(), "states.csv: {date} {state} twice");
    }
    assert!(!days.is_empty(), "states.csv has no rows");
    let names: Vec<&String> = days[0].1.keys().collect();
    assert!(names.iter().any(|n| *n == "created"), "{names:?}");
    let mut last_created = 0.0;
    for (date, states) in &days {
        assert_eq!(states.keys().collect::<Vec<_>>(), names, "states on {date}");
        let created = states["created"];
        let sum: f64 = states
            .iter()
            .filter(|(k, _)| *k != "created")
            .map(|(_, v)| v)
            .sum();
        assert_eq!(
            sum, created,
            "{date}: states sum to {sum}, created {created}: {states:?}"
        );
        assert!(
            created >= last_created,
            "{date}: created fell from {last_created} to {created}"
        );
        last_created = created;
    }
    let agents = read_manifest(dir)["agents"].as_f64().unwrap();
    let scale = read_manifest(dir)["scale"].as_f64().unwrap_or(1.0);
    assert_eq!(
        last_created,
        agents * scale,
        "created on the last day against the manifest's agents"
    );
    assert_eq!(
        days.first().map(|d| d.0.as_str()),
        read_manifest(dir)["start"].as_str()
    );
    assert_eq!(
        days.last().map(|d| d.0.as_str()),
        read_manifest(dir)["end"].as_str()
    );
}

#[test]
fn every_agent_is_in_exactly_one_state_each_day() {
    let cwd = tmp();
    let out = cwd.path().join("out");
    run_minimal(cwd.path(), &out, &[]);
    assert_conservation(&out);
}

// ---------------------------------------------------------------------------------------
// Self-contained result folders and init
// ---------------------------------------------------------------------------------------

/// Copies a folder and everything in it.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A study: minimal.toml reading its inflow from `../shared/rates.csv` and an observed
/// series from `shared/obs.csv` by an absolute path; returns the scenario file.
fn study_with_shared_data(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir.join("shared")).unwrap();
    fs::create_dir_all(dir.join("study")).unwrap();
    fs::write(
        dir.join("shared/rates.csv"),
        "month,x\n2023-01,60\n2023-02,60\n2023-03,60\n2023-04,60\n2023-05,60\n2023-06,60\n",
    )
    .unwrap();
    let obs = dir.join("shared/obs.csv");
    fs::write(&obs, "month,count\n2023-01,20\n2023-02,25\n2023-03,30\n").unwrap();
    let text = fs::read_to_string(minimal()).unwrap();
    let monthly = text.lines().find(|l| l.starts_with("monthly = ")).unwrap();
    let text = text.replace(monthly, "file = \"../shared/rates.csv\"\ncolumn = \"x\"")
        + &format!(
            "\n[[observed]]\nname = \"roxham\"\nfile = \"{}\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n",
            obs.display()
        );
    let path = dir.join("study/study.toml");
    fs::write(&path, text).unwrap();
    path
}

/// Every result folder holds its scenario and the data it read: copied to another place,
/// with the original data gone, `northbound run RESULT/scenario.toml` (and validate) give
/// the same results again.
#[test]
fn result_folders_run_again_from_anywhere() {
    let cwd = tmp();
    let sc = study_with_shared_data(cwd.path());
    let run = |args: &[&str], out: &Path| {
        let mut a: Vec<OsString> = args.iter().map(OsString::from).collect();
        a.extend(["--out".into(), out.into(), "-q".into()]);
        let o = northbound(cwd.path(), &a);
        assert_ok(&o, &format!("{args:?}"));
    };
    let s = sc.to_str().unwrap();
    let results = cwd.path().join("results");
    run(&["run", s], &results.join("run"));
    run(&["validate", s, "--replicates", "2"], &results.join("val"));
    run(&["compare", s, "--replicates", "1"], &results.join("cmp"));
    for dir in ["run", "val", "cmp"] {
        let d = results.join(dir);
        assert!(d.join("scenario.toml").is_file(), "{dir}: no scenario.toml");
        assert!(
            d.join("data/rates.csv").is_file(),
            "{dir}: no copy of the rates"
        );
        assert!(
            d.join("data/obs.csv").is_file(),
            "{dir}: no copy of the observed"
        );
        let listed = read_manifest(&d)["files"].to_string();
        assert!(listed.contains("\"data/rates.csv\""), "{dir}: {listed}");
    }
    let copied = fs::read_to_string(results.join("run/scenario.toml")).unwrap();
    assert!(copied.contains("file = \"data/rates.csv\""), "{copied}");

    // Elsewhere, with the study and its shared data gone.
    let elsewhere = tmp();
    copy_tree(&results, &elsewhere.path().join("results"));
    fs::remove_dir_all(cwd.path().join("shared")).unwrap();
    fs::remove_dir_all(cwd.path().join("study")).unwrap();
    let moved = elsewhere.path().join("results");
    let again = |args: &[OsString]| {
        let o = northbound(elsewhere.path(), args);
        assert_ok(&o, &format!("{args:?}"));
    };
    again(&[
        "run".into(),
        moved.join("run/scenario.toml").into(),
        "--out".into(),
        elsewhere.path().join("run2").into(),
        "-q".into(),
    ]);
    for f in ["daily.csv", "monthly.csv", "states.csv"] {
        assert!(
            fs::read(moved.join("run").join(f)).unwrap()
                == fs::read(elsewhere.path().join("run2").join(f)).unwrap(),
            "{f} differs when run again from the copied folder"
        );
    }
    again(&[
        "validate".into(),
        moved.join("val/scenario.toml").into(),
        "--replicates".into(),
        "2".into(),
        "--out".into(),
        elsewhere.path().join("val2").into(),
        "-q".into(),
    ]);
    assert!(
        fs::read(moved.join("val/validation.csv")).unwrap()
            == fs::read(elsewhere.path().join("val2/validation.csv")).unwrap()
    );
    again(&["check".into(), moved.join("cmp/scenario.toml").into()]);
    // A moved result folder can still be replaced: what it holds is all listed.
    again(&[
        "run".into(),
        moved.join("run/scenario.toml").into(),
        "--out".into(),
        moved.join("val").into(),
        "--force".into(),
        "-q".into(),
    ]);
}

#[test]
fn init_writes_a_bundled_scenario_with_its_data_to_run_from_anywhere() {
    let cwd = tmp();
    let o = northbound(cwd.path(), ["init", "study"]);
    assert_ok(&o, "init study");
    let dir = cwd.path().join("study");
    assert!(
        stdout(&o).contains("run it with: northbound run study/corridor-2017-2024.toml"),
        "{}",
        show(&o)
    );
    for f in [
        "corridor-2017-2024.toml",
        "data/observed/cbp_southwest_encounters_monthly.csv",
        "data/observed/rcmp_interceptions_monthly.csv",
        "data/observed/SOURCES.md",
    ] {
        assert!(dir.join(f).is_file(), "init wrote no {f}");
    }
    // The bundled text, unchanged, so its SHA-256 is the bundled scenario's.
    assert_eq!(
        fs::read(dir.join("corridor-2017-2024.toml")).unwrap(),
        fs::read(root().join("scenarios/corridor-2017-2024.toml")).unwrap()
    );
    let elsewhere = tmp();
    let o = northbound(
        elsewhere.path(),
        [
            OsStr::new("check"),
            dir.join("corridor-2017-2024.toml").as_os_str(),
        ],
    );
    assert_ok(&o, "check the scenario init wrote, from another folder");
    // Again: refused without --force; minimal with it; an unknown name is an error.
    let o = northbound(cwd.path(), ["init", "study"]);
    assert_clean_failure(&o, "init into an existing folder");
    assert!(stderr(&o).contains("already exists"), "{}", show(&o));
    let o = northbound(cwd.path(), ["init", "study", "minimal", "--force", "-q"]);
    assert_ok(&o, "init study minimal --force");
    assert!(dir.join("minimal.toml").is_file());
    assert!(!dir.join("data").exists(), "minimal reads no data file");
    let o = northbound(cwd.path(), ["plot", "study"]);
    assert_clean_failure(&o, "plot an init folder");
    assert!(
        stderr(&o).contains("written by `northbound init`"),
        "{}",
        show(&o)
    );
    let o = northbound(cwd.path(), ["init", "other", "nope"]);
    assert_clean_failure(&o, "init other nope");
    assert!(
        stderr(&o).contains("nope: no such file") && stderr(&o).contains("minimal"),
        "{}",
        show(&o)
    );
    assert!(!cwd.path().join("other").exists());
    // A folder named like a built-in scenario (as `init minimal minimal` writes) does not
    // hide it; a folder named like none is refused as a folder.
    let o = northbound(cwd.path(), ["init", "minimal", "minimal", "-q"]);
    assert_ok(&o, "init minimal minimal");
    let o = northbound(cwd.path(), ["init", "again", "minimal", "-q"]);
    assert_ok(&o, "init again minimal, beside a folder named minimal");
    assert!(cwd.path().join("again/minimal.toml").is_file());
    let o = northbound(cwd.path(), ["init", "third", "study"]);
    assert_clean_failure(&o, "init third study (a folder)");
    assert!(
        stderr(&o).contains("study: is a folder, not a scenario file"),
        "{}",
        show(&o)
    );
}

// ---------------------------------------------------------------------------------------
// validate and calibrate
// ---------------------------------------------------------------------------------------

/// minimal.toml plus an observed series of monthly Roxham attempts, in `dir`.
fn minimal_with_observed(dir: &Path) -> PathBuf {
    fs::write(
        dir.join("obs.csv"),
        "month,count,verification\n2023-01,20,verbatim_official\n2023-02,25,verbatim_official\n2023-03,30,derived\n2023-04,10,verbatim_official\n",
    )
    .unwrap();
    let text = fs::read_to_string(minimal()).unwrap()
        + "\n[[observed]]\nname = \"roxham\"\nfile = \"obs.csv\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n";
    let path = dir.join("observed.toml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn validate_writes_the_comparison_with_the_observed_series() {
    let cwd = tmp();
    let sc = minimal_with_observed(cwd.path());
    let out = cwd.path().join("val");
    let args: Vec<OsString> = vec![
        "validate".into(),
        sc.into(),
        "--replicates".into(),
        "3".into(),
        "--out".into(),
        out.clone().into(),
    ];
    let o = northbound(cwd.path(), &args);
    assert_ok(&o, "validate");
    assert_eq!(
        first_line(&out.join("validation.csv")),
        "series,period,observed,sim_mean,sim_p05,sim_p50,sim_p95,verification,uncertainty"
    );
    assert_eq!(
        first_line(&out.join("metrics.csv")),
        "series,n_periods,ard,mape,rmse,pearson_r,total_ratio"
    );
    let v = fs::read_to_string(out.join("validation.csv")).unwrap();
    assert_eq!(v.lines().count(), 5, "{v}");
    assert!(
        v.contains("roxham,2023-03,30.0,") && v.contains(",derived"),
        "{v}"
    );
    for ext in ["png", "svg"] {
        assert!(out.join(format!("overlay-roxham.{ext}")).is_file());
    }
    assert_eq!(read_manifest(&out)["replicates"], 3);
    assert_eq!(read_manifest(&out)["uncertainty"], "replicates");
    assert!(v.contains(",derived,replicates\n"), "{v}");
    // A scenario without observed series is told so.
    let o = northbound(
        cwd.path(),
        &[
            "validate".into(),
            minimal().into_os_string(),
            "--out".into(),
            cwd.path().join("v2").into(),
        ],
    );
    assert_clean_failure(&o, "validate without [[observed]]");
    assert!(
        stderr(&o).contains("declares no [[observed]] series"),
        "{}",
        show(&o)
    );
}

/// Targets weighted with `--target SERIES=WEIGHT`: each trial's score is the weighted mean
/// of its targets' ARD, and the fitted scenario's header says the weights.
#[test]
fn calibrate_weighs_its_targets() {
    let cwd = tmp();
    let sc = minimal_with_observed(cwd.path());
    let text = fs::read_to_string(&sc).unwrap()
        + "\n[[observed]]\nname = \"lacolle\"\nfile = \"obs.csv\"\nmetric = \"attempts\"\nplaces = [\"Lacolle\"]\n";
    fs::write(&sc, text).unwrap();
    let out = cwd.path().join("cal");
    let args: Vec<OsString> = vec![
        "calibrate".into(),
        sc.into(),
        "--fit".into(),
        "places[\"New York City\"].move_rate=0.01..0.1".into(),
        "--target".into(),
        "roxham=3".into(),
        "--target".into(),
        "lacolle".into(),
        "--window".into(),
        "2023-01..2023-04".into(),
        "--budget".into(),
        "3".into(),
        "--replicates".into(),
        "1".into(),
        "--out".into(),
        out.clone().into(),
    ];
    let o = northbound(cwd.path(), &args);
    assert_ok(&o, "calibrate with weights");
    let trials = fs::read_to_string(out.join("trials.csv")).unwrap();
    let mut lines = trials.lines();
    assert_eq!(
        lines.next().unwrap(),
        "trial,\"places[\"\"New York City\"\"].move_rate\",score,ard_roxham,ard_lacolle,error"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3, "three trials (--budget 3): {trials}");
    for line in rows {
        let cells: Vec<f64> = line
            .split(',')
            .skip(2)
            .take(3)
            .map(|c| c.parse().unwrap())
            .collect();
        let (score, rox, lac) = (cells[0], cells[1], cells[2]);
        assert!(
            rox != lac,
            "the two targets must differ for the test to tell: {line}"
        );
        assert!(
            (score - (3.0 * rox + lac) / 4.0).abs() < 1e-12,
            "score {score} is not (3 x {rox} + {lac}) / 4"
        );
    }
    let fitted = fs::read_to_string(out.join("fitted.toml")).unwrap();
    assert!(
        fitted.contains("the mean ARD of the targets weighted by --target (roxham 3, lacolle 1)"),
        "{fitted}"
    );
}

#[test]
fn calibrate_writes_trials_and_a_fitted_scenario_that_loads() {
    let cwd = tmp();
    let sc = minimal_with_observed(cwd.path());
    let out = cwd.path().join("cal");
    let args: Vec<OsString> = vec![
        "calibrate".into(),
        sc.clone().into(),
        "--fit".into(),
        "places[\"New York City\"].move_rate=0.01..0.1".into(),
        "--target".into(),
        "roxham".into(),
        "--window".into(),
        "2023-01..2023-02".into(),
        "--budget".into(),
        "4".into(),
        "--replicates".into(),
        "2".into(),
        "--out".into(),
        out.clone().into(),
    ];
    let o = northbound(cwd.path(), &args);
    assert_ok(&o, "calibrate");
    let trials = fs::read_to_string(out.join("trials.csv")).unwrap();
    assert_eq!(
        trials.lines().next().unwrap(),
        "trial,\"places[\"\"New York City\"\"].move_rate\",score,ard_roxham,error"
    );
    assert_eq!(trials.lines().count(), 5, "{trials}");
    // It says why it stopped, on screen and in the manifest (four trials: out of budget).
    assert!(
        stdout(&o).contains("stopped: out of budget: 4 trials (--budget 4)"),
        "{}",
        show(&o)
    );
    assert_eq!(read_manifest(&out)["stopped"], "budget");
    assert!(out.join("trials.svg").is_file() && out.join("parameters.csv").is_file());
    let o = northbound(cwd.path(), [OsStr::new("plot"), out.as_os_str()]);
    assert_ok(&o, "plot the calibrate folder");
    assert!(
        stdout(&o).contains("redrew trials.png, trials.svg"),
        "{}",
        show(&o)
    );
    let fitted_header = fs::read_to_string(out.join("fitted.toml")).unwrap();
    assert!(
        fitted_header.contains("# Stopped: out of budget"),
        "{fitted_header}"
    );
    let fitted = fs::read_to_string(out.join("fitted.toml")).unwrap();
    assert!(
        fitted.starts_with("# Calibrated by `northbound calibrate`"),
        "{fitted}"
    );
    assert!(
        fitted.contains("# fitted by calibrate in 0.01..0.1 (was 0.03)"),
        "{fitted}"
    );
    let o = northbound(
        cwd.path(),
        &["check".into(), out.join("fitted.toml").into_os_string()],
    );
    assert_ok(&o, "check fitted.toml from the output folder");
    // The folder holds what the fitted scenario reads: moved elsewhere, it still loads.
    let moved = tmp();
    copy_tree(&out, &moved.path().join("cal"));
    fs::rename(cwd.path().join("obs.csv"), cwd.path().join("obs.csv.away")).unwrap();
    for file in ["fitted.toml", "scenario.toml"] {
        let o = northbound(
            moved.path(),
            &[
                "check".into(),
                moved.path().join("cal").join(file).into_os_string(),
            ],
        );
        assert_ok(&o, &format!("check the moved {file}"));
    }
    fs::rename(cwd.path().join("obs.csv.away"), cwd.path().join("obs.csv")).unwrap();

    // Errors: an unknown target, a bad --fit, a path that leads nowhere.
    for (bad, fragment) in [
        (
            "--target=nope",
            "--target nope: no observed series of that name",
        ),
        (
            "--target=nope=0",
            "--target nope=0: the weight after '=' must be a positive number",
        ),
        (
            "--target=roxham=2",
            "--target roxham: named twice; give each series once",
        ),
        (
            "--fit=move_rate",
            "--fit \"move_rate\": expected PATH=LO..HI",
        ),
        (
            "--fit=places[\"Lacole\"].detection=0..1",
            "no element named \"Lacole\"",
        ),
        // A key the scenario does not know, named by its path, the file named once.
        (
            "--fit=places[\"Roxham Road\"].detektion=0..1",
            "observed.toml: calibrate: places[\"Roxham Road\"].detektion: no parameter `detektion` there",
        ),
    ] {
        let mut a = args.clone();
        a.push(bad.into());
        a.push("--force".into());
        let o = northbound(cwd.path(), &a);
        assert_clean_failure(&o, bad);
        assert!(stderr(&o).contains(fragment), "{bad}: {}", show(&o));
    }
}

/// `calibrate --method abc` on the observed minimal scenario, with a tied parameter, into
/// `out`; its output.
fn calibrate_abc(cwd: &Path, sc: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<OsString> = vec![
        "calibrate".into(),
        sc.into(),
        "--method".into(),
        "abc".into(),
        "--fit".into(),
        "places[\"Rio Grande Valley\"].move_rate,places[\"New York City\"].move_rate=0.01..0.5"
            .into(),
        "--fit".into(),
        "behaviour.beliefs.lag_days=1..10".into(),
        "--target".into(),
        "roxham".into(),
        "--window".into(),
        "2023-01..2023-03".into(),
        "--particles".into(),
        "6".into(),
        "--prior-draws".into(),
        "12".into(),
        "--generations".into(),
        "2".into(),
        "--replicates".into(),
        "2".into(),
        "--out".into(),
        out.into(),
    ];
    args.extend(extra.iter().map(OsString::from));
    northbound(cwd, &args)
}

fn sha256_of(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn calibrate_abc_writes_a_posterior_that_validate_and_compare_run_over() {
    let cwd = tmp();
    let sc = minimal_with_observed(cwd.path());
    let out = cwd.path().join("abc");
    let o = calibrate_abc(cwd.path(), &sc, &out, &["--threads", "2"]);
    assert_ok(&o, "calibrate --method abc");
    let text = stdout(&o);
    for fragment in [
        "final tolerance",
        "effective sample size",
        "90% interval",
        "runs per second",
        "stopped: all 2 generations after the prior done",
        "ABC-SMC, 6 particles, 2 generations, fresh seeds",
    ] {
        assert!(text.contains(fragment), "{fragment}: {text}");
    }
    let manifest = read_manifest(&out);
    assert_eq!(manifest["stopped"], "generations");
    assert!(
        manifest["stopped_because"]
            .as_str()
            .is_some_and(|s| s.starts_with("all 2 generations after the prior done")),
        "{manifest}"
    );
    // plot redraws the folder from its files: the posterior and the generations.
    let o = northbound(cwd.path(), [OsStr::new("plot"), out.as_os_str()]);
    assert_ok(&o, "plot the abc folder");
    assert!(
        stdout(&o)
            .contains("redrew posterior.png, posterior.svg, generations.png, generations.svg"),
        "{}",
        show(&o)
    );
    assert_eq!(
        entries(&out),
        [
            "data",
            "fitted.toml",
            "generations.csv",
            "generations.png",
            "generations.svg",
            "manifest.json",
            "parameters.csv",
            "posterior.csv",
            "posterior.png",
            "posterior.svg",
            "scenario.toml"
        ]
    );
    let posterior = fs::read_to_string(out.join("posterior.csv")).unwrap();
    assert_eq!(
        posterior.lines().next().unwrap(),
        "particle,weight,\"places[\"\"Rio Grande Valley\"\"].move_rate,places[\"\"New York City\"\"].move_rate\",behaviour.beliefs.lag_days,distance,ard:roxham"
    );
    assert_eq!(posterior.lines().count(), 7, "{posterior}");
    assert_eq!(
        first_line(&out.join("generations.csv")),
        "generation,tolerance,proposed,accepted,ess,best_distance,capped"
    );
    assert_eq!(
        fs::read_to_string(out.join("generations.csv"))
            .unwrap()
            .lines()
            .count(),
        4
    );
    let m = read_manifest(&out);
    assert_eq!(m["method"], "abc");
    assert!(m["runs"].as_u64().unwrap() >= 2 * 12, "{m}");
    assert!(m["runs_per_second"].as_f64().unwrap() > 0.0, "{m}");
    let fitted = fs::read_to_string(out.join("fitted.toml")).unwrap();
    assert!(
        fitted.starts_with("# Calibrated by `northbound calibrate`")
            && fitted.contains("# Method: ABC-SMC")
            && fitted.contains(
                "2 replicates per parameter set with seeds of its own, keyed by the proposal"
            )
            && fitted.contains("posterior.csv"),
        "{fitted}"
    );
    assert_eq!(
        fitted
            .matches("# fitted by calibrate in 0.01..0.5 (was ")
            .count(),
        2,
        "both tied paths are set and marked: {fitted}"
    );
    let o = northbound(
        cwd.path(),
        &["check".into(), out.join("fitted.toml").into_os_string()],
    );
    assert_ok(&o, "check fitted.toml");

    // The same posterior on one thread.
    let one = cwd.path().join("abc1");
    let o = calibrate_abc(cwd.path(), &sc, &one, &["--threads", "1"]);
    assert_ok(&o, "calibrate --method abc --threads 1");
    for f in ["posterior.csv", "generations.csv"] {
        assert_eq!(
            fs::read(out.join(f)).unwrap(),
            fs::read(one.join(f)).unwrap(),
            "{f} at 1 and 2 threads"
        );
    }

    // validate over the posterior.
    let val = cwd.path().join("val");
    let o = northbound(
        cwd.path(),
        &[
            "validate".into(),
            sc.clone().into_os_string(),
            "-r".into(),
            "4".into(),
            "--posterior".into(),
            out.join("posterior.csv").into_os_string(),
            "--out".into(),
            val.clone().into_os_string(),
        ],
    );
    assert_ok(&o, "validate --posterior");
    assert!(stdout(&o).contains("intervals over parameters and replicates"));
    let m = read_manifest(&val);
    assert_eq!(m["uncertainty"], "parameters and replicates");
    assert_eq!(
        m["posterior_sha256"],
        sha256_of(&out.join("posterior.csv")).as_str()
    );
    let v = fs::read_to_string(val.join("validation.csv")).unwrap();
    assert!(
        v.lines()
            .skip(1)
            .all(|l| l.ends_with(",parameters and replicates")),
        "{v}"
    );

    // compare over the posterior.
    let cmp = cwd.path().join("cmp");
    let o = northbound(
        cwd.path(),
        &[
            "compare".into(),
            sc.into_os_string(),
            "-r".into(),
            "2".into(),
            "--variants".into(),
            "both,neither".into(),
            "--posterior".into(),
            out.join("posterior.csv").into_os_string(),
            "--out".into(),
            cmp.clone().into_os_string(),
        ],
    );
    assert_ok(&o, "compare --posterior");
    assert_eq!(
        read_manifest(&cmp)["uncertainty"],
        "parameters and replicates"
    );
    let effects = fs::read_to_string(cmp.join("effects.csv")).unwrap();
    assert!(
        effects.starts_with("variant,effect,unit,mean,p05,p50,p95,uncertainty\n"),
        "{effects}"
    );
    assert!(
        effects
            .lines()
            .skip(1)
            .all(|l| l.ends_with(",parameters and replicates"))
    );
    let report = fs::read_to_string(cmp.join("report.html")).unwrap();
    assert!(
        report.contains("The intervals cover the parameters&#39; uncertainty"),
        "the report says what the intervals cover"
    );
    // ... in its own section, naming the posterior's columns; an assumption the posterior
    // varies (minimal.toml's Rio Grande Valley move_rate, tied here) says so.
    assert!(
        report.contains("<code>uncertainty</code> is <code>parameters and replicates</code>")
            && report.contains("<li><b>Parameters and replicates.</b>")
            && report.contains("the uncertainty of the 2 fitted parameters (<code>places[&quot;Rio Grande Valley&quot;].move_rate,places[&quot;New York City&quot;].move_rate</code>, <code>behaviour.beliefs.lag_days</code>)"),
        "{report}"
    );
    assert!(
        report.contains(
            "<td>assumption: half leave the border sector each day</td><td>the posterior</td>"
        ),
        "{report}"
    );
}

#[test]
fn calibrate_options_of_the_other_method_are_refused() {
    let cwd = tmp();
    let sc = minimal_with_observed(cwd.path());
    let out = cwd.path().join("abc");
    for (extra, fragment) in [
        (
            &["--budget", "5"][..],
            "--budget: applies to --method nelder-mead only",
        ),
        (
            &["--alpha", "1.5"][..],
            "--alpha 1.5: expected a quantile strictly between 0 and 1",
        ),
        (
            &["--max-proposals", "3"][..],
            "--max-proposals 3: expected at least the 6 particles",
        ),
    ] {
        let o = calibrate_abc(cwd.path(), &sc, &out, extra);
        assert_clean_failure(&o, &format!("{extra:?}"));
        assert!(stderr(&o).contains(fragment), "{extra:?}: {}", show(&o));
        assert!(!out.exists(), "nothing written");
    }
    let o = northbound(
        cwd.path(),
        [
            "calibrate",
            sc.to_str().unwrap(),
            "--fit",
            "behaviour.beliefs.lag_days=1..10",
            "--target",
            "roxham",
            "--window",
            "2023-01..2023-02",
            "--particles",
            "10",
            "--seeds",
            "fresh",
        ],
    );
    assert_clean_failure(&o, "--particles with nelder-mead");
    assert!(
        stderr(&o).contains("--particles: applies to --method abc only")
            && stderr(&o).contains("--seeds: applies to --method abc only"),
        "{}",
        show(&o)
    );
}

#[test]
fn a_bad_posterior_is_refused_naming_the_file_the_line_and_what_was_expected() {
    let cwd = tmp();
    let sc = minimal_with_observed(cwd.path());
    let cases = [
        (
            "particle,weight,inflows[0].share,distance\n0,1,0.5,0.1\n1,1,abc,0.1\n",
            "bad.csv:3: inflows[0].share: \"abc\" is not a number",
        ),
        (
            "id,weight,inflows[0].share,distance\n0,1,0.5,0.1\n",
            "bad.csv:1: expected the columns particle, weight, the parameter paths, distance",
        ),
        (
            "particle,weight,inflows[0].share,distance\n0,1,0.5,0.1\n1,1,0.5\n",
            "bad.csv:3: ",
        ),
        (
            "particle,weight,inflows[0].share,distance\n0,-1,0.5,0.1\n",
            "bad.csv:2: weight: expected a number that is not negative",
        ),
        (
            "particle,weight,places[\"Lacole\"].detection,distance\n0,1,0.5,0.1\n",
            "bad.csv:1: column \"places[\"Lacole\"].detection\": parameter path `places[\"Lacole\"].detection`: no element named \"Lacole\"",
        ),
        (
            "particle,weight,inflows[0].share,distance\n",
            "bad.csv:2: no particles: expected one row per particle after the header",
        ),
        (
            "particle,weight,places[\"Roxham Road\"].detection,distance\n0,1,1.5,0.1\n",
            "bad.csv, particle 0",
        ),
    ];
    for (i, (text, fragment)) in cases.iter().enumerate() {
        fs::write(cwd.path().join("bad.csv"), text).unwrap();
        for cmd in ["validate", "compare"] {
            let out = cwd.path().join(format!("out-{cmd}-{i}"));
            let o = northbound(
                cwd.path(),
                [
                    cmd,
                    sc.to_str().unwrap(),
                    "-r",
                    "2",
                    "--posterior",
                    "bad.csv",
                    "--out",
                    out.to_str().unwrap(),
                ],
            );
            assert_clean_failure(&o, &format!("{cmd} case {i}"));
            assert!(
                stderr(&o).contains(fragment),
                "{cmd} case {i}: {}",
                show(&o)
            );
            assert!(!out.exists(), "{cmd} case {i}: nothing written");
        }
    }
    assert_no_leftovers(cwd.path());
    let o = northbound(
        cwd.path(),
        [
            "validate",
            sc.to_str().unwrap(),
            "--posterior",
            "missing.csv",
        ],
    );
    assert_clean_failure(&o, "a missing posterior");
    assert!(
        stderr(&o).contains("missing.csv: cannot read"),
        "{}",
        show(&o)
    );
}

/// Reads a CSV file into rows of (column, cell).
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// effects.csv says its units, reads as rounded numbers, always has its header, and can be
/// recomputed from effects_by_replicate.csv and totals.csv, which hold every replicate; the
/// 2 x 2 interaction is there, replicate by replicate.
#[test]
fn effects_have_units_their_replicates_and_the_interaction() {
    let cwd = tmp();
    let out = cwd.path().join("cmp");
    let o = northbound(
        cwd.path(),
        [
            OsStr::new("compare"),
            minimal().as_os_str(),
            OsStr::new("--replicates"),
            OsStr::new("5"),
            OsStr::new("--out"),
            out.as_os_str(),
            OsStr::new("-q"),
        ],
    );
    assert_ok(&o, "compare minimal.toml");
    let effects = csv_rows(&out.join("effects.csv"));
    let by_replicate = csv_rows(&out.join("effects_by_replicate.csv"));
    let totals = csv_rows(&out.join("totals.csv"));
    assert_eq!(
        first_line(&out.join("effects_by_replicate.csv")),
        "variant,replicate,effect,unit,value"
    );
    assert_eq!(
        first_line(&out.join("totals.csv")),
        "variant,replicate,total,unit,value"
    );
    let unit_of = |effect: &str| match effect {
        e if e.starts_with("share_to_") => "ratio",
        e if ["roxham", "official_ports", "other_irregular", "airports"]
            .iter()
            .any(|t| e.ends_with(&format!("_{t}"))) =>
        {
            "attempts"
        }
        _ => "people",
    };
    for e in &effects {
        assert_eq!(e["unit"], unit_of(&e["effect"]), "{e:?}");
        for col in ["mean", "p05", "p50", "p95"] {
            let decimals = e[col].split('.').nth(1).map_or(0, str::len);
            let most = if e["unit"] == "ratio" { 4 } else { 1 };
            assert!(decimals <= most, "{col} of {e:?} is not rounded");
        }
    }
    let value =
        |rows: &[BTreeMap<String, String>], key: &str, variant: &str, r: u32, name: &str| {
            rows.iter()
                .find(|x| {
                    x["variant"] == variant && x["replicate"] == r.to_string() && x[key] == name
                })
                .unwrap_or_else(|| panic!("no {variant} {r} {name}"))["value"]
                .parse::<f64>()
                .unwrap()
        };
    for r in 0..5 {
        // diff_stayed_in_us from the totals of the end-of-window states.
        let diff = value(&totals, "total", "extension_only", r, "stayed_in_us")
            - value(&totals, "total", "neither", r, "stayed_in_us");
        let got = value(
            &by_replicate,
            "effect",
            "extension_only",
            r,
            "diff_stayed_in_us",
        );
        assert_eq!(got, diff);
        // The interaction: both - extension_only - quota_only + neither.
        let t = |v: &str| value(&totals, "total", v, r, "roxham");
        let want = t("both") - t("extension_only") - t("quota_only") + t("neither");
        let got = value(&by_replicate, "effect", "both", r, "interaction_roxham");
        assert_eq!(got, want, "replicate {r}");
    }
    // The mean in effects.csv is the mean of the replicates, rounded.
    let mean: f64 = (0..5)
        .map(|r| value(&by_replicate, "effect", "both", r, "interaction_roxham"))
        .sum::<f64>()
        / 5.0;
    let row = effects
        .iter()
        .find(|e| e["variant"] == "both" && e["effect"] == "interaction_roxham")
        .expect("effects.csv has the interaction");
    assert!(
        (row["mean"].parse::<f64>().unwrap() - mean).abs() <= 0.05,
        "{row:?}"
    );
    assert!(
        effects
            .iter()
            .all(|e| !e["effect"].starts_with("interaction_") || e["variant"] == "both")
    );
    // Without neither there are no effects, but the file says what it would hold.
    let o = northbound(
        cwd.path(),
        [
            OsStr::new("compare"),
            minimal().as_os_str(),
            OsStr::new("--replicates"),
            OsStr::new("1"),
            OsStr::new("--variants"),
            OsStr::new("both,extension_only"),
            OsStr::new("--out"),
            cwd.path().join("no-neither").as_os_str(),
            OsStr::new("-q"),
        ],
    );
    assert_ok(&o, "compare without neither");
    assert_eq!(
        fs::read_to_string(cwd.path().join("no-neither/effects.csv")).unwrap(),
        "variant,effect,unit,mean,p05,p50,p95,uncertainty\n"
    );
}

#[test]
fn compare_without_a_scenario_runs_the_bundled_default_from_any_folder() {
    let cwd = tmp();
    let out = cwd.path().join("cmp");
    let args: Vec<OsString> = vec![
        "compare".into(),
        "--replicates".into(),
        "1".into(),
        "--variants".into(),
        "neither".into(),
        "--out".into(),
        out.clone().into(),
    ];
    let o = northbound(cwd.path(), &args);
    assert_ok(&o, "compare with the bundled scenario");
    assert!(stdout(&o).contains("report:"), "{}", show(&o));
    assert!(out.join("report.html").is_file());
    let m = read_manifest(&out);
    assert_eq!(m["scenario_name"], "corridor-2017-2024");
    assert_eq!(m["variants"], serde_json::json!(["neither"]));
    assert_eq!(
        first_line(&out.join("series.csv")),
        "variant,replicate,month,place,metric,value"
    );
    assert_eq!(
        first_line(&out.join("summary.csv")),
        "variant,month,place,metric,mean,p05,p50,p95,uncertainty"
    );
    // An unknown variant is an error before anything runs.
    let mut bad = args.clone();
    bad[4] = "neither,nope".into();
    bad[6] = cwd.path().join("cmp2").into();
    let o = northbound(cwd.path(), &bad);
    assert_clean_failure(&o, "compare --variants nope");
    assert!(stderr(&o).contains("no variant \"nope\""), "{}", show(&o));
}

// ---------------------------------------------------------------------------------------
// What a scenario may read
// ---------------------------------------------------------------------------------------

/// Runs a command that must end by itself: fails the test (instead of hanging) if it is
/// still running after a minute, which a command blocked on a FIFO would be.
fn northbound_bounded(cwd: &Path, args: &[OsString]) -> Output {
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the northbound binary starts");
    for _ in 0..600 {
        if child.try_wait().expect("waiting for northbound").is_some() {
            return child.wait_with_output().expect("its output");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let o = child.wait_with_output().expect("its output");
    panic!("northbound {args:?} did not end by itself\n{}", show(&o));
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn scenario_files_that_are_not_small_regular_files_are_refused() {
    let cwd = tmp();
    let mut cases: Vec<(PathBuf, &str)> = vec![(PathBuf::from("/dev/zero"), "system file")];
    let fifo = cwd.path().join("fifo.toml");
    if mkfifo(&fifo) {
        cases.push((fifo, "not a regular file"));
    }
    cases.push((cwd.path().to_path_buf(), "not a regular file"));
    let big = cwd.path().join("big.toml");
    let mut text = fs::read_to_string(minimal()).unwrap();
    text.push_str(&format!("# {}\n", "x".repeat(17 << 20)));
    fs::write(&big, text).unwrap();
    cases.push((big, "more than the 16777216 bytes"));
    for (file, fragment) in cases {
        for cmd in ["check", "run"] {
            let o = northbound_bounded(cwd.path(), &[cmd.into(), file.clone().into()]);
            let what = format!("{cmd} {}", file.display());
            assert_clean_failure(&o, &what);
            assert!(stderr(&o).contains(fragment), "{what}\n{}", show(&o));
        }
    }
    assert!(!cwd.path().join("output").exists());
}

#[test]
fn data_files_must_be_regular_and_their_content_is_not_echoed() {
    let cwd = tmp();
    let dir = cwd.path();
    let text = fs::read_to_string(minimal()).unwrap();
    let monthly = text
        .lines()
        .find(|l| l.starts_with("monthly = "))
        .expect("minimal.toml has inline monthly rates");
    let with_file = |file: &str, column: &str| {
        text.replace(
            monthly,
            &format!("file = \"{file}\"\ncolumn = \"{column}\""),
        )
    };
    fs::write(
        dir.join("header.csv"),
        "month,secret_token_abc123\n2023-01,60\n",
    )
    .unwrap();
    fs::write(
        dir.join("cells.csv"),
        "month,x\n2023-01,60\nsecret_cell_def456,60\n2023-03,secret_value_789\n",
    )
    .unwrap();
    let mut cases = vec![
        (with_file("header.csv", "x"), vec!["no column `x`"]),
        (with_file("cells.csv", "x"), vec!["cells.csv:3", "month"]),
        (
            with_file("/proc/self/environ", "x"),
            vec!["inflows[0].file", "system file"],
        ),
        (
            with_file("/etc/passwd", "x"),
            vec!["inflows[0].file", "expected a `month` column"],
        ),
    ];
    if mkfifo(&dir.join("fifo.csv")) {
        cases.push((
            with_file("fifo.csv", "x"),
            vec!["inflows[0].file", "not a regular file"],
        ));
    }
    for (i, (scenario, fragments)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("case{i}.toml"));
        fs::write(&path, scenario).unwrap();
        let o = northbound_bounded(dir, &["check".into(), path.clone().into()]);
        let what = format!("check case{i}.toml");
        assert_clean_failure(&o, &what);
        let err = stderr(&o);
        for f in fragments {
            assert!(err.contains(f), "{what}: stderr lacks {f:?}\n{}", show(&o));
        }
        for secret in ["secret", "root:", "PATH="] {
            assert!(
                !err.contains(secret),
                "{what}: stderr echoes the file's content ({secret:?})\n{}",
                show(&o)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Replacing a result: --force, crashes, concurrent runs, signals
// ---------------------------------------------------------------------------------------

/// `run minimal.toml --out <out> --force` as arguments.
fn force_args(out: &Path) -> Vec<OsString> {
    vec![
        "run".into(),
        minimal().into(),
        "--out".into(),
        out.into(),
        "--force".into(),
        "--quiet".into(),
    ]
}

#[test]
fn force_never_replaces_a_folder_northbound_did_not_write_whole() {
    let cwd = tmp();
    // A web app's folder with a manifest.json of its own.
    let public = cwd.path().join("public");
    fs::create_dir_all(public.join("img")).unwrap();
    fs::write(public.join("index.html"), "<html></html>").unwrap();
    fs::write(public.join("app.js"), "main()").unwrap();
    fs::write(public.join("manifest.json"), "{\"name\": \"my app\"}").unwrap();
    let before = snapshot(&public);
    let o = northbound(cwd.path(), force_args(&public));
    assert_clean_failure(&o, "run --force over a web app's folder");
    let err = stderr(&o);
    for f in ["not northbound's", "app.js", "img/", "index.html"] {
        assert!(err.contains(f), "stderr lacks {f:?}\n{}", show(&o));
    }
    assert!(snapshot(&public) == before, "the web app's files changed");

    // An earlier run in which the user keeps notes.
    let run = cwd.path().join("run");
    run_minimal(cwd.path(), &run, &[]);
    fs::write(run.join("notes.txt"), "what I saw").unwrap();
    let before = snapshot(&run);
    let o = northbound(cwd.path(), force_args(&run));
    assert_clean_failure(&o, "run --force over a run holding notes.txt");
    assert!(stderr(&o).contains("notes.txt"), "{}", show(&o));
    assert!(snapshot(&run) == before, "the earlier run changed");
    assert_no_leftovers(cwd.path());
}

/// A result whose replacement was cut short (the old result moved aside, the new one not yet
/// in place) is restored by the next run; a lock left by a dead process is taken over.
#[test]
fn a_replacement_cut_short_is_recovered_by_the_next_run() {
    let cwd = tmp();
    let out = cwd.path().join("out");
    run_minimal(cwd.path(), &out, &["--seed", "5"]);
    // As a run killed between its two renames leaves it (4294967 is above Linux's pid_max).
    let old = cwd.path().join(".out.old-4294967-0");
    fs::rename(&out, &old).unwrap();
    fs::write(cwd.path().join(".out.lock"), "4294967\n").unwrap();
    let partial = cwd.path().join(".out.partial-4294967-0");
    fs::create_dir(&partial).unwrap();
    if !Path::new("/proc").is_dir() {
        return;
    }
    let o = northbound(
        cwd.path(),
        [
            OsStr::new("run"),
            minimal().as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
        ],
    );
    assert_clean_failure(&o, "a run without --force next to a cut-short replacement");
    assert!(stderr(&o).contains("already exists"), "{}", show(&o));
    assert_eq!(read_manifest(&out)["seed"], 5, "the old result is back");
    assert_eq!(entries(cwd.path()), ["out"]);
    let o = northbound(cwd.path(), force_args(&out));
    assert_ok(&o, "run --force after the recovery");
    assert_eq!(read_manifest(&out)["seed"], 42);
    assert_no_leftovers(cwd.path());
}

#[test]
fn concurrent_forced_runs_to_one_folder_leave_one_whole_result() {
    let cwd = tmp();
    let out = cwd.path().join("out");
    run_minimal(cwd.path(), &out, &[]);
    let spawn = |seed: &str| {
        let mut args = force_args(&out);
        args.extend(["--seed".into(), seed.into(), "--threads".into(), "1".into()]);
        Command::new(BIN)
            .args(&args)
            .current_dir(cwd.path())
            .output()
            .expect("northbound runs")
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| spawn("1"));
        let b = s.spawn(|| spawn("2"));
        (a.join().unwrap(), b.join().unwrap())
    });
    for o in [&a, &b] {
        assert!(
            o.status.success() || clean_failure(o).is_none(),
            "{}",
            show(o)
        );
    }
    assert!(
        a.status.success() || b.status.success(),
        "{}\n{}",
        show(&a),
        show(&b)
    );
    let seed = read_manifest(&out)["seed"].as_u64().unwrap();
    assert!(seed == 1 || seed == 2, "seed {seed}");
    let listed = read_manifest(&out)["files"].as_array().unwrap().len();
    assert_eq!(listed, entries(&out).len(), "a whole result");
    assert_no_leftovers(cwd.path());
}

/// A run long enough to be interrupted: minimal.toml over 80 years.
fn write_long_minimal(dir: &Path) -> PathBuf {
    let text = fs::read_to_string(minimal())
        .unwrap()
        .replace("end = 2023-06-30", "end = 2102-12-31")
        .replace(
            "p_canadian_document = 0.01 ",
            "fill = \"last\"\np_canadian_document = 0.01 ",
        );
    let path = dir.join("long.toml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_interrupted_run_removes_its_partial_folder_and_says_so() {
    let cwd = tmp();
    let sc = write_long_minimal(cwd.path());
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let out = cwd.path().join("output").join("long");
        let child = Command::new(BIN)
            .args([
                OsStr::new("run"),
                sc.as_os_str(),
                OsStr::new("--out"),
                out.as_os_str(),
            ])
            .current_dir(cwd.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the run has started writing (its partial folder is there).
        let parent = cwd.path().join("output");
        let mut started = false;
        for _ in 0..1200 {
            if parent.is_dir()
                && entries(&parent)
                    .iter()
                    .any(|n| n.starts_with(".long.partial-"))
            {
                started = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(started, "the run never created its partial folder");
        let kill = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "SIG{signal}\n{}", show(&o));
        let err = stderr(&o);
        assert_eq!(err.trim().lines().count(), 1, "one line\n{}", show(&o));
        assert!(err.contains("interrupted"), "{}", show(&o));
        assert!(!parent.exists(), "SIG{signal} left {:?}", entries(&parent));
    }
    assert_eq!(entries(cwd.path()), ["long.toml"]);
}

// ---------------------------------------------------------------------------------------
// CSV injection
// ---------------------------------------------------------------------------------------

/// Every field of every CSV file of a folder: none that a spreadsheet would run as a
/// formula (a text starting with `=`, `+`, `-` or `@`; numbers are numbers).
fn assert_no_formulas(dir: &Path) {
    for f in entries(dir).into_iter().filter(|f| f.ends_with(".csv")) {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(dir.join(&f))
            .unwrap();
        for rec in rdr.records() {
            for field in rec.unwrap().iter() {
                let formula = field.starts_with(['=', '+', '-', '@', '\t', '\r'])
                    && field.parse::<f64>().is_err();
                assert!(!formula, "{f}: a spreadsheet would run {field:?}");
            }
        }
    }
}

#[test]
fn names_a_spreadsheet_would_run_are_neutralised_in_every_csv() {
    let cwd = tmp();
    let dir = cwd.path();
    fs::write(dir.join("obs.csv"), "month,count\n2023-01,20\n2023-02,25\n").unwrap();
    let text = fs::read_to_string(minimal())
        .unwrap()
        .replace("\"Lacolle\"", "\"=HYPERLINK(1)\"")
        .replace("\"New York City\"", "\"+New York\"")
        .replace("\"Elsewhere in the US\"", "\"-2+3\"")
        .replace("\"Canada (resettled)\"", "\"@SUM(A1)\"")
        + "\n[[observed]]\nname = \"=cmd\"\nfile = \"obs.csv\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n\n[[variant]]\nname = \"-window\"\ndescription = \"=1+1\"\nset = { \"policies.stca_extension.window_days\" = 30 }\n";
    let sc = dir.join("formulas.toml");
    fs::write(&sc, text).unwrap();
    let o = northbound(dir, [OsStr::new("check"), sc.as_os_str()]);
    assert_ok(&o, "check formulas.toml");

    let run = dir.join("run");
    let o = northbound(
        dir,
        [
            OsStr::new("run"),
            sc.as_os_str(),
            OsStr::new("--out"),
            run.as_os_str(),
            OsStr::new("-q"),
        ],
    );
    assert_ok(&o, "run formulas.toml");
    assert_no_formulas(&run);
    let places = fs::read_to_string(run.join("places.csv")).unwrap();
    assert!(places.contains("'=HYPERLINK"), "{places}");
    assert!(places.contains("'-2+3"), "{places}");
    // The figures are drawn from the CSVs, with the names as the scenario gives them.
    let svg = fs::read_to_string(run.join("crossings.svg")).unwrap();
    assert!(
        svg.contains("=HYPERLINK") && !svg.contains("'=HYPERLINK"),
        "the legend"
    );
    let o = northbound(dir, [OsStr::new("plot"), run.as_os_str()]);
    assert_ok(&o, "plot the run");

    for (cmd, out) in [("validate", "val"), ("compare", "cmp")] {
        let out = dir.join(out);
        let o = northbound(
            dir,
            [
                OsStr::new(cmd),
                sc.as_os_str(),
                OsStr::new("--replicates"),
                OsStr::new("1"),
                OsStr::new("--out"),
                out.as_os_str(),
                OsStr::new("-q"),
            ],
        );
        assert_ok(&o, &format!("{cmd} formulas.toml"));
        assert_no_formulas(&out);
        let o = northbound(dir, [OsStr::new("plot"), out.as_os_str()]);
        assert_ok(&o, &format!("plot the {cmd} folder"));
    }
}

// ---------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------

#[test]
fn check_prints_the_memory_estimate_and_a_run_too_large_is_refused_before_it_starts() {
    let cwd = tmp();
    let o = northbound(cwd.path(), [OsStr::new("check"), minimal().as_os_str()]);
    assert_ok(&o, "check minimal.toml");
    assert!(
        stdout(&o).contains("memory   about") && stdout(&o).contains("at the peak of a run"),
        "{}",
        show(&o)
    );
    // 9.6e8 agents (the issue's case): about 30 GiB.
    let text = fs::read_to_string(minimal()).unwrap();
    let monthly = text.lines().find(|l| l.starts_with("monthly = ")).unwrap();
    let big = cwd.path().join("big.toml");
    fs::write(
        &big,
        text.replace(monthly, &monthly.replace("= 60", "= 1.6e8")),
    )
    .unwrap();
    let out = cwd.path().join("out");
    for args in [
        vec![OsStr::new("check"), big.as_os_str()],
        vec![
            OsStr::new("run"),
            big.as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
        ],
        vec![
            OsStr::new("compare"),
            big.as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
        ],
    ] {
        let mut args = args;
        args.extend([OsStr::new("--memory"), OsStr::new("4")]);
        let o = northbound_bounded(
            cwd.path(),
            &args.iter().map(|a| a.into()).collect::<Vec<OsString>>(),
        );
        assert_clean_failure(&o, "a run of 9.6e8 agents in 4 GiB");
        let err = stderr(&o);
        assert!(
            err.contains("memory: this needs about")
                && err.contains("GiB at its peak, more than the 4.0 GiB allowed by --memory"),
            "{}",
            show(&o)
        );
        assert!(err.contains("big.toml"), "{}", show(&o));
    }
    assert_eq!(entries(cwd.path()), ["big.toml"]);
    // A day-long window with many places: the results alone are days x places x metrics.
    let o = northbound(
        cwd.path(),
        [
            OsStr::new("check"),
            minimal().as_os_str(),
            OsStr::new("--memory"),
            OsStr::new("0.01"),
        ],
    );
    assert_clean_failure(&o, "check minimal.toml --memory 0.01");
}
