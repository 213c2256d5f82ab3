//! The report's two performance sections, measured against the running system:
//!
//! - *query performance*: every dashboard panel query run against Prometheus at rising
//!   concurrency (1, 2, 4, … up to a bound), each query once per level;
//! - *dashboard performance*: the live page's load (the page, its two assets and its four
//!   API answers, fetched in turn as a browser's first paint needs them), its update latency
//!   (from a request appearing in `/metrics` to `/api/v1/summary` counting it) and the API's
//!   latency under N simulated viewers polling it at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use orchestrator_http::HttpClient;

/// How many of the slowest queries the report names.
const SLOWEST: usize = 5;
/// How often the update latency is polled.
const POLL: Duration = Duration::from_millis(50);
/// The API documents a viewer polls, as the page does every 2 s.
pub(crate) const API_PATHS: [&str; 4] = [
    "/api/v1/summary",
    "/api/v1/kpis",
    "/api/v1/alerts",
    "/api/v1/traces",
];

/// Query performance against Prometheus.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPerf {
    /// Distinct panel queries.
    pub queries: usize,
    /// Queries run in all (each once per concurrency level).
    pub runs: usize,
    /// The concurrency levels tried, the last the highest.
    pub concurrency: Vec<usize>,
    /// Mean query time.
    pub mean_ms: f64,
    /// 95th percentile query time.
    pub p95_ms: f64,
    /// Runs that failed (HTTP error, Prometheus error, timeout).
    pub errors: usize,
    /// The first error, if any.
    pub first_error: Option<String>,
    /// The slowest queries by mean time: (`dashboard / panel`, ms), slowest first.
    pub slowest: Vec<(String, f64)>,
}

/// The live page's performance.
#[derive(Debug, Clone, PartialEq)]
pub struct PagePerf {
    /// The page, its assets and its four API answers, fetched in turn.
    pub load_ms: f64,
    /// What failed to load (path and why).
    pub load_errors: Vec<String>,
    /// From a request appearing in `/metrics` to `/api/v1/summary` counting it; `None` when
    /// no request arrived within the bound (an idle target).
    pub update_latency_ms: Option<f64>,
    /// Simulated viewers polling the API at once.
    pub viewers: usize,
    /// API requests they made.
    pub api_requests: usize,
    /// Their mean latency.
    pub api_mean_ms: f64,
    /// Their 95th percentile latency.
    pub api_p95_ms: f64,
    /// API requests that failed.
    pub api_errors: usize,
}

/// Runs `job` over `items` on at most `workers` threads; results in item order.
fn bounded<T: Sync, R: Send>(items: &[T], workers: usize, job: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.clamp(1, items.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return done;
                        };
                        done.push((i, job(item)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The mean and 95th percentile (nearest rank) of `ms`, 0 when empty.
pub(crate) fn mean_p95(ms: &[f64]) -> (f64, f64) {
    if ms.is_empty() {
        return (0.0, 0.0);
    }
    let mut sorted = ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((0.95 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    (ms.iter().sum::<f64>() / ms.len() as f64, sorted[rank - 1])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One panel query: (`dashboard / panel`, the instant-query URL).
pub(crate) type PanelQuery = (String, String);

/// Runs every query once at each concurrency level 1, 2, 4, … up to `max_concurrency`.
pub(crate) fn queries(
    client: &HttpClient,
    queries: &[PanelQuery],
    max_concurrency: usize,
) -> QueryPerf {
    let mut levels = vec![1];
    while levels.last().is_some_and(|&l| l < max_concurrency) {
        levels.push((levels[levels.len() - 1] * 2).min(max_concurrency));
    }
    let mut runs: Vec<(usize, Result<f64, String>)> = Vec::new();
    for &level in &levels {
        let indexed: Vec<(usize, &PanelQuery)> = queries.iter().enumerate().collect();
        runs.extend(bounded(&indexed, level, |(i, (_, url))| {
            let started = Instant::now();
            let result = match client.get_json(url, &[]) {
                Ok(v) if v["status"] == "success" => Ok(ms(started.elapsed())),
                Ok(v) => Err(v["error"].as_str().unwrap_or("not success").to_owned()),
                Err(e) => Err(e.to_string()),
            };
            (*i, result)
        }));
    }
    let times: Vec<f64> = runs
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().copied())
        .collect();
    let (mean_ms, p95_ms) = mean_p95(&times);
    let mut per_query: Vec<(String, f64)> = queries
        .iter()
        .enumerate()
        .filter_map(|(i, (name, _))| {
            let own: Vec<f64> = runs
                .iter()
                .filter(|(q, _)| *q == i)
                .filter_map(|(_, r)| r.as_ref().ok().copied())
                .collect();
            (!own.is_empty()).then(|| (name.clone(), mean_p95(&own).0))
        })
        .collect();
    per_query.sort_by(|a, b| b.1.total_cmp(&a.1));
    per_query.truncate(SLOWEST);
    QueryPerf {
        queries: queries.len(),
        runs: runs.len(),
        concurrency: levels,
        mean_ms,
        p95_ms,
        errors: runs.iter().filter(|(_, r)| r.is_err()).count(),
        first_error: runs.iter().find_map(|(_, r)| r.as_ref().err().cloned()),
        slowest: per_query,
    }
}

/// What the page needs for its first paint, in order.
const PAGE_PATHS: [&str; 3] = ["/dashboard", "/dashboard/app.js", "/dashboard/style.css"];

fn requests_total(client: &HttpClient, base: &str, auth: &[(&str, &str)]) -> Option<f64> {
    let reply = client.get(&format!("{base}/metrics"), auth).ok()?;
    let text = String::from_utf8(reply.body).ok()?;
    let e = orchestrator_metrics::exposition::parse(&text).ok()?;
    Some(e.sum_where("orchestrator_requests_total", |_| true))
}

fn summary_total(client: &HttpClient, base: &str, auth: &[(&str, &str)]) -> Option<f64> {
    let v = client
        .get_json(&format!("{base}/api/v1/summary"), auth)
        .ok()?;
    v["requests_total"].as_f64()
}

/// Measures the live page at `base`: load, update latency (within `update_bound`), and the
/// API under `viewers` concurrent viewers, each polling the four documents `rounds` times.
pub(crate) fn page(
    client: &HttpClient,
    base: &str,
    auth: &[(&str, &str)],
    viewers: usize,
    update_bound: Duration,
) -> PagePerf {
    let started = Instant::now();
    let mut load_errors = Vec::new();
    for path in PAGE_PATHS.iter().chain(API_PATHS.iter()) {
        match client.get(&format!("{base}{path}"), auth) {
            Ok(r) if r.status == 200 => {}
            Ok(r) => load_errors.push(format!("{path}: HTTP {}", r.status)),
            Err(e) => load_errors.push(format!("{path}: {e}")),
        }
    }
    let load_ms = ms(started.elapsed());

    let deadline = Instant::now() + update_bound;
    let mut update_latency_ms = None;
    if let Some(before) = requests_total(client, base, auth) {
        let mut seen = None;
        while Instant::now() < deadline {
            if let Some(total) = requests_total(client, base, auth).filter(|&t| t > before) {
                seen = Some((Instant::now(), total));
                break;
            }
            std::thread::sleep(POLL);
        }
        if let Some((at, total)) = seen {
            while Instant::now() < deadline + update_bound {
                if summary_total(client, base, auth).is_some_and(|s| s >= total) {
                    update_latency_ms = Some(ms(at.elapsed()));
                    break;
                }
                std::thread::sleep(POLL);
            }
        }
    }

    const ROUNDS: usize = 3;
    let viewer_ids: Vec<usize> = (0..viewers).collect();
    let per_viewer = bounded(&viewer_ids, viewers, |_| {
        let mut out = Vec::new();
        for _ in 0..ROUNDS {
            for path in API_PATHS {
                out.push(match client.get(&format!("{base}{path}"), auth) {
                    Ok(r) if r.status == 200 => Ok(ms(r.elapsed)),
                    Ok(r) => Err(r.status),
                    Err(_) => Err(0),
                });
            }
        }
        out
    });
    let all: Vec<Result<f64, u16>> = per_viewer.into_iter().flatten().collect();
    let times: Vec<f64> = all.iter().filter_map(|r| r.ok()).collect();
    let (api_mean_ms, api_p95_ms) = mean_p95(&times);
    PagePerf {
        load_ms,
        load_errors,
        update_latency_ms,
        viewers,
        api_requests: all.len(),
        api_mean_ms,
        api_p95_ms,
        api_errors: all.iter().filter(|r| r.is_err()).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_p95() {
        let ms: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(mean_p95(&ms), (50.5, 95.0));
        assert_eq!(mean_p95(&[7.0]), (7.0, 7.0));
        assert_eq!(mean_p95(&[]), (0.0, 0.0));
    }

    #[test]
    fn bounded_keeps_order_and_runs_everything() {
        let items: Vec<u32> = (0..50).collect();
        let out = bounded(&items, 4, |n| n * 2);
        assert_eq!(out, (0..50).map(|n| n * 2).collect::<Vec<_>>());
        assert!(bounded(&[] as &[u32], 4, |n| *n).is_empty());
    }
}
