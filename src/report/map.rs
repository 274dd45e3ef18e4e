//! A 2-D map of passages for the report: each kept passage's TF-IDF row projected onto two
//! directions of a truncated SVD (LSA, `themata_core::math::lsa`) of the TF-IDF matrix.
//!
//! The first singular direction of L2-normalised TF-IDF rows is close to the corpus's mean
//! direction (how typical a passage is, not what it is about), so the map shows the second
//! and third components, which separate topics. Coordinates are `X v₂`, `X v₃` (not
//! re-normalised), so a passage far from the origin leans strongly along a direction.
//! Deterministic: the SVD is seeded and row-by-row, and large corpora are sampled by a
//! fixed stride.

use serde::Serialize;
use themata_core::math::lsa;
use themata_core::model::{Clustering, SparseRows, Vocabulary};

/// At most this many passages are placed on the map (every n-th one beyond that).
pub const MAX_POINTS: usize = 2000;

/// SVD components computed: the map uses the 2nd and 3rd.
const DIMS: usize = 3;

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct PassageMap {
    /// How the coordinates were computed, or why there is no map.
    pub method: String,
    /// Kept passages with at least one kept term (the passages that could be placed).
    pub passages: usize,
    /// The placed passages (all of them, or every `stride`-th beyond [`MAX_POINTS`]).
    pub points: Vec<MapPoint>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MapPoint {
    pub passage_id: u32,
    /// `None` for unassigned passages.
    pub cluster: Option<u32>,
    pub x: f64,
    pub y: f64,
}

fn r4(x: f64) -> f64 {
    let r = (x * 1e4).round() / 1e4;
    if r == 0.0 {
        0.0 // no "-0.0" in reports
    } else {
        r
    }
}

/// Place the kept passages of `m` on a plane. Never fails: when the matrix is too small for
/// two components, or the SVD fails, the map is empty and `method` says why.
pub fn passage_map(m: &SparseRows, vocab: &Vocabulary, c: &Clustering, seed: u64) -> PassageMap {
    let (cols, n_cols) = vocab.columns();
    let rows: Vec<usize> = (0..m.n_rows())
        .filter(|&r| !m.row(r).0.is_empty())
        .collect();
    let mut map = PassageMap {
        passages: rows.len(),
        ..Default::default()
    };
    if rows.len() < DIMS + 1 || n_cols < DIMS + 1 {
        map.method = format!(
            "no map: {} passages with kept terms over {n_cols} terms are too few for a \
             truncated SVD",
            rows.len()
        );
        return map;
    }
    // Beyond MAX_POINTS passages the map shows every `stride`-th one, and the SVD is fitted
    // on those rows only: the map stays cheap (time and memory) whatever the corpus size.
    let stride = rows.len().div_ceil(MAX_POINTS);
    let shown: Vec<usize> = rows.iter().step_by(stride).copied().collect();
    let sample;
    let fitted = if stride > 1 {
        sample = m.select(&shown);
        &sample
    } else {
        m
    };
    let lsa = match lsa::fit(fitted, &cols, n_cols, DIMS, seed) {
        Ok(l) => l,
        Err(e) => {
            map.method = format!("no map: {e}");
            return map;
        }
    };
    let dims = lsa.components.ncols();
    // (x, y) = components 2 and 3, or 1 and 2 when the matrix has rank below 3
    let (a, b) = if dims >= 3 { (1, 2) } else { (0, dims - 1) };
    let cluster_of: std::collections::HashMap<u32, Option<u32>> = c
        .assignments
        .iter()
        .map(|a| (a.passage_id, a.cluster))
        .collect();
    for &r in &shown {
        let (ids, w) = m.row(r);
        let (mut px, mut py) = (0.0, 0.0);
        for (&t, &v) in ids.iter().zip(w) {
            let col = cols[t as usize];
            if col != u32::MAX {
                px += v * lsa.components[[col as usize, a]];
                py += v * lsa.components[[col as usize, b]];
            }
        }
        let id = m.row_ids[r];
        map.points.push(MapPoint {
            passage_id: id,
            cluster: cluster_of.get(&id).copied().flatten(),
            x: r4(px),
            y: r4(py),
        });
    }
    map.method = format!(
        "components {} and {} of a truncated SVD (LSA) of the TF-IDF rows{}",
        a + 1,
        b + 1,
        if stride > 1 {
            format!(
                "; fitted on and showing one passage in {stride} of {}",
                rows.len()
            )
        } else {
            String::new()
        }
    );
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use themata_core::model::{Assignment, AssignmentStatus, Term};

    /// Three groups of passages over disjoint terms (0–4, 5–9, 10–14).
    fn three_groups(per_group: u32) -> (SparseRows, Vocabulary, Clustering) {
        let mut m = SparseRows::empty();
        let mut c = Clustering::default();
        for r in 0..3 * per_group {
            let g = r % 3;
            let mut ids: Vec<u32> = (0..3).map(|j| g * 5 + (r / 3 + j) % 5).collect();
            ids.sort();
            ids.dedup();
            let w = 1.0 / (ids.len() as f64).sqrt();
            m.push_row(r, &ids, &vec![1; ids.len()], &vec![w; ids.len()]);
            c.assignments.push(Assignment {
                passage_id: r,
                cluster: Some(g),
                theme: format!("t{g}"),
                similarity: 1.0,
                margin: 0.5,
                status: AssignmentStatus::Assigned,
            });
        }
        let terms = (0..15)
            .map(|i| Term {
                term: format!("w{i:02}"),
                label: format!("w{i:02}"),
                df: 1,
                cf: 1,
                idf: 1.0,
                dropped: None,
            })
            .collect();
        let vocab = Vocabulary {
            terms,
            n_rows: m.n_rows(),
        };
        (m, vocab, c)
    }

    fn centre(map: &PassageMap, g: u32) -> (f64, f64) {
        let pts: Vec<_> = map.points.iter().filter(|p| p.cluster == Some(g)).collect();
        let n = pts.len() as f64;
        (
            pts.iter().map(|p| p.x).sum::<f64>() / n,
            pts.iter().map(|p| p.y).sum::<f64>() / n,
        )
    }

    /// Each placed passage is nearer its own group's centre than any other group's.
    fn assert_groups_apart(map: &PassageMap) {
        let centres: Vec<_> = (0..3).map(|g| centre(map, g)).collect();
        for p in &map.points {
            let d = |(x, y): (f64, f64)| (p.x - x).powi(2) + (p.y - y).powi(2);
            let own = d(centres[p.cluster.unwrap() as usize]);
            for (g, &cg) in centres.iter().enumerate() {
                if Some(g as u32) != p.cluster {
                    assert!(
                        own < d(cg),
                        "passage {} sits nearer group {g}",
                        p.passage_id
                    );
                }
            }
        }
    }

    #[test]
    fn groups_land_apart_on_the_map() {
        let (m, vocab, c) = three_groups(10);
        let map = passage_map(&m, &vocab, &c, 7);
        assert_eq!(map.points.len(), 30);
        assert_eq!(map.passages, 30);
        assert!(
            map.method.starts_with("components 2 and 3"),
            "{}",
            map.method
        );
        assert_groups_apart(&map);
        assert_eq!(map, passage_map(&m, &vocab, &c, 7), "deterministic");
    }

    #[test]
    fn large_corpora_are_sampled_by_stride() {
        let (m, vocab, c) = three_groups(1000);
        let map = passage_map(&m, &vocab, &c, 7);
        assert_eq!(map.passages, 3000);
        assert_eq!(map.points.len(), 1500);
        assert_eq!(map.points[1].passage_id, 2);
        assert!(
            map.method.contains("one passage in 2 of 3000"),
            "{}",
            map.method
        );
        // fitted on the sample, the groups still land apart
        assert_groups_apart(&map);
    }

    #[test]
    fn too_small_a_matrix_gives_no_map_and_no_panic() {
        let (m, vocab, c) = three_groups(1);
        let map = passage_map(&m, &vocab, &c, 7);
        assert!(map.points.is_empty());
        assert!(map.method.starts_with("no map"), "{}", map.method);
        let empty = passage_map(
            &SparseRows {
                indptr: vec![0],
                ..Default::default()
            },
            &vocab,
            &Clustering::default(),
            7,
        );
        assert!(empty.points.is_empty());
    }
}
