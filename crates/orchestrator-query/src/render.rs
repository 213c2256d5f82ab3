//! Interpreter 2: the expression as PromQL text.

use std::fmt::{self, Display};

use crate::selector::MatchOp;
use crate::{Expr, Selector, Window};

impl Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.series_name())?;
        if self.matchers.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, m) in self.matchers.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match m.op {
                MatchOp::Eq => "=",
                MatchOp::Ne => "!=",
            };
            write!(f, "{}{op}\"{}\"", m.label, escape(&m.value))?;
        }
        f.write_str("}")
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

use orchestrator_support::format_number as number;

/// An expression rendered with the `offset` its enclosing [`Expr::Offset`]s add up to,
/// written after each selector.
struct At<'a>(&'a Expr, Option<Window>);

impl At<'_> {
    fn child<'b>(&self, e: &'b Expr) -> At<'b> {
        At(e, self.1)
    }
}

fn grouping(f: &mut fmt::Formatter<'_>, op: &str, by: &[String], inner: At<'_>) -> fmt::Result {
    if by.is_empty() {
        write!(f, "{op}({inner})")
    } else {
        write!(f, "{op} by ({}) ({inner})", by.join(", "))
    }
}

/// PromQL's binding strength of an expression's top operator (higher binds tighter).
fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        Expr::Compare(..) => 3,
        Expr::Sub(..) => 4,
        Expr::Ratio(..) => 5,
        Expr::Offset(inner, _) => precedence(inner),
        _ => 10,
    }
}

/// Writes `e` as an operand of an operator of strength `strength`, in parentheses when it
/// binds less tightly (or, with `right`, equally: the operators are left-associative).
fn operand_of(f: &mut fmt::Formatter<'_>, e: At<'_>, strength: u8, right: bool) -> fmt::Result {
    let p = precedence(e.0);
    if p < strength || (right && p == strength) {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

fn binary(f: &mut fmt::Formatter<'_>, l: At<'_>, strength: u8, op: &str, r: At<'_>) -> fmt::Result {
    operand_of(f, l, strength, false)?;
    write!(f, " {op} ")?;
    operand_of(f, r, strength, true)
}

impl Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offset = |f: &mut fmt::Formatter<'_>| match self.1 {
            Some(by) => write!(f, " offset {by}"),
            None => Ok(()),
        };
        match self.0 {
            Expr::Value(s) => {
                write!(f, "{s}")?;
                offset(f)
            }
            Expr::AvgOverTime(s, w) => {
                write!(f, "avg_over_time({s}[{w}]")?;
                offset(f)?;
                f.write_str(")")
            }
            Expr::Increase(s, w) => {
                write!(f, "increase({s}[{w}]")?;
                offset(f)?;
                f.write_str(")")
            }
            Expr::Total(s, w) => {
                let at = |extra: Option<Window>| match (self.1, extra) {
                    (Some(o), Some(e)) => format!(" offset {}", o.plus(e)),
                    (Some(o), None) | (None, Some(o)) => format!(" offset {o}"),
                    (None, None) => String::new(),
                };
                let (now, start) = (at(None), at(Some(*w)));
                write!(
                    f,
                    "(({s}{now} - ({s}{start} or {s}{now} * 0)) >= 0 unless resets({s}[{w}]{now}) > 0 or increase({s}[{w}]{now}))"
                )
            }
            Expr::Rate(s, w) => {
                write!(f, "rate({s}[{w}]")?;
                offset(f)?;
                f.write_str(")")
            }
            Expr::Offset(e, by) => {
                let total = self.1.map_or(*by, |o| o.plus(*by));
                write!(f, "{}", At(e, Some(total)))
            }
            Expr::Sum(e, by) => grouping(f, "sum", by, self.child(e)),
            Expr::Max(e, by) => grouping(f, "max", by, self.child(e)),
            Expr::HistogramQuantile(q, e) => {
                write!(f, "histogram_quantile({}, {})", number(*q), self.child(e))
            }
            Expr::Ratio(l, r) => {
                operand_of(f, self.child(l), 5, false)?;
                f.write_str(" / (")?;
                // A comparison of a comparison would be a filter of a filter: keep it apart.
                operand_of(f, self.child(r), 4, false)?;
                f.write_str(" > 0)")
            }
            Expr::Compare(e, op, t) => {
                operand_of(f, self.child(e), 4, false)?;
                write!(f, " {} {}", op.as_str(), number(*t))
            }
            Expr::Sub(l, r) => binary(f, self.child(l), 4, "-", self.child(r)),
            Expr::And(l, r) => binary(f, self.child(l), 2, "and", self.child(r)),
            // `and` groups inside `or` keep their parentheses: correct either way, clearer so.
            Expr::Or(l, r) => binary(f, self.child(l), 3, "or", self.child(r)),
            Expr::Absent(s) => {
                write!(f, "absent({s}")?;
                offset(f)?;
                f.write_str(")")
            }
            Expr::Recorded { record, labels, .. } => {
                f.write_str(record)?;
                if !labels.is_empty() {
                    let inner: Vec<String> = labels
                        .iter()
                        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                        .collect();
                    write!(f, "{{{}}}", inner.join(","))?;
                }
                offset(f)
            }
        }
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", At(self, None))
    }
}
