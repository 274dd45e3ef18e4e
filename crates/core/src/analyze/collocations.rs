//! Collocations: pairs of consecutive terms that occur together more often than chance
//! (quanteda's `textstat_collocations`, for two words): candidates for phrase seeds and for
//! `analyzer.ngrams`.

use super::{Analyzer, AnalyzerParams, Ngrams, TermCounts};
use crate::math::keyness::log_likelihood;
use crate::{ParamError, Silent};
use rustc_hash::FxHashMap;

/// One pair of consecutive terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Collocation {
    /// The two terms joined by a space (as a bigram's term).
    pub term: String,
    /// Its most frequent surface form (ties: the smallest).
    pub label: String,
    /// Occurrences of the pair.
    pub count: u64,
    /// Occurrences of the first term as a pair's first word.
    pub first: u64,
    /// Occurrences of the second term as a pair's second word.
    pub second: u64,
    /// Pointwise mutual information, ln(P(a b) / (P(a ·) P(· b))), over all pairs.
    pub pmi: f64,
    /// Dunning's G² of the pair's 2 × 2 table (first word a or not, second word b or not).
    pub g2: f64,
    /// Its p-value (χ², one degree of freedom).
    pub p_value: f64,
}

/// Pairs of consecutive kept tokens (dropped words skipped, as for n-grams) of `texts`, that
/// occur at least `min_count` times and more often than if the words were independent,
/// strongest (by G², ties by term) first, at most `top`. The pairs are counted by the
/// counting step itself, with the analyzer's settings but bigrams only.
pub fn collocations(
    params: &AnalyzerParams,
    texts: &[&str],
    min_count: u64,
    top: usize,
) -> Result<Vec<Collocation>, ParamError> {
    let analyzer = Analyzer::new(&AnalyzerParams {
        ngrams: Ngrams { min: 2, max: 2 },
        ..params.clone()
    })?;
    let ids: Vec<u32> = (0..texts.len() as u32).collect();
    let counts = TermCounts::partial(&analyzer, &ids, texts, &Silent).finish();
    // each bigram term is its two words' terms, which hold no space
    let words = |t: &str| {
        t.split_once(' ')
            .map(|(a, b)| (a.to_string(), b.to_string()))
    };
    let mut first: FxHashMap<String, u64> = FxHashMap::default();
    let mut second: FxHashMap<String, u64> = FxHashMap::default();
    for (t, &n) in counts.terms.iter().zip(&counts.cf) {
        if let Some((a, b)) = words(t) {
            *first.entry(a).or_insert(0) += n;
            *second.entry(b).or_insert(0) += n;
        }
    }
    let total: u64 = counts.cf.iter().sum();
    let mut out: Vec<Collocation> = (0..counts.terms.len())
        .filter_map(|i| {
            let (a, b) = words(&counts.terms[i])?;
            let n11 = counts.cf[i];
            let (fa, sb) = (first[&a], second[&b]);
            // b after a word other than a
            let n21 = sb - n11;
            let over = (n11 as f64) * ((total - fa) as f64) > (n21 as f64) * (fa as f64);
            if n11 < min_count || !over {
                return None;
            }
            let (g2, p_value) = log_likelihood(n11, n21, fa, total - fa);
            Some(Collocation {
                term: counts.terms[i].clone(),
                label: counts.labels[i].clone(),
                count: n11,
                first: fa,
                second: sb,
                pmi: ((n11 as f64) * (total as f64) / ((fa as f64) * (sb as f64))).ln(),
                g2,
                p_value,
            })
        })
        .collect();
    out.sort_by(|x, y| y.g2.total_cmp(&x.g2).then_with(|| x.term.cmp(&y.term)));
    out.truncate(top);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_that_recurs_comes_first_and_chance_pairs_are_left_out() {
        let p = AnalyzerParams::default();
        let a = Analyzer::new(&p).unwrap();
        let mut texts: Vec<String> = (0..20)
            .map(|i| format!("The Supreme Leader spoke about topic{i} and the weather{i}."))
            .collect();
        texts.push("Leader of the supreme court".into());
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let c = collocations(&p, &refs, 3, 10).unwrap();
        // the two pairs of the sentence that recur; "spoke topic<i>" never twice
        let mut two: Vec<&str> = c.iter().map(|x| x.term.as_str()).collect();
        two.sort();
        assert_eq!(two, ["leader spoke", "suprem leader"]);
        let c: Vec<&Collocation> = c.iter().filter(|x| x.term == "suprem leader").collect();
        assert_eq!(c[0].label, "supreme leader");
        assert_eq!(c[0].count, 20);
        // PMI: 20 of all pairs; "suprem" first 21 times (once before "court"), "leader"
        // second 20 times
        let total: u64 = refs
            .iter()
            .map(|t| a.tokens(t).count().saturating_sub(1) as u64)
            .sum();
        let pmi = (20.0 * total as f64 / (21.0 * 20.0)).ln();
        assert!((c[0].pmi - pmi).abs() < 1e-12);
        // the same at any thread count
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| collocations(&p, &refs, 2, 50).unwrap())
        };
        assert_eq!(run(1), run(3));
    }
}
