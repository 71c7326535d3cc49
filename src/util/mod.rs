//! The foundations every layer uses: dates as day numbers, keyed randomness, the error type.

pub mod date;
pub(crate) mod error;
pub mod rng;
