"""One backend of bench/scale.py, measured in a process of its own (its RSS is the backend's):
`python -m bench.scale_child BACKEND URL WORKDIR TRUTH.npz OUT.json`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.reference_vectors import MODEL


def main(backend: str, url: str, work: Path, truth_path: Path, out: Path) -> None:
    from paperboy.services.pgvector_index import PgVectorIndex
    from paperboy.services.vector_index import VectorIndex, build_ann_index
    from paperboy.services.vector_search import ensure_database_index
    from paperboy.storage.engine import make_engine

    engine = make_engine(url)
    truth = np.load(truth_path)
    directory = work / "vectors"
    started = time.perf_counter()
    if backend == "pgvector":
        ensure_database_index(engine, MODEL, rebuild=True)
    elif backend == "per-host":
        build_ann_index(engine, MODEL, directory)
    build_s = time.perf_counter() - started
    index: Any
    if backend == "pgvector":
        index = PgVectorIndex(engine, MODEL)
    else:
        index = VectorIndex(engine, MODEL, directory=directory if backend == "per-host" else None)
    started = time.perf_counter()
    index.nearest(truth["semantic"][0], 10)  # loads the vectors or the file (nothing for pgvector)
    open_s = time.perf_counter() - started
    similar, similar_ms = _timed(lambda pid: index.neighbours_of(int(pid), 10)[0], truth["similar"])
    semantic, semantic_ms = _timed(lambda q: index.nearest(q, 200)[0][:10], truth["semantic"])
    result = {
        "build_s": build_s,
        "open_s": open_s,
        "recall_similar": _recall(similar, truth["truth_similar"]),
        "recall_semantic": _recall(semantic, truth["truth_semantic"]),
        "similar_p50_ms": float(np.percentile(similar_ms, 50)),
        "similar_p99_ms": float(np.percentile(similar_ms, 99)),
        "semantic_p50_ms": float(np.percentile(semantic_ms, 50)),
        "semantic_p99_ms": float(np.percentile(semantic_ms, 99)),
        **_memory(),
        "disk_mib": sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) / 2**20
        if backend == "per-host"
        else 0.0,
    }
    index.close()
    engine.dispose()
    out.write_text(json.dumps(result))


def _timed(ask: Any, queries: np.ndarray) -> tuple[list[list[int]], list[float]]:
    answers, times = [], []
    for query in queries:
        started = time.perf_counter()
        answers.append(ask(query))
        times.append((time.perf_counter() - started) * 1000)
    return answers, times


def _recall(found: list[list[int]], truth: np.ndarray) -> float:
    hits = sum(len(set(answer) & set(row.tolist())) for answer, row in zip(found, truth, strict=True))
    return hits / truth.size


def _memory() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return {"rss_mib": int(fields["VmRSS"]) / 1024, "peak_rss_mib": int(fields["VmHWM"]) / 1024}


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
