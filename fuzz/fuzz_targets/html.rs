//! HTML text extraction (html5ever through scraper) and its metadata on any text: never
//! panics, and reading its own output as HTML again does not panic either.
#![no_main]
use libfuzzer_sys::fuzz_target;
use themata_core::ingest::markup;

fuzz_target!(|text: &str| {
    let (body, _meta) = markup::html(text);
    let _ = markup::html(&body);
});
