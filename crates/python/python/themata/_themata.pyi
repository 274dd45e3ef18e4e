"""Type stubs of themata's Rust core module (see the docstrings at run time)."""

from typing import Any, Callable, Optional

import numpy as np
import numpy.typing as npt

# an Arrow record batch: a pyarrow.RecordBatch, or anything with ``__arrow_c_array__``
RecordBatch = Any

Columns = dict[str, list]

def content_hash(data: bytes) -> str:
    """The content hash the CLI records: SHA-256, first 16 bytes, hex."""

def read_files(
    batch: RecordBatch, files: list[int], rels: list[str], markups: list[str], ingest: str = "{}"
) -> RecordBatch:
    """The ingest rows (file, warning, doc and passage rows, with repeated-line keys) of the
    text, Markdown and HTML files of a ``binaryFile`` batch (its ``content`` column), as a
    pyarrow.RecordBatch in the Spark driver's stage-1 schema."""

def shingle_batch(batch: RecordBatch) -> RecordBatch:
    """(passage_id, shingles: the word 3-gram hashes as int64, size, text_key: SHA-256 of the
    text) of the passages of an Arrow batch (passage_id: int64, text)."""

def glob_matches(patterns: list[str], paths: list[str]) -> list[bool]:
    """Whether each relative path matches any glob, as the CLI matches ``input.patterns``."""

def glob_escape(name: str) -> str:
    """A file name as a glob matching only it."""

def file_document(
    path: str, data: bytes, markup: str, content_hash: str, ingest: str = "{}"
) -> tuple[Optional[dict[str, object]], Columns, list[str]]:
    """A text, Markdown or HTML file's document and passages (``markup``: text, markdown or
    html; ``ingest``: the JSON of the pipeline's ``[ingest]``); warnings as the CLI's."""

def record_document(
    path: str,
    text: str,
    title: Optional[str],
    date: Optional[str],
    author: Optional[str],
    source: Optional[str],
    content_hash: str,
    ingest: str = "{}",
) -> tuple[dict[str, object], Columns]:
    """One record's document (``file#id``) and passages, its metadata read as the CLI reads it."""

def repeated_keys(texts: list[str]) -> list[Optional[str]]:
    """Per passage, its repeated-line key (None for passages over 20 words)."""

def mark_boilerplate(
    doc_ids: list[int],
    texts: list[str],
    statuses: list[str],
    reasons: list[Optional[str]],
    repeated: list[bool],
) -> tuple[list[str], list[Optional[str]]]:
    """The boilerplate rules over whole documents: new (status, reason) columns."""

def shingles(text: str) -> list[int]:
    """Word 3-gram hashes of a text, sorted, as signed 64-bit integers."""

def find_duplicates(
    ids: list[int],
    sets: list[list[int]],
    sizes: list[int],
    text_keys: list[bytes],
    near: float,
    containment: float,
) -> Columns:
    """Duplicate pairs (passage_id, duplicate_of, kind, jaccard, containment) in corpus order."""

def word_list(text: str) -> list[str]:
    """The words of a stop-words file's text."""

def label_of(surfaces: list[tuple[str, int]]) -> str:
    """A term's label: its most frequent surface form (ties: the smallest)."""

class Counts:
    """Term counts of a shard of passages; shards merge in order."""

    def merge(self, other: Counts) -> Counts: ...
    def __len__(self) -> int: ...
    @property
    def terms(self) -> list[str]: ...
    @property
    def df(self) -> list[int]: ...
    @property
    def cf(self) -> list[int]: ...
    @property
    def surfaces(self) -> list[list[tuple[str, int]]]: ...
    def batches(self) -> tuple[RecordBatch, RecordBatch]:
        """(passage rows: kind 0, passage_id, terms, counts; term rows: kind 1, term, df,
        cf, forms, form_counts) as pyarrow.RecordBatches in the driver's counted schema."""

    def rows(
        self,
    ) -> tuple[
        npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.uint32], npt.NDArray[np.uint32]
    ]:
        """(passage ids, indptr, term indices into ``terms``, counts)."""

class Analyzer:
    """The analyzer of a pipeline's ``[analyzer]`` section (JSON)."""

    def __init__(self, analyzer: str = "{}", extra_stop_words: list[str] = ...) -> None: ...
    def terms(self, text: str) -> list[str]: ...
    def count(self, ids: list[int], texts: list[str]) -> Counts: ...
    def count_batches(self, batches: list[RecordBatch]) -> Counts:
        """The counts of the passages of Arrow batches (columns passage_id: int64, text)."""

class Weigher:
    """A vocabulary (terms, idf, kept per term id) applied to counted rows in Arrow batches
    (passage_id, terms: list of strings, counts: list of int64)."""

    def __init__(self, terms: list[str], idf: list[float], kept: list[bool], tfidf: str = "{}") -> None: ...
    def weigh(self, batch: RecordBatch) -> RecordBatch:
        """One batch (kept, passage_id, term_id, count, weight): kept entries, then dropped."""
    def csr(
        self, batch: RecordBatch
    ) -> tuple[
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.float64],
        npt.NDArray[np.int64],
    ]:
        """(passage ids of rows with a kept term, indptr, term ids, counts, weights, passage
        ids of rows without one)."""

def vocabulary(
    terms: list[str],
    labels: list[str],
    df: list[int],
    cf: list[int],
    n_rows: int,
    tfidf: str,
) -> Columns:
    """vocabulary.parquet's columns from merged per-term statistics."""

def weigh(
    indptr: npt.NDArray[np.int64],
    term_ids: npt.NDArray[np.uint32],
    counts: npt.NDArray[np.uint32],
    idf: npt.NDArray[np.float64],
    kept: list[bool],
    tfidf: str,
) -> tuple[
    tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32], npt.NDArray[np.uint32], npt.NDArray[np.float64]],
    tuple[npt.NDArray[np.int64], npt.NDArray[np.uint32], npt.NDArray[np.uint32]],
]:
    """((indptr, term_ids, counts, weights) of kept terms, (indptr, term_ids, counts) of dropped)."""

def lsa_widths(n: int, n_cols: int, dims: int) -> tuple[int, int]: ...
def lsa_power_iterations() -> int: ...
def lsa_gaussian(rows: int, cols: int, seed: int) -> npt.NDArray[np.float64]: ...
def lsa_product(
    indptr: npt.NDArray[np.int64],
    cols: npt.NDArray[np.uint32],
    values: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    single: bool,
) -> npt.NDArray[np.float64]: ...
def lsa_transpose_product(
    indptr: npt.NDArray[np.int64],
    cols: npt.NDArray[np.uint32],
    values: npt.NDArray[np.float64],
    n_cols: int,
    d: npt.NDArray[np.float64],
    single: bool,
) -> npt.NDArray[np.float64]: ...
def gram(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
def orthonormal_factor(gram: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
def orthonormal(a: npt.NDArray[np.float64], passes: int) -> npt.NDArray[np.float64]: ...
def lsa_apply(a: npt.NDArray[np.float64], f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
def lsa_basis(
    bt: npt.NDArray[np.float64], dims: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def lsa_transform(
    indptr: npt.NDArray[np.int64],
    cols: npt.NDArray[np.uint32],
    values: npt.NDArray[np.float64],
    components: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]: ...
def centroid_sums(
    rows: npt.NDArray[np.float64], labels: list[int], k: int
) -> tuple[npt.NDArray[np.float64], list[int]]: ...
def assign(
    rows: npt.NDArray[np.float64],
    centroids: npt.NDArray[np.float64],
    floors: Optional[tuple[float, float]] = None,
) -> tuple[list[Optional[int]], npt.NDArray[np.float64], npt.NDArray[np.float64], list[str]]:
    """(cluster, similarity, margin, status) per row: the nearest centroid by cosine."""

def cluster_plan(
    cluster: str, n_nonempty: int, n_cols: int, themes: list[tuple[str, list[str]]] = ...
) -> dict[str, object]:
    """What the cluster stage does (``mode``, ``k``, ``k_range`` for ``k = "auto"``,
    ``use_lsa``, ...), as the CLI decides it."""

def seed_centroids(
    themes: list[tuple[str, list[str]]],
    analyzer: Analyzer,
    terms: list[str],
    labels: list[str],
    df: list[int],
    idf: list[float],
    kept: list[bool],
    min_live_seeds: int,
) -> tuple[npt.NDArray[np.float64], Columns, list[str]]:
    """Guided themes' centroids, their seed words' rows (theme_seeds.parquet) and warnings."""

def lsa_project(rows: npt.NDArray[np.float64], components: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
def guided_answer(request: str, offset: int, x: npt.NDArray[np.float64]) -> str:
    """A shard's answer to a request of ``guided_fit``."""

def guided_fit(
    seeds: npt.NDArray[np.float64],
    extra: int,
    weight: float,
    max_iterations: int,
    sizes: list[int],
    ask: Callable[[str], list[str]],
) -> npt.NDArray[np.float64]:
    """The CLI's guided k-means over shards: unit centroids, themes first."""

def kmeans_answer(request: str, index: int, offset: int, x: npt.NDArray[np.float32]) -> str:
    """A shard's answer to a request of ``kmeans_fit``."""

def kmeans_fit(
    sizes: list[int],
    d: int,
    k: int,
    n_runs: int,
    max_iterations: int,
    tolerance: float,
    seed: int,
    ask: Callable[[str], list[str]],
) -> tuple[npt.NDArray[np.float32], float, int, int]:
    """The CLI's k-means over shards: (centroids, inertia, iterations, restart kept)."""

def unit_rows(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Rows scaled to unit length (zero rows stay zero)."""

def describe_clusters(
    classes: list[dict[int, float]],
    weight_sums: list[dict[int, float]],
    sizes: list[int],
    k: int,
    terms: list[str],
    labels: list[str],
    top_terms: int,
    fixed: Optional[list[Optional[str]]] = None,
) -> dict:
    """The clusters as the CLI describes them, from merged term counts (``classes``, one more
    at ``k`` for the unassigned passages) and weight sums: ``names``, ``top_terms`` and
    ``cluster_terms`` (the columns of cluster_terms.parquet)."""

def theme_hierarchy(centroids: np.ndarray, names: list[str], sizes: list[int]) -> dict[str, list]:
    """The columns of theme_hierarchy.parquet: the average-linkage joins of unit centroids."""

def merge_themes(
    centroids: np.ndarray,
    fixed: list[Optional[str]],
    above: Optional[float],
    to: Optional[int],
    sizes: Callable[[], tuple[list[int], list[str]]],
) -> Optional[dict]:
    """The merge ``cluster.merge_above`` / ``merge_to`` asks of the fitted unit centroids, as
    the CLI merges: None when it takes no join (``sizes`` is not called), else ``centroids``
    (one unit row per group), ``fixed``, ``group_of`` and ``joins``. ``sizes()`` returns the
    fitted clusters' passages and names."""

def sweep_sample(n: int) -> list[int]:
    """``k = "auto"``: the positions of the evenly spaced sample the silhouette is computed on."""

def nearest(rows: np.ndarray, centroids: np.ndarray) -> list[int]:
    """Each row's nearest centroid by dot product (ties: the lower id)."""

def dispersion(rows: np.ndarray, labels: list[int], mu: np.ndarray) -> tuple[float, list[float]]:
    """(within, spread) of a shard's rows given the cluster means: what shards add up for
    Calinski–Harabasz and Davies–Bouldin."""

def sweep_score(
    k: int,
    sample: np.ndarray,
    sampled: list[int],
    mu: np.ndarray,
    size: list[int],
    overall: np.ndarray,
    within: float,
    spread: list[float],
    n: int,
) -> dict:
    """One row of a sweep of k as the CLI scores it (``k``, ``silhouette``,
    ``calinski_harabasz``, ``davies_bouldin``, rounded to 6 decimals)."""

def sweep_choose(rows: list[tuple[int, float, float, float]]) -> tuple[int, Optional[str]]:
    """The index of the k the CLI's rule chooses, and the warning when it ends the range."""

def explain_rows(
    passage_ids: np.ndarray,
    indptr: np.ndarray,
    term_ids: np.ndarray,
    values: np.ndarray,
    columns: np.ndarray,
    x: np.ndarray,
    centroids: np.ndarray,
    components: Optional[np.ndarray],
    top: int,
) -> dict:
    """A shard's explanations (the columns passage_id, role, cluster, similarity, rank,
    term_id, weight, contribution of explanations.parquet): each row's top ``top`` terms
    towards its nearest centroid and the runner-up. ``columns[term_id]`` is a term's column
    among the kept terms, ``x`` the rows as embedded, ``components`` the LSA basis or None."""
def settings_json(section: str, json: str, themes: list[tuple[str, list[str]]] = ...) -> str:
    """A section's settings as the CLI records them in manifest.json (defaults filled in)."""

def core_version() -> str: ...
