//! Why a passage got its theme: explanations.parquet on the example (guided, TF-IDF space),
//! `themata explain` (output, errors, exit codes), `apply`'s explanations and the report's.

use super::*;
use std::collections::BTreeMap;

/// The example's explanations, by (passage, role): (cluster, similarity, [(rank, term,
/// weight, contribution)]), and the space column.
type ByRole = BTreeMap<(u32, String), (u32, f64, Vec<(u32, u32, f64, f64)>)>;

fn by_role(out: &Path) -> (ByRole, Vec<String>) {
    let e = table(out, "explanations.parquet");
    let (pid, role, cl, sim, rank, term, w, c) = (
        u32s(&e, "passage_id"),
        strs(&e, "role"),
        u32s(&e, "cluster"),
        f64s(&e, "similarity"),
        u32s(&e, "rank"),
        u32s(&e, "term_id"),
        f64s(&e, "weight"),
        f64s(&e, "contribution"),
    );
    let mut by: ByRole = BTreeMap::new();
    for i in 0..pid.len() {
        let entry = by
            .entry((pid[i], role[i].clone()))
            .or_insert((cl[i], sim[i], vec![]));
        assert_eq!((entry.0, entry.1), (cl[i], sim[i]), "row {i}");
        entry.2.push((rank[i], term[i], w[i], c[i]));
    }
    (by, strs(&e, "space"))
}

/// With every term listed (`explain_terms = 1000`), each passage's contributions sum to the
/// similarity they explain, within 1e-9 (TF-IDF space: exact); the nearest centroid is the
/// passage's cluster with assignments.similarity, the runner-up lies `margin` below; weights
/// are the passage's TF-IDF weights; ranks run 1.. by contribution.
#[test]
fn explanations_sum_to_the_similarity_they_explain() {
    assert_explanations_sum(&[]);
}

#[test]
fn explanations_of_merged_themes_sum_to_the_similarity_to_the_merged_centroids() {
    // explained after the merge, against the centroids the passages were placed on
    assert_explanations_sum(&["--set", "cluster.merge_to=2"]);
}

/// Every explained passage's contributions (all its terms) sum to its similarity to the
/// nearest centroid and to the runner-up, within 1e-9, in TF-IDF space.
fn assert_explanations_sum(extra: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec!["--set", "cluster.explain_terms=1000"];
    args.extend_from_slice(extra);
    run_example(tmp.path(), &args);
    let out = tmp.path().join("out");
    let (by, space) = by_role(&out);
    assert!(space.iter().all(|s| s == "tfidf"), "{space:?}");
    let a = table(&out, "assignments.parquet");
    let (ap, ac, asim, amargin, astatus) = (
        u32s(&a, "passage_id"),
        opt_u32s(&a, "cluster"),
        f64s(&a, "similarity"),
        f64s(&a, "margin"),
        strs(&a, "status"),
    );
    let m = table(&out, "tfidf.parquet");
    let weights: BTreeMap<(u32, u32), f64> = u32s(&m, "passage_id")
        .into_iter()
        .zip(u32s(&m, "term_id"))
        .zip(f64s(&m, "weight"))
        .collect();
    let mut explained = 0;
    for i in 0..ap.len() {
        let near = by.get(&(ap[i], "nearest".into()));
        if astatus[i] == "no_terms" {
            assert!(near.is_none(), "passage {}", ap[i]);
            continue;
        }
        let (cluster, sim, terms) = near.unwrap_or_else(|| panic!("passage {}", ap[i]));
        explained += 1;
        assert_eq!(*sim, asim[i], "passage {}", ap[i]);
        if let Some(c) = ac[i] {
            assert_eq!(*cluster, c);
        }
        let runner = &by[&(ap[i], "runner_up".into())];
        assert_ne!(runner.0, *cluster);
        assert!(
            (sim - runner.1 - amargin[i]).abs() < 1e-12,
            "passage {}",
            ap[i]
        );
        for (c, s, terms) in [(cluster, sim, terms), (&runner.0, &runner.1, &runner.2)] {
            let sum: f64 = terms.iter().map(|t| t.3).sum();
            assert!(
                (sum - s).abs() < 1e-9,
                "passage {} cluster {c}: {sum} != {s}",
                ap[i]
            );
            let ranks: Vec<u32> = terms.iter().map(|t| t.0).collect();
            assert_eq!(ranks, (1..=terms.len() as u32).collect::<Vec<_>>());
            for w in terms.windows(2) {
                assert!(w[0].3 > w[1].3 || (w[0].3 == w[1].3 && w[0].1 < w[1].1));
            }
            for t in terms {
                assert_eq!(weights[&(ap[i], t.1)], t.2);
                assert!(t.3 > 0.0, "TF-IDF contributions are positive");
            }
        }
    }
    assert!(explained >= 30, "{explained}");
}

/// In LSA space (`reduce = "lsa"`) the contributions map the reduced space's cosine back to
/// terms: with every term listed they still sum to the similarity (to rounding), the table
/// and `explain` say `lsa`, and the nearest centroid is the passage's cluster.
#[test]
fn lsa_explanations_are_marked_and_sum_to_the_similarity() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(
        tmp.path(),
        &[
            "--set",
            "cluster.reduce=\"lsa\"",
            "--set",
            "cluster.lsa_dims=8",
            "--set",
            "cluster.explain_terms=1000",
        ],
    );
    let out = tmp.path().join("out");
    let (by, space) = by_role(&out);
    assert!(
        !space.is_empty() && space.iter().all(|s| s == "lsa"),
        "{space:?}"
    );
    let a = table(&out, "assignments.parquet");
    let sims: BTreeMap<u32, (Option<u32>, f64)> = u32s(&a, "passage_id")
        .into_iter()
        .zip(
            opt_u32s(&a, "cluster")
                .into_iter()
                .zip(f64s(&a, "similarity")),
        )
        .collect();
    for ((pid, role), (cluster, sim, terms)) in &by {
        let sum: f64 = terms.iter().map(|t| t.3).sum();
        assert!(
            (sum - sim).abs() < 1e-9,
            "passage {pid} {role}: {sum} != {sim}"
        );
        if role == "nearest" {
            assert_eq!(*sim, sims[pid].1);
            if let Some(c) = sims[pid].0 {
                assert_eq!(*cluster, c);
            }
        }
    }
    let pid = by.keys().next().unwrap().0.to_string();
    let (code, text, err) = explain(&[out.to_str().unwrap(), &pid]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("space: lsa"), "{text}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["explained_in"], "lsa");
}

/// A discover run that keeps the previous run's theme ids renumbers its clusters: the
/// explanations follow (nearest = the assignment's cluster, themes = clusters.parquet's).
#[test]
fn explanations_follow_kept_theme_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let discover = |seed: &str| {
        run_example(
            tmp.path(),
            &[
                "--set",
                "cluster.mode=discover",
                "--set",
                "cluster.k=3",
                "--set",
                &format!("cluster.seed={seed}"),
            ],
        )
    };
    discover("1");
    discover("7");
    let out = tmp.path().join("out");
    let (by, _) = by_role(&out);
    let a = table(&out, "assignments.parquet");
    let clusters = table(&out, "clusters.parquet");
    let names: BTreeMap<u32, String> = u32s(&clusters, "cluster")
        .into_iter()
        .zip(strs(&clusters, "theme"))
        .collect();
    for (pid, c) in u32s(&a, "passage_id")
        .into_iter()
        .zip(opt_u32s(&a, "cluster"))
    {
        if let (Some(c), Some(e)) = (c, by.get(&(pid, "nearest".into()))) {
            assert_eq!(e.0, c, "passage {pid}");
        }
    }
    let e = table(&out, "explanations.parquet");
    for (c, theme) in u32s(&e, "cluster").into_iter().zip(strs(&e, "theme")) {
        assert_eq!(names[&c], theme);
    }
}

/// By default each passage keeps its 5 top terms per role; the setting is in the cluster
/// stage's key, checked when the file is loaded, and 0 writes an empty table.
#[test]
fn explain_terms_limits_the_table_and_reruns_the_cluster_stage() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let (by, _) = by_role(&out);
    assert!(by.values().all(|(_, _, t)| !t.is_empty() && t.len() <= 5));
    assert!(by.values().any(|(_, _, t)| t.len() == 5));
    let e = table(&out, "explanations.parquet");
    let labels = strs(&e, "label");
    let themes = strs(&e, "theme");
    assert!(labels.iter().all(|l| !l.is_empty()));
    assert!(themes
        .iter()
        .all(|t| ["doctrine", "succession", "negotiation"].contains(&t.as_str())));

    let err = run_example_with(tmp.path(), "-v", &["--set", "cluster.explain_terms=0"]);
    assert!(err.contains("ingest: up to date, skipped"), "{err}");
    assert!(err.contains("cluster.explain_terms"), "{err}");
    assert_eq!(table(&out, "explanations.parquet").height(), 0);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
    )
    .unwrap();
    assert!(summary["explained_in"].is_null());
    assert_eq!(summary["close_calls"].as_array().unwrap().len(), 0);

    let (code, err) = themata_in(
        &root(),
        &[
            "run",
            "pipelines/khamenei.toml",
            "--output",
            tmp.path().join("bad").to_str().unwrap(),
            "--set",
            "cluster.explain_terms=1001",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cluster.explain_terms"), "{err}");
    assert!(!tmp.path().join("bad/assignments.parquet").exists());
    let (code, err) = themata_in(
        &root(),
        &[
            "run",
            "pipelines/khamenei.toml",
            "--output",
            tmp.path().join("bad").to_str().unwrap(),
            "--set",
            "report.close_calls=101",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("report.close_calls"), "{err}");
}

fn explain(args: &[&str]) -> (i32, String, String) {
    let o = themata(&[&["explain"], args].concat());
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `themata explain` prints the passage, its theme, similarity and margin, and both
/// centroids' top terms with the share they cover — those of the table; `--json` the same
/// as JSON; `--top` shortens the lists.
#[test]
fn explain_prints_a_passage_and_its_terms() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let dir = out.to_str().unwrap();
    let (by, _) = by_role(&out);
    let a = table(&out, "assignments.parquet");
    let (ap, atheme, asim) = (
        u32s(&a, "passage_id"),
        strs(&a, "theme"),
        f64s(&a, "similarity"),
    );
    let i = ap
        .iter()
        .position(|&p| by.contains_key(&(p, "runner_up".into())))
        .unwrap();
    let id = ap[i].to_string();

    let (code, text, err) = explain(&[dir, &id]);
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with(&format!("passage {id} (")), "{text}");
    assert!(
        text.contains(&format!("theme: {} (cluster", atheme[i])),
        "{text}"
    );
    assert!(
        text.contains(&format!("similarity {:.4}", asim[i])),
        "{text}"
    );
    assert!(text.contains("\nnearest: "), "{text}");
    assert!(text.contains("\nrunner-up: "), "{text}");
    assert!(text.contains("space: tfidf"), "{text}");
    assert!(text.contains("% of the similarity"), "{text}");

    let (code, json, err) = explain(&[dir, &id, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["theme"], atheme[i].as_str());
    assert!((v["similarity"].as_f64().unwrap() - asim[i]).abs() < 1e-15);
    assert_eq!(v["space"], "tfidf");
    let cs = v["centroids"].as_array().unwrap();
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0]["role"], "nearest");
    assert_eq!(cs[1]["role"], "runner_up");
    for (c, role) in cs.iter().zip(["nearest", "runner_up"]) {
        let (cluster, sim, terms) = &by[&(ap[i], role.to_string())];
        assert_eq!(c["cluster"], *cluster);
        assert!((c["similarity"].as_f64().unwrap() - sim).abs() < 1e-15);
        let got: Vec<(u64, f64)> = c["terms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["term_id"].as_u64().unwrap(),
                    t["contribution"].as_f64().unwrap(),
                )
            })
            .collect();
        let want: Vec<(u64, f64)> = terms.iter().map(|t| (t.1 as u64, t.3)).collect();
        // (JSON's decimal form reads back to the last bit or one off)
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0);
            assert!((g.1 - w.1).abs() < 1e-15, "{got:?} != {want:?}");
        }
        let covered: f64 = want.iter().map(|t| t.1).sum();
        assert!((c["covered"].as_f64().unwrap() - covered).abs() < 1e-12);
        assert!((c["share"].as_f64().unwrap() - covered / sim).abs() < 1e-12);
        // every label in the text
        for t in c["terms"].as_array().unwrap() {
            assert!(text.contains(t["label"].as_str().unwrap()), "{text}");
        }
    }

    let (code, json, _) = explain(&[dir, &id, "--json", "--top", "2"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for c in v["centroids"].as_array().unwrap() {
        assert!(c["terms"].as_array().unwrap().len() <= 2);
    }
}

/// An unknown id, a passage that is not kept, a missing directory or table: one line naming
/// it, exit 2.
#[test]
fn explain_errors_name_the_id_the_status_and_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let dir = out.to_str().unwrap();
    let ps = table(&out, "passages.parquet");
    let n = ps.height();

    let (code, text, err) = explain(&[dir, &n.to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(text.is_empty());
    assert!(err.contains(&format!("no passage {n}")), "{err}");
    assert!(err.contains(&format!("from 0 to {}", n - 1)), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let status = strs(&ps, "status");
    let reason = strs(&ps, "reason");
    let i = status.iter().position(|s| s != "kept").unwrap();
    let (code, _, err) = explain(&[dir, &i.to_string()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("passage {i} is not kept")), "{err}");
    assert!(
        err.contains(&status[i]) && err.contains(&reason[i]),
        "{err}"
    );

    let missing = tmp.path().join("nowhere");
    let (code, _, err) = explain(&[missing.to_str().unwrap(), "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("nowhere") && err.contains("not found"),
        "{err}"
    );

    std::fs::remove_file(out.join("explanations.parquet")).unwrap();
    let (code, _, err) = explain(&[dir, "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("explanations.parquet"), "{err}");

    let (code, _, err) = explain(&[dir, "not-a-number"]);
    assert_eq!(code, 2, "{err}");
}

/// A reader that closes the pipe before `explain` writes: exit 0, no panic.
#[test]
fn explain_to_a_closed_pipe_exits_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let kept = u32s(&table(&out, "assignments.parquet"), "passage_id")[0].to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_themata"))
        .args(["explain", out.to_str().unwrap(), &kept])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("themata runs");
    // closed before the tables are read
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `apply` on the corpus the model was fitted on explains every passage as the run did, and
/// `explain` reads its output.
#[test]
fn apply_writes_the_same_explanations() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let run = tmp.path().join("out");
    let applied = tmp.path().join("applied");
    let (code, err) = themata_in(
        &root(),
        &[
            "apply",
            run.to_str().unwrap(),
            "--input",
            "corpus/khamenei",
            "--output",
            applied.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let (a, _) = by_role(&run);
    let (b, _) = by_role(&applied);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, x) in &a {
        let y = &b[k];
        assert_eq!(x.0, y.0, "{k:?}");
        assert!((x.1 - y.1).abs() <= 1e-12, "{k:?}");
        assert_eq!(x.2.len(), y.2.len(), "{k:?}");
        for (s, t) in x.2.iter().zip(&y.2) {
            assert_eq!((s.0, s.1), (t.0, t.1), "{k:?}");
            assert!((s.3 - t.3).abs() <= 1e-12, "{k:?}");
        }
    }
    let kept = u32s(&table(&applied, "assignments.parquet"), "passage_id")[0].to_string();
    let (code, text, err) = explain(&[applied.to_str().unwrap(), &kept]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("nearest: "), "{text}");
}

/// The report: representative passages carry their top terms (the table's), and the close
/// calls are the passages of smallest margin with both themes' terms.
#[test]
fn the_report_explains_representatives_and_close_calls() {
    let tmp = tempfile::tempdir().unwrap();
    run_example(tmp.path(), &[]);
    let out = tmp.path().join("out");
    let (by, _) = by_role(&out);
    let e = table(&out, "explanations.parquet");
    let labels: BTreeMap<u32, String> = u32s(&e, "term_id")
        .into_iter()
        .zip(strs(&e, "label"))
        .collect();
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("report/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["explained_in"], "tfidf");
    for t in summary["themes"].as_array().unwrap() {
        for r in t["representatives"].as_array().unwrap() {
            let pid = r["passage_id"].as_u64().unwrap() as u32;
            let (_, _, terms) = &by[&(pid, "nearest".into())];
            let want: Vec<&str> = terms.iter().map(|t| labels[&t.1].as_str()).collect();
            let got: Vec<&str> = r["terms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["label"].as_str().unwrap())
                .collect();
            assert_eq!(got, want, "passage {pid}");
            let share = r["explained"].as_f64().unwrap();
            assert!(share > 0.0 && share <= 1.0 + 1e-9, "{share}");
        }
    }
    let calls = summary["close_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 5);
    let a = table(&out, "assignments.parquet");
    let mut margins: Vec<(f64, u32)> = f64s(&a, "margin")
        .into_iter()
        .zip(u32s(&a, "passage_id"))
        .filter(|(_, p)| by.contains_key(&(*p, "runner_up".into())))
        .collect();
    margins.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    let want: Vec<u32> = margins.iter().take(5).map(|m| m.1).collect();
    let got: Vec<u32> = calls
        .iter()
        .map(|c| c["passage_id"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(got, want);
    for c in calls {
        assert_ne!(c["nearest"]["cluster"], c["runner_up"]["cluster"]);
        assert!(!c["runner_up"]["terms"].as_array().unwrap().is_empty());
    }
    let md = std::fs::read_to_string(tmp.path().join("report/summary.md")).unwrap();
    assert!(md.contains("## Close calls"), "{md}");
    assert!(md.contains("— why: "), "{md}");
    let html = std::fs::read_to_string(tmp.path().join("report/summary.html")).unwrap();
    assert!(html.contains("id=\"close-calls\""));
    for i in 0..5 {
        assert!(html.contains(&format!("id=\"close-call-{i}-nearest\"")));
        assert!(html.contains(&format!("id=\"close-call-{i}-runner-up\"")));
    }
    assert!(html.contains("<span class=\"why\">Why: "));
}
