//! A minimal YAML writer for the generated configuration (rule files, Alertmanager,
//! Prometheus, Grafana provisioning). Strings are always double-quoted and escaped, so no
//! value (a PromQL expression, a label with a colon, a secret placeholder) can change the
//! document's structure.

use std::fmt::Write as _;

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// A string, always written double-quoted.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A sequence.
    List(Vec<Yaml>),
    /// A mapping, in insertion order.
    Map(Vec<(String, Yaml)>),
}

impl From<&str> for Yaml {
    fn from(s: &str) -> Self {
        Yaml::Str(s.to_owned())
    }
}

impl From<String> for Yaml {
    fn from(s: String) -> Self {
        Yaml::Str(s)
    }
}

impl From<i64> for Yaml {
    fn from(v: i64) -> Self {
        Yaml::Int(v)
    }
}

impl From<bool> for Yaml {
    fn from(v: bool) -> Self {
        Yaml::Bool(v)
    }
}

/// Builds a mapping from `(key, value)` pairs.
pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Yaml)>) -> Yaml {
    Yaml::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

impl Yaml {
    /// The document as text, ending with a newline.
    ///
    /// ```
    /// use orchestrator_support::yaml::{Yaml, map};
    ///
    /// let doc = map([("groups", Yaml::List(vec![map([("name", "kpis".into())])]))]);
    /// assert_eq!(doc.render(), "groups:\n  - name: \"kpis\"\n");
    /// ```
    pub fn render(&self) -> String {
        let mut out = String::new();
        match self {
            Yaml::Map(pairs) if !pairs.is_empty() => write_map(&mut out, pairs, 0),
            Yaml::List(items) if !items.is_empty() => write_list(&mut out, items, 0),
            scalar => {
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
        out
    }
}

fn write_map(out: &mut String, pairs: &[(String, Yaml)], indent: usize) {
    for (key, value) in pairs {
        let _ = write!(out, "{:indent$}{}:", "", key_text(key));
        write_value(out, value, indent);
    }
}

fn write_list(out: &mut String, items: &[Yaml], indent: usize) {
    for item in items {
        let _ = write!(out, "{:indent$}-", "");
        match item {
            Yaml::Map(pairs) if !pairs.is_empty() => {
                // The first pair on the dash's line, the rest aligned under it.
                let (first_key, first_value) = &pairs[0];
                let _ = write!(out, " {}:", key_text(first_key));
                write_value(out, first_value, indent + 2);
                write_map(out, &pairs[1..], indent + 2);
            }
            Yaml::List(inner) if !inner.is_empty() => {
                out.push('\n');
                write_list(out, inner, indent + 2);
            }
            scalar => {
                let _ = writeln!(out, " {}", inline(scalar));
            }
        }
    }
}

fn write_value(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Map(pairs) if !pairs.is_empty() => {
            out.push('\n');
            write_map(out, pairs, indent + 2);
        }
        Yaml::List(items) if !items.is_empty() => {
            out.push('\n');
            write_list(out, items, indent + 2);
        }
        scalar => {
            let _ = writeln!(out, " {}", inline(scalar));
        }
    }
}

fn inline(value: &Yaml) -> String {
    match value {
        Yaml::Str(s) => quote(s),
        Yaml::Int(v) => v.to_string(),
        Yaml::Float(v) if v.is_finite() => crate::format_number(*v),
        Yaml::Float(v) if v.is_nan() => ".nan".to_owned(),
        Yaml::Float(v) => if *v > 0.0 { ".inf" } else { "-.inf" }.to_owned(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::List(_) => "[]".to_owned(),
        Yaml::Map(_) => "{}".to_owned(),
    }
}

fn key_text(key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !key.starts_with(['-', '.']);
    if plain { key.to_owned() } else { quote(key) }
}

/// A double-quoted YAML string with every special character escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_structures() {
        let doc = map([
            ("global", map([("scrape_interval", "15s".into())])),
            (
                "rule_files",
                Yaml::List(vec!["rules/a.yml".into(), "rules/b.yml".into()]),
            ),
            ("empty", Yaml::List(vec![])),
            (
                "groups",
                Yaml::List(vec![map([
                    ("name", "g".into()),
                    (
                        "rules",
                        Yaml::List(vec![map([
                            ("record", "r".into()),
                            ("expr", "sum(x{a=\"b\"})".into()),
                        ])]),
                    ),
                ])]),
            ),
        ]);
        let expected = "\
global:
  scrape_interval: \"15s\"
rule_files:
  - \"rules/a.yml\"
  - \"rules/b.yml\"
empty: []
groups:
  - name: \"g\"
    rules:
      - record: \"r\"
        expr: \"sum(x{a=\\\"b\\\"})\"
";
        assert_eq!(doc.render(), expected);
    }

    #[test]
    fn hostile_strings_stay_strings() {
        assert_eq!(
            quote("a: b\n- c # d \"e\" \\ \u{1}"),
            "\"a: b\\n- c # d \\\"e\\\" \\\\ \\x01\""
        );
        assert_eq!(key_text("with space"), "\"with space\"");
        assert_eq!(key_text("severity"), "severity");
    }
}
