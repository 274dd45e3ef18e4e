//! The cluster stage's tables: assignments, clusters, their top terms and the seed words.

use super::{
    for_each_slice, frame, read, read_optional, write, write_batched, Meta, Reader, ASSIGNMENTS,
    CLUSTERS, CLUSTER_TERMS, EXPLANATIONS, THEME_HIERARCHY, THEME_SEEDS,
};
use crate::error::Result;
use polars::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;
use themata_core::model::{
    Assignment, ClusterInfo, ClusterTerm, Clustering, ExplainSpace, Explanation, HierarchyNode,
    Named, Role, SeedStatus, Vocabulary,
};

/// Write `assignments.parquet`, `clusters.parquet`, `cluster_terms.parquet`,
/// `theme_seeds.parquet` and `theme_hierarchy.parquet`.
pub fn write_clustering(dir: &Path, c: &Clustering, meta: Meta) -> Result<()> {
    write_assignments(dir, &c.assignments, meta)?;
    write_clusters(dir, &c.clusters, meta)?;
    let df = frame!(CLUSTER_TERMS, &c.terms, {
        "cluster" => |x: &ClusterTerm| x.cluster,
        "measure" => |x: &ClusterTerm| x.measure.name(),
        "rank" => |x: &ClusterTerm| x.rank,
        "term_id" => |x: &ClusterTerm| x.term_id,
        "term" => |x: &ClusterTerm| x.term.as_str(),
        "label" => |x: &ClusterTerm| x.label.as_str(),
        "weight" => |x: &ClusterTerm| x.weight,
    })?;
    write(dir, CLUSTER_TERMS, df, meta)?;
    let df = frame!(THEME_SEEDS, &c.seeds, {
        "theme" => |x: &SeedStatus| x.theme.as_str(),
        "seed" => |x: &SeedStatus| x.seed.as_str(),
        "terms" => |x: &SeedStatus| x.terms.as_str(),
        "label" => |x: &SeedStatus| x.label.as_str(),
        "df" => |x: &SeedStatus| x.df,
        "status" => |x: &SeedStatus| x.status.name(),
    })?;
    write(dir, THEME_SEEDS, df, meta)?;
    let df = frame!(THEME_HIERARCHY, &c.hierarchy, {
        "node" => |x: &HierarchyNode| x.node,
        "left" => |x: &HierarchyNode| x.left,
        "right" => |x: &HierarchyNode| x.right,
        "similarity" => |x: &HierarchyNode| x.similarity,
        "themes" => |x: &HierarchyNode| x.themes,
        "passages" => |x: &HierarchyNode| x.passages,
        "members" => |x: &HierarchyNode| x.members.as_str(),
    })?;
    write(dir, THEME_HIERARCHY, df, meta)
}

/// Write `clusters.parquet`.
pub fn write_clusters(dir: &Path, clusters: &[ClusterInfo], meta: Meta) -> Result<()> {
    let df = frame!(CLUSTERS, clusters, {
        "cluster" => |x: &ClusterInfo| x.cluster,
        "theme" => |x: &ClusterInfo| x.theme.as_str(),
        "size" => |x: &ClusterInfo| x.size,
        "top_terms" => |x: &ClusterInfo| x.top_terms.as_str(),
    })?;
    write(dir, CLUSTERS, df, meta)
}

/// Write `assignments.parquet`.
pub fn write_assignments(dir: &Path, assignments: &[Assignment], meta: Meta) -> Result<()> {
    let df = frame!(ASSIGNMENTS, assignments, {
        "passage_id" => |x: &Assignment| x.passage_id,
        "cluster" => |x: &Assignment| x.cluster,
        "theme" => |x: &Assignment| x.theme.as_str(),
        "similarity" => |x: &Assignment| x.similarity,
        "margin" => |x: &Assignment| x.margin,
        "status" => |x: &Assignment| x.status.name(),
    })?;
    write(dir, ASSIGNMENTS, df, meta)
}

/// Write `explanations.parquet`: each explanation with its cluster's theme (from
/// `clusters`), its term's label (from `vocab`) and the space the contributions are in (a
/// row group at a time).
pub fn write_explanations(
    dir: &Path,
    explanations: &[Explanation],
    clusters: &[ClusterInfo],
    vocab: &Vocabulary,
    space: ExplainSpace,
    meta: Meta,
) -> Result<()> {
    let theme = |k: u32| {
        clusters
            .iter()
            .find(|c| c.cluster == k)
            .map_or("", |c| c.theme.as_str())
    };
    let label = |t: u32| vocab.terms.get(t as usize).map_or("", |x| x.label.as_str());
    write_batched(dir, EXPLANATIONS, explanations.len(), meta, |range| {
        frame!(EXPLANATIONS, &explanations[range], {
            "passage_id" => |x: &Explanation| x.passage_id,
            "role" => |x: &Explanation| x.role.name(),
            "cluster" => |x: &Explanation| x.cluster,
            "theme" => |x: &Explanation| theme(x.cluster),
            "similarity" => |x: &Explanation| x.similarity,
            "rank" => |x: &Explanation| x.rank,
            "term_id" => |x: &Explanation| x.term_id,
            "label" => |x: &Explanation| label(x.term_id),
            "weight" => |x: &Explanation| x.weight,
            "contribution" => |x: &Explanation| x.contribution,
            "space" => |_: &Explanation| space.name(),
        })
    })
}

/// A run's explanations as `explain` and the report read them: each with its theme and
/// its term's label.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplanationRow {
    /// The explanation.
    pub explanation: Explanation,
    /// The cluster's theme.
    pub theme: String,
    /// The term's label.
    pub label: String,
    /// The space its contribution is in.
    pub space: ExplainSpace,
}

/// Read `explanations.parquet` back; `None` when the run has none (a run of an earlier
/// version).
pub fn read_explanations(dir: &Path) -> Result<Option<Vec<ExplanationRow>>> {
    read_explanations_of(dir, |_| true)
}

/// The rows of `explanations.parquet` of the passages `keep` accepts, read a row group at a
/// time (a run of a million passages has 20 million rows: only the kept ones are held);
/// `None` when the run has none.
pub fn read_explanations_of(
    dir: &Path,
    keep: impl Fn(u32) -> bool,
) -> Result<Option<Vec<ExplanationRow>>> {
    let mut out = Vec::new();
    let found = for_each_slice(dir, EXPLANATIONS, None, |df| {
        let r = Reader::new(df, dir, EXPLANATIONS);
        let pids = r.u32("passage_id")?;
        if !pids.iter().any(|&p| keep(p)) {
            return Ok(());
        }
        let (roles, clusters, themes, sims, ranks, tids, labels, ws, cs, spaces) = (
            r.named("role")?,
            r.u32("cluster")?,
            r.str("theme")?,
            r.f64("similarity")?,
            r.u32("rank")?,
            r.u32("term_id")?,
            r.str("label")?,
            r.f64("weight")?,
            r.f64("contribution")?,
            r.named::<ExplainSpace>("space")?,
        );
        out.extend(
            themes
                .into_iter()
                .zip(labels)
                .enumerate()
                .filter(|&(i, _)| keep(pids[i]))
                .map(|(i, (theme, label))| ExplanationRow {
                    explanation: Explanation {
                        passage_id: pids[i],
                        role: roles[i],
                        cluster: clusters[i],
                        similarity: sims[i],
                        rank: ranks[i],
                        term_id: tids[i],
                        weight: ws[i],
                        contribution: cs[i],
                    },
                    theme,
                    label,
                    space: spaces[i],
                }),
        );
        Ok(())
    })?;
    Ok(found.then_some(out))
}

/// The passages `explanations.parquet` explains for their runner-up (rank-1 rows of role
/// `runner_up`, see `report::why::runner_up_explained`) and its number of rows, read a row
/// group at a time; `None` when the run has none.
pub fn read_runner_up_explained(dir: &Path) -> Result<Option<(BTreeSet<u32>, usize)>> {
    let (mut ids, mut rows) = (BTreeSet::new(), 0);
    let found = for_each_slice(
        dir,
        EXPLANATIONS,
        Some(&["passage_id", "role", "rank"]),
        |df| {
            let r = Reader::new(df, dir, EXPLANATIONS);
            let (pids, roles, ranks) = (
                r.u32("passage_id")?,
                r.named::<Role>("role")?,
                r.u32("rank")?,
            );
            rows += pids.len();
            ids.extend(
                (0..pids.len())
                    .filter(|&i| roles[i] == Role::RunnerUp && ranks[i] == 1)
                    .map(|i| pids[i]),
            );
            Ok(())
        },
    )?;
    Ok(found.then_some((ids, rows)))
}

/// Read `assignments.parquet` back.
pub fn read_assignments(dir: &Path) -> Result<Vec<Assignment>> {
    let df = read(dir, ASSIGNMENTS)?;
    let r = Reader::new(&df, dir, ASSIGNMENTS);
    let (pids, clusters, themes, sims, margins, statuses) = (
        r.u32("passage_id")?,
        r.opt_u32("cluster")?,
        r.str("theme")?,
        r.f64("similarity")?,
        r.f64("margin")?,
        r.named("status")?,
    );
    Ok(themes
        .into_iter()
        .enumerate()
        .map(|(i, theme)| Assignment {
            passage_id: pids[i],
            cluster: clusters[i],
            theme,
            similarity: sims[i],
            margin: margins[i],
            status: statuses[i],
        })
        .collect())
}

/// Read the clustering back from its tables (without the space it ran in and the k sweep,
/// which the manifest records as the cluster stage's results, and without explanations:
/// [`read_explanations_of`] reads those wanted).
pub fn read_clustering(dir: &Path) -> Result<Clustering> {
    let assignments = read_assignments(dir)?;
    let df = read(dir, CLUSTERS)?;
    let r = Reader::new(&df, dir, CLUSTERS);
    let (ids, themes, sizes, tops) = (
        r.u32("cluster")?,
        r.str("theme")?,
        r.u32("size")?,
        r.str("top_terms")?,
    );
    let clusters = themes
        .into_iter()
        .enumerate()
        .map(|(i, theme)| ClusterInfo {
            cluster: ids[i],
            theme,
            size: sizes[i],
            top_terms: tops[i].clone(),
        })
        .collect();
    let df = read(dir, CLUSTER_TERMS)?;
    let r = Reader::new(&df, dir, CLUSTER_TERMS);
    let (cs, measures, ranks, tids, terms, labels, ws) = (
        r.u32("cluster")?,
        r.named("measure")?,
        r.u32("rank")?,
        r.u32("term_id")?,
        r.str("term")?,
        r.str("label")?,
        r.f64("weight")?,
    );
    let terms = terms
        .into_iter()
        .enumerate()
        .map(|(i, term)| ClusterTerm {
            cluster: cs[i],
            measure: measures[i],
            rank: ranks[i],
            term_id: tids[i],
            term,
            label: labels[i].clone(),
            weight: ws[i],
        })
        .collect();
    let seeds = match read_optional(dir, THEME_SEEDS)? {
        None => vec![],
        Some(df) => {
            let r = Reader::new(&df, dir, THEME_SEEDS);
            let (themes, seeds, terms, labels, dfs, status) = (
                r.str("theme")?,
                r.str("seed")?,
                r.str("terms")?,
                r.str("label")?,
                r.u32("df")?,
                r.named("status")?,
            );
            (0..themes.len())
                .map(|i| SeedStatus {
                    theme: themes[i].clone(),
                    seed: seeds[i].clone(),
                    terms: terms[i].clone(),
                    label: labels[i].clone(),
                    df: dfs[i],
                    status: status[i],
                })
                .collect()
        }
    };
    let hierarchy = match read_optional(dir, THEME_HIERARCHY)? {
        None => vec![],
        Some(df) => {
            let r = Reader::new(&df, dir, THEME_HIERARCHY);
            let (nodes, lefts, rights, sims, themes, passages, members) = (
                r.u32("node")?,
                r.u32("left")?,
                r.u32("right")?,
                r.f64("similarity")?,
                r.u32("themes")?,
                r.u32("passages")?,
                r.str("members")?,
            );
            members
                .into_iter()
                .enumerate()
                .map(|(i, members)| HierarchyNode {
                    node: nodes[i],
                    left: lefts[i],
                    right: rights[i],
                    similarity: sims[i],
                    themes: themes[i],
                    passages: passages[i],
                    members,
                })
                .collect()
        }
    };
    Ok(Clustering {
        space: String::new(),
        assignments,
        clusters,
        terms,
        seeds,
        hierarchy,
        sweep: vec![],
        warnings: vec![],
        ..Default::default()
    })
}
