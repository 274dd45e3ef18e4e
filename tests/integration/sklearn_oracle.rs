//! The sklearn-compatible profile reproduces scikit-learn's TfidfVectorizer on the
//! `seeds_passages` corpus (rebuilt here from the example corpus), to 1e-12: with single
//! words (the oracle of `../shared/oracles/`) and with words and bigrams
//! (`ngram_range=(1, 2)`, made by `scripts/make_ngram_oracle.py`).

use super::*;
use std::collections::HashMap;

/// One document per line of at least 40 characters (after trimming), as the oracle made it.
fn build_seeds_passages(dir: &Path) {
    for entry in std::fs::read_dir(root().join("corpus/khamenei")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let sub = dir.join(&stem);
        std::fs::create_dir_all(&sub).unwrap();
        let lines = text
            .split('\n')
            .map(str::trim)
            .filter(|l| l.chars().count() >= 40);
        for (i, l) in lines.enumerate() {
            std::fs::write(sub.join(format!("{i:03}.txt")), format!("{l}\n")).unwrap();
        }
    }
}

#[test]
fn tfidf_matches_scikit_learn_oracle() {
    matches_oracle("oracle_seeds_passages", &[]);
}

#[test]
fn bigram_tfidf_matches_scikit_learn_ngram_range_1_2() {
    let vocab = matches_oracle("oracle_seeds_passages_bigrams", &["analyzer.ngrams=[1, 2]"]);
    let terms = strs(&vocab, "term");
    let labels = strs(&vocab, "label");
    // bigrams are there, named by their stems and labelled by their surface forms
    let i = terms.iter().position(|t| t == "strateg patienc").unwrap();
    assert_eq!(labels[i], "strategic patience");
    assert!(terms.iter().filter(|t| t.contains(' ')).count() > 1000);
}

/// Run the sklearn-compatible profile (with `sets`) on the seed passages and compare its
/// tables with the oracle in `tests/fixtures/<oracle>`; the run's vocabulary table.
fn matches_oracle(oracle: &str, sets: &[&str]) -> DataFrame {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    build_seeds_passages(&corpus);
    let out = tmp.path().join("out");
    let report = format!("report.dir={}", tmp.path().join("r").display());
    let mut args = vec![
        "run",
        "pipelines/sklearn-compat.toml",
        "-q",
        "--input",
        corpus.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--set",
        &report,
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    themata_ok(&args);
    let oracle = root().join("tests/fixtures").join(oracle);

    // documents: the same paths
    let o_docs = themata::tables::read(&oracle, "docs.parquet").unwrap();
    let o_paths = strs(&o_docs, "path");
    let docs = table(&out, "documents.parquet");
    assert_eq!(strs(&docs, "path"), o_paths);

    // vocabulary: same terms, df and idf
    let o_vocab = themata::tables::read(&oracle, "vocab.parquet").unwrap();
    let o_terms = strs(&o_vocab, "term");
    let o_df: Vec<i32> = o_vocab
        .column("df")
        .unwrap()
        .i32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let o_idf = f64s(&o_vocab, "idf");
    let vocab = table(&out, "vocabulary.parquet");
    let terms = strs(&vocab, "term");
    assert_eq!(terms, o_terms);
    assert_eq!(
        u32s(&vocab, "df")
            .iter()
            .map(|&d| d as i32)
            .collect::<Vec<_>>(),
        o_df
    );
    for (a, b) in f64s(&vocab, "idf").iter().zip(&o_idf) {
        assert!((a - b).abs() <= 1e-12, "idf {a} vs {b}");
    }

    // weights: same non-zeros, counts equal, weights within 1e-12
    let o = themata::tables::read(&oracle, "tfidf.parquet").unwrap();
    let i32s = |df: &DataFrame, c: &str| -> Vec<i32> {
        df.column(c)
            .unwrap()
            .i32()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    let mut expected: HashMap<(String, String), (i32, f64)> = HashMap::new();
    for ((d, t), (c, w)) in i32s(&o, "doc_id")
        .into_iter()
        .zip(i32s(&o, "term_id"))
        .zip(i32s(&o, "count").into_iter().zip(f64s(&o, "weight")))
    {
        expected.insert(
            (o_paths[d as usize].clone(), o_terms[t as usize].clone()),
            (c, w),
        );
    }
    let m = table(&out, "tfidf.parquet");
    let passages = table(&out, "passages.parquet");
    let doc_of = u32s(&passages, "doc_id");
    let paths = strs(&docs, "path");
    let (pids, tids, counts, weights) = (
        u32s(&m, "passage_id"),
        u32s(&m, "term_id"),
        u32s(&m, "count"),
        f64s(&m, "weight"),
    );
    assert_eq!(pids.len(), expected.len());
    for i in 0..pids.len() {
        let key = (
            paths[doc_of[pids[i] as usize] as usize].clone(),
            terms[tids[i] as usize].clone(),
        );
        let (c, w) = expected
            .get(&key)
            .unwrap_or_else(|| panic!("unexpected non-zero {key:?}"));
        assert_eq!(counts[i] as i32, *c, "{key:?}");
        assert!(
            (weights[i] - w).abs() <= 1e-12,
            "{key:?}: {} vs {w}",
            weights[i]
        );
    }
    vocab
}
