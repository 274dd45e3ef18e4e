//! Vocabulary and TF-IDF on sparse rows (pure, no IO).
//!
//! Weighting is scikit-learn's `TfidfVectorizer`: `tf` = raw count (or `1 + ln(count)` with
//! `sublinear_tf`), `idf = ln((1 + n) / (1 + df)) + 1` with `smooth_idf` (else
//! `ln(n / df) + 1`), `w = tf · idf`, rows scaled to unit L2 (or L1) norm; all-zero rows
//! stay zero. Pruning (min_df, max_df, max_features) removes columns but changes neither
//! `n` nor any kept term's df or idf.

use crate::config::{Norm, TfidfSettings};
use crate::error::{Error, Result};
use crate::text::{for_each_word, Analyzer, Token};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

/// Raw term counts of a corpus: sorted terms and one sparse row per passage.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Terms in code-point order; a term's index is its term id.
    pub terms: Vec<String>,
    /// The most frequent surface form of each term (ties: the smallest).
    pub labels: Vec<String>,
    pub indptr: Vec<usize>,
    pub term_ids: Vec<u32>,
    pub counts: Vec<u32>,
}

impl Counts {
    pub fn n_rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    pub fn row(&self, r: usize) -> (&[u32], &[u32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.term_ids[a..b], &self.counts[a..b])
    }
}

/// Passages per parallel chunk. A chunk only segments its texts and counts their raw word
/// segments (its memo maps each distinct segment to a chunk word id); the distinct words of
/// all chunks are then merged and each is analysed once for the whole corpus. Smaller chunks
/// keep the memo small and the threads evenly loaded; larger ones leave fewer distinct words
/// to merge. The counts do not depend on where chunks end.
const CHUNK: usize = 512;

/// One chunk of texts, segmented: its distinct word segments and its rows over them.
struct ChunkWords<'t> {
    /// Distinct word segments in order of first occurrence; the index is the chunk word id.
    words: Vec<&'t str>,
    /// Their keys ([`ShortWord::LONG`] for longer words).
    keys: Vec<ShortWord>,
    /// Occurrences of each chunk word in the chunk.
    occurrences: Vec<u64>,
    /// Rows as CSR over chunk word ids, each row in order of first occurrence.
    indptr: Vec<usize>,
    ids: Vec<u32>,
    counts: Vec<u32>,
}

/// A word segment of at most [`ShortWord::MAX_LEN`] bytes packed in 16 bytes: its bytes
/// (little-endian, zero padded) and its length in the last byte, so two keys are equal
/// exactly when the words are. Hashing and comparing it needs neither a `memcmp` nor a read
/// of the text where the word was first seen (likely out of cache).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ShortWord(u64, u64);

impl ShortWord {
    const MAX_LEN: usize = 15;
    /// Not the key of any word (whose length byte is not 0): stands for a longer word.
    const LONG: ShortWord = ShortWord(0, 0);

    /// The key of `text[start..start + len]` (`1 <= len <= MAX_LEN`), read with one 16-byte
    /// load unless the text ends within 16 bytes.
    #[inline]
    fn new(text: &[u8], start: usize, len: usize) -> ShortWord {
        debug_assert!((1..=Self::MAX_LEN).contains(&len));
        let bytes = match text.get(start..start + 16) {
            Some(b) => u128::from_le_bytes(b.try_into().expect("16 bytes")),
            None => {
                let mut b = [0u8; 16];
                b[..len].copy_from_slice(&text[start..start + len]);
                u128::from_le_bytes(b)
            }
        };
        let key = (bytes & ((1u128 << (8 * len)) - 1)) | (len as u128) << 120;
        ShortWord(key as u64, (key >> 64) as u64)
    }
}

/// Working memory of [`segment_chunk`], kept by a thread from one chunk to the next.
#[derive(Default)]
struct Scratch<'t> {
    /// Word segment → chunk word id: most words by their [`ShortWord`] key, longer ones by
    /// the slice of the text (no allocation either way).
    short: FxHashMap<ShortWord, Seen>,
    long: FxHashMap<&'t str, Seen>,
}

/// A chunk word: its id, the last row it occurred in, and its place in that row.
#[derive(Clone, Copy)]
struct Seen {
    id: u32,
    row: u32,
    place: u32,
}

/// What a word or term id becomes when the word is dropped by the analyzer.
const DROPPED: u32 = u32::MAX;

/// Segment a chunk of texts and count the occurrences of each distinct word segment.
fn segment_chunk<'t>(scratch: &mut Scratch<'t>, texts: &[&'t str]) -> ChunkWords<'t> {
    let Scratch { short, long } = scratch;
    short.clear();
    long.clear();
    // room for about as many words and row entries as English prose has (a guess: the
    // vectors grow as needed)
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    let mut out = ChunkWords {
        words: Vec::with_capacity(bytes / 64),
        keys: Vec::with_capacity(bytes / 64),
        occurrences: vec![],
        indptr: Vec::with_capacity(texts.len() + 1),
        ids: Vec::with_capacity(bytes / 8),
        counts: Vec::with_capacity(bytes / 8),
    };
    out.indptr.push(0);
    for (r, &text) in texts.iter().enumerate() {
        let r = r as u32;
        let start = out.ids.len();
        for_each_word(text, |word| {
            let key = if word.len() <= ShortWord::MAX_LEN {
                // the word is a slice of the text
                let at = word.as_ptr() as usize - text.as_ptr() as usize;
                ShortWord::new(text.as_bytes(), at, word.len())
            } else {
                ShortWord::LONG
            };
            let new_word = || {
                out.words.push(word);
                out.keys.push(key);
                Seen {
                    id: (out.words.len() - 1) as u32,
                    row: DROPPED,
                    place: 0,
                }
            };
            let seen = if key != ShortWord::LONG {
                short.entry(key).or_insert_with(new_word)
            } else {
                long.entry(word).or_insert_with(new_word)
            };
            if seen.row == r {
                out.counts[start + seen.place as usize] += 1;
            } else {
                seen.row = r;
                seen.place = (out.ids.len() - start) as u32;
                out.ids.push(seen.id);
                out.counts.push(1);
            }
        });
        out.indptr.push(out.ids.len());
    }
    out.occurrences = vec![0; out.words.len()];
    for (&id, &n) in out.ids.iter().zip(&out.counts) {
        out.occurrences[id as usize] += n as u64;
    }
    out
}

/// Analyse every text and count its terms. The result does not depend on the number of
/// threads: chunks are fixed-size and merged in order, and terms are sorted at the end.
pub fn count(analyzer: &Analyzer, texts: &[&str]) -> Counts {
    count_with_progress(analyzer, texts, &|_| {})
}

/// [`count`], calling `on_texts(n)` after each chunk of `n` texts is segmented (from any
/// thread).
///
/// Three steps: the chunks are segmented in parallel (each counts its raw word segments);
/// the distinct words of all chunks are merged in chunk order and each is analysed once
/// (in parallel), which gives the terms, their labels and their sorted ids; then each
/// chunk's rows are mapped from chunk words to terms (in parallel; words that are dropped
/// go, words with the same term add up) and sorted.
pub fn count_with_progress(
    analyzer: &Analyzer,
    texts: &[&str],
    on_texts: &(dyn Fn(usize) + Sync),
) -> Counts {
    count_in_chunks(analyzer, texts, CHUNK, on_texts)
}

/// [`count_with_progress`] with chunks of `chunk` texts.
fn count_in_chunks(
    analyzer: &Analyzer,
    texts: &[&str],
    chunk: usize,
    on_texts: &(dyn Fn(usize) + Sync),
) -> Counts {
    let mut chunks: Vec<ChunkWords> = texts
        .par_chunks(chunk)
        .map_init(Scratch::default, |scratch, c| {
            let r = segment_chunk(scratch, c);
            on_texts(c.len());
            r
        })
        .collect();

    // the distinct words of the corpus, in order of first occurrence, and each chunk word's
    // corpus word id
    let mut short_ids: FxHashMap<ShortWord, u32> = FxHashMap::default();
    let mut long_ids: FxHashMap<&str, u32> = FxHashMap::default();
    let mut words: Vec<&str> = Vec::new();
    let mut occurrences: Vec<u64> = Vec::new();
    let chunk_maps: Vec<Vec<u32>> = chunks
        .iter()
        .map(|chunk| {
            (0..chunk.words.len())
                .map(|i| {
                    let (w, key) = (chunk.words[i], chunk.keys[i]);
                    let new_word = || {
                        words.push(w);
                        occurrences.push(0);
                        (words.len() - 1) as u32
                    };
                    let id = if key != ShortWord::LONG {
                        *short_ids.entry(key).or_insert_with(new_word)
                    } else {
                        *long_ids.entry(w).or_insert_with(new_word)
                    };
                    occurrences[id as usize] += chunk.occurrences[i];
                    id
                })
                .collect()
        })
        .collect();
    drop((short_ids, long_ids));
    // analyse each distinct word once; a surface form always has the same term (its stem)
    let tokens: Vec<Option<Token>> = words
        .par_iter()
        .map(|w| analyzer.analyze_word(w).ok())
        .collect();
    let mut term_ids: FxHashMap<&str, u32> = FxHashMap::default();
    let mut terms: Vec<&str> = Vec::new();
    let mut surface_ids: FxHashMap<&str, u32> = FxHashMap::default();
    // (surface form, its term, occurrences)
    let mut surfaces: Vec<(&str, u32, u64)> = Vec::new();
    let word_terms: Vec<u32> = tokens
        .iter()
        .zip(&occurrences)
        .map(|(tok, &n)| {
            let Some(tok) = tok else { return DROPPED };
            let sid = *surface_ids.entry(&tok.surface).or_insert_with(|| {
                let tid = *term_ids.entry(&tok.term).or_insert_with(|| {
                    terms.push(&tok.term);
                    (terms.len() - 1) as u32
                });
                surfaces.push((&tok.surface, tid, 0));
                (surfaces.len() - 1) as u32
            });
            let s = &mut surfaces[sid as usize];
            s.2 += n;
            s.1
        })
        .collect();

    // label: the most frequent surface form of each term (ties: the smallest)
    let mut best: Vec<Option<(u64, &str)>> = vec![None; terms.len()];
    for &(surface, t, n) in &surfaces {
        let b = &mut best[t as usize];
        if b.is_none_or(|(bn, bs)| n > bn || (n == bn && surface < bs)) {
            *b = Some((n, surface));
        }
    }
    // sort terms by code point (byte order of UTF-8) and renumber
    let mut order: Vec<u32> = (0..terms.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| terms[a as usize].cmp(terms[b as usize]));
    let mut rank = vec![0u32; terms.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old as usize] = new as u32;
    }
    let word_ranks: Vec<u32> = word_terms
        .iter()
        .map(|&t| {
            if t == DROPPED {
                DROPPED
            } else {
                rank[t as usize]
            }
        })
        .collect();

    // each chunk's rows over sorted term ids
    chunks
        .par_iter_mut()
        .zip(&chunk_maps)
        .for_each(|(chunk, map)| term_rows(chunk, map, &word_ranks));
    let (indptr, term_ids, counts) = concat(&chunks);
    Counts {
        terms: order
            .iter()
            .map(|&t| terms[t as usize].to_string())
            .collect(),
        labels: order
            .iter()
            .map(|&t| best[t as usize].map_or("", |b| b.1).to_string())
            .collect(),
        indptr,
        term_ids,
        counts,
    }
}

/// Turn a chunk's rows from chunk words into term ids, in place: `map` gives each chunk
/// word's corpus word id and `word_ranks` each corpus word's term id (or [`DROPPED`]).
/// Dropped words go, words with the same term add up, and each row is sorted by term id.
fn term_rows(chunk: &mut ChunkWords, map: &[u32], word_ranks: &[u32]) {
    let terms: Vec<u32> = map.iter().map(|&w| word_ranks[w as usize]).collect();
    // (term id << 32 | count): sorting sorts by term id
    let mut row: Vec<u64> = Vec::new();
    // rows are read from `a..b` and written from `end` on (`end <= a`: a row only shrinks)
    let (mut a, mut end) = (0, 0);
    for r in 1..chunk.indptr.len() {
        let b = chunk.indptr[r];
        // the words of the row that are kept, written without a branch (most rows hold
        // stop words, unpredictably)
        row.resize(b - a, 0);
        let mut len = 0;
        for (&w, &n) in chunk.ids[a..b].iter().zip(&chunk.counts[a..b]) {
            let t = terms[w as usize];
            row[len] = (t as u64) << 32 | n as u64;
            len += (t != DROPPED) as usize;
        }
        row.truncate(len);
        row.sort_unstable();
        let mut last = DROPPED;
        for &e in &row {
            let (t, n) = ((e >> 32) as u32, e as u32);
            if t == last {
                chunk.counts[end - 1] += n;
            } else {
                chunk.ids[end] = t;
                chunk.counts[end] = n;
                end += 1;
                last = t;
            }
        }
        chunk.indptr[r] = end;
        a = b;
    }
    chunk.ids.truncate(end);
    chunk.counts.truncate(end);
}

/// The chunks' rows one after the other, as one CSR matrix (`indptr`, `term_ids`, `counts`),
/// copied in parallel.
fn concat(parts: &[ChunkWords]) -> (Vec<usize>, Vec<u32>, Vec<u32>) {
    let n_rows: usize = parts.iter().map(|p| p.indptr.len() - 1).sum();
    let nnz: usize = parts.iter().map(|p| p.ids.len()).sum();
    let mut indptr = vec![0usize; n_rows + 1];
    let mut ids = vec![0u32; nnz];
    let mut counts = vec![0u32; nnz];
    // each part's place in the output
    let mut places = Vec::with_capacity(parts.len());
    let (mut i_rest, mut t_rest, mut c_rest) = (&mut indptr[1..], &mut ids[..], &mut counts[..]);
    let mut base = 0;
    for p in parts {
        let (i, ir) = std::mem::take(&mut i_rest).split_at_mut(p.indptr.len() - 1);
        let (t, tr) = std::mem::take(&mut t_rest).split_at_mut(p.ids.len());
        let (c, cr) = std::mem::take(&mut c_rest).split_at_mut(p.ids.len());
        places.push((p, base, i, t, c));
        (i_rest, t_rest, c_rest) = (ir, tr, cr);
        base += p.ids.len();
    }
    places.into_par_iter().for_each(|(p, base, i, t, c)| {
        for (to, &end) in i.iter_mut().zip(&p.indptr[1..]) {
            *to = base + end;
        }
        t.copy_from_slice(&p.ids);
        c.copy_from_slice(&p.counts);
    });
    (indptr, ids, counts)
}

/// Why a term is not in the kept vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    MinDf,
    MaxDf,
    MaxFeatures,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::MinDf => "min_df",
            DropReason::MaxDf => "max_df",
            DropReason::MaxFeatures => "max_features",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "min_df" => Some(DropReason::MinDf),
            "max_df" => Some(DropReason::MaxDf),
            "max_features" => Some(DropReason::MaxFeatures),
            _ => None,
        }
    }
}

/// One vocabulary entry; its index in [`Vocabulary::terms`] is its term id.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub term: String,
    pub label: String,
    /// Number of rows (kept passages) holding the term.
    pub df: u32,
    /// Total count over the corpus.
    pub cf: u64,
    pub idf: f64,
    pub dropped: Option<DropReason>,
}

impl Term {
    pub fn kept(&self) -> bool {
        self.dropped.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocabulary {
    pub terms: Vec<Term>,
    /// Number of rows the df and idf were computed over.
    pub n_rows: usize,
}

impl Vocabulary {
    pub fn n_kept(&self) -> usize {
        self.terms.iter().filter(|t| t.kept()).count()
    }

    /// Term id of a term, by binary search (terms are sorted).
    pub fn id(&self, term: &str) -> Option<u32> {
        self.terms
            .binary_search_by(|t| t.term.as_str().cmp(term))
            .ok()
            .map(|i| i as u32)
    }
}

/// A sparse TF-IDF matrix in CSR form, one row per kept passage, kept terms only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tfidf {
    /// Passage id of each row.
    pub row_ids: Vec<u32>,
    pub indptr: Vec<usize>,
    pub term_ids: Vec<u32>,
    pub counts: Vec<u32>,
    pub weights: Vec<f64>,
}

impl Tfidf {
    pub fn n_rows(&self) -> usize {
        self.row_ids.len()
    }

    pub fn nnz(&self) -> usize {
        self.term_ids.len()
    }

    pub fn row(&self, r: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.term_ids[a..b], &self.weights[a..b])
    }
}

/// idf of a term seen in `df` of `n` rows.
pub fn idf(n: usize, df: u32, smooth: bool) -> f64 {
    if smooth {
        ((1.0 + n as f64) / (1.0 + df as f64)).ln() + 1.0
    } else {
        (n as f64 / df as f64).ln() + 1.0
    }
}

/// Term frequency of a raw count.
pub fn tf(count: u32, sublinear: bool) -> f64 {
    if sublinear {
        1.0 + (count as f64).ln()
    } else {
        count as f64
    }
}

/// Scale a row to unit norm (zero rows stay zero).
pub fn normalize_row(w: &mut [f64], norm: Norm) {
    let n = match norm {
        Norm::None => return,
        Norm::L1 => w.iter().map(|x| x.abs()).sum::<f64>(),
        Norm::L2 => w.iter().map(|x| x * x).sum::<f64>().sqrt(),
    };
    if n > 0.0 {
        for x in w.iter_mut() {
            *x /= n;
        }
    }
}

/// Which terms survive pruning, as scikit-learn's `CountVectorizer._limit_features` decides.
pub fn prune(
    df: &[u32],
    cf: &[u64],
    terms: &[String],
    n: usize,
    s: &TfidfSettings,
) -> Result<Vec<Option<DropReason>>> {
    let low = s.min_df.as_count(n);
    let high = s.max_df.as_count(n);
    if high < low {
        return Err(Error::Data(format!(
            "tfidf.max_df corresponds to {high} passages, fewer than tfidf.min_df ({low})"
        )));
    }
    let mut dropped: Vec<Option<DropReason>> = df
        .iter()
        .map(|&d| {
            if (d as f64) > high {
                Some(DropReason::MaxDf)
            } else if (d as f64) < low {
                Some(DropReason::MinDf)
            } else {
                None
            }
        })
        .collect();
    if let Some(limit) = s.max_features {
        let mut alive: Vec<usize> = (0..df.len()).filter(|&i| dropped[i].is_none()).collect();
        if alive.len() > limit {
            alive.sort_by(|&a, &b| cf[b].cmp(&cf[a]).then_with(|| terms[a].cmp(&terms[b])));
            for &i in &alive[limit..] {
                dropped[i] = Some(DropReason::MaxFeatures);
            }
        }
    }
    if dropped.iter().all(Option::is_some) {
        return Err(Error::Data(
            "after pruning no terms remain: lower tfidf.min_df or raise tfidf.max_df".into(),
        ));
    }
    Ok(dropped)
}

/// Rows per parallel block when weighting.
const WEIGHT_BLOCK: usize = 4096;

/// Vocabulary and weighted matrix from counts. `row_ids` names each count row.
pub fn tfidf(counts: &Counts, row_ids: Vec<u32>, s: &TfidfSettings) -> Result<(Vocabulary, Tfidf)> {
    let n = counts.n_rows();
    if counts.terms.is_empty() {
        return Err(Error::Data(
            "no terms: every passage is empty after analysis (check the analyzer settings)".into(),
        ));
    }
    let mut df = vec![0u32; counts.terms.len()];
    let mut cf = vec![0u64; counts.terms.len()];
    for (&t, &c) in counts.term_ids.iter().zip(&counts.counts) {
        df[t as usize] += 1;
        cf[t as usize] += c as u64;
    }
    let dropped = prune(&df, &cf, &counts.terms, n, s)?;
    let vocab = Vocabulary {
        terms: (0..counts.terms.len())
            .map(|i| Term {
                term: counts.terms[i].clone(),
                label: counts.labels[i].clone(),
                df: df[i],
                cf: cf[i],
                idf: idf(n, df[i], s.smooth_idf),
                dropped: dropped[i],
            })
            .collect(),
        n_rows: n,
    };
    // kept entries, compacted in row order
    let mut m = Tfidf {
        row_ids,
        indptr: Vec::with_capacity(n + 1),
        ..Default::default()
    };
    m.indptr.push(0);
    for r in 0..n {
        let (ids, cs) = counts.row(r);
        for (&id, &c) in ids.iter().zip(cs) {
            if vocab.terms[id as usize].kept() {
                m.term_ids.push(id);
                m.counts.push(c);
            }
        }
        m.indptr.push(m.term_ids.len());
    }
    // weights, in parallel over fixed blocks of rows (each row is weighted on its own)
    m.weights = vec![0.0; m.term_ids.len()];
    let mut blocks: Vec<(usize, &mut [f64])> = Vec::new();
    let mut rest: &mut [f64] = &mut m.weights;
    for r0 in (0..n).step_by(WEIGHT_BLOCK) {
        let r1 = (r0 + WEIGHT_BLOCK).min(n);
        let (block, tail) = rest.split_at_mut(m.indptr[r1] - m.indptr[r0]);
        blocks.push((r0, block));
        rest = tail;
    }
    let (indptr, term_ids, cs) = (&m.indptr, &m.term_ids, &m.counts);
    blocks.into_par_iter().for_each(|(r0, block)| {
        let base = indptr[r0];
        for r in r0..(r0 + WEIGHT_BLOCK).min(n) {
            let (a, b) = (indptr[r], indptr[r + 1]);
            let w = &mut block[a - base..b - base];
            for (i, x) in (a..b).zip(w.iter_mut()) {
                *x = tf(cs[i], s.sublinear_tf) * vocab.terms[term_ids[i] as usize].idf;
            }
            normalize_row(w, s.norm);
        }
    });
    Ok((vocab, m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AnalyzerSettings, DocFreq, StopWords};

    fn analyzer() -> Analyzer {
        Analyzer::new(&AnalyzerSettings {
            stop_words: StopWords::None,
            stem: false,
            ..Default::default()
        })
        .unwrap()
    }

    fn run(texts: &[&str], s: &TfidfSettings) -> (Vocabulary, Tfidf) {
        let c = count(&analyzer(), texts);
        tfidf(&c, (0..texts.len() as u32).collect(), s).unwrap()
    }

    #[test]
    fn counts_are_sorted_and_labelled() {
        let a = Analyzer::new(&AnalyzerSettings::default()).unwrap();
        let c = count(
            &a,
            &["Negotiations and negotiation", "negotiations, negotiating"],
        );
        assert_eq!(c.terms, ["negoti"]);
        assert_eq!(c.labels, ["negotiations"]);
        assert_eq!(c.row(0), (&[0u32][..], &[2u32][..]));
        assert_eq!(c.row(1), (&[0u32][..], &[2u32][..]));
    }

    #[test]
    fn idf_formulas() {
        assert!((idf(4, 1, true) - ((5.0f64 / 2.0).ln() + 1.0)).abs() < 1e-15);
        assert!((idf(4, 1, false) - (4.0f64.ln() + 1.0)).abs() < 1e-15);
        assert_eq!(idf(3, 3, false), 1.0);
    }

    #[test]
    fn tf_and_norms() {
        assert_eq!(tf(3, false), 3.0);
        assert!((tf(3, true) - (1.0 + 3f64.ln())).abs() < 1e-15);
        let mut w = vec![3.0, 4.0];
        normalize_row(&mut w, Norm::L2);
        assert_eq!(w, [0.6, 0.8]);
        let mut w = vec![1.0, 3.0];
        normalize_row(&mut w, Norm::L1);
        assert_eq!(w, [0.25, 0.75]);
        let mut z = vec![0.0, 0.0];
        normalize_row(&mut z, Norm::L2);
        assert_eq!(z, [0.0, 0.0]);
    }

    #[test]
    fn matches_hand_computed_sklearn_weights() {
        // docs: "a a b", "b c"; n = 2, df(a)=1, df(b)=2, df(c)=1
        let (v, m) = run(&["a a b", "b c"], &TfidfSettings::default());
        let ia = idf(2, 1, true);
        let ib = idf(2, 2, true);
        assert_eq!(ib, 1.0);
        let n0 = ((2.0 * ia).powi(2) + ib * ib).sqrt();
        assert_eq!(v.terms.iter().map(|t| t.df).collect::<Vec<_>>(), [1, 2, 1]);
        let (ids, w) = m.row(0);
        assert_eq!(ids, [0, 1]);
        assert!((w[0] - 2.0 * ia / n0).abs() < 1e-15);
        assert!((w[1] - ib / n0).abs() < 1e-15);
        assert_eq!(m.counts[..2], [2, 1]);
    }

    #[test]
    fn pruning_keeps_df_and_idf_and_records_reasons() {
        let texts = ["a b c", "a b", "a d", "a e e"];
        let s = TfidfSettings {
            min_df: DocFreq::Count(2),
            max_df: DocFreq::Fraction(0.9),
            ..Default::default()
        };
        let (v, m) = run(&texts, &s);
        let by = |t: &str| v.terms[v.id(t).unwrap() as usize].clone();
        assert_eq!(by("a").dropped, Some(DropReason::MaxDf));
        assert_eq!(by("c").dropped, Some(DropReason::MinDf));
        assert!(by("b").kept());
        assert_eq!(by("b").idf, idf(4, 2, true));
        // rows with no kept term stay (as empty rows)
        assert_eq!(m.n_rows(), 4);
        assert_eq!(m.row(3).0.len(), 0);
        assert!(m.term_ids.iter().all(|&t| v.terms[t as usize].kept()));
    }

    #[test]
    fn max_features_keeps_most_frequent() {
        let s = TfidfSettings {
            max_features: Some(1),
            ..Default::default()
        };
        let (v, _) = run(&["x y y", "y z"], &s);
        assert_eq!(v.n_kept(), 1);
        assert!(v.terms[v.id("y").unwrap() as usize].kept());
        assert_eq!(
            v.terms[v.id("x").unwrap() as usize].dropped,
            Some(DropReason::MaxFeatures)
        );
    }

    #[test]
    fn errors_when_nothing_is_left() {
        let c = count(&analyzer(), &["a", "b"]);
        let s = TfidfSettings {
            min_df: DocFreq::Count(2),
            ..Default::default()
        };
        assert!(tfidf(&c, vec![0, 1], &s).is_err());
        let c = count(&analyzer(), &["!!", "??"]);
        assert!(tfidf(&c, vec![0, 1], &TfidfSettings::default()).is_err());
    }

    #[test]
    fn sublinear_and_non_smooth() {
        let s = TfidfSettings {
            sublinear_tf: true,
            smooth_idf: false,
            norm: Norm::None,
            ..Default::default()
        };
        let (_, m) = run(&["a a a b", "b"], &s);
        let (_, w) = m.row(0);
        assert!((w[0] - (1.0 + 3f64.ln()) * (2f64.ln() + 1.0)).abs() < 1e-15);
        assert!((w[1] - 1.0).abs() < 1e-15);
    }

    /// The counts computed the plain way: `unicode_words`, every word analysed, a sorted map
    /// per row, labels from all surface forms.
    fn plain_count(a: &Analyzer, texts: &[&str]) -> Counts {
        use std::collections::BTreeMap;
        use unicode_segmentation::UnicodeSegmentation;
        let mut surfaces: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        let rows: Vec<BTreeMap<String, u32>> = texts
            .iter()
            .map(|text| {
                let mut row = BTreeMap::new();
                for tok in text.unicode_words().filter_map(|w| a.analyze_word(w).ok()) {
                    *row.entry(tok.term.to_string()).or_insert(0) += 1;
                    *surfaces
                        .entry(tok.term.to_string())
                        .or_default()
                        .entry(tok.surface.to_string())
                        .or_insert(0) += 1;
                }
                row
            })
            .collect();
        let terms: Vec<String> = surfaces.keys().cloned().collect();
        let labels = surfaces
            .values()
            .map(|s| {
                // most frequent, then smallest
                let top = s.values().max().unwrap();
                s.iter().find(|e| e.1 == top).unwrap().0.clone()
            })
            .collect();
        let mut c = Counts {
            terms,
            labels,
            indptr: vec![0],
            ..Default::default()
        };
        for row in rows {
            for (t, n) in row {
                c.term_ids.push(c.terms.binary_search(&t).unwrap() as u32);
                c.counts.push(n);
            }
            c.indptr.push(c.term_ids.len());
        }
        c
    }

    #[test]
    fn counts_are_the_plain_counts_for_any_chunks() {
        let words: Vec<&str> = "The the THE of Leader’s leader's leaders Leaders negotiations \
            Negotiating negotiation 1,000 3.14 2015 U.S. it's café Café naïve £5m e.g. x A _ \
            foo_bar ΟΔΟΣ οδος straße İstanbul internationalization Internationalization's \
            antidisestablishmentarianism fifteen-letters fifteenletterss sixteenletterszz — ... , 's"
            .split(' ')
            .collect();
        let mut next = crate::text::test_rng(0x2545_F491_4F6C_DD1D);
        let texts: Vec<String> = (0..300)
            .map(|_| {
                let n = next(40);
                let seps = [" ", " ", " ", ", ", ". ", "\n", "-", "  "];
                (0..n)
                    .map(|_| format!("{}{}", words[next(words.len())], seps[next(seps.len())]))
                    .collect()
            })
            .collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        // labels tie: the smallest surface form wins
        let ties = ["Leaders' leader", "negotiations, negotiation NEGOTIATING"];
        for settings in [
            AnalyzerSettings::default(),
            AnalyzerSettings {
                stop_words: StopWords::None,
                min_token_len: 3,
                keep_numbers: false,
                stem: false,
                ..Default::default()
            },
        ] {
            let a = Analyzer::new(&settings).unwrap();
            let want = plain_count(&a, &texts);
            assert!(want.terms.len() > 15, "{:?}", want.terms);
            for (texts, want) in [(&texts[..], want), (&ties[..], plain_count(&a, &ties))] {
                for chunk in [1, 7, 64, CHUNK] {
                    let got = count_in_chunks(&a, texts, chunk, &|_| {});
                    assert_eq!(got.terms, want.terms, "chunks of {chunk}");
                    assert_eq!(got.labels, want.labels, "chunks of {chunk}");
                    assert_eq!(got.indptr, want.indptr, "chunks of {chunk}");
                    assert_eq!(got.term_ids, want.term_ids, "chunks of {chunk}");
                    assert_eq!(got.counts, want.counts, "chunks of {chunk}");
                }
            }
        }
        let c = count(&Analyzer::new(&AnalyzerSettings::default()).unwrap(), &ties);
        assert_eq!(c.terms, ["leader", "negoti"]);
        assert_eq!(c.labels, ["leader", "negotiating"]);
    }

    #[test]
    fn independent_of_thread_count() {
        let texts: Vec<String> = (0..2000)
            .map(|i| format!("w{} w{} common", i % 37, i % 11))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let a = one.install(|| run(&refs, &TfidfSettings::default()));
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let b = four.install(|| run(&refs, &TfidfSettings::default()));
        assert_eq!(a, b);
    }
}
