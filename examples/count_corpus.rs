//! Time the analyzer count step (`themata_core::analyze::TermCounts`) on an ingested corpus.
//!
//! ```text
//! themata ingest pipelines/sklearn-compat.toml --input CORPUS --output OUT
//! cargo run --release --example count_corpus -- pipelines/sklearn-compat.toml OUT [RUNS]
//! ```
//!
//! Reads `OUT/passages.parquet`, counts the kept passages with the pipeline's analyzer `RUNS`
//! times (default 5), and prints for each run the wall time, the process CPU time (user +
//! system, all threads, from `/proc/self/stat`, 10 ms resolution) and the MB/s of both, the
//! best of the runs, then a digest of the counts (terms, labels, rows), which must not change
//! when the count step changes. `RAYON_NUM_THREADS` sets the number of threads. Later runs
//! reuse memory the first one had to fault in, so they are a little faster than the single
//! count of a pipeline run.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Instant;
use themata::pipeline_file::{Overrides, Pipeline};
use themata_core::analyze::{Analyzer, Counts, TermCounts};
use themata_core::Silent;

/// User + system CPU seconds of this process so far (Linux only; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // fields after the command name, which is in parentheses and may hold spaces
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here; in clock ticks
    let ticks: f64 = f[11].parse::<f64>().unwrap_or(0.0) + f[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

fn digest(c: &Counts) -> String {
    let mut h = Sha256::new();
    for (t, l) in c.terms.iter().zip(&c.labels) {
        h.update(t.as_bytes());
        h.update([0]);
        h.update(l.as_bytes());
        h.update([0]);
    }
    for &e in &c.rows.indptr {
        h.update((e as u64).to_le_bytes());
    }
    for (&t, &n) in c.rows.cols.iter().zip(&c.rows.counts) {
        h.update(t.to_le_bytes());
        h.update(n.to_le_bytes());
    }
    format!("{:x}", h.finalize())
}

fn main() -> themata::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: count_corpus PIPELINE INGEST_OUTPUT_DIR [RUNS]";
    let pipeline = Pipeline::load(Path::new(&args.next().expect(usage)), &Overrides::default())?;
    let dir = args.next().expect(usage);
    let runs: usize = args
        .next()
        .map_or(5, |r| r.parse().expect("RUNS is a number"));
    let corpus = themata::tables::read_corpus(Path::new(&dir))?;
    let texts: Vec<&str> = corpus.kept().map(|p| p.text.as_str()).collect();
    let ids: Vec<u32> = corpus.kept().map(|p| p.passage_id).collect();
    let mb = texts.iter().map(|t| t.len()).sum::<usize>() as f64 / 1e6;
    let analyzer = Analyzer::new(&pipeline.analyzer)
        .map_err(|e| themata::Error::config(&pipeline.file, e.to_string()))?;
    println!(
        "{} passages, {mb:.1} MB, {} threads",
        texts.len(),
        rayon::current_num_threads()
    );
    let mut last = None;
    let (mut best_wall, mut best_cpu) = (f64::MAX, f64::MAX);
    for run in 0..runs {
        let (c0, t0) = (cpu_seconds(), Instant::now());
        let counts = TermCounts::partial(&analyzer, &ids, &texts, &Silent).finish();
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
        println!(
            "run {run}: wall {wall:.3} s ({:.0} MB/s), cpu {cpu:.2} s ({:.0} MB/s per CPU second)",
            mb / wall,
            mb / cpu.max(1e-9)
        );
        last = Some(counts);
        best_wall = best_wall.min(wall);
        best_cpu = best_cpu.min(cpu);
    }
    println!(
        "best of {runs}: wall {best_wall:.3} s ({:.0} MB/s), cpu {best_cpu:.2} s ({:.0} MB/s per CPU second)",
        mb / best_wall,
        mb / best_cpu.max(1e-9)
    );
    if let Some(c) = last {
        println!(
            "{} terms, {} non-zeros, digest {}",
            c.terms.len(),
            c.rows.nnz(),
            digest(&c)
        );
    }
    Ok(())
}
