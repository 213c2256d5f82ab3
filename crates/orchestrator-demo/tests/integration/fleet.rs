//! Issue 17, a replica's bad inputs: Redis unreachable (the replica keeps serving, user
//! activity is dropped and counted, the summary says distinct users are unavailable), and
//! two replicas under one `--instance` name (a clear warning at start), with a real Redis.

use crate::common;

use std::process::Output;

use orchestrator_demo::fleet::{self, Claim};
use orchestrator_testkit::server::closed_port;
use orchestrator_testkit::services::Redis;

fn demo(args: &[&str]) -> (Output, String, String) {
    common::run(
        common::demo()
            .args(["--concurrency", "4", "--tenants", "0"])
            .args(args),
    )
}

/// A one-second replica named `instance` counting users in the Redis at `url`.
fn replica(url: &str, instance: &str) -> (Output, String, String) {
    demo(&["--duration", "1", "--redis", url, "--instance", instance])
}

#[test]
fn with_redis_unreachable_the_replica_serves_and_says_distinct_users_are_unavailable() {
    let redis = format!("redis://127.0.0.1:{}/", closed_port());
    let (output, stdout, stderr) = demo(&["--duration", "3", "--redis", &redis]);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // Every request answered: Redis is off the request path.
    let sent = stdout
        .lines()
        .find(|l| l.starts_with("The load generator sent"))
        .unwrap_or_else(|| panic!("no load line in\n{stdout}"));
    let words: Vec<&str> = sent.split_whitespace().collect();
    assert_eq!(words[4], words[6].trim_start_matches('('), "{sent}");
    assert!(
        stdout.contains("distinct users are unavailable (cannot count distinct users"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| Monthly Active Users | no data"),
        "{stdout}"
    );
    assert!(
        stderr.contains("Redis unreachable; user activity is dropped and counted"),
        "{stderr}"
    );
}

#[test]
fn a_second_replica_under_a_taken_name_is_warned_about_and_a_clean_stop_frees_the_name() {
    let redis = Redis::start();
    let url = redis.url();
    // Another replica holds `replica-a`.
    let Claim::Ours(held) = fleet::claim(&url, "replica-a", "pid 1, metrics on elsewhere").unwrap()
    else {
        panic!("replica-a was free");
    };
    let (output, stdout, stderr) = replica(&url, "replica-a");
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "warning: another replica already runs as --instance replica-a (pid 1, metrics on elsewhere)"
        ),
        "{stderr}"
    );
    assert!(stdout.contains("Scope: replica replica-a;"), "{stdout}");
    drop(held);

    // A replica that stops cleanly frees its name for the next one, with no warning.
    let (output, stdout, stderr) = replica(&url, "replica-b");
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(!stderr.contains("warning: another replica"), "{stderr}");
    assert!(
        stdout.contains("distinct users (and the monthly-active-users KPI) are the fleet's"),
        "{stdout}"
    );
    assert!(matches!(
        fleet::claim(&url, "replica-b", "test").unwrap(),
        Claim::Ours(_)
    ));
}
