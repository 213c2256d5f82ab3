//! Escaping for report.md: text that came from the target stays text.

/// Text from the target, made inert in Markdown: a KPI name, an alert title or an error
/// cannot break out of its table cell or line, open a link or an image, start code, or
/// inject HTML (`<` and `&` are escaped; `>` alone opens nothing inside a line). Emphasis
/// characters are left: they change nothing but the look.
pub(crate) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    /// Issue 14, row 13: Markdown and HTML from a hostile target stay text in report.md.
    #[test]
    fn hostile_text_is_escaped() {
        let hostile =
            "KPI | x\n## Owned [click](http://evil) <img src=x onerror=alert(1)> `code` *bold*";
        let escaped = super::md(hostile);
        assert!(!escaped.contains('\n'));
        assert!(escaped.contains("\\| x"));
        assert!(escaped.contains("## Owned \\[click\\](http://evil)"));
        assert!(escaped.contains("&lt;img src=x onerror=alert(1)>"));
        assert!(escaped.contains("\\`code\\`"));
        assert!(!escaped.contains("<img"));
    }
}
