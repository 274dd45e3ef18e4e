#!/usr/bin/env python3
"""Check the README against real clients: run the example pipeline, then
1. every ```sql block of the README in DuckDB and every ```python block with Polars must run
   and return rows;
2. the README's schema tables (a `### name.parquet` heading followed by a
   `| column | type | ... |` table) must equal the tables' real columns and Polars types.

    python tests/check_readme.py path/to/themata
Prints one line per check and `N passed, N failed` at the end; exits 1 on any failure.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Tally  # noqa: E402
import tempfile

import duckdb
import polars as pl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    exe = os.path.abspath(sys.argv[1])
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    check = Tally()

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out", "khamenei")
        subprocess.run(
            [exe, "run", "pipelines/khamenei.toml", "--quiet", "--output", out,
             "--set", f"report.dir={os.path.join(tmp, 'report')}"],
            cwd=ROOT, check=True)
        # README queries name out/khamenei/...: run them from tmp, where that path exists
        os.chdir(tmp)

        for i, sql in enumerate(re.findall(r"```sql\n(.*?)```", readme, re.S)):
            try:
                rows = duckdb.sql(sql).fetchall()
                check(f"README sql query {i + 1} (duckdb)", len(rows) > 0, "no rows")
            except Exception as e:  # noqa: BLE001 - report every failure
                check(f"README sql query {i + 1} (duckdb)", False, repr(e))

        for i, code in enumerate(re.findall(r"```python\n(.*?)```", readme, re.S)):
            scope = {}
            try:
                exec(code, scope)
                result = scope.get("result")
                ok = isinstance(result, pl.DataFrame) and result.height > 0
                check(f"README python query {i + 1} (polars)", ok, f"result = {result!r}")
            except Exception as e:  # noqa: BLE001
                check(f"README python query {i + 1} (polars)", False, repr(e))

        sections = re.findall(r"^### (\w+\.parquet)\n+((?:\|.*\n)+)", readme, re.M)
        check("README documents every table",
              sorted(s[0] for s in sections) == sorted(f for f in os.listdir(out) if f.endswith(".parquet")),
              f"{sorted(s[0] for s in sections)}")
        for name, table in sections:
            rows = [r.strip().strip("|").split("|") for r in table.strip().splitlines()[2:]]
            documented = [(c.strip().strip("`"), t.strip().strip("`")) for c, t, *_ in rows]
            actual = [(c, str(t)) for c, t in pl.read_parquet(os.path.join(out, name)).schema.items()]
            check(f"schema of {name}", documented == actual, f"README {documented} != files {actual}")

    check.finish()


if __name__ == "__main__":
    main()
