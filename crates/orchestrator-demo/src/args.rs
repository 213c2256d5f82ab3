//! The demo's command line.

use orchestrator_telemetry::Budget;

use crate::incident::Incident;
use crate::logging::LogFormat;

/// Command-line arguments of the demo.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orchestrator",
    about = "A demo LLM orchestrator instrumented with orchestrator-telemetry"
)]
pub struct DemoArgs {
    /// How long the load generator runs, in seconds.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Where the orchestrator's API listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub api_addr: String,
    /// Where /metrics is served.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub telemetry_addr: String,
    /// Seed of every random choice (latencies, errors, users, prompts).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Concurrent virtual users.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Tenants the simulated users belong to (sent as `x-tenant-id`, billed per tenant);
    /// 0 sends none.
    #[arg(long, default_value_t = 5)]
    pub tenants: u64,
    /// LLM budgets, `TENANT:PERIOD:USD[:reject]` (period `1d` or `30d`; tenant `*` is the
    /// whole service; `:reject` refuses the calls that would overrun it, answered 429),
    /// repeatable. The default gives `tenant-0` a day's budget it spends within the first
    /// 10 to 15 s of a run, so `BudgetExceeded` fires during a 30 s run, and the service a
    /// 30-day budget its spend rate stays under.
    #[arg(
        long = "budget",
        value_name = "TENANT:PERIOD:USD[:reject]",
        default_values = ["tenant-0:1d:0.04", "*:30d:100000"]
    )]
    pub budgets: Vec<Budget>,
    /// The share of the simulated provider's answers that are HTTP 500 (the API then
    /// answers 502), between 0 and 1.
    #[arg(long, default_value_t = 0.01, value_parser = share)]
    pub llm_error_rate: f64,
    /// Multiplies every delay of the simulated provider: 0.5 answers twice as fast, 2 twice
    /// as slow (between 0.01 and 100).
    #[arg(long, default_value_t = 1.0, value_parser = latency_scale)]
    pub llm_latency_scale: f64,
    /// Inject an incident from 10 s to 30 s into the run, so its alert goes pending, fires,
    /// then resolves (the run lasts at least 75 s): `errors` (30 % of LLM calls fail;
    /// `--incident` alone), `slow` (the LLM answers 5x slower), `memory` (a cache fills past
    /// 90 % of the memory limit), `unhappy` (users rate sessions around 3/10) or `runaway`
    /// (the research agent loops past its step limit).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "errors")]
    pub incident: Option<Incident>,
    /// The memory limit `orchestrator_memory_limit_bytes` reports, in MiB (default: the
    /// cgroup's; with `--incident memory`, resident memory at start plus the 256 MiB the
    /// incident fills, so the incident crosses 90 % of it and the rest of the run does not).
    #[arg(long, value_name = "MIB")]
    pub memory_limit: Option<u64>,
    /// This replica's name: shown by the live page and the summary, and the
    /// `service.instance.id` of its spans. With `--redis`, a second replica started under
    /// the same name within a minute is warned about (its series would collide).
    #[arg(long)]
    pub instance: Option<String>,
    /// Counts distinct users in this Redis (`redis://host:port/db`), shared by every
    /// replica pointed at it, so the monthly-active-users KPI is the fleet's; the LLM
    /// budgets' spend and holds are kept there too, so replicas share them (fail-open).
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// The first user id the load generator draws from (`user-N`), so replicas can share
    /// part of their users.
    #[arg(long, default_value_t = 0)]
    pub users_from: u64,
    /// How many user ids the load generator draws from, starting at `--users-from`.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub users: u64,
    /// Keep every failed or slow (over 1 s) request's trace, besides the 10 % ratio.
    #[arg(long)]
    pub keep_errors: bool,
    /// At the end, validate the running telemetry and write `report.json` and `report.md`
    /// into this directory (the same code as `orchestrator-obs validate`).
    #[arg(long)]
    pub report: Option<std::path::PathBuf>,
    /// How log lines are written to stderr (`RUST_LOG` filters them, default `warn`); inside
    /// a request they carry `trace_id` and `span_id`.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// After the load and the summary, keep serving the API, `/metrics` and `/dashboard`
    /// until Ctrl-C or SIGTERM, to look at the live page.
    #[arg(long)]
    pub linger: bool,
    /// Alert channels (Slack-compatible webhook, email).
    #[command(flatten)]
    pub alerts: crate::channels::AlertArgs,
}

fn latency_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.01..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a scale between 0.01 and 100")),
    }
}

fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a share between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn the_latency_scale_is_a_bounded_number() {
        let parse =
            |v: &str| DemoArgs::try_parse_from(["demo", &format!("--llm-latency-scale={v}")]);
        assert_eq!(parse("0.5").unwrap().llm_latency_scale, 0.5);
        for bad in ["0", "-1", "NaN", "inf", "1e9", "fast", ""] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(
                error.contains("is not a scale between 0.01 and 100"),
                "{bad}: {error}"
            );
        }
    }
}
