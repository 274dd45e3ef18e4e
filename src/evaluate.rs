//! `themata evaluate`: compare a run's assignments with gold labels.
//!
//! Gold is a CSV file with a `path` column (document path as in `documents.parquet`), an
//! optional `ordinal` column (passage ordinal: passage-level gold) and one label column
//! (named `label`, or the only other column). With document-level gold, a document's
//! prediction is the theme most of its assigned passages have (ties: lowest cluster id).
//! Unassigned passages count as their own predicted label, `unassigned`.

use crate::error::{Error, Result};
use crate::tables;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use themata_core::math::agreement::{score, Scores};
use themata_core::model::UNASSIGNED;

/// The evaluation of one output directory.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// `document` or `passage`.
    pub level: &'static str,
    /// Gold rows that name no document / passage of the run.
    pub unmatched_gold: usize,
    /// Evaluated items whose prediction is `unassigned`.
    pub unassigned: usize,
    /// The scores.
    pub scores: Scores,
}

/// Gold rows: (path, optional ordinal, label).
fn read_gold(path: &Path) -> Result<Vec<(String, Option<u32>, String)>> {
    let input_err = |m: String| Error::Input {
        path: path.to_path_buf(),
        message: m,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| input_err(e.to_string()))?;
    let headers = r.headers().map_err(|e| input_err(e.to_string()))?.clone();
    let find = |n: &str| headers.iter().position(|h| h == n);
    let p = find("path").ok_or_else(|| input_err("no `path` column".into()))?;
    let o = find("ordinal");
    let others: Vec<usize> = (0..headers.len())
        .filter(|&i| i != p && Some(i) != o)
        .collect();
    let l = match (find("label"), others.as_slice()) {
        (Some(l), _) => l,
        (None, [only]) => *only,
        _ => {
            return Err(input_err(
                "needs a `label` column (or exactly one column besides path and ordinal)".into(),
            ))
        }
    };
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| input_err(e.to_string()))?;
        let line = i + 2;
        let ordinal = match o {
            Some(o) => Some(
                rec.get(o)
                    .unwrap_or("")
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| {
                        input_err(format!(
                            "line {line}: ordinal {:?} is not a whole number",
                            rec.get(o).unwrap_or("")
                        ))
                    })?,
            ),
            None => None,
        };
        rows.push((
            rec.get(p).unwrap_or("").to_string(),
            ordinal,
            rec.get(l).unwrap_or("").to_string(),
        ));
    }
    Ok(rows)
}

/// Evaluate the run in `dir` against the gold file.
pub fn evaluate(dir: &Path, gold_path: &Path) -> Result<Evaluation> {
    let gold = read_gold(gold_path)?;
    let corpus = tables::read_corpus(dir)?;
    // the assignments alone: also what `themata apply` writes
    let assignments = tables::read_assignments(dir)?;
    let theme_of: HashMap<u32, (Option<u32>, &str)> = assignments
        .iter()
        .map(|a| (a.passage_id, (a.cluster, a.theme.as_str())))
        .collect();
    let doc_id: HashMap<&str, u32> = corpus
        .documents
        .iter()
        .map(|d| (d.path.as_str(), d.doc_id))
        .collect();
    let passage_level = gold.iter().any(|g| g.1.is_some());
    let mut golds = Vec::new();
    let mut preds = Vec::new();
    let mut unmatched = 0;
    if passage_level {
        let by_key: HashMap<(u32, u32), u32> = corpus
            .passages
            .iter()
            .map(|p| ((p.doc_id, p.ordinal), p.passage_id))
            .collect();
        for (path, ord, label) in &gold {
            let pid = doc_id
                .get(path.as_str())
                .and_then(|&d| by_key.get(&(d, ord.unwrap_or(0))));
            match pid.and_then(|p| theme_of.get(p)) {
                Some((_, theme)) => {
                    golds.push(label.clone());
                    preds.push(theme.to_string());
                }
                None => unmatched += 1,
            }
        }
    } else {
        // majority theme of each document's assigned passages
        let mut votes: HashMap<u32, BTreeMap<(u32, String), usize>> = HashMap::new();
        for p in &corpus.passages {
            if let Some((c, theme)) = theme_of.get(&p.passage_id) {
                let key = (c.unwrap_or(u32::MAX), theme.to_string());
                *votes.entry(p.doc_id).or_default().entry(key).or_insert(0) += 1;
            }
        }
        for (path, _, label) in &gold {
            let v = doc_id.get(path.as_str()).and_then(|d| votes.get(d));
            match v {
                Some(v) => {
                    let (key, _) = v
                        .iter()
                        .max_by(|a, b| a.1.cmp(b.1).then(b.0 .0.cmp(&a.0 .0)))
                        .expect("votes are never empty");
                    golds.push(label.clone());
                    preds.push(key.1.clone());
                }
                None => unmatched += 1,
            }
        }
    }
    if golds.is_empty() {
        return Err(Error::Input {
            path: gold_path.to_path_buf(),
            message: format!(
                "no gold row matches a {} of the run in {}",
                if passage_level { "passage" } else { "document" },
                dir.display()
            ),
        });
    }
    Ok(Evaluation {
        level: if passage_level { "passage" } else { "document" },
        unmatched_gold: unmatched,
        unassigned: preds.iter().filter(|p| p.as_str() == UNASSIGNED).count(),
        scores: score(&golds, &preds),
    })
}

/// A plain-text rendering for the terminal.
pub fn to_text(e: &Evaluation) -> String {
    let s = &e.scores;
    let mut o = format!(
        "{} {}s evaluated ({} gold rows unmatched, {} unassigned)\nARI {:.4}  NMI {:.4}  purity {:.4}",
        s.n, e.level, e.unmatched_gold, e.unassigned, s.ari, s.nmi, s.purity
    );
    if let Some(a) = s.accuracy {
        o += &format!("  accuracy {a:.4}");
    }
    o += "\n";
    if let Some(per_label) = &s.per_label {
        o += &format!(
            "\n{:<24} {:>9} {:>9} {:>9} {:>8}\n",
            "label", "precision", "recall", "f1", "support"
        );
        for l in per_label {
            o += &format!(
                "{:<24} {:>9.3} {:>9.3} {:>9.3} {:>8}\n",
                l.label, l.precision, l.recall, l.f1, l.support
            );
        }
    }
    let predicted: BTreeSet<&String> = s.confusion.values().flat_map(|m| m.keys()).collect();
    o += &format!("\nconfusion (rows: gold, columns: predicted)\n{:<24}", "");
    for p in &predicted {
        o += &format!(" {:>12}", p);
    }
    o.push('\n');
    for (g, row) in &s.confusion {
        o += &format!("{g:<24}");
        for p in &predicted {
            o += &format!(" {:>12}", row.get(*p).copied().unwrap_or(0));
        }
        o.push('\n');
    }
    o
}
