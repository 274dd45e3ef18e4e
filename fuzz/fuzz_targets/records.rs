//! What the record targets (jsonl, csv, parquet) share: read any bytes as records of one
//! format, with every metadata column named; records or a clear error, never a panic, and a
//! date read is always `YYYY-MM-DD`.
#![allow(dead_code)] // each target uses what it needs
use themata::formats::{read_records, InputFormat, InputParams};

pub fn check(format: InputFormat, name: &str, data: &[u8]) {
    let cols = InputParams {
        id_column: Some("id".into()),
        title_column: Some("title".into()),
        date_column: Some("date".into()),
        author_column: Some("author".into()),
        source_column: Some("source".into()),
        ..Default::default()
    };
    check_columns(format, name, data, &cols)
}

/// [`check`] with these columns named.
pub fn check_columns(format: InputFormat, name: &str, data: &[u8], cols: &InputParams) {
    if let Ok((records, _warnings)) = read_records(format, name, data, cols) {
        for r in records {
            if let Some(d) = &r.meta.date {
                assert_eq!(d.len(), 10, "{d:?}");
            }
        }
    }
}
