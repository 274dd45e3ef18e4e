//! Chart geometry for summary.html: pure functions from figures to positioned shapes.
//!
//! Nothing here writes SVG text: the template (`templates/summary.html`) turns these shapes
//! into inline `<svg>` elements, so every label goes through the template engine's HTML
//! escaping. Coordinates are in SVG user units (CSS pixels at 100 %), rounded to 0.1.

/// Theme colours (Tableau 10 without its grey), by cluster number, cycling.
pub const PALETTE: [&str; 9] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f",
];

/// Colour of unassigned passages.
pub const UNASSIGNED_COLOR: &str = "#bab0ac";

/// The colour of a cluster (`None`: unassigned).
pub fn color(cluster: Option<u32>) -> &'static str {
    match cluster {
        Some(c) => PALETTE[c as usize % PALETTE.len()],
        None => UNASSIGNED_COLOR,
    }
}

fn px(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    }
}

/// One bar to draw: a label, a length and the text shown after the bar.
#[derive(Debug, Clone, PartialEq)]
pub struct BarItem {
    pub label: String,
    pub value: f64,
    pub value_text: String,
    pub color: &'static str,
}

/// A horizontal bar chart: labels on the left (right-aligned at `label_x`), bars after.
#[derive(Debug, Clone, PartialEq)]
pub struct HBars {
    pub width: f64,
    pub height: f64,
    /// Right edge of the labels.
    pub label_x: f64,
    pub bars: Vec<HBar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HBar {
    /// The label as shown (clipped) and in full (tooltip).
    pub label: String,
    pub full: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// Baseline of the row's text.
    pub text_y: f64,
    pub value_text: String,
    pub value_x: f64,
    pub color: &'static str,
}

const ROW: f64 = 22.0;
const BAR: f64 = 15.0;
/// Room left after the longest bar for its value text.
const VALUE_ROOM: f64 = 64.0;
/// Approximate width of a character of 12 px text (labels are clipped to fit).
const CHAR: f64 = 6.8;

/// Horizontal bars scaled so the largest value fills the plot width.
pub fn hbars(items: &[BarItem], width: f64, label_chars: usize) -> HBars {
    let label_x = (label_chars as f64 * CHAR + 8.0).min(width / 2.0);
    let max = items.iter().map(|b| b.value).fold(0.0, f64::max);
    let plot = (width - label_x - 8.0 - VALUE_ROOM).max(10.0);
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let y = 4.0 + i as f64 * ROW;
            let w = if max > 0.0 {
                (b.value.max(0.0) / max * plot).max(if b.value > 0.0 { 1.0 } else { 0.0 })
            } else {
                0.0
            };
            let x = label_x + 8.0;
            HBar {
                label: clip(&b.label, label_chars),
                full: b.label.clone(),
                x: px(x),
                y: px(y),
                w: px(w),
                h: BAR,
                text_y: px(y + BAR - 3.5),
                value_text: b.value_text.clone(),
                value_x: px(x + w + 5.0),
                color: b.color,
            }
        })
        .collect();
    HBars {
        width,
        height: px(8.0 + items.len() as f64 * ROW),
        label_x: px(label_x),
        bars,
    }
}

/// One stacked bar per row: segments whose lengths are shares of the row's total.
#[derive(Debug, Clone, PartialEq)]
pub struct Stacked {
    pub width: f64,
    pub height: f64,
    pub label_x: f64,
    pub rows: Vec<StackRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackRow {
    pub label: String,
    pub full: String,
    pub y: f64,
    pub h: f64,
    pub text_y: f64,
    pub segments: Vec<Segment>,
    /// Text after the bar (the row's total).
    pub total_text: String,
    pub total_x: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub x: f64,
    pub w: f64,
    pub color: &'static str,
    /// Tooltip: name, count and share.
    pub title: String,
}

/// A row of a stacked-bar chart: its label and `(name, count, colour)` parts.
#[derive(Debug, Clone, PartialEq)]
pub struct StackItem {
    pub label: String,
    pub parts: Vec<(String, u32, &'static str)>,
    pub total_text: String,
}

/// Stacked bars, each as wide as the plot (parts are shares of the row's total); a row
/// whose parts are all zero has no segment.
pub fn stacked(items: &[StackItem], width: f64, label_chars: usize) -> Stacked {
    let label_x = (label_chars as f64 * CHAR + 8.0).min(width / 2.0);
    let x0 = label_x + 8.0;
    let plot = (width - x0 - VALUE_ROOM - 24.0).max(10.0);
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let y = 4.0 + i as f64 * (ROW + 4.0);
            let total: u32 = it.parts.iter().map(|p| p.1).sum();
            let mut x = x0;
            let mut segments = Vec::new();
            for (name, n, color) in &it.parts {
                if *n == 0 || total == 0 {
                    continue;
                }
                let share = *n as f64 / total as f64;
                let w = share * plot;
                segments.push(Segment {
                    x: px(x),
                    w: px(w),
                    color,
                    title: format!("{name}: {n} ({:.0} %)", share * 100.0),
                });
                x += w;
            }
            StackRow {
                label: clip(&it.label, label_chars),
                full: it.label.clone(),
                y: px(y),
                h: ROW - 4.0,
                text_y: px(y + ROW - 8.5),
                segments,
                total_text: it.total_text.clone(),
                total_x: px(x0 + plot + 6.0),
            }
        })
        .collect();
    Stacked {
        width,
        height: px(8.0 + items.len() as f64 * (ROW + 4.0)),
        label_x: px(label_x),
        rows,
    }
}

/// A scatter plot of points, scaled into the plot with equal units on both axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    pub width: f64,
    pub height: f64,
    pub dots: Vec<Dot>,
    /// Position of the axes through the origin (drawn when inside the plot).
    pub origin_x: Option<f64>,
    pub origin_y: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    pub cx: f64,
    pub cy: f64,
    pub color: &'static str,
    pub title: String,
}

/// One point: `(x, y, colour, tooltip)`.
pub type ScatterItem = (f64, f64, &'static str, String);

pub fn scatter(items: &[ScatterItem], width: f64, height: f64) -> Scatter {
    const PAD: f64 = 14.0;
    let (mut x0, mut x1, mut y0, mut y1) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (x, y, ..) in items {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    // equal units: the larger span decides the scale, the other axis is centred
    let span = (x1 - x0).max(y1 - y0).max(1e-9);
    let scale = ((width - 2.0 * PAD) / span).min((height - 2.0 * PAD) / span);
    let off_x = PAD + ((width - 2.0 * PAD) - (x1 - x0) * scale) / 2.0;
    let off_y = PAD + ((height - 2.0 * PAD) - (y1 - y0) * scale) / 2.0;
    let sx = |x: f64| off_x + (x - x0) * scale;
    // SVG's y grows downwards
    let sy = |y: f64| height - (off_y + (y - y0) * scale);
    let dots = items
        .iter()
        .map(|(x, y, color, title)| Dot {
            cx: px(sx(*x)),
            cy: px(sy(*y)),
            color,
            title: title.clone(),
        })
        .collect();
    let inside = |v: f64, lo: f64, hi: f64| (lo..=hi).contains(&v);
    Scatter {
        width,
        height,
        dots,
        origin_x: inside(sx(0.0), 0.0, width).then(|| px(sx(0.0))),
        origin_y: inside(sy(0.0), 0.0, height).then(|| px(sy(0.0))),
    }
}

/// A dendrogram on its side: leaves (themes) as rows on the left, each join drawn further
/// right the less similar what it joins, on an axis of similarity from a little above the
/// most similar join to the least similar one (the root, at the right end).
#[derive(Debug, Clone, PartialEq)]
pub struct Dendrogram {
    pub width: f64,
    pub height: f64,
    /// Right edge of the leaf labels.
    pub label_x: f64,
    pub leaves: Vec<DendroLeaf>,
    pub joins: Vec<DendroJoin>,
    /// The similarity axis under the plot, from `x0` (similarity 1) to `x1`.
    pub axis_y: f64,
    pub x0: f64,
    pub x1: f64,
    pub ticks: Vec<Tick>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DendroLeaf {
    pub label: String,
    /// Tooltip: the theme and its passages.
    pub title: String,
    pub text_y: f64,
    /// The swatch before the line.
    pub y: f64,
    pub x: f64,
    pub color: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DendroJoin {
    /// SVG path data: from the left child to the join, down to the right child.
    pub path: String,
    /// Tooltip: the similarity and what is under the join.
    pub title: String,
    /// Where the join is drawn (its vertical line's middle).
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub x: f64,
    pub label: String,
}

/// A leaf of a dendrogram: its label, passages and colour.
pub type DendroLeafItem = (String, u32, &'static str);

/// One join: `(left, right, similarity, tooltip)`; leaves are `0..leaves.len()`, the join
/// of index `i` is node `leaves.len() + i` (children have lower ids than their join).
pub type DendroJoinItem = (usize, usize, f64, String);

/// The dendrogram of `joins` over `leaves`, `width` wide. Leaves are drawn in the tree's
/// order (left subtree first), so that no lines cross; a join is never drawn left of its
/// children.
pub fn dendrogram(
    leaves: &[DendroLeafItem],
    joins: &[DendroJoinItem],
    width: f64,
    label_chars: usize,
) -> Dendrogram {
    let k = leaves.len();
    let n = k + joins.len();
    // leaf order: from the root (the last join) down, left first
    let mut order = Vec::with_capacity(k);
    let mut stack = vec![n.saturating_sub(1)];
    let mut seen = vec![false; n];
    while let Some(node) = stack.pop() {
        if node >= n || seen[node] {
            continue;
        }
        seen[node] = true;
        if node < k {
            order.push(node);
        } else {
            let (l, r, ..) = joins[node - k];
            if r < node {
                stack.push(r);
            }
            if l < node {
                stack.push(l);
            }
        }
    }
    // leaves under no join (a partial tree) last, in id order
    order.extend((0..k).filter(|&i| !seen[i]));
    let label_x = (label_chars as f64 * CHAR + 8.0).min(width / 2.0);
    let x0 = label_x + 20.0;
    let plot = (width - x0 - 16.0).max(10.0);
    // the axis spans the joins' similarities (and a little more towards 1), so that joins
    // of near similarities are told apart; leaves sit at its left end
    let top = joins.iter().map(|j| j.2).fold(f64::NEG_INFINITY, f64::max);
    let bottom = joins.iter().map(|j| j.2).fold(f64::INFINITY, f64::min);
    let (hi, lo) = if joins.is_empty() {
        (1.0, 0.0)
    } else {
        ((top + (0.25 * (top - bottom)).max(0.01)).min(1.0), bottom)
    };
    let span = (hi - lo).max(1e-9);
    let sx = |sim: f64| x0 + ((hi - sim) / span).clamp(0.0, 1.0) * plot;
    let mut pos = vec![(x0, 0.0); n];
    let mut out_leaves = Vec::with_capacity(k);
    for (row, &leaf) in order.iter().enumerate() {
        let y = 4.0 + row as f64 * ROW + ROW / 2.0;
        pos[leaf] = (x0, y);
        let (name, size, color) = &leaves[leaf];
        out_leaves.push(DendroLeaf {
            label: clip(name, label_chars),
            title: format!("{name}: {size} passages"),
            text_y: px(y + 4.0),
            y: px(y - 5.0),
            x: px(label_x + 6.0),
            color,
        });
    }
    let mut out_joins = Vec::with_capacity(joins.len());
    for (i, (l, r, sim, title)) in joins.iter().enumerate() {
        let node = k + i;
        let (a, b) = (pos[*l.min(&node)], pos[*r.min(&node)]);
        let x = sx(*sim).max(a.0).max(b.0);
        let y = (a.1 + b.1) / 2.0;
        pos[node] = (x, y);
        out_joins.push(DendroJoin {
            path: format!("M{} {}H{}V{}H{}", px(a.0), px(a.1), px(x), px(b.1), px(b.0)),
            title: title.clone(),
            x: px(x),
            y: px(y),
        });
    }
    let axis_y = 8.0 + k as f64 * ROW;
    let ticks = (0..=4)
        .map(|i| {
            let sim = hi - span * i as f64 / 4.0;
            Tick {
                x: px(sx(sim)),
                label: format!("{sim:.3}"),
            }
        })
        .collect();
    Dendrogram {
        width,
        height: px(axis_y + 22.0),
        label_x: px(label_x),
        leaves: out_leaves,
        joins: out_joins,
        axis_y: px(axis_y),
        x0: px(x0),
        x1: px(x0 + plot),
        ticks,
    }
}

/// One theme's line in a chart of shares over time: its points `(x, share, thin, tooltip)`,
/// `x` in any unit (days), in order.
#[derive(Debug, Clone, PartialEq)]
pub struct LineItem {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(f64, f64, bool, String)>,
}

/// Shares over time: one line per theme, x proportional to time, y the share (0 to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Lines {
    pub width: f64,
    pub height: f64,
    /// The plot's left and right edges, top (share 1) and bottom (share 0).
    pub x0: f64,
    pub x1: f64,
    pub top: f64,
    pub bottom: f64,
    /// Horizontal grid lines: y and label (`0 %`, `50 %`, `100 %`).
    pub grid: Vec<(f64, String)>,
    /// Labels under the axis: x and text.
    pub ticks: Vec<(f64, String)>,
    pub series: Vec<LineSeries>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineSeries {
    pub name: String,
    pub color: &'static str,
    /// The polyline's `points` attribute.
    pub path: String,
    pub dots: Vec<LineDot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineDot {
    pub cx: f64,
    pub cy: f64,
    /// A thin slice: drawn hollow.
    pub thin: bool,
    pub title: String,
}

/// Lay out a line chart; `ticks` are `(x, label)` of the buckets (at most about 12 labels
/// are shown, evenly picked, the first and last always).
pub fn lines(items: &[LineItem], ticks: &[(f64, String)], width: f64, height: f64) -> Lines {
    let (x0, x1, top, bottom) = (48.0, width - 16.0, 10.0, height - 26.0);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (x, _) in ticks {
        lo = lo.min(*x);
        hi = hi.max(*x);
    }
    // one bucket alone sits in the middle
    let sx = |x: f64| {
        if hi > lo {
            x0 + (x - lo) / (hi - lo) * (x1 - x0)
        } else {
            (x0 + x1) / 2.0
        }
    };
    let sy = |y: f64| bottom - y.clamp(0.0, 1.0) * (bottom - top);
    let every = ticks.len().div_ceil(12).max(1);
    let shown = ticks
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || *i + 1 == ticks.len())
        .map(|(_, (x, l))| (px(sx(*x)), l.clone()))
        .collect();
    let series = items
        .iter()
        .map(|it| {
            let dots: Vec<LineDot> = it
                .points
                .iter()
                .map(|(x, y, thin, title)| LineDot {
                    cx: px(sx(*x)),
                    cy: px(sy(*y)),
                    thin: *thin,
                    title: title.clone(),
                })
                .collect();
            let path = dots
                .iter()
                .map(|d| format!("{},{}", d.cx, d.cy))
                .collect::<Vec<_>>()
                .join(" ");
            LineSeries {
                name: it.name.clone(),
                color: it.color,
                path,
                dots,
            }
        })
        .collect();
    Lines {
        width,
        height,
        x0,
        x1,
        top,
        bottom,
        grid: [0.0, 0.5, 1.0]
            .iter()
            .map(|v| (px(sy(*v)), format!("{:.0} %", v * 100.0)))
            .collect(),
        ticks: shown,
        series,
    }
}

/// A small chart of one theme's share per bucket: one column per bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub width: f64,
    pub height: f64,
    /// The baseline (share 0) and the top (share 1).
    pub base: f64,
    pub top: f64,
    pub bars: Vec<ColumnBar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnBar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// A thin slice: drawn pale with a dashed outline.
    pub thin: bool,
    pub title: String,
    /// The bucket's label under the column (only the first and last, and all of a few).
    pub label: Option<String>,
    pub label_x: f64,
}

/// Lay out columns for `(label, share, thin, tooltip)` items.
pub fn columns(items: &[(String, f64, bool, String)], width: f64, height: f64) -> Columns {
    let (x0, x1, top, base) = (4.0, width - 4.0, 6.0, height - 18.0);
    let n = items.len().max(1) as f64;
    let slot = (x1 - x0) / n;
    let w = (slot * 0.7).max(1.0);
    let few = items.len() <= 6;
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, (label, share, thin, title))| {
            let h = share.clamp(0.0, 1.0) * (base - top);
            let x = x0 + i as f64 * slot + (slot - w) / 2.0;
            let labelled = few || i == 0 || i + 1 == items.len();
            ColumnBar {
                x: px(x),
                y: px(base - h),
                w: px(w),
                h: px(h),
                thin: *thin,
                title: title.clone(),
                label: labelled.then(|| clip(label, (slot / CHAR).max(4.0) as usize + 6)),
                label_x: px(x + w / 2.0),
            }
        })
        .collect();
    Columns {
        width,
        height,
        base: px(base),
        top: px(top),
        bars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(label: &str, value: f64) -> BarItem {
        BarItem {
            label: label.into(),
            value,
            value_text: value.to_string(),
            color: "#000",
        }
    }

    #[test]
    fn bars_are_proportional_and_the_largest_fills_the_plot() {
        let c = hbars(
            &[item("a", 10.0), item("b", 5.0), item("c", 0.0)],
            400.0,
            10,
        );
        let (a, b, z) = (&c.bars[0], &c.bars[1], &c.bars[2]);
        assert_eq!(a.x, b.x);
        assert!((a.w - 2.0 * b.w).abs() <= 0.1, "{} vs {}", a.w, b.w);
        assert_eq!(z.w, 0.0);
        assert!(a.value_x + VALUE_ROOM - 5.0 <= c.width + 0.1);
        assert!(a.y < b.y && b.y < z.y && z.y + z.h <= c.height);
    }

    #[test]
    fn long_labels_are_clipped_with_the_full_text_kept() {
        let c = hbars(&[item("a very long label indeed", 1.0)], 400.0, 8);
        assert_eq!(c.bars[0].label, "a very …");
        assert_eq!(c.bars[0].full, "a very long label indeed");
        assert_eq!(clip("short", 8), "short");
    }

    #[test]
    fn stacked_segments_fill_the_row_in_order() {
        let s = stacked(
            &[
                StackItem {
                    label: "doc".into(),
                    parts: vec![
                        ("x".into(), 3, "#1"),
                        ("y".into(), 0, "#2"),
                        ("z".into(), 1, "#3"),
                    ],
                    total_text: "4".into(),
                },
                StackItem {
                    label: "empty".into(),
                    parts: vec![("x".into(), 0, "#1")],
                    total_text: "0".into(),
                },
            ],
            500.0,
            10,
        );
        let seg = &s.rows[0].segments;
        assert_eq!(seg.len(), 2, "zero parts draw nothing");
        assert!((seg[0].w - 3.0 * seg[1].w).abs() <= 0.2);
        assert!((seg[0].x + seg[0].w - seg[1].x).abs() <= 0.1);
        assert_eq!(seg[0].title, "x: 3 (75 %)");
        assert!(s.rows[1].segments.is_empty());
    }

    #[test]
    fn scatter_keeps_points_inside_and_axes_equal() {
        let pts = vec![
            (-1.0, 0.0, "#1", "a".to_string()),
            (1.0, 0.5, "#2", "b".to_string()),
            (0.0, -0.5, "#3", "c".to_string()),
        ];
        let s = scatter(&pts, 400.0, 300.0);
        for d in &s.dots {
            assert!(d.cx >= 0.0 && d.cx <= 400.0 && d.cy >= 0.0 && d.cy <= 300.0);
        }
        // x span 2 and y span 1 drawn at the same scale
        let dx = s.dots[1].cx - s.dots[0].cx;
        let dy = s.dots[2].cy - s.dots[1].cy;
        assert!((dx - 2.0 * dy).abs() < 0.5, "{dx} {dy}");
        // higher y is drawn higher up
        assert!(s.dots[1].cy < s.dots[2].cy);
        assert!(s.origin_x.is_some() && s.origin_y.is_some());
        assert!(scatter(&[], 100.0, 100.0).dots.is_empty());
    }

    #[test]
    fn dendrogram_draws_leaves_in_tree_order_and_joins_by_distance() {
        let leaves: Vec<DendroLeafItem> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| (n.to_string(), 5, "#000"))
            .collect();
        // (0, 2) at 0.9, (1, 3) at 0.8, then the two pairs at 0.2
        let joins: Vec<DendroJoinItem> = vec![
            (0, 2, 0.9, "j0".into()),
            (1, 3, 0.8, "j1".into()),
            (4, 5, 0.2, "root".into()),
        ];
        let d = dendrogram(&leaves, &joins, 500.0, 10);
        let order: Vec<&str> = d.leaves.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            order,
            ["a", "c", "b", "d"],
            "joined leaves sit side by side"
        );
        assert_eq!(d.joins.len(), 3);
        // more similar joins are nearer the leaves; the root is at the right end
        assert!(d.joins[0].x < d.joins[1].x && d.joins[1].x < d.joins[2].x);
        assert!((d.joins[2].x - (d.width - 16.0)).abs() <= 0.1);
        // a join sits between its children
        assert!(d.joins[0].y > d.leaves[0].y && d.joins[0].y < d.leaves[1].text_y);
        assert!(d.joins[2].path.starts_with('M'));
        assert_eq!(d.ticks.first().unwrap().label, "1.000");
        assert_eq!(d.ticks.last().unwrap().label, "0.200");
        assert_eq!(d.ticks.last().unwrap().x, d.joins[2].x);
        // near similarities are spread over the plot, not squeezed at its end
        let close: Vec<DendroJoinItem> = vec![
            (0, 2, 0.14, "j0".into()),
            (1, 3, 0.13, "j1".into()),
            (4, 5, 0.11, "root".into()),
        ];
        let z = dendrogram(&leaves, &close, 500.0, 10);
        assert!(
            z.joins[1].x - z.joins[0].x > 0.2 * (z.x1 - z.x0),
            "{:?}",
            z.joins
        );
        assert!(z.joins[0].x > z.x0);
        assert!(d
            .leaves
            .iter()
            .all(|l| l.text_y < d.axis_y && d.axis_y < d.height));
        // one theme: a leaf and no join
        let one = dendrogram(&leaves[..1], &[], 300.0, 10);
        assert_eq!((one.leaves.len(), one.joins.len()), (1, 0));
    }

    #[test]
    fn colours_cycle_and_unassigned_is_grey() {
        assert_eq!(color(Some(0)), color(Some(PALETTE.len() as u32)));
        assert_ne!(color(Some(0)), color(Some(1)));
        assert_eq!(color(None), UNASSIGNED_COLOR);
    }

    #[test]
    fn lines_place_time_proportionally_and_keep_thin_points() {
        let it = LineItem {
            name: "a".into(),
            color: "#1",
            points: vec![
                (0.0, 0.0, false, "p0".into()),
                (10.0, 1.0, true, "p1".into()),
                (40.0, 0.5, false, "p2".into()),
            ],
        };
        let ticks: Vec<(f64, String)> = [0.0, 10.0, 40.0]
            .iter()
            .map(|x| (*x, x.to_string()))
            .collect();
        let l = lines(&[it], &ticks, 600.0, 200.0);
        let d = &l.series[0].dots;
        assert_eq!(d[0].cx, l.x0);
        assert_eq!(d[2].cx, l.x1);
        // 10 of 40 days: a quarter of the way
        assert!((d[1].cx - (l.x0 + (l.x1 - l.x0) / 4.0)).abs() <= 0.1);
        assert_eq!((d[0].cy, d[1].cy), (l.bottom, l.top));
        assert!(d[1].thin && !d[0].thin);
        assert_eq!(l.series[0].path.split(' ').count(), 3);
        assert_eq!(l.ticks.len(), 3);
        // a single bucket sits in the middle
        let one = lines(&[], &[(5.0, "x".into())], 600.0, 200.0);
        assert_eq!(one.ticks[0].0, px((one.x0 + one.x1) / 2.0));
    }

    #[test]
    fn columns_are_as_tall_as_their_shares() {
        let items: Vec<(String, f64, bool, String)> = vec![
            ("2019".into(), 1.0, false, "a".into()),
            ("2025".into(), 0.25, true, "b".into()),
        ];
        let c = columns(&items, 200.0, 100.0);
        assert!((c.bars[0].h - 4.0 * c.bars[1].h).abs() <= 0.2);
        assert_eq!(c.bars[0].y, c.top);
        assert!((c.bars[1].y + c.bars[1].h - c.base).abs() <= 0.1);
        assert!(c.bars[1].thin && c.bars.iter().all(|b| b.label.is_some()));
        let many: Vec<_> = (0..20)
            .map(|i| (i.to_string(), 0.5, false, String::new()))
            .collect();
        let c = columns(&many, 200.0, 100.0);
        let labelled: Vec<usize> = (0..20).filter(|i| c.bars[*i].label.is_some()).collect();
        assert_eq!(labelled, [0, 19]);
    }
}
