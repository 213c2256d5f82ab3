//! The README's metric table is the catalogue's: this fails when they disagree.

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
