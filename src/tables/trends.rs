//! The report's table: `theme_trends.parquet`, themes over time and by group.

use super::{frame, write, Meta, THEME_TRENDS};
use crate::error::Result;
use polars::prelude::*;
use std::path::Path;
use themata_core::trends::TrendRow;

/// Write `theme_trends.parquet` (no rows when the report asks for no view).
pub fn write_theme_trends(dir: &Path, rows: &[TrendRow], meta: Meta) -> Result<()> {
    let df = frame!(THEME_TRENDS, rows, {
        "view" => |x: &TrendRow| x.view,
        "dimension" => |x: &TrendRow| x.dimension.as_str(),
        "bucket" => |x: &TrendRow| x.bucket.as_str(),
        "bucket_start" => |x: &TrendRow| x.bucket_start.as_deref(),
        "cluster" => |x: &TrendRow| x.cluster,
        "theme" => |x: &TrendRow| x.theme.as_str(),
        "passages" => |x: &TrendRow| x.passages,
        "bucket_passages" => |x: &TrendRow| x.bucket_passages,
        "unassigned" => |x: &TrendRow| x.unassigned,
        "share" => |x: &TrendRow| x.share,
        "thin" => |x: &TrendRow| x.thin,
        "top_terms" => |x: &TrendRow| x.top_terms.as_str(),
    })?;
    write(dir, THEME_TRENDS, df, meta)
}
