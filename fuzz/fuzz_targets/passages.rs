//! A text through ingest's document path: normalisation, every split, boilerplate and
//! near-duplicate marking. Passages lie within the text, in order.
#![no_main]
use libfuzzer_sys::fuzz_target;
use themata_core::ingest::{self, split_with, IngestParams, Split};

fuzz_target!(|data: (u8, u8, &str)| {
    let (how, window, text) = data;
    let split = match how % 5 {
        0 => Split::Paragraph,
        1 => Split::Line,
        2 => Split::Sentence,
        3 => Split::Window,
        _ => Split::Document,
    };
    let window = 1 + (window as usize % 40);
    let spans = split_with(text, split, window, window / 3);
    let mut end = 0;
    for &(a, b) in &spans {
        assert!(a <= b && b <= text.len(), "span {a}..{b} of {}", text.len());
        assert!(text.is_char_boundary(a) && text.is_char_boundary(b));
        if split != Split::Window {
            assert!(a >= end, "spans overlap");
        }
        end = b;
    }
    let params = IngestParams {
        split,
        ..Default::default()
    };
    // the same text twice: the second document's passages are duplicates of the first's
    let docs = vec![
        ingest::document("a".into(), text.to_string(), Default::default(), "h1".into(), &params),
        ingest::document("b".into(), text.to_string(), Default::default(), "h2".into(), &params),
    ];
    let _ = ingest::assemble(docs, Vec::new(), 2, &params);
});
