//! Observed against simulated: the panel of one observed series with its simulated
//! counterparts, the same design for a comparison's `overlay` (a counterpart per variant) and
//! a validation's `overlay-<series>` figures (one). A series of three periods or more is a
//! time panel (observed points where they exist, the simulated medians with 90% bands on
//! every month of a monthly series); a shorter one, intervals side by side per period.

use crate::present::chart::{IntervalPanel, Marker, Panel, TimePanel, Trace, month_x};
use crate::util::date::Month;
use plotters::style::RGBColor;
use serde::Deserialize;

/// An observed series as the scenario declares it (`[[observed]]`), for titles and units.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ObservedInfo {
    #[serde(rename = "series")]
    pub name: String,
    pub description: String,
    /// `month`, `year` or `period`.
    pub aggregate: String,
    pub ratio: bool,
}

/// An observed period: its label as the CSV files write it, and its first and last months.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub label: String,
    pub first: Month,
    pub last: Month,
}

impl Period {
    /// The x of the period on a time axis: the middle of its months.
    fn x(&self) -> f64 {
        f64::from(self.first.0 + self.last.0 + 1) / 2.0
    }
}

/// A simulated counterpart: its colour, whether it is drawn dashed (the reference), per
/// period the 5%, 50% and 95% quantiles over replicates, if it has them, and for a monthly
/// series the same on every month of its span (its line, drawn through the months the
/// observations lack).
#[derive(Debug, Clone)]
pub struct Simulated {
    pub color: RGBColor,
    pub dashed: bool,
    pub values: Vec<Option<(f64, f64, f64)>>,
    pub months: Vec<(Month, f64, f64, f64)>,
}

/// One observed series, its periods and values, and its simulated counterparts.
#[derive(Debug, Clone)]
pub struct Overlay {
    pub name: String,
    pub info: Option<ObservedInfo>,
    pub periods: Vec<Period>,
    pub observed: Vec<Option<f64>>,
    pub simulated: Vec<Simulated>,
}

impl Overlay {
    /// What the series is: its description, else its name.
    pub fn title(&self) -> String {
        match &self.info {
            Some(i) if !i.description.is_empty() => i.description.clone(),
            _ => self.name.clone(),
        }
    }

    /// The description with the name, for a panel or a page that has room for both.
    pub fn heading(&self) -> String {
        match &self.info {
            Some(i) if !i.description.is_empty() => format!("{} ({})", i.description, self.name),
            _ => self.name.clone(),
        }
    }

    pub fn y_label(&self) -> String {
        match &self.info {
            Some(i) if i.ratio => "ratio",
            Some(i) if i.aggregate == "month" => "people per month",
            Some(i) if i.aggregate == "year" => "people per year",
            Some(_) => "people in the period",
            None if self.periods.iter().all(|p| p.first == p.last) => "people per month",
            None => "people in the period",
        }
        .into()
    }

    /// The months the periods cover, so that a year's value sits in the middle of its year.
    pub fn x_range(&self) -> Option<(f64, f64)> {
        let first = self.periods.iter().map(|p| p.first).min()?;
        let last = self.periods.iter().map(|p| p.last).max()?;
        Some((f64::from(first.0), f64::from(last.0 + 1)))
    }

    /// Drawn on a time axis (else as intervals per period).
    pub fn is_time(&self) -> bool {
        self.periods.len() >= 3
    }

    /// The panel, titled `title`; markers go on a time axis only.
    pub fn panel(&self, title: String, markers: &[Marker]) -> Panel {
        if self.is_time() {
            // The reference goes last, so its dashed line stays visible where the
            // counterparts coincide.
            let order = self.simulated.iter().filter(|s| !s.dashed);
            Panel::Time(TimePanel {
                title,
                y_label: self.y_label(),
                x_range: self.x_range(),
                y_max: None,
                traces: order
                    .chain(self.simulated.iter().filter(|s| s.dashed))
                    .map(|s| Trace {
                        color: s.color,
                        dashed: s.dashed,
                        band: true,
                        points: if s.months.is_empty() {
                            self.periods
                                .iter()
                                .zip(&s.values)
                                .filter_map(|(p, v)| v.map(|(lo, mid, hi)| (p.x(), lo, mid, hi)))
                                .collect()
                        } else {
                            s.months
                                .iter()
                                .map(|&(m, lo, mid, hi)| (month_x(m), lo, mid, hi))
                                .collect()
                        },
                    })
                    .collect(),
                observed: self
                    .periods
                    .iter()
                    .zip(&self.observed)
                    .filter_map(|(p, o)| o.map(|o| (p.x(), o)))
                    .collect(),
                observed_in: Vec::new(),
                markers: markers.to_vec(),
            })
        } else {
            let missing = (f64::NAN, f64::NAN, f64::NAN);
            Panel::Intervals(IntervalPanel {
                title,
                y_label: self.y_label(),
                categories: self.periods.iter().map(|p| p.label.clone()).collect(),
                series: self
                    .simulated
                    .iter()
                    .map(|s| {
                        let values = s.values.iter().map(|v| v.unwrap_or(missing)).collect();
                        (s.color, values)
                    })
                    .collect(),
                observed: self.observed.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Observed months with a gap: the simulated line goes through every month of the gap,
    /// the observed points only where there are observations.
    #[test]
    fn the_simulated_line_covers_the_months_the_observations_lack() {
        let m = |s: &str| Month::parse(s).unwrap();
        let period = |s: &str| Period {
            label: s.into(),
            first: m(s),
            last: m(s),
        };
        let months: Vec<(Month, f64, f64, f64)> = (m("2019-05").0..=m("2019-10").0)
            .map(|k| (Month(k), 1.0, 2.0, 3.0))
            .collect();
        let o = Overlay {
            name: "s".into(),
            info: None,
            periods: ["2019-05", "2019-06", "2019-10"].map(period).to_vec(),
            observed: vec![Some(5.0), Some(6.0), Some(7.0)],
            simulated: vec![Simulated {
                color: RGBColor(0, 0, 0),
                dashed: false,
                values: vec![Some((1.0, 2.0, 3.0)); 3],
                months,
            }],
        };
        let Panel::Time(p) = o.panel(String::new(), &[]) else {
            panic!("a time panel")
        };
        assert_eq!(p.traces[0].points.len(), 6, "a point on every month");
        assert_eq!(p.observed.len(), 3, "observed points only where observed");
        assert_eq!(p.traces[0].points[2].0, month_x(m("2019-07")));
    }
}
