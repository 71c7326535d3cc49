//! The README shows scenarios/minimal.toml in full; this keeps the copy true.

#[test]
fn readme_shows_the_minimal_scenario_as_it_is() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let file = std::fs::read_to_string(format!("{root}/scenarios/minimal.toml")).unwrap();
    let start = readme
        .find("<!-- minimal.toml begins -->\n```toml\n")
        .expect("begin marker")
        + "<!-- minimal.toml begins -->\n```toml\n".len();
    let end = readme
        .find("```\n<!-- minimal.toml ends -->")
        .expect("end marker");
    assert_eq!(
        &readme[start..end],
        file,
        "README's copy of scenarios/minimal.toml is out of date"
    );
}
