//! The one figure model: every figure of every command is a [`Chart`], built from a result
//! folder's files and drawn by [`crate::present::render`] as PNG and SVG.
//!
//! A [`Chart`] is a page: a title, a subtitle, a legend shared by everything below it, and a
//! body, which is a grid of [`Panel`]s (monthly time series with bands, intervals per
//! period, or values against a numeric x), a [`StackedBars`] or a [`WhiskerBars`]. A [`Drawn`] is a chart with the file
//! stem it is saved under and a caption for the report.
//!
//! On a time axis, x is in months ([`Month`]'s number): month `m` covers `[m, m + 1)` and its
//! value is drawn at `m + 0.5`, a date at its fraction of the month ([`date_x`]).

use crate::util::date::{Date, Month};
use plotters::style::RGBColor;

/// The colours series take, in order: the six colours of Okabe and Ito's colour-blind-safe
/// palette (without its grey and black: black is the observed data's, dark grey the
/// reference variant's), then the nine of Paul Tol's "muted" palette in an order that keeps
/// neighbours apart. Any two differ by at least 18 in CIELAB (ΔE 1976), so fifteen series
/// are told apart; [`series_color`] makes more.
pub const PALETTE: [RGBColor; 15] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(136, 34, 85),
    RGBColor(51, 34, 136),
    RGBColor(153, 153, 51),
    RGBColor(17, 119, 51),
    RGBColor(221, 204, 119),
    RGBColor(170, 68, 153),
    RGBColor(68, 170, 153),
    RGBColor(140, 86, 75),
    RGBColor(204, 102, 119),
];

/// The colour of series `i` (from 0): the [`PALETTE`] for the first fifteen, then colours
/// spread around the hue circle (the golden angle apart) at three lightnesses, all
/// different, though past about thirty some come close: facet a figure with that many
/// series. Every figure takes its colours here, so that series keep one colour each across
/// figures; other code that needs colours for many series should call it too.
pub fn series_color(i: usize) -> RGBColor {
    if let Some(c) = PALETTE.get(i) {
        return *c;
    }
    let k = (i - PALETTE.len()) as f64;
    let hue = (k * 137.508 + 20.0).rem_euclid(360.0);
    let lightness = [0.42, 0.58, 0.32][(i - PALETTE.len()) % 3];
    hsl(hue, 0.6, lightness)
}

/// A colour from hue (degrees), saturation and lightness (0 to 1).
fn hsl(hue: f64, s: f64, l: f64) -> RGBColor {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let h = hue / 60.0;
    let x = c * (1.0 - (h.rem_euclid(2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(to(r), to(g), to(b))
}

/// A share as a percentage to a tenth, or to two significant figures below 0.1% (so that
/// 0.012% does not read as 0.0%).
pub fn percent(x: f64) -> String {
    let p = 100.0 * x;
    if p.abs() >= 0.1 || p == 0.0 || !p.is_finite() {
        format!("{p:.1}%")
    } else {
        let digits = (1 - p.abs().log10().floor() as i32).max(0) as usize;
        format!("{p:.digits$}%")
    }
}

/// A change as people read it: `+1,096`, `−109.1%` (a true minus sign), `0` without a
/// sign; `share` writes a fraction as a percentage ([`percent`]).
pub fn signed(v: f64, share: bool) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let body = if share {
        percent(v.abs())
    } else {
        fmt_number(v.abs(), 1e3)
    };
    if body.trim_start_matches(['0', '.', ',', '%']).is_empty() {
        body
    } else if v < 0.0 {
        format!("\u{2212}{body}")
    } else {
        format!("+{body}")
    }
}

/// A number for an axis or a label: thousands separated, with decimals only when the
/// scale needs them.
pub fn fmt_number(v: f64, scale: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if scale < 10.0 {
        let d = if scale < 0.1 { 3 } else { 2 };
        return format!("{v:.d$}");
    }
    let r = v.round();
    let digits = format!("{}", r.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if r < 0.0 { format!("-{out}") } else { out }
}

/// The x of a date on a time axis: its month plus the fraction of the month gone.
pub fn date_x(d: Date) -> f64 {
    let m = d.month();
    f64::from(m.0) + f64::from(d.ymd().2 - 1) / f64::from(m.days().max(1))
}

/// The x of a month's value: the middle of the month.
pub fn month_x(m: Month) -> f64 {
    f64::from(m.0) + 0.5
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyph {
    Line,
    Dashed,
    /// A line over a shaded band.
    Band,
    Dot,
    Block,
    /// A point with a vertical interval.
    Whisker,
}

#[derive(Debug, Clone)]
pub struct LegendItem {
    pub label: String,
    pub color: RGBColor,
    pub glyph: Glyph,
}

/// A series on a time axis: `(x, p05, p50, p95)` points; the band is shaded when `band`.
#[derive(Debug, Clone)]
pub struct Trace {
    pub color: RGBColor,
    pub dashed: bool,
    pub band: bool,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// A dated vertical line with a label.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub x: f64,
    pub label: String,
}

/// Values by month, with bands, observed points and markers.
#[derive(Debug, Clone, Default)]
pub struct TimePanel {
    pub title: String,
    pub y_label: String,
    /// The x range (months); by default the months the data cover.
    pub x_range: Option<(f64, f64)>,
    /// The top of the y axis; by default a little above the data.
    pub y_max: Option<f64>,
    pub traces: Vec<Trace>,
    /// Observed points, in black.
    pub observed: Vec<(f64, f64)>,
    /// Observed points in a series' colour (ringed in black), where one panel shows the
    /// observations of several series.
    pub observed_in: Vec<(RGBColor, Vec<(f64, f64)>)>,
    pub markers: Vec<Marker>,
}

/// A series of intervals: its colour and three numbers per category.
pub type IntervalSeries = (RGBColor, Vec<(f64, f64, f64)>);

/// Intervals side by side for a few periods: the observed value, then each series'
/// median with its 90% interval.
#[derive(Debug, Clone, Default)]
pub struct IntervalPanel {
    pub title: String,
    pub y_label: String,
    pub categories: Vec<String>,
    /// Per series: its colour and `(p05, p50, p95)` per category.
    pub series: Vec<IntervalSeries>,
    pub observed: Vec<Option<f64>>,
}

/// Bars from zero with whiskers, one group per category, one bar per series in a group;
/// values may be negative.
#[derive(Debug, Clone, Default)]
pub struct BarPanel {
    pub title: String,
    pub y_label: String,
    pub categories: Vec<String>,
    /// Per series: its colour and `(value, p05, p95)` per category.
    pub series: Vec<IntervalSeries>,
}

/// Points on two linear axes (an outcome against a parameter).
#[derive(Debug, Clone, Default)]
pub struct ScatterPanel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub color: Option<RGBColor>,
    pub points: Vec<(f64, f64)>,
}

/// A line or dots against a numeric x.
#[derive(Debug, Clone)]
pub struct XySeries {
    pub color: RGBColor,
    /// Joined by a line.
    pub line: bool,
    /// Each point a dot.
    pub dots: bool,
    pub points: Vec<(f64, f64)>,
}

/// Values against a numeric x (a trial, a generation, a parameter's value): lines, dots,
/// a histogram's bars and marked values, on axes from 0 up (or down to the data's least).
#[derive(Debug, Clone, Default)]
pub struct XyPanel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// The x range; by default the data's.
    pub x_range: Option<(f64, f64)>,
    /// x values are counts (trials, generations): ticks at whole numbers.
    pub integer_x: bool,
    pub series: Vec<XySeries>,
    /// Bars `(from x, to x, height)`, in a colour.
    pub bars: Vec<IntervalSeries>,
    /// Marked x values: a dashed vertical line with its label.
    pub marks: Vec<Marker>,
}

/// One cell of a grid.
#[derive(Debug, Clone)]
pub enum Panel {
    Time(TimePanel),
    Intervals(IntervalPanel),
    Bars(BarPanel),
    Scatter(ScatterPanel),
    Xy(XyPanel),
    /// A cell with nothing to draw, saying why.
    Empty {
        title: String,
        note: String,
    },
}

/// Stacked vertical bars, one per category.
#[derive(Debug, Clone, Default)]
pub struct StackedBars {
    pub y_label: String,
    pub categories: Vec<String>,
    /// Bottom to top.
    pub segments: Vec<Segment>,
    /// Counted in another unit than the stack (events, not people): each drawn as a bar of
    /// its own beside the stack, with its value, and left out of the stack's total.
    pub apart: Vec<Segment>,
}

/// A segment of stacked bars: its legend label, a short name for a label beside a bar
/// (where the segment is too thin to hold its value), a colour and a value per category.
#[derive(Debug, Clone)]
pub struct Segment {
    pub label: String,
    pub short: String,
    pub color: RGBColor,
    pub values: Vec<f64>,
}

/// Horizontal bars with interval whiskers, grouped: one group per row (top to bottom),
/// one bar per series within a group.
#[derive(Debug, Clone, Default)]
pub struct WhiskerBars {
    pub x_label: String,
    pub groups: Vec<String>,
    /// Per series: its colour and `(mean, p05, p95)` per group.
    pub series: Vec<IntervalSeries>,
    /// Values are fractions, shown as percentages.
    pub percent: bool,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// Rows of panels; each row is split evenly among its panels.
    Grid(Vec<Vec<Panel>>),
    Stacked(StackedBars),
    Whiskers(WhiskerBars),
}

/// A page: title, subtitle, a legend for everything on it, and the body.
#[derive(Debug, Clone)]
pub struct Chart {
    pub title: String,
    pub subtitle: String,
    pub legend: Vec<LegendItem>,
    pub body: Body,
}

/// A figure of a result folder: the file stem it is saved under (as `stem.png` and
/// `stem.svg`), what it shows (for the report) and the chart.
#[derive(Debug, Clone)]
pub struct Drawn {
    pub stem: String,
    pub caption: String,
    pub chart: Chart,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CIELAB (D65) of an sRGB colour.
    fn lab(c: RGBColor) -> [f64; 3] {
        let lin = |u: u8| {
            let u = f64::from(u) / 255.0;
            if u <= 0.04045 {
                u / 12.92
            } else {
                ((u + 0.055) / 1.055).powf(2.4)
            }
        };
        let (r, g, b) = (lin(c.0), lin(c.1), lin(c.2));
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        [
            116.0 * f(y) - 16.0,
            500.0 * (f(x) - f(y)),
            200.0 * (f(y) - f(z)),
        ]
    }

    fn delta_e(a: RGBColor, b: RGBColor) -> f64 {
        let (a, b) = (lab(a), lab(b));
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    }

    #[test]
    fn series_colours_stay_apart_past_eight() {
        // The first fifteen are far apart, and from the black of observed points and the
        // dark grey of the reference variant.
        for i in 0..15 {
            for j in 0..i {
                let d = delta_e(series_color(i), series_color(j));
                assert!(d >= 18.0, "colours {j} and {i}: ΔE {d:.1}");
            }
            for fixed in [RGBColor(0, 0, 0), RGBColor(70, 70, 70)] {
                assert!(delta_e(series_color(i), fixed) >= 25.0, "colour {i}");
            }
        }
        // Past them, every colour is still a new one.
        let many: Vec<RGBColor> = (0..48).map(series_color).collect();
        for i in 0..many.len() {
            for j in 0..i {
                assert!(delta_e(many[i], many[j]) > 2.0, "colours {j} and {i}");
            }
        }
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_number(72082.8, 80000.0), "72,083");
        assert_eq!(fmt_number(-1234567.0, 1e6), "-1,234,567");
        assert_eq!(fmt_number(999.0, 1000.0), "999");
        assert_eq!(fmt_number(0.1903, 0.25), "0.19");
        assert_eq!(fmt_number(f64::NAN, 1.0), "n/a");
    }
}
