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


def _driver(session: Session) -> tuple[Any, str]:
    """A cursor of the session's own DBAPI connection (inside the session's transaction) and its
    parameter mark.  The index's statements go straight to the driver: SQLAlchemy's handling of
    each statement and its parameters costs more than SQLite takes to run it."""
    conn = session.connection()
    return conn.connection.cursor(), _mark(conn)


def _candidates(session: Session, keys: list[int]) -> list[tuple[int, Signature]]:
    cursor, mark = _driver(session)
    cursor.execute(_CANDIDATES[mark], keys)
    return [(article_id, Signature.from_bytes(blob)) for article_id, blob in cursor.fetchall()]


def near_duplicates(
    session: Session, sig: Signature, *, threshold: float = THRESHOLD, exclude: int | None = None,
    keys: list[int] | None = None,
) -> list[tuple[int, float]]:
    """Indexed articles whose estimated similarity to ``sig`` is at least ``threshold``, most
    similar first (ties: older id first)."""
    found = _candidates(session, keys if keys is not None else band_keys(sig))
    scored = [(i, similarity(sig, other)) for i, other in found if i != exclude]
    return sorted(((i, s) for i, s in scored if s >= threshold), key=lambda x: (-x[1], x[0]))


_ADD_SIGNATURE = ("INSERT INTO neardup_signatures (article_id, signature) VALUES ({0}, {0}) "
                  "ON CONFLICT (article_id) DO NOTHING")
_ADD_BAND = "INSERT INTO neardup_bands (band, hash, article_id) VALUES ({0}, {0}, {0})"
_SET_CLUSTER = "UPDATE articles SET cluster_id = {0}, cluster_similarity = {0} WHERE id = {0}"
_CLUSTER_OF = "SELECT cluster_id FROM articles WHERE id = {0}"
_SIGNATURE_OF = "SELECT signature FROM neardup_signatures WHERE article_id = {0}"


def index_signature(session: Session, article_id: int, sig: Signature, keys: list[int] | None = None) -> None:
    """Write an article's band rows and signature (once: an indexed article is left as it is)."""
    cursor, mark = _driver(session)
    cursor.execute(_ADD_SIGNATURE.format(mark), (article_id, sig.to_bytes()))
    if cursor.rowcount == 0:
        return  # indexed before
    keys = keys if keys is not None else band_keys(sig)
    cursor.executemany(_ADD_BAND.format(mark), [(band, key, article_id) for band, key in enumerate(keys)])


def cluster_article(session: Session, article_id: int, text: str | None = None,
                    sig: Signature | None = None) -> Cluster:
    """Find the article's cluster among the indexed articles, record it on the article and index
    the article.  Give ``text`` (its stored body) or a ready ``sig``."""
    if sig is None:
        sig = signature(text or "")
    keys = band_keys(sig)
    found = near_duplicates(session, sig, exclude=article_id, keys=keys)
    cursor, mark = _driver(session)
    if not found:
        cluster = Cluster(article_id, 1.0)
    else:
        nearest, score = found[0]
        cursor.execute(_CLUSTER_OF.format(mark), (nearest,))
        row = cursor.fetchone()
        head = (row[0] if row else None) or nearest
        cluster = Cluster(head, _similarity_to(cursor, mark, sig, head, found), nearest)
    cursor.execute(_SET_CLUSTER.format(mark), (cluster.cluster_id, cluster.similarity, article_id))
    index_signature(session, article_id, sig, keys)
    return cluster


def _similarity_to(cursor: Any, mark: str, sig: Signature, head: int, found: list[tuple[int, float]]) -> float:
    """The similarity to the cluster's first article: from the candidates when it is one of
    them, else from its stored signature."""
    for i, score in found:
        if i == head:
            return score
    cursor.execute(_SIGNATURE_OF.format(mark), (head,))
    row = cursor.fetchone()
    return similarity(sig, Signature.from_bytes(row[0])) if row is not None else found[0][1]
