//! State that merges: the analyze step over 1, 2 and 5 consecutive shards of the kept
//! passages, merged in order, gives byte-identical tables and reports.

use super::freshness::{synthetic_corpus, SYNTHETIC_PIPELINE};
use super::{root, TABLES};
use std::path::{Path, PathBuf};
use themata::engine::{Engine, Options, Quiet};
use themata::pipeline_file::{Overrides, Pipeline};

/// Run `pipeline` (with `--input input` if given) into `out`, the analyze step in `shards`.
fn run(pipeline: &Path, input: Option<&Path>, out: &Path, shards: usize) {
    let overrides = Overrides {
        input: input.map(Path::to_path_buf),
        output: Some(out.to_path_buf()),
        set: vec![format!("report.dir={}", out.join("report").display())],
        strict: false,
    };
    let p = Pipeline::load(pipeline, &overrides).unwrap();
    let opts = Options {
        force: true,
        shards,
        ..Default::default()
    };
    Engine::new(p, opts, &Quiet).run().unwrap();
}

/// Every table and the deterministic reports of each sharded run equal the unsharded run's.
fn assert_shards_change_nothing(pipeline: &Path, input: Option<&Path>) {
    let dir = tempfile::tempdir().unwrap();
    let outs: Vec<PathBuf> = [1, 2, 5]
        .iter()
        .map(|&n| {
            let out = dir.path().join(format!("shards{n}"));
            run(pipeline, input, &out, n);
            out
        })
        .collect();
    let files: Vec<String> = TABLES
        .iter()
        .map(|t| t.to_string())
        .chain(["report/summary.json".into(), "report/summary.md".into()])
        .collect();
    for out in &outs[1..] {
        for f in &files {
            let a = std::fs::read(outs[0].join(f)).unwrap();
            let b = std::fs::read(out.join(f)).unwrap();
            assert!(a == b, "{f} differs in {}", out.display());
        }
    }
}

#[test]
fn shards_of_the_example_give_the_unsharded_tables() {
    assert_shards_change_nothing(&root().join("pipelines/khamenei.toml"), None);
}

#[test]
fn shards_of_a_corpus_clustered_in_lsa_space_give_the_unsharded_tables() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_corpus(&dir.path().join("corpus"), 120);
    let pipeline = dir.path().join("pipeline.toml");
    std::fs::write(&pipeline, SYNTHETIC_PIPELINE).unwrap();
    assert_shards_change_nothing(&pipeline, None);
}

/// BBC News (not part of the repository): `THEMATA_BBC=DIR cargo test shards -- --ignored`;
/// the default directory is `../shared/corpora/bbc` beside the repository.
#[test]
#[ignore = "needs the BBC corpus"]
fn shards_of_bbc_give_the_unsharded_tables() {
    let bbc = super::bbc();
    for pipeline in ["pipelines/bbc.toml", "pipelines/sklearn-compat.toml"] {
        assert_shards_change_nothing(&root().join(pipeline), Some(&bbc));
    }
}
