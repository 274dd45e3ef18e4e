//! summary.md: the report as Markdown, readable on a code host.

use super::{shorten, Summary};
use std::collections::BTreeMap;
use std::fmt::Write;
use themata_core::model::UNASSIGNED;

/// Text safe inside a Markdown table cell or paragraph.
/// Terms with their contributions: `negotiation 0.121, talks 0.080`.
fn terms_text(terms: &[super::why::TermPart]) -> String {
    terms
        .iter()
        .map(|t| format!("{} {:.3}", md(&t.label), t.contribution))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the contributions are, by the space they are in.
pub(crate) fn space_note(space: Option<&str>) -> &'static str {
    match space {
        Some("lsa") => {
            "k-means ran in LSA space, so these map a cosine of the reduced space back to \
             terms: they sum to the similarity, but a term acts through dimensions it shares \
             with others"
        }
        _ => "in TF-IDF space a term's contribution is its weight times the centroid's value, and all the passage's terms sum to the similarity exactly",
    }
}

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

/// The report as Markdown.
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
    if !s.theme_changes.is_empty() {
        let _ = writeln!(o, "### Themes since the previous run\n");
        let _ = writeln!(
            o,
            "Clusters matched one to one to the previous run's (mean of centroid cosine over \
             common terms and membership Jaccard over common passages; below {} no match) \
             keep their ids and names.\n",
            themata_core::stable::MATCH_FLOOR
        );
        let _ = writeln!(
            o,
            "| cluster | theme | status | passages | before | previous cluster | score |"
        );
        let _ = writeln!(o, "|---:|---|---|---:|---:|---:|---:|");
        for c in &s.theme_changes {
            let id = |x: Option<u32>| x.map_or("–".to_string(), |x| x.to_string());
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {:.3} |",
                id(c.cluster),
                c.theme,
                c.status,
                c.size,
                c.previous_size,
                id(c.previous_cluster),
                c.score
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
    if !s.hierarchy.is_empty() {
        let _ = writeln!(o, "### Theme hierarchy\n");
        let _ = writeln!(
            o,
            "Themes joined by average-linkage similarity of their centroids (the mean cosine \
             over every pair of themes, one from each side), most similar first; the number \
             before a join is its similarity.\n"
        );
        let _ = writeln!(o, "```text");
        for line in hierarchy_tree(s) {
            let _ = writeln!(o, "{}", line.replace('`', "'"));
        }
        let _ = writeln!(o, "```\n");
    }
    if !s.merges.is_empty() {
        let _ = writeln!(o, "### Merged themes\n");
        let _ = writeln!(
            o,
            "The fitted themes were merged after fitting (cluster.merge_above / \
             cluster.merge_to), most similar first:\n"
        );
        let _ = writeln!(o, "| merged | similarity | into |");
        let _ = writeln!(o, "|---|---:|---|");
        for m in &s.merges {
            let from: Vec<String> = m.from.iter().map(|f| md(f)).collect();
            let _ = writeln!(
                o,
                "| {} | {:.3} | {} |",
                from.join(" with "),
                m.similarity,
                md(&m.into)
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
            let why = if r.terms.is_empty() {
                String::new()
            } else {
                format!(
                    "\n> — why: {} ({:.0} % of the similarity)",
                    terms_text(&r.terms),
                    100.0 * r.explained
                )
            };
            let _ = writeln!(
                o,
                "> {}\n>\n> — `{}`, passage {} (similarity {:.3}){why}\n",
                md(&shorten(&r.text, 400)),
                r.document,
                r.ordinal,
                r.similarity
            );
        }
    }
    if !s.close_calls.is_empty() {
        let _ = writeln!(o, "## Close calls\n");
        let _ = writeln!(
            o,
            "The {} passages with the smallest margin between their nearest theme and the \
             runner-up, with the terms that pull them towards each (contribution to the \
             similarity; {}).\n",
            s.close_calls.len(),
            space_note(s.explained_in)
        );
        let _ = writeln!(
            o,
            "| passage | theme | margin | nearest | runner-up |\n|---|---|---:|---|---|"
        );
        for c in &s.close_calls {
            let _ = writeln!(
                o,
                "| `{}`, passage {}: {} | {} ({}) | {:.3} | **{}** {:.3}: {} | **{}** {:.3}: {} |",
                c.document,
                c.ordinal,
                md(&shorten(&c.text, 120)),
                md(&c.theme),
                c.status,
                c.margin,
                md(&c.nearest.theme),
                c.nearest.similarity,
                terms_text(&c.nearest.terms),
                md(&c.runner_up.theme),
                c.runner_up.similarity,
                terms_text(&c.runner_up.terms)
            );
        }
        let _ = writeln!(o);
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
            md(d.meta.title.as_deref().unwrap_or("")),
            d.meta.date.as_deref().unwrap_or(""),
            md(d.meta.author.as_deref().unwrap_or("")),
            md(d.meta.source.as_deref().unwrap_or("")),
            d.passages,
            counts.join(" | ")
        );
    }
    for v in &s.trends {
        trends(&mut o, v);
    }
    if let Some(k) = &s.keyness {
        keyness(&mut o, k);
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

/// The dendrogram as a text tree, root first: a join reads `0.312: 2 themes, 40 passages`,
/// a theme `doctrine (20 passages)`.
pub(crate) fn hierarchy_tree(s: &Summary) -> Vec<String> {
    let k = s.themes.len();
    let mut out = Vec::new();
    let Some(root) = s.hierarchy.last() else {
        return out;
    };
    fn walk(
        s: &Summary,
        k: usize,
        node: usize,
        prefix: &str,
        last: Option<bool>,
        out: &mut Vec<String>,
    ) {
        let (branch, next) = match last {
            None => ("", String::new()),
            Some(true) => ("└── ", format!("{prefix}    ")),
            Some(false) => ("├── ", format!("{prefix}│   ")),
        };
        if node < k {
            let t = &s.themes[node];
            out.push(format!("{prefix}{branch}{} ({} passages)", t.theme, t.size));
            return;
        }
        let Some(h) = s.hierarchy.get(node - k) else {
            return;
        };
        out.push(format!(
            "{prefix}{branch}{:.3}: {} themes, {} passages",
            h.similarity, h.themes, h.passages
        ));
        // a child's id is below its parent's (a table that says otherwise is not followed)
        for (child, last) in [(h.left as usize, false), (h.right as usize, true)] {
            if child < node {
                walk(s, k, child, &next, Some(last), out);
            }
        }
    }
    walk(s, k, root.node as usize, "", None, &mut out);
    out
}

/// One view of themes over time or by group: a table of buckets, each theme's share and
/// passages, the thin slices marked, then each theme's distinctive terms per bucket.
/// `report.keyness`: each group's key terms, one table row per term.
fn keyness(o: &mut String, k: &super::KeynessSection) {
    let _ = writeln!(o, "\n## Key terms by {}\n", k.by);
    let _ = writeln!(
        o,
        "Terms most over-represented in each group's kept passages against all the others \
         (log-likelihood G², as `themata keyness --by {}`; the rows are in keyness.parquet).\n",
        k.by
    );
    if k.left_out > 0 {
        let _ = writeln!(
            o,
            "{} kept passage(s) with no {} are left out.\n",
            k.left_out, k.by
        );
    }
    if let Some(n) = &k.note {
        let _ = writeln!(o, "{}\n", md(n));
        return;
    }
    let _ = writeln!(
        o,
        "| {} | passages | rank | term | target | reference | G² | p | log ratio |",
        k.by
    );
    let _ = writeln!(o, "|---|---:|---:|---|---:|---:|---:|---:|---:|");
    for g in &k.groups {
        // paths as code, as in the other tables
        let group = if k.by == "document" {
            format!("`{}`", g.group)
        } else {
            md(&g.group)
        };
        for r in k.rows.iter().filter(|r| r.group == g.group) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {:.2} | {:.2e} | {:.2} |",
                group,
                g.passages,
                r.rank,
                md(&r.label),
                r.target,
                r.reference,
                r.g2,
                r.p_value,
                r.log_ratio
            );
        }
    }
}

fn trends(o: &mut String, v: &super::trends::TrendView) {
    if v.view == "over" {
        let how = if v.auto {
            " (chosen by `over = \"auto\"` from the date range)"
        } else {
            ""
        };
        let _ = writeln!(o, "\n## Themes over time, by {}{how}\n", v.dimension);
    } else {
        let _ = writeln!(o, "\n## Themes by {}\n", v.dimension);
    }
    let _ = writeln!(
        o,
        "Each theme's share of the bucket's assigned passages (passages in brackets); \
         unassigned passages are counted beside, in no share. A bucket with fewer than {} \
         assigned passages is a **thin** slice: its shares say little.\n",
        v.min_bucket_passages
    );
    let Some(first) = v.buckets.first() else {
        return;
    };
    let head: Vec<String> = first.themes.iter().map(|t| md(&t.theme)).collect();
    let _ = writeln!(
        o,
        "| bucket | assigned | unassigned | {} | thin |",
        head.join(" | ")
    );
    let _ = writeln!(o, "|---|---:|---:|{}---|", "---:|".repeat(head.len()));
    for b in &v.buckets {
        let shares: Vec<String> = b
            .themes
            .iter()
            .map(|t| format!("{:.1} % ({})", t.share * 100.0, t.passages))
            .collect();
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            md(&b.bucket),
            b.assigned,
            b.unassigned,
            shares.join(" | "),
            if b.thin { "**thin**" } else { "" }
        );
    }
    let _ = writeln!(o);
    for n in super::trends::notes(v) {
        let _ = writeln!(o, "{}\n", md(&n));
    }
    let _ = writeln!(o, "Distinctive terms per bucket (c-TF-IDF):\n");
    let _ = writeln!(o, "| bucket | {} |", head.join(" | "));
    let _ = writeln!(o, "|---|{}", "---|".repeat(head.len()));
    for b in &v.buckets {
        let terms: Vec<String> = b
            .themes
            .iter()
            .map(|t| md(&t.top_terms.join(", ")))
            .collect();
        let _ = writeln!(o, "| {} | {} |", md(&b.bucket), terms.join(" | "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_table_and_html_characters() {
        assert_eq!(md("a|b <script>"), "a\\|b \\<script\\>");
    }
}
