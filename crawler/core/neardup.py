"""Near-duplicates: the same story told again (a paragraph more or less, boilerplate around it,
other spelling of alef and hamza, other punctuation, a rewritten lead).

Text -> word shingles of the Arabic-normalised text (:func:`crawler.core.arabic.normalize`, with
Arabic and Latin punctuation folded away) -> a MinHash signature -> LSH band keys.

The signature is datasketch's ``MinHash(num_perm=128, seed=1, scheme="affine32")`` fed the
shingle hashes, computed here with numpy in one pass (the same permutations, drawn the way
datasketch draws them; tests/test_neardup.py checks every value against datasketch), so a
signature costs no Python call per shingle and storing an article does not import datasketch
(and, through it, scipy).
Two texts whose signatures share a band key are candidates; their estimated Jaccard similarity
decides.  The bands and rows are chosen for the threshold (:func:`lsh_params`).

Pure: the band keys are plain integers, so an index of them can live anywhere.
:class:`MemoryIndex` keeps one in memory; :mod:`storage.neardup` keeps one in the archive.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np
from crawler.core.arabic import normalize

__all__ = [
    "SHINGLE", "NUM_PERM", "THRESHOLD", "Signature", "words", "shingles", "shingle_hashes", "minhash", "signature",
    "similarity", "band_keys",
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
    """CRC-32 of each word (uint32), from a cache of the words met before (looked up in C, by ``map``)."""
    cache = _WORD_HASHES
    try:  # the usual case once the cache is warm: every word met before
        return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint32, count=len(tokens))
    except KeyError:
        pass
    new = [w for w in set(tokens) if w not in cache]
    if len(cache) + len(new) > _WORD_CACHE_MAX:
        cache.clear()
        new = list(set(tokens))
    for w in new:
        cache[w] = zlib.crc32(w.encode("utf-8"))
    return np.fromiter(map(cache.__getitem__, tokens), dtype=np.uint32, count=len(tokens))


_MIX = np.uint64(0x9E3779B1)  # an odd multiplier: the position of each word in the shingle counts
_MASK = np.uint64(0xFFFFFFFF)


def shingle_hashes(text: str, size: int = SHINGLE) -> np.ndarray:
    """The distinct 32-bit hashes of the text's shingles (stable across processes and machines).

    Each word is hashed once (CRC-32) and a shingle's hash is mixed from its words' hashes with
    numpy, so a long text costs one pass over its words, not one string per shingle."""
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    hashed = _word_hashes(tokens).astype(np.uint64)
    size = min(size, len(hashed))
    count = len(hashed) - size + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        mixed = ((mixed * _MIX) & _MASK) ^ hashed[offset:offset + count]
    return np.unique(mixed)


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The affine permutations ``h -> a * h + b mod 2**32`` of datasketch's affine32 scheme:
    ``a`` odd, both drawn from numpy's ``RandomState(seed)`` in datasketch's order."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_PERM_A, _PERM_B = _permutations(NUM_PERM, SEED)  # made once: fixed by the seed
_EMPTY = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)  # the signature of no shingle at all


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (wrapping uint32 arithmetic), datasketch's pre-mix."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    mixed: np.ndarray = hv ^ (hv >> np.uint32(16))
    return mixed


def minhash(hashes: np.ndarray) -> np.ndarray:
    """The ``NUM_PERM`` MinHash values (uint32) of a set of 32-bit hashes (repeats change nothing)."""
    if not len(hashes):
        return _EMPTY.copy()
    mixed = _fmix32(np.asarray(hashes, dtype=np.uint32))
    values: np.ndarray = (mixed[:, None] * _PERM_A + _PERM_B).min(axis=0)
    return values


def _shingle_hashes(text: str, size: int) -> np.ndarray:
    """The 32-bit hashes of the text's shingles, repeats kept (uint32; the same mix as
    :func:`shingle_hashes`, in wrapping 32-bit arithmetic)."""
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint32)
    hashed = _word_hashes(tokens)
    size = min(size, len(hashed))
    count = len(hashed) - size + 1
    mixed = hashed[:count].copy()  # (0 * mix) ^ h, the first word
    mix = np.uint32(int(_MIX))
    for offset in range(1, size):
        mixed *= mix
        mixed ^= hashed[offset:offset + count]
    return mixed


def signature(text: str, size: int = SHINGLE) -> Signature:
    """The MinHash signature of the text's shingle hashes (datasketch's affine32 values)."""
    return Signature(minhash(_shingle_hashes(text, size)))


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
    keys_list: list[int] = keys.view(np.int64).tolist()
    return keys_list


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
