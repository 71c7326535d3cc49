//! The foundations every layer uses: dates as day numbers, keyed randomness, the error type,
//! names as file names.

pub mod date;
pub(crate) mod error;
pub mod names;
pub mod rng;
