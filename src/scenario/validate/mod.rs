//! From [`RawScenario`] to [`Scenario`]: every semantic check, with the TOML path of each
//! problem, and every name resolved to an id.
//!
//! This file owns the [`Checker`] that collects the problems, the `[scenario]` table (window,
//! scale, name) and the order in which the sections are checked; each section has its own
//! file with a validator that takes the checker, its raw section and what is already
//! resolved, and returns its typed part.

mod behaviour;
mod hygiene;
mod inflows;
mod network;
mod observed;
mod places;
mod policies;
mod routes;
mod sweep;
mod variants;

use super::raw::{RawDuration, RawMeta, RawScenario};
use super::{DataRead, Date, Duration, Scenario};
use crate::util::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::value::Datetime;

/// Collects problems as `path: message` so that a researcher sees all of them at once,
/// and the data files read, each once.
#[derive(Default)]
struct Checker {
    problems: Vec<String>,
    data: DataRead,
    /// The files this scenario read (its base may have read others).
    used: Vec<PathBuf>,
}

impl Checker {
    /// Whether a data file has been read already (it may have gone from the disk since).
    fn has_data(&self, path: &Path) -> bool {
        self.data.contains_key(path)
    }

    /// The bytes of a data file: as already read (by this scenario, or by the one it was
    /// derived from), or read now and kept.
    fn data(&mut self, path: &Path) -> Result<Arc<[u8]>> {
        if !self.used.iter().any(|p| p == path) {
            self.used.push(path.to_path_buf());
        }
        if let Some(b) = self.data.get(path) {
            return Ok(b.clone());
        }
        let b = crate::data::read_bytes(path)?;
        self.data.insert(path.to_path_buf(), b.clone());
        Ok(b)
    }

    fn err(&mut self, field: impl std::fmt::Display, msg: impl std::fmt::Display) {
        self.problems.push(format!("{field}: {msg}"));
    }

    fn prob(&mut self, field: impl std::fmt::Display, v: f64) -> f64 {
        if !(0.0..=1.0).contains(&v) {
            self.err(
                field,
                format!("{v} is not a probability: expected a number in [0, 1]"),
            );
        }
        v
    }

    fn non_negative(&mut self, field: impl std::fmt::Display, v: f64) -> f64 {
        if !(v.is_finite() && v >= 0.0) {
            self.err(
                field,
                format!("{v}: expected a number that is not negative"),
            );
        }
        v
    }

    fn finite(&mut self, field: impl std::fmt::Display, v: f64) -> f64 {
        if !v.is_finite() {
            self.err(field, format!("{v}: expected a finite number"));
        }
        v
    }

    fn positive(&mut self, field: impl std::fmt::Display, v: f64) -> f64 {
        if !(v.is_finite() && v > 0.0) {
            self.err(field, format!("{v}: expected a positive number"));
        }
        v
    }

    fn date(&mut self, field: impl std::fmt::Display, d: &Datetime) -> Date {
        match (d.date, d.time, d.offset) {
            (Some(x), None, None) => {
                match Date::from_ymd(i32::from(x.year), u32::from(x.month), u32::from(x.day)) {
                    Some(date) => date,
                    None => {
                        self.err(field, format!("{d} is not a calendar date"));
                        Date(0)
                    }
                }
            }
            _ => {
                self.err(
                    field,
                    format!("{d}: expected a date such as 2023-03-25, without a time"),
                );
                Date(0)
            }
        }
    }

    fn duration(&mut self, field: &str, d: &RawDuration) -> Duration {
        let mut need = |name: &str, v: Option<f64>| -> f64 {
            match v {
                Some(x) if x.is_finite() && x >= 0.0 => x,
                Some(x) => {
                    self.err(
                        format!("{field}.{name}"),
                        format!("{x}: expected a number that is not negative"),
                    );
                    1.0
                }
                None => {
                    self.err(field, format!("dist \"{}\" needs `{name}`", d.dist));
                    1.0
                }
            }
        };
        let out = match d.dist.as_str() {
            "fixed" => Duration::Fixed(need("days", d.days)),
            "uniform" => {
                let (a, b) = (need("min", d.min), need("max", d.max));
                if a > b {
                    self.err(field, format!("min {a} is above max {b}"));
                }
                Duration::Uniform(a, b)
            }
            "lognormal" => Duration::LogNormal {
                median: need("median", d.median),
                sigma: need("sigma", d.sigma),
            },
            other => {
                self.err(
                    format!("{field}.dist"),
                    format!("unknown distribution \"{other}\": expected \"fixed\", \"uniform\" or \"lognormal\""),
                );
                Duration::Fixed(1.0)
            }
        };
        let allowed: &[&str] = match d.dist.as_str() {
            "fixed" => &["days"],
            "uniform" => &["min", "max"],
            "lognormal" => &["median", "sigma"],
            _ => &["days", "min", "max", "median", "sigma"],
        };
        for (name, v) in [
            ("days", d.days),
            ("min", d.min),
            ("max", d.max),
            ("median", d.median),
            ("sigma", d.sigma),
        ] {
            if v.is_some() && !allowed.contains(&name) {
                self.err(
                    format!("{field}.{name}"),
                    format!("not used by dist \"{}\"", d.dist),
                );
            }
        }
        out
    }

    /// The problems so far, as the scenario's error, if there are any.
    fn stop(&mut self, path: &Path) -> Result<()> {
        if self.problems.is_empty() {
            return Ok(());
        }
        Err(Error::Invalid {
            path: path.to_path_buf(),
            problems: std::mem::take(&mut self.problems),
        })
    }
}

/// What the `[scenario]` table and the file's location give every later section.
struct Frame<'a> {
    start: Date,
    end: Date,
    /// People per agent (1 where the file's value is not above 0).
    scale: f64,
    /// The scenario's folder: data file paths are relative to it.
    base: &'a Path,
}

/// The sections checked in file order, then the network as a whole; every problem at once.
pub(super) fn validate(
    raw: RawScenario,
    path: &Path,
    source: Vec<u8>,
    data: DataRead,
) -> Result<Scenario> {
    let mut c = Checker {
        problems: Vec::new(),
        data,
        used: Vec::new(),
    };
    let meta = &raw.scenario;
    let (start, end) = window(&mut c, meta);
    // Everything else is checked against the window: without one, only noise follows.
    c.stop(path)?;
    let frame = Frame {
        start,
        end,
        scale: scale_and_name(&mut c, meta),
        base: path.parent().unwrap_or(Path::new(".")),
    };
    let places = places::places(&mut c, &raw.places);
    let routes = routes::routes(&mut c, &raw.routes, &places, &frame);
    let nationalities = inflows::nationalities(&mut c, &raw.inflows);
    let inflows = inflows::inflows(&mut c, &raw.inflows, &places, &nationalities, &frame);
    let behaviour = behaviour::behaviour(&mut c, &raw.behaviour, &places);
    let policies = policies::policies(&mut c, &raw.policies, &places, &nationalities, &frame);
    let observed = observed::observed(&mut c, &raw.observed, &places.list, &frame);
    let variants = variants::variants(&mut c, &raw.variant, &source);
    let sweep = raw.sweep.as_ref().map(|s| sweep::sweep(&mut c, s, &source));
    hygiene::hygiene(&mut c, &raw);
    inflows::agent_cap(&mut c, &inflows);
    if c.problems.is_empty() {
        network::network(&mut c, &places.list, &routes, &policies, &inflows);
    }
    c.stop(path)?;
    let used = std::mem::take(&mut c.used);
    let data = std::mem::take(&mut c.data)
        .into_iter()
        .filter(|(p, _)| used.contains(p))
        .collect();
    Ok(Scenario {
        name: meta.name.clone(),
        description: meta.description.clone(),
        path: path.to_path_buf(),
        source,
        data,
        start,
        end,
        seed: meta.seed,
        scale: frame.scale,
        places: places.list,
        routes,
        nationalities,
        inflows,
        behaviour,
        policies,
        observed,
        variants,
        sweep,
    })
}

/// `scenario.start` and `scenario.end`.
fn window(c: &mut Checker, meta: &RawMeta) -> (Date, Date) {
    let start = c.date("scenario.start", &meta.start);
    let end = c.date("scenario.end", &meta.end);
    if end < start {
        c.err(
            "scenario.end",
            format!("{end} is before scenario.start {start}"),
        );
    }
    if end.0 - start.0 > 60_000 {
        c.err("scenario.end", "the window is longer than 160 years");
    }
    (start, end)
}

/// `scenario.scale` and `scenario.name`; the scale to use (1 where it is not above 0).
fn scale_and_name(c: &mut Checker, meta: &RawMeta) -> f64 {
    if !(meta.scale.is_finite() && meta.scale > 0.0) {
        c.err(
            "scenario.scale",
            format!(
                "{}: expected people per agent, a number above 0",
                meta.scale
            ),
        );
    }
    if meta.name.trim().is_empty() || meta.name.contains(['/', '\\']) || meta.name.starts_with('.')
    {
        c.err(
            "scenario.name",
            "expected a non-empty name without slashes, not starting with a dot (it names the output folder)",
        );
    }
    if meta.scale > 0.0 { meta.scale } else { 1.0 }
}

/// Helpers for the sections' unit tests.
#[cfg(test)]
mod testing {
    use super::{Checker, Frame};
    use crate::util::date::Date;
    use std::path::Path;

    /// The raw section under `key` of a TOML snippet, e.g. `raw("routes", "[[routes]] ...")`.
    pub(super) fn raw<T: serde::de::DeserializeOwned>(key: &str, text: &str) -> T {
        let table: toml::Table = toml::from_str(text).expect("the snippet is TOML");
        table[key]
            .clone()
            .try_into()
            .expect("the snippet has the raw section's types")
    }

    /// Five places in a line: an entry, a city, a crossing that returns to the city, and
    /// two destinations.
    pub(super) const PLACES: &str = r#"
        [[places]]
        name = "Border"
        kind = "entry"
        country = "US"
        region = "TX"
        move_rate = 0.5

        [[places]]
        name = "New York City"
        kind = "city"
        country = "US"
        region = "NY"
        move_rate = 0.1
        shelter = true

        [[places]]
        name = "Roxham Road"
        kind = "crossing"
        crossing = "irregular"
        country = "CA"
        region = "QC"
        detection = 0.9
        return_to = "New York City"

        [[places]]
        name = "Elsewhere"
        kind = "destination"
        country = "US"
        region = "US"
        value = 1.0

        [[places]]
        name = "Canada"
        kind = "destination"
        country = "CA"
        region = "CA"
        value = 0.0
    "#;

    /// The window 2023-01-01..2023-06-30 at 2 people per agent, files relative to
    /// `scenarios/`.
    pub(super) fn frame() -> Frame<'static> {
        Frame {
            start: Date::from_ymd(2023, 1, 1).unwrap(),
            end: Date::from_ymd(2023, 6, 30).unwrap(),
            scale: 2.0,
            base: Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")),
        }
    }

    pub(super) fn checker() -> Checker {
        Checker::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(text: &str) -> RawMeta {
        testing::raw("scenario", text)
    }

    #[test]
    fn the_window_and_the_scale_are_checked() {
        let mut c = Checker::default();
        let m = meta(
            "[scenario]\nname = \"x\"\nstart = 2023-01-01\nend = 2023-06-30\nseed = 1\nscale = 10",
        );
        let (start, end) = window(&mut c, &m);
        assert_eq!(
            (start.to_string(), end.to_string()),
            ("2023-01-01".into(), "2023-06-30".into())
        );
        assert_eq!(scale_and_name(&mut c, &m), 10.0);
        assert!(c.problems.is_empty(), "{:?}", c.problems);

        let m = meta(
            "[scenario]\nname = \"a/b\"\nstart = 2023-06-30\nend = 2023-01-01\nseed = 1\nscale = 0",
        );
        window(&mut c, &m);
        assert_eq!(scale_and_name(&mut c, &m), 1.0);
        assert_eq!(
            c.problems,
            [
                "scenario.end: 2023-01-01 is before scenario.start 2023-06-30",
                "scenario.scale: 0: expected people per agent, a number above 0",
                "scenario.name: expected a non-empty name without slashes, not starting with a dot (it names the output folder)",
            ]
        );
    }

    #[test]
    fn durations_name_the_field_of_each_problem() {
        let mut c = Checker::default();
        let d: RawDuration = testing::raw("d", "d = { dist = \"uniform\", min = 2, max = 4 }");
        assert_eq!(
            c.duration("routes[0].travel_days", &d),
            Duration::Uniform(2.0, 4.0)
        );
        let d: RawDuration = testing::raw("d", "d = { dist = \"fixed\", min = 2 }");
        assert_eq!(
            c.duration("routes[1].travel_days", &d),
            Duration::Fixed(1.0)
        );
        assert_eq!(
            c.problems,
            [
                "routes[1].travel_days: dist \"fixed\" needs `days`",
                "routes[1].travel_days.min: not used by dist \"fixed\"",
            ]
        );
    }
}
