//! A scenario with the data files it reads, copied into a folder so that it runs from there.
//!
//! Every result folder holds `scenario.toml` and, under `data/`, every CSV file the scenario
//! read (its inflows' and observed series' `file`s), with the paths in the copy rewritten to
//! the copies: `northbound run RESULT/scenario.toml` works wherever the folder is moved.
//! `northbound init` writes a scenario the same way. A path that already reads `data/...`
//! (relative, without `..`) keeps its place, so a bundled scenario's text is copied
//! unchanged, byte for byte (and keeps its SHA-256); any other (absolute, or leading out of
//! the scenario's folder) becomes `data/<file name>`, numbered if two files share a name.
//! Beside files that keep their place goes the `SOURCES.md` of their folder, if it has one.

use crate::scenario::{Scenario, paths};
use crate::util::error::{Error, Result};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use toml_edit::{DocumentMut, Value};

/// The folder, inside a result folder, that holds the copied data files.
pub const DATA: &str = "data";

/// The file beside a folder of data that says where its numbers come from.
const SOURCES: &str = "SOURCES.md";

/// One data file of a scenario: its `file` value as written, where it was read from, and
/// its path in the copy (relative, `/`-separated).
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    pub written: String,
    pub source: PathBuf,
    pub copy: String,
    /// The bytes the scenario read ([`Scenario::data`]): what is copied, whatever the file
    /// on disk holds by then. (`None` for a `SOURCES.md` note, copied from the disk, whose
    /// `written` is empty.)
    pub bytes: Option<Arc<[u8]>>,
}

/// The data files a scenario reads, each with the path of its copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataFiles {
    pub files: Vec<DataFile>,
}

/// The tables of a scenario that name files, and their `file` key.
const FILE_TABLES: [&str; 2] = ["inflows", "observed"];

/// Where a scenario document names a data file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileKey {
    /// A table's `file`, as a parameter path (`inflows[0].file`).
    Table(String),
    /// A value a variant sets: the variant's index and the key in its `set` as written
    /// (`inflows[0].file`, `observed["roxham"].file`).
    Variant(usize, String),
}

/// The variants of a document, as an array of tables (`[[variant]]`) or an inline array.
fn variants(doc: &DocumentMut) -> Vec<&dyn toml_edit::TableLike> {
    match doc.get("variant") {
        Some(toml_edit::Item::ArrayOfTables(a)) => {
            a.iter().map(|t| t as &dyn toml_edit::TableLike).collect()
        }
        Some(toml_edit::Item::Value(Value::Array(a))) => a
            .iter()
            .filter_map(|v| v.as_inline_table())
            .map(|t| t as &dyn toml_edit::TableLike)
            .collect(),
        _ => Vec::new(),
    }
}

/// [`variants`], to change.
fn variants_mut(doc: &mut DocumentMut) -> Vec<&mut dyn toml_edit::TableLike> {
    match doc.get_mut("variant") {
        Some(toml_edit::Item::ArrayOfTables(a)) => a
            .iter_mut()
            .map(|t| t as &mut dyn toml_edit::TableLike)
            .collect(),
        Some(toml_edit::Item::Value(Value::Array(a))) => a
            .iter_mut()
            .filter_map(|v| v.as_inline_table_mut())
            .map(|t| t as &mut dyn toml_edit::TableLike)
            .collect(),
        _ => Vec::new(),
    }
}

/// The data files a scenario document names, with where: its tables' (`inflows[0].file`)
/// and those its variants set, so that a variant that reads another file runs from the
/// copy too.
pub fn file_keys(doc: &DocumentMut) -> Vec<(FileKey, String)> {
    let mut out = Vec::new();
    for table in FILE_TABLES {
        let n = match doc.get(table) {
            Some(toml_edit::Item::ArrayOfTables(a)) => a.len(),
            Some(toml_edit::Item::Value(Value::Array(a))) => a.len(),
            _ => 0,
        };
        for i in 0..n {
            let key = format!("{table}[{i}].file");
            if let Some(v) = paths::get(doc, &key)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
            {
                out.push((FileKey::Table(key), v));
            }
        }
    }
    for (i, v) in variants(doc).into_iter().enumerate() {
        let Some(set) = v.get("set").and_then(|s| s.as_table_like()) else {
            continue;
        };
        for (key, x) in set.iter() {
            if let Some(value) = x.as_str()
                && names_a_file(key)
            {
                out.push((FileKey::Variant(i, key.to_string()), value.to_string()));
            }
        }
    }
    out
}

/// Writes `value` where `at` names a data file, keeping the old value's decor.
pub fn set_file(
    doc: &mut DocumentMut,
    at: &FileKey,
    value: &str,
) -> std::result::Result<(), String> {
    let mut new = Value::from(value);
    match at {
        FileKey::Table(key) => {
            if let Some(old) = paths::get(doc, key).ok().and_then(|i| i.as_value()) {
                *new.decor_mut() = old.decor().clone();
            }
            paths::set(doc, key, new)
        }
        FileKey::Variant(i, key) => {
            let mut variants = variants_mut(doc);
            let slot = variants
                .get_mut(*i)
                .and_then(|v| v.get_mut("set"))
                .and_then(|s| s.as_table_like_mut())
                .and_then(|set| set.get_mut(key))
                .and_then(|x| x.as_value_mut())
                .ok_or_else(|| format!("variant {i}: no `{key}` in its `set`"))?;
            *new.decor_mut() = slot.decor().clone();
            *slot = new;
            Ok(())
        }
    }
}

/// Whether a parameter path is a data file's: `inflows[N].file` or `observed[N].file`, the
/// element given by its index or its name (`observed["roxham"].file`).
fn names_a_file(path: &str) -> bool {
    use crate::scenario::paths::Step;
    matches!(
        paths::parse(path).as_deref(),
        Ok([Step::Key(table), Step::Index(_) | Step::Named(_), Step::Key(file)])
            if FILE_TABLES.contains(&table.as_str()) && file == "file"
    )
}

/// A relative path of plain names (no `..`, no root) that starts with `data/`.
fn keeps_its_place(written: &str) -> bool {
    let p = Path::new(written);
    let mut parts = p.components();
    matches!(parts.next(), Some(Component::Normal(first)) if first == DATA)
        && parts.clone().next().is_some()
        && parts.all(|c| matches!(c, Component::Normal(_)))
}

/// `data/<name>`, or `data/<stem>-2.<ext>` and so on if `taken` has it.
fn free_name(name: &str, taken: &[String]) -> String {
    let candidate = format!("{DATA}/{name}");
    if !taken.contains(&candidate) {
        return candidate;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|k| format!("{DATA}/{stem}-{k}{ext}"))
        .find(|c| !taken.contains(c))
        .unwrap_or(candidate)
}

impl DataFiles {
    /// The data files `sc` reads, and where their copies go.
    pub fn of(sc: &Scenario) -> Result<DataFiles> {
        let from = sc.path.parent().unwrap_or(Path::new("."));
        let mut written: Vec<String> = Vec::new();
        for (_, w) in file_keys(&sc.document()?) {
            if !written.contains(&w) {
                written.push(w);
            }
        }
        // Paths under data/ keep their place first; the others take the names left.
        let mut copies: Vec<Option<String>> = written
            .iter()
            .map(|w| keeps_its_place(w).then(|| w.replace('\\', "/")))
            .collect();
        for (k, w) in written.iter().enumerate() {
            if copies[k].is_none() {
                let taken: Vec<String> = copies.iter().flatten().cloned().collect();
                let name = Path::new(w)
                    .file_name()
                    .map_or("data.csv".into(), |n| n.to_string_lossy().into_owned());
                copies[k] = Some(free_name(&name, &taken));
            }
        }
        let files = written
            .into_iter()
            .zip(copies)
            .map(|(w, copy)| {
                let source = from.join(&w);
                DataFile {
                    bytes: sc.data.get(&source).cloned(),
                    source,
                    copy: copy.unwrap_or_default(),
                    written: w,
                }
            })
            .collect();
        Ok(DataFiles { files })
    }

    /// Copies every data file into `dir` (under `data/`), and with the files that keep their
    /// place the `SOURCES.md` beside them, if there is one (the bundled data's is).
    pub fn copy_into(&self, dir: &Path) -> Result<()> {
        let mut notes: Vec<DataFile> = Vec::new();
        for f in self.files.iter().filter(|f| f.copy == f.written) {
            let (Some(from), Some(to)) = (f.source.parent(), Path::new(&f.copy).parent()) else {
                continue;
            };
            let source = from.join(SOURCES);
            let copy = to.join(SOURCES).to_string_lossy().replace('\\', "/");
            if crate::data::is_file(&source) && !notes.iter().any(|n| n.copy == copy) {
                notes.push(DataFile {
                    written: String::new(),
                    source,
                    copy,
                    bytes: None,
                });
            }
        }
        for f in self.files.iter().chain(&notes) {
            let to = dir.join(&f.copy);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
            }
            let cannot = |e: std::io::Error| Error::Output {
                path: to.clone(),
                message: format!("cannot copy the data file {}: {e}", f.source.display()),
            };
            match (&f.bytes, crate::data::bundled(&f.source)) {
                (Some(bytes), _) => std::fs::write(&to, bytes).map_err(cannot)?,
                // A data file is copied as the scenario read it, never read again.
                (None, _) if !f.written.is_empty() => {
                    return Err(Error::Output {
                        path: f.source.clone(),
                        message: format!(
                            "the scenario names this data file ({}) but did not read it when it loaded",
                            f.written
                        ),
                    });
                }
                (None, Some(text)) => std::fs::write(&to, text).map_err(cannot)?,
                (None, None) => {
                    let mut from =
                        crate::util::files::open_regular(&f.source, crate::util::files::DATA_LIMIT)
                            .map_err(cannot)?;
                    let mut out = std::fs::File::create(&to).map_err(cannot)?;
                    std::io::copy(&mut from, &mut out).map_err(cannot)?;
                }
            }
        }
        Ok(())
    }

    /// `text`, a scenario with the same `file` keys as the one these files are of, with each
    /// path replaced by its copy's (the text is returned as it is where nothing changes).
    pub fn rewrite(&self, path: &Path, text: &str) -> Result<String> {
        if self.files.iter().all(|f| f.copy == f.written) {
            return Ok(text.to_string());
        }
        let mut doc: DocumentMut =
            text.parse()
                .map_err(|e: toml_edit::TomlError| Error::Parse {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
        for (key, written) in file_keys(&doc) {
            if let Some(f) = self.files.iter().find(|f| f.written == written) {
                set_file(&mut doc, &key, &f.copy).map_err(|message| Error::Output {
                    path: path.to_path_buf(),
                    message,
                })?;
            }
        }
        Ok(doc.to_string())
    }
}

/// Writes `sc` into `dir` as `name` (e.g. `scenario.toml`), its data paths rewritten to the
/// copies of its data files, which go under `dir/data/`: a scenario that runs from `dir`
/// wherever it is moved. Returns the data files.
pub fn write_scenario(dir: &Path, name: &str, sc: &Scenario) -> Result<DataFiles> {
    let files = DataFiles::of(sc)?;
    files.copy_into(dir)?;
    let text = String::from_utf8_lossy(&sc.source);
    let path = dir.join(name);
    std::fs::write(&path, files.rewrite(&sc.path, &text)?).map_err(|e| Error::write(&path, e))?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_data_keep_their_place_and_others_get_one() {
        assert!(keeps_its_place("data/observed/x.csv"));
        assert!(keeps_its_place("data/x.csv"));
        assert!(!keeps_its_place("data"));
        assert!(!keeps_its_place("../data/x.csv"));
        assert!(!keeps_its_place("data/../../x.csv"));
        assert!(!keeps_its_place("/data/x.csv"));
        assert!(!keeps_its_place("x.csv"));
        assert!(!keeps_its_place("observed/x.csv"));
        let taken = vec!["data/x.csv".to_string(), "data/x-2.csv".to_string()];
        assert_eq!(free_name("x.csv", &taken), "data/x-3.csv");
        assert_eq!(free_name("y.csv", &taken), "data/y.csv");
    }

    #[test]
    fn a_scenario_with_files_anywhere_is_copied_to_run_from_its_folder() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("study");
        std::fs::create_dir_all(src.join("data")).unwrap();
        std::fs::create_dir_all(d.path().join("shared")).unwrap();
        let rates =
            "month,x\n2023-01,60\n2023-02,60\n2023-03,60\n2023-04,60\n2023-05,60\n2023-06,60\n";
        std::fs::write(d.path().join("shared/rates.csv"), rates).unwrap();
        std::fs::write(src.join("data/rates.csv"), rates.replace("60", "70")).unwrap();
        std::fs::write(d.path().join("shared/obs.csv"), "month,count\n2023-02,9\n").unwrap();
        let minimal = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let text = std::fs::read_to_string(minimal).unwrap();
        let monthly = text.lines().find(|l| l.starts_with("monthly = ")).unwrap();
        let obs = d.path().join("shared/obs.csv");
        let text = text.replace(
            monthly,
            "file = \"../shared/rates.csv\"  # the shared rates\ncolumn = \"x\"",
        ) + &format!(
            "\n[[inflows]]\nentry = \"Rio Grande Valley\"\nfile = \"data/rates.csv\"\ncolumn = \"x\"\n\
             nationalities = {{ \"Haiti\" = 1.0 }}\np_family_in_canada = 0.2\n\
             p_unaccompanied_minor = 0.0\np_canadian_document = 0.0\n\n\
             [[observed]]\nname = \"o\"\nfile = \"{}\"\nmetric = \"attempts\"\nplaces = [\"Roxham Road\"]\n",
            obs.display()
        );
        let path = src.join("study.toml");
        std::fs::write(&path, &text).unwrap();
        let sc = Scenario::load(&path).unwrap();
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let files = write_scenario(&out, "scenario.toml", &sc).unwrap();
        let copies: Vec<&str> = files.files.iter().map(|f| f.copy.as_str()).collect();
        assert_eq!(
            copies,
            ["data/rates-2.csv", "data/rates.csv", "data/obs.csv"]
        );
        let copied = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
        assert!(
            copied.contains("file = \"data/rates-2.csv\"  # the shared rates"),
            "{copied}"
        );
        // Moved elsewhere, with the originals gone, it loads and reads the same numbers.
        let moved = d.path().join("moved");
        std::fs::rename(&out, &moved).unwrap();
        std::fs::remove_dir_all(d.path().join("shared")).unwrap();
        std::fs::remove_dir_all(&src).unwrap();
        let again = Scenario::load(&moved.join("scenario.toml")).unwrap();
        assert_eq!(again.inflows[0].monthly, sc.inflows[0].monthly);
        assert_eq!(again.inflows[1].monthly, sc.inflows[1].monthly);
        assert_eq!(again.observed[0].points, sc.observed[0].points);
    }

    #[test]
    fn a_data_file_changed_after_loading_changes_neither_the_copy_nor_a_variant() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("data")).unwrap();
        let rates =
            "month,x\n2023-01,60\n2023-02,60\n2023-03,60\n2023-04,60\n2023-05,60\n2023-06,60\n";
        let file = d.path().join("data/rates.csv");
        std::fs::write(&file, rates).unwrap();
        let minimal = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let text = std::fs::read_to_string(minimal).unwrap();
        let monthly = text.lines().find(|l| l.starts_with("monthly = ")).unwrap();
        let text = text.replace(monthly, "file = \"data/rates.csv\"\ncolumn = \"x\"");
        let path = d.path().join("study.toml");
        std::fs::write(&path, &text).unwrap();
        let sc = Scenario::load(&path).unwrap();
        assert_eq!(sc.data.len(), 1);
        // The file changes on disk while the scenario is in use.
        std::fs::write(&file, rates.replace("60", "99")).unwrap();
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        write_scenario(&out, "scenario.toml", &sc).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("data/rates.csv")).unwrap(),
            rates
        );
        // A scenario derived from it reads the bytes it read, even with the file gone.
        std::fs::remove_file(&file).unwrap();
        let set = vec![(
            "behaviour.give_up_rate".to_string(),
            toml_edit::Value::from(0.002),
        )];
        let derived = sc.with_overrides(&set, "test").unwrap();
        assert_eq!(derived.inflows[0].monthly, sc.inflows[0].monthly);
        assert_eq!(derived.data, sc.data);
        // Loaded afresh, the missing file is an error naming it.
        let e = Scenario::load(&path).unwrap_err().to_string();
        assert!(e.contains("no such file") && e.contains("rates.csv"), "{e}");
    }

    #[test]
    fn a_variant_that_reads_another_file_runs_from_the_copy() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("study");
        std::fs::create_dir_all(d.path().join("other")).unwrap();
        std::fs::create_dir_all(&src).unwrap();
        let months = [
            "2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06",
        ];
        let rates = |n: u32| {
            months
                .iter()
                .fold("month,x\n".to_string(), |t, m| t + &format!("{m},{n}\n"))
        };
        std::fs::write(src.join("rates.csv"), rates(60)).unwrap();
        std::fs::write(d.path().join("other/rates.csv"), rates(90)).unwrap();
        let minimal = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/minimal.toml");
        let text = std::fs::read_to_string(minimal).unwrap();
        let monthly = text.lines().find(|l| l.starts_with("monthly = ")).unwrap();
        let text = text.replace(monthly, "file = \"rates.csv\"\ncolumn = \"x\"")
            + "\n[[variant]]\nname = \"more\"\nset = { \"inflows[0].file\" = \"../other/rates.csv\" }\n";
        let path = src.join("study.toml");
        std::fs::write(&path, &text).unwrap();
        let sc = Scenario::load(&path).unwrap();
        assert_eq!(sc.data.len(), 2, "the base's file and the variant's");
        let more = sc.variant("more").unwrap().inflows[0].monthly.clone();
        assert_ne!(more, sc.inflows[0].monthly);
        // Written out, moved, with the originals gone: the variant reads its copy.
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let files = write_scenario(&out, "scenario.toml", &sc).unwrap();
        let copies: Vec<&str> = files.files.iter().map(|f| f.copy.as_str()).collect();
        assert_eq!(copies, ["data/rates.csv", "data/rates-2.csv"]);
        let copied = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
        assert!(
            copied.contains("\"inflows[0].file\" = \"data/rates-2.csv\""),
            "{copied}"
        );
        let moved = d.path().join("moved");
        std::fs::rename(&out, &moved).unwrap();
        std::fs::remove_dir_all(&src).unwrap();
        std::fs::remove_dir_all(d.path().join("other")).unwrap();
        let again = Scenario::load(&moved.join("scenario.toml")).unwrap();
        assert_eq!(again.inflows[0].monthly, sc.inflows[0].monthly);
        assert_eq!(again.variant("more").unwrap().inflows[0].monthly, more);
    }

    #[test]
    fn every_way_of_writing_a_variants_file_is_found_and_rewritten() {
        let doc: DocumentMut = r#"
[[observed]]
name = "roxham"
file = "obs.csv"

[[variant]]
name = "a"
set = { 'observed["roxham"].file' = "../a.csv", 'inflows[0]."file"' = "../b.csv" }

[[variant]]
name = "b"
[variant.set]
"inflows[0].file" = "../c.csv"   # kept
"behaviour.give_up_rate" = 0.002
"#
        .parse()
        .unwrap();
        let keys = file_keys(&doc);
        let values: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
        assert_eq!(values, ["obs.csv", "../a.csv", "../b.csv", "../c.csv"]);
        let mut doc = doc;
        for (key, _) in &keys {
            set_file(&mut doc, key, "data/x.csv").unwrap();
        }
        let text = doc.to_string();
        assert_eq!(text.matches("\"data/x.csv\"").count(), 4, "{text}");
        assert!(text.contains("\"data/x.csv\"   # kept"), "{text}");
        // Variants as an inline array.
        let inline: DocumentMut =
            "variant = [ { name = \"a\", set = { \"inflows[0].file\" = \"../d.csv\" } } ]\n"
                .parse()
                .unwrap();
        assert_eq!(
            file_keys(&inline),
            [(
                FileKey::Variant(0, "inflows[0].file".into()),
                "../d.csv".into()
            )]
        );
    }

    #[test]
    fn the_bundled_scenario_is_copied_unchanged_with_its_data() {
        let sc = Scenario::bundled_default().unwrap();
        let d = tempfile::tempdir().unwrap();
        let files = write_scenario(d.path(), "scenario.toml", &sc).unwrap();
        assert!(files.files.iter().all(|f| f.copy == f.written));
        assert_eq!(
            std::fs::read(d.path().join("scenario.toml")).unwrap(),
            sc.source
        );
        assert!(d.path().join("data/observed/SOURCES.md").is_file());
        let again = Scenario::load(&d.path().join("scenario.toml")).unwrap();
        assert_eq!(again.observed.len(), sc.observed.len());
        assert_eq!(again.inflows[0].monthly, sc.inflows[0].monthly);
    }
}
