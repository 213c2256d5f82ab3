//! Serves `/metrics` standalone with the process collector, without any async runtime in
//! `main`, until Ctrl-C.
//!
//! `cargo run -p orchestrator-exporters --example serve -- 127.0.0.1:9464`

use std::time::Duration;

use orchestrator_exporters::{
    MetricsEndpoint, MetricsServer, ProcessCollector, ProcessCollectorConfig,
};
use orchestrator_metrics::{Metrics, Registry};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| orchestrator_exporters::DEFAULT_ADDR.to_owned());
    let registry = Registry::new();
    let metrics = Metrics::new(&registry);
    let _collector = ProcessCollector::start(&registry, ProcessCollectorConfig::default())?;
    let server = MetricsServer::bind(&addr, MetricsEndpoint::new(registry).router())?;
    println!("serving http://{}/metrics", server.local_addr());
    loop {
        metrics
            .requests()
            .record("/heartbeat", "GET", 200, Duration::from_millis(3));
        std::thread::sleep(Duration::from_secs(1));
    }
}
