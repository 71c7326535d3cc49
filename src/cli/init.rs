//! `northbound init`: a scenario and the data files it reads, written into a folder of its
//! own, to read, edit and run from anywhere.

use super::{finish, print_out};
use clap::Args;
use northbound::output::{self, Manifest};
use northbound::{Error, Scenario, data};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The folder to write the scenario and its data into (new, or an earlier one with
    /// --force).
    dir: PathBuf,
    /// A scenario file, or the name of a scenario built into northbound (corridor-2017-2024,
    /// minimal) [default: corridor-2017-2024].
    scenario: Option<String>,
    /// Replace DIR if northbound wrote it and it holds nothing else (your edits to the
    /// scenario are lost).
    #[arg(long)]
    force: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// The scenario asked for, and the file name it is written under.
fn scenario(asked: Option<&str>) -> Result<(Scenario, String), Error> {
    let Some(asked) = asked else {
        return Ok((
            Scenario::bundled_default()?,
            "corridor-2017-2024.toml".into(),
        ));
    };
    let path = Path::new(asked);
    // A file of that name, else a scenario built in by that name: a folder of that name
    // (the one `init minimal minimal` wrote, say) is not a scenario.
    if path.is_dir() || !path.exists() {
        if let Some((path, text)) = data::bundled_scenario(asked) {
            let name = path
                .file_name()
                .map_or("scenario.toml".into(), |n| n.to_string_lossy().into_owned());
            return Ok((Scenario::from_bytes(&path, text.as_bytes().to_vec())?, name));
        }
        let what = if path.is_dir() {
            "is a folder, not a scenario file,"
        } else {
            "no such file,"
        };
        return Err(Error::Output {
            path: path.to_path_buf(),
            message: format!(
                "{what} and no scenario of that name is built in (there are: {})",
                data::bundled_scenarios().join(", ")
            ),
        });
    }
    let name = path
        .file_name()
        .map_or("scenario.toml".into(), |n| n.to_string_lossy().into_owned());
    Ok((Scenario::load(path)?, name))
}

pub fn init(a: &InitArgs) -> Result<(), Error> {
    let (sc, name) = scenario(a.scenario.as_deref())?;
    let staged = output::stage(&a.dir, a.force)?;
    let files = output::bundle::write_scenario(&staged.tmp, &name, &sc)?;
    let dir = finish(staged, Manifest::new("init", &sc, sc.seed, 0), a.quiet)?;
    if !a.quiet {
        let copies: Vec<&str> = files.files.iter().map(|f| f.copy.as_str()).collect();
        let run = dir.join(&name);
        print_out(&format!(
            "wrote {}: {name}{}\nrun it with: northbound run {}\n",
            dir.display(),
            match copies.len() {
                0 => String::new(),
                n => format!(
                    " and the {n} data file{} it reads ({})",
                    if n == 1 { "" } else { "s" },
                    copies.join(", ")
                ),
            },
            run.display()
        ));
    }
    Ok(())
}
