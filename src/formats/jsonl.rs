//! JSON Lines records: one JSON object per line.

use super::{InputParams, Record};
use themata_core::model::DocumentMeta;

fn json_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The records of a JSON Lines stream, read a line at a time (a file larger than memory is
/// read in the memory of its records). Lines that are not UTF-8 are decoded with replacement
/// characters, with one warning for the file (first, before the lines' own warnings).
pub(super) fn read(
    rel: &str,
    mut reader: impl std::io::BufRead,
    cols: &InputParams,
) -> std::io::Result<(Vec<Record>, Vec<String>)> {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut lossy = false;
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        n += 1;
        // as str::lines: without the line end, "\r\n" or "\n"
        let mut bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let line = String::from_utf8_lossy(bytes);
        lossy |= matches!(line, std::borrow::Cow::Owned(_));
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                warnings.push(format!("{rel}:{n}: malformed JSON ({e}), record skipped"));
                continue;
            }
        };
        let Some(body) = v.get(&cols.text_column).and_then(serde_json::Value::as_str) else {
            warnings.push(format!(
                "{rel}:{n}: no text field {:?}, record skipped",
                cols.text_column
            ));
            continue;
        };
        let field = |c: &Option<String>| c.as_ref().and_then(|c| v.get(c)).and_then(json_string);
        out.push(Record::new(
            cols.id_column
                .as_ref()
                .and_then(|c| v.get(c))
                .and_then(json_string)
                .unwrap_or_else(|| n.to_string()),
            body.to_string(),
            DocumentMeta {
                title: field(&cols.title_column),
                date: field(&cols.date_column),
                author: field(&cols.author_column),
                source: field(&cols.source_column),
            },
        ));
    }
    if lossy {
        warnings.insert(
            0,
            format!("{rel}: invalid UTF-8, decoded with replacement characters"),
        );
    }
    Ok((out, warnings))
}
