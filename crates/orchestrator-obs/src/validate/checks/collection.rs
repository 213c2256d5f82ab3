//! `collection`: the scrape is fast and compressed.

use super::Checks;
use crate::validate::inputs::Scrape;

pub(super) fn checks(second: &Scrape, c: &mut Checks<'_>) {
    c.presence(
        "the scrape answers within 1 s",
        second.duration_ms < 1000.0,
        format!("{:.1} ms", second.duration_ms),
    );
    c.presence(
        "gzip is offered",
        second.gzip_bytes.is_some(),
        second
            .gzip_bytes
            .map_or("no gzip answer to Accept-Encoding: gzip".to_owned(), |g| {
                format!("{} → {g} bytes", second.raw_bytes)
            }),
    );
}
