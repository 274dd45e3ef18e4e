//! A fitted model applied to new passages, without refitting: analysed with the run's
//! analyzer, weighed with its vocabulary and idf (terms it never saw are counted, not
//! added), embedded in the space its k-means ran in (its LSA basis, or its kept terms) and
//! placed with its centroids and its floors.
//!
//! Every step is the one the run took ([`TermCounts::partial`], [`weigh`], [`embed`],
//! [`assign`]), and each works row by row: applied to the passages it was fitted on, a model
//! gives their assignments again, to the last bits of the similarities' sums.

use crate::analyze::{Analyzer, TermCounts};
use crate::cluster::{assign, embed, explain};
use crate::model::{Assignment, Explanation, LsaBasis, SparseRows, Vocabulary, UNASSIGNED};
use crate::tfidf::{weigh, TfidfParams};
use crate::Observer;
use ndarray::Array2;

/// What a run fitted, as far as placing new passages needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Every term the run counted, with its df, idf and whether it was kept.
    pub vocabulary: Vocabulary,
    /// How rows are weighed (`sublinear_tf`, `norm`; idf comes from the vocabulary).
    pub tfidf: TfidfParams,
    /// One row per cluster, in the space k-means ran in.
    pub centroids: Array2<f64>,
    /// The LSA basis when k-means ran on the LSA embedding.
    pub lsa: Option<LsaBasis>,
    /// Guided mode's `(min_similarity, min_margin)`; `None` in discover mode.
    pub floors: Option<(f64, f64)>,
    /// Each cluster's theme, in cluster order.
    pub themes: Vec<String>,
    /// Top contributing terms explained per passage and role (`cluster.explain_terms`).
    pub explain_terms: usize,
}

/// Terms of the new passages that the model's vocabulary does not have.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unseen {
    /// Their occurrences.
    pub occurrences: u64,
    /// How many distinct terms.
    pub distinct: usize,
    /// The most frequent of them (label, occurrences), most frequent first, at most 20.
    pub top: Vec<(String, u64)>,
}

/// New passages, placed by a model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Their TF-IDF rows over the model's vocabulary (term ids are the model's).
    pub tfidf: SparseRows,
    /// Every passage once, in the order given.
    pub assignments: Vec<Assignment>,
    /// Occurrences of all their terms (seen or not), after analysis.
    pub occurrences: u64,
    /// Of which not in the model's vocabulary.
    pub unseen: Unseen,
    /// Occurrences of terms the model saw but did not keep (pruned).
    pub pruned_occurrences: u64,
    /// Each passage's top contributing terms to its nearest centroid and the runner-up.
    pub explanations: Vec<Explanation>,
}

impl Model {
    /// Whether the parts fit together: a theme per centroid, and centroids as wide as the
    /// space (the LSA dimensions, or the kept terms). The error says what does not fit.
    pub fn check(&self) -> Result<(), String> {
        let k = self.centroids.nrows();
        if k == 0 {
            return Err("the model has no centroid".into());
        }
        if self.themes.len() != k {
            return Err(format!(
                "{} centroids but {} clusters",
                k,
                self.themes.len()
            ));
        }
        let kept = self.vocabulary.n_kept();
        let width = match &self.lsa {
            Some(b) => {
                if b.components.nrows() != kept {
                    return Err(format!(
                        "the LSA basis has {} term rows but the vocabulary keeps {kept} terms",
                        b.components.nrows()
                    ));
                }
                b.components.ncols()
            }
            None => kept,
        };
        if self.centroids.ncols() != width {
            return Err(format!(
                "centroids have {} dimensions, the space has {width}",
                self.centroids.ncols()
            ));
        }
        Ok(())
    }

    /// Analyse the passages `texts` (named `ids`) with `analyzer` — the run's — and place
    /// them.
    pub fn apply(
        &self,
        analyzer: &Analyzer,
        ids: &[u32],
        texts: &[&str],
        observer: &dyn Observer,
    ) -> Applied {
        let counts = TermCounts::partial(analyzer, ids, texts, observer).finish();
        // both term lists are in code-point order, so the map keeps rows sorted
        let to_model: Vec<Option<u32>> =
            counts.terms.iter().map(|t| self.vocabulary.id(t)).collect();
        let mut rows = SparseRows::empty();
        let mut unseen = vec![0u64; counts.terms.len()];
        let (mut occurrences, mut pruned) = (0u64, 0u64);
        let (mut cols, mut cs) = (Vec::new(), Vec::new());
        for r in 0..counts.rows.n_rows() {
            cols.clear();
            cs.clear();
            let (terms, ns) = counts.rows.row_counts(r);
            for (&t, &n) in terms.iter().zip(ns) {
                occurrences += n as u64;
                match to_model[t as usize] {
                    Some(id) => {
                        if !self.vocabulary.terms[id as usize].kept() {
                            pruned += n as u64;
                        }
                        cols.push(id);
                        cs.push(n);
                    }
                    None => unseen[t as usize] += n as u64,
                }
            }
            rows.push_row(counts.rows.row_ids[r], &cols, &cs, &[]);
        }
        if rows.indptr.is_empty() {
            rows.indptr.push(0);
        }
        let m = weigh(&rows, &self.vocabulary, &self.tfidf);
        drop(rows);
        let (x, nonempty) = embed(&m, &self.vocabulary, self.lsa.as_ref());
        let placed = assign(&x, &nonempty, m.n_rows(), &self.centroids, self.floors);
        let explanations = explain(
            &m,
            &self.vocabulary,
            &x,
            &nonempty,
            &self.centroids,
            self.lsa.as_ref().map(|b| &b.components),
            self.explain_terms,
        );
        drop(x);
        let assignments = placed
            .into_iter()
            .enumerate()
            .map(|(r, (c, similarity, margin, status))| Assignment {
                passage_id: m.row_ids[r],
                cluster: c,
                theme: c.map_or_else(
                    || UNASSIGNED.to_string(),
                    |c| self.themes[c as usize].clone(),
                ),
                similarity,
                margin,
                status,
            })
            .collect();
        let mut top: Vec<(String, u64)> = unseen
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(t, &n)| (counts.labels[t].clone(), n))
            .collect();
        let distinct = top.len();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(20);
        Applied {
            tfidf: m,
            assignments,
            occurrences,
            unseen: Unseen {
                occurrences: unseen.iter().sum(),
                distinct,
                top,
            },
            pruned_occurrences: pruned,
            explanations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{AnalyzerParams, StopWords};
    use crate::cluster::{cluster, ClusterParams, Mode, Reduce, Theme, K};
    use crate::model::AssignmentStatus;
    use crate::tfidf::{self, DocFreq};
    use crate::Silent;

    /// The clustering tests' passages, and one of stop words only.
    fn texts() -> Vec<&'static str> {
        let mut t = crate::cluster::tests::TEXTS.to_vec();
        t.push("the the the");
        t
    }

    fn analyzer() -> Analyzer {
        Analyzer::new(&AnalyzerParams {
            stop_words: StopWords::Builtin,
            ..Default::default()
        })
        .unwrap()
    }

    fn fit(params: &ClusterParams) -> (Model, Vec<Assignment>) {
        let (model, c) = fit_clustering(params);
        (model, c.assignments)
    }

    fn fit_clustering(params: &ClusterParams) -> (Model, crate::model::Clustering) {
        let a = analyzer();
        let texts = texts();
        let ids: Vec<u32> = (0..texts.len() as u32).collect();
        let counts = TermCounts::partial(&a, &ids, &texts, &Silent).finish();
        let t = tfidf::TfidfParams {
            min_df: DocFreq::Count(1),
            ..Default::default()
        };
        let (vocab, m) = tfidf::fit(&counts, &t).unwrap();
        let c = cluster(&m, &vocab, &a, params).unwrap();
        let model = Model {
            vocabulary: vocab,
            tfidf: t,
            centroids: c.centroids.clone(),
            lsa: c.lsa.clone(),
            floors: crate::cluster::floors(params),
            themes: c.clusters.iter().map(|x| x.theme.clone()).collect(),
            explain_terms: params.explain_terms,
        };
        model.check().unwrap();
        (model, c)
    }

    fn guided(reduce: Reduce) -> ClusterParams {
        ClusterParams {
            mode: Mode::Guided,
            reduce,
            lsa_dims: 4,
            themes: [
                ("doctrine", &["doctrine", "ideology"][..]),
                ("negotiation", &["negotiations", "talks"]),
                ("succession", &["succession", "successor"]),
            ]
            .iter()
            .map(|(n, s)| Theme {
                name: n.to_string(),
                seeds: s.iter().map(|x| x.to_string()).collect(),
            })
            .collect(),
            ..Default::default()
        }
    }

    /// Applied to the passages it was fitted on, a model places them as the run did.
    #[test]
    fn applying_to_the_fitted_passages_reproduces_the_assignments() {
        let discover = ClusterParams {
            mode: Mode::Discover,
            k: Some(K::Fixed(3)),
            reduce: Reduce::Lsa,
            lsa_dims: 4,
            ..Default::default()
        };
        // and models whose themes were merged after fitting (down to two)
        let merged = |p: &ClusterParams| ClusterParams {
            merge_to: Some(2),
            ..p.clone()
        };
        for params in [
            guided(Reduce::None),
            guided(Reduce::Lsa),
            merged(&guided(Reduce::Lsa)),
            merged(&discover),
            discover,
        ] {
            let (model, fitted) = fit(&params);
            if params.merge_to.is_some() {
                assert_eq!(model.themes.len(), 2, "{:?}", model.themes);
            }
            let texts = texts();
            let ids: Vec<u32> = (0..texts.len() as u32).collect();
            let applied = model.apply(&analyzer(), &ids, &texts, &Silent);
            assert_eq!(applied.unseen, Unseen::default());
            assert_eq!(applied.assignments.len(), fitted.len());
            for (a, b) in applied.assignments.iter().zip(&fitted) {
                assert_eq!(
                    (a.passage_id, a.cluster, &a.theme, a.status),
                    (b.passage_id, b.cluster, &b.theme, b.status),
                    "{:?}",
                    params.reduce
                );
                assert!((a.similarity - b.similarity).abs() <= 1e-12);
                assert!((a.margin - b.margin).abs() <= 1e-12);
            }
        }
    }

    /// Applied to the passages it was fitted on, a model explains them as the run did: the
    /// same terms, roles and clusters, contributions within 1e-12.
    #[test]
    fn applying_to_the_fitted_passages_reproduces_the_explanations() {
        for params in [guided(Reduce::None), guided(Reduce::Lsa)] {
            let (model, c) = fit_clustering(&params);
            let texts = texts();
            let ids: Vec<u32> = (0..texts.len() as u32).collect();
            let applied = model.apply(&analyzer(), &ids, &texts, &Silent);
            assert!(!c.explanations.is_empty());
            assert_eq!(applied.explanations.len(), c.explanations.len());
            for (a, b) in applied.explanations.iter().zip(&c.explanations) {
                assert_eq!(
                    (a.passage_id, a.role, a.cluster, a.rank, a.term_id),
                    (b.passage_id, b.role, b.cluster, b.rank, b.term_id)
                );
                assert!((a.contribution - b.contribution).abs() <= 1e-12);
                assert!((a.similarity - b.similarity).abs() <= 1e-12);
            }
        }
    }

    /// Terms the model never saw are counted and left out; a passage of them only has no
    /// terms; a passage's placement does not depend on the others applied with it.
    #[test]
    fn unseen_terms_are_counted_not_added() {
        let (model, _) = fit(&guided(Reduce::None));
        let texts = [
            "zebra zebra giraffe",
            "doctrine and ideology, zebra",
            "talks on the nuclear negotiation",
        ];
        let applied = model.apply(&analyzer(), &[10, 11, 12], &texts, &Silent);
        assert_eq!(applied.unseen.distinct, 2);
        assert_eq!(applied.unseen.occurrences, 4);
        assert_eq!(applied.unseen.top[0], ("zebra".to_string(), 3));
        let a = &applied.assignments;
        assert_eq!(a[0].status, AssignmentStatus::NoTerms);
        assert_eq!(a[1].theme, "doctrine");
        assert_eq!(a[2].theme, "negotiation");
        assert_eq!(applied.tfidf.row_ids, vec![10, 11, 12]);
        let alone = model.apply(&analyzer(), &[12], &texts[2..], &Silent);
        assert_eq!(alone.assignments[0], a[2]);
    }

    #[test]
    fn a_model_whose_parts_do_not_fit_is_refused() {
        let (mut model, _) = fit(&guided(Reduce::None));
        model.themes.pop();
        assert!(model
            .check()
            .unwrap_err()
            .contains("3 centroids but 2 clusters"));
        let (mut model, _) = fit(&guided(Reduce::Lsa));
        model.centroids = Array2::zeros((3, 7));
        assert!(model
            .check()
            .unwrap_err()
            .contains("centroids have 7 dimensions"));
    }
}
