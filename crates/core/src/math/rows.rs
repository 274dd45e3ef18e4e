//! Small helpers on dense rows.

use ndarray::{Array2, ArrayView1};

/// Rows per block of a sum over rows done in parallel (partials per block, merged in block
/// order): a function of the row count only, so that sums never depend on the number of
/// threads; at most 64 blocks.
pub fn row_block(n: usize) -> usize {
    n.div_ceil(64).max(1024)
}

/// Scale every row to unit L2 length; zero rows stay zero.
pub fn normalize_rows(a: &mut Array2<f64>) {
    for mut row in a.rows_mut() {
        let n = row.dot(&row).sqrt();
        if n > 0.0 {
            row /= n;
        }
    }
}

/// Index of the largest value (ties: the lowest index).
pub fn argmax(v: ArrayView1<f64>) -> usize {
    let mut top = 0;
    for (c, &x) in v.iter().enumerate() {
        if x > v[top] {
            top = c;
        }
    }
    top
}
