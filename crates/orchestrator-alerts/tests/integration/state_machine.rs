//! The state machine, driven with explicit timestamps (no sleeping): `for`, flapping,
//! resolution, mean time to resolution, history, the gauge, and notifications.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use orchestrator_alerts::{
    AlertEvaluator, AlertRule, AlertState, Delivery, EvaluatorConfig, Notification, NotifyState,
    Severity, Sink,
};
use orchestrator_metrics::catalogue::ACTIVE_SESSIONS;
use orchestrator_metrics::{Registry, exposition};
use orchestrator_query::{CmpOp, Expr, SampleStore, Selector};

#[derive(Debug)]
struct Recording(Delivery, Arc<Mutex<Vec<Notification>>>);

impl Sink for Recording {
    fn name(&self) -> String {
        format!("recording-{:?}", self.0)
    }
    fn delivery(&self) -> Delivery {
        self.0
    }
    fn deliver(&self, batch: &[Notification]) -> Result<(), orchestrator_alerts::DeliveryError> {
        self.1.lock().unwrap().extend_from_slice(batch);
        Ok(())
    }
}

const STEP: i64 = 15_000;

fn rule(for_secs: u64) -> AlertRule {
    AlertRule::builder(
        "TooManySessions",
        Expr::value(Selector::of(&ACTIVE_SESSIONS)).map(Expr::sum),
    )
    .when(CmpOp::Gt, 5.0)
    .for_duration(Duration::from_secs(for_secs))
    .severity(Severity::High)
    .summary("too many sessions")
    .build()
    .unwrap()
}

struct Harness {
    store: SampleStore,
    evaluator: AlertEvaluator,
    changes: Arc<Mutex<Vec<Notification>>>,
    resends: Arc<Mutex<Vec<Notification>>>,
    registry: Registry,
}

impl Harness {
    fn new(for_secs: u64, config: EvaluatorConfig) -> Self {
        let registry = Registry::new();
        let (changes, resends) = (Arc::default(), Arc::default());
        let sinks: Vec<Arc<dyn Sink>> = vec![
            Arc::new(Recording(Delivery::OnChange, Arc::clone(&changes))),
            Arc::new(Recording(Delivery::PrometheusResend, Arc::clone(&resends))),
        ];
        let evaluator =
            AlertEvaluator::new(vec![rule(for_secs)], &registry, sinks, config).unwrap();
        Harness {
            store: SampleStore::default(),
            evaluator,
            changes,
            resends,
            registry,
        }
    }

    /// Sets the gauge to `value` at `t` and evaluates.
    fn step(&mut self, t: i64, value: f64) -> Option<AlertState> {
        self.store
            .append("orchestrator_active_sessions", &[], t, value, 3_600_000);
        self.evaluator.evaluate_at(&self.store, t);
        self.evaluator.report(t).rules[0].status
    }

    fn flush(mut self) -> (Vec<Notification>, Vec<Notification>, Registry) {
        self.evaluator.flush();
        let take = |m: &Arc<Mutex<Vec<Notification>>>| m.lock().unwrap().clone();
        (take(&self.changes), take(&self.resends), self.registry)
    }
}

#[test]
fn fires_only_after_for_and_resolves() {
    let mut h = Harness::new(60, EvaluatorConfig::default());
    assert_eq!(h.step(0, 1.0), None, "inactive");
    assert_eq!(h.step(STEP, 9.0), Some(AlertState::Pending));
    assert_eq!(h.step(2 * STEP, 9.0), Some(AlertState::Pending));
    assert_eq!(
        h.step(4 * STEP, 9.0),
        Some(AlertState::Pending),
        "45 s active: not yet"
    );
    assert_eq!(
        h.step(5 * STEP, 9.0),
        Some(AlertState::Firing),
        "60 s active: fires"
    );
    let report = h.evaluator.report(5 * STEP);
    assert_eq!(report.rules[0].since, Some(5 * STEP));
    assert_eq!(report.summary(), "Active alerts: 1/1 (100%)");
    assert_eq!(h.step(8 * STEP, 2.0), Some(AlertState::Resolved));
    let report = h.evaluator.report(8 * STEP);
    assert_eq!(report.resolved, 1);
    assert_eq!(
        report.mean_time_to_resolution,
        Some(Duration::from_millis(3 * STEP as u64))
    );
    let kinds: Vec<_> = report
        .history
        .iter()
        .map(|t| (t.from, t.to, t.at))
        .collect();
    assert_eq!(
        kinds,
        [
            (None, Some(AlertState::Pending), STEP),
            (
                Some(AlertState::Pending),
                Some(AlertState::Firing),
                5 * STEP
            ),
            (
                Some(AlertState::Firing),
                Some(AlertState::Resolved),
                8 * STEP
            ),
        ]
    );
}

#[test]
fn flapping_shorter_than_for_never_fires() {
    let mut h = Harness::new(60, EvaluatorConfig::default());
    for i in 0..40 {
        let status = h.step(i * STEP, if i % 4 < 3 { 9.0 } else { 1.0 });
        assert_ne!(status, Some(AlertState::Firing), "fired at step {i}");
    }
    let report = h.evaluator.report(40 * STEP);
    assert_eq!(report.resolved, 0);
    assert!(
        report
            .history
            .iter()
            .any(|t| t.from == Some(AlertState::Pending) && t.to.is_none()),
        "pending alerts were dropped"
    );
    let (changes, resends, _) = h.flush();
    assert!(
        changes.is_empty() && resends.is_empty(),
        "a pending alert notifies nobody"
    );
}

#[test]
fn mean_time_to_resolution_over_several_incidents() {
    let mut h = Harness::new(15, EvaluatorConfig::default());
    // Incident 1 fires at step 1 and resolves at step 3 (30 s); incident 2 fires at step 11
    // and resolves at step 17 (90 s).
    let values = [
        9.0, 9.0, 9.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 1.0,
    ];
    for (i, v) in values.iter().enumerate() {
        h.step(i as i64 * STEP, *v);
    }
    let report = h.evaluator.report(18 * STEP);
    assert_eq!(report.resolved, 2);
    assert_eq!(
        report.mean_time_to_resolution,
        Some(Duration::from_secs(60))
    );
}

#[test]
fn history_is_bounded() {
    let config = EvaluatorConfig {
        history: 5,
        ..EvaluatorConfig::default()
    };
    let mut h = Harness::new(15, config);
    for i in 0..100 {
        h.step(i * STEP, if i % 3 == 0 { 9.0 } else { 1.0 });
    }
    assert_eq!(h.evaluator.report(100 * STEP).history.len(), 5);
}

#[test]
fn the_gauge_follows_the_states() {
    let mut h = Harness::new(30, EvaluatorConfig::default());
    let gauge = |h: &Harness, state: &str| {
        exposition::parse(&h.registry.render())
            .unwrap()
            .samples("orchestrator_alerts")
            .find(|s| {
                s.label("alertname") == Some("TooManySessions")
                    && s.label("alertstate") == Some(state)
            })
            .map(|s| (s.value, s.label("severity").map(str::to_owned)))
    };
    assert_eq!(gauge(&h, "firing"), Some((0.0, Some("high".to_owned()))));
    h.step(0, 9.0);
    assert_eq!(gauge(&h, "pending").map(|g| g.0), Some(1.0));
    h.step(2 * STEP, 9.0);
    assert_eq!(gauge(&h, "pending").map(|g| g.0), Some(0.0));
    assert_eq!(gauge(&h, "firing").map(|g| g.0), Some(1.0));
}

#[test]
fn notifications_follow_prometheus_timing() {
    let config = EvaluatorConfig {
        resend_delay: Duration::from_secs(60),
        interval: Duration::from_secs(15),
        ..EvaluatorConfig::default()
    };
    let mut h = Harness::new(15, config);
    for i in 0..=12 {
        h.step(i * STEP, 9.0); // fires at step 1 (15 s)
    }
    h.step(13 * STEP, 1.0); // resolves at 195 s
    h.step(14 * STEP, 1.0);
    let (changes, resends, _) = h.flush();
    let states: Vec<_> = changes.iter().map(|n| n.state).collect();
    assert_eq!(
        states,
        [NotifyState::Firing, NotifyState::Resolved],
        "one per change"
    );
    assert_eq!(changes[0].starts_at, STEP);
    assert_eq!(changes[1].ends_at, 13 * STEP);
    // Alertmanager: sent when it fires, re-sent once the resend delay has passed, and the
    // resolution once; endsAt four resend delays ahead while firing.
    let sent: Vec<_> = resends.iter().map(|n| (n.state, n.ends_at)).collect();
    assert_eq!(
        sent,
        [
            (NotifyState::Firing, STEP + 240_000),
            (NotifyState::Firing, 6 * STEP + 240_000),
            (NotifyState::Firing, 11 * STEP + 240_000),
            (NotifyState::Resolved, 13 * STEP),
        ]
    );
    assert!(
        resends
            .iter()
            .all(|n| n.starts_at == STEP && n.label("alertname") == Some("TooManySessions"))
    );
}
