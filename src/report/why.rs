//! Why passages got their themes, for the report: the top contributing terms of the
//! representative passages, and the close calls — the passages with the smallest margin
//! between their nearest theme and the runner-up — with both themes' terms side by side.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use themata_core::model::{Clustering, Corpus, Explanation, Named, Role, Vocabulary};

/// One term's part of a passage's similarity to a theme.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TermPart {
    pub label: String,
    pub contribution: f64,
}

/// A passage's pull towards one theme: its similarity and the top terms behind it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pull {
    pub cluster: u32,
    pub theme: String,
    pub similarity: f64,
    pub terms: Vec<TermPart>,
    /// Share of the similarity the listed terms cover.
    pub explained: f64,
}

/// A passage nearly as close to a second theme as to its own.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CloseCall {
    pub passage_id: u32,
    pub document: String,
    pub ordinal: u32,
    /// Its theme, or `unassigned`.
    pub theme: String,
    /// The assignment's status (`assigned`, `low_margin`, ...).
    pub status: String,
    pub margin: f64,
    pub text: String,
    pub nearest: Pull,
    pub runner_up: Pull,
}

fn r6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Explanations by passage and role, for the passages `wanted`.
pub struct Index<'a> {
    by: BTreeMap<(u32, Role), Vec<&'a Explanation>>,
    themes: BTreeMap<u32, &'a str>,
    vocab: &'a Vocabulary,
}

impl<'a> Index<'a> {
    pub fn new(c: &'a Clustering, vocab: &'a Vocabulary, wanted: &BTreeSet<u32>) -> Self {
        let mut by: BTreeMap<(u32, Role), Vec<&Explanation>> = BTreeMap::new();
        for e in c
            .explanations
            .iter()
            .filter(|e| wanted.contains(&e.passage_id))
        {
            by.entry((e.passage_id, e.role)).or_default().push(e);
        }
        Index {
            by,
            themes: c
                .clusters
                .iter()
                .map(|x| (x.cluster, x.theme.as_str()))
                .collect(),
            vocab,
        }
    }

    /// Passage `id`'s pull towards its nearest centroid or the runner-up, if explained.
    pub fn pull(&self, id: u32, role: Role) -> Option<Pull> {
        let rows = self.by.get(&(id, role))?;
        let first = rows.first()?;
        let terms: Vec<TermPart> = rows
            .iter()
            .map(|e| TermPart {
                label: self
                    .vocab
                    .terms
                    .get(e.term_id as usize)
                    .map_or(String::new(), |t| t.label.clone()),
                contribution: r6(e.contribution),
            })
            .collect();
        let covered: f64 = rows.iter().map(|e| e.contribution).sum();
        Some(Pull {
            cluster: first.cluster,
            theme: self
                .themes
                .get(&first.cluster)
                .copied()
                .unwrap_or("")
                .to_string(),
            similarity: r6(first.similarity),
            explained: if first.similarity > 0.0 {
                r6(covered / first.similarity)
            } else {
                0.0
            },
            terms,
        })
    }
}

/// The passages whose runner-up came closest (smallest margin; ties: lower passage id),
/// `n` of them, among those explained for both their nearest centroid and the runner-up.
pub fn close_calls(
    c: &Clustering,
    vocab: &Vocabulary,
    corpus: &Corpus,
    n: usize,
) -> Vec<CloseCall> {
    if n == 0 {
        return vec![];
    }
    let both: BTreeSet<u32> = c
        .explanations
        .iter()
        .filter(|e| e.role == Role::RunnerUp && e.rank == 1)
        .map(|e| e.passage_id)
        .collect();
    let mut candidates: Vec<_> = c
        .assignments
        .iter()
        .filter(|a| both.contains(&a.passage_id))
        .collect();
    candidates.sort_by(|a, b| {
        a.margin
            .total_cmp(&b.margin)
            .then(a.passage_id.cmp(&b.passage_id))
    });
    candidates.truncate(n);
    let wanted: BTreeSet<u32> = candidates.iter().map(|a| a.passage_id).collect();
    let index = Index::new(c, vocab, &wanted);
    candidates
        .into_iter()
        .filter_map(|a| {
            let p = corpus.passages.get(a.passage_id as usize)?;
            Some(CloseCall {
                passage_id: a.passage_id,
                document: corpus
                    .documents
                    .get(p.doc_id as usize)
                    .map_or(String::new(), |d| d.path.clone()),
                ordinal: p.ordinal,
                theme: a.theme.clone(),
                status: a.status.name().to_string(),
                margin: r6(a.margin),
                text: p.text.clone(),
                nearest: index.pull(a.passage_id, Role::Nearest)?,
                runner_up: index.pull(a.passage_id, Role::RunnerUp)?,
            })
        })
        .collect()
}
