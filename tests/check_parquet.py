#!/usr/bin/env python3
"""Open every table of the example run with the real clients, DuckDB and Polars, and check
the Parquet files' details with DuckDB's parquet_metadata() and parquet_kv_metadata():

1. both clients read the same rows and columns, and agree on every column's contents
   (non-null count; sum for numbers, total characters for strings, trues for booleans);
2. every column chunk is ZSTD-compressed and carries statistics (null count, min and max);
3. every string column chunk is dictionary-encoded (RLE_DICTIONARY), except a column whose
   values are almost all distinct (more than 128 values, more than 75 % distinct), which
   the writer stores PLAIN because a dictionary would be larger than the strings;
4. the key-value metadata names themata's version (as `themata --version` prints it), the
   pipeline and the table.

    python tests/check_parquet.py path/to/themata
Prints one line per check and `N passed, N failed` at the end; exits 1 on any failure.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Tally  # noqa: E402
import tempfile

import duckdb
import polars as pl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DICTIONARY_EXEMPT_DISTINCT = 0.75
DICTIONARY_EXEMPT_MIN_VALUES = 128


def main():
    exe = os.path.abspath(sys.argv[1])
    version = subprocess.run([exe, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    check = Tally()

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        subprocess.run(
            [exe, "run", "pipelines/khamenei.toml", "--quiet", "--output", out,
             "--set", f"report.dir={os.path.join(tmp, 'report')}"],
            cwd=ROOT, check=True)
        tables = sorted(f for f in os.listdir(out) if f.endswith(".parquet"))
        check("the example writes seventeen tables", len(tables) == 17, tables)
        con = duckdb.connect()
        for name in tables:
            path = os.path.join(out, name)
            q = f"read_parquet('{path}')"
            # 1. both clients read the same table
            df = pl.read_parquet(path)
            n = con.execute(f"SELECT count(*) FROM {q}").fetchall()[0][0]
            cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {q}").fetchall()]
            types = dict((r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {q}").fetchall())
            check(f"{name}: duckdb and polars read {df.height} rows, same columns",
                  n == df.height and cols == df.columns, f"duckdb {n} {cols}, polars {df.height} {df.columns}")
            disagree = []
            for c in df.columns:
                s = df[c]
                dt = types[c]
                if dt == "VARCHAR":
                    d_val = con.execute(f'SELECT count("{c}"), coalesce(sum(length("{c}")), 0) FROM {q}').fetchall()[0]
                    p_val = (s.len() - s.null_count(), s.str.len_chars().sum() or 0)
                elif dt == "BOOLEAN":
                    d_val = con.execute(f'SELECT count("{c}"), count(*) FILTER (WHERE "{c}") FROM {q}').fetchall()[0]
                    p_val = (s.len() - s.null_count(), int(s.sum() or 0))
                else:
                    d_val = con.execute(f'SELECT count("{c}"), coalesce(sum("{c}"), 0) FROM {q}').fetchall()[0]
                    p_val = (s.len() - s.null_count(), s.sum() or 0)
                same = d_val[0] == p_val[0] and abs(float(d_val[1]) - float(p_val[1])) <= 1e-9 * max(1.0, abs(float(p_val[1])))
                if not same:
                    disagree.append(f"{c}: duckdb {d_val} polars {p_val}")
            check(f"{name}: duckdb and polars agree on every column", not disagree, "; ".join(disagree))

            # 2./3. column chunks
            chunks = con.execute(
                "SELECT path_in_schema, type, compression, encodings, num_values, stats_null_count, "
                f"stats_min_value, stats_max_value FROM parquet_metadata('{path}')").fetchall()
            check(f"{name}: every column has a chunk", sorted({c[0] for c in chunks}) == sorted(df.columns) or df.height == 0,
                  [c[0] for c in chunks])
            not_zstd = [c[0] for c in chunks if c[2] != "ZSTD"]
            check(f"{name}: every column chunk is ZSTD", not not_zstd, not_zstd)
            no_stats = [c[0] for c in chunks
                        if c[4] > 0 and (c[5] is None or (c[5] < c[4] and (c[6] is None or c[7] is None)))]
            check(f"{name}: every column chunk has statistics", not no_stats, no_stats)
            plain = []
            for col, typ, _, enc, num, *_ in chunks:
                if typ != "BYTE_ARRAY" or num == 0 or "RLE_DICTIONARY" in enc:
                    continue
                distinct = con.execute(f'SELECT count(DISTINCT "{col}") FROM {q}').fetchall()[0][0]
                if not (num > DICTIONARY_EXEMPT_MIN_VALUES and distinct / num > DICTIONARY_EXEMPT_DISTINCT):
                    plain.append(f"{col} ({enc}; {distinct} distinct of {num})")
            check(f"{name}: string columns are dictionary-encoded", not plain, plain)

            # 4. key-value metadata
            kv = {k.decode(): v.decode() for k, v in con.execute(
                f"SELECT key, value FROM parquet_kv_metadata('{path}')").fetchall()}
            want = {"themata.version": version, "themata.pipeline": "khamenei",
                    "themata.table": name.removesuffix(".parquet")}
            got = {k: kv.get(k) for k in want}
            check(f"{name}: key-value metadata names version, pipeline and table", got == want, f"{got} != {want}")

    check.finish()


if __name__ == "__main__":
    main()
