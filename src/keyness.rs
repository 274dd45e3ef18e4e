//! `themata keyness`: the terms most over-represented in one group of a run's passages
//! against the rest (quanteda's `textstat_keyness`, log-likelihood): by a documents field
//! (each value against all the others), or one selection (a theme, documents by path, a
//! date range) against every other kept passage.
//!
//! Counts are the kept passages' occurrences of the kept vocabulary (tfidf.parquet's
//! `count`): the terms the run analyses as content.

use crate::error::{Error, Result};
use crate::tables;
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use themata_core::math::keyness::keyness;
use themata_core::model::{Corpus, Document, PassageStatus, SparseRows, Vocabulary};

/// A documents field (or the theme) that groups passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// documents.source
    Source,
    /// documents.author
    Author,
    /// documents.title
    Title,
    /// documents.path: each document against the others
    Document,
    /// documents.date, by year (`2019`)
    Year,
    /// documents.date, by month (`2019-06`)
    Month,
    /// documents.date, by day
    Date,
    /// the passage's theme (assignments.theme)
    Theme,
}

impl Field {
    /// The field's name, as `--by` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Source => "source",
            Field::Author => "author",
            Field::Title => "title",
            Field::Document => "document",
            Field::Year => "year",
            Field::Month => "month",
            Field::Date => "date",
            Field::Theme => "theme",
        }
    }
}

/// What is compared.
#[derive(Debug, Clone)]
pub enum Groups {
    /// Every value of the field against all passages with another value; with a value,
    /// that group only.
    By(Field, Option<String>),
    /// The passages of documents whose path matches the glob, against the rest.
    Docs(String),
    /// The passages of documents dated `from..=to` (`YYYY-MM-DD`, either end open), against
    /// the other dated passages.
    Dates(Option<String>, Option<String>),
}

/// One over-represented term of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyRow {
    pub group: String,
    pub rank: u32,
    pub term_id: u32,
    pub term: String,
    pub label: String,
    pub target: u64,
    pub reference: u64,
    pub g2: f64,
    pub p_value: f64,
    pub log_ratio: f64,
}

/// A group compared: its passages and term occurrences, and the reference's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigures {
    pub group: String,
    pub passages: usize,
    pub tokens: u64,
    pub reference_passages: usize,
    pub reference_tokens: u64,
}

/// The keyness of every group compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keyness {
    /// What was compared, in words (`by source`, `documents matching "a/*"`).
    pub description: String,
    pub groups: Vec<GroupFigures>,
    pub rows: Vec<KeyRow>,
    /// Kept passages in no group (no value of the field; undated with `--dates`).
    pub left_out: usize,
}

/// Each kept passage's group (`None`: in none), and a selection's target group.
type Membership = (Vec<(u32, Option<String>)>, Option<String>);

/// The group of each kept passage (`None`: left out), and for a selection the one target
/// name (the others are the reference).
fn group_of(
    corpus: &Corpus,
    themes: &BTreeMap<u32, String>,
    groups: &Groups,
) -> Result<Membership> {
    let value = |d: &Document, f: Field| -> Option<String> {
        let m = &d.meta;
        let v = match f {
            Field::Source => m.source.clone(),
            Field::Author => m.author.clone(),
            Field::Title => m.title.clone(),
            Field::Document => Some(d.path.clone()),
            Field::Date => m.date.clone(),
            Field::Month => m.date.as_ref().map(|d| d.chars().take(7).collect()),
            Field::Year => m.date.as_ref().map(|d| d.chars().take(4).collect()),
            Field::Theme => None,
        };
        v.filter(|s| !s.is_empty())
    };
    let kept = corpus
        .passages
        .iter()
        .filter(|p| p.status == PassageStatus::Kept);
    Ok(match groups {
        Groups::By(f, _) => (
            kept.map(|p| {
                let g = match f {
                    Field::Theme => themes.get(&p.passage_id).cloned(),
                    _ => value(&corpus.documents[p.doc_id as usize], *f),
                };
                (p.passage_id, g)
            })
            .collect(),
            None,
        ),
        Groups::Docs(glob) => {
            let m = globset::Glob::new(glob)
                .map_err(|e| Error::Usage(format!("--docs {glob:?}: {e}")))?
                .compile_matcher();
            let name = format!("documents matching {glob:?}");
            let inside = |d: &Document| m.is_match(&d.path);
            (
                kept.map(|p| {
                    let d = &corpus.documents[p.doc_id as usize];
                    let g = if inside(d) {
                        name.clone()
                    } else {
                        "rest".into()
                    };
                    (p.passage_id, Some(g))
                })
                .collect(),
                Some(name),
            )
        }
        Groups::Dates(from, to) => {
            let name = format!(
                "dated {}..{}",
                from.as_deref().unwrap_or(""),
                to.as_deref().unwrap_or("")
            );
            let inside = |date: &str| {
                from.as_deref().is_none_or(|f| date >= f) && to.as_deref().is_none_or(|t| date <= t)
            };
            (
                kept.map(|p| {
                    let d = &corpus.documents[p.doc_id as usize];
                    let g = d
                        .meta
                        .date
                        .as_deref()
                        .filter(|s| !s.is_empty())
                        .map(|date| {
                            if inside(date) {
                                name.clone()
                            } else {
                                "rest".to_string()
                            }
                        });
                    (p.passage_id, g)
                })
                .collect(),
                Some(name),
            )
        }
    })
}

/// A `YYYY-MM-DD..YYYY-MM-DD` range (either end may be empty): its two ends.
pub fn parse_dates(range: &str) -> Result<(Option<String>, Option<String>)> {
    let bad = |why: &str| {
        Error::Usage(format!(
            "--dates {range:?}: {why}; e.g. 2019-01-01..2019-12-31 or 2020-01-01.."
        ))
    };
    let (a, b) = range
        .split_once("..")
        .ok_or_else(|| bad("expected FROM..TO"))?;
    let check = |s: &str| -> Result<Option<String>> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let ok = s.len() == 10
            && s.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if ok {
            Ok(Some(s.to_string()))
        } else {
            Err(bad(&format!("{s:?} is not a date YYYY-MM-DD")))
        }
    };
    let (from, to) = (check(a)?, check(b)?);
    if from.is_none() && to.is_none() {
        return Err(bad("give at least one end"));
    }
    if let (Some(f), Some(t)) = (&from, &to) {
        if f > t {
            return Err(bad("the range ends before it starts"));
        }
    }
    Ok((from, to))
}

/// The keyness of the run in `dir` for `groups`: up to `top` terms per group.
pub fn compute(dir: &Path, groups: &Groups, top: usize) -> Result<Keyness> {
    let corpus = tables::read_corpus(dir)?;
    let vocab = tables::read_vocabulary(dir)?;
    let kept_ids: Vec<u32> = corpus.kept().map(|p| p.passage_id).collect();
    let m = tables::read_tfidf(dir, &kept_ids)?;
    let themes: BTreeMap<u32, String> = match groups {
        Groups::By(Field::Theme, _) => tables::read_assignments(dir)?
            .into_iter()
            .map(|a| (a.passage_id, a.theme))
            .collect(),
        _ => BTreeMap::new(),
    };
    compute_in(&corpus, &vocab, &m, &themes, groups, top)
}

/// [`compute`] on a run in memory: its corpus, vocabulary, TF-IDF rows (with counts) and
/// each kept passage's theme (needed for `--by theme` only).
pub fn compute_in(
    corpus: &Corpus,
    vocab: &Vocabulary,
    m: &SparseRows,
    themes: &BTreeMap<u32, String>,
    groups: &Groups,
    top: usize,
) -> Result<Keyness> {
    let (of, target) = group_of(corpus, themes, groups)?;
    let group_of: BTreeMap<u32, Option<String>> = of.into_iter().collect();
    // occurrences per group and term (dense over the vocabulary: groups are few)
    let n_terms = vocab.terms.len();
    let mut counts: BTreeMap<String, (Vec<u64>, usize)> = BTreeMap::new();
    let mut left_out = 0;
    for r in 0..m.n_rows() {
        let Some(Some(g)) = group_of.get(&m.row_ids[r]) else {
            left_out += 1;
            continue;
        };
        let entry = counts
            .entry(g.clone())
            .or_insert_with(|| (vec![0; n_terms], 0));
        entry.1 += 1;
        let (cols, ns) = m.row_counts(r);
        for (&t, &n) in cols.iter().zip(ns) {
            entry.0[t as usize] += n as u64;
        }
    }
    let description = match groups {
        Groups::By(f, _) => format!("by {}", f.name()),
        _ => target.clone().unwrap_or_default(),
    };
    let mut targets: Vec<String> = match (groups, &target) {
        (_, Some(t)) => vec![t.clone()],
        (Groups::By(_, Some(v)), None) => vec![v.clone()],
        _ => counts.keys().cloned().collect(),
    };
    targets.retain(|t| !t.is_empty());
    if counts.len() < 2 {
        let what = match groups {
            Groups::By(f, _) => format!("--by {}", f.name()),
            _ => description.clone(),
        };
        return Err(Error::Usage(format!(
            "keyness {what}: needs two groups of kept passages to compare, found {} ({})",
            counts.len(),
            if counts.is_empty() {
                "no kept passage has a value".to_string()
            } else {
                counts.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        )));
    }
    let mut out = Keyness {
        description,
        groups: vec![],
        rows: vec![],
        left_out,
    };
    for t in &targets {
        let Some((target, passages)) = counts.get(t) else {
            let known: Vec<&str> = counts.keys().map(String::as_str).collect();
            return Err(Error::Usage(format!(
                "keyness: no kept passage in group {t:?} (groups: {})",
                known.join(", ")
            )));
        };
        let mut reference = vec![0u64; n_terms];
        let mut reference_passages = 0;
        for (g, (c, n)) in &counts {
            if g != t {
                reference_passages += n;
                for (r, x) in reference.iter_mut().zip(c) {
                    *r += x;
                }
            }
        }
        out.groups.push(GroupFigures {
            group: t.clone(),
            passages: *passages,
            tokens: target.iter().sum(),
            reference_passages,
            reference_tokens: reference.iter().sum(),
        });
        for (rank, k) in keyness(target, &reference, top).into_iter().enumerate() {
            let term = &vocab.terms[k.term as usize];
            out.rows.push(KeyRow {
                group: t.clone(),
                rank: rank as u32 + 1,
                term_id: k.term,
                term: term.term.clone(),
                label: term.label.clone(),
                target: k.target,
                reference: k.reference,
                g2: k.g2,
                p_value: k.p_value,
                log_ratio: k.log_ratio,
            });
        }
    }
    Ok(out)
}

/// The rows as a table (keyness.parquet's columns).
pub fn to_frame(k: &Keyness) -> Result<DataFrame> {
    rows_frame(&k.rows)
}

/// Key-term rows as a table (keyness.parquet's columns).
pub fn rows_frame(rows: &[KeyRow]) -> Result<DataFrame> {
    tables::frame!(tables::KEYNESS, rows, {
        "group" => |x: &KeyRow| x.group.as_str(),
        "rank" => |x: &KeyRow| x.rank,
        "term_id" => |x: &KeyRow| x.term_id,
        "term" => |x: &KeyRow| x.term.as_str(),
        "label" => |x: &KeyRow| x.label.as_str(),
        "target" => |x: &KeyRow| x.target,
        "reference" => |x: &KeyRow| x.reference,
        "g2" => |x: &KeyRow| x.g2,
        "p_value" => |x: &KeyRow| x.p_value,
        "log_ratio" => |x: &KeyRow| x.log_ratio,
    })
}

/// A plain-text rendering for the terminal: per group, its figures and its key terms.
pub fn to_text(k: &Keyness) -> String {
    let mut o = format!(
        "keyness {} (log-likelihood G², over the kept vocabulary)\n",
        k.description
    );
    if k.left_out > 0 {
        o += &format!("{} kept passage(s) in no group are left out\n", k.left_out);
    }
    for g in &k.groups {
        o += &format!(
            "\n{}: {} passages, {} tokens; against {} passages, {} tokens\n",
            g.group, g.passages, g.tokens, g.reference_passages, g.reference_tokens
        );
        o += &format!(
            "{:>4}  {:<28} {:>7} {:>9} {:>9} {:>10} {:>9}\n",
            "rank", "term", "target", "reference", "G²", "p", "log ratio"
        );
        for r in k.rows.iter().filter(|r| r.group == g.group) {
            o += &format!(
                "{:>4}  {:<28} {:>7} {:>9} {:>9.2} {:>10.2e} {:>9.2}\n",
                r.rank, r.label, r.target, r.reference, r.g2, r.p_value, r.log_ratio
            );
        }
    }
    o
}

/// Write the rows to `path` (Parquet, atomically).
pub fn write(path: &Path, k: &Keyness, pipeline: &str) -> Result<()> {
    let (dir, name) = match (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        (Some(d), Some(n)) => (
            if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            },
            n,
        ),
        _ => {
            return Err(Error::Usage(format!(
                "--out {}: not a file path",
                path.display()
            )))
        }
    };
    tables::write(dir, name, to_frame(k)?, tables::Meta { pipeline })
}
