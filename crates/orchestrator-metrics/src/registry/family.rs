//! One metric family: its name, type, help, buckets and series.
//!
//! Each series keeps its labels already escaped (`route="/v1/chat",method="POST"`), so
//! rendering copies bytes and formats numbers, nothing else.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::RegistryError;
use super::bounds::Bounds;
use super::cells::{CounterCell, GaugeCell, HistogramCell};
use super::text::{escape_label_value, format_le};
use crate::catalogue::{MetricDef, MetricKind, Unit};

/// The storage of one series.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Counter(Arc<CounterCell>),
    Gauge(Arc<GaugeCell>),
    Histogram(Arc<HistogramCell>),
}

impl Cell {
    pub(crate) fn kind(&self) -> MetricKind {
        match self {
            Cell::Counter(_) => MetricKind::Counter,
            Cell::Gauge(_) => MetricKind::Gauge,
            Cell::Histogram(_) => MetricKind::Histogram,
        }
    }
}

/// One series: its escaped label text and its storage.
#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) labels: Box<str>,
    pub(crate) cell: Cell,
    /// When the series was made, in Unix seconds (OpenMetrics' `_created`).
    pub(crate) created: f64,
}

#[derive(Debug, Default)]
pub(crate) struct SeriesTable {
    index: HashMap<Box<str>, usize>,
    pub(crate) list: Vec<Series>,
}

#[derive(Debug)]
pub(crate) struct Family {
    pub(crate) name: Box<str>,
    pub(crate) kind: MetricKind,
    help: RwLock<Box<str>>,
    /// Whether the family comes from a definition (its help and labels are fixed).
    defined: bool,
    bounds: Arc<Bounds>,
    /// The unit of a catalogue family (none for plain counts), for OpenMetrics' `# UNIT`.
    pub(crate) unit: Option<&'static str>,
    /// The end of each bucket line up to its value (`0.005"} `), `+Inf` last.
    pub(crate) le_tails: Box<[Box<str>]>,
    label_names: Box<[Box<str>]>,
    series: RwLock<SeriesTable>,
    /// Set once a misuse through the facade has been logged, so it is logged once.
    pub(crate) warned: AtomicBool,
    /// A GenAI conventions family: left out of the text expositions unless the registry
    /// exposes them.
    pub(crate) semconv: bool,
}

pub(crate) fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

impl Family {
    pub(crate) fn from_def(def: &MetricDef) -> Result<Self, RegistryError> {
        if !valid_metric_name(def.name) {
            return Err(RegistryError::InvalidName {
                name: def.name.to_owned(),
            });
        }
        if let Some(bad) = def.label_names().find(|n| !valid_label_name(n)) {
            return Err(RegistryError::InvalidName {
                name: format!("{}{{{bad}}}", def.name),
            });
        }
        let histogram = def.kind == MetricKind::Histogram;
        let buckets_ok = def.buckets.iter().all(|b| b.is_finite())
            && def.buckets.windows(2).all(|w| w[0] < w[1])
            && (def.buckets.is_empty() != histogram)
            && !(histogram && def.label_names().any(|n| n == "le"));
        if !buckets_ok {
            return Err(RegistryError::InvalidBuckets {
                name: def.name.to_owned(),
                buckets: def.buckets.to_vec(),
            });
        }
        let mut family = Family::new(def.name, def.kind, def.buckets);
        family.defined = true;
        family.help = RwLock::new(def.help.into());
        family.label_names = def.label_names().map(Box::from).collect();
        family.unit = (def.unit != Unit::Count).then(|| def.unit.as_str());
        family.semconv = crate::catalogue::semconv::find(def.name).is_some();
        Ok(family)
    }

    /// A family created through the `metrics` facade, with no definition.
    pub(crate) fn undefined(name: &str, kind: MetricKind) -> Self {
        let buckets = if kind == MetricKind::Histogram {
            super::DEFAULT_BUCKETS
        } else {
            &[]
        };
        Family::new(name, kind, buckets)
    }

    fn new(name: &str, kind: MetricKind, buckets: &[f64]) -> Self {
        let le_tails = buckets
            .iter()
            .map(|b| format_le(*b))
            .chain(["+Inf".to_owned()])
            .map(|le| format!("{le}\"}} ").into())
            .collect();
        Family {
            name: name.into(),
            kind,
            help: RwLock::new("".into()),
            defined: false,
            bounds: Arc::new(Bounds::new(buckets)),
            unit: None,
            le_tails,
            label_names: Box::default(),
            series: RwLock::default(),
            warned: AtomicBool::new(false),
            semconv: false,
        }
    }

    pub(crate) fn check_compatible(&self, def: &MetricDef) -> Result<(), RegistryError> {
        if self.kind != def.kind {
            return Err(RegistryError::KindConflict {
                name: def.name.to_owned(),
                existing: self.kind,
                requested: def.kind,
            });
        }
        if self.kind == MetricKind::Histogram && self.bounds.as_slice() != def.buckets {
            return Err(RegistryError::BucketConflict {
                name: def.name.to_owned(),
                existing: self.bounds.as_slice().to_vec(),
            });
        }
        if self.defined && !self.label_names.iter().map(|n| &**n).eq(def.label_names()) {
            return Err(RegistryError::LabelMismatch {
                name: def.name.to_owned(),
                expected: self.label_names.iter().map(|n| n.to_string()).collect(),
                got: def.labels.len(),
            });
        }
        Ok(())
    }

    /// The bucket bounds of a histogram family (empty for the others), `+Inf` not included.
    pub(crate) fn bounds(&self) -> &[f64] {
        self.bounds.as_slice()
    }

    pub(crate) fn help(&self) -> RwLockReadGuard<'_, Box<str>> {
        self.help.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the help text of a family created through the facade. The catalogue's help text
    /// is never overwritten.
    pub(crate) fn describe(&self, help: &str) {
        if !self.defined {
            *self.help.write().unwrap_or_else(PoisonError::into_inner) = help.into();
        }
    }

    /// Puts label pairs from the facade in this family's order. For a defined family the
    /// names must be exactly its label names; otherwise pairs are sorted by name.
    pub(crate) fn canonical_pairs<'a>(
        &self,
        mut pairs: Vec<(String, &'a str)>,
    ) -> Option<Vec<(String, &'a str)>> {
        if !self.defined {
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            pairs.dedup_by(|a, b| a.0 == b.0);
            return Some(pairs);
        }
        if pairs.len() != self.label_names.len() {
            return None;
        }
        self.label_names
            .iter()
            .map(|name| pairs.iter().find(|(n, _)| **n == **name).cloned())
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.read().list.len()
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, SeriesTable> {
        self.series.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The series with these label pairs (already in canonical order), created if new.
    pub(crate) fn get_or_insert<N: AsRef<str>>(&self, pairs: &[(N, &str)]) -> Cell {
        let labels = label_text(pairs);
        {
            let table = self.read();
            if let Some(&i) = table.index.get(labels.as_str()) {
                return table.list[i].cell.clone();
            }
        }
        let mut table = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&i) = table.index.get(labels.as_str()) {
            return table.list[i].cell.clone();
        }
        let cell = self.new_cell();
        push(&mut table, labels, cell.clone());
        cell
    }

    /// Registers an existing cell under these label pairs (used for the self-monitoring
    /// counters, which exist before the registry does).
    pub(crate) fn insert_cell(&self, pairs: &[(&str, &str)], cell: Cell) {
        let labels = label_text(pairs);
        let mut table = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if !table.index.contains_key(labels.as_str()) {
            push(&mut table, labels, cell);
        }
    }

    fn new_cell(&self) -> Cell {
        match self.kind {
            MetricKind::Counter => Cell::Counter(Arc::default()),
            MetricKind::Gauge => Cell::Gauge(Arc::default()),
            MetricKind::Histogram => {
                Cell::Histogram(Arc::new(HistogramCell::new(self.bounds.clone())))
            }
        }
    }

    /// Logs a misuse once per family, and returns whether this call was the first.
    pub(crate) fn warn_once(&self) -> bool {
        !self.warned.swap(true, Ordering::Relaxed)
    }
}

fn push(table: &mut SeriesTable, labels: String, cell: Cell) {
    let labels: Box<str> = labels.into();
    table.index.insert(labels.clone(), table.list.len());
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    table.list.push(Series {
        labels,
        cell,
        created,
    });
}

fn label_text<N: AsRef<str>>(pairs: &[(N, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name.as_ref());
        out.push_str("=\"");
        escape_label_value(value, &mut out);
        out.push('"');
    }
    out
}
