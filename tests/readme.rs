//! The README shows scenarios/minimal.toml in full; this keeps the copy true.

#[test]
fn readme_shows_the_minimal_scenario_as_it_is() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let file = std::fs::read_to_string(format!("{root}/scenarios/minimal.toml")).unwrap();
    let start = readme
        .find("<!-- minimal.toml begins -->\n```toml\n")
        .expect("begin marker")
        + "<!-- minimal.toml begins -->\n```toml\n".len();
    let end = readme
        .find("```\n<!-- minimal.toml ends -->")
        .expect("end marker");
    assert_eq!(
        &readme[start..end],
        file,
        "README's copy of scenarios/minimal.toml is out of date"
    );
}

/// A researcher can tell how they may use and cite northbound: the licence files, the SPDX
/// field, a citation file with this version, and the README's lines on citing a run.
#[test]
fn the_licence_and_the_citation_are_there_and_agree() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| {
        std::fs::read_to_string(format!("{root}/{f}")).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    assert!(read("LICENSE-MIT").contains("Permission is hereby granted, free of charge"));
    assert!(read("LICENSE-APACHE").contains("Apache License\n                        Version 2.0"));
    assert!(read("Cargo.toml").contains("\nlicense = \"MIT OR Apache-2.0\"\n"));
    let cff = read("CITATION.cff");
    assert!(cff.starts_with("cff-version: 1.2.0\n"));
    assert!(
        cff.contains(&format!("\nversion: \"{}\"\n", env!("CARGO_PKG_VERSION"))),
        "CITATION.cff gives another version than Cargo.toml"
    );
    assert!(cff.contains("  - MIT\n  - Apache-2.0\n"));
    let readme = read("README.md");
    for key in [
        "northbound_version",
        "northbound_commit",
        "scenario_sha256",
        "seed",
    ] {
        assert!(
            readme.contains(&format!("`{key}`")),
            "the README does not say to cite {key}"
        );
    }
}

/// The code block of `lang` in the README's "Loading them" paragraph.
fn loading_snippet(readme: &str, lang: &str) -> String {
    let at = readme
        .find("Loading them")
        .expect("the README loads the tables");
    let open = format!("```{lang}\n");
    let start = at + readme[at..].find(&open).expect("the snippet") + open.len();
    let end = start + readme[start..].find("```\n").expect("the snippet's end");
    readme[start..end].to_string()
}

/// Runs `program args` in `dir` with `code` on its standard input; `None` if the program is
/// not there.
fn run_with_stdin(
    dir: &std::path::Path,
    program: &str,
    args: &[&str],
    code: &str,
) -> Option<std::process::Output> {
    use std::io::Write as _;
    let mut child = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(code.as_bytes())
        .unwrap();
    Some(child.wait_with_output().unwrap())
}

/// The README's Python and R snippets load a real monthly.csv into one column per place
/// and metric, with every value (R's reshape with warnings as errors: the old snippet,
/// timevar = "place", warned and kept one metric per place). Each runs where its tool is
/// installed (python3 with pandas; Rscript) and is skipped, saying so, where it is not;
/// with `NORTHBOUND_REQUIRE_SNIPPETS=1` a missing tool fails the test instead.
#[test]
fn the_readme_snippets_load_the_long_tables() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The snippets read output/corridor-2017-2024/monthly.csv: the minimal scenario's run
    // there has the same columns, and Roxham Road.
    let out = dir.path().join("output/corridor-2017-2024");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_northbound"))
        .args([
            "run",
            &format!("{root}/scenarios/minimal.toml"),
            "-q",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("monthly.csv")).unwrap();
    let (mut months, mut columns) = (Vec::new(), Vec::new());
    let mut peak = ("", 0.0_f64);
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let (month, place, metric) = (cells[0], cells[1], cells[2]);
        let value: f64 = cells[3].parse().unwrap();
        if !months.contains(&month) {
            months.push(month);
        }
        if !columns.contains(&(place, metric)) {
            columns.push((place, metric));
        }
        if place == "Roxham Road" && metric == "intercepted" && value > peak.1 {
            peak = (month, value);
        }
    }
    assert!(peak.1 > 0.0, "no interceptions at Roxham Road to check");
    let (n_months, n_columns, (month, value)) = (months.len(), columns.len(), peak);

    let python_ready = run_with_stdin(dir.path(), "python3", &["-"], "import pandas\n")
        .is_some_and(|o| o.status.success());
    if python_ready {
        let code = loading_snippet(&readme, "python")
            + &format!(
                "assert wide.shape == ({n_months}, {n_columns}), wide.shape\n\
                 assert roxham.loc[\"{month}\"] == {value}\n\
                 assert wide[(\"Roxham Road\", \"intercepted\")].loc[\"{month}\"] == {value}\n\
                 assert wide.notna().all().all()\n"
            );
        let o = run_with_stdin(dir.path(), "python3", &["-"], &code).unwrap();
        assert!(
            o.status.success(),
            "the README's Python snippet:\n{code}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    } else {
        skipped("the README's Python snippet: python3 with pandas is not installed");
    }

    let code = "options(warn = 2)\n".to_string()
        + &loading_snippet(&readme, "r")
        + &format!(
            "stopifnot(nrow(wide) == {n_months}, ncol(wide) == 1 + {n_columns})\n\
             stopifnot(roxham$value[roxham$month == \"{month}\"] == {value})\n\
             stopifnot(wide[wide$month == \"{month}\", \"value Roxham Road: intercepted\"] == {value})\n\
             stopifnot(!anyNA(wide))\n"
        );
    match run_with_stdin(dir.path(), "Rscript", &["-"], &code) {
        Some(o) => assert!(
            o.status.success(),
            "the README's R snippet:\n{code}\n{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        None => skipped("the README's R snippet: Rscript is not installed"),
    }
}

/// Says that a snippet was not run, or fails where `NORTHBOUND_REQUIRE_SNIPPETS=1` asks
/// for every snippet to run.
fn skipped(why: &str) {
    if std::env::var("NORTHBOUND_REQUIRE_SNIPPETS").is_ok_and(|v| v == "1") {
        panic!("NORTHBOUND_REQUIRE_SNIPPETS=1, but skipped {why}");
    }
    eprintln!("skipped {why}");
}

/// The README's example that runs variants runs the bundled default's own, and the README
/// names every variant the default scenario bundles.
#[test]
fn the_readme_runs_the_bundled_variants() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let scenario =
        std::fs::read_to_string(format!("{root}/scenarios/corridor-2017-2024.toml")).unwrap();
    let doc: toml::Table = scenario.parse().unwrap();
    let bundled: Vec<&str> = doc["variant"]
        .as_array()
        .expect("the default scenario bundles [[variant]] tables")
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert!(bundled.len() >= 4, "{bundled:?}");
    let example = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- compare --variants "))
        .expect("a README example that runs variants");
    let names: Vec<&str> = example
        .trim_start_matches("cargo run --release -- compare --variants ")
        .split_whitespace()
        .next()
        .unwrap()
        .split(',')
        .collect();
    let design = ["both", "extension_only", "quota_only", "neither"];
    assert!(names.iter().any(|n| bundled.contains(n)), "{example}");
    for n in names {
        assert!(
            design.contains(&n) || bundled.contains(&n),
            "{n}: not a variant of the bundled default"
        );
    }
    for n in bundled {
        assert!(
            readme.contains(&format!("`{n}`")),
            "the README does not name {n}"
        );
    }
}
