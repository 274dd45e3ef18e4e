//! Counting terms: the analyzer over a slice of passages, each distinct word analysed once,
//! as state that merges.
//!
//! [`TermCounts::partial`] counts the terms of a slice of passages; partials of consecutive
//! slices [`merge`](TermCounts::merge) in order (term dictionaries are unions, counts and
//! document frequencies sums, rows appended); [`TermCounts::finish`] picks each term's label.
//! Terms are numbered in code-point order at every step, so a merge renumbers a row without
//! reordering it, and the result does not depend on where the slices end.

use super::{Analyzer, Ngrams, Token};
use crate::analyze::for_each_word;
use crate::model::SparseRows;
use crate::{Observer, Task};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

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
    /// Rows over chunk word ids, each row in order of first occurrence.
    rows: Rows,
    /// With n-grams: every word of every row in text order, as chunk word ids (row `r` is
    /// `seq[seq_ptr[r]..seq_ptr[r + 1]]`); empty otherwise.
    seq: Vec<u32>,
    seq_ptr: Vec<usize>,
}

/// Rows of a chunk as CSR: row `r` holds `ids[indptr[r]..indptr[r + 1]]` with their counts.
struct Rows {
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

/// Segment a chunk of texts and count the occurrences of each distinct word segment; with
/// `sequence`, also keep each row's words in text order (for n-grams).
fn segment_chunk<'t>(
    scratch: &mut Scratch<'t>,
    texts: &[&'t str],
    sequence: bool,
) -> ChunkWords<'t> {
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
        rows: Rows {
            indptr: Vec::with_capacity(texts.len() + 1),
            ids: Vec::with_capacity(bytes / 8),
            counts: Vec::with_capacity(bytes / 8),
        },
        seq: vec![],
        seq_ptr: vec![],
    };
    let rows = &mut out.rows;
    rows.indptr.push(0);
    if sequence {
        out.seq_ptr.push(0);
    }
    for (r, &text) in texts.iter().enumerate() {
        let r = r as u32;
        let start = rows.ids.len();
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
            if sequence {
                out.seq.push(seen.id);
            }
            if seen.row == r {
                rows.counts[start + seen.place as usize] += 1;
            } else {
                seen.row = r;
                seen.place = (rows.ids.len() - start) as u32;
                rows.ids.push(seen.id);
                rows.counts.push(1);
            }
        });
        rows.indptr.push(rows.ids.len());
        if sequence {
            out.seq_ptr.push(out.seq.len());
        }
    }
    out.occurrences = vec![0; out.words.len()];
    for (&id, &n) in out.rows.ids.iter().zip(&out.rows.counts) {
        out.occurrences[id as usize] += n as u64;
    }
    out
}

/// An n-gram as corpus word ids, padded with [`DROPPED`].
type Gram = [u32; Ngrams::MAX];

/// One chunk's n-grams: its distinct n-grams in order of first occurrence (the index is the
/// chunk n-gram id), their occurrences, and its rows over them.
struct ChunkGrams {
    grams: Vec<Gram>,
    occurrences: Vec<u64>,
    rows: Rows,
}

/// The n-grams of a chunk's rows (sizes `ng`, at least 2): `map` gives each chunk word's
/// corpus word id, `kept` whether the analyzer keeps a corpus word. Dropped words are
/// skipped before the n-grams are formed.
fn chunk_grams(chunk: &ChunkWords, map: &[u32], kept: &[bool], ng: Ngrams) -> ChunkGrams {
    let mut index: FxHashMap<Gram, Seen> = FxHashMap::default();
    let mut out = ChunkGrams {
        grams: vec![],
        occurrences: vec![],
        rows: Rows {
            indptr: vec![0],
            ids: vec![],
            counts: vec![],
        },
    };
    let rows = &mut out.rows;
    let mut words: Vec<u32> = Vec::new();
    for r in 0..chunk.seq_ptr.len().saturating_sub(1) {
        let start = rows.ids.len();
        words.clear();
        words.extend(
            chunk.seq[chunk.seq_ptr[r]..chunk.seq_ptr[r + 1]]
                .iter()
                .map(|&c| map[c as usize])
                .filter(|&w| kept[w as usize]),
        );
        for n in ng.min.max(2)..=ng.max {
            for window in words.windows(n) {
                let mut g = [DROPPED; Ngrams::MAX];
                g[..n].copy_from_slice(window);
                let seen = index.entry(g).or_insert_with(|| {
                    out.grams.push(g);
                    Seen {
                        id: (out.grams.len() - 1) as u32,
                        row: DROPPED,
                        place: 0,
                    }
                });
                if seen.row == r as u32 {
                    rows.counts[start + seen.place as usize] += 1;
                } else {
                    seen.row = r as u32;
                    seen.place = (rows.ids.len() - start) as u32;
                    rows.ids.push(seen.id);
                    rows.counts.push(1);
                }
            }
        }
        rows.indptr.push(rows.ids.len());
    }
    out.occurrences = vec![0; out.grams.len()];
    for (&id, &n) in out.rows.ids.iter().zip(&out.rows.counts) {
        out.occurrences[id as usize] += n as u64;
    }
    out
}

/// The n-gram terms of the chunks' rows (rows in chunk order, named `ids`), counted as the
/// words are: distinct n-grams merged in chunk order, each named once (its words' terms and
/// surface forms joined by a space), sorted by (term, surface form, n-gram) so that terms
/// come out in code-point order on any number of threads, rows mapped and summed.
fn count_grams(
    chunks: &[ChunkWords],
    chunk_maps: &[Vec<u32>],
    tokens: &[Option<Token>],
    ng: Ngrams,
    ids: &[u32],
) -> TermCounts {
    let kept: Vec<bool> = tokens.iter().map(Option::is_some).collect();
    let mut parts: Vec<ChunkGrams> = chunks
        .par_iter()
        .zip(chunk_maps)
        .map(|(chunk, map)| chunk_grams(chunk, map, &kept, ng))
        .collect();
    let mut index: FxHashMap<Gram, u32> = FxHashMap::default();
    let mut grams: Vec<Gram> = Vec::new();
    let mut occurrences: Vec<u64> = Vec::new();
    let part_maps: Vec<Vec<u32>> = parts
        .iter()
        .map(|part| {
            part.grams
                .iter()
                .zip(&part.occurrences)
                .map(|(g, &n)| {
                    let id = *index.entry(*g).or_insert_with(|| {
                        grams.push(*g);
                        occurrences.push(0);
                        (grams.len() - 1) as u32
                    });
                    occurrences[id as usize] += n;
                    id
                })
                .collect()
        })
        .collect();
    drop(index);
    // an n-gram's term, or surface form: its words' joined by a space
    let join = |g: &Gram, surface: bool| -> String {
        let mut s = String::new();
        for &w in g.iter().take_while(|&&w| w != DROPPED) {
            if !s.is_empty() {
                s.push(' ');
            }
            let t = tokens[w as usize].as_ref().expect("a kept word");
            s.push_str(if surface { &t.surface } else { &t.term });
        }
        s
    };
    let mut named: Vec<(String, String, u32)> = grams
        .par_iter()
        .enumerate()
        .map(|(i, g)| (join(g, false), join(g, true), i as u32))
        .collect();
    drop(grams);
    named.par_sort_unstable();
    let mut ranks = vec![DROPPED; occurrences.len()];
    let mut terms: Vec<String> = Vec::new();
    let mut surfaces: Vec<Vec<(String, u64)>> = Vec::new();
    for (term, surface, g) in named {
        if terms.last() != Some(&term) {
            terms.push(term);
            surfaces.push(vec![]);
        }
        ranks[g as usize] = (terms.len() - 1) as u32;
        let list = surfaces.last_mut().expect("pushed");
        let n = occurrences[g as usize];
        match list.last_mut() {
            Some((form, m)) if *form == surface => *m += n,
            _ => list.push((surface, n)),
        }
    }
    parts
        .par_iter_mut()
        .zip(&part_maps)
        .for_each(|(part, map)| {
            let to: Vec<u32> = map.iter().map(|&g| ranks[g as usize]).collect();
            term_rows(&mut part.rows, &to);
        });
    let rows: Vec<&Rows> = parts.iter().map(|p| &p.rows).collect();
    counted(terms, surfaces, ids, concat(&rows))
}

/// A [`TermCounts`] of its terms, surface forms and rows (as [`concat`] gives them): the
/// document frequencies and occurrences counted from the rows.
fn counted(
    terms: Vec<String>,
    surfaces: Vec<Vec<(String, u64)>>,
    ids: &[u32],
    (indptr, cols, counts): (Vec<usize>, Vec<u32>, Vec<u32>),
) -> TermCounts {
    let mut df = vec![0u32; terms.len()];
    let mut cf = vec![0u64; terms.len()];
    for (&t, &c) in cols.iter().zip(&counts) {
        df[t as usize] += 1;
        cf[t as usize] += c as u64;
    }
    TermCounts {
        terms,
        surfaces,
        df,
        cf,
        rows: SparseRows {
            row_ids: ids.to_vec(),
            indptr,
            cols,
            counts,
            values: vec![],
        },
    }
}

/// The terms of a slice of passages: the state of the analyze step, which merges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TermCounts {
    /// Terms in code-point order; a term's index is its id here.
    pub terms: Vec<String>,
    /// Per term, its surface forms with their occurrences, in code-point order.
    pub surfaces: Vec<Vec<(String, u64)>>,
    /// Per term, the passages holding it.
    pub df: Vec<u32>,
    /// Per term, its occurrences.
    pub cf: Vec<u64>,
    /// One row per passage: term ids (sorted) and counts.
    pub rows: SparseRows,
}

/// The counted terms of a corpus, each with its label: what TF-IDF weighs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Terms in code-point order; a term's index is its term id.
    pub terms: Vec<String>,
    /// The most frequent surface form of each term (ties: the smallest).
    pub labels: Vec<String>,
    /// Per term, the passages holding it.
    pub df: Vec<u32>,
    /// Per term, its occurrences.
    pub cf: Vec<u64>,
    /// One row per passage: term ids (sorted) and counts.
    pub rows: SparseRows,
}

impl TermCounts {
    /// Analyse and count the passages `texts` (named `ids`), reporting each chunk of
    /// passages done as [`Task::Analyze`] steps.
    ///
    /// Three steps: chunks of passages are segmented in parallel (each counts its raw word
    /// segments); the distinct words of all chunks are merged in chunk order and each is
    /// analysed once (in parallel), which gives the terms and their sorted ids; then each
    /// chunk's rows are mapped from chunk words to terms (in parallel; dropped words go,
    /// words with the same term add up) and sorted. The result does not depend on the
    /// number of threads.
    pub fn partial(
        analyzer: &Analyzer,
        ids: &[u32],
        texts: &[&str],
        observer: &dyn Observer,
    ) -> TermCounts {
        Self::partial_in_chunks(analyzer, ids, texts, CHUNK, observer)
    }

    /// [`TermCounts::partial`] with chunks of `chunk` texts.
    fn partial_in_chunks(
        analyzer: &Analyzer,
        ids: &[u32],
        texts: &[&str],
        chunk: usize,
        observer: &dyn Observer,
    ) -> TermCounts {
        assert_eq!(ids.len(), texts.len(), "one id per text");
        let ngrams = analyzer.ngram_range();
        let mut chunks: Vec<ChunkWords> = texts
            .par_chunks(chunk)
            .map_init(Scratch::default, |scratch, c| {
                let r = segment_chunk(scratch, c, ngrams.has_phrases());
                observer.advance(Task::Analyze, c.len() as u64);
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
        // the analysed words sorted by (term, surface form, word id) — a total order, so the
        // parallel sort gives the same order on any number of threads: terms come out in
        // code-point order, and each term's surface forms in code-point order after it
        let mut kept: Vec<(&str, &str, u32)> = tokens
            .par_iter()
            .enumerate()
            .filter_map(|(w, tok)| {
                let tok = tok.as_ref()?;
                Some((tok.term.as_ref(), tok.surface.as_ref(), w as u32))
            })
            .collect();
        kept.par_sort_unstable();
        // one group of the sorted words per term (in parallel): the term and its surface forms
        // with their occurrences
        type Group<'k, 'a> = (&'a str, &'k [(&'a str, &'a str, u32)], Vec<(String, u64)>);
        let groups: Vec<Group> = kept
            .par_chunk_by(|a, b| a.0 == b.0)
            .map(|g| {
                let mut list: Vec<(String, u64)> = Vec::new();
                for &(_, surface, w) in g {
                    let n = occurrences[w as usize];
                    match list.last_mut() {
                        Some((form, m)) if form.as_str() == surface => *m += n,
                        _ => list.push((surface.to_string(), n)),
                    }
                }
                (g[0].0, g, list)
            })
            .collect();
        let mut word_ranks = vec![DROPPED; words.len()];
        let mut terms: Vec<&str> = Vec::with_capacity(groups.len());
        let mut per_term: Vec<Vec<(String, u64)>> = Vec::with_capacity(groups.len());
        for (t, (term, g, list)) in groups.into_iter().enumerate() {
            for &(_, _, w) in g {
                word_ranks[w as usize] = t as u32;
            }
            terms.push(term);
            per_term.push(list);
        }
        drop(kept);
        let grams = ngrams
            .has_phrases()
            .then(|| count_grams(&chunks, &chunk_maps, &tokens, ngrams, ids));
        if ngrams.min > 1 {
            return grams.expect("n-grams of 2 words or more");
        }

        // each chunk's rows over sorted term ids
        chunks
            .par_iter_mut()
            .zip(&chunk_maps)
            .for_each(|(chunk, map)| {
                let to: Vec<u32> = map.iter().map(|&w| word_ranks[w as usize]).collect();
                term_rows(&mut chunk.rows, &to);
            });
        let rows: Vec<&Rows> = chunks.iter().map(|c| &c.rows).collect();
        let words = counted(
            terms.iter().map(|t| t.to_string()).collect(),
            per_term,
            ids,
            concat(&rows),
        );
        match grams {
            Some(grams) => words.join_columns(grams),
            None => words,
        }
    }

    /// The counts of the same passages over `self`'s terms and `other`'s (which share none,
    /// as words and n-grams do): the union of the terms in code-point order, each row the
    /// union of its two rows.
    fn join_columns(self, other: TermCounts) -> TermCounts {
        assert_eq!(self.rows.row_ids, other.rows.row_ids, "the same passages");
        let (united, a_new, b_new, a_rows, b_rows) = unite(self, other);
        let mut rows = SparseRows::empty();
        let (mut cols, mut counts) = (Vec::new(), Vec::new());
        for r in 0..a_rows.n_rows() {
            let (ac, an) = a_rows.row_counts(r);
            let (bc, bn) = b_rows.row_counts(r);
            cols.clear();
            counts.clear();
            let (mut i, mut j) = (0, 0);
            loop {
                let a = ac.get(i).map(|&c| a_new[c as usize]);
                let b = bc.get(j).map(|&c| b_new[c as usize]);
                match (a, b) {
                    (None, None) => break,
                    (Some(a), b) if b.is_none_or(|b| a < b) => {
                        cols.push(a);
                        counts.push(an[i]);
                        i += 1;
                    }
                    (_, b) => {
                        cols.push(b.unwrap_or_default());
                        counts.push(bn[j]);
                        j += 1;
                    }
                }
            }
            rows.push_row(a_rows.row_ids[r], &cols, &counts, &[]);
        }
        TermCounts { rows, ..united }
    }

    /// The counts of `self`'s passages followed by `other`'s: the union of the terms (in
    /// code-point order), counts and document frequencies added, rows appended.
    pub fn merge(self, other: TermCounts) -> TermCounts {
        let (united, a_new, b_new, mut a_rows, mut b_rows) = unite(self, other);
        // the new ids keep the order of the old ones: rows stay sorted
        for c in &mut a_rows.cols {
            *c = a_new[*c as usize];
        }
        for c in &mut b_rows.cols {
            *c = b_new[*c as usize];
        }
        a_rows.append(b_rows);
        TermCounts {
            rows: a_rows,
            ..united
        }
    }

    /// The counts without the passages of `gone`: their rows removed, and their document
    /// frequencies, occurrences and surface forms taken off; terms no passage holds any more
    /// go (the others keep their order, so rows stay sorted). `gone` must count those
    /// passages as `self` did (the same analyzer, the same texts): [`TermCounts::merge`] of
    /// the result and `gone` gives `self` back, with `gone`'s rows last.
    pub fn subtract(self, gone: &TermCounts) -> TermCounts {
        let TermCounts {
            terms,
            mut surfaces,
            mut df,
            mut cf,
            rows,
        } = self;
        for (g, term) in gone.terms.iter().enumerate() {
            let Ok(t) = terms.binary_search(term) else {
                continue;
            };
            df[t] = df[t].saturating_sub(gone.df[g]);
            cf[t] = cf[t].saturating_sub(gone.cf[g]);
            let list = &mut surfaces[t];
            for (form, n) in &gone.surfaces[g] {
                if let Ok(i) = list.binary_search_by(|(f, _)| f.as_str().cmp(form)) {
                    list[i].1 = list[i].1.saturating_sub(*n);
                }
            }
            list.retain(|(_, n)| *n > 0);
        }
        // old id → new id (u32::MAX: gone)
        let mut new_id = vec![u32::MAX; terms.len()];
        let mut next = 0u32;
        for (t, id) in new_id.iter_mut().enumerate() {
            if df[t] > 0 {
                *id = next;
                next += 1;
            }
        }
        let keep: Vec<bool> = df.iter().map(|&d| d > 0).collect();
        let (out_terms, out_surfaces, out_cf) =
            (only(terms, &keep), only(surfaces, &keep), only(cf, &keep));
        let gone_rows: rustc_hash::FxHashSet<u32> = gone.rows.row_ids.iter().copied().collect();
        let mut out_rows = SparseRows::empty();
        let mut cols = Vec::new();
        for r in 0..rows.n_rows() {
            if gone_rows.contains(&rows.row_ids[r]) {
                continue;
            }
            let (c, n) = rows.row_counts(r);
            cols.clear();
            cols.extend(c.iter().map(|&t| new_id[t as usize]));
            out_rows.push_row(rows.row_ids[r], &cols, n, &[]);
        }
        TermCounts {
            terms: out_terms,
            surfaces: out_surfaces,
            df: only(df, &keep),
            cf: out_cf,
            rows: out_rows,
        }
    }

    /// The rows in the order of their ids (the other fields as they are).
    pub fn rows_by_id(mut self) -> TermCounts {
        let mut order: Vec<usize> = (0..self.rows.n_rows()).collect();
        order.sort_by_key(|&r| self.rows.row_ids[r]);
        if order.windows(2).any(|w| w[0] > w[1]) {
            self.rows = self.rows.select(&order);
        }
        self
    }

    /// The counts with each term's label: its most frequent surface form (ties: the
    /// smallest).
    pub fn finish(self) -> Counts {
        self.finish_keeping_surfaces().0
    }

    /// [`TermCounts::finish`], handing back the surface forms too (what a run keeps to be
    /// updated later), without copying them.
    pub fn finish_keeping_surfaces(self) -> (Counts, Vec<Vec<(String, u64)>>) {
        let labels = self.surfaces.iter().map(|list| label_of(list)).collect();
        let counts = Counts {
            terms: self.terms,
            labels,
            df: self.df,
            cf: self.cf,
            rows: self.rows,
        };
        (counts, self.surfaces)
    }
}

/// A term's label: its most frequent surface form (ties: the first, which in a list sorted
/// by form is the smallest); empty when there is none.
pub fn label_of(surfaces: &[(String, u64)]) -> String {
    let mut best: Option<&(String, u64)> = None;
    for s in surfaces {
        if best.is_none_or(|b| s.1 > b.1) {
            best = Some(s);
        }
    }
    best.map_or(String::new(), |b| b.0.clone())
}

/// The terms of `a` and `b` as one list in code-point order, with their surface forms,
/// document frequencies and occurrences added (the rows left empty); each side's old term
/// id → new id (in the same order, so sorted rows stay sorted once renumbered); and the two
/// sides' rows as they were.
fn unite(
    mut a: TermCounts,
    mut b: TermCounts,
) -> (TermCounts, Vec<u32>, Vec<u32>, SparseRows, SparseRows) {
    let (this, other) = (&mut a, &mut b);
    let (na, nb) = (this.terms.len(), other.terms.len());
    let mut a_new = vec![0u32; na];
    let mut b_new = vec![0u32; nb];
    let mut terms = Vec::with_capacity(na.max(nb));
    let mut surfaces = Vec::with_capacity(na.max(nb));
    let (mut df, mut cf) = (
        Vec::with_capacity(na.max(nb)),
        Vec::with_capacity(na.max(nb)),
    );
    let (mut a_terms, mut b_terms) = (
        std::mem::take(&mut this.terms).into_iter().peekable(),
        std::mem::take(&mut other.terms).into_iter().peekable(),
    );
    let (mut a_surf, mut b_surf) = (
        std::mem::take(&mut this.surfaces).into_iter(),
        std::mem::take(&mut other.surfaces).into_iter(),
    );
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        let side = match (a_terms.peek(), b_terms.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        };
        let id = terms.len() as u32;
        match side {
            std::cmp::Ordering::Less => {
                terms.push(a_terms.next().expect("peeked"));
                surfaces.push(a_surf.next().expect("one list per term"));
                df.push(this.df[i]);
                cf.push(this.cf[i]);
                a_new[i] = id;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                terms.push(b_terms.next().expect("peeked"));
                surfaces.push(b_surf.next().expect("one list per term"));
                df.push(other.df[j]);
                cf.push(other.cf[j]);
                b_new[j] = id;
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                terms.push(a_terms.next().expect("peeked"));
                b_terms.next();
                surfaces.push(merge_surfaces(
                    a_surf.next().expect("one list per term"),
                    b_surf.next().expect("one list per term"),
                ));
                df.push(this.df[i] + other.df[j]);
                cf.push(this.cf[i] + other.cf[j]);
                a_new[i] = id;
                b_new[j] = id;
                i += 1;
                j += 1;
            }
        }
    }
    let (a_rows, b_rows) = (std::mem::take(&mut a.rows), std::mem::take(&mut b.rows));
    let united = TermCounts {
        terms,
        surfaces,
        df,
        cf,
        rows: SparseRows::empty(),
    };
    (united, a_new, b_new, a_rows, b_rows)
}

/// The items of `v` whose `keep` is true, in order.
fn only<T>(v: Vec<T>, keep: &[bool]) -> Vec<T> {
    v.into_iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(x, _)| x)
        .collect()
}

/// Two lists of surface forms, each in code-point order, as one: occurrences of the same
/// form added.
fn merge_surfaces(a: Vec<(String, u64)>, b: Vec<(String, u64)>) -> Vec<(String, u64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(a.by_ref()),
            (None, Some(_)) => out.extend(b.by_ref()),
            (Some(x), Some(y)) => match x.0.cmp(&y.0) {
                std::cmp::Ordering::Less => out.push(a.next().expect("peeked")),
                std::cmp::Ordering::Greater => out.push(b.next().expect("peeked")),
                std::cmp::Ordering::Equal => {
                    let (s, n) = a.next().expect("peeked");
                    let (_, m) = b.next().expect("peeked");
                    out.push((s, n + m));
                }
            },
        }
    }
    out
}

/// Turn a chunk's rows from chunk ids (of words or n-grams) into term ids, in place: `terms`
/// gives each chunk id's term id (or [`DROPPED`]). Dropped ones go, ids with the same term add
/// up, and each row is sorted by term id.
fn term_rows(chunk: &mut Rows, terms: &[u32]) {
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
fn concat(parts: &[&Rows]) -> (Vec<usize>, Vec<u32>, Vec<u32>) {
    let n_rows: usize = parts.iter().map(|p| p.indptr.len() - 1).sum();
    let nnz: usize = parts.iter().map(|p| p.ids.len()).sum();
    let mut indptr = vec![0usize; n_rows + 1];
    let mut ids = vec![0u32; nnz];
    let mut counts = vec![0u32; nnz];
    // each part's place in the output
    let mut places = Vec::with_capacity(parts.len());
    let (mut i_rest, mut t_rest, mut c_rest) = (&mut indptr[1..], &mut ids[..], &mut counts[..]);
    let mut base = 0;
    for &p in parts {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{AnalyzerParams, StopWords};
    use crate::Silent;

    fn count(a: &Analyzer, texts: &[&str]) -> Counts {
        let ids: Vec<u32> = (0..texts.len() as u32).collect();
        TermCounts::partial(a, &ids, texts, &Silent).finish()
    }

    /// Seeded generated texts of common, rare, folded and possessive words.
    fn generated(n: usize, seed: u64) -> Vec<String> {
        let words: Vec<&str> = "The the THE of Leader’s leader's leaders Leaders negotiations \
            Negotiating negotiation 1,000 3.14 2015 U.S. it's café Café naïve £5m e.g. x A _ \
            foo_bar ΟΔΟΣ οδος straße İstanbul internationalization Internationalization's"
            .split(' ')
            .collect();
        let mut next = crate::analyze::test_rng(seed);
        (0..n)
            .map(|i| {
                let k = next(30);
                let mut t: String = (0..k)
                    .map(|_| format!("{} ", words[next(words.len())]))
                    .collect();
                // some words occur in one passage only
                t.push_str(&format!("rare{i} w{}", i % 7));
                t
            })
            .collect()
    }

    #[test]
    fn counts_are_sorted_and_labelled() {
        let a = Analyzer::new(&AnalyzerParams::default()).unwrap();
        let c = count(
            &a,
            &["Negotiations and negotiation", "negotiations, negotiating"],
        );
        assert_eq!(c.terms, ["negoti"]);
        assert_eq!(c.labels, ["negotiations"]);
        assert_eq!(c.rows.row_counts(0), (&[0u32][..], &[2u32][..]));
        assert_eq!(c.rows.row_counts(1), (&[0u32][..], &[2u32][..]));
        assert_eq!((c.df[0], c.cf[0]), (2, 4));
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
                let toks: Vec<Token> = text
                    .unicode_words()
                    .filter_map(|w| a.analyze_word(w).ok())
                    .collect();
                let ng = a.ngram_range();
                for n in ng.min..=ng.max {
                    for w in toks.windows(n) {
                        let term: Vec<&str> = w.iter().map(|t| t.term.as_ref()).collect();
                        let surface: Vec<&str> = w.iter().map(|t| t.surface.as_ref()).collect();
                        *row.entry(term.join(" ")).or_insert(0) += 1;
                        *surfaces
                            .entry(term.join(" "))
                            .or_default()
                            .entry(surface.join(" "))
                            .or_insert(0) += 1;
                    }
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
            rows: SparseRows::empty(),
            ..Default::default()
        };
        for row in rows {
            for (t, n) in row {
                c.rows.cols.push(c.terms.binary_search(&t).unwrap() as u32);
                c.rows.counts.push(n);
            }
            c.rows.indptr.push(c.rows.cols.len());
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
        let mut next = crate::analyze::test_rng(0x2545_F491_4F6C_DD1D);
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
            AnalyzerParams::default(),
            AnalyzerParams {
                stop_words: StopWords::None,
                min_token_len: 3,
                keep_numbers: false,
                stem: false,
                ..Default::default()
            },
            AnalyzerParams {
                ngrams: Ngrams { min: 1, max: 2 },
                ..Default::default()
            },
            AnalyzerParams {
                ngrams: Ngrams { min: 2, max: 3 },
                min_token_len: 3,
                ..Default::default()
            },
        ] {
            let a = Analyzer::new(&settings).unwrap();
            let want = plain_count(&a, &texts);
            assert!(want.terms.len() > 15, "{:?}", want.terms);
            let phrases = want.terms.iter().filter(|t| t.contains(' ')).count();
            assert_eq!(phrases > 0, settings.ngrams.has_phrases());
            for (texts, want) in [(&texts[..], want), (&ties[..], plain_count(&a, &ties))] {
                for chunk in [1, 7, 64, CHUNK] {
                    let ids: Vec<u32> = (0..texts.len() as u32).collect();
                    let got =
                        TermCounts::partial_in_chunks(&a, &ids, texts, chunk, &Silent).finish();
                    assert_eq!(got.terms, want.terms, "chunks of {chunk}");
                    assert_eq!(got.labels, want.labels, "chunks of {chunk}");
                    assert_eq!(got.rows.indptr, want.rows.indptr, "chunks of {chunk}");
                    assert_eq!(got.rows.cols, want.rows.cols, "chunks of {chunk}");
                    assert_eq!(got.rows.counts, want.rows.counts, "chunks of {chunk}");
                    let mut df = vec![0u32; got.terms.len()];
                    for &c in &got.rows.cols {
                        df[c as usize] += 1;
                    }
                    assert_eq!(got.df, df, "chunks of {chunk}");
                }
            }
        }
        let c = count(&Analyzer::new(&AnalyzerParams::default()).unwrap(), &ties);
        assert_eq!(c.terms, ["leader", "negoti"]);
        assert_eq!(c.labels, ["leader", "negotiating"]);
    }

    #[test]
    fn bigrams_skip_stop_words_and_are_named_as_scikit_learn_names_them() {
        let a = Analyzer::new(&AnalyzerParams {
            ngrams: Ngrams { min: 1, max: 2 },
            ..Default::default()
        })
        .unwrap();
        let c = count(
            &a,
            &["The nuclear deal, and the nuclear deals.", "Nuclear. Deal!"],
        );
        assert_eq!(c.terms, ["deal", "deal nuclear", "nuclear", "nuclear deal"]);
        // a phrase's label is its most frequent surface form (ties: the smallest)
        assert_eq!(
            c.labels,
            ["deal", "deal nuclear", "nuclear", "nuclear deal"]
        );
        assert_eq!(c.rows.row_counts(0), (&[0, 1, 2, 3][..], &[2, 1, 2, 2][..]));
        // n-grams do not stop at punctuation (scikit-learn's do not), but at the passage
        assert_eq!(c.rows.row_counts(1), (&[0, 2, 3][..], &[1, 1, 1][..]));
        assert_eq!((c.df[3], c.cf[3]), (2, 3));
        let only = Analyzer::new(&AnalyzerParams {
            ngrams: Ngrams { min: 2, max: 2 },
            ..Default::default()
        })
        .unwrap();
        let c = count(&only, &["nuclear deal talks", "deal"]);
        assert_eq!(c.terms, ["deal talk", "nuclear deal"]);
        assert_eq!(c.rows.row_counts(1).0, &[] as &[u32]);
    }

    #[test]
    fn partials_with_bigrams_merge_to_the_whole_on_any_threads() {
        let texts = generated(700, 17);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let ids: Vec<u32> = (0..texts.len() as u32).collect();
        let a = Analyzer::new(&AnalyzerParams {
            ngrams: Ngrams { min: 1, max: 2 },
            ..Default::default()
        })
        .unwrap();
        let whole = TermCounts::partial(&a, &ids, &texts, &Silent);
        let merged = TermCounts::partial(&a, &ids[..333], &texts[..333], &Silent)
            .merge(TermCounts::partial(&a, &ids[333..], &texts[333..], &Silent));
        assert_eq!(merged, whole);
        let gone = TermCounts::partial(&a, &ids[600..], &texts[600..], &Silent);
        assert_eq!(
            whole.clone().subtract(&gone),
            TermCounts::partial(&a, &ids[..600], &texts[..600], &Silent)
        );
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| TermCounts::partial(&a, &ids, &texts, &Silent))
        };
        assert_eq!(run(1), whole);
        assert_eq!(run(3), whole);
    }

    #[test]
    fn partials_of_any_slices_merge_to_the_whole() {
        let texts = generated(400, 7);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let ids: Vec<u32> = (0..texts.len() as u32).map(|i| i * 3 + 1).collect();
        let a = Analyzer::new(&AnalyzerParams::default()).unwrap();
        let whole = TermCounts::partial(&a, &ids, &texts, &Silent);
        for cuts in [vec![], vec![200], vec![1, 80, 81, 250, 399], vec![0, 400]] {
            let mut bounds = vec![0];
            bounds.extend(&cuts);
            bounds.push(texts.len());
            let merged = bounds
                .windows(2)
                .map(|w| TermCounts::partial(&a, &ids[w[0]..w[1]], &texts[w[0]..w[1]], &Silent))
                .reduce(TermCounts::merge)
                .unwrap();
            assert_eq!(merged, whole, "cut at {cuts:?}");
        }
        // merging is associative
        let part = |r: std::ops::Range<usize>| {
            TermCounts::partial(&a, &ids[r.clone()], &texts[r], &Silent)
        };
        let left = part(0..100).merge(part(100..300)).merge(part(300..400));
        let right = part(0..100).merge(part(100..300).merge(part(300..400)));
        assert_eq!(left, right);
        assert_eq!(left.finish(), whole.clone().finish());
        assert_eq!(whole.rows.row_ids, ids);
    }

    #[test]
    fn subtracting_passages_gives_the_counts_of_the_others() {
        let texts = generated(300, 13);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let ids: Vec<u32> = (0..texts.len() as u32).collect();
        let a = Analyzer::new(&AnalyzerParams::default()).unwrap();
        let part = |r: std::ops::Range<usize>| {
            TermCounts::partial(&a, &ids[r.clone()], &texts[r], &Silent)
        };
        let whole = part(0..300);
        // the last passages, the first, a middle slice, all of them
        assert_eq!(whole.clone().subtract(&part(250..300)), part(0..250));
        assert_eq!(whole.clone().subtract(&part(0..40)), part(40..300));
        let middle = whole.clone().subtract(&part(100..180));
        assert_eq!(middle, part(0..100).merge(part(180..300)));
        assert_eq!(
            middle.clone().finish(),
            part(0..100).merge(part(180..300)).finish()
        );
        let none = whole.clone().subtract(&part(0..300));
        assert!(none.terms.is_empty() && none.rows.n_rows() == 0);
        // subtract, then add back: the whole again, once the rows are in id order
        let back = middle.merge(part(100..180)).rows_by_id();
        assert_eq!(back, whole);
        // nothing to subtract
        assert_eq!(whole.clone().subtract(&TermCounts::default()), whole);
    }

    #[test]
    fn independent_of_thread_count() {
        let texts = generated(3000, 11);
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let a = Analyzer::new(&AnalyzerParams::default()).unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| count(&a, &refs))
        };
        assert_eq!(run(1), run(4));
    }
}

/// Properties over generated texts (proptest): what the example-based tests above show for
/// chosen inputs holds for any.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::analyze::fold::fold;
    use crate::analyze::AnalyzerParams;
    use crate::Silent;
    use proptest::prelude::*;

    /// Words of every kind the analyzer meets: plain, folded, possessive, numbers, accents,
    /// Greek, ligatures, joiners, stop words, and arbitrary Unicode runs.
    fn text() -> impl Strategy<Value = String> {
        let word = prop_oneof![
            prop::sample::select(vec![
                "The",
                "the",
                "of",
                "Leader’s",
                "leader's",
                "leaders",
                "negotiations",
                "Negotiating",
                "1,000",
                "3.14",
                "U.S.",
                "it's",
                "café",
                "Café",
                "cafe\u{301}",
                "naïve",
                "ΟΔΟΣ",
                "straße",
                "İstanbul",
                "ﬁnance",
                "e.g.",
                "_",
                "foo_bar",
                "\u{200d}",
                "🇮🇷",
                "’s",
                "'",
                "—",
                "\n\n",
            ])
            .prop_map(str::to_string),
            "[a-zA-Z]{1,12}",
            "\\PC{1,8}",
        ];
        prop::collection::vec(word, 0..40).prop_map(|w| w.join(" "))
    }

    fn texts() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(text(), 1..24)
    }

    fn analyzer() -> Analyzer {
        Analyzer::new(&AnalyzerParams::default()).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The counts do not depend on where chunks end, nor on where partials are cut.
        #[test]
        fn counts_do_not_depend_on_chunks_or_cuts(texts in texts(), cut in 0usize..24, chunk in 1usize..6) {
            let a = analyzer();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let ids: Vec<u32> = (0..refs.len() as u32).collect();
            let whole = TermCounts::partial(&a, &ids, &refs, &Silent);
            let chunked = TermCounts::partial_in_chunks(&a, &ids, &refs, chunk, &Silent);
            prop_assert_eq!(&chunked, &whole);
            let cut = cut.min(refs.len());
            let merged = TermCounts::partial(&a, &ids[..cut], &refs[..cut], &Silent)
                .merge(TermCounts::partial(&a, &ids[cut..], &refs[cut..], &Silent));
            prop_assert_eq!(merged, whole);
        }

        /// Every term's label (its most frequent surface form) analyses to the term, and
        /// document frequencies count the rows that hold each term.
        #[test]
        fn labels_analyse_to_their_terms_and_df_counts_rows(texts in texts()) {
            let a = analyzer();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let ids: Vec<u32> = (0..refs.len() as u32).collect();
            let c = TermCounts::partial(&a, &ids, &refs, &Silent).finish();
            for (t, label) in c.terms.iter().zip(&c.labels) {
                let tok = a.analyze_word(label);
                prop_assert!(tok.is_ok(), "label {:?} of {:?} is dropped", label, t);
                let term = tok.unwrap().term.into_owned();
                prop_assert_eq!(&term, t, "label {:?}", label);
            }
            let mut rows_with = vec![0u32; c.terms.len()];
            for r in 0..c.rows.n_rows() {
                for &id in c.rows.row_counts(r).0 {
                    rows_with[id as usize] += 1;
                }
            }
            prop_assert_eq!(rows_with, c.df);
        }

        /// Case folding and NFC with whitespace folding are idempotent.
        #[test]
        fn normalisation_is_idempotent(t in text()) {
            for w in t.split(' ') {
                let once = fold(w).into_owned();
                let twice = fold(&once).into_owned();
                prop_assert_eq!(twice, once);
            }
            use crate::ingest::text::{fold_whitespace, normalize};
            let how = crate::ingest::Normalization::Nfc;
            let once = normalize(t.clone(), how);
            prop_assert_eq!(normalize(once.clone(), how), once.clone());
            let folded = fold_whitespace(&once);
            prop_assert_eq!(fold_whitespace(&folded), folded.clone());
            prop_assert_eq!(normalize(folded.clone(), how), folded);
        }
    }
}
