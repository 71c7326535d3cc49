//! Experiments built on the engine: replicate ensembles, validation against observed series,
//! calibration and the policy comparison. They produce rows and CSV files; figures are drawn
//! from those files by `present`.

pub mod abc;
pub mod calibrate;
pub mod compare;
pub mod ensemble;
pub mod posterior;
pub mod validation;
