//! The policy experiment end to end: the default 2 x 2 (both, extension_only, quota_only,
//! neither) with 50 replicates each, on the bundled default scenario, as `northbound
//! compare --replicates 50` runs it (the figures and report excepted). Throughput is in
//! agent-days summed over the 200 runs. One sample takes 30 to 60 seconds, so the group
//! takes criterion's minimum of ten: run it alone with `cargo bench --bench compare`.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use northbound::Scenario;
use northbound::experiment::{compare, ensemble};
use std::time::Duration;

const REPLICATES: u32 = 50;

fn two_by_two(c: &mut Criterion) {
    let sc = Scenario::bundled_default().expect("the bundled scenario is valid");
    let specs = compare::design(&sc).expect("the default design");
    assert_eq!(specs.len(), 4);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let series = dir.path().join("series.csv");
    let pool = ensemble::pool(None);
    // One run first, to know the work and check it.
    let first = pool
        .install(|| compare::compare(&sc, &specs, REPLICATES, sc.seed, &series, &|| {}))
        .expect("the comparison runs");
    assert_eq!(first.variants.len(), 4);
    let drop = first
        .effects
        .iter()
        .find(|e| e.variant == "extension_only" && e.effect == "diff_roxham")
        .expect("an effect of the extension");
    assert!(
        drop.mean < 0.0,
        "the extension lowers Roxham attempts: {drop:?}"
    );
    let mut g = c.benchmark_group("compare");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .throughput(Throughput::Elements(first.agent_days));
    g.bench_function("default_2x2_50_replicates", |b| {
        b.iter(|| {
            let out = pool
                .install(|| compare::compare(&sc, &specs, REPLICATES, sc.seed, &series, &|| {}))
                .expect("the comparison runs");
            assert_eq!(out.agent_days, first.agent_days, "the same work every time");
            out
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters would look for fonts, which northbound never needs.
    config = Criterion::default().without_plots();
    targets = two_by_two
}
criterion_main!(benches);
