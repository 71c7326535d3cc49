//! Experiments built on the engine: replicate ensembles, validation against observed series,
//! calibration, the policy comparison, the forecast over a posterior, and parameter sweeps with
//! their sensitivity analysis. They produce rows and CSV files; figures are drawn from those
//! files by `present`.

pub mod abc;
pub mod calibrate;
pub mod compare;
pub mod design;
pub mod ensemble;
pub mod forecast;
pub mod identification;
pub mod posterior;
pub mod resources;
pub mod sensitivity;
pub mod sweep;
pub mod validation;
