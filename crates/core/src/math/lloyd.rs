//! k-means at the limit: Lloyd's algorithm with Hamerly's bounds (Hamerly 2010, "Making
//! k-means even faster"), greedy k-means++ initialisation (scikit-learn's `2 + ln k`
//! candidates per step), restarts in parallel, single-precision distances in vector
//! registers, double-precision sums. Behind linfa's [`Fit`] and [`PredictInplace`] traits, so
//! linfa stays the interface: [`Lloyd`] is the parameters, [`LloydFit`] the fitted model.
//!
//! **Bounds.** Each row keeps an upper bound `u` on its distance to its centroid and a lower
//! bound `l` on its distance to every other centroid. After the centroids move, `u` grows by
//! its centroid's move and `l` shrinks by the largest move of the others; a row whose `u` is
//! at most `max(l, s)` (`s`: half the distance from its centroid to the nearest other one)
//! cannot change centroid and is skipped. Once the clusters settle, most rows are skipped at
//! every iteration. Assignments equal plain Lloyd's up to rounding (a row within single
//! precision of equidistant may go either way).
//!
//! **Determinism.** Every row's work depends only on the row and the centroids; sums run over
//! fixed blocks of rows (their size a function of the row count alone) merged in block order;
//! each restart draws from its own stream of the seeded generator (`jump`s apart). Results do
//! not depend on the number of threads or on which restart finishes first. The dot products
//! keep eight running sums in a fixed order, so the vector width the CPU offers (SSE, AVX)
//! does not change them either.
//!
//! **Convergence.** As linfa's k-means: a restart stops when no row changes centroid, when
//! the centroids move by less than `tolerance` in all (Frobenius norm), or after
//! `max_iterations`. Empty clusters are relocated as scikit-learn does: to the rows farthest
//! from their centroids.

use super::rows::row_block;
use linfa::traits::{Fit, PredictInplace};
use linfa::DatasetBase;
use multiversion::multiversion;
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;

/// k-means failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("k-means failed: {0}")]
pub struct KMeansError(String);

impl KMeansError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> KMeansError {
        KMeansError(msg.into())
    }
}

impl From<linfa::Error> for KMeansError {
    fn from(e: linfa::Error) -> KMeansError {
        KMeansError(e.to_string())
    }
}

/// Rows per block of the assignment step (work units only: no sum crosses them).
const BLOCK: usize = 256;

/// How a restart picks its first centroids.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// Greedy k-means++ (scikit-learn's): each centroid after the first is the best, by the
    /// potential it leaves, of `2 + ⌊ln k⌋` rows drawn with probability ∝ D².
    KMeansPlusPlus,
    /// These centroids (`k × d`); one restart is enough.
    Precomputed(Array2<f32>),
}

/// The parameters of a k-means fit (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Lloyd {
    pub(super) k: usize,
    pub(super) n_runs: usize,
    pub(super) max_iterations: u64,
    pub(super) tolerance: f64,
    pub(super) seed: u64,
    pub(super) init: Init,
}

impl Lloyd {
    /// `k` clusters; 10 restarts, 300 iterations at most, tolerance 1e-4, seed 0, k-means++.
    pub fn params(k: usize) -> Lloyd {
        Lloyd {
            k,
            n_runs: 10,
            max_iterations: 300,
            tolerance: 1e-4,
            seed: 0,
            init: Init::KMeansPlusPlus,
        }
    }

    /// Restarts (the one with the lowest inertia is kept; ties: the first).
    pub fn n_runs(mut self, n: usize) -> Self {
        self.n_runs = n;
        self
    }

    /// Iterations per restart at most.
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }

    /// A restart stops once the centroids move less than this (Frobenius norm).
    pub fn tolerance(mut self, t: f64) -> Self {
        self.tolerance = t;
        self
    }

    /// Seed of the initialisation.
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = s;
        self
    }

    /// How restarts start.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }
}

/// A fitted k-means model.
#[derive(Debug, Clone, PartialEq)]
pub struct LloydFit {
    /// `k × d`.
    pub centroids: Array2<f32>,
    /// The sum of squared distances of the rows to their centroids.
    pub inertia: f64,
    /// Iterations of the restart kept.
    pub iterations: u64,
    /// Which restart was kept.
    pub run: usize,
}

/// The rows, contiguous, with their squared norms.
struct Rows<'a> {
    x: &'a [f32],
    d: usize,
    norms: Vec<f32>,
}

impl Rows<'_> {
    fn n(&self) -> usize {
        self.norms.len()
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.d..(i + 1) * self.d]
    }
}

/// `a · b` with eight running sums in a fixed order (so SSE and AVX give the same value).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut tail = 0f32;
    for (&x, &y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `out[j] = x · centers[j]` for the rows of `centers` (row-major, `x.len()` wide).
#[multiversion(targets("x86_64+avx2", "x86_64+avx"))]
pub(super) fn dots(x: &[f32], centers: &[f32], out: &mut [f32]) {
    if x.is_empty() {
        out.fill(0.0);
        return;
    }
    for (c, o) in centers.chunks_exact(x.len()).zip(out.iter_mut()) {
        *o = dot(x, c);
    }
}

/// Squared norms of the rows of `x` (row-major, `d` wide).
pub(super) fn sq_norms(x: &[f32], d: usize) -> Vec<f32> {
    if d == 0 {
        return vec![];
    }
    x.chunks_exact(d)
        .map(|r| {
            let mut o = [0f32];
            dots(r, r, &mut o);
            o[0]
        })
        .collect()
}

/// Squared distance from its squared norms and dot product (never negative).
#[inline]
pub(super) fn sq_dist(xn: f32, cn: f32, dot: f32) -> f32 {
    (xn + cn - 2.0 * dot).max(0.0)
}

/// Squared distance of the row `x` (squared norm `xn`) to centroid `j` of `centers`
/// (row-major, `x.len()` wide; squared norms `cnorms`).
pub(super) fn sq_dist_to(x: &[f32], xn: f32, centers: &[f32], cnorms: &[f32], j: usize) -> f32 {
    let d = x.len();
    let mut o = [0f32];
    dots(x, &centers[j * d..(j + 1) * d], &mut o);
    sq_dist(xn, cnorms[j], o[0])
}

/// A uniform number in `[0, 1)`.
pub(super) fn uniform(rng: &mut Xoshiro256Plus) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Per block of rows (of [`row_block`] rows), `f(block range)`, in parallel; the results in
/// block order.
fn by_blocks<T: Send>(n: usize, f: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    let b = row_block(n);
    (0..n.div_ceil(b))
        .into_par_iter()
        .map(|i| f(i * b..((i + 1) * b).min(n)))
        .collect()
}

/// Greedy k-means++ centroids (`k × d`, row-major).
fn plus_plus(rows: &Rows, k: usize, rng: &mut Xoshiro256Plus) -> Vec<f32> {
    let (n, d) = (rows.n(), rows.d);
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut centers = Vec::with_capacity(k * d);
    let first = ((uniform(rng) * n as f64) as usize).min(n - 1);
    centers.extend_from_slice(rows.row(first));
    // squared distance of every row to its nearest centroid so far
    let mut closest: Vec<f64> = (0..n)
        .into_par_iter()
        .with_min_len(BLOCK)
        .map(|i| {
            let mut o = [0f32];
            dots(rows.row(i), rows.row(first), &mut o);
            sq_dist(rows.norms[i], rows.norms[first], o[0]) as f64
        })
        .collect();
    let mut potential: f64 = by_blocks(n, |r| closest[r].iter().sum::<f64>())
        .into_iter()
        .sum();
    for _ in 1..k {
        let mut cumulative = Vec::with_capacity(n);
        let mut acc = 0.0;
        for &c in &closest {
            acc += c;
            cumulative.push(acc);
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let r = uniform(rng) * potential;
                cumulative.partition_point(|&c| c < r).min(n - 1)
            })
            .collect();
        let cand: Vec<f32> = candidates
            .iter()
            .flat_map(|&c| rows.row(c).iter().copied())
            .collect();
        let cand_norms: Vec<f32> = candidates.iter().map(|&c| rows.norms[c]).collect();
        // per block: each candidate's potential over the block
        let pots: Vec<Vec<f64>> = by_blocks(n, |r| {
            let mut p = vec![0.0; trials];
            let mut o = vec![0f32; trials];
            for i in r {
                dots(rows.row(i), &cand, &mut o);
                for t in 0..trials {
                    let d2 = sq_dist(rows.norms[i], cand_norms[t], o[t]) as f64;
                    p[t] += d2.min(closest[i]);
                }
            }
            p
        });
        let mut best = 0;
        let mut best_pot = f64::INFINITY;
        for t in 0..trials {
            let pot: f64 = pots.iter().map(|p| p[t]).sum();
            if pot < best_pot {
                best_pot = pot;
                best = t;
            }
        }
        let c = candidates[best];
        let (crow, cn) = (rows.row(c), rows.norms[c]);
        closest
            .par_iter_mut()
            .enumerate()
            .with_min_len(BLOCK)
            .for_each(|(i, v)| {
                let mut o = [0f32];
                dots(rows.row(i), crow, &mut o);
                *v = v.min(sq_dist(rows.norms[i], cn, o[0]) as f64);
            });
        potential = best_pot;
        centers.extend_from_slice(crow);
    }
    centers
}

/// The nearest and second-nearest centroid of row `x`: (index, distance, second distance).
/// Ties go to the lower index.
#[inline]
pub(super) fn nearest(
    x: &[f32],
    xn: f32,
    centers: &[f32],
    cnorms: &[f32],
    buf: &mut [f32],
) -> (u32, f32, f32) {
    dots(x, centers, buf);
    let (mut best, mut d1, mut d2) = (0u32, f32::INFINITY, f32::INFINITY);
    for (j, (&dt, &cn)) in buf.iter().zip(cnorms).enumerate() {
        let dist = sq_dist(xn, cn, dt);
        if dist < d1 {
            d2 = d1;
            d1 = dist;
            best = j as u32;
        } else if dist < d2 {
            d2 = dist;
        }
    }
    (best, d1.sqrt(), d2.sqrt())
}

/// The update step on `centers` (`k × d`, row-major): each centroid with rows to the mean of
/// its rows (`sums`, `counts`); a centroid without rows stays. Returns each centroid's move
/// and the total move (Frobenius norm).
pub(super) fn update_centers(
    centers: &mut [f32],
    sums: &[f64],
    counts: &[u64],
    d: usize,
) -> (Vec<f32>, f64) {
    let k = counts.len();
    let mut moves = vec![0f32; k];
    let mut total = 0.0;
    for j in 0..k {
        if counts[j] == 0 {
            continue; // more empty clusters than rows to spare: the centroid stays
        }
        let mut m = 0.0;
        for t in 0..d {
            let new = (sums[j * d + t] / counts[j] as f64) as f32;
            let old = &mut centers[j * d + t];
            let delta = (new - *old) as f64;
            m += delta * delta;
            *old = new;
        }
        moves[j] = m.sqrt() as f32;
        total += m;
    }
    (moves, total.sqrt())
}

/// Elkan's bounds (one per row and centroid) while they take at most this many values (64 MiB
/// of `f32` per restart); Hamerly's (one per row) beyond.
const ELKAN_BOUNDS: usize = 1 << 24;

/// One restart's state: labels, bounds, and the sums of the rows of each centroid.
struct Run<'a> {
    rows: &'a Rows<'a>,
    k: usize,
    centers: Vec<f32>,
    cnorms: Vec<f32>,
    labels: Vec<u32>,
    /// Per row, an upper bound of the distance to its centroid.
    upper: Vec<f32>,
    /// Elkan: per row and centroid (`n × k`), a lower bound of the distance to it. Hamerly:
    /// per row, a lower bound of the distance to every centroid but its own.
    lower: Vec<f32>,
    elkan: bool,
    /// Per centroid, the sum and the number of its rows, as `labels` say: kept up to date by
    /// the assignment step (rows that change centroid, in row order), `None` when they must
    /// be summed afresh.
    sums: Option<(Vec<f64>, Vec<u64>)>,
}

/// A row's label and bounds: what one step of the assignment reads and updates.
struct RowState<'s> {
    label: &'s mut u32,
    upper: &'s mut f32,
    lower: &'s mut [f32],
}

/// What the assignment step knows of the centroids.
struct Centroids<'c> {
    k: usize,
    centers: &'c [f32],
    cnorms: &'c [f32],
    /// How far each moved in the update step.
    moves: &'c [f32],
    /// `k × k`: the distances between centroids (Elkan).
    between: &'c [f32],
    /// Half the distance from each centroid to its nearest other one.
    half: &'c [f32],
    /// The largest move, its centroid, and the second-largest move (Hamerly).
    m1: f32,
    arg: usize,
    m2: f32,
}

impl Centroids<'_> {
    fn dist(&self, x: &[f32], xn: f32, j: usize) -> f32 {
        sq_dist_to(x, xn, self.centers, self.cnorms, j).sqrt()
    }

    /// Elkan's step for one row: the bounds move with the centroids; a centroid is looked at
    /// only when neither its lower bound nor half its distance to the row's centroid rules it
    /// out.
    fn elkan(&self, x: &[f32], xn: f32, r: RowState) {
        let k = self.k;
        let mut a = *r.label as usize;
        let mut u = *r.upper + self.moves[a];
        for (l, &m) in r.lower.iter_mut().zip(self.moves) {
            *l = (*l - m).max(0.0);
        }
        if u > self.half[a] {
            let mut tight = false;
            for j in 0..k {
                if j == a || u <= r.lower[j] || u <= 0.5 * self.between[a * k + j] {
                    continue;
                }
                if !tight {
                    u = self.dist(x, xn, a);
                    r.lower[a] = u;
                    tight = true;
                    if u <= r.lower[j] || u <= 0.5 * self.between[a * k + j] {
                        continue;
                    }
                }
                let dj = self.dist(x, xn, j);
                r.lower[j] = dj;
                if dj < u || (dj == u && j < a) {
                    a = j;
                    u = dj;
                }
            }
        }
        *r.label = a as u32;
        *r.upper = u;
    }

    /// Hamerly's step for one row: one lower bound for all the other centroids.
    fn hamerly(&self, x: &[f32], xn: f32, r: RowState, buf: &mut [f32]) {
        let j = *r.label as usize;
        *r.upper += self.moves[j];
        r.lower[0] -= if j == self.arg { self.m2 } else { self.m1 };
        let bound = self.half[j].max(r.lower[0]);
        if *r.upper <= bound {
            return;
        }
        // tighten the upper bound: the distance to its own centroid
        *r.upper = self.dist(x, xn, j);
        if *r.upper <= bound {
            return;
        }
        let (nj, d1, d2) = nearest(x, xn, self.centers, self.cnorms, buf);
        *r.label = nj;
        *r.upper = d1;
        r.lower[0] = d2;
    }
}

impl<'a> Run<'a> {
    fn new(rows: &'a Rows<'a>, k: usize, centers: Vec<f32>) -> Run<'a> {
        Run::with_bounds(rows, k, centers, rows.n().saturating_mul(k) <= ELKAN_BOUNDS)
    }

    /// A run with Elkan's bounds (`elkan`) or Hamerly's.
    fn with_bounds(rows: &'a Rows<'a>, k: usize, centers: Vec<f32>, elkan: bool) -> Run<'a> {
        let d = rows.d;
        let cnorms = sq_norms(&centers, d);
        let n = rows.n();
        let lw = if elkan { k } else { 1 };
        let (mut labels, mut upper, mut lower) = (vec![0u32; n], vec![0f32; n], vec![0f32; n * lw]);
        labels
            .par_chunks_mut(BLOCK)
            .zip(upper.par_chunks_mut(BLOCK))
            .zip(lower.par_chunks_mut(BLOCK * lw))
            .enumerate()
            .for_each(|(b, ((a, u), l))| {
                let mut buf = vec![0f32; k];
                for o in 0..a.len() {
                    let i = b * BLOCK + o;
                    let (x, xn) = (rows.row(i), rows.norms[i]);
                    let (j, d1, d2) = nearest(x, xn, &centers, &cnorms, &mut buf);
                    a[o] = j;
                    u[o] = d1;
                    if elkan {
                        // `nearest` left the dot products in `buf`
                        for (lj, (&dot, &cn)) in l[o * k..(o + 1) * k]
                            .iter_mut()
                            .zip(buf.iter().zip(&cnorms))
                        {
                            *lj = sq_dist(xn, cn, dot).sqrt();
                        }
                    } else {
                        l[o] = d2;
                    }
                }
            });
        Run {
            rows,
            k,
            centers,
            cnorms,
            labels,
            upper,
            lower,
            elkan,
            sums: None,
        }
    }

    /// Per centroid, the sum (double precision) and count of its rows, summed afresh over
    /// fixed blocks of rows.
    fn fresh_sums(&self) -> (Vec<f64>, Vec<u64>) {
        let (k, d) = (self.k, self.rows.d);
        let parts = by_blocks(self.rows.n(), |r| {
            let mut s = vec![0.0; k * d];
            let mut c = vec![0u64; k];
            for i in r {
                let j = self.labels[i] as usize;
                c[j] += 1;
                for (t, &v) in s[j * d..(j + 1) * d].iter_mut().zip(self.rows.row(i)) {
                    *t += v as f64;
                }
            }
            (s, c)
        });
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0u64; k];
        for (s, c) in parts {
            for (t, v) in sums.iter_mut().zip(s) {
                *t += v;
            }
            for (t, v) in counts.iter_mut().zip(c) {
                *t += v;
            }
        }
        (sums, counts)
    }

    /// Squared distance of row `i` to centroid `j`, computed afresh.
    fn exact(&self, i: usize, j: usize) -> f32 {
        sq_dist_to(
            self.rows.row(i),
            self.rows.norms[i],
            &self.centers,
            self.cnorms.as_slice(),
            j,
        )
    }

    /// Give each empty cluster one of the rows farthest from their centroids (scikit-learn's
    /// relocation), taking it out of its own cluster's sums.
    fn relocate_empty(&self, sums: &mut [f64], counts: &mut [u64]) {
        let empty: Vec<usize> = (0..self.k).filter(|&j| counts[j] == 0).collect();
        if empty.is_empty() {
            return;
        }
        let d = self.rows.d;
        let dist: Vec<f32> = (0..self.rows.n())
            .into_par_iter()
            .with_min_len(BLOCK)
            .map(|i| self.exact(i, self.labels[i] as usize))
            .collect();
        let mut far: Vec<usize> = (0..self.rows.n()).collect();
        far.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
        let mut far = far.into_iter();
        for j in empty {
            let Some(i) = far.by_ref().find(|&i| counts[self.labels[i] as usize] > 1) else {
                break;
            };
            let from = self.labels[i] as usize;
            let x = self.rows.row(i);
            for (t, &v) in sums[from * d..(from + 1) * d].iter_mut().zip(x) {
                *t -= v as f64;
            }
            counts[from] -= 1;
            for (t, &v) in sums[j * d..(j + 1) * d].iter_mut().zip(x) {
                *t = v as f64;
            }
            counts[j] = 1;
        }
    }

    /// The update step: centroids to the means of their rows. Returns each centroid's move
    /// and the total move (Frobenius norm).
    fn update_centroids(&mut self) -> (Vec<f32>, f64) {
        let d = self.rows.d;
        let (mut sums, mut counts) = match self.sums.take() {
            Some(s) => s,
            None => self.fresh_sums(),
        };
        // a relocated row keeps its label: the sums no longer follow the labels
        let relocated = counts.contains(&0);
        self.relocate_empty(&mut sums, &mut counts);
        let (moves, total) = update_centers(&mut self.centers, &sums, &counts, d);
        self.cnorms = sq_norms(&self.centers, d);
        if !relocated {
            self.sums = Some((sums, counts));
        }
        (moves, total)
    }

    /// The assignment step with Elkan's or Hamerly's bounds, after the centroids moved by
    /// `moves`: the number of rows that changed centroid.
    fn assign(&mut self, moves: &[f32]) -> usize {
        let (k, d) = (self.k, self.rows.d);
        // the largest and second-largest move, for Hamerly's lower bounds
        let (mut m1, mut m2, mut arg) = (0f32, 0f32, usize::MAX);
        for (j, &m) in moves.iter().enumerate() {
            if m > m1 {
                m2 = m1;
                m1 = m;
                arg = j;
            } else if m > m2 {
                m2 = m;
            }
        }
        // the distances between centroids, and half the distance to the nearest other one
        let mut between = vec![0f32; k * k];
        let mut half = vec![f32::INFINITY; k];
        for (a, h) in half.iter_mut().enumerate() {
            let row = &mut between[a * k..(a + 1) * k];
            dots(&self.centers[a * d..(a + 1) * d], &self.centers, row);
            for (b, v) in row.iter_mut().enumerate() {
                *v = if a == b {
                    0.0
                } else {
                    sq_dist(self.cnorms[a], self.cnorms[b], *v).sqrt()
                };
                if a != b {
                    *h = h.min(0.5 * *v);
                }
            }
        }
        let c = Centroids {
            k,
            centers: &self.centers,
            cnorms: &self.cnorms,
            moves,
            between: &between,
            half: &half,
            m1,
            arg,
            m2,
        };
        let (rows, elkan) = (self.rows, self.elkan);
        let lw = if elkan { k } else { 1 };
        // per block, the rows that changed centroid: (row, old, new)
        let changes: Vec<Vec<(u32, u32, u32)>> = self
            .labels
            .par_chunks_mut(BLOCK)
            .zip(self.upper.par_chunks_mut(BLOCK))
            .zip(self.lower.par_chunks_mut(BLOCK * lw))
            .enumerate()
            .map(|(b, ((a, u), l))| {
                let mut buf = vec![0f32; k];
                let mut changed = vec![];
                for (o, ((label, upper), lower)) in
                    a.iter_mut().zip(u).zip(l.chunks_mut(lw)).enumerate()
                {
                    let i = b * BLOCK + o;
                    let old = *label;
                    let r = RowState {
                        label,
                        upper,
                        lower,
                    };
                    let (x, xn) = (rows.row(i), rows.norms[i]);
                    if elkan {
                        c.elkan(x, xn, r);
                    } else {
                        c.hamerly(x, xn, r, &mut buf);
                    }
                    if *label != old {
                        changed.push((i as u32, old, *label));
                    }
                }
                changed
            })
            .collect();
        let n_changed = changes.iter().map(Vec::len).sum();
        if let Some((sums, counts)) = &mut self.sums {
            // in row order, whatever the number of threads
            for &(i, old, new) in changes.iter().flatten() {
                let (old, new) = (old as usize, new as usize);
                let x = rows.row(i as usize);
                for (t, &v) in sums[old * d..(old + 1) * d].iter_mut().zip(x) {
                    *t -= v as f64;
                }
                for (t, &v) in sums[new * d..(new + 1) * d].iter_mut().zip(x) {
                    *t += v as f64;
                }
                counts[old] -= 1;
                counts[new] += 1;
            }
        }
        n_changed
    }

    /// The sum of squared distances to the centroids, computed afresh.
    fn inertia(&self) -> f64 {
        by_blocks(self.rows.n(), |r| {
            r.map(|i| self.exact(i, self.labels[i] as usize) as f64)
                .sum::<f64>()
        })
        .into_iter()
        .sum()
    }

    /// Lloyd's iterations until convergence: (iterations, inertia).
    fn iterate(&mut self, max_iterations: u64, tolerance: f64) -> (u64, f64) {
        let mut it = 0;
        while it < max_iterations {
            it += 1;
            let (moves, total) = self.update_centroids();
            let changed = self.assign(&moves);
            if changed == 0 || total < tolerance {
                break;
            }
        }
        (it, self.inertia())
    }
}

impl Lloyd {
    pub(super) fn check(&self, n: usize, d: usize) -> Result<(), KMeansError> {
        if self.k == 0 {
            return Err(KMeansError::new("k must be at least 1"));
        }
        if n < self.k {
            return Err(KMeansError::new(format!(
                "{n} rows cannot make {} clusters",
                self.k
            )));
        }
        if self.n_runs == 0 || self.max_iterations == 0 {
            return Err(KMeansError::new(
                "n_runs and max_iterations must be at least 1",
            ));
        }
        if let Init::Precomputed(c) = &self.init {
            if c.nrows() != self.k || c.ncols() != d {
                return Err(KMeansError::new(format!(
                    "the initial centroids are {} × {}, the fit needs {} × {d}",
                    c.nrows(),
                    c.ncols(),
                    self.k
                )));
            }
        }
        Ok(())
    }

    /// Fit the rows of `x`.
    pub fn fit_rows(&self, x: ArrayView2<f32>) -> Result<LloydFit, KMeansError> {
        let (n, d) = x.dim();
        self.check(n, d)?;
        let x = x.as_standard_layout();
        let data = x.as_slice().expect("standard layout");
        let rows = Rows {
            x: data,
            d,
            norms: sq_norms(data, d),
        };
        let runs = match &self.init {
            Init::Precomputed(_) => 1,
            Init::KMeansPlusPlus => self.n_runs,
        };
        let fits: Vec<(Vec<f32>, u64, f64)> = (0..runs)
            .into_par_iter()
            .map(|r| {
                let centers = match &self.init {
                    Init::Precomputed(c) => c.as_standard_layout().iter().copied().collect(),
                    Init::KMeansPlusPlus => {
                        let mut rng = Xoshiro256Plus::seed_from_u64(self.seed);
                        for _ in 0..r {
                            rng.jump();
                        }
                        plus_plus(&rows, self.k, &mut rng)
                    }
                };
                let mut run = Run::new(&rows, self.k, centers);
                let (it, inertia) = run.iterate(self.max_iterations, self.tolerance);
                (run.centers, it, inertia)
            })
            .collect();
        let (run, (centers, iterations, inertia)) = fits
            .into_iter()
            .enumerate()
            .min_by(|(a, x), (b, y)| x.2.total_cmp(&y.2).then(a.cmp(b)))
            .expect("at least one restart");
        Ok(LloydFit {
            centroids: Array2::from_shape_vec((self.k, d), centers).expect("k × d"),
            inertia,
            iterations,
            run,
        })
    }
}

impl<D: Data<Elem = f32>, T> Fit<ArrayBase<D, Ix2>, T, KMeansError> for Lloyd {
    type Object = LloydFit;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<LloydFit, KMeansError> {
        self.fit_rows(dataset.records.view())
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<usize>> for LloydFit {
    /// The nearest centroid of each row (ties: the lower index).
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        let c = self.centroids.as_standard_layout();
        let centers = c.as_slice().expect("standard layout");
        let cnorms = sq_norms(centers, c.ncols());
        let x = x.as_standard_layout();
        let d = x.ncols();
        let data = x.as_slice().expect("standard layout");
        let labels: Vec<usize> = (0..x.nrows())
            .into_par_iter()
            .with_min_len(BLOCK)
            .map_init(
                || vec![0f32; c.nrows()],
                |buf, i| {
                    let row = &data[i * d..(i + 1) * d];
                    let mut o = [0f32];
                    dots(row, row, &mut o);
                    nearest(row, o[0], centers, &cnorms, buf).0 as usize
                },
            )
            .collect();
        *y = Array1::from(labels);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use linfa::traits::Predict;

    /// `groups` Gaussian blobs of `per` rows in `d` dimensions, from a seeded generator.
    pub(crate) fn blobs(
        groups: usize,
        per: usize,
        d: usize,
        spread: f32,
        seed: u64,
    ) -> (Array2<f32>, Vec<usize>) {
        let mut rng = Xoshiro256Plus::seed_from_u64(seed);
        let mut normal = move || {
            let (u1, u2) = (uniform(&mut rng).max(1e-12), uniform(&mut rng));
            ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
        };
        let centres: Vec<Vec<f32>> = (0..groups)
            .map(|_| (0..d).map(|_| 4.0 * normal()).collect())
            .collect();
        let mut x = Array2::zeros((groups * per, d));
        let mut truth = vec![];
        for i in 0..groups * per {
            let g = (i * 7919) % groups;
            for t in 0..d {
                x[[i, t]] = centres[g][t] + spread * normal();
            }
            truth.push(g);
        }
        (x, truth)
    }

    /// The same partition, whatever the cluster numbers.
    pub(crate) fn same_partition(a: &[usize], b: &[usize]) -> bool {
        let mut map = std::collections::HashMap::new();
        let mut back = std::collections::HashMap::new();
        a.iter()
            .zip(b)
            .all(|(x, y)| *map.entry(x).or_insert(y) == y && *back.entry(y).or_insert(x) == x)
    }

    /// Plain Lloyd: every distance at every iteration, from the same start, same stopping rule.
    fn plain(
        x: &Array2<f32>,
        start: &Array2<f32>,
        max_it: u64,
        tol: f64,
    ) -> (Array2<f32>, Vec<usize>) {
        let mut c = start.clone();
        let assign = |c: &Array2<f32>| -> Vec<usize> {
            x.rows()
                .into_iter()
                .map(|r| {
                    let mut best = (0, f64::INFINITY);
                    for (j, cr) in c.rows().into_iter().enumerate() {
                        let d: f64 = r
                            .iter()
                            .zip(cr)
                            .map(|(a, b)| ((a - b) as f64).powi(2))
                            .sum();
                        if d < best.1 {
                            best = (j, d);
                        }
                    }
                    best.0
                })
                .collect()
        };
        let mut labels = assign(&c);
        for _ in 0..max_it {
            let mut next = c.clone();
            let mut moved = 0.0;
            for j in 0..c.nrows() {
                let members: Vec<usize> = (0..x.nrows()).filter(|&i| labels[i] == j).collect();
                if members.is_empty() {
                    continue;
                }
                for t in 0..c.ncols() {
                    let mean = members.iter().map(|&i| x[[i, t]] as f64).sum::<f64>()
                        / members.len() as f64;
                    moved += (mean - c[[j, t]] as f64).powi(2);
                    next[[j, t]] = mean as f32;
                }
            }
            c = next;
            let new = assign(&c);
            let changed = new != labels;
            labels = new;
            if !changed || moved.sqrt() < tol {
                break;
            }
        }
        (c, labels)
    }

    #[test]
    fn dot_matches_the_plain_sum_at_every_length() {
        for len in 0..40 {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11 + 1.0).cos()).collect();
            let want: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (*x as f64) * (*y as f64))
                .sum();
            let mut o = [0f32];
            dots(&a, &b, &mut o);
            assert!(
                (o[0] as f64 - want).abs() < 1e-5,
                "{len}: {} vs {want}",
                o[0]
            );
        }
    }

    #[test]
    fn elkan_and_hamerly_give_plain_lloyds_result() {
        let (x, _) = blobs(8, 250, 12, 6.0, 3); // overlapping blobs: many rows move
        let start = x.select(ndarray::Axis(0), &[0, 1, 2, 3, 4, 5, 6, 7]);
        let fit = Lloyd::params(8)
            .init(Init::Precomputed(start.clone()))
            .max_iterations(300)
            .tolerance(1e-6)
            .fit(&DatasetBase::from(x.clone()))
            .unwrap();
        let (c, labels) = plain(&x, &start, 300, 1e-6);
        let ours = fit.predict(&x);
        assert_eq!(ours.to_vec(), labels);
        assert!(fit.iterations > 5, "{} iterations", fit.iterations);
        for (a, b) in fit.centroids.iter().zip(&c) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        // both kinds of bounds, from the same start: the same labels as plain Lloyd
        let data = x.as_slice().unwrap();
        let rows = Rows {
            x: data,
            d: 12,
            norms: sq_norms(data, 12),
        };
        for elkan in [true, false] {
            let mut run = Run::with_bounds(&rows, 8, start.iter().copied().collect(), elkan);
            assert_eq!(run.elkan, elkan);
            run.iterate(300, 1e-6);
            assert_eq!(
                run.labels.iter().map(|&l| l as usize).collect::<Vec<_>>(),
                labels
            );
            for (a, b) in run.centers.iter().zip(&c) {
                assert!((a - b).abs() < 1e-4, "elkan {elkan}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn the_same_at_any_thread_count() {
        let (x, _) = blobs(6, 400, 16, 3.0, 5);
        let data = DatasetBase::from(x);
        let fit = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| Lloyd::params(6).seed(3).n_runs(4).fit(&data).unwrap())
        };
        let one = fit(1);
        assert_eq!(one, fit(3));
        assert_eq!(one, fit(8));
    }

    #[test]
    fn empty_clusters_take_the_farthest_rows() {
        let (x, _) = blobs(3, 50, 4, 0.5, 2);
        // the third centroid is far from every row: it starts empty
        let mut start = x.select(ndarray::Axis(0), &[0, 1, 2]);
        start.row_mut(2).fill(1e3);
        let fit = Lloyd::params(3)
            .init(Init::Precomputed(start))
            .fit(&DatasetBase::from(x.clone()))
            .unwrap();
        let labels = fit.predict(&x).to_vec();
        for j in 0..3 {
            assert!(labels.contains(&j), "cluster {j} is empty: {labels:?}");
        }
        assert!(fit.centroids.iter().all(|v| v.abs() < 100.0));
    }

    #[test]
    fn restarts_keep_the_lowest_inertia_and_bad_input_is_an_error() {
        let (x, _) = blobs(4, 60, 5, 1.5, 9);
        let data = DatasetBase::from(x.clone());
        let many = Lloyd::params(4).seed(1).n_runs(8).fit(&data).unwrap();
        for s in 0..8 {
            let mut rng = Xoshiro256Plus::seed_from_u64(1);
            for _ in 0..s {
                rng.jump();
            }
            let one = {
                let rows = Rows {
                    x: x.as_slice().unwrap(),
                    d: 5,
                    norms: sq_norms(x.as_slice().unwrap(), 5),
                };
                let mut run = Run::new(&rows, 4, plus_plus(&rows, 4, &mut rng));
                run.iterate(300, 1e-4).1
            };
            assert!(
                many.inertia <= one + 1e-9,
                "run {s}: {one} < {}",
                many.inertia
            );
        }
        let small = DatasetBase::from(x.slice(ndarray::s![..3, ..]).to_owned());
        assert!(Lloyd::params(4).fit(&small).is_err());
        let wrong = Lloyd::params(4).init(Init::Precomputed(Array2::zeros((4, 2))));
        assert!(wrong.fit(&data).is_err());
        assert!(Lloyd::params(0).fit(&data).is_err());
    }

    #[test]
    fn plus_plus_picks_distinct_rows() {
        let (x, _) = blobs(10, 20, 3, 0.1, 4);
        let rows = Rows {
            x: x.as_slice().unwrap(),
            d: 3,
            norms: sq_norms(x.as_slice().unwrap(), 3),
        };
        let mut rng = Xoshiro256Plus::seed_from_u64(0);
        let c = plus_plus(&rows, 10, &mut rng);
        let c: Vec<&[f32]> = c.chunks(3).collect();
        for a in 0..10 {
            for b in a + 1..10 {
                assert_ne!(c[a], c[b]);
            }
        }
    }
}
