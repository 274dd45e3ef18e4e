//! Text analysis: the one way text becomes terms.
//!
//! The [`Analyzer`] is a chain of small steps, each with a one-line contract:
//!
//! 1. [`segment`]: UAX#29 word segments that contain a letter or digit (`unicode_words`).
//! 2. [`fold`]: full Unicode lowercase, and `’` (U+2019) becomes `'`.
//! 3. [`strip_possessive`]: a trailing `'s` is removed; a token left empty is dropped.
//! 4. length and number filters: tokens shorter than `min_token_len` characters, and (unless
//!    `keep_numbers`) tokens without a letter, are dropped.
//! 5. stop words: the folded token (before stemming) is looked up in the stop list, whose
//!    entries went through steps 2–3 themselves.
//! 6. [`Stemmer`]: Snowball stemming of the folded token (it expects lowercase input).
//!
//! Passages, theme seed words and stop lists all go through the same analyzer.

use crate::config::{AnalyzerSettings, StopWords};
use crate::error::{Error, Result};
use rust_stemmers::Algorithm;
use std::borrow::Cow;
use std::collections::HashSet;
use unicode_segmentation::UnicodeSegmentation;

/// The Snowball languages of rust-stemmers, by name, with their ISO 639-1 codes.
const LANGUAGES: &[(&str, &str, Algorithm)] = &[
    ("arabic", "ar", Algorithm::Arabic),
    ("danish", "da", Algorithm::Danish),
    ("dutch", "nl", Algorithm::Dutch),
    ("english", "en", Algorithm::English),
    ("finnish", "fi", Algorithm::Finnish),
    ("french", "fr", Algorithm::French),
    ("german", "de", Algorithm::German),
    ("greek", "el", Algorithm::Greek),
    ("hungarian", "hu", Algorithm::Hungarian),
    ("italian", "it", Algorithm::Italian),
    ("norwegian", "no", Algorithm::Norwegian),
    ("portuguese", "pt", Algorithm::Portuguese),
    ("romanian", "ro", Algorithm::Romanian),
    ("russian", "ru", Algorithm::Russian),
    ("spanish", "es", Algorithm::Spanish),
    ("swedish", "sv", Algorithm::Swedish),
    ("tamil", "ta", Algorithm::Tamil),
    ("turkish", "tr", Algorithm::Turkish),
];

/// Look a language up by name (`english`) or ISO 639-1 code (`en`).
pub fn language(name: &str) -> std::result::Result<(Algorithm, &'static str), String> {
    let key = name.trim().to_lowercase();
    LANGUAGES
        .iter()
        .find(|(n, code, _)| *n == key || *code == key)
        .map(|(n, _, a)| (*a, *n))
        .ok_or_else(|| {
            let names: Vec<&str> = LANGUAGES.iter().map(|l| l.0).collect();
            format!("unknown language {name:?}; known: {}", names.join(", "))
        })
}

fn iso_code(name: &str) -> &'static str {
    LANGUAGES.iter().find(|l| l.0 == name).map_or("", |l| l.1)
}

/// scikit-learn's ENGLISH_STOP_WORDS.
pub const SKLEARN_ENGLISH_STOP_WORDS: &str = include_str!("sklearn_english_stop_words.txt");

/// Step 1: UAX#29 word segments holding at least one alphanumeric character.
pub fn segment(text: &str) -> impl Iterator<Item = &str> {
    text.unicode_words()
}

/// Step 2: full Unicode lowercase with `’` folded to `'`. Borrows when nothing changes.
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

/// Step 3: remove a trailing possessive `'s`. `None` when nothing is left.
pub fn strip_possessive(token: &str) -> Option<&str> {
    let t = token.strip_suffix("'s").unwrap_or(token);
    (!t.is_empty()).then_some(t)
}

/// Step 6: a Snowball stemmer (or the identity). Expects lowercase input.
pub struct Stemmer(Option<rust_stemmers::Stemmer>);

impl Stemmer {
    pub fn new(algorithm: Algorithm, enabled: bool) -> Self {
        Stemmer(enabled.then(|| rust_stemmers::Stemmer::create(algorithm)))
    }

    pub fn stem<'a>(&self, token: &'a str) -> Cow<'a, str> {
        match &self.0 {
            Some(s) => s.stem(token),
            None => Cow::Borrowed(token),
        }
    }
}

/// One analysed token: the stem (the term) and the folded surface form it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    pub term: Cow<'a, str>,
    pub surface: Cow<'a, str>,
}

/// Why a word did not become a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// It has no letter or digit, or nothing is left after the possessive.
    Empty,
    TooShort,
    Number,
    StopWord,
}

impl Dropped {
    pub fn as_str(self) -> &'static str {
        match self {
            Dropped::Empty => "empty",
            Dropped::TooShort => "too_short",
            Dropped::Number => "number",
            Dropped::StopWord => "stop_word",
        }
    }
}

/// The analysis chain, built once from the pipeline's `[analyzer]` settings.
pub struct Analyzer {
    stop: HashSet<String>,
    stemmer: Stemmer,
    min_len: usize,
    keep_numbers: bool,
    language: &'static str,
}

impl Analyzer {
    /// Build the analyzer; reads `stop_words_file` if one is set.
    pub fn new(settings: &AnalyzerSettings) -> Result<Analyzer> {
        let (algorithm, language) = language(&settings.language).map_err(Error::Data)?;
        let mut raw: Vec<String> = match settings.stop_words {
            StopWords::None => vec![],
            StopWords::Sklearn => word_list(SKLEARN_ENGLISH_STOP_WORDS),
            StopWords::Builtin => {
                let code = iso_code(language);
                if language == "tamil" {
                    return Err(Error::Data(
                        "analyzer.stop_words: there is no built-in stop list for tamil; \
                         use stop_words = \"none\" and a stop_words_file"
                            .into(),
                    ));
                }
                stop_words::get(code)
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }
        };
        if let Some(path) = &settings.stop_words_file {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            raw.extend(word_list(&text));
        }
        let stop = raw
            .iter()
            .filter_map(|w| strip_possessive(&fold(w.trim())).map(str::to_string))
            .collect();
        Ok(Analyzer {
            stop,
            stemmer: Stemmer::new(algorithm, settings.stem),
            min_len: settings.min_token_len,
            keep_numbers: settings.keep_numbers,
            language,
        })
    }

    pub fn language(&self) -> &'static str {
        self.language
    }

    /// Steps 2–6 for one word segment.
    pub fn analyze_word<'a>(&self, word: &'a str) -> std::result::Result<Token<'a>, Dropped> {
        let folded = fold(word);
        let surface: Cow<'a, str> = match folded {
            Cow::Borrowed(b) => Cow::Borrowed(strip_possessive(b).ok_or(Dropped::Empty)?),
            Cow::Owned(o) => Cow::Owned(strip_possessive(&o).ok_or(Dropped::Empty)?.to_string()),
        };
        if self.min_len > 1 && surface.chars().count() < self.min_len {
            return Err(Dropped::TooShort);
        }
        if !self.keep_numbers && !surface.chars().any(char::is_alphabetic) {
            return Err(Dropped::Number);
        }
        if self.stop.contains(surface.as_ref()) {
            return Err(Dropped::StopWord);
        }
        let term = match &surface {
            Cow::Borrowed(b) => self.stemmer.stem(b),
            Cow::Owned(o) => Cow::Owned(self.stemmer.stem(o).into_owned()),
        };
        Ok(Token { term, surface })
    }

    /// All terms of a text, in order, each with its surface form.
    pub fn tokens<'a>(&'a self, text: &'a str) -> impl Iterator<Item = Token<'a>> + 'a {
        segment(text).filter_map(move |w| self.analyze_word(w).ok())
    }

    /// The terms of a text as owned strings (for seeds and tests).
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.tokens(text).map(|t| t.term.into_owned()).collect()
    }

    pub fn is_stop_word(&self, folded: &str) -> bool {
        self.stop.contains(folded)
    }
}

/// Words of a list file: one per line, `#` starts a comment, blank lines skipped.
fn word_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer(f: impl FnOnce(&mut AnalyzerSettings)) -> Analyzer {
        let mut s = AnalyzerSettings::default();
        f(&mut s);
        Analyzer::new(&s).unwrap()
    }

    #[test]
    fn segment_keeps_words_with_letters_or_digits() {
        let w: Vec<_> = segment("Don't stop — U.S. 1,000 foo_bar 3.14 !!").collect();
        assert_eq!(w, ["Don't", "stop", "U.S", "1,000", "foo_bar", "3.14"]);
    }

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

    #[test]
    fn stemmer_is_snowball_english() {
        let s = Stemmer::new(Algorithm::English, true);
        assert_eq!(s.stem("negotiations"), "negoti");
        assert_eq!(s.stem("succession"), "success");
        assert_eq!(
            Stemmer::new(Algorithm::English, false).stem("negotiations"),
            "negotiations"
        );
    }

    #[test]
    fn stop_words_checked_before_stemming_and_folded() {
        let a = analyzer(|s| s.stop_words = StopWords::Sklearn);
        assert_eq!(
            a.terms("The Leader’s doctrine was always NEGOTIATIONS"),
            ["leader", "doctrin", "negoti"]
        );
        // "becoming" is a stop word; its stem "becom" is not looked up
        assert!(a.terms("becoming").is_empty());
    }

    #[test]
    fn min_len_and_numbers() {
        let a = analyzer(|s| {
            s.stop_words = StopWords::None;
            s.min_token_len = 3;
            s.keep_numbers = false;
        });
        assert_eq!(a.terms("an ox in 2015 ran 1,000 km7"), ["ran", "km7"]);
        let b = analyzer(|s| s.stop_words = StopWords::None);
        assert_eq!(b.terms("an 2015"), ["an", "2015"]);
    }

    #[test]
    fn builtin_lists_exist_for_snowball_languages() {
        for (name, _, _) in LANGUAGES.iter().filter(|l| l.0 != "tamil") {
            let a = analyzer(|s| s.language = name.to_string());
            assert!(a.stop.len() > 20, "{name}");
        }
        let a = analyzer(|s| s.language = "de".into());
        assert_eq!(
            a.terms("Die Verhandlungen und die Nachfolge"),
            ["verhandl", "nachfolg"]
        );
        let mut s = AnalyzerSettings {
            language: "tamil".into(),
            ..Default::default()
        };
        assert!(Analyzer::new(&s).is_err());
        s.stop_words = StopWords::None;
        assert!(Analyzer::new(&s).is_ok());
    }

    #[test]
    fn stop_words_file_is_added_and_folded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("stop.txt");
        std::fs::write(&p, "# comment\nKhamenei\nIran’s\n\n").unwrap();
        let a = analyzer(|s| {
            s.stop_words = StopWords::None;
            s.stop_words_file = Some(p.clone());
        });
        assert_eq!(a.terms("Khamenei and Iran's leader"), ["and", "leader"]);
    }

    #[test]
    fn language_lookup() {
        assert_eq!(language("EN").unwrap().1, "english");
        assert!(language("klingon").unwrap_err().contains("english"));
    }
}
