//! Generated configuration, as pure functions of the rules (golden files in the tests).

mod alertmanager;
mod promtool;
mod replay;
mod rules;

pub use crate::routing::{Channel, RouteError, Routing, SeverityRoute, default_routes};
pub use alertmanager::{AlertmanagerOptions, alertmanager_config};
pub use promtool::{InputSeries, Scenario, default_scenarios, promtool_tests};
pub use replay::{Firing, Mismatch, RecordedSeries, parse_mismatches, replay_tests};
pub use rules::{alert_group, rule_groups};
