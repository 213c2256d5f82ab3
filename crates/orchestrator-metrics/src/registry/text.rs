//! Text helpers of the exposition format: escaping, name sanitising, number formatting.

/// Appends `value` escaped as a label value: `\` → `\\`, `"` → `\"`, newline → `\n`.
pub(crate) fn escape_label_value(value: &str, out: &mut String) {
    escape(value, out, true);
}

/// Appends `text` escaped for a `# HELP` line: `\` → `\\`, newline → `\n`.
pub(crate) fn escape_help(text: &str, out: &mut String) {
    escape(text, out, false);
}

fn escape(text: &str, out: &mut String, quotes: bool) {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let replacement = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quotes => "\\\"",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(replacement);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// A valid Prometheus metric name made from `name`: characters outside `[a-zA-Z0-9_:]`
/// become `_`, and a leading digit gets a `_` in front.
pub(crate) fn sanitize_metric_name(name: &str) -> String {
    sanitize(name, true)
}

/// A valid Prometheus label name made from `name`: characters outside `[a-zA-Z0-9_]` become
/// `_`, a leading digit gets a `_` in front, and the reserved `__` prefix becomes `x_`.
pub(crate) fn sanitize_label_name(name: &str) -> String {
    let mut out = sanitize(name, false);
    if out.starts_with("__") {
        out.replace_range(0..1, "x");
    }
    out
}

fn sanitize(name: &str, allow_colon: bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    for c in name.chars() {
        let ok = c.is_ascii_alphanumeric() || c == '_' || (allow_colon && c == ':');
        out.push(if ok { c } else { '_' });
    }
    out
}

/// Appends a sample value the way Prometheus parses it: `NaN`, `+Inf`, `-Inf`, or the
/// shortest decimal that round-trips.
pub(crate) fn push_f64(value: f64, out: &mut String) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        // Whole numbers print without a fraction, like Go's strconv.FormatFloat(v, 'f', -1).
        push_u64_signed(value, out);
    } else {
        out.push_str(zmij::Buffer::new().format_finite(value));
    }
}

fn push_u64_signed(value: f64, out: &mut String) {
    // `value` is whole and below 1e15 in magnitude, so the cast is exact.
    let whole = value as i64;
    if whole == 0 && value.is_sign_negative() {
        out.push_str("-0");
    } else {
        out.push_str(itoa::Buffer::new().format(whole));
    }
}

/// Appends an unsigned integer sample value.
pub(crate) fn push_u64(value: u64, out: &mut String) {
    out.push_str(itoa::Buffer::new().format(value));
}

/// The `le` label value of a bucket bound, formatted like the Go client (`0.005`, `1`, `+Inf`).
pub(crate) fn format_le(bound: f64) -> String {
    let mut out = String::new();
    push_f64(bound, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        escape_label_value(s, &mut out);
        out
    }

    #[test]
    fn label_values_escape_backslash_quote_newline_only() {
        assert_eq!(escaped(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escaped("line\nnext\ttab é"), "line\\nnext\ttab é");
        assert_eq!(escaped(""), "");
    }

    #[test]
    fn help_keeps_quotes() {
        let mut out = String::new();
        escape_help("say \"hi\"\\\n", &mut out);
        assert_eq!(out, "say \"hi\"\\\\\\n");
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(
            sanitize_metric_name("http.server.duration"),
            "http_server_duration"
        );
        assert_eq!(sanitize_metric_name("9lives"), "_9lives");
        assert_eq!(sanitize_metric_name("a:b"), "a:b");
        assert_eq!(sanitize_label_name("a:b"), "a_b");
        assert_eq!(sanitize_label_name("__name__"), "x_name__");
        assert_eq!(sanitize_label_name(""), "_");
    }

    proptest::proptest! {
        #[test]
        fn finite_values_round_trip(v in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO) {
            let mut s = String::new();
            push_f64(v, &mut s);
            proptest::prop_assert_eq!(s.parse::<f64>().ok(), Some(v), "{}", s);
        }
    }

    #[test]
    fn numbers_format_like_prometheus_expects() {
        let f = |v: f64| {
            let mut s = String::new();
            push_f64(v, &mut s);
            s
        };
        assert_eq!(f(1.0), "1");
        assert_eq!(f(0.005), "0.005");
        assert_eq!(f(67108864.0), "67108864");
        assert_eq!(f(f64::INFINITY), "+Inf");
        assert_eq!(f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(-2.5), "-2.5");
        assert_eq!(f(1e20), "1e+20"); // Go's ParseFloat, used by Prometheus, accepts it
        assert_eq!(format_le(81.92), "81.92");
    }
}
