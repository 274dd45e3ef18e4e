//! Parquet records: one document per row.

use super::{input_err, InputParams, Record};
use crate::error::Result;
use polars::prelude::*;
use std::path::Path;
use themata_core::model::DocumentMeta;

pub(super) fn read(
    path: &Path,
    rel: &str,
    bytes: &[u8],
    cols: &InputParams,
) -> Result<(Vec<Record>, Vec<String>)> {
    // polars' reader panics on some corrupt files (found by the parquet fuzz target: a slice
    // out of range in a decoding thread, which rayon hands back to this one): a clear error
    // naming the file instead of a crash
    let guarded = |f: &mut dyn FnMut() -> PolarsResult<DataFrame>| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .map_err(|_| {
                input_err(
                    path,
                    "not a readable Parquet file: the Parquet reader failed on its content \
                     (corrupt file)"
                        .into(),
                )
            })?
            .map_err(|e| input_err(path, format!("not a readable Parquet file: {e}")))
    };
    // the columns the pipeline names, checked against the file's schema (its metadata) and
    // read alone: other columns are neither decoded nor held
    let wanted: Vec<(&str, &str)> = [
        (Some(&cols.text_column), "text"),
        (cols.id_column.as_ref(), "id"),
        (cols.title_column.as_ref(), "title"),
        (cols.date_column.as_ref(), "date"),
        (cols.author_column.as_ref(), "author"),
        (cols.source_column.as_ref(), "source"),
    ]
    .into_iter()
    .filter_map(|(c, what)| c.map(|c| (c.as_str(), what)))
    .collect();
    // first its structure, which polars' reader trusts (see parquet_check): counts the bytes
    // cannot back would make it ask for more memory than there is, and abort
    let named: Vec<&str> = wanted.iter().map(|(c, _)| *c).collect();
    super::parquet_check::check(bytes, &named)
        .map_err(|e| input_err(path, format!("not a readable Parquet file: {e}")))?;
    let mut names: Vec<String> = Vec::new();
    guarded(&mut || {
        let schema = ParquetReader::new(std::io::Cursor::new(bytes)).schema()?;
        names = schema.iter_names().map(|n| n.to_string()).collect();
        Ok(DataFrame::empty())
    })?;
    for (name, what) in &wanted {
        if !names.iter().any(|n| n == name) {
            return Err(input_err(
                path,
                format!("no {what} column {name:?} (columns: {})", names.join(", ")),
            ));
        }
    }
    let mut projection: Vec<String> = wanted.iter().map(|(c, _)| c.to_string()).collect();
    projection.sort();
    projection.dedup();
    let df = guarded(&mut || {
        ParquetReader::new(std::io::Cursor::new(bytes))
            .with_columns(Some(projection.clone()))
            .finish()
    })?;
    let strings = |name: &str, what: &str| -> Result<Vec<Option<String>>> {
        let c = df
            .column(name)
            .map_err(|_| input_err(path, format!("no {what} column {name:?}")))?;
        let c = c
            .cast(&DataType::String)
            .map_err(|e| input_err(path, format!("column {name:?}: {e}")))?;
        let s = c
            .str()
            .map_err(|e| input_err(path, format!("column {name:?}: {e}")))?;
        Ok(s.iter().map(|v| v.map(str::to_string)).collect())
    };
    let text = strings(&cols.text_column, "text")?;
    let ids = match &cols.id_column {
        Some(c) => Some(strings(c, "id")?),
        None => None,
    };
    let optional = |c: &Option<String>, what: &str| match c {
        Some(c) => strings(c, what).map(Some),
        None => Ok(None),
    };
    let titles = optional(&cols.title_column, "title")?;
    let dates = optional(&cols.date_column, "date")?;
    let authors = optional(&cols.author_column, "author")?;
    let sources = optional(&cols.source_column, "source")?;
    let at = |v: &Option<Vec<Option<String>>>, i: usize| v.as_ref().and_then(|v| v[i].clone());
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, t) in text.into_iter().enumerate() {
        let Some(t) = t else {
            warnings.push(format!("{rel}: row {i}: null text, record skipped"));
            continue;
        };
        out.push(Record::new(
            ids.as_ref()
                .and_then(|v| v[i].clone())
                .unwrap_or_else(|| i.to_string()),
            t,
            DocumentMeta {
                title: at(&titles, i),
                date: at(&dates, i),
                author: at(&authors, i),
                source: at(&sources, i),
            },
        ));
    }
    Ok((out, warnings))
}
