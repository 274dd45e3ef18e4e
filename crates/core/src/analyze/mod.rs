//! Analysis: the one way text becomes terms.
//!
//! The [`Analyzer`] is a chain of small steps, each a type with a one-line contract:
//!
//! 1. [`Segmenter`]: UAX#29 word segments that contain a letter or digit (`unicode_words`).
//! 2. [`fold`]: full Unicode lowercase, and `’` (U+2019) becomes `'`.
//! 3. [`strip_possessive`]: a trailing `'s` is removed; a token left empty is dropped.
//! 4. [`LengthFilter`] and [`NumberFilter`]: tokens shorter than `min_token_len`
//!    characters, and (unless `keep_numbers`) tokens without a letter, are dropped.
//! 5. [`StopWordFilter`]: the folded token (before stemming) is looked up in the stop list,
//!    whose entries went through steps 2–3 themselves.
//! 6. [`Stemmer`]: Snowball stemming of the folded token (it expects lowercase input).
//!
//! Passages, theme seed words and stop lists all go through the same analyzer. Counting
//! ([`TermCounts`]) analyses each distinct word of a corpus once.

pub mod collocations;
mod count;
mod fold;
mod language;
mod segment;
mod stem;
mod stop_words;

pub use count::{label_of, Counts, TermCounts};
pub use fold::{fold, strip_possessive};
pub use language::language;
pub use rust_stemmers::Algorithm;
pub use segment::{for_each_word, segment, Segmenter};
pub use stem::Stemmer;
pub use stop_words::{word_list, StopWordFilter, StopWords, SKLEARN_ENGLISH_STOP_WORDS};

#[cfg(test)]
pub(crate) use segment::test_rng;

use crate::ParamError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::path::PathBuf;

/// The settings of the analyzer (`[analyzer]` in a pipeline file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyzerParams {
    /// A Snowball language by name or ISO 639-1 code.
    pub language: String,
    /// The stop list to start from.
    pub stop_words: StopWords,
    /// A file of more stop words (one per line, `#` comments), as the pipeline file names
    /// it. This crate never opens it: the caller reads it into `extra_stop_words`.
    pub stop_words_file: Option<PathBuf>,
    /// More stop words (the words of `stop_words_file`).
    #[serde(skip)]
    pub extra_stop_words: Vec<String>,
    /// Tokens with fewer characters are dropped.
    pub min_token_len: usize,
    /// Keep tokens without any letter (numbers like `2015`, `1,000`).
    pub keep_numbers: bool,
    /// Apply the Snowball stemmer of the language.
    pub stem: bool,
    /// The n-gram sizes counted as terms (scikit-learn's `ngram_range`): `[1, 1]` single
    /// words, `[1, 2]` words and bigrams. Left out of the written settings when `[1, 1]`.
    #[serde(skip_serializing_if = "Ngrams::is_unigrams")]
    pub ngrams: Ngrams,
}

/// The n-gram sizes counted as terms, `min..=max` (`analyzer.ngrams = [min, max]`).
///
/// An n-gram is `n` consecutive kept tokens of a passage (dropped words — stop words, short
/// tokens, numbers when they are not kept — are skipped first, as scikit-learn drops stop
/// words before it forms n-grams); its term is the tokens' terms joined by one space, as
/// scikit-learn names it, and its surface form their surface forms joined the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[usize; 2]", into = "[usize; 2]")]
pub struct Ngrams {
    /// The smallest n.
    pub min: usize,
    /// The largest n.
    pub max: usize,
}

impl Ngrams {
    /// The largest n supported.
    pub const MAX: usize = 3;
    /// Single words only (the default).
    pub const UNIGRAMS: Ngrams = Ngrams { min: 1, max: 1 };

    /// Whether only single words are counted.
    pub fn is_unigrams(&self) -> bool {
        *self == Ngrams::UNIGRAMS
    }

    /// Whether n-grams of more than one word are counted.
    pub fn has_phrases(&self) -> bool {
        self.max >= 2
    }
}

impl Default for Ngrams {
    fn default() -> Self {
        Ngrams::UNIGRAMS
    }
}

impl From<[usize; 2]> for Ngrams {
    fn from([min, max]: [usize; 2]) -> Self {
        Ngrams { min, max }
    }
}

impl From<Ngrams> for [usize; 2] {
    fn from(n: Ngrams) -> Self {
        [n.min, n.max]
    }
}

impl Default for AnalyzerParams {
    fn default() -> Self {
        AnalyzerParams {
            language: "english".into(),
            stop_words: StopWords::Builtin,
            stop_words_file: None,
            extra_stop_words: vec![],
            min_token_len: 1,
            keep_numbers: true,
            stem: true,
            ngrams: Ngrams::UNIGRAMS,
        }
    }
}

impl AnalyzerParams {
    /// Every rule the settings must satisfy; the error names the key.
    pub fn check(&self) -> Result<(), ParamError> {
        let (_, name) =
            language(&self.language).map_err(|m| ParamError::new("analyzer.language", m))?;
        if self.stop_words == StopWords::Builtin && name == "tamil" {
            // the stop list says why
            StopWordFilter::new(self.stop_words, name, &[])?;
        }
        if self.min_token_len == 0 {
            return Err(ParamError::new(
                "analyzer.min_token_len",
                "must be at least 1",
            ));
        }
        let Ngrams { min, max } = self.ngrams;
        if min < 1 || min > max || max > Ngrams::MAX {
            return Err(ParamError::new(
                "analyzer.ngrams",
                format!(
                    "must be [min, max] with 1 <= min <= max <= {} (got [{min}, {max}]): \
                     [1, 1] words, [1, 2] words and bigrams",
                    Ngrams::MAX
                ),
            ));
        }
        Ok(())
    }
}

/// Step 4: tokens shorter than `min` characters are dropped.
#[derive(Debug, Clone, Copy)]
pub struct LengthFilter {
    min: usize,
}

impl LengthFilter {
    /// Keep tokens of at least `min` characters.
    pub fn new(min: usize) -> Self {
        LengthFilter { min }
    }

    /// Whether the token is long enough.
    #[inline]
    pub fn keeps(&self, token: &str) -> bool {
        self.min <= 1 || token.chars().count() >= self.min
    }
}

/// Step 4: tokens without any letter are dropped, unless numbers are kept.
#[derive(Debug, Clone, Copy)]
pub struct NumberFilter {
    keep_numbers: bool,
}

impl NumberFilter {
    /// Keep or drop tokens without a letter.
    pub fn new(keep_numbers: bool) -> Self {
        NumberFilter { keep_numbers }
    }

    /// Whether the token passes.
    #[inline]
    pub fn keeps(&self, token: &str) -> bool {
        self.keep_numbers || token.chars().any(char::is_alphabetic)
    }
}

/// One analysed token: the stem (the term) and the folded surface form it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// The term.
    pub term: Cow<'a, str>,
    /// The folded surface form, possessive stripped.
    pub surface: Cow<'a, str>,
}

/// Why a word did not become a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// It has no letter or digit, or nothing is left after the possessive.
    Empty,
    /// Shorter than `min_token_len`.
    TooShort,
    /// No letter, and numbers are not kept.
    Number,
    /// In the stop list.
    StopWord,
}

/// The analysis chain, built once from [`AnalyzerParams`] (or step by step with
/// [`Analyzer::builder`]).
pub struct Analyzer {
    segmenter: Segmenter,
    length: LengthFilter,
    numbers: NumberFilter,
    stop: StopWordFilter,
    stemmer: Stemmer,
    language: &'static str,
    ngrams: Ngrams,
}

/// Builds an [`Analyzer`] step by step.
pub struct AnalyzerBuilder {
    analyzer: Analyzer,
    stem: bool,
}

impl AnalyzerBuilder {
    /// Step 4: the shortest token kept, in characters.
    pub fn min_token_len(mut self, min: usize) -> Self {
        self.analyzer.length = LengthFilter::new(min);
        self
    }

    /// Step 4: keep tokens without a letter.
    pub fn keep_numbers(mut self, keep: bool) -> Self {
        self.analyzer.numbers = NumberFilter::new(keep);
        self
    }

    /// Step 5: the stop list.
    pub fn stop_words(mut self, stop: StopWordFilter) -> Self {
        self.analyzer.stop = stop;
        self
    }

    /// Step 6: stem with the language's Snowball stemmer, or not.
    pub fn stem(mut self, stem: bool) -> Self {
        self.stem = stem;
        self
    }

    /// The n-gram sizes counted as terms.
    pub fn ngrams(mut self, ngrams: Ngrams) -> Self {
        self.analyzer.ngrams = ngrams;
        self
    }

    /// The analyzer.
    pub fn build(mut self) -> Analyzer {
        let (algorithm, _) = language(self.analyzer.language).expect("a known language");
        self.analyzer.stemmer = Stemmer::new(algorithm, self.stem);
        self.analyzer
    }
}

impl Analyzer {
    /// An analyzer for `language` (a name or ISO code) without stop words, keeping every
    /// token, stemming.
    pub fn builder(language_name: &str) -> Result<AnalyzerBuilder, ParamError> {
        let (algorithm, name) =
            language(language_name).map_err(|m| ParamError::new("analyzer.language", m))?;
        Ok(AnalyzerBuilder {
            analyzer: Analyzer {
                segmenter: Segmenter,
                length: LengthFilter::new(1),
                numbers: NumberFilter::new(true),
                stop: StopWordFilter::default(),
                stemmer: Stemmer::new(algorithm, true),
                language: name,
                ngrams: Ngrams::UNIGRAMS,
            },
            stem: true,
        })
    }

    /// The analyzer `params` describe (checking them first).
    pub fn new(params: &AnalyzerParams) -> Result<Analyzer, ParamError> {
        params.check()?;
        let b = Analyzer::builder(&params.language)?;
        let stop = StopWordFilter::new(
            params.stop_words,
            b.analyzer.language,
            &params.extra_stop_words,
        )?;
        Ok(b.stop_words(stop)
            .min_token_len(params.min_token_len)
            .keep_numbers(params.keep_numbers)
            .stem(params.stem)
            .ngrams(params.ngrams)
            .build())
    }

    /// The language's name.
    pub fn language(&self) -> &'static str {
        self.language
    }

    /// The n-gram sizes counted as terms.
    pub fn ngram_range(&self) -> Ngrams {
        self.ngrams
    }

    /// Steps 2–6 for one word segment.
    pub fn analyze_word<'a>(&self, word: &'a str) -> Result<Token<'a>, Dropped> {
        let folded = fold(word);
        let surface: Cow<'a, str> = match folded {
            Cow::Borrowed(b) => Cow::Borrowed(strip_possessive(b).ok_or(Dropped::Empty)?),
            Cow::Owned(o) => Cow::Owned(strip_possessive(&o).ok_or(Dropped::Empty)?.to_string()),
        };
        if !self.length.keeps(&surface) {
            return Err(Dropped::TooShort);
        }
        if !self.numbers.keeps(&surface) {
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
        self.segmenter
            .words(text)
            .filter_map(move |w| self.analyze_word(w).ok())
    }

    /// The terms of a text as owned strings (for seeds and tests).
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.tokens(text).map(|t| t.term.into_owned()).collect()
    }

    /// Every term a text counts as, with its surface form: with single words its tokens;
    /// with n-grams, the n-grams of each size counted (smallest first, each in text order),
    /// as the counting step forms them.
    pub fn counted_terms(&self, text: &str) -> Vec<(String, String)> {
        let tokens: Vec<Token> = self.tokens(text).collect();
        let mut out = Vec::new();
        for n in self.ngrams.min..=self.ngrams.max {
            for w in tokens.windows(n) {
                let term: Vec<&str> = w.iter().map(|t| t.term.as_ref()).collect();
                let surface: Vec<&str> = w.iter().map(|t| t.surface.as_ref()).collect();
                out.push((term.join(" "), surface.join(" ")));
            }
        }
        out
    }

    /// The terms a theme's seed word (or phrase) stands for. With single words only, the
    /// terms of its words (a bag of words). With n-grams, a seed of several words is a
    /// phrase: its n-grams of the largest size counted that fits it ("nuclear deal" is the
    /// bigram `nuclear deal`; a three-word seed with bigrams is its two bigrams); a
    /// one-word seed is its word's term.
    pub fn seed_terms(&self, seed: &str) -> Vec<String> {
        let terms = self.terms(seed);
        if !self.ngrams.has_phrases() || terms.len() < 2 {
            return terms;
        }
        let n = terms.len().min(self.ngrams.max);
        terms.windows(n).map(|w| w.join(" ")).collect()
    }

    /// Whether a folded token is a stop word.
    pub fn is_stop_word(&self, folded: &str) -> bool {
        self.stop.contains(folded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer(f: impl FnOnce(&mut AnalyzerParams)) -> Analyzer {
        let mut s = AnalyzerParams::default();
        f(&mut s);
        Analyzer::new(&s).unwrap()
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
        for name in [
            "arabic",
            "danish",
            "dutch",
            "english",
            "finnish",
            "french",
            "german",
            "greek",
            "hungarian",
            "italian",
            "norwegian",
            "portuguese",
            "romanian",
            "russian",
            "spanish",
            "swedish",
            "turkish",
        ] {
            let a = analyzer(|s| s.language = name.to_string());
            assert!(a.stop.len() > 20, "{name}");
        }
        let a = analyzer(|s| s.language = "de".into());
        assert_eq!(
            a.terms("Die Verhandlungen und die Nachfolge"),
            ["verhandl", "nachfolg"]
        );
        let mut s = AnalyzerParams {
            language: "tamil".into(),
            ..Default::default()
        };
        let e = Analyzer::new(&s).err().unwrap();
        assert_eq!(e.key, "analyzer.stop_words");
        assert_eq!(s.check().unwrap_err(), e);
        s.stop_words = StopWords::None;
        assert!(Analyzer::new(&s).is_ok());
    }

    #[test]
    fn extra_stop_words_are_added_and_folded() {
        let a = analyzer(|s| {
            s.stop_words = StopWords::None;
            s.extra_stop_words = word_list("# comment\nKhamenei\nIran’s\n\n");
        });
        assert_eq!(a.terms("Khamenei and Iran's leader"), ["and", "leader"]);
    }

    #[test]
    fn seeds_of_several_words_are_phrases_with_ngrams() {
        let words = analyzer(|_| {});
        assert_eq!(words.seed_terms("nuclear deal"), ["nuclear", "deal"]);
        let phrases = analyzer(|s| s.ngrams = Ngrams { min: 1, max: 2 });
        assert_eq!(phrases.seed_terms("nuclear deal"), ["nuclear deal"]);
        assert_eq!(phrases.seed_terms("Negotiations"), ["negoti"]);
        // stop words are dropped before the n-grams are formed, as in the text
        assert_eq!(phrases.seed_terms("no peace, no war"), ["peac war"]);
        assert_eq!(
            phrases.seed_terms("Assembly of Experts said"),
            ["assembl expert", "expert said"]
        );
        let trigrams = analyzer(|s| s.ngrams = Ngrams { min: 1, max: 3 });
        assert_eq!(
            trigrams.seed_terms("Assembly of Experts said"),
            ["assembl expert said"]
        );
        assert!(phrases.seed_terms("the of").is_empty());
    }

    #[test]
    fn ngrams_are_read_as_a_pair_and_checked() {
        let p: AnalyzerParams = serde_json::from_str(r#"{"ngrams": [1, 2]}"#).unwrap();
        assert_eq!(p.ngrams, Ngrams { min: 1, max: 2 });
        assert!(p.check().is_ok());
        // the default is not written, so settings written before n-grams read the same
        let json = serde_json::to_value(AnalyzerParams::default()).unwrap();
        assert!(json.get("ngrams").is_none());
        assert_eq!(
            serde_json::to_value(&p).unwrap()["ngrams"],
            serde_json::json!([1, 2])
        );
        for bad in [[0, 1], [2, 1], [1, 4]] {
            let p = AnalyzerParams {
                ngrams: bad.into(),
                ..Default::default()
            };
            let e = p.check().unwrap_err();
            assert_eq!(e.key, "analyzer.ngrams");
            assert!(e.message.contains(&format!("{bad:?}")), "{}", e.message);
        }
    }

    #[test]
    fn checks_name_the_key() {
        let p = AnalyzerParams {
            language: "klingon".into(),
            ..Default::default()
        };
        let e = p.check().unwrap_err();
        assert_eq!(e.key, "analyzer.language");
        assert!(e.message.contains("klingon") && e.message.contains("english"));
        let p = AnalyzerParams {
            min_token_len: 0,
            ..Default::default()
        };
        assert_eq!(p.check().unwrap_err().key, "analyzer.min_token_len");
    }
}
