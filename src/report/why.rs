//! Why passages got their themes, for the report: the top contributing terms of the
//! representative passages, and the close calls — the passages with the smallest margin
//! between their nearest theme and the runner-up — with both themes' terms side by side.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use themata_core::model::{Assignment, Clustering, Corpus, Explanation, Named, Role, Vocabulary};

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

/// Each cluster's representatives: its `n` members most similar to its centroid (ties:
/// lower passage id), cluster by cluster.
pub fn representatives(c: &Clustering, n: usize) -> Vec<Vec<&Assignment>> {
    c.clusters
        .iter()
        .map(|cl| {
            let mut members: Vec<_> = c
                .assignments
                .iter()
                .filter(|a| a.cluster == Some(cl.cluster))
                .collect();
            members.sort_by(|a, b| {
                b.similarity
                    .total_cmp(&a.similarity)
                    .then(a.passage_id.cmp(&b.passage_id))
            });
            members.truncate(n);
            members
        })
        .collect()
}

/// The passages explained for their runner-up (those with a rank-1 runner-up row).
pub fn runner_up_explained(explanations: &[Explanation]) -> BTreeSet<u32> {
    explanations
        .iter()
        .filter(|e| e.role == Role::RunnerUp && e.rank == 1)
        .map(|e| e.passage_id)
        .collect()
}

/// The close calls' assignments: the `n` passages of `both` (explained for both their
/// nearest centroid and the runner-up) with the smallest margin (ties: lower passage id).
fn close_call_candidates<'a>(
    c: &'a Clustering,
    both: &BTreeSet<u32>,
    n: usize,
) -> Vec<&'a Assignment> {
    if n == 0 {
        return vec![];
    }
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
    candidates
}

/// The passages whose explanations a report with `representatives` per theme and
/// `close_calls` close calls shows, given the passages explained for their runner-up
/// (`runner_up`, see [`runner_up_explained`]). A clustering whose explanations are only
/// those of these passages gives the same report as with all of them: the report need not
/// hold the whole table (20 rows a passage by default).
pub fn shown_passages(
    c: &Clustering,
    runner_up: &BTreeSet<u32>,
    representatives_per_theme: usize,
    close_calls: usize,
) -> BTreeSet<u32> {
    let mut shown: BTreeSet<u32> = representatives(c, representatives_per_theme)
        .iter()
        .flatten()
        .map(|a| a.passage_id)
        .collect();
    shown.extend(
        close_call_candidates(c, runner_up, close_calls)
            .iter()
            .map(|a| a.passage_id),
    );
    shown
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
    let both = runner_up_explained(&c.explanations);
    let candidates = close_call_candidates(c, &both, n);
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
