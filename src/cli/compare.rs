//! `northbound compare`: the policy experiment, variants x replicates, its tables, figures
//! and report.

use super::{Common, PosteriorArg, Progress, print_out, record_uncertainty, timed};
use clap::Args;
use northbound::experiment::compare::{self, Comparison};
use northbound::experiment::ensemble;
use northbound::experiment::resources::Work;
use northbound::output::Manifest;
use northbound::{Error, Scenario, present};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The scenario file (TOML) [default: the bundled corridor-2017-2024].
    scenario: Option<PathBuf>,
    /// Replicates per variant.
    #[arg(long, short = 'r', value_name = "R", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replicates: u32,
    /// Only these variants, comma-separated (e.g. both,neither) [default: all].
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    variants: Vec<String>,
    #[command(flatten)]
    posterior: PosteriorArg,
    #[command(flatten)]
    common: Common,
}

pub fn compare(a: CompareArgs) -> Result<(), Error> {
    let c = &a.common;
    let sc = match &a.scenario {
        Some(p) => Scenario::load(p)?,
        None => Scenario::bundled_default()?,
    };
    let specs = compare::select(compare::design(&sc)?, &a.variants, &sc)?;
    let posterior = a.posterior.load(&sc)?;
    let work = Work::Compare {
        variants: specs.len(),
        replicates: a.replicates,
    };
    c.memory.ensure(&sc, work, c.threads())?;
    let staged = c.stage(&format!("{}-compare", sc.name))?;
    let seed = c.seed.unwrap_or(sc.seed);
    let pool = ensemble::pool(c.threads());
    let bar = Progress::new(
        specs.len() as u64 * u64::from(a.replicates),
        c.quiet,
        "{spinner} {bar:40} run {pos}/{len} (variants x replicates)  {elapsed} (eta {eta})",
    );
    let series = staged.tmp.join("series.csv");
    let (cmp, wall) = timed(&bar, || {
        pool.install(|| {
            let p = posterior.as_ref();
            compare::compare_over(&sc, &specs, a.replicates, seed, p, &series, &|| bar.inc())
        })
    });
    let cmp = cmp?;
    compare::write(&staged.tmp, &sc, &cmp)?;
    let mut manifest = Manifest::new("compare", &sc, seed, pool.current_num_threads());
    manifest.replicates = Some(a.replicates);
    manifest.variants = Some(specs.iter().map(|v| v.name.clone()).collect());
    record_uncertainty(&mut manifest, posterior.as_ref(), &staged.tmp)?;
    manifest.timed(cmp.agents, cmp.agent_days, wall);
    // The report says how the comparison was made: it reads the manifest from the folder.
    super::stamp(&mut manifest);
    manifest.write(&staged.tmp)?;
    present::draw(&staged.tmp)?;
    let dir = c.finish(staged, manifest)?;
    if !c.quiet {
        print_out(&summary(&sc, specs.len(), a.replicates, &cmp, wall, &dir));
    }
    Ok(())
}

/// What the comparison ran, and each variant's effect on Roxham Road.
fn summary(
    sc: &Scenario,
    variants: usize,
    replicates: u32,
    cmp: &Comparison,
    wall: f64,
    dir: &Path,
) -> String {
    let over = cmp.summary.first().map_or("", |r| r.uncertainty.as_str());
    let mut text = format!(
        "{}: {} variants x {} replicates in {:.1} s (intervals over {over})\n",
        sc.name, variants, replicates, wall
    );
    let rows: Vec<_> = cmp
        .effects
        .iter()
        .filter(|e| e.effect == "diff_roxham")
        .collect();
    // One column for the names, as wide as the longest.
    let width = rows
        .iter()
        .map(|e| e.variant.chars().count())
        .max()
        .unwrap_or(0);
    // Figures equal to an earlier variant's say so: a reader takes them for a mistake.
    for (i, e) in rows.iter().enumerate() {
        let same = rows[..i]
            .iter()
            .find(|o| o.figures() == e.figures())
            .map_or(String::new(), |o| {
                format!(", the same as {} (the report says why)", o.variant)
            });
        let _ = writeln!(
            text,
            "  {:<width$} Roxham Road attempts vs neither: {} (90% interval {} to {}){same}",
            e.variant,
            signed_whole(e.mean),
            signed_whole(e.p05),
            signed_whole(e.p95)
        );
    }
    if let Some(e) = cmp
        .effects
        .iter()
        .find(|e| e.effect == "interaction_roxham")
    {
        let _ = writeln!(
            text,
            "  interaction of the extension and the quota at Roxham Road (both - extension_only - quota_only + neither): {} (90% interval {} to {})",
            signed_whole(e.mean),
            signed_whole(e.p05),
            signed_whole(e.p95)
        );
    }
    let _ = writeln!(text, "report: {}", dir.join("report.html").display());
    text
}

/// A number of attempts or people, signed and rounded to a whole one, for the summary's
/// effects and interaction; nothing reads +0, never -0 (a rounded -0.4, or an interaction of
/// exactly nothing whose replicates are -0.0).
fn signed_whole(x: f64) -> String {
    format!("{:+.0}", x.round() + 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use northbound::experiment::compare::EffectRow;

    #[test]
    fn equal_figures_in_the_summary_say_so() {
        let row = |variant: &str, p95: f64| EffectRow {
            variant: variant.into(),
            effect: "diff_roxham".into(),
            unit: "attempts".into(),
            mean: -100.0,
            p05: -120.0,
            p50: -101.0,
            p95,
            uncertainty: "replicates".into(),
        };
        let cmp = Comparison {
            effects: vec![
                row("both", -80.0),
                row("window30", -80.0),
                row("later", -79.0),
            ],
            ..Comparison::default()
        };
        let sc = Scenario::bundled_default().unwrap();
        let text = summary(&sc, 3, 2, &cmp, 1.0, Path::new("out"));
        let line = |v: &str| {
            text.lines()
                .find(|l| l.trim_start().starts_with(v))
                .unwrap()
        };
        assert!(
            line("window30").ends_with(", the same as both (the report says why)"),
            "{text}"
        );
        assert!(
            line("both").ends_with("to -80)") && line("later").ends_with("to -79)"),
            "{text}"
        );
    }

    #[test]
    fn nothing_is_plus_zero() {
        assert_eq!(signed_whole(-0.0), "+0");
        assert_eq!(signed_whole(-0.4), "+0");
        assert_eq!(signed_whole(0.0), "+0");
        assert_eq!(signed_whole(-0.6), "-1");
        assert_eq!(signed_whole(1058.1000000000001), "+1058");
    }
}
