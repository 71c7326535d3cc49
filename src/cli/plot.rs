//! `northbound plot`: redraw the figures (and report) of a folder from its files.

use super::print_out;
use clap::Args;
use northbound::{Error, present};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A folder written by `northbound run`, `validate`, `calibrate`, `compare`, `forecast`, `sweep` or `merge`.
    pub dir: PathBuf,
}

pub fn plot(dir: &Path) -> Result<(), Error> {
    let drawn = present::draw(dir)?;
    print_out(&format!(
        "redrew {} in {}\n",
        drawn.join(", "),
        dir.display()
    ));
    Ok(())
}
