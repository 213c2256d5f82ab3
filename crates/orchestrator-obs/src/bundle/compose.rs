//! `docker-compose.yml`: Prometheus (30-day retention), Alertmanager, Grafana, the
//! OpenTelemetry Collector and Jaeger, wired to the bundle's files.

use orchestrator_support::yaml::{Yaml, map};

use super::BundleOptions;

fn list(items: &[&str]) -> Yaml {
    Yaml::List(items.iter().map(|s| Yaml::from(*s)).collect())
}

pub(crate) fn config(o: &BundleOptions) -> String {
    let retention = format!("--storage.tsdb.retention.time={}", o.retention);
    let service = |image: &str, fields: Vec<(&str, Yaml)>| {
        let mut all = vec![
            ("image", Yaml::from(image)),
            ("restart", "unless-stopped".into()),
        ];
        all.extend(fields);
        map(all)
    };
    map([
        (
            "services",
            map([
                (
                    "prometheus",
                    service(
                        "prom/prometheus:v3.5.0",
                        vec![
                            (
                                "command",
                                list(&[
                                    "--config.file=/etc/prometheus/prometheus.yml",
                                    &retention,
                                    "--web.enable-lifecycle",
                                    // Keeps the exemplars of the latency histograms, which
                                    // link Grafana's points to their traces in Jaeger.
                                    "--enable-feature=exemplar-storage",
                                    // Takes what the Collector's metrics pipeline writes
                                    // for replicas that push over OTLP.
                                    "--web.enable-remote-write-receiver",
                                ]),
                            ),
                            (
                                "volumes",
                                list(&[
                                    "./prometheus:/etc/prometheus:ro",
                                    "prometheus-data:/prometheus",
                                ]),
                            ),
                            ("ports", list(&["9090:9090"])),
                            ("extra_hosts", list(&["host.docker.internal:host-gateway"])),
                        ],
                    ),
                ),
                (
                    "alertmanager",
                    service(
                        "prom/alertmanager:v0.28.1",
                        vec![
                            (
                                "command",
                                list(&["--config.file=/etc/alertmanager/alertmanager.yml"]),
                            ),
                            ("volumes", list(&["./alertmanager:/etc/alertmanager:ro"])),
                            ("ports", list(&["9093:9093"])),
                        ],
                    ),
                ),
                (
                    "grafana",
                    service(
                        "grafana/grafana:12.0.0",
                        vec![
                            (
                                "volumes",
                                list(&[
                                    "./grafana/provisioning:/etc/grafana/provisioning:ro",
                                    "./grafana/dashboards:/var/lib/grafana/dashboards:ro",
                                ]),
                            ),
                            ("ports", list(&["3000:3000"])),
                            ("depends_on", list(&["prometheus"])),
                        ],
                    ),
                ),
                (
                    "otel-collector",
                    service(
                        "otel/opentelemetry-collector-contrib:0.128.0",
                        vec![
                            ("command", list(&["--config=/etc/otelcol/config.yaml"])),
                            (
                                "volumes",
                                list(&["./otel-collector/config.yaml:/etc/otelcol/config.yaml:ro"]),
                            ),
                            ("ports", list(&["4317:4317", "4318:4318"])),
                            ("depends_on", list(&["jaeger"])),
                        ],
                    ),
                ),
                (
                    "jaeger",
                    service(
                        "jaegertracing/jaeger:2.7.0",
                        vec![("ports", list(&["16686:16686"]))],
                    ),
                ),
            ]),
        ),
        ("volumes", map([("prometheus-data", map::<&str>([]))])),
    ])
    .render()
}
