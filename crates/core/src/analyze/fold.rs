//! Steps 2 and 3 of the analyzer: case folding with `’` read as `'`, and the possessive.

use std::borrow::Cow;

/// Full Unicode lowercase with `’` folded to `'`. Borrows when nothing changes.
pub fn fold(word: &str) -> Cow<'_, str> {
    let needs = word.chars().any(|c| {
        c == '\u{2019}' || c.is_uppercase() || (!c.is_ascii() && c.to_lowercase().next() != Some(c))
    });
    if !needs {
        return Cow::Borrowed(word);
    }
    let lower = if word.is_ascii() {
        word.to_ascii_lowercase()
    } else {
        word.to_lowercase()
    };
    if lower.contains('\u{2019}') {
        Cow::Owned(lower.replace('\u{2019}', "'"))
    } else {
        Cow::Owned(lower)
    }
}

/// Remove a trailing possessive `'s`. `None` when nothing is left.
pub fn strip_possessive(token: &str) -> Option<&str> {
    let t = token.strip_suffix("'s").unwrap_or(token);
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_lowercases_and_folds_apostrophe() {
        assert_eq!(fold("Iran\u{2019}s"), "iran's");
        assert_eq!(fold("ΟΔΟΣ"), "οδος"); // final sigma, as Python's str.lower
        assert!(matches!(fold("plain"), Cow::Borrowed(_)));
        assert_eq!(fold("İ"), "i\u{307}");
    }

    #[test]
    fn strip_possessive_removes_only_trailing_s() {
        assert_eq!(strip_possessive("iran's"), Some("iran"));
        assert_eq!(strip_possessive("it's'"), Some("it's'"));
        assert_eq!(strip_possessive("'s"), None);
        assert_eq!(strip_possessive("james"), Some("james"));
    }
}
