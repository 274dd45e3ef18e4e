//! parquet records (the text, id, title, date, author and source columns) from any bytes:
//! records or a clear error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use themata::formats::{read_records, InputFormat, InputParams};

fuzz_target!(|data: &[u8]| {
    let cols = InputParams {
        id_column: Some("id".into()),
        title_column: Some("title".into()),
        date_column: Some("date".into()),
        author_column: Some("author".into()),
        source_column: Some("source".into()),
        ..Default::default()
    };
    if let Ok((records, _warnings)) = read_records(InputFormat::Parquet, "f.parquet", data, &cols) {
        for r in records {
            if let Some(d) = &r.meta.date {
                assert_eq!(d.len(), 10, "{d:?}");
            }
        }
    }
});
