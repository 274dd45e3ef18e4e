//! Stable themes across runs (discover mode): the clusters of a new fit are matched to those
//! of a previous run, one to one, and the matched ones keep their ids and names.
//!
//! Two runs' spaces differ (another LSA basis, another vocabulary), so clusters are compared
//! where both live: their centroids mapped back to terms (an LSA centroid `c` as `c Vᵀ`),
//! matched by the terms' strings, by cosine; and their members, by the Jaccard index of
//! the passages both runs hold (a passage is its document's path and its ordinal). The score
//! of a pair is the mean of the two (the cosine alone when the runs share no passage); an
//! optimal one-to-one matching (Kuhn–Munkres) maximises the total, and a pair scoring below
//! [`MATCH_FLOOR`] is not a match: the new cluster is `new`, the previous one `gone`.

pub use crate::model::ThemeChange;
use crate::model::{Clustering, LsaBasis, Vocabulary};
use ndarray::Array2;
use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;
use std::collections::HashMap;

/// A pair of clusters scoring below this is not the same theme.
pub const MATCH_FLOOR: f64 = 0.5;

/// A matched cluster whose size changed by at most this share of its previous size is `same`.
pub const SAME_SIZE: f64 = 0.05;

/// The clusters of one run as another run compares them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Themes {
    /// The kept terms, in term (code-point) order.
    pub terms: Vec<String>,
    /// One row per cluster: its centroid over `terms`, unit length.
    pub centroids: Array2<f64>,
    /// Each cluster's theme.
    pub names: Vec<String>,
    /// Each cluster's assigned passages.
    pub sizes: Vec<u32>,
    /// Each assigned passage's key (see [`passage_key`]) and cluster, sorted by key.
    pub members: Vec<(u64, u32)>,
}

/// The key of a passage across runs: its document's path and its ordinal.
pub fn passage_key(path: &str, ordinal: u32) -> u64 {
    // FNV-1a: fixed, so keys of two runs (and two processes) agree
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes().chain([0]).chain(ordinal.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Themes {
    /// The themes of a fitted clustering: `centroids` in the space k-means ran in (its `lsa`
    /// basis, or `vocab`'s kept terms), `members` as (passage key, cluster) of the assigned
    /// passages.
    pub fn new(
        vocab: &Vocabulary,
        centroids: &Array2<f64>,
        lsa: Option<&LsaBasis>,
        names: Vec<String>,
        mut members: Vec<(u64, u32)>,
    ) -> Themes {
        let terms: Vec<String> = vocab
            .terms
            .iter()
            .filter(|t| t.kept())
            .map(|t| t.term.clone())
            .collect();
        let mut c = match lsa {
            Some(b) => centroids.dot(&b.components.t()),
            None => centroids.clone(),
        };
        crate::math::rows::normalize_rows(&mut c);
        let mut sizes = vec![0u32; names.len()];
        for &(_, k) in &members {
            if let Some(s) = sizes.get_mut(k as usize) {
                *s += 1;
            }
        }
        members.sort_unstable();
        Themes {
            terms,
            centroids: c,
            names,
            sizes,
            members,
        }
    }

    fn k(&self) -> usize {
        self.names.len()
    }
}

/// `k_new × k_prev` scores: mean of centroid cosine (over common terms) and membership
/// Jaccard (over common passages).
fn scores(prev: &Themes, new: &Themes) -> Array2<f64> {
    // common terms, by a merge of the two sorted lists
    let (mut i, mut j) = (0, 0);
    let mut pairs = Vec::new();
    while i < prev.terms.len() && j < new.terms.len() {
        match prev.terms[i].cmp(&new.terms[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                pairs.push((i, j));
                i += 1;
                j += 1;
            }
        }
    }
    let (kp, kn) = (prev.k(), new.k());
    let mut cos = Array2::<f64>::zeros((kn, kp));
    for a in 0..kn {
        for b in 0..kp {
            cos[[a, b]] = pairs
                .iter()
                .map(|&(i, j)| prev.centroids[[b, i]] * new.centroids[[a, j]])
                .sum();
        }
    }
    // membership over the passages both runs assigned
    let prev_of: HashMap<u64, u32> = prev.members.iter().copied().collect();
    let mut both = Array2::<f64>::zeros((kn, kp));
    let (mut in_new, mut in_prev) = (vec![0f64; kn], vec![0f64; kp]);
    let mut common = 0usize;
    for &(key, a) in &new.members {
        if let Some(&b) = prev_of.get(&key) {
            if (a as usize) < kn && (b as usize) < kp {
                both[[a as usize, b as usize]] += 1.0;
                in_new[a as usize] += 1.0;
                in_prev[b as usize] += 1.0;
                common += 1;
            }
        }
    }
    let mut s = cos;
    if common > 0 {
        for a in 0..kn {
            for b in 0..kp {
                let union = in_new[a] + in_prev[b] - both[[a, b]];
                let jac = if union > 0.0 {
                    both[[a, b]] / union
                } else {
                    0.0
                };
                s[[a, b]] = (s[[a, b]] + jac) / 2.0;
            }
        }
    }
    s
}

/// For each new cluster, the previous cluster it matches and the pair's score.
pub fn match_themes(prev: &Themes, new: &Themes) -> Vec<Option<(u32, f64)>> {
    let (kp, kn) = (prev.k(), new.k());
    let mut out = vec![None; kn];
    if kp == 0 || kn == 0 {
        return out;
    }
    let s = scores(prev, new);
    // integer weights (the matching is exact on them); rows ≤ columns
    let w = |a: usize, b: usize| (s[[a, b]].clamp(-1.0, 1.0) * 1e9).round() as i64;
    if kn <= kp {
        let m = Matrix::from_fn(kn, kp, |(a, b)| w(a, b));
        let (_, cols) = kuhn_munkres(&m);
        for (a, &b) in cols.iter().enumerate() {
            out[a] = Some((b as u32, s[[a, b]]));
        }
    } else {
        let m = Matrix::from_fn(kp, kn, |(b, a)| w(a, b));
        let (_, cols) = kuhn_munkres(&m);
        for (b, &a) in cols.iter().enumerate() {
            out[a] = Some((b as u32, s[[a, b]]));
        }
    }
    for o in &mut out {
        if o.is_some_and(|(_, score)| score < MATCH_FLOOR) {
            *o = None;
        }
    }
    out
}

/// Renumber and rename the clusters of `c` (fitted in discover mode) after the previous run's
/// `prev`: a new cluster matched to a previous one takes its id (when it is below k) and its
/// name; the others take the free ids in order and keep their names (made unique). Returns
/// what became of every theme, in id order, the gone ones last (also set as `c.changes`).
pub fn keep_ids(c: &mut Clustering, new: &Themes, prev: &Themes) -> Vec<ThemeChange> {
    let k = new.k();
    let matched = match_themes(prev, new);
    let mut id = vec![u32::MAX; k];
    let mut taken = vec![false; k];
    for (a, m) in matched.iter().enumerate() {
        if let Some((b, _)) = m {
            if (*b as usize) < k && !taken[*b as usize] {
                id[a] = *b;
                taken[*b as usize] = true;
            }
        }
    }
    let mut free = (0..k as u32).filter(|&i| !taken[i as usize]);
    for slot in id.iter_mut() {
        if *slot == u32::MAX {
            *slot = free.next().expect("as many ids as clusters");
        }
    }
    // names: the previous name for a match, the own name otherwise, unique
    let mut names = vec![String::new(); k];
    for a in 0..k {
        if let Some((b, _)) = matched[a] {
            names[id[a] as usize] = prev.names[b as usize].clone();
        }
    }
    for a in 0..k {
        if matched[a].is_none() {
            let own = new.names[a].clone();
            let clash = names.contains(&own);
            names[id[a] as usize] = if clash {
                format!("{own} #{}", id[a])
            } else {
                own
            };
        }
    }
    renumber(c, &id, &names);
    let mut changes: Vec<ThemeChange> = (0..k)
        .map(|a| {
            let now = id[a];
            let size = new.sizes.get(a).copied().unwrap_or(0);
            match matched[a] {
                Some((b, score)) => {
                    let before = prev.sizes[b as usize];
                    let delta = size as f64 - before as f64;
                    let status = if delta.abs() <= SAME_SIZE * before as f64 {
                        "same"
                    } else if delta > 0.0 {
                        "grew"
                    } else {
                        "shrank"
                    };
                    ThemeChange {
                        cluster: Some(now),
                        theme: names[now as usize].clone(),
                        previous_cluster: Some(b),
                        size,
                        previous_size: before,
                        score: (score * 1e6).round() / 1e6,
                        status: status.into(),
                    }
                }
                None => ThemeChange {
                    cluster: Some(now),
                    theme: names[now as usize].clone(),
                    previous_cluster: None,
                    size,
                    previous_size: 0,
                    score: 0.0,
                    status: "new".into(),
                },
            }
        })
        .collect();
    changes.sort_by_key(|x| x.cluster);
    let kept: Vec<u32> = matched.iter().flatten().map(|m| m.0).collect();
    for b in 0..prev.k() as u32 {
        if !kept.contains(&b) {
            changes.push(ThemeChange {
                cluster: None,
                theme: prev.names[b as usize].clone(),
                previous_cluster: Some(b),
                size: 0,
                previous_size: prev.sizes[b as usize],
                score: 0.0,
                status: "gone".into(),
            });
        }
    }
    c.changes = changes.clone();
    changes
}

/// Give cluster `a` of `c` the id `id[a]` and the name `names[id[a]]`, everywhere.
fn renumber(c: &mut Clustering, id: &[u32], names: &[String]) {
    let to = |x: u32| id[x as usize];
    for a in &mut c.assignments {
        if let Some(x) = a.cluster {
            a.cluster = Some(to(x));
            a.theme = names[to(x) as usize].clone();
        }
    }
    for x in &mut c.clusters {
        x.cluster = to(x.cluster);
        x.theme = names[x.cluster as usize].clone();
    }
    c.clusters.sort_by_key(|x| x.cluster);
    for t in &mut c.terms {
        t.cluster = to(t.cluster);
    }
    for x in &mut c.explanations {
        x.cluster = to(x.cluster);
    }
    // terms: by cluster, then measure and rank as before (a stable sort keeps their order)
    c.terms.sort_by_key(|t| t.cluster);
    if c.centroids.nrows() == id.len() {
        let mut moved = c.centroids.clone();
        for (a, row) in c.centroids.rows().into_iter().enumerate() {
            moved.row_mut(id[a] as usize).assign(&row);
        }
        c.centroids = moved;
    }
    for x in &mut c.merges {
        x.into_cluster = to(x.into_cluster);
        x.into = names[x.into_cluster as usize].clone();
    }
    c.hierarchy = crate::cluster::theme_hierarchy(c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Term, Vocabulary};

    fn vocab(terms: &[&str]) -> Vocabulary {
        Vocabulary {
            terms: terms
                .iter()
                .map(|t| Term {
                    term: t.to_string(),
                    label: t.to_string(),
                    df: 1,
                    cf: 1,
                    idf: 1.0,
                    dropped: None,
                })
                .collect(),
            n_rows: 0,
        }
    }

    fn themes(terms: &[&str], rows: &[&[f64]], names: &[&str], members: &[(u64, u32)]) -> Themes {
        let c = Array2::from_shape_vec(
            (rows.len(), terms.len()),
            rows.iter().flat_map(|r| r.iter().copied()).collect(),
        )
        .unwrap();
        Themes::new(
            &vocab(terms),
            &c,
            None,
            names.iter().map(|s| s.to_string()).collect(),
            members.to_vec(),
        )
    }

    #[test]
    fn a_permuted_fit_is_matched_back_and_a_new_theme_is_new() {
        let prev = themes(
            &["ball", "court", "law", "vote"],
            &[&[1.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 0.7, 0.7]],
            &["sport", "politics"],
            &[(1, 0), (2, 0), (3, 1), (4, 1)],
        );
        // the same two themes in the other order (another seed), plus a third; one more term
        let new = themes(
            &["ball", "court", "film", "law", "vote"],
            &[
                &[0.0, 0.0, 0.0, 0.6, 0.8],
                &[0.0, 0.0, 1.0, 0.0, 0.0],
                &[0.9, 0.1, 0.0, 0.0, 0.0],
            ],
            &["law/vote", "film", "ball/court"],
            &[(1, 2), (2, 2), (3, 0), (4, 0), (5, 1), (6, 2)],
        );
        let m = match_themes(&prev, &new);
        assert_eq!(m[0].map(|x| x.0), Some(1));
        assert_eq!(m[1], None);
        assert_eq!(m[2].map(|x| x.0), Some(0));
        let mut c = Clustering {
            clusters: (0..3)
                .map(|i| crate::model::ClusterInfo {
                    cluster: i,
                    theme: new.names[i as usize].clone(),
                    size: new.sizes[i as usize],
                    top_terms: String::new(),
                })
                .collect(),
            centroids: Array2::zeros((3, 5)),
            ..Default::default()
        };
        let changes = keep_ids(&mut c, &new, &prev);
        let got: Vec<(Option<u32>, &str, &str)> = changes
            .iter()
            .map(|x| (x.cluster, x.theme.as_str(), x.status.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(0), "sport", "grew"),
                (Some(1), "politics", "same"),
                (Some(2), "film", "new")
            ]
        );
        assert_eq!(
            c.clusters
                .iter()
                .map(|x| x.theme.as_str())
                .collect::<Vec<_>>(),
            ["sport", "politics", "film"]
        );
    }

    #[test]
    fn a_theme_with_nothing_alike_is_gone() {
        let prev = themes(
            &["a", "b"],
            &[&[1.0, 0.0], &[0.0, 1.0]],
            &["x", "y"],
            &[(1, 0), (2, 1)],
        );
        let new = themes(&["a", "b"], &[&[1.0, 0.0]], &["x2"], &[(1, 0), (2, 0)]);
        let mut c = Clustering {
            centroids: Array2::zeros((1, 2)),
            ..Default::default()
        };
        let ch = keep_ids(&mut c, &new, &prev);
        assert_eq!(ch.len(), 2);
        assert_eq!((ch[0].theme.as_str(), ch[0].status.as_str()), ("x", "grew"));
        assert_eq!((ch[1].theme.as_str(), ch[1].status.as_str()), ("y", "gone"));
    }

    #[test]
    fn passage_keys_differ_by_path_and_ordinal() {
        assert_ne!(passage_key("a.txt", 1), passage_key("a.txt", 2));
        assert_ne!(passage_key("a.txt", 1), passage_key("b.txt", 1));
        assert_eq!(passage_key("a.txt", 1), passage_key("a.txt", 1));
    }
}
