//! The samples a run recorded, kept beside its results (`samples.json`) so that other rules
//! can be evaluated over the very same traffic (`alert-quality --rescore DIR`).

use std::path::Path;
use std::time::Duration;

use orchestrator_telemetry::orchestrator_alerts::generate::RecordedSeries;
use serde::{Deserialize, Serialize};

/// The file's name.
pub(crate) const SAMPLES_JSON: &str = "samples.json";

#[derive(Serialize, Deserialize)]
struct Series {
    name: String,
    labels: Vec<(String, String)>,
    values: Vec<Option<f64>>,
}

#[derive(Serialize, Deserialize)]
struct Samples {
    interval_ms: u64,
    series: Vec<Series>,
}

/// Why the samples could not be kept or read back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SamplesError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not recorded samples: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

pub(crate) fn write(
    dir: &Path,
    interval: Duration,
    series: &[RecordedSeries],
) -> Result<(), SamplesError> {
    let path = dir.join(SAMPLES_JSON);
    let io = |source| SamplesError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let samples = Samples {
        interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
        series: series
            .iter()
            .map(|s| Series {
                name: s.name.clone(),
                labels: s.labels.clone(),
                // NaN and infinities are not JSON: a gap, as in the replay.
                values: s
                    .values
                    .iter()
                    .map(|v| v.filter(|v| v.is_finite()))
                    .collect(),
            })
            .collect(),
    };
    let text = serde_json::to_string(&samples).map_err(|source| SamplesError::Json {
        path: path.display().to_string(),
        source,
    })?;
    std::fs::write(&path, text).map_err(io)
}

pub(crate) fn read(dir: &Path) -> Result<(Duration, Vec<RecordedSeries>), SamplesError> {
    let path = dir.join(SAMPLES_JSON);
    let name = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| SamplesError::Io {
        path: name.clone(),
        source,
    })?;
    let samples: Samples =
        serde_json::from_str(&text).map_err(|source| SamplesError::Json { path: name, source })?;
    Ok((
        Duration::from_millis(samples.interval_ms.max(1)),
        samples
            .series
            .into_iter()
            .map(|s| RecordedSeries {
                name: s.name,
                labels: s.labels,
                values: s.values,
            })
            .collect(),
    ))
}
