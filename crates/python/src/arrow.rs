//! The map steps of the Spark driver over Arrow record batches (the Arrow C data interface,
//! by pyo3-arrow): batches come in and go out without a Python object per row or per term.
//! Each function's output batch has exactly the Arrow schema the driver declares for its
//! `mapInArrow` (same names, types and order).

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, GenericListArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use pyo3_arrow::PyRecordBatch;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use themata_core::analyze::TermCounts;
use themata_core::ingest::{self, Markup};
use themata_core::model::{Named, SparseRows, Vocabulary};
use themata_core::tfidf::{self, TfidfParams};

use crate::{ingest_params, tfidf_params, value_err, vocabulary_from, Analyzer, Counts};

fn arrow_err(e: impl std::fmt::Display) -> PyErr {
    value_err(format!("arrow: {e}"))
}

fn out(py: Python<'_>, schema: Schema, columns: Vec<ArrayRef>) -> PyResult<Bound<'_, PyAny>> {
    let b = RecordBatch::try_new(Arc::new(schema), columns).map_err(arrow_err)?;
    PyRecordBatch::new(b).into_pyarrow(py)
}

fn column<'b>(batch: &'b RecordBatch, name: &str) -> PyResult<&'b ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| value_err(format!("arrow: the batch has no column {name:?}")))
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

/// The passage ids of a batch (a 64-bit integer column), checked to fit 32 bits.
fn ids_of(batch: &RecordBatch, name: &str) -> PyResult<Vec<u32>> {
    let a = column(batch, name)?;
    let a = a
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| value_err(format!("arrow: column {name:?} is not int64")))?;
    a.iter()
        .map(|v| {
            v.and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| value_err(format!("arrow: column {name:?}: null or out of range")))
        })
        .collect()
}

/// The sha256 content hash the CLI records (first 16 bytes, hex).
#[pyfunction]
pub fn content_hash(data: &[u8]) -> String {
    hex(&Sha256::digest(data)[..16])
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// The stage-1 rows of the text, Markdown and HTML files of a batch of `binaryFile` rows
/// (`content` column), file `i` of the batch being input file `files[i]`, named `rels[i]`,
/// read as `markups[i]`: per file a `file` row (its content hash), its warnings, its document
/// (`doc`) and its passages with their repeated-line keys — the batch the driver's ingest
/// declares (file, sub, kind, path, title, date, author, source, n_passages, n_chars,
/// content_hash, ordinal, text, char_start, char_end, status, reason, key).
#[pyfunction]
#[pyo3(signature = (batch, files, rels, markups, ingest = "{}"))]
pub fn read_files<'py>(
    py: Python<'py>,
    batch: PyRecordBatch,
    files: Vec<i32>,
    rels: Vec<String>,
    markups: Vec<String>,
    ingest: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let params = ingest_params(ingest)?;
    let batch = batch.into_inner();
    let content = column(&batch, "content")?;
    let content = content
        .as_binary_opt::<i32>()
        .ok_or_else(|| value_err("arrow: column \"content\" is not binary"))?;
    let n = content.len();
    if files.len() != n || rels.len() != n || markups.len() != n {
        return Err(value_err("read_files: one file, name and markup per row"));
    }
    let mut file = Int32Builder::new();
    let mut sub = Int32Builder::new();
    let mut s: Vec<StringBuilder> = (0..11).map(|_| StringBuilder::new()).collect();
    let mut int: Vec<Int64Builder> = (0..5).map(|_| Int64Builder::new()).collect();
    // string columns, in schema order
    const KIND: usize = 0;
    const PATH: usize = 1;
    const TITLE: usize = 2;
    const DATE: usize = 3;
    const AUTHOR: usize = 4;
    const SOURCE: usize = 5;
    const HASH: usize = 6;
    const TEXT: usize = 7;
    const STATUS: usize = 8;
    const REASON: usize = 9;
    const KEY: usize = 10;
    // integer columns, in schema order
    const N_PASSAGES: usize = 0;
    const N_CHARS: usize = 1;
    const ORDINAL: usize = 2;
    const START: usize = 3;
    const END: usize = 4;
    struct Row<'a> {
        file: i32,
        sub: Option<i32>,
        strings: [Option<&'a str>; 11],
        ints: [Option<i64>; 5],
    }
    let mut push = |r: Row<'_>| {
        file.append_value(r.file);
        sub.append_option(r.sub);
        for (b, v) in s.iter_mut().zip(r.strings) {
            b.append_option(v);
        }
        for (b, v) in int.iter_mut().zip(r.ints) {
            b.append_option(v);
        }
    };
    fn none<'a>(kind: &'static str) -> [Option<&'a str>; 11] {
        let mut a = [None; 11];
        a[KIND] = Some(kind);
        a
    }
    for i in 0..n {
        let data = if content.is_null(i) {
            &[][..]
        } else {
            content.value(i)
        };
        let markup = match markups[i].as_str() {
            "text" => Markup::Text,
            "markdown" => Markup::Markdown,
            "html" => Markup::Html,
            other => {
                return Err(value_err(format!(
                    "read_files: markup must be text, markdown or html, got {other:?}"
                )))
            }
        };
        let digest = content_hash(data);
        let mut st = none("file");
        st[PATH] = Some(&rels[i]);
        st[HASH] = Some(&digest);
        push(Row {
            file: files[i],
            sub: None,
            strings: st,
            ints: [None; 5],
        });
        let mut warnings = vec![];
        let found = ingest::file_document(
            &rels[i],
            data,
            markup,
            digest.clone(),
            &params,
            &mut warnings,
        );
        for w in &warnings {
            let mut st = none("warning");
            st[TEXT] = Some(w);
            push(Row {
                file: files[i],
                sub: None,
                strings: st,
                ints: [None; 5],
            });
        }
        let Some((doc, passages)) = found else {
            continue;
        };
        let mut st = none("doc");
        st[PATH] = Some(&doc.path);
        st[TITLE] = doc.meta.title.as_deref();
        st[DATE] = doc.meta.date.as_deref();
        st[AUTHOR] = doc.meta.author.as_deref();
        st[SOURCE] = doc.meta.source.as_deref();
        st[HASH] = Some(&doc.content_hash);
        let mut ints = [None; 5];
        ints[N_PASSAGES] = Some(i64::from(doc.n_passages));
        ints[N_CHARS] = Some(doc.n_chars as i64);
        push(Row {
            file: files[i],
            sub: Some(0),
            strings: st,
            ints,
        });
        for p in &passages {
            let key = ingest::repeated_key(&p.text);
            let mut st = none("passage");
            st[TEXT] = Some(&p.text);
            st[STATUS] = Some(p.status.name());
            st[REASON] = p.reason.map(Named::name);
            st[KEY] = key.as_deref();
            let mut ints = [None; 5];
            ints[ORDINAL] = Some(i64::from(p.ordinal));
            ints[START] = Some(p.char_start as i64);
            ints[END] = Some(p.char_end as i64);
            push(Row {
                file: files[i],
                sub: Some(0),
                strings: st,
                ints,
            });
        }
    }
    let mut string = |i: usize| -> ArrayRef { Arc::new(s[i].finish()) };
    let (kind, path, title, date, author, source, hash) = (
        string(KIND),
        string(PATH),
        string(TITLE),
        string(DATE),
        string(AUTHOR),
        string(SOURCE),
        string(HASH),
    );
    let (text, status, reason, key) = (string(TEXT), string(STATUS), string(REASON), string(KEY));
    let mut ints: Vec<ArrayRef> = int
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    let (n_passages, n_chars, ordinal, start, end) = {
        let mut d = ints.drain(..);
        let mut next = || d.next().expect("five integer columns");
        (next(), next(), next(), next(), next())
    };
    let str_f = |n: &str| Field::new(n, DataType::Utf8, true);
    let i64_f = |n: &str| Field::new(n, DataType::Int64, true);
    let schema = Schema::new(vec![
        Field::new("file", DataType::Int32, true),
        Field::new("sub", DataType::Int32, true),
        str_f("kind"),
        str_f("path"),
        str_f("title"),
        str_f("date"),
        str_f("author"),
        str_f("source"),
        i64_f("n_passages"),
        i64_f("n_chars"),
        str_f("content_hash"),
        i64_f("ordinal"),
        str_f("text"),
        i64_f("char_start"),
        i64_f("char_end"),
        str_f("status"),
        str_f("reason"),
        str_f("key"),
    ]);
    out(
        py,
        schema,
        vec![
            Arc::new(file.finish()),
            Arc::new(sub.finish()),
            kind,
            path,
            title,
            date,
            author,
            source,
            n_passages,
            n_chars,
            hash,
            ordinal,
            text,
            start,
            end,
            status,
            reason,
            key,
        ],
    )
}

/// The schema of the analyze step's batches: kind 0 rows (a passage's terms and counts),
/// kind 1 rows (a term of the partition with its df, cf and surface forms).
fn counted_schema() -> Schema {
    Schema::new(vec![
        Field::new("kind", DataType::Int32, true),
        Field::new("passage_id", DataType::Int64, true),
        Field::new("terms", list_of(DataType::Utf8), true),
        Field::new("counts", list_of(DataType::Int64), true),
        Field::new("term", DataType::Utf8, true),
        Field::new("df", DataType::Int64, true),
        Field::new("cf", DataType::Int64, true),
        Field::new("forms", list_of(DataType::Utf8), true),
        Field::new("form_counts", list_of(DataType::Int64), true),
    ])
}

fn nulls(n: usize, t: &DataType) -> ArrayRef {
    arrow_array::new_null_array(t, n)
}

/// [`Analyzer::count_batches`]: the counts of the passages of Arrow batches.
pub fn count_batches(analyzer: &Analyzer, batches: Vec<PyRecordBatch>) -> PyResult<Counts> {
    let batches: Vec<RecordBatch> = batches.into_iter().map(|b| b.into_inner()).collect();
    let mut ids = vec![];
    let mut texts: Vec<&str> = vec![];
    for b in &batches {
        ids.extend(ids_of(b, "passage_id")?);
        let t = column(b, "text")?;
        let t = t
            .as_string_opt::<i32>()
            .ok_or_else(|| value_err("arrow: column \"text\" is not a string"))?;
        texts.extend(t.iter().map(|x| x.unwrap_or("")));
    }
    let inner = TermCounts::partial(&analyzer.inner, &ids, &texts, &themata_core::Silent);
    Ok(Counts { inner })
}

/// [`Counts::batches`]: the counts as the analyze step's two Arrow batches.
pub fn counts_batches<'py>(
    counts: &Counts,
    py: Python<'py>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let c = &counts.inner;
    let schema = counted_schema();
    let ty = |i: usize| schema.field(i).data_type().clone();
    // passage rows
    let r = &c.rows;
    let n = r.n_rows();
    let mut terms = ListBuilder::new(StringBuilder::new());
    let mut counts = ListBuilder::new(Int64Builder::new());
    for row in 0..n {
        let (a, b) = (r.indptr[row], r.indptr[row + 1]);
        for &t in &r.cols[a..b] {
            terms.values().append_value(&c.terms[t as usize]);
        }
        terms.append(true);
        for &x in &r.counts[a..b] {
            counts.values().append_value(i64::from(x));
        }
        counts.append(true);
    }
    let rows = out(
        py,
        schema.clone(),
        vec![
            Arc::new(arrow_array::Int32Array::from(vec![0; n])),
            Arc::new(arrow_array::Int64Array::from_iter_values(
                r.row_ids.iter().map(|&x| i64::from(x)),
            )),
            Arc::new(terms.finish()),
            Arc::new(counts.finish()),
            nulls(n, &ty(4)),
            nulls(n, &ty(5)),
            nulls(n, &ty(6)),
            nulls(n, &ty(7)),
            nulls(n, &ty(8)),
        ],
    )?;
    // term rows
    let m = c.terms.len();
    let mut forms = ListBuilder::new(StringBuilder::new());
    let mut form_counts = ListBuilder::new(Int64Builder::new());
    for s in &c.surfaces {
        for (f, k) in s {
            forms.values().append_value(f);
            form_counts.values().append_value(*k as i64);
        }
        forms.append(true);
        form_counts.append(true);
    }
    let term_rows = out(
        py,
        schema.clone(),
        vec![
            Arc::new(arrow_array::Int32Array::from(vec![1; m])),
            nulls(m, &ty(1)),
            nulls(m, &ty(2)),
            nulls(m, &ty(3)),
            Arc::new(arrow_array::StringArray::from_iter_values(&c.terms)),
            Arc::new(arrow_array::Int64Array::from_iter_values(
                c.df.iter().map(|&x| i64::from(x)),
            )),
            Arc::new(arrow_array::Int64Array::from_iter_values(
                c.cf.iter().map(|&x| x as i64),
            )),
            Arc::new(forms.finish()),
            Arc::new(form_counts.finish()),
        ],
    )?;
    Ok((rows, term_rows))
}

/// The vocabulary (its terms, idf and kept flags, as broadcast by the driver) applied to
/// counted rows in Arrow batches (columns passage_id, terms: list of strings, counts: list
/// of int64): the TF-IDF rows of `[tfidf]`, with the dropped entries beside them.
#[pyclass(module = "themata._themata", frozen)]
pub struct Weigher {
    ids: FxHashMap<String, u32>,
    vocab: Vocabulary,
    kept: Vec<bool>,
    params: TfidfParams,
}

impl Weigher {
    /// The rows of a batch as CSR over global term ids (sorted within each row, as the
    /// terms of a row are in code-point order and so are term ids).
    fn rows(&self, batch: &RecordBatch) -> PyResult<(Vec<u32>, SparseRows)> {
        let pids = ids_of(batch, "passage_id")?;
        let terms: &GenericListArray<i32> = column(batch, "terms")?
            .as_list_opt::<i32>()
            .ok_or_else(|| value_err("arrow: column \"terms\" is not a list"))?;
        let counts: &GenericListArray<i32> = column(batch, "counts")?
            .as_list_opt::<i32>()
            .ok_or_else(|| value_err("arrow: column \"counts\" is not a list"))?;
        let names = terms
            .values()
            .as_string_opt::<i32>()
            .ok_or_else(|| value_err("arrow: column \"terms\" holds no strings"))?;
        let values = counts
            .values()
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| value_err("arrow: column \"counts\" holds no int64"))?;
        let (to, co) = (terms.value_offsets(), counts.value_offsets());
        let mut indptr = vec![0usize];
        let mut cols = vec![];
        let mut cts = vec![];
        for r in 0..pids.len() {
            let (a, b) = (to[r] as usize, to[r + 1] as usize);
            let (ca, cb) = (co[r] as usize, co[r + 1] as usize);
            if b - a != cb - ca {
                return Err(value_err(
                    "weigh: a row's terms and counts differ in length",
                ));
            }
            for (j, k) in (a..b).zip(ca..cb) {
                let t = names.value(j);
                let id = *self.ids.get(t).ok_or_else(|| {
                    value_err(format!("weigh: term {t:?} is not in the vocabulary"))
                })?;
                cols.push(id);
                cts.push(u32::try_from(values.value(k)).map_err(value_err)?);
            }
            indptr.push(cols.len());
        }
        let n = pids.len();
        let rows = SparseRows {
            row_ids: (0..n as u32).collect(),
            indptr,
            cols,
            counts: cts,
            values: vec![],
        };
        Ok((pids, rows))
    }
}

#[pymethods]
impl Weigher {
    #[new]
    #[pyo3(signature = (terms, idf, kept, tfidf = "{}"))]
    fn new(terms: Vec<String>, idf: Vec<f64>, kept: Vec<bool>, tfidf: &str) -> PyResult<Self> {
        let params = tfidf_params(tfidf)?;
        let n = terms.len();
        let ids = terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let vocab = vocabulary_from(terms, vec![String::new(); n], vec![0; n], idf, kept.clone())?;
        Ok(Weigher {
            ids,
            vocab,
            kept,
            params,
        })
    }

    /// A batch of counted rows weighted: one Arrow batch (kept: bool, passage_id, term_id,
    /// count: int64, weight: double), the kept entries (tfidf.parquet's rows) then the
    /// dropped ones (term_counts.parquet's; weight 0).
    fn weigh<'py>(&self, py: Python<'py>, batch: PyRecordBatch) -> PyResult<Bound<'py, PyAny>> {
        let batch = batch.into_inner();
        let (pids, rows) = self.rows(&batch)?;
        let m = tfidf::weigh(&rows, &self.vocab, &self.params);
        let mut kept = BooleanBuilder::new();
        let mut pid = Int64Builder::new();
        let mut tid = Int64Builder::new();
        let mut cnt = Int64Builder::new();
        let mut w = Float64Builder::new();
        for (r, &p) in pids.iter().enumerate() {
            let (a, b) = (m.indptr[r], m.indptr[r + 1]);
            for j in a..b {
                kept.append_value(true);
                pid.append_value(i64::from(p));
                tid.append_value(i64::from(m.cols[j]));
                cnt.append_value(i64::from(m.counts[j]));
                w.append_value(m.values[j]);
            }
        }
        for (r, &p) in pids.iter().enumerate() {
            let (ids, cs) = rows.row_counts(r);
            for (&t, &c) in ids.iter().zip(cs) {
                if !self.kept[t as usize] {
                    kept.append_value(false);
                    pid.append_value(i64::from(p));
                    tid.append_value(i64::from(t));
                    cnt.append_value(i64::from(c));
                    w.append_value(0.0);
                }
            }
        }
        let schema = Schema::new(vec![
            Field::new("kept", DataType::Boolean, true),
            Field::new("passage_id", DataType::Int64, true),
            Field::new("term_id", DataType::Int64, true),
            Field::new("count", DataType::Int64, true),
            Field::new("weight", DataType::Float64, true),
        ]);
        out(
            py,
            schema,
            vec![
                Arc::new(kept.finish()),
                Arc::new(pid.finish()),
                Arc::new(tid.finish()),
                Arc::new(cnt.finish()),
                Arc::new(w.finish()),
            ],
        )
    }

    /// A batch of counted rows weighted, as NumPy arrays for the clustering shards: (the
    /// passage ids of the rows with a kept term, their CSR indptr, term ids, counts and
    /// weights, and the passage ids of the rows without one).
    #[allow(clippy::type_complexity)]
    fn csr<'py>(
        &self,
        py: Python<'py>,
        batch: PyRecordBatch,
    ) -> PyResult<(
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<i64>>,
    )> {
        let batch = batch.into_inner();
        let (pids, rows) = self.rows(&batch)?;
        let m = tfidf::weigh(&rows, &self.vocab, &self.params);
        let mut full = vec![];
        let mut empty = vec![];
        let mut ptr = vec![0i64];
        for (r, &p) in pids.iter().enumerate() {
            let (a, b) = (m.indptr[r], m.indptr[r + 1]);
            if a == b {
                empty.push(i64::from(p));
            } else {
                full.push(i64::from(p));
                ptr.push(b as i64);
            }
        }
        Ok((
            full.into_pyarray(py),
            ptr.into_pyarray(py),
            m.cols.into_pyarray(py),
            m.counts.into_pyarray(py),
            m.values.into_pyarray(py),
            empty.into_pyarray(py),
        ))
    }
}

/// The shingles of the passages of an Arrow batch (columns passage_id: int64, text), for
/// the shuffle by shingle hash: one batch (passage_id, shingles: list of int64 — the bits of
/// the word 3-gram hashes, sorted and distinct —, size: their number, text_key: the SHA-256
/// of the text, which tells exact duplicates apart).
#[pyfunction]
pub fn shingle_batch<'py>(py: Python<'py>, batch: PyRecordBatch) -> PyResult<Bound<'py, PyAny>> {
    let batch = batch.into_inner();
    let pids = column(&batch, "passage_id")?;
    let texts = column(&batch, "text")?
        .as_string_opt::<i32>()
        .ok_or_else(|| value_err("arrow: column \"text\" is not a string"))?;
    let mut sets = ListBuilder::new(Int64Builder::new());
    let mut sizes = Int64Builder::new();
    let mut keys = arrow_array::builder::BinaryBuilder::new();
    for t in texts.iter() {
        let t = t.unwrap_or("");
        let s = ingest::shingles(t);
        sizes.append_value(s.len() as i64);
        for h in s {
            sets.values().append_value(h as i64);
        }
        sets.append(true);
        keys.append_value(Sha256::digest(t.as_bytes()));
    }
    let schema = Schema::new(vec![
        Field::new("passage_id", DataType::Int64, true),
        Field::new("shingles", list_of(DataType::Int64), true),
        Field::new("size", DataType::Int64, true),
        Field::new("text_key", DataType::Binary, true),
    ]);
    out(
        py,
        schema,
        vec![
            pids.clone(),
            Arc::new(sets.finish()),
            Arc::new(sizes.finish()),
            Arc::new(keys.finish()),
        ],
    )
}
