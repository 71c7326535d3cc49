//! Scenarios: the TOML file a researcher writes, and the validated form the engine runs.
//!
//! [`Scenario::load`] reads a file into [`raw::RawScenario`] (types checked by serde, unknown
//! keys refused), then `validate` checks the meaning (dates in the window and in order,
//! probabilities in [0, 1], shares summing to 1, every name known, every place reachable)
//! and resolves names to ids. Every problem is reported with its TOML path, all at once.

mod metric;
pub mod paths;
pub mod policy;
pub mod raw;
mod validate;

use crate::scenario::policy::Policy;
use crate::util::date::{Date, Month};
use crate::util::error::{Error, Result};
use std::path::{Path, PathBuf};

pub use metric::{Metric, crossing_name, kind_name, metrics_for};
pub use raw::{CrossingKind, PlaceKind};

/// The variants of the default 2 x 2 comparison (`northbound compare`); a scenario's own
/// `[[variant]]` tables may not take these names.
pub const DESIGN_VARIANTS: [&str; 4] = ["both", "extension_only", "quota_only", "neither"];

/// Index of a place in [`Scenario::places`].
pub type PlaceId = u16;

/// A validated scenario: names resolved, dates checked. Nothing downstream sees a string
/// it has to look up or a value it has to check.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// The file's bytes, for the manifest's hash.
    pub source: Vec<u8>,
    /// The data files it and its variants read (inflow rates, observed series), by path,
    /// as they were read: result folders copy these bytes, and a scenario derived from this
    /// one (a variant, a calibration's trial, a posterior's particle) reads them instead of
    /// the disk, so that a file changed during a run changes nothing in it.
    pub data: DataRead,
    pub start: Date,
    pub end: Date,
    pub seed: u64,
    pub scale: f64,
    pub places: Vec<Place>,
    pub routes: Vec<Route>,
    pub nationalities: Vec<String>,
    pub inflows: Vec<Inflow>,
    pub behaviour: Behaviour,
    pub policies: Vec<Policy>,
    /// Observed series, loaded and cut to the window.
    pub observed: Vec<Observed>,
    /// Named variants (parameter overrides) for comparisons.
    pub variants: Vec<Variant>,
    /// The `[sweep]` table: the sweep `northbound sweep` runs by default.
    pub sweep: Option<SweepTable>,
}

/// A validated `[sweep]` table: each varied parameter as `northbound sweep --vary` takes it
/// (`PATH=LO..HI` or `PATH=V1,V2,...`), and the design's settings if given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepTable {
    pub design: Option<String>,
    pub points: Option<usize>,
    pub levels: Option<usize>,
    pub replicates: Option<u32>,
    pub vary: Vec<String>,
}

/// Data files as read, by the path they were read from.
pub type DataRead = std::collections::BTreeMap<PathBuf, std::sync::Arc<[u8]>>;

/// An observed series and how to compute its simulated counterpart.
#[derive(Debug, Clone)]
pub struct Observed {
    pub name: String,
    pub description: String,
    pub target: Target,
    /// The observations inside the window, in time order.
    pub points: Vec<crate::data::Observation>,
}

/// What an observed series is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A metric summed over places and over each observation's days.
    Sum {
        metric: crate::scenario::Metric,
        places: Vec<PlaceId>,
    },
    /// Period by period, one observed series divided by another (indices into `observed`).
    Ratio(usize, usize),
}

/// A named set of parameter overrides: `(path, value)` pairs, see [`paths`].
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub description: String,
    pub set: Vec<(String, toml_edit::Value)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub name: String,
    pub kind: PlaceKind,
    pub crossing: Option<CrossingKind>,
    pub country: String,
    pub region: String,
    pub move_rate: f64,
    pub shelter: bool,
    pub detection: f64,
    pub return_to: Option<PlaceId>,
    /// Ports: whether the STCA applies (false at airports).
    pub stca: bool,
    pub value: f64,
    /// Crossings: the burden of presenting here, in utility.
    pub crossing_cost: f64,
    /// Waiting places: the utility of waiting another day, if that is an option here.
    pub wait_value: Option<f64>,
}

/// A travel time in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Duration {
    Fixed(f64),
    Uniform(f64, f64),
    LogNormal { median: f64, sigma: f64 },
}

impl Duration {
    pub fn mean(&self) -> f64 {
        match *self {
            Duration::Fixed(d) => d,
            Duration::Uniform(a, b) => (a + b) / 2.0,
            Duration::LogNormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
        }
    }

    /// Whole days, at least one, from a uniform `u` and a standard normal `z`.
    pub fn draw(&self, u: f64, z: f64) -> u32 {
        let d = match *self {
            Duration::Fixed(d) => d,
            Duration::Uniform(a, b) => a + (b - a) * u,
            Duration::LogNormal { median, sigma } => median * (sigma * z).exp(),
        };
        d.round().clamp(1.0, 3650.0) as u32
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub from: PlaceId,
    pub to: PlaceId,
    pub travel: Duration,
    pub cost: f64,
    pub risk: f64,
    /// Seats per day, in agents.
    pub capacity: Option<u32>,
    pub requires_visa: bool,
    pub opens: Option<Date>,
    pub closes: Option<Date>,
}

impl Route {
    pub fn open_on(&self, day: Date) -> bool {
        self.opens.is_none_or(|o| day >= o) && self.closes.is_none_or(|c| day <= c)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inflow {
    pub entry: PlaceId,
    /// Expected agents entering per month, for every month of the window, in order.
    pub monthly: Vec<(Month, f64)>,
    /// `(nationality id, share)`, shares summing to 1.
    pub nationalities: Vec<(u8, f64)>,
    pub p_family_in_canada: f64,
    pub p_unaccompanied_minor: f64,
    pub p_canadian_document: f64,
    pub p_public_interest: f64,
    pub p_visa: f64,
    /// Everyone of a month enters on its first day (in the window) instead of spread over it.
    pub first_day: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    pub give_up_rate: f64,
    pub wait_growth: f64,
    pub wait_cap_days: u32,
    pub work_permit_days: u32,
    pub permit_move_factor: f64,
    pub permit_give_up_factor: f64,
    pub shelter_exit_factor: f64,
    pub max_attempts: u8,
    pub choice_time: f64,
    pub choice_cost: f64,
    pub choice_risk: f64,
    pub choice_success: f64,
    pub choice_returned: f64,
    pub choice_scale: f64,
    pub belief_lag_days: u32,
    /// Days before official news of the rules reaches those deciding.
    pub belief_news_lag_days: u32,
    pub belief_inertia: f64,
    pub belief_noise_sd: f64,
    pub belief_news: f64,
    /// Starting belief for people without an exception, by place id (crossings only).
    pub belief_initial: Vec<Option<f64>>,
}

impl Scenario {
    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario> {
        let limit = crate::util::files::SCENARIO_LIMIT;
        let source =
            crate::util::files::read_regular(path, limit).map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Scenario::from_bytes(path, source)
    }

    /// The default scenario, built into the binary (`corridor-2017-2024.toml`).
    pub fn bundled_default() -> Result<Scenario> {
        let path = Path::new(crate::data::BUNDLED).join("corridor-2017-2024.toml");
        let text = crate::data::bundled(&path).expect("the default scenario is bundled");
        Scenario::from_bytes(&path, text.as_bytes().to_vec())
    }

    /// Parses and validates scenario text, and every variant it declares; `path` names it
    /// in errors and resolves the inflow files. This is the one way into a [`Scenario`]
    /// (files, the bundled default and variants alike), so that what `check` accepts every
    /// command runs.
    pub fn from_bytes(path: &Path, source: Vec<u8>) -> Result<Scenario> {
        let mut sc = Scenario::parse(path, source, DataRead::new())?;
        // The files a variant reads instead of the base's are kept too: a result folder
        // copies them, and the variant reads them from here when it runs.
        let read = sc.check_variants()?;
        sc.data.extend(read);
        Ok(sc)
    }

    /// Parses and validates scenario text, without trying its variants (for a variant's own
    /// scenario, whose variants are its base's).
    fn parse(path: &Path, source: Vec<u8>, data: DataRead) -> Result<Scenario> {
        let text = String::from_utf8(source.clone()).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        let raw: raw::RawScenario = toml::from_str(&text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        // Variants and calibration edit the text as a document: it must be one (the two
        // parsers differ at the edges, such as integers above 2^63 - 1).
        text.parse::<toml_edit::DocumentMut>()
            .map_err(|e| Error::Parse {
                path: path.to_path_buf(),
                message: e.to_string().trim_end().to_string(),
            })?;
        validate::validate(raw, path, source, data)
    }

    /// Every variant gives a valid scenario with the same window and places. Returns the
    /// data files the variants read.
    fn check_variants(&self) -> Result<DataRead> {
        let mut problems = Vec::new();
        let mut read = DataRead::new();
        for v in &self.variants {
            match self.variant(&v.name) {
                Ok(sc) => {
                    read.extend(sc.data.clone());
                    let same_places = sc.places.len() == self.places.len()
                        && sc
                            .places
                            .iter()
                            .zip(&self.places)
                            .all(|(a, b)| a.name == b.name && a.kind == b.kind);
                    if (sc.start, sc.end) != (self.start, self.end) || !same_places {
                        problems.push(format!(
                            "variant \"{}\": variants may change parameters only, not the window or the places",
                            v.name
                        ));
                    }
                }
                Err(Error::Invalid { problems: p, .. }) => problems.extend(p),
                Err(Error::Parse { message, .. }) => problems.push(message),
                Err(other) => problems.push(format!("variant \"{}\": {other}", v.name)),
            }
        }
        if problems.is_empty() {
            Ok(read)
        } else {
            Err(Error::Invalid {
                path: self.path.clone(),
                problems,
            })
        }
    }

    /// The scenario's text as an editable TOML document (comments and layout kept), for
    /// reading and setting values by parameter path.
    pub fn document(&self) -> Result<toml_edit::DocumentMut> {
        String::from_utf8_lossy(&self.source)
            .parse()
            .map_err(|e: toml_edit::TomlError| Error::Parse {
                path: self.path.clone(),
                message: e.to_string(),
            })
    }

    /// This scenario with parameters set by path (`("inflows[0].share", 0.03)`), validated
    /// as a file would be. The text keeps its comments, so errors point at real lines.
    pub fn with_overrides(
        &self,
        set: &[(String, toml_edit::Value)],
        what: &str,
    ) -> Result<Scenario> {
        let mut doc = self.document()?;
        let mut problems = Vec::new();
        // Paths the file does not set: a new key, which the scenario may not have.
        let mut added = Vec::new();
        for (path, value) in set {
            if paths::get(&doc, path).is_err() {
                added.push(path.as_str());
            }
            if let Err(e) = paths::set(&mut doc, path, value.clone()) {
                problems.push(format!("{what}: {e}"));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Invalid {
                path: self.path.clone(),
                problems,
            });
        }
        Scenario::parse(&self.path, doc.to_string().into_bytes(), self.data.clone()).map_err(|e| {
            match e {
                Error::Invalid { path, problems } => Error::Invalid {
                    path,
                    problems: problems
                        .into_iter()
                        .map(|p| format!("{what}: {p}"))
                        .collect(),
                },
                Error::Parse { path, message } => Error::Parse {
                    path,
                    message: match unknown_key(&message, &added) {
                        Some(m) => format!("{what}: {m}"),
                        None if !added.is_empty() => format!(
                            "{what}: with {} added to the file: {message}",
                            added.join(", ")
                        ),
                        None => format!("{what}: {message}"),
                    },
                },
                other => other,
            }
        })
    }

    /// The scenario of a named variant.
    pub fn variant(&self, name: &str) -> Result<Scenario> {
        let v = self
            .variants
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| Error::Invalid {
                path: self.path.clone(),
                problems: vec![format!(
                    "no variant named \"{name}\" (the scenario has: {})",
                    self.variants
                        .iter()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )],
            })?;
        self.with_overrides(&v.set, &format!("variant \"{name}\""))
    }

    pub fn place_id(&self, name: &str) -> Option<PlaceId> {
        self.places
            .iter()
            .position(|p| p.name == name)
            .map(|i| i as PlaceId)
    }

    /// The crossing whose displaced demand a comparison tracks: "Roxham Road" if there is
    /// one, else the irregular crossing with the highest detection (the last of equals).
    /// `places.csv` marks it, so that a result folder's report names the same one.
    pub fn focus_crossing(&self) -> Option<usize> {
        self.places
            .iter()
            .position(|p| p.name == "Roxham Road")
            .or_else(|| {
                self.places
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.crossing == Some(CrossingKind::Irregular))
                    .max_by(|a, b| a.1.detection.total_cmp(&b.1.detection))
                    .map(|(i, _)| i)
            })
    }

    /// Number of days in the window.
    pub fn days(&self) -> u32 {
        (self.end.0 - self.start.0 + 1) as u32
    }

    /// The expected number of agents the inflows create.
    pub fn expected_agents(&self) -> f64 {
        self.inflows
            .iter()
            .flat_map(|i| i.monthly.iter())
            .map(|(m, r)| r * f64::from(self.days_in(*m)) / f64::from(m.days()))
            .sum()
    }

    /// Days of month `m` inside the window.
    pub fn days_in(&self, m: Month) -> u32 {
        let first = m.first_day().0.max(self.start.0);
        let last = (m.first_day().0 + m.days() as i32 - 1).min(self.end.0);
        (last - first + 1).max(0) as u32
    }
}

/// For toml's message on a scenario with the parameters `added` (paths the file did not
/// set), the path whose last key the scenario does not know, with the keys it expected: the
/// message's line and snippet show the text with the key added, not the file.
fn unknown_key(message: &str, added: &[&str]) -> Option<String> {
    let rest = &message[message.find("unknown field `")? + "unknown field `".len()..];
    let key = &rest[..rest.find('`')?];
    let path = added.iter().find(|p| {
        paths::parse(p).ok().and_then(|s| s.last().cloned()) == Some(paths::Step::Key(key.into()))
    })?;
    // toml's line that names the unknown field goes on with the fields it expected.
    let expected = rest
        .find("expected ")
        .and_then(|i| rest[i..].lines().next())
        .map_or(String::new(), |e| format!(" ({})", e.trim_end()));
    Some(format!("{path}: no parameter `{key}` there{expected}"))
}
