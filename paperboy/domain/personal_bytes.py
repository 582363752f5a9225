"""A reader's `Personal` scores (domain/recommend.py) as bytes and back, so that one process's fit
serves every other (services/recommend_store.py). Pure: numpy's .npy archive (no pickle) of the
scores, features and the candidate ids they were made for, and what the reasons read of the reader
(their positives' ids, titles and authors, what they follow) as JSON.

The candidates themselves are not stored: every process builds the period's candidates alike, and
`personal_from_bytes` checks the ids are the same ones, in the same order.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from paperboy.domain.recommend import Candidates, Known, Personal, Reader

_PREFIXES = ("raw:", "points:")


def personal_bytes(personal: Personal) -> bytes:
    """`personal` as bytes: ~70 bytes a candidate and ~150 a positive."""
    arrays: dict[str, np.ndarray] = {
        "ids": personal.candidates.ids,
        "personal": personal.personal,
        "nearest_positive": personal.nearest_positive.astype(np.int64),
        "searches_matched": personal.searches_matched,
        "reader": np.frombuffer(json.dumps(_reader_dict(personal.reader)).encode(), dtype=np.uint8),
    }
    for prefix, features in zip(_PREFIXES, (personal.raw, personal.points), strict=True):
        arrays.update({prefix + name: values for name, values in features.items()})
    out = io.BytesIO()
    save: Any = np.savez  # its keyword arrays are typed as its options
    save(out, allow_pickle=False, **arrays)
    return out.getvalue()


def personal_from_bytes(blob: bytes, candidates: Candidates) -> Personal | None:
    """The `Personal` that `personal_bytes` stored, over `candidates`; None when they are not the
    candidates it was made for (another order, another paper) or the bytes are not such a blob."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, KeyError):
        return None
    if not np.array_equal(arrays.get("ids", np.zeros(0)), candidates.ids):
        return None
    features = [
        {name[len(prefix) :]: values for name, values in arrays.items() if name.startswith(prefix)}
        for prefix in _PREFIXES
    ]
    return Personal(
        candidates,
        _reader(json.loads(arrays["reader"].tobytes())),
        arrays["personal"],
        features[0],
        features[1],
        arrays["nearest_positive"].astype(np.intp),
        arrays["searches_matched"],
    )


def _reader_dict(reader: Reader) -> dict[str, object]:
    return {
        "positives": [[k.paper_id, k.arxiv_id, k.title, list(k.authors)] for k in reader.positives],
        "negatives": [k.paper_id for k in reader.negatives],
        "followed_authors": list(reader.followed_authors),
        "followed_categories": list(reader.followed_categories),
        "followed_searches": list(reader.followed_searches),
    }


def _reader(found: dict[str, Any]) -> Reader:
    """The reader as the reasons read it: their papers' texts and vectors are not kept (the
    scores made from them are)."""
    positives = [
        Known(int(paper_id), str(arxiv_id), str(title), "", tuple(names), None)
        for paper_id, arxiv_id, title, names in found["positives"]
    ]
    return Reader(
        positives=positives,
        negatives=[Known(int(paper_id), "", "", "", (), None) for paper_id in found["negatives"]],
        followed_authors=tuple(found["followed_authors"]),
        followed_categories=tuple(found["followed_categories"]),
        followed_searches=tuple(found["followed_searches"]),
    )
