//! Why a passage got its theme: its similarity to a centroid as a sum over its terms.
//!
//! A passage's TF-IDF row `x` is L2-normalised and every centroid `c` has unit length, so
//! its similarity is the dot product:
//!
//! - in TF-IDF space `x · c = Σ_t x_t c_t`, and term `t`'s contribution is `x_t c_t`
//!   (exact: the contributions of all its terms sum to the similarity);
//! - in LSA space the similarity is `z · c` with `z = x V / ‖x V‖`, which is
//!   `Σ_t x_t (V c)_t / ‖x V‖`: term `t`'s contribution is `x_t (V c)_t / ‖x V‖`. They sum to
//!   the similarity too (to rounding), but this maps a cosine of the reduced space back to
//!   terms — a term contributes through the dimensions it loads on, which it shares with
//!   other terms, and can contribute negatively. [`ExplainSpace`] says which of the two a
//!   table holds.
//!
//! `V` is read as the embedding reads it (in single precision, summed in double), so `‖x V‖`
//! is the norm the embedding divided by.

use crate::model::{ExplainSpace, Explanation, Role, SparseRows, Vocabulary};
use ndarray::Array2;
use rayon::prelude::*;

/// The nearest centroid of a row and the runner-up, from its similarities: the highest
/// (ties: the lower id) and the highest of the others (ties: the lower id). `None` when the
/// row has no positive similarity (it has no cluster, see [`super::assign`]); no runner-up
/// with one centroid.
pub fn two_nearest(sims: &[f64]) -> Option<(usize, Option<usize>)> {
    let mut top = 0;
    for c in 1..sims.len() {
        if sims[c] > sims[top] {
            top = c;
        }
    }
    if sims.is_empty() || sims[top] <= 0.0 {
        return None;
    }
    let mut second: Option<usize> = None;
    for c in (0..sims.len()).filter(|&c| c != top) {
        if second.is_none_or(|s| sims[c] > sims[s]) {
            second = Some(c);
        }
    }
    Some((top, second))
}

/// The space a clustering's explanations are in: LSA when it has a basis.
pub fn explain_space(components: Option<&Array2<f64>>) -> ExplainSpace {
    match components {
        Some(_) => ExplainSpace::Lsa,
        None => ExplainSpace::Tfidf,
    }
}

/// Every term's contribution to a row's similarity to each centroid.
struct Decomposer<'a> {
    cols: Vec<u32>,
    /// Per kept term (column), per centroid: `c_t` (TF-IDF space) or `(V c)_t` (LSA).
    per_term: Array2<f64>,
    /// LSA: `V` in single precision, as the embedding reads it (row-major, columns × dims).
    basis: Option<(Vec<f32>, usize)>,
    m: &'a SparseRows,
}

impl<'a> Decomposer<'a> {
    fn new(
        m: &'a SparseRows,
        cols: Vec<u32>,
        centroids: &Array2<f64>,
        components: Option<&Array2<f64>>,
    ) -> Self {
        match components {
            None => Decomposer {
                cols,
                per_term: centroids.t().to_owned(),
                basis: None,
                m,
            },
            Some(v) => {
                let single: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                let v64 =
                    Array2::from_shape_vec(v.raw_dim(), single.iter().map(|&x| x as f64).collect())
                        .expect("same shape");
                Decomposer {
                    cols,
                    per_term: v64.dot(&centroids.t()),
                    basis: Some((single, v.ncols())),
                    m,
                }
            }
        }
    }

    /// What every contribution of row `r` is divided by: `‖x V‖` in LSA space (the row's
    /// embedding before it was normalised), 1 in TF-IDF space (the row has unit length).
    fn scale(&self, r: usize) -> f64 {
        let Some((v, l)) = &self.basis else {
            return 1.0;
        };
        let (ids, w) = self.m.row(r);
        let mut e = vec![0.0f64; *l];
        for (&t, &x) in ids.iter().zip(w) {
            let c = self.cols[t as usize] as usize;
            for (o, &y) in e.iter_mut().zip(&v[c * l..(c + 1) * l]) {
                *o += x * y as f64;
            }
        }
        e.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// Row `r`'s terms with their weights and contributions to centroid `k`, in term order.
    fn contributions(&self, r: usize, k: usize, scale: f64) -> Vec<(u32, f64, f64)> {
        let (ids, w) = self.m.row(r);
        ids.iter()
            .zip(w)
            .map(|(&t, &x)| {
                let c = self.cols[t as usize] as usize;
                (t, x, x * self.per_term[[c, k]] / scale)
            })
            .collect()
    }
}

/// The contributions of every term of each row of `m` to its similarity to every centroid
/// (`rows × k` vectors of `(term_id, contribution)`, in term order). What [`explain`] ranks;
/// exposed so tests can check that they sum to the similarities.
pub fn decompose(
    m: &SparseRows,
    vocab: &Vocabulary,
    centroids: &Array2<f64>,
    components: Option<&Array2<f64>>,
) -> Vec<Vec<Vec<(u32, f64)>>> {
    let d = Decomposer::new(m, vocab.columns().0, centroids, components);
    (0..m.n_rows())
        .map(|r| {
            let scale = d.scale(r);
            (0..centroids.nrows())
                .map(|k| {
                    if scale == 0.0 {
                        return vec![];
                    }
                    d.contributions(r, k, scale)
                        .into_iter()
                        .map(|(t, _, c)| (t, c))
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// The top `top` contributing terms of every row to its nearest centroid and to the
/// runner-up. `x` holds the rows embedded as the clustering placed them (at positions
/// `rows` of `m`, see [`super::embed`]), `centroids` one row per cluster in that space and
/// `components` the LSA basis when there is one. Rows with no positive similarity get no
/// explanation; terms that contribute exactly 0 are not listed; ties go to the lower term id.
/// Row by row (in parallel), so the result does not depend on the number of threads.
pub fn explain(
    m: &SparseRows,
    vocab: &Vocabulary,
    x: &Array2<f64>,
    rows: &[usize],
    centroids: &Array2<f64>,
    components: Option<&Array2<f64>>,
    top: usize,
) -> Vec<Explanation> {
    explain_columns(m, &vocab.columns().0, x, rows, centroids, components, top)
}

/// [`explain`] with the vocabulary's columns (`cols[term_id]`: the term's column among the
/// kept terms, see `Vocabulary::columns`) in place of the vocabulary: what a shard of rows
/// explains with, given the columns of the whole vocabulary.
pub fn explain_columns(
    m: &SparseRows,
    cols: &[u32],
    x: &Array2<f64>,
    rows: &[usize],
    centroids: &Array2<f64>,
    components: Option<&Array2<f64>>,
    top: usize,
) -> Vec<Explanation> {
    if top == 0 || rows.is_empty() || centroids.nrows() == 0 {
        return vec![];
    }
    let d = Decomposer::new(m, cols.to_vec(), centroids, components);
    let sims = x.dot(&centroids.t()); // the similarities `assign` placed the rows by
    rows.par_iter()
        .enumerate()
        .flat_map_iter(|(i, &r)| {
            let s = sims.row(i).to_vec();
            let mut out = vec![];
            let Some((near, second)) = two_nearest(&s) else {
                return out;
            };
            let scale = d.scale(r);
            if scale == 0.0 {
                return out;
            }
            for (role, k) in [(Role::Nearest, Some(near)), (Role::RunnerUp, second)] {
                let Some(k) = k else { continue };
                let mut terms = d.contributions(r, k, scale);
                terms.retain(|t| t.2 != 0.0);
                terms.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
                out.extend(terms.iter().take(top).enumerate().map(
                    |(rank, &(term_id, weight, contribution))| Explanation {
                        passage_id: m.row_ids[r],
                        role,
                        cluster: k as u32,
                        similarity: s[k],
                        rank: rank as u32 + 1,
                        term_id,
                        weight,
                        contribution,
                    },
                ));
            }
            out
        })
        .collect()
}
