//! Decoding and normalising text.

use super::Normalization;
use unicode_normalization::UnicodeNormalization;

/// Decode file bytes: BOM stripped, invalid UTF-8 replaced (with a warning), CRLF → LF.
/// `None` for binary content (a NUL byte).
pub fn decode(bytes: &[u8], warnings: &mut Vec<String>, rel: &str) -> Option<String> {
    if bytes.contains(&0) {
        warnings.push(format!("{rel}: binary file (NUL byte), skipped"));
        return None;
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(e) => {
            warnings.push(format!(
                "{rel}: invalid UTF-8 at byte {}, decoded with replacement characters",
                e.valid_up_to()
            ));
            String::from_utf8_lossy(bytes).into_owned()
        }
    };
    Some(if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    })
}

/// Apply the configured Unicode normalisation.
pub fn normalize(text: String, how: Normalization) -> String {
    match how {
        Normalization::Nfc => {
            // ASCII is always NFC (checked a word at a time, far faster than the quick check)
            if text.is_ascii()
                || unicode_normalization::is_nfc_quick(text.chars())
                    == unicode_normalization::IsNormalized::Yes
            {
                text
            } else {
                text.nfc().collect()
            }
        }
        Normalization::None => text,
    }
}

/// Runs of white space become one space; the ends are trimmed.
pub fn fold_whitespace(s: &str) -> String {
    if s.is_ascii() {
        return fold_ascii_whitespace(s);
    }
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// [`fold_whitespace`] of an ASCII text, byte by byte: the white space of `char::is_whitespace`
/// among ASCII characters is tab, line feed, vertical tab, form feed, carriage return and
/// space (`u8::is_ascii_whitespace` leaves out the vertical tab).
fn fold_ascii_whitespace(s: &str) -> String {
    let is_space = |b: u8| matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
    let mut out = Vec::with_capacity(s.len());
    let mut gap = false;
    for &b in s.as_bytes() {
        if is_space(b) {
            gap = !out.is_empty();
        } else {
            if gap {
                out.push(b' ');
                gap = false;
            }
            out.push(b);
        }
    }
    String::from_utf8(out).expect("ASCII in, ASCII out")
}

/// The words of a text: runs of letters, digits and apostrophes.
pub(crate) fn plain_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
}

/// Number of words, counted up to `cap + 1` (so a giant passage costs no more than a short
/// one when only "more than `cap`" matters).
pub(crate) fn n_words(text: &str, cap: usize) -> usize {
    plain_words(text).take(cap + 1).count()
}

/// Where `bytes` stop being UTF-8 (after a BOM, counted from the start of `bytes`); `None`
/// when they are valid UTF-8.
pub fn invalid_utf8_at(bytes: &[u8]) -> Option<usize> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(body)
        .err()
        .map(|e| e.valid_up_to() + (bytes.len() - body.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_handles_bom_crlf_invalid_and_binary() {
        let mut w = vec![];
        assert_eq!(decode(b"\xEF\xBB\xBFa\r\nb", &mut w, "f").unwrap(), "a\nb");
        assert!(w.is_empty());
        assert_eq!(decode(b"a\xFFb", &mut w, "f").unwrap(), "a\u{FFFD}b");
        assert!(w[0].contains("invalid UTF-8"));
        assert!(decode(b"a\0b", &mut w, "f").is_none());
        assert!(w[1].contains("binary"));
    }

    #[test]
    fn nfc_composes() {
        assert_eq!(normalize("e\u{301}".into(), Normalization::Nfc), "é");
        assert_eq!(
            normalize("e\u{301}".into(), Normalization::None),
            "e\u{301}"
        );
    }

    #[test]
    fn whitespace_folding() {
        assert_eq!(fold_whitespace("  a \t b\n c "), "a b c");
        for t in [
            "",
            " ",
            "x",
            "\u{a0}é\u{2003}ü ß\u{3000}\u{85}end\u{1c}",
            "a\u{b}\u{c}b  ",
        ] {
            assert_eq!(
                fold_whitespace(t),
                t.split_whitespace().collect::<Vec<_>>().join(" "),
                "{t:?}"
            );
        }
        // the ASCII path against the char path, on random ASCII texts of spaces and letters
        let mut state = 7u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        let alphabet = b"\t\n\x0b\x0c\r \x1c\x1fab.";
        for len in 0..200 {
            let t: String = (0..len)
                .map(|_| alphabet[next(alphabet.len())] as char)
                .collect();
            assert_eq!(
                fold_ascii_whitespace(&t),
                t.split_whitespace().collect::<Vec<_>>().join(" "),
                "{t:?}"
            );
        }
    }

    #[test]
    fn utf8_errors_count_the_bom() {
        assert_eq!(invalid_utf8_at(b"abc"), None);
        assert_eq!(invalid_utf8_at(b"ab\xFFc"), Some(2));
        assert_eq!(invalid_utf8_at(b"\xEF\xBB\xBFab\xFF"), Some(5));
    }
}
