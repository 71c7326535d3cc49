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

/// A researcher can tell how they may use and cite northbound: the licence files, the SPDX
/// field, a citation file with this version, and the README's lines on citing a run.
#[test]
fn the_licence_and_the_citation_are_there_and_agree() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| {
        std::fs::read_to_string(format!("{root}/{f}")).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    assert!(read("LICENSE-MIT").contains("Permission is hereby granted, free of charge"));
    assert!(read("LICENSE-APACHE").contains("Apache License\n                        Version 2.0"));
    assert!(read("Cargo.toml").contains("\nlicense = \"MIT OR Apache-2.0\"\n"));
    let cff = read("CITATION.cff");
    assert!(cff.starts_with("cff-version: 1.2.0\n"));
    assert!(
        cff.contains(&format!("\nversion: \"{}\"\n", env!("CARGO_PKG_VERSION"))),
        "CITATION.cff gives another version than Cargo.toml"
    );
    assert!(cff.contains("  - MIT\n  - Apache-2.0\n"));
    let readme = read("README.md");
    for key in [
        "northbound_version",
        "northbound_commit",
        "scenario_sha256",
        "seed",
    ] {
        assert!(
            readme.contains(&format!("`{key}`")),
            "the README does not say to cite {key}"
        );
    }
}
