//! Against a real Prometheus scraping the demo under load, every dashboard query over the
//! orchestrator's own metrics returns data, except the two that cannot be computed in a short
//! run (churn needs a previous 30-day window; lifetime value divides by churn), which are
//! absent rather than a made-up zero (as `prometheus_e2e` checks).

use crate::support;

use std::time::Duration;

use orchestrator_dashboards::{Context, Source, dashboards};
use orchestrator_demo::load::{self, LoadConfig};
use orchestrator_telemetry::catalogue;
use support::Prometheus;

#[test]
fn every_orchestrator_panel_returns_data_from_prometheus() {
    let runtime = support::runtime();
    // An enforced budget small enough to refuse some of tenant-0's calls, so the panel of
    // refusals has data too.
    let telemetry = orchestrator_telemetry::Telemetry::builder()
        .listen("127.0.0.1:0")
        .prices(orchestrator_demo::demo_prices().expect("demo prices"))
        .monitor_interval(Duration::from_millis(250))
        .ignore_otel_env()
        .budget("tenant-0:1d:0.005:reject".parse().unwrap())
        .build()
        .expect("telemetry");
    let prometheus =
        Prometheus::start_with_interval(telemetry.metrics_addr().unwrap(), &[], "250ms");
    let server = support::start_demo(&runtime, &telemetry);
    prometheus.wait_for_first_scrape();
    let load_config = LoadConfig {
        duration: Duration::from_secs(8),
        concurrency: 8,
        seed: 11,
        ..LoadConfig::default()
    };
    let sent = runtime.block_on(load::run(&server.api_url(), &load_config));
    assert!(sent.answered() > 200, "workload too small: {sent:?}");
    telemetry.evaluate_now();
    std::thread::sleep(Duration::from_secs(2));

    let not_computable = [
        catalogue::CHURN_RATIO.name,
        catalogue::CUSTOMER_LIFETIME_VALUE_USD.name,
    ];
    let mut checked = 0;
    let mut missing = Vec::new();
    for dashboard in dashboards(&Context::defaults().unwrap()).unwrap() {
        for panel in &dashboard.panels {
            for query in &panel.queries {
                let Source::Orchestrator(expr) = &query.source else {
                    continue;
                };
                let names: Vec<String> = expr
                    .selectors()
                    .iter()
                    .map(|(s, _)| s.def().name.to_owned())
                    .collect();
                // A trend (`offset`) has no previous window in a run of seconds: no data,
                // never a made-up 0.
                if names.iter().any(|n| not_computable.contains(&n.as_str())) || expr.has_offset() {
                    assert!(
                        prometheus.query(&query.promql).is_empty(),
                        "{}: {} has data it cannot have",
                        panel.title,
                        query.promql
                    );
                    continue;
                }
                checked += 1;
                if prometheus.query(&query.promql).is_empty() {
                    missing.push(format!(
                        "{} / {}: {}",
                        dashboard.title, panel.title, query.promql
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "no data for:\n{}", missing.join("\n"));
    assert_eq!(
        checked, 46,
        "every orchestrator query but the two not computable"
    );
    drop(server);
}
