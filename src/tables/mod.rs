//! The Parquet tables: each stage's tables in its own module, written and read through the
//! same helpers (atomic, zstd, statistics, key-value metadata naming themata).
//!
//! The README's "Tables" section documents the same columns (`tests/check_readme.py` keeps
//! the two in step). Fixed value sets (statuses, reasons, measures) are written and read
//! through their name table ([`Named`]): a value read back that is not in the table is an
//! error naming the file and column, as is a table that cannot be read.

mod cluster;
mod ingest;
mod model;
mod tfidf;
mod trends;

pub use cluster::{
    read_assignments, read_clustering, read_explanations, read_explanations_of,
    read_runner_up_explained, write_assignments, write_clustering, write_clusters,
    write_explanations, ExplanationRow,
};
pub use ingest::{read_corpus, write_corpus};
pub use model::{
    read_fitted, read_model_file, read_model_tables, read_previous, read_previous_themes,
    write_model_file, write_model_tables, Fitted, ModelCluster, ModelFile, MODEL_FORMAT,
};
pub use tfidf::{
    read_term_counts, read_tfidf, read_vocabulary, write_term_state, write_tfidf, TermState,
};
pub use trends::write_theme_trends;

use crate::error::{Error, Result};
use crate::files::atomic_write;
use polars::prelude::*;
use polars_parquet::write::ZstdLevel;
use std::path::{Path, PathBuf};
use themata_core::model::Named;

/// `documents.parquet`: one row per document.
pub const DOCUMENTS: &str = "documents.parquet";
/// `passages.parquet`: one row per passage.
pub const PASSAGES: &str = "passages.parquet";
/// `duplicates.parquet`: one row per duplicate pair.
pub const DUPLICATES: &str = "duplicates.parquet";
/// `vocabulary.parquet`: one row per term.
pub const VOCABULARY: &str = "vocabulary.parquet";
/// `tfidf.parquet`: one row per non-zero weight.
pub const TFIDF: &str = "tfidf.parquet";
/// `term_counts.parquet`: the counts of the terms TF-IDF dropped, one row per passage and
/// term.
pub const TERM_COUNTS: &str = "term_counts.parquet";
/// `surface_forms.parquet`: one row per term and surface form.
pub const SURFACE_FORMS: &str = "surface_forms.parquet";
/// `assignments.parquet`: one row per kept passage.
pub const ASSIGNMENTS: &str = "assignments.parquet";
/// `clusters.parquet`: one row per cluster.
pub const CLUSTERS: &str = "clusters.parquet";
/// `cluster_terms.parquet`: top terms per cluster and measure.
pub const CLUSTER_TERMS: &str = "cluster_terms.parquet";
/// `theme_seeds.parquet`: one row per seed word.
pub const THEME_SEEDS: &str = "theme_seeds.parquet";
/// `theme_hierarchy.parquet`: the themes' dendrogram, one row per join.
pub const THEME_HIERARCHY: &str = "theme_hierarchy.parquet";
/// `explanations.parquet`: each passage's top contributing terms to its nearest centroid and
/// the runner-up.
pub const EXPLANATIONS: &str = "explanations.parquet";
/// `centroids.parquet`: the fitted centroids, one row per cluster and dimension.
pub const CENTROIDS: &str = "centroids.parquet";
/// `lsa_components.parquet`: the fitted LSA basis, one row per kept term and dimension.
pub const LSA_COMPONENTS: &str = "lsa_components.parquet";
/// `theme_trends.parquet`: themes over time and by group, one row per view, bucket and
/// theme (written by the report stage).
pub const THEME_TRENDS: &str = "theme_trends.parquet";
/// `keyness.parquet`: the terms key to each group of passages (`report.keyness`; written
/// by the report stage, with no rows when it is not set).
pub const KEYNESS: &str = "keyness.parquet";
/// `model.json`: the fitted model's settings, space and clusters.
pub const MODEL: &str = "model.json";

/// What every table written carries in its key-value metadata besides its own name.
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    /// The pipeline's name.
    pub pipeline: &'a str,
}

pub(crate) fn table_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Table {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

pub(crate) fn col<T, P>(name: &str, values: T) -> Column
where
    Series: NamedFrom<T, P>,
    P: ?Sized,
{
    Column::new(name.into(), values)
}

/// Build a table from a slice: `frame!(TABLE, items, { "column" => |x| x.field, ... })`.
macro_rules! frame {
    ($table:expr, $items:expr, { $($name:literal => $f:expr),+ $(,)? }) => {{
        let items = $items;
        DataFrame::new(items.len(), vec![$($crate::tables::col($name, items.iter().map($f).collect::<Vec<_>>())),+])
            .map_err(|e| $crate::tables::table_err(std::path::Path::new($table), e))
    }};
}
pub(crate) use frame;

/// Write a frame to `dir/name` atomically, zstd-compressed with full statistics and
/// key-value metadata naming the pipeline and themata's version.
pub fn write(dir: &Path, name: &str, mut df: DataFrame, meta: Meta) -> Result<()> {
    atomic_write(&dir.join(name), |file| {
        writer(file, name, meta)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// Rows per row group: polars' default, which [`write`] uses too.
const ROW_GROUP: usize = 512 * 512;

/// zstd's level for every table: level 1 compresses about as well as the default (3) on
/// these tables and takes about half the time; the writes are on the critical path.
const ZSTD_LEVEL: i32 = 1;

/// The writer every table goes through: zstd, full statistics, key-value metadata.
fn writer<'f>(
    file: &'f mut std::fs::File,
    name: &str,
    meta: Meta,
) -> ParquetWriter<&'f mut std::fs::File> {
    let kv = KeyValueMetadata::from_static(vec![
        ("themata.version".into(), crate::VERSION.into()),
        ("themata.pipeline".into(), meta.pipeline.into()),
        (
            "themata.table".into(),
            name.trim_end_matches(".parquet").into(),
        ),
    ]);
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(Some(
            ZstdLevel::try_new(ZSTD_LEVEL).expect("a valid zstd level"),
        )))
        .with_statistics(StatisticsOptions::full())
        .with_key_value_metadata(Some(kv))
}

/// Write a table of `n` rows one row group at a time ([`ROW_GROUP`] rows, as [`write`]
/// makes them), `part(range)` giving the frame of each: no frame of the whole table exists.
fn write_batched(
    dir: &Path,
    name: &str,
    n: usize,
    meta: Meta,
    part: impl Fn(std::ops::Range<usize>) -> Result<DataFrame>,
) -> Result<()> {
    if n == 0 {
        return write(dir, name, part(0..0)?, meta);
    }
    atomic_write(&dir.join(name), |file| {
        let mut batches = (0..n)
            .step_by(ROW_GROUP)
            .map(|a| part(a..(a + ROW_GROUP).min(n)));
        let first = batches
            .next()
            .expect("n > 0")
            .map_err(std::io::Error::other)?;
        let mut w = writer(file, name, meta)
            .batched(first.schema())
            .map_err(std::io::Error::other)?;
        w.write_batch(&first).map_err(std::io::Error::other)?;
        drop(first);
        for df in batches {
            w.write_batch(&df.map_err(std::io::Error::other)?)
                .map_err(std::io::Error::other)?;
        }
        w.finish().map(|_| ()).map_err(std::io::Error::other)
    })
}

/// Read a whole table.
pub fn read(dir: &Path, name: &str) -> Result<DataFrame> {
    read_optional(dir, name)?.ok_or_else(|| Error::Input {
        path: dir.join(name),
        message: "table not found: run the earlier stages first (themata run)".into(),
    })
}

/// Read some columns of a table.
fn read_columns(dir: &Path, name: &str, columns: &[&str]) -> Result<DataFrame> {
    let path = dir.join(name);
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    read_file_or_parts(&path, Some(columns))
}

/// Read a table that older runs may not have written: `None` when the file does not
/// exist; an error naming the file when it cannot be read.
fn read_optional(dir: &Path, name: &str) -> Result<Option<DataFrame>> {
    let path = dir.join(name);
    match std::fs::metadata(&path) {
        Ok(_) => read_file_or_parts(&path, None).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// Read a table [`ROW_GROUP`] rows at a time (the columns `columns`, or all), calling `f`
/// on each slice in order (a partitioned table's parts one after the other, in name order):
/// no frame of the whole table exists. `false` when the table does not exist.
fn for_each_slice(
    dir: &Path,
    name: &str,
    columns: Option<&[&str]>,
    mut f: impl FnMut(&DataFrame) -> Result<()>,
) -> Result<bool> {
    let path = dir.join(name);
    match std::fs::metadata(&path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&path, e)),
    }
    let columns: Option<Vec<String>> = columns.map(|c| c.iter().map(|c| c.to_string()).collect());
    let parts = if path.is_dir() {
        let parts = crate::files::table_parts(&path).map_err(|e| Error::io(&path, e))?;
        if parts.is_empty() {
            return Err(Error::Table {
                path,
                message: "a partitioned table without parts (*.parquet)".into(),
            });
        }
        parts
    } else {
        vec![path]
    };
    for p in &parts {
        let open = || std::fs::File::open(p).map_err(|e| Error::io(p, e));
        let mut reader = ParquetReader::new(open()?);
        let n = reader.num_rows().map_err(|e| table_err(p, e))?;
        let metadata = reader.get_metadata().map_err(|e| table_err(p, e))?.clone();
        for offset in (0..n).step_by(ROW_GROUP) {
            let mut reader = ParquetReader::new(open()?);
            reader.set_metadata(metadata.clone());
            let df = reader
                .with_columns(columns.clone())
                .with_slice(Some((offset, ROW_GROUP.min(n - offset))))
                .finish()
                .map_err(|e| table_err(p, e))?;
            f(&df)?;
        }
    }
    Ok(true)
}

/// A table's file, or the parts of a partitioned table (a directory, as the Spark driver
/// writes the large tables) one after the other in name order.
fn read_file_or_parts(path: &Path, columns: Option<Vec<String>>) -> Result<DataFrame> {
    let one = |p: &Path| -> Result<DataFrame> {
        let file = std::fs::File::open(p).map_err(|e| Error::io(p, e))?;
        ParquetReader::new(file)
            .with_columns(columns.clone())
            .finish()
            .map_err(|e| table_err(p, e))
    };
    if !path.is_dir() {
        return one(path);
    }
    let parts = crate::files::table_parts(path).map_err(|e| Error::io(path, e))?;
    let Some((first, rest)) = parts.split_first() else {
        return Err(Error::Table {
            path: path.to_path_buf(),
            message: "a partitioned table without parts (*.parquet)".into(),
        });
    };
    let mut df = one(first)?;
    for p in rest {
        df.vstack_mut(&one(p)?).map_err(|e| table_err(p, e))?;
    }
    df.rechunk_mut();
    Ok(df)
}

/// Typed column access with errors naming the file and column.
struct Reader<'a> {
    df: &'a DataFrame,
    path: PathBuf,
}

impl<'a> Reader<'a> {
    fn new(df: &'a DataFrame, dir: &Path, name: &str) -> Self {
        Reader {
            df,
            path: dir.join(name),
        }
    }

    fn err(&self, col: &str, e: impl std::fmt::Display) -> Error {
        Error::Table {
            path: self.path.clone(),
            message: format!("column {col}: {e}"),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }

    fn column(&self, name: &str) -> Result<&Column> {
        self.df.column(name).map_err(|e| self.err(name, e))
    }

    fn u32(&self, name: &str) -> Result<Vec<u32>> {
        let c = self.column(name)?.u32().map_err(|e| self.err(name, e))?;
        c.iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }

    fn opt_u32(&self, name: &str) -> Result<Vec<Option<u32>>> {
        let c = self.column(name)?.u32().map_err(|e| self.err(name, e))?;
        Ok(c.iter().collect())
    }

    fn u64(&self, name: &str) -> Result<Vec<u64>> {
        let c = self.column(name)?.u64().map_err(|e| self.err(name, e))?;
        c.iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }

    fn f64(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column(name)?.f64().map_err(|e| self.err(name, e))?;
        c.iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }

    fn opt_str(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.column(name)?.str().map_err(|e| self.err(name, e))?;
        Ok(c.iter().map(|v| v.map(str::to_string)).collect())
    }

    fn str(&self, name: &str) -> Result<Vec<String>> {
        self.opt_str(name)?
            .into_iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }

    /// A column of one fixed value set, read through its name table.
    fn named<T: Named>(&self, name: &str) -> Result<Vec<T>> {
        self.opt_named(name)?
            .into_iter()
            .map(|v| v.ok_or_else(|| self.err(name, "unexpected null")))
            .collect()
    }

    /// [`Reader::named`] where nulls are allowed.
    fn opt_named<T: Named>(&self, name: &str) -> Result<Vec<Option<T>>> {
        self.opt_str(name)?
            .into_iter()
            .map(|v| match v {
                None => Ok(None),
                Some(s) => T::parse(&s).map(Some).ok_or_else(|| {
                    self.err(
                        name,
                        format!("unknown value {s:?} (known: {})", T::names().join(", ")),
                    )
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use themata_core::model::PassageStatus;

    #[test]
    fn a_partitioned_table_reads_as_its_parts_in_name_order_and_hashes_by_listing() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta { pipeline: "t" };
        let t = dir.path().join("t.parquet");
        std::fs::create_dir(&t).unwrap();
        // parts named so that name order is not creation order; hidden files are not parts
        let part = |name: &str, ids: Vec<u32>| {
            let n = ids.len();
            write(
                &t,
                name,
                DataFrame::new(n, vec![col("id", ids)]).unwrap(),
                meta,
            )
            .unwrap();
        };
        part("part-00002.parquet", vec![5, 6]);
        part("part-00000.parquet", vec![1, 2, 3]);
        part("part-00001.parquet", vec![4]);
        std::fs::write(t.join(".part-00003.parquet.tmp"), b"half").unwrap();
        let df = read(dir.path(), "t.parquet").unwrap();
        let ids = Reader::new(&df, dir.path(), "t.parquet").u32("id").unwrap();
        assert_eq!(ids, vec![1, 2, 3, 4, 5, 6]);
        let some = read_columns(dir.path(), "t.parquet", &["id"]).unwrap();
        assert_eq!(some.height(), 6);
        // the hash of the listing (NAME HASH lines), as the Spark driver records it
        let mut listing = String::new();
        for p in [
            "part-00000.parquet",
            "part-00001.parquet",
            "part-00002.parquet",
        ] {
            let h = crate::files::file_hash(&t.join(p)).unwrap();
            listing.push_str(&format!("{p} {h}\n"));
        }
        let want = crate::files::content_hash(listing.as_bytes());
        assert_eq!(crate::files::file_hash(&t).unwrap(), want);
        // written as one file again (the CLI's own run), the directory goes
        write(dir.path(), "t.parquet", df, meta).unwrap();
        assert!(t.is_file());
        assert_eq!(read(dir.path(), "t.parquet").unwrap().height(), 6);
        // a directory without parts is an error naming it
        std::fs::create_dir(dir.path().join("e.parquet")).unwrap();
        let e = read(dir.path(), "e.parquet").unwrap_err().to_string();
        assert!(
            e.contains("e.parquet") && e.contains("without parts"),
            "{e}"
        );
    }

    #[test]
    fn a_table_reads_a_row_group_at_a_time_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta { pipeline: "t" };
        let n = 2 * ROW_GROUP + 7;
        write_batched(dir.path(), "t.parquet", n, meta, |range| {
            let ids: Vec<u32> = range.map(|i| i as u32).collect();
            Ok(DataFrame::new(ids.len(), vec![col("id", ids)]).unwrap())
        })
        .unwrap();
        let mut slices = vec![];
        let mut ids = vec![];
        let found = for_each_slice(dir.path(), "t.parquet", Some(&["id"]), |df| {
            slices.push(df.height());
            ids.extend(Reader::new(df, dir.path(), "t.parquet").u32("id")?);
            Ok(())
        })
        .unwrap();
        assert!(found);
        assert_eq!(slices, vec![ROW_GROUP, ROW_GROUP, 7]);
        assert_eq!(ids, (0..n as u32).collect::<Vec<_>>());
        // a partitioned table: its parts in name order
        let t = dir.path().join("p.parquet");
        std::fs::create_dir(&t).unwrap();
        for (name, ids) in [
            ("part-1.parquet", vec![3u32, 4]),
            ("part-0.parquet", vec![1, 2]),
        ] {
            let df = DataFrame::new(2, vec![col("id", ids)]).unwrap();
            write(&t, name, df, meta).unwrap();
        }
        let mut ids = vec![];
        for_each_slice(dir.path(), "p.parquet", None, |df| {
            ids.extend(Reader::new(df, dir.path(), "p.parquet").u32("id")?);
            Ok(())
        })
        .unwrap();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        // a missing table is no error; an error in `f` is passed on
        assert!(!for_each_slice(dir.path(), "none.parquet", None, |_| Ok(())).unwrap());
        let e = for_each_slice(dir.path(), "p.parquet", Some(&["id"]), |df| {
            Reader::new(df, dir.path(), "p.parquet")
                .u32("nope")
                .map(|_| ())
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("p.parquet") && e.contains("nope"), "{e}");
    }

    #[test]
    fn unknown_names_and_corrupt_tables_are_errors_naming_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta { pipeline: "t" };
        let df = DataFrame::new(2, vec![col("status", ["kept", "lost"])]).unwrap();
        write(dir.path(), "t.parquet", df, meta).unwrap();
        let df = read(dir.path(), "t.parquet").unwrap();
        let r = Reader::new(&df, dir.path(), "t.parquet");
        let e = r.named::<PassageStatus>("status").unwrap_err().to_string();
        assert!(
            e.contains("t.parquet") && e.contains("column status") && e.contains("\"lost\""),
            "{e}"
        );
        std::fs::write(dir.path().join("bad.parquet"), b"PAR1 not a table").unwrap();
        let e = read(dir.path(), "bad.parquet").unwrap_err().to_string();
        assert!(e.contains("bad.parquet"), "{e}");
        assert!(read_optional(dir.path(), "bad.parquet").is_err());
        assert!(read_optional(dir.path(), "none.parquet").unwrap().is_none());
    }
}
