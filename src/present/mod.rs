//! Presentation: the figure renderer, the figures of a result folder drawn from its CSV files
//! alone, and the self-contained `report.html`.

pub mod figures;
pub mod plot;
pub mod report;
