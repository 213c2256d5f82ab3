use super::*;

#[test]
fn parses_families_types_help_and_histogram_suffixes() {
    let text = "\
# HELP a_total Things.\\nSecond line.
# TYPE a_total counter
a_total{x=\"1\"} 2
a_total{x=\"2\"} 3 1700000000000
# TYPE h histogram
h_bucket{le=\"0.1\"} 1
h_bucket{le=\"+Inf\"} 2
h_sum 0.3
h_count 2
stray 1
";
    let e = parse(text).unwrap();
    assert_eq!(e.families.len(), 3);
    let a = e.family("a_total").unwrap();
    assert_eq!(a.kind, FamilyType::Counter);
    assert_eq!(a.help.as_deref(), Some("Things.\nSecond line."));
    assert_eq!(a.samples[1].timestamp_ms, Some(1_700_000_000_000));
    let h = e.family("h").unwrap();
    assert_eq!(h.kind, FamilyType::Histogram);
    assert_eq!(h.samples.len(), 4);
    assert_eq!(h.samples[1].value, 2.0);
    assert_eq!(e.family("stray").unwrap().kind, FamilyType::Untyped);
    assert_eq!(e.sum("a_total"), Some(5.0));
    assert_eq!(e.sum("missing"), None);
}

#[test]
fn special_values() {
    let e = parse("g NaN\ng2 +Inf\ng3 -Inf\ng4 1e-3\n").unwrap();
    assert!(e.samples("g").next().unwrap().value.is_nan());
    assert_eq!(e.samples("g2").next().unwrap().value, f64::INFINITY);
    assert_eq!(e.samples("g3").next().unwrap().value, f64::NEG_INFINITY);
    assert_eq!(e.samples("g4").next().unwrap().value, 0.001);
}

#[test]
fn unescapes_label_values() {
    let e = parse(r#"m{a="q\"b\\s\nn",b="é"} 1"#).unwrap();
    let s = e.samples("m").next().unwrap();
    assert_eq!(s.label("a"), Some("q\"b\\s\nn"));
    assert_eq!(s.label("b"), Some("é"));
}

#[test]
fn errors_name_the_line() {
    let cases = [
        ("ok 1\nbad{a=1} 2\n", 2, ParseErrorKind::InvalidLabelSet),
        ("m{a=\"x\\t\"} 1", 1, ParseErrorKind::InvalidEscape),
        ("\n\nm one", 3, ParseErrorKind::InvalidValue("one".into())),
        (
            "m 1 12.5",
            1,
            ParseErrorKind::InvalidTimestamp("12.5".into()),
        ),
        (
            "# TYPE m sometimes",
            1,
            ParseErrorKind::InvalidType("sometimes".into()),
        ),
        ("m{a=\"x\"", 1, ParseErrorKind::InvalidLabelSet),
        ("9m 1", 1, ParseErrorKind::InvalidMetricName),
        ("m 1 2 3", 1, ParseErrorKind::TrailingCharacters),
        ("m{1a=\"x\"} 1", 1, ParseErrorKind::InvalidLabelName),
        ("m", 1, ParseErrorKind::InvalidValue(String::new())),
    ];
    for (text, line, kind) in cases {
        let err = parse(text).unwrap_err();
        assert_eq!(err, ParseError { line, kind }, "{text:?}");
        assert!(err.to_string().starts_with(&format!("line {line}: ")));
    }
}

#[test]
fn comments_and_blank_lines_are_skipped() {
    let e = parse("# just a comment\n\n   \nm 1\r\n").unwrap();
    assert_eq!(e.sample_count(), 1);
}
