"""CPU per search in-process, on the real corpus, with the 252 questions of bench/questions:

    PYTHONPATH=<checkout> .venv/bin/python <this checkout>/bench/search_cpu.py [--passes 5]
        [--mode hybrid] [--profile OUT.prof] [--results OUT.json] [--serve]

`services.search.Searcher` built as bench/questions_eval.py builds it (the database of
bench/search_speed, cached in bench/.cache/search-speed/real; the keyword index built in a
temporary folder; the real MiniLM embedder; the approximate vector index), for the code that
PYTHONPATH names. Every question is asked once untimed (its embedding is computed then and kept, as
a server keeps the last few hundred), then `--passes` times in turn, each search timed by the
calling thread's CPU (`time.thread_time`), the process's CPU and the wall clock. Two figures per
search: `Searcher.search` alone (what the JSON API's page costs before its shaping), and with the
search page's markup of its 20 hits (web/filters.py: the title and the snippet with math as
MathML, as _card.html shows them). The median over passes of each pass's mean is printed.

`--results` writes every question's hits (arXiv id, score, title and snippet HTML, rankers) as
JSON, to compare two checkouts' answers; `--profile` writes a cProfile of one more pass.
`--serve` then measures the whole request: `paperboy serve --workers 1` on the same database
(page cache off), each question asked once as `/search?q=…` (its embedding new to the server),
then again (kept), its process group's CPU before and after divided by the requests.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import paperboy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench (its cache, the corpus) from here

from bench.common import child_env, find_corpus
from bench.known_item import corpus_rows
from bench.lexical_engines.queries import TEST, TUNING, questions
from bench.search_speed.corpora import prepare_real
from bench.search_speed.environment import SERVER_ENV
from bench.server import group_cpu_s, start_serve, stop_process_group

PAGE = 20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "lexical", "semantic"))
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--results", type=Path)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--questions", type=Path, default=Path(__file__).resolve().parent / "questions")
    args = parser.parse_args()
    print(f"paperboy from {Path(paperboy.__file__).parent}; load {os.getloadavg()[0]:.1f}", flush=True)
    known = {row["id"] for row in corpus_rows()}
    texts = [q.text for half in (TEST, TUNING) for q in questions(args.questions, known, half)[0]]
    prepared = prepare_real(find_corpus(), threads=2)
    in_process(prepared.data_dir, texts, args)
    if args.serve:
        served(prepared.data_dir, texts)


def in_process(data_dir: Path, texts: list[str], args: argparse.Namespace) -> None:
    from paperboy.integrations.embedder import MiniLMEmbedder
    from paperboy.services.keyword_ranker import KeywordRanker
    from paperboy.services.search import Searcher
    from paperboy.services.vector_index import ANN_DIRECTORY
    from paperboy.storage.engine import make_engine
    from paperboy.web.filters import marked, marked_snippet

    engine = make_engine(f"sqlite:///{data_dir / 'paperboy.sqlite3'}")
    with tempfile.TemporaryDirectory(prefix="search-cpu-") as folder:
        keywords = KeywordRanker(engine, Path(folder) / "keywords")
        keywords.refresh()
        searcher = Searcher(
            engine,
            "minilm",
            embedder=MiniLMEmbedder(),
            ann_directory=data_dir / ANN_DIRECTORY,
            keywords=keywords,
        )
        searcher.warm_up()

        def search(text: str) -> Any:
            return searcher.search(text, mode=args.mode, page_size=PAGE)

        def page(text: str) -> Any:
            found = search(text)
            for hit in found.hits:
                marked(hit.paper.title, found.query)
                marked_snippet(hit.paper.abstract, found.query)
            return found

        answers = [search(text) for text in texts]  # untimed: embeds each question once
        if args.results:
            args.results.write_text(
                json.dumps([_answer(text, a) for text, a in zip(texts, answers, strict=True)], indent=0)
            )
            print(f"answers written to {args.results}")
        for label, call in (("Searcher.search", search), ("search + page markup", page)):
            passes = [_timed_pass(call, texts) for _ in range(args.passes)]
            print(_summary(label, args.mode, len(texts), passes), flush=True)
        if args.profile:
            profiler = cProfile.Profile(time.thread_time)  # CPU, not the shared machine's wall clock
            profiler.runcall(lambda: [page(text) for text in texts])
            profiler.dump_stats(str(args.profile))
            print(f"profile of one pass (with the page markup) in {args.profile}")
        searcher.close()
    engine.dispose()


def _answer(text: str, found: Any) -> dict[str, Any]:
    from paperboy.web.filters import marked, marked_snippet

    hits = [
        [
            *(h.paper.arxiv_id, round(h.score, 9), h.title_html, h.snippet_html, list(h.matched_by)),
            *(str(marked(h.paper.title, found.query)), str(marked_snippet(h.paper.abstract, found.query))),
        ]
        for h in found.hits
    ]
    return {"q": text, "total": found.total, "used": list(found.used), "hits": hits}


def _timed_pass(call: Any, texts: list[str]) -> dict[str, float]:
    thread = process = wall = 0.0
    for text in texts:
        t0, p0, w0 = time.thread_time(), time.process_time(), time.perf_counter()
        call(text)
        thread += time.thread_time() - t0
        process += time.process_time() - p0
        wall += time.perf_counter() - w0
    n = len(texts) / 1000
    return {"thread": thread / n, "process": process / n, "wall": wall / n}


def _summary(label: str, mode: str, n: int, passes: list[dict[str, float]]) -> str:
    def figure(key: str) -> str:
        values = sorted(p[key] for p in passes)
        return f"{statistics.median(values):.2f} ({', '.join(f'{v:.2f}' for v in values)})"

    return (
        f"{label}, {mode}, {n} questions, {len(passes)} passes, ms per search, median (passes): "
        f"thread CPU {figure('thread')}; process CPU {figure('process')}; wall {figure('wall')}"
    )


def served(data_dir: Path, texts: list[str]) -> None:
    """The whole request's CPU on `paperboy serve --workers 1`, the questions new, then again."""
    env = child_env(
        PAPERBOY_DATA_DIR=str(data_dir), **{**SERVER_ENV, "PAPERBOY_RATE_LIMIT_SEARCH": "100000/minute"}
    )
    proc, base = start_serve(env, data_dir / "search-cpu-log", 1)
    try:
        deadline = time.monotonic() + 180
        while _status(base + "/healthz/search") != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        _get(base + "/search?q=" + urllib.parse.quote("warm up the templates"))
        for label in ("new question (embedded by MiniLM)", "asked again (embedding kept)"):
            before, started = group_cpu_s(proc.pid), time.perf_counter()
            for text in texts:
                _get(f"{base}/search?q={urllib.parse.quote(text)}")
            cpu = (group_cpu_s(proc.pid) - before) * 1000 / len(texts)
            wall = (time.perf_counter() - started) * 1000 / len(texts)
            print(
                f"serve --workers 1, /search, {label}: {cpu:.2f} ms CPU per request, {wall:.1f} ms wall",
                flush=True,
            )
    finally:
        stop_process_group(proc)


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=120) as response:
        if response.status != 200:
            raise RuntimeError(f"{url}: {response.status}")
        response.read()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except OSError:
        return 0


if __name__ == "__main__":
    main()
