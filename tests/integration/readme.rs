//! The README's metric table is the catalogue's, and its whole service is the file the
//! `readme-service` crate builds and runs: these fail when they disagree.

#[test]
fn readme_metric_table_matches_the_catalogue() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = "<!-- metric-table:start -->\n";
    let end = "<!-- metric-table:end -->";
    let from = readme
        .find(start)
        .expect("README has the metric-table:start marker")
        + start.len();
    let to = readme[from..]
        .find(end)
        .expect("README has the metric-table:end marker")
        + from;
    let expected = orchestrator_telemetry::catalogue::markdown_table();
    assert_eq!(
        &readme[from..to],
        expected,
        "the README's metric table differs from the catalogue; replace it with catalogue::markdown_table()"
    );
}

#[test]
fn readme_service_is_the_readme_service_crate_verbatim() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let start = "<!-- readme-service:start -->\n```rust,no_run\n";
    let end = "```\n<!-- readme-service:end -->";
    let from = readme
        .find(start)
        .expect("README has the readme-service:start marker")
        + start.len();
    let to = readme[from..]
        .find(end)
        .expect("README has the readme-service:end marker")
        + from;
    let file = std::fs::read_to_string(format!("{root}/tests/readme-service/src/main.rs")).unwrap();
    assert_eq!(
        &readme[from..to],
        file,
        "the README's whole service differs from tests/readme-service/src/main.rs"
    );
}
