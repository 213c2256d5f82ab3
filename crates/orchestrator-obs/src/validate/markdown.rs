//! `report.md`: the report in the sections of the seed's report.

use std::fmt::Write as _;

use super::charts::{KPI_CHART, TRAFFIC_CHART};
use super::md::md;
use super::metrics::{NOT_COMPUTABLE, ONLY_WHEN_CONFIGURED, only_with_agents};
use super::report::{Check, Report, mark, thousands};

impl Report {
    /// `report.md`, in the sections of the seed's report.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let i = &self.inputs;
        let charts: Vec<&str> = self.charts().into_iter().map(|(name, _)| name).collect();
        let passed = self.checks.iter().filter(|c| c.passed).count();
        let _ = writeln!(out, "# Validation report\n");
        let _ = writeln!(out, "Target: `{}` · {}\n", i.target, i.generated_at);
        let _ = writeln!(
            out,
            "**Score: {:.2}** ({passed}/{} checks passed; correctness checks weigh twice presence checks)\n",
            self.score(),
            self.checks.len()
        );
        let _ = writeln!(
            out,
            "Business score: {} (KPIs meeting their target and alert rules not firing; reported, not part of the score)\n",
            self.business_score()
                .map_or("not available".to_owned(), |b| format!("{b:.2}"))
        );
        let _ = writeln!(
            out,
            "| Component | Checks | Passed | Status |\n|---|---|---|---|"
        );
        let mut components: Vec<&str> = self.checks.iter().map(|c| c.component).collect();
        components.dedup();
        for component in components {
            let of: Vec<&Check> = self
                .checks
                .iter()
                .filter(|c| c.component == component)
                .collect();
            let ok = of.iter().filter(|c| c.passed).count();
            let _ = writeln!(
                out,
                "| {component} | {} | {ok} | {} |",
                of.len(),
                mark(ok == of.len())
            );
        }

        let _ = writeln!(
            out,
            "\n## Prometheus metrics\n\nTwo scrapes {:.1} s apart. Rate: counters' increase, histograms' observations, per second. P95: over the observations between the scrapes.\n",
            self.interval_seconds
        );
        if charts.contains(&TRAFFIC_CHART) {
            let _ = writeln!(
                out,
                "![Request rate and p95 latency before the second scrape]({TRAFFIC_CHART})\n"
            );
        }
        let _ = writeln!(
            out,
            "| Metric | Type | Samples | Rate/s | P95 | Status |\n|---|---|---|---|---|---|"
        );
        for m in &self.metrics {
            let status = if m.present {
                "✅".to_owned()
            } else if NOT_COMPUTABLE.contains(&m.name) {
                "absent (needs a previous window)".to_owned()
            } else if ONLY_WHEN_CONFIGURED.contains(&m.name) {
                "absent (no budget configured)".to_owned()
            } else if only_with_agents(m.name) {
                "absent (no agent run recorded)".to_owned()
            } else {
                "❌".to_owned()
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {status} |",
                m.name,
                m.kind,
                thousands(m.samples as f64, 0),
                m.rate.map_or("–".to_owned(), |r| format!("{r:.1}")),
                match (m.p95, m.p95_bucket) {
                    (None, _) => "–".to_owned(),
                    (Some(p), None) => format!("{p:.3}"),
                    // All a classic histogram knows: the truth is in the bucket.
                    (Some(_), Some((lower, upper))) if upper.is_infinite() => {
                        format!("> {lower}")
                    }
                    (Some(_), Some((lower, upper))) => format!("≤ {upper} ({lower}–{upper})"),
                },
            );
        }

        // The trend of each figure the KPI document carries (the last period against the
        // one before, evaluated in the service), beside the totals since start.
        let figures = i.kpis.as_ref().map(|k| k.figures.as_slice()).unwrap_or(&[]);
        let period = figures.first().map_or("1d", |f| f.period.as_str());
        let _ = writeln!(
            out,
            "\n## Business metrics\n\nTotals since the service started; the trend compares the last {period} with the {period} before.\n\n| Metric | Value | Trend |\n|---|---|---|"
        );
        for (k, v) in &self.business {
            let trend = figures
                .iter()
                .find(|f| f.name == *k)
                .map_or("–", |f| f.display_trend.as_str());
            let _ = writeln!(out, "| {k} | {v} | {} |", md(trend));
        }
        let agents = i
            .summary
            .as_ref()
            .map(|s| s.agents.as_slice())
            .unwrap_or(&[]);
        if !agents.is_empty() {
            let spend: Vec<String> = agents
                .iter()
                .map(|a| format!("{} ${:.4} over {} runs", md(&a.agent), a.cost_usd, a.runs))
                .collect();
            let _ = writeln!(
                out,
                "
LLM spend by agent (innermost agent of each call, since start): {}.",
                spend.join(", ")
            );
        }

        let _ = writeln!(out, "\n## Business KPIs\n");
        match &i.kpis {
            Ok(k) => {
                let _ = writeln!(
                    out,
                    "| KPI | Value | Target | Gap | Trend | Status |\n|---|---|---|---|---|---|"
                );
                for kpi in &k.kpis {
                    let gap = kpi
                        .gap
                        .map_or("–".to_owned(), |g| format!("{:+.1}%", g * 100.0));
                    let status = if kpi.value.is_none() {
                        "no data"
                    } else if kpi.met {
                        "✅ met"
                    } else {
                        "❌ missed"
                    };
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {gap} | {} | {status} |",
                        md(&kpi.name),
                        md(&kpi.display_value),
                        md(&kpi.display_target),
                        md(if kpi.display_trend.is_empty() {
                            "no data"
                        } else {
                            &kpi.display_trend
                        }),
                    );
                }
                let _ = writeln!(out, "\nTargets met: {}/{}", k.met, k.total);
                if charts.contains(&KPI_CHART) {
                    let _ = writeln!(out, "\n![KPI gaps to target]({KPI_CHART})");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "Not available: {}", md(e));
            }
        }

        let _ = writeln!(out, "\n## Alerting\n");
        match &i.alerts {
            Ok(a) => {
                let _ = writeln!(
                    out,
                    "| Rule | Condition | Severity | State | Since |\n|---|---|---|---|---|"
                );
                for r in &a.rules {
                    let since = r.since.map_or("–".to_owned(), |s| {
                        let at = a.evaluated_at.unwrap_or(s);
                        // Hostile timestamps: saturate, never overflow.
                        format!(
                            "{} before the evaluation",
                            orchestrator_alerts::ago(at.saturating_sub(s))
                        )
                    });
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {since} |",
                        md(&r.title),
                        md(&r.condition),
                        r.severity.as_str().to_uppercase(),
                        r.state.as_str(),
                    );
                }
                let _ = writeln!(
                    out,
                    "\nActive alerts: {} firing of {} rules",
                    a.firing, a.total
                );
            }
            Err(e) => {
                let _ = writeln!(out, "Not available: {}", md(e));
            }
        }

        let _ = writeln!(out, "\n## Distributed tracing\n");
        match &i.traces {
            Ok(t) => {
                let a = &t.analysis;
                let _ = writeln!(out, "- Traces collected: {}", a.traces);
                let _ = writeln!(out, "- Mean duration: {:.1} ms", a.mean_duration_ms);
                let _ = writeln!(out, "- Mean spans per trace: {:.1}", a.mean_spans);
                let _ = writeln!(out, "- Sampler: {}", md(&a.sampler));
                if let Some(e) = &a.export {
                    let _ = writeln!(
                        out,
                        "- OTLP export: {} spans exported, {} dropped; last error: {}",
                        e.spans_exported,
                        e.spans_dropped,
                        e.last_error.as_deref().map_or("none".to_owned(), md)
                    );
                }
                let _ = writeln!(
                    out,
                    "\n| Operation | Spans | Mean duration | Share of the root span |\n|---|---|---|---|"
                );
                for o in &a.operations {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {:.1} ms | {:.0}% |",
                        md(&o.operation),
                        o.spans,
                        o.mean_ms,
                        o.share * 100.0
                    );
                }
                let costly = t
                    .traces
                    .iter()
                    .filter_map(|t| Some((t, t.cost_usd?)))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                if let Some((trace, cost)) = costly {
                    let _ = writeln!(
                        out,
                        "
Most expensive recent trace: `{}` ({}), ${cost:.6} of LLM calls.",
                        trace.trace_id,
                        md(&trace.root)
                    );
                }
                if let Ok(summary) = &i.summary {
                    agents_table(&mut out, &summary.agents);
                }
            }
            Err(e) => {
                let _ = writeln!(out, "Not available: {}", md(e));
            }
        }

        let _ = writeln!(
            out,
            "\n## Dashboards\n\n| Dashboard | Panels | Refresh | Queries |\n|---|---|---|---|"
        );
        if let Ok(all) = &self.dashboards {
            for d in all {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    d.title, d.panels, d.refresh, d.queries
                );
            }
        }

        self.performance_sections(&mut out);

        let c = &i.second;
        let _ = writeln!(
            out,
            "\n## Collection performance\n\n| Measure | Value |\n|---|---|"
        );
        let _ = writeln!(out, "| Scrape time | {:.1} ms |", c.duration_ms);
        let _ = writeln!(
            out,
            "| Payload (raw) | {} bytes |",
            thousands(c.raw_bytes as f64, 0)
        );
        match c.gzip_bytes {
            Some(g) => {
                let _ = writeln!(out, "| Payload (gzip) | {} bytes |", thousands(g as f64, 0));
                let _ = writeln!(
                    out,
                    "| Compression ratio | {:.1}× |",
                    c.raw_bytes as f64 / g.max(1) as f64
                );
            }
            None => {
                let _ = writeln!(out, "| Payload (gzip) | not offered |");
            }
        }
        let _ = writeln!(out, "| Samples | {} |", thousands(self.samples as f64, 0));

        let _ = writeln!(
            out,
            "\n## Checks\n\n| Component | Check | Result | Why |\n|---|---|---|---|"
        );
        for c in &self.checks {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                c.component,
                md(&c.name),
                mark(c.passed),
                md(&c.reason)
            );
        }
        if let Some(quality) = &self.alert_quality {
            let _ = write!(out, "\n{}", quality.report_section());
        }
        out
    }
}

/// The agents' runs, as the live page's Agents panel shows them.
fn agents_table(out: &mut String, agents: &[orchestrator_api::AgentRow]) {
    if agents.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n| Agent | Runs | Failed | p95 duration | p95 steps | Tool error rate | Cost per run | Over a limit |\n|---|---|---|---|---|---|---|---|"
    );
    for a in agents {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".to_owned());
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&a.agent),
            a.runs,
            a.failed,
            or_dash(a.p95_seconds.map(|s| format!("{:.0} ms", s * 1000.0))),
            or_dash(a.steps_p95.map(|s| format!("{s:.1}"))),
            or_dash(
                (a.tool_calls > 0.0)
                    .then(|| format!("{:.1}%", 100.0 * a.tool_errors / a.tool_calls))
            ),
            or_dash((a.runs > 0.0).then(|| format!("${:.6}", a.cost_usd / a.runs))),
            a.limit_exceeded
        );
    }
}
