//! Nested themes: average-linkage clustering of the centroids (the dendrogram), and merging
//! the most similar fitted themes (`cluster.merge_above`, `cluster.merge_to`).
//!
//! The similarity of two nodes is the mean cosine similarity of the centroids of every pair
//! of clusters, one under each (UPGMA, scipy's `linkage(method="average")` on cosine
//! similarity; each cluster counts once, whatever its size). Each step joins the two most
//! similar nodes; ties go to the pair of lowest ids. A join's similarity is never above the
//! one before it (average linkage has no inversions), so cutting the dendrogram at a
//! similarity keeps a prefix of its steps.

use super::r6;
use crate::model::{Clustering, HierarchyNode};
use ndarray::Array2;

/// One step of agglomerative clustering over `k` leaves: the nodes joined (`left < right`)
/// into node `k + step`, and their similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// The node of the lower id.
    pub left: usize,
    /// The other.
    pub right: usize,
    /// Their average-linkage cosine similarity (not rounded).
    pub similarity: f64,
}

/// Average-linkage clustering of the rows of `centroids` by cosine similarity: `k − 1`
/// links (none for `k ≤ 1`). A row of zeros has similarity 0 to every other.
pub fn average_linkage(centroids: &Array2<f64>) -> Vec<Link> {
    let k = centroids.nrows();
    if k < 2 {
        return vec![];
    }
    let n = 2 * k - 1;
    let norms: Vec<f64> = centroids
        .rows()
        .into_iter()
        .map(|r| r.dot(&r).sqrt())
        .collect();
    // similarities between nodes, by node id; filled for new nodes as they are made
    let mut sim = vec![0.0f64; n * n];
    for a in 0..k {
        for b in 0..k {
            let d = norms[a] * norms[b];
            sim[a * n + b] = if d > 0.0 {
                (centroids.row(a).dot(&centroids.row(b)) / d).clamp(-1.0, 1.0)
            } else {
                0.0
            };
        }
    }
    let mut size = vec![1usize; n];
    let mut active: Vec<usize> = (0..k).collect();
    let mut links = Vec::with_capacity(k - 1);
    for step in 0..k - 1 {
        let mut best: Option<(usize, usize, f64)> = None;
        for (i, &a) in active.iter().enumerate() {
            for &b in &active[i + 1..] {
                let s = sim[a * n + b];
                if best.is_none_or(|(_, _, t)| s > t) {
                    best = Some((a, b, s));
                }
            }
        }
        let (a, b, s) = best.expect("two active nodes");
        let new = k + step;
        size[new] = size[a] + size[b];
        active.retain(|&x| x != a && x != b);
        // Lance–Williams for average linkage: the mean over leaf pairs, by leaf counts
        let (wa, wb) = (size[a] as f64, size[b] as f64);
        for &c in &active {
            let v = (wa * sim[a * n + c] + wb * sim[b * n + c]) / (wa + wb);
            sim[new * n + c] = v;
            sim[c * n + new] = v;
        }
        active.push(new);
        links.push(Link {
            left: a,
            right: b,
            similarity: s,
        });
    }
    links
}

/// How many of `links` (over `k` leaves) a merge takes: the steps of similarity at least
/// `above` (rounded to 6 decimals, as the dendrogram shows it), while more than `to` themes
/// remain (either may be absent; with neither, none).
pub fn merge_steps(links: &[Link], k: usize, above: Option<f64>, to: Option<usize>) -> usize {
    if above.is_none() && to.is_none() {
        return 0;
    }
    links
        .iter()
        .enumerate()
        .take_while(|(i, l)| {
            above.is_none_or(|x| r6(l.similarity) >= x) && to.is_none_or(|t| k - i > t.max(1))
        })
        .count()
}

/// The leaves (`0..k`) under each node of `links`, in the dendrogram's leaf order (left
/// subtree first).
pub fn leaves(links: &[Link], k: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = (0..k).map(|i| vec![i]).collect();
    for l in links {
        let mut v = out[l.left].clone();
        v.extend_from_slice(&out[l.right]);
        out.push(v);
    }
    out
}

/// The dendrogram of a clustering's themes: average linkage of its centroids, each node
/// with its clusters, passages and themes.
pub fn theme_hierarchy(c: &Clustering) -> Vec<HierarchyNode> {
    let k = c.centroids.nrows();
    if k != c.clusters.len() {
        return vec![];
    }
    let links = average_linkage(&c.centroids);
    let under = leaves(&links, k);
    links
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let node = k + i;
            let members = &under[node];
            HierarchyNode {
                node: node as u32,
                left: l.left as u32,
                right: l.right as u32,
                similarity: r6(l.similarity),
                themes: members.len() as u32,
                passages: members.iter().map(|&m| c.clusters[m].size).sum(),
                members: members
                    .iter()
                    .map(|&m| c.clusters[m].theme.as_str())
                    .collect::<Vec<_>>()
                    .join(" | "),
            }
        })
        .collect()
}

/// The clusters left after joining along `links` (a prefix of [`average_linkage`]'s over
/// `k` leaves): each as its fitted clusters, ascending, ordered by their lowest.
pub fn groups(links: &[Link], k: usize) -> Vec<Vec<usize>> {
    let under = leaves(links, k);
    let mut joined = vec![false; under.len()];
    for l in links {
        joined[l.left] = true;
        joined[l.right] = true;
    }
    let mut out: Vec<Vec<usize>> = (0..under.len())
        .filter(|&n| !joined[n])
        .map(|n| {
            let mut g = under[n].clone();
            g.sort_unstable();
            g
        })
        .collect();
    out.sort();
    out
}

/// One centroid per group: the normalised sum of its clusters' centroids weighted by their
/// `sizes` (all weights 1 when the group has no passage), so a merged theme points where
/// the mean of its members' centroids does. A sum of zero keeps the group's first centroid.
pub fn merged_centroids(
    centroids: &Array2<f64>,
    sizes: &[u32],
    groups: &[Vec<usize>],
) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((groups.len(), centroids.ncols()));
    for (g, members) in groups.iter().enumerate() {
        let total: u32 = members.iter().map(|&c| sizes[c]).sum();
        let mut row = out.row_mut(g);
        for &c in members {
            let w = if total > 0 { sizes[c] as f64 } else { 1.0 };
            row.scaled_add(w, &centroids.row(c));
        }
        let norm = row.dot(&row).sqrt();
        if norm > 0.0 {
            row /= norm;
        } else {
            row.assign(&centroids.row(members[0]));
        }
    }
    out
}

/// What a clustering becomes when the joins `links` (a prefix of [`average_linkage`]'s,
/// see [`merge_steps`]) of its fitted themes are taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// One unit centroid per group ([`merged_centroids`]).
    pub centroids: Array2<f64>,
    /// Each group's fixed name: its guided themes' names joined with `+`, or `None` (it is
    /// named by its terms).
    pub fixed: Vec<Option<String>>,
    /// The group of each fitted cluster.
    pub group_of: Vec<usize>,
    /// Each join taken: the two nodes, each as its fitted themes joined with `+`; their
    /// similarity (rounded to 6 decimals); the group they became part of.
    pub joins: Vec<(Vec<String>, f64, usize)>,
}

/// Merge fitted themes along `links`: `sizes` (passages) and `fitted` (names) of the fitted
/// clusters, whose `fixed` names (guided themes) the merged groups keep, joined with `+`.
pub fn merge(
    centroids: &Array2<f64>,
    links: &[Link],
    sizes: &[u32],
    fitted: &[String],
    fixed: &[Option<String>],
) -> Merged {
    let k = centroids.nrows();
    let groups = groups(links, k);
    let group_of: Vec<usize> = (0..k)
        .map(|c| groups.iter().position(|g| g.contains(&c)).unwrap_or(0))
        .collect();
    let fixed = groups
        .iter()
        .map(|g| {
            let own: Vec<&str> = g
                .iter()
                .filter_map(|&c| fixed.get(c).and_then(|f| f.as_deref()))
                .collect();
            (!own.is_empty()).then(|| own.join("+"))
        })
        .collect();
    let under = leaves(links, k);
    let joined = |node: usize| {
        under[node]
            .iter()
            .map(|&c| fitted[c].as_str())
            .collect::<Vec<_>>()
            .join("+")
    };
    let joins = links
        .iter()
        .map(|l| {
            (
                vec![joined(l.left), joined(l.right)],
                r6(l.similarity),
                group_of[under[l.left][0]],
            )
        })
        .collect();
    Merged {
        centroids: merged_centroids(centroids, sizes, &groups),
        fixed,
        group_of,
        joins,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ClusterInfo;
    use ndarray::array;

    /// Four unit vectors: 0 and 1 close, 2 and 3 close, the pairs far apart.
    fn four() -> Array2<f64> {
        let (c, s) = (0.9f64, (1.0f64 - 0.81).sqrt());
        array![
            [1.0, 0.0, 0.0, 0.0],
            [c, s, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.8, 0.6],
        ]
    }

    #[test]
    fn average_linkage_joins_the_closest_pairs_first() {
        let l = average_linkage(&four());
        assert_eq!(l.len(), 3);
        assert_eq!((l[0].left, l[0].right), (0, 1));
        assert!((l[0].similarity - 0.9).abs() < 1e-12);
        assert_eq!((l[1].left, l[1].right), (2, 3));
        assert!((l[1].similarity - 0.8).abs() < 1e-12);
        assert_eq!((l[2].left, l[2].right), (4, 5));
        // the mean of the four cross cosines: 0 and 1 are orthogonal to 2 and 3
        assert!(l[2].similarity.abs() < 1e-12);
        // never increasing
        assert!(l.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    }

    #[test]
    fn average_linkage_is_the_mean_over_leaf_pairs() {
        // a joined pair's similarity to a third leaf is the mean of the two cosines
        let m = array![[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]];
        let l = average_linkage(&m);
        assert_eq!((l[0].left, l[0].right), (0, 1));
        let cos = |a: [f64; 2], b: [f64; 2]| {
            (a[0] * b[0] + a[1] * b[1])
                / ((a[0] * a[0] + a[1] * a[1]).sqrt() * (b[0] * b[0] + b[1] * b[1]).sqrt())
        };
        let want = (cos([1.0, 0.0], [0.0, 1.0]) + cos([1.0, 0.1], [0.0, 1.0])) / 2.0;
        assert_eq!((l[1].left, l[1].right), (2, 3));
        assert!((l[1].similarity - want).abs() < 1e-12);
    }

    #[test]
    fn ties_go_to_the_lowest_ids_and_zero_rows_have_no_similarity() {
        let m = array![[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        let l = average_linkage(&m);
        assert_eq!((l[0].left, l[0].right), (0, 2));
        assert_eq!((l[1].left, l[1].right), (1, 3));
        let z = array![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]];
        let l = average_linkage(&z);
        assert_eq!((l[0].left, l[0].right), (1, 2));
        assert_eq!(l[1].similarity, 0.0);
        assert!(average_linkage(&array![[1.0, 0.0]]).is_empty());
    }

    /// A join of two joined nodes goes into their group, not the first one: six leaves, of
    /// which 2..=5 are joined pairwise and then together (node 6 with node 7).
    #[test]
    fn a_merge_names_each_join_by_the_group_it_went_into() {
        let link = |left, right, similarity| Link {
            left,
            right,
            similarity,
        };
        let links = [link(2, 3, 0.9), link(4, 5, 0.8), link(6, 7, 0.5)];
        let fitted: Vec<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
        let mut fixed = vec![None; 6];
        fixed[3] = Some("talks".to_string());
        fixed[4] = Some("deal".to_string());
        let m = merge(
            &Array2::eye(6),
            &links,
            &[1, 1, 2, 2, 0, 4],
            &fitted,
            &fixed,
        );
        assert_eq!(m.group_of, vec![0, 1, 2, 2, 2, 2]);
        assert_eq!(m.fixed, vec![None, None, Some("talks+deal".to_string())]);
        let into: Vec<usize> = m.joins.iter().map(|j| j.2).collect();
        assert_eq!(into, vec![2, 2, 2]);
        assert_eq!(m.joins[2].0, vec!["c+d".to_string(), "e+f".to_string()]);
        // the merged centroid: the members' centroids weighted by their passages
        let want = [0.0, 0.0, 2.0, 2.0, 0.0, 4.0].map(|x| x / 24f64.sqrt());
        for (got, want) in m.centroids.row(2).iter().zip(want) {
            assert!((got - want).abs() < 1e-12);
        }
        assert_eq!(
            m.centroids.row(0).to_vec(),
            vec![1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
        );
    }

    #[test]
    fn merge_steps_cut_by_similarity_and_by_count() {
        let l = average_linkage(&four());
        assert_eq!(merge_steps(&l, 4, None, None), 0);
        assert_eq!(merge_steps(&l, 4, Some(0.85), None), 1);
        assert_eq!(merge_steps(&l, 4, Some(0.8), None), 2);
        assert_eq!(merge_steps(&l, 4, Some(-1.0), None), 3);
        assert_eq!(merge_steps(&l, 4, None, Some(3)), 1);
        assert_eq!(merge_steps(&l, 4, None, Some(1)), 3);
        assert_eq!(merge_steps(&l, 4, None, Some(0)), 3);
        assert_eq!(merge_steps(&l, 4, None, Some(9)), 0);
        // both: whichever stops first
        assert_eq!(merge_steps(&l, 4, Some(0.5), Some(1)), 2);
        assert_eq!(merge_steps(&l, 4, Some(0.5), Some(3)), 1);
    }

    #[test]
    fn the_hierarchy_counts_themes_and_passages_under_each_node() {
        let c = Clustering {
            centroids: four(),
            clusters: ["a", "b", "c", "d"]
                .iter()
                .enumerate()
                .map(|(i, t)| ClusterInfo {
                    cluster: i as u32,
                    theme: t.to_string(),
                    size: 10 * (i as u32 + 1),
                    top_terms: String::new(),
                })
                .collect(),
            ..Default::default()
        };
        let h = theme_hierarchy(&c);
        let got: Vec<(u32, u32, u32, u32, u32, &str)> = h
            .iter()
            .map(|n| {
                (
                    n.node,
                    n.left,
                    n.right,
                    n.themes,
                    n.passages,
                    n.members.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (4, 0, 1, 2, 30, "a | b"),
                (5, 2, 3, 2, 70, "c | d"),
                (6, 4, 5, 4, 100, "a | b | c | d"),
            ]
        );
        assert_eq!(h[0].similarity, 0.9);
        assert_eq!(leaves(&average_linkage(&four()), 4)[6], [0, 1, 2, 3]);
    }

    #[test]
    fn groups_and_their_centroids() {
        let m = four();
        let l = average_linkage(&m);
        assert_eq!(groups(&l[..0], 4), [[0], [1], [2], [3]]);
        assert_eq!(groups(&l[..1], 4), vec![vec![0, 1], vec![2], vec![3]]);
        assert_eq!(groups(&l[..2], 4), [[0, 1], [2, 3]]);
        assert_eq!(groups(&l, 4), [[0, 1, 2, 3]]);
        // a later cluster joined to an earlier one sits at the earlier one's place
        let m2 = array![[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]];
        let l2 = average_linkage(&m2);
        assert_eq!((l2[0].left, l2[0].right), (0, 2));
        assert_eq!(groups(&l2[..1], 3), vec![vec![0, 2], vec![1]]);
        // weighted by size: 3 passages at (1, 0), 1 at (0, 1)
        let c = merged_centroids(&array![[1.0, 0.0], [0.0, 1.0]], &[3, 1], &[vec![0, 1]]);
        let n = (10.0f64).sqrt();
        assert!((c[[0, 0]] - 3.0 / n).abs() < 1e-12 && (c[[0, 1]] - 1.0 / n).abs() < 1e-12);
        // no passages: equal weights; opposite centroids: the first one
        let c = merged_centroids(&array![[1.0, 0.0], [0.0, 1.0]], &[0, 0], &[vec![0, 1]]);
        assert!((c[[0, 0]] - c[[0, 1]]).abs() < 1e-12);
        let c = merged_centroids(&array![[1.0, 0.0], [-1.0, 0.0]], &[1, 1], &[vec![0, 1]]);
        assert_eq!(c.row(0).to_vec(), [1.0, 0.0]);
    }
}
