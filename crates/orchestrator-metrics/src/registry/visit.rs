//! Reading every family with its metadata and series, borrowed: what a push to another
//! backend (OTLP) converts, without the text format in between.

use super::Registry;
use super::family::{Family, SeriesTable};
use super::snapshot::SeriesRef;
use crate::catalogue::MetricKind;

/// One family, borrowed while [`Registry::visit_families`] runs.
#[derive(Debug)]
pub struct FamilyRef<'a> {
    family: &'a Family,
    table: &'a SeriesTable,
}

impl FamilyRef<'_> {
    /// The metric name.
    pub fn name(&self) -> &str {
        &self.family.name
    }

    /// The instrument type.
    pub fn kind(&self) -> MetricKind {
        self.family.kind
    }

    /// The unit of a catalogue family, as [`Unit::as_str`](crate::catalogue::Unit::as_str)
    /// spells it (`seconds`, `bytes`, ...); none for plain counts and facade families.
    pub fn unit(&self) -> Option<&'static str> {
        self.family.unit
    }

    /// The help text.
    pub fn help(&self) -> String {
        self.family.help().to_string()
    }

    /// Whether it is a GenAI conventions family
    /// ([`catalogue::semconv`](crate::catalogue::semconv)).
    pub fn is_semconv(&self) -> bool {
        self.family.semconv
    }

    /// Its series, in creation order.
    pub fn series(&self) -> impl Iterator<Item = SeriesRef<'_>> + '_ {
        self.table.list.iter().map(|series| SeriesRef {
            labels: &series.labels,
            cell: &series.cell,
            bounds: self.family.bounds(),
            le_tails: &self.family.le_tails,
            created: series.created,
        })
    }

    /// How many series it has.
    pub fn len(&self) -> usize {
        self.table.list.len()
    }

    /// Whether it has no series (never, for a visited family).
    pub fn is_empty(&self) -> bool {
        self.table.list.is_empty()
    }
}

impl Registry {
    /// Calls `f` with every family that has series, in registration order, the GenAI
    /// conventions families included whether or not the text expositions show them. Runs
    /// the render hooks first, as rendering does. Each family's series stay locked for
    /// reading while `f` runs on it (recording into them waits only for a new series).
    pub fn visit_families(&self, mut f: impl FnMut(&FamilyRef<'_>)) {
        self.run_render_hooks();
        let families = self.read_families();
        for family in &families.order {
            let table = family.read();
            if table.list.is_empty() {
                continue;
            }
            f(&FamilyRef {
                family,
                table: &table,
            });
        }
    }
}
