//! Figures drawn from output rows (never from engine internals), so any saved run can be
//! re-plotted. Each figure is written as PNG and SVG. Text is rendered with a bundled font
//! (DejaVu Sans), so no system font library is needed.

use crate::date::Month;
use crate::error::{Error, Result};
use crate::output::Row;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bundled file is a valid TrueType font; a failure would only lose text.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One line of a figure: values by month.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub points: Vec<(Month, f64)>,
}

/// A line chart of monthly values, with dated markers (policy changes).
#[derive(Debug, Clone)]
pub struct Figure {
    pub title: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub markers: Vec<(Month, String)>,
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    fig: &Figure,
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let months: Vec<i32> = fig
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0.0))
        .collect();
    let (lo, hi) = match (months.iter().min(), months.iter().max()) {
        (Some(a), Some(b)) => (*a, (*b).max(*a + 1)),
        _ => (0, 1),
    };
    let ymax = fig
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.08;
    let mut chart = ChartBuilder::on(&root)
        .caption(&fig.title, ("sans-serif", 26))
        .margin(18)
        .x_label_area_size(48)
        .y_label_area_size(78)
        .build_cartesian_2d(lo..hi, 0.0..ymax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_labels(((hi - lo) as usize / 3).clamp(2, 14))
        .x_label_formatter(&|m| Month(*m).to_string())
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc(&fig.y_label)
        .x_desc("month")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    for (i, (m, label)) in fig.markers.iter().enumerate() {
        if m.0 < lo || m.0 > hi {
            continue;
        }
        let grey = RGBColor(110, 110, 110);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(m.0, 0.0), (m.0, ymax)],
                grey.stroke_width(1),
            )))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!(" {label}"),
                (m.0, ymax * (0.98 - 0.045 * (i % 3) as f64)),
                ("sans-serif", 14).into_font().color(&grey),
            )))
            .map_err(e)?;
    }
    for (i, s) in fig.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.0.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(e)?
            .label(s.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}

/// Writes `stem.png` and `stem.svg` into `dir`.
pub fn save(fig: &Figure, dir: &Path, stem: &str) -> Result<()> {
    register_font();
    let size = (1200, 700);
    let png = dir.join(format!("{stem}.png"));
    draw(BitMapBackend::new(&png, size).into_drawing_area(), fig).map_err(|m| Error::Output {
        path: png.clone(),
        message: m,
    })?;
    let svg = dir.join(format!("{stem}.svg"));
    draw(SVGBackend::new(&svg, size).into_drawing_area(), fig).map_err(|m| Error::Output {
        path: svg.clone(),
        message: m,
    })?;
    Ok(())
}

/// Sums `metric` by month over the places `keep` accepts.
fn series(rows: &[Row], name: &str, metric: &str, keep: impl Fn(&str) -> bool) -> Series {
    let map = crate::output::monthly_series(rows, metric, keep);
    Series {
        name: name.to_string(),
        points: map
            .into_iter()
            .filter_map(|(m, v)| Month::parse(m).map(|m| (m, v)))
            .collect(),
    }
}

/// The standard figures of a run, from its monthly rows and `places.csv` rows
/// `(place, kind, crossing)`: attempts by crossing point, and outcomes by month.
pub fn run_figures(
    monthly: &[Row],
    places: &[(String, String, String)],
    markers: &[(Month, String)],
) -> Vec<(String, Figure)> {
    let crossings: Vec<&(String, String, String)> =
        places.iter().filter(|p| p.1 == "crossing").collect();
    let by_crossing = Figure {
        title: "Crossing attempts by crossing point".into(),
        y_label: "people per month".into(),
        series: crossings
            .iter()
            .map(|(name, _, kind)| {
                series(monthly, &format!("{name} ({kind})"), "attempts", |p| {
                    p == name
                })
            })
            .collect(),
        markers: markers.to_vec(),
    };
    let is = |kind: &'static str| {
        let names: Vec<String> = crossings
            .iter()
            .filter(|p| p.2 == kind)
            .map(|p| p.0.clone())
            .collect();
        move |p: &str| names.iter().any(|n| n == p)
    };
    let outcomes = Figure {
        title: "Outcomes at the border".into(),
        y_label: "people per month".into(),
        series: vec![
            series(
                monthly,
                "claims after crossing between ports",
                "claims",
                is("irregular"),
            ),
            series(monthly, "claims at official ports", "claims", is("port")),
            series(monthly, "returned to the US", "returned", |_| true),
            series(
                monthly,
                "evaded for the window, claimed inland",
                "evaded",
                |_| true,
            ),
            series(monthly, "resettled through the quota", "resettled", |_| {
                true
            }),
        ],
        markers: markers.to_vec(),
    };
    vec![
        ("crossings".into(), by_crossing),
        ("outcomes".into(), outcomes),
    ]
}

/// A simulated series over replicates: `(x, p05, p50, p95)` with x in months
/// ([`Month`]'s number, fractional for the middle of a longer period).
#[derive(Debug, Clone)]
pub struct Band {
    pub name: String,
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Medians with their 90% bands, observed points, and dated markers.
#[derive(Debug, Clone, Default)]
pub struct BandFigure {
    pub title: String,
    pub y_label: String,
    pub bands: Vec<Band>,
    pub observed: Vec<(f64, f64)>,
    pub observed_label: String,
    pub markers: Vec<(Month, String)>,
}

/// The x of a period: the middle of its months.
pub fn period_x(start: crate::date::Date, end: crate::date::Date) -> f64 {
    f64::from(start.month().0 + end.month().0) / 2.0
}

fn draw_bands<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &BandFigure,
    title_size: u32,
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    let xs: Vec<f64> = fig
        .bands
        .iter()
        .flat_map(|b| b.points.iter().map(|p| p.0))
        .chain(fig.observed.iter().map(|p| p.0))
        .collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        (lo - 0.5, hi.max(lo + 1.0) + 0.5)
    } else {
        (0.0, 1.0)
    };
    let ymax = fig
        .bands
        .iter()
        .flat_map(|b| b.points.iter().map(|p| p.3))
        .chain(fig.observed.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.1 } else { 1.0 };
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, ("sans-serif", title_size))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(lo..hi, 0.0..ymax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&|x| Month(x.round() as i32).to_string())
        .y_label_formatter(&|v| {
            if ymax < 10.0 {
                format!("{v:.2}")
            } else {
                format!("{v:.0}")
            }
        })
        .y_desc(&fig.y_label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    for (i, (m, label)) in fig.markers.iter().enumerate() {
        let x = f64::from(m.0);
        if x < lo || x > hi {
            continue;
        }
        let grey = RGBColor(110, 110, 110);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, ymax)],
                grey.stroke_width(1),
            )))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!(" {label}"),
                (x, ymax * (0.98 - 0.045 * (i % 3) as f64)),
                ("sans-serif", 13).into_font().color(&grey),
            )))
            .map_err(e)?;
    }
    for (i, b) in fig.bands.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut poly: Vec<(f64, f64)> = b.points.iter().map(|p| (p.0, p.1)).collect();
        poly.extend(b.points.iter().rev().map(|p| (p.0, p.3)));
        if b.points.len() > 1 {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    color.mix(0.18).filled(),
                )))
                .map_err(e)?;
        } else {
            chart
                .draw_series(b.points.iter().map(|p| {
                    PathElement::new(vec![(p.0, p.1), (p.0, p.3)], color.mix(0.5).stroke_width(6))
                }))
                .map_err(e)?;
        }
        chart
            .draw_series(
                LineSeries::new(b.points.iter().map(|p| (p.0, p.2)), color.stroke_width(2))
                    .point_size(if b.points.len() < 8 { 3 } else { 0 }),
            )
            .map_err(e)?
            .label(format!("{} (median, 90% band)", b.name))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
    }
    if !fig.observed.is_empty() {
        chart
            .draw_series(
                fig.observed
                    .iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, BLACK.filled())),
            )
            .map_err(e)?
            .label(fig.observed_label.clone())
            .legend(|(x, y)| Circle::new((x + 10, y), 4, BLACK.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    Ok(())
}

fn render<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: Option<&str>,
    figs: &[BandFigure],
    cols: usize,
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let area = match title {
        Some(t) => root.titled(t, ("sans-serif", 26)).map_err(e)?,
        None => root.clone(),
    };
    let cols = cols.max(1);
    let rows = figs.len().div_ceil(cols).max(1);
    let cells = area.split_evenly((rows, cols));
    for (fig, cell) in figs.iter().zip(cells.iter()) {
        draw_bands(cell, fig, if figs.len() > 1 { 20 } else { 24 })?;
    }
    root.present().map_err(e)
}

/// Writes one figure, or a grid of figures under a common title, as `stem.png` and
/// `stem.svg` in `dir`.
pub fn save_bands(
    figs: &[BandFigure],
    title: Option<&str>,
    cols: usize,
    dir: &Path,
    stem: &str,
) -> Result<()> {
    register_font();
    let cols = cols.max(1);
    let rows = figs.len().div_ceil(cols).max(1) as u32;
    let size = (
        if cols > 1 { 1500 } else { 1200 },
        if rows > 1 { 520 * rows + 40 } else { 700 },
    );
    let png = dir.join(format!("{stem}.png"));
    render(
        BitMapBackend::new(&png, size).into_drawing_area(),
        title,
        figs,
        cols,
    )
    .map_err(|m| Error::Output {
        path: png.clone(),
        message: m,
    })?;
    let svg = dir.join(format!("{stem}.svg"));
    render(
        SVGBackend::new(&svg, size).into_drawing_area(),
        title,
        figs,
        cols,
    )
    .map_err(|m| Error::Output {
        path: svg.clone(),
        message: m,
    })?;
    Ok(())
}
