//! Parameter paths into a scenario file, such as `policies.stca_extension.window_days`,
//! `inflows[0].share` or `places["Roxham Road"].detection`, and setting a value at one while
//! keeping the rest of the file (comments, layout) as it is.
//!
//! Variants (`[[variant]]`) and calibration (`--fit`) both work this way: they edit the
//! scenario's text and validate the result like any other file.

use toml_edit::{DocumentMut, Item, Value};

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
    /// The element of an array of tables whose `name` is this.
    Named(String),
}

/// Whether a path leads into the `[policies]` table (however its first key is spelled).
pub fn is_policy(path: &str) -> bool {
    parse(path).is_ok_and(|s| matches!(s.first(), Some(Step::Key(k)) if k == "policies"))
}

/// Parses `a.b[2].c`, `places["Roxham Road"].detection` or `initial."Roxham Road"`.
pub fn parse(path: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let b = path.as_bytes();
    let mut i = 0;
    let bad = |why: &str| Err(format!("parameter path `{path}`: {why}"));
    if path.trim().is_empty() {
        return bad("empty");
    }
    while i < b.len() {
        match b[i] {
            b'.' if !steps.is_empty() => i += 1,
            b'[' => {
                let end = match path[i..].find(']') {
                    Some(e) => i + e,
                    None => return bad("a `[` without its `]`"),
                };
                let inner = path[i + 1..end].trim();
                if let Some(name) = inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                    steps.push(Step::Named(name.to_string()));
                } else {
                    match inner.parse() {
                        Ok(n) => steps.push(Step::Index(n)),
                        Err(_) => return bad("expected `[N]` or `[\"name\"]`"),
                    }
                }
                i = end + 1;
                continue;
            }
            _ => {}
        }
        if i >= b.len() {
            break;
        }
        if b[i] == b'"' {
            let end = match path[i + 1..].find('"') {
                Some(e) => i + 1 + e,
                None => return bad("an unclosed quote"),
            };
            steps.push(Step::Key(path[i + 1..end].to_string()));
            i = end + 1;
        } else {
            let end = path[i..].find(['.', '[']).map_or(b.len(), |e| i + e);
            let key = path[i..end].trim();
            if key.is_empty() {
                return bad("an empty key");
            }
            steps.push(Step::Key(key.to_string()));
            i = end;
        }
    }
    Ok(steps)
}

/// Splits tied paths, `inflows[0].share,inflows[1].share`, at the commas that are outside
/// quotes and brackets (a place's name may hold a comma). One path gives itself.
pub fn split_tied(spec: &str) -> Vec<&str> {
    let (mut out, mut from, mut quoted, mut depth) = (Vec::new(), 0, false, 0usize);
    for (i, c) in spec.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                out.push(spec[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(spec[from..].trim());
    out
}

fn keys_of(item: &Item) -> String {
    match item.as_table_like() {
        Some(t) => t
            .iter()
            .map(|(k, _)| k.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        None => String::new(),
    }
}

/// Whether the scenario holds an integer at `path` (a count of days, a capacity): a
/// value set there is then rounded, see [`number`].
pub fn holds_integer(doc: &DocumentMut, path: &str) -> bool {
    matches!(
        get(doc, path).ok().and_then(|i| i.as_value()),
        Some(Value::Integer(_))
    )
}

/// `v` as a TOML number: rounded to an integer if `integer` (the scenario holds one
/// there), a float otherwise.
pub fn number(v: f64, integer: bool) -> Value {
    if integer {
        Value::from(v.round() as i64)
    } else {
        Value::from(v)
    }
}

/// The item at a path, if there is one.
pub fn get<'d>(doc: &'d DocumentMut, path: &str) -> Result<&'d Item, String> {
    let steps = parse(path)?;
    let mut item = doc.as_item();
    for step in &steps {
        let here = || format!("parameter path `{path}`");
        item = match step {
            Step::Key(k) => item.get(k).ok_or_else(|| {
                format!("{}: no `{k}` here (there is: {})", here(), keys_of(item))
            })?,
            Step::Index(i) => {
                let len = array_len(item);
                item.get(*i).ok_or_else(|| {
                    format!("{}: index {i} is out of range ({len} elements)", here())
                })?
            }
            Step::Named(name) => find_named(item, name)
                .ok_or_else(|| format!("{}: no element named \"{name}\"", here()))?,
        };
    }
    Ok(item)
}

fn array_len(item: &Item) -> usize {
    match item {
        Item::ArrayOfTables(a) => a.len(),
        Item::Value(Value::Array(a)) => a.len(),
        _ => 0,
    }
}

fn find_named<'d>(item: &'d Item, name: &str) -> Option<&'d Item> {
    let n = array_len(item);
    (0..n)
        .map(|i| &item[i])
        .find(|el| el.get("name").and_then(|v| v.as_str()) == Some(name))
}

/// Whether the value at a path sits inside an inline table or an array, where a comment
/// cannot follow it.
pub fn is_inline(doc: &DocumentMut, path: &str) -> bool {
    let Ok(steps) = parse(path) else { return false };
    let Some((_, parents)) = steps.split_last() else {
        return false;
    };
    let mut item = doc.as_item();
    for s in parents {
        let next = match s {
            Step::Key(k) => item.get(k),
            Step::Index(i) => item.get(*i),
            Step::Named(n) => find_named(item, n),
        };
        match next {
            Some(i) => item = i,
            None => return false,
        }
    }
    matches!(item, Item::Value(_))
}

/// Sets the value at a path, keeping the old value's comments. The path must lead to an
/// existing table; its last key may be new (validation then judges it).
pub fn set(doc: &mut DocumentMut, path: &str, value: Value) -> Result<(), String> {
    put(doc, path, value, true)
}

/// Sets the value at a path with the value's own comments (replacing the old ones).
pub fn replace(doc: &mut DocumentMut, path: &str, value: Value) -> Result<(), String> {
    put(doc, path, value, false)
}

fn put(
    doc: &mut DocumentMut,
    path: &str,
    mut value: Value,
    keep_decor: bool,
) -> Result<(), String> {
    let steps = parse(path)?;
    let (last, parents) = steps
        .split_last()
        .ok_or_else(|| format!("parameter path `{path}`: empty"))?;
    // Walk with shared borrows to produce a good error, then again mutably.
    let mut prefix = String::new();
    for s in parents {
        match s {
            Step::Key(k) => prefix.push_str(&format!(".\"{k}\"")),
            Step::Index(i) => prefix.push_str(&format!("[{i}]")),
            Step::Named(n) => prefix.push_str(&format!("[\"{n}\"]")),
        }
    }
    if !parents.is_empty() {
        get(doc, prefix.trim_start_matches('.'))
            .map_err(|e| e.replace(prefix.trim_start_matches('.'), path))?;
    }
    let mut item = doc.as_item_mut();
    for s in parents {
        item = match s {
            Step::Key(k) => &mut item[k.as_str()],
            Step::Index(i) => &mut item[*i],
            Step::Named(name) => {
                let n = array_len(item);
                let idx = (0..n)
                    .find(|&i| item[i].get("name").and_then(|v| v.as_str()) == Some(name.as_str()))
                    .ok_or_else(|| {
                        format!("parameter path `{path}`: no element named \"{name}\"")
                    })?;
                &mut item[idx]
            }
        };
    }
    let slot = match last {
        Step::Key(k) => {
            let t = item
                .as_table_like_mut()
                .ok_or_else(|| format!("parameter path `{path}`: `{k}` is not inside a table"))?;
            if t.get(k).is_none() {
                t.insert(k, Item::Value(value));
                return Ok(());
            }
            t.get_mut(k).expect("checked above")
        }
        Step::Index(i) => {
            let len = array_len(item);
            if *i >= len {
                return Err(format!(
                    "parameter path `{path}`: index {i} is out of range ({len} elements)"
                ));
            }
            &mut item[*i]
        }
        Step::Named(_) => {
            return Err(format!(
                "parameter path `{path}`: ends in a named element, not a value"
            ));
        }
    };
    match slot {
        Item::Value(old) => {
            if keep_decor {
                *value.decor_mut() = old.decor().clone();
            }
            *old = value;
        }
        other => {
            return Err(format!(
                "parameter path `{path}`: is a table, not a value ({})",
                keys_of(other)
            ));
        }
    }
    Ok(())
}

/// Parses a value as TOML would on the right of `=`: `30`, `0.99`, `false`, `2023-03-25`,
/// `"text"`. A bare word that is not TOML is taken as a string.
pub fn parse_value(text: &str) -> Value {
    text.trim()
        .parse::<Value>()
        .unwrap_or_else(|_| Value::from(text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[scenario]\nseed = 1 # the seed\n\n[[places]]\nname = \"A\"\nmove_rate = 0.5\n\n[[places]]\nname = \"Roxham Road\"\ndetection = 0.99 # RCMP\n\n[behaviour.beliefs]\ninitial = { \"Roxham Road\" = 0.5 }\n";

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse("places[1].detection").unwrap(),
            vec![
                Step::Key("places".into()),
                Step::Index(1),
                Step::Key("detection".into())
            ]
        );
        assert_eq!(
            parse("places[\"Roxham Road\"].detection").unwrap()[1],
            Step::Named("Roxham Road".into())
        );
        assert_eq!(
            parse("behaviour.beliefs.initial.\"Roxham Road\"").unwrap()[3],
            Step::Key("Roxham Road".into())
        );
        assert!(parse("places[x]").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn splits_tied_paths_outside_quotes_and_brackets() {
        assert_eq!(split_tied("inflows[0].share"), ["inflows[0].share"]);
        assert_eq!(
            split_tied("inflows[0].share, inflows[1].share"),
            ["inflows[0].share", "inflows[1].share"]
        );
        assert_eq!(
            split_tied("places[\"Washington, DC\"].move_rate,a.\"b,c\""),
            ["places[\"Washington, DC\"].move_rate", "a.\"b,c\""]
        );
        assert_eq!(
            split_tied("a,,b"),
            ["a", "", "b"],
            "an empty path is kept, to be refused"
        );
    }

    #[test]
    fn sets_values_keeping_comments_and_refuses_unknown_paths() {
        let mut doc: DocumentMut = DOC.parse().unwrap();
        set(&mut doc, "scenario.seed", parse_value("7")).unwrap();
        set(
            &mut doc,
            "places[\"Roxham Road\"].detection",
            parse_value("0.5"),
        )
        .unwrap();
        set(&mut doc, "places[0].move_rate", parse_value("0.25")).unwrap();
        set(
            &mut doc,
            "behaviour.beliefs.initial.\"Roxham Road\"",
            parse_value("0.9"),
        )
        .unwrap();
        let text = doc.to_string();
        assert!(text.contains("seed = 7 # the seed"), "{text}");
        assert!(text.contains("detection = 0.5 # RCMP"), "{text}");
        assert!(text.contains("move_rate = 0.25"), "{text}");
        assert!(text.contains("\"Roxham Road\" = 0.9"), "{text}");
        assert!(is_inline(&doc, "behaviour.beliefs.initial.\"Roxham Road\""));
        assert!(!is_inline(&doc, "places[1].detection"));
        let e = set(&mut doc, "polices.x", parse_value("1")).unwrap_err();
        assert!(e.contains("no `polices` here"), "{e}");
        let e = set(&mut doc, "places[9].detection", parse_value("1")).unwrap_err();
        assert!(e.contains("index 9 is out of range (2 elements)"), "{e}");
        let e = set(&mut doc, "places[\"Lacole\"].detection", parse_value("1")).unwrap_err();
        assert!(e.contains("no element named \"Lacole\""), "{e}");
        assert_eq!(parse_value("2023-03-25").to_string().trim(), "2023-03-25");
        assert_eq!(parse_value("false").as_bool(), Some(false));
    }
}
