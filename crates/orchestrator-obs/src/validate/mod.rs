//! `orchestrator-obs validate`: checks each component against a running orchestrator (and,
//! when given, the Prometheus and Alertmanager in front of it) and writes `report.json` and
//! `report.md`.

pub(crate) mod charts;
mod checks;
mod fetch;
mod inputs;
mod json;
mod markdown;
mod md;
mod metrics;
mod perf;
mod perf_md;
mod report;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use orchestrator_api::Documents;
use orchestrator_dashboards::{Context, Source, dashboards};
use orchestrator_http::HttpClient;

pub use charts::{KPI_CHART, TRAFFIC_CHART, kpi_gaps, traffic};
pub use inputs::{Inputs, PrometheusInputs, Scrape};
pub use metrics::{MetricRow, NOT_COMPUTABLE, ONLY_WHEN_CONFIGURED, honest_absence};
pub use perf::{PagePerf, QueryPerf};
pub use report::{Check, CheckKind, DashboardShape, Report};

/// What to validate.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// The orchestrator's telemetry base URL (`http://host:9464`), serving `/metrics` and
    /// `/api/v1/...`.
    pub target: String,
    /// A Prometheus scraping it (`http://host:9090`).
    pub prometheus: Option<String>,
    /// An Alertmanager receiving its alerts (`http://host:9093`).
    pub alertmanager: Option<String>,
    /// The bearer token of the target, if it requires one.
    pub token: Option<String>,
    /// Time between the two scrapes the rates are measured over.
    pub interval: Duration,
    /// The overall deadline of each request (connect, TLS, headers, body).
    pub timeout: Duration,
    /// The largest body read per request (default 64 MiB): a larger `/metrics` or API
    /// answer is an error, not an out-of-memory.
    pub max_body_bytes: usize,
    /// A custom CA (and client certificate) for `https` targets.
    pub tls: orchestrator_http::TlsMaterial,
    /// Simulated viewers polling the live page's API at once for the dashboard performance
    /// section (default 35, the origin document's figure); 0 skips the section.
    pub viewers: usize,
    /// The highest concurrency the panel queries are run at against Prometheus (default 8;
    /// levels 1, 2, 4, … up to it).
    pub max_query_concurrency: usize,
    /// How long the update latency waits for a request to appear and be counted (default 5 s).
    pub update_bound: Duration,
    /// An alert-quality run's `alert-quality.json`: the report gains an "Alert quality"
    /// section with its targets and per-rule figures.
    pub alert_quality: Option<PathBuf>,
}

/// The simulated viewers of the dashboard performance section by default: the origin
/// document's 35.
pub const DEFAULT_VIEWERS: usize = 35;

/// The default cap on a body `validate` reads: 64 MiB (a large exposition fits).
pub const VALIDATE_BODY_LIMIT: usize = 64 << 20;

impl ValidateOptions {
    /// Validates `target` alone, scraping twice 2 s apart.
    pub fn new(target: impl Into<String>) -> Self {
        ValidateOptions {
            target: target.into(),
            prometheus: None,
            alertmanager: None,
            token: None,
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            max_body_bytes: VALIDATE_BODY_LIMIT,
            tls: orchestrator_http::TlsMaterial::default(),
            viewers: DEFAULT_VIEWERS,
            max_query_concurrency: 8,
            update_bound: Duration::from_secs(5),
            alert_quality: None,
        }
    }
}

/// Validation could not run.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The target's `/metrics` could not be fetched at all: nothing to validate.
    #[error("the target is unreachable: {0}")]
    Unreachable(String),
    /// The alert-quality results could not be read.
    #[error("--alert-quality: {0}")]
    AlertQuality(#[from] crate::quality::QualityError),
    /// A report file could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

fn scrape(
    client: &HttpClient,
    o: &ValidateOptions,
    auth: &[(&str, &str)],
) -> Result<Scrape, String> {
    let url = format!("{}/metrics", base(&o.target));
    let plain = fetch::get(client, &url, auth)?;
    if plain.status != 200 {
        return Err(format!("{url}: HTTP {}", plain.status));
    }
    let at_ms = now_ms();
    let text = String::from_utf8(plain.body).map_err(|_| format!("{url}: not UTF-8"))?;
    let mut headers = auth.to_vec();
    headers.push(("Accept-Encoding", "gzip"));
    let gzip_bytes = match fetch::get(client, &url, &headers) {
        Ok(f) if f.status == 200 && f.content_encoding.as_deref() == Some("gzip") => {
            // Only counted if it really is the exposition, compressed; a bomb is not inflated
            // past a bound (see `inflates_like`).
            inflates_like(&f.body, text.as_bytes()).then_some(f.body.len())
        }
        _ => None,
    };
    Ok(Scrape {
        at_ms,
        raw_bytes: text.len(),
        text,
        duration_ms: plain.elapsed.as_secs_f64() * 1e3,
        gzip_bytes,
    })
}

/// Whether `gzip` inflates to an exposition of about `plain`'s size (the same metrics, scraped
/// a moment later: counters move, a series may appear). Inflating stops past twice the plain
/// size plus 64 KiB, so a gzip bomb (10 MB that inflates to 10 GB) costs no more than that.
fn inflates_like(gzip: &[u8], plain: &[u8]) -> bool {
    let limit = plain.len().saturating_mul(2).saturating_add(64 << 10);
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(gzip)
        .take(cap)
        .read_to_end(&mut inflated)
        .is_ok()
        && inflated.len() <= limit
}

/// Reads everything the report needs. Fails only when the target cannot be scraped.
pub fn collect(o: &ValidateOptions) -> Result<Inputs, ValidateError> {
    collect_with(o, None)
}

/// A reader of the four `/api/v1` documents inside the service itself (the demo's
/// `--report` passes its live page's `documents`).
pub type InProcessDocuments<'a> = &'a (dyn Fn() -> Option<Documents> + Sync);

/// As [`collect`], but the `/api/v1` documents come from `documents` when given (read in
/// process, after the second scrape) instead of over HTTP. `/metrics` is still scraped over
/// HTTP: the endpoint is one of the components judged.
pub fn collect_with(
    o: &ValidateOptions,
    documents: Option<InProcessDocuments<'_>>,
) -> Result<Inputs, ValidateError> {
    let bearer = o.token.as_ref().map(|t| format!("Bearer {t}"));
    let auth: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("Authorization", b.as_str()))
        .collect();
    let client = fetch::client(o).map_err(|e| ValidateError::Unreachable(e.to_string()))?;
    let client = &client;
    let first = scrape(client, o, &auth).map_err(ValidateError::Unreachable)?;
    std::thread::sleep(o.interval);
    let second = scrape(client, o, &auth).map_err(ValidateError::Unreachable)?;
    let url = |path: &str| format!("{}{path}", base(&o.target));
    let in_process = documents.map(|read| read().ok_or_else(|| "the live page is off".to_owned()));
    let (summary, kpis, alerts, traces) = match in_process {
        Some(Ok(d)) => (Ok(d.summary), Ok(d.kpis), Ok(d.alerts), Ok(d.traces)),
        Some(Err(e)) => (Err(e.clone()), Err(e.clone()), Err(e.clone()), Err(e)),
        None => (
            fetch::doc(client, &url("/api/v1/summary"), &auth),
            fetch::doc(client, &url("/api/v1/kpis"), &auth),
            fetch::doc(client, &url("/api/v1/alerts"), &auth),
            fetch::doc(client, &url("/api/v1/traces"), &auth),
        ),
    };
    let page = (o.viewers > 0)
        .then(|| perf::page(client, base(&o.target), &auth, o.viewers, o.update_bound));
    let prometheus = o.prometheus.as_ref().map(|url| {
        let p = base(url);
        let mut panels = Vec::new();
        let mut timed = Vec::new();
        if let Ok(all) = Context::defaults().and_then(|c| dashboards(&c)) {
            for d in &all {
                for panel in &d.panels {
                    for q in &panel.queries {
                        let url = query_url(p, &q.promql);
                        // A panel with several queries names each by its legend.
                        let name = if panel.queries.len() > 1 {
                            format!("{} / {} ({})", d.title, panel.title, q.legend)
                        } else {
                            format!("{} / {}", d.title, panel.title)
                        };
                        timed.push((name, url.clone()));
                        // A trend (`offset`) has no data until a previous period exists:
                        // timed above, not expected to return data.
                        if let Source::Orchestrator(expr) = &q.source
                            && !expr.has_offset()
                        {
                            let result = fetch::json(client, &url, &[]).map(|v| {
                                v["data"]["result"]
                                    .as_array()
                                    .is_some_and(|r| !r.is_empty())
                            });
                            panels.push((
                                d.title.to_owned(),
                                panel.title.clone(),
                                q.promql.clone(),
                                result,
                            ));
                        }
                    }
                }
            }
        }
        PrometheusInputs {
            url: p.to_owned(),
            targets: fetch::json(client, &format!("{p}/api/v1/targets"), &[]),
            rules: fetch::json(client, &format!("{p}/api/v1/rules"), &[]),
            panels,
            performance: perf::queries(client, &timed, o.max_query_concurrency),
        }
    });
    let alertmanager = o.alertmanager.as_ref().map(|url| {
        let a = base(url);
        (
            a.to_owned(),
            fetch::json(client, &format!("{a}/api/v2/status"), &[]),
        )
    });
    Ok(Inputs {
        target: base(&o.target).to_owned(),
        generated_at: orchestrator_support::rfc3339(now_ms()),
        first,
        second,
        summary,
        kpis,
        alerts,
        traces,
        page,
        prometheus,
        alertmanager,
    })
}

/// `base/api/v1/query?query=…`, the query form-encoded by the URL parser.
fn query_url(base: &str, promql: &str) -> String {
    let endpoint = format!("{base}/api/v1/query");
    orchestrator_http::Url::parse_with_params(&endpoint, [("query", promql)])
        .map_or(endpoint, |url| url.to_string())
}

/// Collects, judges, and writes `report.json` and `report.md` into `dir`.
pub fn run(o: &ValidateOptions, dir: &Path) -> Result<Report, ValidateError> {
    run_with(o, None, dir)
}

/// As [`run`], with the `/api/v1` documents read in process (see [`collect_with`]).
pub fn run_with(
    o: &ValidateOptions,
    documents: Option<InProcessDocuments<'_>>,
    dir: &Path,
) -> Result<Report, ValidateError> {
    // Read first: a wrong path fails before anything is measured.
    let quality = o
        .alert_quality
        .as_deref()
        .map(crate::quality::QualityResults::read)
        .transpose()?;
    let mut report = Report::build(collect_with(o, documents)?);
    report.alert_quality = quality;
    write(&report, dir)?;
    Ok(report)
}

/// Writes `report.json`, `report.md` and its charts (`kpi-gaps.svg`, `traffic.svg`, when
/// they have data) into `dir` (created if needed).
pub fn write(report: &Report, dir: &Path) -> Result<(), ValidateError> {
    let fail = |path: PathBuf| move |source| ValidateError::Write { path, source };
    std::fs::create_dir_all(dir).map_err(fail(dir.to_owned()))?;
    let json = serde_json::to_string_pretty(&report.json()).unwrap_or_default() + "\n";
    let path = dir.join("report.json");
    std::fs::write(&path, json).map_err(fail(path.clone()))?;
    let path = dir.join("report.md");
    std::fs::write(&path, report.markdown()).map_err(fail(path.clone()))?;
    for (name, svg) in report.charts() {
        let path = dir.join(name);
        std::fs::write(&path, svg).map_err(fail(path.clone()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    /// Issue 14, row 13: a gzip bomb is inflated no further than a bound near the plain
    /// body's size.
    #[test]
    fn a_gzip_bomb_is_not_inflated_past_the_plain_size() {
        let zeros = vec![0u8; 64 << 20]; // 64 MiB that compress to about 64 KiB
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&zeros).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 1 << 20);
        let plain = b"m 1\n";
        assert!(!super::inflates_like(&bomb, plain));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"m 2\nn 1\n").unwrap();
        assert!(
            super::inflates_like(&gz.finish().unwrap(), plain),
            "a later scrape"
        );
        assert!(!super::inflates_like(b"not gzip", plain));
    }
}
