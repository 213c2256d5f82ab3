//! `kpis`: `/api/v1/kpis` answers, the KPIs are evaluated, and every KPI has data.

use orchestrator_api::KpisDoc;

use super::Checks;

pub(super) fn checks(kpis: &Result<KpisDoc, String>, c: &mut Checks<'_>) {
    let k = match kpis {
        Ok(k) => k,
        Err(e) => return c.presence("/api/v1/kpis answers", false, e.clone()),
    };
    c.presence("/api/v1/kpis answers", true, format!("{} KPIs", k.total));
    let with_values = k.kpis.iter().filter(|x| x.value.is_some()).count();
    c.presence(
        "the KPIs are evaluated",
        k.evaluated_at.is_some() && k.total == 5,
        format!(
            "{with_values} of {} with a value; targets met {}/{}",
            k.total, k.met, k.total
        ),
    );
    let without: Vec<String> = k
        .kpis
        .iter()
        .filter(|x| x.value.is_none())
        .map(|x| format!("{} ({})", x.id, x.display_value))
        .collect();
    c.correctness(
        "every KPI has data",
        !k.kpis.is_empty() && without.is_empty(),
        if without.is_empty() {
            format!("{with_values} KPIs with a value")
        } else {
            format!("no value: {}", without.join(", "))
        },
    );
}
