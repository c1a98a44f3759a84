"""A word-level diff of two texts (difflib over whitespace-separated words), for people to read.

Removed words are shown as ``[-...-]``, added ones as ``{+...+}``; long unchanged stretches are
cut to a few words of context on each side (``…``).  Texts are compared as stored: no normalisation.
"""
from __future__ import annotations

import difflib

__all__ = ["CONTEXT_WORDS", "diff_pieces", "word_diff", "word_changes"]

#: Unchanged words kept on each side of a change.
CONTEXT_WORDS = 6


def word_changes(old: str, new: str) -> tuple[int, int]:
    """How many words were removed from ``old`` and added in ``new``."""
    removed = added = 0
    matcher = difflib.SequenceMatcher(None, old.split(), new.split(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            removed += i2 - i1
        if tag in ("insert", "replace"):
            added += j2 - j1
    return removed, added


def _context(words: list[str], first: bool, last: bool, keep: int) -> str:
    """An unchanged stretch, cut to ``keep`` words next to each change."""
    if len(words) <= 2 * keep + 1:
        return " ".join(words)
    head = [] if first else words[:keep]
    tail = [] if last else words[-keep:]
    return " ".join([*head, "…", *tail])


def diff_pieces(old: str, new: str, *, context: int = CONTEXT_WORDS) -> list[tuple[str, str]]:
    """``old`` -> ``new`` as pieces ``(kind, words)``, kind ``same``, ``removed`` or ``added``
    (unchanged stretches cut to ``context`` words by a change, ``…`` between); ``[]`` when equal."""
    a, b = old.split(), new.split()
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    if all(tag == "equal" for tag, *_ in ops):
        return []
    pieces: list[tuple[str, str]] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            kept = _context(a[i1:i2], n == 0, n == len(ops) - 1, context)
            if kept:
                pieces.append(("same", kept))
            continue
        if i2 > i1:
            pieces.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(("added", " ".join(b[j1:j2])))
    return pieces


_MARKS = {"same": ("", ""), "removed": ("[-", "-]"), "added": ("{+", "+}")}


def word_diff(old: str, new: str, *, context: int = CONTEXT_WORDS) -> str:
    """``old`` -> ``new`` as one line of words with the changes marked; ``""`` when equal."""
    return " ".join(_MARKS[kind][0] + words + _MARKS[kind][1] for kind, words in diff_pieces(old, new, context=context))
