//! Interpreter 2: the expression as PromQL text.

use std::fmt::{self, Display};

use crate::selector::MatchOp;
use crate::{Expr, Selector};

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

/// A number as PromQL reads it (`0.95`, `200`, `0.001`).
pub(crate) fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn grouping(f: &mut fmt::Formatter<'_>, op: &str, by: &[String], inner: &Expr) -> fmt::Result {
    if by.is_empty() {
        write!(f, "{op}({inner})")
    } else {
        write!(f, "{op} by ({}) ({inner})", by.join(", "))
    }
}

/// Writes an operand of a binary operator, in parentheses when it is itself binary.
fn operand(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match e {
        Expr::Ratio(..) | Expr::Compare(..) => write!(f, "({e})"),
        _ => write!(f, "{e}"),
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Value(s) => write!(f, "{s}"),
            Expr::AvgOverTime(s, w) => write!(f, "avg_over_time({s}[{w}])"),
            Expr::Increase(s, w) => write!(f, "increase({s}[{w}])"),
            Expr::Rate(s, w) => write!(f, "rate({s}[{w}])"),
            Expr::Sum(e, by) => grouping(f, "sum", by, e),
            Expr::Max(e, by) => grouping(f, "max", by, e),
            Expr::HistogramQuantile(q, e) => write!(f, "histogram_quantile({}, {e})", number(*q)),
            Expr::Ratio(l, r) => {
                operand(f, l)?;
                f.write_str(" / (")?;
                operand(f, r)?;
                f.write_str(" > 0)")
            }
            Expr::Compare(e, op, t) => {
                operand(f, e)?;
                write!(f, " {} {}", op.as_str(), number(*t))
            }
        }
    }
}
