"""Comparing the tables of two run directories, column by column."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def read(d: Path, table: str) -> pa.Table:
    t = pq.read_table(Path(d) / f"{table}.parquet")
    # polars writes strings as string_view, pyarrow as string: the same Parquet column
    fields = [pa.field(f.name, pa.string() if f.type == pa.string_view() else f.type) for f in t.schema]
    return t.cast(pa.schema(fields))


def assert_equal(a: Path, b: Path, table: str, close: dict = None):
    """Table `table` of run directories `a` and `b`: the same schema and rows; columns in
    `close` (name → tolerance) equal to within it, the others exactly."""
    close = close or {}
    x, y = read(a, table), read(b, table)
    assert x.schema.remove_metadata() == y.schema.remove_metadata(), (
        f"{table}: schemas differ:\n{x.schema.remove_metadata()}\n---\n{y.schema.remove_metadata()}"
    )
    assert x.num_rows == y.num_rows, f"{table}: {x.num_rows} rows against {y.num_rows}"
    for name in x.schema.names:
        u, v = x.column(name).to_pylist(), y.column(name).to_pylist()
        tol = close.get(name)
        if tol is None:
            bad = [i for i, (p, q) in enumerate(zip(u, v)) if p != q]
        else:
            bad = [
                i
                for i, (p, q) in enumerate(zip(u, v))
                if (p is None) != (q is None) or (p is not None and abs(p - q) > tol)
            ]
        assert not bad, (
            f"{table}.{name}: {len(bad)} rows differ; first at row {bad[0]}: "
            f"{x.slice(bad[0], 1).to_pylist()[0]} against {y.slice(bad[0], 1).to_pylist()[0]}"
        )


INGEST = ["documents", "passages", "duplicates"]
TFIDF = ["vocabulary", "tfidf", "term_counts", "surface_forms"]
CLUSTER = [
    "assignments",
    "clusters",
    "cluster_terms",
    "theme_seeds",
    "theme_hierarchy",
    "explanations",
    "centroids",
    "lsa_components",
]
# the centroids are summed over partitions instead of blocks of rows: similarities agree to
# rounding, the assignments exactly; the LSA basis (and the centroids and contributions in
# its space) to the single-precision rounding of the range finder's products
CLOSE = {"idf": 1e-12, "weight": 1e-12, "similarity": 1e-6, "margin": 1e-6, "contribution": 1e-6, "value": 1e-6}


def assert_run_equal(a: Path, b: Path, tables=INGEST + TFIDF + CLUSTER):
    for t in tables:
        assert_equal(a, b, t, CLOSE)
