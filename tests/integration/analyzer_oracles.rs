//! The analyzer against reference outputs of other tools.

use themata_core::analyze::{Analyzer, AnalyzerParams, Stemmer, StopWords};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(super::root().join("tests/fixtures").join(name)).unwrap()
}

/// Every line of the Snowball (snowballstemmer 2.2.0) English oracle holds.
#[test]
fn every_english_stem_matches_the_oracle() {
    let stemmer = Stemmer::new(themata_core::analyze::Algorithm::English, true);
    let text = fixture("stems_english.tsv");
    let mut n = 0;
    let mut wrong = Vec::new();
    for line in text.lines() {
        let (word, stem) = line.split_once('\t').expect("word<TAB>stem");
        if stemmer.stem(word) != stem {
            wrong.push(format!("{word}: {} != {stem}", stemmer.stem(word)));
        }
        n += 1;
    }
    assert_eq!(n, 30_765);
    assert!(
        wrong.is_empty(),
        "{} wrong, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
}

/// scikit-learn's stop list and the stems of every surface token of BBC News.
#[test]
fn sklearn_profile_matches_surface_tokens_of_bbc() {
    let a = Analyzer::new(&AnalyzerParams {
        stop_words: StopWords::Sklearn,
        ..Default::default()
    })
    .unwrap();
    let stemmer = Stemmer::new(themata_core::analyze::Algorithm::English, true);
    let text = fixture("surface_tokens_bbc.tsv");
    let mut n = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let (token, is_stop, stem) = (f[0], f[1] == "1", f[2]);
        assert_eq!(
            a.is_stop_word(token),
            is_stop,
            "stop word status of {token:?}"
        );
        if !is_stop {
            assert_eq!(stemmer.stem(token), stem, "stem of {token:?}");
        }
        n += 1;
    }
    assert!(n > 30_000);
}

#[test]
fn sklearn_stop_list_has_318_words() {
    let words: std::collections::HashSet<&str> = themata_core::analyze::SKLEARN_ENGLISH_STOP_WORDS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(words.len(), 318);
}
