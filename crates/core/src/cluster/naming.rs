//! What each cluster is about: its top terms by mean TF-IDF weight and by c-TF-IDF.

use crate::math::ctfidf::ctfidf;
use crate::model::{ClusterTerm, Measure, SparseRows, Vocabulary};
use rustc_hash::FxHashMap;

/// The `n` best `(term, value)` pairs of a map (ties: lower term id first).
fn top_n(map: FxHashMap<u32, f64>, n: usize) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

fn term_rows<'a>(
    vocab: &'a Vocabulary,
    cluster: usize,
    measure: Measure,
    top: Vec<(u32, f64)>,
) -> impl Iterator<Item = ClusterTerm> + 'a {
    top.into_iter().enumerate().map(move |(rank, (t, w))| {
        let term = &vocab.terms[t as usize];
        ClusterTerm {
            cluster: cluster as u32,
            measure,
            rank: rank as u32 + 1,
            term_id: t,
            term: term.term.clone(),
            label: term.label.clone(),
            weight: w,
        }
    })
}

/// The `n` terms of highest mean TF-IDF weight over each cluster's passages: the centroid's
/// heaviest terms.
pub(super) fn mean_tfidf_terms(
    m: &SparseRows,
    vocab: &Vocabulary,
    labels: &[Option<u32>],
    k: usize,
    n: usize,
) -> Vec<ClusterTerm> {
    let mut sums = vec![FxHashMap::<u32, f64>::default(); k];
    let mut sizes = vec![0usize; k];
    for (r, l) in labels.iter().enumerate() {
        if let Some(c) = l {
            sizes[*c as usize] += 1;
            let (ids, w) = m.row(r);
            for (&t, &v) in ids.iter().zip(w) {
                *sums[*c as usize].entry(t).or_insert(0.0) += v;
            }
        }
    }
    mean_tfidf_terms_of(sums, &sizes, vocab, n)
}

/// [`mean_tfidf_terms`] from the clusters' weight sums: `sums[c]` maps term id → the sum of
/// its TF-IDF weights over cluster `c`'s passages, `sizes[c]` counts them. What a
/// distributed sum of the clusters' rows gives.
pub fn mean_tfidf_terms_of(
    sums: Vec<FxHashMap<u32, f64>>,
    sizes: &[usize],
    vocab: &Vocabulary,
    n: usize,
) -> Vec<ClusterTerm> {
    let mut out = Vec::new();
    for (c, s) in sums.into_iter().enumerate() {
        let size = sizes.get(c).copied().unwrap_or(0) as f64;
        let s = s.into_iter().map(|(t, w)| (t, w / size)).collect();
        out.extend(term_rows(vocab, c, Measure::MeanTfidf, top_n(s, n)));
    }
    out
}

/// The `n` terms of highest c-TF-IDF in each cluster, against all kept passages (the
/// unassigned ones form one more class).
pub fn ctfidf_terms(
    m: &SparseRows,
    vocab: &Vocabulary,
    labels: &[Option<u32>],
    k: usize,
    n: usize,
) -> Vec<ClusterTerm> {
    let mut classes = vec![FxHashMap::<u32, f64>::default(); k + 1];
    for (r, l) in labels.iter().enumerate() {
        let c = l.map_or(k, |c| c as usize);
        let (a, b) = (m.indptr[r], m.indptr[r + 1]);
        for i in a..b {
            *classes[c].entry(m.cols[i]).or_insert(0.0) += m.counts[i] as f64;
        }
    }
    ctfidf_terms_of(classes, vocab, k, n)
}

/// [`ctfidf_terms`] from the classes' term counts: `classes[c]` maps term id → count of
/// cluster `c`'s passages, and `classes[k]` (an empty map when there is none) those of the
/// unassigned passages. What a distributed count of the clusters' terms gives.
pub fn ctfidf_terms_of(
    mut classes: Vec<FxHashMap<u32, f64>>,
    vocab: &Vocabulary,
    k: usize,
    n: usize,
) -> Vec<ClusterTerm> {
    classes.resize_with(k + 1, FxHashMap::default);
    if classes[k].is_empty() {
        classes.pop();
    }
    let mut out = Vec::new();
    for (c, w) in ctfidf(&classes).into_iter().enumerate().take(k) {
        out.extend(term_rows(vocab, c, Measure::Ctfidf, top_n(w, n)));
    }
    out
}
