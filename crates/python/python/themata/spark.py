"""Run a themata pipeline file on Apache Spark.

    python -m themata.spark run PIPELINE [--input URI] [--output DIR] [--master URL]
                                [--partitions N] [--quiet]
    spark-submit --master URL "$(python -c 'import themata.spark as s; print(s.__file__)')" \
                 run PIPELINE [...]

The stages are those of ``themata run``, each split the way its state merges:

- ingest: every input file is read by Spark (``binaryFile``) and, in ``mapInArrow``,
  decoded and cut into passages, or its JSON Lines / CSV / Parquet records read; the short
  lines repeated across the corpus are counted with a Spark aggregation and the boilerplate
  rules run per document; near-duplicates are found by a shuffle by shingle hash (only
  shingles held by two or more passages survive it), and the order-dependent decision runs
  on the driver over those shared shingles alone;
- analyze: each partition counts its passages' terms (the core's partial counts); document
  frequencies, occurrences and surface forms are merged with a Spark aggregation; the
  vocabulary and idf are finished on the driver and broadcast;
- tfidf: each partition weights its own rows with the broadcast vocabulary;
- cluster: the randomized SVD (LSA) and k-means (discover, guided themes, or every k of a
  ``k = "auto"`` sweep, scored as the CLI scores it) as driver loops over the partitions'
  partial products and sums, added in partition order; then per partition the
  assignments, the explanations and the clusters' term counts and weight sums, and on the
  driver the clusters' terms and names, the dendrogram and merged themes (``merge_above``
  / ``merge_to``) — the core's functions throughout.

Every table of the CLI's ingest, tfidf and cluster stages, with its names, columns and types
(the large ones — passages, tfidf, term_counts — partitioned: a directory of parts written
by the executors), model.json, and manifest.json in the CLI's form (``"engine": "spark"``):
``themata report PIPELINE --output DIR`` writes the CLI's report from them, ``themata run``
adopts all three stages, ``themata apply DIR`` places new documents with the model.

Exit codes: 0 done, 1 the run failed, 2 bad command line or pipeline file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import posixpath
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
from typing import Iterator, Optional

import themata

try:
    import tomllib  # Python 3.11+
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]

PROG = "themata.spark"


class UsageError(Exception):
    """A bad command line or pipeline file (exit code 2)."""


# ---------------------------------------------------------------------------------------
# The pipeline file
# ---------------------------------------------------------------------------------------

SECTIONS = {"name", "output", "input", "ingest", "analyzer", "tfidf", "cluster", "themes", "report"}
INPUT_KEYS = {
    "root",
    "patterns",
    "format",
    "text_column",
    "id_column",
    "title_column",
    "date_column",
    "author_column",
    "source_column",
}


def _is_uri(p: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", p) is not None


def _resolve(base: str, p: str) -> str:
    if _is_uri(p) or os.path.isabs(p):
        return p
    return os.path.normpath(os.path.join(base, p))


class Pipeline:
    """The parts of a pipeline file the Spark driver runs, with paths resolved."""

    def __init__(self, path: str, input_override: Optional[str], output_override: Optional[str]):
        try:
            with open(path, "rb") as f:
                doc = tomllib.load(f)
        except FileNotFoundError:
            raise UsageError(f"{path}: pipeline file not found")
        except tomllib.TOMLDecodeError as e:
            raise UsageError(f"{path}: {e}")
        unknown = sorted(set(doc) - SECTIONS)
        if unknown:
            raise UsageError(f"{path}: unknown key {unknown[0]!r}")
        for key in ("name", "output"):
            if key not in doc:
                raise UsageError(f"{path}: missing key {key!r}")
        base = os.path.dirname(os.path.abspath(path))
        self.file = path
        self.name = doc["name"]
        inp = dict(doc.get("input", {}))
        bad = sorted(set(inp) - INPUT_KEYS)
        if bad:
            raise UsageError(f"{path}: [input]: unknown key {bad[0]!r}")
        self.root = _resolve(base, inp.get("root", "."))
        self.patterns = list(inp.get("patterns", ["**/*.txt"]))
        self.input_columns = {
            "format": inp.get("format", "auto"),
            "text_column": inp.get("text_column", "text"),
            **{c: inp.get(c) for c in ("id_column", "title_column", "date_column", "author_column", "source_column")},
        }
        self.format = inp.get("format", "auto")
        if input_override:
            if not _is_uri(input_override) and os.path.isfile(input_override):
                self.root = os.path.dirname(os.path.abspath(input_override))
                self.patterns = [themata.glob_escape(os.path.basename(input_override))]
            else:
                self.root = input_override if _is_uri(input_override) else os.path.abspath(input_override)
        self.output = output_override or _resolve(base, doc["output"])
        self.ingest = dict(doc.get("ingest", {}))
        self.analyzer = dict(doc.get("analyzer", {}))
        self.tfidf = dict(doc.get("tfidf", {}))
        self.cluster = dict(doc.get("cluster", {}))
        themes = doc.get("themes", {})
        if not isinstance(themes, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in themes.values()
        ):
            raise UsageError(f"{path}: [themes]: each theme is a list of seed words")
        self.themes = [(name, list(seeds)) for name, seeds in themes.items()]
        extra: list[str] = []
        self.stop_words_hash: Optional[tuple[str, str]] = None
        if self.analyzer.get("stop_words_file"):
            given = self.analyzer["stop_words_file"]
            f = given if os.path.isabs(given) else posixpath.normpath(posixpath.join(os.path.dirname(path) or ".", given))
            try:
                with open(f, "rb") as fh:
                    raw = fh.read()
                extra = themata.word_list(raw.decode("utf-8"))
                self.stop_words_hash = (f, hashlib.sha256(raw).digest()[:16].hex())
            except (OSError, UnicodeDecodeError) as e:
                raise UsageError(f"{path}: analyzer.stop_words_file: {f}: {getattr(e, 'strerror', e)}")
            self.analyzer["stop_words_file"] = f
        self.extra_stop_words = extra
        # every section checked before any work, with the core's own rules
        try:
            themata.Analyzer(self.analyzer_json, self.extra_stop_words)
            themata.settings_json("ingest", self.ingest_json)
            themata.settings_json("tfidf", self.tfidf_json)
            themata.settings_json("cluster", json.dumps(self.cluster), self.themes)
        except ValueError as e:
            raise UsageError(f"{path}: {e}")

    @property
    def ingest_json(self) -> str:
        return json.dumps(self.ingest)

    @property
    def analyzer_json(self) -> str:
        return json.dumps(self.analyzer)

    @property
    def tfidf_json(self) -> str:
        return json.dumps(self.tfidf)


class RecordError(Exception):
    """A record file that cannot be read at all (no such column, a bad header)."""


class InputError(Exception):
    """Input that stops the run (exit code 1), named by file."""


# Warnings of one record file kept one by one; the others are counted in one (as the CLI).
RECORD_WARNINGS = 20


def _json_string(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return str(v) if isinstance(v, int) else repr(v)
    return None


def _jsonl_records(rel: str, data: bytes, cols: dict):
    """The CLI's JSON Lines reading: one object per line (lines counted from 1, blank ones
    skipped), the id column's value or the line number as the id."""
    out, warnings, lossy = [], [], False
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    tc = cols["text_column"]
    for n, raw in enumerate(lines, 1):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line, lossy = raw.decode("utf-8", errors="replace"), True
        if not line.strip():
            continue
        try:
            v = json.loads(line)
        except ValueError as e:
            warnings.append(f"{rel}:{n}: malformed JSON ({e}), record skipped")
            continue
        body = v.get(tc) if isinstance(v, dict) else None
        if not isinstance(body, str):
            warnings.append(f"{rel}:{n}: no text field {json.dumps(tc)}, record skipped")
            continue

        def field(c):
            return _json_string(v.get(c)) if c else None

        rid = field(cols["id_column"])
        out.append(
            (
                rid if rid is not None else str(n),
                body,
                field(cols["title_column"]),
                field(cols["date_column"]),
                field(cols["author_column"]),
                field(cols["source_column"]),
            )
        )
    if lossy:
        warnings.insert(0, f"{rel}: invalid UTF-8, decoded with replacement characters")
    return out, warnings


def _csv_records(rel: str, data: bytes, cols: dict):
    """The CLI's CSV reading: a header row, one record per row, the id column's value or
    the line the record starts on as the id; empty metadata fields left out."""
    import csv
    import io

    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    r = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(r)
    except StopIteration:
        raise RecordError(f"{rel}: CSV header: the file is empty")
    except csv.Error as e:
        raise RecordError(f"{rel}: CSV header: {e}")

    def find(name, what):
        if name is None:
            return None
        if name not in header:
            raise RecordError(f"{rel}: no {what} column {json.dumps(name)} (columns: {', '.join(header)})")
        return header.index(name)

    t = find(cols["text_column"], "text")
    idc = find(cols["id_column"], "id")
    meta = [find(cols[c], c.split("_")[0]) for c in ("title_column", "date_column", "author_column", "source_column")]
    out, warnings = [], []
    line = r.line_num
    while True:
        start = line + 1
        try:
            rec = next(r)
        except StopIteration:
            break
        except csv.Error as e:
            warnings.append(f"{rel}: {e}, record skipped")
            line = r.line_num
            continue
        line = r.line_num
        if not rec:
            continue
        if len(rec) != len(header):
            warnings.append(
                f"{rel}: CSV error: record (line {start}): found record with {len(rec)} fields, "
                f"but the header has {len(header)} fields, record skipped"
            )
            continue

        def get(c):
            return rec[c] if c is not None and rec[c] != "" else None

        out.append((rec[idc] if idc is not None else str(start), rec[t], *[get(c) for c in meta]))
    return out, warnings


def _parquet_records(rel: str, data: bytes, cols: dict):
    """The CLI's Parquet reading: one record per row (rows counted from 0 for the id), the
    columns read as strings; a null text is skipped with a warning."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - any unreadable file is named
        raise RecordError(f"{rel}: not a Parquet file ({e})")
    names = f.schema_arrow.names
    wanted = [("text", cols["text_column"])] + [
        (c.split("_")[0], cols[c]) for c in ("id_column", "title_column", "date_column", "author_column", "source_column")
    ]
    for what, c in wanted:
        if c is not None and c not in names:
            raise RecordError(f"{rel}: no {what} column {json.dumps(c)} (columns: {', '.join(names)})")
    t = f.read(columns=sorted({c for _, c in wanted if c is not None}))

    def strings(c):
        if c is None:
            return None
        a = t.column(c)
        if not pa.types.is_string(a.type) and not pa.types.is_large_string(a.type):
            a = a.cast(pa.string())
        return a.to_pylist()

    text, ids = strings(cols["text_column"]), strings(cols["id_column"])
    meta = [strings(cols[c]) for c in ("title_column", "date_column", "author_column", "source_column")]
    out, warnings = [], []
    for i, body in enumerate(text):
        if body is None:
            warnings.append(f"{rel}: row {i}: null text, record skipped")
            continue
        rid = ids[i] if ids is not None and ids[i] is not None else str(i)
        out.append((rid, body, *[(m[i] if m is not None else None) for m in meta]))
    return out, warnings


RECORD_FORMATS = {"jsonl": _jsonl_records, "csv": _csv_records, "parquet": _parquet_records}


def _markup_of(fmt: str, rel: str) -> str:
    if fmt == "auto":
        ext = rel.rsplit(".", 1)[-1].lower() if "." in rel else ""
        fmt = {
            "jsonl": "jsonl",
            "ndjson": "jsonl",
            "csv": "csv",
            "parquet": "parquet",
            "md": "markdown",
            "markdown": "markdown",
            "html": "html",
            "htm": "html",
        }.get(ext, "text")
    return fmt


# ---------------------------------------------------------------------------------------
# Progress and timing
# ---------------------------------------------------------------------------------------


class Log:
    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.seconds: dict[str, float] = {}
        self.warnings: list[str] = []
        self.input_hashes: dict[str, str] = {}

    def stage(self, name: str, what: str):
        log = self

        class _Stage:
            def __enter__(self):
                self.t = time.perf_counter()
                if not log.quiet and log.tty:
                    print(f"{PROG}: {what} ...", file=sys.stderr, flush=True)
                return self

            def __exit__(self, *exc):
                log.seconds[name] = round(time.perf_counter() - self.t, 3)
                return False

        return _Stage()

    def warn(self, msg: str):
        self.warnings.append(msg)
        if not self.quiet:
            print(f"{PROG}: warning: {msg}", file=sys.stderr)


# ---------------------------------------------------------------------------------------
# The stages
# ---------------------------------------------------------------------------------------


def _list_inputs(spark, p: Pipeline):
    """(Spark path, relative path) of every input file matching the patterns, in the
    CLI's order (relative path, code-point order), and the `binaryFile` frame of the root
    that reads them. Spark's file index lists the root on the driver (no job runs)."""
    root = p.root
    if not _is_uri(root):
        if not os.path.exists(root):
            raise UsageError(f"{root}: input directory not found")
        if not os.path.isdir(root):
            raise UsageError(f"{root}: input root is not a directory")
    base = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(root)
    # the file index names files as URIs (file:///a/b%20c); the frame's `path` column as
    # Hadoop paths (file:/a/b c): both sides use the column's form
    listing = [_path_form(u) for u in base.inputFiles()]
    root_form = _path_form(_root_uri(root))
    try:
        names = [_strip_root(path, root_form) for path in listing]
        matched = themata.glob_matches(p.patterns, names)
    except ValueError as e:
        raise UsageError(f"{p.file}: {e}")
    files = sorted(((path, rel) for path, rel, hit in zip(listing, names, matched) if hit), key=lambda f: f[1])
    if not files:
        raise UsageError(f"{root}: no input files match {', '.join(p.patterns)}")
    return files, base, len(files) == len(listing)


def _path_form(uri: str) -> str:
    """A file's URI as binaryFile's `path` column names it."""
    return re.sub(r"^file:/+", "file:/", urllib.parse.unquote(uri))


def _root_uri(root: str) -> str:
    if _is_uri(root):
        return root.rstrip("/")
    return "file:" + urllib.parse.quote(os.path.abspath(root).rstrip("/"))


def _strip_root(path: str, root: str) -> str:
    if path.startswith(root + "/"):
        return path[len(root) + 1 :]
    return posixpath.basename(path)


# the matched files given to Spark as a filter on `path` (pushed down to the file source, so
# that other files under the root are not read) up to this many; past it every file under
# the root is read and the map steps skip those that do not match
PATH_FILTER_MAX = 20_000


PASSAGE_FIELDS = ["ordinal", "text", "char_start", "char_end", "status", "reason"]


def _ingest_files(spark, p: Pipeline, files, base, every_file: bool, log: Log):
    """Stage 1: documents and passages (before boilerplate and duplicates), per file, read
    from the root's `binaryFile` frame (`base`; only the matched `files` unless
    `every_file`)."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    index = {path: (i, rel) for i, (path, rel) in enumerate(files)}
    b_index = spark.sparkContext.broadcast(index)
    columns = p.input_columns
    ingest_json, fmt = p.ingest_json, p.format
    # one row per input file (kind "file"), document, passage, warning or error; `sub` is a
    # document's place in its file (records), `key` a passage's repeated-line key
    schema, arrow_schema = _schemas(
        "file int, sub int, kind string, path string, title string, date string, author string, "
        "source string, n_passages bigint, n_chars bigint, content_hash string, ordinal bigint, "
        "text string, char_start bigint, char_end bigint, status string, reason string, key string"
    )
    names = [f.name for f in schema.fields]

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import themata as th

        idx = b_index.value
        for batch in batches:
            paths = batch.column("path").to_pylist()
            # text, Markdown and HTML files in Rust, straight from the Arrow batch; record
            # files (JSON Lines, CSV, Parquet) by the readers above, file by file
            plain, records = [], []
            for j, path in enumerate(paths):
                hit = idx.get(path)
                if hit is None:
                    continue  # under the root, not matched by input.patterns
                kind = _markup_of(fmt, hit[1])
                (records if kind in RECORD_FORMATS else plain).append((j, hit[0], hit[1], kind))
            if plain:
                sel = batch.select(["content"]).take(pa.array([r[0] for r in plain]))
                yield th.read_files(
                    sel, [r[1] for r in plain], [r[2] for r in plain], [r[3] for r in plain], ingest_json
                )
            if not records:
                continue
            out: dict[str, list] = {n: [] for n in names}

            def row(**kw):
                for n in names:
                    out[n].append(kw.get(n))

            content = batch.column("content")
            for j, i, rel, kind in records:
                data = content[j].as_py()
                row(file=i, kind="file", path=rel, content_hash=th.content_hash(data))
                try:
                    recs, warnings = RECORD_FORMATS[kind](rel, data, columns)
                except RecordError as e:
                    row(file=i, kind="error", text=str(e))
                    continue
                if len(warnings) > RECORD_WARNINGS:
                    more = len(warnings) - RECORD_WARNINGS
                    warnings = warnings[:RECORD_WARNINGS] + [
                        f"{rel}: {more} more warnings, not shown ({RECORD_WARNINGS + more} in all)"
                    ]
                if not recs:
                    warnings.append(f"{rel}: no records")
                for w in warnings:
                    row(file=i, kind="warning", text=w)
                # documents of one file in order: (file, sub) orders them
                for sub, (rid, text, title, date, author, source) in enumerate(recs):
                    h = th.content_hash(text.encode("utf-8"))
                    doc, ps = th.record_document(f"{rel}#{rid}", text, title, date, author, source, h, ingest_json)
                    row(file=i, sub=sub, kind="doc", **doc)
                    keys = th.repeated_keys(ps["text"])
                    for k in range(len(ps["text"])):
                        row(file=i, sub=sub, kind="passage", key=keys[k], **{f: ps[f][k] for f in PASSAGE_FIELDS})
            yield pa.RecordBatch.from_pydict(out, schema=arrow_schema)

    raw = base
    if not every_file and len(files) <= PATH_FILTER_MAX:
        # one SQL expression (a Column.isin of many paths costs a Py4J call per path)
        raw = base.filter(F.expr(f"path IN ({', '.join(_sql_string(f[0]) for f in files)})"))
    return raw.select("path", "content").mapInArrow(read, schema)


def _sql_string(s: str) -> str:
    """A Spark SQL string literal of `s`."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _arrow(t):
    import pyarrow as pa
    from pyspark.sql import types as T

    return {
        T.IntegerType: pa.int32(),
        T.LongType: pa.int64(),
        T.StringType: pa.string(),
        T.DoubleType: pa.float64(),
        T.BooleanType: pa.bool_(),
        T.BinaryType: pa.binary(),
    }[type(t)]


def _schemas(ddl: str):
    """The Spark schema of a DDL string (``name type, ...``) and the Arrow schema of the
    batches a ``mapInArrow`` function yields for it."""
    from pyspark.sql.types import _parse_datatype_string

    schema = _parse_datatype_string(ddl)
    return schema, _arrow_schema(schema)


def _arrow_schema(schema):
    import pyarrow as pa

    return pa.schema([(f.name, _arrow(f.dataType)) if not hasattr(f.dataType, "elementType") else (f.name, pa.list_(_arrow(f.dataType.elementType))) for f in schema.fields])


def _mark_documents(spark, p: Pipeline, stage1, partitions: int, log: Log):
    """Stage 2: ids in document order, and the boilerplate rules per document with the
    corpus-wide counts of repeated short lines."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    # the file, error, warning and document rows in one pass (every row but the passages)
    meta = (
        stage1.filter(F.col("kind") != "passage")
        .select("file", "sub", "kind", "path", "title", "date", "author", "source", "n_passages", "n_chars", "content_hash", "text")
        .collect()
    )
    meta.sort(key=lambda r: (r["file"], r["sub"] if r["sub"] is not None else -1))
    log.input_hashes = dict(sorted((r["path"], r["content_hash"]) for r in meta if r["kind"] == "file"))
    errors = [r for r in meta if r["kind"] == "error"]
    if errors:
        raise InputError(errors[0]["text"])
    doc_fields = ["file", "sub", "path", "title", "date", "author", "source", "n_passages", "n_chars", "content_hash"]
    docs = [{f: r[f] for f in doc_fields} for r in meta if r["kind"] == "doc"]
    for r in meta:
        if r["kind"] == "warning":
            log.warn(r["text"])
    first: dict[tuple[int, int], tuple[int, int]] = {}
    next_passage = 0
    documents = []
    for doc_id, d in enumerate(docs):
        first[(d["file"], d["sub"])] = (doc_id, next_passage)
        next_passage += d["n_passages"]
        row = dict(d)
        del row["sub"]
        documents.append({**row, "doc_id": doc_id})
    if next_passage == 0:
        raise RuntimeError(f"empty corpus: {len(docs)} input file(s) hold no text")
    passages = stage1.filter(F.col("kind") == "passage").select("file", "sub", *PASSAGE_FIELDS, "key")
    repeated: set[str] = set()
    boilerplate = p.ingest.get("boilerplate", True)
    if boilerplate:
        rows = passages.filter(F.col("key").isNotNull()).groupBy("key").count().filter(F.col("count") > 1).collect()
        repeated = {r["key"] for r in rows}
    b_first = spark.sparkContext.broadcast(first)
    b_repeated = spark.sparkContext.broadcast(repeated)
    schema, arrow_schema = _schemas(
        "passage_id bigint, doc_id bigint, ordinal bigint, text string, char_start bigint, "
        "char_end bigint, status string, reason string"
    )

    def mark(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import themata as th

        fst, rep = b_first.value, b_repeated.value
        pending: dict[str, list] = {n: [] for n in ["file", "sub", *PASSAGE_FIELDS, "key"]}

        def flush(upto: int):
            """Mark and emit the buffered rows of the documents before row `upto`."""
            cols = {k: v[:upto] for k, v in pending.items()}
            for k in pending:
                del pending[k][:upto]
            if not cols["file"]:
                return None
            docs = list(zip(cols["file"], cols["sub"]))
            doc_ids = [fst[d][0] for d in docs]
            status, reason = cols["status"], cols["reason"]
            if boilerplate:
                status, reason = th.mark_boilerplate(
                    doc_ids, cols["text"], status, reason, [k is not None and k in rep for k in cols["key"]]
                )
            out = {
                "passage_id": [fst[d][1] + o for d, o in zip(docs, cols["ordinal"])],
                "doc_id": doc_ids,
                "ordinal": cols["ordinal"],
                "text": cols["text"],
                "char_start": cols["char_start"],
                "char_end": cols["char_end"],
                "status": list(status),
                "reason": list(reason),
            }
            return pa.RecordBatch.from_pydict(out, schema=arrow_schema)

        for batch in batches:
            for k in pending:
                pending[k].extend(batch.column(k).to_pylist())
            files = list(zip(pending["file"], pending["sub"]))
            if files:
                last = files[-1]
                cut = len(files)
                while cut > 0 and files[cut - 1] == last:
                    cut -= 1
                b = flush(cut)  # every document but the last, which may go on
                if b is not None:
                    yield b
        b = flush(len(pending["file"]))
        if b is not None:
            yield b

    parts = max(1, min(partitions, len(docs)))
    marked = (
        passages.repartition(parts, "file", "sub").sortWithinPartitions("file", "sub", "ordinal").mapInArrow(mark, schema)
    )
    return documents, marked


def _mark_duplicates(spark, p: Pipeline, marked, log: Log):
    """Stage 3: near-duplicates, by a shuffle by shingle hash and the decision on the
    driver over shared shingles only. Returns the final passages and the duplicate pairs."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if not p.ingest.get("dedupe", True):
        return marked, None
    schema, arrow_schema = _schemas("passage_id bigint, shingles array<bigint>, size bigint, text_key binary")

    def shingle(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import themata as th

        for batch in batches:
            yield th.shingle_batch(batch)

    kept = marked.filter(F.col("status") == "kept").select("passage_id", "text")
    sh = kept.mapInArrow(shingle, schema).persist()
    shared = (
        sh.select("passage_id", F.explode("shingles").alias("h"))
        .groupBy("h")
        .agg(F.count("*").alias("n"), F.collect_list("passage_id").alias("ids"))
        .filter(F.col("n") > 1)
        .select("h", F.explode("ids").alias("passage_id"))
        .groupBy("passage_id")
        .agg(F.collect_list("h").alias("shared"))
    )
    rows = (
        shared.join(sh.select("passage_id", "size", "text_key"), "passage_id")
        .orderBy("passage_id")
        .collect()
    )
    sh.unpersist()
    pairs = themata.find_duplicates(
        [r["passage_id"] for r in rows],
        [r["shared"] for r in rows],
        [r["size"] for r in rows],
        [bytes(r["text_key"]) for r in rows],
        float(p.ingest.get("near_duplicate", 0.7)),
        float(p.ingest.get("containment", 0.75)),
    )
    dup = {pid: (of, kind) for pid, of, kind in zip(pairs["passage_id"], pairs["duplicate_of"], pairs["kind"])}
    b_dup = spark.sparkContext.broadcast(dup)
    out_schema = T.StructType(marked.schema.fields + [T.StructField("duplicate_of", T.LongType())])
    out_arrow = _arrow_schema(out_schema)

    def apply(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow.compute as pc

        d = b_dup.value
        dup_ids = pa.array(sorted(d), pa.int64())
        dup_of = pa.array([d[k][0] for k in sorted(d)], pa.int64())
        dup_kind = pa.array([d[k][1] for k in sorted(d)], pa.string())
        for batch in batches:
            # per passage its place among the duplicates (null: not one), in Arrow throughout
            at = pc.index_in(batch.column("passage_id"), value_set=dup_ids)
            hit = pc.is_valid(at)
            cols = {name: batch.column(name) for name in batch.schema.names}
            cols["status"] = pc.if_else(hit, pa.scalar("duplicate"), cols["status"])
            cols["reason"] = pc.if_else(hit, pc.take(dup_kind, at), cols["reason"])
            cols["duplicate_of"] = pc.take(dup_of, at)
            yield pa.RecordBatch.from_arrays([cols[f.name] for f in out_arrow], schema=out_arrow)

    return marked.mapInArrow(apply, out_schema), pairs


def _analyze(spark, p: Pipeline, kept, log: Log):
    """Stage 4: term counts per partition; df, cf and surface forms merged by a Spark
    aggregation; the vocabulary finished on the driver."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    analyzer_json, extra = p.analyzer_json, p.extra_stop_words
    # kind 0: a passage's row of term counts; kind 1: a term of the partition, its counts
    schema, arrow_schema = _schemas(
        "kind int, passage_id bigint, terms array<string>, counts array<bigint>, term string, "
        "df bigint, cf bigint, forms array<string>, form_counts array<bigint>"
    )

    def count(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import themata as th

        analyzer = th.Analyzer(analyzer_json, extra)
        # the partition's passages in one count (the core parallelises it), read from the
        # Arrow batches in Rust; its passage rows and term rows come back as Arrow batches
        batches = [b for b in batches if b.num_rows]
        if not batches:
            return
        rows, terms = analyzer.count_batches(batches).batches()
        yield rows
        yield terms

    counted = kept.select("passage_id", "text").mapInArrow(count, schema).persist()
    terms_rows = counted.filter(F.col("kind") == 1)
    stats = terms_rows.groupBy("term").agg(F.sum("df").alias("df"), F.sum("cf").alias("cf")).collect()
    forms = (
        terms_rows.select("term", F.arrays_zip("forms", "form_counts").alias("z"))
        .select("term", F.explode("z").alias("z"))
        .select("term", F.col("z.forms").alias("form"), F.col("z.form_counts").alias("n"))
        .groupBy("term", "form")
        .agg(F.sum("n").alias("n"))
        .collect()
    )
    by_term: dict[str, list[tuple[str, int]]] = {}
    for r in forms:
        by_term.setdefault(r["term"], []).append((r["form"], int(r["n"])))
    stats = sorted(stats, key=lambda r: r["term"])
    terms = [r["term"] for r in stats]
    surfaces = [sorted(by_term.get(t, [])) for t in terms]
    labels = [themata.label_of(s) for s in surfaces]
    n_rows = kept.count()
    vocab = themata.vocabulary(
        terms, labels, [int(r["df"]) for r in stats], [int(r["cf"]) for r in stats], n_rows, p.tfidf_json
    )
    vocab["_n_rows"] = n_rows
    rows = counted.filter(F.col("kind") == 0).select("passage_id", "terms", "counts")
    return vocab, surfaces, rows, counted


def _weigh(spark, p: Pipeline, vocab, rows, log: Log):
    """Stage 5: each partition weights its rows with the broadcast vocabulary."""
    import pyarrow as pa

    b_vocab = _broadcast_vocabulary(spark, vocab)
    tfidf_json = p.tfidf_json
    schema, _ = _schemas("kept boolean, passage_id bigint, term_id bigint, count bigint, weight double")

    def weigh(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import themata as th

        weigher = th.Weigher(*b_vocab.value, tfidf_json)
        for batch in batches:
            yield weigher.weigh(batch)

    return rows.mapInArrow(weigh, schema)


def _broadcast_vocabulary(spark, vocab):
    """The vocabulary's terms, idf and kept flags, broadcast for `themata.Weigher`."""
    return spark.sparkContext.broadcast((list(vocab["term"]), [float(x) for x in vocab["idf"]], list(vocab["kept"])))


# ---------------------------------------------------------------------------------------
# Clustering: LSA and k-means as driver loops over the partitions' partial products/sums
# ---------------------------------------------------------------------------------------


def _merge_blocks(blocks: list) -> dict:
    """The CSR blocks of one partition (as `Shards` makes them) as one block."""
    import numpy as np

    def cat(name, dtype):
        parts = [np.frombuffer(b[name], dtype=dtype) for b in blocks]
        return (np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)).tobytes()

    ptrs, base = [np.zeros(1, dtype=np.int64)], 0
    for b in blocks:
        p = np.frombuffer(b["indptr"], dtype=np.int64)
        ptrs.append(p[1:] + base)
        base += int(p[-1])
    out = {n: cat(n, t) for n, t in (("passage_ids", np.int64), ("cols", np.uint32), ("term_ids", np.uint32),
                                     ("values", np.float64), ("counts", np.uint32), ("empty", np.int64))}
    out["indptr"] = np.concatenate(ptrs).tobytes()
    return out


class Shards:
    """The kept passages' TF-IDF rows with at least one kept term, in passage order, as
    shards (Arrow batches of the partitions, in partition order) cached by Spark. `each(f)`
    runs `f(shard)` on every shard and returns the results in shard order, whatever the order
    in which the tasks finish: every sum the driver forms from them runs in the same order."""

    def __init__(self, spark, vocab, rows, tfidf_json: str):
        import numpy as np
        import pyarrow as pa

        kept = np.asarray(vocab["kept"], dtype=bool)
        dense = (np.cumsum(kept) - 1).astype(np.int64)
        self.n_cols = int(kept.sum())
        b_vocab = _broadcast_vocabulary(spark, vocab)
        b_dense = spark.sparkContext.broadcast(dense)
        self.b_dense = b_dense
        self.b_components = None
        schema, arrow_schema = _schemas(
            "passage_ids binary, indptr binary, cols binary, term_ids binary, values binary, "
            "counts binary, empty binary"
        )

        def block(batches):
            import themata as th

            weigher, dense_ = th.Weigher(*b_vocab.value, tfidf_json), b_dense.value
            for batch in batches:
                pids, ptr, kt, kc, kw, empty = weigher.csr(batch)
                yield pa.RecordBatch.from_pydict(
                    {
                        "passage_ids": [pids.tobytes()],
                        "indptr": [ptr.tobytes()],
                        "cols": [dense_[kt].astype(np.uint32).tobytes()],
                        "term_ids": [kt.tobytes()],
                        "values": [kw.tobytes()],
                        "counts": [kc.tobytes()],
                        "empty": [empty.tobytes()],
                    },
                    schema=arrow_schema,
                )

        blocks = rows.orderBy("passage_id").mapInArrow(block, schema)
        # one shard per partition: fewer, larger partial results to collect and add
        keyed = blocks.rdd.mapPartitionsWithIndex(lambda i, it: [((i, 0), _merge_blocks([r.asDict() for r in it]))]).persist()
        meta = sorted(
            keyed.map(
                lambda kv: (kv[0], len(kv[1]["passage_ids"]) // 8, len(kv[1]["empty"]) // 8)
            ).collect()
        )
        pos, offset = {}, 0
        self.sizes = []
        self.n_empty = 0
        for sid, (key, n, e) in enumerate(meta):
            pos[key] = (sid, offset)
            offset += n
            self.sizes.append(n)
            self.n_empty += e
        self.n_nonempty = offset
        b_pos = spark.sparkContext.broadcast(pos)

        def decode(kv):
            key, r = kv
            sid, off = b_pos.value[key]
            return {
                "sid": sid,
                "offset": off,
                "passage_ids": np.frombuffer(r["passage_ids"], dtype=np.int64),
                "indptr": np.frombuffer(r["indptr"], dtype=np.int64),
                "cols": np.frombuffer(r["cols"], dtype=np.uint32),
                "term_ids": np.frombuffer(r["term_ids"], dtype=np.uint32),
                "values": np.frombuffer(r["values"], dtype=np.float64),
                "counts": np.frombuffer(r["counts"], dtype=np.uint32),
                "empty": np.frombuffer(r["empty"], dtype=np.int64),
            }

        self.rdd = keyed.map(decode).persist()
        self._keyed = keyed
        self.jobs = 0

    def each(self, f):
        self.jobs += 1
        out = self.rdd.map(lambda s: (s["sid"], f(s))).collect()
        out.sort(key=lambda x: x[0])
        return [r for _, r in out]

    def with_embedding(self, components):
        """The shards with their LSA embedding (double, and single for k-means)."""
        import numpy as np

        b_c = self.rdd.context.broadcast(np.ascontiguousarray(components))
        self.b_components = b_c

        def embed(s):
            import themata as th

            e = th.lsa_transform(s["indptr"], s["cols"], s["values"], b_c.value)
            return {**s, "x": e, "x32": np.ascontiguousarray(e.astype(np.float32))}

        old = self.rdd
        self.rdd = old.map(embed).persist()
        return old

    def with_dense(self):
        """The shards with their TF-IDF rows as dense rows over the kept terms (k-means on
        the TF-IDF rows themselves, for small corpora)."""
        import numpy as np

        n_cols = self.n_cols

        def dense(s):
            ptr = s["indptr"]
            x = np.zeros((len(ptr) - 1, n_cols), dtype=np.float64)
            for r in range(len(ptr) - 1):
                x[r, s["cols"][ptr[r] : ptr[r + 1]]] = s["values"][ptr[r] : ptr[r + 1]]
            return {**s, "x": x, "x32": np.ascontiguousarray(x.astype(np.float32))}

        old = self.rdd
        self.rdd = old.map(dense).persist()
        return old

    def unpersist(self):
        self.rdd.unpersist()
        self._keyed.unpersist()


def _in_order_sum(parts):
    total = None
    for x in parts:
        total = x.copy() if total is None else total + x
    return total


def _lsa(shards: Shards, n_rows: int, dims_wanted: int, seed: int):
    """The CLI's randomized SVD (`lsa::fit`) with every product of the TF-IDF matrix summed
    over the shards in shard order: the range finder's power iterations, CholeskyQR between
    them, the basis from `Bᵀ = Xᵀ Q`."""
    import themata as th

    n_cols = shards.n_cols
    dims, l = th.lsa_widths(n_rows, n_cols, dims_wanted)
    omega = th.lsa_gaussian(n_cols, l, seed)
    rows_smaller = n_rows <= n_cols
    iterations = th.lsa_power_iterations()

    def tall(s, d, single, factors):
        y = th.lsa_product(s["indptr"], s["cols"], s["values"], d, single)
        for f in factors:
            y = th.lsa_apply(y, f)
        return y

    def gram_of(d, single, factors):
        return _in_order_sum(shards.each(lambda s: th.gram(tall(s, d, single, factors))))

    def t_product(d, single, factors, single_sum):
        return _in_order_sum(
            shards.each(
                lambda s: th.lsa_transpose_product(
                    s["indptr"], s["cols"], s["values"], n_cols, tall(s, d, single, factors), single_sum
                )
            )
        )

    d, single = omega, True
    for i in range(iterations):
        if rows_smaller:
            f = th.orthonormal_factor(gram_of(d, single, []))
            z = t_product(d, single, [f], True)
        else:
            z = th.orthonormal(t_product(d, single, [], True), 1)
        d, single = z, i + 1 < iterations
    f1 = th.orthonormal_factor(gram_of(d, single, []))
    f2 = th.orthonormal_factor(gram_of(d, single, [f1]))
    bt = t_product(d, single, [f1, f2], False)
    components, sigma = th.lsa_basis(bt, dims)
    return components, sigma


def _sweep(shards: "Shards", k_range, fit, log: Log):
    """`k = "auto"`: every k of the range fitted (`fit(k)`) and scored as the CLI scores it —
    the silhouette of an evenly spaced sample of rows (gathered on the driver, at most
    2,000), Calinski–Harabasz and Davies–Bouldin from per-partition sums added in partition
    order — and one chosen by the CLI's rule. Returns (the chosen fit, the sweep's rows)."""
    import numpy as np
    import themata as th

    n = shards.n_nonempty
    sample = np.asarray(th.sweep_sample(n), dtype=np.int64)
    ctx = shards.rdd.context
    b_sample = ctx.broadcast(sample)

    def take(s):
        at = b_sample.value - s["offset"]
        return s["x"][at[(at >= 0) & (at < s["x"].shape[0])]]

    xs = np.concatenate(shards.each(take))
    rows, fits = [], []
    for k in range(k_range[0], k_range[1] + 1):
        f = fit(k)
        b_c = ctx.broadcast(th.unit_rows(f[0].astype(np.float64)))  # the CLI labels by cosine

        def sums(s, k=k, b_c=b_c):
            return th.centroid_sums(s["x"], th.nearest(s["x"], b_c.value), k)

        parts = shards.each(sums)
        total = _in_order_sum([x[0] for x in parts])
        size = np.sum([x[1] for x in parts], axis=0).astype(np.int64)
        mu = np.divide(total, size[:, None], out=np.zeros_like(total), where=size[:, None] > 0)
        b_mu = ctx.broadcast(mu)

        def spread(s, b_c=b_c, b_mu=b_mu):
            return th.dispersion(s["x"], th.nearest(s["x"], b_c.value), b_mu.value)

        d = shards.each(spread)
        within = 0.0
        for x in d:
            within += x[0]
        spreads = _in_order_sum([np.asarray(x[1]) for x in d])
        overall = total.sum(axis=0) / n
        sampled = th.nearest(xs, b_c.value)
        rows.append(
            th.sweep_score(k, xs, sampled, mu, size.tolist(), overall, within, spreads.tolist(), n)
        )
        fits.append(f)
        b_c.unpersist()
        b_mu.unpersist()
    best, warning = th.sweep_choose(
        [(r["k"], r["silhouette"], r["calinski_harabasz"], r["davies_bouldin"]) for r in rows]
    )
    if warning:
        log.warn(warning)
    rows = [{**r, "chosen": i == best} for i, r in enumerate(rows)]
    return fits[best], rows


def _cluster(spark, p: Pipeline, vocab, rows, n_rows: int, log: Log, w: "Writer"):
    """Stage 6: the LSA basis and k-means (discover mode, a k = "auto" sweep) or the guided
    themes' k-means as driver loops over the partitions' partial products and sums, merged
    themes, then the assignments, explanations, the clusters' terms and names and the
    dendrogram; writes the cluster stage's tables. Returns (what the manifest records of
    the clustering, what model.json says of it)."""
    import numpy as np
    import themata as th

    shards = Shards(spark, vocab, rows, p.tfidf_json)
    plan = th.cluster_plan(json.dumps(p.cluster), shards.n_nonempty, shards.n_cols, p.themes)
    k = plan["k"]
    guided = plan["mode"] == "guided"
    seeds = None
    if guided:
        seeds, seed_rows, seed_warnings = th.seed_centroids(
            p.themes,
            th.Analyzer(p.analyzer_json, p.extra_stop_words),
            vocab["term"],
            vocab["label"],
            vocab["df"],
            vocab["idf"],
            vocab["kept"],
            plan["min_live_seeds"],
        )
        for msg in seed_warnings:
            log.warn(msg)
    else:
        seed_rows = {n: [] for n, _ in SCHEMAS["theme_seeds"]}
    sigma = None
    if plan["use_lsa"]:
        components, sigma = _lsa(shards, n_rows, plan["lsa_dims"], plan["seed"])
        old = shards.with_embedding(components)
        dims = components.shape[1]
        space = f"lsa ({dims} dimensions)"
        if guided:
            seeds = th.lsa_project(seeds, components)
    else:
        old = shards.with_dense()
        dims = shards.n_cols
        space = f"tfidf ({dims} terms)"
    info = {}
    if guided:

        def ask_guided(request: str) -> list[str]:
            return shards.each(lambda s: th.guided_answer(request, s["offset"], s["x"]))

        unit = th.guided_fit(
            seeds, plan["extra_clusters"], plan["seed_weight"], plan["max_iterations"], shards.sizes, ask_guided
        )
        floors = (plan["min_similarity"], plan["min_margin"])
        fixed = [name for name, _ in p.themes] + [None] * plan["extra_clusters"]
    else:

        def ask(request: str) -> list[str]:
            return shards.each(lambda s: th.kmeans_answer(request, s["sid"], s["offset"], s["x32"]))

        def fit(k: int):
            return th.kmeans_fit(
                shards.sizes, dims, k, plan["n_runs"], plan["max_iterations"], plan["tolerance"], plan["seed"], ask
            )

        if plan["k_range"] is None:
            centroids, inertia, iterations, run = fit(k)
        else:
            (centroids, inertia, iterations, run), info["k_sweep"] = _sweep(shards, plan["k_range"], fit, log)
            k = centroids.shape[0]
        unit = th.unit_rows(centroids.astype(np.float64))
        floors, fixed = None, None
        info.update({"inertia": inertia, "iterations": iterations, "restart": run})
    n_terms = len(vocab["term"])

    def class_sums(s, c, k):
        """A shard's term counts and weight sums per class (k: the unassigned passages),
        keyed by class × n_terms + term."""
        label = np.array([k if x is None else x for x in c], dtype=np.int64)
        key = np.repeat(label, np.diff(s["indptr"])) * n_terms + s["term_ids"].astype(np.int64)
        keys, inverse = np.unique(key, return_inverse=True)
        counts = np.bincount(inverse, weights=s["counts"].astype(np.float64), minlength=len(keys))
        weights = np.bincount(inverse, weights=s["values"], minlength=len(keys))
        return keys, counts, weights

    def merged_sums(parts, k):
        """The shards' class sums added in shard order: (classes, weight_sums) as
        describe_clusters takes them."""
        keys = np.concatenate([x[0] for x in parts])
        merged, inverse = np.unique(keys, return_inverse=True)
        counts = np.bincount(inverse, weights=np.concatenate([x[1] for x in parts]), minlength=len(merged))
        wsums = np.bincount(inverse, weights=np.concatenate([x[2] for x in parts]), minlength=len(merged))
        classes = [dict() for _ in range(k + 1)]
        weight_sums = [dict() for _ in range(k)]
        for key, n, wsum in zip(merged.tolist(), counts.tolist(), wsums.tolist()):
            cl, t = divmod(key, n_terms)
            classes[cl][t] = n
            if cl < k:
                weight_sums[cl][t] = wsum
        return classes, weight_sums

    # cluster.merge_above / merge_to: the fitted themes joined along the dendrogram of their
    # centroids, as the CLI joins them (a pass over the rows names the fitted clusters)
    fitted_fixed = list(fixed) if fixed else [None] * k

    def fitted_clusters():
        b_fit = spark.sparkContext.broadcast(unit)

        def count(s):
            c = th.assign(s["x"], b_fit.value, floors)[0]
            return [x for x in c if x is not None], class_sums(s, c, k)

        parts = shards.each(count)
        sizes = np.bincount(np.array([x for part in parts for x in part[0]], dtype=np.int64), minlength=k)
        classes, weight_sums = merged_sums([part[1] for part in parts], k)
        described = th.describe_clusters(
            classes, weight_sums, sizes.tolist(), k, vocab["term"], vocab["label"], plan["top_terms"], fitted_fixed
        )
        return sizes.tolist(), described["names"]

    merged = th.merge_themes(unit, fitted_fixed, plan["merge_above"], plan["merge_to"], fitted_clusters)
    joins = []
    if merged is not None:
        unit, fixed, joins = merged["centroids"], merged["fixed"], merged["joins"]
        k = unit.shape[0]
        # seed words belong to the theme their theme became part of (listed by it)
        own = [name for name, _ in p.themes] if guided else []

        def group_of(theme):
            return merged["group_of"][own.index(theme)] if theme in own else None

        groups = [group_of(t) for t in seed_rows["theme"]]
        seed_rows["theme"] = [fixed[g] if g is not None and fixed[g] else t for t, g in zip(seed_rows["theme"], groups)]
        order = sorted(range(len(groups)), key=lambda i: float("inf") if groups[i] is None else groups[i])
        seed_rows = {n: [v[i] for i in order] for n, v in seed_rows.items()}
    w.columns("theme_seeds", seed_rows)
    b_unit = spark.sparkContext.broadcast(unit)
    b_dense, b_comp = shards.b_dense, shards.b_components
    explain_terms = plan["explain_terms"]

    def place(s):
        c, sim, margin, status = th.assign(s["x"], b_unit.value, floors)
        keys, counts, weights = class_sums(s, c, k)
        explained = th.explain_rows(
            s["passage_ids"], s["indptr"], s["term_ids"], s["values"], b_dense.value, s["x"],
            b_unit.value, None if b_comp is None else b_comp.value, explain_terms,
        )
        return (s["passage_ids"].tolist(), c, sim.tolist(), margin.tolist(), status,
                (keys, counts, weights), s["empty"].tolist(), explained)

    placed = shards.each(place)
    shards.unpersist()
    old.unpersist()
    classes, weight_sums = merged_sums([part[5] for part in placed], k)
    rows_out = []
    for pids, c, sim, margin, status, _, empty, _ in placed:
        for i, pid in enumerate(pids):
            rows_out.append((pid, c[i], sim[i], margin[i], status[i]))
        for pid in empty:
            rows_out.append((pid, None, 0.0, 0.0, "no_terms"))
    rows_out.sort(key=lambda r: r[0])
    sizes = [0] * k
    for r in rows_out:
        if r[1] is not None:
            sizes[r[1]] += 1
    described = th.describe_clusters(
        classes, weight_sums, sizes, k, vocab["term"], vocab["label"], plan["top_terms"], fixed
    )
    names = described["names"]
    cols = list(zip(*rows_out))
    w.columns(
        "assignments",
        {
            "passage_id": list(cols[0]),
            "cluster": list(cols[1]),
            "theme": ["unassigned" if c is None else names[c] for c in cols[1]],
            "similarity": list(cols[2]),
            "margin": list(cols[3]),
            "status": list(cols[4]),
        },
    )
    w.columns("clusters", {"cluster": list(range(k)), "theme": names, "size": sizes, "top_terms": described["top_terms"]})
    w.columns("cluster_terms", described["cluster_terms"])
    w.columns("theme_hierarchy", th.theme_hierarchy(unit, names, sizes))
    # why each passage got its theme, in passage order (the shards' order)
    parts = [part[7] for part in placed]
    explained = {n: np.concatenate([e[n] for e in parts]) for n in parts[0] if n != "role"}
    explained["role"] = [r for e in parts for r in e["role"]]
    label_of = np.asarray(vocab["label"], dtype=object)
    names_of = np.asarray(names, dtype=object)
    explained["theme"] = names_of[explained["cluster"]].tolist()
    explained["label"] = label_of[explained["term_id"]].tolist()
    explained["space"] = ["lsa" if sigma is not None else "tfidf"] * len(explained["role"])
    w.columns("explanations", explained)
    # the fitted model: the centroids (in the TF-IDF space only their non-zero values, with
    # their term), the LSA basis (every value, term by term), model.json
    kept_ids = np.flatnonzero(np.asarray(vocab["kept"], dtype=bool)).astype(np.uint32)
    if sigma is None:
        ci, di = np.nonzero(unit)
        term_of = kept_ids[di].tolist()
    else:
        ci, di = np.divmod(np.arange(unit.size), unit.shape[1])
        term_of = [None] * unit.size
    w.columns(
        "centroids",
        {
            "cluster": ci.tolist(),
            "theme": names_of[ci].tolist(),
            "dimension": di.tolist(),
            "term_id": term_of,
            "value": unit[ci, di].tolist(),
        },
    )
    if sigma is None:
        w.columns("lsa_components", {"term_id": [], "dimension": [], "value": []})
    else:
        n_kept, d_ = components.shape
        w.columns(
            "lsa_components",
            {
                "term_id": np.repeat(kept_ids, d_),
                "dimension": np.tile(np.arange(d_, dtype=np.uint32), n_kept),
                "value": np.ascontiguousarray(components).ravel(),
            },
        )
    model = {
        "mode": plan["mode"],
        "space": space,
        "lsa_dims": None if sigma is None else int(components.shape[1]),
        "singular_values": [] if sigma is None else [float(x) for x in sigma],
        "min_similarity": plan["min_similarity"] if guided else None,
        "min_margin": plan["min_margin"] if guided else None,
        "explain_terms": explain_terms,
        "clusters": [{"cluster": i, "theme": n} for i, n in enumerate(names)],
    }
    merges = [
        {"from": list(f), "similarity": sim, "into": names[g], "into_cluster": g} for f, sim, g in joins
    ]
    clustering = {
        "merges": merges,
        "mode": plan["mode"],
        "k": k,
        "space": space,
        **info,
        "singular_values": None if sigma is None else [float(x) for x in sigma],
        "spark_jobs": shards.jobs,
    }
    return clustering, model


# ---------------------------------------------------------------------------------------
# Writing the tables
# ---------------------------------------------------------------------------------------

U32, U64 = "uint32", "uint64"
SCHEMAS = {
    "documents": [
        ("doc_id", U32),
        ("path", "string"),
        ("title", "string"),
        ("date", "string"),
        ("author", "string"),
        ("source", "string"),
        ("n_passages", U32),
        ("n_chars", U64),
        ("content_hash", "string"),
    ],
    "passages": [
        ("passage_id", U32),
        ("doc_id", U32),
        ("ordinal", U32),
        ("text", "string"),
        ("char_start", U64),
        ("char_end", U64),
        ("status", "string"),
        ("reason", "string"),
        ("duplicate_of", U32),
    ],
    "duplicates": [
        ("passage_id", U32),
        ("duplicate_of", U32),
        ("kind", "string"),
        ("jaccard", "float64"),
        ("containment", "float64"),
    ],
    "vocabulary": [
        ("term_id", U32),
        ("term", "string"),
        ("label", "string"),
        ("df", U32),
        ("cf", U64),
        ("idf", "float64"),
        ("kept", "bool"),
        ("dropped_reason", "string"),
    ],
    "tfidf": [("passage_id", U32), ("term_id", U32), ("count", U32), ("weight", "float64")],
    "term_counts": [("passage_id", U32), ("term_id", U32), ("count", U32)],
    "surface_forms": [("term_id", U32), ("surface", "string"), ("occurrences", U64)],
    "assignments": [
        ("passage_id", U32),
        ("cluster", U32),
        ("theme", "string"),
        ("similarity", "float64"),
        ("margin", "float64"),
        ("status", "string"),
    ],
    "clusters": [("cluster", U32), ("theme", "string"), ("size", U32), ("top_terms", "string")],
    "cluster_terms": [
        ("cluster", U32),
        ("measure", "string"),
        ("rank", U32),
        ("term_id", U32),
        ("term", "string"),
        ("label", "string"),
        ("weight", "float64"),
    ],
    "theme_hierarchy": [
        ("node", U32),
        ("left", U32),
        ("right", U32),
        ("similarity", "float64"),
        ("themes", U32),
        ("passages", U32),
        ("members", "string"),
    ],
    "explanations": [
        ("passage_id", U32),
        ("role", "string"),
        ("cluster", U32),
        ("theme", "string"),
        ("similarity", "float64"),
        ("rank", U32),
        ("term_id", U32),
        ("label", "string"),
        ("weight", "float64"),
        ("contribution", "float64"),
        ("space", "string"),
    ],
    "centroids": [
        ("cluster", U32),
        ("theme", "string"),
        ("dimension", U32),
        ("term_id", U32),
        ("value", "float64"),
    ],
    "lsa_components": [("term_id", U32), ("dimension", U32), ("value", "float64")],
    "theme_seeds": [
        ("theme", "string"),
        ("seed", "string"),
        ("terms", "string"),
        ("label", "string"),
        ("df", U32),
        ("status", "string"),
    ],
}


class Writer:
    """Tables into a staging directory beside the output, moved in place when the run is
    done: a failed run leaves no half-written output."""

    def __init__(self, spark, p: Pipeline, out: str):
        self.spark, self.p, self.out = spark, p, out
        parent = os.path.dirname(os.path.abspath(out)) or "."
        os.makedirs(parent, exist_ok=True)
        self.stage = tempfile.mkdtemp(prefix=".themata-spark-", dir=parent)
        self.rows: dict[str, int] = {}

    def _schema(self, table: str):
        import pyarrow as pa

        fields = [(n, pa.type_for_alias(t)) for n, t in SCHEMAS[table]]
        meta = {
            "themata.version": themata.__version__,
            "themata.pipeline": self.p.name,
            "themata.table": table,
            "themata.engine": "spark",
        }
        return pa.schema(fields, metadata=meta)

    def columns(self, table: str, cols: dict[str, list]):
        """A small table from columns held on the driver."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = self._schema(table)
        t = pa.Table.from_pydict({n: cols[n] for n in schema.names}, schema=schema)
        pq.write_table(t, os.path.join(self.stage, f"{table}.parquet"), compression="zstd")
        self.rows[table] = t.num_rows

    def frame(self, table: str, df, order: list[str]):
        """A large table from a Spark DataFrame, partitioned: sorted by `order` (a range
        partitioning, so part i holds rows before part i + 1's), each part written by its
        executor with the CLI's types as `TABLE.parquet/part-NNNNN.parquet` — nothing passes
        through the driver. The parts in name order are the table (the CLI, DuckDB's
        `read_parquet('TABLE.parquet/*.parquet')` and Polars read it so)."""
        import pyarrow.parquet as pq
        from pyspark.sql.types import LongType, StructField, StructType

        schema = self._schema(table)
        target = os.path.join(self.stage, f"{table}.parquet")
        os.makedirs(target)

        def write(batches):
            import pyarrow as pa
            import pyarrow.parquet as pq
            from pyspark import TaskContext

            part = os.path.join(target, f"part-{TaskContext.get().partitionId():05d}.parquet")
            n, w = 0, None
            try:
                for b in batches:
                    if not b.num_rows:
                        continue
                    if w is None:
                        w = pq.ParquetWriter(part + ".tmp", schema, compression="zstd")
                    w.write_table(pa.Table.from_batches([b]).select(schema.names).cast(schema))
                    n += b.num_rows
            finally:
                if w is not None:
                    w.close()
            if w is not None:
                os.replace(part + ".tmp", part)  # a retried task's part replaces the first
            yield pa.RecordBatch.from_pydict({"rows": [n]})

        counts = (
            df.select(*schema.names)
            .orderBy(*order)
            .mapInArrow(write, StructType([StructField("rows", LongType())]))
            .collect()
        )
        n = sum(r["rows"] for r in counts)
        if n == 0:  # no part holds rows: one empty part keeps the schema
            pq.write_table(schema.empty_table(), os.path.join(target, "part-00000.parquet"), compression="zstd")
        self.rows[table] = n

    def model_file(self, p: "Pipeline", vocab, n_rows: int, m: dict):
        """model.json as the CLI writes it (the same fields in the same order): what
        `themata apply` places new documents with; `m` is what the cluster stage fitted
        (mode, space, LSA dimensions and singular values, floors, explain_terms, clusters)."""
        import themata as th

        analyzer = json.loads(th.settings_json("analyzer", p.analyzer_json))
        if analyzer.get("stop_words_file"):  # no path of this machine in the model
            analyzer["stop_words_file"] = os.path.basename(analyzer["stop_words_file"])
        model = {
            "format": MODEL_FORMAT,
            "themata_version": themata.__version__,
            "pipeline": p.name,
            "input": dict(p.input_columns),
            "patterns": p.patterns,
            "ingest": json.loads(th.settings_json("ingest", p.ingest_json)),
            "analyzer": analyzer,
            "extra_stop_words": p.extra_stop_words,
            "tfidf": json.loads(th.settings_json("tfidf", p.tfidf_json)),
            "mode": m["mode"],
            "space": m["space"],
            "lsa_dims": m["lsa_dims"],
            "singular_values": m["singular_values"],
            "min_similarity": m["min_similarity"],
            "min_margin": m["min_margin"],
            "explain_terms": m["explain_terms"],
            "clusters": m["clusters"],
            "passages": n_rows,
            "terms": len(vocab["term"]),
            "kept_terms": int(sum(1 for k in vocab["kept"] if k)),
            "vocabulary_hash": self.hash_of("vocabulary"),
        }
        with open(os.path.join(self.stage, "model.json"), "w") as f:
            json.dump(model, f, indent=2, ensure_ascii=False)
            f.write("\n")

    def hash_of(self, table: str) -> str:
        """The content hash the CLI checks: of a file, its bytes; of a partitioned table,
        its listing (a line `NAME HASH` per part, in name order)."""
        path = os.path.join(self.stage, f"{table}.parquet")
        if os.path.isdir(path):
            parts = sorted(f for f in os.listdir(path) if f.endswith(".parquet") and f[0] not in "._")
            listing = "".join(f"{f} {_file_hash(os.path.join(path, f))}\n" for f in parts)
            return hashlib.sha256(listing.encode()).digest()[:16].hex()
        return _file_hash(path)

    def finish(self, manifest: dict):
        with open(os.path.join(self.stage, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.write("\n")
        os.makedirs(self.out, exist_ok=True)
        # the tables first, the manifest that vouches for them last
        for name in sorted(os.listdir(self.stage), key=lambda n: n == "manifest.json"):
            dest = os.path.join(self.out, name)
            if os.path.isdir(dest) and not os.path.islink(dest):
                shutil.rmtree(dest)  # a partitioned table of an earlier run
            elif os.path.isdir(os.path.join(self.stage, name)) and os.path.lexists(dest):
                os.remove(dest)  # one file of an earlier run, now partitioned
            os.replace(os.path.join(self.stage, name), dest)
        os.rmdir(self.stage)

    def abort(self):
        shutil.rmtree(self.stage, ignore_errors=True)


def _file_hash(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.digest()[:16].hex()


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------


def run(spark, p: Pipeline, partitions: int, quiet: bool = False) -> dict:
    """Run the pipeline on `spark`; returns the manifest written beside the tables."""
    from pyspark.sql import functions as F

    log = Log(quiet)
    # small files packed into about `partitions` read tasks (Spark's default counts 4 MB per
    # file opened, which makes a task of every 32 files of a corpus of small documents),
    # unless set by --conf
    for key, value in (("spark.sql.files.openCostInBytes", "8192"), ("spark.sql.files.minPartitionNum", str(partitions))):
        if key not in USER_CONF:
            spark.conf.set(key, value)
    if _is_uri(p.output) and not p.output.startswith("file:"):
        raise UsageError(f"{p.output}: the Spark driver writes to a local or mounted directory only")
    w = Writer(spark, p, p.output)
    try:
        with log.stage("list", "listing input files"):
            files, base, every_file = _list_inputs(spark, p)
        with log.stage("ingest", f"reading {len(files)} files into passages"):
            stage1 = _ingest_files(spark, p, files, base, every_file, log).persist()
            documents, marked = _mark_documents(spark, p, stage1, partitions, log)
            missing = sorted({rel for _, rel in files} - set(log.input_hashes))
            if missing:  # every matched file is read, or the run stops
                raise InputError(f"{missing[0]}: listed but not read ({len(missing)} file(s) in all)")
            marked = marked.persist()
            passages, pairs = _mark_duplicates(spark, p, marked, log)
            if pairs is None:
                passages = passages.withColumn("duplicate_of", F.lit(None).cast("long"))
                pairs = {k: [] for k, _ in SCHEMAS["duplicates"]}
            passages = passages.persist()
            w.columns(
                "documents",
                {
                    **{k: [d[k] for d in documents] for k, _ in SCHEMAS["documents"]},
                    **{k: [d[k] or "" for d in documents] for k in ("date", "author", "source")},
                },
            )
            w.frame("passages", passages, ["passage_id"])
            w.columns("duplicates", pairs)
            stage1.unpersist()
            marked.unpersist()
        with log.stage("analyze", "counting terms"):
            kept = passages.filter(F.col("status") == "kept")
            if kept.limit(1).count() == 0:
                raise RuntimeError("no kept passages: every passage is boilerplate, a duplicate or short")
            vocab, surfaces, rows, counted = _analyze(spark, p, kept, log)
            w.rows_of_kept = int(vocab.pop("_n_rows"))
            w.columns("vocabulary", vocab)
            w.columns(
                "surface_forms",
                {
                    "term_id": [t for t, s in enumerate(surfaces) for _ in s],
                    "surface": [f for s in surfaces for f, _ in s],
                    "occurrences": [n for s in surfaces for _, n in s],
                },
            )
        with log.stage("tfidf", "weighting rows"):
            weighted = _weigh(spark, p, vocab, rows, log).persist()
            w.frame("tfidf", weighted.filter(F.col("kept")), ["passage_id", "term_id"])
            w.frame("term_counts", weighted.filter(~F.col("kept")), ["passage_id", "term_id"])
            weighted.unpersist()
        n_kept = w.rows_of_kept
        cluster_warnings = len(log.warnings)  # log.warnings from here on are the cluster stage's
        with log.stage("cluster", "clustering"):
            clustering, model = _cluster(spark, p, vocab, rows, n_kept, log, w)
        w.model_file(p, vocab, n_kept, model)
        counted.unpersist()
        passages.unpersist()
        manifest = _manifest(spark, p, partitions, log, w, clustering, cluster_warnings)
        w.finish(manifest)
    except BaseException:
        w.abort()
        raise
    return manifest


STAGE_TABLES = {
    "ingest": ["documents", "passages", "duplicates"],
    "tfidf": ["vocabulary", "tfidf", "term_counts", "surface_forms"],
    "cluster": [
        "assignments",
        "clusters",
        "cluster_terms",
        "theme_seeds",
        "theme_hierarchy",
        "explanations",
        "centroids",
        "lsa_components",
    ],
}
# the tables whose rows a stage's record counts, as the CLI's (not the model's tables)
STAGE_ROWS = {
    **STAGE_TABLES,
    "cluster": [t for t in STAGE_TABLES["cluster"] if t not in ("centroids", "lsa_components")],
}
# model.json's layout (the CLI's tables::MODEL_FORMAT)
MODEL_FORMAT = 1


def _manifest(spark, p: Pipeline, partitions: int, log: Log, w: Writer, clustering, cluster_warnings: int) -> dict:
    """manifest.json in the CLI's form: per stage the settings and input files it ran with
    (as the CLI records them, so that `themata report` can check them), the content hash of
    every table written, rows and timings, and `engine: spark`."""
    import themata as th

    ingest_settings = {
        "patterns": p.patterns,
        "input": p.input_columns,
        "ingest": json.loads(th.settings_json("ingest", p.ingest_json)),
    }
    tfidf_settings = {
        "analyzer": json.loads(th.settings_json("analyzer", p.analyzer_json)),
        "tfidf": json.loads(th.settings_json("tfidf", p.tfidf_json)),
    }
    cluster_settings = json.loads(th.settings_json("cluster", json.dumps(p.cluster), p.themes))
    stages = {}
    upstream = ""
    spark_info = {"master": spark.sparkContext.master, "spark": spark.version, "partitions": partitions}
    plan = [
        ("ingest", ingest_settings, log.input_hashes, ["list", "ingest"]),
        ("tfidf", tfidf_settings, dict([p.stop_words_hash]) if p.stop_words_hash else {}, ["analyze", "tfidf"]),
        ("cluster", cluster_settings, {}, ["cluster"]),
    ]
    # each stage's warnings, as the CLI records them (the report lists them all)
    warnings = {"ingest": log.warnings[:cluster_warnings], "tfidf": [], "cluster": log.warnings[cluster_warnings:]}
    for name, settings, inputs, steps in plan:
        outputs = {f"{t}.parquet": w.hash_of(t) for t in STAGE_TABLES[name]}
        if name == "cluster":
            outputs["model.json"] = _file_hash(os.path.join(w.stage, "model.json"))
        key = json.dumps([name, settings, inputs, upstream], sort_keys=True)
        fingerprint = "spark:" + hashlib.sha256(key.encode()).hexdigest()
        results = {"spark": {**spark_info, "seconds": {s_: log.seconds.get(s_, 0.0) for s_ in steps}}}
        if name == "cluster":
            results = {"space": clustering["space"], **results, "spark_cluster": clustering}
            # as the CLI records them (the report reads them)
            if clustering.get("k_sweep"):
                results["k_sweep"] = clustering["k_sweep"]
            if clustering["merges"]:
                results["merges"] = clustering["merges"]
        stages[name] = {
            "fingerprint": fingerprint,
            "version": themata.__version__,
            "build": "spark",
            "engine": "spark",
            "settings": settings,
            "results": results,
            "inputs": inputs,
            "upstream": upstream,
            "outputs": outputs,
            "rows": {t: w.rows[t] for t in STAGE_ROWS[name]},
            "seconds": round(sum(log.seconds.get(s_, 0.0) for s_ in steps), 3),
            "warnings": warnings[name],
        }
        upstream = fingerprint
    return {
        "themata_version": themata.__version__,
        "pipeline": p.name,
        "pipeline_file": p.file,
        "seed": int(cluster_settings["cluster"]["seed"]),
        "threads": partitions,
        "stages": stages,
    }


# the settings given with --conf (run() leaves them as given)
USER_CONF: set[str] = set()


def _session(master: Optional[str], partitions: int, conf: list[tuple[str, str]]):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName("themata")
    if master:
        b = b.master(master)
    given = {k for k, _ in conf}
    USER_CONF.update(given)
    if "spark.driver.memory" not in given and "PYSPARK_SUBMIT_ARGS" not in os.environ:
        # in local mode the executors are the driver's JVM, and it caches every stage
        b = b.config("spark.driver.memory", "4g")
    for k, v in conf:
        b = b.config(k, v)
    b = (
        b.config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(max(1, partitions)))
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2000")
        .config("spark.executorEnv.PYSPARK_PYTHON", os.environ["PYSPARK_PYTHON"])
    )
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m themata.spark",
        description="Run a themata pipeline file on Apache Spark: the CLI's tables, computed by Spark.",
        epilog=(
            "examples:\n"
            "  python -m themata.spark run pipelines/khamenei.toml --master 'local[2]'\n"
            "  python -m themata.spark run pipelines/bbc.toml --input ../shared/corpora/bbc "
            "--output out/bbc-spark --master spark://127.0.0.1:7077\n"
            "  themata report pipelines/bbc.toml --output out/bbc-spark   # the report, by the CLI\n"
            "exit codes: 0 done, 1 the run failed, 2 bad command line or pipeline file"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a pipeline file (ingest, analyze, tfidf, cluster)")
    r.add_argument("pipeline", help="the pipeline file (TOML), as for `themata run`")
    r.add_argument("--input", help="replace the input root (a directory or URI, or one file)")
    r.add_argument("--output", help="replace the output directory")
    r.add_argument("--master", help="Spark master URL (default: spark-submit's, else local[*])")
    r.add_argument(
        "--partitions", type=int, default=None, help="partitions of each stage (default: Spark's default parallelism)"
    )
    r.add_argument("--quiet", "-q", action="store_true", help="no progress or warnings on stderr")
    r.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE",
        help="a Spark setting, as spark-submit's --conf (default spark.driver.memory=4g)",
    )
    args = ap.parse_args(argv)
    try:
        if args.partitions is not None and args.partitions < 1:
            raise UsageError("--partitions must be at least 1")
        conf = []
        for kv in args.conf:
            if "=" not in kv:
                raise UsageError(f"--conf {kv!r}: expected KEY=VALUE")
            conf.append(tuple(x.strip() for x in kv.split("=", 1)))
        p = Pipeline(args.pipeline, args.input, args.output)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    spark = _session(args.master, args.partitions or 4, conf)
    try:
        partitions = args.partitions or spark.sparkContext.defaultParallelism
        m = run(spark, p, partitions, args.quiet)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - the message is what the user needs
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    seconds = {k: v for st in m["stages"].values() for k, v in st["results"]["spark"]["seconds"].items()}
    print(f"{PROG}: stages {json.dumps(seconds)}", file=sys.stderr)
    if not args.quiet:
        tables = ", ".join(f"{k} {v}" for st in m["stages"].values() for k, v in st["rows"].items())
        print(f"{PROG}: wrote {p.output}: {tables}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
