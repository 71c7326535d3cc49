//! The bundled model's behaviour where the data or the rules leave no doubt: checks on one
//! run of the default scenario (`corridor-2017-2024.toml`) with its own seed.

use northbound::Scenario;
use northbound::model::engine::{Results, RunOptions, simulate};
use northbound::scenario::{CrossingKind, Metric, PlaceKind};
use northbound::util::date::{Date, Month};

/// One run shared by the tests of this file.
fn default_run() -> &'static (Scenario, Results) {
    static RUN: std::sync::OnceLock<(Scenario, Results)> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let sc = Scenario::bundled_default().expect("the bundled default is valid");
        let res = simulate(
            &sc,
            &RunOptions {
                threads: Some(2),
                ..RunOptions::default()
            },
        );
        (sc, res)
    })
}

/// A metric summed over some places and the days of a month range.
fn total(sc: &Scenario, res: &Results, places: &[usize], m: Metric, from: &str, to: &str) -> u64 {
    let first = Month::parse(from).unwrap().first_day();
    let to = Month::parse(to).unwrap();
    let last = Date(to.first_day().0 + to.days() as i32 - 1);
    (first.0..=last.0)
        .map(|d| (d - sc.start.0) as u32)
        .filter(|&d| d < res.days)
        .map(|d| places.iter().map(|&p| res.count(d, p, m)).sum::<u64>())
        .sum()
}

fn place(sc: &Scenario, name: &str) -> usize {
    sc.place_id(name)
        .unwrap_or_else(|| panic!("no place {name}")) as usize
}

#[test]
fn arrivals_at_plattsburgh_are_people_who_mean_to_cross() {
    // No phantom traffic: in any month, arrivals at Plattsburgh are at most twice the
    // crossing attempts from it (Roxham Road and the Lacolle port).
    let (sc, res) = default_run();

    let (platt, rox, lac) = (
        place(sc, "Plattsburgh"),
        place(sc, "Roxham Road"),
        place(sc, "Lacolle port"),
    );
    let mut m = sc.start.month();
    while m <= sc.end.month() {
        let (a, b) = (m.to_string(), m.to_string());
        let arrivals = total(sc, res, &[platt], Metric::Arrivals, &a, &b);
        let attempts = total(sc, res, &[rox, lac], Metric::Attempts, &a, &b);
        assert!(
            arrivals <= 2 * attempts.max(10),
            "{m}: {arrivals} arrivals at Plattsburgh, {attempts} attempts from it"
        );
        m = Month(m.0 + 1);
    }
}

#[test]
fn the_direct_back_closes_roxham_road_to_all_but_the_exceptions() {
    let (sc, res) = default_run();

    let qc_irregular: Vec<usize> = (0..sc.places.len())
        .filter(|&p| {
            let pl = &sc.places[p];
            pl.crossing == Some(CrossingKind::Irregular) && pl.region == "QC"
        })
        .collect();
    let spring = total(
        sc,
        res,
        &qc_irregular,
        Metric::Intercepted,
        "2020-04",
        "2020-05",
    );
    assert!(
        spring <= 60,
        "{spring} Quebec interceptions in April and May 2020"
    );
    // People with an exception claim at the land ports instead: 775 STCA-exception entries
    // at land ports from March to October 2020 (stca_and_covid_effects.csv, national).
    let ports: Vec<usize> = (0..sc.places.len())
        .filter(|&p| {
            let pl = &sc.places[p];
            pl.kind == PlaceKind::Crossing && pl.crossing == Some(CrossingKind::Port) && pl.stca
        })
        .collect();
    let exceptions = total(sc, res, &ports, Metric::Claims, "2020-03", "2020-10");
    assert!(
        (388..=1550).contains(&exceptions),
        "{exceptions} land-port claims in March to October 2020: not within a factor 2 of 775"
    );
}

/// Routes that cost nothing (a weight of 0 on time and risk, cost 0) make ties between ways
/// of different lengths: San Antonio and Houston are linked both ways at no cost in the
/// Flee-shaped workload. Ties broken by route index alone sent people back and forth
/// between the two for ever (nobody crossed in a year); the way of fewer routes wins now.
#[test]
fn routes_that_cost_nothing_do_not_send_people_round_in_circles() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/flee-stay-100k-cap.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Without the shelter's wait_value, nobody means to stay: everyone travels on.
    let small: String = text
        .replace("\"2023-01\" = 100000", "\"2023-01\" = 2000")
        .lines()
        .filter(|l| !l.starts_with("wait_value"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        small.contains("\"2023-01\" = 2000")
            && text.lines().filter(|l| l.starts_with("wait_value")).count() == 1,
        "the workload's lines: its inflow and the shelter's wait_value"
    );
    let sc = Scenario::from_bytes(&path, small.into_bytes()).expect("valid");
    let res = simulate(&sc, &RunOptions::default());
    let last = res.days - 1;
    let travelling = res.state_count(last, northbound::model::agent::State::Travelling);
    assert_eq!(travelling, 0, "people still on the road after a year");
    let crossed: u64 = ["Roxham Road", "Lacolle"]
        .iter()
        .map(|n| res.total(place(&sc, n), Metric::Attempts))
        .sum();
    assert!(
        crossed > 1500,
        "{crossed} crossing attempts of 2,000 people"
    );
}
