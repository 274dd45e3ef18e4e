//! The metadata heuristics (title/date/author/source from a text's first lines, dates from
//! column values) on any text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use themata_core::ingest::meta;

fuzz_target!(|text: &str| {
    let m = meta::from_text(text);
    if let Some(d) = &m.date {
        // a date found is always written YYYY-MM-DD
        assert_eq!(d.len(), 10, "{d:?}");
    }
    for line in text.lines().take(8) {
        let _ = meta::looks_like_date(line);
        let _ = meta::looks_like_name(line);
        if let Some(d) = meta::parse_date(line) {
            assert_eq!(d.len(), 10, "{line:?} → {d:?}");
            assert_eq!(meta::parse_date(&d).as_deref(), Some(d.as_str()), "not idempotent");
        }
    }
    let _ = meta::clean(m);
});
