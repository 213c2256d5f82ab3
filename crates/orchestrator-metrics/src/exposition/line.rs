//! Parsing single lines of the exposition format.

use super::{ParseErrorKind, Sample};

pub(super) enum DescriptorKind {
    Help(String),
    Type(String),
}

pub(super) struct Descriptor {
    pub(super) name: String,
    pub(super) kind: DescriptorKind,
}

/// Parses the text after `#`: a `HELP` or `TYPE` descriptor, or `None` for a plain comment.
pub(super) fn descriptor(comment: &str) -> Result<Option<Descriptor>, ParseErrorKind> {
    let rest = comment.trim_start_matches([' ', '\t']);
    let (keyword, rest) = split_word(rest);
    if keyword != "HELP" && keyword != "TYPE" {
        return Ok(None);
    }
    let (name, rest) = split_word(rest.trim_start_matches([' ', '\t']));
    if name.is_empty() {
        return Err(ParseErrorKind::InvalidDescriptor);
    }
    if !valid_metric_name(name) {
        return Err(ParseErrorKind::InvalidMetricName);
    }
    let text = rest.strip_prefix([' ', '\t']).unwrap_or(rest);
    let kind = if keyword == "HELP" {
        DescriptorKind::Help(unescape_help(text))
    } else {
        DescriptorKind::Type(text.trim().to_owned())
    };
    Ok(Some(Descriptor {
        name: name.to_owned(),
        kind,
    }))
}

fn split_word(s: &str) -> (&str, &str) {
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    s.split_at(end)
}

fn unescape_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            // Other escapes in help text are kept literally, as Prometheus does.
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses a sample line.
pub(super) fn sample(line: &str) -> Result<Sample, ParseErrorKind> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || !valid_metric_name(name) {
        return Err(ParseErrorKind::InvalidMetricName);
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = label_set(after, &mut labels)?;
    }
    let mut words = rest.split([' ', '\t']).filter(|w| !w.is_empty());
    let value_text = words
        .next()
        .ok_or_else(|| ParseErrorKind::InvalidValue(String::new()))?;
    let value = parse_value(value_text)?;
    let timestamp_ms = match words.next() {
        None => None,
        Some(ts) => Some(
            ts.parse::<i64>()
                .map_err(|_| ParseErrorKind::InvalidTimestamp(ts.to_owned()))?,
        ),
    };
    if words.next().is_some() {
        return Err(ParseErrorKind::TrailingCharacters);
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
        timestamp_ms,
    })
}

fn parse_value(text: &str) -> Result<f64, ParseErrorKind> {
    let invalid = || ParseErrorKind::InvalidValue(text.to_owned());
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ if text
            .bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') =>
        {
            Err(invalid())
        }
        _ => text.parse::<f64>().map_err(|_| invalid()),
    }
}

/// Parses `name="value",...}` and returns what follows the closing brace.
fn label_set<'a>(
    mut s: &'a str,
    labels: &mut Vec<(String, String)>,
) -> Result<&'a str, ParseErrorKind> {
    loop {
        s = s.trim_start_matches([' ', '\t']);
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let name_end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or(ParseErrorKind::InvalidLabelSet)?;
        let name = &s[..name_end];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(ParseErrorKind::InvalidLabelName);
        }
        s = s[name_end..].trim_start_matches([' ', '\t']);
        s = s.strip_prefix('=').ok_or(ParseErrorKind::InvalidLabelSet)?;
        s = s.trim_start_matches([' ', '\t']);
        s = s.strip_prefix('"').ok_or(ParseErrorKind::InvalidLabelSet)?;
        let (value, rest) = label_value(s)?;
        labels.push((name.to_owned(), value));
        s = rest.trim_start_matches([' ', '\t']);
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.starts_with('}') {
            return Err(ParseErrorKind::InvalidLabelSet);
        }
    }
}

/// The pairs of a label set as the registry writes it: `a="x",b="y"`, no braces, values
/// escaped (well formed, so nothing is reported: a malformed rest is left out).
pub(crate) fn written_label_pairs(mut s: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    while let Some((name, rest)) = s.split_once("=\"") {
        let Ok((value, after)) = label_value(rest) else {
            break;
        };
        pairs.push((name.to_owned(), value));
        s = after.strip_prefix(',').unwrap_or(after);
    }
    pairs
}

/// Reads an escaped label value up to its closing quote; returns it and what follows.
fn label_value(s: &str) -> Result<(String, &str), ParseErrorKind> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, 'n')) => out.push('\n'),
                _ => return Err(ParseErrorKind::InvalidEscape),
            },
            c => out.push(c),
        }
    }
    Err(ParseErrorKind::InvalidLabelSet)
}
