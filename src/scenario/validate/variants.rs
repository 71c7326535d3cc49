//! `[[variant]]`: named sets of parameter overrides for `northbound compare`, each path tried
//! on a copy of the scenario's text so that a misspelt one is refused when the file loads.

use super::Checker;
use crate::scenario::raw::RawVariant;
use crate::scenario::{Variant, paths};

/// `source` is the scenario's text, on which each override is tried.
pub(super) fn variants(c: &mut Checker, raw: &[RawVariant], source: &[u8]) -> Vec<Variant> {
    let text = String::from_utf8_lossy(source);
    let doc: Option<toml_edit::DocumentMut> = text.parse().ok();
    let mut out = Vec::new();
    for (i, v) in raw.iter().enumerate() {
        if raw[..i].iter().any(|x| x.name == v.name) {
            c.err(
                format!("variant[{i}].name"),
                format!("\"{}\" is used by an earlier variant", v.name),
            );
        }
        let mut set = Vec::new();
        for (path, value) in &v.set {
            let value = paths::parse_value(&value.to_string());
            if let Some(doc) = &doc {
                let mut trial = doc.clone();
                if let Err(e) = paths::set(&mut trial, path, value.clone()) {
                    c.err(format!("variant[{i}].set.\"{path}\""), e);
                }
            }
            set.push((path.clone(), value));
        }
        out.push(Variant {
            name: v.name.clone(),
            description: v.description.clone(),
            set,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{checker, raw};
    use super::*;

    const SOURCE: &str = "[policies.stca_extension]\nwindow_days = 14\n";

    #[test]
    fn overrides_are_kept_and_unknown_paths_refused() {
        let mut c = checker();
        let text = r#"
            [[variant]]
            name = "window30"
            set = { "policies.stca_extension.window_days" = 30 }

            [[variant]]
            name = "window30"
            set = { "policies.stca_extenshun.window_days" = 30 }
        "#;
        let raw_variants: Vec<RawVariant> = raw("variant", text);
        let out = variants(&mut c, &raw_variants, SOURCE.as_bytes());
        assert_eq!(out[0].name, "window30");
        assert_eq!(out[0].set[0].0, "policies.stca_extension.window_days");
        assert_eq!(out[0].set[0].1.as_integer(), Some(30));
        assert_eq!(
            c.problems,
            [
                "variant[1].name: \"window30\" is used by an earlier variant",
                "variant[1].set.\"policies.stca_extenshun.window_days\": parameter path `policies.stca_extenshun.window_days`: no `stca_extenshun` here (there is: stca_extension)",
            ]
        );
    }
}
