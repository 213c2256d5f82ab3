//! `alerts`: `/api/v1/alerts` answers and every rule is evaluated and listed.

use orchestrator_api::AlertsDoc;

use super::Checks;

pub(super) fn checks(alerts: &Result<AlertsDoc, String>, c: &mut Checks<'_>) {
    let a = match alerts {
        Ok(a) => a,
        Err(e) => return c.presence("/api/v1/alerts answers", false, e.clone()),
    };
    c.presence("/api/v1/alerts answers", true, format!("{} rules", a.total));
    c.presence(
        "every rule is evaluated and listed",
        a.evaluated_at.is_some() && a.total >= 4,
        format!("{} rules, {} firing", a.total, a.firing),
    );
}
