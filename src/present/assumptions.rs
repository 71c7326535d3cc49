//! The values a scenario marks as assumptions, read from its text (`scenario.toml` in a
//! result folder): a value whose comment, on its line or in the lines just above its key,
//! has a line that starts with "assumption" (the bundled scenarios' convention: `source:`,
//! `derived:`, `fitted:` or `assumption:`; a `derived:` line that mentions an assumption
//! is derived, not an assumption). Each is named by its parameter path, the way `--fit` and
//! `[[variant]]` name it, so the report can say which variants or posterior columns vary it.

use toml_edit::{DocumentMut, Item, Table, Value};

/// A value the scenario marks as an assumption.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumption {
    /// Its parameter path: `places["New York City"].move_rate`, `routes[3].cost`.
    pub path: String,
    /// What the element is, for arrays of tables without names: a route's ends, an
    /// inflow's entry.
    pub context: String,
    /// The value as the file writes it (long values shortened).
    pub value: String,
    /// The comment that marks it, without `#`.
    pub comment: String,
}

/// Whether a comment line marks an assumption.
fn marks(line: &str) -> bool {
    line.to_lowercase().starts_with("assumption")
}

/// The comment of a decor from its first line that marks an assumption to its end (the
/// lines before it are about something else, such as a section's heading), joined.
fn marking_lines(raw: Option<&str>) -> Option<String> {
    let lines: Vec<&str> = raw?
        .lines()
        .map(|l| l.trim().trim_start_matches('#').trim())
        .filter(|l| !l.is_empty())
        .collect();
    let first = lines.iter().position(|l| marks(l))?;
    Some(lines[first..].join(" "))
}

/// A value as written, without its decor, at most 90 characters.
fn value_text(v: &Value) -> String {
    let mut v = v.clone();
    v.decor_mut().clear();
    let text = v.to_string();
    let text = text.trim();
    if text.chars().count() > 90 {
        let cut: String = text.chars().take(87).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    }
}

/// The values `text` (a scenario file) marks as assumptions, in the file's order. Tables
/// of observed series and variants are left out: they are not parameters. Text that is
/// not TOML gives none.
pub fn assumptions(text: &str) -> Vec<Assumption> {
    let Ok(doc) = text.parse::<DocumentMut>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(doc.as_table(), "", "", &mut out);
    out
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn walk(table: &Table, prefix: &str, context: &str, out: &mut Vec<Assumption>) {
    for (key, item) in table.iter() {
        if prefix.is_empty() && matches!(key, "observed" | "variant") {
            continue;
        }
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        match item {
            Item::Value(v) => {
                let above = table
                    .key(key)
                    .and_then(|k| k.leaf_decor().prefix())
                    .and_then(|r| r.as_str());
                let after = v.decor().suffix().and_then(|r| r.as_str());
                if let Some(comment) = marking_lines(after).or_else(|| marking_lines(above)) {
                    out.push(Assumption {
                        path,
                        context: context.to_string(),
                        value: value_text(v),
                        comment,
                    });
                }
            }
            Item::Table(t) => walk(t, &path, context, out),
            Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    let s = |k: &str| t.get(k).and_then(Item::as_str).map(str::to_string);
                    let (element, context) = match (s("name"), s("from"), s("to"), s("entry")) {
                        (Some(name), ..) => (format!("{path}[{}]", quoted(&name)), String::new()),
                        (None, Some(from), Some(to), _) => {
                            (format!("{path}[{i}]"), format!("{from} \u{2192} {to}"))
                        }
                        (None, _, _, Some(entry)) => {
                            (format!("{path}[{i}]"), format!("entry {entry}"))
                        }
                        _ => (format!("{path}[{i}]"), String::new()),
                    };
                    walk(t, &element, &context, out);
                }
            }
            Item::None => {}
        }
    }
}

/// Whether the parameter path `over` (of a variant's override or a posterior's column)
/// sets `path` or a value inside it.
pub fn covers(over: &str, path: &str) -> bool {
    over == path
        || over
            .strip_prefix(path)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_marked_on_their_line_or_above_are_found_by_path() {
        let text = r#"
[scenario]
name = "x"
scale = 1                  # one agent is one person

[[places]]
name = "New York City"
move_rate = 0.03           # assumption: a guess
detection = 0.99           # source: a file

[[routes]]
from = "A"
to = "B"
cost = 250                 # Assumption
travel_days = { dist = "uniform", min = 2, max = 6 }   # assumption: bus

[behaviour.choice]
# ---------------- the choice
# assumption: per day of travel,
# as a guess
time = 0.1
risk = 3.0
cost = 0.002   # derived: 1 / 500 dollars (assumption A1 of the source)
scale = 1.0    # fitted: the assumption-free fit

[[variant]]
name = "v"
set = { "places[\"New York City\"].move_rate" = 0.5 }  # assumption in a variant: left out
"#;
        let found = assumptions(text);
        let paths: Vec<&str> = found.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "places[\"New York City\"].move_rate",
                "routes[0].cost",
                "routes[0].travel_days",
                "behaviour.choice.time"
            ]
        );
        assert_eq!(found[0].value, "0.03");
        assert_eq!(found[0].comment, "assumption: a guess");
        assert_eq!(found[1].context, "A \u{2192} B");
        assert_eq!(found[2].value, "{ dist = \"uniform\", min = 2, max = 6 }");
        // The whole block from its marking line on, not the heading above it.
        assert_eq!(
            found[3].comment,
            "assumption: per day of travel, as a guess"
        );
        assert!(assumptions("not = [toml").is_empty());
    }

    #[test]
    fn an_override_covers_the_value_or_what_is_inside_it() {
        let p = "policies.stca_extension.daily_detection";
        assert!(covers(p, p));
        assert!(covers(&format!("{p}.\"Roxham Road\""), p));
        assert!(!covers("policies.stca_extension.daily_detection_x", p));
        assert!(!covers("policies.stca_extension", p));
    }
}
