//! Collocations: pairs of consecutive terms that occur together more often than chance
//! (quanteda's `textstat_collocations`, for two words): candidates for phrase seeds and for
//! `analyzer.ngrams`.

use super::{Analyzer, Token};
use crate::math::keyness::log_likelihood;
use rayon::prelude::*;
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
/// strongest (by G², ties by term) first, at most `top`.
pub fn collocations(
    analyzer: &Analyzer,
    texts: &[&str],
    min_count: u64,
    top: usize,
) -> Vec<Collocation> {
    type Pairs = FxHashMap<(String, String), FxHashMap<String, u64>>;
    let pairs: Pairs = texts
        .par_iter()
        .fold(Pairs::default, |mut acc, text| {
            let tokens: Vec<Token> = analyzer.tokens(text).collect();
            for w in tokens.windows(2) {
                let surface = format!("{} {}", w[0].surface, w[1].surface);
                *acc.entry((w[0].term.to_string(), w[1].term.to_string()))
                    .or_default()
                    .entry(surface)
                    .or_insert(0) += 1;
            }
            acc
        })
        .reduce(Pairs::default, |mut a, b| {
            for (k, forms) in b {
                let e = a.entry(k).or_default();
                for (f, n) in forms {
                    *e.entry(f).or_insert(0) += n;
                }
            }
            a
        });
    let mut first: FxHashMap<&str, u64> = FxHashMap::default();
    let mut second: FxHashMap<&str, u64> = FxHashMap::default();
    let mut total = 0u64;
    for ((a, b), forms) in &pairs {
        let n: u64 = forms.values().sum();
        *first.entry(a).or_insert(0) += n;
        *second.entry(b).or_insert(0) += n;
        total += n;
    }
    let mut out: Vec<Collocation> = pairs
        .iter()
        .filter_map(|((a, b), forms)| {
            let n11: u64 = forms.values().sum();
            let (fa, sb) = (first[a.as_str()], second[b.as_str()]);
            // b after a word other than a
            let n21 = sb - n11;
            let over = (n11 as f64) * ((total - fa) as f64) > (n21 as f64) * (fa as f64);
            if n11 < min_count || !over {
                return None;
            }
            let (g2, p_value) = log_likelihood(n11, n21, fa, total - fa);
            let mut forms: Vec<(&String, &u64)> = forms.iter().collect();
            forms.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
            Some(Collocation {
                term: format!("{a} {b}"),
                label: forms[0].0.clone(),
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::AnalyzerParams;

    #[test]
    fn a_phrase_that_recurs_comes_first_and_chance_pairs_are_left_out() {
        let a = Analyzer::new(&AnalyzerParams::default()).unwrap();
        let mut texts: Vec<String> = (0..20)
            .map(|i| format!("The Supreme Leader spoke about topic{i} and the weather{i}."))
            .collect();
        texts.push("Leader of the supreme court".into());
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let c = collocations(&a, &refs, 3, 10);
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
                .install(|| collocations(&a, &refs, 2, 50))
        };
        assert_eq!(run(1), run(3));
    }
}
