//! LSA: truncated SVD of the sparse TF-IDF matrix by randomized range finding (Halko,
//! Martinsson & Tropp 2011, as scikit-learn's `TruncatedSVD(algorithm="randomized")`), with
//! no dense passages × vocabulary matrix at any point.
//!
//! With `X ≈ U Σ Vᵀ`, passages are embedded as the rows of `U Σ = X V` (re-normalised to unit
//! length), and any term-space vector `c` (a theme's seed vector) as `c V`.
//!
//! Deterministic: the random test matrix comes from the seed, and every product is computed
//! row by row (parallel over rows, never summing across threads).

use crate::error::{Error, Result};
use crate::vectorize::Tfidf;
use linfa_linalg::eigh::Eigh;
use ndarray::{Array1, Array2, Axis};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

/// Extra random directions beyond the requested dimensions.
const OVERSAMPLE: usize = 10;
/// Power iterations (scikit-learn's TruncatedSVD default is 5).
const POWER_ITERATIONS: usize = 5;

/// A sparse matrix over dense columns `0..n_cols` (CSR), borrowed from a [`Tfidf`] with its
/// kept terms renumbered.
pub struct Csr<'a> {
    pub m: &'a Tfidf,
    /// Column of each term id (`u32::MAX` for terms not in the matrix).
    pub cols: &'a [u32],
    pub n_cols: usize,
}

impl Csr<'_> {
    /// `X · D` for a dense `n_cols × l` matrix `D`, given row-major (see [`Factor`]).
    fn mul<T: Copy + Into<f64> + Sync>(&self, d: &[T], l: usize) -> Array2<f64> {
        let mut out = vec![0.0; self.m.n_rows() * l];
        out.par_chunks_mut(l).enumerate().for_each(|(r, row)| {
            let (ids, w) = self.m.row(r);
            for (&t, &v) in ids.iter().zip(w) {
                let c = self.cols[t as usize] as usize;
                axpy(row, v, &d[c * l..(c + 1) * l]);
            }
        });
        Array2::from_shape_vec((self.m.n_rows(), l), out).expect("shape matches length")
    }

    /// `Xᵀ · D` for a dense `n_rows × l` matrix `D`, given row-major, via the transpose (CSC)
    /// so that each output row is summed by one thread in a fixed order.
    fn mul_t<T: Copy + Into<f64> + Sync>(&self, d: &[T], l: usize, csc: &Csc) -> Array2<f64> {
        let mut out = vec![0.0; self.n_cols * l];
        out.par_chunks_mut(l).enumerate().for_each(|(c, row)| {
            for i in csc.indptr[c]..csc.indptr[c + 1] {
                let r = csc.rows[i] as usize;
                axpy(row, csc.values[i], &d[r * l..(r + 1) * l]);
            }
        });
        Array2::from_shape_vec((self.n_cols, l), out).expect("shape matches length")
    }
}

/// `y += a · x` over equal-length slices (a loop the compiler vectorises); sums in double
/// precision whatever `x` is stored in.
#[inline]
fn axpy<T: Copy + Into<f64>>(y: &mut [f64], a: f64, x: &[T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x.into();
    }
}

/// A dense factor as the sparse products read it: each nonzero of `X` gathers one of its
/// rows, and these gathers bound the products. Inside the power iterations only the span of
/// the factors matters, so they are read in single precision (half the memory traffic); the
/// last products, which give the basis and the singular vectors, read double precision.
fn single(d: &Array2<f64>) -> Vec<f32> {
    d.iter().map(|&v| v as f32).collect()
}

/// The row-major values of `d` in double precision (see [`single`]).
fn double(d: &Array2<f64>) -> std::borrow::Cow<'_, [f64]> {
    match d.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(d.iter().copied().collect()),
    }
}

/// Column-major copy of the matrix.
struct Csc {
    indptr: Vec<usize>,
    rows: Vec<u32>,
    values: Vec<f64>,
}

fn transpose(x: &Csr) -> Csc {
    let mut indptr = vec![0usize; x.n_cols + 1];
    for &t in &x.m.term_ids {
        indptr[x.cols[t as usize] as usize + 1] += 1;
    }
    for c in 0..x.n_cols {
        indptr[c + 1] += indptr[c];
    }
    let mut next = indptr.clone();
    let mut rows = vec![0u32; x.m.nnz()];
    let mut values = vec![0f64; x.m.nnz()];
    for r in 0..x.m.n_rows() {
        let (ids, w) = x.m.row(r);
        for (&t, &v) in ids.iter().zip(w) {
            let c = x.cols[t as usize] as usize;
            rows[next[c]] = r as u32;
            values[next[c]] = v;
            next[c] += 1;
        }
    }
    Csc {
        indptr,
        rows,
        values,
    }
}

/// Standard normal samples from a seeded generator (Box–Muller).
fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut uniform = || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let mut data = Vec::with_capacity(rows * cols);
    while data.len() < rows * cols {
        let (u1, u2) = (uniform(), uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let th = 2.0 * std::f64::consts::PI * u2;
        data.push(r * th.cos());
        data.push(r * th.sin());
    }
    data.truncate(rows * cols);
    Array2::from_shape_vec((rows, cols), data).expect("shape matches length")
}

/// A basis of the column space of the tall matrix `a` (`n × l`, `l` small), by CholeskyQR
/// with an eigendecomposition in place of the Cholesky factor: each pass, the Gram matrix
/// `AᵀA = V Λ Vᵀ` (one `l × l` product, a matrix multiplication) gives `A ← A V Λ^{-1/2}`.
/// One pass leaves an orthogonality error of the order of cond(A)² · ε; two passes
/// (CholeskyQR2) restore orthonormality to working precision. Directions with a numerically zero eigenvalue
/// become zero columns: they span nothing, and the range finder needs no more than the span.
/// Householder QR of the same matrix is a sequence of `l` rank-one updates of the whole
/// matrix, and was most of the LSA time.
fn orthonormal(mut q: Array2<f64>, passes: usize) -> Result<Array2<f64>> {
    for _ in 0..passes {
        let (vals, mut vecs) = gram(&q)
            .eigh()
            .map_err(|e| Error::Data(format!("LSA: eigendecomposition failed: {e}")))?;
        let top = vals.iter().copied().fold(0.0_f64, f64::max);
        for (j, mut col) in vecs.axis_iter_mut(Axis(1)).enumerate() {
            let v = vals[j];
            col *= if top > 0.0 && v > top * 1e-12 {
                1.0 / v.sqrt()
            } else {
                0.0
            };
        }
        mul_in_place(&mut q, &vecs);
    }
    Ok(q)
}

/// Rows per block of the blocked dense products: a function of the row count only, so that
/// sums never depend on the number of threads; at most 64 blocks.
fn row_block(n: usize) -> usize {
    n.div_ceil(64).max(1024)
}

/// `AᵀA`, summed over fixed blocks of rows in parallel, then the blocks' sums in order.
fn gram(a: &Array2<f64>) -> Array2<f64> {
    let l = a.ncols();
    let parts: Vec<Array2<f64>> = a
        .axis_chunks_iter(Axis(0), row_block(a.nrows()))
        .into_par_iter()
        .map(|b| b.t().dot(&b))
        .collect();
    parts
        .into_iter()
        .fold(Array2::zeros((l, l)), |acc, p| acc + p)
}

/// `A ← A V` for a square `V`, block of rows by block of rows (in parallel): no second
/// `n × l` matrix.
fn mul_in_place(a: &mut Array2<f64>, v: &Array2<f64>) {
    let b = row_block(a.nrows());
    a.axis_chunks_iter_mut(Axis(0), b)
        .into_par_iter()
        .for_each(|mut rows| {
            let r = rows.dot(v);
            rows.assign(&r);
        });
}

/// A fitted LSA model.
#[derive(Debug, Clone)]
pub struct Lsa {
    /// `n_cols × dims`: the right singular vectors, `V`.
    pub components: Array2<f64>,
    pub singular_values: Array1<f64>,
    /// Passage embeddings `X V`, rows normalised to unit length (zero rows stay zero).
    pub embedding: Array2<f64>,
}

/// The number of dimensions LSA can have for this matrix.
pub fn max_dims(n_rows: usize, n_cols: usize) -> usize {
    n_rows.min(n_cols).saturating_sub(1).max(1)
}

/// Fit a rank-`dims` LSA of `x`.
pub fn fit(x: &Csr, dims: usize, seed: u64) -> Result<Lsa> {
    let n = x.m.n_rows();
    let dims = dims.min(max_dims(n, x.n_cols));
    let l = (dims + OVERSAMPLE).min(n).min(x.n_cols);
    let csc = transpose(x);
    let omega = gaussian(x.n_cols, l, seed);
    // Between power iterations one CholeskyQR pass is enough: the next product only needs the
    // span, well conditioned (scikit-learn uses an LU factor there). The final basis gets two.
    let mut y = x.mul(&single(&omega), l);
    drop(omega);
    for i in 0..POWER_ITERATIONS {
        let q = orthonormal(y, 1)?;
        let z = orthonormal(x.mul_t(&single(&q), l, &csc), 1)?;
        y = if i + 1 < POWER_ITERATIONS {
            x.mul(&single(&z), l)
        } else {
            x.mul(&double(&z), l)
        };
    }
    let q = orthonormal(y, 2)?; // n × l
    let bt = x.mul_t(&double(&q), l, &csc); // n_cols × l  (= Bᵀ, B = Qᵀ X)
    drop(csc);
    let bbt = bt.t().dot(&bt); // l × l = B Bᵀ
    let (vals, vecs) = bbt
        .eigh()
        .map_err(|e| Error::Data(format!("LSA: eigendecomposition failed: {e}")))?;
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]).then(a.cmp(&b)));
    let order = &order[..dims];
    let sigma: Array1<f64> = order.iter().map(|&i| vals[i].max(0.0).sqrt()).collect();
    let w = vecs.select(Axis(1), order); // l × dims
                                         // V = Bᵀ W Σ⁻¹ ; X V = Q W Σ
                                         // Directions with a numerically zero singular value carry no signal: they are zeroed in
                                         // both maps (dividing by them would only amplify rounding noise).
    let floor = sigma.first().copied().unwrap_or(0.0) * 1e-9;
    let mut w = w;
    let mut components = bt.dot(&w);
    for (j, mut col) in components.axis_iter_mut(Axis(1)).enumerate() {
        if sigma[j] > floor {
            col /= sigma[j];
        } else {
            col.fill(0.0);
        }
        // A singular vector's sign is arbitrary: as scikit-learn's `svd_flip`, make its
        // largest entry (by magnitude, the first of equals) positive, so that embeddings do
        // not flip when the arithmetic before them changes.
        let big = col
            .iter()
            .copied()
            .fold(0.0_f64, |m, v| if v.abs() > m.abs() { v } else { m });
        if big < 0.0 {
            col *= -1.0;
            w.column_mut(j).mapv_inplace(|v| -v);
        }
    }
    let mut embedding = q.dot(&w);
    for (j, mut col) in embedding.axis_iter_mut(Axis(1)).enumerate() {
        col *= if sigma[j] > floor { sigma[j] } else { 0.0 };
    }
    normalize_rows(&mut embedding);
    Ok(Lsa {
        components,
        singular_values: sigma,
        embedding,
    })
}

impl Lsa {
    /// Project term-space rows (`k × n_cols`) into the LSA space, normalised.
    pub fn project(&self, rows: &Array2<f64>) -> Array2<f64> {
        let mut p = rows.dot(&self.components);
        normalize_rows(&mut p);
        p
    }
}

/// Scale every row to unit L2 length; zero rows stay zero.
pub fn normalize_rows(a: &mut Array2<f64>) {
    for mut row in a.rows_mut() {
        let n = row.dot(&row).sqrt();
        if n > 0.0 {
            row /= n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix with two clear blocks of terms, plus noise.
    /// An LSA of [`blocks`] (all 23 columns).
    fn fit_blocks(m: &Tfidf, dims: usize, seed: u64) -> Lsa {
        let cols: Vec<u32> = (0..23).collect();
        let x = Csr {
            m,
            cols: &cols,
            n_cols: 23,
        };
        fit(&x, dims, seed).unwrap()
    }

    fn blocks() -> Tfidf {
        let mut m = Tfidf::default();
        m.indptr.push(0);
        for r in 0..40u32 {
            let base = if r % 2 == 0 { 0 } else { 10 };
            let mut ids: Vec<u32> = (0..4).map(|j| base + (r + j) % 10).collect();
            ids.push(20 + r % 3);
            ids.sort();
            ids.dedup();
            let w = 1.0 / (ids.len() as f64).sqrt();
            for &t in &ids {
                m.term_ids.push(t);
                m.counts.push(1);
                m.weights.push(w);
            }
            m.row_ids.push(r);
            m.indptr.push(m.term_ids.len());
        }
        m
    }

    fn dense(m: &Tfidf, n_cols: usize) -> Array2<f64> {
        let mut d = Array2::zeros((m.n_rows(), n_cols));
        for r in 0..m.n_rows() {
            let (ids, w) = m.row(r);
            for (&t, &v) in ids.iter().zip(w) {
                d[[r, t as usize]] = v;
            }
        }
        d
    }

    #[test]
    fn full_rank_lsa_preserves_cosines() {
        let m = blocks();
        let lsa = fit_blocks(&m, 22, 1);
        let d = dense(&m, 23);
        // rank of the matrix is below 22: the embedding keeps every cosine
        let g = d.dot(&d.t());
        let e = lsa.embedding.dot(&lsa.embedding.t());
        for i in 0..40 {
            for j in 0..40 {
                assert!(
                    (g[[i, j]] - e[[i, j]]).abs() < 1e-8,
                    "{i},{j}: {} vs {}",
                    g[[i, j]],
                    e[[i, j]]
                );
            }
        }
        // singular values are sorted and match the top eigenvalues of XᵀX
        assert!(lsa
            .singular_values
            .windows(2)
            .into_iter()
            .all(|w| w[0] >= w[1]));
        // projecting the rows themselves gives the embedding
        let p = lsa.project(&d);
        for (a, b) in p.iter().zip(lsa.embedding.iter()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn two_dimensions_separate_the_blocks() {
        let lsa = fit_blocks(&blocks(), 2, 3);
        let e = &lsa.embedding;
        let same = e.row(0).dot(&e.row(2));
        let other = e.row(0).dot(&e.row(1));
        assert!(same > other + 0.3, "same {same}, other {other}");
    }

    #[test]
    fn each_component_has_a_positive_largest_entry() {
        let m = blocks();
        let fits: Vec<Lsa> = (0..4).map(|seed| fit_blocks(&m, 2, seed)).collect();
        for lsa in &fits {
            for col in lsa.components.columns() {
                let big = col
                    .iter()
                    .fold(0.0_f64, |m, &v| if v.abs() > m.abs() { v } else { m });
                assert!(big > 0.0, "largest entry {big}");
            }
        }
    }

    #[test]
    fn deterministic_across_thread_counts() {
        let m = blocks();
        let cols: Vec<u32> = (0..23).collect();
        let x = Csr {
            m: &m,
            cols: &cols,
            n_cols: 23,
        };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| fit(&x, 5, 9).unwrap());
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let b = two.install(|| fit(&x, 5, 9).unwrap());
        assert_eq!(a.embedding, b.embedding);
        assert_eq!(a.components, b.components);
    }

    #[test]
    fn gaussian_samples_look_standard() {
        let g = gaussian(200, 50, 5);
        let mean = g.mean().unwrap();
        let var = g.mapv(|v| (v - mean) * (v - mean)).mean().unwrap();
        assert!(
            mean.abs() < 0.05 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
        assert_eq!(gaussian(3, 3, 5), gaussian(3, 3, 5));
    }
}
