//! TF-IDF: the vocabulary with df and idf, pruning, and weighted rows (pure, no IO).
//!
//! Weighting is scikit-learn's `TfidfVectorizer`: `tf` = raw count (or `1 + ln(count)` with
//! `sublinear_tf`), `idf = ln((1 + n) / (1 + df)) + 1` with `smooth_idf` (else
//! `ln(n / df) + 1`), `w = tf · idf`, rows scaled to unit L2 (or L1) norm; all-zero rows
//! stay zero. Pruning (min_df, max_df, max_features) removes columns but changes neither
//! `n` nor any kept term's df or idf.
//!
//! The state is the analyze step's [`Counts`] (document frequencies are sums, so shards of a
//! corpus merge before the vocabulary is made); each row is then weighted on its own, so a
//! shard can weigh its rows with the corpus's vocabulary.

use crate::analyze::Counts;
use crate::model::{Corpus, DropReason, Passage, PassageStatus, SparseRows, Term, Vocabulary};
use crate::ParamError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A document-frequency bound: an integer is an absolute number of passages, a float in
/// [0, 1] a proportion of them (as in scikit-learn).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DocFreq {
    /// A number of passages.
    Count(u64),
    /// A share of the passages.
    Fraction(f64),
}

impl DocFreq {
    /// The bound as a number of documents, compared as a float (scikit-learn's rule).
    pub fn as_count(self, n_docs: usize) -> f64 {
        match self {
            DocFreq::Count(c) => c as f64,
            DocFreq::Fraction(f) => f * n_docs as f64,
        }
    }
}

/// Row normalisation of TF-IDF vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Unit sum of absolute values.
    L1,
    /// Unit Euclidean length.
    L2,
    /// No normalisation.
    None,
}

/// The settings of the TF-IDF stage (`[tfidf]` in a pipeline file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TfidfParams {
    /// Terms in fewer passages are dropped.
    pub min_df: DocFreq,
    /// Terms in more passages are dropped.
    pub max_df: DocFreq,
    /// Keep the most frequent terms only.
    pub max_features: Option<usize>,
    /// `tf = 1 + ln(count)`.
    pub sublinear_tf: bool,
    /// `idf = ln((1 + n) / (1 + df)) + 1`, else `ln(n / df) + 1`.
    pub smooth_idf: bool,
    /// Row normalisation.
    pub norm: Norm,
}

impl Default for TfidfParams {
    fn default() -> Self {
        TfidfParams {
            min_df: DocFreq::Count(1),
            max_df: DocFreq::Fraction(1.0),
            max_features: None,
            sublinear_tf: false,
            smooth_idf: true,
            norm: Norm::L2,
        }
    }
}

fn check_doc_freq(key: &str, v: DocFreq) -> Result<(), ParamError> {
    match v {
        DocFreq::Fraction(f) if !(0.0..=1.0).contains(&f) => Err(ParamError::new(
            key,
            format!(
                "a fraction must lie in [0.0, 1.0] (write an integer for a passage count), got {f}"
            ),
        )),
        _ => Ok(()),
    }
}

impl TfidfParams {
    /// Every rule the settings must satisfy; the error names the key.
    pub fn check(&self) -> Result<(), ParamError> {
        check_doc_freq("tfidf.min_df", self.min_df)?;
        check_doc_freq("tfidf.max_df", self.max_df)?;
        if let (DocFreq::Count(lo), DocFreq::Count(hi)) = (self.min_df, self.max_df) {
            if hi < lo {
                return Err(ParamError::new(
                    "tfidf.max_df",
                    format!("{hi} is below tfidf.min_df ({lo})"),
                ));
            }
        }
        if self.max_features == Some(0) {
            return Err(ParamError::new(
                "tfidf.max_features",
                "must be at least 1 (omit it for no limit)",
            ));
        }
        Ok(())
    }
}

/// The corpus cannot be weighted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TfidfError {
    /// Every passage was set aside at ingest.
    #[error(
        "no kept passages: all {total} were set aside: {by}; see passages.parquet, or set \
         ingest.boilerplate / ingest.dedupe = false"
    )]
    NoKeptPassages {
        /// Passages in all.
        total: usize,
        /// How many for each status and reason, e.g. `3 boilerplate (heading), 1 short (…)`.
        by: String,
    },
    /// Analysis left no term at all.
    #[error("no terms: every passage is empty after analysis (check the analyzer settings)")]
    NoTerms,
    /// The document-frequency bounds cross on this corpus.
    #[error("tfidf.max_df corresponds to {high} passages, fewer than tfidf.min_df ({low})")]
    MaxBelowMin {
        /// `max_df` in passages.
        high: f64,
        /// `min_df` in passages.
        low: f64,
    },
    /// Pruning dropped every term.
    #[error("after pruning no terms remain: lower tfidf.min_df or raise tfidf.max_df")]
    NothingLeft,
}

/// The kept passages of the corpus; an error listing what became of the others when there
/// are none.
pub fn kept_passages(corpus: &Corpus) -> Result<Vec<&Passage>, TfidfError> {
    let kept: Vec<&Passage> = corpus.kept().collect();
    if kept.is_empty() {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for x in &corpus.passages {
            let r = x.reason.map_or("", |r| crate::model::Named::name(r));
            let status = crate::model::Named::name(x.status);
            *by.entry(format!("{status} ({r})")).or_insert(0) += 1;
        }
        let list: Vec<String> = by.iter().map(|(k, v)| format!("{v} {k}")).collect();
        return Err(TfidfError::NoKeptPassages {
            total: corpus.passages.len(),
            by: list.join(", "),
        });
    }
    debug_assert!(kept.iter().all(|p| p.status == PassageStatus::Kept));
    Ok(kept)
}

/// idf of a term seen in `df` of `n` rows.
pub fn idf(n: usize, df: u32, smooth: bool) -> f64 {
    if smooth {
        ((1.0 + n as f64) / (1.0 + df as f64)).ln() + 1.0
    } else {
        (n as f64 / df as f64).ln() + 1.0
    }
}

/// Term frequency of a raw count.
pub fn tf(count: u32, sublinear: bool) -> f64 {
    if sublinear {
        1.0 + (count as f64).ln()
    } else {
        count as f64
    }
}

/// Scale a row to unit norm (zero rows stay zero).
pub fn normalize_row(w: &mut [f64], norm: Norm) {
    let n = match norm {
        Norm::None => return,
        Norm::L1 => w.iter().map(|x| x.abs()).sum::<f64>(),
        Norm::L2 => w.iter().map(|x| x * x).sum::<f64>().sqrt(),
    };
    if n > 0.0 {
        for x in w.iter_mut() {
            *x /= n;
        }
    }
}

/// Which terms survive pruning, as scikit-learn's `CountVectorizer._limit_features` decides.
pub fn prune(
    df: &[u32],
    cf: &[u64],
    terms: &[String],
    n: usize,
    s: &TfidfParams,
) -> Result<Vec<Option<DropReason>>, TfidfError> {
    let low = s.min_df.as_count(n);
    let high = s.max_df.as_count(n);
    if high < low {
        return Err(TfidfError::MaxBelowMin { high, low });
    }
    let mut dropped: Vec<Option<DropReason>> = df
        .iter()
        .map(|&d| {
            if (d as f64) > high {
                Some(DropReason::MaxDf)
            } else if (d as f64) < low {
                Some(DropReason::MinDf)
            } else {
                None
            }
        })
        .collect();
    if let Some(limit) = s.max_features {
        let mut alive: Vec<usize> = (0..df.len()).filter(|&i| dropped[i].is_none()).collect();
        if alive.len() > limit {
            alive.sort_by(|&a, &b| cf[b].cmp(&cf[a]).then_with(|| terms[a].cmp(&terms[b])));
            for &i in &alive[limit..] {
                dropped[i] = Some(DropReason::MaxFeatures);
            }
        }
    }
    if dropped.iter().all(Option::is_some) {
        return Err(TfidfError::NothingLeft);
    }
    Ok(dropped)
}

/// The vocabulary of the counted corpus: every term with its label, df, cf and idf, and
/// whether pruning kept it.
pub fn vocabulary(counts: &Counts, s: &TfidfParams) -> Result<Vocabulary, TfidfError> {
    let n = counts.rows.n_rows();
    vocabulary_of(&counts.terms, &counts.labels, &counts.df, &counts.cf, n, s)
}

/// [`vocabulary`] from the merged per-term statistics of `n` counted rows (terms in
/// code-point order, each with its label, df and cf): what a distributed count gives.
pub fn vocabulary_of(
    terms: &[String],
    labels: &[String],
    df: &[u32],
    cf: &[u64],
    n: usize,
    s: &TfidfParams,
) -> Result<Vocabulary, TfidfError> {
    if terms.is_empty() {
        return Err(TfidfError::NoTerms);
    }
    let dropped = prune(df, cf, terms, n, s)?;
    Ok(Vocabulary {
        terms: (0..terms.len())
            .map(|i| Term {
                term: terms[i].clone(),
                label: labels[i].clone(),
                df: df[i],
                cf: cf[i],
                idf: idf(n, df[i], s.smooth_idf),
                dropped: dropped[i],
            })
            .collect(),
        n_rows: n,
    })
}

/// Rows per parallel block when weighting.
const WEIGHT_BLOCK: usize = 4096;

/// The TF-IDF rows of counted rows: kept terms only, weighted with the vocabulary's idf and
/// normalised. Each row on its own, so any slice of rows can be weighted apart.
pub fn weigh(rows: &SparseRows, vocab: &Vocabulary, s: &TfidfParams) -> SparseRows {
    let n = rows.n_rows();
    // kept entries, compacted in row order
    let mut m = SparseRows {
        row_ids: rows.row_ids.clone(),
        indptr: Vec::with_capacity(n + 1),
        ..Default::default()
    };
    m.indptr.push(0);
    for r in 0..n {
        let (ids, cs) = rows.row_counts(r);
        for (&id, &c) in ids.iter().zip(cs) {
            if vocab.terms[id as usize].kept() {
                m.cols.push(id);
                m.counts.push(c);
            }
        }
        m.indptr.push(m.cols.len());
    }
    // weights, in parallel over fixed blocks of rows (each row is weighted on its own)
    m.values = vec![0.0; m.cols.len()];
    let mut blocks: Vec<(usize, &mut [f64])> = Vec::new();
    let mut rest: &mut [f64] = &mut m.values;
    for r0 in (0..n).step_by(WEIGHT_BLOCK) {
        let r1 = (r0 + WEIGHT_BLOCK).min(n);
        let (block, tail) = rest.split_at_mut(m.indptr[r1] - m.indptr[r0]);
        blocks.push((r0, block));
        rest = tail;
    }
    let (indptr, term_ids, cs) = (&m.indptr, &m.cols, &m.counts);
    blocks.into_par_iter().for_each(|(r0, block)| {
        let base = indptr[r0];
        for r in r0..(r0 + WEIGHT_BLOCK).min(n) {
            let (a, b) = (indptr[r], indptr[r + 1]);
            let w = &mut block[a - base..b - base];
            for (i, x) in (a..b).zip(w.iter_mut()) {
                *x = tf(cs[i], s.sublinear_tf) * vocab.terms[term_ids[i] as usize].idf;
            }
            normalize_row(w, s.norm);
        }
    });
    m
}

/// The vocabulary and the weighted rows of the counted corpus.
pub fn fit(counts: &Counts, s: &TfidfParams) -> Result<(Vocabulary, SparseRows), TfidfError> {
    let vocab = vocabulary(counts, s)?;
    let m = weigh(&counts.rows, &vocab, s);
    Ok((vocab, m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{Analyzer, AnalyzerParams, StopWords, TermCounts};
    use crate::Silent;

    fn analyzer() -> Analyzer {
        Analyzer::new(&AnalyzerParams {
            stop_words: StopWords::None,
            stem: false,
            ..Default::default()
        })
        .unwrap()
    }

    fn count(a: &Analyzer, texts: &[&str]) -> Counts {
        let ids: Vec<u32> = (0..texts.len() as u32).collect();
        TermCounts::partial(a, &ids, texts, &Silent).finish()
    }

    fn run(texts: &[&str], s: &TfidfParams) -> (Vocabulary, SparseRows) {
        fit(&count(&analyzer(), texts), s).unwrap()
    }

    #[test]
    fn idf_formulas() {
        assert!((idf(4, 1, true) - ((5.0f64 / 2.0).ln() + 1.0)).abs() < 1e-15);
        assert!((idf(4, 1, false) - (4.0f64.ln() + 1.0)).abs() < 1e-15);
        assert_eq!(idf(3, 3, false), 1.0);
    }

    #[test]
    fn tf_and_norms() {
        assert_eq!(tf(3, false), 3.0);
        assert!((tf(3, true) - (1.0 + 3f64.ln())).abs() < 1e-15);
        let mut w = vec![3.0, 4.0];
        normalize_row(&mut w, Norm::L2);
        assert_eq!(w, [0.6, 0.8]);
        let mut w = vec![1.0, 3.0];
        normalize_row(&mut w, Norm::L1);
        assert_eq!(w, [0.25, 0.75]);
        let mut z = vec![0.0, 0.0];
        normalize_row(&mut z, Norm::L2);
        assert_eq!(z, [0.0, 0.0]);
    }

    #[test]
    fn matches_hand_computed_sklearn_weights() {
        // docs: "a a b", "b c"; n = 2, df(a)=1, df(b)=2, df(c)=1
        let (v, m) = run(&["a a b", "b c"], &TfidfParams::default());
        let ia = idf(2, 1, true);
        let ib = idf(2, 2, true);
        assert_eq!(ib, 1.0);
        let n0 = ((2.0 * ia).powi(2) + ib * ib).sqrt();
        assert_eq!(v.terms.iter().map(|t| t.df).collect::<Vec<_>>(), [1, 2, 1]);
        let (ids, w) = m.row(0);
        assert_eq!(ids, [0, 1]);
        assert!((w[0] - 2.0 * ia / n0).abs() < 1e-15);
        assert!((w[1] - ib / n0).abs() < 1e-15);
        assert_eq!(m.counts[..2], [2, 1]);
    }

    #[test]
    fn pruning_keeps_df_and_idf_and_records_reasons() {
        let texts = ["a b c", "a b", "a d", "a e e"];
        let s = TfidfParams {
            min_df: DocFreq::Count(2),
            max_df: DocFreq::Fraction(0.9),
            ..Default::default()
        };
        let (v, m) = run(&texts, &s);
        let by = |t: &str| v.terms[v.id(t).unwrap() as usize].clone();
        assert_eq!(by("a").dropped, Some(DropReason::MaxDf));
        assert_eq!(by("c").dropped, Some(DropReason::MinDf));
        assert!(by("b").kept());
        assert_eq!(by("b").idf, idf(4, 2, true));
        // rows with no kept term stay (as empty rows)
        assert_eq!(m.n_rows(), 4);
        assert_eq!(m.row(3).0.len(), 0);
        assert!(m.cols.iter().all(|&t| v.terms[t as usize].kept()));
    }

    #[test]
    fn max_features_keeps_most_frequent() {
        let s = TfidfParams {
            max_features: Some(1),
            ..Default::default()
        };
        let (v, _) = run(&["x y y", "y z"], &s);
        assert_eq!(v.n_kept(), 1);
        assert!(v.terms[v.id("y").unwrap() as usize].kept());
        assert_eq!(
            v.terms[v.id("x").unwrap() as usize].dropped,
            Some(DropReason::MaxFeatures)
        );
    }

    #[test]
    fn errors_when_nothing_is_left() {
        let c = count(&analyzer(), &["a", "b"]);
        let s = TfidfParams {
            min_df: DocFreq::Count(2),
            ..Default::default()
        };
        assert_eq!(fit(&c, &s).unwrap_err(), TfidfError::NothingLeft);
        let c = count(&analyzer(), &["!!", "??"]);
        assert_eq!(
            fit(&c, &TfidfParams::default()).unwrap_err(),
            TfidfError::NoTerms
        );
    }

    #[test]
    fn sublinear_and_non_smooth() {
        let s = TfidfParams {
            sublinear_tf: true,
            smooth_idf: false,
            norm: Norm::None,
            ..Default::default()
        };
        let (_, m) = run(&["a a a b", "b"], &s);
        let (_, w) = m.row(0);
        assert!((w[0] - (1.0 + 3f64.ln()) * (2f64.ln() + 1.0)).abs() < 1e-15);
        assert!((w[1] - 1.0).abs() < 1e-15);
    }

    #[test]
    fn independent_of_thread_count() {
        let texts: Vec<String> = (0..2000)
            .map(|i| format!("w{} w{} common", i % 37, i % 11))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| run(&refs, &TfidfParams::default()));
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let b = four.install(|| run(&refs, &TfidfParams::default()));
        assert_eq!(a, b);
    }

    #[test]
    fn checks_name_the_key() {
        let p = |f: fn(&mut TfidfParams)| {
            let mut p = TfidfParams::default();
            f(&mut p);
            p.check().map_err(|e| e.key)
        };
        assert_eq!(p(|_| {}), Ok(()));
        assert_eq!(
            p(|p| p.min_df = DocFreq::Fraction(1.5)),
            Err("tfidf.min_df".into())
        );
        assert_eq!(
            p(|p| p.max_df = DocFreq::Fraction(-0.1)),
            Err("tfidf.max_df".into())
        );
        assert_eq!(
            p(|p| {
                p.min_df = DocFreq::Count(3);
                p.max_df = DocFreq::Count(2)
            }),
            Err("tfidf.max_df".into())
        );
        assert_eq!(
            p(|p| p.max_features = Some(0)),
            Err("tfidf.max_features".into())
        );
    }
}

/// Properties over generated count matrices (proptest).
#[cfg(test)]
mod properties {
    use super::*;
    use crate::analyze::{Analyzer, AnalyzerParams, TermCounts};
    use crate::Silent;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every row with a kept term has unit length (l2) or unit sum (l1), every weight is
        /// positive and finite, and a term's df is the number of rows that hold it.
        #[test]
        fn rows_are_unit_and_df_counts_rows(
            docs in prop::collection::vec(prop::collection::vec(0usize..30, 0..25), 1..40),
            sublinear in any::<bool>(),
            smooth in any::<bool>(),
            l1 in any::<bool>(),
            min_df in 1usize..3,
        ) {
            let words: Vec<String> = (0..30).map(|i| format!("w{i}x")).collect();
            let texts: Vec<String> = docs
                .iter()
                .map(|d| d.iter().map(|&i| words[i].as_str()).collect::<Vec<_>>().join(" "))
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let ids: Vec<u32> = (0..refs.len() as u32).collect();
            let a = Analyzer::new(&AnalyzerParams { stem: false, ..Default::default() }).unwrap();
            let counts = TermCounts::partial(&a, &ids, &refs, &Silent).finish();
            let s = TfidfParams {
                sublinear_tf: sublinear,
                smooth_idf: smooth,
                norm: if l1 { Norm::L1 } else { Norm::L2 },
                min_df: DocFreq::Count(min_df as u64),
                ..Default::default()
            };
            let Ok((vocab, m)) = fit(&counts, &s) else {
                // nothing survives pruning: an error, not empty rows
                prop_assert!(counts.df.iter().all(|&d| (d as usize) < min_df));
                return Ok(());
            };
            for term in &vocab.terms {
                let held = docs.iter().filter(|d| d.iter().any(|&i| words[i] == term.term)).count();
                prop_assert_eq!(term.df as usize, held);
            }
            for r in 0..m.n_rows() {
                let w = m.row(r).1;
                prop_assert!(w.iter().all(|x| x.is_finite() && *x > 0.0));
                if w.is_empty() {
                    continue;
                }
                let len = if l1 { w.iter().sum::<f64>() } else { w.iter().map(|x| x * x).sum::<f64>().sqrt() };
                prop_assert!((len - 1.0).abs() < 1e-12, "row {} has length {}", r, len);
            }
        }
    }
}
