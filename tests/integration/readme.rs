//! The README's metric table is the catalogue's, and its whole service is the file the
//! `readme-service` crate builds and runs: these fail when they disagree.

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The README's text between `start` and `end`, which it must hold in that order.
fn readme_between(start: &str, end: &str) -> String {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let from = readme
        .find(start)
        .unwrap_or_else(|| panic!("README has no {start:?}"))
        + start.len();
    let to = readme[from..]
        .find(end)
        .unwrap_or_else(|| panic!("README has no {end:?} after {start:?}"))
        + from;
    readme[from..to].to_owned()
}

#[test]
fn readme_metric_table_matches_the_catalogue() {
    let table = readme_between("<!-- metric-table:start -->\n", "<!-- metric-table:end -->");
    let expected = orchestrator_telemetry::catalogue::markdown_table();
    assert_eq!(
        table, expected,
        "the README's metric table differs from the catalogue; replace it with catalogue::markdown_table()"
    );
}

#[test]
fn readme_semconv_table_matches_the_catalogue() {
    let table = readme_between(
        "<!-- semconv-table:start -->\n",
        "<!-- semconv-table:end -->",
    );
    let expected = orchestrator_telemetry::catalogue::semconv::markdown_table();
    assert_eq!(
        table, expected,
        "the README's GenAI mapping differs from the catalogue; replace it with catalogue::semconv::markdown_table()"
    );
}

#[test]
fn readme_service_is_the_readme_service_crate_verbatim() {
    let service = readme_between(
        "<!-- readme-service:start -->\n```rust,no_run\n",
        "```\n<!-- readme-service:end -->",
    );
    let file = std::fs::read_to_string(format!("{ROOT}/tests/readme-service/src/main.rs")).unwrap();
    assert_eq!(
        service, file,
        "the README's whole service differs from tests/readme-service/src/main.rs"
    );
}
