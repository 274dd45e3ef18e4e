//! The report: one set of figures ([`Summary`]) written as summary.json (every figure,
//! machine-readable), summary.md and summary.html (with charts).
//!
//! summary.json and summary.md hold no timings or versions (those live in the manifest), so
//! the report of a pipeline is reproducible; summary.html also shows the run ([`RunInfo`]),
//! marked as volatile.

pub mod charts;
pub mod html;
pub mod map;
mod markdown;
pub mod trends;
pub mod why;

pub use html::{render_html, without_volatile, RunInfo, StageRun};
pub use markdown::to_markdown;

use map::{passage_map, PassageMap};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use themata_core::cluster::{theme_strength, ClusterParams, Mode};
use themata_core::model::{
    Clustering, Corpus, DocumentMeta, HierarchyNode, Measure, Named, PassageStatus, Role,
    SparseRows, SweepRow, ThemeChange, ThemeMerge, ThemeStrength, Vocabulary, UNASSIGNED,
};
use themata_core::trends::Unit;
use themata_core::ParamError;
use trends::TrendView;
use why::{close_calls, CloseCall, Index, TermPart};

/// The settings of the report (`[report]` in a pipeline file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportParams {
    /// Where the report goes (relative to the pipeline file there; resolved when loaded):
    /// by default `<output>/report`.
    pub dir: Option<PathBuf>,
    /// Passages shown per theme.
    pub representatives: usize,
    /// Close calls shown: the passages with the smallest margin between their nearest theme
    /// and the runner-up, with both themes' top terms.
    pub close_calls: usize,
    /// Themes over time: `day`, `week`, `month`, `year`, or `auto` (from the date range);
    /// `None`: no time view.
    pub over: Option<String>,
    /// Themes by group: a document field (`source`, `author` or `title`); `None`: no group
    /// view.
    pub by: Option<String>,
    /// A bucket with fewer assigned passages is a thin slice: its shares are flagged as
    /// saying little.
    pub min_bucket_passages: u32,
    /// The terms key to each group of passages (log-likelihood keyness, as `themata keyness
    /// --by FIELD`): a documents field or `theme`; `None`: no keyness section.
    pub keyness: Option<crate::keyness::Field>,
    /// Key terms shown (and written to keyness.parquet) per group.
    pub keyness_top: usize,
}

/// `report.close_calls` at most: each is shown in full, with two term lists.
pub const MAX_CLOSE_CALLS: usize = 100;

impl Default for ReportParams {
    fn default() -> Self {
        ReportParams {
            dir: None,
            representatives: 3,
            close_calls: 5,
            over: None,
            by: None,
            min_bucket_passages: 10,
            keyness: None,
            keyness_top: 10,
        }
    }
}

/// `report.over`'s values besides the units.
pub const OVER_AUTO: &str = "auto";
/// The document fields `report.by` can group by.
pub const BY_FIELDS: [&str; 3] = ["source", "author", "title"];

impl ReportParams {
    /// Every rule the settings must satisfy; the error names the key.
    pub fn check(&self) -> Result<(), ParamError> {
        if self.close_calls > MAX_CLOSE_CALLS {
            return Err(ParamError::new(
                "report.close_calls",
                format!(
                    "must be at most {MAX_CLOSE_CALLS} (the report shows each in full), got {}",
                    self.close_calls
                ),
            ));
        }
        if let Some(o) = &self.over {
            if o != OVER_AUTO && Unit::parse(o).is_none() {
                return Err(ParamError::new(
                    "report.over",
                    format!("{o:?} is not one of day, week, month, year, auto"),
                ));
            }
        }
        if let Some(b) = &self.by {
            if !BY_FIELDS.contains(&b.as_str()) {
                return Err(ParamError::new(
                    "report.by",
                    format!("{b:?} is not a document field themata keeps (source, author, title)"),
                ));
            }
        }
        if self.keyness.is_some() && !(1..=MAX_KEYNESS_TOP).contains(&self.keyness_top) {
            return Err(ParamError::new(
                "report.keyness_top",
                format!(
                    "must be between 1 and {MAX_KEYNESS_TOP} (terms shown per group), got {}",
                    self.keyness_top
                ),
            ));
        }
        Ok(())
    }
}

/// `report.keyness_top` at most: each group's terms are charted.
pub const MAX_KEYNESS_TOP: usize = 100;

/// `report.keyness`: the terms key to each group of kept passages against the others.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeynessSection {
    /// The field compared (`report.keyness`).
    pub by: &'static str,
    /// Why nothing is compared (fewer than two groups); null when groups are compared.
    pub note: Option<String>,
    /// Each group: its passages and tokens, and its reference's.
    pub groups: Vec<crate::keyness::GroupFigures>,
    /// Up to `report.keyness_top` key terms per group (keyness.parquet's rows).
    pub rows: Vec<crate::keyness::KeyRow>,
    /// Kept passages with no value of the field.
    pub left_out: usize,
}

/// The keyness section for `report.keyness`: fewer than two groups is a note, not an error,
/// so that the rest of the report is still written.
fn keyness_section(
    by: crate::keyness::Field,
    top: usize,
    corpus: &Corpus,
    vocab: &Vocabulary,
    m: &SparseRows,
    c: &Clustering,
) -> KeynessSection {
    use crate::keyness::{compute_in, Groups};
    let themes: BTreeMap<u32, String> = c
        .assignments
        .iter()
        .map(|a| (a.passage_id, a.theme.clone()))
        .collect();
    match compute_in(corpus, vocab, m, &themes, &Groups::By(by, None), top) {
        Ok(k) => KeynessSection {
            by: by.name(),
            note: None,
            groups: k.groups,
            rows: k.rows,
            left_out: k.left_out,
        },
        Err(e) => KeynessSection {
            by: by.name(),
            note: Some(e.to_string()),
            groups: Vec::new(),
            rows: Vec::new(),
            left_out: 0,
        },
    }
}

/// What the report says of the run besides the tables: the pipeline's name and the
/// settings the figures depend on.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The pipeline's name.
    pub pipeline: &'a str,
    /// The analyzer's language, as the pipeline file names it.
    pub language: &'a str,
    /// The clustering settings (mode, thresholds, seed).
    pub cluster: &'a ClusterParams,
    /// Passages shown per theme.
    pub representatives: usize,
    /// The report's settings (the views over time and by group).
    pub report: &'a ReportParams,
    /// Whether the run explained any passage: the clustering given may hold only the
    /// explanations of the passages the report shows (see [`why::shown_passages`]).
    pub explained: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub pipeline: String,
    pub mode: &'static str,
    pub language: String,
    /// The space k-means ran in.
    pub space: String,
    pub corpus: CorpusFigures,
    pub themes: Vec<ThemeSummary>,
    pub unassigned: u32,
    /// Unassigned passages by reason (`low_similarity`, `low_margin`, `no_terms`).
    pub unassigned_by: BTreeMap<String, u32>,
    /// Guided: `min_similarity` and `min_margin` in force.
    pub thresholds: Option<(f64, f64)>,
    /// `k = "auto"`: the criteria of every k tried, the chosen one marked.
    pub k_sweep: Vec<SweepRow>,
    /// Discover mode with a previous run: what became of each theme (absent otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub theme_changes: Vec<ThemeChange>,
    /// The themes' dendrogram: average linkage of the centroids, one node per join.
    pub hierarchy: Vec<HierarchyNode>,
    /// `cluster.merge_above` / `cluster.merge_to`: the merges of fitted themes (empty
    /// otherwise).
    pub merges: Vec<ThemeMerge>,
    /// The space the explanations' contributions are in: `tfidf` (exact) or `lsa` (mapped
    /// back to terms); null without explanations (`cluster.explain_terms = 0`).
    pub explained_in: Option<&'static str>,
    /// The passages nearest to a second theme, with both themes' top terms.
    pub close_calls: Vec<CloseCall>,
    pub documents: Vec<DocumentMix>,
    pub seeds: Vec<SeedFigure>,
    /// Passages that take no part in TF-IDF and clustering, and why.
    pub set_aside: Vec<SetAside>,
    pub warnings: Vec<String>,
    /// Kept passages placed on a plane (for the map in summary.html).
    pub map: PassageMap,
    /// Themes over time (`report.over`) and by group (`report.by`), when asked for.
    pub trends: Vec<TrendView>,
    /// `report.keyness`: the terms key to each group (null when not asked for).
    pub keyness: Option<KeynessSection>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SetAside {
    pub passage_id: u32,
    pub document: String,
    pub ordinal: u32,
    pub status: String,
    pub reason: String,
    /// For duplicates: the document and ordinal of the passage kept instead.
    pub duplicate_of: Option<(String, u32)>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CorpusFigures {
    pub documents: usize,
    pub passages: usize,
    pub passages_by_status: BTreeMap<String, usize>,
    pub terms_seen: usize,
    pub terms_kept: usize,
    pub tfidf_nonzeros: usize,
    /// Warnings of the ingest stage (listed in `warnings`).
    pub warning_count: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ThemeSummary {
    pub cluster: u32,
    pub theme: String,
    pub size: u32,
    /// Share of the assigned passages.
    pub share: f64,
    /// Distinctive terms: highest c-TF-IDF against the rest of the corpus.
    pub top_terms: Vec<String>,
    /// c-TF-IDF score of each distinctive term (same order as `top_terms`).
    pub top_term_weights: Vec<f64>,
    /// Heaviest terms of the centroid: highest mean TF-IDF weight over the members.
    pub top_terms_by_weight: Vec<String>,
    /// Guided themes: seed support and member similarity.
    pub strength: Option<ThemeStrength>,
    pub representatives: Vec<Representative>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Representative {
    pub passage_id: u32,
    pub document: String,
    pub ordinal: u32,
    pub similarity: f64,
    pub text: String,
    /// The terms that contribute most to its similarity.
    pub terms: Vec<TermPart>,
    /// Share of the similarity those terms cover.
    pub explained: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DocumentMix {
    pub doc_id: u32,
    pub path: String,
    /// Title, publication date (`YYYY-MM-DD`), author and source, where the document shows
    /// them.
    #[serde(flatten)]
    pub meta: DocumentMeta,
    pub passages: u32,
    /// Kept passages per theme (including `unassigned`), in cluster order.
    pub themes: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SeedFigure {
    pub theme: String,
    pub seed: String,
    pub terms: String,
    pub label: String,
    pub df: u32,
    pub status: String,
}

/// Round to 6 decimals so reports do not depend on the last bits of a float.
fn r6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Every figure of the report.
pub fn summarize(
    ctx: &Context,
    corpus: &Corpus,
    vocab: &Vocabulary,
    m: &SparseRows,
    c: &Clustering,
    space: &str,
    warnings: &[String],
) -> Summary {
    let strength = theme_strength(m, vocab, c);
    let mut by_status = BTreeMap::new();
    for p in &corpus.passages {
        *by_status.entry(p.status.name().to_string()).or_insert(0) += 1;
    }
    let passage = |id: u32| &corpus.passages[id as usize];
    let doc_path = |doc: u32| corpus.documents[doc as usize].path.clone();
    let assigned: u32 = c.clusters.iter().map(|x| x.size).sum();
    let members = why::representatives(c, ctx.representatives);
    let shown: BTreeSet<u32> = members.iter().flatten().map(|a| a.passage_id).collect();
    let index = Index::new(c, vocab, &shown);
    let themes = c
        .clusters
        .iter()
        .zip(&members)
        .map(|(cl, members)| ThemeSummary {
            cluster: cl.cluster,
            theme: cl.theme.clone(),
            size: cl.size,
            share: if assigned > 0 {
                r6(cl.size as f64 / assigned as f64)
            } else {
                0.0
            },
            top_terms: c
                .terms
                .iter()
                .filter(|t| t.cluster == cl.cluster && t.measure == Measure::Ctfidf)
                .map(|t| t.label.clone())
                .collect(),
            top_term_weights: c
                .terms
                .iter()
                .filter(|t| t.cluster == cl.cluster && t.measure == Measure::Ctfidf)
                .map(|t| r6(t.weight))
                .collect(),
            top_terms_by_weight: c
                .terms
                .iter()
                .filter(|t| t.cluster == cl.cluster && t.measure == Measure::MeanTfidf)
                .map(|t| t.label.clone())
                .collect(),
            strength: strength.iter().find(|x| x.theme == cl.theme).cloned(),
            representatives: members
                .iter()
                .map(|a| {
                    let p = passage(a.passage_id);
                    let pull = index.pull(a.passage_id, Role::Nearest);
                    Representative {
                        passage_id: a.passage_id,
                        document: doc_path(p.doc_id),
                        ordinal: p.ordinal,
                        similarity: r6(a.similarity),
                        text: p.text.clone(),
                        explained: pull.as_ref().map_or(0.0, |x| x.explained),
                        terms: pull.map(|x| x.terms).unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect();
    let mut names: Vec<String> = c.clusters.iter().map(|x| x.theme.clone()).collect();
    names.push(UNASSIGNED.to_string());
    let mut mix: Vec<BTreeMap<&str, u32>> = vec![BTreeMap::new(); corpus.documents.len()];
    for a in &c.assignments {
        let d = passage(a.passage_id).doc_id as usize;
        *mix[d].entry(a.theme.as_str()).or_insert(0) += 1;
    }
    let documents = corpus
        .documents
        .iter()
        .map(|d| DocumentMix {
            doc_id: d.doc_id,
            path: d.path.clone(),
            meta: d.meta.clone(),
            passages: d.n_passages,
            themes: names
                .iter()
                .map(|n| {
                    (
                        n.clone(),
                        mix[d.doc_id as usize].get(n.as_str()).copied().unwrap_or(0),
                    )
                })
                .collect(),
        })
        .collect();
    Summary {
        pipeline: ctx.pipeline.to_string(),
        mode: ctx.cluster.mode.name(),
        language: ctx.language.to_string(),
        space: space.to_string(),
        corpus: CorpusFigures {
            documents: corpus.documents.len(),
            passages: corpus.passages.len(),
            passages_by_status: by_status,
            terms_seen: vocab.terms.len(),
            terms_kept: vocab.n_kept(),
            tfidf_nonzeros: m.nnz(),
            warning_count: warnings.len(),
        },
        themes,
        unassigned: c.assignments.iter().filter(|a| a.cluster.is_none()).count() as u32,
        unassigned_by: {
            let mut by = BTreeMap::new();
            for a in c.assignments.iter().filter(|a| a.cluster.is_none()) {
                *by.entry(a.status.name().to_string()).or_insert(0) += 1;
            }
            by
        },
        thresholds: (ctx.cluster.mode == Mode::Guided)
            .then_some((ctx.cluster.min_similarity, ctx.cluster.min_margin)),
        k_sweep: c.sweep.clone(),
        theme_changes: c.changes.clone(),
        hierarchy: c.hierarchy.clone(),
        merges: c.merges.clone(),
        explained_in: ctx.explained.then_some(if space.starts_with("lsa") {
            "lsa"
        } else {
            "tfidf"
        }),
        close_calls: close_calls(c, vocab, corpus, ctx.report.close_calls),
        documents,
        seeds: c
            .seeds
            .iter()
            .map(|s| SeedFigure {
                theme: s.theme.clone(),
                seed: s.seed.clone(),
                terms: s.terms.clone(),
                label: s.label.clone(),
                df: s.df,
                status: s.status.name().to_string(),
            })
            .collect(),
        set_aside: corpus
            .passages
            .iter()
            .filter(|p| p.status != PassageStatus::Kept)
            .map(|p| SetAside {
                passage_id: p.passage_id,
                document: doc_path(p.doc_id),
                ordinal: p.ordinal,
                status: p.status.name().to_string(),
                reason: p.reason.map_or(String::new(), |r| r.name().to_string()),
                duplicate_of: p.duplicate_of.map(|d| {
                    let q = passage(d);
                    (doc_path(q.doc_id), q.ordinal)
                }),
                text: p.text.clone(),
            })
            .collect(),
        warnings: warnings.to_vec(),
        map: passage_map(m, vocab, c, ctx.cluster.seed),
        trends: trends::views(ctx.report, corpus, vocab, m, c),
        keyness: ctx
            .report
            .keyness
            .map(|f| keyness_section(f, ctx.report.keyness_top, corpus, vocab, m, c)),
    }
}

pub fn to_json(s: &Summary) -> String {
    serde_json::to_string_pretty(s).unwrap_or_default() + "\n"
}

pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut
        .rsplit_once(' ')
        .map_or(cut.as_str(), |(a, _)| a)
        .to_string();
    cut + " …"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_at_a_word() {
        assert_eq!(shorten("one two three", 9), "one two …");
        assert_eq!(shorten("short", 9), "short");
    }
}
