//! `report.html` of a sweep folder: one self-contained page with what was swept (the
//! scenario, the design, each parameter's range), which parameters drive each outcome
//! (the sensitivity indices with their 90% intervals) and the figures, inline SVG.

use crate::present::chart::Drawn;
use crate::present::report::{STYLE, esc, figures_section};
use crate::present::sweep_figures::{IndexRecord, outcome_label};
use crate::present::{comparison::read_text, files};
use crate::util::error::{Error, Result};
use std::fmt::Write as _;
use std::path::Path;

/// Writes `report.html` into the sweep folder `dir`, inlining the SVG files of `figures`.
pub fn write(dir: &Path, figures: &[Drawn]) -> Result<String> {
    let manifest: serde_json::Value = read_text(&dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let sweep: serde_json::Value = read_text(&dir.join("sweep.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let sens: Vec<IndexRecord> = files::strip(files::read_csv(&dir.join("sensitivity.csv"))?);
    let mut svgs = Vec::new();
    for f in figures {
        svgs.push(read_text(&dir.join(format!("{}.svg", f.stem)))?);
    }
    let html = render(&manifest, &sweep, &sens, figures, &svgs);
    let path = dir.join("report.html");
    std::fs::write(&path, html).map_err(|e| Error::write(&path, e))?;
    Ok("report.html".into())
}

fn num(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            if x.abs() >= 1000.0 {
                crate::present::chart::fmt_number(x, x.abs())
            } else {
                format!("{x:.3}")
            }
        }
        _ => "n/a".into(),
    }
}

/// The page.
pub fn render(
    manifest: &serde_json::Value,
    sweep: &serde_json::Value,
    sens: &[IndexRecord],
    figures: &[Drawn],
    svgs: &[String],
) -> String {
    let plan = &sweep["plan"];
    let name = plan["scenario_name"].as_str().unwrap_or("");
    let design = &plan["design"];
    let method = design["method"]["design"].as_str().unwrap_or("");
    let points = design["points"].as_array().map_or(0, Vec::len);
    let replicates = plan["replicates"].as_u64().unwrap_or(0);
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>northbound sweep: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <header>\n<h1>Parameter sweep: {}</h1>\n<p class=\"lede\">A {} design: {points} points \
         x {replicates} replicates. Each point's replicates share their seeds with every other \
         point's (common random numbers).</p>\n<nav><a href=\"#sweep\">The sweep</a>\
         <a href=\"#sensitivity\">Sensitivity</a><a href=\"#figures\">Figures</a></nav>\n</header>\n",
        esc(name),
        esc(name),
        esc(method)
    );
    h.push_str("<section id=\"sweep\">\n<h2>The sweep</h2>\n<table class=\"kv\">\n");
    let kv = |h: &mut String, k: &str, v: String| {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), v);
    };
    kv(
        &mut h,
        "scenario",
        format!(
            "<code>{}</code>",
            esc(manifest["scenario"].as_str().unwrap_or(name))
        ),
    );
    kv(&mut h, "design", esc(method));
    kv(
        &mut h,
        "points x replicates",
        format!("{points} x {replicates}"),
    );
    kv(&mut h, "seed", esc(&plan["seed"].to_string()));
    if let Some(r) = manifest["runs_per_second"].as_f64() {
        kv(
            &mut h,
            "runs per second",
            format!("{r:.2} on {} threads", manifest["threads"]),
        );
    }
    h.push_str("</table>\n<table>\n<thead><tr><th>parameter</th><th>values</th><th>type</th></tr></thead>\n<tbody>\n");
    for f in design["factors"].as_array().into_iter().flatten() {
        let paths: Vec<&str> = f["paths"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str())
            .collect();
        let n = |v: &serde_json::Value| v.as_f64().map_or(String::new(), crate::output::fmt_value);
        let values = match f["values"].as_array() {
            Some(v) if !v.is_empty() => v.iter().map(n).collect::<Vec<_>>().join(", "),
            _ => format!("{} to {}", n(&f["lo"]), n(&f["hi"])),
        };
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&paths.join(", ")),
            esc(&values),
            esc(f["kind"].as_str().unwrap_or(""))
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
    h.push_str("<section id=\"sensitivity\">\n<h2>Sensitivity</h2>\n<p>Over the means of each point's replicates; in brackets the 90% bootstrap interval. ");
    h.push_str(match method {
        "sobol" => "S1: the share of the outcome's variance the parameter explains alone; ST: with its interactions (Saltelli 2010, Jansen 1999).",
        "morris" => "mu*: the mean absolute elementary effect, the change of the outcome over the parameter's whole range (a step's change divided by how far it moved the parameter, as a share of its range); sigma: how much that effect varies (interactions, non-linearity).",
        _ => "rho: Spearman's rank correlation of the parameter with the outcome (over points from a posterior, weighted by the particles' weights).",
    });
    h.push_str("</p>\n<table>\n<thead><tr><th>outcome</th><th>parameter</th><th>index</th><th class=\"num\">value</th><th class=\"num\">90% interval</th></tr></thead>\n<tbody>\n");
    for r in sens
        .iter()
        .filter(|r| ["S1", "ST", "mu_star", "sigma", "rho"].contains(&r.index.as_str()))
    {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">[{}, {}]</td></tr>",
            esc(&outcome_label(&r.outcome)),
            esc(&r.parameter),
            esc(&r.index),
            num(r.value),
            num(r.p05),
            num(r.p95)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
    figures_section(&mut h, figures, svgs);
    let _ = write!(
        h,
        "<footer>Written by northbound {} from the files in this folder (points.csv, \
         outcomes.csv, sensitivity.csv, sweep.json, manifest.json). <code>northbound plot \
         &lt;folder&gt;</code> redraws the figures and this page.</footer>\n</main>\n</body>\n</html>\n",
        esc(manifest["northbound_version"].as_str().unwrap_or(""))
    );
    h
}
