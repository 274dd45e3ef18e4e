//! `themata explain RUN_DIR PASSAGE_ID`: why one passage got its theme, from a run's tables.
//!
//! A passage's similarity to a centroid is a sum over its terms (see
//! `themata_core::cluster::explain`); `explanations.parquet` keeps each passage's top
//! contributing terms to its nearest centroid and to the runner-up. This reads them back
//! with the passage (passages.parquet, documents.parquet) and its assignment
//! (assignments.parquet). It works on a run's directory and on `themata apply`'s output.

use crate::error::{Error, Result};
use crate::tables;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use themata_core::model::{AssignmentStatus, Named, PassageStatus, Role};

/// Why one passage got its theme.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PassageExplanation {
    pub passage_id: u32,
    /// Its document's path, and its position there (0-based).
    pub document: String,
    pub ordinal: u32,
    pub text: String,
    /// Its theme, or `unassigned`.
    pub theme: String,
    pub cluster: Option<u32>,
    /// The assignment's status: `assigned`, `low_similarity`, `low_margin` or `no_terms`.
    pub status: String,
    /// Similarity to its cluster's centroid (unassigned: to the nearest).
    pub similarity: f64,
    /// Similarity minus the runner-up's.
    pub margin: f64,
    /// `tfidf` (contributions exact) or `lsa` (the reduced space's similarity mapped back to
    /// terms); `None` when nothing is explained.
    pub space: Option<&'static str>,
    /// The nearest centroid, then the runner-up (absent with one cluster).
    pub centroids: Vec<CentroidTerms>,
}

/// A passage's top terms to one centroid.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CentroidTerms {
    /// `nearest` or `runner_up`.
    pub role: &'static str,
    pub cluster: u32,
    pub theme: String,
    /// The passage's similarity to this centroid: the sum of all its terms' contributions.
    pub similarity: f64,
    pub terms: Vec<TermContribution>,
    /// Sum of the listed terms' contributions.
    pub covered: f64,
    /// `covered / similarity` (0 when the similarity is not positive).
    pub share: f64,
}

/// One term's part of a similarity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TermContribution {
    pub rank: u32,
    pub term_id: u32,
    pub label: String,
    /// The passage's TF-IDF weight of the term.
    pub weight: f64,
    pub contribution: f64,
}

/// Explain passage `passage_id` of the run in `run_dir`, with at most `top` terms per
/// centroid (`None`: as many as the table holds). A run directory or table that is missing,
/// an unknown passage id and a passage that is not kept are configuration errors (exit 2)
/// naming the directory, file or id.
pub fn explain(run_dir: &Path, passage_id: u32, top: Option<usize>) -> Result<PassageExplanation> {
    if !run_dir.is_dir() {
        return Err(Error::config(run_dir, "run directory not found"));
    }
    for name in [tables::PASSAGES, tables::ASSIGNMENTS, tables::EXPLANATIONS] {
        if !run_dir.join(name).exists() {
            return Err(Error::config(
                run_dir.join(name),
                "not found: not a run directory, or a run of a themata version without \
                 explanations (rerun it with `themata run`)",
            ));
        }
    }
    let corpus = tables::read_corpus(run_dir)?;
    let n = corpus.passages.len();
    let Some(p) = corpus.passages.iter().find(|p| p.passage_id == passage_id) else {
        let range = match n {
            0 => "the run has no passages".to_string(),
            _ => format!("passage ids run from 0 to {}", n - 1),
        };
        return Err(Error::config(
            run_dir.join(tables::PASSAGES),
            format!("no passage {passage_id}: {range}"),
        ));
    };
    if p.status != PassageStatus::Kept {
        let reason = p
            .reason
            .map_or(String::new(), |r| format!(" ({})", r.name()));
        let of = p
            .duplicate_of
            .map_or(String::new(), |d| format!(", a copy of passage {d}"));
        return Err(Error::config(
            run_dir.join(tables::PASSAGES),
            format!(
                "passage {passage_id} is not kept: its status is {}{reason}{of}, so it takes \
                 no part in clustering and has no theme",
                p.status.name()
            ),
        ));
    }
    let assignments = tables::read_assignments(run_dir)?;
    let Some(a) = assignments.iter().find(|a| a.passage_id == passage_id) else {
        return Err(Error::Table {
            path: run_dir.join(tables::ASSIGNMENTS),
            message: format!("kept passage {passage_id} has no row"),
        });
    };
    let rows = tables::read_explanations_of(run_dir, |p| p == passage_id)?.unwrap_or_default();
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r.explanation.passage_id == passage_id)
        .collect();
    let centroids = [Role::Nearest, Role::RunnerUp]
        .iter()
        .filter_map(|&role| {
            let of: Vec<_> = mine.iter().filter(|r| r.explanation.role == role).collect();
            let first = of.first()?;
            let terms: Vec<TermContribution> = of
                .iter()
                .take(top.unwrap_or(usize::MAX))
                .map(|r| TermContribution {
                    rank: r.explanation.rank,
                    term_id: r.explanation.term_id,
                    label: r.label.clone(),
                    weight: r.explanation.weight,
                    contribution: r.explanation.contribution,
                })
                .collect();
            let covered: f64 = terms.iter().map(|t| t.contribution).sum();
            let similarity = first.explanation.similarity;
            Some(CentroidTerms {
                role: role.name(),
                cluster: first.explanation.cluster,
                theme: first.theme.clone(),
                similarity,
                share: if similarity > 0.0 {
                    covered / similarity
                } else {
                    0.0
                },
                covered,
                terms,
            })
        })
        .collect();
    let space = mine.first().map(|r| r.space.name());
    let document = corpus
        .documents
        .iter()
        .find(|d| d.doc_id == p.doc_id)
        .map_or(String::new(), |d| d.path.clone());
    Ok(PassageExplanation {
        passage_id,
        document,
        ordinal: p.ordinal,
        text: p.text.clone(),
        theme: a.theme.clone(),
        cluster: a.cluster,
        status: a.status.name().to_string(),
        similarity: a.similarity,
        margin: a.margin,
        space,
        centroids,
    })
}

/// What each status means, for the text output.
fn status_note(status: &str) -> &'static str {
    match AssignmentStatus::parse(status) {
        Some(AssignmentStatus::Assigned) => "",
        Some(AssignmentStatus::NoTerms) => " (no kept term: nothing to explain)",
        Some(AssignmentStatus::LowSimilarity) => {
            " (its best similarity is below cluster.min_similarity, or not positive)"
        }
        Some(AssignmentStatus::LowMargin) => {
            " (its lead over the runner-up is below cluster.min_margin)"
        }
        None => "",
    }
}

/// The explanation as text for a terminal.
pub fn to_text(e: &PassageExplanation) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "passage {} ({}, ordinal {})",
        e.passage_id, e.document, e.ordinal
    );
    let _ = writeln!(s, "  {}", crate::report::shorten(&e.text, 240));
    let cluster = e
        .cluster
        .map_or(String::new(), |c| format!(" (cluster {c})"));
    let _ = writeln!(
        s,
        "theme: {}{cluster}; similarity {:.4}, margin {:.4}; status {}{}",
        e.theme,
        e.similarity,
        e.margin,
        e.status,
        status_note(&e.status)
    );
    match e.space {
        Some("tfidf") => {
            let _ = writeln!(
                s,
                "space: tfidf — each term contributes its weight × the centroid's value; all \
                 the passage's terms sum to the similarity exactly"
            );
        }
        Some(_) => {
            let _ = writeln!(
                s,
                "space: lsa — the similarity is a cosine in the reduced space, mapped back to \
                 terms (x_t·(V c)_t / ‖x V‖): the contributions sum to it, but a term acts \
                 through dimensions it shares with others and can count negatively"
            );
        }
        None if e.status != AssignmentStatus::NoTerms.name() => {
            let _ = writeln!(
                s,
                "no explanation kept for this passage (no positive similarity to any centroid, \
                 or cluster.explain_terms = 0)"
            );
        }
        None => {}
    }
    for c in &e.centroids {
        let role = if c.role == Role::Nearest.name() {
            "nearest"
        } else {
            "runner-up"
        };
        let _ = writeln!(
            s,
            "\n{role}: {} (cluster {}), similarity {:.4}",
            c.theme, c.cluster, c.similarity
        );
        let width = c
            .terms
            .iter()
            .map(|t| t.label.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            s,
            "  {:>4}  {:<width$}  {:>8}  {:>12}  {:>7}",
            "rank", "term", "weight", "contribution", "share"
        );
        for t in &c.terms {
            let share = if c.similarity > 0.0 {
                format!("{:.1} %", 100.0 * t.contribution / c.similarity)
            } else {
                "-".into()
            };
            let _ = writeln!(
                s,
                "  {:>4}  {:<width$}  {:>8.4}  {:>12.4}  {:>7}",
                t.rank, t.label, t.weight, t.contribution, share
            );
        }
        let _ = writeln!(
            s,
            "  these {} term(s): {:.4} of {:.4} ({:.1} % of the similarity)",
            c.terms.len(),
            c.covered,
            c.similarity,
            100.0 * c.share
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lists_both_centroids_and_their_share() {
        let e = PassageExplanation {
            passage_id: 3,
            document: "a.txt".into(),
            ordinal: 1,
            text: "talks and negotiation".into(),
            theme: "negotiation".into(),
            cluster: Some(1),
            status: "assigned".into(),
            similarity: 0.5,
            margin: 0.2,
            space: Some("tfidf"),
            centroids: vec![
                CentroidTerms {
                    role: "nearest",
                    cluster: 1,
                    theme: "negotiation".into(),
                    similarity: 0.5,
                    terms: vec![TermContribution {
                        rank: 1,
                        term_id: 7,
                        label: "talks".into(),
                        weight: 0.6,
                        contribution: 0.25,
                    }],
                    covered: 0.25,
                    share: 0.5,
                },
                CentroidTerms {
                    role: "runner_up",
                    cluster: 0,
                    theme: "doctrine".into(),
                    similarity: 0.3,
                    terms: vec![],
                    covered: 0.0,
                    share: 0.0,
                },
            ],
        };
        let t = to_text(&e);
        assert!(t.contains("theme: negotiation (cluster 1)"), "{t}");
        assert!(t.contains("nearest: negotiation"), "{t}");
        assert!(t.contains("runner-up: doctrine"), "{t}");
        assert!(t.contains("50.0 %"), "{t}");
        assert!(t.contains("exactly"), "{t}");
    }
}
