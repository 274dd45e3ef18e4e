//! summary.html and summary.json: escaping of hostile text, the page's charts, and the
//! documented shape of summary.json.

use crate::{root, run_example, themata_ok};
use std::collections::BTreeSet;
use std::path::Path;

/// Decode the character references the template engine writes (numeric and named).
fn unescape(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&j| j <= 8);
        let decoded = end.and_then(|j| {
            let name = &rest[1..j];
            match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name
                    .strip_prefix('#')
                    .and_then(|n| n.parse::<u32>().ok())
                    .and_then(char::from_u32),
            }
            .map(|c| (c, j))
        });
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &rest[j + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn run_hostile(dir: &Path) -> String {
    let out = dir.join("out");
    let report = format!("report.dir={}", dir.join("report").display());
    themata_ok(&[
        "run",
        "tests/fixtures/hostile/pipeline.toml",
        "--quiet",
        "--output",
        out.to_str().unwrap(),
        "--set",
        &report,
    ]);
    std::fs::read_to_string(dir.join("report/summary.html")).unwrap()
}

/// Passages, a theme name and a seed word that hold HTML show as text: no element of theirs
/// reaches the page. Renders through the real template, so it fails if autoescaping is off.
#[test]
fn hostile_text_is_escaped_in_summary_html() {
    let tmp = tempfile::tempdir().unwrap();
    let html = run_hostile(tmp.path());
    let lower = html.to_lowercase();
    for tag in ["<script", "<img", "<em>"] {
        assert!(!lower.contains(tag), "{tag} reached the page unescaped");
    }
    let text = unescape(&html);
    for raw in [
        "<script>document.title = \"pwned\"; document.documentElement.setAttribute(\"data-pwned\", \"script\")</script> Cats purr",
        "<img src=\"x\" onerror=\"document.documentElement.setAttribute('data-pwned', 'img')\"> The dog",
        "<em>cats</em>",
        "<img src=x onerror=alert(1)>",
    ] {
        assert!(text.contains(raw), "{raw} is not shown as text");
    }
    // the script passage is a representative of its theme, shown in a blockquote
    assert!(html.contains("<blockquote class=\"passage\"><p>&#60;script&#62;document.title"));
}

fn svg_ids(html: &str) -> Vec<String> {
    html.split("<svg id=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// The example's page has every chart, one dot per placed passage, and nothing that would
/// fetch anything or run.
#[test]
fn example_summary_html_is_self_contained_with_every_chart() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let html = std::fs::read_to_string(tmp.path().join("report/summary.html")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
    )
    .unwrap();
    let mut charts: Vec<String> = [
        "theme-sizes",
        "theme-dendrogram",
        "theme-mix",
        "theme-trends-over",
        "theme-trends-over-0",
        "theme-trends-over-1",
        "theme-trends-over-2",
        "theme-trends-by",
        "top-terms-0",
        "top-terms-1",
        "top-terms-2",
    ]
    .map(String::from)
    .to_vec();
    // report.keyness = "document": one chart per document with kept passages
    let groups = summary["keyness"]["groups"].as_array().unwrap();
    assert!(groups.len() >= 2, "{groups:?}");
    charts.extend((0..groups.len()).map(|i| format!("keyness-{i}")));
    charts.push("passage-map".into());
    // the close calls: each theme's terms
    for i in 0..5 {
        charts.push(format!("close-call-{i}-nearest"));
        charts.push(format!("close-call-{i}-runner-up"));
    }
    assert_eq!(svg_ids(&html), charts);
    let points = summary["map"]["points"].as_array().unwrap();
    assert_eq!(
        points.len(),
        summary["map"]["passages"].as_u64().unwrap() as usize
    );
    assert!(points.len() >= 25, "{}", points.len());
    let map = &html[html.find("<svg id=\"passage-map\"").unwrap()..];
    let map = &map[..map.find("</svg>").unwrap()];
    assert_eq!(map.matches("<circle").count(), points.len());
    // theme sizes: one bar per theme and one for unassigned
    let sizes = &html[html.find("<svg id=\"theme-sizes\"").unwrap()..];
    let sizes = &sizes[..sizes.find("</svg>").unwrap()];
    assert_eq!(sizes.matches("<rect").count(), 4);
    // top terms are labels, not stems
    assert!(html.contains(">negotiations<") || html.contains(">negotiation<"));
    assert!(!html.contains(">negoti<"));
    // each document has a row in the theme mix
    for d in summary["documents"].as_array().unwrap() {
        assert!(html.contains(d["path"].as_str().unwrap()));
    }
    // self-contained: no script, no external resource
    let lower = html.to_lowercase();
    for bad in [
        "<script", "src=", "href=", "url(", "@import", "<link", "<iframe",
    ] {
        assert!(!lower.contains(bad), "{bad} in summary.html");
    }
    let without_ns = lower.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_ns.contains("http:") && !without_ns.contains("https:"));
    // set aside, with reasons explained; seeds; the run
    for s in [
        "id=\"set-aside\"",
        "image caption",
        "id=\"seeds\"",
        "strategic patience",
        "id=\"run\"",
        "cluster.mode",
    ] {
        assert!(html.contains(s), "{s} missing");
    }
}

/// Leaf paths of a JSON value: `a.b` for object fields, `a[]` for array elements. Objects
/// documented as `map` (keys are data, not field names) are not descended into.
fn paths(v: &serde_json::Value, prefix: &str, maps: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) if !maps.contains(prefix) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone());
                paths(x, &p, maps, out);
            }
        }
        serde_json::Value::Array(a) => {
            for x in a.iter().filter(|x| x.is_object()) {
                paths(x, &format!("{prefix}[]"), maps, out);
            }
        }
        _ => {}
    }
}

/// docs/summary-json.md lists every field of summary.json, and nothing else.
#[test]
fn summary_json_doc_lists_every_field() {
    let doc = std::fs::read_to_string(root().join("docs/summary-json.md")).unwrap();
    let mut documented = BTreeSet::new();
    let mut maps = BTreeSet::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() >= 4 && cells[1].starts_with('`') {
            let field = cells[1].trim_matches('`').to_string();
            if cells[2] == "map" {
                maps.insert(field.clone());
            }
            assert!(documented.insert(field.clone()), "{field} documented twice");
        }
    }
    assert!(documented.len() > 40, "{documented:?}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("reports/khamenei/summary.json")).unwrap(),
    )
    .unwrap();
    let mut actual = BTreeSet::new();
    paths(&json, "", &maps, &mut actual);
    // The example is guided; a discover run with k = "auto" fills the fields guided runs
    // leave empty (the sweep table).
    let tmp = tempfile::tempdir().unwrap();
    crate::run_example(
        tmp.path(),
        &[
            "--set",
            "cluster.mode=discover",
            "--set",
            "cluster.k=\"auto\"",
            "--set",
            "cluster.k_min=2",
            "--set",
            "cluster.k_max=3",
        ],
    );
    let discover: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
    )
    .unwrap();
    paths(&discover, "", &maps, &mut actual);
    // ... and a rerun over it (another seed) says what became of each theme
    crate::run_example(
        tmp.path(),
        &[
            "--set",
            "cluster.mode=discover",
            "--set",
            "cluster.k=3",
            "--set",
            "cluster.seed=7",
            "--set",
            "cluster.merge_to=2",
        ],
    );
    let rerun: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
    )
    .unwrap();
    assert!(rerun.get("theme_changes").is_some(), "{rerun}");
    assert_eq!(rerun["merges"].as_array().map(Vec::len), Some(1), "{rerun}");
    paths(&rerun, "", &maps, &mut actual);
    let missing: Vec<_> = actual.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&actual).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/summary-json.md is out of date: undocumented fields {missing:?}; documented but \
         absent {extra:?}"
    );
}

#[test]
fn unescape_decodes_references() {
    assert_eq!(unescape("&#60;a&#62; &amp;&lt;&gt; & x;"), "<a> &<> & x;");
}
