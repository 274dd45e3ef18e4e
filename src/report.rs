//! Summary reports: `summary.json` (every figure, machine-readable) and `summary.md`.
//!
//! Both are built from one [`Summary`] value, so they always agree. Neither holds timings or
//! versions (those live in the manifest), so the report of a pipeline is reproducible.

use crate::cluster::{Clustering, ThemeStrength, UNASSIGNED};
use crate::config::{Mode, Pipeline};
use crate::ingest::{Corpus, Status};
use crate::map::{passage_map, PassageMap};
use crate::sweep::SweepRow;
use crate::vectorize::{Tfidf, Vocabulary};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

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
    pub documents: Vec<DocumentMix>,
    pub seeds: Vec<SeedFigure>,
    /// Passages that take no part in TF-IDF and clustering, and why.
    pub set_aside: Vec<SetAside>,
    pub warnings: Vec<String>,
    /// Kept passages placed on a plane (for the map in summary.html).
    pub map: PassageMap,
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
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DocumentMix {
    pub doc_id: u32,
    pub path: String,
    pub title: Option<String>,
    /// Publication date (`YYYY-MM-DD`), author and source, where the document shows them.
    pub date: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
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

pub fn summarize(
    pipeline: &Pipeline,
    corpus: &Corpus,
    vocab: &Vocabulary,
    m: &Tfidf,
    c: &Clustering,
    space: &str,
    warnings: &[String],
) -> Summary {
    let strength = crate::cluster::theme_strength(m, vocab, c);
    let mut by_status = BTreeMap::new();
    for p in &corpus.passages {
        *by_status.entry(p.status.as_str().to_string()).or_insert(0) += 1;
    }
    let passage = |id: u32| &corpus.passages[id as usize];
    let doc_path = |doc: u32| corpus.documents[doc as usize].path.clone();
    let assigned: u32 = c.clusters.iter().map(|x| x.size).sum();
    let themes = c
        .clusters
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
            ThemeSummary {
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
                    .filter(|t| t.cluster == cl.cluster && t.measure == crate::cluster::CTFIDF)
                    .map(|t| t.label.clone())
                    .collect(),
                top_term_weights: c
                    .terms
                    .iter()
                    .filter(|t| t.cluster == cl.cluster && t.measure == crate::cluster::CTFIDF)
                    .map(|t| r6(t.weight))
                    .collect(),
                top_terms_by_weight: c
                    .terms
                    .iter()
                    .filter(|t| t.cluster == cl.cluster && t.measure == crate::cluster::MEAN_TFIDF)
                    .map(|t| t.label.clone())
                    .collect(),
                strength: strength.iter().find(|x| x.theme == cl.theme).cloned(),
                representatives: members
                    .iter()
                    .take(pipeline.representatives)
                    .map(|a| {
                        let p = passage(a.passage_id);
                        Representative {
                            passage_id: a.passage_id,
                            document: doc_path(p.doc_id),
                            ordinal: p.ordinal,
                            similarity: r6(a.similarity),
                            text: p.text.clone(),
                        }
                    })
                    .collect(),
            }
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
            title: d.title.clone(),
            date: d.date.clone(),
            author: d.author.clone(),
            source: d.source.clone(),
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
        pipeline: pipeline.name.clone(),
        mode: match pipeline.cluster.mode {
            Mode::Guided => "guided",
            Mode::Discover => "discover",
        },
        language: pipeline.analyzer.language.clone(),
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
                *by.entry(a.status.to_string()).or_insert(0) += 1;
            }
            by
        },
        thresholds: (pipeline.cluster.mode == Mode::Guided)
            .then_some((pipeline.cluster.min_similarity, pipeline.cluster.min_margin)),
        k_sweep: c.sweep.clone(),
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
                status: s.status.to_string(),
            })
            .collect(),
        set_aside: corpus
            .passages
            .iter()
            .filter(|p| p.status != Status::Kept)
            .map(|p| SetAside {
                passage_id: p.passage_id,
                document: doc_path(p.doc_id),
                ordinal: p.ordinal,
                status: p.status.as_str().to_string(),
                reason: p.reason.clone().unwrap_or_default(),
                duplicate_of: p.duplicate_of.map(|d| {
                    let q = passage(d);
                    (doc_path(q.doc_id), q.ordinal)
                }),
                text: p.text.clone(),
            })
            .collect(),
        warnings: warnings.to_vec(),
        map: passage_map(m, vocab, c, pipeline.cluster.seed),
    }
}

pub fn to_json(s: &Summary) -> String {
    serde_json::to_string_pretty(s).unwrap_or_default() + "\n"
}

/// Text safe inside a Markdown table cell or paragraph.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if "\\`*_[]<>|#".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
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

pub fn to_markdown(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# themata report: {}\n", s.pipeline);
    let c = &s.corpus;
    let status: Vec<String> = c
        .passages_by_status
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    let _ = writeln!(
        o,
        "{} documents, {} passages ({}); {} terms seen, {} kept; {} non-zero TF-IDF weights. \
         Clustering: {} mode, k-means in {}, language {}. Warnings: {}.\n",
        c.documents,
        c.passages,
        status.join(", "),
        c.terms_seen,
        c.terms_kept,
        c.tfidf_nonzeros,
        s.mode,
        s.space,
        s.language,
        c.warning_count
    );
    let _ = writeln!(o, "## Themes\n");
    let _ = writeln!(
        o,
        "Distinctive terms have the highest c-TF-IDF (the theme's term frequencies against \
         the rest of the corpus); heaviest terms the highest mean TF-IDF weight over its \
         passages.\n"
    );
    let _ = writeln!(
        o,
        "| theme | passages | share | distinctive terms | heaviest terms |"
    );
    let _ = writeln!(o, "|---|---:|---:|---|---|");
    for t in &s.themes {
        let _ = writeln!(
            o,
            "| {} | {} | {:.1} % | {} | {} |",
            md(&t.theme),
            t.size,
            t.share * 100.0,
            md(&t.top_terms.join(", ")),
            md(&t.top_terms_by_weight.join(", "))
        );
    }
    let why: Vec<String> = s
        .unassigned_by
        .iter()
        .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
        .collect();
    let _ = writeln!(
        o,
        "| {} | {} | | {} | |\n",
        UNASSIGNED,
        s.unassigned,
        why.join(", ")
    );
    if let Some((floor, margin)) = s.thresholds {
        let _ = writeln!(
            o,
            "A passage is unassigned when its best similarity is below {floor} (low \
             similarity) or exceeds the runner-up's by less than {margin} (low margin).\n"
        );
    }
    if s.themes.iter().any(|t| t.strength.is_some()) {
        let _ = writeln!(o, "### Theme strength\n");
        let _ = writeln!(
            o,
            "| theme | seed words | live | passages with a seed word | members | members with a seed word | mean similarity |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
        for st in s.themes.iter().filter_map(|t| t.strength.as_ref()) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {:.3} |",
                md(&st.theme),
                st.seeds,
                st.live_seeds,
                st.seed_passages,
                st.members,
                st.members_with_seeds,
                st.mean_similarity
            );
        }
        let _ = writeln!(o);
    }
    if !s.k_sweep.is_empty() {
        let _ = writeln!(o, "### Choosing k\n");
        let _ = writeln!(
            o,
            "Each k is ranked by silhouette (cosine; higher is better) and by Davies–Bouldin \
             (lower is better); the smallest sum of the two ranks wins (ties: higher \
             silhouette, then smaller k). Calinski–Harabasz is shown, not voted.\n"
        );
        let _ = writeln!(
            o,
            "| k | silhouette | Calinski–Harabasz | Davies–Bouldin | chosen |"
        );
        let _ = writeln!(o, "|---:|---:|---:|---:|---|");
        for r in &s.k_sweep {
            let _ = writeln!(
                o,
                "| {} | {:.4} | {:.2} | {:.4} | {} |",
                r.k,
                r.silhouette,
                r.calinski_harabasz,
                r.davies_bouldin,
                if r.chosen { "**yes**" } else { "" }
            );
        }
        let _ = writeln!(o);
    }
    for t in &s.themes {
        let _ = writeln!(o, "### {}\n", md(&t.theme));
        if t.representatives.is_empty() {
            let _ = writeln!(o, "No passages.\n");
        }
        for r in &t.representatives {
            let _ = writeln!(
                o,
                "> {}\n>\n> — `{}`, passage {} (similarity {:.3})\n",
                md(&shorten(&r.text, 400)),
                r.document,
                r.ordinal,
                r.similarity
            );
        }
    }
    let _ = writeln!(o, "## Theme mix per document\n");
    if let Some(d) = s.documents.first() {
        let head: Vec<String> = d.themes.iter().map(|(n, _)| md(n)).collect();
        let _ = writeln!(
            o,
            "| document | title | date | author | source | passages | {} |",
            head.join(" | ")
        );
        let _ = writeln!(
            o,
            "|---|---|---|---|---|---:|{}",
            "---:|".repeat(head.len())
        );
    }
    for d in &s.documents {
        let counts: Vec<String> = d.themes.iter().map(|(_, n)| n.to_string()).collect();
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            d.path,
            md(d.title.as_deref().unwrap_or("")),
            d.date.as_deref().unwrap_or(""),
            md(d.author.as_deref().unwrap_or("")),
            md(d.source.as_deref().unwrap_or("")),
            d.passages,
            counts.join(" | ")
        );
    }
    if !s.seeds.is_empty() {
        let _ = writeln!(o, "\n## Seed words\n");
        let _ = writeln!(
            o,
            "Each seed word goes through the analyzer; \"reads as\" is the usual surface form \
             of its term(s) in this corpus, df the passages holding the term.\n"
        );
        let _ = writeln!(o, "| theme | seed | term | reads as | df | status |");
        let _ = writeln!(o, "|---|---|---|---|---:|---|");
        for sd in &s.seeds {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                md(&sd.theme),
                md(&sd.seed),
                md(&sd.terms),
                md(&sd.label),
                sd.df,
                sd.status
            );
        }
    }
    if !s.set_aside.is_empty() {
        let _ = writeln!(o, "\n## Set aside\n");
        let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
        for p in &s.set_aside {
            *counts
                .entry((p.status.clone(), p.reason.clone()))
                .or_insert(0) += 1;
        }
        let list: Vec<String> = counts
            .iter()
            .map(|((st, r), n)| format!("{n} {st} ({r})"))
            .collect();
        let _ = writeln!(o, "{}.\n", list.join(", "));
        let _ = writeln!(
            o,
            "| document | passage | status | reason | repeats | text |"
        );
        let _ = writeln!(o, "|---|---:|---|---|---|---|");
        for p in &s.set_aside {
            let dup = p
                .duplicate_of
                .as_ref()
                .map_or(String::new(), |(d, o)| format!("`{d}` {o}"));
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {} | {} |",
                p.document,
                p.ordinal,
                p.status,
                p.reason,
                dup,
                md(&shorten(&p.text, 80))
            );
        }
    }
    if !s.warnings.is_empty() {
        let _ = writeln!(o, "\n## Warnings\n");
        for w in &s.warnings {
            let _ = writeln!(o, "- {}", md(w));
        }
    }
    o
}

/// Passages per status among the corpus (helper for messages).
pub fn count_status(corpus: &Corpus, status: Status) -> usize {
    corpus
        .passages
        .iter()
        .filter(|p| p.status == status)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_table_and_html_characters() {
        assert_eq!(md("a|b <script>"), "a\\|b \\<script\\>");
    }

    #[test]
    fn shorten_cuts_at_a_word() {
        assert_eq!(shorten("one two three", 9), "one two …");
        assert_eq!(shorten("short", 9), "short");
    }
}
