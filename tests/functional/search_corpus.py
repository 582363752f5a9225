"""A small catalogue to search, shared by the search page and API tests: papers with distinct
words, dates, categories, authors and code links, embedded with the hashing embedder (a bag of
hashed words: papers sharing words are neighbours), so that search by meaning and similar
papers give answers the tests can foresee; an app searching it uses that embedder too
(`hashing_settings`). Not a conftest.py (see app_client.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from conftest import make_record
from sqlalchemy import Engine, insert, select

from paperboy.config import Settings
from paperboy.domain.models import Listing, Version
from paperboy.integrations.embedder import make_embedder
from paperboy.services.search_index import embed_papers
from paperboy.storage.engine import now_utc
from paperboy.storage.schema import paper_stats, papers

MOLECULES = "2506.00001"  # graph neural networks for molecules: cs.LG + q-bio.BM, code, Lovelace
MESSAGES = "2506.00002"  # message passing on graphs: cs.LG, Turing, the most upvoted
VISION = "2506.00003"  # vision transformers: cs.CV, code
PROTEINS = "2505.00004"  # protein folding: q-bio.BM, May
SURVEY = "2507.00005"  # a survey of graph transformers: cs.LG, July, the newest

PAPERS = {
    MOLECULES: {
        "title": "Graph neural networks for molecules",
        "abstract": "We apply graph neural networks with message passing to molecular property prediction. "
        "Atoms are nodes and bonds are edges; the network learns from molecular graphs.",
        "authors": ("Ada Lovelace", "Grace Hopper"),
        "categories": ("cs.LG", "q-bio.BM"),
        "comment": "Code: https://github.com/lovelace/molgraph",
        "day": date(2025, 6, 10),
    },
    MESSAGES: {
        "title": "Message passing on very large graphs",
        "abstract": "Message passing neural networks scale poorly to large graphs. We partition the graph "
        "and pass messages between partitions, training graph networks on billions of edges.",
        "authors": ("Alan Turing",),
        "categories": ("cs.LG",),
        "comment": None,
        "day": date(2025, 6, 12),
    },
    VISION: {
        "title": "Vision transformers for image segmentation",
        "abstract": "Transformers split images into patches and attend over them; we segment images with "
        "a vision transformer and a light decoder.",
        "authors": ("Katherine Johnson",),
        "categories": ("cs.CV", "cs.LG"),
        "comment": "Code at https://github.com/kj/vitseg",
        "day": date(2025, 6, 11),
    },
    PROTEINS: {
        "title": "Protein folding with diffusion models",
        "abstract": "Diffusion models generate protein structures; we fold proteins by denoising "
        "residue coordinates.",
        "authors": ("Rosalind Franklin",),
        "categories": ("q-bio.BM",),
        "comment": None,
        "day": date(2025, 5, 20),
    },
    SURVEY: {
        "title": "Graph transformers: a survey",
        "abstract": "A survey of graph transformers, which replace message passing on graphs with attention "
        "over all nodes of the graph.",
        "authors": ("Ada Lovelace", "Alan Turing"),
        "categories": ("cs.LG",),
        "comment": None,
        "day": date(2025, 7, 2),
    },
}
UPVOTES = {MESSAGES: 7, MOLECULES: 3, SURVEY: 1}


def corpus_records(extra: int = 0):
    """The five papers above, then `extra` papers about sparse attention in cs.CL (for pages)."""
    records = []
    for arxiv_id, fields in PAPERS.items():
        values = dict(fields)
        day = values.pop("day")
        published = datetime(day.year, day.month, day.day, tzinfo=UTC)
        records.append(
            make_record(
                arxiv_id, **values, versions=(Version(1, published),), listings=(Listing(day, "new"),)
            )
        )
    for n in range(extra):
        day = date(2025, 6, 2 + n % 20)
        records.append(
            make_record(
                f"2506.{100 + n:05d}",
                title=f"Sparse attention study number {n}",
                abstract=f"Sparse attention for long documents, variant {n}. " + "Efficient kernels. " * 10,
                authors=("Edsger Dijkstra",),
                categories=("cs.CL",),
                versions=(Version(1, datetime(day.year, day.month, day.day, tzinfo=UTC)),),
                listings=(Listing(day, "new"),),
            )
        )
    return records


def add_corpus(add_papers, engine: Engine, *, extra: int = 0, embed: bool = True) -> None:
    add_papers(*corpus_records(extra))
    with engine.begin() as conn:
        ids = dict(conn.execute(select(papers.c.arxiv_id, papers.c.id)).all())
        rows = [
            {"paper_id": ids[arxiv_id], "upvotes": count, "comments": 0, "updated_at": now_utc()}
            for arxiv_id, count in UPVOTES.items()
        ]
        conn.execute(insert(paper_stats), rows)
    if embed:
        embed_papers(engine, make_embedder("hashing"), batch_size=64)


def hashing_settings(settings: Settings) -> Settings:
    """`settings` for an app that searches this corpus: its vectors are the hashing embedder's,
    so the app embeds queries with it too (the real model would find none of them)."""
    return settings.replace(embedder="hashing")
