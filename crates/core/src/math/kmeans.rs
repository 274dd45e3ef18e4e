//! k-means pieces: discover mode on our k-means ([`Lloyd`], behind linfa's traits; linfa's
//! own k-means with a faster distance stays as its cross-check), our guided spherical
//! k-means, and the update step's sums as state that merges.
//!
//! Rows are L2-normalised, so Euclidean k-means is spherical k-means up to ties.

pub use super::lloyd::KMeansError;
use super::lloyd::{Init, Lloyd};
use super::rows::{argmax, normalize_rows};
use linfa::prelude::*;
use linfa_clustering::{KMeans, KMeansParams};
use linfa_nn::distance::Distance;
use ndarray::{s, Array2, ArrayView2};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

/// The update step's state: per centroid, the sum and the number of the rows assigned to it.
/// A sum over rows: `partial` over a slice of rows, `merge` in row order, and the centroids
/// follow from it.
#[derive(Debug, Clone, PartialEq)]
pub struct CentroidSums {
    /// `k × d`: the sum of each centroid's rows.
    pub sums: Array2<f64>,
    /// The number of each centroid's rows.
    pub counts: Vec<u64>,
}

impl CentroidSums {
    /// The sums of `rows`, each assigned to the centroid `labels[i]` (`< k`), added in row
    /// order.
    pub fn partial(rows: ArrayView2<f64>, labels: &[usize], k: usize) -> CentroidSums {
        let mut sums = Array2::<f64>::zeros((k, rows.ncols()));
        let mut counts = vec![0u64; k];
        for (i, &l) in labels.iter().enumerate() {
            let mut row = sums.row_mut(l);
            row += &rows.row(i);
            counts[l] += 1;
        }
        CentroidSums { sums, counts }
    }

    /// The sums of two disjoint slices of rows (merge in row order).
    pub fn merge(self, other: CentroidSums) -> CentroidSums {
        CentroidSums {
            sums: self.sums + other.sums,
            counts: self
                .counts
                .iter()
                .zip(&other.counts)
                .map(|(a, b)| a + b)
                .collect(),
        }
    }

    /// The mean of each centroid's rows; `None` for a centroid without rows.
    pub fn means(&self) -> Vec<Option<ndarray::Array1<f64>>> {
        self.sums
            .rows()
            .into_iter()
            .zip(&self.counts)
            .map(|(row, &n)| (n > 0).then(|| &row / n as f64))
            .collect()
    }
}

/// Guided spherical k-means: `seeds` (themes × d, unit rows) anchor the first centroids;
/// `extra` free ones start, one by one, at the row least similar to every centroid so far.
/// Returns unit centroids, themes first.
pub fn guided_fit(
    x: &Array2<f64>,
    seeds: &Array2<f64>,
    extra: usize,
    weight: f64,
    max_iterations: u64,
) -> Array2<f64> {
    let t = seeds.nrows();
    let k = t + extra;
    let mut c = Array2::<f64>::zeros((k, x.ncols()));
    c.slice_mut(s![..t, ..]).assign(seeds);
    if extra > 0 {
        // farthest first: each free centroid starts at the passage least similar to every
        // centroid so far (ties: the first), i.e. the most off-theme material
        let mut nearest: Vec<f64> = x
            .dot(&seeds.t())
            .rows()
            .into_iter()
            .map(|r| r.fold(f64::NEG_INFINITY, |a, &b| a.max(b)))
            .collect();
        for e in 0..extra {
            let mut pick = 0;
            for (i, &s) in nearest.iter().enumerate() {
                if s < nearest[pick] {
                    pick = i;
                }
            }
            c.row_mut(t + e).assign(&x.row(pick));
            for (i, s) in nearest.iter_mut().enumerate() {
                *s = s.max(x.row(i).dot(&x.row(pick)));
            }
        }
    }
    let mut labels: Vec<usize> = Vec::new();
    for _ in 0..max_iterations {
        let sims = x.dot(&c.t());
        let next: Vec<usize> = sims.rows().into_iter().map(argmax).collect();
        if next == labels {
            break;
        }
        labels = next;
        let sums = CentroidSums::partial(x.view(), &labels, k).sums;
        c = guided_update(sums, &c, seeds, weight);
    }
    c
}

/// One update of guided k-means from the sums of each centroid's rows (`k × d`): each
/// centroid to the direction of its rows' sum, a theme's pulled back towards its seed by
/// `weight`; a centroid without rows stays. Unit rows.
pub fn guided_update(
    mut sums: Array2<f64>,
    c: &Array2<f64>,
    seeds: &Array2<f64>,
    weight: f64,
) -> Array2<f64> {
    let t = seeds.nrows();
    normalize_rows(&mut sums);
    for j in 0..sums.nrows() {
        let mut row = sums.row_mut(j);
        if row.iter().all(|&v| v == 0.0) {
            row.assign(&c.row(j)); // no members: the centroid stays
        } else if j < t {
            row *= 1.0 - weight;
            row.scaled_add(weight, &seeds.row(j));
        }
    }
    normalize_rows(&mut sums);
    sums
}

/// Squared Euclidean distance for linfa's k-means, on contiguous rows as plain slices with
/// four running sums (a loop the compiler vectorises). linfa's `L2Dist` goes through
/// ndarray-stats' generic `Zip`, which was most of the k-means time. Views that are not
/// contiguous fall back to the same sum by `Zip`.
#[derive(Debug, Clone, Copy)]
pub struct SqL2;

fn sq_l2<F: linfa::Float>(a: &[F], b: &[F]) -> F {
    let mut acc = [F::zero(); 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..4 {
            let d = x[j] - y[j];
            acc[j] += d * d;
        }
    }
    let mut tail = F::zero();
    for (&x, &y) in ra.iter().zip(rb) {
        tail += (x - y) * (x - y);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

impl<F: linfa::Float> Distance<F> for SqL2 {
    fn distance<D: ndarray::Dimension>(
        &self,
        a: ndarray::ArrayView<F, D>,
        b: ndarray::ArrayView<F, D>,
    ) -> F {
        self.rdistance(a, b).sqrt()
    }

    fn rdistance<D: ndarray::Dimension>(
        &self,
        a: ndarray::ArrayView<F, D>,
        b: ndarray::ArrayView<F, D>,
    ) -> F {
        match (a.as_slice(), b.as_slice()) {
            (Some(x), Some(y)) if a.shape() == b.shape() => sq_l2(x, y),
            _ => {
                let mut sum = F::zero();
                ndarray::Zip::from(&a)
                    .and(&b)
                    .for_each(|&x, &y| sum += (x - y) * (x - y));
                sum
            }
        }
    }

    fn rdist_to_dist(&self, rdist: F) -> F {
        rdist.sqrt()
    }

    fn dist_to_rdist(&self, dist: F) -> F {
        dist * dist
    }
}

/// The rows k-means runs on: single precision halves the memory each assignment step reads
/// and doubles the values per vector instruction; centroids come back in double precision.
pub type KMeansData = DatasetBase<Array2<f32>, ndarray::Array1<()>>;

/// The rows k-means runs on, in single precision.
pub fn kmeans_data(x: &Array2<f64>) -> KMeansData {
    DatasetBase::from(x.mapv(|v| v as f32))
}

/// How linfa's k-means runs in discover mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Restarts {
    /// Seed of the k-means++ initialisation.
    pub seed: u64,
    /// Restarts; the best is kept.
    pub n_runs: usize,
    /// Iterations per restart at most.
    pub max_iterations: u64,
    /// Convergence tolerance.
    pub tolerance: f64,
}

/// Unit rows of a fit's centroids, in double precision.
fn unit(centroids: &Array2<f32>) -> Array2<f64> {
    let mut c = centroids.mapv(f64::from);
    normalize_rows(&mut c);
    c
}

/// Our k-means ([`Lloyd`]) for `k` clusters as `r` says.
fn lloyd(k: usize, r: &Restarts) -> Lloyd {
    Lloyd::params(k)
        .seed(r.seed)
        .n_runs(r.n_runs)
        .max_iterations(r.max_iterations)
        .tolerance(r.tolerance)
}

/// k-means++ with `n_runs` restarts ([`Lloyd`]): unit centroids.
pub fn discover(data: &KMeansData, k: usize, r: &Restarts) -> Result<Array2<f64>, KMeansError> {
    Ok(unit(&lloyd(k, r).fit(data)?.centroids))
}

/// k-means from the centroids `start` (one row per cluster) instead of k-means++: one run
/// of Lloyd's iterations, unit centroids. How an updated run restarts from the previous
/// run's centroids.
pub fn refine(
    data: &KMeansData,
    start: &Array2<f64>,
    r: &Restarts,
) -> Result<Array2<f64>, KMeansError> {
    let p = lloyd(start.nrows(), r).init(Init::Precomputed(start.mapv(|v| v as f32)));
    Ok(unit(&p.fit(data)?.centroids))
}

/// linfa's own k-means++ with `n_runs` restarts, which [`discover`] replaced: unit
/// centroids. Kept as the cross-check of [`Lloyd`] in tests and its yardstick in the benches.
pub fn linfa_discover(
    data: &KMeansData,
    k: usize,
    r: &Restarts,
) -> Result<Array2<f64>, KMeansError> {
    let p: KMeansParams<f32, Xoshiro256Plus, SqL2> =
        KMeans::params_with(k, Xoshiro256Plus::seed_from_u64(r.seed), SqL2)
            .max_n_iterations(r.max_iterations)
            .tolerance(r.tolerance as f32)
            .n_runs(r.n_runs);
    let model = p.fit(data).map_err(|e| KMeansError::new(e.to_string()))?;
    Ok(unit(model.centroids()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::math::lloyd::tests::{blobs, same_partition};

    #[test]
    fn sq_l2_matches_the_plain_sum_on_rows_and_strided_views() {
        let a = Array2::from_shape_fn((3, 11), |(i, j)| (i * 11 + j) as f64 * 0.37 - 4.0);
        let b = Array2::from_shape_fn((3, 11), |(i, j)| ((i + j * 7) % 5) as f64 - 1.5);
        let plain = |x: ndarray::ArrayView1<f64>, y: ndarray::ArrayView1<f64>| -> f64 {
            x.iter().zip(y).map(|(p, q)| (p - q) * (p - q)).sum()
        };
        for len in [0, 1, 3, 4, 5, 8, 11] {
            for r in 0..3 {
                let (x, y) = (a.slice(s![r, ..len]), b.slice(s![r, ..len]));
                let want = plain(x, y);
                assert!((SqL2.rdistance(x, y) - want).abs() < 1e-9 * (1.0 + want));
                assert!((SqL2.distance(x, y) - want.sqrt()).abs() < 1e-9 * (1.0 + want));
            }
        }
        // columns are strided views: the fallback gives the same sums
        for c in 0..11 {
            let (x, y) = (a.column(c), b.column(c));
            assert!((SqL2.rdistance(x, y) - plain(x, y)).abs() < 1e-9);
        }
        // whole matrices (linfa's convergence test compares centroid matrices)
        let whole: f64 = a.iter().zip(&b).map(|(p, q)| (p - q) * (p - q)).sum();
        assert!((SqL2.rdistance(a.view(), b.view()) - whole).abs() < 1e-9 * whole);
        assert_eq!(SqL2.dist_to_rdist(SqL2.rdist_to_dist(4.0)), 4.0);
    }

    #[test]
    fn refine_from_converged_centroids_stays_and_from_near_ones_converges() {
        // three tight groups of unit rows
        let mut x = Array2::<f64>::zeros((30, 3));
        for i in 0..30 {
            let g = i % 3;
            x[[i, g]] = 1.0;
            x[[i, (g + 1) % 3]] = 0.05 * (i / 3) as f64 / 10.0;
        }
        normalize_rows(&mut x);
        let data = kmeans_data(&x);
        let r = Restarts {
            seed: 0,
            n_runs: 10,
            max_iterations: 300,
            tolerance: 1e-6,
        };
        let found = discover(&data, 3, &r).unwrap();
        let again = refine(&data, &found, &r).unwrap();
        assert!((&again - &found).iter().all(|d| d.abs() < 1e-5));
        // a rough start (each group's axis) reaches the same centroids, in the start's order
        let start = Array2::from_shape_fn((3, 3), |(i, j)| if i == j { 1.0 } else { 0.0 });
        let refined = refine(&data, &start, &r).unwrap();
        for g in 0..3 {
            assert_eq!(argmax(refined.row(g)), g);
        }
        let mut sorted: Vec<usize> = (0..3).map(|g| argmax(found.row(g))).collect();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2]);
    }

    #[test]
    fn centroid_sums_merge_over_slices() {
        let x = Array2::from_shape_fn((9, 3), |(i, j)| (i * 3 + j) as f64 * 0.25);
        let labels = [0, 1, 0, 2, 1, 0, 2, 2, 1];
        let whole = CentroidSums::partial(x.view(), &labels, 3);
        assert_eq!(whole.counts, [3, 3, 3]);
        let a = CentroidSums::partial(x.slice(s![..4, ..]), &labels[..4], 3);
        let b = CentroidSums::partial(x.slice(s![4.., ..]), &labels[4..], 3);
        let merged = a.merge(b);
        // small multiples of 1/4 add exactly in any order
        assert_eq!(merged, whole);
        let means = whole.means();
        assert_eq!(
            means[0].as_ref().unwrap()[0],
            (0.0 + 6.0 + 15.0) * 0.25 / 3.0
        );
        let empty = CentroidSums::partial(x.slice(s![..1, ..]), &labels[..1], 3);
        assert!(empty.means()[1].is_none());
    }

    #[test]
    fn agrees_with_linfas_kmeans() {
        let (x, truth) = blobs(5, 120, 10, 0.6, 11);
        let data = DatasetBase::from(x.clone());
        let fit = Lloyd::params(5).seed(7).fit(&data).unwrap();
        let ours = fit.predict(&x).to_vec();
        assert!(same_partition(&ours, &truth));
        // linfa on the same (unit) rows finds the same partition
        let mut unit = x.mapv(f64::from);
        normalize_rows(&mut unit);
        let r = Restarts {
            seed: 7,
            n_runs: 10,
            max_iterations: 300,
            tolerance: 1e-4,
        };
        let ud = kmeans_data(&unit);
        let linfa_c = linfa_discover(&ud, 5, &r).unwrap();
        let ours_c = discover(&ud, 5, &r).unwrap();
        let label = |c: &Array2<f64>| -> Vec<usize> {
            unit.rows()
                .into_iter()
                .map(|row| argmax(c.dot(&row).view()))
                .collect()
        };
        assert!(same_partition(&label(&linfa_c), &label(&ours_c)));
        assert!(same_partition(&label(&ours_c), &truth));
    }
}
