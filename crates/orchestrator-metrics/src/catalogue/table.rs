//! The catalogue as a Markdown table, for the README (a test keeps the two equal).

use super::{ALL, LabelSource, MetricKind};
use std::fmt::Write as _;

/// The catalogue as a Markdown table: name, type, unit, labels, buckets and help.
///
/// Guarded labels (values that can come from outside) are marked with `*`.
pub fn markdown_table() -> String {
    let mut out = String::from("| metric | type | unit | labels | buckets | help |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for def in ALL {
        let labels: Vec<String> = def
            .labels
            .iter()
            .map(|l| match l.source {
                LabelSource::Guarded => format!("{}*", l.name),
                LabelSource::Closed(_) => l.name.to_owned(),
            })
            .collect();
        let buckets = match def.kind {
            MetricKind::Histogram => format!(
                "{} ({}…{})",
                def.buckets.len(),
                def.buckets.first().copied().unwrap_or_default(),
                def.buckets.last().copied().unwrap_or_default()
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            def.name,
            def.kind,
            def.unit.as_str(),
            labels.join(", "),
            buckets,
            def.help
        );
    }
    out
}
