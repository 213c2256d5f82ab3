//! Cutting text to a byte cap at a character boundary, marked with `…`: span attributes,
//! recorded prompts and provider-given names all go through it.

const MARK: char = '…';

/// Where to cut `text` to fit `max` bytes with the mark, if it does not fit already.
fn cut_at(text: &str, max: usize) -> Option<usize> {
    (text.len() > max).then(|| {
        let mut cut = max.saturating_sub(MARK.len_utf8());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        cut
    })
}

/// A copy of `text` of at most `max` bytes; only the kept prefix is copied.
pub(crate) fn capped(text: &str, max: usize) -> String {
    match cut_at(text, max) {
        None => text.to_owned(),
        Some(cut) => {
            let mut out = String::with_capacity(cut + MARK.len_utf8());
            out.push_str(&text[..cut]);
            out.push(MARK);
            out
        }
    }
}

/// Cuts `text` in place to at most `max` bytes; whether it was cut.
pub(crate) fn cap(text: &mut String, max: usize) -> bool {
    match cut_at(text, max) {
        None => false,
        Some(cut) => {
            text.truncate(cut);
            text.push(MARK);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_a_character_boundary_with_a_mark() {
        assert_eq!(capped("short", 16), "short");
        let cut = capped(&"é".repeat(100), 11);
        assert!(cut.len() <= 11 && cut.ends_with('…'), "{cut}");
        let mut text = "abcdefgh".to_owned();
        assert!(cap(&mut text, 6));
        assert_eq!(text, "abc…");
        assert!(!cap(&mut text, 6));
    }
}
