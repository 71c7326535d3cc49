//! The foundations every layer uses: dates as day numbers, keyed randomness, the error type,
//! names as file names, reading only regular files up to a cap.

pub mod date;
pub(crate) mod error;
pub mod files;
pub mod names;
pub mod rng;
