//! CSV records: a header row, then one document per row.

use super::{input_err, InputParams, Record};
use crate::error::Result;
use std::path::Path;
use themata_core::model::DocumentMeta;

/// The records of a CSV stream (read a record at a time through the csv crate's buffer, so a
/// file larger than memory is read in the memory of its records).
pub(super) fn read(
    path: &Path,
    rel: &str,
    reader: impl std::io::Read,
    cols: &InputParams,
) -> Result<(Vec<Record>, Vec<String>)> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(reader);
    let headers = r
        .headers()
        .map_err(|e| input_err(path, format!("CSV header: {e}")))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let missing = |what: &str, name: &str| {
        let names: Vec<&str> = headers.iter().collect();
        input_err(
            path,
            format!("no {what} column {name:?} (columns: {})", names.join(", ")),
        )
    };
    let t = find(&cols.text_column).ok_or_else(|| missing("text", &cols.text_column))?;
    let id = match &cols.id_column {
        Some(c) => Some(find(c).ok_or_else(|| missing("id", c))?),
        None => None,
    };
    let optional = |c: &Option<String>, what: &str| match c {
        Some(c) => find(c).map(Some).ok_or_else(|| missing(what, c)),
        None => Ok(None),
    };
    let title = optional(&cols.title_column, "title")?;
    let date = optional(&cols.date_column, "date")?;
    let author = optional(&cols.author_column, "author")?;
    let source = optional(&cols.source_column, "source")?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                warnings.push(format!("{rel}: {e}, record skipped"));
                continue;
            }
        };
        let line = rec.position().map_or(i as u64 + 2, |p| p.line());
        let get = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::to_string)
                .filter(|s| !s.is_empty())
        };
        out.push(Record::new(
            id.and_then(|c| rec.get(c))
                .map_or_else(|| line.to_string(), str::to_string),
            rec.get(t).unwrap_or("").to_string(),
            DocumentMeta {
                title: get(title),
                date: get(date),
                author: get(author),
                source: get(source),
            },
        ));
    }
    Ok((out, warnings))
}
