"""Search analysis of Arabic words: proclitics off (the word key), then light suffixes off (the stem).

Two keys are made from every normalised token (:func:`crawler.core.arabic.normalize`):

* the **word key**: the token without the proclitics it carries, in the order Arabic allows them:
  an optional conjunction (و, ف), an optional preposition (ب, ك, ل) and an optional article ال
  (ل + ال is written لل): والحكومة, بالحكومة, فللحكومة, ولحكومة and حكومة have one word key.
  A proclitic is only taken off when enough of the word remains (:data:`MIN_AFTER_ARTICLE`,
  :data:`MIN_AFTER_LETTER`), and never from the words in :data:`KEEP`, which only look prefixed.
* the **stem**: the word key without its light suffixes (ها, ان, ات, ون, ين, يه, ه, ي, in the spirit
  of Larkey's light10 stemmer; ة and ى are already ه and ي), when :data:`MIN_STEM` letters remain.
  Stems find inflected forms (الانتخابات for انتخاب); search ranks them below word-key matches.

A query word may also be a word whose first letter only looks like a proclitic (فريق, لبنان), so a
query word stands for a few keys (:func:`query_word_keys`): the word key of each way of reading it.

Pure functions over strings; the word lists are here until they move to a lexicon module.
"""
from __future__ import annotations

import re
from functools import lru_cache

from crawler.core.arabic import normalize

_TOKEN = re.compile(r"\w+")

#: Proclitic sequences that end in the article (normalised spelling), and those that do not.
ARTICLE_PREFIXES = ("وبال", "فبال", "وكال", "فكال", "ولل", "فلل", "وال", "فال", "بال", "كال", "لل", "ال")
LETTER_PREFIXES = ("وب", "وك", "ول", "فب", "فك", "فل", "و", "ف", "ب", "ك", "ل")
#: Letters that must remain after an article prefix, and after a conjunction/preposition alone.
MIN_AFTER_ARTICLE = 2
MIN_AFTER_LETTER = 3
#: Light suffixes, longest first (normalised: ية -> يه, ة -> ه).
SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")
#: Letters a stem keeps at least.
MIN_STEM = 3

#: Common words (normalised) whose first letters only look like proclitics: they are never cut,
#: so فكرة (idea) does not become كرة (ball), nor الله له.
KEEP = frozenset(
    normalize(w)
    for w in """
    الله لله الذي التي الذين اللذان اللتان اللذين اللتين اللاتي اللواتي الان الي الا الف الاف الم الفا
    فكرة فكر فترة فريق فرصة فصل فضل فعل فقط فوق فيه فيها فيلم فلسطين فرنسا فندق فرع فلاح فنان فنون
    ولاية والد والدة وزير وزراء وزارة وطن وطني وطنية وفد وفاة وقت وقف وكالة وضع وصل ولد وجه وحدة واقع
    وكيل وسائل وسيلة ورقة وجهة وجهات وجود فرقة فنية فني بطاقة بطاقات بعيد بعيدة
    بلد بلاد بلدة بلدية بنك بيت بيان بحث بحر بدء برنامج بريد بطل بعد بين بيع بلغ بقي بقاء
    كلمة كرة كبير كبيرة كتاب كتب كلية كان كانت كل كما كيف كلام كأس
    لجنة لقاء لعب لغة لبنان ليبيا لندن لحظة لقب لكن لدى لدي لديه لها لهم لنا ليس ليست
    """.split()
)


def _kept(reading: str) -> bool:
    """Whether a reading is a word of :data:`KEEP`, or one with light suffixes (كتابه, وجودها)."""
    return reading in KEEP or stem(reading) in _KEEP_STEMS


def tokens(text: str) -> list[str]:
    """The normalised tokens of ``text``."""
    return _TOKEN.findall(normalize(text))


def _readings(token: str) -> list[str]:
    """What may remain of ``token`` once proclitics are off, from the whole token to the shortest."""
    found = [token]
    if _kept(token):
        return found
    for prefixes, least in ((LETTER_PREFIXES, MIN_AFTER_LETTER), (ARTICLE_PREFIXES, MIN_AFTER_ARTICLE)):
        for prefix in prefixes:
            if token.startswith(prefix) and len(token) - len(prefix) >= least:
                found.append(token[len(prefix):])
    found.sort(key=len, reverse=True)
    return list(dict.fromkeys(found))


@lru_cache(maxsize=1 << 18)
def word_key(token: str) -> str:
    """The index key of one normalised token: its shortest reading, unless a longer one is in KEEP."""
    readings = _readings(token)
    for reading in readings:
        if _kept(reading):
            return reading
    return readings[-1]


@lru_cache(maxsize=1 << 18)
def stem(key: str) -> str:
    """The light stem of a word key: suffixes off, one after the other (اعلانات, اعلان -> اعل;
    فلسطينيين, فلسطيني -> فلسط) while :data:`MIN_STEM` letters remain."""
    if not key.isalpha():
        return key
    while True:
        for suffix in SUFFIXES:
            if key.endswith(suffix) and len(key) - len(suffix) >= MIN_STEM:
                key = key[: -len(suffix)]
                break
        else:
            break
    return key


def query_word_keys(token: str) -> tuple[str, ...]:
    """Index keys a query token may stand for: its own word key, and each shorter reading of it
    that a text can hold as a key (فريد is ف + ريد, or the word فريد, which a text writes وفريد).
    Readings stop at a word of :data:`KEEP` (ولبنان never stands for بنان)."""
    keys = [word_key(token)]
    for reading in _readings(token):
        if _kept(reading):
            keys.append(reading)
            break
        if word_key(reading) == reading or word_key("و" + reading) == reading:
            keys.append(reading)
        keys.append(word_key(reading))  # a text writing the reading bare (فلسطيني, not الفلسطيني)
    return tuple(dict.fromkeys(keys))


_KEEP_STEMS = frozenset(stem(w) for w in KEEP) | KEEP


def index_columns(text: str) -> tuple[str, str]:
    """``(index_words(text), index_stems(text))`` from one pass over the text."""
    keys = [word_key(t) for t in tokens(text)]
    return " ".join(keys), " ".join(s for k in keys if (s := stem(k)) != k)


#: An article's search index columns: the word keys of its title, of its text, then their stems.
ArticleColumns = tuple[str, str, str, str]


def article_columns(title: str | None, text: str) -> ArticleColumns:
    """The index columns of an article (:data:`ArticleColumns`), from one pass over each part."""
    title_words, title_stems = index_columns(title or "")
    body_words, body_stems = index_columns(text)
    return title_words, body_words, title_stems, body_stems


def index_words(text: str) -> str:
    """The word keys of ``text``, space-separated (what the index's word columns hold)."""
    return " ".join(word_key(t) for t in tokens(text))


def index_stems(text: str) -> str:
    """The stems of ``text`` that differ from their word key, space-separated (the index's stem
    columns; a stem equal to its key is found in the word columns)."""
    keys = (word_key(t) for t in tokens(text))
    return " ".join(s for k in keys if (s := stem(k)) != k)
