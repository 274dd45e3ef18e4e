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

pub(super) fn read(rel: &str, bytes: &[u8], cols: &InputParams) -> (Vec<Record>, Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(line) {
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
    (out, warnings)
}
