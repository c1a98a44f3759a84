"""Arabic normalisation for hashing, matching and search.

Stored text is never changed: these functions make *keys* from text.  The same key
comes out for texts that differ only in Unicode form, alef/yaa/taa-marbuta spelling,
diacritics, tatweel, Eastern Arabic or Persian digits, bidi and zero-width marks,
letter case or runs of white space.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from crawler.core.lexicon import ARTICLE_PREFIXES, CONJUNCTION_WAW

# Arabic combining marks: Quranic annotation signs, harakat (fathatan..sukun, incl. shadda),
# maddah/hamza above/below, other small marks, superscript alef, Quranic small marks.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed]")
# Bidi controls and zero-width characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM, ALM, LRM/RLM...).
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_TATWEEL = "\u0640"

_LETTERS = str.maketrans(
    {
        "\u0622": "\u0627",  # آ alef with madda
        "\u0623": "\u0627",  # أ alef with hamza above
        "\u0625": "\u0627",  # إ alef with hamza below
        "\u0671": "\u0627",  # ٱ alef wasla
        "\u0672": "\u0627",
        "\u0673": "\u0627",
        "\u0649": "\u064a",  # ى alef maksura -> ي
        "\u06cc": "\u064a",  # ی Persian yeh -> ي
        "\u06d2": "\u064a",  # ے yeh barree
        "\u0629": "\u0647",  # ة taa marbuta -> ه
        "\u06c0": "\u0647",  # ۀ heh with yeh above
        "\u06a9": "\u0643",  # ک keheh -> ك
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Eastern Arabic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian digits
        _TATWEEL: None,
    }
)
# The same folds as (char, replacement) pairs: a few str.replace scans, each in C, cost a small
# fraction of one str.translate through a dict, which looks every character up in Python.  No
# replacement is itself a key, so replacing one by one is the same as translating at once.
_LETTER_PAIRS = tuple((chr(code), to or "") for code, to in _LETTERS.items())


def _fold_letters(s: str) -> str:
    """``s.translate(_LETTERS)``, faster."""
    for ch, to in _LETTER_PAIRS:
        if ch in s:
            s = s.replace(ch, to)
    return s


#: Texts up to this long have their keys remembered (:func:`normalize`): one page asks for the key
#: of its title, site name, menu entries and paragraph openings dozens of times each, and pages of
#: one site share most of them.  Longer texts (an article's body) are rarely asked twice.
_REMEMBERED_CHARS = 400
_REMEMBERED = 8192  # keys, at most 400 characters each: a few MB at worst


def normalize(text: str) -> str:
    """Return the normalised key of ``text`` (idempotent)."""
    if len(text) <= _REMEMBERED_CHARS:
        return _remembered_key(str(text))  # str(): an lxml string result is a str with a parent
    return _key(text)


@lru_cache(maxsize=_REMEMBERED)
def _remembered_key(text: str) -> str:
    return _key(text)


def _key(text: str) -> str:
    """The key of :func:`normalize`, computed."""
    if text.isascii():
        # NFKC, the Arabic folds and the mark removals leave ASCII as it is.
        return " ".join(text.lower().split())
    s = unicodedata.normalize("NFKC", text).casefold()
    s = _fold_letters(_MARKS.sub("", _INVISIBLE.sub("", s)))
    if not unicodedata.is_normalized("NFKC", s):
        # NFKC can recompose a base letter with a mark that a removed mark used to block; run
        # the removals once more so that the result is a fixed point.  (On NFKC text this pass
        # changes nothing: the removals and folds are done and introduce nothing to remove.)
        s = unicodedata.normalize("NFKC", s)
        s = _fold_letters(_MARKS.sub("", _INVISIBLE.sub("", s)))
    return " ".join(s.split())  # white space runs to one space, trimmed (str.split's white space is \s)


def content_hash(text: str) -> str:
    """SHA-256 hex digest of the normalised text: the archive's identity of an article."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


_WORD = re.compile(r"\w+", re.UNICODE)
# Light prefix stripping in the spirit of Larkey's light10 stemmer: the definite article
# and the clitics that attach to it, and a lone conjunction waw.  Longest first.
_ARTICLE_PREFIXES = ARTICLE_PREFIXES


def search_token(token: str) -> str:
    """Reduce one normalised token to the form the search index stores.

    Strips a leading article (ال, وال, بال, كال, فال, لل) when at least two letters remain,
    and a leading conjunction و when at least three remain.
    """
    for prefix in _ARTICLE_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 2:
            return token[len(prefix):]
    if token.startswith(CONJUNCTION_WAW) and len(token) >= 4:
        return token[1:]
    return token


def search_text(text: str) -> str:
    """Normalise ``text`` and reduce each word with :func:`search_token` (for indexing and queries)."""
    return " ".join(search_token(t) for t in _WORD.findall(normalize(text)))


_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def arabic_share(text: str) -> float:
    """Share of letters in ``text`` that are in the Arabic script blocks (0.0 when no letters)."""
    letters = sum(map(str.isalpha, text))
    if not letters:
        return 0.0
    return sum(map(str.isalpha, _ARABIC_SCRIPT.findall(text))) / letters
