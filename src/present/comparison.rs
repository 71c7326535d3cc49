//! A comparison folder read back from its files alone (the CSV tables, `manifest.json` and
//! `scenario.toml`), with what its figures and its report ask of it: the variants in run
//! order, the months, a variant's monthly quantiles and totals, its policy dates as markers,
//! and the names that label them.

use crate::experiment::compare::{EffectRow, OverlayRow, REFERENCE, SummaryRow, VariantRow};
use crate::experiment::posterior::{Posterior, Uncertainty};
use crate::experiment::validation::MonthRow;
use crate::present::chart::{Marker, fmt_number, month_x, series_color, signed};
use crate::present::files::{
    self, CrossingClass, PlaceRecord, PolicyDates, bad, parse_date, read_csv, strip,
};
use crate::present::overlay::ObservedInfo;
use crate::util::date::Month;
use crate::util::error::{Error, Result};
use plotters::style::RGBColor;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Comparison {
    pub dir: PathBuf,
    pub manifest: serde_json::Value,
    /// `scenario.toml`'s text.
    pub scenario_text: String,
    pub scenario: toml::Table,
    pub places: Vec<PlaceRecord>,
    pub summary: Vec<SummaryRow>,
    pub effects: Vec<EffectRow>,
    pub overlay: Vec<OverlayRow>,
    /// The simulated line of each monthly observed series on every month, per variant
    /// (`overlay_months.csv`; none in folders written before it existed).
    pub overlay_months: Vec<(Month, MonthRow)>,
    /// Observations of series over one crossing (`observed_crossings.csv`), if any.
    pub observed_crossings: Vec<crate::output::CrossingObservation>,
    pub variants: Vec<VariantRow>,
    pub policies: Vec<PolicyDates>,
    /// The parameter columns of the posterior the comparison ran over (`posterior.csv`,
    /// read only when the manifest says the intervals cover one); empty otherwise.
    pub posterior_params: Vec<String>,
    /// The variants in the order they were run.
    pub order: Vec<String>,
    /// The months of the window, in order.
    pub months: Vec<Month>,
    /// `effects_by_replicate.csv` by variant and effect, read when first asked for
    /// ([`Comparison::replicate_values`]; `None` if the folder has no readable file).
    by_replicate: std::cell::OnceCell<Option<ByReplicate>>,
}

/// Every replicate's value, by variant and effect.
type ByReplicate = BTreeMap<(String, String), Vec<f64>>;

/// A text file of a result folder: a regular file, within the cap on data files.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = crate::util::files::read_regular(path, crate::util::files::DATA_LIMIT).map_err(
        |source| Error::Read {
            path: path.to_path_buf(),
            source,
        },
    )?;
    String::from_utf8(bytes).map_err(|e| Error::Data {
        path: path.to_path_buf(),
        line: 0,
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

impl Comparison {
    /// Reads a comparison folder.
    pub fn load(dir: &Path) -> Result<Comparison> {
        let mpath = dir.join("manifest.json");
        let text = read_text(&mpath)?;
        let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Data {
            path: mpath.clone(),
            line: e.line() as u64,
            message: e.to_string(),
        })?;
        let spath = dir.join("scenario.toml");
        let scenario_text = read_text(&spath)?;
        let scenario: toml::Table =
            scenario_text
                .parse()
                .map_err(|e: toml::de::Error| Error::Parse {
                    path: spath.clone(),
                    message: e.to_string(),
                })?;
        let places = files::read_places(dir)?;
        let spath = dir.join("summary.csv");
        let summary_lines = read_csv::<SummaryRow>(&spath)?;
        let mut months = Vec::new();
        for (line, r) in &summary_lines {
            months.push(files::parse_month(&spath, *line, &r.month)?);
        }
        months.sort();
        months.dedup();
        let summary = strip(summary_lines);
        let effects = strip(read_csv::<EffectRow>(&dir.join("effects.csv"))?);
        let opath = dir.join("overlay.csv");
        let overlay_lines = read_csv::<OverlayRow>(&opath)?;
        for (line, r) in &overlay_lines {
            parse_date(&opath, *line, "start", &r.start)?;
            parse_date(&opath, *line, "end", &r.end)?;
        }
        let overlay = strip(overlay_lines);
        let overlay_months = files::read_month_rows(dir, "overlay_months.csv")?
            .into_iter()
            .map(|(_, m, r)| (m, r))
            .collect();
        let variants = strip(read_csv::<VariantRow>(&dir.join("variants.csv"))?);
        let policies = files::read_policies(&dir.join("policies.csv"))?;

        // The run order: the manifest's list, else the order rows first name them.
        let mut order: Vec<String> = manifest["variants"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for v in variants
            .iter()
            .map(|v| &v.variant)
            .chain(summary.iter().map(|r| &r.variant))
        {
            if !order.contains(v) {
                order.push(v.clone());
            }
        }
        order.retain(|v| summary.iter().any(|r| &r.variant == v));
        if summary.is_empty() {
            return Err(bad(&spath, 1, "no rows: nothing to draw".into()));
        }
        let posterior_params = if covers_posterior(&manifest) {
            Posterior::read(&dir.join("posterior.csv"))?.params
        } else {
            Vec::new()
        };
        Ok(Comparison {
            dir: dir.to_path_buf(),
            manifest,
            posterior_params,
            scenario_text,
            scenario,
            places,
            summary,
            effects,
            overlay,
            overlay_months,
            observed_crossings: files::read_crossing_observations(dir)?,
            variants,
            policies,
            order,
            months,
            by_replicate: std::cell::OnceCell::new(),
        })
    }

    /// `[scenario]` `name` and `description` from `scenario.toml` (else the manifest's name).
    pub fn name_and_description(&self) -> (String, String) {
        let sc = self.scenario.get("scenario").and_then(|s| s.as_table());
        let get = |k: &str| {
            sc.and_then(|s| s.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        (
            get("name")
                .or_else(|| self.manifest["scenario_name"].as_str().map(str::to_string))
                .unwrap_or_default(),
            get("description").unwrap_or_default(),
        )
    }

    /// The declared observed series, from `scenario.toml`.
    pub fn observed_info(&self) -> Vec<ObservedInfo> {
        let Some(list) = self.scenario.get("observed").and_then(|o| o.as_array()) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|o| o.as_table())
            .map(|o| {
                let s = |k: &str| o.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                ObservedInfo {
                    name: s("name"),
                    description: s("description"),
                    aggregate: s("aggregate"),
                    ratio: o.contains_key("ratio_of"),
                }
            })
            .collect()
    }

    pub fn replicates(&self) -> Option<u64> {
        self.manifest["replicates"].as_u64()
    }

    pub fn replicates_text(&self) -> String {
        let over = if self.over_posterior() {
            " over the posterior"
        } else {
            ""
        };
        match self.replicates() {
            Some(1) => format!("1 replicate{over}"),
            Some(r) => format!("{r} replicates{over}"),
            None => format!("the replicates{over}"),
        }
    }

    /// Whether each replicate ran with a particle of a posterior (`--posterior`), so that
    /// the intervals cover the parameters' uncertainty as well as the run-to-run noise.
    pub fn over_posterior(&self) -> bool {
        covers_posterior(&self.manifest)
    }

    /// What the intervals cover, as a sentence's end.
    pub fn uncertainty_text(&self) -> String {
        if self.over_posterior() {
            let file = self.manifest["posterior"].as_str().unwrap_or("a posterior");
            format!(
                "the parameters' uncertainty and the run-to-run noise: replicate r ran with the particle of {file} drawn r-th by weight (the same in every variant)"
            )
        } else {
            "the run-to-run noise only, with the scenario's parameters as given".into()
        }
    }

    /// The variant whose policy dates mark the figures: `both`, else the first.
    pub fn marker_variant(&self) -> &str {
        self.order
            .iter()
            .find(|v| *v == "both")
            .or(self.order.first())
            .map_or("", |v| v.as_str())
    }

    /// The x range of the window's months.
    pub fn x_range(&self) -> (f64, f64) {
        match (self.months.first(), self.months.last()) {
            (Some(a), Some(b)) => (f64::from(a.0), f64::from(b.0 + 1)),
            _ => (0.0, 1.0),
        }
    }

    /// The dates at which `variant`'s enabled policies start or end inside the window.
    pub fn markers(&self, variant: &str) -> Vec<Marker> {
        let mine = self.policies.iter().filter(|p| p.variant == variant);
        files::markers(mine, self.x_range())
    }

    /// A variant's monthly `(x, p05, p50, p95)` of a metric summed over the places `keep`
    /// accepts (sums of quantiles: exact for one place, a guide for several).
    pub fn monthly(
        &self,
        variant: &str,
        metric: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Vec<(f64, f64, f64, f64)> {
        let mut by: BTreeMap<&str, [f64; 3]> = BTreeMap::new();
        for r in self
            .summary
            .iter()
            .filter(|r| r.variant == variant && r.metric == metric && keep(&r.place))
        {
            let e = by.entry(r.month.as_str()).or_insert([0.0; 3]);
            e[0] += r.p05;
            e[1] += r.p50;
            e[2] += r.p95;
        }
        by.into_iter()
            .filter_map(|(m, v)| Month::parse(m).map(|m| (month_x(m), v[0], v[1], v[2])))
            .collect()
    }

    /// A variant's total of the means of a metric over the window, over places `keep` accepts.
    pub fn total(&self, variant: &str, metric: &str, keep: impl Fn(&PlaceRecord) -> bool) -> f64 {
        let names: Vec<&str> = self
            .places
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.place.as_str())
            .collect();
        self.summary
            .iter()
            .filter(|r| {
                r.variant == variant && r.metric == metric && names.contains(&r.place.as_str())
            })
            .map(|r| r.mean)
            .filter(|v| v.is_finite())
            .sum()
    }

    pub fn crossings(&self) -> Vec<&PlaceRecord> {
        self.places
            .iter()
            .filter(|p| p.kind == "crossing")
            .collect()
    }

    pub fn description(&self, variant: &str) -> Option<&str> {
        self.variants
            .iter()
            .find(|v| v.variant == variant)
            .map(|v| v.description.as_str())
            .filter(|d| !d.is_empty())
    }

    /// A variant with what it is: `both: STCA extension and resettlement quota`.
    pub fn variant_label(&self, variant: &str) -> String {
        match self.description(variant) {
            Some(d) => format!("{variant}: {d}"),
            None => variant.to_string(),
        }
    }

    /// Every replicate's value of `effect` for `variant`, to full precision, from
    /// `effects_by_replicate.csv` (`effects.csv` is rounded: one replicate of -1 among 25
    /// rounds to a mean and an interval of 0). `None` where the folder has no such rows
    /// (written before the file) or they cannot be read.
    pub fn replicate_values(&self, variant: &str, effect: &str) -> Option<&[f64]> {
        let all = self.by_replicate.get_or_init(|| {
            let rows = read_csv::<crate::experiment::compare::ReplicateEffect>(
                &self.dir.join("effects_by_replicate.csv"),
            )
            .ok()?;
            let mut by = ByReplicate::new();
            for (_, r) in rows {
                by.entry((r.variant, r.effect)).or_default().push(r.value);
            }
            Some(by)
        });
        all.as_ref()?
            .get(&(variant.to_string(), effect.to_string()))
            .map(Vec::as_slice)
    }

    /// The crossing whose displaced demand the effects track, as `places.csv` marks it (in
    /// a folder written before that column, Roxham Road or the first irregular crossing).
    pub fn focus_name(&self) -> String {
        if let Some(p) = self.places.iter().find(|p| p.focus == Some(true)) {
            return p.place.clone();
        }
        let crossings = self.crossings();
        if crossings.iter().any(|p| p.place == "Roxham Road") {
            "Roxham Road".into()
        } else {
            crossings
                .iter()
                .find(|p| p.class() == Some(CrossingClass::Irregular))
                .map_or("the focus crossing".into(), |p| p.place.clone())
        }
    }
}

/// The least drop in attempts at the focus crossing, as a share of `neither`'s attempts
/// there over the window, for which a variant's displacement shares are shown: below it a
/// share divides by a number so small that it swings wildly (+226%, -100%) with the noise.
pub const MIN_DROP: f64 = 0.05;

impl Comparison {
    /// Why a variant's `share_to_*` effects are unstable, if they are: its drop at the focus
    /// crossing is not clearly a drop (the 90% interval of `diff_roxham` reaches 0 or above)
    /// or is under [`MIN_DROP`] of `neither`'s attempts there. `None`: stable.
    pub fn unstable_shares(&self, variant: &str) -> Option<String> {
        let focus = self.focus_name();
        let Some(d) = self
            .effects
            .iter()
            .find(|e| e.variant == variant && e.effect == "diff_roxham")
        else {
            return Some(format!("no drop at {focus} to divide by"));
        };
        let base = self.total(REFERENCE, "attempts", |p| p.place == focus);
        let drop = format!(
            "the change in attempts at {focus} ({}, 90% interval {} to {})",
            signed(d.mean, false),
            signed(d.p05, false),
            signed(d.p95, false)
        );
        if d.p95.is_nan() || d.p95 >= 0.0 {
            return Some(format!("{drop} is not clearly a drop"));
        }
        if base > 0.0 && -d.mean < MIN_DROP * base {
            return Some(format!(
                "{drop} is {} of the {} attempts there without either policy, under {:.0}%: too small to divide by",
                crate::present::chart::percent(-d.mean / base),
                fmt_number(base, 1e3),
                100.0 * MIN_DROP
            ));
        }
        None
    }
}

/// Whether a comparison's manifest says its intervals cover a posterior's parameters.
fn covers_posterior(manifest: &serde_json::Value) -> bool {
    manifest["uncertainty"].as_str() == Some(Uncertainty::ParametersAndReplicates.as_str())
}

/// The colour of a variant: fixed for the 2 x 2 cells (the first three series colours and
/// a dark grey for the reference), then the next series colours in run order, so that every
/// variant of a sweep has its own ([`series_color`]).
pub fn variant_color(order: &[String], variant: &str) -> RGBColor {
    const CELLS: [&str; 3] = ["both", "extension_only", "quota_only"];
    if variant == REFERENCE {
        return RGBColor(70, 70, 70);
    }
    if let Some(k) = CELLS.iter().position(|c| *c == variant) {
        return series_color(k);
    }
    let k = order
        .iter()
        .filter(|v| !CELLS.contains(&v.as_str()) && v.as_str() != REFERENCE)
        .position(|v| v == variant)
        .unwrap_or(0);
    series_color(CELLS.len() + k)
}

/// The alternatives of `share_to_*`, with their names in the figures and the report.
pub const ALTERNATIVES: [(&str, &str); 7] = [
    ("official_ports", "land ports (STCA applies)"),
    ("other_irregular", "other irregular crossings"),
    ("evasions", "evaded, then claimed inland"),
    ("airports", "airports (no STCA)"),
    ("stayed_in_us", "stayed in the US"),
    ("resettled", "resettled through the quota"),
    ("still_on_the_way", "still on the way at the end"),
];

pub fn alternative_label(name: &str) -> String {
    ALTERNATIVES
        .iter()
        .find(|a| a.0 == name)
        .map_or(name.replace('_', " "), |a| a.1.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::util::date::Date;
    use std::fmt::Write as _;

    /// Writes a small comparison folder by hand: two variants over three months, four
    /// crossings (one an airport), effects, an overlay of two observed series.
    pub(crate) fn tiny_folder(dir: &Path) {
        let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
        w(
            "places.csv",
            "place,kind,crossing,country,province\n\
             Border,entry,,US,TX\n\
             Roxham Road,crossing,irregular,CA,QC\n\
             Lacolle,crossing,port,CA,QC\n\
             Montreal airport,crossing,port,CA,QC\n\
             Canada (resettled),destination,,CA,CA\n",
        );
        let mut s = String::from("variant,month,place,metric,mean,p05,p50,p95\n");
        for (v, k) in [("both", 1.0), ("neither", 2.0)] {
            for m in ["2023-01", "2023-02", "2023-03"] {
                let _ = writeln!(s, "{v},{m},Border,arrivals,100,90,100,110");
                for (p, base) in [
                    ("Roxham Road", 50.0),
                    ("Lacolle", 10.0),
                    ("Montreal airport", 2.0),
                ] {
                    let x = base * k;
                    let _ = writeln!(s, "{v},{m},{p},attempts,{x},{},{x},{}", x - 1.0, x + 1.0);
                    let _ = writeln!(s, "{v},{m},{p},claims,{x},{x},{x},{x}");
                    let _ = writeln!(s, "{v},{m},{p},returned,1,1,1,1");
                    let _ = writeln!(s, "{v},{m},{p},evaded,0,0,0,0");
                }
                let _ = writeln!(
                    s,
                    "{v},{m},Canada (resettled),resettled,{},0,0,0",
                    3.0 * (2.0 - k)
                );
            }
        }
        w("summary.csv", &s);
        w(
            "effects.csv",
            "variant,effect,mean,p05,p50,p95\n\
             both,diff_roxham,-150,-160,-150,-140\n\
             both,diff_official_ports,-30,-31,-30,-29\n\
             both,share_to_official_ports,-0.2,-0.21,-0.2,-0.19\n\
             both,share_to_stayed_in_us,0.9,0.8,0.9,1.0\n\
             both,share_to_resettled,NaN,NaN,NaN,NaN\n",
        );
        w(
            "overlay.csv",
            "variant,series,period,start,end,observed,sim_mean,sim_p05,sim_p50,sim_p95\n\
             both,monthly,2023-01,2023-01-01,2023-01-31,40,50,49,50,51\n\
             both,monthly,2023-02,2023-02-01,2023-02-28,45,50,49,50,51\n\
             both,monthly,2023-03,2023-03-01,2023-03-31,42,50,49,50,51\n\
             both,total,2023-01..2023-03,2023-01-01,2023-03-31,130,150,147,150,153\n\
             neither,monthly,2023-01,2023-01-01,2023-01-31,40,100,98,100,102\n\
             neither,monthly,2023-02,2023-02-01,2023-02-28,45,100,98,100,102\n\
             neither,monthly,2023-03,2023-03-01,2023-03-31,42,100,98,100,102\n\
             neither,total,2023-01..2023-03,2023-01-01,2023-03-31,130,300,297,300,303\n",
        );
        w(
            "variants.csv",
            "variant,description,overrides\n\
             both,STCA extension and resettlement quota,policies.stca_extension.enabled = true\n\
             neither,neither the extension nor the quota,policies.stca_extension.enabled = false\n",
        );
        w(
            "policies.csv",
            "variant,policy,enabled,start,end\n\
             both,stca_ports,true,2004-12-29,\n\
             both,stca_extension,true,2023-02-15,\n\
             neither,stca_ports,true,2004-12-29,\n\
             neither,stca_extension,false,2023-02-15,\n",
        );
        w(
            "scenario.toml",
            "[scenario]\nname = \"tiny\"\ndescription = \"A <tiny> & 'test' scenario\"\n\
             start = 2023-01-01\nend = 2023-03-31\nseed = 1\n\n\
             [[observed]]\nname = \"monthly\"\ndescription = \"Things by month\"\naggregate = \"month\"\n\n\
             [[observed]]\nname = \"total\"\ndescription = \"Things in the quarter\"\naggregate = \"period\"\n",
        );
        w(
            "manifest.json",
            r#"{"northbound_version": "0.1.0", "command": "compare", "scenario": "tiny.toml",
                "scenario_name": "tiny", "scenario_sha256": "abcdef0123456789", "seed": 1,
                "threads": 2, "start": "2023-01-01", "end": "2023-03-31", "scale": 1.0,
                "replicates": 2, "variants": ["both", "neither"], "agents": 10,
                "agent_days": 900, "wall_seconds": 0.25}"#,
        );
    }

    pub(crate) fn tiny() -> (tempfile::TempDir, Comparison) {
        let dir = tempfile::tempdir().unwrap();
        tiny_folder(dir.path());
        let c = Comparison::load(dir.path()).unwrap();
        (dir, c)
    }

    #[test]
    fn a_folder_loads_with_its_order_months_and_policies() {
        let (_d, c) = tiny();
        assert_eq!(c.order, ["both", "neither"]);
        assert_eq!(c.months.len(), 3);
        assert_eq!(c.name_and_description().0, "tiny");
        assert_eq!(c.marker_variant(), "both");
        let classes: Vec<Option<CrossingClass>> = c.crossings().iter().map(|p| p.class()).collect();
        assert_eq!(
            classes,
            [
                Some(CrossingClass::Irregular),
                Some(CrossingClass::LandPort),
                Some(CrossingClass::Airport)
            ]
        );
        // Policy dates inside the window become markers, only where the policy is on.
        let m = c.markers("both");
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].label, "STCA extension");
        let x = crate::present::chart::date_x(Date::parse("2023-02-15").unwrap());
        assert!((m[0].x - x).abs() < 1e-12);
        assert!(c.markers("neither").is_empty());
    }

    #[test]
    fn shares_over_a_tiny_drop_are_called_unstable() {
        let (d, c) = tiny();
        // both: -150 of neither's 300 attempts at Roxham Road: stable.
        assert_eq!(c.unstable_shares("both"), None);
        let with = |row: &str| {
            std::fs::write(
                d.path().join("effects.csv"),
                format!("variant,effect,mean,p05,p50,p95\n{row}\n"),
            )
            .unwrap();
            Comparison::load(d.path()).unwrap().unstable_shares("both")
        };
        let small = with("both,diff_roxham,-6,-8,-6,-4").unwrap();
        assert!(small.contains("2.0% of the 300 attempts"), "{small}");
        let unclear = with("both,diff_roxham,-100,-160,-100,3").unwrap();
        assert!(unclear.contains("not clearly a drop"), "{unclear}");
        assert!(with("both,diff_official_ports,1,1,1,1").is_some());
    }

    #[test]
    fn places_csv_says_which_ports_are_airports_and_which_crossing_is_tracked() {
        // A review found the report guessing both from names: an airport not called one was
        // a land port, and without "Roxham Road" the first irregular crossing was the focus
        // where compare tracked the most watched one.
        let d = tempfile::tempdir().unwrap();
        tiny_folder(d.path());
        std::fs::write(
            d.path().join("places.csv"),
            "place,kind,crossing,country,province,stca,focus\n\
             Border,entry,,US,TX,,false\n\
             Woods,crossing,irregular,CA,QC,,false\n\
             Chemin Roxham,crossing,irregular,CA,QC,,true\n\
             Lacolle,crossing,port,CA,QC,true,false\n\
             Montreal-Trudeau (YUL),crossing,port,CA,QC,false,false\n",
        )
        .unwrap();
        let c = Comparison::load(d.path()).unwrap();
        assert_eq!(c.focus_name(), "Chemin Roxham");
        let class = |name: &str| c.places.iter().find(|p| p.place == name).unwrap().class();
        assert_eq!(
            class("Montreal-Trudeau (YUL)"),
            Some(CrossingClass::Airport)
        );
        assert_eq!(class("Lacolle"), Some(CrossingClass::LandPort));
        // A folder written before the columns: the names, as before.
        tiny_folder(d.path());
        let c = Comparison::load(d.path()).unwrap();
        assert_eq!(c.focus_name(), "Roxham Road");
        let class = |name: &str| c.places.iter().find(|p| p.place == name).unwrap().class();
        assert_eq!(class("Montreal airport"), Some(CrossingClass::Airport));
    }

    #[test]
    fn an_effect_is_exactly_zero_only_if_every_replicate_says_so() {
        let d = tempfile::tempdir().unwrap();
        tiny_folder(d.path());
        let zero = |c: &Comparison, e: &str| {
            c.replicate_values("both", e)
                .map(|v| v.iter().all(|&x| x == 0.0))
        };
        let c = Comparison::load(d.path()).unwrap();
        assert_eq!(zero(&c, "interaction_roxham"), None, "no file");
        let mut rows = String::from("variant,replicate,effect,unit,value\n");
        for r in 0..25 {
            let v = if r == 7 { -1 } else { 0 };
            rows.push_str(&format!("both,{r},interaction_roxham,attempts,{v}\n"));
            rows.push_str(&format!("both,{r},interaction_evasions,people,0\n"));
        }
        std::fs::write(d.path().join("effects_by_replicate.csv"), rows).unwrap();
        let c = Comparison::load(d.path()).unwrap();
        assert_eq!(zero(&c, "interaction_roxham"), Some(false));
        assert_eq!(zero(&c, "interaction_evasions"), Some(true));
        assert_eq!(zero(&c, "interaction_airports"), None);
    }

    #[test]
    fn every_variant_of_a_sweep_has_its_own_colour() {
        let mut order: Vec<String> = ["both", "extension_only", "quota_only", "neither"]
            .map(String::from)
            .to_vec();
        order.extend((0..16).map(|k| format!("sweep{k}")));
        let colours: Vec<RGBColor> = order.iter().map(|v| variant_color(&order, v)).collect();
        for i in 0..colours.len() {
            for j in 0..i {
                assert_ne!(colours[i], colours[j], "{} and {}", order[i], order[j]);
            }
        }
        assert_eq!(variant_color(&order, "both"), series_color(0));
    }

    #[test]
    fn bad_files_are_errors_that_name_the_file_and_line() {
        let cases: [(&str, &str, &str); 5] = [
            (
                "summary.csv",
                "variant,month,place,metric,mean,p05,p50,p95\nboth,2023-01,Border,arrivals,1,1,1,1\nboth,2023-13,Border,arrivals,1,1,1,1\n",
                "summary.csv:3: month: \"2023-13\"",
            ),
            (
                "summary.csv",
                "variant,month,place,metric,mean,p05,p50,p95\nboth,2023-01,Border,arrivals,one,1,1,1\n",
                "summary.csv:2: column \"mean\"",
            ),
            (
                "policies.csv",
                "variant,policy,enabled,start,end\nboth,busing,yes,2023-01-01,\n",
                "policies.csv:2: column \"enabled\"",
            ),
            (
                "effects.csv",
                "variant,effect,mean,p05,p50,p95\nboth,diff_roxham,1\n",
                "effects.csv:2:",
            ),
            (
                "scenario.toml",
                "[scenario\n",
                "scenario.toml: TOML parse error at line 1",
            ),
        ];
        for (file, text, want) in cases {
            let (d, _) = tiny();
            std::fs::write(d.path().join(file), text).unwrap();
            let err = Comparison::load(d.path()).unwrap_err().to_string();
            assert!(err.contains(want), "{file}: got {err:?}, want {want:?}");
        }
        let (d, _) = tiny();
        std::fs::remove_file(d.path().join("variants.csv")).unwrap();
        let err = Comparison::load(d.path()).unwrap_err().to_string();
        assert!(err.contains("variants.csv: cannot read"), "{err}");
    }
}
