//! The figures of a comparison, each as PNG and SVG: `crossings_by_variant`, `panel_2x2`,
//! `outcomes`, `displacement` (when effects against `neither` exist) and `overlay` (when the
//! scenario declares observed series), drawn from the folder's files alone.

use crate::experiment::compare::REFERENCE;
use crate::present::chart::{
    Body, Chart, Drawn, Glyph, LegendItem, Panel, Segment, StackedBars, TimePanel, Trace,
    WhiskerBars, fmt_number, series_color,
};
use crate::present::comparison::{Comparison, alternative_label, variant_color};
use crate::present::files::{self, CrossingClass, PlaceRecord};
use crate::present::overlay::{Overlay, Period, Simulated};
use crate::util::date::Date;
use plotters::style::RGBColor;

/// The titles of a comparison's figures, by file stem; `{focus}` stands for the crossing
/// whose displaced demand the effects track (Roxham Road).
pub const TITLES: [(&str, &str); 5] = [
    (
        "crossings_by_variant",
        "Monthly crossing attempts by crossing point and policy variant",
    ),
    (
        "panel_2x2",
        "The 2 x 2 design: monthly crossing attempts in each policy cell",
    ),
    ("outcomes", "Outcomes over the window by policy variant"),
    (
        "displacement",
        "Where the demand displaced from {focus} went",
    ),
    ("overlay", "Simulated and observed series"),
];

/// The title of a comparison figure, for the focus crossing `focus`.
pub fn title(stem: &str, focus: &str) -> String {
    TITLES
        .iter()
        .find(|t| t.0 == stem)
        .map_or(String::new(), |t| t.1.replace("{focus}", focus))
}

/// Variants in drawing order: the reference last, so its dashed line stays visible where
/// the variants coincide.
fn drawing_order(order: &[String]) -> Vec<&String> {
    let mut v: Vec<&String> = order.iter().filter(|v| *v != REFERENCE).collect();
    v.extend(order.iter().filter(|v| *v == REFERENCE));
    v
}

fn variant_legend(c: &Comparison, glyph: Glyph) -> Vec<LegendItem> {
    c.order
        .iter()
        .map(|v| LegendItem {
            label: c.variant_label(v),
            color: variant_color(&c.order, v),
            glyph: if v == REFERENCE && glyph == Glyph::Band {
                Glyph::Dashed
            } else {
                glyph
            },
        })
        .collect()
}

/// The figures of a comparison, in the report's order; those with nothing to show are
/// left out.
pub fn comparison_figures(c: &Comparison) -> Vec<Drawn> {
    let mut out = vec![crossings_by_variant(c)];
    out.extend(panel_2x2(c));
    out.push(outcomes(c));
    out.extend(displacement(c));
    out.extend(overlay(c));
    out
}

fn crossings_by_variant(c: &Comparison) -> Drawn {
    let marks = c.markers(c.marker_variant());
    let mut observed_labels: Vec<String> = Vec::new();
    let panels: Vec<Panel> = c
        .crossings()
        .into_iter()
        .map(|p| {
            let observed = files::observed_at(&c.observed_crossings, &p.place);
            let title = match &observed {
                Some((label, _)) => {
                    observed_labels.push(format!("{}: {}", p.place, label));
                    format!("{} \u{2014} {label}", p.label())
                }
                None => p.label(),
            };
            Panel::Time(TimePanel {
                title,
                y_label: "attempts per month".into(),
                x_range: Some(c.x_range()),
                y_max: None,
                traces: drawing_order(&c.order)
                    .into_iter()
                    .map(|v| Trace {
                        color: variant_color(&c.order, v),
                        dashed: v == REFERENCE,
                        band: true,
                        points: c.monthly(v, "attempts", |q| q == p.place),
                    })
                    .collect(),
                observed: observed.map(|o| o.1).unwrap_or_default(),
                observed_in: Vec::new(),
                markers: marks.clone(),
            })
        })
        .collect();
    let mut legend = variant_legend(c, Glyph::Band);
    if !observed_labels.is_empty() {
        legend.push(LegendItem {
            label: "observed (what the panel title says)".into(),
            color: RGBColor(0, 0, 0),
            glyph: Glyph::Dot,
        });
    }
    let cols = if panels.len() > 1 { 2 } else { 1 };
    let stem = "crossings_by_variant";
    Drawn {
        stem: stem.into(),
        caption: format!(
            "Crossing attempts per month at each crossing point (a person returned to the US \
             may try again): for each variant, the median over {} (line) and the 90% band \
             (shaded). Dashed vertical lines mark the policy dates of variant \"{}\". The \
             variants share their random numbers, so they coincide until a policy they differ \
             in starts.{}",
            c.replicates_text(),
            c.marker_variant(),
            if observed_labels.is_empty() {
                String::new()
            } else {
                format!(
                    " Black dots: observations the scenario declares at one crossing ({}).",
                    observed_labels.join("; ")
                )
            }
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Median (line) and 90% band (shaded) over {} per variant; dashed vertical lines: policy dates (variant \"{}\")",
                c.replicates_text(),
                c.marker_variant()
            ),
            legend,
            body: Body::Grid(panels.chunks(cols).map(<[Panel]>::to_vec).collect()),
        },
    }
}

fn panel_2x2(c: &Comparison) -> Option<Drawn> {
    const CELLS: [[&str; 2]; 2] = [["both", "extension_only"], ["quota_only", REFERENCE]];
    if !CELLS
        .iter()
        .flatten()
        .any(|v| c.order.iter().any(|o| o == v))
    {
        return None;
    }
    let crossings = c.crossings();
    let color = series_color;
    let traces = |v: &str| -> Vec<Trace> {
        crossings
            .iter()
            .enumerate()
            .map(|(i, p)| Trace {
                color: color(i),
                dashed: false,
                band: true,
                points: c.monthly(v, "attempts", |q| q == p.place),
            })
            .collect()
    };
    let top = CELLS
        .iter()
        .flatten()
        .flat_map(|v| traces(v))
        .flat_map(|t| t.points.into_iter().map(|q| q.3.max(q.2)))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_max = Some(if top > 0.0 { top * 1.08 } else { 1.0 });
    let rows: Vec<Vec<Panel>> = CELLS
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| {
                    if c.order.iter().any(|o| o == v) {
                        Panel::Time(TimePanel {
                            title: c.variant_label(v),
                            y_label: "attempts per month".into(),
                            x_range: Some(c.x_range()),
                            y_max,
                            traces: traces(v),
                            observed: Vec::new(),
                            observed_in: Vec::new(),
                            markers: c.markers(v),
                        })
                    } else {
                        Panel::Empty {
                            title: v.to_string(),
                            note: "not run in this comparison".into(),
                        }
                    }
                })
                .collect()
        })
        .collect();
    let stem = "panel_2x2";
    Some(Drawn {
        stem: stem.into(),
        caption: format!(
            "The four cells of the design. Top row: with the STCA extension; bottom row: \
             without. Left column: with the resettlement quota; right column: without. Each \
             cell shows every crossing point (median over {} and 90% band) on the same \
             y scale, with the cell's own policy dates.",
            c.replicates_text()
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Rows: STCA extension on / off. Columns: resettlement quota on / off. Median and 90% band over {}; the same y scale in every cell; dashed lines: the cell's policy dates",
                c.replicates_text()
            ),
            legend: crossings
                .iter()
                .enumerate()
                .map(|(i, p)| LegendItem {
                    label: p.label(),
                    color: color(i),
                    glyph: Glyph::Band,
                })
                .collect(),
            body: Body::Grid(rows),
        },
    })
}

/// The outcome segments of the stacked bars, bottom to top: label, colour, metric, places.
type Keep = fn(&PlaceRecord) -> bool;

fn outcome_segments() -> Vec<(&'static str, &'static str, RGBColor, &'static str, Keep)> {
    vec![
        (
            "claims after an irregular crossing",
            "irregular",
            RGBColor(213, 94, 0),
            "claims",
            |p| p.class() == Some(CrossingClass::Irregular),
        ),
        (
            "claims at land ports",
            "land ports",
            RGBColor(0, 114, 178),
            "claims",
            |p| p.class() == Some(CrossingClass::LandPort),
        ),
        (
            "claims at airports",
            "airports",
            RGBColor(86, 180, 233),
            "claims",
            |p| p.class() == Some(CrossingClass::Airport),
        ),
        (
            "evaded for the window, then claimed inland",
            "evaded",
            RGBColor(204, 121, 167),
            "evaded",
            |p| p.kind == "crossing",
        ),
        (
            "resettled through the quota",
            "resettled",
            RGBColor(0, 158, 115),
            "resettled",
            |p| p.kind == "destination",
        ),
    ]
}

/// Returns to the US, counted apart: a person may be returned more than once, so returns
/// are events, not people, and stack with none of the outcomes.
fn returns(c: &Comparison) -> Segment {
    Segment {
        label: "returned to the US (events, not people: beside each bar, not in its total)".into(),
        short: "returned".into(),
        color: RGBColor(150, 150, 150),
        values: c
            .order
            .iter()
            .map(|v| c.total(v, "returned", |p| p.kind == "crossing"))
            .collect(),
    }
}

/// Outcome totals per variant (means over replicates, summed over the window), bottom to
/// top of the stacked bars.
pub fn outcome_totals(c: &Comparison) -> Vec<Segment> {
    outcome_segments()
        .into_iter()
        .map(|(label, short, color, metric, keep)| Segment {
            label: label.into(),
            short: short.into(),
            color,
            values: c.order.iter().map(|v| c.total(v, metric, keep)).collect(),
        })
        .collect()
}

fn window_text(c: &Comparison) -> String {
    match (c.months.first(), c.months.last()) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "the window".into(),
    }
}

fn outcomes(c: &Comparison) -> Drawn {
    let segments: Vec<Segment> = outcome_totals(c)
        .into_iter()
        .filter(|s| s.values.iter().any(|v| *v > 0.0))
        .collect();
    let apart: Vec<Segment> = Some(returns(c))
        .filter(|s| s.values.iter().any(|v| *v > 0.0))
        .into_iter()
        .collect();
    let stem = "outcomes";
    Drawn {
        stem: stem.into(),
        caption: format!(
            "What became of the people who reached the border, {}, per variant: the mean over \
             {} of each outcome's total, in people (the stack and its total). Returns to the US \
             are drawn apart, as the thin grey bar beside each stack: a person returned may try \
             again and be returned again, so returns count events, not people, and are in no \
             total.",
            window_text(c),
            c.replicates_text()
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "People over {}, means over {}; beside each stack, returns to the US (events: each time a person is sent back)",
                window_text(c),
                c.replicates_text()
            ),
            legend: Vec::new(),
            body: Body::Stacked(StackedBars {
                y_label: "people over the window (grey: returns, events)".into(),
                categories: c.order.clone(),
                segments,
                apart,
            }),
        },
    }
}

fn displacement(c: &Comparison) -> Option<Drawn> {
    let mut groups: Vec<&str> = Vec::new();
    for e in &c.effects {
        if let Some(alt) = e.effect.strip_prefix("share_to_")
            && !groups.contains(&alt)
        {
            groups.push(alt);
        }
    }
    let with_effects: Vec<&String> = c
        .order
        .iter()
        .filter(|v| {
            c.effects
                .iter()
                .any(|e| &e.variant == *v && e.effect.starts_with("share_to_"))
        })
        .collect();
    // Shares over a drop too small or too uncertain to divide by are left out, and said so.
    let (variants, left_out): (Vec<&String>, Vec<&String>) = with_effects
        .into_iter()
        .partition(|v| c.unstable_shares(v).is_none());
    if groups.is_empty() || variants.is_empty() {
        return None;
    }
    let focus = c.focus_name();
    let left_out_text = if left_out.is_empty() {
        String::new()
    } else {
        format!(
            " Left out, as their shares would be unstable: {}.",
            left_out
                .iter()
                .map(|v| format!("{v} ({})", c.unstable_shares(v).unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let get = |v: &str, effect: &str| {
        c.effects
            .iter()
            .find(|e| e.variant == v && e.effect == effect)
    };
    let legend = variants
        .iter()
        .map(|v| {
            let moved = get(v, "diff_roxham").map_or(String::new(), |d| {
                if d.mean < 0.0 {
                    format!(" ({} fewer at {focus})", fmt_number(-d.mean, 1e3))
                } else {
                    format!(" ({} more at {focus})", fmt_number(d.mean, 1e3))
                }
            });
            LegendItem {
                label: format!("{v}{moved}"),
                color: variant_color(&c.order, v),
                glyph: Glyph::Block,
            }
        })
        .collect();
    let series = variants
        .iter()
        .map(|v| {
            (
                variant_color(&c.order, v),
                groups
                    .iter()
                    .map(|g| {
                        get(v, &format!("share_to_{g}"))
                            .map_or((f64::NAN, f64::NAN, f64::NAN), |e| (e.mean, e.p05, e.p95))
                    })
                    .collect(),
            )
        })
        .collect();
    let stem = "displacement";
    Some(Drawn {
        stem: stem.into(),
        caption: format!(
            "For each variant against \"neither\": the change in each alternative per attempt \
             fewer at {focus} (bars: means over {}, paired by seed; whiskers: 90% \
             intervals). +100% means the alternative gained as many as {focus} lost \
             attempts. Only variants whose drop at {focus} is clearly a drop and at least \
             {:.0}% of the attempts there without either policy are shown: below that a share \
             divides by too little to be stable.{left_out_text}",
            c.replicates_text(),
            100.0 * crate::present::comparison::MIN_DROP
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Change in each alternative per attempt fewer at {focus}, variant minus \"neither\": mean (bar) and 90% interval (whisker) over {} (paired){}",
                c.replicates_text(),
                if left_out.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; left out (drop at {focus} too small for stable shares): {}",
                        left_out
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
            legend,
            body: Body::Whiskers(WhiskerBars {
                x_label: format!("change per attempt displaced from {focus} (100% = one for one)"),
                groups: groups.iter().map(|g| alternative_label(g)).collect(),
                series,
                percent: true,
            }),
        },
    })
}

/// The observed series of the comparison's `overlay.csv`, each with a counterpart per variant.
fn overlays(c: &Comparison) -> Vec<Overlay> {
    let info = c.observed_info();
    let mut names: Vec<&str> = Vec::new();
    for r in &c.overlay {
        if !names.contains(&r.series.as_str()) {
            names.push(&r.series);
        }
    }
    let mut out = Vec::new();
    for name in names {
        let rows: Vec<_> = c.overlay.iter().filter(|r| r.series == name).collect();
        let mut periods: Vec<Period> = Vec::new();
        for r in &rows {
            // `Comparison::load` checked the dates.
            let (Some(start), Some(end)) = (Date::parse(&r.start), Date::parse(&r.end)) else {
                continue;
            };
            if !periods.iter().any(|p| p.label == r.period) {
                periods.push(Period {
                    label: r.period.clone(),
                    first: start.month(),
                    last: end.month(),
                });
            }
        }
        let find =
            |v: &str, p: &Period| rows.iter().find(|r| r.variant == v && r.period == p.label);
        out.push(Overlay {
            name: name.to_string(),
            info: info.iter().find(|i| i.name == name).cloned(),
            observed: periods
                .iter()
                .map(|p| {
                    rows.iter()
                        .find(|r| r.period == p.label)
                        .map(|r| r.observed)
                })
                .collect(),
            simulated: c
                .order
                .iter()
                .map(|v| Simulated {
                    color: variant_color(&c.order, v),
                    dashed: v == REFERENCE,
                    values: periods
                        .iter()
                        .map(|p| find(v, p).map(|r| (r.sim_p05, r.sim_p50, r.sim_p95)))
                        .collect(),
                    months: c
                        .overlay_months
                        .iter()
                        .filter(|(_, r)| r.series == name && r.variant.as_deref() == Some(v))
                        .map(|(m, r)| (*m, r.sim_p05, r.sim_p50, r.sim_p95))
                        .collect(),
                })
                .collect(),
            periods,
        });
    }
    out
}

fn overlay(c: &Comparison) -> Option<Drawn> {
    if c.overlay.is_empty() {
        return None;
    }
    let marks = c.markers(c.marker_variant());
    let (wide, narrow): (Vec<Overlay>, Vec<Overlay>) =
        overlays(c).into_iter().partition(Overlay::is_time);
    let wide = wide.iter().map(|o| o.panel(o.heading(), &marks));
    let narrow: Vec<Panel> = narrow.iter().map(|o| o.panel(o.title(), &[])).collect();
    let mut rows: Vec<Vec<Panel>> = wide.map(|p| vec![p]).collect();
    let per_row = if narrow.len() == 4 { 4 } else { 3 };
    rows.extend(narrow.chunks(per_row).map(<[Panel]>::to_vec));
    let mut legend = vec![LegendItem {
        label: "observed".into(),
        color: RGBColor(0, 0, 0),
        glyph: Glyph::Dot,
    }];
    legend.extend(c.order.iter().map(|v| LegendItem {
        label: format!("{v} (median, 90% interval)"),
        color: variant_color(&c.order, v),
        glyph: Glyph::Whisker,
    }));
    let stem = "overlay";
    Some(Drawn {
        stem: stem.into(),
        caption: format!(
            "The observed series the scenario declares (black) against each variant's \
             simulated counterpart (median over {} with its 90% interval). Periods before \
             the policies start are the same in every variant.",
            c.replicates_text()
        ),
        chart: Chart {
            title: title(stem, &c.focus_name()),
            subtitle: format!(
                "Observed (black) and each variant's median with its 90% interval over {}; periods before the policies start are the same in every variant",
                c.replicates_text()
            ),
            legend,
            body: Body::Grid(rows),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::comparison::tests::tiny;

    #[test]
    fn outcome_totals_add_up_the_means_by_kind_of_crossing() {
        let (_d, c) = tiny();
        let totals = outcome_totals(&c);
        let get = |short: &str| {
            totals
                .iter()
                .find(|s| s.short == short)
                .unwrap()
                .values
                .clone()
        };
        assert_eq!(get("irregular"), [150.0, 300.0]);
        assert_eq!(get("land ports"), [30.0, 60.0]);
        assert_eq!(get("airports"), [6.0, 12.0]);
        assert!(
            totals.iter().all(|s| s.short != "returned"),
            "returns are apart"
        );
        assert_eq!(returns(&c).values, [9.0, 9.0]);
        assert_eq!(get("resettled"), [9.0, 0.0]);
        assert_eq!(get("evaded"), [0.0, 0.0]);
    }
    #[test]
    fn every_figure_is_specified_with_its_title() {
        let (_d, c) = tiny();
        let figs = comparison_figures(&c);
        let stems: Vec<&str> = figs.iter().map(|f| f.stem.as_str()).collect();
        assert_eq!(
            stems,
            [
                "crossings_by_variant",
                "panel_2x2",
                "outcomes",
                "displacement",
                "overlay"
            ]
        );
        for f in &figs {
            assert_eq!(f.chart.title, title(&f.stem, "Roxham Road"));
            assert!(!f.caption.is_empty());
        }
        // The 2 x 2 keeps its shape: cells not run are said to be so.
        let Body::Grid(rows) = &figs[1].chart.body else {
            panic!("a grid")
        };
        let empty = rows
            .iter()
            .flatten()
            .filter(|p| matches!(p, Panel::Empty { .. }))
            .count();
        assert_eq!(empty, 2);
        // The outcomes drop the segment that is zero everywhere (evasions); returns, which
        // count events, stand apart from the people.
        let Body::Stacked(s) = &figs[2].chart.body else {
            panic!("stacked bars")
        };
        assert_eq!(s.segments.len(), 4);
        assert_eq!(s.apart.len(), 1);
        assert_eq!(s.apart[0].short, "returned");
        // The monthly series is a time panel, the quarter an interval panel.
        let Body::Grid(rows) = &figs[4].chart.body else {
            panic!("a grid")
        };
        assert!(matches!(rows[0][0], Panel::Time(_)));
        assert!(matches!(rows[1][0], Panel::Intervals(_)));
    }
    #[test]
    fn without_effects_or_observed_series_those_figures_are_left_out() {
        let (d, _) = tiny();
        std::fs::write(d.path().join("effects.csv"), "").unwrap();
        std::fs::write(d.path().join("overlay.csv"), "").unwrap();
        let c = Comparison::load(d.path()).unwrap();
        let figs = comparison_figures(&c);
        let stems: Vec<&str> = figs.iter().map(|f| f.stem.as_str()).collect();
        assert_eq!(stems, ["crossings_by_variant", "panel_2x2", "outcomes"]);
    }
    #[test]
    fn the_overlay_draws_with_its_title() {
        let (d, c) = tiny();
        let fig = overlay(&c).unwrap();
        let files = crate::present::render::save(&fig.chart, d.path(), &fig.stem).unwrap();
        assert_eq!(files, ["overlay.png", "overlay.svg"]);
        let svg = std::fs::read_to_string(d.path().join("overlay.svg")).unwrap();
        assert!(svg.contains(&title("overlay", "Roxham Road")));
        assert!(svg.contains("Things in the quarter"));
        let png = std::fs::read(d.path().join("overlay.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }
}
