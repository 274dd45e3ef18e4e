"""themata for Python: the pure pipeline of themata (its Rust core) for a distributed engine.

Each function works on one shard of a corpus (a Spark partition, a slice of passages) and
returns state that merges, or applies state that was merged; ``themata.spark`` runs a whole
pipeline file on Apache Spark with them. See ``help(themata._themata)`` for every function.
"""

from ._themata import (  # noqa: F401
    Analyzer,
    Counts,
    assign,
    centroid_sums,
    cluster_plan,
    core_version,
    file_document,
    find_duplicates,
    gram,
    guided_answer,
    guided_fit,
    kmeans_answer,
    kmeans_fit,
    label_of,
    lsa_apply,
    lsa_basis,
    lsa_gaussian,
    lsa_power_iterations,
    lsa_project,
    lsa_product,
    lsa_transform,
    lsa_transpose_product,
    lsa_widths,
    mark_boilerplate,
    orthonormal,
    orthonormal_factor,
    record_document,
    repeated_keys,
    seed_centroids,
    settings_json,
    shingles,
    theme_names,
    unit_rows,
    vocabulary,
    weigh,
    word_list,
)

__version__ = core_version()
