//! Head sampling: parent-based trace-id ratio, decided before any span work.
//!
//! The ratio test is OpenTelemetry's `TraceIdRatioBased`: the low 63 bits of the trace id's
//! last 8 bytes, compared with `ratio × 2⁶³`. Every service using the same ratio makes the
//! same decision for the same trace.

use std::fmt;

use crate::Lookup;
use crate::context::TraceContext;

/// The default ratio of new traces that are sampled: 10 %.
pub const DEFAULT_RATIO: f64 = 0.1;

/// `OTEL_TRACES_SAMPLER`.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// `OTEL_TRACES_SAMPLER_ARG`.
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";

/// A sampler configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplerError {
    /// A ratio outside `[0, 1]` or not a number.
    #[error("sampling ratio {0:?} is not a number between 0 and 1")]
    InvalidRatio(String),
    /// `OTEL_TRACES_SAMPLER` names a sampler this crate does not implement.
    #[error(
        "{OTEL_TRACES_SAMPLER}={0:?} is not supported; use always_on, always_off, traceidratio, \
         parentbased_always_on, parentbased_always_off or parentbased_traceidratio"
    )]
    Unsupported(String),
}

/// How a trace without a parent is decided.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Root {
    AlwaysOn,
    AlwaysOff,
    /// The ratio, and the bound the trace id is compared with.
    Ratio(f64, u64),
}

/// Which requests start a sampled trace.
///
/// ```
/// use orchestrator_tower::Sampler;
///
/// let sampler = Sampler::parent_based_ratio(0.1)?;
/// assert_eq!(sampler.ratio(), 0.1);
/// assert!(Sampler::parent_based_ratio(1.5).is_err()); // never a silent 100 %
/// # Ok::<(), orchestrator_tower::SamplerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampler {
    root: Root,
    parent_based: bool,
    trust_remote: bool,
}

impl Default for Sampler {
    /// Parent-based, 10 % of new traces.
    fn default() -> Self {
        Sampler {
            root: Root::Ratio(DEFAULT_RATIO, bound(DEFAULT_RATIO)),
            parent_based: true,
            trust_remote: true,
        }
    }
}

fn bound(ratio: f64) -> u64 {
    (ratio * (1u64 << 63) as f64) as u64
}

fn check(ratio: f64) -> Result<f64, SamplerError> {
    if ratio.is_finite() && (0.0..=1.0).contains(&ratio) {
        Ok(ratio)
    } else {
        Err(SamplerError::InvalidRatio(ratio.to_string()))
    }
}

impl Sampler {
    /// Samples `ratio` of new traces and follows the parent's decision otherwise.
    pub fn parent_based_ratio(ratio: f64) -> Result<Self, SamplerError> {
        let ratio = check(ratio)?;
        Ok(Sampler {
            root: Root::Ratio(ratio, bound(ratio)),
            parent_based: true,
            trust_remote: true,
        })
    }

    /// Samples `ratio` of all traces by trace id, ignoring the parent's decision.
    pub fn ratio_of(ratio: f64) -> Result<Self, SamplerError> {
        Ok(Sampler {
            parent_based: false,
            ..Self::parent_based_ratio(ratio)?
        })
    }

    /// Samples everything.
    pub fn always_on() -> Self {
        Sampler {
            root: Root::AlwaysOn,
            parent_based: false,
            trust_remote: true,
        }
    }

    /// Samples nothing (metrics are still recorded for every request).
    pub fn always_off() -> Self {
        Sampler {
            root: Root::AlwaysOff,
            parent_based: false,
            trust_remote: true,
        }
    }

    /// This sampler for new traces, following the parent's decision otherwise.
    pub fn parent_based(self) -> Self {
        Sampler {
            parent_based: true,
            ..self
        }
    }

    /// Treats the `sampled` flag of incoming `traceparent`s as untrusted: a request from
    /// another process keeps its trace id (logs and traces still correlate) but is sampled
    /// by this sampler's own ratio, as if it started the trace. Local parents (a client call
    /// inside a request) are still followed.
    ///
    /// The right choice at a public edge: otherwise a client that sends `-01` on every
    /// request forces 100 % tracing, fills the export queue (real spans are dropped) and
    /// takes over the embedded store and the live page. Behind a gateway that decides, keep
    /// the default and let [`TracerBuilder::max_forced_traces_per_second`](crate::TracerBuilder::max_forced_traces_per_second)
    /// bound what callers can force.
    pub fn untrusted_remote_parents(self) -> Self {
        Sampler {
            trust_remote: false,
            ..self
        }
    }

    /// Whether incoming `traceparent`s decide (the default), or only this sampler's ratio.
    pub fn trusts_remote_parents(&self) -> bool {
        self.trust_remote
    }

    /// The share of new traces sampled, from 0 to 1.
    pub fn ratio(&self) -> f64 {
        match self.root {
            Root::AlwaysOn => 1.0,
            Root::AlwaysOff => 0.0,
            Root::Ratio(ratio, _) => ratio,
        }
    }

    /// Whether the sampler follows a parent's decision.
    pub fn is_parent_based(&self) -> bool {
        self.parent_based
    }

    /// The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` describe, or `None`
    /// when `OTEL_TRACES_SAMPLER` is unset. As the OpenTelemetry specification says, a ratio
    /// sampler without an argument samples everything (ratio 1.0); an argument that is not a
    /// ratio is an error.
    pub fn from_env() -> Result<Option<Self>, SamplerError> {
        Self::from_vars(&crate::env_lookup)
    }

    /// As [`Sampler::from_env`], reading variables through `lookup`.
    pub fn from_vars(lookup: Lookup<'_>) -> Result<Option<Self>, SamplerError> {
        // Empty is unset, as the OpenTelemetry specification says.
        let set = |name| lookup(name).filter(|v: &String| !v.trim().is_empty());
        let sampler = set(OTEL_TRACES_SAMPLER);
        let arg = set(OTEL_TRACES_SAMPLER_ARG);
        match sampler {
            None => Ok(None),
            Some(name) => Self::from_parts(&name, arg.as_deref()).map(Some),
        }
    }

    /// The sampler named `name` (an `OTEL_TRACES_SAMPLER` value) with argument `arg`.
    pub fn from_parts(name: &str, arg: Option<&str>) -> Result<Self, SamplerError> {
        let ratio = || -> Result<f64, SamplerError> {
            match arg.map(str::trim) {
                None | Some("") => Ok(1.0),
                Some(text) => text
                    .parse::<f64>()
                    .map_err(|_| SamplerError::InvalidRatio(text.to_owned()))
                    .and_then(|r| {
                        check(r).map_err(|_| SamplerError::InvalidRatio(text.to_owned()))
                    }),
            }
        };
        match name.trim() {
            "always_on" => Ok(Self::always_on()),
            "always_off" => Ok(Self::always_off()),
            "traceidratio" => Self::ratio_of(ratio()?),
            "parentbased_always_on" => Ok(Self::always_on().parent_based()),
            "parentbased_always_off" => Ok(Self::always_off().parent_based()),
            "parentbased_traceidratio" => Self::parent_based_ratio(ratio()?),
            other => Err(SamplerError::Unsupported(other.to_owned())),
        }
    }

    /// Whether a span with this parent (if any) in trace `trace_id` is sampled.
    #[inline]
    pub fn should_sample(&self, parent: Option<&TraceContext>, trace_id: &[u8; 16]) -> bool {
        if let (true, Some(parent)) = (self.parent_based, parent)
            && (self.trust_remote || !parent.remote)
        {
            return parent.sampled;
        }
        self.samples_new(trace_id)
    }

    /// Whether a new trace with this id is sampled (the decision without a parent).
    #[inline]
    pub(crate) fn samples_new(&self, trace_id: &[u8; 16]) -> bool {
        match self.root {
            Root::AlwaysOn => true,
            Root::AlwaysOff => false,
            Root::Ratio(ratio, _) if ratio >= 1.0 => true,
            Root::Ratio(_, bound) => {
                let mut low = [0; 8];
                low.copy_from_slice(&trace_id[8..]);
                (u64::from_be_bytes(low) >> 1) < bound
            }
        }
    }
}

impl fmt::Display for Sampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.parent_based && !self.trust_remote {
            f.write_str("parentbased(local only)_")?;
        } else if self.parent_based {
            f.write_str("parentbased_")?;
        }
        match self.root {
            Root::AlwaysOn => f.write_str("always_on"),
            Root::AlwaysOff => f.write_str("always_off"),
            Root::Ratio(ratio, _) => write!(f, "traceidratio({ratio})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(low: u64) -> [u8; 16] {
        let mut id = [0; 16];
        id[0] = 1;
        id[8..].copy_from_slice(&low.to_be_bytes());
        id
    }

    #[test]
    fn ratio_math_matches_the_sdk_bound() {
        let sampler = Sampler::ratio_of(0.1).expect("valid");
        let bound = (0.1 * (1u64 << 63) as f64) as u64;
        // The low 63 bits (after the shift) are compared with the bound.
        assert!(sampler.should_sample(None, &id((bound - 1) << 1)));
        assert!(!sampler.should_sample(None, &id(bound << 1)));
        assert!(!sampler.should_sample(None, &id(u64::MAX)));
        assert!(sampler.should_sample(None, &id(1)));
        // Evenly spaced ids (bucket midpoints): exactly a tenth pass.
        let step = u64::MAX / 10_000;
        let sampled = (0..10_000u64)
            .filter(|i| sampler.should_sample(None, &id(i * step + step / 2)))
            .count();
        assert_eq!(sampled, 1_000);
    }

    #[test]
    fn parent_decides_when_parent_based() {
        let sampler = Sampler::parent_based_ratio(0.0).expect("valid");
        let parent = |sampled| TraceContext {
            trace_id: opentelemetry::trace::TraceId::from_bytes(id(u64::MAX)),
            span_id: opentelemetry::trace::SpanId::from_bytes([1; 8]),
            sampled,
            remote: true,
            tracestate: None,
        };
        assert!(sampler.should_sample(Some(&parent(true)), &id(u64::MAX)));
        assert!(!sampler.should_sample(Some(&parent(false)), &id(0)));
        let ratio = Sampler::ratio_of(0.0).expect("valid");
        assert!(!ratio.should_sample(Some(&parent(true)), &id(0)));
    }

    #[test]
    fn invalid_ratios_are_errors_never_full_sampling() {
        for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(Sampler::parent_based_ratio(bad).is_err(), "{bad}");
        }
        for bad in ["abc", "1.5", "-1", "NaN", "inf", "10%"] {
            assert_eq!(
                Sampler::from_parts("parentbased_traceidratio", Some(bad)),
                Err(SamplerError::InvalidRatio(bad.to_owned()))
            );
        }
        assert!(matches!(
            Sampler::from_parts("jaeger_remote", None),
            Err(SamplerError::Unsupported(_))
        ));
    }

    #[test]
    fn env_names_map_to_samplers() {
        let s = Sampler::from_parts("parentbased_traceidratio", Some("0.25")).expect("valid");
        assert_eq!((s.ratio(), s.is_parent_based()), (0.25, true));
        let s = Sampler::from_parts("traceidratio", None).expect("valid");
        assert_eq!((s.ratio(), s.is_parent_based()), (1.0, false));
        assert_eq!(
            Sampler::from_parts("always_off", None)
                .expect("valid")
                .ratio(),
            0.0
        );
        assert_eq!(
            Sampler::default().to_string(),
            "parentbased_traceidratio(0.1)"
        );
    }
}
