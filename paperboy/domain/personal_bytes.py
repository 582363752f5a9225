"""A reader's `Personal` scores (domain/recommend.py) as bytes and back, so that one process's fit
serves every other (services/recommend_store.py). Pure: a flat buffer (no pickle, no zip): a
magic, a JSON head naming each array (its dtype, shape and where its bytes lie) and what the reasons
read of the reader (their positives' ids, titles and authors, what they follow), then the arrays'
bytes: the scores, features and the candidate ids they were made for. Read back with
`np.frombuffer`, ~10x cheaper than `np.load` of an .npz archive (a zip) was; a row stored in
that older form reads as none, so the reader's scores are fitted and stored again.

The candidates themselves are not stored: every process builds the period's candidates alike, and
`personal_from_bytes` checks the ids are the same ones, in the same order.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from paperboy.domain.recommend import Candidates, Known, Personal, Reader

_PREFIXES = ("raw:", "points:")


MAGIC = b"PBS1"  # paperboy scores, format 1
_HEAD = struct.Struct("<4sI")  # the magic, the JSON head's length


def personal_bytes(personal: Personal) -> bytes:
    """`personal` as bytes: ~70 bytes a candidate and ~150 a positive."""
    arrays: dict[str, np.ndarray] = {
        "ids": personal.candidates.ids,
        "personal": personal.personal,
        "nearest_positive": personal.nearest_positive.astype(np.int64),
        "searches_matched": personal.searches_matched,
    }
    for prefix, features in zip(_PREFIXES, (personal.raw, personal.points), strict=True):
        arrays.update({prefix + name: values for name, values in features.items()})
    layout, chunks, offset = [], [], 0
    for name, values in arrays.items():
        data = np.ascontiguousarray(values).tobytes()
        layout.append([name, values.dtype.str, list(values.shape), offset, len(data)])
        chunks.append(data)
        offset += len(data)
    head = json.dumps({"arrays": layout, "reader": _reader_dict(personal.reader)}).encode()
    return b"".join([_HEAD.pack(MAGIC, len(head)), head, *chunks])


def personal_from_bytes(blob: bytes, candidates: Candidates) -> Personal | None:
    """The `Personal` that `personal_bytes` stored, over `candidates`; None when they are not the
    candidates it was made for (another order, another paper) or the bytes are not such a blob."""
    try:
        head, arrays = _unpacked(blob)
    except (ValueError, KeyError, TypeError, struct.error):
        return None
    if not np.array_equal(arrays.get("ids", np.zeros(0)), candidates.ids):
        return None
    features = [
        {name[len(prefix) :]: values for name, values in arrays.items() if name.startswith(prefix)}
        for prefix in _PREFIXES
    ]
    return Personal(
        candidates,
        _reader(head["reader"]),
        arrays["personal"],
        features[0],
        features[1],
        arrays["nearest_positive"].astype(np.intp),
        arrays["searches_matched"],
    )


def _unpacked(blob: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The head and the arrays (copies: the blob's bytes are read-only) of a stored blob.
    ValueError (json's too), KeyError, TypeError or struct.error when it is not one."""
    magic, length = _HEAD.unpack_from(blob)
    if magic != MAGIC:
        raise ValueError("not a stored reader's scores")
    start = _HEAD.size + length
    head = json.loads(blob[_HEAD.size : start])
    arrays = {}
    for name, dtype, shape, offset, size in head["arrays"]:
        if start + offset + size > len(blob):
            raise ValueError("truncated")
        kind = np.dtype(dtype)
        if kind.hasobject:
            raise ValueError("object arrays are never stored")
        found = np.frombuffer(blob, dtype=kind, count=size // max(1, kind.itemsize), offset=start + offset)
        arrays[str(name)] = found.reshape(shape).copy()
    return head, arrays


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
