//! The vocabulary: every term seen, its statistics and whether it survived pruning.

use super::names::named_enum;

named_enum! {
    /// Why a term is not in the kept vocabulary.
    pub enum DropReason {
        /// Fewer passages than `tfidf.min_df`.
        MinDf = "min_df",
        /// More passages than `tfidf.max_df`.
        MaxDf = "max_df",
        /// Beyond the `tfidf.max_features` most frequent terms.
        MaxFeatures = "max_features",
    }
}

/// One vocabulary entry; its index in [`Vocabulary::terms`] is its term id.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The term (a stem).
    pub term: String,
    /// Its most frequent surface form.
    pub label: String,
    /// Number of rows (kept passages) holding the term.
    pub df: u32,
    /// Total count over the corpus.
    pub cf: u64,
    /// Inverse document frequency.
    pub idf: f64,
    /// Why it was pruned; `None` when kept.
    pub dropped: Option<DropReason>,
}

impl Term {
    /// Whether the term survived pruning.
    pub fn kept(&self) -> bool {
        self.dropped.is_none()
    }
}

/// Every term of the corpus, sorted by code point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocabulary {
    /// The terms; a term's index is its term id.
    pub terms: Vec<Term>,
    /// Number of rows the df and idf were computed over.
    pub n_rows: usize,
}

impl Vocabulary {
    /// Number of kept terms.
    pub fn n_kept(&self) -> usize {
        self.terms.iter().filter(|t| t.kept()).count()
    }

    /// Term id of a term, by binary search (terms are sorted).
    pub fn id(&self, term: &str) -> Option<u32> {
        self.terms
            .binary_search_by(|t| t.term.as_str().cmp(term))
            .ok()
            .map(|i| i as u32)
    }

    /// The dense column of each term id (`u32::MAX` for dropped terms), and the number of
    /// kept terms: kept terms numbered in term order.
    pub fn columns(&self) -> (Vec<u32>, usize) {
        let mut next = 0u32;
        let cols = self
            .terms
            .iter()
            .map(|t| {
                if t.kept() {
                    next += 1;
                    next - 1
                } else {
                    u32::MAX
                }
            })
            .collect();
        (cols, next as usize)
    }
}
