//! W3C Trace Context: reading `traceparent`/`tracestate` from incoming requests and writing
//! them on outgoing ones.
//!
//! Writing allocates the `traceparent` header value (55 bytes), on every outgoing client
//! request, sampled or not, because the downstream service must learn the decision.

use http::header::HeaderName;
use http::{HeaderMap, HeaderValue};
use opentelemetry::trace::{SpanId, TraceId};

use crate::context::TraceContext;

/// The `traceparent` header name.
pub const TRACEPARENT: &str = "traceparent";
/// The `tracestate` header name.
pub const TRACESTATE: &str = "tracestate";

// Pre-parsed names: looking up by `&str` parses the name on every call.
static TRACEPARENT_NAME: HeaderName = HeaderName::from_static(TRACEPARENT);
static TRACESTATE_NAME: HeaderName = HeaderName::from_static(TRACESTATE);

/// Reads the context of the caller from `traceparent` (and `tracestate`), version 00.
///
/// Returns `None` for a missing or malformed header, which starts a new trace, as the W3C
/// specification requires. Higher versions are read by their version-00 prefix.
pub fn extract(headers: &HeaderMap) -> Option<TraceContext> {
    let value = headers.get(&TRACEPARENT_NAME)?.as_bytes();
    let (trace_id, span_id, flags) = parse(value)?;
    Some(TraceContext {
        trace_id: TraceId::from_bytes(trace_id),
        span_id: SpanId::from_bytes(span_id),
        sampled: flags & 1 == 1,
        remote: true,
        tracestate: tracestate(headers),
    })
}

/// The most list members a `tracestate` may have; W3C says to discard a longer one whole.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;
/// The most characters of `tracestate` passed on (W3C's minimum to propagate); members past
/// it are dropped.
pub const MAX_TRACESTATE_LEN: usize = 512;

/// The caller's `tracestate` (every header of that name, in order), cleaned as the W3C Trace
/// Context specification says: invalid members dropped, more than 32 members discarded whole,
/// and no more than 512 characters kept, so a client cannot make every outgoing request
/// carry 60 KB.
fn tracestate(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut members = headers
        .get_all(&TRACESTATE_NAME)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|m| !m.is_empty());
    let mut kept = Vec::new();
    let mut count = 0;
    for member in members.by_ref() {
        count += 1;
        if count > MAX_TRACESTATE_MEMBERS {
            return None;
        }
        let extra = usize::from(!kept.is_empty());
        if valid_member(member) && kept.len() + extra + member.len() <= MAX_TRACESTATE_LEN {
            if extra == 1 {
                kept.push(b',');
            }
            kept.extend_from_slice(member);
        }
    }
    if kept.is_empty() {
        return None;
    }
    HeaderValue::from_bytes(&kept).ok()
}

/// `key=value` as W3C defines them: a simple key (`[a-z][a-z0-9_*/-]{0,255}`) or a
/// multi-tenant one (`tenant@system`), and a value of up to 256 printable characters other
/// than `,` and `=`, not ending in a space.
fn valid_member(member: &[u8]) -> bool {
    let Some(eq) = member.iter().position(|&b| b == b'=') else {
        return false;
    };
    let (key, value) = (&member[..eq], &member[eq + 1..]);
    let key_char = |c: &u8| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/');
    let key_ok = match key.iter().position(|&b| b == b'@') {
        None => {
            (1..=256).contains(&key.len())
                && key[0].is_ascii_lowercase()
                && key.iter().all(key_char)
        }
        Some(at) => {
            let (tenant, system) = (&key[..at], &key[at + 1..]);
            (1..=241).contains(&tenant.len())
                && (tenant[0].is_ascii_lowercase() || tenant[0].is_ascii_digit())
                && tenant.iter().all(key_char)
                && (1..=14).contains(&system.len())
                && system[0].is_ascii_lowercase()
                && system.iter().all(key_char)
        }
    };
    let value_ok = (1..=256).contains(&value.len())
        && value
            .iter()
            .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
        && value.last() != Some(&b' ');
    key_ok && value_ok
}

fn parse(value: &[u8]) -> Option<([u8; 16], [u8; 8], u8)> {
    if value.len() < 55 || value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
        return None;
    }
    let version = hex::<1>(&value[0..2])?[0];
    // Version ff is invalid; version 00 has exactly 55 bytes; later versions may append
    // fields after a dash.
    if version == 0xff || (version == 0 && value.len() != 55) {
        return None;
    }
    if version != 0 && value.len() > 55 && value[55] != b'-' {
        return None;
    }
    let trace_id = hex::<16>(&value[3..35])?;
    let span_id = hex::<8>(&value[36..52])?;
    let flags = hex::<1>(&value[53..55])?[0];
    if trace_id == [0; 16] || span_id == [0; 8] {
        return None;
    }
    Some((trace_id, span_id, flags))
}

fn hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None, // upper case is invalid in traceparent
        }
    }
    let mut out = [0; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// Formats a version-00 `traceparent` for `context`.
pub fn traceparent(context: &TraceContext) -> HeaderValue {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 55];
    out[..3].copy_from_slice(b"00-");
    let mut at = 3;
    for byte in context.trace_id.to_bytes() {
        out[at] = DIGITS[usize::from(byte >> 4)];
        out[at + 1] = DIGITS[usize::from(byte & 15)];
        at += 2;
    }
    out[at] = b'-';
    at += 1;
    for byte in context.span_id.to_bytes() {
        out[at] = DIGITS[usize::from(byte >> 4)];
        out[at + 1] = DIGITS[usize::from(byte & 15)];
        at += 2;
    }
    out[at..].copy_from_slice(if context.sampled { b"-01" } else { b"-00" });
    HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Writes `traceparent` (and `tracestate`, when the trace carries one) into `headers`.
pub fn inject(context: &TraceContext, headers: &mut HeaderMap) {
    headers.insert(TRACEPARENT_NAME.clone(), traceparent(context));
    if let Some(state) = &context.tracestate {
        headers.insert(TRACESTATE_NAME.clone(), state.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn with_state(states: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, HeaderValue::from_static(SAMPLE));
        for s in states {
            headers.append(TRACESTATE, HeaderValue::from_str(s).unwrap());
        }
        headers
    }

    /// Issue 14, row 8: a 60 KB `tracestate` is never forwarded whole; invalid members are
    /// dropped; more than 32 members discard it; several headers combine.
    #[test]
    fn tracestate_is_held_to_the_w3c_limits() {
        let state = |states: &[&str]| {
            extract(&with_state(states))
                .unwrap()
                .tracestate
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let huge = format!("big={}", "x".repeat(60_000));
        assert_eq!(
            state(&[&huge]),
            None,
            "a member over 256 characters is invalid"
        );
        let many: Vec<String> = (0..30)
            .map(|i| format!("k{i}={}", "v".repeat(30)))
            .collect();
        let kept = state(&[&many.join(",")]).unwrap();
        assert!(kept.len() <= MAX_TRACESTATE_LEN, "{}", kept.len());
        assert!(kept.starts_with("k0=") && kept.split(',').count() < 30);
        let too_many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(state(&[&too_many.join(",")]), None);
        assert_eq!(
            state(&[
                "congo=t61rcWkgMzE, BAD=x ,,rojo@vendor=00f067aa0ba902b7",
                "x=1=2,ok=1"
            ]),
            Some("congo=t61rcWkgMzE,rojo@vendor=00f067aa0ba902b7,ok=1".into())
        );
    }

    #[test]
    fn round_trips() {
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, HeaderValue::from_static(SAMPLE));
        headers.insert(TRACESTATE, HeaderValue::from_static("congo=t61rcWkgMzE"));
        let context = extract(&headers).expect("valid");
        assert!(context.sampled && context.remote);
        assert_eq!(traceparent(&context), SAMPLE);
        let mut out = HeaderMap::new();
        inject(&context, &mut out);
        assert_eq!(out[TRACESTATE], "congo=t61rcWkgMzE");
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(TRACEPARENT, HeaderValue::from_str(bad).expect("ascii"));
            assert_eq!(extract(&headers), None, "{bad}");
        }
    }

    #[test]
    fn later_versions_are_read_by_their_prefix() {
        let mut headers = HeaderMap::new();
        let future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-ever";
        headers.insert(TRACEPARENT, HeaderValue::from_static(future));
        let context = extract(&headers).expect("valid");
        assert!(!context.sampled);
    }
}
