//! `northbound sweep` and `northbound merge` through the real binary on the minimal
//! scenario: the files and their headers, the [sweep] table, shards (explicit and from
//! Slurm's variables) merged byte for byte into the one-machine result, resume after
//! SIGTERM and SIGKILL, points from a posterior, and the refusals.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_northbound");

fn minimal() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml")
}

fn nb(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(cwd)
        .env_remove("RAYON_NUM_THREADS");
    for k in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_MAX",
        "SLURM_ARRAY_TASK_COUNT",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the binary starts")
}

#[track_caller]
fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "status {:?}\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[track_caller]
fn fails(o: &Output) -> String {
    assert!(!o.status.success(), "expected a failure");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const TABLES: [&str; 8] = [
    "points.csv",
    "outcomes.csv",
    "series.csv",
    "sensitivity.csv",
    "places.csv",
    "policies.csv",
    "scenario.toml",
    "sweep.json",
];

#[track_caller]
fn same_tables(a: &Path, b: &Path) {
    for t in TABLES {
        assert!(
            fs::read(a.join(t)).unwrap() == fs::read(b.join(t)).unwrap(),
            "{t} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn sobol_args(sc: &str) -> Vec<String> {
    [
        "sweep",
        sc,
        "--vary",
        "places[\"Roxham Road\"].detection=0.5..0.99",
        "--vary",
        "behaviour.give_up_rate=0.001..0.01",
        "--vary",
        "policies.stca_extension.window_days=7..30",
        "--design",
        "sobol",
        "--points",
        "8",
        "--replicates",
        "2",
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn a_sweep_writes_its_tables_figures_and_report_independent_of_threads() {
    let d = tempfile::tempdir().unwrap();
    let sc = minimal();
    let base: Vec<&str> = [
        "sweep",
        sc.to_str().unwrap(),
        "--vary",
        "places[\"Roxham Road\"].detection=0.5..0.99",
        "--vary",
        "inflows[0].p_family_in_canada,inflows[0].p_unaccompanied_minor=0.01..0.3",
        "--design",
        "sobol",
        "--points",
        "8",
        "--replicates",
        "2",
    ]
    .to_vec();
    let mut one = base.clone();
    one.extend(["--out", "one", "--threads", "1"]);
    let text = ok(&nb(d.path(), &one, &[]));
    assert!(
        text.contains("sobol design, 32 points x 2 replicates = 64 runs"),
        "{text}"
    );
    assert!(text.contains("runs per second"), "{text}");
    let mut two = base.clone();
    two.extend(["--out", "two", "--threads", "2", "-q"]);
    ok(&nb(d.path(), &two, &[]));
    same_tables(&d.path().join("one"), &d.path().join("two"));
    let dir = d.path().join("one");
    for f in [
        "sensitivity.png",
        "sensitivity.svg",
        "report.html",
        "manifest.json",
        "scatter-land_port_claims.svg",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    assert!(
        !d.path().join("one.unfinished").exists(),
        "the working folder is removed"
    );
    let first = |f: &str| {
        fs::read_to_string(dir.join(f))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        first("points.csv"),
        "point,\"places[\"\"Roxham Road\"\"].detection\",\"inflows[0].p_family_in_canada,inflows[0].p_unaccompanied_minor\""
    );
    assert!(first("outcomes.csv").ends_with(
        "roxham_attempts_before_extension,roxham_attempts_after_extension,land_port_attempts,land_port_claims,other_irregular_attempts,evasions,stayed_in_us,resettled"
    ));
    assert_eq!(
        first("series.csv"),
        "point,replicate,month,place,metric,value"
    );
    assert_eq!(
        first("sensitivity.csv"),
        "outcome,parameter,method,index,value,p05,p95"
    );
    let sens = fs::read_to_string(dir.join("sensitivity.csv")).unwrap();
    assert!(sens.contains("land_port_claims,\"inflows[0].p_family_in_canada,inflows[0].p_unaccompanied_minor\",sobol,ST,"));
    let outcomes = fs::read_to_string(dir.join("outcomes.csv")).unwrap();
    assert_eq!(outcomes.lines().count(), 1 + 64);
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["command"], "sweep");
    assert_eq!(m["runs"], 64);
    assert!(m["runs_per_second"].as_f64().unwrap() > 0.0);
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"sensitivity\">") && html.contains("<svg"));
    // plot redraws the folder from its files.
    ok(&nb(d.path(), &["plot", "one"], &[]));
    // Summary series: a row per point and cell.
    let mut s = base.clone();
    s.extend(["--out", "summ", "--series", "summary", "-q"]);
    ok(&nb(d.path(), &s, &[]));
    let series = fs::read_to_string(d.path().join("summ/series.csv")).unwrap();
    assert!(series.starts_with("point,month,place,metric,mean,p05,p50,p95\n"));
}

#[test]
fn shards_from_the_option_and_from_slurm_merge_into_the_one_machine_result() {
    let d = tempfile::tempdir().unwrap();
    let sc = minimal();
    let args = sobol_args(sc.to_str().unwrap());
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.extend(extra);
        nb(d.path(), &a, env)
    };
    ok(&run(&["--out", "whole"], &[]));
    // Shard 1 by the option, shards 2 and 3 as tasks 5 and 6 of an array 4-6.
    ok(&run(&["--out", "sw", "--shard", "1/3"], &[]));
    for id in ["5", "6"] {
        let env = [
            ("SLURM_ARRAY_TASK_ID", id),
            ("SLURM_ARRAY_TASK_MIN", "4"),
            ("SLURM_ARRAY_TASK_MAX", "6"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        ok(&run(&["--out", "sw"], &env));
    }
    for i in 1..=3 {
        assert!(
            d.path()
                .join(format!("sw.shard-{i}-of-3/sweep.json"))
                .is_file()
        );
    }
    let e = fails(&nb(
        d.path(),
        &["merge", "sw.shard-1-of-3", "sw.shard-3-of-3"],
        &[],
    ));
    assert!(
        e.contains("missing shard 2/3") && e.contains("sw.shard-2-of-3"),
        "{e}"
    );
    let e = fails(&nb(
        d.path(),
        &[
            "merge",
            "sw.shard-1-of-3",
            "sw.shard-2-of-3",
            "sw.shard-2-of-3",
            "sw.shard-3-of-3",
        ],
        &[],
    ));
    assert!(e.contains("is shard 2/3 again"), "{e}");
    // A shard of another sweep (another seed) is refused.
    ok(&run(
        &["--out", "other", "--shard", "2/3", "--seed", "9"],
        &[],
    ));
    let e = fails(&nb(
        d.path(),
        &[
            "merge",
            "sw.shard-1-of-3",
            "other.shard-2-of-3",
            "sw.shard-3-of-3",
            "--out",
            "x",
        ],
        &[],
    ));
    assert!(
        e.contains("is a shard of another sweep") && e.contains("seed 9 vs"),
        "{e}"
    );
    let text = ok(&nb(
        d.path(),
        &[
            "merge",
            "sw.shard-3-of-3",
            "sw.shard-1-of-3",
            "sw.shard-2-of-3",
        ],
        &[],
    ));
    assert!(text.contains("merged 3 shards"), "{text}");
    same_tables(&d.path().join("whole"), &d.path().join("sw"));
    // A shard folder without its scenario is refused before anything is written.
    copy_dir(
        &d.path().join("sw.shard-1-of-3"),
        &d.path().join("old.shard-1-of-3"),
    );
    fs::remove_file(d.path().join("old.shard-1-of-3/scenario.toml")).unwrap();
    let e = fails(&nb(
        d.path(),
        &[
            "merge",
            "old.shard-1-of-3",
            "sw.shard-2-of-3",
            "sw.shard-3-of-3",
            "--out",
            "from-old",
        ],
        &[],
    ));
    assert!(
        e.contains("old.shard-1-of-3") && e.contains("has no scenario.toml"),
        "{e}"
    );
    assert!(!d.path().join("from-old").exists());
    // A gapped array is refused, naming the variables.
    let env = [
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_MAX", "5"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ];
    let e = fails(&run(&["--out", "gap"], &env));
    assert!(
        e.contains("SLURM_ARRAY_TASK_MIN=1") && e.contains("--shard I/N"),
        "{e}"
    );
}

/// Copies a folder of files (no subfolders).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        if e.file_type().unwrap().is_file() {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Waits until the working folder holds a finished point, or the command has ended.
fn wait_for_a_point(child: &mut std::process::Child, work: &Path) -> bool {
    loop {
        let n = fs::read_dir(work)
            .map(|r| {
                r.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("point-"))
                    .count()
            })
            .unwrap_or(0);
        if n > 0 {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn a_stopped_sweep_resumes_and_ends_as_one_never_stopped() {
    let d = tempfile::tempdir().unwrap();
    let sc = minimal();
    let args: Vec<String> = [
        "sweep",
        sc.to_str().unwrap(),
        "--vary",
        "behaviour.give_up_rate=0.001..0.01",
        "--vary",
        "places[\"New York City\"].move_rate=0.01..0.1",
        "--design",
        "lhs",
        "--points",
        "150",
        "--threads",
        "1",
        "--series",
        "summary",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut plain = args.clone();
    plain.extend(["--out".into(), "plain".into(), "-q".into()]);
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    ok(&nb(d.path(), &plain, &[]));
    let mut a = args.clone();
    a.extend(["--out".into(), "sw".into()]);
    let work = d.path().join("sw.unfinished");
    let mut stopped = 0;
    for signal in ["-TERM", "-KILL"] {
        let mut child = Command::new(BIN)
            .args(&a)
            .current_dir(d.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if wait_for_a_point(&mut child, &work) {
            Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        if !out.status.success() {
            stopped += 1;
            let err = String::from_utf8_lossy(&out.stderr);
            if signal == "-TERM" {
                assert_eq!(out.status.code(), Some(143), "{err}");
                assert!(err.contains("run the same command to resume"), "{err}");
            }
            assert!(work.join("sweep.json").is_file());
            assert!(!d.path().join("sw").exists());
        }
    }
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let text = ok(&nb(d.path(), &a, &[]));
    // The manifest counts this process's runs, and those it resumed apart.
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(d.path().join("sw/manifest.json")).unwrap()).unwrap();
    let (runs, resumed) = (m["runs"].as_u64().unwrap(), m["runs_resumed"].as_u64());
    assert_eq!(runs + resumed.unwrap_or(0), 150, "{m}");
    if stopped > 0 {
        assert!(text.contains("resuming: "), "{text}");
        assert!(resumed.is_some_and(|r| r > 0), "{m}");
    }
    same_tables(&d.path().join("plain"), &d.path().join("sw"));
    assert!(!work.exists());
}

#[test]
fn the_scenario_table_and_a_posterior_give_the_points() {
    let d = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(minimal()).unwrap();
    let sc = d.path().join("sc.toml");
    fs::write(
        &sc,
        format!(
            "{text}\n[sweep]\ndesign = \"morris\"\npoints = 3\nvary = {{ \"behaviour.max_attempts\" = \"1..4\", 'places[\"Roxham Road\"].detection' = \"0.5..0.99\", \"policies.resettlement_quota.enabled\" = [true, false] }}\n"
        ),
    )
    .unwrap();
    // The bad table of a copy is refused when the file loads, by its path.
    let bad = d.path().join("bad.toml");
    fs::write(
        &bad,
        format!("{text}\n[sweep]\nvary = {{ \"behaviour.max_atempts\" = \"1..4\" }}\n"),
    )
    .unwrap();
    let e = fails(&nb(d.path(), &["check", "bad.toml"], &[]));
    assert!(
        e.contains("sweep.vary.\"behaviour.max_atempts\"")
            && e.contains("unknown field `max_atempts`"),
        "{e}"
    );
    let text = ok(&nb(d.path(), &["check", "sc.toml"], &[]));
    assert!(
        text.contains("sweep    morris design, points 3\n  --vary 'behaviour.max_attempts=1..4'\n")
            && text.contains("\n  --vary 'places[\"Roxham Road\"].detection=0.5..0.99'\n"),
        "{text}"
    );
    ok(&nb(
        d.path(),
        &["sweep", "sc.toml", "--out", "m", "-q"],
        &[],
    ));
    // What check prints, pasted onto a shell's command line, is the same sweep.
    let vary: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  --vary "))
        .collect();
    assert_eq!(vary.len(), 3, "{text}");
    let line = format!(
        "'{BIN}' sweep sc.toml --design morris --points 3 --out pasted -q --vary {}",
        vary.join(" --vary ")
    );
    let pasted = Command::new("sh")
        .args(["-c", &line])
        .current_dir(d.path())
        .env_remove("RAYON_NUM_THREADS")
        .output()
        .unwrap();
    ok(&pasted);
    let points = fs::read_to_string(d.path().join("m/points.csv")).unwrap();
    assert_eq!(
        fs::read_to_string(d.path().join("pasted/points.csv")).unwrap(),
        points
    );
    assert!(points.starts_with("point,behaviour.max_attempts,\"places[\"\"Roxham Road\"\"].detection\",policies.resettlement_quota.enabled\n"), "{points}");
    assert_eq!(points.lines().count(), 1 + 3 * 4);
    assert!(points.contains(",true\n") || points.contains(",false\n"));
    let sens = fs::read_to_string(d.path().join("m/sensitivity.csv")).unwrap();
    assert!(sens.contains(",morris,mu_star,") && sens.contains(",morris,sigma,"));
    // A posterior's particles as the points, with their weights.
    fs::write(
        d.path().join("posterior.csv"),
        "particle,weight,behaviour.give_up_rate,distance\n0,0.5,0.002,0.1\n1,0.3,0.004,0.2\n2,0.2,0.003,0.3\n",
    )
    .unwrap();
    ok(&nb(
        d.path(),
        &[
            "sweep",
            "sc.toml",
            "--points-from",
            "posterior.csv",
            "--out",
            "p",
            "-q",
        ],
        &[],
    ));
    let points = fs::read_to_string(d.path().join("p/points.csv")).unwrap();
    assert_eq!(
        points,
        "point,behaviour.give_up_rate,weight\n0,0.002,0.5\n1,0.004,0.3\n2,0.003,0.2\n"
    );
    let e = fails(&nb(
        d.path(),
        &[
            "sweep",
            "sc.toml",
            "--points-from",
            "posterior.csv",
            "--design",
            "lhs",
        ],
        &[],
    ));
    assert!(e.contains("cannot be used with"), "{e}");
    fs::write(
        d.path().join("pts.csv"),
        "point,behaviour.give_up_rate\n0,x\n",
    )
    .unwrap();
    let e = fails(&nb(
        d.path(),
        &["sweep", "sc.toml", "--points-from", "pts.csv"],
        &[],
    ));
    assert!(
        e.contains("pts.csv:2:") && e.contains("expected a number"),
        "{e}"
    );
}

#[test]
fn bad_sweeps_are_refused_before_anything_runs() {
    let d = tempfile::tempdir().unwrap();
    let sc = minimal();
    let s = sc.to_str().unwrap();
    for (args, want) in [
        (
            vec!["--vary", "places[\"Roxham Road\"].detection=0.5..1.5"],
            "detection: 1.5 is not a probability",
        ),
        (
            vec!["--vary", "behaviour.give_up_rate"],
            "expected PATH=LO..HI",
        ),
        (vec!["--vary", "polices.x=1..2"], "no `polices` here"),
        // A key the file does not set, and the scenario does not know: named by its path,
        // not by a line of the text with the key added (a clean-clone reading found it).
        (
            vec!["--vary", "places[\"Roxham Road\"].detektion=0.6,0.9"],
            "places[\"Roxham Road\"].detektion: no parameter `detektion` there (expected one of `name`,",
        ),
        (vec![], "give --vary"),
        (
            vec![
                "--vary",
                "behaviour.give_up_rate=0.001..0.01",
                "--shard",
                "4/3",
            ],
            "--shard \"4/3\"",
        ),
        (
            vec![
                "--vary",
                "behaviour.give_up_rate=0.001..0.01",
                "--design",
                "morris",
                "--levels",
                "3",
            ],
            "even number of levels",
        ),
    ] {
        let mut a = vec!["sweep", s, "--out", "x"];
        a.extend(args);
        let e = fails(&nb(d.path(), &a, &[]));
        assert!(e.contains(want), "{want}: {e}");
        assert!(!d.path().join("x").exists() && !d.path().join("x.unfinished").exists());
    }
    // A working folder with someone else's file is never used.
    fs::create_dir_all(d.path().join("y.unfinished")).unwrap();
    fs::write(d.path().join("y.unfinished/notes.txt"), "mine").unwrap();
    let e = fails(&nb(
        d.path(),
        &[
            "sweep",
            s,
            "--vary",
            "behaviour.give_up_rate=0.001..0.01",
            "--out",
            "y",
            "--force",
        ],
        &[],
    ));
    assert!(
        e.contains("notes.txt") && e.contains("even with --force"),
        "{e}"
    );
    assert!(d.path().join("y.unfinished/notes.txt").is_file());
    // Merging what is not a shard.
    let e = fails(&nb(d.path(), &["merge", "y.unfinished"], &[]));
    assert!(e.contains("unfinished sweep's working folder"), "{e}");
}

/// A sweep's result, a shard and a merged result hold the scenario with the data files it
/// read (paths rewritten), so each runs again from anywhere, and merge gives the same
/// scenario and data as the sweep run on one machine.
#[test]
fn sweep_and_merged_folders_hold_their_scenario_and_data() {
    let d = tempfile::tempdir().unwrap();
    let study = d.path().join("study");
    fs::create_dir(&study).unwrap();
    let mut text = fs::read_to_string(minimal()).unwrap();
    text.push_str(
        "\n[[observed]]\nname = \"roxham_attempts\"\ndescription = \"a test series\"\n\
         file = \"../obs/roxham.csv\"\ncolumn = \"count\"\nmetric = \"attempts\"\n\
         places = [\"Roxham Road\"]\naggregate = \"month\"\n",
    );
    fs::write(study.join("study.toml"), text).unwrap();
    fs::create_dir(d.path().join("obs")).unwrap();
    fs::write(
        d.path().join("obs/roxham.csv"),
        "month,count\n2023-02,40\n2023-03,25\n",
    )
    .unwrap();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "sweep",
            "study/study.toml",
            "--vary",
            "behaviour.give_up_rate=0.001,0.01",
            "--design",
            "grid",
            "--replicates",
            "1",
            "-q",
        ];
        a.extend(extra);
        nb(d.path(), &a, &[])
    };
    ok(&args(&["--out", "whole"]));
    ok(&args(&["--out", "sw", "--shard", "1/2"]));
    ok(&args(&["--out", "sw", "--shard", "2/2"]));
    ok(&nb(
        d.path(),
        &["merge", "sw.shard-1-of-2", "sw.shard-2-of-2", "-q"],
        &[],
    ));
    let whole = d.path().join("whole");
    let merged = d.path().join("sw");
    for f in ["scenario.toml", "data/roxham.csv"] {
        assert_eq!(
            fs::read(whole.join(f)).unwrap(),
            fs::read(merged.join(f)).unwrap(),
            "{f}"
        );
    }
    let scenario = fs::read_to_string(whole.join("scenario.toml")).unwrap();
    assert!(
        scenario.contains("file = \"data/roxham.csv\""),
        "{scenario}"
    );
    same_tables(&whole, &merged);
    // With the original scenario and data gone, both folders' scenarios still run.
    fs::remove_dir_all(&study).unwrap();
    fs::remove_dir_all(d.path().join("obs")).unwrap();
    for dir in ["whole", "sw"] {
        ok(&nb(
            d.path(),
            &["check", &format!("{dir}/scenario.toml")],
            &[],
        ));
    }
}
