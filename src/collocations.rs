//! `themata collocations`: pairs of consecutive terms of a run's kept passages that occur
//! together more often than chance, analysed with the run's own analyzer (from model.json):
//! phrases to try as seeds or with `analyzer.ngrams = [1, 2]`.

use crate::error::{Error, Result};
use crate::tables;
use std::path::Path;
use themata_core::analyze::collocations::{collocations, Collocation};

/// The collocations of the run in `dir`: at least `min_count` occurrences, `top` at most.
pub fn compute(dir: &Path, min_count: u64, top: usize) -> Result<Vec<Collocation>> {
    let model = tables::read_model_file(dir)?.ok_or_else(|| Error::Input {
        path: dir.join(tables::MODEL),
        message: "no model.json: run the pipeline (themata run) first".into(),
    })?;
    let mut params = model.analyzer.clone();
    params.extra_stop_words = model.extra_stop_words.clone();
    let corpus = tables::read_corpus(dir)?;
    let texts: Vec<&str> = corpus.kept().map(|p| p.text.as_str()).collect();
    collocations(&params, &texts, min_count, top)
        .map_err(|e| Error::config(dir.join(tables::MODEL), e.to_string()))
}

/// A plain-text table for the terminal.
pub fn to_text(rows: &[Collocation]) -> String {
    let mut o = format!(
        "{:<32} {:>6} {:>7} {:>9} {:>10}\n",
        "phrase", "count", "PMI", "G²", "p"
    );
    for c in rows {
        o += &format!(
            "{:<32} {:>6} {:>7.2} {:>9.2} {:>10.2e}\n",
            c.label, c.count, c.pmi, c.g2, c.p_value
        );
    }
    if rows.is_empty() {
        o += "(no pair of terms occurs often enough)\n";
    }
    o
}
