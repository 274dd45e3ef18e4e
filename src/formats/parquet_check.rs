//! A structural check of an untrusted Parquet file before polars decodes it.
//!
//! polars' reader sizes buffers from counts in the file — a Thrift list's length in the
//! footer, a page's value count — before it has seen the data, and a corrupt count makes it
//! ask for tens of gigabytes: an allocation failure, which aborts the process and cannot be
//! caught (found by the parquet fuzz target; fixtures in `tests/fixtures/fuzz/`). This module
//! walks the footer and the page headers of the columns to be read with its own Thrift
//! compact-protocol reader, which allocates nothing from counts, and refuses a file whose
//! counts the bytes present cannot back:
//!
//! - every Thrift list, set, map and binary in the footer and the page headers fits in the
//!   bytes left (each element takes at least one byte), nesting at most [`MAX_DEPTH`];
//! - each column chunk lies inside the file, and its pages, header by header, inside the
//!   chunk; a page's sizes are non-negative and at most [`MAX_PAGE_BYTES`] uncompressed;
//! - row and value counts (the file's, each row group's, each page's) are non-negative and
//!   at most [`MAX_VALUES_PER_BYTE`] per byte of the file (plus a small allowance): records
//!   carry text, so a file claiming more is corrupt, and no buffer is sized beyond that.
//!
//! The Thrift crate's reader is not used: it allocates a binary field's claimed length
//! before reading it, which is the very failure this check exists to avoid.

/// Deepest nesting of Thrift structs and containers accepted (Parquet's own is under 10).
const MAX_DEPTH: usize = 32;
/// Largest uncompressed page accepted (polars writes 1 MiB pages; other writers up to a few).
pub const MAX_PAGE_BYTES: i64 = 1 << 30;
/// Rows or values per byte of the file accepted, beyond [`VALUE_ALLOWANCE`].
pub const MAX_VALUES_PER_BYTE: i64 = 64;
/// Rows or values accepted whatever the file's size (16.7 M: a few hundred MB of buffers at
/// most, so that small files of nulls or repeats, which encode many rows in few bytes, pass).
const VALUE_ALLOWANCE: i64 = 1 << 24;

const MAGIC: &[u8] = b"PAR1";

/// What is wrong with the file (a sentence for an error message).
pub type Problem = String;

/// Thrift compact-protocol types.
mod ty {
    pub const BOOL_TRUE: u8 = 1;
    pub const BOOL_FALSE: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const I16: u8 = 4;
    pub const I32: u8 = 5;
    pub const I64: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const BINARY: u8 = 8;
    pub const LIST: u8 = 9;
    pub const SET: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;
    pub const UUID: u8 = 13;
}

/// A reader of Thrift compact-protocol values over a byte slice.
struct Thrift<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

type R<T> = Result<T, Problem>;

fn cut() -> Problem {
    "a Thrift value runs past the end of its bytes".into()
}

impl<'a> Thrift<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Thrift {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn byte(&mut self) -> R<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(cut)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.left() {
            return Err(cut());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn varint(&mut self) -> R<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err("a Thrift integer overflows 64 bits".into());
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a Thrift integer overflows 64 bits".into())
    }

    fn zigzag(&mut self) -> R<i64> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// A length or count that the bytes left must back, `min_bytes` bytes per item.
    fn count(&mut self, n: u64, min_bytes: usize) -> R<usize> {
        let n = usize::try_from(n).map_err(|_| "a Thrift count is too large".to_string())?;
        if n.saturating_mul(min_bytes) > self.left() {
            return Err(format!(
                "a Thrift list or string claims {n} items with {} bytes left",
                self.left()
            ));
        }
        Ok(n)
    }

    /// The next field of a struct: `None` at its end.
    fn field(&mut self, last: &mut i16) -> R<Option<(i16, u8)>> {
        let b = self.byte()?;
        if b == 0 {
            return Ok(None);
        }
        let (delta, t) = (b >> 4, b & 0x0f);
        let id = if delta == 0 {
            i16::try_from(self.zigzag()?).map_err(|_| "a Thrift field id is out of range")?
        } else {
            last.checked_add(i16::from(delta))
                .ok_or("a Thrift field id is out of range")?
        };
        *last = id;
        Ok(Some((id, t)))
    }

    /// A list or set header: element type and count.
    fn list(&mut self) -> R<(u8, usize)> {
        let b = self.byte()?;
        let (n, t) = (b >> 4, b & 0x0f);
        let n = if n == 15 {
            self.varint()?
        } else {
            u64::from(n)
        };
        Ok((t, self.count(n, 1)?))
    }

    /// An integer of type `t` (byte, i16, i32 or i64).
    fn int(&mut self, t: u8) -> R<i64> {
        match t {
            ty::BYTE => Ok(i64::from(self.byte()? as i8)),
            ty::I16 | ty::I32 | ty::I64 => self.zigzag(),
            _ => Err(format!("a Thrift integer field has type {t}")),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("Thrift values nest too deep".into());
        }
        Ok(())
    }

    /// Skip a value of type `t` (in a list: `in_list`, where booleans take a byte).
    fn skip(&mut self, t: u8, in_list: bool) -> R<()> {
        match t {
            ty::BOOL_TRUE | ty::BOOL_FALSE if !in_list => Ok(()),
            ty::BOOL_TRUE | ty::BOOL_FALSE | ty::BYTE => self.byte().map(|_| ()),
            ty::I16 | ty::I32 | ty::I64 => self.varint().map(|_| ()),
            ty::DOUBLE => self.take(8).map(|_| ()),
            ty::UUID => self.take(16).map(|_| ()),
            ty::BINARY => {
                let n = self.varint()?;
                let n = self.count(n, 1)?;
                self.take(n).map(|_| ())
            }
            ty::LIST | ty::SET => {
                self.enter()?;
                let (et, n) = self.list()?;
                for _ in 0..n {
                    self.skip(et, true)?;
                }
                self.depth -= 1;
                Ok(())
            }
            ty::MAP => {
                self.enter()?;
                let n = self.varint()?;
                let n = self.count(n, 2)?;
                if n > 0 {
                    let kv = self.byte()?;
                    for _ in 0..n {
                        self.skip(kv >> 4, true)?;
                        self.skip(kv & 0x0f, true)?;
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            ty::STRUCT => self.strukt(|_, _, r| Ok(r.skip_field())),
            _ => Err(format!("an unknown Thrift type {t}")),
        }
    }

    /// Walk a struct: `on(id, type, self)` reads the fields it wants and returns `true` for
    /// those it leaves to be skipped.
    fn strukt(&mut self, mut on: impl FnMut(i16, u8, &mut Self) -> R<bool>) -> R<()> {
        self.enter()?;
        let mut last = 0i16;
        while let Some((id, t)) = self.field(&mut last)? {
            if on(id, t, self)? {
                self.skip(t, false)?;
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// In [`Thrift::strukt`]'s callback: "skip this field".
    fn skip_field(&self) -> bool {
        true
    }

    /// A list of structs, each read by `one`.
    fn structs(&mut self, t: u8, mut one: impl FnMut(&mut Self) -> R<()>) -> R<()> {
        if t != ty::LIST {
            return Err(format!("a Parquet list field has Thrift type {t}"));
        }
        self.enter()?;
        let (et, n) = self.list()?;
        for _ in 0..n {
            if et == ty::STRUCT {
                one(self)?;
            } else {
                self.skip(et, true)?;
            }
        }
        self.depth -= 1;
        Ok(())
    }
}

/// A column chunk as the check needs it.
#[derive(Debug, Default)]
struct Chunk {
    /// The top-level column it belongs to (`path_in_schema[0]`).
    column: String,
    num_values: i64,
    total_compressed_size: i64,
    data_page_offset: i64,
    dictionary_page_offset: Option<i64>,
}

#[derive(Debug, Default)]
struct RowGroup {
    num_rows: i64,
    chunks: Vec<Chunk>,
}

fn column_meta(r: &mut Thrift, c: &mut Chunk) -> R<()> {
    r.strukt(|id, t, r| {
        match id {
            3 => {
                // path_in_schema: list<string>; the first is the top-level column
                r.enter()?;
                let (et, n) = r.list()?;
                for i in 0..n {
                    if et == ty::BINARY && i == 0 {
                        let len = r.varint()?;
                        let len = r.count(len, 1)?;
                        c.column = String::from_utf8_lossy(r.take(len)?).into_owned();
                    } else {
                        r.skip(et, true)?;
                    }
                }
                r.depth -= 1;
            }
            5 => c.num_values = r.int(t)?,
            7 => c.total_compressed_size = r.int(t)?,
            9 => c.data_page_offset = r.int(t)?,
            11 => c.dictionary_page_offset = Some(r.int(t)?),
            _ => return Ok(true),
        }
        Ok(false)
    })
}

/// The footer's row groups and the file's row count; every value of the footer is walked.
fn file_metadata(footer: &[u8]) -> R<(i64, Vec<RowGroup>)> {
    let mut r = Thrift::new(footer);
    let mut num_rows = 0;
    let mut groups = Vec::new();
    r.strukt(|id, t, r| {
        match id {
            3 => num_rows = r.int(t)?,
            4 => r.structs(t, |r| {
                let mut g = RowGroup::default();
                r.strukt(|id, t, r| {
                    match id {
                        1 => r.structs(t, |r| {
                            let mut c = Chunk::default();
                            r.strukt(|id, t, r| {
                                if id == 3 && t == ty::STRUCT {
                                    column_meta(r, &mut c)?;
                                    return Ok(false);
                                }
                                Ok(true)
                            })?;
                            g.chunks.push(c);
                            Ok(())
                        })?,
                        3 => g.num_rows = r.int(t)?,
                        _ => return Ok(true),
                    }
                    Ok(false)
                })?;
                groups.push(g);
                Ok(())
            })?,
            _ => return Ok(true),
        }
        Ok(false)
    })?;
    Ok((num_rows, groups))
}

/// A page header: its sizes and value count, and where its data starts.
#[derive(Debug, Default)]
struct Page {
    uncompressed: i64,
    compressed: i64,
    num_values: i64,
    header_len: usize,
}

fn page_header(bytes: &[u8]) -> R<Page> {
    let mut r = Thrift::new(bytes);
    let mut p = Page::default();
    r.strukt(|id, t, r| {
        match id {
            2 => p.uncompressed = r.int(t)?,
            3 => p.compressed = r.int(t)?,
            // data page, dictionary page, data page v2: num_values is their field 1; v2's
            // num_nulls (2) and num_rows (3), and its level lengths (5, 6), are checked too
            5 | 7 | 8 if t == ty::STRUCT => r.strukt(|inner, t, r| {
                match (inner, t) {
                    (1, ty::I32) => p.num_values = r.int(t)?,
                    (2 | 3 | 5 | 6, ty::I32) if id == 8 => {
                        let v = r.int(t)?;
                        if v < 0 {
                            return Err(format!("a page header has a negative count ({v})"));
                        }
                    }
                    _ => return Ok(true),
                }
                Ok(false)
            })?,
            _ => return Ok(true),
        }
        Ok(false)
    })?;
    p.header_len = r.pos;
    Ok(p)
}

/// Check `bytes`, a whole Parquet file of which the top-level columns `columns` are to be
/// read (all of them when empty).
pub fn check(bytes: &[u8], columns: &[&str]) -> Result<(), Problem> {
    let n = bytes.len();
    if n < 12 || &bytes[..4] != MAGIC || &bytes[n - 4..] != MAGIC {
        return Err("not a Parquet file (no PAR1 at its start and end)".into());
    }
    let footer_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().expect("4 bytes")) as usize;
    if footer_len > n - 12 {
        return Err(format!(
            "its footer claims {footer_len} bytes, more than the file holds"
        ));
    }
    let data_end = n - 8 - footer_len;
    let footer = &bytes[data_end..n - 8];
    let (num_rows, groups) =
        file_metadata(footer).map_err(|e| format!("its footer is corrupt: {e}"))?;
    let limit = MAX_VALUES_PER_BYTE.saturating_mul(n as i64) + VALUE_ALLOWANCE;
    let plausible = |what: &str, v: i64| -> R<()> {
        if !(0..=limit).contains(&v) {
            return Err(format!(
                "{what} is {v}: not a count this file's {n} bytes can hold (at most {limit})"
            ));
        }
        Ok(())
    };
    plausible("its row count", num_rows)?;
    let mut rows = 0i64;
    for (g, group) in groups.iter().enumerate() {
        plausible(&format!("row group {g}'s row count"), group.num_rows)?;
        rows = rows.saturating_add(group.num_rows);
        for c in &group.chunks {
            if !columns.is_empty() && !columns.contains(&c.column.as_str()) {
                continue;
            }
            chunk(bytes, data_end, c, group.num_rows, limit)
                .map_err(|e| format!("column {:?}, row group {g}: {e}", c.column))?;
        }
    }
    plausible("its row groups' rows", rows)?;
    Ok(())
}

/// Check one column chunk: inside the data, and its pages inside it.
fn chunk(bytes: &[u8], data_end: usize, c: &Chunk, rows: i64, limit: i64) -> R<()> {
    let start = match c.dictionary_page_offset {
        Some(d) if d > 0 && d < c.data_page_offset => d,
        _ => c.data_page_offset,
    };
    let end = start.checked_add(c.total_compressed_size);
    let (start, end) = match end {
        Some(end) if start >= 4 && c.total_compressed_size >= 0 && end <= data_end as i64 => {
            (start as usize, end as usize)
        }
        _ => {
            return Err(format!(
                "its chunk ({} bytes from offset {start}) is not inside the file's data",
                c.total_compressed_size
            ))
        }
    };
    if !(0..=limit).contains(&c.num_values) {
        return Err(format!("its value count {} is not plausible", c.num_values));
    }
    let mut pos = start;
    let mut values = 0i64;
    while pos < end {
        let p =
            page_header(&bytes[pos..end]).map_err(|e| format!("a page header is corrupt: {e}"))?;
        if p.compressed < 0 || p.compressed as usize > end - pos - p.header_len {
            return Err(format!(
                "a page claims {} bytes with {} left in its chunk",
                p.compressed,
                end - pos - p.header_len
            ));
        }
        if !(0..=MAX_PAGE_BYTES).contains(&p.uncompressed) {
            return Err(format!(
                "a page claims {} bytes uncompressed (at most {MAX_PAGE_BYTES} accepted)",
                p.uncompressed
            ));
        }
        if !(0..=limit).contains(&p.num_values) {
            return Err(format!("a page claims {} values", p.num_values));
        }
        values = values.saturating_add(p.num_values);
        pos += p.header_len + p.compressed as usize;
    }
    if values > limit || rows > values.max(c.num_values) {
        return Err(format!("its pages hold {values} values for {rows} rows"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn parquet(df: &mut DataFrame) -> Vec<u8> {
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf).finish(df).unwrap();
        buf
    }

    fn sample() -> Vec<u8> {
        let texts: Vec<String> = (0..5000).map(|i| format!("passage number {i}")).collect();
        let ids: Vec<u32> = (0..5000).collect();
        let mut df = df!("text" => texts, "id" => ids).unwrap();
        parquet(&mut df)
    }

    #[test]
    fn files_polars_writes_pass() {
        let bytes = sample();
        check(&bytes, &[]).unwrap();
        check(&bytes, &["text"]).unwrap();
        let mut empty = df!("text" => Vec::<String>::new()).unwrap();
        check(&parquet(&mut empty), &["text"]).unwrap();
        let nulls: Vec<Option<&str>> = vec![None; 100_000];
        let mut df = df!("text" => nulls).unwrap();
        check(&parquet(&mut df), &["text"]).unwrap();
    }

    #[test]
    fn the_fuzz_fixtures_are_refused() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
        let e = check(
            &std::fs::read(dir.join("parquet-metadata-alloc-abort.parquet")).unwrap(),
            &[],
        )
        .unwrap_err();
        assert!(e.starts_with("its footer is corrupt"), "{e}");
        for f in [
            "parquet-alloc-abort.parquet",
            "parquet-reader-panic.parquet",
        ] {
            let bytes = std::fs::read(dir.join(f)).unwrap();
            // (either refused, or structurally sound: polars' reader then fails cleanly)
            let _ = check(&bytes, &[]);
        }
    }

    #[test]
    fn counts_the_bytes_cannot_back_are_refused() {
        let good = sample();
        // every single-byte change of the footer and of the first page header: refused, or
        // accepted with counts the file can back (never a panic)
        let n = good.len();
        let footer_len = u32::from_le_bytes(good[n - 8..n - 4].try_into().unwrap()) as usize;
        for i in (n - 8 - footer_len..n - 8).chain(4..64) {
            for v in [0u8, 0x0f, 0x7f, 0xff, 0x19, 0xf9] {
                let mut b = good.clone();
                b[i] = v;
                let _ = check(&b, &[]);
            }
        }
        // a truncated file
        assert!(check(&good[..n - 1], &[]).is_err());
        assert!(check(b"PAR1PAR1", &[]).is_err());
        // a footer length past the file
        let mut b = good.clone();
        b[n - 8..n - 4].copy_from_slice(&(n as u32).to_le_bytes());
        assert!(check(&b, &[]).unwrap_err().contains("footer claims"));
    }

    #[test]
    fn thrift_lists_longer_than_their_bytes_are_refused() {
        // a struct whose field 1 is a list of 2^20 i32s, with 3 bytes left
        let buf = [0x19, 0xf5, 0x80, 0x80, 0x40, 1, 2, 3];
        let mut r = Thrift::new(&buf);
        let e = r.skip(ty::STRUCT, false).unwrap_err();
        assert!(e.contains("claims 1048576 items"), "{e}");
        // nesting past MAX_DEPTH
        let deep = vec![0x1c; 100];
        assert!(Thrift::new(&deep)
            .skip(ty::STRUCT, false)
            .unwrap_err()
            .contains("nest too deep"));
    }
}
