//! summary.html: one self-contained page (inline CSS and SVG, no script, nothing fetched)
//! rendered from a [`Summary`] through the askama template `templates/summary.html`,
//! which is compiled into the binary and escapes every value for HTML.
//!
//! Unlike summary.md and summary.json, the page also shows the run (themata's version,
//! threads, per-stage timings and settings, from the manifest). Those values are wrapped in
//! `<span class="volatile">` so a comparison of two renderings can leave them out.

use super::charts::{
    self, BarItem, Columns, Dendrogram, HBars, LineItem, Lines, Scatter, StackItem, Stacked,
};
use super::trends::{notes, TrendBucket, TrendView};
use super::{shorten, DocumentMix, SeedFigure, Summary};
use crate::error::{Error, Result};
use askama::Template;
use std::collections::{BTreeMap, HashMap};
use themata_core::model::UNASSIGNED;

/// Documents shown in the theme-mix chart (the ones with most kept passages beyond this).
pub const MAX_MIX_ROWS: usize = 40;
/// Set-aside passages listed (all of them are counted).
pub const MAX_SET_ASIDE_ROWS: usize = 200;

/// The run behind a report: what the manifest recorded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInfo {
    /// themata's version.
    pub version: String,
    /// Threads the run used.
    pub threads: String,
    /// The clustering seed.
    pub seed: u64,
    /// The stages before the report.
    pub stages: Vec<StageRun>,
}

/// One stage of the run, as shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageRun {
    /// The stage's name.
    pub name: String,
    /// Its time, e.g. `0.123 s`.
    pub seconds: String,
    /// Rows written per table, e.g. `documents 3, passages 60`.
    pub rows: String,
    /// Its settings and results as `key = value` lines.
    pub settings: Vec<(String, String)>,
}

/// `key = value` lines of a settings object, nested keys joined with `.`.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                flatten(&key(k), x, out);
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(scalar).collect();
            out.push((prefix.to_string(), items.join(", ")));
        }
        x => out.push((prefix.to_string(), scalar(x))),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".into(),
        x => x.to_string(),
    }
}

impl StageRun {
    /// A stage as the manifest recorded it: its time, rows, and settings (an object, shown
    /// as dotted keys; the themes' seed words are left out: the seed-word table shows them).
    pub fn new(
        name: &str,
        seconds: f64,
        rows: &BTreeMap<String, u64>,
        settings: &serde_json::Value,
    ) -> StageRun {
        let rows: Vec<String> = rows.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let mut lines = Vec::new();
        flatten("", settings, &mut lines);
        lines.retain(|(k, _)| !k.starts_with("themes["));
        StageRun {
            name: name.to_string(),
            seconds: format!("{seconds:.3} s"),
            rows: rows.join(", "),
            settings: lines,
        }
    }
}

/// Why passages with this status and reason were set aside.
pub fn why(status: &str, reason: &str) -> &'static str {
    match (status, reason) {
        (_, "dateline") => "a dateline: place and date opening the article",
        (_, "read_time") => "a reading-time note (\"5 min read\")",
        (_, "byline") => "a byline: author and date",
        (_, "caption") => "an image caption or photo credit",
        (_, "copyright") => "a copyright line",
        (_, "tags") => "a list of tags",
        (_, "author_bio") => "an author biography",
        (_, "heading") => "a title or heading",
        (_, "repeated") => "a short line repeated elsewhere in the corpus (page furniture)",
        (_, "related_articles") => "part of the related-articles list closing the page",
        (_, "exact") => "an exact copy of an earlier passage",
        (_, "near") => "a near-duplicate of an earlier passage (word 3-gram Jaccard)",
        (_, "contained") => "contained in an earlier passage",
        (_, "merged") => "covered by earlier passages together (paragraphs merged)",
        (_, "min_passage_chars") => "shorter than ingest.min_passage_chars",
        ("boilerplate", _) => "page furniture, not article text",
        ("duplicate", _) => "repeats an earlier passage",
        _ => "not analysed",
    }
}

pub struct Legend {
    pub name: String,
    pub color: &'static str,
}

pub struct TermChart {
    pub theme: String,
    pub color: &'static str,
    pub chart: HBars,
    /// The centroid's heaviest terms (highest mean TF-IDF weight), comma-separated.
    pub heaviest: String,
}

/// One group's key terms (`report.keyness`), charted by G².
pub struct KeynessChart {
    pub group: String,
    /// `N passages, T tokens; against N passages, T tokens`.
    pub figures: String,
    pub color: &'static str,
    pub chart: HBars,
}

/// The keyness section: what was compared and a chart per group (empty with a note).
pub struct KeynessView {
    pub by: &'static str,
    pub note: Option<String>,
    pub left_out: usize,
    pub groups: Vec<KeynessChart>,
}

/// Lay out the keyness section: by theme, each group takes its theme's colour.
fn keyness_view(s: &Summary) -> Option<KeynessView> {
    let k = s.keyness.as_ref()?;
    let theme_color: HashMap<&str, &'static str> = s
        .themes
        .iter()
        .map(|t| (t.theme.as_str(), charts::color(Some(t.cluster))))
        .collect();
    let groups = k
        .groups
        .iter()
        .map(|g| {
            let color = if k.by == "theme" {
                theme_color
                    .get(g.group.as_str())
                    .copied()
                    .unwrap_or(charts::UNASSIGNED_COLOR)
            } else {
                charts::PALETTE[0]
            };
            let items: Vec<BarItem> = k
                .rows
                .iter()
                .filter(|r| r.group == g.group)
                .map(|r| BarItem {
                    label: r.label.clone(),
                    value: r.g2,
                    value_text: format!("G² {:.1}", r.g2),
                    color,
                })
                .collect();
            KeynessChart {
                group: g.group.clone(),
                figures: format!(
                    "{} passages, {} tokens; against {} passages, {} tokens",
                    g.passages, g.tokens, g.reference_passages, g.reference_tokens
                ),
                color,
                chart: charts::hbars(&items, 320.0, 16),
            }
        })
        .collect();
    Some(KeynessView {
        by: k.by,
        note: k.note.clone(),
        left_out: k.left_out,
        groups,
    })
}

pub struct ThemeView {
    pub theme: String,
    pub color: &'static str,
    pub size: u32,
    pub share: String,
    pub representatives: Vec<RepView>,
}

pub struct RepView {
    pub document: String,
    pub ordinal: u32,
    pub similarity: String,
    pub text: String,
    /// Its top contributing terms, e.g. `negotiation 0.121, talks 0.080 (61 % of the
    /// similarity)`; empty without explanations.
    pub why: String,
}

/// A passage's pull towards one theme, as a bar chart of its top terms' contributions.
pub struct PullView {
    pub theme: String,
    pub color: &'static str,
    pub similarity: String,
    pub explained: String,
    pub chart: HBars,
}

/// A close call: the passage, and its pulls towards both themes.
pub struct CloseView {
    pub document: String,
    pub ordinal: u32,
    pub theme: String,
    pub status: String,
    pub margin: String,
    pub text: String,
    pub nearest: PullView,
    pub runner_up: PullView,
}

pub struct SeedGroup {
    pub theme: String,
    pub color: &'static str,
    pub live: usize,
    pub seeds: Vec<SeedFigure>,
}

pub struct SetAsideGroup {
    pub status: String,
    pub reason: String,
    pub count: usize,
    pub why: &'static str,
}

pub struct SetAsideRow {
    pub document: String,
    pub ordinal: u32,
    pub status: String,
    pub reason: String,
    pub repeats: String,
    pub text: String,
}

/// Themes over time: the line chart of every theme's share and one small chart per theme.
pub struct TrendsOver {
    /// The unit (`year`, ...), and whether `auto` chose it.
    pub dimension: String,
    pub auto: bool,
    pub min_bucket_passages: u32,
    pub lines: Lines,
    pub multiples: Vec<Multiple>,
    /// The buckets as a table: label, first day, assigned, unassigned, thin, shares.
    pub rows: Vec<TrendRowView>,
    pub notes: Vec<String>,
}

/// One theme's small chart.
pub struct Multiple {
    pub theme: String,
    pub color: &'static str,
    pub chart: Columns,
}

/// Themes by group: a stacked bar per group.
pub struct TrendsBy {
    pub dimension: String,
    pub min_bucket_passages: u32,
    pub chart: Stacked,
    pub rows: Vec<TrendRowView>,
    pub notes: Vec<String>,
}

/// One bucket in the trends tables.
pub struct TrendRowView {
    pub bucket: String,
    pub start: String,
    pub assigned: u32,
    pub unassigned: u32,
    pub thin: bool,
    /// Each theme's share and passages, e.g. `45 % (9)`, in cluster order.
    pub shares: Vec<String>,
}

fn trend_rows(v: &TrendView) -> Vec<TrendRowView> {
    v.buckets
        .iter()
        .map(|b| TrendRowView {
            bucket: b.bucket.clone(),
            start: b.start.clone().unwrap_or_default(),
            assigned: b.assigned,
            unassigned: b.unassigned,
            thin: b.thin,
            shares: b
                .themes
                .iter()
                .map(|t| format!("{:.0} % ({})", t.share * 100.0, t.passages))
                .collect(),
        })
        .collect()
}

/// A theme's figures in a bucket, for a tooltip.
fn trend_title(
    theme: &str,
    b: &TrendBucket,
    share: f64,
    passages: u32,
    terms: &[String],
) -> String {
    let mut t = format!(
        "{theme} · {}: {:.0} % ({passages} of {} assigned)",
        b.bucket,
        share * 100.0,
        b.assigned
    );
    if b.thin {
        t.push_str(" — thin slice");
    }
    if !terms.is_empty() {
        t.push_str(&format!("; {}", terms.join(", ")));
    }
    t
}

fn trends_over(v: &TrendView) -> TrendsOver {
    let dated: Vec<(f64, &TrendBucket)> = v
        .dated()
        .filter_map(|b| {
            let day = themata_core::trends::parse_day(b.start.as_deref()?)?;
            Some((day as f64, b))
        })
        .collect();
    let ticks: Vec<(f64, String)> = dated.iter().map(|(x, b)| (*x, b.bucket.clone())).collect();
    let n_themes = v.buckets.first().map_or(0, |b| b.themes.len());
    let items: Vec<LineItem> = (0..n_themes)
        .map(|i| {
            let first = &v.buckets[0].themes[i];
            LineItem {
                name: first.theme.clone(),
                color: charts::color(Some(first.cluster)),
                points: dated
                    .iter()
                    .map(|(x, b)| {
                        let t = &b.themes[i];
                        let title = trend_title(&t.theme, b, t.share, t.passages, &t.top_terms);
                        (*x, t.share, b.thin, title)
                    })
                    .collect(),
            }
        })
        .collect();
    let multiples = (0..n_themes)
        .map(|i| {
            let first = &v.buckets[0].themes[i];
            let cols: Vec<(String, f64, bool, String)> = v
                .buckets
                .iter()
                .map(|b| {
                    let t = &b.themes[i];
                    let title = trend_title(&t.theme, b, t.share, t.passages, &t.top_terms);
                    (b.bucket.clone(), t.share, b.thin, title)
                })
                .collect();
            Multiple {
                theme: first.theme.clone(),
                color: charts::color(Some(first.cluster)),
                chart: charts::columns(&cols, 300.0, 120.0),
            }
        })
        .collect();
    TrendsOver {
        dimension: v.dimension.clone(),
        auto: v.auto,
        min_bucket_passages: v.min_bucket_passages,
        lines: charts::lines(&items, &ticks, 1000.0, 260.0),
        multiples,
        rows: trend_rows(v),
        notes: notes(v),
    }
}

fn trends_by(v: &TrendView) -> TrendsBy {
    let items: Vec<StackItem> = v
        .buckets
        .iter()
        .map(|b| StackItem {
            label: b.bucket.clone(),
            parts: b
                .themes
                .iter()
                .map(|t| (t.theme.clone(), t.passages, charts::color(Some(t.cluster))))
                .collect(),
            total_text: if b.thin {
                format!("{} assigned · thin", b.assigned)
            } else {
                format!("{} assigned", b.assigned)
            },
        })
        .collect();
    TrendsBy {
        dimension: v.dimension.clone(),
        min_bucket_passages: v.min_bucket_passages,
        chart: charts::stacked(&items, 1000.0, 40),
        rows: trend_rows(v),
        notes: notes(v),
    }
}

/// The page's data: the summary, the run, and every chart's geometry.
#[derive(Template)]
#[template(path = "summary.html")]
pub struct Page<'a> {
    pub s: &'a Summary,
    pub run: &'a RunInfo,
    pub overview: Vec<(&'static str, String)>,
    pub legend: Vec<Legend>,
    pub sizes: HBars,
    pub themes: Vec<ThemeView>,
    pub mix: Stacked,
    pub mix_note: String,
    pub terms: Vec<TermChart>,
    pub map: Scatter,
    /// The themes' dendrogram (`None` with fewer than two themes).
    pub dendrogram: Option<Dendrogram>,
    pub close_calls: Vec<CloseView>,
    /// What the contributions are (exact in TF-IDF space, mapped back to terms in LSA).
    pub explain_note: &'static str,
    pub set_aside_groups: Vec<SetAsideGroup>,
    pub set_aside_rows: Vec<SetAsideRow>,
    pub set_aside_more: usize,
    pub seeds: Vec<SeedGroup>,
    /// Some theme has seed-strength figures (guided runs).
    pub has_strength: bool,
    /// `report.over`: themes over time.
    pub trends_over: Option<TrendsOver>,
    /// `report.by`: themes by group.
    pub trends_by: Option<TrendsBy>,
    /// `report.keyness`: the terms key to each group.
    pub keyness: Option<KeynessView>,
}

/// Lay out every chart of the page.
pub fn page<'a>(s: &'a Summary, run: &'a RunInfo) -> Page<'a> {
    let status: Vec<String> = s
        .corpus
        .passages_by_status
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    let c = &s.corpus;
    let overview = vec![
        ("documents", c.documents.to_string()),
        (
            "passages",
            format!("{} ({})", c.passages, status.join(", ")),
        ),
        (
            "terms",
            format!("{} seen, {} kept after pruning", c.terms_seen, c.terms_kept),
        ),
        ("TF-IDF non-zeros", c.tfidf_nonzeros.to_string()),
        (
            "clustering",
            format!(
                "{} mode, {} themes, k-means in {}",
                s.mode,
                s.themes.len(),
                s.space
            ),
        ),
        ("language", s.language.clone()),
        ("unassigned passages", s.unassigned.to_string()),
        ("warnings", c.warning_count.to_string()),
    ];
    let mut legend: Vec<Legend> = s
        .themes
        .iter()
        .map(|t| Legend {
            name: t.theme.clone(),
            color: charts::color(Some(t.cluster)),
        })
        .collect();
    legend.push(Legend {
        name: UNASSIGNED.into(),
        color: charts::UNASSIGNED_COLOR,
    });
    let mut size_items: Vec<BarItem> = s
        .themes
        .iter()
        .map(|t| BarItem {
            label: t.theme.clone(),
            value: t.size as f64,
            value_text: format!("{} · {:.0} %", t.size, t.share * 100.0),
            color: charts::color(Some(t.cluster)),
        })
        .collect();
    size_items.push(BarItem {
        label: UNASSIGNED.into(),
        value: s.unassigned as f64,
        value_text: s.unassigned.to_string(),
        color: charts::UNASSIGNED_COLOR,
    });
    let sizes = charts::hbars(&size_items, 640.0, 24);

    // theme mix: every document, or the ones with most kept passages
    let kept = |d: &DocumentMix| d.themes.iter().map(|(_, n)| n).sum::<u32>();
    let mut docs: Vec<&DocumentMix> = s.documents.iter().collect();
    let mix_note = if docs.len() > MAX_MIX_ROWS {
        docs.sort_by(|a, b| kept(b).cmp(&kept(a)).then(a.doc_id.cmp(&b.doc_id)));
        docs.truncate(MAX_MIX_ROWS);
        format!(
            "The {MAX_MIX_ROWS} documents with most kept passages, of {}.",
            s.documents.len()
        )
    } else {
        String::new()
    };
    let colors: HashMap<&str, &'static str> =
        legend.iter().map(|l| (l.name.as_str(), l.color)).collect();
    let mix_items: Vec<StackItem> = docs
        .iter()
        .map(|d| StackItem {
            label: match &d.meta.title {
                Some(t) => format!("{} — {t}", d.path),
                None => d.path.clone(),
            },
            parts: d
                .themes
                .iter()
                .map(|(n, k)| {
                    (
                        n.clone(),
                        *k,
                        colors
                            .get(n.as_str())
                            .copied()
                            .unwrap_or(charts::UNASSIGNED_COLOR),
                    )
                })
                .collect(),
            total_text: format!("{} kept", kept(d)),
        })
        .collect();
    let mix = charts::stacked(&mix_items, 1000.0, 48);

    let terms = s
        .themes
        .iter()
        .map(|t| {
            let items: Vec<BarItem> = t
                .top_terms
                .iter()
                .zip(&t.top_term_weights)
                .map(|(label, w)| BarItem {
                    label: label.clone(),
                    value: *w,
                    value_text: format!("{w:.3}"),
                    color: charts::color(Some(t.cluster)),
                })
                .collect();
            TermChart {
                theme: t.theme.clone(),
                color: charts::color(Some(t.cluster)),
                chart: charts::hbars(&items, 320.0, 16),
                heaviest: t.top_terms_by_weight.join(", "),
            }
        })
        .collect();

    let theme_of: HashMap<u32, &str> = s
        .themes
        .iter()
        .map(|t| (t.cluster, t.theme.as_str()))
        .collect();
    let points: Vec<charts::ScatterItem> = s
        .map
        .points
        .iter()
        .map(|p| {
            let theme = p
                .cluster
                .and_then(|c| theme_of.get(&c).copied())
                .unwrap_or(UNASSIGNED);
            (
                p.x,
                p.y,
                charts::color(p.cluster),
                format!("passage {}: {theme}", p.passage_id),
            )
        })
        .collect();
    let map = charts::scatter(&points, 640.0, 480.0);

    let dendrogram = (!s.hierarchy.is_empty()).then(|| {
        let leaves: Vec<charts::DendroLeafItem> = s
            .themes
            .iter()
            .map(|t| (t.theme.clone(), t.size, charts::color(Some(t.cluster))))
            .collect();
        let joins: Vec<charts::DendroJoinItem> = s
            .hierarchy
            .iter()
            .map(|h| {
                (
                    h.left as usize,
                    h.right as usize,
                    h.similarity,
                    format!(
                        "similarity {:.3}: {} ({} passages)",
                        h.similarity, h.members, h.passages
                    ),
                )
            })
            .collect();
        charts::dendrogram(&leaves, &joins, 640.0, 24)
    });

    let themes = s
        .themes
        .iter()
        .map(|t| ThemeView {
            theme: t.theme.clone(),
            color: charts::color(Some(t.cluster)),
            size: t.size,
            share: format!("{:.1} %", t.share * 100.0),
            representatives: t
                .representatives
                .iter()
                .map(|r| RepView {
                    document: r.document.clone(),
                    ordinal: r.ordinal,
                    similarity: format!("{:.3}", r.similarity),
                    text: shorten(&r.text, 700),
                    why: if r.terms.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "{} ({:.0} % of the similarity)",
                            r.terms
                                .iter()
                                .map(|x| format!("{} {:.3}", x.label, x.contribution))
                                .collect::<Vec<_>>()
                                .join(", "),
                            100.0 * r.explained
                        )
                    },
                })
                .collect(),
        })
        .collect();

    let pull = |p: &super::why::Pull| {
        let color = charts::color(Some(p.cluster));
        let items: Vec<BarItem> = p
            .terms
            .iter()
            .map(|t| BarItem {
                label: t.label.clone(),
                value: t.contribution,
                value_text: format!("{:.3}", t.contribution),
                color,
            })
            .collect();
        PullView {
            theme: p.theme.clone(),
            color,
            similarity: format!("{:.3}", p.similarity),
            explained: format!("{:.0} %", 100.0 * p.explained),
            chart: charts::hbars(&items, 320.0, 16),
        }
    };
    let close_calls = s
        .close_calls
        .iter()
        .map(|c| CloseView {
            document: c.document.clone(),
            ordinal: c.ordinal,
            theme: c.theme.clone(),
            status: c.status.clone(),
            margin: format!("{:.3}", c.margin),
            text: shorten(&c.text, 400),
            nearest: pull(&c.nearest),
            runner_up: pull(&c.runner_up),
        })
        .collect();

    let mut groups: BTreeMap<(String, String), usize> = BTreeMap::new();
    for p in &s.set_aside {
        *groups
            .entry((p.status.clone(), p.reason.clone()))
            .or_insert(0) += 1;
    }
    let set_aside_groups = groups
        .into_iter()
        .map(|((status, reason), count)| SetAsideGroup {
            why: why(&status, &reason),
            status,
            reason,
            count,
        })
        .collect();
    let set_aside_rows = s
        .set_aside
        .iter()
        .take(MAX_SET_ASIDE_ROWS)
        .map(|p| SetAsideRow {
            document: p.document.clone(),
            ordinal: p.ordinal,
            status: p.status.clone(),
            reason: p.reason.clone(),
            repeats: p
                .duplicate_of
                .as_ref()
                .map_or(String::new(), |(d, o)| format!("{d}, passage {o}")),
            text: shorten(&p.text, 160),
        })
        .collect();
    let mut seeds: Vec<SeedGroup> = Vec::new();
    for sd in &s.seeds {
        if seeds.last().is_none_or(|g| g.theme != sd.theme) {
            let cluster = s
                .themes
                .iter()
                .find(|t| t.theme == sd.theme)
                .map(|t| t.cluster);
            seeds.push(SeedGroup {
                theme: sd.theme.clone(),
                color: charts::color(cluster),
                live: 0,
                seeds: vec![],
            });
        }
        if let Some(g) = seeds.last_mut() {
            g.live += usize::from(sd.status == "live");
            g.seeds.push(sd.clone());
        }
    }
    Page {
        s,
        seeds,
        run,
        overview,
        legend,
        sizes,
        themes,
        mix,
        mix_note,
        terms,
        map,
        dendrogram,
        close_calls,
        explain_note: super::markdown::space_note(s.explained_in),
        set_aside_groups,
        set_aside_rows,
        set_aside_more: s.set_aside.len().saturating_sub(MAX_SET_ASIDE_ROWS),
        has_strength: s.themes.iter().any(|t| t.strength.is_some()),
        trends_over: s
            .trends
            .iter()
            .find(|v| v.view == "over" && !v.buckets.is_empty())
            .map(trends_over),
        trends_by: s
            .trends
            .iter()
            .find(|v| v.view == "by" && !v.buckets.is_empty())
            .map(trends_by),
        keyness: keyness_view(s),
    }
}

/// Render summary.html.
pub fn render_html(s: &Summary, run: &RunInfo) -> Result<String> {
    page(s, run).render().map_err(|e| Error::Table {
        path: "summary.html".into(),
        message: e.to_string(),
    })
}

/// The page with the run's volatile values (timings, version, threads) blanked, for
/// comparing two renderings of the same pipeline.
pub fn without_volatile(html: &str) -> String {
    const OPEN: &str = "<span class=\"volatile\">";
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i + OPEN.len()]);
        rest = &rest[i + OPEN.len()..];
        match rest.find("</span>") {
            Some(j) => rest = &rest[j..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_values_are_blanked() {
        let a = "<p>v<span class=\"volatile\">0.1.0</span> in <span class=\"volatile\">1.5 s</span></p>";
        let b = "<p>v<span class=\"volatile\">0.2.0</span> in <span class=\"volatile\">0.7 s</span></p>";
        assert_eq!(without_volatile(a), without_volatile(b));
        assert_eq!(
            without_volatile(a),
            "<p>v<span class=\"volatile\"></span> in <span class=\"volatile\"></span></p>"
        );
        assert_ne!(without_volatile("<p>1</p>"), without_volatile("<p>2</p>"));
    }

    #[test]
    fn settings_flatten_to_dotted_keys() {
        let v = serde_json::json!({"cluster": {"k": null, "seed": 42}, "patterns": ["a", "b"],
                                   "themes": [{"name": "x", "seeds": ["s"]}]});
        let mut out = Vec::new();
        flatten("", &v, &mut out);
        let got: Vec<String> = out.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            got,
            [
                "cluster.k=—",
                "cluster.seed=42",
                "patterns=a, b",
                "themes[0].name=x",
                "themes[0].seeds=s"
            ]
        );
    }

    #[test]
    fn every_reason_has_an_explanation() {
        use themata_core::model::{Named, Reason};
        // every reason a passage can have, through its name table
        for &(_, r) in Reason::NAMES {
            assert_ne!(why("boilerplate", r), why("boilerplate", "?"), "{r}");
            assert_ne!(why("duplicate", r), why("duplicate", "?"), "{r}");
        }
        assert_ne!(why("short", "min_passage_chars"), why("short", "?"));
    }
}
