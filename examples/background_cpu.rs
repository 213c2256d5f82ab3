//! How much CPU the telemetry's background threads take at the default intervals (monitor
//! every 15 s, live-page history every second, process collector every 5 s), with a
//! registry of realistic size: `ROUTES` routes, each with requests by 2 methods and 2
//! statuses and their latency histograms. Reads this process's user + system time from
//! `/proc/self/stat` before and after `SECONDS` idle seconds (issue 16 item 6).
//!
//! `cargo run --release --example background_cpu -- [ROUTES] [SECONDS]` (default 1000 60)

use std::time::{Duration, Instant};

use orchestrator_telemetry::{CardinalityLimits, GuardedLabel, Status, Telemetry};

/// User plus system CPU time of this process so far, in clock ticks (`utime` + `stime`).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let routes: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let seconds: u64 = args.next().map_or(Ok(60), |a| a.parse())?;
    let telemetry = Telemetry::builder()
        .listen("127.0.0.1:0")
        .cardinality(CardinalityLimits::default().cap(GuardedLabel::Route, routes + 1))
        .build()?;
    let requests = telemetry.metrics().requests();
    for i in 0..routes {
        let route = format!("/api/v1/resource_{i}/items");
        for method in ["GET", "POST"] {
            for status in [200, 500] {
                requests.record(
                    &route,
                    method,
                    Status::Code(status),
                    Duration::from_millis(5 + (i % 200) as u64),
                );
            }
        }
    }
    let series = telemetry.registry().series_count();
    let samples =
        orchestrator_telemetry::exposition::parse(&telemetry.registry().render())?.sample_count();
    let ticks_per_second = 100.0; // USER_HZ on Linux
    let before = cpu_ticks().ok_or("no /proc/self/stat")?;
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let after = cpu_ticks().ok_or("no /proc/self/stat")?;
    let cpu = (after - before) as f64 / ticks_per_second;
    let wall = start.elapsed().as_secs_f64();
    println!(
        "{routes} routes: {series} series, {samples} samples; background threads used {cpu:.2} s of CPU in {wall:.1} s: {:.2} % of one core",
        100.0 * cpu / wall
    );
    telemetry.shutdown();
    Ok(())
}
