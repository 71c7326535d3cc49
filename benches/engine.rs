//! Criterion benchmarks of the engine, reported in agent-days (BENCHMARKS.md has the
//! figures, the machine and what the groups mean).
//!
//! * `day_step`: one day of [`Simulation::step`] with 10k, 1M and 10M agents present
//!   (everyone in New York City from the first day, a few days in); throughput in agents
//!   stepped.
//! * `default_scenario`: `corridor-2017-2024.toml` end to end.
//! * `scale`: `bench-1m.toml` and `bench-10m.toml` end to end at 1 and 2 threads (the
//!   thread speedup and the 1M-to-10M scaling).
//! * `full_scale`: `full-2017-2024.toml`, every southern-border encounter FY2017-FY2024.
//! * `flee`: the two workloads shaped like a corridor benchmark of the Python peer Flee
//!   (`flee-settle-100k-cap.toml`, `flee-stay-100k-cap.toml`), on 2 threads.
//! * `chain`: `minimal.toml` with Plattsburgh replaced by a chain of 1,000 and 2,000 staging
//!   places (the route-choice case of issue 10: its cost must grow with the routes, not
//!   with the square of the places).
//!
//! End-to-end groups count agent-days (the plain loop's work: the agents present, summed
//! over days). Every benchmark checks what it computed, so that one that does less work
//! fails instead of looking fast. `cargo bench -- day_step` runs one group.

use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use northbound::Scenario;
use northbound::model::agent::State;
use northbound::model::engine::{self, Results, RunOptions, Simulation};
use northbound::scenario::Metric;
use northbound::scenario::{Inflow, PlaceKind};
use std::path::Path;
use std::time::Duration;

fn scenario(file: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    Scenario::load(&path).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Day `d` of a run: every agent created is in exactly one state, and some people tried
/// to cross (when `crossing` is asked for).
fn check_day(sc: &Scenario, res: &Results, d: u32, crossing: bool) {
    let states: u64 = State::ALL.iter().map(|&s| res.state_count(d, s)).sum();
    assert_eq!(
        states, res.created[d as usize],
        "day {d}: agents not conserved"
    );
    if crossing {
        let attempts: u64 = (0..sc.places.len())
            .filter(|&p| sc.places[p].kind == PlaceKind::Crossing)
            .map(|p| res.count(d, p, Metric::Attempts))
            .sum();
        assert!(attempts > 0, "day {d}: nobody tried to cross");
    }
}

/// A whole run: agents conserved every day, crossings over the run, and exactly the
/// agent-days of the first run.
fn check_run(sc: &Scenario, res: &Results, agent_days: u64) {
    check_conserved(sc, res, agent_days);
    let attempts: u64 = (0..sc.places.len())
        .filter(|&p| sc.places[p].kind == PlaceKind::Crossing)
        .map(|p| res.total(p, Metric::Attempts))
        .sum();
    assert!(attempts > 0, "nobody tried to cross");
}

/// Agents conserved every day, and exactly the agent-days of the first run.
fn check_conserved(sc: &Scenario, res: &Results, agent_days: u64) {
    for d in 0..res.days {
        check_day(sc, res, d, false);
    }
    assert_eq!(*res.created.last().expect("a day"), res.agents);
    assert_eq!(res.agent_days, agent_days, "a different amount of work");
}

fn run(sc: &Scenario, threads: Option<usize>) -> Results {
    let opts = RunOptions {
        threads,
        ..RunOptions::default()
    };
    engine::run(sc, &opts, &mut |_, _, _| {})
}

/// The default corridor with `n` agents (on average) all in New York City on the first
/// day: the city where the corridor's people wait, which is most of any day's work.
fn crowd(n: usize) -> Scenario {
    let mut sc = scenario("corridor-2017-2024.toml");
    let nyc = sc
        .place_id("New York City")
        .expect("the corridor has New York City");
    let inflow = Inflow {
        entry: nyc,
        monthly: vec![(sc.start.month(), n as f64)],
        first_day: true,
        ..sc.inflows[0].clone()
    };
    sc.inflows = vec![inflow];
    sc
}

/// Days stepped before the measured day: entry, then a few ordinary days, so that the
/// crowd is spread over waiting, travelling and crossing.
const WARM_DAYS: u32 = 5;

fn day_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("day_step");
    g.sampling_mode(SamplingMode::Flat);
    for (label, n) in [("10k", 10_000), ("1M", 1_000_000), ("10M", 10_000_000)] {
        let sc = crowd(n);
        let mut warm = Simulation::new(&sc, &RunOptions::default());
        for _ in 0..WARM_DAYS {
            warm.step();
        }
        let d = warm.day();
        let stepped = warm.active() as u64;
        assert!(
            stepped > n as u64 * 9 / 10,
            "{label}: {stepped} agents present"
        );
        g.throughput(Throughput::Elements(stepped));
        g.sample_size(if n >= 1_000_000 { 10 } else { 50 });
        g.measurement_time(Duration::from_secs(if n >= 10_000_000 { 6 } else { 3 }));
        let batch = if n >= 1_000_000 {
            BatchSize::PerIteration
        } else {
            BatchSize::SmallInput
        };
        g.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter_batched(
                || warm.clone(),
                |mut sim| {
                    sim.step();
                    check_day(&sc, sim.results(), d, true);
                    sim
                },
                batch,
            )
        });
    }
    g.finish();
}

/// Benchmarks runs of a scenario end to end, at the given thread counts (`None`: one per
/// core).
fn end_to_end(c: &mut Criterion, group: &str, file: &str, threads: &[Option<usize>], secs: u64) {
    let sc = scenario(file);
    let first = run(&sc, threads[0]);
    check_run(&sc, &first, first.agent_days);
    let mut g = c.benchmark_group(group);
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(secs));
    g.throughput(Throughput::Elements(first.agent_days));
    let name = file.trim_end_matches(".toml");
    for &t in threads {
        let id = match t {
            Some(t) => BenchmarkId::new(name, format!("{t}-threads")),
            None => BenchmarkId::from_parameter(name),
        };
        g.bench_function(id, |b| {
            b.iter(|| {
                let res = run(&sc, t);
                check_run(&sc, &res, first.agent_days);
                res
            })
        });
    }
    g.finish();
}

fn default_scenario(c: &mut Criterion) {
    end_to_end(c, "default_scenario", "corridor-2017-2024.toml", &[None], 5);
}

fn scale(c: &mut Criterion) {
    for file in ["bench-1m.toml", "bench-10m.toml"] {
        end_to_end(c, "scale", file, &[Some(1), Some(2)], 20);
    }
}

fn full_scale(c: &mut Criterion) {
    end_to_end(
        c,
        "full_scale",
        "full-2017-2024.toml",
        &[Some(1), Some(2)],
        20,
    );
}

/// The two workloads shaped like a corridor benchmark of the Python peer Flee
/// (`flee-settle-100k-cap.toml`, `flee-stay-100k-cap.toml`: 100,000 agents over 365 days,
/// copied from `../shared/bench/`), on 2 threads; BENCHMARKS.md sets the times against
/// Flee's on this machine.
fn flee(c: &mut Criterion) {
    // The stay workload is about waiting agents: most of them must still be waiting at
    // the shelter on the last day, or it measures something else.
    let sc = scenario("flee-stay-100k-cap.toml");
    let stay = run(&sc, Some(2));
    let shelter = sc
        .places
        .iter()
        .position(|p| p.name == "NYC Shelters")
        .expect("flee-stay has NYC Shelters");
    let waiting = stay.count(stay.days - 1, shelter, Metric::Waiting);
    assert!(
        waiting * 2 > stay.agents,
        "flee-stay: only {waiting} of {} agents wait at the shelter to the end",
        stay.agents
    );
    for file in ["flee-settle-100k-cap.toml", "flee-stay-100k-cap.toml"] {
        end_to_end(c, "flee", file, &[Some(2)], 20);
    }
}

/// `minimal.toml` with Plattsburgh replaced by `n` staging places in a line: New York City
/// -> S1 -> ... -> Sn -> Roxham Road or Lacolle (returns to Sn).
pub fn chain(n: usize) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
    let text = std::fs::read_to_string(&path).expect("minimal.toml");
    let staging = "[[places]]\nname = \"Plattsburgh\"\nkind = \"staging\"\ncountry = \"US\"\nregion = \"NY\"\nmove_rate = 0.9";
    let start = text.find(staging).expect("minimal.toml has Plattsburgh");
    let end = start + text[start..].find("\n\n").expect("a blank line after it");
    let places: String = (1..=n)
        .map(|i| format!("[[places]]\nname = \"S{i}\"\nkind = \"staging\"\ncountry = \"US\"\nregion = \"NY\"\nmove_rate = 0.9\n\n"))
        .collect();
    let links: String = (1..n)
        .map(|i| format!("[[routes]]\nfrom = \"S{i}\"\nto = \"S{}\"\ntravel_days = {{ dist = \"fixed\", days = 1 }}\n\n", i + 1))
        .collect();
    let last = format!("\"S{n}\"");
    let text = format!("{}{}{}", &text[..start], places, &text[end + 2..])
        .replace("to = \"Plattsburgh\"", "to = \"S1\"")
        .replace("\"Plattsburgh\"", &last)
        .replacen("[[inflows]]", &format!("{links}[[inflows]]"), 1);
    Scenario::from_bytes(&path, text.into_bytes()).unwrap_or_else(|e| panic!("chain {n}: {e}"))
}

fn chain_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));
    for n in [1000, 2000] {
        let sc = chain(n);
        assert_eq!(sc.places.len(), n + 6, "the chain has its places");
        // Half a year is too short to walk a thousand staging places: nobody reaches a
        // crossing, so only conservation and the amount of work are checked.
        let first = run(&sc, None);
        check_conserved(&sc, &first, first.agent_days);
        g.throughput(Throughput::Elements(first.agent_days));
        g.bench_function(BenchmarkId::from_parameter(format!("{n}-places")), |b| {
            b.iter(|| {
                let res = run(&sc, None);
                check_conserved(&sc, &res, first.agent_days);
                res
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: plotters would look for system fonts, which northbound never needs.
    config = Criterion::default().without_plots();
    targets = day_step, default_scenario, scale, full_scale, flee, chain_bench
}
criterion_main!(benches);
