//! LSA: truncated SVD of the sparse TF-IDF matrix by randomized range finding (Halko,
//! Martinsson & Tropp 2011, as scikit-learn's `TruncatedSVD(algorithm="randomized")`), with
//! no dense passages × vocabulary matrix at any point.
//!
//! With `X ≈ U Σ Vᵀ`, passages are embedded as the rows of `U Σ = X V` (re-normalised to unit
//! length), and any term-space vector `c` (a theme's seed vector) as `c V`.
//!
//! The algorithm needs only products of `X` with thin dense matrices and Gram matrices of
//! tall ones. `X·D` is computed row by row, so a slice of rows gives its own rows of the
//! product; `Xᵀ·D` ([`TransposeProduct`]) and `AᵀA` ([`Gram`]) are sums over rows, each with
//! `partial` (over a slice of rows), `merge` (in a fixed order) and `finish`: the state a
//! shard of the corpus contributes. This single-machine code computes `Xᵀ·D` as one partial
//! over all rows (a scatter of the rows of `D` in row order, each output row summed by one
//! thread) and Gram matrices as partials over fixed blocks of rows merged in block order, so
//! results never depend on the number of threads.
//!
//! Deterministic: the random test matrix comes from the seed, and every sum runs in a fixed
//! order.

use super::rows::{normalize_rows, row_block};
use crate::model::SparseRows;
use linfa_linalg::eigh::Eigh;
use multiversion::multiversion;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

/// The LSA could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("LSA: eigendecomposition failed: {0}")]
pub struct LsaError(String);

/// Extra random directions beyond the requested dimensions.
pub const OVERSAMPLE: usize = 10;
/// Power iterations (scikit-learn's TruncatedSVD default is 5).
pub const POWER_ITERATIONS: usize = 5;

/// The sparse matrix with its kept columns renumbered `0..n_cols`.
struct Input<'a> {
    m: &'a SparseRows,
    /// Column of each term id (`u32::MAX` for terms not in the matrix).
    cols: &'a [u32],
}

impl Input<'_> {
    /// `X · D` for a dense `n_cols × l` matrix `D`, given row-major in single precision (see
    /// [`single`]), summed in the precision of `A`: each row of the product from its own row
    /// of `X`, row-major.
    fn product<A: Accumulator>(&self, d: &[f32], l: usize) -> Vec<A> {
        let mut out = vec![A::default(); self.m.n_rows() * l];
        out.par_chunks_mut(l).enumerate().for_each(|(r, row)| {
            let (ids, w) = self.m.row(r);
            gather(row, ids, w, self.cols, d);
        });
        out
    }

    /// `X · D` summed in single precision, in single precision (as the next product reads it).
    fn mul_single(&self, d: &[f32], l: usize) -> Vec<f32> {
        self.product(d, l)
    }

    /// `X · D` summed in double precision (`D` in single precision, see [`single`]).
    fn mul(&self, d: &[f32], l: usize) -> Array2<f64> {
        Array2::from_shape_vec((self.m.n_rows(), l), self.product(d, l))
            .expect("shape matches length")
    }
}

impl Input<'_> {
    /// The normalised rows of `X · V` for the components `V` (`n_cols × dims`).
    fn embed(&self, components: &Array2<f64>) -> Array2<f64> {
        let mut e = self.mul(&single(components), components.ncols());
        normalize_rows(&mut e);
        e
    }
}

/// The LSA embedding of the rows of `m` (columns renumbered by `cols`, as for [`fit`]) with a
/// fitted basis `components` (`n_cols × dims`): each row's `x V`, normalised to unit length
/// (zero rows stay zero). Row by row, so a row's embedding does not depend on the others:
/// [`fit`]'s own embedding is this of its rows, bit for bit.
pub fn transform(m: &SparseRows, cols: &[u32], components: &Array2<f64>) -> Array2<f64> {
    Input { m, cols }.embed(components)
}

/// `X · D` for the rows of `m` (columns renumbered by `cols`, as for [`fit`]) and a dense
/// `n_cols × l` matrix `D` given row-major in single precision ([`single`]): each row of the
/// product from its own row of `X`, so a slice of rows gives its own rows of the product.
/// `single_sums`: summed in single precision (inside the power iterations), else in double.
pub fn product(
    m: &SparseRows,
    cols: &[u32],
    d: &[f32],
    l: usize,
    single_sums: bool,
) -> Array2<f64> {
    let x = Input { m, cols };
    if single_sums {
        widen(x.mul_single(d, l), m.n_rows(), l)
    } else {
        x.mul(d, l)
    }
}

/// The dimensions and the width of the range finder (dimensions + [`OVERSAMPLE`], at most
/// the matrix's sides) of a rank-`dims` LSA of an `n × n_cols` matrix.
pub fn widths(n: usize, n_cols: usize, dims: usize) -> (usize, usize) {
    let dims = dims.min(max_dims(n, n_cols));
    (dims, (dims + OVERSAMPLE).min(n).min(n_cols))
}

/// `Xᵀ·D` for the sparse `X` and a dense `n_rows × l` matrix `D`: a sum over the rows of
/// `X`, so a slice of rows gives a partial product and partials add up.
#[derive(Debug, Clone, PartialEq)]
pub struct TransposeProduct(Array2<f64>);

impl TransposeProduct {
    /// The product of a slice of rows `m` (columns renumbered by `cols`, as for [`fit`]; empty:
    /// the ids are the columns) with the slice's rows of `D` (row-major, `l` wide, single
    /// precision: see [`single`]). `single_sums`: summed in single precision (inside the
    /// power iterations, where only the span matters), else in double.
    ///
    /// The rows are read in order and each entry adds its row of `D`, scaled by its value, to
    /// the output row of its column (a scatter): `D` is read once, front to back, however
    /// large it is, and no transpose of `X` is built. Each thread owns a range of output rows
    /// (columns of `X`, balanced by their entries) and walks all rows of `X` for the entries
    /// in its range, so every output row is summed by one thread in row order: the same sums,
    /// bit for bit, at any thread count (and as a gather per column in row order would give).
    pub fn partial(
        m: &SparseRows,
        cols: &[u32],
        n_cols: usize,
        d: &[f32],
        l: usize,
        single_sums: bool,
    ) -> Self {
        let mut out = vec![0.0; n_cols * l];
        if l > 0 && n_cols > 0 {
            // the ranges are consecutive and cover every column: one slab of `out` each
            let mut slabs: Vec<((usize, usize), &mut [f64])> = vec![];
            let mut rest = out.as_mut_slice();
            for range in column_ranges(m, cols, n_cols, rayon::current_num_threads()) {
                let (slab, tail) = rest.split_at_mut((range.1 - range.0) * l);
                slabs.push((range, slab));
                rest = tail;
            }
            slabs.into_par_iter().for_each(|(range, slab)| {
                if single_sums {
                    let mut acc = vec![0f32; slab.len()];
                    scatter_rows(&mut acc, range, m, cols, d, l);
                    for (o, &a) in slab.iter_mut().zip(&acc) {
                        *o = a as f64;
                    }
                } else {
                    scatter_rows(slab, range, m, cols, d, l);
                }
            });
        }
        TransposeProduct(Array2::from_shape_vec((n_cols, l), out).expect("shape matches length"))
    }

    /// The sum of two partial products (of disjoint slices of rows; merge in row order).
    pub fn merge(self, other: TransposeProduct) -> TransposeProduct {
        TransposeProduct(self.0 + other.0)
    }

    /// The product, `n_cols × l`.
    pub fn finish(self) -> Array2<f64> {
        self.0
    }
}

/// `AᵀA` of a tall dense matrix `A`: a sum over blocks of its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Gram(Array2<f64>);

impl Gram {
    /// The empty sum, `l × l` zeros.
    pub fn zero(l: usize) -> Gram {
        Gram(Array2::zeros((l, l)))
    }

    /// The Gram matrix of a block of rows.
    pub fn partial(rows: ArrayView2<f64>) -> Gram {
        Gram(rows.t().dot(&rows))
    }

    /// The sum of two partial Gram matrices (merge in row order).
    pub fn merge(self, other: Gram) -> Gram {
        Gram(self.0 + other.0)
    }

    /// The Gram matrix.
    pub fn finish(self) -> Array2<f64> {
        self.0
    }
}

/// The row of `D` that term `t` gathers: `cols[t]`, or `t` itself when `cols` is empty.
#[inline(always)]
fn column(cols: &[u32], t: u32) -> usize {
    if cols.is_empty() {
        t as usize
    } else {
        cols[t as usize] as usize
    }
}

/// A running sum of the products `v · x` of a matrix value `v` and an entry `x` of a factor
/// read in single precision: in single precision (`f32`: `v` narrowed first) or in double
/// (`f64`). The products call no fused multiply-add, so every CPU gives the same sums.
trait Accumulator: Copy + Default + Send + Sync {
    /// A matrix value as this sum multiplies it.
    type Scale: Copy;
    fn scale(v: f64) -> Self::Scale;
    fn add_product(&mut self, a: Self::Scale, x: f32);
}

impl Accumulator for f32 {
    type Scale = f32;
    #[inline(always)]
    fn scale(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn add_product(&mut self, a: f32, x: f32) {
        *self += a * x;
    }
}

impl Accumulator for f64 {
    type Scale = f64;
    #[inline(always)]
    fn scale(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn add_product(&mut self, a: f64, x: f32) {
        *self += a * x as f64;
    }
}

/// `out += Σ w[i] · D[row of idx[i]]`: the rows of the row-major `D` (`out.len()` wide) that
/// a sparse row's entries gather, each scaled by its value. `cols` renumbers `idx` (empty:
/// `idx` are rows of `D` already). Summed in the precision of `A` (inside the power
/// iterations single: only the span matters; else double, `D` still read in single precision:
/// the gathers, not the sums, bound the products), in AVX registers where the CPU has them.
#[multiversion(targets("x86_64+avx2", "x86_64+avx"))]
fn gather<A: Accumulator>(out: &mut [A], idx: &[u32], w: &[f64], cols: &[u32], d: &[f32]) {
    let l = out.len();
    for (&t, &v) in idx.iter().zip(w) {
        let c = column(cols, t);
        let a = A::scale(v);
        for (o, &x) in out.iter_mut().zip(&d[c * l..(c + 1) * l]) {
            o.add_product(a, x);
        }
    }
}

/// Up to `parts` consecutive ranges of columns `lo..hi` covering `0..n_cols`, each with
/// about as many entries of `m` as the others (an empty range is left out).
fn column_ranges(m: &SparseRows, cols: &[u32], n_cols: usize, parts: usize) -> Vec<(usize, usize)> {
    let mut per_col = vec![0usize; n_cols];
    let mut total = 0;
    for r in 0..m.n_rows() {
        for &t in m.row(r).0 {
            let c = column(cols, t);
            if c < n_cols {
                per_col[c] += 1;
                total += 1;
            }
        }
    }
    let parts = if total == 0 { 1 } else { parts.max(1) };
    let mut ranges = Vec::with_capacity(parts);
    let (mut lo, mut seen) = (0, 0);
    for (c, &n) in per_col.iter().enumerate() {
        seen += n;
        // close the range once it holds its share of the entries
        if seen * parts >= total * (ranges.len() + 1) && ranges.len() + 1 < parts {
            ranges.push((lo, c + 1));
            lo = c + 1;
        }
    }
    ranges.push((lo, n_cols));
    ranges.retain(|&(a, b)| b > a);
    ranges
}

/// `out[c - lo] += w[i] · row` for each entry `(idx[i], w[i])` of a sparse row whose column
/// `c` (`idx[i]` renumbered by `cols`, see [`column`]) is in `lo..hi`: the scatter of one row
/// of `D` (`row`, `l` wide) into the output rows `lo..hi` (`out`, row-major), with the
/// operations of [`gather`] in the precision of `A`, in AVX registers where the CPU has them.
#[multiversion(targets("x86_64+avx2", "x86_64+avx"))]
fn scatter<A: Accumulator>(
    out: &mut [A],
    (lo, hi): (usize, usize),
    idx: &[u32],
    w: &[f64],
    cols: &[u32],
    row: &[f32],
) {
    let l = row.len();
    for (&t, &v) in idx.iter().zip(w) {
        let c = column(cols, t);
        if c >= lo && c < hi {
            let a = A::scale(v);
            let o = &mut out[(c - lo) * l..(c - lo + 1) * l];
            for (o, &x) in o.iter_mut().zip(row) {
                o.add_product(a, x);
            }
        }
    }
}

/// [`scatter`] of every row of `m` (with its row of `D`, `l` wide), in row order, into the
/// output rows `range` (`out`).
fn scatter_rows<A: Accumulator>(
    out: &mut [A],
    range: (usize, usize),
    m: &SparseRows,
    cols: &[u32],
    d: &[f32],
    l: usize,
) {
    for r in 0..m.n_rows() {
        let (ids, w) = m.row(r);
        scatter(out, range, ids, w, cols, &d[r * l..(r + 1) * l]);
    }
}

/// A dense factor as the sparse products read it: each nonzero of `X` gathers one of its
/// rows, and these gathers bound the products, so factors are read in single precision (half
/// the memory traffic). Inside the power iterations only the span matters, and the sums run in
/// single precision too; the last products, which give the basis, the singular vectors and
/// the embedding, sum in double precision.
pub fn single(d: &Array2<f64>) -> Vec<f32> {
    d.iter().map(|&v| v as f32).collect()
}

/// A row-major single-precision `rows × l` factor as a double-precision matrix (exactly).
fn widen(d: Vec<f32>, rows: usize, l: usize) -> Array2<f64> {
    Array2::from_shape_vec((rows, l), d.into_iter().map(f64::from).collect())
        .expect("shape matches length")
}

/// Rows per block of [`gaussian`]: each block has its own generator, so the samples do not
/// depend on the number of threads.
const GAUSSIAN_BLOCK: usize = 4096;

/// Standard normal samples (`rows × cols`) from seeded generators, by Marsaglia's polar
/// method (no trigonometry), a block of rows at a time in parallel.
pub fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut data = vec![0.0; rows * cols];
    if cols > 0 {
        data.par_chunks_mut(GAUSSIAN_BLOCK * cols)
            .enumerate()
            .for_each(|(b, out)| {
                let block_seed = seed ^ (b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut rng = Xoshiro256Plus::seed_from_u64(block_seed);
                let mut uniform = || (rng.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0;
                for pair in out.chunks_mut(2) {
                    let (u, v, s) = loop {
                        let (u, v) = (uniform(), uniform());
                        let s = u * u + v * v;
                        if s > 0.0 && s < 1.0 {
                            break (u, v, s);
                        }
                    };
                    let f = (-2.0 * s.ln() / s).sqrt();
                    pair[0] = u * f;
                    if let Some(x) = pair.get_mut(1) {
                        *x = v * f;
                    }
                }
            });
    }
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
pub fn orthonormal(mut q: Array2<f64>, passes: usize) -> Result<Array2<f64>, LsaError> {
    for _ in 0..passes {
        let f = orthonormal_factor(gram(&q))?;
        mul_in_place(&mut q, &f);
    }
    Ok(q)
}

/// One pass of [`orthonormal`] as a factor: for the Gram matrix `AᵀA = V Λ Vᵀ` of a tall
/// `A` (`l × l`), `V Λ^{-1/2}` (directions with a numerically zero eigenvalue zeroed), so
/// that `A V Λ^{-1/2}` has orthonormal columns. A distributed `A` sums its Gram matrix over
/// row blocks ([`Gram`]) and multiplies each block by the factor.
pub fn orthonormal_factor(gram: Array2<f64>) -> Result<Array2<f64>, LsaError> {
    let (vals, mut vecs) = gram.eigh().map_err(|e| LsaError(e.to_string()))?;
    let top = vals.iter().copied().fold(0.0_f64, f64::max);
    for (j, mut col) in vecs.axis_iter_mut(Axis(1)).enumerate() {
        let v = vals[j];
        col *= if top > 0.0 && v > top * 1e-12 {
            1.0 / v.sqrt()
        } else {
            0.0
        };
    }
    Ok(vecs)
}

/// `AᵀA`, as partials over fixed blocks of rows (in parallel), merged in block order.
fn gram(a: &Array2<f64>) -> Array2<f64> {
    let parts: Vec<Gram> = a
        .axis_chunks_iter(Axis(0), row_block(a.nrows()))
        .into_par_iter()
        .map(Gram::partial)
        .collect();
    parts
        .into_iter()
        .fold(Gram::zero(a.ncols()), Gram::merge)
        .finish()
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
    /// The singular values, largest first.
    pub singular_values: Array1<f64>,
    /// Passage embeddings `X V`, rows normalised to unit length (zero rows stay zero).
    pub embedding: Array2<f64>,
}

/// The number of dimensions LSA can have for this matrix.
pub fn max_dims(n_rows: usize, n_cols: usize) -> usize {
    n_rows.min(n_cols).saturating_sub(1).max(1)
}

/// Fit a rank-`dims` LSA of the rows of `m`, whose columns are renumbered by `cols` (the
/// column of each term id; every term of `m` must have one) into `0..n_cols`.
pub fn fit(
    m: &SparseRows,
    cols: &[u32],
    n_cols: usize,
    dims: usize,
    seed: u64,
) -> Result<Lsa, LsaError> {
    fit_from(m, cols, n_cols, dims, seed, None)
}

/// Power iterations when the range finder starts from a previous basis ([`fit_from`]).
const WARM_POWER_ITERATIONS: usize = 0;

/// [`fit`], with the range finder starting from `start` (`n_cols × d`: a previous fit's
/// basis over these columns, e.g. before documents were added) instead of random directions
/// alone: its columns replace the first `d` Gaussian ones, and one power iteration instead
/// of five refines them. The singular vectors are those of this matrix; the start only
/// saves passes over it.
pub fn fit_from(
    m: &SparseRows,
    cols: &[u32],
    n_cols: usize,
    dims: usize,
    seed: u64,
    start: Option<&Array2<f64>>,
) -> Result<Lsa, LsaError> {
    let x = Input { m, cols };
    let n = m.n_rows();
    let (dims, l) = widths(n, n_cols, dims);
    let mut omega = gaussian(n_cols, l, seed);
    let mut iterations = POWER_ITERATIONS;
    if let Some(v) = start.filter(|v| v.nrows() == n_cols && v.ncols() > 0) {
        let d = v.ncols().min(l);
        omega
            .slice_mut(ndarray::s![.., ..d])
            .assign(&v.slice(ndarray::s![.., ..d]));
        iterations = WARM_POWER_ITERATIONS;
    }
    // Between power iterations only the span matters: one CholeskyQR pass of the smaller of
    // the two factors (n × l or n_cols × l) keeps it well conditioned (scikit-learn uses an
    // LU factor on both sides); the larger one goes unnormalised into the next product. The
    // final basis gets two passes.
    let rows_smaller = n <= n_cols;
    // inside the iterations the n × l factor stays in single precision, as the products read
    // it (the last product sums in double precision)
    let mut y = x.mul_single(&single(&omega), l);
    drop(omega);
    let mut last = None;
    for i in 0..iterations {
        let q = if rows_smaller {
            single(&orthonormal(widen(y, n, l), 1)?)
        } else {
            y
        };
        let z = TransposeProduct::partial(m, cols, n_cols, &q, l, true).finish();
        drop(q);
        let z = if rows_smaller { z } else { orthonormal(z, 1)? };
        if i + 1 < iterations {
            y = x.mul_single(&single(&z), l);
        } else {
            last = Some(x.mul(&single(&z), l));
            y = vec![];
        }
    }
    let y = match last {
        Some(y) => y,
        None => widen(y, n, l),
    };
    // Q (n × l), read in single precision; then Bᵀ = Xᵀ Q (n_cols × l, B = Qᵀ X)
    let q = single(&orthonormal(y, 2)?);
    let bt = TransposeProduct::partial(m, cols, n_cols, &q, l, false).finish();
    drop(q);
    let (components, sigma) = basis(bt, dims)?;
    // The passages are embedded as `X V` — what new rows get from [`transform`] — rather than
    // `Q W Σ` (= `U Σ`, which equals `X V` only when the range of `Q` holds every row): so a
    // fitted model applied to its own corpus gives the very same embedding (scikit-learn's
    // `fit_transform` returns `U Σ` and its `transform` `X V`, which differ).
    let embedding = x.embed(&components);
    Ok(Lsa {
        components,
        singular_values: sigma,
        embedding,
    })
}

/// The basis from `Bᵀ = Xᵀ Q` (`n_cols × l`, `Q` the orthonormal range of `X`): the top
/// `dims` right singular vectors `V` (`n_cols × dims`, each with its largest entry positive)
/// and the singular values, largest first. The last step of [`fit`], on one machine even
/// when the products were summed over shards.
pub fn basis(bt: Array2<f64>, dims: usize) -> Result<(Array2<f64>, Array1<f64>), LsaError> {
    let bbt = bt.t().dot(&bt); // l × l = B Bᵀ
    let (vals, vecs) = bbt.eigh().map_err(|e| LsaError(e.to_string()))?;
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]).then(a.cmp(&b)));
    let order = &order[..dims.min(order.len())];
    let sigma: Array1<f64> = order.iter().map(|&i| vals[i].max(0.0).sqrt()).collect();
    let w = vecs.select(Axis(1), order); // l × dims
                                         // V = Bᵀ W Σ⁻¹. Directions with a numerically zero singular value carry no signal: they
                                         // are zeroed (dividing by them would only amplify rounding noise).
    let floor = sigma.first().copied().unwrap_or(0.0) * 1e-9;
    let mut components = bt.dot(&w);
    drop(bt);
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
        }
    }
    Ok((components, sigma))
}

impl Lsa {
    /// Project term-space rows (`k × n_cols`) into the LSA space, normalised.
    pub fn project(&self, rows: &Array2<f64>) -> Array2<f64> {
        let mut p = rows.dot(&self.components);
        normalize_rows(&mut p);
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix with two clear blocks of terms, plus noise.
    /// An LSA of [`blocks`] (all 23 columns).
    fn fit_blocks(m: &SparseRows, dims: usize, seed: u64) -> Lsa {
        let cols: Vec<u32> = (0..23).collect();
        fit(m, &cols, 23, dims, seed).unwrap()
    }

    fn blocks() -> SparseRows {
        let mut m = SparseRows::empty();
        for r in 0..40u32 {
            let base = if r % 2 == 0 { 0 } else { 10 };
            let mut ids: Vec<u32> = (0..4).map(|j| base + (r + j) % 10).collect();
            ids.push(20 + r % 3);
            ids.sort();
            ids.dedup();
            let w = 1.0 / (ids.len() as f64).sqrt();
            m.push_row(r, &ids, &vec![1; ids.len()], &vec![w; ids.len()]);
        }
        m
    }

    fn dense(m: &SparseRows, n_cols: usize) -> Array2<f64> {
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
        // rank of the matrix is below 22: the embedding keeps every cosine (to single
        // precision: the products read the factors in single precision)
        let g = d.dot(&d.t());
        let e = lsa.embedding.dot(&lsa.embedding.t());
        for i in 0..40 {
            for j in 0..40 {
                assert!(
                    (g[[i, j]] - e[[i, j]]).abs() < 1e-6,
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
    fn transform_of_the_fitted_rows_is_the_embedding_bit_for_bit() {
        let m = blocks();
        let lsa = fit_blocks(&m, 5, 7);
        let cols: Vec<u32> = (0..23).collect();
        assert_eq!(transform(&m, &cols, &lsa.components), lsa.embedding);
        // a slice of rows embeds as the same rows of the whole
        let some = m.select(&[3, 17, 30]);
        let e = transform(&some, &cols, &lsa.components);
        for (i, r) in [3, 17, 30].into_iter().enumerate() {
            assert_eq!(e.row(i), lsa.embedding.row(r));
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
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| fit(&m, &cols, 23, 5, 9).unwrap());
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let b = two.install(|| fit(&m, &cols, 23, 5, 9).unwrap());
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
        // blocks of rows have generators of their own: the same at any thread count, and
        // the blocks' samples are not the same numbers
        let big = gaussian(3 * GAUSSIAN_BLOCK, 2, 8);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| gaussian(3 * GAUSSIAN_BLOCK, 2, 8));
        assert_eq!(big, one);
        assert_ne!(big.row(0).to_vec(), big.row(GAUSSIAN_BLOCK).to_vec());
        let (tail_mean, n) = (big.sum() / big.len() as f64, big.len());
        assert!(tail_mean.abs() < 5.0 / (n as f64).sqrt(), "{tail_mean}");
    }

    #[test]
    fn gram_is_the_sum_of_its_block_partials() {
        let a = gaussian(3000, 7, 3);
        let whole = gram(&a);
        let b = row_block(a.nrows());
        let mut sum = Gram::zero(7);
        for block in a.axis_chunks_iter(Axis(0), b) {
            sum = sum.merge(Gram::partial(block));
        }
        assert_eq!(sum.finish(), whole);
        let direct = a.t().dot(&a);
        for (x, y) in whole.iter().zip(direct.iter()) {
            assert!((x - y).abs() < 1e-9 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    #[test]
    fn transpose_products_of_row_slices_add_up() {
        let m = blocks();
        let cols: Vec<u32> = (0..23).collect();
        let d = gaussian(m.n_rows(), 4, 1).mapv(|v| v as f32);
        let d = d.as_slice().unwrap();
        let whole = TransposeProduct::partial(&m, &cols, 23, d, 4, false).finish();
        // rows 0..15 and 15..40 as two slices, each with its rows of D
        let first = m.select(&(0..15).collect::<Vec<_>>());
        let second = m.select(&(15..40).collect::<Vec<_>>());
        let a = TransposeProduct::partial(&first, &cols, 23, &d[..15 * 4], 4, false);
        let b = TransposeProduct::partial(&second, &cols, 23, &d[15 * 4..], 4, false);
        let merged = a.merge(b).finish();
        for (x, y) in merged.iter().zip(whole.iter()) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    /// `Xᵀ·D` the plain way: per column, its entries' rows of `D` added in row order, in the
    /// precision of the sums.
    fn plain_transpose_product(
        m: &SparseRows,
        cols: &[u32],
        n_cols: usize,
        d: &[f32],
        l: usize,
        single_sums: bool,
    ) -> Array2<f64> {
        let mut out = Array2::<f64>::zeros((n_cols, l));
        for c in 0..n_cols {
            let (mut s32, mut s64) = (vec![0f32; l], vec![0f64; l]);
            for r in 0..m.n_rows() {
                let (ids, w) = m.row(r);
                for (&t, &v) in ids.iter().zip(w) {
                    if column(cols, t) == c {
                        for j in 0..l {
                            s32[j] += v as f32 * d[r * l + j];
                            s64[j] += v * d[r * l + j] as f64;
                        }
                    }
                }
            }
            for j in 0..l {
                out[[c, j]] = if single_sums { s32[j] as f64 } else { s64[j] };
            }
        }
        out
    }

    #[test]
    fn transpose_products_are_the_plain_sums_bit_for_bit_at_any_thread_count() {
        let m = blocks();
        // columns renumbered and two left out (terms 4 and 20 are not in the matrix)
        let cols: Vec<u32> = (0..23u32)
            .map(|t| match t {
                4 | 20 => u32::MAX,
                t if t < 4 => 20 - t,
                t if t < 20 => t - 5 + 1,
                t => t - 21,
            })
            .collect();
        let n_cols = 21;
        let l = 7;
        let d = gaussian(m.n_rows(), l, 5).mapv(|v| v as f32);
        let d = d.as_slice().unwrap();
        for single_sums in [true, false] {
            let plain = plain_transpose_product(&m, &cols, n_cols, d, l, single_sums);
            for threads in [1, 2, 3, 8] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let p = pool.install(|| {
                    TransposeProduct::partial(&m, &cols, n_cols, d, l, single_sums).finish()
                });
                assert_eq!(p, plain, "{threads} threads, single sums {single_sums}");
            }
        }
    }

    #[test]
    fn column_ranges_cover_the_columns_with_balanced_entries() {
        let m = blocks();
        let cols: Vec<u32> = (0..23).collect();
        for parts in 1..6 {
            let r = column_ranges(&m, &cols, 23, parts);
            assert!(r.len() <= parts && !r.is_empty(), "{parts}: {r:?}");
            assert_eq!(r[0].0, 0);
            assert_eq!(r.last().unwrap().1, 23);
            assert!(r.windows(2).all(|w| w[0].1 == w[1].0 && w[0].0 < w[0].1));
        }
        // an empty matrix: one range of every column
        assert_eq!(column_ranges(&SparseRows::empty(), &cols, 23, 4), [(0, 23)]);
    }
}
