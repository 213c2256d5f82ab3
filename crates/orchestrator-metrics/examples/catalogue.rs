//! Prints the metric catalogue as a Markdown table (the README's table is this output).
//!
//! `cargo run -p orchestrator-metrics --example catalogue`

fn main() {
    print!("{}", orchestrator_metrics::catalogue::markdown_table());
}
