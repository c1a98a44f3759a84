"""Near-duplicates: the same story told again (a paragraph more or less, boilerplate around it,
other spelling of alef and hamza, other punctuation, a rewritten lead).

Text -> word shingles of the Arabic-normalised text (:func:`crawler.core.arabic.normalize`, with
Arabic and Latin punctuation folded away) -> a MinHash signature (datasketch) -> LSH band keys.
Two texts whose signatures share a band key are candidates; their estimated Jaccard similarity
decides.  The bands and rows are chosen for the threshold (:func:`lsh_params`).

Pure: the band keys are plain integers, so an index of them can live anywhere.
:class:`MemoryIndex` keeps one in memory; :mod:`storage.neardup` keeps one in the archive.
"""
from __future__ import annotations

import re
import threading
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from crawler.core.arabic import normalize

__all__ = [
    "SHINGLE", "NUM_PERM", "THRESHOLD", "Signature", "words", "shingles", "shingle_hashes", "signature", "similarity", "band_keys",
    "lsh_params", "MemoryIndex",
]

SHINGLE = 4  # words per shingle
NUM_PERM = 128  # MinHash permutations
THRESHOLD = 0.4  # estimated Jaccard at or above which two texts are the same story (chosen on the labelled set)
SEED = 1  # fixed: signatures stored in the archive must stay comparable

# Punctuation of either script (، ؛ ؟ « » ٪ ۔ ... and ASCII) and symbols become spaces: «قال:» = "قال".
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The normalised words of ``text``, punctuation of any script folded away."""
    return _WORD.findall(normalize(text))


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """Word ``size``-grams of the normalised text (a text shorter than ``size`` words is one shingle)."""
    tokens = words(text)
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


@dataclass(frozen=True)
class Signature:
    """A MinHash signature: ``NUM_PERM`` unsigned 32-bit hash values."""

    values: np.ndarray

    def to_bytes(self) -> bytes:
        return self.values.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        return cls(np.frombuffer(data, dtype="<u4").astype(np.uint64))


_WORD_HASHES: dict[str, int] = {}  # a news vocabulary is bounded: most words are met again
_WORD_CACHE_MAX = 500_000


def _word_hashes(tokens: list[str]) -> np.ndarray:
    """CRC-32 of each word, from a cache of the words met before (looked up in C, by ``map``)."""
    cache = _WORD_HASHES
    new = [w for w in set(tokens) if w not in cache]
    if len(cache) + len(new) > _WORD_CACHE_MAX:
        cache.clear()
        new = list(set(tokens))
    for w in new:
        cache[w] = zlib.crc32(w.encode("utf-8"))
    return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


_MIX = np.uint64(0x9E3779B1)  # an odd multiplier: the position of each word in the shingle counts
_MASK = np.uint64(0xFFFFFFFF)


def shingle_hashes(text: str, size: int = SHINGLE) -> np.ndarray:
    """The distinct 32-bit hashes of the text's shingles (stable across processes and machines).

    Each word is hashed once (CRC-32) and a shingle's hash is mixed from its words' hashes with
    numpy, so a long text costs one pass over its words, not one string per shingle."""
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    hashed = _word_hashes(tokens)
    size = min(size, len(hashed))
    count = len(hashed) - size + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        mixed = ((mixed * _MIX) & _MASK) ^ hashed[offset:offset + count]
    return np.unique(mixed)


_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")  # the permutations, made once


_LOCAL = threading.local()  # one MinHash per thread, cleared between texts (its set-up costs as much as a text)


def _minhash() -> MinHash:
    mh = getattr(_LOCAL, "minhash", None)
    if mh is None:
        mh = _LOCAL.minhash = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int,
                                      permutations=_TEMPLATE.permutations, scheme="affine32")
    mh.clear()
    return mh


def signature(text: str, size: int = SHINGLE) -> Signature:
    """The MinHash signature (datasketch) of the text's shingle hashes."""
    mh = _minhash()
    hashes = shingle_hashes(text, size)
    if len(hashes):
        mh.update_batch(hashes.tolist())
    return Signature(mh.hashvalues.copy())


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return float(np.count_nonzero(a.values == b.values)) / len(a.values)


def _probability(s: float, bands: int, rows: int) -> float:
    """Chance that two texts of Jaccard ``s`` share at least one band."""
    return 1.0 - (1.0 - s ** rows) ** bands


def lsh_params(threshold: float = THRESHOLD, num_perm: int = NUM_PERM, fn_weight: float = 0.7) -> tuple[int, int]:
    """(bands, rows) with bands x rows <= num_perm that minimise the weighted area of false
    positives (below the threshold) and false negatives (above it)."""
    grid = np.linspace(0.0, 1.0, 201)
    best, best_cost = (1, num_perm), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            p = 1.0 - (1.0 - grid ** rows) ** bands
            fp = float(np.trapezoid(np.where(grid < threshold, p, 0.0), grid))
            fn = float(np.trapezoid(np.where(grid >= threshold, 1.0 - p, 0.0), grid))
            cost = (1 - fn_weight) * fp + fn_weight * fn
            if cost < best_cost:
                best, best_cost = (bands, rows), cost
    return best


BANDS, ROWS = 32, 4  # lsh_params(THRESHOLD): fixed here so stored keys never change under a new numpy


_BAND_MIX = np.uint64(0x100000001B3)  # the FNV-1a 64-bit prime


def band_keys(sig: Signature, bands: int = BANDS, rows: int = ROWS) -> list[int]:
    """One signed 64-bit key per band, mixed from the band's index and its rows' values (numpy,
    wrapping uint64 arithmetic: the same keys on every machine)."""
    table = sig.values[: bands * rows].astype(np.uint64).reshape(bands, rows)
    keys = np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for row in range(rows):
            keys = (keys ^ table[:, row]) * _BAND_MIX
    return [int(k) for k in keys.view(np.int64)]


class MemoryIndex:
    """An LSH index held in memory: band keys -> ids, and each id's signature."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self.tables: list[dict[int, list[int]]] = [{} for _ in range(BANDS)]
        self.signatures: dict[int, Signature] = {}

    def add(self, ident: int, sig: Signature) -> None:
        self.signatures[ident] = sig
        for band, key in enumerate(band_keys(sig)):
            self.tables[band].setdefault(key, []).append(ident)

    def query(self, sig: Signature) -> list[tuple[int, float]]:
        """Ids at or above the threshold, most similar first."""
        candidates = {i for band, key in enumerate(band_keys(sig)) for i in self.tables[band].get(key, ())}
        found = [(i, similarity(sig, self.signatures[i])) for i in candidates]
        return sorted(((i, s) for i, s in found if s >= self.threshold), key=lambda x: (-x[1], x[0]))
