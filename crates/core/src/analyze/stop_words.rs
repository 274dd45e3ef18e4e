//! Step 5 of the analyzer: stop words, looked up before stemming.

use super::fold::{fold, strip_possessive};
use crate::ParamError;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Which stop list the analyzer starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopWords {
    /// The built-in list for the analyzer's language (NLTK's lists).
    Builtin,
    /// scikit-learn's ENGLISH_STOP_WORDS (318 words).
    Sklearn,
    /// No stop words (a stop-words file may still add some).
    None,
}

/// scikit-learn's ENGLISH_STOP_WORDS, one per line.
pub const SKLEARN_ENGLISH_STOP_WORDS: &str = include_str!("sklearn_english_stop_words.txt");

/// Words of a list file: one per line, `#` starts a comment, blank lines skipped.
pub fn word_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The stop list: a token (folded, possessive stripped) in it is dropped. Its entries went
/// through the same folding.
#[derive(Debug, Clone, Default)]
pub struct StopWordFilter {
    set: HashSet<String>,
}

impl StopWordFilter {
    /// The list `kind` of `language` (a name from [`super::language`]) plus `extra` words.
    /// There is no built-in list for tamil.
    pub fn new(
        kind: StopWords,
        language: &str,
        extra: &[String],
    ) -> Result<StopWordFilter, ParamError> {
        let mut raw: Vec<String> = match kind {
            StopWords::None => vec![],
            StopWords::Sklearn => word_list(SKLEARN_ENGLISH_STOP_WORDS),
            StopWords::Builtin => {
                if language == "tamil" {
                    return Err(ParamError::new(
                        "analyzer.stop_words",
                        "there is no built-in stop list for tamil; use stop_words = \"none\" \
                         and a stop_words_file",
                    ));
                }
                stop_words::get(super::language::iso_code(language))
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }
        };
        raw.extend(extra.iter().cloned());
        let set = raw
            .iter()
            .filter_map(|w| strip_possessive(&fold(w.trim())).map(str::to_string))
            .collect();
        Ok(StopWordFilter { set })
    }

    /// Whether a folded token is a stop word.
    #[inline]
    pub fn contains(&self, folded: &str) -> bool {
        self.set.contains(folded)
    }

    /// Number of stop words.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}
