//! `report.html`: one self-contained page for a comparison folder — the findings in words,
//! the mean monthly attempts before and after the extension, what the intervals cover, the
//! assumptions, the scenario summary, the policy timeline, the variants, the effects with
//! their 90% intervals and the figures (inline SVG), all from the folder's files. No scripts, no external assets, system fonts only, so it opens offline in
//! any browser and prints as it shows.

use crate::experiment::compare::REFERENCE;
use crate::present::assumptions::{assumptions, covers};
use crate::present::chart::{Drawn, fmt_number, signed};
use crate::present::comparison::{Comparison, alternative_label};
use crate::present::files::{CrossingClass, policy_label};
use crate::present::findings::{BeforeAfter, before_after, findings, months_text};
use crate::scenario::paths;
use crate::util::date::Date;
use crate::util::error::{Error, Result};
use std::fmt::Write as _;

/// The sections of the report: their ids and headings, in order.
pub const SECTIONS: [(&str, &str); 9] = [
    ("findings", "Findings"),
    ("before-after", "Before and after the extension"),
    ("intervals", "What the intervals cover"),
    ("assumptions", "Assumptions behind the answer"),
    ("summary", "Scenario summary"),
    ("timeline", "Policy timeline"),
    ("variants", "Variants"),
    ("effects", "Effects, with 90% intervals"),
    ("figures", "Figures"),
];

/// Writes `report.html` into the comparison's folder, inlining the SVG files of `figures`
/// (already written there). Returns the file name.
pub fn write(c: &Comparison, figures: &[Drawn]) -> Result<String> {
    let mut svgs = Vec::new();
    for f in figures {
        let path = c.dir.join(format!("{}.svg", f.stem));
        let text = crate::present::comparison::read_text(&path)?;
        svgs.push(text);
    }
    // The before/after table needs every replicate's months: series.csv.
    let ba = if c.dir.join("series.csv").is_file() {
        before_after(c)?
    } else {
        None
    };
    let html = render(c, figures, &svgs, ba.as_ref());
    let path = c.dir.join("report.html");
    std::fs::write(&path, html).map_err(|e| Error::write(&path, e))?;
    Ok("report.html".into())
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) const STYLE: &str = r#"
:root { color-scheme: light; }
body { margin: 0; background: #f4f4f2; color: #1e1e1e;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 28px 40px 48px; background: #fff; }
h1 { font-size: 1.9em; line-height: 1.2; margin: .2em 0 .3em; }
h2 { font-size: 1.45em; margin: 2em 0 .6em; padding-bottom: .2em; border-bottom: 2px solid #ddd; }
h3 { font-size: 1.1em; margin: 1.4em 0 .4em; }
p.lede { font-size: 1.1em; color: #333; margin-top: 0; }
nav { margin: 1em 0 0; padding: .6em 0; border-top: 1px solid #e4e4e4; border-bottom: 1px solid #e4e4e4; }
nav a { margin-right: 1.4em; color: #0b5c95; text-decoration: none; }
table { border-collapse: collapse; width: 100%; font-size: .93em; margin: .6em 0 1.2em; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
thead th { background: #f2f2f0; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.group th { background: #fafaf8; font-weight: 600; color: #444; padding-top: 10px; }
table.kv th { width: 15em; font-weight: 600; color: #444; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace;
  font-size: .86em; background: #f2f2f0; padding: 0 .25em; border-radius: 3px; }
.muted { color: #666; }
.on { color: #0b6b3a; font-weight: 600; }
.off { color: #999; }
figure { margin: 1.6em 0 2.6em; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid #e4e4e4; background: #fff; }
figcaption { font-size: .93em; color: #3c3c3c; margin-top: .5em; }
figcaption b { color: #1e1e1e; }
.timeline svg { display: block; width: 100%; height: auto; }
footer { margin-top: 3em; font-size: .88em; color: #666; border-top: 1px solid #e4e4e4; padding-top: 1em; }
@media print { body { background: #fff; } main { padding: 0; max-width: none; } figure, table { break-inside: avoid; } }
"#;

/// The page, from the folder's contents and the SVG text of each figure.
pub fn render(
    c: &Comparison,
    figures: &[Drawn],
    svgs: &[String],
    ba: Option<&BeforeAfter>,
) -> String {
    let (name, description) = c.name_and_description();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>northbound policy comparison: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(&name)
    );
    let _ = write!(h, "<header>\n<h1>Policy comparison: {}</h1>\n", esc(&name));
    if !description.is_empty() {
        let _ = writeln!(h, "<p class=\"lede\">{}</p>", esc(description.trim()));
    }
    h.push_str("<nav>");
    for (id, heading) in SECTIONS {
        let _ = write!(h, "<a href=\"#{id}\">{}</a>", esc(heading));
    }
    h.push_str("</nav>\n</header>\n");
    findings_section(&mut h, c, ba);
    before_after_section(&mut h, c, ba);
    intervals_section(&mut h, c);
    assumptions_section(&mut h, c);
    summary(&mut h, c, &name, &description);
    timeline(&mut h, c);
    variants(&mut h, c);
    effects(&mut h, c);
    figures_section(&mut h, figures, svgs);
    let version = c.manifest["northbound_version"].as_str().unwrap_or("");
    let _ = write!(
        h,
        "<footer>Written by northbound {} from the files in this folder (summary.csv, effects.csv, \
         series.csv, overlay.csv, variants.csv, policies.csv, places.csv, scenario.toml, \
         manifest.json, posterior.csv when there is one). \
         <code>northbound plot &lt;folder&gt;</code> redraws the figures and this page.</footer>\n\
         </main>\n</body>\n</html>\n",
        esc(version)
    );
    h
}

fn section_open(h: &mut String, id: &str) {
    let heading = SECTIONS.iter().find(|s| s.0 == id).map_or(id, |s| s.1);
    let _ = write!(h, "<section id=\"{id}\">\n<h2>{}</h2>\n", esc(heading));
}

/// Opens a table with a header row of `cells` (each a whole `<th>` element).
fn table_head(h: &mut String, cells: impl IntoIterator<Item = String>) {
    h.push_str("<table>\n<thead><tr>");
    h.extend(cells);
    h.push_str("</tr></thead>\n<tbody>\n");
}

/// A row of `cells` (each a whole `<td>` or `<th>` element).
fn table_row(h: &mut String, cells: impl IntoIterator<Item = String>) {
    h.push_str("<tr>");
    h.extend(cells);
    h.push_str("</tr>\n");
}

fn table_end(h: &mut String) {
    h.push_str("</tbody>\n</table>\n");
}

fn th(html: &str) -> String {
    format!("<th>{html}</th>")
}

fn td(html: &str) -> String {
    format!("<td>{html}</td>")
}

fn kv(h: &mut String, key: &str, value: &str) {
    let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(key), value);
}

fn findings_section(h: &mut String, c: &Comparison, ba: Option<&BeforeAfter>) {
    section_open(h, "findings");
    let _ = writeln!(
        h,
        "<p>Written from this folder's files (<code>effects.csv</code>, \
         <code>effects_by_replicate.csv</code>, <code>series.csv</code>, \
         <code>variants.csv</code>, <code>places.csv</code>), not by hand: each number is the mean over {} and, in brackets, its 90% interval: the \
         5th to 95th percentile of the replicates' values, how far runs spread (not a \
         confidence interval of the mean), which covers {} (see <a href=\"#intervals\">What \
         the intervals cover</a>). A change is called a rise or a fall only when its whole \
         interval is above or below 0.{} These are the model's answers under the scenario's \
         assumptions (<a href=\"#assumptions\">listed below</a>), not measurements.</p>",
        esc(&c.replicates_text()),
        esc(&c.uncertainty_text()),
        match c.replicates() {
            Some(r) if r < 20 => format!(
                " With {r} replicates these percentiles are the smallest and largest of the {r} \
                 values, or nearly so: read them as the range of the runs."
            ),
            _ => String::new(),
        }
    );
    h.push_str("<ul class=\"findings\">\n");
    for f in findings(c, ba) {
        let _ = writeln!(h, "<li>{}</li>", esc(&f));
    }
    h.push_str("</ul>\n</section>\n");
}

fn before_after_section(h: &mut String, c: &Comparison, ba: Option<&BeforeAfter>) {
    section_open(h, "before-after");
    let Some(ba) = ba else {
        let why = if !c.dir.join("series.csv").is_file() {
            "this folder has no <code>series.csv</code> (every replicate's months), which the table is computed from"
        } else {
            "the scenario has no STCA extension date with months of the window on both sides of it, or \
             <code>places.csv</code> names no crossing to sum the attempts at"
        };
        let _ = writeln!(h, "<p>No table: {why}.</p>\n</section>");
        return;
    };
    let _ = writeln!(
        h,
        "<p>Mean monthly crossing attempts, summed over the crossings of each kind, in the \
         months wholly before the STCA extension's date, {} ({}), and from it on ({}){}. For \
         each replicate, the mean over those months; then the mean over {} and, in brackets, \
         the 90% interval. The date is the same for every variant, so that they compare over \
         the same months. From <code>series.csv</code>.</p>",
        ba.date,
        esc(&months_text(&ba.before)),
        esc(&months_text(&ba.after)),
        if ba.date.month().first_day() == ba.date {
            String::new()
        } else {
            format!(
                "; {}, the month it falls in, is in neither",
                ba.date.month()
            )
        },
        esc(&c.replicates_text())
    );
    h.push_str("<table>\n<thead><tr><th rowspan=\"2\">variant</th>");
    for g in &ba.groups {
        let _ = write!(h, "<th colspan=\"2\" class=\"num\">{}</th>", esc(&g.label));
    }
    h.push_str("</tr><tr>");
    for _ in &ba.groups {
        h.push_str("<th class=\"num\">before</th><th class=\"num\">after</th>");
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (v, cells) in &ba.rows {
        let mut row = vec![td(&format!("<code>{}</code>", esc(v)))];
        for (b, a) in cells {
            row.push(format!("<td class=\"num\">{}</td>", esc(&b.text())));
            row.push(format!("<td class=\"num\">{}</td>", esc(&a.text())));
        }
        table_row(h, row);
    }
    table_end(h);
    let places: Vec<String> = ba
        .groups
        .iter()
        .map(|g| format!("{}: {}", esc(&g.label), esc(&g.places.join(", "))))
        .collect();
    let _ = writeln!(h, "<p class=\"muted\">Crossings: {}.", places.join("; "));
    let moved: Vec<String> = ba
        .own_dates
        .iter()
        .map(|(v, d)| match d {
            Some(d) => format!("<code>{}</code> from {d}", esc(v)),
            None => format!("<code>{}</code> off", esc(v)),
        })
        .collect();
    if !moved.is_empty() {
        let _ = write!(
            h,
            " The extension itself, where it differs from {}: {}.",
            ba.date,
            moved.join(", ")
        );
    }
    h.push_str("</p>\n</section>\n");
}

fn intervals_section(h: &mut String, c: &Comparison) {
    section_open(h, "intervals");
    let recorded = c.manifest["uncertainty"]
        .as_str()
        .unwrap_or("replicates (not recorded in this folder's manifest: it predates the field)");
    let _ = writeln!(
        h,
        "<p>Every interval in this report, in <code>summary.csv</code> and \
         <code>effects.csv</code>, and every band of the figures is the 5th to 95th percentile \
         over {}. <code>manifest.json</code> records what they cover: <code>uncertainty</code> \
         is <code>{}</code>.</p>",
        esc(&c.replicates_text()),
        esc(recorded)
    );
    h.push_str("<ul>\n");
    if c.over_posterior() {
        let columns = &c.posterior_params;
        let file = c.manifest["posterior"].as_str().unwrap_or("a posterior");
        let sha = c.manifest["posterior_sha256"].as_str().unwrap_or("");
        let _ = writeln!(
            h,
            "<li><b>Parameters and replicates.</b> Replicate <i>r</i> ran with the particle \
             drawn <i>r</i>-th by weight from <code>{}</code>{} (copied here as \
             <code>posterior.csv</code>), the same in every variant, and its own random \
             numbers: the intervals cover the uncertainty of the {} fitted parameters{} within \
             their prior ranges, as well as the run-to-run noise.</li>",
            esc(file),
            if sha.is_empty() {
                String::new()
            } else {
                format!(" (SHA-256 {}…)", esc(sha.get(..12).unwrap_or(sha)))
            },
            columns.len(),
            if columns.is_empty() {
                String::new()
            } else {
                format!(
                    " ({})",
                    columns
                        .iter()
                        .map(|p| format!("<code>{}</code>", esc(p)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    } else {
        h.push_str(
            "<li><b>Replicates only.</b> Every replicate ran the scenario with its parameters \
             as given and its own random numbers: the intervals cover the run-to-run noise of \
             the model, not the uncertainty of the parameters fitted to the data. \
             <code>northbound compare --posterior FILE</code>, with the \
             <code>posterior.csv</code> of <code>calibrate --method abc</code>, makes them \
             cover the fitted parameters too.</li>\n",
        );
    }
    h.push_str(
        "<li>Replicate <i>r</i> of every variant uses the same random numbers, so an effect \
         (a difference between variants) is computed replicate by replicate and its interval \
         is usually narrower than those of the levels it is the difference of.</li>\n\
         <li>No interval covers the assumptions below (fixed in every replicate unless a \
         posterior column varies them), nor what the model leaves out (see the README's \
         \"What the model leaves out\").</li>\n</ul>\n</section>\n",
    );
}

fn assumptions_section(h: &mut String, c: &Comparison) {
    section_open(h, "assumptions");
    let found = assumptions(&c.scenario_text);
    if found.is_empty() {
        h.push_str(
            "<p>The scenario marks no value as an assumption (no comment of its \
             <code>scenario.toml</code> says \"assumption\").</p>\n</section>\n",
        );
        return;
    }
    let posterior = &c.posterior_params;
    let overrides: Vec<(&str, Vec<&str>)> = c
        .variants
        .iter()
        .map(|v| {
            let paths = v
                .overrides
                .split("; ")
                .filter_map(|o| o.split(" = ").next())
                .filter(|p| !p.is_empty())
                .collect();
            (v.variant.as_str(), paths)
        })
        .collect();
    let _ = writeln!(
        h,
        "<p>The scenario marks these {} values as assumptions: chosen by the modeller, \
         neither taken from a source nor fitted to data (a comment on the value's line, or \
         just above it, says so; read from <code>scenario.toml</code>). The answer above holds \
         under them. How much each one moves it is not measured here, except where a variant \
         of this comparison changes it (<i>varied by</i>): compare that variant with the one \
         it changes. A value may hold several numbers (an inline table), of which the comment \
         may mark only some.</p>",
        found.len()
    );
    table_head(
        h,
        ["parameter", "value", "the scenario's comment", "varied by"].map(th),
    );
    for a in &found {
        let mut by: Vec<String> = overrides
            .iter()
            .filter(|(_, paths)| paths.iter().any(|p| covers(p, &a.path)))
            .map(|(v, _)| format!("<code>{}</code>", esc(v)))
            .collect();
        if posterior
            .iter()
            .any(|col| paths::split_tied(col).iter().any(|p| covers(p, &a.path)))
        {
            by.push("the posterior".into());
        }
        let context = if a.context.is_empty() {
            String::new()
        } else {
            format!(" <span class=\"muted\">({})</span>", esc(&a.context))
        };
        table_row(
            h,
            [
                td(&format!("<code>{}</code>{context}", esc(&a.path))),
                td(&format!("<code>{}</code>", esc(&a.value))),
                td(&esc(&a.comment)),
                td(&by.join(", ")),
            ],
        );
    }
    table_end(h);
    h.push_str("</section>\n");
}

fn summary(h: &mut String, c: &Comparison, name: &str, description: &str) {
    section_open(h, "summary");
    let m = &c.manifest;
    let s = |k: &str| m[k].as_str().unwrap_or("").to_string();
    h.push_str("<table class=\"kv\">\n");
    kv(h, "Scenario", &esc(name));
    if !description.is_empty() {
        kv(h, "Description", &esc(description.trim()));
    }
    let window = match (Date::parse(&s("start")), Date::parse(&s("end"))) {
        (Some(a), Some(b)) => format!(
            "{a} to {b} ({} days, {} months)",
            b.0 - a.0 + 1,
            c.months.len()
        ),
        _ => match (c.months.first(), c.months.last()) {
            (Some(a), Some(b)) => format!("{a} to {b} ({} months)", c.months.len()),
            _ => String::new(),
        },
    };
    kv(h, "Window", &esc(&window));
    if let Some(seed) = m["seed"].as_u64() {
        kv(
            h,
            "Seed",
            &format!("{seed} (replicate <i>r</i> of every variant uses the same random numbers)"),
        );
    }
    if let Some(r) = c.replicates() {
        kv(h, "Replicates per variant", &r.to_string());
    }
    kv(h, "Intervals cover", &esc(&c.uncertainty_text()));
    kv(
        h,
        "Variants",
        &c.order
            .iter()
            .map(|v| format!("<code>{}</code>", esc(v)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    if let Some(scale) = m["scale"].as_f64() {
        let unit = if scale == 1.0 { "person" } else { "people" };
        kv(
            h,
            "Scale",
            &format!("{} {unit} per agent", esc(&format!("{scale}"))),
        );
    }
    if let Some(a) = m["agents"].as_f64() {
        kv(
            h,
            "Agents simulated",
            &format!("{} (all variants and replicates)", fmt_number(a, 1e3)),
        );
    }
    if let Some(a) = m["agent_days"].as_f64() {
        kv(h, "Agent-days simulated", &fmt_number(a, 1e3));
    }
    if let Some(w) = m["wall_seconds"].as_f64() {
        let threads = m["threads"]
            .as_u64()
            .map_or(String::new(), |t| format!(" on {t} threads"));
        kv(h, "Wall time", &format!("{w:.1} s{threads}"));
    }
    let file = s("scenario");
    if !file.is_empty() {
        let sha = s("scenario_sha256");
        let short = sha.get(..12).unwrap_or(&sha);
        kv(
            h,
            "Scenario file",
            &format!(
                "<code>{}</code> <span class=\"muted\">(SHA-256 {}…; its text is saved as scenario.toml)</span>",
                esc(&file),
                esc(short)
            ),
        );
    }
    let version = s("northbound_version");
    if !version.is_empty() {
        kv(h, "northbound version", &esc(&version));
    }
    h.push_str("</table>\n<h3>Places</h3>\n");
    let heads = ["place", "kind", "crossing", "country", "province or state"];
    table_head(h, heads.map(th));
    for p in &c.places {
        let crossing = match p.class() {
            Some(CrossingClass::Irregular) => "irregular",
            Some(CrossingClass::LandPort) => "land port",
            Some(CrossingClass::Airport) => "airport (port without the STCA)",
            None => "",
        };
        let cells = [&p.place, &p.kind, crossing, &p.country, &p.province];
        table_row(h, cells.map(|t| td(&esc(t))));
    }
    table_end(h);
    h.push_str("</section>\n");
}

/// The window as dates: the manifest's, else the months of the summary.
fn window(c: &Comparison) -> Option<(Date, Date)> {
    let m = &c.manifest;
    let parse = |k: &str| m[k].as_str().and_then(Date::parse);
    match (parse("start"), parse("end")) {
        (Some(a), Some(b)) if a <= b => Some((a, b)),
        _ => match (c.months.first(), c.months.last()) {
            (Some(a), Some(b)) => {
                Some((a.first_day(), b.first_day().add_days(b.days() as i32 - 1)))
            }
            _ => None,
        },
    }
}

/// A policy of the comparison, its dates, and the variants in which it is on.
type PolicyOn<'c> = (&'c str, Date, Option<Date>, Vec<&'c str>);

fn timeline(h: &mut String, c: &Comparison) {
    section_open(h, "timeline");
    // The policies, in order of first mention, with the variants that enable them.
    let mut policies: Vec<PolicyOn> = Vec::new();
    for p in &c.policies {
        let i = match policies.iter().position(|q| q.0 == p.policy) {
            Some(i) => i,
            None => {
                policies.push((p.policy.as_str(), p.start, p.end, Vec::new()));
                policies.len() - 1
            }
        };
        if p.enabled {
            policies[i].3.push(p.variant.as_str());
        }
    }
    if policies.is_empty() {
        h.push_str("<p>The scenario has no policies.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        h,
        "<p>Each policy's dates in the window, and the variants in which it is on. Dark bars: \
         on in some variants only (what the comparison varies); grey bars: on in every \
         variant. A policy whose dates start before the window is in force from its first day.</p>"
    );
    if let Some(window) = window(c) {
        timeline_svg(h, &policies, c.order.len(), window);
    }
    let variants = c
        .order
        .iter()
        .map(|v| th(&format!("<code>{}</code>", esc(v))));
    table_head(
        h,
        ["policy", "start", "end"]
            .map(th)
            .into_iter()
            .chain(variants),
    );
    for (p, start, end, on) in &policies {
        let dates = [
            td(&format!(
                "{} <code>{}</code>",
                esc(&policy_label(p)),
                esc(p)
            )),
            td(&start.to_string()),
            td(&end.map_or(String::from("—"), |e| e.to_string())),
        ];
        let cells = c.order.iter().map(|v| {
            td(if on.contains(&v.as_str()) {
                "<span class=\"on\">on</span>"
            } else {
                "<span class=\"off\">off</span>"
            })
        });
        table_row(h, dates.into_iter().chain(cells));
    }
    table_end(h);
    h.push_str("</section>\n");
}

/// The policies as bars on the window's dates, in an inline SVG.
fn timeline_svg(h: &mut String, policies: &[PolicyOn], n_variants: usize, (ws, we): (Date, Date)) {
    let (width, left, right) = (1100.0, 190.0, 20.0);
    let row_h = 34.0;
    let top = 40.0;
    let height = top + row_h * policies.len() as f64 + 10.0;
    let span = f64::from(we.0 - ws.0 + 1);
    let x =
        |d: Date| left + (f64::from(d.0 - ws.0) / span).clamp(0.0, 1.0) * (width - left - right);
    let _ = writeln!(
        h,
        "<div class=\"timeline\"><svg viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"policy timeline\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, 'Liberation Sans', sans-serif\" font-size=\"13\">"
    );
    // Year (or quarter) ticks.
    let (y0, y1) = (ws.year(), we.year());
    let quarterly = y1 - y0 < 2;
    for y in y0..=y1 + 1 {
        for q in 0..(if quarterly { 4 } else { 1 }) {
            let Some(d) = Date::from_ymd(y, 1 + 3 * q, 1) else {
                continue;
            };
            if d < ws || d > we {
                continue;
            }
            let xx = x(d);
            let label = if quarterly {
                format!("{}-{:02}", y, 1 + 3 * q)
            } else {
                y.to_string()
            };
            let _ = writeln!(
                h,
                "<line x1=\"{xx:.1}\" y1=\"{:.1}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
                top - 8.0,
                height - 6.0,
                top - 14.0,
                esc(&label)
            );
        }
    }
    let _ = writeln!(
        h,
        "<rect x=\"{left}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#bbb\"/>",
        top - 8.0,
        width - left - right,
        height - top + 2.0
    );
    for (i, (p, start, end, on)) in policies.iter().enumerate() {
        let yc = top + row_h * i as f64 + row_h / 2.0;
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"{yc:.1}\" dominant-baseline=\"middle\" text-anchor=\"end\" fill=\"#1e1e1e\">{}</text>",
            left - 10.0,
            esc(&policy_label(p))
        );
        let who = if on.is_empty() {
            "off in every variant".to_string()
        } else if on.len() == n_variants {
            "on in every variant".to_string()
        } else {
            format!("on in {}", on.join(", "))
        };
        let dates = match end {
            Some(e) => format!("{start} to {e}"),
            None => format!("from {start}"),
        };
        let end_d = end.unwrap_or(we);
        if end_d < ws {
            let _ = writeln!(
                h,
                "<text x=\"{:.1}\" y=\"{yc:.1}\" dominant-baseline=\"middle\" fill=\"#888\">{} (ended before the window; {})</text>",
                left + 8.0,
                esc(&dates),
                esc(&who)
            );
            continue;
        }
        if *start > we {
            continue;
        }
        let (x0, x1) = (x(*start), x(end_d.min(we).add_days(1)));
        let fill = if on.is_empty() {
            "#e6e6e6"
        } else if on.len() == n_variants {
            "#9a9a9a"
        } else {
            "#0b5c95"
        };
        let _ = writeln!(
            h,
            "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"{fill}\"/>",
            yc - row_h * 0.32,
            (x1 - x0).max(2.0),
            row_h * 0.64
        );
        let text = format!("{dates}: {who}");
        let est = 7.0 * text.chars().count() as f64;
        let (tx, anchor, color) = if x1 - x0 > est + 16.0 {
            (
                x0 + 8.0,
                "start",
                if on.is_empty() { "#555" } else { "#fff" },
            )
        } else if x0 - left > est + 16.0 {
            (x0 - 8.0, "end", "#1e1e1e")
        } else {
            (x1 + 8.0, "start", "#1e1e1e")
        };
        let _ = writeln!(
            h,
            "<text x=\"{tx:.1}\" y=\"{yc:.1}\" dominant-baseline=\"middle\" text-anchor=\"{anchor}\" fill=\"{color}\">{}</text>",
            esc(&text)
        );
    }
    h.push_str("</svg></div>\n");
}

fn variants(h: &mut String, c: &Comparison) {
    section_open(h, "variants");
    h.push_str(
        "<p>Each variant is the scenario with the overrides shown; the effects below compare \
         each with <code>neither</code>.</p>\n",
    );
    table_head(
        h,
        ["variant", "description", "overrides of the scenario"].map(th),
    );
    for v in &c.variants {
        let overrides = v
            .overrides
            .split("; ")
            .filter(|o| !o.is_empty())
            .map(|o| format!("<code>{}</code>", esc(o)))
            .collect::<Vec<_>>()
            .join("<br>");
        let reference = if v.variant == REFERENCE {
            " <span class=\"muted\">(reference)</span>"
        } else {
            ""
        };
        let name = format!("<code>{}</code>{reference}", esc(&v.variant));
        table_row(h, [td(&name), td(&esc(&v.description)), td(&overrides)]);
    }
    table_end(h);
    h.push_str("</section>\n");
}

/// A readable name for an effect of `effects.csv`.
pub fn effect_label(effect: &str, focus: &str) -> String {
    if let Some(alt) = effect.strip_prefix("share_to_") {
        return format!("to {}", alternative_label(alt));
    }
    let total = effect
        .strip_prefix("diff_")
        .or_else(|| effect.strip_prefix("interaction_"));
    match total {
        Some("roxham") => format!("attempts at {focus}"),
        Some("official_ports") => "attempts at land ports (STCA applies)".into(),
        Some("other_irregular") => "attempts at other irregular crossings".into(),
        Some("evasions") => "evaded, then claimed inland".into(),
        Some("airports") => "attempts at airports (no STCA)".into(),
        Some("stayed_in_us") => "stayed in the US (settled or gave up)".into(),
        Some("resettled") => "resettled through the quota".into(),
        Some("still_on_the_way") => {
            "still on the way at the end (waiting, travelling, returned, hiding or approved)".into()
        }
        Some(other) => other.replace('_', " "),
        None => effect.replace('_', " "),
    }
}

fn effects(h: &mut String, c: &Comparison) {
    section_open(h, "effects");
    let focus = c.focus_name();
    let _ = writeln!(
        h,
        "<p>Each effect compares a variant with the reference variant <code>{REFERENCE}</code> \
         (neither the STCA extension nor the quota), replicate by replicate: replicate <i>r</i> \
         of every variant uses the same random numbers, so the differences are paired. \
         <code>diff_X</code> is the variant's total of X over the window minus \
         <code>{REFERENCE}</code>'s (negative: fewer), in crossing attempts for the crossings \
         (a person returned to the US may try again) and in people for the others. <code>share_to_X</code> is \
         the change in X per attempt at {f} displaced, that is <code>diff_X</code> \
         divided by the drop in attempts at {f}; +25% means that X grew by a quarter of the \
         attempts displaced. The shares need not add up to 100%: the crossings count \
         attempts, the others people (a person turned back may try again, or try nowhere \
         else), and people still on their way when the window ends are a share of their \
         own (<code>still_on_the_way</code>). A share is undefined (n/a) where a variant does not reduce \
         attempts at {f}, and large where it barely reduces them. For <code>both</code>, \
         <code>interaction_X</code> is its effect less the effects of the extension alone and \
         of the quota alone, replicate by replicate: how far the two policies together differ \
         from the sum of each on its own. Each cell gives the mean \
         over replicates and, in brackets, the 5th and 95th percentiles: the 90% interval. \
         The intervals cover {u}.</p>",
        f = esc(&focus),
        u = esc(&c.uncertainty_text())
    );
    let variants: Vec<&String> = c
        .order
        .iter()
        .filter(|v| c.effects.iter().any(|e| &e.variant == *v))
        .collect();
    if variants.is_empty() {
        let _ = writeln!(
            h,
            "<p><b>No effects:</b> the reference variant <code>{REFERENCE}</code> was not part \
             of this comparison.</p>\n</section>"
        );
        return;
    }
    let mut names: Vec<&str> = Vec::new();
    for e in &c.effects {
        if !names.contains(&e.effect.as_str()) {
            names.push(&e.effect);
        }
    }
    let heads = variants
        .iter()
        .map(|v| format!("<th class=\"num\"><code>{}</code></th>", esc(v)));
    table_head(h, std::iter::once(th("effect")).chain(heads));
    let groups = [
        (
            "diff_",
            format!("Differences against {REFERENCE} over the window (attempts or people)"),
        ),
        (
            "share_to_",
            format!("Shares of the demand displaced from {focus}"),
        ),
        (
            "interaction_",
            "Interaction of the extension and the quota: both \u{2212} extension_only \u{2212} quota_only + neither (0 where their effects add up)".to_string(),
        ),
    ];
    // The effects this version names, by group; then anything else effects.csv holds, as
    // it is.
    let other: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !groups.iter().any(|g| n.starts_with(g.0)))
        .collect();
    let sections = groups
        .iter()
        .map(|(prefix, heading)| {
            let mine: Vec<&str> = names
                .iter()
                .copied()
                .filter(|n| n.starts_with(prefix))
                .collect();
            (Some(heading), mine, Some(*prefix == "share_to_"))
        })
        .chain(std::iter::once((None, other, None)));
    for (heading, mine, share) in sections {
        if let Some(heading) = heading.filter(|_| !mine.is_empty()) {
            let _ = writeln!(
                h,
                "<tr class=\"group\"><th colspan=\"{}\">{}</th></tr>",
                variants.len() + 1,
                esc(heading)
            );
        }
        for name in mine {
            let label = match share {
                Some(_) => format!(
                    "{} <code>{}</code>",
                    esc(&effect_label(name, &focus)),
                    esc(name)
                ),
                None => format!("<code>{}</code>", esc(name)),
            };
            let cells = variants
                .iter()
                .map(|v| format!("<td class=\"num\">{}</td>", effect_cell(c, v, name, share)));
            table_row(h, std::iter::once(td(&label)).chain(cells));
        }
    }
    table_end(h);
    let unstable: Vec<String> = variants
        .iter()
        .filter(|v| {
            c.effects
                .iter()
                .any(|e| &e.variant == **v && e.effect.starts_with("share_to_"))
        })
        .filter_map(|v| {
            c.unstable_shares(v)
                .map(|why| format!("<code>{}</code>: {}", esc(v), esc(&why)))
        })
        .collect();
    if !unstable.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"muted\">\u{2020} Unstable shares, not to be read as where demand went \
             (and left out of the displacement figure): {}.</p>",
            unstable.join("; ")
        );
    }
    h.push_str("</section>\n");
}

/// A cell of the effects table: the mean and the 90% interval in brackets, as signed
/// numbers of people or shares (`share`), or as the file has them (`None`).
fn effect_cell(c: &Comparison, variant: &str, effect: &str, share: Option<bool>) -> String {
    let Some(e) = c
        .effects
        .iter()
        .find(|e| e.variant == variant && e.effect == effect)
    else {
        return "—".into();
    };
    let unstable = share == Some(true) && c.unstable_shares(variant).is_some();
    match share {
        Some(share) => format!(
            "{}{} <span class=\"muted\">[{}, {}]</span>",
            signed(e.mean, share),
            if unstable { "\u{2020}" } else { "" },
            signed(e.p05, share),
            signed(e.p95, share)
        ),
        None => esc(&format!("{} [{}, {}]", e.mean, e.p05, e.p95)),
    }
}

/// The `<svg ...>...</svg>` element of an SVG file, with a viewBox so that it scales.
pub(crate) fn inline_svg(text: &str) -> String {
    let Some(start) = text.find("<svg") else {
        return String::new();
    };
    let svg = text[start..].trim_end();
    let tag_end = svg.find('>').unwrap_or(0);
    if svg[..tag_end].contains("viewBox") {
        return svg.to_string();
    }
    let attr = |name: &str| -> Option<String> {
        let at = svg[..tag_end].find(&format!(" {name}=\""))? + name.len() + 3;
        let len = svg[at..].find('"')?;
        Some(svg[at..at + len].to_string())
    };
    match (attr("width"), attr("height")) {
        (Some(w), Some(hh)) => format!("<svg viewBox=\"0 0 {w} {hh}\"{}", &svg[4..]),
        _ => svg.to_string(),
    }
}

/// The figures, inlined as SVG with their captions (a comparison's and a sweep's report).
pub(crate) fn figures_section(h: &mut String, figures: &[Drawn], svgs: &[String]) {
    section_open(h, "figures");
    h.push_str(
        "<p>Every figure is also in this folder as PNG and SVG, under the name shown.</p>\n",
    );
    for (f, svg) in figures.iter().zip(svgs) {
        let _ = write!(
            h,
            "<figure id=\"fig-{stem}\">\n{}\n<figcaption><b>{}</b> ({stem}.png, {stem}.svg). {}</figcaption>\n</figure>\n",
            inline_svg(svg),
            esc(&f.chart.title),
            esc(&f.caption),
            stem = esc(&f.stem)
        );
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_every_section_and_escapes_what_it_quotes() {
        let dir = tempfile::tempdir().unwrap();
        crate::present::comparison::tests::tiny_folder(dir.path());
        let c = Comparison::load(dir.path()).unwrap();
        let figs = crate::present::comparison_figures::comparison_figures(&c);
        let svgs: Vec<String> = figs
            .iter()
            .map(|f| format!("<?xml version=\"1.0\"?>\n<svg width=\"4\" height=\"3\" viewBox=\"0 0 4 3\"><text>{}</text></svg>\n", f.stem))
            .collect();
        let html = render(&c, &figs, &svgs, None);
        for (id, heading) in SECTIONS {
            assert!(
                html.contains(&format!("<section id=\"{id}\">\n<h2>{heading}</h2>")),
                "{id}"
            );
        }
        // The description comes from scenario.toml and is escaped.
        assert!(html.contains("A &lt;tiny&gt; &amp; &#39;test&#39; scenario"));
        assert!(!html.contains("<tiny>"));
        for f in &figs {
            assert!(html.contains(&format!("<figure id=\"fig-{}\">\n<svg", f.stem)));
        }
        assert!(!html.contains("<?xml"));
        // The effects: a share that is undefined reads n/a; differences are signed.
        assert!(
            html.contains("\u{2212}150 <span class=\"muted\">[\u{2212}160, \u{2212}140]</span>")
        );
        assert!(html.contains(">n/a <span"));
        // The timeline names the policies and where they are on.
        assert!(html.contains("from 2023-02-15: on in both"));
        assert!(html.contains("1 person per agent"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<b> & \"q\" 'x'"),
            "&lt;b&gt; &amp; &quot;q&quot; &#39;x&#39;"
        );
    }

    #[test]
    fn inlined_svgs_get_a_view_box() {
        let with =
            "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"5\" viewBox=\"0 0 10 5\"></svg>\n";
        assert_eq!(
            inline_svg(with),
            "<svg width=\"10\" height=\"5\" viewBox=\"0 0 10 5\"></svg>"
        );
        let without = "<svg width=\"10\" height=\"5\" xmlns=\"x\"></svg>";
        assert_eq!(
            inline_svg(without),
            "<svg viewBox=\"0 0 10 5\" width=\"10\" height=\"5\" xmlns=\"x\"></svg>"
        );
    }

    #[test]
    fn effects_read_as_signed_numbers() {
        assert_eq!(signed(-72082.8, false), "\u{2212}72,083");
        assert_eq!(signed(1095.8, false), "+1,096");
        assert_eq!(signed(0.0, false), "0");
        assert_eq!(signed(1.0912, true), "+109.1%");
        assert_eq!(signed(f64::NAN, true), "n/a");
        assert_eq!(
            effect_label("share_to_stayed_in_us", "Roxham Road"),
            "to stayed in the US"
        );
        assert_eq!(
            effect_label("diff_roxham", "Roxham Road"),
            "attempts at Roxham Road"
        );
    }
}
