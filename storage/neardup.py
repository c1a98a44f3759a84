"""The near-duplicate index in the archive: LSH band keys and MinHash signatures per article.

Layout (migration 0005):

- ``neardup_bands (band, hash, article_id)``: one row per LSH band of an article's signature
  (:func:`crawler.core.neardup.band_keys`), primary key (band, hash, article_id), without rowid;
  articles sharing a (band, hash) are candidates.
- ``neardup_signatures (article_id, signature)``: the signature (NUM_PERM x uint32), so a
  candidate is scored without its text being read, and no text is held in memory.
- ``articles.cluster_id`` / ``articles.cluster_similarity``: the first article of the story's
  cluster (its own id for a first article) and the estimated similarity to it.

One query finds the candidates and their signatures; the caller's session and transaction are
used throughout (the caller commits), so an article and its index rows come and go together.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from crawler.core.neardup import BANDS, THRESHOLD, Signature, band_keys, signature, similarity

__all__ = ["Cluster", "cluster_article", "index_signature", "near_duplicates"]


@dataclass(frozen=True)
class Cluster:
    """Where an article landed: its cluster (the first article's id), the similarity to that
    first article, and the most similar earlier article (``None`` when it starts a cluster)."""

    cluster_id: int
    similarity: float
    nearest: int | None = None


def _candidate_query(bands: int, mark: str) -> str:
    """Articles sharing any (band, hash) with the keys, with their signatures: one seek of the
    (band, hash) primary key per band (an OR of equalities, which SQLite and PostgreSQL both
    answer from the index; a row-value IN list is scanned by SQLite)."""
    where = " OR ".join(f"(b.band = {band} AND b.hash = {mark})" for band in range(bands))
    return ("SELECT DISTINCT s.article_id, s.signature FROM neardup_bands b "
            f"JOIN neardup_signatures s ON s.article_id = b.article_id WHERE {where}")


_CANDIDATES = {mark: _candidate_query(BANDS, mark) for mark in ("?", "%s")}


def _mark(conn) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _candidates(session: Session, keys: list[int]) -> list[tuple[int, Signature]]:
    # Straight to the driver: SQLAlchemy's handling of 32 bound parameters costs more than the query.
    conn = session.connection()
    rows = conn.exec_driver_sql(_CANDIDATES[_mark(conn)], tuple(keys))
    return [(article_id, Signature.from_bytes(blob)) for article_id, blob in rows]


def near_duplicates(
    session: Session, sig: Signature, *, threshold: float = THRESHOLD, exclude: int | None = None,
    keys: list[int] | None = None,
) -> list[tuple[int, float]]:
    """Indexed articles whose estimated similarity to ``sig`` is at least ``threshold``, most
    similar first (ties: older id first)."""
    found = _candidates(session, keys if keys is not None else band_keys(sig))
    scored = [(i, similarity(sig, other)) for i, other in found if i != exclude]
    return sorted(((i, s) for i, s in scored if s >= threshold), key=lambda x: (-x[1], x[0]))


_ADD_SIGNATURE = sql(
    "INSERT INTO neardup_signatures (article_id, signature) VALUES (:a, :s) ON CONFLICT (article_id) DO NOTHING"
)
_ADD_BAND = "INSERT INTO neardup_bands (band, hash, article_id) VALUES ({0}, {0}, {0})"
_SET_CLUSTER = sql("UPDATE articles SET cluster_id = :c, cluster_similarity = :s WHERE id = :a")
_CLUSTER_OF = sql("SELECT cluster_id FROM articles WHERE id = :a")
_SIGNATURE_OF = sql("SELECT signature FROM neardup_signatures WHERE article_id = :a")


def index_signature(session: Session, article_id: int, sig: Signature, keys: list[int] | None = None) -> None:
    """Write an article's band rows and signature (once: an indexed article is left as it is)."""
    added: Any = session.execute(_ADD_SIGNATURE, {"a": article_id, "s": sig.to_bytes()})  # a CursorResult
    if added.rowcount == 0:
        return  # indexed before
    keys = keys if keys is not None else band_keys(sig)
    conn = session.connection()
    # The band rows go straight to the driver (executemany): SQLAlchemy's per-row parameter
    # handling would cost more than the inserts.
    conn.exec_driver_sql(_ADD_BAND.format(_mark(conn)), [(band, key, article_id) for band, key in enumerate(keys)])


def cluster_article(session: Session, article_id: int, text: str | None = None,
                    sig: Signature | None = None) -> Cluster:
    """Find the article's cluster among the indexed articles, record it on the article and index
    the article.  Give ``text`` (its stored body) or a ready ``sig``."""
    if sig is None:
        sig = signature(text or "")
    keys = band_keys(sig)
    found = near_duplicates(session, sig, exclude=article_id, keys=keys)
    if not found:
        cluster = Cluster(article_id, 1.0)
    else:
        nearest, score = found[0]
        head = session.execute(_CLUSTER_OF, {"a": nearest}).scalar() or nearest
        cluster = Cluster(head, _similarity_to(session, sig, head, found), nearest)
    session.execute(_SET_CLUSTER, {"c": cluster.cluster_id, "s": cluster.similarity, "a": article_id})
    index_signature(session, article_id, sig, keys)
    return cluster


def _similarity_to(session: Session, sig: Signature, head: int, found: list[tuple[int, float]]) -> float:
    """The similarity to the cluster's first article: from the candidates when it is one of
    them, else from its stored signature."""
    for i, score in found:
        if i == head:
            return score
    blob = session.execute(_SIGNATURE_OF, {"a": head}).scalar()
    return similarity(sig, Signature.from_bytes(blob)) if blob is not None else found[0][1]
