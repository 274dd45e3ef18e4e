//! The analyzer and the counting step on any texts (split at NUL): the counts of the whole
//! equal the merge of any two parts, and every term's label analyses to the term.
#![no_main]
use libfuzzer_sys::fuzz_target;
use themata_core::analyze::{Analyzer, AnalyzerParams, TermCounts};
use themata_core::Silent;

fuzz_target!(|data: &str| {
    let texts: Vec<&str> = data.split('\0').collect();
    let ids: Vec<u32> = (0..texts.len() as u32).collect();
    let a = Analyzer::new(&AnalyzerParams::default()).expect("default analyzer");
    let whole = TermCounts::partial(&a, &ids, &texts, &Silent);
    let cut = texts.len() / 2;
    let merged = TermCounts::partial(&a, &ids[..cut], &texts[..cut], &Silent)
        .merge(TermCounts::partial(&a, &ids[cut..], &texts[cut..], &Silent));
    assert_eq!(merged, whole);
    let c = whole.finish();
    for (t, label) in c.terms.iter().zip(&c.labels) {
        let tok = a.analyze_word(label).expect("a label is a term's surface form");
        assert_eq!(tok.term.as_ref(), t.as_str());
    }
});
