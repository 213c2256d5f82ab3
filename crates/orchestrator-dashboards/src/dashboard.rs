//! A dashboard: its panels laid out on Grafana's 24-column grid, a datasource variable, and
//! its refresh interval.

use serde_json::{Value, json};

use crate::panel::Panel;

/// One Grafana dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// The stable uid (the file name and the URL).
    pub uid: &'static str,
    /// The title.
    pub title: &'static str,
    /// The refresh interval (`1m`, `30s`...).
    pub refresh: &'static str,
    /// The default time range (`now-6h`...).
    pub from: &'static str,
    /// The panels, in reading order.
    pub panels: Vec<Panel>,
}

impl Dashboard {
    /// The Grafana dashboard JSON (schema 39), panels flowing left to right, top to bottom.
    pub fn to_json(&self) -> Value {
        let mut panels = Vec::with_capacity(self.panels.len());
        let (mut x, mut y, mut row_height) = (0, 0, 0);
        for (i, panel) in self.panels.iter().enumerate() {
            let width = panel.width();
            if x + width > 24 {
                x = 0;
                y += row_height;
                row_height = 0;
            }
            let id = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let json = panel.to_json(id, x, y);
            row_height = row_height.max(json["gridPos"]["h"].as_u64().unwrap_or(8) as u32);
            panels.push(json);
            x += width;
        }
        json!({
            "uid": self.uid,
            "title": self.title,
            "tags": ["orchestrator-telemetry"],
            "timezone": "browser",
            "schemaVersion": 39,
            "version": 1,
            "editable": true,
            "refresh": self.refresh,
            "time": {"from": self.from, "to": "now"},
            "templating": {"list": [{
                "name": "datasource",
                "label": "Data source",
                "type": "datasource",
                "query": "prometheus",
                "current": {},
                "hide": 0,
                "refresh": 1,
            }]},
            "annotations": {"list": []},
            "panels": panels,
        })
    }

    /// The JSON as pretty text, ending with a newline (the file written to disk).
    pub fn render(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        text.push('\n');
        text
    }
}
