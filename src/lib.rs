//! # northbound
//!
//! An agent-based simulator of asylum-seeker flows from the US southern border, through New
//! York, to the Quebec crossings: Roxham Road and the official ports such as Lacolle.
//!
//! The folders are the layers of one pipeline, each using only those below it (see
//! ARCHITECTURE.md). The main types: a [`Scenario`] is a validated scenario file (places,
//! routes, inflows, behaviour and dated [`scenario::policy::Policy`] rules, with names
//! resolved to ids). [`model::engine::run`] creates the agents and steps them day by day,
//! in parallel and deterministically, into [`Results`]: tallies by day, place and metric.
//! [`output`] turns those into flat CSV rows and writes a run folder atomically;
//! [`experiment`] runs many of them (validation, calibration, the policy comparison); and
//! [`present`] draws figures and reports from a folder's files alone.
//!
//! ```
//! use northbound::{Scenario, model::engine::{run, RunOptions}};
//! let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
//! let sc = Scenario::load(&path)?;
//! let res = run(&sc, &RunOptions { threads: Some(2), ..Default::default() }, &mut |_, _, _| {});
//! assert!(res.agents > 0);
//! # Ok::<(), northbound::Error>(())
//! ```

pub mod data;
pub mod experiment;
pub mod model;
pub mod output;
pub mod present;
pub mod scenario;
pub mod util;

pub use model::engine::Results;
pub use scenario::Scenario;
pub use util::error::{Error, Result};
