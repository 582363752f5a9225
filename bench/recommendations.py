"""Offline quality of "For you" recommendations (issue 16): author leave-one-out on the real corpus.

    python -m bench recommendations            # 800 cases (about 400 tuning / 400 test)
    python -m bench recommendations --quick    # 200 cases, for a smoke test
    python -m bench.recommendations [--quick]  # the same, on its own

The baselines and candidates need no database and no server: they are scored in-process on
../shared/data/arxiv (papers.jsonl.gz, listings.tsv.gz and the reference MiniLM rows
minilm-l6-v2.f16.npy, row n = line n of papers.jsonl.gz). Needs scikit-learn (the `bench`
extra). The product's row goes through the real app and its API on an imported database
(bench/recommendations_product.py; `--no-product` skips it, `--product-only` runs it alone).
bench/README.md states the method.

The case set, exactly:

- Author names are matched by exact equality after normalisation (`normalise_name`: Unicode NFKD
  with accents dropped, lower case, dots and hyphens as spaces, whitespace collapsed). That cannot
  tell two people of the same name apart, nor join one person's spelling variants, so a name is
  eligible only when it has at least two words and at most MAX_AUTHOR_PAPERS papers in the corpus
  (the most frequent names, "yang liu" with 289, are several people).
- A case (author A, day D): D is a day on which a paper of A's was first listed, A has at least
  MIN_LIBRARY papers first listed before D (all of them, at most MAX_AUTHOR_PAPERS - 1, are the
  reader's library), and D's listing holds at least MIN_CANDIDATES papers.
- Candidates: every paper in D's listing (listings.tsv.gz: new, cross-listed and replaced papers)
  except the library's own. Relevant: A's papers among them, that is A's papers first listed on D
  (usually one). None of them is in the library, by construction.
- Selection (seed SEED): eligible names in a shuffled order; for each, one of its eligible days at
  random; a case whose relevant papers were already relevant to an earlier case is skipped (no
  target twice); stop at `cases` cases.
- Halves, fixed before anything is tuned: tuning when the first byte of SHA-256(normalised name)
  is even, test otherwise. Everything tuned is chosen on the tuning half; the tables are the test
  half.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import re
import time
import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ARXIV_DIR, REPO_ROOT, BenchError, format_table, run_standalone, section

PAPERS = ARXIV_DIR / "papers.jsonl.gz"
LISTINGS = ARXIV_DIR / "listings.tsv.gz"
REFERENCE = ARXIV_DIR / "minilm-l6-v2.f16.npy"
SEED = 20261207
CASES, QUICK_CASES = 800, 200
MIN_LIBRARY = 3
MAX_AUTHOR_PAPERS = 30
MIN_CANDIDATES = 100
SVM_NEGATIVES = 2000  # earlier papers sampled as arxiv-sanity's "rest of the database"
LOGREG_NEGATIVES = 500  # random papers of other (earlier) days, Scholar Inbox-like
LOGREG_C = (1.0, 10.0, 100.0)  # tuned on the tuning half
SVM_C = (0.1, 1.0)  # a tf-idf LinearSVC as arxiv-sanity's but C tuned, trained on earlier papers only
JOINT_ALPHA = (1.0,)  # weight of the embedding block beside tf-idf (both rows have norm 1)
CACHE_DIR = REPO_ROOT / "bench" / ".cache"
AUTHOR_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0)
FUSION_STEPS = 10  # fusion weights: multiples of 1/10 summing to 1 (8,008 vectors of 7 features)
K = 10
GAP_SHARE = 1 / 3  # the product closes a third of the gap between the best baseline and perfect
CONTENT_GAIN = 1.15  # the content-only model beats arxiv-sanity's content-only MRR by 15%


# ---------------------------------------------------------------- measures


def reciprocal_rank(scores: np.ndarray, relevant: np.ndarray) -> float:
    """1 / rank of the first relevant candidate when the candidates are sorted by `scores`,
    descending; ties are broken uniformly at random and the EXPECTED reciprocal rank is returned
    (exact, deterministic). 0 when nothing is relevant."""
    if not relevant.any():
        return 0.0
    best = scores[relevant].max()
    above = int(np.sum(scores > best))  # every one of these is non-relevant
    tied_relevant = int(np.sum(relevant & (scores == best)))
    tied_other = int(np.sum(~relevant & (scores == best)))
    # The first relevant of the tie group is at offset j (1-based) with probability
    # C(n - j, m - 1) / C(n, m), n = group size, m = relevant in it.
    n, m = tied_relevant + tied_other, tied_relevant
    total = math.comb(n, m)
    return sum(math.comb(n - j, m - 1) / total / (above + j) for j in range(1, tied_other + 2))


def recall_at(scores: np.ndarray, relevant: np.ndarray, k: int = K) -> float:
    """The expected share of the relevant candidates in the top k (ties broken at random)."""
    if not relevant.any():
        return 0.0
    found = 0.0
    for score in scores[relevant]:
        above = int(np.sum(scores > score))
        tied = int(np.sum(scores == score))  # itself included
        found += min(max((k - above) / tied, 0.0), 1.0)
    return found / int(relevant.sum())


def zscore(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[.\-]", " ", plain.lower()).split())


def half_of(name: str) -> str:
    return "tuning" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "test"


# ---------------------------------------------------------------- data and cases


@dataclass(slots=True)
class Data:
    ids: list[str]
    texts: list[str]  # title + abstract
    author_strings: list[str]  # the authors' names joined by spaces, as arxiv-sanity-lite does
    authors: list[frozenset[str]]  # normalised names
    categories: list[tuple[str, ...]]
    first_listed: list[str]
    listing: dict[str, list[int]]  # day -> paper rows in that day's listing
    by_first_listed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sorted_days: list[str] = field(default_factory=list)


def load_data(papers: Path = PAPERS, listings: Path = LISTINGS) -> Data:
    for path in (papers, listings):
        if not path.is_file():
            raise BenchError(f"{path} is absent (see ../shared/data/README.md)")
    ids, texts, author_strings, authors, categories, first = [], [], [], [], [], []
    with gzip.open(papers, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            ids.append(row["id"])
            texts.append(f"{row['title']} {row['abstract']}")
            author_strings.append(" ".join(row["authors"]))
            authors.append(frozenset(normalise_name(a) for a in row["authors"]))
            categories.append(tuple(row["categories"]))
            first.append(row["first_listed"])
    row_of = {arxiv_id: n for n, arxiv_id in enumerate(ids)}
    listing: defaultdict[str, list[int]] = defaultdict(list)
    with gzip.open(listings, "rt", encoding="utf-8") as lines:
        for line in lines:
            day, arxiv_id = line.rstrip("\n").split("\t")
            if arxiv_id in row_of:
                listing[day].append(row_of[arxiv_id])
    days = {d: sorted(set(v)) for d, v in listing.items()}
    data = Data(ids, texts, author_strings, authors, categories, first, days)
    data.by_first_listed = np.argsort(np.asarray(first), kind="stable")
    data.sorted_days = [first[n] for n in data.by_first_listed]
    return data


@dataclass(frozen=True, slots=True)
class Case:
    author: str
    day: str
    half: str
    library: np.ndarray  # paper rows
    candidates: np.ndarray  # paper rows
    relevant: np.ndarray  # bool, per candidate


def build_cases(data: Data, count: int, seed: int = SEED) -> list[Case]:
    papers_of: defaultdict[str, list[int]] = defaultdict(list)
    for n, paper_names in enumerate(data.authors):
        for name in paper_names:
            papers_of[name].append(n)
    rng = np.random.default_rng(seed)
    names = sorted(
        name
        for name, rows in papers_of.items()
        if len(name.split()) >= 2 and MIN_LIBRARY + 1 <= len(rows) <= MAX_AUTHOR_PAPERS
    )
    cases: list[Case] = []
    used: set[int] = set()
    for pick in rng.permutation(len(names)):
        name = names[pick]
        rows = papers_of[name]
        days = sorted({data.first_listed[n] for n in rows})
        eligible = [
            day
            for day in days
            if sum(data.first_listed[n] < day for n in rows) >= MIN_LIBRARY
            and len(data.listing.get(day, ())) >= MIN_CANDIDATES
        ]
        if not eligible:
            continue
        day = eligible[int(rng.integers(len(eligible)))]
        library = np.array(sorted(n for n in rows if data.first_listed[n] < day))
        in_library = set(library.tolist())
        candidates = np.array([n for n in data.listing[day] if n not in in_library])
        relevant = np.array([name in data.authors[n] for n in candidates])
        targets = set(candidates[relevant].tolist())
        if not targets or targets & used:
            continue
        used |= targets
        cases.append(Case(name, day, half_of(name), library, candidates, relevant))
        if len(cases) == count:
            break
    return cases


def earlier_sample(data: Data, case: Case, size: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `size` papers first listed before the case's day, none of the library's."""
    before = bisect_left(data.sorted_days, case.day)
    picked = data.by_first_listed[rng.choice(before, size=min(size, before), replace=False)]
    return picked[~np.isin(picked, case.library)]


# ---------------------------------------------------------------- features


def cached_tfidf(name: str, documents: Callable[[], Iterable[str]], cache: Path | None = CACHE_DIR) -> Any:
    """`tfidf_matrix(documents())`, kept in bench/.cache/ (git-ignored) by a hash of the corpus
    file, scikit-learn's version and this module's settings: the fit takes about 2 minutes."""
    import scipy.sparse
    import sklearn

    if cache is None:
        return tfidf_matrix(documents())
    stat = PAPERS.stat()
    key = hashlib.sha256(
        f"{name} {stat.st_size} {stat.st_mtime_ns} {sklearn.__version__} {TFIDF_SETTINGS}".encode()
    ).hexdigest()[:16]
    path = cache / f"recommendations-tfidf-{name}-{key}.npz"
    if path.is_file():
        return scipy.sparse.load_npz(path).tocsr()
    matrix = tfidf_matrix(documents())
    cache.mkdir(parents=True, exist_ok=True)
    scipy.sparse.save_npz(path, matrix)
    return matrix


TFIDF_SETTINGS = "ngram(1,2) english 20000 min_df5 max_df0.1 sublinear l2 v1"


def tfidf_matrix(documents: Iterable[str]) -> Any:
    """arxiv-sanity-lite's compute.py: word uni- and bigrams, English stop words, 20,000 features,
    min_df 5, max_df 0.1, sublinear tf, l2 norm; fitted on the whole corpus as it fits its database."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        input="content",
        encoding="utf-8",
        decode_error="replace",
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20000,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        max_df=0.1,
        min_df=5,
        dtype=np.float32,
    )
    return vectorizer.fit_transform(documents).tocsr()


def linear_svc_scores(
    rows_of: Callable[[np.ndarray], Any],
    positives: np.ndarray,
    negatives: np.ndarray,
    candidates: np.ndarray,
    c: float = 0.01,
) -> Any:
    """arxiv-sanity-lite's svm_rank: LinearSVC(C=0.01, class_weight="balanced", max_iter=10000,
    tol=1e-6) on positives against negatives; the decision function on the candidates. `rows_of`
    gives the feature rows of some papers."""
    from sklearn.svm import LinearSVC

    rows = np.concatenate([positives, negatives])
    y = np.zeros(len(rows), dtype=np.float32)
    y[: len(positives)] = 1.0
    clf = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=c)
    clf.fit(rows_of(rows), y)
    return clf.decision_function(rows_of(candidates))


def case_features(
    data: Data, case: Case, tfidf: dict[str, Any], vectors: np.ndarray, case_seed: int
) -> dict[str, np.ndarray]:
    """Every method's score of each candidate, for one case. Keys ending "+a" use author signal."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(case_seed)
    lib_vecs = vectors[case.library]
    cand_vecs = vectors[case.candidates]
    centroid = lib_vecs.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    features: dict[str, np.ndarray] = {
        "random": rng.random(len(case.candidates)),
        "centroid": cand_vecs @ centroid,
        "maxsim": (cand_vecs @ lib_vecs.T).max(axis=1),
    }
    profile: defaultdict[str, float] = defaultdict(float)  # the library's share of each category
    for n in case.library:
        for category in data.categories[n]:
            profile[category] += 1 / len(case.library)
    features["categories"] = np.array(
        [
            sum(profile[c] for c in data.categories[n]) / math.sqrt(len(data.categories[n]) or 1)
            for n in case.candidates
        ]
    )
    library_names = frozenset().union(*(data.authors[n] for n in case.library))
    features["authors+a"] = np.array(
        [len(data.authors[n] & library_names) for n in case.candidates], dtype=np.float64
    )
    earlier = earlier_sample(data, case, SVM_NEGATIVES, rng)
    logreg_negatives = earlier[:LOGREG_NEGATIVES]
    x_emb = np.concatenate([lib_vecs, vectors[logreg_negatives]])
    y_emb = np.r_[np.ones(len(case.library)), np.zeros(len(logreg_negatives))]
    for c in LOGREG_C:
        model = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=1000)
        model.fit(x_emb, y_emb)
        features[f"logreg C={c:g}"] = model.decision_function(cand_vecs)
    # arxiv-sanity trains on its whole database and ranks that same matrix: the day's own papers
    # are negatives too (the relevant one included), beside the earlier sample.
    svm_negatives = np.concatenate([earlier, case.candidates])
    for variant, x in tfidf.items():
        suffix = "+a" if variant == "with_authors" else ""
        features[f"svm{suffix}"] = linear_svc_scores(
            partial(_tfidf_rows, x), case.library, svm_negatives, case.candidates
        )
        for c in SVM_C:
            features[f"svm C={c:g}{suffix}"] = linear_svc_scores(
                partial(_tfidf_rows, x), case.library, earlier, case.candidates, c
            )
        library_centroid = np.asarray(x[case.library].mean(axis=0)).ravel()
        features[f"tfidf_centroid{suffix}"] = np.asarray(x[case.candidates] @ library_centroid).ravel()
        features[f"tfidf_maxsim{suffix}"] = (x[case.candidates] @ x[case.library].T).toarray().max(axis=1)
        for alpha in JOINT_ALPHA:
            features[f"joint a={alpha:g}{suffix}"] = linear_svc_scores(
                partial(_joint_rows, x, vectors, alpha),
                case.library,
                logreg_negatives,
                case.candidates,
            )
    return features


def _tfidf_rows(x: Any, rows: np.ndarray) -> Any:
    return x[rows]


def _joint_rows(x: Any, vectors: np.ndarray, alpha: float, rows: np.ndarray) -> Any:
    """[tf-idf | alpha * MiniLM] for some papers: both blocks have rows of norm 1 (times alpha)."""
    from scipy.sparse import csr_matrix, hstack

    return hstack([x[rows], csr_matrix(vectors[rows] * alpha)], format="csr")


def embedding_check() -> str:
    """The product's own MiniLM embeddings of a sample against the reference rows (data README)."""
    try:
        from paperboy.integrations.embedder import MiniLMEmbedder
    except ImportError as exc:  # pragma: no cover - depends on the search extra
        return f"not checked: {exc}"
    rows = []
    with gzip.open(PAPERS, "rt", encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if n % 3000 == 0:
                rows.append((n, json.loads(line)))
    try:
        from paperboy.integrations.embedder import paper_text

        ours = MiniLMEmbedder().embed([paper_text(r["title"], r["abstract"]) for _, r in rows])
    except Exception as exc:  # the search extra's model missing
        return f"not checked: {type(exc).__name__}: {exc}"
    reference = np.asarray(np.load(REFERENCE, mmap_mode="r")[[n for n, _ in rows]], dtype=np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    low = float(np.min(np.sum(np.asarray(ours) * reference, axis=1)))
    verdict = "agree" if low >= 0.99 else "DISAGREE: the figures below do not describe the product"
    return f"min cosine {low:.4f} over {len(rows)} papers (needs >= 0.99): {verdict}"


# ---------------------------------------------------------------- scoring and tuning

FeatureRow = dict[str, np.ndarray]  # one case: method -> score of each candidate
Features = list[FeatureRow]


def mean_measures(cases: Sequence[Case], scores: Sequence[np.ndarray]) -> tuple[float, float]:
    rr = [reciprocal_rank(s, c.relevant) for c, s in zip(cases, scores, strict=True)]
    rec = [recall_at(s, c.relevant) for c, s in zip(cases, scores, strict=True)]
    return float(np.mean(rr)), float(np.mean(rec))


def per_case_rr(cases: Sequence[Case], scores: Sequence[np.ndarray]) -> np.ndarray:
    return np.array([reciprocal_rank(s, c.relevant) for c, s in zip(cases, scores, strict=True)])


def fused(feats: dict[str, np.ndarray], weights: dict[str, float], author_weight: float) -> np.ndarray:
    """The sum of weight * z-score of each named feature over the day's candidates, plus
    author_weight * the raw shared-author count."""
    score = np.zeros(len(feats["centroid"]))
    for name, weight in weights.items():
        if weight:
            score += weight * zscore(feats[name])
    return score + author_weight * feats["authors+a"] if author_weight else score


def simplex(count: int, step: int) -> np.ndarray:
    """Every weight vector of `count` non-negative multiples of 1/step summing to 1."""
    return np.array([parts for parts in product(range(step + 1), repeat=count) if sum(parts) == step]) / step


def grid_mrr(cases: Sequence[Case], matrices: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Mean reciprocal rank of every weight row at once: candidates' score = matrix @ weights. Ties
    count half (the exact expectation for one relevant paper tied with one other), for speed."""
    total = np.zeros(len(weights))
    for case, matrix in zip(cases, matrices, strict=True):
        scores = matrix @ weights.T  # candidates x weight rows
        best = scores[case.relevant].max(axis=0)
        above = (scores > best).sum(axis=0)
        tied = (scores == best).sum(axis=0) - 1
        total += 1 / (1 + above + tied / 2)
    return total / len(cases)


def best_row(scores: np.ndarray) -> int:
    return int(np.flatnonzero(scores == scores.max())[0])  # ties: the first in grid order


def tune(cases: Sequence[Case], features: Features) -> dict[str, Any]:
    """Everything chosen on the tuning half, by MRR."""

    def mrr_of(name: str) -> float:
        return float(np.mean(per_case_rr(cases, [f[name] for f in features])))

    chosen: dict[str, Any] = {}
    options = [f"logreg C={c:g}" for c in LOGREG_C]
    chosen["logreg"] = options[int(np.argmax([mrr_of(o) for o in options]))]
    for suffix in ("", "+a"):
        options = [f"svm C={c:g}{suffix}" for c in SVM_C]
        chosen[f"svm_tuned{suffix}"] = options[int(np.argmax([mrr_of(o) for o in options]))]
    for suffix in ("", "+a"):
        options = [f"joint a={a:g}{suffix}" for a in JOINT_ALPHA]
        chosen[f"joint{suffix}"] = options[int(np.argmax([mrr_of(o) for o in options]))]
    for suffix in ("", "+a"):
        names = [
            f"svm{suffix}",
            chosen[f"svm_tuned{suffix}"],
            f"tfidf_maxsim{suffix}",
            "centroid",
            "maxsim",
            chosen["logreg"],
            "categories",
        ]
        matrices = [np.column_stack([zscore(f[name]) for name in names]) for f in features]
        grid = simplex(len(names), FUSION_STEPS)
        row = grid[best_row(grid_mrr(cases, matrices, grid))]
        chosen[f"fusion{suffix}"] = {name: float(w) for name, w in zip(names, row, strict=True) if w}
    # The product: the content fusion (with the authors' names in the tf-idf), then the weight of
    # the shared-author count beside it.
    product_weights = chosen["fusion+a"]
    values = [
        float(np.mean(per_case_rr(cases, [fused(f, product_weights, w) for f in features])))
        for w in AUTHOR_WEIGHTS
    ]
    chosen["author_weight"] = AUTHOR_WEIGHTS[int(np.argmax(values))]
    return chosen


def method_scores(
    chosen: dict[str, Any],
) -> list[tuple[str, str, str | None, Callable[[FeatureRow], np.ndarray]]]:
    """(method, kind, author-free twin's key or None, how to score). Rows of the table."""

    def key(name: str) -> Callable[[FeatureRow], np.ndarray]:
        return lambda f: f[name]

    lr = chosen["logreg"]
    return [
        ("random", "baseline", "random", key("random")),
        ("embedding centroid (cosine)", "baseline", "centroid", key("centroid")),
        (f"logistic regression on embeddings ({lr})", "baseline", lr, key(lr)),
        ("arxiv-sanity: tf-idf + LinearSVC C=0.01", "baseline", "svm", key("svm+a")),
        ("shared-author count", "baseline", None, key("authors+a")),
        (
            f"tf-idf LinearSVC, earlier papers only ({chosen['svm_tuned+a']})",
            "candidate",
            chosen["svm_tuned"],
            key(chosen["svm_tuned+a"]),
        ),
        ("embedding max-sim to a library paper", "candidate", "maxsim", key("maxsim")),
        ("tf-idf centroid (cosine)", "candidate", "tfidf_centroid", key("tfidf_centroid+a")),
        ("tf-idf max-sim to a library paper", "candidate", "tfidf_maxsim", key("tfidf_maxsim+a")),
        ("category overlap with the library", "candidate", "categories", key("categories")),
        (
            f"LinearSVC on [tf-idf; emb] ({chosen['joint+a']})",
            "candidate",
            chosen["joint"],
            key(chosen["joint+a"]),
        ),
        ("fusion of z-scores (content)", "candidate", "fusion", lambda f: fused(f, chosen["fusion+a"], 0.0)),
        (
            f"fusion + {chosen['author_weight']:g} x shared authors",
            "candidate",
            "fusion",
            lambda f: fused(f, chosen["fusion+a"], chosen["author_weight"]),
        ),
    ]


# ---------------------------------------------------------------- run


def run(quick: bool = False, with_product: bool = True) -> dict[str, Any]:
    start = time.perf_counter()
    section("recommendations: author leave-one-out (issue 16)")
    if not REFERENCE.is_file():
        raise BenchError(f"{REFERENCE} is absent (see ../shared/data/README.md)")
    print(f"reference vectors: {embedding_check()}", flush=True)
    data = load_data()
    vectors = np.asarray(np.load(REFERENCE), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    if len(vectors) != len(data.ids):
        raise BenchError(f"{REFERENCE} has {len(vectors):,} rows for {len(data.ids):,} papers")
    cases = build_cases(data, QUICK_CASES if quick else CASES)
    tuning = [c for c in cases if c.half == "tuning"]
    test = [c for c in cases if c.half == "test"]
    print(
        f"cases: {len(cases):,} (tuning {len(tuning):,}, test {len(test):,}); candidates per case "
        f"median {int(np.median([len(c.candidates) for c in cases]))}, library median "
        f"{int(np.median([len(c.library) for c in cases]))}, cases with > 1 relevant "
        f"{sum(int(c.relevant.sum()) > 1 for c in cases)}",
        flush=True,
    )
    tfidf = {
        "with_authors": cached_tfidf(
            "with_authors",
            lambda: (f"{t} {a}" for t, a in zip(data.texts, data.author_strings, strict=True)),
        ),
        "content_only": cached_tfidf("content_only", lambda: data.texts),
    }
    print(
        f"tf-idf: {tfidf['with_authors'].shape[1]:,} features ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    features = []
    for n, case in enumerate(cases):
        features.append(case_features(data, case, tfidf, vectors, SEED + n))
        if (n + 1) % 200 == 0:
            print(f"  {n + 1:,} cases scored ({time.perf_counter() - start:.0f} s)", flush=True)
    tune_feats = [f for f, c in zip(features, cases, strict=True) if c.half == "tuning"]
    test_feats = [f for f, c in zip(features, cases, strict=True) if c.half == "test"]
    chosen = tune(tuning, tune_feats)
    print(f"chosen on the tuning half: {json.dumps(chosen)}")
    product = None
    if with_product:
        from bench.recommendations_product import run_product

        product = run_product(test, data.ids, PAPERS, LISTINGS)
    return report(test, test_feats, tuning, tune_feats, chosen, time.perf_counter() - start, product)


def run_product_only(quick: bool = False) -> dict[str, Any]:
    """The product's row alone (the same cases and test half as `run`), for a quicker look."""
    from bench.recommendations_product import run_product

    start = time.perf_counter()
    section("recommendations: the product end to end only (issue 16)")
    data = load_data()
    test = [c for c in build_cases(data, QUICK_CASES if quick else CASES) if c.half == "test"]
    product = run_product(test, data.ids, PAPERS, LISTINGS)
    mrr, rec = mean_measures(test, product.with_authors)
    free_mrr, free_rec = mean_measures(test, product.content_only)
    print(f"\ntest half: {len(test):,} cases")
    print(
        format_table(
            ["method", "MRR", f"R@{K}", "MRR no authors", f"R@{K} no authors"],
            [
                [
                    _fmt(v)
                    for v in ("product end to end (/api/v1/me/recommendations)", mrr, rec, free_mrr, free_rec)
                ]
            ],
        )
    )
    print(
        f"import + vectors {product.seconds:.0f} s, through the API {product.api_seconds:.0f} s", flush=True
    )
    return {
        "test_cases": len(test),
        "product_end_to_end": {
            "mrr": mrr,
            f"recall@{K}": rec,
            "mrr_content_only": free_mrr,
            f"recall@{K}_content_only": free_rec,
        },
        "seconds": time.perf_counter() - start,
    }


def report(
    test: Sequence[Case],
    feats: Features,
    tuning: Sequence[Case],
    tune_feats: Features,
    chosen: dict[str, Any],
    seconds: float,
    product: Any = None,
) -> dict[str, Any]:
    rows: list[list[object]] = []
    results: list[dict[str, Any]] = []
    per_case: dict[tuple[str, str], np.ndarray] = {}
    for method, kind, free_key, score in method_scores(chosen):
        with_a = [score(f) for f in feats]
        mrr, rec = mean_measures(test, with_a)
        per_case[(method, "authors")] = per_case_rr(test, with_a)
        free_mrr = free_rec = tune_free = float("nan")
        if free_key is not None:
            without = [_content_score(method, free_key, chosen, f) for f in feats]
            free_mrr, free_rec = mean_measures(test, without)
            per_case[(method, "content")] = per_case_rr(test, without)
            tune_without = [_content_score(method, free_key, chosen, f) for f in tune_feats]
            tune_free = mean_measures(tuning, tune_without)[0]
        tune_mrr = float(np.mean(per_case_rr(tuning, [score(f) for f in tune_feats])))
        rows.append([method, kind, mrr, rec, free_mrr, free_rec, tune_mrr, tune_free])
        results.append(
            {
                "method": method,
                "kind": kind,
                "mrr": mrr,
                f"recall@{K}": rec,
                "mrr_content_only": free_mrr,
                f"recall@{K}_content_only": free_rec,
                "tuning_mrr": tune_mrr,
                "tuning_mrr_content_only": tune_free,
            }
        )
    product_row = _product_row(test, product, per_case)
    rows.append(product_row["row"])
    print(f"\ntest half: {len(test):,} cases (MRR, recall@{K}; ties broken at random, expected value)")
    print(
        format_table(
            [
                "method",
                "kind",
                "MRR",
                f"R@{K}",
                "MRR no authors",
                f"R@{K} no authors",
                "MRR tuning",
                "MRR tuning no authors",
            ],
            [[_fmt(v) for v in row] for row in rows],
        )
    )
    baselines = [r for r in results if r["kind"] == "baseline"]
    best = max(baselines, key=lambda r: r["mrr"])
    product_target = best["mrr"] + GAP_SHARE * (1 - best["mrr"])
    sanity = next(r for r in results if r["method"].startswith("arxiv-sanity"))
    content_target = CONTENT_GAIN * sanity["mrr_content_only"]
    print(
        f"\ntarget (product): MRR >= {product_target:.3f} (best baseline {best['method']} "
        f"{best['mrr']:.3f} + 1/3 of {1 - best['mrr']:.3f})"
    )
    print(
        f"target (content only): MRR >= {content_target:.3f} (arxiv-sanity without authors "
        f"{sanity['mrr_content_only']:.3f} x {CONTENT_GAIN})"
    )
    candidates = [r for r in results if r["kind"] == "candidate"]
    for r in candidates:
        meets = []
        if r["mrr"] >= product_target:
            meets.append("product target")
        if r["mrr_content_only"] >= content_target:
            meets.append("content target")
        print(f"  {r['method']}: {', '.join(meets) or 'neither target'}")
    sanity_free = per_case[(sanity["method"], "content")]
    for r in candidates:
        mine = per_case.get((r["method"], "content"))
        if mine is not None:
            diff = mine - sanity_free
            half = 1.96 * float(diff.std(ddof=1)) / math.sqrt(len(diff))
            print(
                f"  content-only MRR minus arxiv-sanity's, per test case: {r['method']}: "
                f"{diff.mean():+.3f} ± {half:.3f} (95%)"
            )
    _print_product(product_row, product_target, content_target, sanity_free, product)
    return {
        "test_cases": len(test),
        "tuning_cases": len(tuning),
        "chosen": chosen,
        "methods": results,
        "product_end_to_end": product_row["result"],
        "targets": {"product_mrr": product_target, "content_only_mrr": content_target},
        "seconds": seconds,
    }


def _content_score(method: str, free_key: str, chosen: dict[str, Any], feats: dict[str, np.ndarray]) -> Any:
    """A method's author-free twin's scores for one case (the content fusion for the fusions)."""
    return fused(feats, chosen["fusion"], 0.0) if method.startswith("fusion") else feats[free_key]


def _product_row(
    test: Sequence[Case], product: Any, per_case: dict[tuple[str, str], np.ndarray]
) -> dict[str, Any]:
    """The product's row of the table (bench/recommendations_product.py), or "not run"."""
    label = "product end to end (/api/v1/me/recommendations)"
    if product is None:
        return {"row": [label, "product", "not run", "", "", "", "", ""], "result": "not run (--no-product)"}
    mrr, rec = mean_measures(test, product.with_authors)
    free_mrr, free_rec = mean_measures(test, product.content_only)
    content_rr = per_case_rr(test, product.content_only)
    result = {
        "mrr": mrr,
        f"recall@{K}": rec,
        "mrr_content_only": free_mrr,
        f"recall@{K}_content_only": free_rec,
        "import_and_vectors_s": product.seconds,
        "api_s": product.api_seconds,
    }
    return {
        "row": [label, "product", mrr, rec, free_mrr, free_rec, "", ""],
        "result": result,
        "content_rr": content_rr,
    }


def _print_product(
    row: dict[str, Any], product_target: float, content_target: float, sanity_free: np.ndarray, product: Any
) -> None:
    if product is None:
        print("product end to end: not run (--no-product)", flush=True)
        return
    result = row["result"]
    meets = [
        name
        for name, ok in (
            ("product target", result["mrr"] >= product_target),
            ("content target", result["mrr_content_only"] >= content_target),
        )
        if ok
    ]
    print(f"  product end to end: {', '.join(meets) or 'neither target'}")
    diff = row["content_rr"] - sanity_free
    half = 1.96 * float(diff.std(ddof=1)) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    print(
        "  content-only MRR minus arxiv-sanity's, per test case: product: "
        f"{diff.mean():+.3f} ± {half:.3f} (95%)"
    )
    print(
        f"  product: import + vectors {result['import_and_vectors_s']:.0f} s, members, saves and "
        f"recommendations through the API {result['api_s']:.0f} s",
        flush=True,
    )


def _fmt(value: object) -> object:
    return f"{value:.3f}" if isinstance(value, float) and value == value else value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.recommendations", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CASES} cases instead of {CASES}")
    parser.add_argument(
        "--no-product", action="store_true", help="skip the product end to end (an import of the corpus)"
    )
    parser.add_argument(
        "--product-only",
        action="store_true",
        help="only the product end to end on the test half (no scikit-learn baselines)",
    )
    args = parser.parse_args(argv)
    if args.product_only:
        return run_standalone(
            "recommendations", "recommendations-product-", lambda: run_product_only(args.quick)
        )
    return run_standalone("recommendations", "recommendations-", lambda: run(args.quick, not args.no_product))


if __name__ == "__main__":
    raise SystemExit(main())
