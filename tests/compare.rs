//! The policy comparison through the library: variant overrides, and results that depend
//! on neither the thread count nor the subset of variants run.

use northbound::Scenario;
use northbound::experiment::posterior::Posterior;
use northbound::experiment::{compare, ensemble};
use std::path::{Path, PathBuf};

fn minimal_with(extra: &str, dir: &Path) -> Scenario {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
    let text = std::fs::read_to_string(src).unwrap() + extra;
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    Scenario::load(&path).unwrap()
}

fn run(
    sc: &Scenario,
    names: &[&str],
    threads: usize,
    out: &Path,
) -> (compare::Comparison, Vec<u8>) {
    let specs = compare::select(
        compare::design(sc).unwrap(),
        &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        sc,
    )
    .unwrap();
    let series: PathBuf = out.join(format!("series-{}-{threads}.csv", names.join("+")));
    let pool = ensemble::pool(Some(threads));
    let cmp = pool
        .install(|| compare::compare(sc, &specs, 3, sc.seed, &series, &|| {}))
        .unwrap();
    (cmp, std::fs::read(series).unwrap())
}

#[test]
fn results_depend_neither_on_threads_nor_on_the_subset_of_variants() {
    let dir = tempfile::tempdir().unwrap();
    let sc = minimal_with("", dir.path());
    let (all1, series1) = run(&sc, &[], 1, dir.path());
    let (all2, series2) = run(&sc, &[], 2, dir.path());
    assert_eq!(
        series1, series2,
        "series.csv is byte-identical at 1 and 2 threads"
    );
    assert_eq!(all1.summary, all2.summary);
    assert_eq!(all1.effects, all2.effects);
    assert_eq!(all1.variants.len(), 4);
    assert_eq!(
        all1.effects.len(),
        3 * 15 + 8,
        "three variants against neither, 15 effects each, and both's 8 interactions"
    );
    assert_eq!(all1.by_replicate, all2.by_replicate);
    // Each variant's first day apart from neither: the day its rules first differ (the
    // extension's start, the quota's announcement), none for neither itself.
    let from = |name: &str| {
        all1.variants
            .iter()
            .find(|v| v.variant == name)
            .unwrap()
            .differs_from
            .clone()
    };
    assert_eq!(from("extension_only"), "2023-03-25");
    assert_eq!(from("quota_only"), "2023-03-24");
    assert_eq!(from("both"), "2023-03-24");
    assert_eq!(from("neither"), "");
    assert_eq!(all1.totals, all2.totals);

    // `neither` run alone gives the same rows as within the full design.
    let (alone, _) = run(&sc, &["neither"], 2, dir.path());
    let pick = |c: &compare::Comparison| {
        c.summary
            .iter()
            .filter(|r| r.variant == "neither")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(pick(&alone), pick(&all1));
    assert!(
        alone.effects.is_empty(),
        "no effects without a variant to set against neither"
    );

    // The extension returns people at Roxham Road; without it nobody is returned there.
    let returned = |c: &compare::Comparison, v: &str| -> f64 {
        c.summary
            .iter()
            .filter(|r| r.variant == v && r.place == "Roxham Road" && r.metric == "returned")
            .map(|r| r.mean)
            .sum()
    };
    assert!(returned(&all1, "both") > 0.0);
    assert_eq!(returned(&all1, "neither"), 0.0);
    let diff = all1
        .effects
        .iter()
        .find(|e| e.variant == "extension_only" && e.effect == "diff_roxham")
        .unwrap();
    assert!(
        diff.mean < 0.0,
        "the extension lowers Roxham attempts: {diff:?}"
    );
}

#[test]
fn variant_overrides_apply_and_an_unknown_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let sc = minimal_with(
        "\n[[variant]]\nname = \"window30\"\ndescription = \"a 30-day window\"\nset = { \"policies.stca_extension.window_days\" = 30, \"places[\\\"Roxham Road\\\"].detection\" = 0.5 }\n",
        dir.path(),
    );
    let v = sc.variant("window30").unwrap();
    let ext = v
        .policies
        .iter()
        .find(|p| p.rule.name() == "stca_extension")
        .unwrap();
    assert!(matches!(
        ext.rule,
        northbound::scenario::policy::Rule::StcaExtension {
            window_days: 30,
            ..
        }
    ));
    assert_eq!(
        v.places[v.place_id("Roxham Road").unwrap() as usize].detection,
        0.5
    );
    let (cmp, _) = run(&sc, &["window30", "neither"], 2, dir.path());
    assert!(cmp.effects.iter().any(|e| e.variant == "window30"));

    // A misspelt path is refused when the scenario loads, naming the variant and the path.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
    let text = std::fs::read_to_string(src).unwrap()
        + "\n[[variant]]\nname = \"typo\"\nset = { \"policies.stca_extenshun.window_days\" = 30 }\n";
    let path = dir.path().join("typo.toml");
    std::fs::write(&path, text).unwrap();
    let e = Scenario::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("variant[0].set.\"policies.stca_extenshun.window_days\""),
        "{e}"
    );
    assert!(e.contains("no `stca_extenshun` here"), "{e}");
    // A known path with a value of the wrong type is refused when the scenario loads too:
    // every variant is built and validated then, so that check and compare agree.
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "stca_extenshun.window_days\" = 30",
        "stca_extension.window_days\" = \"thirty\"",
    );
    std::fs::write(&path, text).unwrap();
    let e = Scenario::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("variant \"typo\"") && e.contains("window_days"),
        "{e}"
    );
    // And an unknown variant name.
    let e = compare::select(compare::design(&sc).unwrap(), &["nope".into()], &sc)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no variant \"nope\""), "{e}");
}

/// The minimal scenario in a temporary folder, a posterior of three particles over New York
/// City's move rate, and the comparison's variants.
fn with_posterior() -> (
    tempfile::TempDir,
    Scenario,
    Posterior,
    Vec<compare::VariantSpec>,
) {
    let dir = tempfile::tempdir().unwrap();
    let sc = minimal_with("", dir.path());
    let file = dir.path().join("posterior.csv");
    std::fs::write(
        &file,
        "particle,weight,\"places[\"\"New York City\"\"].move_rate\",distance\n\
         0,1,0.01,0.1\n1,1,0.08,0.1\n2,2,0.2,0.1\n",
    )
    .unwrap();
    let p = Posterior::read(&file).unwrap();
    let specs = compare::design(&sc).unwrap();
    (dir, sc, p, specs)
}

/// Over a posterior, replicate r of every variant runs with the same particle: months
/// before any policy differs are then identical across variants, replicate by replicate,
/// and the results still do not depend on the threads.
#[test]
fn over_a_posterior_every_variant_has_the_particle_of_its_replicate() {
    let (dir, sc, p, specs) = with_posterior();
    let over = |threads: usize, posterior: Option<&Posterior>| {
        let series = dir
            .path()
            .join(format!("series-{threads}-{}.csv", posterior.is_some()));
        let cmp = ensemble::pool(Some(threads))
            .install(|| compare::compare_over(&sc, &specs, 4, sc.seed, posterior, &series, &|| {}))
            .unwrap();
        (cmp, std::fs::read_to_string(series).unwrap())
    };
    let (cmp, series) = over(1, Some(&p));
    assert_eq!(series, over(2, Some(&p)).1, "the same at 1 and 2 threads");
    // replicate_seeds.csv: each replicate's seed and the id of its particle, as drawn.
    let draws = p.draws(4, sc.seed);
    assert_eq!(cmp.replicates.len(), 4);
    for (r, row) in cmp.replicates.iter().enumerate() {
        assert_eq!(row.replicate, r as u32);
        assert_eq!(row.seed, ensemble::replicate_seed(sc.seed, r as u32));
        assert_eq!(row.particle, Some(p.particles[draws[r]].id), "{row:?}");
    }
    let plain = over(1, None).0;
    assert!(plain.replicates.iter().all(|r| r.particle.is_none()));
    let over_both = "parameters and replicates";
    assert!(cmp.summary.iter().all(|r| r.uncertainty == over_both));
    assert!(cmp.effects.iter().all(|e| e.uncertainty == over_both));
    assert!(cmp.overlay.iter().all(|o| o.uncertainty == over_both));
    // Before the quota (2023-03-24) the variants are the same model: the same particle and
    // seed give the same numbers.
    let early = |text: &str| {
        let mut by: std::collections::BTreeMap<(String, String), Vec<String>> = Default::default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if f[2] == "2023-01" || f[2] == "2023-02" {
                by.entry((f[1].to_string(), f[0].to_string()))
                    .or_default()
                    .push(f[3..].join(","));
            }
        }
        by
    };
    let by = early(&series);
    for r in 0..4 {
        let rows: Vec<&Vec<String>> = by
            .iter()
            .filter(|((rep, _), _)| rep == &r.to_string())
            .map(|(_, v)| v)
            .collect();
        assert_eq!(rows.len(), 4);
        assert!(
            rows.iter().all(|v| v == &rows[0]),
            "replicate {r}: the variants differ before any policy does"
        );
    }
    let (plain, plain_series) = over(2, None);
    assert_ne!(early(&plain_series), by, "the particles change the runs");
    assert!(plain.summary.iter().all(|r| r.uncertainty == "replicates"));
}

/// Over a posterior, replicate r of every variant is the run of the particle drawn r-th
/// (whose variants go on from that particle's run), and series.csv's rows go variant by
/// variant, replicate by replicate, in the order of `compare::cells`.
#[test]
fn over_a_posterior_the_rows_are_each_particles_runs_in_order() {
    let (dir, sc, p, specs) = with_posterior();
    let reps = 5;
    let series = dir.path().join("post.csv");
    ensemble::pool(Some(2))
        .install(|| compare::compare_over(&sc, &specs, reps, sc.seed, Some(&p), &series, &|| {}))
        .unwrap();
    let got: Vec<String> = std::fs::read_to_string(&series)
        .unwrap()
        .lines()
        .skip(1)
        .map(String::from)
        .collect();
    let draws = p.draws(reps, sc.seed);
    assert!(draws.iter().any(|&d| d != draws[0]), "{draws:?}");
    let cells = compare::cells(&sc);
    let mut by_particle = std::collections::HashMap::new();
    for &k in &draws {
        by_particle.entry(k).or_insert_with(|| {
            let psc = sc
                .with_overrides(&p.overrides(&sc, k).unwrap(), "particle")
                .unwrap();
            let path = dir.path().join(format!("p{k}.csv"));
            ensemble::pool(Some(2))
                .install(|| compare::compare(&psc, &specs, reps, sc.seed, &path, &|| {}))
                .unwrap();
            std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .skip(1)
                .map(String::from)
                .collect::<Vec<_>>()
        });
    }
    let mut i = 0;
    for (v, spec) in specs.iter().enumerate() {
        for r in 0..reps as usize {
            for (c, (month, place, metric)) in cells.iter().enumerate() {
                let want = &by_particle[&draws[r]][(v * reps as usize + r) * cells.len() + c];
                assert!(
                    got[i].starts_with(&format!("{},{r},{month},{place},{metric},", spec.name)),
                    "row {i}: {}",
                    got[i]
                );
                assert_eq!(&got[i], want, "variant {}, replicate {r}", spec.name);
                i += 1;
            }
        }
    }
    assert_eq!(i, got.len());
}
