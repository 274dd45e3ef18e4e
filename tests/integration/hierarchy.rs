//! Nested and merged themes on the example: the dendrogram's table and report, and
//! `cluster.merge_to` / `cluster.merge_above` merging themes with every table, the manifest,
//! the report and `themata apply` consistent.

use super::model::{apply, assert_same_assignments};
use super::{f64s, opt_u32s, root, run_example, strs, table, themata, u32s};
use std::collections::BTreeSet;
use std::path::Path;

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_example_has_a_dendrogram_of_its_themes() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let h = table(&out, "theme_hierarchy.parquet");
    let clusters = table(&out, "clusters.parquet");
    let k = clusters.height() as u32;
    assert_eq!(k, 3);
    assert_eq!(h.height(), 2);
    assert_eq!(u32s(&h, "node"), [3, 4]);
    // each join's children exist before it; the root holds every theme and passage
    for (i, (l, r)) in u32s(&h, "left").iter().zip(u32s(&h, "right")).enumerate() {
        assert!(*l < r && r < k + i as u32, "{l} {r}");
    }
    let sims = f64s(&h, "similarity");
    assert!(sims[0] >= sims[1] && sims.iter().all(|s| (-1.0..=1.0).contains(s)));
    let sizes: u32 = u32s(&clusters, "size").iter().sum();
    assert_eq!(u32s(&h, "themes"), [2, 3]);
    assert_eq!(*u32s(&h, "passages").last().unwrap(), sizes);
    let root_members: BTreeSet<String> = strs(&h, "members")[1]
        .split(" | ")
        .map(String::from)
        .collect();
    assert_eq!(
        root_members,
        strs(&clusters, "theme")
            .into_iter()
            .collect::<BTreeSet<_>>()
    );
    // the first join: its two themes, its passages
    let (l, r) = (u32s(&h, "left")[0], u32s(&h, "right")[0]);
    let themes = strs(&clusters, "theme");
    assert_eq!(
        strs(&h, "members")[0],
        format!("{} | {}", themes[l as usize], themes[r as usize])
    );
    let csizes = u32s(&clusters, "size");
    assert_eq!(
        u32s(&h, "passages")[0],
        csizes[l as usize] + csizes[r as usize]
    );
    // the report: the same joins in summary.json, a tree in summary.md, the chart in html
    let report = tmp.path().join("report");
    let s = json(&report.join("summary.json"));
    let nodes = s["hierarchy"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["similarity"].as_f64().unwrap(), sims[0]);
    assert_eq!(s["merges"].as_array().unwrap().len(), 0);
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(md.contains("### Theme hierarchy"), "{md}");
    assert!(md.contains(&format!("{:.3}: 3 themes, {sizes} passages", sims[1])));
    for t in &themes {
        assert!(
            md.contains(&format!("── {t} (")),
            "{t} not a leaf of the tree"
        );
    }
    let html = std::fs::read_to_string(report.join("summary.html")).unwrap();
    assert!(html.contains("<svg id=\"theme-dendrogram\""));
    assert_eq!(html.matches("<g class=\"join\">").count(), 2);
    assert_eq!(html.matches("<g class=\"leaf\">").count(), 3);
}

#[test]
fn merge_to_merges_themes_with_every_table_and_the_model_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let before = table(&out, "theme_hierarchy.parquet");
    let (l, r) = (u32s(&before, "left")[0], u32s(&before, "right")[0]);
    let fitted = strs(&table(&out, "clusters.parquet"), "theme");
    let old = table(&out, "assignments.parquet");

    // rerun on the same output with the themes merged down to two
    run_example(tmp.path(), &["--set", "cluster.merge_to=2"]);
    let joined = format!("{}+{}", fitted[l as usize], fitted[r as usize]);
    let clusters = table(&out, "clusters.parquet");
    assert_eq!(u32s(&clusters, "cluster"), [0, 1]);
    let themes = strs(&clusters, "theme");
    assert_eq!(themes[0], joined, "{themes:?}");
    let theme_set: BTreeSet<&str> = themes.iter().map(String::as_str).collect();
    // assignments: the merged theme holds the two themes' passages
    let a = table(&out, "assignments.parquet");
    let (ids, names) = (opt_u32s(&a, "cluster"), strs(&a, "theme"));
    let mut sizes = [0u32; 2];
    for (i, (c, t)) in ids.iter().zip(&names).enumerate() {
        match c {
            Some(c) => {
                assert_eq!(t, &themes[*c as usize]);
                sizes[*c as usize] += 1;
            }
            None => assert_eq!(t, "unassigned"),
        }
        let was = opt_u32s(&old, "cluster")[i];
        if was == Some(l) || was == Some(r) {
            assert_eq!(t, &joined, "passage {i}");
        }
    }
    assert_eq!(u32s(&clusters, "size"), sizes);
    // the other tables name the merged themes only
    assert!(u32s(&table(&out, "cluster_terms.parquet"), "cluster")
        .iter()
        .all(|c| *c < 2));
    let seeds = strs(&table(&out, "theme_seeds.parquet"), "theme");
    assert!(
        seeds.iter().all(|t| theme_set.contains(t.as_str())),
        "{seeds:?}"
    );
    assert!(seeds.contains(&joined));
    let centroids = table(&out, "centroids.parquet");
    assert_eq!(
        u32s(&centroids, "cluster")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        [0, 1].into()
    );
    assert!(strs(&centroids, "theme")
        .iter()
        .all(|t| theme_set.contains(t.as_str())));
    let model = json(&out.join("model.json"));
    let model_themes: Vec<&str> = model["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["theme"].as_str().unwrap())
        .collect();
    assert_eq!(model_themes, themes);
    // the dendrogram of the merged themes: one join
    assert_eq!(table(&out, "theme_hierarchy.parquet").height(), 1);
    // the manifest keeps the merge
    let manifest = json(&out.join("manifest.json"));
    let cluster = &manifest["stages"]["cluster"];
    assert_eq!(cluster["settings"]["cluster"]["merge_to"], 2);
    let merges = cluster["results"]["merges"].as_array().unwrap();
    assert_eq!(merges.len(), 1);
    assert_eq!(
        merges[0]["from"],
        serde_json::json!([fitted[l as usize], fitted[r as usize]])
    );
    assert_eq!(merges[0]["into"], joined.as_str());
    assert_eq!(merges[0]["into_cluster"], 0);
    assert_eq!(
        merges[0]["similarity"].as_f64().unwrap(),
        f64s(&before, "similarity")[0]
    );
    // ... and so does the report
    let report = tmp.path().join("report");
    let s = json(&report.join("summary.json"));
    assert_eq!(s["merges"], cluster["results"]["merges"]);
    assert_eq!(s["themes"].as_array().unwrap().len(), 2);
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(md.contains("### Merged themes"), "{md}");
    let html = std::fs::read_to_string(report.join("summary.html")).unwrap();
    assert!(html.contains("<table id=\"theme-merges\">"));
    // `themata report` from the tables gives the same report
    let again = tmp.path().join("again");
    let cmd = [
        "report",
        "pipelines/khamenei.toml",
        "--quiet",
        "--output",
        out.to_str().unwrap(),
        "--set",
        &format!("report.dir={}", again.display()),
    ];
    let o = themata(&cmd);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(again.join("summary.json")).unwrap(),
        std::fs::read_to_string(report.join("summary.json")).unwrap()
    );
    // the merged model applies as the run assigned
    let applied = tmp.path().join("applied");
    let (code, err) = apply(
        &root(),
        &out,
        &root().join("corpus/khamenei"),
        &applied,
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_same_assignments(&out, &applied);

    // the setting is part of the cluster stage's key: without it, the three themes again
    run_example(tmp.path(), &[]);
    assert_eq!(strs(&table(&out, "clusters.parquet"), "theme"), fitted);
    assert!(
        json(&out.join("manifest.json"))["stages"]["cluster"]["results"]
            .get("merges")
            .is_none()
    );
}

#[test]
fn merge_above_merges_the_joins_at_least_that_similar() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let sims = f64s(&table(&out, "theme_hierarchy.parquet"), "similarity");
    // just above the first join: nothing merged
    let above = format!("cluster.merge_above={}", sims[0] + 1e-4);
    run_example(tmp.path(), &["--set", &above]);
    assert_eq!(table(&out, "clusters.parquet").height(), 3);
    // at the first join (and above the second): one merge
    let at = format!("cluster.merge_above={}", (sims[0] + sims[1]) / 2.0);
    run_example(tmp.path(), &["--set", &at]);
    assert_eq!(table(&out, "clusters.parquet").height(), 2);
    // 0: everything with a non-negative similarity joins (the example's themes do)
    assert!(sims[1] >= 0.0, "{sims:?}");
    run_example(tmp.path(), &["--set", "cluster.merge_above=0"]);
    let c = table(&out, "clusters.parquet");
    assert_eq!(c.height(), 1);
    assert_eq!(
        strs(&c, "theme")[0].split('+').count(),
        3,
        "{:?}",
        strs(&c, "theme")
    );
    assert_eq!(table(&out, "theme_hierarchy.parquet").height(), 0);
}

#[test]
fn bad_merge_settings_exit_2_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for (set, key) in [
        ("cluster.merge_above=1.5", "cluster.merge_above"),
        ("cluster.merge_above=-0.2", "cluster.merge_above"),
        ("cluster.merge_to=0", "cluster.merge_to"),
    ] {
        let o = themata(&[
            "run",
            "pipelines/khamenei.toml",
            "--quiet",
            "--output",
            out.to_str().unwrap(),
            "--set",
            set,
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{set}: {err}");
        assert!(err.contains(key), "{set}: {err}");
        assert!(!out.join("clusters.parquet").exists());
    }
}
