"""The Spark driver against the CLI: the same tables from the same inputs, in local[2] mode
and on a standalone cluster, and the wheel's partial state merging to the whole."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import themata
from conftest import BBC, ROOT, SHARED, THEMATA, run_cli, run_spark
from tables import CLOSE, CLUSTER, INGEST, TFIDF, assert_equal, assert_run_equal, read

EXAMPLE = ROOT / "pipelines" / "khamenei.toml"
needs_bbc = pytest.mark.skipif(not BBC.is_dir(), reason="../shared/corpora/bbc not found")


def example_texts():
    texts = []
    for f in sorted((ROOT / "corpus" / "khamenei").glob("*.txt")):
        _, ps, _ = themata.file_document(f.name, f.read_bytes(), "text", "", "{}")
        texts += ps["text"]
    return texts


def test_the_wheel_is_installed_not_read_from_the_source_tree():
    assert Path(themata.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), themata.__file__
    assert themata.__version__ == themata.core_version()


def test_counts_of_shards_merge_to_the_counts_of_the_whole():
    texts = example_texts()
    ids = list(range(len(texts)))
    a = themata.Analyzer(json.dumps({"language": "english", "min_token_len": 2, "keep_numbers": False}))
    whole = a.count(ids, texts)
    for cut in (1, 10, len(texts) - 1):
        parts = a.count(ids[:cut], texts[:cut]).merge(a.count(ids[cut:], texts[cut:]))
        assert parts.terms == whole.terms
        assert parts.df == whole.df and parts.cf == whole.cf
        assert parts.surfaces == whole.surfaces
        for x, y in zip(parts.rows(), whole.rows()):
            assert np.array_equal(x, y)


def test_the_arrow_map_steps_equal_the_list_functions():
    import pyarrow as pa

    texts = example_texts()
    ids = list(range(len(texts)))
    a = themata.Analyzer(json.dumps({"language": "english", "min_token_len": 2, "keep_numbers": False}))
    whole = a.count(ids, texts)
    # two batches in, one count out
    batches = [
        pa.record_batch({"passage_id": pa.array(ids[:cut], pa.int64()), "text": texts[:cut]})
        for cut in (7,)
    ] + [pa.record_batch({"passage_id": pa.array(ids[7:], pa.int64()), "text": texts[7:]})]
    arrow = a.count_batches(batches)
    assert arrow.terms == whole.terms and arrow.df == whole.df and arrow.surfaces == whole.surfaces
    rows, terms = arrow.batches()
    pids, indptr, cols, counts = whole.rows()
    assert rows.column("kind").to_pylist() == [0] * len(ids)
    assert rows.column("passage_id").to_pylist() == pids.tolist()
    want_terms = [[whole.terms[c] for c in cols[indptr[r] : indptr[r + 1]]] for r in range(len(ids))]
    assert rows.column("terms").to_pylist() == want_terms
    assert terms.column("term").to_pylist() == whole.terms and terms.column("cf").to_pylist() == whole.cf
    assert terms.column("forms").to_pylist() == [[f for f, _ in s] for s in whole.surfaces]
    # weighting the Arrow rows: the list function's weights, kept entries then dropped ones
    n = len(whole.terms)
    idf = [1.0 + (i % 5) / 10 for i in range(n)]
    kept = [i % 7 != 0 for i in range(n)]
    (kp, kt, kc, kw), (dp, dt, dc) = themata.weigh(indptr, cols, counts, np.asarray(idf), kept, "{}")
    w = themata.Weigher(whole.terms, idf, kept, "{}").weigh(rows.select(["passage_id", "terms", "counts"]))
    k = np.asarray(w.column("kept").to_pylist())
    assert np.array_equal(np.asarray(w.column("term_id").to_pylist())[k], kt)
    assert np.allclose(np.asarray(w.column("weight").to_pylist())[k], kw, rtol=0, atol=0)
    assert np.array_equal(np.asarray(w.column("term_id").to_pylist())[~k], dt)
    # ingest: a binaryFile-shaped batch read in Rust, as file_document reads each file
    files = sorted((ROOT / "corpus" / "khamenei").glob("*.txt"))
    batch = pa.record_batch({"content": pa.array([f.read_bytes() for f in files], pa.binary())})
    out = themata.read_files(batch, list(range(len(files))), [f.name for f in files], ["text"] * len(files))
    got = [r for r in out.to_pylist() if r["kind"] == "passage"]
    assert [r["text"] for r in got] == texts
    assert [r["key"] for r in got] == themata.repeated_keys(texts)
    sh = themata.shingle_batch(pa.record_batch({"passage_id": pa.array(ids, pa.int64()), "text": texts}))
    assert sh.column("shingles").to_pylist() == [themata.shingles(t) for t in texts]
    assert sh.column("size").to_pylist() == [len(themata.shingles(t)) for t in texts]
    keys = sh.column("text_key").to_pylist()
    assert all((keys[i] == keys[j]) == (texts[i] == texts[j]) for i in range(len(texts)) for j in range(len(texts)))
    hashes = [r["content_hash"] for r in out.to_pylist() if r["kind"] == "file"]
    assert hashes == [themata.content_hash(f.read_bytes()) for f in files]


def test_shared_shingles_alone_find_the_duplicates_of_full_sets():
    base = "the supreme leader called the idea of negotiations with the united states poison yet reassured"
    other = "an unrelated paragraph about the war in gaza and the axis militias of the region today"
    texts = [base, other, base, base.replace("reassured", "reassuring"), f"{base} {other}", other + " again"]
    sets = [themata.shingles(t) for t in texts]
    keys = [t.encode() for t in texts]
    full = themata.find_duplicates(list(range(6)), sets, [len(s) for s in sets], keys, 0.7, 0.75)
    counts = {}
    for s in sets:
        for h in s:
            counts[h] = counts.get(h, 0) + 1
    shared = [[h for h in s if counts[h] > 1] for s in sets]
    reduced = themata.find_duplicates(list(range(6)), shared, [len(s) for s in sets], keys, 0.7, 0.75)
    assert reduced == full
    assert full["passage_id"] == [2, 3, 4, 5]
    assert full["kind"][:2] == ["exact", "near"]


def test_partial_products_and_sums_add_up_over_shards():
    rng = np.random.default_rng(7)
    n, n_cols, l = 50, 30, 6
    dense = (rng.random((n, n_cols)) < 0.2) * rng.random((n, n_cols))

    def csr(m):
        indptr = np.zeros(len(m) + 1, dtype=np.int64)
        cols, vals = [], []
        for r, row in enumerate(m):
            nz = np.nonzero(row)[0]
            cols += nz.tolist()
            vals += row[nz].tolist()
            indptr[r + 1] = len(cols)
        return indptr, np.asarray(cols, dtype=np.uint32), np.asarray(vals, dtype=np.float64)

    d = rng.standard_normal((n, l))
    whole = themata.lsa_transpose_product(*csr(dense), n_cols, d, False)
    parts = themata.lsa_transpose_product(*csr(dense[:20]), n_cols, d[:20], False) + themata.lsa_transpose_product(
        *csr(dense[20:]), n_cols, d[20:], False
    )
    assert np.allclose(whole, parts, atol=1e-12)
    assert np.allclose(whole, dense.T @ d.astype(np.float32).astype(np.float64), atol=1e-9)
    g = themata.gram(d)
    assert np.allclose(g, themata.gram(d[:20]) + themata.gram(d[20:]), atol=1e-12)
    labels = [i % 3 for i in range(n)]
    s, c = themata.centroid_sums(d, labels, 3)
    s1, c1 = themata.centroid_sums(d[:20], labels[:20], 3)
    s2, c2 = themata.centroid_sums(d[20:], labels[20:], 3)
    assert np.allclose(s, s1 + s2, atol=1e-12) and c == [a + b for a, b in zip(c1, c2)]


def assert_report_is_the_clis(pipeline, spark: Path, cli: Path, files=("summary.json", "summary.md")):
    """`themata report PIPELINE --output SPARK` on a Spark run's directory succeeds and
    writes `files` byte for byte as the CLI's run `cli` has them."""
    r = subprocess.run(
        [str(THEMATA), "report", str(pipeline), "--output", str(spark)], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr
    for f in files:
        assert (spark / "report" / f).read_text() == (cli / "report" / f).read_text(), f
    assert (spark / "report" / "summary.html").exists()


def example_pipeline(path: Path, cluster: str) -> Path:
    """The example pipeline at `path` (its corpus by absolute path), its `mode = "guided"`
    line replaced by `cluster`."""
    text = EXAMPLE.read_text().replace('"../corpus/khamenei"', json.dumps(str(ROOT / "corpus" / "khamenei")))
    path.write_text(text.replace('mode = "guided"', cluster))
    return path


@pytest.fixture(scope="module")
def cli_example(tmp_root):
    out = tmp_root / "cli-example"
    run_cli(EXAMPLE, out)
    return out


def test_example_in_local_mode_gives_the_cli_tables_and_themata_run_adopts_them(tmp_root, cli_example):
    cli, spark = cli_example, tmp_root / "spark-example"
    p = run_spark(EXAMPLE, spark)
    assert "themata.spark: stages" in p.stderr
    assert_run_equal(cli, spark)
    m = json.loads((spark / "manifest.json").read_text())
    assert m["stages"]["ingest"]["engine"] == "spark"
    assert set(m["stages"]) == {"ingest", "tfidf", "cluster"}
    assert set(m["stages"]["cluster"]["outputs"]) == set(json.loads((cli / "manifest.json").read_text())["stages"]["cluster"]["outputs"])
    # the large tables are partitioned (parts written by the executors), readable as one
    import duckdb

    for t in ("passages", "tfidf", "term_counts"):
        parts = sorted((spark / f"{t}.parquet").glob("part-*.parquet"))
        assert (spark / f"{t}.parquet").is_dir() and parts, t
        n = duckdb.sql(f"select count(*) from read_parquet('{spark / t}.parquet/*.parquet')").fetchall()[0][0]
        assert n == m["stages"]["ingest" if t == "passages" else "tfidf"]["rows"][t] == read(cli, t).num_rows
    # the fitted model is the CLI's, but for the hash of its own vocabulary.parquet
    model, cli_model = (json.loads((d / "model.json").read_text()) for d in (spark, cli))
    assert model["vocabulary_hash"] == m["stages"]["tfidf"]["outputs"]["vocabulary.parquet"]
    assert {**model, "vocabulary_hash": ""} == {**cli_model, "vocabulary_hash": ""}
    # `themata report` alone on the Spark run's directory writes the CLI's report
    assert_report_is_the_clis(EXAMPLE, spark, cli)
    # `themata run` takes all three of the Spark run's stages as they are, and reports
    r = subprocess.run(
        [str(THEMATA), "run", str(EXAMPLE), "--output", str(spark)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    for stage in ("ingest", "tfidf", "cluster"):
        assert f"{stage}: up to date, skipped" in r.stderr, r.stderr
    assert json.loads((spark / "manifest.json").read_text())["stages"]["cluster"]["engine"] == "spark"
    # `themata apply` places new documents with the Spark run's model as with the CLI's
    new = ROOT / "corpus" / "khamenei" / "001_ec387abb70685b0e.txt"
    for run_dir, out in ((spark, tmp_root / "apply-spark"), (cli, tmp_root / "apply-cli")):
        r = subprocess.run(
            [str(THEMATA), "apply", str(run_dir), "--input", str(new), "--output", str(out)],
            capture_output=True, text=True, cwd=ROOT,
        )
        assert r.returncode == 0, r.stderr
    for t in ("passages", "tfidf", "assignments", "clusters", "explanations"):
        assert_equal(tmp_root / "apply-cli", tmp_root / "apply-spark", t, CLOSE)


@pytest.mark.parametrize(
    "merge", ['mode = "guided"\nmerge_to = 2', 'mode = "discover"\nk = 5\nmerge_to = 3'], ids=["guided", "discover"]
)
def test_merged_themes_give_the_cli_tables_merges_and_report(tmp_root, merge):
    """cluster.merge_to on Spark: the fitted themes joined as the CLI joins them (the
    dendrogram of the fitted centroids, a pass that names them), the merges recorded in the
    manifest as the CLI records them, and the CLI's report."""
    name = "merge-" + merge.split('"')[1]
    pipeline = example_pipeline(tmp_root / f"{name}.toml", merge)
    cli, spark = tmp_root / f"cli-{name}", tmp_root / f"spark-{name}"
    run_cli(pipeline, cli)
    run_spark(pipeline, spark)
    assert_run_equal(cli, spark)
    merges = [json.loads((d / "manifest.json").read_text())["stages"]["cluster"]["results"].get("merges") for d in (cli, spark)]
    assert merges[0] and merges[0] == merges[1], merges
    assert_report_is_the_clis(pipeline, spark, cli)


@pytest.mark.parametrize("corpus", ["example", pytest.param("bbc", marks=needs_bbc)])
def test_a_k_chosen_by_a_sweep_is_the_clis_with_its_sweep_and_report(tmp_root, corpus):
    """cluster.k = "auto" on Spark: every k of the range fitted on the partitions and scored
    as the CLI scores it (silhouette of a sample gathered on the driver, the other criteria
    from per-partition sums), the same k chosen, the sweep recorded as the CLI records it.
    On BBC the rows are labelled in the LSA space, by cosine to the unit centroids."""
    pipeline = tmp_root / f"auto-{corpus}.toml"
    if corpus == "example":
        example_pipeline(pipeline, 'mode = "discover"\nk = "auto"\nk_max = 6')
    else:
        text = (ROOT / "pipelines" / "bbc.toml").read_text().replace('"../../shared/corpora/bbc"', json.dumps(str(BBC)))
        assert "\nk = 5\n" in text
        pipeline.write_text(text.replace("\nk = 5\n", '\nk = "auto"\nk_max = 6\n'))
    cli, spark = tmp_root / f"cli-auto-{corpus}", tmp_root / f"spark-auto-{corpus}"
    run_cli(pipeline, cli)
    run_spark(pipeline, spark)
    assert_run_equal(cli, spark)
    sweeps = [json.loads((d / "manifest.json").read_text())["stages"]["cluster"]["results"]["k_sweep"] for d in (cli, spark)]
    assert [r["k"] for r in sweeps[0]] == [2, 3, 4, 5, 6] and sum(r["chosen"] for r in sweeps[0]) == 1
    # rounded to 6 decimals: equal but for a rounding boundary
    for a, b in zip(*sweeps):
        assert a["k"] == b["k"] and a["chosen"] == b["chosen"], (a, b)
        for c in ("silhouette", "calinski_harabasz", "davies_bouldin"):
            assert abs(a[c] - b[c]) <= 1.5e-6, (c, a, b)
    assert_report_is_the_clis(pipeline, spark, cli, files=("summary.md",))


def test_the_same_partitions_give_the_same_bits_and_others_the_same_tables(tmp_root):
    runs = {}
    for name, parts in (("a", "3"), ("b", "3"), ("c", "1")):
        runs[name] = tmp_root / f"spark-parts-{name}"
        run_spark(EXAMPLE, runs[name], "local[2]", "--partitions", parts)
    for t in INGEST + TFIDF + CLUSTER:
        assert_equal(runs["a"], runs["b"], t)  # exactly
        # other partitions: sums of floating point numbers in another order
        assert_equal(runs["a"], runs["c"], t, {n: 1e-9 for n in ("similarity", "margin", "contribution", "value")})


def test_record_files_give_the_cli_tables(tmp_root):
    """JSON Lines, CSV and Parquet records (ids from a column, from line or row numbers;
    dates read; a malformed line and a null text skipped with warnings) in one corpus."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_root / "records"
    root.mkdir()
    texts = example_texts()
    lines = []
    for i, t in enumerate(texts[:20]):
        rec = {"body": t, "title": f"Post {i}", "when": f"2024-0{1 + i % 9}-1{i % 10}", "by": ["Ann", "Bo"][i % 2]}
        if i % 3:
            rec["key"] = i * 7
        lines.append(json.dumps(rec))
    lines.insert(5, "{not json")
    lines.insert(9, "")
    (root / "a.jsonl").write_text("\n".join(lines) + "\n")
    import csv

    with open(root / "b.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "body", "title", "when", "by"])
        for i, t in enumerate(texts[20:40]):
            w.writerow(["" if i % 4 == 0 else f"c{i}", t, f"CSV {i}" if i % 2 else "", "March 3, 2021", "Cy"])
    bodies = texts[40:60] + [None]
    pq.write_table(
        pa.table({"body": bodies, "title": [f"PQ {i}" for i in range(len(bodies))], "by": ["Di"] * len(bodies)}),
        root / "c.parquet",
    )
    pipeline = tmp_root / "records.toml"
    pipeline.write_text(
        f"""name = "records"
output = "{tmp_root / 'unused'}"
[input]
root = "{root}"
patterns = ["*.jsonl", "*.csv", "*.parquet"]
text_column = "body"
id_column = "key"
title_column = "title"
date_column = "when"
author_column = "by"
[cluster]
mode = "discover"
k = 3
"""
    )
    # the Parquet file has no "key" column: the CLI says so, and so must the driver
    p = run_spark(pipeline, tmp_root / "spark-records-bad", check=False)
    assert p.returncode == 1 and 'c.parquet: no id column "key"' in p.stderr, p.stderr[-2000:]
    (root / "c.parquet").unlink()
    pq.write_table(
        pa.table({"body": bodies, "key": [f"p{i}" for i in range(len(bodies))], "title": [f"PQ {i}" for i in range(len(bodies))],
                  "when": ["2020-02-02"] * len(bodies), "by": ["Di"] * len(bodies)}),
        root / "c.parquet",
    )
    cli, spark = tmp_root / "cli-records", tmp_root / "spark-records"
    run_cli(pipeline, cli)
    run_spark(pipeline, spark)
    assert_run_equal(cli, spark)
    docs = read(spark, "documents").to_pydict()
    assert "a.jsonl#7" in docs["path"] and "a.jsonl#1" in docs["path"], docs["path"][:5]
    assert "2021-03-03" in docs["date"]
    m = json.loads((spark / "manifest.json").read_text())
    warnings = m["stages"]["ingest"]["warnings"]
    assert any("a.jsonl:6: malformed JSON" in w for w in warnings), warnings
    assert any("c.parquet: row 20: null text" in w for w in warnings), warnings


def test_a_bad_pipeline_is_exit_code_2_and_writes_nothing(tmp_root):
    out = tmp_root / "spark-bad"
    p = run_spark(ROOT / "pipelines" / "missing.toml", out, check=False)
    assert p.returncode == 2 and "pipeline file not found" in p.stderr
    bad = tmp_root / "bad.toml"
    bad.write_text('name = "b"\noutput = "o"\n[themes]\na = ["x"]\n[tfidf]\nnorm = "l3"\n')
    p = run_spark(bad, out, check=False)
    assert p.returncode == 2 and "[tfidf]" in p.stderr and "l3" in p.stderr, p.stderr
    assert not out.exists()


@needs_bbc
def test_bbc_tfidf_equals_the_scikit_learn_oracle(tmp_root):
    out = tmp_root / "spark-bbc-oracle"
    run_spark(ROOT / "pipelines" / "sklearn-compat.toml", out, input=BBC)
    r = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "compare_with_oracle.py"), str(SHARED / "oracles" / "tfidf" / "bbc"), str(out)],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


@pytest.fixture(scope="module")
def cli_bbc(tmp_root):
    out = tmp_root / "cli-bbc"
    run_cli(ROOT / "pipelines" / "bbc.toml", out)
    return out


@needs_bbc
def test_bbc_in_local_mode_gives_the_cli_tables_and_assignments(tmp_root, cli_bbc):
    spark = tmp_root / "spark-bbc"
    run_spark(ROOT / "pipelines" / "bbc.toml", spark)
    assert_run_equal(cli_bbc, spark)
    # the report of the Spark run (k-means in the LSA space) is the CLI's
    assert_report_is_the_clis(ROOT / "pipelines" / "bbc.toml", spark, cli_bbc)


def test_executors_of_the_standalone_cluster_are_processes_of_their_own(spark_cluster):
    import time

    from pyspark.sql import SparkSession

    # defined here, so that it is pickled by value: executors cannot import this module
    def _executor_jvm(batches):
        """In a task: the JVM the Python worker runs under (its nearest `java` ancestor), and
        whether it is an executor's (CoarseGrainedExecutorBackend)."""
        import pyarrow as pa

        p, jvm, cmd = os.getppid(), -1, ""
        while p > 1:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                c = f.read().replace(b"\0", b" ").decode(errors="replace")
            if os.path.basename(c.split(" ")[0]) == "java":
                jvm, cmd = p, c
                break
            with open(f"/proc/{p}/stat") as f:
                p = int(f.read().rsplit(")", 1)[1].split()[1])
        for b in batches:
            yield pa.RecordBatch.from_pydict(
                {"jvm": [jvm] * b.num_rows, "executor": ["CoarseGrainedExecutorBackend" in cmd] * b.num_rows}
            )

    s = (
        SparkSession.builder.master(spark_cluster)
        .appName("themata-executors")
        .config("spark.ui.enabled", "false")
        .config("spark.executor.memory", "1g")
        .getOrCreate()
    )
    try:
        sc = s.sparkContext
        deadline = time.time() + 60
        while sc._jsc.sc().getExecutorIds().size() < 2 and time.time() < deadline:
            time.sleep(0.2)
        rows = s.range(0, 800, numPartitions=8).mapInArrow(_executor_jvm, "jvm long, executor boolean").collect()
        driver_jvm = sc._gateway.proc.pid
    finally:
        s.stop()
    jvms = {r["jvm"] for r in rows}
    assert all(r["executor"] for r in rows), rows[:3]
    assert driver_jvm not in jvms and len(jvms) == 2, (driver_jvm, jvms)


def test_example_on_a_standalone_cluster_gives_the_cli_tables(tmp_root, spark_cluster, cli_example):
    spark = tmp_root / "spark-example-cluster"
    run_spark(EXAMPLE, spark, spark_cluster)
    assert_run_equal(cli_example, spark)


@needs_bbc
def test_bbc_on_a_standalone_cluster_gives_the_cli_tables_and_assignments(tmp_root, spark_cluster, cli_bbc):
    spark = tmp_root / "spark-bbc-cluster"
    run_spark(ROOT / "pipelines" / "bbc.toml", spark, spark_cluster)
    assert_run_equal(cli_bbc, spark)
