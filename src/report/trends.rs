//! Themes over time (`report.over`) and by group (`report.by`): the figures of summary.json
//! and the rows of `theme_trends.parquet`, from [`themata_core::trends`].

use super::{r6, ReportParams, OVER_AUTO};
use serde::Serialize;
use std::collections::HashMap;
use themata_core::model::{Clustering, Corpus, DocumentMeta, SparseRows, Vocabulary};
use themata_core::trends::{self, TrendRow, Unit};

/// Distinctive terms listed per theme and bucket.
pub const TREND_TERMS: usize = 5;

/// One view: the themes of every bucket.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrendView {
    /// `over` (time buckets) or `by` (groups).
    pub view: &'static str,
    /// The unit (`day`, `week`, `month`, `year`) or the document field (`source`, ...).
    pub dimension: String,
    /// `over = "auto"`: the unit was chosen from the date range.
    pub auto: bool,
    /// Buckets with fewer assigned passages are thin.
    pub min_bucket_passages: u32,
    pub buckets: Vec<TrendBucket>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrendBucket {
    pub bucket: String,
    /// First day of a period (`YYYY-MM-DD`); null for `undated` and groups.
    pub start: Option<String>,
    /// Assigned passages: what the shares are of.
    pub assigned: u32,
    /// Kept passages no theme took.
    pub unassigned: u32,
    pub thin: bool,
    pub themes: Vec<TrendTheme>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrendTheme {
    pub cluster: u32,
    pub theme: String,
    pub passages: u32,
    pub share: f64,
    pub top_terms: Vec<String>,
}

impl TrendView {
    /// The buckets of this view that lie on the time axis (not `undated`).
    pub fn dated(&self) -> impl Iterator<Item = &TrendBucket> {
        self.buckets.iter().filter(|b| b.start.is_some())
    }
}

fn field<'a>(meta: &'a DocumentMeta, name: &str) -> Option<&'a str> {
    match name {
        "source" => meta.source.as_deref(),
        "author" => meta.author.as_deref(),
        "title" => meta.title.as_deref(),
        _ => None,
    }
}

/// The views the settings ask for (none, one or both), over the kept passages of `m`.
pub fn views(
    params: &ReportParams,
    corpus: &Corpus,
    vocab: &Vocabulary,
    m: &SparseRows,
    c: &Clustering,
) -> Vec<TrendView> {
    let cluster_of: HashMap<u32, Option<u32>> = c
        .assignments
        .iter()
        .map(|a| (a.passage_id, a.cluster))
        .collect();
    let labels: Vec<Option<u32>> = m
        .row_ids
        .iter()
        .map(|id| cluster_of.get(id).copied().flatten())
        .collect();
    let meta = |r: usize| {
        let p = &corpus.passages[m.row_ids[r] as usize];
        &corpus.documents[p.doc_id as usize].meta
    };
    let rows = 0..m.n_rows();
    let mut out = Vec::new();
    let mut view = |name: &'static str, dimension: &str, auto: bool, b: trends::Buckets| {
        let t = trends::trends(
            m,
            &labels,
            c.clusters.len(),
            &b,
            params.min_bucket_passages,
            TREND_TERMS,
        );
        out.push(TrendView {
            view: name,
            dimension: dimension.to_string(),
            auto,
            min_bucket_passages: params.min_bucket_passages,
            buckets: t
                .into_iter()
                .map(|bt| TrendBucket {
                    bucket: bt.bucket.label,
                    start: bt.bucket.start,
                    assigned: bt.assigned,
                    unassigned: bt.unassigned,
                    thin: bt.thin,
                    themes: bt
                        .themes
                        .iter()
                        .map(|x| TrendTheme {
                            cluster: x.cluster,
                            theme: c.clusters[x.cluster as usize].theme.clone(),
                            passages: x.passages,
                            share: r6(x.share),
                            top_terms: trends::term_labels(vocab, &x.top_terms),
                        })
                        .collect(),
                })
                .collect(),
        });
    };
    if let Some(over) = &params.over {
        let days: Vec<Option<i64>> = rows
            .clone()
            .map(|r| meta(r).date.as_deref().and_then(trends::parse_day))
            .collect();
        let auto = over == OVER_AUTO;
        let unit = match Unit::parse(over) {
            Some(u) => u,
            None => trends::auto_unit(days.iter().flatten().copied()),
        };
        view("over", unit.name(), auto, trends::time_buckets(&days, unit));
    }
    if let Some(by) = &params.by {
        let values: Vec<Option<&str>> = rows.map(|r| field(meta(r), by)).collect();
        view("by", by, false, trends::group_buckets(&values));
    }
    out
}

/// The rows of `theme_trends.parquet`: every theme of every bucket of every view.
pub fn table_rows(views: &[TrendView]) -> Vec<TrendRow> {
    let mut rows = Vec::new();
    for v in views {
        for b in &v.buckets {
            for t in &b.themes {
                rows.push(TrendRow {
                    view: v.view,
                    dimension: v.dimension.clone(),
                    bucket: b.bucket.clone(),
                    bucket_start: b.start.clone(),
                    cluster: t.cluster,
                    theme: t.theme.clone(),
                    passages: t.passages,
                    bucket_passages: b.assigned,
                    unassigned: b.unassigned,
                    share: t.share,
                    thin: b.thin,
                    top_terms: t.top_terms.join(", "),
                });
            }
        }
    }
    rows
}

/// Notes on a view for the reader: thin slices and undated passages, counted.
pub fn notes(v: &TrendView) -> Vec<String> {
    let mut notes = Vec::new();
    let thin: Vec<&str> = v
        .buckets
        .iter()
        .filter(|b| b.thin)
        .map(|b| b.bucket.as_str())
        .collect();
    if !thin.is_empty() {
        notes.push(format!(
            "Thin slices (fewer than {} assigned passages, so their shares say little): {}.",
            v.min_bucket_passages,
            thin.join(", ")
        ));
    }
    if let Some(u) = v
        .buckets
        .iter()
        .find(|b| b.start.is_none() && v.view == "over")
    {
        notes.push(format!(
            "{} kept passages ({} assigned) come from documents without a date: they are \
             counted in the bucket \"{}\", off the time axis.",
            u.assigned + u.unassigned,
            u.assigned,
            trends::UNDATED
        ));
    }
    notes
}
