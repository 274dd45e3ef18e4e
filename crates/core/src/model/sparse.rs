//! The one sparse matrix type: compressed sparse rows.

/// A sparse matrix in CSR form. Term counts, TF-IDF weights and their transposes are all
/// this type: rows are passages (or, transposed, terms), columns terms (or passages).
///
/// Row `r` holds the entries `indptr[r]..indptr[r + 1]` of `cols`, and of `counts` and
/// `values` when the matrix has them (each is either empty or as long as `cols`). Within a
/// row, columns are sorted and distinct.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRows {
    /// The id of each row: the passage id for rows of passages.
    pub row_ids: Vec<u32>,
    /// Start of each row's entries, and the end of the last (`n_rows + 1` values).
    pub indptr: Vec<usize>,
    /// The column (term id) of each entry.
    pub cols: Vec<u32>,
    /// Raw counts of the entries; empty when the matrix has none.
    pub counts: Vec<u32>,
    /// Values (weights) of the entries; empty before weighting.
    pub values: Vec<f64>,
}

impl SparseRows {
    /// A matrix with no rows.
    pub fn empty() -> SparseRows {
        SparseRows {
            indptr: vec![0],
            ..Default::default()
        }
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// Range of row `r`'s entries.
    pub fn span(&self, r: usize) -> std::ops::Range<usize> {
        self.indptr[r]..self.indptr[r + 1]
    }

    /// Columns and values of row `r`.
    pub fn row(&self, r: usize) -> (&[u32], &[f64]) {
        let s = self.span(r);
        (&self.cols[s.clone()], &self.values[s])
    }

    /// Columns and counts of row `r`.
    pub fn row_counts(&self, r: usize) -> (&[u32], &[u32]) {
        let s = self.span(r);
        (&self.cols[s.clone()], &self.counts[s])
    }

    /// Append one row (named `id`) with its columns (sorted, distinct) and, when the matrix
    /// has them, its counts and values (each slice empty or as long as `cols`).
    pub fn push_row(&mut self, id: u32, cols: &[u32], counts: &[u32], values: &[f64]) {
        if self.indptr.is_empty() {
            self.indptr.push(0);
        }
        self.row_ids.push(id);
        self.cols.extend_from_slice(cols);
        self.counts.extend_from_slice(counts);
        self.values.extend_from_slice(values);
        self.indptr.push(self.cols.len());
    }

    /// The rows `rows` (by position) as a matrix of their own.
    pub fn select(&self, rows: &[usize]) -> SparseRows {
        let mut out = SparseRows::empty();
        for &r in rows {
            let s = self.span(r);
            let counts = self.counts.get(s.clone()).unwrap_or_default();
            let values = self.values.get(s.clone()).unwrap_or_default();
            out.push_row(self.row_ids[r], &self.cols[s], counts, values);
        }
        out
    }

    /// Append the rows of `other` after the rows of `self` (same columns).
    pub fn append(&mut self, other: SparseRows) {
        if self.indptr.is_empty() {
            self.indptr.push(0);
        }
        let base = self.nnz();
        self.row_ids.extend(other.row_ids);
        self.indptr
            .extend(other.indptr.iter().skip(1).map(|&p| base + p));
        self.cols.extend(other.cols);
        self.counts.extend(other.counts);
        self.values.extend(other.values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> SparseRows {
        SparseRows {
            row_ids: vec![10, 11, 12],
            indptr: vec![0, 2, 2, 3],
            cols: vec![0, 2, 1],
            counts: vec![1, 2, 3],
            values: vec![0.5, 0.25, 1.0],
        }
    }

    #[test]
    fn rows_and_append() {
        let mut a = m();
        assert_eq!((a.n_rows(), a.nnz()), (3, 3));
        assert_eq!(a.row(0), (&[0u32, 2][..], &[0.5, 0.25][..]));
        assert_eq!(a.row_counts(2), (&[1u32][..], &[3u32][..]));
        assert!(a.row(1).0.is_empty());
        a.append(m());
        assert_eq!(a.n_rows(), 6);
        assert_eq!(a.row(3), m().row(0));
        assert_eq!(a.row_ids[3..], [10, 11, 12]);
        let mut e = SparseRows::empty();
        e.append(m());
        assert_eq!(e, m());
        let (whole, mut b) = (m(), SparseRows::default());
        for r in 0..3 {
            let (cols, counts) = whole.row_counts(r);
            b.push_row(whole.row_ids[r], cols, counts, whole.row(r).1);
        }
        assert_eq!(b, whole);
        let s = m().select(&[2, 0]);
        assert_eq!(s.row_ids, [12, 10]);
        assert_eq!(s.row(1), m().row(0));
        assert_eq!(s.row_counts(0), m().row_counts(2));
    }
}
