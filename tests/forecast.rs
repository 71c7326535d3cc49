//! `northbound forecast` end to end, on the minimal scenario: the same files whatever the
//! thread count, every month x place x metric in forecast.csv, identification that finds a
//! parameter known to drive the forecast and one known not to, errors on a bad posterior
//! that name the file and the line, and a folder `plot` redraws to the same SVG.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_northbound");

fn minimal() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml")
}

fn northbound(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RAYON_NUM_THREADS")
        .output()
        .expect("the binary runs")
}

#[track_caller]
fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A posterior over two parameters of the minimal scenario: `inflows[0].share`, which
/// scales everyone who comes and so the attempts at Roxham Road, and
/// `behaviour.work_permit_days`, every value of which is past the end of the six-month
/// window, so it changes nothing. Twelve particles of equal weight (twelve replicates draw
/// each once), the second parameter ordered so that its rank correlation with the first is
/// exactly 0.
fn posterior(dir: &Path) -> PathBuf {
    let order = [2, 8, 4, 7, 11, 1, 5, 10, 0, 9, 3, 6];
    let mut text =
        String::from("particle,weight,inflows[0].share,behaviour.work_permit_days,distance\n");
    for (i, k) in order.iter().enumerate() {
        let share = 0.4 + 0.1 * i as f64;
        let days = 200 + 20 * k;
        text.push_str(&format!("{i},1,{share:.1},{days},0.1\n"));
    }
    let path = dir.join("posterior.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn forecast(out: &Path, extra: &[&str]) -> Output {
    let scenario = minimal();
    let mut args = vec![
        "forecast",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    northbound(&args)
}

/// A CSV file's header and rows, as text.
fn rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn a_forecast_is_the_same_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let post = posterior(dir.path());
    let post = post.to_str().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    for (out, threads) in [(&one, "1"), (&two, "2")] {
        let o = forecast(
            out,
            &[
                "--posterior",
                post,
                "--replicates",
                "6",
                "--threads",
                threads,
            ],
        );
        assert_ok(&o);
    }
    for f in [
        "forecast.csv",
        "replicates.csv",
        "identification.csv",
        "observed.csv",
        "forecast_attempts.svg",
    ] {
        let a = std::fs::read(one.join(f)).unwrap();
        let b = std::fs::read(two.join(f)).unwrap();
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
    let manifest = std::fs::read_to_string(two.join("manifest.json")).unwrap();
    for key in [
        "\"command\": \"forecast\"",
        "\"replicates\": 6",
        "\"forecast_from\": \"2023-03\"",
        "\"uncertainty\": \"parameters and replicates\"",
        "\"posterior_sha256\": \"",
    ] {
        assert!(
            manifest.contains(key),
            "the manifest lacks {key}: {manifest}"
        );
    }
}

#[test]
fn forecast_csv_has_its_columns_and_every_month_place_and_metric() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fc");
    assert_ok(&forecast(&out, &["--replicates", "3"]));
    let table = rows(&out.join("forecast.csv"));
    assert_eq!(
        table[0],
        ["month", "place", "metric", "mean", "p05", "p50", "p95"]
    );
    let cells: BTreeSet<(String, String, String)> = table[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    let mut want = BTreeSet::new();
    for m in ["2023-03", "2023-04", "2023-05", "2023-06"] {
        for p in [
            "Roxham Road",
            "Lacolle",
            "All irregular crossings",
            "All land ports",
        ] {
            for k in ["attempts", "intercepted", "claims", "returned"] {
                want.insert((m.to_string(), p.to_string(), k.to_string()));
            }
        }
    }
    assert_eq!(cells, want);
    assert_eq!(table.len() - 1, want.len(), "one row per cell");
    for r in &table[1..] {
        let v: Vec<f64> = r[3..].iter().map(|x| x.parse().unwrap()).collect();
        assert!(
            v[1] <= v[2] && v[2] <= v[3],
            "quantiles out of order: {r:?}"
        );
    }
    // context.csv: the same for the months of the run-in before it.
    let context = rows(&out.join("context.csv"));
    assert_eq!(context[0], table[0]);
    let months: BTreeSet<&str> = context[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(months, BTreeSet::from(["2023-01", "2023-02"]));
    // replicates.csv holds the values behind it, without particles.
    let reps = rows(&out.join("replicates.csv"));
    assert_eq!(
        reps[0],
        ["replicate", "particle", "month", "place", "metric", "value"]
    );
    assert_eq!(reps.len() - 1, 3 * want.len());
    assert!(reps[1..].iter().all(|r| r[1].is_empty()));
    assert!(
        !out.join("identification.csv").exists(),
        "only with a posterior"
    );
    // --from picks the first month.
    let later = dir.path().join("later");
    assert_ok(&forecast(
        &later,
        &["--replicates", "2", "--from", "2023-05"],
    ));
    let first = &rows(&later.join("forecast.csv"))[1][0];
    assert_eq!(first, "2023-05");
}

#[test]
fn identification_finds_the_parameter_that_drives_the_forecast() {
    let dir = tempfile::tempdir().unwrap();
    let post = posterior(dir.path());
    let out = dir.path().join("fc");
    let o = forecast(
        &out,
        &["--posterior", post.to_str().unwrap(), "--replicates", "12"],
    );
    assert_ok(&o);
    let table = rows(&out.join("identification.csv"));
    let header = &table[0];
    assert_eq!(
        header,
        &[
            "outcome",
            "description",
            "mean",
            "p05",
            "p95",
            "r_squared",
            "parameter",
            "rank_correlation",
            "std_coefficient",
            "variance_share"
        ]
    );
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let get = |outcome: &str, param: &str, what: &str| -> f64 {
        table[1..]
            .iter()
            .find(|r| r[col("outcome")] == outcome && r[col("parameter")] == param)
            .unwrap_or_else(|| panic!("no row for {outcome} and {param}"))[col(what)]
        .parse()
        .unwrap()
    };
    let (driver, inert) = ("inflows[0].share", "behaviour.work_permit_days");
    let roxham = "attempts_roxham_road";
    let rho = get(roxham, driver, "rank_correlation");
    assert!(rho > 0.8, "rank correlation with the inflow share: {rho}");
    let rho = get(roxham, inert, "rank_correlation");
    assert!(
        rho.abs() < 0.3,
        "rank correlation with an inert parameter: {rho}"
    );
    assert!(get(roxham, driver, "variance_share") > 0.9);
    assert!(get(roxham, driver, "r_squared") > 0.7);
    // Every outcome has a row per parameter.
    let outcomes: BTreeSet<&str> = table[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        outcomes,
        BTreeSet::from([
            "attempts_roxham_road",
            "claims_land_ports",
            "returned_to_us",
            "intercepted_irregular_first_12_months"
        ])
    );
    assert_eq!(table.len() - 1, 2 * outcomes.len());
    // The replicates name their particles.
    let reps = rows(&out.join("replicates.csv"));
    let particles: BTreeSet<&str> = reps[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(particles.len(), 12, "each particle drawn once");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.is_empty(), "-q prints nothing: {stdout}");
}

#[test]
fn a_bad_posterior_is_an_error_naming_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "particle,weight,inflows[0].share,distance\n0,1,0.5,0.1\n1,1,lots,0.1\n",
    )
    .unwrap();
    let out = dir.path().join("fc");
    let o = forecast(&out, &["--posterior", path.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.csv:3: inflows[0].share: \"lots\" is not a number"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "nothing is left behind");
    // A parameter the scenario does not have names the file and the particle.
    std::fs::write(
        &path,
        "particle,weight,places[\"Nowhere\"].detection,distance\n4,1,0.5,0.1\n",
    )
    .unwrap();
    let o = forecast(&out, &["--posterior", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("bad.csv, particle 4") && err.contains("Nowhere"),
        "{err}"
    );
    // Too few replicates to tell two parameters apart.
    let post = posterior(dir.path());
    let o = forecast(
        &out,
        &["--posterior", post.to_str().unwrap(), "--replicates", "2"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("posterior.csv: identification:") && err.contains("linear combination"),
        "{err}"
    );
    // A first month outside the window names the argument.
    let o = forecast(&out, &["--from", "2024-01"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--from 2024-01: outside the scenario's window"),
        "{err}"
    );
    let o = forecast(&out, &["--from", "March"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("\"March\" is not a month"), "{err}");
}

#[test]
fn plot_redraws_a_forecast_from_its_csvs_to_the_same_svg() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fc");
    // An observed series over Roxham Road's place, with months before and after the
    // forecast starts: only those before are drawn.
    let obs = dir.path().join("obs.csv");
    std::fs::write(
        &obs,
        "month,count,verification\n2023-01,20,derived\n2023-02,25,derived\n\
         2023-03,30,derived\n2023-04,10,derived\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(minimal()).unwrap()
        + "\n[[observed]]\nname = \"roxham\"\ndescription = \"Roxham Road interceptions\"\n\
           file = \"obs.csv\"\nmetric = \"intercepted\"\nplaces = [\"Roxham Road\"]\n";
    let scenario = dir.path().join("observed.toml");
    std::fs::write(&scenario, text).unwrap();
    let o = northbound(&[
        "forecast",
        scenario.to_str().unwrap(),
        "--replicates",
        "3",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_ok(&o);
    let observed = std::fs::read_to_string(out.join("observed.csv")).unwrap();
    assert_eq!(
        observed,
        "series,description,metric,place,month,value\n\
         roxham,Roxham Road interceptions,intercepted,Roxham Road,2023-01,20.0\n\
         roxham,Roxham Road interceptions,intercepted,Roxham Road,2023-02,25.0\n"
    );
    let svg = std::fs::read_to_string(out.join("forecast_attempts.svg")).unwrap();
    for text in [
        "Forecast of monthly crossing attempts from 2023-03",
        "Roxham Road (irregular crossing)",
        "All land ports",
        "observed before 2023-03: Roxham Road interceptions",
        "STCA extension",
    ] {
        assert!(svg.contains(text), "the figure lacks {text:?}");
    }
    let copy = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&out).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "csv") {
            std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let o = northbound(&["plot", copy.path().to_str().unwrap()]);
    assert_ok(&o);
    let redrawn = std::fs::read_to_string(copy.path().join("forecast_attempts.svg")).unwrap();
    assert!(svg == redrawn, "forecast_attempts.svg differs when redrawn");
}
