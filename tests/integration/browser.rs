//! The live page in a real browser: headless Chromium driven through chromedriver (WebDriver,
//! with fantoccini) while the demo orchestrator runs under load. It checks that the KPI rows,
//! the alert rows and a chart are drawn, that the figures change between two reads, and that
//! a model named `<img src=x onerror=alert(1)>` shows as text with no script run. It saves a
//! screenshot under `target/tmp/`.

use crate::support;

use std::borrow::Cow;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use orchestrator_demo::load::{self, LoadConfig};
use orchestrator_demo::provider::ProviderConfig;
use orchestrator_demo::{DemoConfig, DemoServer, demo_prices};
use orchestrator_telemetry::Telemetry;
use orchestrator_telemetry::orchestrator_alerts::AlertTuning;
use orchestrator_telemetry::orchestrator_tower::{
    GenAiRequest, OpenAiCompatible, Sampler, TelemetryLayer,
};
use serde_json::json;
use support::{free_port, tool};
use tower::{Layer as _, ServiceExt as _, service_fn};

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// chromedriver, killed on drop.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver(port: u16) -> Driver {
    let program = tool("chromedriver", "chromium-driver");
    let child = Command::new(program)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver(child)
}

async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    let mut texts = texts_of(client, css).await;
    assert!(!texts.is_empty(), "nothing matches {css}");
    texts.swap_remove(0)
}

/// The texts of every element `css` matches. The page re-renders its tables every 2 s: an
/// element found just before is then stale, and the whole read starts again.
async fn texts_of(client: &fantoccini::Client, css: &str) -> Vec<String> {
    'again: for _ in 0..20 {
        let mut texts = Vec::new();
        for element in client.find_all(Locator::Css(css)).await.unwrap() {
            match element.text().await {
                Ok(text) => texts.push(text),
                Err(e) if e.is_stale_element_reference() => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue 'again;
                }
                Err(e) => panic!("{css}: {e}"),
            }
        }
        return texts;
    }
    panic!("{css} went stale 20 times in a row")
}

/// Polls until `check` holds (the page refreshes every 2 s).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_page_in_a_real_browser() {
    let chromium = tool("chromium", "chromium");
    let driver_port = free_port();
    let _driver = start_driver(driver_port);

    let telemetry = Telemetry::builder()
        .listen("127.0.0.1:0")
        .prices(demo_prices().unwrap())
        .monitor_interval(Duration::from_millis(500))
        .alerts(|a| a.tuning(AlertTuning::demo()))
        .ignore_otel_env()
        .tracing(|t| t.sampler(Sampler::always_on()))
        .instance("replica-7")
        .budget("tenant-0:1d:0.02:reject".parse().unwrap())
        .build()
        .unwrap();
    let base = format!("http://{}", telemetry.metrics_addr().unwrap());
    let config = DemoConfig {
        api_addr: "127.0.0.1:0".into(),
        provider: ProviderConfig::default(),
        observer: None,
        ..Default::default()
    };
    let server = DemoServer::start(config, &telemetry).await.unwrap();
    let api = server.api_url();
    // Stopped once the page has been seen moving: a fixed length raced the browser's start
    // on a loaded machine (the load was over before the second read).
    let stop_load = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = stop_load.clone();
    let load = tokio::spawn(async move {
        let config = LoadConfig {
            duration: Duration::from_secs(120),
            concurrency: 4,
            seed: 5,
            stop,
            ..LoadConfig::default()
        };
        load::run(&api, &config).await
    });

    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1400,2200"],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session with headless Chromium");
    client.goto(&format!("{base}/dashboard")).await.unwrap();
    assert_eq!(
        client.title().await.unwrap(),
        "Orchestrator telemetry — live"
    );

    // The KPI rows, the alert rows (inactive ones included) and a chart.
    eventually("the five KPI rows", || async {
        client
            .find_all(Locator::Css("#kpi-table tbody tr[data-kpi]"))
            .await
            .unwrap()
            .len()
            == 5
    })
    .await;
    eventually(
        "the nine alert rows (the spec's four, the four budget rules, AgentRunaway)",
        || async {
            client
                .find_all(Locator::Css("#alert-table tbody tr[data-rule]"))
                .await
                .unwrap()
                .len()
                == 9
        },
    )
    .await;
    // Issue 17: the replica's name, and whose figures these are (users counted in this
    // process here: every figure is this replica's).
    eventually("the instance name in the header", || async {
        text_of(&client, "#instance").await == "· replica-7"
    })
    .await;
    let scope = text_of(&client, "#kpi-scope").await;
    assert!(
        scope.starts_with("Every figure is this replica's own"),
        "{scope}"
    );
    eventually("the request-rate chart", || async {
        client
            .find_all(Locator::Css("#chart-rate polyline"))
            .await
            .unwrap()
            .len()
            == 1
    })
    .await;
    // Issue 15 item 1: the charts have a time axis (clock times, start and end) and
    // value labels (a round maximum, its half and zero, and the latest value).
    eventually("the request-rate chart's time axis", || async {
        let start = text_of(&client, "#chart-rate-axis .x-start").await;
        let end = text_of(&client, "#chart-rate-axis .x-end").await;
        let clock = |t: &str| {
            t.len() == 8
                && t.bytes().enumerate().all(|(i, b)| {
                    if i == 2 || i == 5 {
                        b == b':'
                    } else {
                        b.is_ascii_digit()
                    }
                })
        };
        clock(&start) && clock(&end) && start != end
    })
    .await;
    let top = text_of(&client, "#chart-rate-axis .y-max").await;
    let zero = text_of(&client, "#chart-rate-axis .y-min").await;
    let latest = text_of(&client, "#chart-rate-axis .last").await;
    assert!(top.ends_with("/s") && top != "0/s", "{top}");
    assert!(zero.starts_with('0') && zero.ends_with("/s"), "{zero}");
    assert!(
        latest.starts_with("now ") && latest.ends_with("/s"),
        "{latest}"
    );
    let p95_top = text_of(&client, "#chart-p95-axis .y-max").await;
    assert!(p95_top.ends_with(" ms"), "{p95_top}");
    // Issue 15: the LLM panel (one row per demo model) and the top tenants by spend (the
    // demo's load bills its users to five tenants).
    eventually("the three LLM rows", || async {
        client
            .find_all(Locator::Css("#llm-table tbody tr[data-model]"))
            .await
            .unwrap()
            .len()
            == 3
    })
    .await;
    eventually("the tenant rows", || async {
        !client
            .find_all(Locator::Css("#tenant-table tbody tr[data-tenant]"))
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let cost = text_of(
        &client,
        "#llm-table tbody tr[data-model='openai/gpt-4o-mini'] td:last-child",
    )
    .await;
    // The Agents panel: the demo's research agent, its runs and its cost per run; and the
    // traces' LLM spend in their headers.
    eventually("the research agent's row", || async {
        !client
            .find_all(Locator::Css(
                "#agent-table tbody tr[data-agent='researcher']",
            ))
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let per_run = text_of(
        &client,
        "#agent-table tbody tr[data-agent='researcher'] td:nth-child(7)",
    )
    .await;
    assert!(per_run.starts_with('$') && per_run != "$0", "{per_run}");
    // The Budgets panel: tenant-0's enforced day budget.
    eventually("tenant-0's budget row", || async {
        !client
            .find_all(Locator::Css(
                "#budget-table tbody tr[data-budget='tenant-0 1d']",
            ))
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let policy = text_of(
        &client,
        "#budget-table tbody tr[data-budget='tenant-0 1d'] td:nth-child(7)",
    )
    .await;
    assert_eq!(policy, "reject");
    let whose = text_of(
        &client,
        "#budget-table tbody tr[data-budget='tenant-0 1d'] td:last-child",
    )
    .await;
    assert_eq!(
        whose, "this process's spend since start",
        "no store configured"
    );
    eventually("a trace header with its LLM spend", || async {
        texts_of(&client, ".trace h3")
            .await
            .iter()
            .any(|h| h.contains(" · LLM $"))
    })
    .await;
    assert!(cost.starts_with('$') && cost != "$0.0000", "{cost}");
    // A p95 that fell in a bucket too wide to be within 10 % is shown as its bucket (the
    // server says when, the page's own formatter says how).
    let shown = client
        .execute(
            "return [fmt.p95(0.2425, {lower: 0.1, upper: 0.25}), fmt.p95(0.143, null), \
             fmt.p95(90, {lower: 81.92, upper: null}), fmt.p95(0.005, {lower: 0, upper: 0.01})];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        shown,
        json!([
            "≤ 250 ms (100 ms–250 ms)",
            "143.0 ms",
            "> 81.9 s",
            "≤ 10 ms"
        ])
    );
    let ttft = text_of(
        &client,
        "#llm-table tbody tr[data-model='openai/gpt-4o-mini'] td:nth-child(6)",
    )
    .await;
    assert!(
        ttft.ends_with(" ms") || ttft.ends_with(')') || ttft.ends_with(" s"),
        "{ttft}"
    );
    // The demo's provider reports every call's usage: none is missing.
    let missing = text_of(
        &client,
        "#llm-table tbody tr[data-model='openai/gpt-4o-mini'] td:nth-last-child(2)",
    )
    .await;
    assert_eq!(missing, "0");
    let tenant = text_of(&client, "#tenant-table tbody tr td:first-child").await;
    assert!(tenant.starts_with("tenant-"), "{tenant}");
    let kpi_names = texts_of(&client, "#kpi-table tbody tr td:first-child").await;
    assert!(
        kpi_names.contains(&"Monthly Active Users".to_owned()),
        "{kpi_names:?}"
    );
    // Issue 16 item 9: the trend column; a process minutes old has no previous window, and
    // says so rather than 0 %.
    let trends = texts_of(&client, "#kpi-table tbody tr[data-kpi] td:nth-child(5)").await;
    assert_eq!(trends, vec!["no data"; 5], "{trends:?}");
    // The business figures of the last day, the load's revenue among them, and no trend yet.
    eventually("the revenue of the last day", || async {
        text_of(
            &client,
            "#figure-table tbody tr[data-figure='revenue'] td:nth-child(2)",
        )
        .await
        .starts_with('$')
    })
    .await;
    let revenue_trend = text_of(
        &client,
        "#figure-table tbody tr[data-figure='revenue'] td:nth-child(3)",
    )
    .await;
    assert_eq!(revenue_trend, "no data");

    // The figures change between two reads while the load runs.
    let first = text_of(&client, "#requests-total").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let second = text_of(&client, "#requests-total").await;
    assert_ne!(first, second, "the request total did not move");
    let parse = |s: &str| s.replace(',', "").parse::<u64>().unwrap_or(0);
    assert!(parse(&second) > parse(&first), "{first} -> {second}");
    stop_load.store(true, std::sync::atomic::Ordering::Relaxed);

    // A hostile model name, once the load is over so that its trace is the newest.
    let sent = load.await.unwrap();
    assert!(sent.answered() > 50, "{sent:?}");
    let llm = TelemetryLayer::llm(telemetry.tracer(), OpenAiCompatible).layer(service_fn(
        |_: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::from("{}")))
        },
    ));
    let mut request = http::Request::new(String::new());
    request.extensions_mut().insert(GenAiRequest {
        operation: "chat",
        provider: Cow::Borrowed("openai"),
        model: Cow::Borrowed(HOSTILE),
        prompt: None,
    });
    let response = llm.oneshot(request).await.unwrap();
    http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap();
    let needle = format!("chat {HOSTILE}");
    eventually("the hostile trace", || async {
        let text = client
            .find(Locator::Css("#traces"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.contains(&needle)
    })
    .await;
    assert!(
        client
            .find_all(Locator::Css("img"))
            .await
            .unwrap()
            .is_empty(),
        "the label value became an element"
    );
    assert!(
        client.get_alert_text().await.is_err(),
        "a script ran: an alert is open"
    );

    let screenshot = client.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-dashboard.png");
    std::fs::write(&path, screenshot).unwrap();
    eprintln!("screenshot: {}", path.display());
    client.close().await.unwrap();
    drop(server);
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .unwrap();
}
