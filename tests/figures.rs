//! The figures and the report of a real comparison, run and validation, made by the binary
//! on the minimal scenario: the files are valid PNG and SVG with their titles, the report is
//! whole and self-contained, and `northbound plot` redraws the same picture from the CSVs.

use northbound::present::{self, comparison_figures, report};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_northbound");

fn minimal() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml")
}

fn northbound(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn assert_ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// One comparison of the minimal scenario (all four variants, 2 replicates), made once for
/// every test here; tests that write into a folder work on a copy.
fn comparison() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("figures-compare");
        let o = northbound(&[
            "compare",
            minimal().to_str().unwrap(),
            "--replicates",
            "2",
            "--out",
            dir.to_str().unwrap(),
            "--force",
            "-q",
        ]);
        assert_ok(&o, "compare");
        dir
    })
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Checks a PNG's structure (signature, chunks with their CRCs, IHDR first, IDAT, IEND
/// last) and returns its width and height.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "no PNG signature");
    let mut at = 8;
    let mut kinds = Vec::new();
    let mut size = (0, 0);
    while at + 12 <= bytes.len() {
        let len = be(&bytes[at..]) as usize;
        let kind = &bytes[at + 4..at + 8];
        let end = at + 8 + len;
        assert!(end + 4 <= bytes.len(), "a chunk runs past the end");
        assert_eq!(
            crc32(&bytes[at + 4..end]),
            be(&bytes[end..]),
            "bad CRC in {}",
            String::from_utf8_lossy(kind)
        );
        if kind == b"IHDR" {
            size = (be(&bytes[at + 8..]), be(&bytes[at + 12..]));
        }
        kinds.push(kind.to_vec());
        at = end + 4;
    }
    assert_eq!(at, bytes.len(), "trailing bytes after the last chunk");
    assert_eq!(kinds.first().map(Vec::as_slice), Some(&b"IHDR"[..]));
    assert_eq!(kinds.last().map(Vec::as_slice), Some(&b"IEND"[..]));
    assert!(kinds.iter().any(|k| k == b"IDAT"), "no image data");
    assert!(size.0 > 0 && size.1 > 0);
    size
}

fn check_figure(dir: &Path, stem: &str, title: &str) {
    let png = std::fs::read(dir.join(format!("{stem}.png"))).unwrap();
    let (w, h) = png_size(&png);
    assert!(w >= 1200 && h >= 600, "{stem}.png is {w} x {h}");
    let svg = std::fs::read_to_string(dir.join(format!("{stem}.svg"))).unwrap();
    assert!(svg.contains("<svg"), "{stem}.svg is not an SVG");
    assert!(
        svg.contains(&format!("viewBox=\"0 0 {w} {h}\"")),
        "{stem}.svg has another size than the PNG"
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{stem}.svg is cut short"
    );
    assert!(svg.contains(title), "{stem}.svg lacks its title {title:?}");
}

#[test]
fn a_comparison_has_its_figures_as_png_and_svg_with_their_titles() {
    let dir = comparison();
    // minimal.toml declares no observed series: no overlay.
    for stem in [
        "crossings_by_variant",
        "panel_2x2",
        "outcomes",
        "displacement",
    ] {
        check_figure(dir, stem, &comparison_figures::title(stem, "Roxham Road"));
    }
    assert!(!dir.join("overlay.png").exists());
    // Panel and axis text is there too.
    let svg = std::fs::read_to_string(dir.join("crossings_by_variant.svg")).unwrap();
    for text in [
        "Roxham Road (irregular crossing)",
        "Lacolle (land port)",
        "attempts per month",
        "STCA extension",
    ] {
        assert!(
            svg.contains(text),
            "crossings_by_variant.svg lacks {text:?}"
        );
    }
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    for f in ["report.html", "panel_2x2.svg", "displacement.png"] {
        assert!(
            manifest.contains(&format!("\"{f}\"")),
            "the manifest does not list {f}"
        );
    }
}

#[test]
fn the_report_holds_every_section_and_fetches_nothing() {
    let html = std::fs::read_to_string(comparison().join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for (id, heading) in report::SECTIONS {
        assert!(html.contains(&format!("id=\"{id}\"")), "no section {id}");
        assert!(
            html.contains(&format!("<h2>{heading}</h2>")),
            "no heading {heading}"
        );
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "the contents do not link {id}"
        );
    }
    for stem in [
        "crossings_by_variant",
        "panel_2x2",
        "outcomes",
        "displacement",
    ] {
        assert!(
            html.contains(&format!("<figure id=\"fig-{stem}\">\n<svg")),
            "{stem} is not inlined"
        );
        assert!(html.contains(&comparison_figures::title(stem, "Roxham Road")));
    }
    // The scenario's own words, the variants, and effects with intervals.
    assert!(html.contains("Five places, a few hundred people, the 2023 STCA extension."));
    for v in ["both", "extension_only", "quota_only", "neither"] {
        assert!(html.contains(&format!("<code>{v}</code>")), "variant {v}");
    }
    assert!(
        html.contains("<code>diff_roxham</code>")
            && html.contains("<code>share_to_stayed_in_us</code>")
    );
    // Self-contained: no scripts, no linked or imported resources, nothing fetched.
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "@import",
        "url(",
        "src=",
        "href=\"http",
        "href='http",
        "//cdn",
    ] {
        assert!(!lower.contains(bad), "the report contains {bad:?}");
    }
    let hrefs: Vec<&str> = html.split("href=\"").skip(1).collect();
    assert!(
        hrefs.iter().all(|h| h.starts_with('#')),
        "a link leaves the page"
    );
    // Every inline SVG scales with the page.
    let svgs = html.matches("<svg").count();
    assert_eq!(
        svgs,
        html.matches("<svg viewBox=").count() + html.matches("<svg width=").count()
    );
    assert!(
        html.split("<svg")
            .skip(1)
            .all(|s| s[..s.find('>').unwrap()].contains("viewBox"))
    );
}

#[test]
fn plot_redraws_a_comparison_byte_for_byte() {
    let copy = tempfile::tempdir().unwrap();
    copy_folder(comparison(), copy.path());
    let o = northbound(&["plot", copy.path().to_str().unwrap()]);
    assert_ok(&o, "plot");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("report.html") && out.contains("panel_2x2.svg"),
        "{out}"
    );
    for e in std::fs::read_dir(comparison()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        let before = std::fs::read(comparison().join(&name)).unwrap();
        let after = std::fs::read(copy.path().join(&name)).unwrap();
        assert!(before == after, "{name} changed when redrawn");
    }
}

#[test]
fn plot_redraws_a_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = northbound(&[
        "run",
        minimal().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_ok(&o, "run");
    for f in [
        "crossings.png",
        "crossings.svg",
        "outcomes.png",
        "outcomes.svg",
    ] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let drawn = present::draw(&out).unwrap();
    assert_eq!(
        drawn,
        [
            "crossings.png",
            "crossings.svg",
            "outcomes.png",
            "outcomes.svg"
        ]
    );
    check_figure(
        &out,
        "crossings",
        "Monthly crossing attempts by crossing point",
    );
    check_figure(&out, "outcomes", "Monthly outcomes at the border");
    assert!(!out.join("report.html").exists(), "a run gets no report");
}

/// Copies the CSV files of `from` (none of its figures) into a new folder, redraws it with
/// `northbound plot` and checks that every SVG of `from` comes out the same, to the letter.
fn assert_redrawn_from_csvs_alone(from: &Path, svgs: &[&str]) {
    let copy = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "csv") {
            std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let o = northbound(&["plot", copy.path().to_str().unwrap()]);
    assert_ok(&o, "plot");
    for svg in svgs {
        let drawn = std::fs::read_to_string(from.join(svg)).unwrap();
        let redrawn = std::fs::read_to_string(copy.path().join(svg))
            .unwrap_or_else(|e| panic!("{svg} was not redrawn: {e}"));
        assert!(drawn == redrawn, "{svg} differs when redrawn");
    }
}

#[test]
fn a_run_draws_its_figures_as_plot_redraws_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = northbound(&[
        "run",
        minimal().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_ok(&o, "run");
    assert_redrawn_from_csvs_alone(&out, &["crossings.svg", "outcomes.svg"]);
    // The policy dates are marked from policies.csv.
    let svg = std::fs::read_to_string(out.join("crossings.svg")).unwrap();
    assert!(svg.contains("STCA extension"), "no policy marker");
}

#[test]
fn a_validation_draws_its_overlays_as_plot_redraws_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("obs.csv"),
        "month,count,verification\n2023-01,20,verbatim_official\n2023-02,25,derived\n\
         2023-03,30,derived\n2023-04,10,derived\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(minimal()).unwrap()
        + "\n[[observed]]\nname = \"roxham\"\ndescription = \"Roxham Road attempts\"\n\
           file = \"obs.csv\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n";
    let scenario = dir.path().join("observed.toml");
    std::fs::write(&scenario, text).unwrap();
    let out = dir.path().join("val");
    let o = northbound(&[
        "validate",
        scenario.to_str().unwrap(),
        "--replicates",
        "2",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_ok(&o, "validate");
    check_figure(&out, "overlay-roxham", "Roxham Road attempts (roxham)");
    let svg = std::fs::read_to_string(out.join("overlay-roxham.svg")).unwrap();
    assert!(svg.contains("people per month") && svg.contains("STCA extension"));
    assert_redrawn_from_csvs_alone(&out, &["overlay-roxham.svg"]);
}

#[test]
fn plot_reports_a_bad_file_by_name_and_line_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "summary.csv",
        "effects.csv",
        "overlay.csv",
        "variants.csv",
        "policies.csv",
        "places.csv",
        "scenario.toml",
        "manifest.json",
    ] {
        std::fs::copy(comparison().join(f), dir.path().join(f)).unwrap();
    }
    let path = dir.path().join("summary.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "both,2023-01,Roxham Road,attempts,many,1,1,1,replicates";
    std::fs::write(&path, lines.join("\n")).unwrap();
    let o = northbound(&["plot", dir.path().to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("summary.csv:4: column \"mean\""), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.path().join("report.html").exists());
}

/// A series.csv cut short is an error naming what is missing, not months of zero attempts
/// in the report's before/after table.
#[test]
fn a_series_cut_short_is_an_error_not_zero_attempts() {
    let dir = tempfile::tempdir().unwrap();
    copy_folder(comparison(), dir.path());
    let path = dir.path().join("series.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("both,0,2023-04,Roxham Road,attempts,"))
        .collect();
    assert_eq!(kept.len() + 1, text.lines().count(), "one row removed");
    std::fs::write(&path, kept.join("\n")).unwrap();
    let o = northbound(&["plot", dir.path().to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("series.csv:")
            && err
                .contains("variant both, replicate 0: no attempts rows for 2023-04 at Roxham Road"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// minimal.toml with observed Roxham Road attempts in `dir`: monthly, with a gap from
/// March to May 2023, and two single-period series with their ratio.
fn minimal_with_gaps(dir: &Path) -> PathBuf {
    std::fs::write(
        dir.join("obs.csv"),
        "month,count\n2023-01,20\n2023-02,25\n2023-06,10\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("totals.csv"),
        "period_start,period_end,what,count\n2023-01-01,2023-06-30,ports,40\n2023-01-01,2023-06-30,irregular,200\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(minimal()).unwrap()
        + "\n[[observed]]\nname = \"roxham\"\ndescription = \"Roxham Road attempts\"\n\
           file = \"obs.csv\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n\
           \n[[observed]]\nname = \"ports\"\ndescription = \"claims at Lacolle\"\nfile = \"totals.csv\"\n\
           column = \"count\"\nfilter = { what = \"ports\" }\nmetric = \"claims\"\nplaces = [\"Lacolle\"]\n\
           aggregate = \"period\"\n\
           \n[[observed]]\nname = \"irregular\"\ndescription = \"claims at Roxham Road\"\nfile = \"totals.csv\"\n\
           column = \"count\"\nfilter = { what = \"irregular\" }\nmetric = \"claims\"\nplaces = [\"Roxham Road\"]\n\
           aggregate = \"period\"\n\
           \n[[observed]]\nname = \"ratio\"\ndescription = \"claims at Lacolle per claim at Roxham Road\"\n\
           ratio_of = [\"ports\", \"irregular\"]\n";
    let path = dir.join("gaps.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The simulated line runs through every month of a monthly series, the months the data
/// lack too, with observed points only where there are observations (validation and
/// comparison alike); a single-period series and a ratio are intervals per period, the
/// ratio on a ratio axis, as in compare's overlay; a series at one crossing puts its
/// observations on that crossing in the crossing figures.
#[test]
fn observations_with_gaps_single_periods_and_at_one_crossing() {
    let dir = tempfile::tempdir().unwrap();
    let sc = minimal_with_gaps(dir.path());
    let sc = sc.to_str().unwrap();
    let val = dir.path().join("val");
    let o = northbound(&[
        "validate",
        sc,
        "--replicates",
        "2",
        "--out",
        val.to_str().unwrap(),
        "-q",
    ]);
    assert_ok(&o, "validate");
    let months = std::fs::read_to_string(val.join("validation_months.csv")).unwrap();
    let roxham: Vec<&str> = months
        .lines()
        .filter(|l| l.starts_with("roxham,"))
        .collect();
    assert_eq!(
        roxham.len(),
        6,
        "every month from January to June:\n{months}"
    );
    assert!(roxham[2].starts_with("roxham,2023-03,"), "{months}");
    let svg = std::fs::read_to_string(val.join("overlay-roxham.svg")).unwrap();
    assert!(svg.contains("people per month"));
    // The single-period series: intervals per period, on their own axes.
    let ratio = std::fs::read_to_string(val.join("overlay-ratio.svg")).unwrap();
    assert!(
        ratio.contains(">\nratio\n</text>") && !ratio.contains("people"),
        "the ratio's axis"
    );
    assert!(
        ratio.contains("2023-01..2023-06"),
        "the period is the category"
    );
    let ports = std::fs::read_to_string(val.join("overlay-ports.svg")).unwrap();
    assert!(ports.contains("people in the period"));
    assert_redrawn_from_csvs_alone(&val, &["overlay-roxham.svg", "overlay-ratio.svg"]);

    let cmp = dir.path().join("cmp");
    let o = northbound(&[
        "compare",
        sc,
        "--replicates",
        "2",
        "--out",
        cmp.to_str().unwrap(),
        "-q",
    ]);
    assert_ok(&o, "compare");
    let months = std::fs::read_to_string(cmp.join("overlay_months.csv")).unwrap();
    assert_eq!(
        months
            .lines()
            .filter(|l| l.starts_with("neither,roxham,"))
            .count(),
        6,
        "{months}"
    );
    // Roxham Road's and Lacolle's panels show what was observed there.
    let crossings = std::fs::read_to_string(cmp.join("crossings_by_variant.svg")).unwrap();
    assert!(
        crossings.contains("observed: Roxham Road attempts (attempts)"),
        "no observations on the Roxham Road panel"
    );
    let observed = std::fs::read_to_string(cmp.join("observed_crossings.csv")).unwrap();
    assert_eq!(observed.lines().count(), 1 + 3, "{observed}");

    let run = dir.path().join("run");
    let o = northbound(&["run", sc, "--out", run.to_str().unwrap(), "-q"]);
    assert_ok(&o, "run");
    let svg = std::fs::read_to_string(run.join("crossings.svg")).unwrap();
    assert!(
        svg.contains("observed: Roxham Road attempts (attempts)"),
        "run's crossings"
    );
    assert_redrawn_from_csvs_alone(&run, &["crossings.svg", "outcomes.svg"]);
}

/// A calibration draws its figures (Nelder-Mead: the trials; ABC-SMC: the posterior and the
/// generations) from its CSV files, and `plot` redraws them from those alone, the same.
#[test]
fn a_calibration_draws_its_figures_as_plot_redraws_them() {
    let dir = tempfile::tempdir().unwrap();
    let sc = minimal_with_gaps(dir.path());
    let sc = sc.to_str().unwrap();
    let common = [
        "--fit",
        "places[\"New York City\"].move_rate=0.01..0.1",
        "--target",
        "roxham",
        "--window",
        "2023-01..2023-06",
        "-r",
        "1",
        "-q",
    ];
    let nm = dir.path().join("nm");
    let mut args = vec![
        "calibrate",
        sc,
        "--budget",
        "6",
        "--out",
        nm.to_str().unwrap(),
    ];
    args.extend(common);
    assert_ok(&northbound(&args), "calibrate");
    check_figure(&nm, "trials", "Calibration by Nelder-Mead: the trials");
    assert_redrawn_from_csvs_alone(&nm, &["trials.svg"]);
    let abc = dir.path().join("abc");
    let mut args = vec![
        "calibrate",
        sc,
        "--method",
        "abc",
        "--particles",
        "8",
        "--prior-draws",
        "16",
        "--generations",
        "1",
        "--out",
        abc.to_str().unwrap(),
    ];
    args.extend(common);
    assert_ok(&northbound(&args), "calibrate --method abc");
    check_figure(
        &abc,
        "posterior",
        "Calibration by ABC-SMC: the posterior of each parameter",
    );
    check_figure(
        &abc,
        "generations",
        "Calibration by ABC-SMC: the generations",
    );
    let svg = std::fs::read_to_string(abc.join("posterior.svg")).unwrap();
    assert!(
        svg.contains("the axis spans the prior range"),
        "the prior's range from parameters.csv"
    );
    assert_redrawn_from_csvs_alone(&abc, &["posterior.svg", "generations.svg"]);
    // A damaged file of either is named with its line and column, never a panic.
    for (from, file, expected) in [
        (
            &nm,
            "trials.csv",
            "trials.csv:3: column \"score\": \"many\" is not a number",
        ),
        (
            &abc,
            "posterior.csv",
            "posterior.csv:3: weight: \"many\" is not a number",
        ),
        (
            &abc,
            "generations.csv",
            "generations.csv:3: column \"tolerance\"",
        ),
    ] {
        let copy = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "csv") {
                std::fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
            }
        }
        let path = copy.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        // trials.csv: the score; posterior.csv: the weight; generations.csv: the tolerance.
        let column = header.iter().position(|h| *h == "score").unwrap_or(1);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
        cells[column] = "many".into();
        lines[2] = cells.join(",");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let o = northbound(&["plot", copy.path().to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(expected),
            "{file}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// The report answers the question in words, from the folder's files: findings with the
/// effects' numbers and intervals, the before/after table recomputed here from series.csv,
/// what the intervals cover, and the values the scenario marks as assumptions.
#[test]
fn the_report_answers_the_question_from_the_folder_files() {
    let dir = comparison();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let section = |id: &str| {
        let start = html
            .find(&format!("<section id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no section {id}"));
        let end = start + html[start..].find("</section>").unwrap();
        html[start..end].to_string()
    };
    let fmt = |v: f64| {
        // Whole numbers with thousands separators, as the report writes them.
        let n = v.round() as i64;
        let digits = n.abs().to_string();
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        if n < 0 { format!("\u{2212}{out}") } else { out }
    };
    // Findings: the extension alone at Roxham Road, from effects.csv, with its interval.
    let effects = std::fs::read_to_string(dir.join("effects.csv")).unwrap();
    let row: Vec<&str> = effects
        .lines()
        .find(|l| l.starts_with("extension_only,diff_roxham,"))
        .expect("the extension's effect at Roxham Road")
        .split(',')
        .collect();
    let (mean, p05, p95): (f64, f64, f64) = (
        row[3].parse().unwrap(),
        row[4].parse().unwrap(),
        row[6].parse().unwrap(),
    );
    assert!(
        p95 < 0.0,
        "the minimal scenario's extension lowers Roxham Road attempts"
    );
    let findings = section("findings");
    let expected = format!(
        "The STCA extension alone (extension_only against neither, over the window) lowers attempts at Roxham Road by {} [{} to {}]",
        fmt(-mean),
        fmt(-p95),
        fmt(-p05)
    );
    assert!(findings.contains(&expected), "{expected}\n{findings}");
    assert!(findings.contains("covers the run-to-run noise only"));

    // Before/after: both's mean monthly attempts at Roxham Road, recomputed from series.csv
    // (the extension on 2023-03-25: before = Jan-Feb 2023, after = Apr-Jun 2023).
    let series = std::fs::read_to_string(dir.join("series.csv")).unwrap();
    let mut per: std::collections::BTreeMap<(&str, bool), f64> = Default::default();
    for line in series.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[0] != "both" || c[3] != "Roxham Road" || c[4] != "attempts" {
            continue;
        }
        let months_before = ["2023-01", "2023-02"];
        let months_after = ["2023-04", "2023-05", "2023-06"];
        let v: f64 = c[5].parse().unwrap();
        if months_before.contains(&c[2]) {
            *per.entry((c[1], true)).or_default() += v / 2.0;
        } else if months_after.contains(&c[2]) {
            *per.entry((c[1], false)).or_default() += v / 3.0;
        }
    }
    let estimate = |before: bool| {
        let mut xs: Vec<f64> = per
            .iter()
            .filter(|((_, b), _)| *b == before)
            .map(|(_, v)| *v)
            .collect();
        xs.sort_by(f64::total_cmp);
        assert_eq!(xs.len(), 2, "two replicates");
        let mean = (xs[0] + xs[1]) / 2.0;
        let q = |p: f64| xs[0] + p * (xs[1] - xs[0]);
        format!("{} [{} to {}]", fmt(mean), fmt(q(0.05)), fmt(q(0.95)))
    };
    let table = section("before-after");
    let row = format!(
        "<tr><td><code>both</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
        estimate(true),
        estimate(false)
    );
    assert!(table.contains(&row), "{row}\n{table}");
    assert!(
        table.contains("2023-01 to 2023-02, 2 months")
            && table.contains("2023-04 to 2023-06, 3 months")
    );
    assert!(table.contains("2023-03, the month it falls in, is in neither"));
    assert!(table.contains("<code>neither</code> off"));

    // What the intervals cover: the manifest's uncertainty.
    let intervals = section("intervals");
    assert!(intervals.contains("<code>uncertainty</code> is <code>replicates</code>"));
    assert!(intervals.contains("Replicates only."));

    // The assumptions: values minimal.toml marks, by path, with the comment; a value with a
    // comment that is not an assumption is not listed.
    let assumptions = section("assumptions");
    assert!(
        assumptions.contains(
            "<td><code>places[&quot;Rio Grande Valley&quot;].move_rate</code></td><td><code>0.5</code></td><td>assumption: half leave the border sector each day</td>"
        ),
        "{assumptions}"
    );
    assert!(assumptions.contains("<code>behaviour.give_up_rate</code>"));
    assert!(!assumptions.contains("Roxham Road&quot;].detection"));
}
