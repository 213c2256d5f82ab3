//! Redaction of recorded prompts and completions: a hook runs on the text before anything is
//! stored or exported. The built-in one, [`redact_pii`], masks e-mail addresses, phone
//! numbers, credit-card numbers (Luhn-checked) and bearer tokens or API keys.

use std::borrow::Cow;
use std::sync::Arc;

/// A redaction hook: the text to record, given the text captured.
pub type Redaction = Arc<dyn Fn(&str) -> Cow<'_, str> + Send + Sync>;

/// The built-in redaction hook, as a [`Redaction`].
pub fn pii_redaction() -> Redaction {
    Arc::new(redact_pii)
}

/// Masks what looks like personal data or a credential: e-mail addresses (`[EMAIL]`),
/// credit-card numbers of 13 to 19 digits that pass the Luhn check (`[CARD]`), phone numbers
/// of 9 to 15 digits (`[PHONE]`), `Bearer` tokens and keys with a well-known prefix (`sk-`,
/// `sk_live_`, `ghp_`, `github_pat_`, `xoxb-`, `AKIA`...) (`[SECRET]`). Text with none of
/// them is returned borrowed, without copying.
///
/// ```
/// use orchestrator_tower::redact_pii;
///
/// let text = "mail jane.doe@example.com, card 4111 1111 1111 1111, call +33 6 12 34 56 78, key sk-proj-abcdefghijklmnop1234";
/// assert_eq!(
///     redact_pii(text),
///     "mail [EMAIL], card [CARD], call [PHONE], key [SECRET]"
/// );
/// assert!(matches!(redact_pii("nothing here"), std::borrow::Cow::Borrowed(_)));
/// ```
pub fn redact_pii(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for pass in [secrets as fn(&str) -> Option<String>, emails, digits] {
        if let Some(changed) = pass(&out) {
            out = Cow::Owned(changed);
        }
    }
    out
}

/// Characters that may form a token (an e-mail part, a key).
fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '%')
}

fn emails(text: &str) -> Option<String> {
    if !text.contains('@') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut changed = false;
    for (at, _) in text.match_indices('@') {
        if at < last {
            continue;
        }
        let start = text[last..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| word(c))
            .last()
            .map_or(at, |(i, _)| last + i);
        let end = text[at + 1..]
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
            .map_or(text.len(), |(i, _)| at + 1 + i);
        // The domain must have a dot and a final label of two letters or more.
        let domain = text[at + 1..end].trim_end_matches('.');
        let end = at + 1 + domain.len();
        let valid = start < at
            && domain.rsplit_once('.').is_some_and(|(head, tld)| {
                !head.is_empty() && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
            })
            && bytes[start] != b'.';
        if valid {
            out.push_str(&text[last..start]);
            out.push_str("[EMAIL]");
            last = end;
            changed = true;
        }
    }
    changed.then(|| {
        out.push_str(&text[last..]);
        out
    })
}

/// Key prefixes of common providers.
const KEY_PREFIXES: &[&str] = &[
    "sk-",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "pk_live_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "AKIA",
    "AIza",
    "glpat-",
];

fn secrets(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut changed = false;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let boundary =
            i == 0 || !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        if boundary && rest.len() >= 7 && rest.as_bytes()[..7].eq_ignore_ascii_case(b"bearer ") {
            let token_start = i + 7;
            let len = token_len(&text[token_start..]);
            if len >= 8 {
                out.push_str(&text[last..token_start]);
                out.push_str("[SECRET]");
                last = token_start + len;
                i = last;
                changed = true;
                continue;
            }
        }
        if boundary && let Some(prefix) = KEY_PREFIXES.iter().find(|p| rest.starts_with(**p)) {
            let len = token_len(rest);
            if len >= prefix.len() + 16 {
                out.push_str(&text[last..i]);
                out.push_str("[SECRET]");
                last = i + len;
                i = last;
                changed = true;
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    changed.then(|| {
        out.push_str(&text[last..]);
        out
    })
}

fn token_len(text: &str) -> usize {
    text.find(|c: char| {
        !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '='))
    })
    .unwrap_or(text.len())
}

/// Card and phone numbers: runs of digits joined by single spaces, dashes, dots or
/// parentheses (and a leading `+`).
fn digits(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit()
            || (bytes[i] == b'+' || bytes[i] == b'(')
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        let after_word = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if !starts || after_word {
            i += 1;
            continue;
        }
        // The run: digits and single separators between them.
        let mut end = i;
        let mut digits = Vec::new();
        let mut j = i;
        while j < bytes.len() {
            let b = bytes[j];
            if b.is_ascii_digit() {
                digits.push(b - b'0');
                end = j + 1;
            } else if !matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'+')
                || j + 1 >= bytes.len()
                || !(bytes[j + 1].is_ascii_digit() || matches!(bytes[j + 1], b'(' | b' '))
            {
                break;
            }
            j += 1;
        }
        let followed_by_word = bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric());
        let mask = if followed_by_word {
            None
        } else if (13..=19).contains(&digits.len()) && luhn(&digits) {
            Some("[CARD]")
        } else if (9..=15).contains(&digits.len()) {
            Some("[PHONE]")
        } else {
            None
        };
        match mask {
            Some(mask) => {
                out.push_str(&text[last..i]);
                out.push_str(mask);
                last = end;
                changed = true;
                i = end;
            }
            None => i = end.max(i + 1),
        }
    }
    changed.then(|| {
        out.push_str(&text[last..]);
        out
    })
}

/// The Luhn checksum of a card number's digits.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pattern_is_masked() {
        let cases = [
            (
                "write to jane.doe+tag@mail.example.co.uk today",
                "write to [EMAIL] today",
            ),
            ("visa 4111-1111-1111-1111.", "visa [CARD]."),
            ("amex 378282246310005", "amex [CARD]"),
            (
                "call (415) 555-0132 or +44 20 7946 0958",
                "call [PHONE] or [PHONE]",
            ),
            (
                "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc",
                "Authorization: Bearer [SECRET]",
            ),
            (
                "OPENAI_API_KEY=sk-proj-0123456789abcdefXYZ",
                "OPENAI_API_KEY=[SECRET]",
            ),
            ("aws AKIAIOSFODNN7EXAMPLE here", "aws [SECRET] here"),
            (
                "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "token [SECRET]",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(redact_pii(text), expected, "{text}");
        }
    }

    #[test]
    fn ordinary_text_and_numbers_stay() {
        for text in [
            "the year 2026 and order 12345",
            "a card-like 4111 1111 1111 1112 fails Luhn but is a phone? no: 16 digits",
            "version 1.2.3, a@b, me@localhost, 3.14159",
            "sk-short and Bearer x",
            "ids like abc123456789 are words",
        ] {
            let redacted = redact_pii(text);
            if text.starts_with("a card-like") {
                // 16 digits failing Luhn are not a card, and too long for a phone.
                assert_eq!(redacted, text);
            } else {
                assert!(matches!(redacted, Cow::Borrowed(_)), "{text} -> {redacted}");
            }
        }
    }

    #[test]
    fn any_unicode_is_safe() {
        let text =
            "é".repeat(50) + " naïve café — 4111 1111 1111 1111 ✓ bearer ünïcode-token-here ü@ü.ü";
        let redacted = redact_pii(&text);
        assert!(redacted.contains("[CARD]"), "{redacted}");
        for cut in 0..text.len() {
            if text.is_char_boundary(cut) {
                let _ = redact_pii(&text[..cut]);
            }
        }
    }

    #[test]
    fn luhn_checks() {
        let d = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
        assert!(luhn(&d("4111111111111111")));
        assert!(!luhn(&d("4111111111111112")));
        assert!(luhn(&d("79927398713")));
    }
}
