//! The renderer: draws a [`Chart`] as PNG and SVG through one drawing routine, generic over
//! the plotters backend, so the two files are the same picture. Text is rendered with a
//! bundled font (DejaVu Sans), so no system font library is needed.

use crate::present::chart::{
    BarPanel, Body, Chart, Glyph, IntervalPanel, LegendItem, Marker, PALETTE, Panel, ScatterPanel,
    Segment, StackedBars, TimePanel, Trace, WhiskerBars, XyPanel, fmt_number,
};
use crate::present::glyphs::Glyphs;
use crate::util::date::Month;
use crate::util::error::{Error, Result};
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::element::{CoordMapper, Drawable, PointCollection};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bundled file is a valid TrueType font; a failure would only lose text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Text sizes in pixels.
const TITLE: u32 = 30;
const SUBTITLE: u32 = 18;
const PANEL_TITLE: u32 = 21;
const TICK: u32 = 16;
const AXIS: u32 = 18;
const LEGEND: u32 = 18;
const NOTE: u32 = 15;
/// Width of the y axis' labels and description, in pixels.
const Y_AREA: u32 = 96;
/// The widest a category of an interval panel gets, in pixels.
const MAX_CATEGORY_W: f64 = 300.0;
/// Width of every chart, in pixels.
const WIDTH: u32 = 1600;
const INK: RGBColor = RGBColor(30, 30, 30);
const GRID: RGBColor = RGBColor(228, 228, 228);
const MARK: RGBColor = RGBColor(105, 105, 105);

type Res<T = ()> = std::result::Result<T, String>;

/// A linear axis whose ticks and grid lines sit exactly at the given points (month
/// starts, or categories), with no minor lines.
#[derive(Debug, Clone)]
struct Keyed {
    lo: f64,
    hi: f64,
    keys: Vec<f64>,
}

fn keyed(range: std::ops::Range<f64>, keys: Vec<f64>) -> Keyed {
    Keyed {
        lo: range.start,
        hi: range.end,
        keys,
    }
}

impl Ranged for Keyed {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        if self.hi == self.lo {
            return (limit.0 + limit.1) / 2;
        }
        let r = (v - self.lo) / (self.hi - self.lo);
        limit.0 + (f64::from(limit.1 - limit.0) * r).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn de<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

/// Draws one element on a chart.
fn put<DB, CT, B, E>(chart: &mut ChartContext<'_, DB, CT>, element: E) -> Res
where
    DB: DrawingBackend,
    CT: CoordTranslate,
    B: CoordMapper,
    for<'b> &'b E: PointCollection<'b, CT::From, B>,
    E: Drawable<DB, B>,
{
    chart
        .draw_series(std::iter::once(element))
        .map(|_| ())
        .map_err(de)
}

/// A plot: axes on an area, ready to draw on.
type Plot<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// Where a plot sits in its area: its margins, left, right and top, and the width of the
/// y axis' labels. Every plot has the same bottom margin and x label area.
struct Frame {
    left: u32,
    right: u32,
    top: u32,
    y_area: u32,
}

impl Frame {
    fn build<'a, DB: DrawingBackend, X: AsRangedCoord, Y: AsRangedCoord>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
        x: X,
        y: Y,
    ) -> Res<Plot<'a, DB, X::CoordDescType, Y::CoordDescType>> {
        ChartBuilder::on(area)
            .margin_left(self.left)
            .margin_right(self.right)
            .margin_top(self.top)
            .margin_bottom(6)
            .x_label_area_size(62)
            .y_label_area_size(self.y_area)
            .build_cartesian_2d(x, y)
            .map_err(de)
    }
}

/// The style every mesh shares: fonts, light grid lines at the key points only, grey axes.
fn house_style<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    tick: u32,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style(font(tick))
        .axis_desc_style(font(AXIS))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(90, 90, 90))
}

/// Values from 0 to `ymax` up, one category per key point across (the x axis of interval
/// panels and stacked bars).
struct CategoryAxes<'c> {
    frame: Frame,
    categories: &'c [String],
    /// Room either side of the categories, in categories.
    pad: f64,
    x_desc: &'c str,
    y_desc: &'c str,
    ymax: f64,
    y_labels: usize,
    tick: u32,
}

impl CategoryAxes<'_> {
    fn draw<'a, DB: DrawingBackend>(
        &self,
        area: &'a DrawingArea<DB, Shift>,
    ) -> Res<Plot<'a, DB, Keyed, RangedCoordf64>> {
        let n = self.categories.len().max(1);
        let keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let x = keyed(-0.5 - self.pad..n as f64 - 0.5 + self.pad, keys);
        let mut chart = self.frame.build(area, x, 0.0..self.ymax)?;
        let category = |x: &f64| {
            self.categories
                .get(x.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default()
        };
        house_style(&mut chart.configure_mesh(), self.tick)
            .x_label_formatter(&category)
            .y_label_formatter(&|v| fmt_number(*v, self.ymax))
            .y_labels(self.y_labels)
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .disable_x_mesh()
            .draw()
            .map_err(de)?;
        Ok(chart)
    }
}

/// Width in pixels of `text` in the bundled font at `size` (the same for both backends).
fn text_width(text: &str, size: u32) -> u32 {
    register_font();
    ("sans-serif", size)
        .into_font()
        .box_size(text)
        .map_or(text.len() as u32 * size / 2, |b| b.0)
}

/// Splits `text` into lines no wider than `width` pixels, at spaces.
fn wrap(text: &str, size: u32, width: u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(&candidate, size) > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_label(x: f64) -> String {
    let m = Month(x.round() as i32);
    format!("{} {}", MONTH_NAMES[(m.number() - 1) as usize], m.year())
}

/// The header's lines, laid out once so that the page height is known before drawing.
struct Header {
    subtitle: Vec<String>,
    /// Legend rows: the items' indices and the row's width.
    legend: Vec<(Vec<usize>, u32)>,
    height: u32,
}

const GLYPH_W: u32 = 34;
const ITEM_GAP: u32 = 30;

fn legend_item_width(item: &LegendItem) -> u32 {
    GLYPH_W + 8 + text_width(&item.label, LEGEND)
}

fn layout_header(chart: &Chart) -> Header {
    let avail = WIDTH - 120;
    let subtitle = if chart.subtitle.is_empty() {
        Vec::new()
    } else {
        wrap(&chart.subtitle, SUBTITLE, avail)
    };
    let mut legend: Vec<(Vec<usize>, u32)> = Vec::new();
    for (i, item) in chart.legend.iter().enumerate() {
        let w = legend_item_width(item);
        match legend.last_mut() {
            Some((row, width)) if *width + ITEM_GAP + w <= avail => {
                row.push(i);
                *width += ITEM_GAP + w;
            }
            _ => legend.push((vec![i], w)),
        }
    }
    let height = 16
        + TITLE
        + 10
        + subtitle.len() as u32 * (SUBTITLE + 7)
        + if legend.is_empty() { 0 } else { 8 }
        + legend.len() as u32 * (LEGEND + 14)
        + 6;
    Header {
        subtitle,
        legend,
        height,
    }
}

impl Chart {
    /// The size in pixels the chart is drawn at.
    pub fn size(&self) -> (u32, u32) {
        let header = layout_header(self).height;
        let body = match &self.body {
            Body::Grid(rows) => {
                let per_row = if rows.iter().all(|r| r.len() <= 1) {
                    600
                } else {
                    480
                };
                per_row * rows.len().max(1) as u32
            }
            Body::Stacked(_) => 760,
            Body::Whiskers(w) => 120 + 34 * (w.groups.len() * w.series.len().max(1)) as u32,
        };
        (WIDTH, header + body.max(360))
    }
}

/// Draws a legend glyph in a `GLYPH_W` x `h` box at `(x, y)` (top left).
fn draw_glyph<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    item: &LegendItem,
    x: i32,
    y: i32,
    h: i32,
) -> Res {
    let c = item.color;
    let mid = y + h / 2;
    let w = GLYPH_W as i32;
    match item.glyph {
        Glyph::Line => area
            .draw(&PathElement::new(
                vec![(x, mid), (x + w, mid)],
                c.stroke_width(3),
            ))
            .map_err(de),
        Glyph::Dashed => {
            for k in 0..3 {
                let x0 = x + k * 13;
                area.draw(&PathElement::new(
                    vec![(x0, mid), (x0 + 8, mid)],
                    c.stroke_width(3),
                ))
                .map_err(de)?;
            }
            Ok(())
        }
        Glyph::Band => {
            area.draw(&Rectangle::new(
                [(x, mid - 8), (x + w, mid + 8)],
                c.mix(0.2).filled(),
            ))
            .map_err(de)?;
            area.draw(&PathElement::new(
                vec![(x, mid), (x + w, mid)],
                c.stroke_width(3),
            ))
            .map_err(de)
        }
        Glyph::Dot => area
            .draw(&Circle::new((x + w / 2, mid), 5, c.filled()))
            .map_err(de),
        Glyph::Block => area
            .draw(&Rectangle::new(
                [(x + 4, mid - 9), (x + w - 4, mid + 9)],
                c.filled(),
            ))
            .map_err(de),
        Glyph::Whisker => {
            area.draw(&PathElement::new(
                vec![(x + w / 2, mid - 9), (x + w / 2, mid + 9)],
                c.stroke_width(3),
            ))
            .map_err(de)?;
            area.draw(&Circle::new((x + w / 2, mid), 5, c.filled()))
                .map_err(de)
        }
    }
}

/// Draws the title, subtitle and legend; returns the area below them.
fn draw_header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart,
) -> Res<DrawingArea<DB, Shift>> {
    let header = layout_header(chart);
    let centre = (WIDTH / 2) as i32;
    let mut y = 16;
    root.draw_text(
        &chart.title,
        &font(TITLE).pos(Pos::new(HPos::Center, VPos::Top)),
        (centre, y),
    )
    .map_err(de)?;
    y += (TITLE + 10) as i32;
    for line in &header.subtitle {
        root.draw_text(
            line,
            &font(SUBTITLE)
                .color(&RGBColor(80, 80, 80))
                .pos(Pos::new(HPos::Center, VPos::Top)),
            (centre, y),
        )
        .map_err(de)?;
        y += (SUBTITLE + 7) as i32;
    }
    if !header.legend.is_empty() {
        y += 8;
    }
    for (items, width) in &header.legend {
        let mut x = centre - (*width / 2) as i32;
        for &i in items {
            let item = &chart.legend[i];
            draw_glyph(root, item, x, y, LEGEND as i32)?;
            root.draw_text(
                &item.label,
                &font(LEGEND).pos(Pos::new(HPos::Left, VPos::Center)),
                (x + GLYPH_W as i32 + 8, y + LEGEND as i32 / 2),
            )
            .map_err(de)?;
            x += (legend_item_width(item) + ITEM_GAP) as i32;
        }
        y += (LEGEND + 14) as i32;
    }
    Ok(root.split_vertically(header.height).1)
}

/// The lines of a panel title in a cell `width` pixels wide.
fn title_lines(title: &str, width: u32) -> Vec<String> {
    if title.is_empty() {
        Vec::new()
    } else {
        wrap(title, PANEL_TITLE, width.saturating_sub(40))
    }
}

/// Draws a (wrapped) panel title, taking the height of at least `min_lines` lines so that
/// panels side by side line up; returns the area below it.
fn panel_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    min_lines: usize,
) -> Res<DrawingArea<DB, Shift>> {
    let (w, _) = area.dim_in_pixel();
    let lines = title_lines(title, w);
    let n = lines.len().max(min_lines);
    if n == 0 {
        return Ok(area.clone());
    }
    let mut y = 8;
    for line in &lines {
        area.draw_text(
            line,
            &font(PANEL_TITLE).pos(Pos::new(HPos::Center, VPos::Top)),
            ((w / 2) as i32, y),
        )
        .map_err(de)?;
        y += (PANEL_TITLE + 5) as i32;
    }
    Ok(area
        .split_vertically(8 + n as i32 * (PANEL_TITLE + 5) as i32 + 4)
        .1)
}

/// Month key points for an axis `width` pixels wide: every 1, 2, 3, 6, 12 or 24 months,
/// aligned on January.
fn month_ticks(lo: f64, hi: f64, width: u32) -> Vec<f64> {
    let first = lo.ceil() as i32;
    let last = hi.floor() as i32;
    let span = (last - first).max(1);
    let fit = (width / 92).max(2) as i32;
    let step = [1, 2, 3, 6, 12, 24, 60]
        .into_iter()
        .find(|s| span / s < fit)
        .unwrap_or(120);
    (first..=last)
        .filter(|m| m.rem_euclid(step) == 0)
        .map(f64::from)
        .collect()
}

/// Merges markers closer than `gap` months into one, their labels joined.
fn merge_markers(markers: &[Marker], gap: f64) -> Vec<Marker> {
    let mut sorted = markers.to_vec();
    sorted.sort_by(|a, b| a.x.total_cmp(&b.x));
    let mut out: Vec<Marker> = Vec::new();
    for m in sorted {
        match out.last_mut() {
            Some(last) if m.x - last.x < gap => {
                if !last.label.split(" / ").any(|l| l == m.label) {
                    last.label = format!("{} / {}", last.label, m.label);
                }
            }
            _ => out.push(m),
        }
    }
    out
}

/// The x range of a time panel: as given, else the months its data cover.
fn time_range(p: &TimePanel) -> (f64, f64) {
    let xs = p
        .traces
        .iter()
        .flat_map(|t| t.points.iter().map(|q| q.0))
        .chain(p.observed.iter().map(|o| o.0))
        .chain(p.observed_in.iter().flat_map(|o| o.1.iter().map(|q| q.0)));
    let (mut lo, mut hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 12.0);
    }
    p.x_range.unwrap_or_else(|| {
        let (a, b) = (lo.floor(), hi.ceil());
        // A lone period gets some room either side.
        if b - a < 6.0 {
            (a - 3.0, b + 3.0)
        } else {
            (a, b)
        }
    })
}

/// Margins of a time panel's plot, left (with the y labels) and right, in pixels.
const TIME_LEFT: u32 = 8 + Y_AREA;
const TIME_RIGHT: u32 = 40;

/// A marker of a panel: its x on the axis and the pixel x of its line, and where its label
/// goes above the plot, if it has room: the pixel x the label starts at, its row, the text.
#[derive(Debug, Clone)]
struct Placed {
    x: f64,
    px: i32,
    label: Option<(i32, usize, String)>,
}

/// The most rows of labels above a panel. A label that fits in none is left out (its line
/// stays), so that labels never squeeze the plot: a calibration capped at every
/// generation marks each one.
const LABEL_ROWS: usize = 3;

/// Height of a row of labels, in pixels.
const LABEL_ROW_H: i32 = (NOTE + 6) as i32;

/// Where the marker labels of a time panel `w` pixels wide go, in rows that do not
/// overlap; and the number of rows.
fn marker_layout(p: &TimePanel, w: u32) -> (Vec<Placed>, usize) {
    let (lo, hi) = time_range(p);
    let markers: Vec<Marker> = merge_markers(&p.markers, 0.6)
        .into_iter()
        .filter(|m| m.x > lo && m.x < hi)
        .collect();
    label_rows(&markers, (lo, hi), (TIME_LEFT, TIME_RIGHT), w)
}

/// Rows for the labels of `markers` (in order of x) on an axis from `range.0` to `range.1`
/// drawn between `margins.0` pixels from the left and `margins.1` from the right of `w`,
/// at most [`LABEL_ROWS`]. Each label goes beside its line (right of it where it fits,
/// else left), in the first row and side where it overlaps no label, its line (which runs
/// down to the plot) crosses no label below it and no line from a row above crosses it;
/// where no place is that clear, in the first where it overlaps no label (a line may cross
/// it); where none is, it is left out. Returns the markers and the number of rows used.
fn label_rows(
    markers: &[Marker],
    (lo, hi): (f64, f64),
    (left, right): (u32, u32),
    w: u32,
) -> (Vec<Placed>, usize) {
    let plot_w = f64::from(w.saturating_sub(left + right).max(1));
    let px = |x: f64| left as i32 + ((x - lo) / (hi - lo) * plot_w).round() as i32;
    // The labels placed so far: row, line, and the span of the text.
    let mut spans: Vec<(usize, i32, i32, i32)> = Vec::new();
    let mut placed = Vec::new();
    for m in markers {
        let x = px(m.x);
        let tw = text_width(&m.label, NOTE) as i32;
        let (right_x0, left_x0) = (x + 4, x - 4 - tw);
        let mut sides = Vec::new();
        if right_x0 + tw <= w as i32 - 4 {
            sides.push(right_x0);
        }
        if left_x0 >= 0 || sides.is_empty() {
            sides.push(left_x0);
        }
        // (no label overlapped, no line crosses a label) for a row and a start.
        let clear = |r: usize, x0: i32| {
            let x1 = x0 + tw;
            let mut apart = true;
            let mut uncrossed = true;
            for &(row, line, a, b) in &spans {
                apart &= !(row == r && a <= x1 + 10 && x0 <= b + 10);
                uncrossed &= !(row > r && a - 2 <= x && x <= b + 2);
                uncrossed &= !(row < r && x0 - 2 <= line && line <= x1 + 2);
            }
            (apart, uncrossed)
        };
        let places: Vec<(usize, i32)> = (0..LABEL_ROWS)
            .flat_map(|r| sides.iter().map(move |&x0| (r, x0)))
            .collect();
        let chosen = places
            .iter()
            .find(|&&(r, x0)| clear(r, x0) == (true, true))
            .or_else(|| places.iter().find(|&&(r, x0)| clear(r, x0).0));
        let label = chosen.map(|&(row, x0)| {
            spans.push((row, x, x0, x0 + tw));
            (x0, row, m.label.clone())
        });
        placed.push(Placed {
            x: m.x,
            px: x,
            label,
        });
    }
    let rows = spans.iter().map(|s| s.0 + 1).max().unwrap_or(0);
    (placed, rows)
}

/// Draws the labels of `placed` markers in a strip of `rows` rows at the top of `area`, each
/// with a line down to the plot, so that they never cover the data; returns the area below
/// the strip, for the plot.
fn draw_marker_strip<DB: DrawingBackend>(
    area: DrawingArea<DB, Shift>,
    placed: &[Placed],
    rows: usize,
) -> Res<DrawingArea<DB, Shift>> {
    if rows == 0 {
        return Ok(area);
    }
    let strip_h = rows as i32 * LABEL_ROW_H + 4;
    let (strip, rest) = area.split_vertically(strip_h);
    for p in placed {
        let Some((x0, row, label)) = &p.label else {
            continue;
        };
        let y = *row as i32 * LABEL_ROW_H + 2;
        strip
            .draw_text(
                label,
                &font(NOTE).color(&MARK).pos(Pos::new(HPos::Left, VPos::Top)),
                (*x0, y),
            )
            .map_err(de)?;
        strip
            .draw(&PathElement::new(
                vec![(p.px, y), (p.px, strip_h)],
                MARK.stroke_width(1),
            ))
            .map_err(de)?;
    }
    Ok(rest)
}

/// Draws a time panel; `pad` is the least (title lines, marker rows) to leave room for,
/// so that the plots of panels side by side line up.
fn draw_time<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &TimePanel,
    pad: (usize, usize),
) -> Res {
    let area = panel_title(area, &p.title, pad.0)?;
    let (lo, hi) = time_range(p);
    let data_max = p
        .traces
        .iter()
        .flat_map(|t| t.points.iter().map(|q| q.3.max(q.2)))
        .chain(p.observed.iter().map(|o| o.1))
        .chain(p.observed_in.iter().flat_map(|o| o.1.iter().map(|q| q.1)))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let ymax = p
        .y_max
        .unwrap_or(if data_max > 0.0 { data_max * 1.08 } else { 1.0 });
    let (w, _) = area.dim_in_pixel();
    let plot_w = f64::from(w.saturating_sub(TIME_LEFT + TIME_RIGHT).max(1));
    let (placed, rows) = marker_layout(p, w);
    let rows = rows.max(pad.1);
    let area = draw_marker_strip(area, &placed, rows)?;
    let ticks = month_ticks(lo, hi, plot_w as u32);
    let frame = Frame {
        left: 8,
        right: TIME_RIGHT,
        top: if rows == 0 { 6 } else { 0 },
        y_area: Y_AREA,
    };
    let mut chart = frame.build(&area, keyed(lo..hi, ticks), 0.0..ymax)?;
    house_style(&mut chart.configure_mesh(), TICK)
        .x_label_formatter(&|x| month_label(*x))
        .y_label_formatter(&|v| fmt_number(*v, ymax))
        .y_labels(7)
        .x_desc("month")
        .y_desc(&p.y_label)
        .draw()
        .map_err(de)?;
    for &Placed { x, .. } in &placed {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, 0.0), (x, ymax)],
                6,
                4,
                MARK.stroke_width(1),
            ))
            .map_err(de)?;
    }
    // Points without a number (no replicate gave one) are left out.
    let finite = |t: &Trace| -> Vec<(f64, f64, f64, f64)> {
        t.points
            .iter()
            .copied()
            .filter(|q| q.0.is_finite() && q.2.is_finite())
            .map(|q| {
                let or_mid = |v: f64| if v.is_finite() { v } else { q.2 };
                (q.0, or_mid(q.1), q.2, or_mid(q.3))
            })
            .collect()
    };
    for t in p.traces.iter().filter(|t| t.band) {
        let points = finite(t);
        if points.len() > 1 {
            let mut poly: Vec<(f64, f64)> = points.iter().map(|q| (q.0, q.1)).collect();
            poly.extend(points.iter().rev().map(|q| (q.0, q.3)));
            put(&mut chart, Polygon::new(poly, t.color.mix(0.16).filled()))?;
        }
    }
    for t in &p.traces {
        let points = finite(t);
        let style = t.color.stroke_width(if t.dashed { 2 } else { 3 });
        let line = points.iter().map(|q| (q.0, q.2));
        if t.dashed {
            chart
                .draw_series(DashedLineSeries::new(line, 9, 6, style))
                .map_err(de)?;
        } else {
            chart
                .draw_series(LineSeries::new(line, style))
                .map_err(de)?;
        }
        if points.len() < 4 {
            // Few points: show each one, with its interval.
            for q in &points {
                if t.band {
                    put(
                        &mut chart,
                        PathElement::new(vec![(q.0, q.1), (q.0, q.3)], t.color.stroke_width(3)),
                    )?;
                }
                put(&mut chart, Circle::new((q.0, q.2), 5, t.color.filled()))?;
            }
        }
    }
    chart
        .draw_series(
            p.observed
                .iter()
                .filter(|o| o.1.is_finite())
                .map(|&(x, y)| Circle::new((x, y), 5, BLACK.filled())),
        )
        .map_err(de)?;
    for (color, points) in &p.observed_in {
        for &(x, y) in points.iter().filter(|o| o.1.is_finite()) {
            put(&mut chart, Circle::new((x, y), 6, BLACK.filled()))?;
            put(&mut chart, Circle::new((x, y), 4, color.filled()))?;
        }
    }
    Ok(())
}

fn draw_intervals<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &IntervalPanel,
    title_pad: usize,
) -> Res {
    let area = panel_title(area, &p.title, title_pad)?;
    let n = p.categories.len().max(1);
    let has_obs = p.observed.iter().any(Option::is_some);
    let slots = p.series.len() + usize::from(has_obs);
    let offset = |j: usize| -0.36 + (j as f64 + 0.5) * 0.72 / slots.max(1) as f64;
    let top = p
        .series
        .iter()
        .flat_map(|s| s.1.iter().map(|v| v.2.max(v.1)))
        .chain(p.observed.iter().flatten().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let ymax = if top > 0.0 { top * 1.12 } else { 1.0 };
    // A few periods in a wide panel keep the proportions they have in a narrow one,
    // centred, rather than stretching their whiskers across the page.
    let plot_w = f64::from(area.dim_in_pixel().0.saturating_sub(8 + 20 + Y_AREA));
    let mut chart = CategoryAxes {
        frame: Frame {
            left: 8,
            right: 20,
            top: 6,
            y_area: Y_AREA,
        },
        categories: &p.categories,
        pad: ((plot_w / MAX_CATEGORY_W - n as f64) / 2.0).max(0.0),
        x_desc: "period",
        y_desc: &p.y_label,
        ymax,
        y_labels: 7,
        tick: TICK,
    }
    .draw(&area)?;
    for (i, obs) in p.observed.iter().enumerate() {
        if let Some(v) = obs.filter(|v| v.is_finite()) {
            put(
                &mut chart,
                Circle::new((i as f64 + offset(0), v), 7, BLACK.filled()),
            )?;
        }
    }
    for (j, (color, values)) in p.series.iter().enumerate() {
        let dx = offset(j + usize::from(has_obs));
        for (i, &(lo, mid, hi)) in values.iter().enumerate() {
            if !mid.is_finite() {
                continue;
            }
            let (lo, hi) = (
                if lo.is_finite() { lo } else { mid },
                if hi.is_finite() { hi } else { mid },
            );
            let x = i as f64 + dx;
            let cap = 0.22 / slots.max(1) as f64;
            for path in [
                vec![(x, lo), (x, hi)],
                vec![(x - cap, lo), (x + cap, lo)],
                vec![(x - cap, hi), (x + cap, hi)],
            ] {
                put(&mut chart, PathElement::new(path, color.stroke_width(3)))?;
            }
            put(&mut chart, Circle::new((x, mid), 6, color.filled()))?;
        }
    }
    Ok(())
}

/// A range around `values` (and zero, if `zero`), a little wider.
fn padded(values: impl Iterator<Item = f64>, zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = if zero {
        (0.0f64, 0.0f64)
    } else {
        (f64::INFINITY, f64::NEG_INFINITY)
    };
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (
        if zero && lo == 0.0 {
            0.0
        } else {
            lo - span * 0.06
        },
        hi + span * 0.1,
    )
}

fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &BarPanel,
    title_pad: usize,
) -> Res {
    let area = panel_title(area, &p.title, title_pad)?;
    let n = p.categories.len().max(1);
    let k = p.series.len().max(1);
    let (lo, hi) = padded(
        p.series
            .iter()
            .flat_map(|s| s.1.iter().flat_map(|v| [v.0, v.1, v.2])),
        true,
    );
    let keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let frame = Frame {
        left: 8,
        right: 20,
        top: 6,
        y_area: Y_AREA,
    };
    let mut chart = frame.build(&area, keyed(-0.5..n as f64 - 0.5, keys), lo..hi)?;
    let category = |x: &f64| {
        p.categories
            .get(x.round().max(0.0) as usize)
            .cloned()
            .unwrap_or_default()
    };
    house_style(&mut chart.configure_mesh(), TICK)
        .x_label_formatter(&category)
        .y_label_formatter(&|v| fmt_number(*v, hi - lo))
        .y_labels(7)
        .y_desc(&p.y_label)
        .disable_x_mesh()
        .draw()
        .map_err(de)?;
    put(
        &mut chart,
        PathElement::new(
            vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
            INK.stroke_width(1),
        ),
    )?;
    let width = 0.8 / k as f64;
    for (j, (color, values)) in p.series.iter().enumerate() {
        for (i, &(v, a, b)) in values.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let x0 = i as f64 - 0.4 + j as f64 * width;
            let xc = x0 + width / 2.0;
            put(
                &mut chart,
                Rectangle::new(
                    [(x0 + width * 0.08, 0.0), (x0 + width * 0.92, v)],
                    color.mix(0.85).filled(),
                ),
            )?;
            if a.is_finite() && b.is_finite() {
                let cap = width * 0.18;
                for path in [
                    vec![(xc, a), (xc, b)],
                    vec![(xc - cap, a), (xc + cap, a)],
                    vec![(xc - cap, b), (xc + cap, b)],
                ] {
                    put(&mut chart, PathElement::new(path, INK.stroke_width(2)))?;
                }
            }
        }
    }
    Ok(())
}

/// A tick label on an axis spanning `span`: thousands separated for large spans, else
/// enough decimals to tell ticks about a tenth of the span apart.
fn fmt_axis(v: f64, span: f64) -> String {
    if span >= 10.0 || !span.is_finite() || span <= 0.0 {
        return fmt_number(v, span.max(10.0));
    }
    let decimals = (-(span / 10.0).log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// The x range of a numeric-x panel: as given, else what its data and marks cover.
fn xy_range(p: &XyPanel) -> (f64, f64) {
    let xs = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|q| q.0))
        .chain(
            p.bars
                .iter()
                .flat_map(|b| b.1.iter().flat_map(|q| [q.0, q.1])),
        )
        .chain(p.marks.iter().map(|m| m.x))
        .filter(|x| x.is_finite());
    let (mut x0, mut x1) = p.x_range.unwrap_or_else(|| {
        xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        })
    });
    if !(x0.is_finite() && x1.is_finite()) {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 <= x0 {
        (x0, x1) = (x0 - 0.5, x0 + 0.5);
    }
    if p.integer_x {
        (x0, x1) = (x0 - 0.5, x1 + 0.5);
    }
    (x0, x1)
}

/// Margins of a numeric-x panel's plot, left (with the y labels) and right, in pixels.
const XY_LEFT: u32 = 8 + Y_AREA;
const XY_RIGHT: u32 = 30;

/// Where the marks' labels of a numeric-x panel `w` pixels wide go, in rows above the
/// plot, none over another (a tight posterior's 5%, mean and 95% are pixels apart); and
/// the number of rows.
fn xy_mark_layout(p: &XyPanel, w: u32) -> (Vec<Placed>, usize) {
    let (x0, x1) = xy_range(p);
    let mut marks: Vec<Marker> = p
        .marks
        .iter()
        .filter(|m| m.x.is_finite() && m.x >= x0 && m.x <= x1)
        .cloned()
        .collect();
    marks.sort_by(|a, b| a.x.total_cmp(&b.x));
    label_rows(&marks, (x0, x1), (XY_LEFT, XY_RIGHT), w)
}

/// Draws a panel of values against a numeric x; `pad` as for time panels.
fn draw_xy<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &XyPanel,
    pad: (usize, usize),
) -> Res {
    let area = panel_title(area, &p.title, pad.0)?;
    let (x0, x1) = xy_range(p);
    let ys = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|q| q.1))
        .chain(p.bars.iter().flat_map(|b| b.1.iter().map(|q| q.2)))
        .filter(|y| y.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
        (a.min(y), b.max(y))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo.min(0.0), hi.max(0.0))
    } else {
        (0.0, 1.0)
    };
    let top = if hi > lo {
        hi + (hi - lo) * 0.08
    } else {
        lo + 1.0
    };
    let x_span = x1 - x0;
    let (placed, rows) = xy_mark_layout(p, area.dim_in_pixel().0);
    let rows = rows.max(pad.1);
    let area = draw_marker_strip(area, &placed, rows)?;
    let frame = Frame {
        left: XY_LEFT - Y_AREA,
        right: XY_RIGHT,
        top: if rows == 0 { 6 } else { 0 },
        y_area: Y_AREA,
    };
    let mut chart = frame.build(&area, x0..x1, lo..top)?;
    let integer = p.integer_x;
    house_style(&mut chart.configure_mesh(), TICK)
        .x_label_formatter(&|v| {
            if integer {
                format!("{}", v.round() as i64)
            } else {
                fmt_axis(*v, x_span)
            }
        })
        .y_label_formatter(&|v| fmt_axis(*v, top - lo))
        .x_labels(if integer {
            (x_span as usize + 1).min(12)
        } else {
            9
        })
        .y_labels(7)
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .draw()
        .map_err(de)?;
    for (color, bars) in &p.bars {
        for &(a, b, h) in bars.iter().filter(|q| q.2.is_finite() && q.2 > 0.0) {
            put(
                &mut chart,
                Rectangle::new([(a, 0.0), (b, h)], color.mix(0.55).filled()),
            )?;
            put(
                &mut chart,
                Rectangle::new([(a, 0.0), (b, h)], color.stroke_width(1)),
            )?;
        }
    }
    for &Placed { x, .. } in &placed {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, lo), (x, top)],
                6,
                4,
                MARK.stroke_width(1),
            ))
            .map_err(de)?;
    }
    for s in &p.series {
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|q| q.0.is_finite() && q.1.is_finite())
            .collect();
        if s.line && points.len() > 1 {
            chart
                .draw_series(LineSeries::new(points.clone(), s.color.stroke_width(3)))
                .map_err(de)?;
        }
        if s.dots {
            for q in &points {
                put(&mut chart, Circle::new(*q, 4, s.color.filled()))?;
            }
        }
    }
    Ok(())
}

fn draw_scatter<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &ScatterPanel,
    title_pad: usize,
) -> Res {
    let area = panel_title(area, &p.title, title_pad)?;
    let pts: Vec<(f64, f64)> = p
        .points
        .iter()
        .copied()
        .filter(|q| q.0.is_finite() && q.1.is_finite())
        .collect();
    let (x0, x1) = padded(pts.iter().map(|q| q.0), false);
    let (y0, y1) = padded(pts.iter().map(|q| q.1), false);
    let frame = Frame {
        left: 8,
        right: 24,
        top: 6,
        y_area: Y_AREA,
    };
    let mut chart = frame.build(&area, x0..x1, y0..y1)?;
    // Thousands that vary by a few read as whole numbers; fractions keep their decimals.
    let scale = |lo: f64, hi: f64| (hi - lo).max(lo.abs().min(hi.abs()));
    let (sx, sy) = (scale(x0, x1), scale(y0, y1));
    house_style(&mut chart.configure_mesh(), TICK)
        .x_label_formatter(&|v| fmt_number(*v, sx))
        .y_label_formatter(&|v| fmt_number(*v, sy))
        .x_labels(6)
        .y_labels(7)
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .draw()
        .map_err(de)?;
    let color = p.color.unwrap_or(PALETTE[0]);
    let alpha = if pts.len() > 400 { 0.35 } else { 0.7 };
    chart
        .draw_series(
            pts.iter()
                .map(|&q| Circle::new(q, 4, color.mix(alpha).filled())),
        )
        .map_err(de)?;
    Ok(())
}

fn draw_empty<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    note: &str,
    title_pad: usize,
) -> Res {
    let area = panel_title(area, title, title_pad)?;
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(20, 10), (w as i32 - 20, h as i32 - 20)],
        GRID.stroke_width(1),
    ))
    .map_err(de)?;
    area.draw_text(
        note,
        &font(AXIS)
            .color(&MARK)
            .pos(Pos::new(HPos::Center, VPos::Center)),
        ((w / 2) as i32, (h / 2) as i32),
    )
    .map_err(de)
}

/// Black or white, whichever reads better on `c`.
fn ink_on(c: RGBColor) -> RGBColor {
    let lum = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if lum > 140.0 { INK } else { WHITE }
}

fn draw_stacked<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &StackedBars) -> Res {
    let (w, _) = area.dim_in_pixel();
    let legend_w = 360;
    let (plot, legend) = area.split_horizontally(w - legend_w);
    let n = s.categories.len().max(1);
    let value = |seg: &Segment, i: usize| {
        seg.values
            .get(i)
            .copied()
            .filter(|v| v.is_finite())
            .unwrap_or(0.0)
            .max(0.0)
    };
    let totals: Vec<f64> = (0..n)
        .map(|i| s.segments.iter().map(|seg| value(seg, i)).sum())
        .collect();
    let apart_top = s
        .apart
        .iter()
        .flat_map(|seg| (0..n).map(|i| value(seg, i)))
        .fold(0.0f64, f64::max);
    let top = totals.iter().copied().fold(apart_top, f64::max);
    let ymax = if top > 0.0 { top * 1.1 } else { 1.0 };
    let mut chart = CategoryAxes {
        frame: Frame {
            left: 8,
            right: 100,
            top: 10,
            y_area: 110,
        },
        categories: &s.categories,
        pad: 0.0,
        x_desc: "variant",
        y_desc: &s.y_label,
        ymax,
        y_labels: 8,
        tick: TICK + 1,
    }
    .draw(&plot)?;
    let half = 0.21;
    let px_per_unit = f64::from(chart.plotting_area().dim_in_pixel().1) / ymax;
    let fits = |v: f64| v * px_per_unit >= f64::from(NOTE + 6);
    for (i, total) in totals.iter().enumerate() {
        let x = i as f64;
        let mut bottom = 0.0;
        // Segments too thin for their value get a label beside the bar: (y, text).
        let mut beside: Vec<(f64, String)> = Vec::new();
        for seg in &s.segments {
            let v = value(seg, i);
            if v <= 0.0 {
                continue;
            }
            let top = bottom + v;
            put(
                &mut chart,
                Rectangle::new([(x - half, bottom), (x + half, top)], seg.color.filled()),
            )?;
            put(
                &mut chart,
                Rectangle::new([(x - half, bottom), (x + half, top)], WHITE.stroke_width(1)),
            )?;
            if fits(v) {
                put(
                    &mut chart,
                    Text::new(
                        fmt_number(v, ymax),
                        (x, bottom + v / 2.0),
                        font(NOTE + 1)
                            .color(&ink_on(seg.color))
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ),
                )?;
            } else {
                beside.push((
                    bottom + v / 2.0,
                    format!("{} {}", seg.short, fmt_number(v, ymax)),
                ));
            }
            bottom = top;
        }
        // Spread the side labels so that they do not overlap, keeping them near their
        // segments, with a leader line from the bar.
        let gap = f64::from(NOTE + 3) / px_per_unit;
        let mut ys: Vec<f64> = beside.iter().map(|b| b.0).collect();
        for k in 1..ys.len() {
            ys[k] = ys[k].max(ys[k - 1] + gap);
        }
        for ((y0, text), y) in beside.iter().zip(&ys) {
            let dy = -((y - y0) * px_per_unit).round() as i32;
            put(
                &mut chart,
                EmptyElement::at((x + half, *y0))
                    + PathElement::new(vec![(0, 0), (10, dy)], MARK.stroke_width(1))
                    + Text::new(
                        text.clone(),
                        (13, dy),
                        font(NOTE).pos(Pos::new(HPos::Left, VPos::Center)),
                    ),
            )?;
        }
        let label_top = ys.last().map_or(0.0, |y| *y + gap / 2.0);
        put(
            &mut chart,
            EmptyElement::at((x, total.max(label_top)))
                + Text::new(
                    format!("total {}", fmt_number(*total, ymax)),
                    (0, -6),
                    font(TICK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                ),
        )?;
        // Bars in another unit, thin, to the left of the stack, each with its value.
        for (k, seg) in s.apart.iter().enumerate() {
            let v = value(seg, i);
            let right = x - half - 0.03 - 0.09 * k as f64;
            let left = right - 0.07;
            put(
                &mut chart,
                Rectangle::new([(left, 0.0), (right, v)], seg.color.filled()),
            )?;
            put(
                &mut chart,
                EmptyElement::at(((left + right) / 2.0, v))
                    + Text::new(
                        fmt_number(v, ymax),
                        (0, -4),
                        font(NOTE).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    ),
            )?;
        }
    }
    draw_segment_legend(&legend, &s.segments, &s.apart)
}

/// The legend of stacked bars, beside them, top to bottom as the segments are stacked,
/// then the bars apart from the stacks.
fn draw_segment_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    segments: &[Segment],
    apart: &[Segment],
) -> Res {
    let mut y = 40;
    for seg in segments.iter().rev().chain(apart) {
        let lines = wrap(&seg.label, LEGEND, area.dim_in_pixel().0 - GLYPH_W - 30);
        let item = LegendItem {
            label: String::new(),
            color: seg.color,
            glyph: Glyph::Block,
        };
        draw_glyph(area, &item, 10, y, LEGEND as i32)?;
        for (k, line) in lines.iter().enumerate() {
            area.draw_text(
                line,
                &font(LEGEND).pos(Pos::new(HPos::Left, VPos::Center)),
                (
                    10 + GLYPH_W as i32 + 8,
                    y + LEGEND as i32 / 2 + k as i32 * (LEGEND as i32 + 4),
                ),
            )
            .map_err(de)?;
        }
        y += lines.len().max(1) as i32 * (LEGEND as i32 + 4) + 14;
    }
    Ok(())
}

fn fmt_share(v: f64, percent: bool) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if percent {
        if (v * 100.0).abs() < 0.5 {
            "0%".into()
        } else {
            format!("{:+.0}%", v * 100.0)
        }
    } else {
        format!("{v:+.2}")
    }
}

fn draw_whiskers<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, wb: &WhiskerBars) -> Res {
    let g = wb.groups.len().max(1);
    let k = wb.series.len().max(1);
    let finite = |v: f64| v.is_finite().then_some(v);
    let values: Vec<f64> = wb
        .series
        .iter()
        .flat_map(|s| s.1.iter().flat_map(|v| [v.0, v.1, v.2]))
        .filter_map(finite)
        .collect();
    let lo = values.iter().copied().fold(0.0f64, f64::min);
    let hi = values.iter().copied().fold(0.0f64, f64::max);
    let span = (hi - lo).max(1e-9);
    let (lo, hi) = (lo - span * 0.05, hi + span * 0.14);
    let keys: Vec<f64> = (0..g).map(|i| i as f64).collect();
    let label_w = wb
        .groups
        .iter()
        .map(|l| text_width(l, TICK + 1))
        .max()
        .unwrap_or(100)
        + 24;
    let frame = Frame {
        left: 12,
        right: 30,
        top: 10,
        y_area: label_w,
    };
    let mut chart = frame.build(area, lo..hi, keyed(-0.5..g as f64 - 0.5, keys))?;
    let percent = wb.percent;
    house_style(&mut chart.configure_mesh(), TICK + 1)
        .x_label_formatter(&|v| {
            if percent {
                format!("{:.0}%", v * 100.0)
            } else {
                format!("{v:.2}")
            }
        })
        .y_label_formatter(&|y| {
            let i = g as i64 - 1 - y.round() as i64;
            wb.groups
                .get(i.max(0) as usize)
                .cloned()
                .unwrap_or_default()
        })
        .x_labels(10)
        .x_desc(&wb.x_label)
        .disable_y_mesh()
        .draw()
        .map_err(de)?;
    // Separators between groups.
    for i in 1..g {
        let y = i as f64 - 0.5;
        put(
            &mut chart,
            PathElement::new(vec![(lo, y), (hi, y)], GRID.stroke_width(1)),
        )?;
    }
    put(
        &mut chart,
        PathElement::new(
            vec![(0.0, -0.5), (0.0, g as f64 - 0.5)],
            INK.stroke_width(1),
        ),
    )?;
    let band = 0.8 / k as f64;
    for (j, (color, vals)) in wb.series.iter().enumerate() {
        for (gi, &(mean, p05, p95)) in vals.iter().enumerate() {
            let yc = (g - 1 - gi) as f64 + 0.4 - (j as f64 + 0.5) * band;
            let h = band * 0.36;
            if !mean.is_finite() {
                put(
                    &mut chart,
                    Text::new(
                        "n/a (no displacement)".to_string(),
                        (0.0, yc),
                        font(NOTE)
                            .color(&MARK)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    ),
                )?;
                continue;
            }
            put(
                &mut chart,
                Rectangle::new([(0.0, yc - h), (mean, yc + h)], color.mix(0.85).filled()),
            )?;
            let (a, b) = (
                if p05.is_finite() { p05 } else { mean },
                if p95.is_finite() { p95 } else { mean },
            );
            for path in [
                vec![(a, yc), (b, yc)],
                vec![(a, yc - h * 0.7), (a, yc + h * 0.7)],
                vec![(b, yc - h * 0.7), (b, yc + h * 0.7)],
            ] {
                put(&mut chart, PathElement::new(path, INK.stroke_width(2)))?;
            }
            let right = a.max(b).max(mean).max(0.0);
            put(
                &mut chart,
                EmptyElement::at((right, yc))
                    + Text::new(
                        fmt_share(mean, percent),
                        (7, 0),
                        font(NOTE).pos(Pos::new(HPos::Left, VPos::Center)),
                    ),
            )?;
        }
    }
    Ok(())
}

fn draw_chart<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, chart: &Chart) -> Res {
    root.fill(&WHITE).map_err(de)?;
    let body = draw_header(&root, chart)?;
    match &chart.body {
        Body::Grid(rows) => {
            let areas = body.split_evenly((rows.len().max(1), 1));
            for (row, area) in rows.iter().zip(&areas) {
                let cells = area.split_evenly((1, row.len().max(1)));
                // Panels side by side leave the same room for titles and marker labels,
                // so that their plots line up.
                let mut pad = (0, 0);
                for (panel, cell) in row.iter().zip(&cells) {
                    let w = cell.dim_in_pixel().0;
                    let (title, rows) = match panel {
                        Panel::Time(p) => (&p.title, marker_layout(p, w).1),
                        Panel::Intervals(p) => (&p.title, 0),
                        Panel::Bars(p) => (&p.title, 0),
                        Panel::Scatter(p) => (&p.title, 0),
                        Panel::Xy(p) => (&p.title, xy_mark_layout(p, w).1),
                        Panel::Empty { title, .. } => (title, 0),
                    };
                    pad = (pad.0.max(title_lines(title, w).len()), pad.1.max(rows));
                }
                for (panel, cell) in row.iter().zip(&cells) {
                    match panel {
                        Panel::Time(p) => draw_time(cell, p, pad)?,
                        Panel::Intervals(p) => draw_intervals(cell, p, pad.0)?,
                        Panel::Bars(p) => draw_bars(cell, p, pad.0)?,
                        Panel::Scatter(p) => draw_scatter(cell, p, pad.0)?,
                        Panel::Xy(p) => draw_xy(cell, p, pad)?,
                        Panel::Empty { title, note } => draw_empty(cell, title, note, pad.0)?,
                    }
                }
            }
        }
        Body::Stacked(s) => draw_stacked(&body, s)?,
        Body::Whiskers(w) => draw_whiskers(&body, w)?,
    }
    root.present().map_err(de)
}

/// Writes `stem.png` and `stem.svg` into `dir`; returns their file names.
pub fn save(chart: &Chart, dir: &Path, stem: &str) -> Result<Vec<String>> {
    register_font();
    let size = chart.size();
    let (png, svg) = (format!("{stem}.png"), format!("{stem}.svg"));
    let path = dir.join(&png);
    let bitmap = Glyphs::new(BitMapBackend::new(&path, size), FONT);
    draw_chart(bitmap.into_drawing_area(), chart).map_err(failed(&path))?;
    let path = dir.join(&svg);
    draw_chart(SVGBackend::new(&path, size).into_drawing_area(), chart).map_err(failed(&path))?;
    Ok(vec![png, svg])
}

fn failed(path: &Path) -> impl FnOnce(String) -> Error + '_ {
    move |message| Error::Output {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::present::chart::date_x;
    use crate::util::date::Date;

    #[test]
    fn axis_labels_tell_ticks_apart() {
        assert_eq!(fmt_axis(0.0025, 0.0035), "0.0025");
        assert_eq!(fmt_axis(0.02, 0.09), "0.020");
        assert_eq!(fmt_axis(0.12, 0.13), "0.12");
        assert_eq!(fmt_axis(3.0, 5.0), "3.0");
        assert_eq!(fmt_axis(1234.0, 5000.0), "1,234");
    }

    #[test]
    fn shares_read_as_percentages() {
        assert_eq!(fmt_share(1.0912, true), "+109%");
        assert_eq!(fmt_share(-0.004, true), "0%");
    }

    /// The labels placed: row, line, and the span of the text.
    fn spans(placed: &[Placed]) -> Vec<(usize, i32, i32, i32)> {
        placed
            .iter()
            .filter_map(|p| {
                let (x0, row, label) = p.label.as_ref()?;
                Some((*row, p.px, *x0, *x0 + text_width(label, NOTE) as i32))
            })
            .collect()
    }

    /// No two labels of a row overlap.
    fn assert_apart(placed: &[Placed]) {
        let spans = spans(placed);
        for (k, a) in spans.iter().enumerate() {
            for b in &spans[k + 1..] {
                assert!(
                    a.0 != b.0 || a.3 <= b.2 || b.3 <= a.2,
                    "labels overlap: {a:?} {b:?}"
                );
            }
        }
    }

    /// No two labels of a row overlap, and no marker's line (from its label down to the
    /// plot) runs through a label below it.
    fn assert_clear(placed: &[Placed]) {
        assert_apart(placed);
        let spans = spans(placed);
        for a in &spans {
            for b in &spans {
                assert!(
                    a.0 >= b.0 || a.1 < b.2 || a.1 > b.3,
                    "a line crosses a label: {a:?} over {b:?}"
                );
            }
        }
    }

    #[test]
    fn marker_labels_take_rows_are_kept_and_never_overlap() {
        let panel = |marks: &[(f64, &str)], range: (f64, f64)| XyPanel {
            x_range: Some(range),
            marks: marks
                .iter()
                .map(|&(x, label)| Marker {
                    x,
                    label: label.into(),
                })
                .collect(),
            ..XyPanel::default()
        };
        let labelled = |placed: &[Placed]| placed.iter().filter(|p| p.label.is_some()).count();
        let ci = |a, m, b| [(a, "5%"), (m, "mean"), (b, "95%")];
        // A tight posterior on a wide prior range: a row each.
        let (placed, rows) = xy_mark_layout(&panel(&ci(0.0574, 0.0582, 0.0595), (0.03, 0.12)), 800);
        assert_eq!(rows, 3);
        let rows_of: Vec<usize> = placed.iter().map(|p| p.label.as_ref().unwrap().1).collect();
        assert_eq!(rows_of, [0, 1, 2]);
        assert_clear(&placed);
        // The 95% line would run down through the mean's label in a row below it.
        let (placed, _) = xy_mark_layout(&panel(&ci(0.100, 0.1013, 0.1095), (0.02, 0.2)), 800);
        assert_eq!(labelled(&placed), 3);
        assert_clear(&placed);
        // The policy dates of a half-width panel of the default comparison: near the right
        // edge a label goes left of its line, over the lines before it where no row keeps
        // it clear; none is left out, none over another.
        let policies = [
            (0.40, "direct-back"),
            (0.61, "direct-back ends"),
            (0.70, "Texas busing"),
            (0.78, "resettlement quota / STCA extension"),
            (0.82, "NYC shelter limit"),
        ];
        let (placed, _) = xy_mark_layout(&panel(&policies, (0.0, 1.0)), 780);
        assert_eq!(labelled(&placed), 5);
        assert!(
            placed[3].label.as_ref().unwrap().0 < placed[3].px,
            "left of its line"
        );
        assert_apart(&placed);
        // A tight posterior at the top of its prior range: all labelled, none over another.
        let (placed, _) = xy_mark_layout(&panel(&ci(0.970, 0.985, 0.999), (0.0, 1.0)), 780);
        assert_eq!(labelled(&placed), 3);
        assert_apart(&placed);
        // Spread out, they share one row; a mark outside the range is left out.
        let (placed, rows) = xy_mark_layout(&panel(&ci(1.57, 2.64, 3.71), (1.0, 4.0)), 800);
        assert_eq!((placed.len(), rows), (3, 1));
        let (placed, _) = xy_mark_layout(&panel(&[(1.57, "a"), (9.0, "b")], (1.0, 4.0)), 800);
        assert_eq!(placed.len(), 1);
        // A mark at every one of 300 generations: every line kept, at most LABEL_ROWS rows
        // of labels, none over another, the rest left out.
        let capped: Vec<(f64, &str)> = (0..300).map(|g| (f64::from(g), "capped")).collect();
        let (placed, rows) = xy_mark_layout(&panel(&capped, (0.0, 299.0)), 800);
        assert_eq!((placed.len(), rows), (300, LABEL_ROWS));
        assert!(
            (4..60).contains(&labelled(&placed)),
            "{}",
            labelled(&placed)
        );
        assert_apart(&placed);
    }

    #[test]
    fn ticks_fall_on_month_starts_and_markers_merge() {
        let jan22 = Month::parse("2022-01").unwrap().0 as f64;
        let ticks = month_ticks(jan22, jan22 + 36.0, 1400);
        assert_eq!(ticks.first(), Some(&jan22));
        assert!(ticks.iter().all(|t| t.fract() == 0.0));
        assert!(ticks.len() <= 16 && ticks.len() >= 6, "{ticks:?}");
        assert_eq!(month_label(jan22), "Jan 2022");
        let d = Date::parse("2023-03-25").unwrap();
        let x = date_x(d);
        assert!(x > f64::from(d.month().0) + 0.7 && x < f64::from(d.month().0) + 0.8);
        let merged = merge_markers(
            &[
                Marker {
                    x,
                    label: "STCA extension".into(),
                },
                Marker {
                    x: x - 0.03,
                    label: "quota".into(),
                },
                Marker {
                    x: x + 5.0,
                    label: "shelter limit".into(),
                },
            ],
            0.6,
        );
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].label, "quota / STCA extension");
    }

    #[test]
    fn long_text_wraps() {
        let lines = wrap(
            "RCMP interceptions between ports in Quebec, by month, from the published series",
            20,
            300,
        );
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| text_width(l, 20) <= 300));
    }
}
