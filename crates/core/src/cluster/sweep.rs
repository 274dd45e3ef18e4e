//! Choosing k in discover mode (`k = "auto"`): every k of `k_min..=k_max` is fitted and
//! scored by the validity criteria of [`crate::math::validity`], and a rule picks one.
//!
//! **The rule** ([`choose`]): each k gets its rank by silhouette and its rank by
//! Davies–Bouldin (1 = best); the k with the smallest sum of the two ranks wins; ties go to
//! the higher silhouette, then to the smaller k. Two criteria that measure separation
//! differently must agree, so a k that one of them likes for a degenerate reason (silhouette
//! is often highest at k = 2 on text) does not win alone. Calinski–Harabasz is reported
//! but not voted: on sparse, high-dimensional text it falls steadily with k and would
//! always pick k_min.

use super::{r6, ClusterError, ClusterParams};
use crate::math::kmeans::{self, KMeansData};
use crate::math::rows::argmax;
use crate::math::validity;
use crate::model::SweepRow;
use ndarray::Array2;

/// `k = "auto"`: fit every k of the range, score it, pick one ([`choose`]).
pub(super) fn sweep_fit(
    x: &Array2<f64>,
    data: &KMeansData,
    settings: &ClusterParams,
) -> Result<(Array2<f64>, Vec<SweepRow>), ClusterError> {
    let n = x.nrows();
    let hi = settings.k_max.min(n.saturating_sub(1));
    if hi < settings.k_min {
        return Err(ClusterError::SweepRange {
            k_min: settings.k_min,
            k_max: settings.k_max,
            n,
        });
    }
    let sample = validity::sample(n, validity::SILHOUETTE_SAMPLE);
    let g = validity::gram(x, &sample);
    let mut rows = Vec::new();
    let mut fits = Vec::new();
    for k in settings.k_min..=hi {
        let c = kmeans::discover(data, k, &settings.restarts())?;
        let labels: Vec<usize> = x.dot(&c.t()).rows().into_iter().map(argmax).collect();
        let sampled: Vec<usize> = sample.iter().map(|&i| labels[i]).collect();
        rows.push(score(k, &g, &sampled, &validity::parts(x, &labels, k)));
        fits.push(c);
    }
    let best = choose(&mut rows);
    Ok((fits.swap_remove(best), rows))
}

/// The sweep's row of one k: the silhouette of the sample (`g`, the sampled rows' cosine
/// similarities, and their labels) and the criteria of all rows from their [`validity::Parts`]
/// (which shards of rows add up to), rounded to 6 decimals. Not yet chosen.
pub fn score(k: usize, g: &Array2<f64>, sampled: &[usize], parts: &validity::Parts) -> SweepRow {
    SweepRow {
        k,
        silhouette: r6(validity::silhouette(g, sampled, k)),
        calinski_harabasz: r6(validity::calinski_harabasz_of(parts)),
        davies_bouldin: r6(validity::davies_bouldin_of(parts)),
        chosen: false,
    }
}

/// The warning of a sweep (its rows, one chosen) whose chosen k is an end of the range.
pub fn end_of_range(rows: &[SweepRow]) -> Option<String> {
    let (first, last) = (rows.first()?.k, rows.last()?.k);
    let chosen = rows.iter().find(|r| r.chosen)?.k;
    (rows.len() > 1 && (chosen == first || chosen == last)).then(|| {
        format!(
            "k = \"auto\" chose k = {chosen}, an end of the range swept ({first}..={last}): \
             the criteria may prefer a k outside it; widen cluster.k_min / cluster.k_max to see"
        )
    })
}

/// 1-based ranks of `v` (ties share the better rank), best first by `better`.
fn ranks(v: &[f64], higher_is_better: bool) -> Vec<usize> {
    v.iter()
        .map(|&x| {
            1 + v
                .iter()
                .filter(|&&y| if higher_is_better { y > x } else { y < x })
                .count()
        })
        .collect()
}

/// Mark the chosen row by the rule of this module; returns its index.
pub fn choose(rows: &mut [SweepRow]) -> usize {
    let sil: Vec<f64> = rows.iter().map(|r| r.silhouette).collect();
    let db: Vec<f64> = rows.iter().map(|r| r.davies_bouldin).collect();
    let (rs, rd) = (ranks(&sil, true), ranks(&db, false));
    let mut best = 0;
    for i in 1..rows.len() {
        let key = |j: usize| rs[j] + rd[j];
        if key(i) < key(best) || (key(i) == key(best) && sil[i] > sil[best]) {
            best = i;
        }
    }
    for (i, r) in rows.iter_mut().enumerate() {
        r.chosen = i == best;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_needs_both_criteria() {
        let row = |k, silhouette, davies_bouldin| SweepRow {
            k,
            silhouette,
            calinski_harabasz: 0.0,
            davies_bouldin,
            chosen: false,
        };
        // k = 2 has the best silhouette but the worst Davies–Bouldin; k = 4 is second on both
        let mut rows = vec![
            row(2, 0.30, 2.0),
            row(3, 0.20, 1.9),
            row(4, 0.25, 1.5),
            row(5, 0.10, 1.4),
        ];
        assert_eq!(choose(&mut rows), 2);
        assert_eq!(
            rows.iter().map(|r| r.chosen).collect::<Vec<_>>(),
            [false, false, true, false]
        );
        // rank sums tie (k = 2: 1 + 2, k = 3: 2 + 1): the higher silhouette wins
        let mut rows = vec![row(2, 0.3, 1.5), row(3, 0.2, 1.0)];
        assert_eq!(choose(&mut rows), 0);
        assert_eq!(ranks(&[0.5, 0.7, 0.5], true), [2, 1, 2]);
    }
}
