"""Approximate nearest neighbours on disk: an HNSW graph of one model's vectors (usearch), built
by `paperboy index` when a model has more vectors than exact search handles fast, and memory-mapped
read-only by every process that searches, so the web workers share one copy in the page cache.

A build is four files in the vectors directory: `<model>-<build>.usearch` (the graph and the
vectors as float16), `<model>-<build>.ids.npy` (the paper ids, ascending, and the version each
vector embeds), `<model>-<build>.f16` (the vectors again, raw float16 rows in id order: scoring
a few thousand allowed papers exactly reads them 20 times faster than asking the graph) and the
pointer `<model>.json`, replaced last and atomically, which names the current build and the
vectors generation it was read at. A process keeps searching the build it
opened until it opens the next one; the builder deletes older builds (a process that still maps
one keeps its pages until it lets go).

Measured here (docs/search.md; bench/search_speed.py --million): 1,000,000 vectors of 384
dimensions build in ~16 minutes on 2 busy cores into a 0.9 GB file; real queries' top 10 match
exact search's at 0.97 (recall@10) in ~4 ms a query, against 130 ms for exact search.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from paperboy.private_files import PRIVATE_FILE, private_dir, write_private
from paperboy.storage.vectors import StoredVectors

Ids = npt.NDArray[np.int64]
Matrix = npt.NDArray[np.float32]

# HNSW parameters: 16 links per node and 128 candidates while adding; searches consider at
# least SEARCH_EXPANSION candidates. On 1M vectors and real queries, k = 100 (docs/search.md):
# 200 gives recall@10 0.91 in 1.4 ms, 400 0.95 in 2.2 ms, 800 0.97 in 3.7 ms, 1600 0.98 in 7 ms.
CONNECTIVITY = 16
ADD_EXPANSION = 128
SEARCH_EXPANSION = 800


class AnnUnavailable(RuntimeError):
    """usearch is not installed: approximate search cannot be built or opened here."""


@dataclass(frozen=True, slots=True)
class AnnPointer:
    """What `<model>.json` says: which build is current, and of which vectors."""

    build: str
    generation: int  # the vectors generation (storage/vectors.py) read before the vectors
    count: int
    dimensions: int

    def as_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


@dataclass(frozen=True, slots=True)
class AnnFile:
    """One opened build: search the graph, or read its vectors back for exact scoring."""

    pointer: AnnPointer
    ids: Ids  # ascending
    versions: Ids
    rows: npt.NDArray[np.float16]  # the vectors, one row per id (memory-mapped)
    index: Any  # usearch.index.Index, viewed (memory-mapped, read-only)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: Matrix, count: int) -> tuple[Ids, Matrix]:
        """About the `count` nearest ids to the unit `query`, best first, with their cosines."""
        with self.lock:  # one search context per index; searches take ~1 ms
            matches = self.index.search(query, count, threads=1)
        ids = np.asarray(matches.keys, dtype=np.int64)
        return ids, (1.0 - np.asarray(matches.distances, dtype=np.float32))

    def search_many(self, queries: Matrix, count: int, threads: int = 0) -> list[tuple[Ids, Matrix]]:
        """`search` for each row of `queries`, in one call on `threads` (0: all cores): what
        precomputing every paper's neighbours runs (services/paper_neighbours.py)."""
        with self.lock:
            matches = self.index.search(queries, count, threads=threads)
        keys = np.asarray(matches.keys, dtype=np.int64)
        similarities = 1.0 - np.asarray(matches.distances, dtype=np.float32)
        return [(keys[i, :n], similarities[i, :n]) for i, n in enumerate(np.asarray(matches.counts))]

    def vectors(self, ids: Ids) -> Matrix:
        """The stored vectors of `ids` (ascending, all in this file), as float32 rows."""
        positions = np.searchsorted(self.ids, ids)
        found: Matrix = self.rows[positions].astype(np.float32)
        return found


def _usearch() -> Any:
    try:
        from usearch.index import Index
    except ImportError as exc:  # pragma: no cover - usearch is a dependency
        raise AnnUnavailable("usearch is not installed (pip install usearch)") from exc
    return Index


def file_stem(model: str) -> str:
    """A file name for the model id (which may hold slashes)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model)


def read_pointer(directory: Path, model: str) -> AnnPointer | None:
    path = directory / f"{file_stem(model)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return AnnPointer(
        str(data["build"]), int(data["generation"]), int(data["count"]), int(data["dimensions"])
    )


def open_ann_file(directory: Path, model: str) -> AnnFile | None:
    """The model's current build, memory-mapped; None when there is none."""
    pointer = read_pointer(directory, model)
    if pointer is None:
        return None
    graph, id_file, row_file = _build_paths(directory, model, pointer.build)
    index = _usearch().restore(str(graph), view=True)
    pairs = np.load(id_file, mmap_mode="r")
    shape = (pointer.count, pointer.dimensions)
    rows = np.memmap(row_file, dtype=np.float16, mode="r", shape=shape)
    index.expansion_search = SEARCH_EXPANSION
    return AnnFile(pointer, pairs[0], pairs[1], rows, index)


def build_ann_file(
    directory: Path,
    model: str,
    generation: int,
    batches: Iterable[StoredVectors],
    *,
    threads: int = 0,
) -> AnnPointer:
    """Write a new build from `batches` (ascending ids throughout), make it current, and delete
    the model's older builds. `threads` 0: all cores."""
    private_dir(directory)
    build = uuid.uuid4().hex[:12]
    graph, id_file, row_file = _build_paths(directory, model, build)
    index: Any = None
    ids: list[Ids] = []
    versions: list[Ids] = []
    with os.fdopen(os.open(row_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), "wb") as rows:
        for batch in batches:
            if index is None:
                index = _new_index(batch.matrix.shape[1])
            index.add(batch.ids.astype(np.uint64), batch.matrix, threads=threads)
            rows.write(batch.matrix.astype("<f2").tobytes())
            ids.append(batch.ids)
            versions.append(batch.versions)
    if index is None:
        row_file.unlink()
        raise ValueError(f"no vectors of {model} to index")
    index.save(str(graph))
    np.save(id_file, np.stack([np.concatenate(ids), np.concatenate(versions)]))
    for path in (graph, id_file):  # written by libraries that follow the umask
        os.chmod(path, PRIVATE_FILE)
    pointer = AnnPointer(build, generation, int(sum(len(part) for part in ids)), int(index.ndim))
    _replace(directory / f"{file_stem(model)}.json", pointer.as_json())
    remove_builds(directory, model, keep=build)
    return pointer


def remove_builds(directory: Path, model: str, keep: str | None = None) -> None:
    """Delete the model's builds but `keep` (and the pointer too when keeping none)."""
    if keep is None:
        (directory / f"{file_stem(model)}.json").unlink(missing_ok=True)
    pattern = re.compile(re.escape(file_stem(model)) + r"-([0-9a-f]{12})\.(usearch|ids\.npy|f16)$")
    for path in directory.glob(f"{file_stem(model)}-*"):
        match = pattern.match(path.name)
        if match and match.group(1) != keep:
            path.unlink(missing_ok=True)


def _build_paths(directory: Path, model: str, build: str) -> tuple[Path, Path, Path]:
    stem = f"{file_stem(model)}-{build}"
    return directory / f"{stem}.usearch", directory / f"{stem}.ids.npy", directory / f"{stem}.f16"


def _new_index(dimensions: int) -> Any:
    return _usearch()(
        ndim=dimensions,
        metric="ip",  # unit vectors: inner product is the cosine
        dtype="f16",
        connectivity=CONNECTIVITY,
        expansion_add=ADD_EXPANSION,
        expansion_search=SEARCH_EXPANSION,
    )


def _replace(path: Path, text: str) -> None:
    write_private(path, text.encode("utf-8"))
