//! Internal validity criteria of a clustering, for choosing k (`k = "auto"`).
//!
//! Rows are unit vectors (L2-normalised TF-IDF rows or their re-normalised LSA embedding).
//!
//! - **silhouette** (Rousseeuw 1987) with the cosine distance `1 − x·y`, on an evenly spaced
//!   sample of at most [`SILHOUETTE_SAMPLE`] rows (rows `⌊i·n/s⌋`: deterministic, and spread
//!   over the whole corpus whatever its order), as scikit-learn's `silhouette_score(…,
//!   metric="cosine", sample_size=s)` computes it on the sample; a point alone in its
//!   cluster scores 0. Higher is better, in [−1, 1].
//! - **Calinski–Harabasz**: between- over within-cluster dispersion, each divided by its
//!   degrees of freedom, `(B / (k − 1)) / (W / (n − k))`, Euclidean on all rows (the
//!   geometry k-means optimises). Higher is better.
//! - **Davies–Bouldin**: mean over clusters of the worst `(sᵢ + sⱼ) / ‖μᵢ − μⱼ‖`, with `sᵢ` the
//!   mean distance of cluster i's rows to its centroid, on all rows. Lower is better.

use ndarray::Array2;

/// Largest number of rows the silhouette is computed on (an s × s similarity matrix).
pub const SILHOUETTE_SAMPLE: usize = 2000;

/// Evenly spaced sample of `n` row indices, at most `s` of them.
pub fn sample(n: usize, s: usize) -> Vec<usize> {
    if n <= s {
        return (0..n).collect();
    }
    (0..s).map(|i| i * n / s).collect()
}

/// Cosine similarities of the sampled rows (computed once per sweep).
pub fn gram(x: &Array2<f64>, rows: &[usize]) -> Array2<f64> {
    let xs = x.select(ndarray::Axis(0), rows);
    xs.dot(&xs.t())
}

/// Mean silhouette (cosine distance) of the sampled rows, given their similarity matrix
/// `g` (from [`gram`]) and their labels.
pub fn silhouette(g: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    let s = labels.len();
    if s < 2 {
        return 0.0;
    }
    let mut size = vec![0usize; k];
    for &l in labels {
        size[l] += 1;
    }
    if size.iter().filter(|&&c| c > 0).count() < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    let mut sums = vec![0.0; k];
    for i in 0..s {
        sums.iter_mut().for_each(|v| *v = 0.0);
        for j in 0..s {
            if i != j {
                sums[labels[j]] += 1.0 - g[[i, j]];
            }
        }
        let own = labels[i];
        if size[own] < 2 {
            continue; // a point alone in its cluster scores 0
        }
        let a = sums[own] / (size[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && size[c] > 0)
            .map(|c| sums[c] / size[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            total += (b - a) / m;
        }
    }
    total / s as f64
}

/// Centroids (means) and sizes of the labelled rows.
fn means(x: &Array2<f64>, labels: &[usize], k: usize) -> (Array2<f64>, Vec<usize>) {
    let mut mu = Array2::<f64>::zeros((k, x.ncols()));
    let mut size = vec![0usize; k];
    for (i, &l) in labels.iter().enumerate() {
        let mut row = mu.row_mut(l);
        row += &x.row(i);
        size[l] += 1;
    }
    for (c, mut row) in mu.rows_mut().into_iter().enumerate() {
        if size[c] > 0 {
            row /= size[c] as f64;
        }
    }
    (mu, size)
}

fn dist2(a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// What Calinski–Harabasz and Davies–Bouldin take of a clustering of `n` rows: the cluster
/// means and sizes, the overall mean, and two sums over rows given the means — the squared
/// distances of the rows to their means (`within`) and, per cluster, their distances
/// (`spread`). Each is a sum over rows, so shards of rows add up to it (see
/// [`dispersion`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Parts {
    /// The cluster means (`k × d`; zero rows for empty clusters).
    pub mu: Array2<f64>,
    /// Rows per cluster.
    pub size: Vec<usize>,
    /// The mean of all rows.
    pub overall: ndarray::Array1<f64>,
    /// Σ over rows of the squared distance to the row's cluster mean.
    pub within: f64,
    /// Per cluster, Σ over its rows of the distance to its mean.
    pub spread: Vec<f64>,
    /// Rows.
    pub n: usize,
}

/// `(within, spread)` of [`Parts`] over the rows `x` with `labels`, given the means `mu`:
/// row by row, in order.
pub fn dispersion(
    x: ndarray::ArrayView2<f64>,
    labels: &[usize],
    mu: &Array2<f64>,
) -> (f64, Vec<f64>) {
    let mut within = 0.0;
    let mut spread = vec![0.0; mu.nrows()];
    for (i, &l) in labels.iter().enumerate() {
        let d = dist2(x.row(i), mu.row(l));
        within += d;
        spread[l] += d.sqrt();
    }
    (within, spread)
}

/// The [`Parts`] of rows `x` with `labels` (each below `k`).
pub fn parts(x: &Array2<f64>, labels: &[usize], k: usize) -> Parts {
    let (mu, size) = means(x, labels, k);
    let overall = match x.mean_axis(ndarray::Axis(0)) {
        Some(m) => m,
        None => ndarray::Array1::zeros(x.ncols()),
    };
    let (within, spread) = dispersion(x.view(), labels, &mu);
    Parts {
        mu,
        size,
        overall,
        within,
        spread,
        n: x.nrows(),
    }
}

/// Calinski–Harabasz index (scikit-learn's convention: 1 when every row sits on its
/// centroid; 0 when there is one cluster or one row per cluster).
pub fn calinski_harabasz(x: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    calinski_harabasz_of(&parts(x, labels, k))
}

/// [`calinski_harabasz`] from a clustering's [`Parts`].
pub fn calinski_harabasz_of(p: &Parts) -> f64 {
    let used = p.size.iter().filter(|&&c| c > 0).count();
    if used < 2 || p.n <= used {
        return 0.0;
    }
    let between: f64 = (0..p.size.len())
        .map(|c| p.size[c] as f64 * dist2(p.mu.row(c), p.overall.view()))
        .sum();
    if p.within == 0.0 {
        return 1.0;
    }
    (between / (used - 1) as f64) / (p.within / (p.n - used) as f64)
}

/// Davies–Bouldin index (empty clusters are left out).
pub fn davies_bouldin(x: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    davies_bouldin_of(&parts(x, labels, k))
}

/// [`davies_bouldin`] from a clustering's [`Parts`].
pub fn davies_bouldin_of(p: &Parts) -> f64 {
    let k = p.size.len();
    let used: Vec<usize> = (0..k).filter(|&c| p.size[c] > 0).collect();
    if used.len() < 2 {
        return 0.0;
    }
    let mut spread = p.spread.clone();
    for &c in &used {
        spread[c] /= p.size[c] as f64;
    }
    let worst: f64 = used
        .iter()
        .map(|&i| {
            used.iter()
                .filter(|&&j| j != i)
                .map(|&j| {
                    let d = dist2(p.mu.row(i), p.mu.row(j)).sqrt();
                    if d > 0.0 {
                        (spread[i] + spread[j]) / d
                    } else {
                        f64::INFINITY
                    }
                })
                .fold(0.0, f64::max)
        })
        .sum();
    worst / used.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Four unit vectors: two near the x axis, two near the y axis.
    fn four() -> Array2<f64> {
        array![[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.6, 0.8]]
    }

    #[test]
    fn silhouette_by_hand() {
        let x = four();
        let g = gram(&x, &sample(4, 10));
        // cosine distances: d01 = 0.2, d02 = 1, d03 = 0.4, d12 = 0.4, d13 = 0.04, d23 = 0.2
        // labels [0, 0, 1, 1]:
        //   p0: a = 0.2, b = (1 + 0.4) / 2 = 0.7      → s = 0.5 / 0.7
        //   p1: a = 0.2, b = (0.4 + 0.04) / 2 = 0.22  → s = 0.02 / 0.22
        //   p2: a = 0.2, b = (1 + 0.4) / 2 = 0.7      → s = 0.5 / 0.7
        //   p3: a = 0.2, b = (0.4 + 0.04) / 2 = 0.22  → s = 0.02 / 0.22
        let want = (2.0 * 0.5 / 0.7 + 2.0 * 0.02 / 0.22) / 4.0;
        let got = silhouette(&g, &[0, 0, 1, 1], 2);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        // the swapped pairing is worse: p0 with p3 (d 0.4), p1 with p2 (d 0.4)
        assert!(silhouette(&g, &[0, 1, 1, 0], 2) < got);
        // a singleton scores 0: labels [0, 1, 1, 1] → p0 contributes nothing
        let s = silhouette(&g, &[0, 1, 1, 1], 2);
        // p1: a = (0.4 + 0.04) / 2 = 0.22, b = 0.2 → (0.2 - 0.22) / 0.22
        // p2: a = (0.4 + 0.2) / 2 = 0.3,  b = 1   → 0.7
        // p3: a = (0.04 + 0.2) / 2 = 0.12, b = 0.4 → 0.28 / 0.4
        let want = (-0.02 / 0.22 + 0.7 + 0.7) / 4.0;
        assert!((s - want).abs() < 1e-12, "{s} vs {want}");
        assert_eq!(silhouette(&g, &[0, 0, 0, 0], 1), 0.0);
    }

    #[test]
    fn calinski_harabasz_and_davies_bouldin_by_hand() {
        let x = four();
        let l = [0, 0, 1, 1];
        // μ0 = (0.9, 0.3), μ1 = (0.3, 0.9), μ = (0.6, 0.6)
        // B = 2·(0.09 + 0.09) + 2·(0.09 + 0.09) = 0.72
        // W = 4 · (0.01 + 0.09) = 0.4  (each point is (±0.1, ±0.3) from its centroid)
        // CH = (0.72 / 1) / (0.4 / 2) = 3.6
        let ch = calinski_harabasz(&x, &l, 2);
        assert!((ch - 3.6).abs() < 1e-12, "{ch}");
        // s0 = s1 = √0.1; ‖μ0 − μ1‖ = √0.72; DB = 2√0.1 / √0.72
        let db = davies_bouldin(&x, &l, 2);
        let want = 2.0 * 0.1f64.sqrt() / 0.72f64.sqrt();
        assert!((db - want).abs() < 1e-12, "{db} vs {want}");
        // degenerate cases
        assert_eq!(calinski_harabasz(&x, &[0, 0, 0, 0], 1), 0.0);
        assert_eq!(davies_bouldin(&x, &[0, 0, 0, 0], 1), 0.0);
        let same = array![[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]];
        assert_eq!(calinski_harabasz(&same, &l, 2), 1.0);
        assert_eq!(davies_bouldin(&same, &l, 2), 0.0);
    }

    #[test]
    fn sample_is_even_and_deterministic() {
        assert_eq!(sample(3, 5), [0, 1, 2]);
        assert_eq!(sample(10, 4), [0, 2, 5, 7]);
    }
}
